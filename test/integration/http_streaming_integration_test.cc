// Bodies and connections through remora-proxy: 10 MiB chunked both ways,
// pipelined requests answered in order, 100-continue, WebSocket upgrades
// passed through as bytes, Connection: close, and kept-alive upstream
// connections that the backend closed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <thread>

#include "integration/http_test_config.h"
#include "support/tcp_servers.h"

namespace remora::test {
namespace {

constexpr const char* kVhosts = R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/stale/" }
                route: { cluster: Stale, prefix_rewrite: "/" }
              - match: { prefix: "/" }
                route: { cluster: A }
)";

class StreamingTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    startProxy(httpBootstrap(
        listen_, admin_, kVhosts, {{"A", {a_.address()}, ""}, {"Stale", {stale_.address()}, ""}},
        log_path_, "          upgrade_configs: [{ upgrade_type: websocket }]\n"));
  }
  HttpBackend a_{"a"};
  HttpBackend stale_{"stale", HttpBackend::Mode::kResetSecondRequest};
};

TEST_F(StreamingTest, TenMebibytesChunkedBothWays) {
  const std::string body = pattern(10 * 1024 * 1024);
  HttpClient c(proxy());
  // Uploaded in uneven chunks so chunk boundaries fall anywhere.
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    chunked(body, 100 * 1000 + 7);
  std::thread writer([&] { c.sendRaw(req); });
  auto r = c.readResponse();
  writer.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_TRUE(r.complete);
  ASSERT_EQ(r.body.size(), body.size());
  EXPECT_TRUE(r.body == body);
  // And a 10 MiB chunked download on the same connection.
  r = c.request("GET", "/big/10485760", "x");
  ASSERT_EQ(r.body.size(), body.size());
  EXPECT_TRUE(r.body == body);
  EXPECT_EQ(a_.connections(), 1);
}

TEST_F(StreamingTest, ContentLengthUploadIsForwardedWithItsLength) {
  const std::string body = pattern(3 * 1024 * 1024 + 11);
  HttpClient c(proxy());
  std::string req =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  std::thread writer([&] { c.sendRaw(req); });
  auto r = c.readResponse();
  writer.join();
  EXPECT_EQ(r.header("content-length"), std::to_string(body.size()));
  EXPECT_TRUE(r.body == body);
}

TEST_F(StreamingTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient c(proxy());
  ASSERT_TRUE(
      c.sendRaw("GET /slow/100 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthird"
                "GET /fourth HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.readResponse().body, "a GET /slow/100\n");
  EXPECT_EQ(c.readResponse().body, "a GET /second\n");
  EXPECT_EQ(c.readResponse().body, "third");
  EXPECT_EQ(c.readResponse().body, "a GET /fourth\n");
  auto lines = a_.requestLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "GET /fourth HTTP/1.1");
}

TEST_F(StreamingTest, ExpectContinueIsAnsweredByTheProxy) {
  HttpClient c(proxy());
  ASSERT_TRUE(c.sendRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  // The client waits for the 100 before sending its body.
  auto interim = c.readResponse();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.sendRaw("data"));
  auto r = c.readResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "data");
  // The backend was not asked to continue: the proxy removed Expect.
  auto h = c.request("GET", "/headers", "x", {{"Expect", "100-continue"}});
  EXPECT_EQ(h.body.find("expect: "), std::string::npos) << h.body;
}

TEST_F(StreamingTest, WebSocketUpgradeBecomesAByteStream) {
  HttpClient c(proxy());
  ASSERT_TRUE(
      c.sendRaw("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"));
  auto r = c.readResponse();
  ASSERT_EQ(r.status, 101);
  EXPECT_EQ(r.header("upgrade"), "websocket");
  // Bytes that are not HTTP go both ways untouched.
  std::string frame("\x81\x05hello\x00\xff binary", 17);
  ASSERT_TRUE(c.sendRaw(frame));
  std::string got;
  while (got.size() < frame.size()) {
    char buf[64];
    ssize_t n = recv(c.fd(), buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, frame);
  shutdown(c.fd(), SHUT_WR);
  EXPECT_TRUE(c.closedByPeer());
  EXPECT_EQ(stat("http.ingress.downstream_cx_upgrades_total"), 1);
}

TEST_F(StreamingTest, UpgradeNotConfiguredIsForbidden) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/ws", "x", {{"Connection", "Upgrade"}, {"Upgrade", "h2c"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(a_.requests(), 0);
}

TEST_F(StreamingTest, ConnectionCloseClosesAfterTheResponse) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/bye", "x", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closedByPeer());
}

TEST_F(StreamingTest, StaleKeptAliveConnectionIsReplacedWithoutFailingTheRequest) {
  // The backend resets every connection on its second request, as a server
  // that closed an idle keep-alive connection just as a request arrived.
  HttpClient c(proxy());
  for (int i = 0; i < 5; ++i) {
    auto r = c.request("GET", "/stale/n" + std::to_string(i), "x");
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, "stale GET /n" + std::to_string(i) + "\n");
  }
  // Each request after the first found its connection dead and went on a new one.
  EXPECT_EQ(stale_.connections(), 5);
  EXPECT_EQ(stat("http.ingress.downstream_rq_5xx"), 0);
  // A request with a body cannot be replayed safely: it fails as Envoy's would.
  auto r = c.request("POST", "/stale/post", "x", {}, "payload");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "upstream connect error or disconnect/reset before headers. reset reason: connection "
            "termination");
}

}  // namespace
}  // namespace remora::test
