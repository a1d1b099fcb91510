// Every way a request can fail in the proxy, answered as Envoy answers it:
// the local reply's status and body to the client, the response flag in the
// access log, and malformed requests refused before any backend sees them.
#include <gtest/gtest.h>

#include <thread>

#include "integration/http_test_config.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;

// Polls `pred` for up to 10 s (waiting for an event, not measuring speed).
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

class LocalReplyTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    dead_port_ = freePort();  // nothing listens there
    std::string vhosts = R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/nocluster" }
                route: { cluster: missing }
              - match: { prefix: "/blackhole" }
                route: { cluster: BlackHoleCluster }
              - match: { prefix: "/refused" }
                route: { cluster: Dead }
              - match: { prefix: "/timeout" }
                route: { cluster: A, prefix_rewrite: "/slow/3000", timeout: 0.2s }
              - match: { prefix: "/limited/" }
                route: { cluster: Limited, prefix_rewrite: "/" }
              - match: { prefix: "/pending/" }
                route: { cluster: Pending, prefix_rewrite: "/" }
              - match: { prefix: "/a/" }
                route: { cluster: A, prefix_rewrite: "/" }
)";
    std::string limited = R"(    circuit_breakers:
      thresholds:
      - max_requests: 1
)";
    std::string pending = R"(    circuit_breakers:
      thresholds:
      - max_connections: 1
        max_pending_requests: 1
)";
    startProxy(httpBootstrap(listen_, admin_, vhosts,
                             {{"A", {a_.address()}, ""},
                              {"BlackHoleCluster", {}, ""},
                              {"Dead", {loopback(dead_port_)}, ""},
                              {"Limited", {limited_.address()}, limited},
                              {"Pending", {pending_.address()}, pending}},
                             log_path_, "", /*validate_clusters=*/false));
  }

  // The access log line of the last request, once written.
  std::string lastLogLine(size_t expected_lines) {
    EXPECT_TRUE(eventually([&] { return logLines().size() >= expected_lines; }));
    auto lines = logLines();
    return lines.empty() ? "" : lines.back();
  }

  uint16_t dead_port_ = 0;
  HttpBackend a_{"a"}, limited_{"limited"}, pending_{"pending"};
};

struct Expect {
  const char* path;
  int status;
  const char* flag;
  const char* body;
};

TEST_F(LocalReplyTest, EachFailureHasEnvoysCodeFlagAndBody) {
  const Expect cases[] = {
      {"/unrouted", 404, "NR", ""},
      {"/nocluster", 503, "NC", ""},
      {"/blackhole", 503, "UH", "no healthy upstream"},
      {"/refused", 503, "UF",
       "upstream connect error or disconnect/reset before headers. reset reason: connection "
       "failure"},
      {"/timeout", 504, "UT", "upstream request timeout"},
      {"/a/close", 503, "UC",
       "upstream connect error or disconnect/reset before headers. reset reason: connection "
       "termination"},
      {"/a/rst", 503, "UR",
       "upstream connect error or disconnect/reset before headers. reset reason: remote reset"},
  };
  size_t n = 0;
  for (const Expect& e : cases) {
    SCOPED_TRACE(e.path);
    HttpClient c(proxy());
    auto r = c.request("GET", e.path, "svc.example");
    EXPECT_EQ(r.status, e.status);
    EXPECT_EQ(r.body, e.body);
    if (r.body.empty()) {
      EXPECT_EQ(r.header("content-length"), "0");
    } else {
      EXPECT_EQ(r.header("content-type"), "text/plain");
    }
    std::string line = lastLogLine(++n);
    EXPECT_NE(line.find("\" " + std::to_string(e.status) + " " + e.flag + " "), std::string::npos)
        << line;
  }
  EXPECT_EQ(stat("http.ingress.no_route"), 1);
  EXPECT_EQ(stat("http.ingress.no_cluster"), 1);
  EXPECT_EQ(stat("cluster.BlackHoleCluster.upstream_cx_none_healthy"), 1);
  EXPECT_EQ(stat("cluster.Dead.upstream_cx_connect_fail"), 1);
  EXPECT_EQ(stat("cluster.A.upstream_rq_timeout"), 1);
  EXPECT_EQ(stat("http.ingress.downstream_rq_5xx"), 6);
  EXPECT_EQ(stat("http.ingress.downstream_rq_4xx"), 1);
}

TEST_F(LocalReplyTest, MaxRequestsOverflowIsUO) {
  HttpClient slow(proxy());
  ASSERT_TRUE(slow.sendRaw("GET /limited/slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return limited_.requests() == 1; }));
  HttpClient c(proxy());
  auto r = c.request("GET", "/limited/now", "x");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "upstream connect error or disconnect/reset before headers. reset reason: overflow");
  EXPECT_NE(lastLogLine(1).find("\" 503 UO "), std::string::npos);
  EXPECT_EQ(slow.readResponse().status, 200);
  EXPECT_EQ(limited_.requests(), 1);
}

TEST_F(LocalReplyTest, PendingRequestsBeyondTheBreakerOverflow) {
  HttpClient first(proxy()), second(proxy()), third(proxy());
  ASSERT_TRUE(first.sendRaw("GET /pending/slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return pending_.requests() == 1; }));
  // One connection allowed and busy: the second waits for it...
  ASSERT_TRUE(second.sendRaw("GET /pending/two HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return stat("cluster.Pending.upstream_rq_pending_active") == 1; }));
  // ...and a third is one pending request too many.
  auto r = third.request("GET", "/pending/three", "x");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(lastLogLine(1).find("\" 503 UO "), std::string::npos);
  EXPECT_EQ(first.readResponse().status, 200);
  auto two = second.readResponse();
  EXPECT_EQ(two.status, 200);
  EXPECT_EQ(two.body, "pending GET /two\n");
  EXPECT_EQ(pending_.connections(), 1);
  EXPECT_EQ(stat("cluster.Pending.upstream_rq_pending_overflow"), 1);
  EXPECT_GE(stat("cluster.Pending.upstream_cx_overflow"), 1);
}

TEST_F(LocalReplyTest, BackendDyingMidResponseCutsTheClientOff) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/a/die", "x");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_NE(lastLogLine(1).find("\" 200 UC "), std::string::npos) << lastLogLine(1);
  // The proxy is fine afterwards.
  HttpClient again(proxy());
  EXPECT_EQ(again.request("GET", "/a/ok", "x").status, 200);
}

TEST_F(LocalReplyTest, MalformedRequestsNeverReachTheBackend) {
  struct Bad {
    const char* name;
    std::string raw;
    int status;
  };
  const std::string host = "Host: x\r\n";
  const Bad cases[] = {
      {"cl+te",
       "POST /a/x HTTP/1.1\r\n" + host +
           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"two cl", "POST /a/x HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
       400},
      {"cl list", "POST /a/x HTTP/1.1\r\n" + host + "Content-Length: 5, 5\r\n\r\nhello", 400},
      {"te not chunked", "POST /a/x HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 400},
      {"unknown te", "POST /a/x HTTP/1.1\r\n" + host + "Transfer-Encoding: foo, chunked\r\n\r\n",
       501},
      {"obs-fold", "GET /a/x HTTP/1.1\r\n" + host + "X-A: b\r\n c\r\n\r\n", 400},
      {"space before colon", "GET /a/x HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"nul in value",
       [] {
         const char raw[] = "GET /a/x HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n";
         return std::string(raw, sizeof(raw) - 1);
       }(),
       400},
      {"missing host", "GET /a/x HTTP/1.1\r\n\r\n", 400},
      {"too many headers",
       [&] {
         std::string s = "GET /a/x HTTP/1.1\r\n" + host;
         for (int i = 0; i < 101; ++i)
           s += "X-" + std::to_string(i) + ": v\r\n";
         return s + "\r\n";
       }(),
       431},
      {"huge header",
       "GET /a/x HTTP/1.1\r\n" + host + "X-Big: " + std::string(70000, 'b') + "\r\n\r\n", 431},
      {"long request line", "GET /a/" + std::string(9000, 'p') + " HTTP/1.1\r\n" + host + "\r\n",
       414},
      {"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
  };
  size_t n = 0;
  for (const Bad& b : cases) {
    SCOPED_TRACE(b.name);
    HttpClient c(proxy());
    ASSERT_TRUE(c.sendRaw(b.raw));
    auto r = c.readResponse();
    EXPECT_EQ(r.status, b.status);
    EXPECT_TRUE(c.closedByPeer());
    EXPECT_NE(lastLogLine(++n).find(" " + std::to_string(b.status) + " DPE "), std::string::npos);
  }
  EXPECT_EQ(a_.requests(), 0);
  EXPECT_EQ(a_.connections(), 0);
  EXPECT_EQ(stat("http.ingress.downstream_cx_protocol_error"), static_cast<int64_t>(n));
}

TEST_F(LocalReplyTest, Http10IsRefusedUnlessAccepted) {
  HttpClient c(proxy());
  ASSERT_TRUE(c.sendRaw("GET /a/x HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(c.readResponse().status, 426);
  EXPECT_EQ(a_.requests(), 0);
}

// Retries (route retry_policy) for requests without a body.
class RetryTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    std::string vhosts = R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/retry/" }
                route:
                  cluster: Flaky
                  prefix_rewrite: "/"
                  retry_policy: { retry_on: connect-failure, num_retries: 1 }
              - match: { prefix: "/once/" }
                route: { cluster: Flaky, prefix_rewrite: "/" }
              - match: { prefix: "/reset" }
                route:
                  cluster: A
                  prefix_rewrite: "/close"
                  retry_policy:
                    retry_on: reset
                    num_retries: 2
                    retry_back_off: { base_interval: 0.001s }
)";
    startProxy(httpBootstrap(
        listen_, admin_, vhosts,
        {{"Flaky", {loopback(freePort()), backend_.address()}, ""}, {"A", {a_.address()}, ""}},
        log_path_));
  }
  HttpBackend backend_{"alive"}, a_{"a"};
};

TEST_F(RetryTest, ConnectFailuresAreRetriedOnTheNextHost) {
  HttpClient c(proxy());
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(c.request("GET", "/retry/x", "svc").status, 200) << i;
  // Round robin puts every first attempt on the dead endpoint.
  EXPECT_EQ(stat("cluster.Flaky.upstream_rq_retry"), 6);
  EXPECT_EQ(stat("cluster.Flaky.upstream_rq_retry_success"), 6);
  EXPECT_EQ(backend_.requests(), 6);
  // Without a retry policy, half the requests fail.
  int failed = 0;
  for (int i = 0; i < 4; ++i)
    failed += c.request("GET", "/once/x", "svc").status == 503;
  EXPECT_EQ(failed, 2);
}

TEST_F(RetryTest, ExhaustedRetriesAreFlaggedURX) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/reset", "svc");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(a_.requests(), 3);  // the first try and two retries
  EXPECT_TRUE(eventually([&] { return !logLines().empty(); }));
  EXPECT_NE(logLines().back().find("\" 503 UC,URX "), std::string::npos) << logLines().back();
}

TEST(HttpAcceptHttp10Test, Http10KeepAliveIsServedWhenAccepted) {
  HttpBackend backend("old");
  uint16_t listen = freePort(), admin = freePort();
  std::string yaml = httpBootstrap(listen, admin, R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: A }
)",
                                   {{"A", {backend.address()}, ""}}, "",
                                   "          http_protocol_options: { accept_http_10: true }\n");
  ChildProcess proxy;
  std::string path = writeTempFile("http10.yaml", yaml);
  ASSERT_TRUE(proxy.start({binaryPath("remora-proxy"), "-c", path, "--concurrency", "1"}));
  ASSERT_TRUE(waitReady(loopback(admin), std::chrono::seconds(10))) << proxy.output();
  HttpClient c(loopback(listen));
  ASSERT_TRUE(c.sendRaw("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.readResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "old GET /one\n");
  EXPECT_EQ(r.header("connection"), "keep-alive");
  ASSERT_TRUE(c.sendRaw("GET /two HTTP/1.0\r\n\r\n"));
  r = c.readResponse();
  EXPECT_EQ(r.body, "old GET /two\n");
  EXPECT_TRUE(c.closedByPeer());
}

}  // namespace
}  // namespace remora::test
