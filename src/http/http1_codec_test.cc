#include "http/http1_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "http/http1_test_util.h"

namespace remora::http {
namespace {

using testing::Recorder;
using testing::ServerHarness;

HeaderMap response(int status, std::initializer_list<std::pair<const char*, const char*>> f = {}) {
  HeaderMap h;
  h.add(":status", std::to_string(status));
  for (auto& [n, v] : f)
    h.add(n, v);
  return h;
}

void send(StreamEncoder& e, std::string_view body, bool end = true) {
  Buffer b(body);
  e.encodeData(b, end);
}

TEST(Http1ServerTest, SimpleGetBecomesPseudoHeaders) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(
      codec.dispatch("GET /a?b=1 HTTP/1.1\r\nHost: Example.com:80\r\nUser-Agent: t\r\n\r\n").ok());
  ASSERT_EQ(h.streams.size(), 1u);
  const HeaderMap& hd = *h.streams[0]->headers;
  EXPECT_EQ(hd.toString(),
            ":method: GET\n:path: /a?b=1\n:authority: Example.com:80\n:scheme: http\n"
            "user-agent: t\n");
  EXPECT_TRUE(h.streams[0]->ended);
  EXPECT_EQ(codec.protocol(), Protocol::kHttp11);
}

TEST(Http1ServerTest, AbsoluteFormReplacesHost) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET https://b.example:8443?x HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  const HeaderMap& hd = *h.streams[0]->headers;
  EXPECT_EQ(hd.path(), "/?x");
  EXPECT_EQ(hd.authority(), "b.example:8443");
  EXPECT_EQ(hd.scheme(), "https");
}

TEST(Http1ServerTest, ContentLengthBodyAndResponse) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel").ok());
  EXPECT_FALSE(h.streams[0]->ended);
  ASSERT_TRUE(codec.dispatch("lo").ok());
  EXPECT_EQ(h.streams[0]->body, "hello");
  EXPECT_TRUE(h.streams[0]->ended);
  h.encoders[0]->encodeHeaders(response(200, {{"content-length", "2"}}), false);
  send(*h.encoders[0], "ok");
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_FALSE(codec.wantsClose());
}

TEST(Http1ServerTest, UnsafeValueSetOverAParsedFieldIsNotWritten) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  HeaderMap r = response(200, {{"content-length", "0"}});
  r.addParsed("x-from-upstream", "fine");
  // A filter rewrites the parsed field with bytes that would split the head.
  r.set("x-from-upstream", "v\r\nx-injected: 1");
  h.encoders[0]->encodeHeaders(r, true);
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
}

TEST(Http1ServerTest, ChunkedRequestWithTrailersAndChunkedResponse) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 9\r\n\r\n")
                  .ok());
  Recorder& r = *h.streams[0];
  EXPECT_EQ(r.body, "hello world");
  ASSERT_NE(r.trailers, nullptr);
  EXPECT_EQ(r.trailers->toString(), "x-sum: 9\n");
  h.encoders[0]->encodeHeaders(response(200), false);
  send(*h.encoders[0], "abc", false);
  send(*h.encoders[0], "", false);
  HeaderMap t;
  t.add("grpc-status", "0");
  h.encoders[0]->encodeTrailers(t);
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: "
            "0\r\n\r\n");
}

TEST(Http1ServerTest, PipelinedRequestsAnsweredInOrder) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                            "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                            "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
                  .ok());
  // One request at a time: the next waits for the current response.
  ASSERT_EQ(h.streams.size(), 1u);
  EXPECT_GT(codec.bufferedInputBytes(), 0u);
  h.encoders[0]->encodeHeaders(response(200, {{"content-length", "1"}}), false);
  send(*h.encoders[0], "1");
  ASSERT_TRUE(codec.resumeDispatch().ok());
  ASSERT_EQ(h.streams.size(), 2u);
  EXPECT_EQ(h.streams[1]->headers->path(), "/2");
  EXPECT_EQ(h.streams[1]->body, "abc");
  h.encoders[1]->encodeHeaders(response(201), true);
  ASSERT_TRUE(codec.resumeDispatch().ok());
  ASSERT_EQ(h.streams.size(), 3u);
  h.encoders[2]->encodeHeaders(response(404), true);
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n1"
            "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
  EXPECT_EQ(codec.bufferedInputBytes(), 0u);
  EXPECT_FALSE(codec.wantsClose());
}

TEST(Http1ServerTest, ImmediateResponsesLetPipelineFlowInOneDispatch) {
  struct Answering : ServerHarness {
    StreamDecoder& newStream(StreamEncoder& encoder) override {
      StreamDecoder& d = ServerHarness::newStream(encoder);
      HeaderMap r = response(204);
      encoder.encodeHeaders(r, true);
      return d;
    }
  } h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(
      codec
          .dispatch("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n\r\n"
                    "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
          .ok());
  EXPECT_EQ(h.streams.size(), 3u);
}

TEST(Http1ServerTest, ConnectionCloseIsHonoured) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                            "GET /ignored HTTP/1.1\r\nHost: a\r\n\r\n")
                  .ok());
  h.encoders[0]->encodeHeaders(response(200, {{"content-length", "0"}}), true);
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(codec.wantsClose());
  ASSERT_TRUE(codec.resumeDispatch().ok());
  EXPECT_EQ(h.streams.size(), 1u);
}

TEST(Http1ServerTest, ResponseConnectionCloseClosesToo) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  h.encoders[0]->encodeHeaders(response(503, {{"connection", "close"}}), true);
  EXPECT_TRUE(codec.wantsClose());
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
}

TEST(Http1ServerTest, Http10DefaultsToCloseAndCloseDelimitedBody) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.0\r\n\r\n").ok());
  EXPECT_EQ(codec.protocol(), Protocol::kHttp10);
  EXPECT_FALSE(h.streams[0]->headers->has(Known::kAuthority));
  h.encoders[0]->encodeHeaders(response(200), false);
  send(*h.encoders[0], "streamed");
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nstreamed");
  EXPECT_TRUE(codec.wantsClose());
}

TEST(Http1ServerTest, Http10KeepAlive) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  h.encoders[0]->encodeHeaders(response(200, {{"content-length", "2"}}), false);
  send(*h.encoders[0], "ok");
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok");
  EXPECT_FALSE(codec.wantsClose());
  // 1.0 keep-alive without a length must close: no chunked for 1.0.
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  codec.output().clear();
  h.encoders[1]->encodeHeaders(response(200), false);
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
}

TEST(Http1ServerTest, ExpectContinue) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                            "Content-Length: 4\r\n\r\n")
                  .ok());
  EXPECT_EQ(*h.streams[0]->headers->get("expect"), "100-continue");
  h.encoders[0]->encode1xxHeaders(response(100));
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 100 Continue\r\n\r\n");
  codec.output().clear();
  ASSERT_TRUE(codec.dispatch("data").ok());
  EXPECT_EQ(h.streams[0]->body, "data");
  h.encoders[0]->encodeHeaders(response(201), true);
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
  EXPECT_FALSE(codec.wantsClose());
}

TEST(Http1ServerTest, ExpectContinueRefusedClosesUnreadBody) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                            "Content-Length: 4\r\n\r\n")
                  .ok());
  h.encoders[0]->encodeHeaders(response(417), true);
  // The body may never come, or come later: either way it cannot be parsed as a request.
  EXPECT_TRUE(codec.wantsClose());
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  EXPECT_EQ(h.streams.size(), 1u);
}

TEST(Http1ServerTest, WebSocketUpgrade) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                            "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n\x81\x05hello")
                  .ok());
  Recorder& r = *h.streams[0];
  EXPECT_FALSE(r.ended);
  EXPECT_TRUE(isUpgradeRequest(*r.headers));
  EXPECT_EQ(r.body, "");  // nothing flows before the 101
  h.encoders[0]->encodeHeaders(response(101, {{"connection", "upgrade"}, {"upgrade", "websocket"}}),
                               false);
  EXPECT_TRUE(codec.upgraded());
  ASSERT_TRUE(codec.resumeDispatch().ok());
  EXPECT_EQ(r.body, "\x81\x05hello");
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\n").ok());
  EXPECT_EQ(r.body, "\x81\x05helloGET / HTTP/1.1\r\n");
  send(*h.encoders[0], "\x81\x02hi", false);
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n"
            "\x81\x02hi");
  ASSERT_TRUE(codec.onEof().ok());
  EXPECT_TRUE(r.ended);
  EXPECT_TRUE(codec.wantsClose());
}

TEST(Http1ServerTest, UpgradeRefusedCloses) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec
                  .dispatch("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                            "Upgrade: websocket\r\n\r\n")
                  .ok());
  h.encoders[0]->encodeHeaders(response(403), true);
  EXPECT_FALSE(codec.upgraded());
  EXPECT_TRUE(codec.wantsClose());
}

TEST(Http1ServerTest, ConnectTunnel) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\nraw").ok());
  EXPECT_EQ(h.streams[0]->headers->authority(), "db:5432");
  EXPECT_FALSE(h.streams[0]->headers->has(Known::kPath));
  h.encoders[0]->encodeHeaders(response(200), false);
  ASSERT_TRUE(codec.resumeDispatch().ok());
  EXPECT_EQ(h.streams[0]->body, "raw");
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\n\r\n");
}

TEST(Http1ServerTest, HeadAnd204And304HaveNoBody) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  h.encoders[0]->encodeHeaders(response(200, {{"content-length", "100"}}), false);
  send(*h.encoders[0], "ignored");
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n");
  codec.output().clear();
  ASSERT_TRUE(codec.resumeDispatch().ok());
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  h.encoders[1]->encodeHeaders(response(304), false);
  send(*h.encoders[1], "");
  EXPECT_EQ(codec.output().toString(), "HTTP/1.1 304 Not Modified\r\n\r\n");
  EXPECT_FALSE(codec.wantsClose());
}

TEST(Http1ServerTest, EncoderDropsInjectedLinesAndFramingFields) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  h.encoders[0]->encodeHeaders(response(200, {{"x-ok", "1"},
                                              {"x-bad", "a\r\nset-cookie: evil"},
                                              {"bad name", "v"},
                                              {"transfer-encoding", "gzip"},
                                              {"content-length", "3"}}),
                               false);
  send(*h.encoders[0], "abcdef");  // more than declared: truncated, then close
  EXPECT_EQ(codec.output().toString(),
            "HTTP/1.1 200 OK\r\nx-ok: 1\r\ncontent-length: 3\r\n\r\nabc");
  EXPECT_TRUE(codec.wantsClose());
}

TEST(Http1ServerTest, EofMidRequestResetsStream) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc").ok());
  EXPECT_FALSE(codec.onEof().ok());
  EXPECT_TRUE(h.streams[0]->reset);
  EXPECT_TRUE(codec.wantsClose());
}

TEST(Http1ServerTest, HalfClosedClientStillGetsAnswer) {
  ServerHarness h;
  Http1ServerConnection codec(h);
  ASSERT_TRUE(codec.dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  ASSERT_TRUE(codec.onEof().ok());
  EXPECT_FALSE(codec.wantsClose());
  h.encoders[0]->encodeHeaders(response(200), true);
  EXPECT_TRUE(codec.wantsClose());
}

// A 10 MiB chunked body, cut into small random slices on the way in and
// echoed back chunked on the way out.
TEST(Http1ServerTest, TenMebibyteChunkedBodyInRandomSlices) {
  std::mt19937 rng(42);
  std::string body(10 << 20, '\0');
  for (char& c : body)
    c = static_cast<char>('a' + rng() % 26);
  std::string wire = "POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t i = 0; i < body.size();) {
    size_t n = std::min<size_t>(body.size() - i, 1 + rng() % 70000);
    char hex[20];
    snprintf(hex, sizeof(hex), "%zx\r\n", n);
    wire += hex;
    wire.append(body, i, n);
    wire += "\r\n";
    i += n;
  }
  wire += "0\r\n\r\n";

  struct Echo : ServerHarness {
    StreamDecoder& newStream(StreamEncoder& encoder) override {
      e = &encoder;
      return rec;
    }
    struct EchoRecorder : Recorder {
      StreamEncoder** enc;
      void decodeHeaders(HeaderMapPtr h, bool end) override {
        Recorder::decodeHeaders(std::move(h), end);
        HeaderMap r = response(200);
        (*enc)->encodeHeaders(r, false);
      }
      void decodeData(Buffer& data, bool end) override {
        size_t n = data.length();
        bytes += n;
        (*enc)->encodeData(data, end);
        if (end) ended = true;
      }
      size_t bytes = 0;
    } rec;
    StreamEncoder* e = nullptr;
    Echo() { rec.enc = &e; }
  } h;
  Http1ServerConnection server(h);
  for (size_t i = 0; i < wire.size();) {
    size_t n = std::min<size_t>(wire.size() - i, 1 + rng() % 3000);
    ASSERT_TRUE(server.dispatch(std::string_view(wire).substr(i, n)).ok());
    i += n;
  }
  EXPECT_TRUE(h.rec.ended);
  EXPECT_EQ(h.rec.bytes, body.size());

  // Decode the echo with the client codec: same bytes back.
  Http1ClientConnection client;
  Recorder resp;
  HeaderMap rq;
  rq.add(":method", "POST");
  rq.add(":path", "/big");
  rq.add(":authority", "a");
  client.newStream(resp).encodeHeaders(rq, false);
  std::string out = server.output().toString();
  for (size_t i = 0; i < out.size();) {
    size_t n = std::min<size_t>(out.size() - i, 1 + rng() % 5000);
    ASSERT_TRUE(client.dispatch(std::string_view(out).substr(i, n)).ok());
    i += n;
  }
  EXPECT_TRUE(resp.ended);
  EXPECT_TRUE(resp.body == body);
}

// Feeding byte by byte gives the same decoded messages as all at once.
TEST(Http1ServerTest, ByteByByteEqualsAllAtOnce) {
  std::string wire = "\r\nGET /1 HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(3000, 'q') +
                     "\r\n\r\n"
                     "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"
                     "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n10;x=\"y\"\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n"
                     "PUT /4 HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"
                     "GET /5 HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n";
  auto run = [&](size_t step) {
    struct Auto : ServerHarness {
      StreamDecoder& newStream(StreamEncoder& encoder) override {
        return ServerHarness::newStream(encoder);
      }
    } h;
    Http1ServerConnection codec(h);
    std::string status;
    for (size_t i = 0; i < wire.size(); i += step) {
      Status s = codec.dispatch(std::string_view(wire).substr(i, step));
      // Answer whatever completed, then let held requests through.
      while (!h.encoders.empty() && h.streams.back()->ended && codec.streamActive()) {
        HeaderMap r = response(200);
        h.encoders.back()->encodeHeaders(r, true);
        s = codec.resumeDispatch();
      }
      if (!s.ok()) {
        status = codec.error()->toString();
        break;
      }
    }
    return h.log() + " => " + status + " out=" + codec.output().toString();
  };
  std::string all = run(wire.size());
  EXPECT_NE(all.find("400 content-length list"), std::string::npos) << all;
  EXPECT_EQ(run(1), all);
  EXPECT_EQ(run(2), all);
  EXPECT_EQ(run(13), all);
}

// ---------------------------------------------------------------------------
// Client

HeaderMap request(const char* method, const char* path,
                  std::initializer_list<std::pair<const char*, const char*>> f = {}) {
  HeaderMap h;
  h.add(":method", method);
  h.add(":path", path);
  h.add(":authority", "up.example");
  h.add(":scheme", "http");
  for (auto& [n, v] : f)
    h.add(n, v);
  return h;
}

TEST(Http1ClientTest, SerializesRequests) {
  Http1ClientConnection c;
  Recorder r1, r2, r3;
  c.newStream(r1).encodeHeaders(request("GET", "/x", {{"host", "ignored"}, {"x-a", "1"}}), true);
  StreamEncoder& e2 = c.newStream(r2);
  e2.encodeHeaders(request("POST", "/p", {{"content-length", "3"}}), false);
  send(e2, "abc");
  StreamEncoder& e3 = c.newStream(r3);
  e3.encodeHeaders(request("PUT", "/c"), false);
  send(e3, "xy", false);
  HeaderMap t;
  t.add("x-t", "1");
  e3.encodeTrailers(t);
  EXPECT_EQ(c.output().toString(),
            "GET /x HTTP/1.1\r\nhost: up.example\r\nx-a: 1\r\n\r\n"
            "POST /p HTTP/1.1\r\nhost: up.example\r\ncontent-length: 3\r\n\r\nabc"
            "PUT /c HTTP/1.1\r\nhost: up.example\r\ntransfer-encoding: chunked\r\n\r\n"
            "2\r\nxy\r\n0\r\nx-t: 1\r\n\r\n");
  EXPECT_EQ(c.activeStreams(), 3u);
}

TEST(Http1ClientTest, PipelinedResponsesOfEveryFraming) {
  Http1ClientConnection c;
  Recorder r1, r2, r3, r4;
  c.newStream(r1).encodeHeaders(request("GET", "/1"), true);
  c.newStream(r2).encodeHeaders(request("HEAD", "/2"), true);
  c.newStream(r3).encodeHeaders(request("GET", "/3"), true);
  c.newStream(r4).encodeHeaders(request("GET", "/4"), true);
  ASSERT_TRUE(c.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                         "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
                         "HTTP/1.1 204 No Content\r\n\r\n")
                  .ok());
  EXPECT_EQ(r1.body, "ok");
  EXPECT_TRUE(r1.ended);
  EXPECT_EQ(r1.headers->status(), "200");
  EXPECT_TRUE(r2.ended);
  EXPECT_EQ(r2.body, "");
  EXPECT_EQ(r3.body, "ab");
  EXPECT_TRUE(r4.ended);
  EXPECT_EQ(c.activeStreams(), 0u);
  EXPECT_FALSE(c.wantsClose());
}

TEST(Http1ClientTest, CloseDelimitedResponse) {
  Http1ClientConnection c;
  Recorder r;
  c.newStream(r).encodeHeaders(request("GET", "/"), true);
  ASSERT_TRUE(c.dispatch("HTTP/1.0 200 OK\r\n\r\nuntil").ok());
  ASSERT_TRUE(c.dispatch(" close").ok());
  EXPECT_FALSE(r.ended);
  ASSERT_TRUE(c.onEof().ok());
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.body, "until close");
  EXPECT_TRUE(c.wantsClose());
}

TEST(Http1ClientTest, Http10AndConnectionCloseAreNotReused) {
  Http1ClientConnection c;
  Recorder r;
  c.newStream(r).encodeHeaders(request("GET", "/"), true);
  ASSERT_TRUE(c.dispatch("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(r.ended);
  EXPECT_TRUE(c.wantsClose());
}

TEST(Http1ClientTest, ContinueThenFinal) {
  Http1ClientConnection c;
  Recorder r;
  StreamEncoder& e = c.newStream(r);
  e.encodeHeaders(request("PUT", "/", {{"expect", "100-continue"}, {"content-length", "2"}}),
                  false);
  ASSERT_TRUE(c.dispatch("HTTP/1.1 100 Continue\r\n\r\n").ok());
  EXPECT_EQ(r.interim, 1);
  send(e, "hi");
  ASSERT_TRUE(c.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(r.ended);
  EXPECT_FALSE(c.wantsClose());
}

TEST(Http1ClientTest, UpgradeSwitchesToRawBytes) {
  Http1ClientConnection c;
  Recorder r;
  StreamEncoder& e = c.newStream(r);
  e.encodeHeaders(request("GET", "/ws", {{"connection", "upgrade"}, {"upgrade", "websocket"}}),
                  false);
  EXPECT_EQ(c.output().toString(),
            "GET /ws HTTP/1.1\r\nhost: up.example\r\nconnection: upgrade\r\nupgrade: websocket"
            "\r\n\r\n");
  c.output().clear();
  ASSERT_TRUE(c.dispatch("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: upgrade\r\n\r\nframes")
                  .ok());
  EXPECT_TRUE(c.upgraded());
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(r.body, "frames");
  send(e, "up", false);
  EXPECT_EQ(c.output().toString(), "up");
}

TEST(Http1ClientTest, ResponseSmugglingIsRefused) {
  const char* bad[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",  // no upgrade was asked for
      "ICY 200 OK\r\n\r\n",
  };
  for (const char* b : bad) {
    Http1ClientConnection c;
    Recorder r;
    c.newStream(r).encodeHeaders(request("GET", "/"), true);
    Status s = c.dispatch(b);
    EXPECT_FALSE(s.ok()) << b;
    ASSERT_NE(c.error(), nullptr) << b;
    EXPECT_EQ(c.error()->status, 502) << b;
    EXPECT_TRUE(r.reset) << b;
    EXPECT_TRUE(c.wantsClose());
  }
}

TEST(Http1ClientTest, AControlByteInTheReasonPhraseIsNamedWithItsOffset) {
  for (std::string reason : {"O\x01K", "Everything is fine\x7f", "\x1f"}) {
    Http1ClientConnection c;
    Recorder r;
    c.newStream(r).encodeHeaders(request("GET", "/"), true);
    std::string in = "HTTP/1.1 200 " + reason + "\r\nContent-Length: 0\r\n\r\n";
    EXPECT_FALSE(c.dispatch(in).ok()) << reason;
    ASSERT_NE(c.error(), nullptr) << reason;
    EXPECT_EQ(c.error()->status, 502);
    EXPECT_EQ(c.error()->reason, "invalid character in reason phrase");
    EXPECT_EQ(c.error()->offset, in.find_first_of("\x01\x7f\x1f")) << reason;
  }
  // Tabs, spaces and obs-text are allowed.
  Http1ClientConnection c;
  Recorder r;
  c.newStream(r).encodeHeaders(request("GET", "/"), true);
  EXPECT_TRUE(c.dispatch("HTTP/1.1 200 O\tK \xe9t\xe9\r\nContent-Length: 0\r\n\r\n").ok());
}

TEST(Http1ClientTest, UnsolicitedResponseIsAnError) {
  Http1ClientConnection c;
  EXPECT_FALSE(c.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_EQ(c.error()->reason, "response without a request");
}

TEST(Http1ClientTest, UpstreamClosesBeforeResponse) {
  Http1ClientConnection c;
  Recorder r;
  c.newStream(r).encodeHeaders(request("GET", "/"), true);
  ASSERT_TRUE(c.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").ok());
  EXPECT_FALSE(c.onEof().ok());
  EXPECT_TRUE(r.reset);
}

TEST(Http1ClientTest, ByteByByteEqualsAllAtOnce) {
  std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nworld\r\n0\r\nT: v\r\n\r\n"
      "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n!";
  auto run = [&](size_t step) {
    Http1ClientConnection c;
    Recorder r[3];
    std::string log;
    for (auto& x : r)
      c.newStream(x).encodeHeaders(request("GET", "/"), true);
    for (size_t i = 0; i < wire.size(); i += step) {
      EXPECT_TRUE(c.dispatch(std::string_view(wire).substr(i, step)).ok());
    }
    for (auto& x : r)
      log += "[" + x.log() + "]";
    return log;
  };
  std::string all = run(wire.size());
  EXPECT_NE(all.find("1xx 100"), std::string::npos);
  EXPECT_NE(all.find("t: v"), std::string::npos);
  EXPECT_EQ(run(1), all);
  EXPECT_EQ(run(3), all);
}

}  // namespace
}  // namespace remora::http
