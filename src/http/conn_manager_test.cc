#include "http/conn_manager.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

namespace remora::http {
namespace {

using Log = std::vector<std::string>;

// Records what it sees, then passes it on.
class RecordingFilter : public StreamFilter {
 public:
  RecordingFilter(std::string name, Log& log) : name_(std::move(name)), log_(log) {}
  FilterStatus decodeHeaders(HeaderMap& h, bool end) override {
    log_.push_back(name_ + ":headers" + (end ? ":end" : ""));
    h.add("x-seen-by", name_);
    return FilterStatus::kContinue;
  }
  FilterStatus decodeData(Buffer& d, bool end) override {
    log_.push_back(name_ + ":data:" + d.toString() + (end ? ":end" : ""));
    return FilterStatus::kContinue;
  }
  void encodeHeaders(HeaderMap& h, bool) override {
    log_.push_back(name_ + ":encode");
    h.add("x-encoded-by", name_);
  }
  void onDestroy() override { log_.push_back(name_ + ":destroy"); }

 private:
  std::string name_;
  Log& log_;
};

// Stops the request at its headers and resumes it on the next loop turn.
class StoppingFilter : public StreamFilter {
 public:
  explicit StoppingFilter(Log& log) : log_(log) {}
  FilterStatus decodeHeaders(HeaderMap&, bool) override {
    log_.push_back("stop:headers");
    timer_ = callbacks_->dispatcher().createTimer([this] {
      log_.push_back("stop:continue");
      callbacks_->continueDecoding();
    });
    timer_->enable(std::chrono::milliseconds(0));
    return FilterStatus::kStop;
  }
  FilterStatus decodeData(Buffer& d, bool end) override {
    log_.push_back("stop:data:" + d.toString());
    return FilterStatus::kContinue;
  }
  void onDestroy() override { timer_.reset(); }

 private:
  Log& log_;
  std::unique_ptr<event::Timer> timer_;
};

// The last filter: answers 200 with "<method> <path> <body>" once the
// request is complete, or a local reply for paths under /fail.
class Responder : public StreamFilter {
 public:
  explicit Responder(Log& log) : log_(log) {}
  FilterStatus decodeHeaders(HeaderMap& h, bool end) override {
    headers_ = &h;
    log_.push_back("responder:headers");
    if (h.path() == "/fail") {
      callbacks_->sendLocalReply(503, "no healthy upstream", kNoHealthyUpstream, "test");
      return FilterStatus::kStop;
    }
    if (end) respond();
    return FilterStatus::kStop;
  }
  FilterStatus decodeData(Buffer& d, bool end) override {
    body_ += d.toString();
    d.clear();
    if (end) respond();
    return FilterStatus::kStop;
  }

 private:
  void respond() {
    std::string text =
        std::string(headers_->method()) + " " + std::string(headers_->path()) + " " + body_;
    for (const auto& e : *headers_) {
      if (e.name == "x-request-id" || e.name == "x-forwarded-proto" || e.name == "x-seen-by" ||
          e.name == "connection" || e.name == "keep-alive" || e.name == "x-hop") {
        text.append("|").append(e.name).append("=").append(e.value);
      }
    }
    auto h = newHeaderMap();
    h->add(":status", "200");
    h->add("content-length", std::to_string(text.size()));
    h->add("connection", "keep-alive");  // hop-by-hop: must not reach the client
    callbacks_->encodeHeaders(std::move(h), false);
    Buffer b(text);
    callbacks_->encodeData(b, true);
  }

  Log& log_;
  HeaderMap* headers_ = nullptr;
  std::string body_;
};

class Harness : public FilterChainFactory {
 public:
  enum class Chain { kRecorders, kStopping, kResponderOnly };

  explicit Harness(Chain chain)
      : chain_(chain),
        dispatcher_(event::Dispatcher::create("test").value()),
        flush_(*dispatcher_) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    client_ = fds[0];
    server_ = fds[1];
    config_ = std::make_shared<ConnectionManagerConfig>();
    const std::string p = "test";
    config_->stat_prefix = p;
    config_->stats = ConnectionManagerStats{
        &stats_.counter("http", p, "downstream_cx_total"),
        &stats_.gauge("http", p, "downstream_cx_active"),
        &stats_.counter("http", p, "downstream_cx_destroy"),
        &stats_.counter("http", p, "downstream_cx_protocol_error"),
        &stats_.counter("http", p, "downstream_cx_idle_timeout"),
        &stats_.counter("http", p, "downstream_cx_upgrades_total"),
        &stats_.counter("http", p, "downstream_rq_total"),
        &stats_.gauge("http", p, "downstream_rq_active"),
        &stats_.counter("http", p, "downstream_rq_1xx"),
        &stats_.counter("http", p, "downstream_rq_2xx"),
        &stats_.counter("http", p, "downstream_rq_3xx"),
        &stats_.counter("http", p, "downstream_rq_4xx"),
        &stats_.counter("http", p, "downstream_rq_5xx"),
        &stats_.counter("http", p, "downstream_rq_completed"),
        &stats_.counter("http", p, "downstream_rq_rx_reset"),
        &stats_.counter("http", p, "downstream_rq_idle_timeout"),
        &stats_.counter("http", p, "downstream_rq_ws_on_non_ws_route"),
    };
  }
  ~Harness() override {
    manager_.reset();
    if (client_ >= 0) close(client_);
  }

  void createFilters(std::vector<std::unique_ptr<StreamFilter>>& filters) override {
    switch (chain_) {
      case Chain::kRecorders:
        filters.push_back(std::make_unique<RecordingFilter>("one", log));
        filters.push_back(std::make_unique<RecordingFilter>("two", log));
        break;
      case Chain::kStopping:
        filters.push_back(std::make_unique<StoppingFilter>(log));
        filters.push_back(std::make_unique<RecordingFilter>("after", log));
        break;
      case Chain::kResponderOnly:
        break;
    }
    filters.push_back(std::make_unique<Responder>(log));
  }

  // Sends `request` (and closes the client's sending side if asked), then
  // runs the loop until `responses` complete responses came back or the
  // proxy closed the connection.
  std::string exchange(const std::string& request, int responses, bool shut_write = false) {
    resources_ =
        std::make_unique<WorkerResources>(WorkerResources{*dispatcher_, flush_, date_, random_});
    ConnectionInfo info;
    info.remote = *network::SocketAddress::parse("10.0.0.1:1234");
    manager_ = std::make_unique<ConnectionManager>(
        config_, *resources_, *this, network::Fd(server_), info, [this] { closed = true; });
    manager_->start();
    EXPECT_EQ(write(client_, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    if (shut_write) shutdown(client_, SHUT_WR);
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    poll_ = dispatcher_->createTimer([&] {
      char buf[65536];
      ssize_t n;
      while ((n = read(client_, buf, sizeof(buf))) > 0)
        got.append(buf, static_cast<size_t>(n));
      if (countResponses(got) >= responses || n == 0 ||
          std::chrono::steady_clock::now() > deadline) {
        dispatcher_->exit();
        return;
      }
      poll_->enable(std::chrono::milliseconds(1));
    });
    poll_->enable(std::chrono::milliseconds(1));
    dispatcher_->run();
    return got;
  }

  static int countResponses(const std::string& s) {
    int n = 0;
    size_t pos = 0;
    while (true) {
      size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return n;
      size_t cl = s.find("content-length: ", pos);
      size_t len = 0;
      if (cl != std::string::npos && cl < end) {
        std::from_chars(s.data() + cl + 16, s.data() + end, len);
      }
      if (s.size() < end + 4 + len) return n;
      if (s.compare(pos, 12, "HTTP/1.1 100") != 0) ++n;
      pos = end + 4 + len;
    }
  }

  Log log;
  bool closed = false;
  StatsStore stats_;
  std::shared_ptr<ConnectionManagerConfig> config_;

 private:
  Chain chain_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  FlushList flush_;
  DateCache date_;
  RandomGenerator random_{1};
  std::unique_ptr<WorkerResources> resources_;
  std::unique_ptr<ConnectionManager> manager_;
  std::unique_ptr<event::Timer> poll_;
  int client_ = -1;
  int server_ = -1;
};

TEST(ConnectionManagerTest, FiltersRunInOrderAndEncodeInReverse) {
  Harness h(Harness::Chain::kRecorders);
  std::string out = h.exchange("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 1);
  EXPECT_EQ(h.log,
            (Log{"one:headers", "two:headers", "responder:headers", "one:data:abc:end",
                 "two:data:abc:end", "two:encode", "one:encode", "one:destroy", "two:destroy"}));
  EXPECT_NE(out.find("POST /p abc|"), std::string::npos) << out;
  EXPECT_NE(out.find("|x-seen-by=one|x-seen-by=two"), std::string::npos) << out;
  // Encoders ran last-to-first: "two" added its header before "one".
  size_t two = out.find("x-encoded-by: two");
  size_t one = out.find("x-encoded-by: one");
  ASSERT_NE(two, std::string::npos);
  EXPECT_LT(two, one);
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_2xx"), 1);
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_active"), 0);
}

TEST(ConnectionManagerTest, StoppedRequestResumesWithTheHeldBody) {
  Harness h(Harness::Chain::kStopping);
  std::string out = h.exchange("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 1);
  // The body passed the stopping filter, waited, and reached the rest after
  // the headers did.
  EXPECT_EQ(h.log,
            (Log{"stop:headers", "stop:data:hello", "stop:continue", "after:headers",
                 "responder:headers", "after:data:hello:end", "after:encode", "after:destroy"}));
  EXPECT_NE(out.find("|x-seen-by=after"), std::string::npos) << out;
  EXPECT_NE(out.find("POST /p hello"), std::string::npos) << out;
}

TEST(ConnectionManagerTest, AddsRequestHeadersAndStripsHopByHop) {
  Harness h(Harness::Chain::kResponderOnly);
  std::string out = h.exchange(
      "GET /h HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
      "Keep-Alive: 5\r\n\r\n",
      1);
  EXPECT_EQ(out.find("x-hop="), std::string::npos) << out;
  EXPECT_EQ(out.find("|keep-alive="), std::string::npos) << out;
  EXPECT_EQ(out.find("|connection="), std::string::npos) << out;
  EXPECT_NE(out.find("|x-forwarded-proto=http"), std::string::npos) << out;
  EXPECT_NE(out.find("|x-request-id="), std::string::npos) << out;
  // The filter's "connection: keep-alive" is the proxy's business, not the filter's.
  EXPECT_EQ(out.find("connection: keep-alive"), std::string::npos) << out;
  EXPECT_NE(out.find("server: envoy\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("date: "), std::string::npos) << out;
}

TEST(ConnectionManagerTest, LocalReplyHasEnvoysShape) {
  Harness h(Harness::Chain::kResponderOnly);
  std::string out = h.exchange("GET /fail HTTP/1.1\r\nHost: a\r\n\r\n", 1);
  EXPECT_EQ(out.substr(0, out.find("date:")),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 19\r\ncontent-type: "
            "text/plain\r\nserver: envoy\r\n");
  EXPECT_EQ(out.substr(out.size() - 19), "no healthy upstream");
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_5xx"), 1);
}

TEST(ConnectionManagerTest, HeadLocalReplyHasNoBody) {
  Harness h(Harness::Chain::kResponderOnly);
  std::string out = h.exchange("HEAD /fail HTTP/1.1\r\nHost: a\r\n\r\n", 1);
  EXPECT_NE(out.find("content-length: 19\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(ConnectionManagerTest, PipelinedRequestsGetTheirAnswersInOrder) {
  Harness h(Harness::Chain::kResponderOnly);
  std::string out = h.exchange(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n"
      "xGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
      3);
  size_t a = out.find("GET /1 ");
  size_t b = out.find("POST /2 x");
  size_t c = out.find("GET /3 ");
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_total"), 3);
}

TEST(ConnectionManagerTest, MalformedRequestIsAnsweredAndClosed) {
  Harness h(Harness::Chain::kRecorders);
  std::string out = h.exchange("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 1);
  EXPECT_EQ(out.substr(0, 25), "HTTP/1.1 400 Bad Request\r");
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(h.log.empty());  // no filter saw it
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_cx_protocol_error"), 1);
}

TEST(ConnectionManagerTest, Http10IsRefusedByDefault) {
  Harness h(Harness::Chain::kRecorders);
  std::string out = h.exchange("GET / HTTP/1.0\r\n\r\n", 1);
  EXPECT_EQ(out.substr(0, 30), "HTTP/1.1 426 Upgrade Required\r");
  EXPECT_TRUE(h.log.empty());
}

TEST(ConnectionManagerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  Harness h(Harness::Chain::kResponderOnly);
  std::string out = h.exchange(
      "POST /c HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", 1);
  EXPECT_EQ(out.substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_NE(out.find("POST /c ok"), std::string::npos);
}

TEST(ConnectionManagerTest, ClientClosingMidRequestResetsTheStream) {
  Harness h(Harness::Chain::kRecorders);
  std::string out =
      h.exchange("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", 1, true);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(h.closed);
  EXPECT_EQ(h.log.back(), "two:destroy");
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_rx_reset"), 1);
  EXPECT_EQ(h.stats_.valueOf("http.test.downstream_rq_active"), 0);
}

TEST(ConnectionManagerTest, UpgradeNotConfiguredIsForbidden) {
  Harness h(Harness::Chain::kRecorders);
  std::string out = h.exchange(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", 1);
  EXPECT_EQ(out.substr(0, 24), "HTTP/1.1 403 Forbidden\r\n");
  EXPECT_TRUE(h.log.empty());
}

}  // namespace
}  // namespace remora::http
