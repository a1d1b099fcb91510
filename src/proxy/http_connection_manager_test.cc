#include "proxy/http_connection_manager.h"

#include <gtest/gtest.h>

#include "config/api_types.h"
#include "config/parse.h"
#include "proxy/server.h"
#include "support/paths.h"

namespace remora::proxy {
namespace {

using HcmProto =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr const char* kRoutes = R"(
stat_prefix: t
route_config:
  name: r1
  virtual_hosts:
  - name: all
    domains: ["*"]
    routes:
    - match: { prefix: "/" }
      route: { cluster: c }
)";

constexpr const char* kRouter = R"(
http_filters:
- name: envoy.filters.http.router
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)";

StatusOr<std::shared_ptr<const HttpConnectionManagerFilter>> compile(const std::string& yaml,
                                                                     StatsStore& stats) {
  config::ensureApiTypesLinked();
  HcmProto proto;
  Status s = config::parseYamlOrJson(yaml, &proto, "hcm.yaml");
  if (!s.ok()) return s;
  return HttpConnectionManagerFilter::create(proto, stats);
}

std::string errorOf(const std::string& yaml) {
  StatsStore stats;
  auto r = compile(yaml, stats);
  return r.ok() ? "OK" : r.status().message();
}

TEST(HttpConnectionManagerConfigTest, CompilesRoutesFiltersAndDefaults) {
  StatsStore stats;
  auto f = compile(std::string(kRoutes) + kRouter, stats);
  ASSERT_TRUE(f.ok()) << f.status().message();
  const auto& c = (*f)->config();
  EXPECT_EQ(c.routes->name(), "r1");
  ASSERT_NE(c.routes->current(), nullptr);
  EXPECT_TRUE(c.filters.empty());  // the router is implicit, last
  const http::ConnectionManagerConfig& cm = *c.connection;
  EXPECT_EQ(cm.idle_timeout, std::chrono::hours(1));
  EXPECT_EQ(cm.stream_idle_timeout, std::chrono::minutes(5));
  EXPECT_TRUE(cm.generate_request_id);
  EXPECT_FALSE(cm.accept_http_10);
  EXPECT_EQ(cm.server_name, "envoy");
  EXPECT_EQ(cm.codec.max_header_bytes, 60u * 1024);
  EXPECT_TRUE(cm.access_logs.empty());
  EXPECT_EQ(stats.valueOf("http.t.downstream_rq_total"), 0);
  EXPECT_EQ(stats.valueOf("route_config.r1.no_route"), 0);
}

TEST(HttpConnectionManagerConfigTest, ReadsConnectionOptions) {
  StatsStore stats;
  auto f = compile(std::string(kRoutes) + kRouter + R"(
common_http_protocol_options: { idle_timeout: 30s, max_headers_count: 50 }
stream_idle_timeout: 0s
max_request_headers_kb: 16
server_name: istio-envoy
use_remote_address: true
generate_request_id: false
upgrade_configs: [{ upgrade_type: WebSocket }, { upgrade_type: CONNECT, enabled: false }]
http_protocol_options: { accept_http_10: true }
access_log:
- name: envoy.access_loggers.stdout
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
    log_format: { text_format_source: { inline_string: "%RESPONSE_CODE%\n" } }
)",
                   stats);
  ASSERT_TRUE(f.ok()) << f.status().message();
  const http::ConnectionManagerConfig& cm = *(*f)->config().connection;
  EXPECT_EQ(cm.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(cm.stream_idle_timeout.count(), 0);
  EXPECT_EQ(cm.codec.max_header_count, 50u);
  EXPECT_EQ(cm.codec.max_header_bytes, 16u * 1024);
  EXPECT_EQ(cm.server_name, "istio-envoy");
  EXPECT_TRUE(cm.use_remote_address);
  EXPECT_FALSE(cm.generate_request_id);
  EXPECT_TRUE(cm.accept_http_10);
  EXPECT_EQ(cm.upgrade_types, std::vector<std::string>{"websocket"});
  ASSERT_EQ(cm.access_logs.size(), 1u);
  EXPECT_EQ(cm.access_logs[0]->path(), "/dev/stdout");
}

TEST(HttpConnectionManagerConfigTest, RdsLeavesAnEmptyTableToFill) {
  StatsStore stats;
  auto f = compile(std::string(R"(
stat_prefix: t
rds: { route_config_name: "9080", config_source: { ads: {} } }
)") + kRouter,
                   stats);
  ASSERT_TRUE(f.ok()) << f.status().message();
  auto provider = (*f)->routes();
  EXPECT_EQ(provider->name(), "9080");
  EXPECT_EQ(provider->current(), nullptr);
  uint64_t v = provider->version();
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name("9080");
  auto table = router::RouteTable::compile(rc);
  ASSERT_TRUE(table.ok());
  provider->update(*table);
  EXPECT_GT(provider->version(), v);
  EXPECT_EQ(provider->current(), *table);
}

TEST(HttpConnectionManagerConfigTest, RefusesWhatItCannotServe) {
  const std::string routes = kRoutes;
  EXPECT_EQ(errorOf(routes), "http_filters: the last filter must be envoy.filters.http.router");
  EXPECT_EQ(errorOf(routes + R"(
http_filters:
- name: envoy.filters.http.router
- name: envoy.filters.http.cors
)"),
            "http_filters[0]: the router must be the last HTTP filter");
  EXPECT_EQ(errorOf(routes + R"(
http_filters:
- name: envoy.filters.http.fault
- name: envoy.filters.http.router
)"),
            "http_filters[0]: unsupported HTTP filter \"envoy.filters.http.fault\" (supported: "
            "envoy.filters.http.router; mark others is_optional to skip them)");
  EXPECT_EQ(errorOf(routes + R"(
http_filters:
- { name: istio.stats, is_optional: true }
- { name: envoy.filters.http.cors, disabled: true }
- name: envoy.filters.http.router
)"),
            "OK");
  EXPECT_EQ(errorOf(routes + kRouter + "codec_type: HTTP2\n"),
            "codec_type: HTTP2 is not supported yet (HTTP/1.1 only; AUTO serves HTTP/1.1)");
  EXPECT_EQ(errorOf(std::string("stat_prefix: t\n") + kRouter),
            "one of \"rds\" or \"route_config\" is required");
  EXPECT_EQ(errorOf(routes + kRouter + R"(
access_log:
- name: envoy.access_loggers.stdout
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
    log_format: { text_format_source: { inline_string: "%FILTER_STATE(x)%" } }
)"),
            "access_log[0].typed_config format: unsupported command operator %FILTER_STATE(x)%");
  EXPECT_EQ(errorOf(routes + kRouter + R"(
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: /nonexistent-dir/x.log
)"),
            "access_log[0].typed_config.path: cannot open access log /nonexistent-dir/x.log: No "
            "such file or directory");
  std::string bad_route = R"(
stat_prefix: t
route_config:
  virtual_hosts:
  - { name: a, domains: ["x"] }
  - { name: b, domains: ["x"] }
)";
  EXPECT_EQ(
      errorOf(bad_route + kRouter).rfind("route_config: virtual_hosts[1].domains[0]: duplicate", 0),
      0u)
      << errorOf(bad_route + kRouter);
}

TEST(ExampleConfigTest, L7ExampleLoadsAndCompiles) {
  ServerOptions options;
  options.config_path = test::sourceDir() + "/examples/l7-http-proxy.yaml";
  auto server = Server::create(options);
  ASSERT_TRUE(server.ok()) << server.status().message();
  const ConfigSnapshot& s = (*server)->snapshot();
  EXPECT_EQ(s.clusters().size(), 4u);
  ASSERT_EQ(s.routeConfigProviders().size(), 1u);
  EXPECT_EQ(s.routeConfigProviders()[0]->name(), "9080");
  auto cluster = s.cluster("outbound|9080|v1|reviews.default.svc.cluster.local");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->lbPolicy(), upstream::LbPolicy::kLeastRequest);
  EXPECT_EQ(cluster->idleTimeout(), std::chrono::seconds(60));
  EXPECT_EQ(cluster->circuitBreakers().max_pending_requests, 100u);
}

}  // namespace
}  // namespace remora::proxy
