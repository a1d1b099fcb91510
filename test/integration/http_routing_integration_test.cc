// remora-proxy as an HTTP/1.1 proxy on loopback: routing by Host and path,
// load balancing visible in the answers, keep-alive reuse, the headers the
// proxy adds and strips, and what admin shows.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "integration/http_test_config.h"

namespace remora::test {
namespace {

// Two clusters of two echo backends each; "a.example" goes to A, "b.example"
// and any path under /b/ to B.
class RoutingTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    std::string vhosts = R"(            - name: a
              domains: ["a.example", "a.example:*"]
              routes:
              - match: { prefix: "/b/" }
                route: { cluster: B }
              - match: { prefix: "/" }
                route: { cluster: A }
            - name: b
              domains: ["b.example"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: B }
            - name: wildcard
              domains: ["*.wild.example"]
              routes:
              - match: { path: "/exact" }
                route: { cluster: B }
)";
    startProxy(httpBootstrap(
        listen_, admin_, vhosts,
        {{"A", {a1_.address(), a2_.address()}, ""}, {"B", {b1_.address(), b2_.address()}, ""}},
        log_path_));
  }
  HttpBackend a1_{"a1"}, a2_{"a2"}, b1_{"b1"}, b2_{"b2"};
};

TEST_F(RoutingTest, RoutesByHostAndPath) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/x", "a.example");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("x-backend") == "a1" || r.header("x-backend") == "a2") << r.body;
  r = c.request("GET", "/b/y", "a.example");
  EXPECT_EQ(r.header("x-backend")[0], 'b');
  EXPECT_EQ(r.body.substr(2), " GET /b/y\n");
  r = c.request("GET", "/", "B.Example");  // host matching ignores case
  EXPECT_EQ(r.header("x-backend")[0], 'b');
  r = c.request("GET", "/exact", "x.wild.example");
  EXPECT_EQ(r.header("x-backend")[0], 'b');
  r = c.request("GET", "/exact/not", "x.wild.example");
  EXPECT_EQ(r.status, 404);
  r = c.request("GET", "/", "nobody.example");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(stat("http.ingress.no_route"), 2);
  EXPECT_EQ(stat("route_config.local_route.no_route"), 2);
}

TEST_F(RoutingTest, RoundRobinAlternatesBackends) {
  HttpClient c(proxy());
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i)
    seen.push_back(c.request("GET", "/", "a.example").header("x-backend"));
  EXPECT_NE(seen[0], seen[1]);
  for (int i = 2; i < 6; ++i)
    EXPECT_EQ(seen[static_cast<size_t>(i)], seen[static_cast<size_t>(i - 2)]);
  EXPECT_EQ(a1_.requests(), 3);
  EXPECT_EQ(a2_.requests(), 3);
}

TEST_F(RoutingTest, KeepAliveReusesUpstreamConnections) {
  {
    HttpClient c(proxy());
    for (int i = 0; i < 20; ++i)
      ASSERT_EQ(c.request("GET", "/k", "b.example").status, 200);
  }
  {
    HttpClient c(proxy());  // a second client reuses the same pool
    for (int i = 0; i < 10; ++i)
      ASSERT_EQ(c.request("GET", "/k", "b.example").status, 200);
  }
  // One connection per backend, whatever the number of requests and clients.
  EXPECT_EQ(b1_.requests() + b2_.requests(), 30);
  EXPECT_EQ(b1_.connections(), 1);
  EXPECT_EQ(b2_.connections(), 1);
  EXPECT_EQ(stat("cluster.B.upstream_cx_total"), 2);
  EXPECT_EQ(stat("cluster.B.upstream_rq_total"), 30);
  EXPECT_EQ(stat("cluster.B.upstream_rq_2xx"), 30);
  EXPECT_EQ(stat("http.ingress.downstream_rq_total"), 30);
  EXPECT_EQ(stat("http.ingress.downstream_cx_total"), 2);
}

TEST_F(RoutingTest, AddsAndStripsHeadersLikeEnvoy) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/headers", "a.example",
                     {{"Connection", "X-Hop"},
                      {"X-Hop", "secret"},
                      {"Keep-Alive", "timeout=5"},
                      {"Proxy-Connection", "keep-alive"},
                      {"TE", "gzip"},
                      {"X-Custom", "kept"}});
  ASSERT_EQ(r.status, 200);
  const std::string& seen = r.body;  // the headers the backend got
  EXPECT_EQ(seen.find("x-hop"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("keep-alive"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("proxy-connection"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("te: gzip"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-custom: kept\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-forwarded-proto: http\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-envoy-expected-rq-timeout-ms: 15000\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("host: a.example\n"), std::string::npos) << seen;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(
      seen, m,
      std::regex(
          "x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n")))
      << seen;
  // The response: service time, server, date; the backend's framing replaced.
  EXPECT_TRUE(r.has("x-envoy-upstream-service-time"));
  EXPECT_EQ(r.header("server"), "envoy");
  EXPECT_TRUE(r.has("date"));

  // An x-request-id from the client is kept.
  r = c.request("GET", "/headers", "a.example", {{"X-Request-Id", "abc-123"}});
  EXPECT_NE(r.body.find("x-request-id: abc-123\n"), std::string::npos) << r.body;
}

TEST_F(RoutingTest, AccessLogHasEnvoysDefaultFormat) {
  HttpClient c(proxy());
  ASSERT_EQ(c.request("GET", "/logged?q=1", "a.example", {{"User-Agent", "itest/1"}}).status, 200);
  auto lines = logLines();
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      lines[0], m,
      std::regex(
          R"(\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET /logged\?q=1 HTTP/1\.1" 200 - )"
          R"(0 (\d+) \d+ \d+ "-" "itest/1" "[0-9a-f-]{36}" "a\.example" "127\.0\.0\.1:\d+")")))
      << lines[0];
  EXPECT_EQ(m[1], "19");  // "a1 GET /logged?q=1\n"
}

TEST_F(RoutingTest, AdminShowsStatsHistogramsAndHosts) {
  HttpClient c(proxy());
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(c.request("GET", "/", "a.example").status, 200);
  HttpResult stats = httpRequest(admin(), "GET", "/stats");
  EXPECT_NE(stats.body.find("cluster.A.upstream_rq_time: P0("), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("http.ingress.downstream_rq_active: 0\n"), std::string::npos);
  EXPECT_NE(stats.body.find("cluster.A.upstream_cx_active: 2\n"), std::string::npos);
  HttpResult prom = httpRequest(admin(), "GET", "/stats/prometheus");
  EXPECT_NE(prom.body.find("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"A\"} 4\n"),
            std::string::npos)
      << prom.body;
  EXPECT_NE(prom.body.find("envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="
                           "\"ingress\"} 4\n"),
            std::string::npos);
  HttpResult clusters = httpRequest(admin(), "GET", "/clusters");
  std::string a1 = "A::" + a1_.address().toString() + "::";
  EXPECT_NE(clusters.body.find(a1 + "rq_total::2\n"), std::string::npos) << clusters.body;
  EXPECT_NE(clusters.body.find(a1 + "rq_success::2\n"), std::string::npos);
  EXPECT_NE(clusters.body.find(a1 + "cx_total::1\n"), std::string::npos);
  HttpResult dump = httpRequest(admin(), "GET", "/config_dump");
  EXPECT_NE(dump.body.find("RoutesConfigDump"), std::string::npos);
  EXPECT_NE(dump.body.find("\"name\": \"local_route\""), std::string::npos);
}

// Weighted clusters, redirects and direct responses from the route table.
class RouteActionsTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    std::string vhosts = R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/split" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: A, weight: 50 }
                    - { name: B, weight: 50 }
              - match: { prefix: "/old/" }
                redirect: { prefix_rewrite: "/new/", response_code: FOUND }
              - match: { path: "/hello" }
                direct_response: { status: 200, body: { inline_string: "hi there" } }
                response_headers_to_add:
                - header: { key: x-from, value: route }
              - match: { prefix: "/api/" }
                route: { cluster: A, prefix_rewrite: "/", host_rewrite_literal: "internal.a" }
)";
    startProxy(httpBootstrap(listen_, admin_, vhosts,
                             {{"A", {a_.address()}, ""}, {"B", {b_.address()}, ""}}, log_path_));
  }
  HttpBackend a_{"a"}, b_{"b"};
};

TEST_F(RouteActionsTest, WeightedClustersShareTraffic) {
  HttpClient c(proxy());
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(c.request("GET", "/split", "x").status, 200);
  // 50/50 by a random draw: each side gets traffic (both at 0 or 200 is
  // a 2^-199 event).
  EXPECT_GT(a_.requests(), 40);
  EXPECT_GT(b_.requests(), 40);
  EXPECT_EQ(a_.requests() + b_.requests(), 200);
}

TEST_F(RouteActionsTest, RedirectDirectResponseAndRewrites) {
  HttpClient c(proxy());
  auto r = c.request("GET", "/old/page?x=1", "site.example");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("location"), "http://site.example/new/page?x=1");
  r = c.request("GET", "/hello", "x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hi there");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("x-from"), "route");
  r = c.request("GET", "/headers", "x");  // no route: 404
  EXPECT_EQ(r.status, 404);
  r = c.request("GET", "/api/headers", "orig.example");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(a_.requestLines().back(), "GET /headers HTTP/1.1");
  EXPECT_NE(r.body.find("host: internal.a\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("x-envoy-original-path: /api/headers\n"), std::string::npos);
  EXPECT_EQ(b_.requests(), 0);
  auto lines = logLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("\"GET /old/page?x=1 HTTP/1.1\" 302 - "), std::string::npos);
  EXPECT_NE(lines[3].find("\"GET /api/headers HTTP/1.1\" 200 - "), std::string::npos) << lines[3];
}

// ORIGINAL_DST for HTTP (the PassthroughCluster): with use_http_header the
// destination comes from x-envoy-original-dst-host, which a test can set
// without iptables; the connection's original destination is the same path
// (interception_test covers it with REDIRECT, as root).
class PassthroughTest : public HttpProxyTest {
 protected:
  void SetUp() override {
    std::string vhosts = R"(            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: PassthroughCluster }
)";
    std::string yaml = httpBootstrap(listen_, admin_, vhosts, {}, log_path_);
    yaml += R"(  - name: PassthroughCluster
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 1s
    original_dst_lb_config: { use_http_header: true }
)";
    startProxy(yaml);
  }
  HttpBackend one_{"one"}, two_{"two"};
};

TEST_F(PassthroughTest, ForwardsToTheNamedDestinationOverPooledConnections) {
  HttpClient c(proxy());
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("GET", "/p", "anything",
                       {{"x-envoy-original-dst-host", one_.address().toString()}});
    EXPECT_EQ(r.body, "one GET /p\n");
    r = c.request("GET", "/q", "anything",
                  {{"x-envoy-original-dst-host", two_.address().toString()}});
    EXPECT_EQ(r.body, "two GET /q\n");
  }
  EXPECT_EQ(one_.connections(), 1);
  EXPECT_EQ(two_.connections(), 1);
  EXPECT_EQ(stat("cluster.PassthroughCluster.upstream_rq_2xx"), 6);
  auto r = c.request("GET", "/p", "x", {{"x-envoy-original-dst-host", "not-an-address"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "no healthy upstream");
}

}  // namespace
}  // namespace remora::test
