#include "config/bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "config/filters.h"
#include "config/parse.h"

namespace remora::config {
namespace {

using ::testing::HasSubstr;

// The shape of Envoy's own static tcp_proxy examples, as a user writes it.
constexpr const char* kEnvoyStyleTcpProxy = R"(
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }

static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address:
        protocol: TCP
        address: 0.0.0.0
        port_value: 10000
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
    filter_chains:
    - filter_chain_match:
        server_names: ["example.com", "*.example.com"]
        transport_protocol: tls
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tls_passthrough
          cluster: service_tls
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: destination
          weighted_clusters:
            clusters:
            - name: service_a
              weight: 80
            - name: service_b
              weight: 20
          idle_timeout: 3600s

  clusters:
  - name: service_a
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: service_a
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: 127.0.0.1
                port_value: 1234
        - endpoint:
            address:
              socket_address:
                address: ::1
                port_value: 1235
  - name: service_b
    type: STATIC
    load_assignment:
      cluster_name: service_b
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.2, port_value: 1234 } } }
  - name: service_tls
    connect_timeout: 1s
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
  - name: BlackHoleCluster
    type: STATIC
)";

StatusOr<Bootstrap> loadText(const std::string& yaml) {
  Bootstrap b;
  REMORA_RETURN_IF_ERROR(parseYamlOrJson(yaml, &b, "envoy.yaml"));
  REMORA_RETURN_IF_ERROR(validateBootstrap(b));
  return b;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content, const char* suffix = ".yaml") {
    char tmpl[] = "/tmp/remora_config_testXXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = std::string(tmpl) + suffix;
    std::rename(tmpl, path_.c_str());
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(BootstrapTest, EnvoyStyleStaticTcpProxyLoadsUnchanged) {
  auto b = loadText(kEnvoyStyleTcpProxy);
  ASSERT_TRUE(b.ok()) << b.status().toString();
  const auto& l = b->static_resources().listeners(0);
  EXPECT_EQ(l.filter_chains_size(), 2);
  EXPECT_FALSE(usesOriginalDst(l));
  EXPECT_TRUE(bindToPort(l));
  EXPECT_EQ(listenerFiltersTimeout(l), std::chrono::seconds(15));
  auto lf = listenerFilterType(l.listener_filters(0));
  ASSERT_TRUE(lf.ok());
  EXPECT_EQ(*lf, ListenerFilterType::kTlsInspector);
  auto tp = unpackTcpProxy(l.filter_chains(1).filters(0));
  ASSERT_TRUE(tp.ok());
  EXPECT_EQ(tp->weighted_clusters().clusters(1).name(), "service_b");
  EXPECT_FALSE(unpackHttpConnectionManager(l.filter_chains(1).filters(0)).ok());
  const auto& clusters = b->static_resources().clusters();
  EXPECT_EQ(connectTimeout(clusters[0]), std::chrono::milliseconds(250));
  EXPECT_EQ(connectTimeout(clusters[1]), std::chrono::seconds(5));
  auto ep = toSocketAddress(
      clusters[0].load_assignment().endpoints(0).lb_endpoints(1).endpoint().address());
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->toString(), "[::1]:1235");
}

TEST(BootstrapTest, LoadsFileAndMergesOverlay) {
  TempFile file(kEnvoyStyleTcpProxy);
  auto b = loadBootstrap(file.path(),
                         "node: {id: sidecar~10.0.0.1~a.default~default.svc.cluster.local}\n"
                         "admin: {address: {socket_address: {port_value: 15000}}}\n"
                         "static_resources:\n"
                         "  clusters: [{name: extra, type: STATIC}]\n");
  ASSERT_TRUE(b.ok()) << b.status().toString();
  EXPECT_EQ(b->node().id(), "sidecar~10.0.0.1~a.default~default.svc.cluster.local");
  // MergeFrom: scalars overwritten, untouched siblings kept, lists appended.
  EXPECT_EQ(b->admin().address().socket_address().port_value(), 15000u);
  EXPECT_EQ(b->admin().address().socket_address().address(), "127.0.0.1");
  ASSERT_EQ(b->static_resources().clusters_size(), 5);
  EXPECT_EQ(b->static_resources().clusters(4).name(), "extra");
  EXPECT_TRUE(validateBootstrap(*b).ok());
}

TEST(BootstrapTest, OverlayAloneAndNeither) {
  auto b = loadBootstrap("", "static_resources: {clusters: [{name: c}]}");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->static_resources().clusters(0).name(), "c");
  EXPECT_FALSE(loadBootstrap("", "").ok());
  auto missing = loadBootstrap("/nonexistent/envoy.yaml", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/envoy.yaml"));
  auto bad_overlay = loadBootstrap("", "admin: {adress: {}}");
  ASSERT_FALSE(bad_overlay.ok());
  EXPECT_THAT(bad_overlay.status().message(),
              HasSubstr("--config-yaml:1:9: admin: unknown field \"adress\""));
}

TEST(BootstrapTest, JsonFileLoads) {
  TempFile file(R"({
  "static_resources": {
    "listeners": [{
      "name": "virtualOutbound",
      "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15001}},
      "use_original_dst": true,
      "filter_chains": [{
        "filters": [{
          "name": "envoy.filters.network.tcp_proxy",
          "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "statPrefix": "PassthroughCluster",
            "cluster": "PassthroughCluster"
          }
        }]
      }]
    }, {
      "name": "10.0.0.1_9080",
      "address": {"socket_address": {"address": "10.0.0.1", "port_value": 9080}},
      "bindToPort": false,
      "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                         "stat_prefix": "inbound", "cluster": "inbound|9080||"}}]}]
    }],
    "clusters": [
      {"name": "PassthroughCluster", "type": "ORIGINAL_DST", "connect_timeout": "10s"},
      {"name": "inbound|9080||", "load_assignment": {"cluster_name": "inbound|9080||", "endpoints": [
        {"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 9080}}}}]}]}}
    ]
  }
})",
                ".json");
  auto b = loadBootstrap(file.path(), "");
  ASSERT_TRUE(b.ok()) << b.status().toString();
  ASSERT_TRUE(validateBootstrap(*b).ok()) << validateBootstrap(*b).toString();
  EXPECT_TRUE(usesOriginalDst(b->static_resources().listeners(0)));
  EXPECT_FALSE(bindToPort(b->static_resources().listeners(1)));
}

TEST(BootstrapTest, NameOnlyListenerFiltersAndDynamicClusters) {
  auto b = loadText(R"(
dynamic_resources:
  cds_config: {ads: {}}
  ads_config:
    api_type: GRPC
    grpc_services: [{google_grpc: {target_uri: "127.0.0.1:15010"}}]
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: "::", port_value: 15006}}
    listener_filters:
    - name: envoy.filters.listener.original_dst
    - name: envoy.filters.listener.http_inspector
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: x
          cluster: from_cds
)");
  ASSERT_TRUE(b.ok()) << b.status().toString();
  EXPECT_TRUE(usesOriginalDst(b->static_resources().listeners(0)));
}

// Istio's dynamic part: ADS to the static cluster xds-grpc.
constexpr const char* kAdsBootstrap = R"(
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    load_assignment:
      cluster_name: xds-grpc
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 10.244.0.1, port_value: 15010}}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
  cds_config: {ads: {}, resource_api_version: V3}
  lds_config: {ads: {}, resource_api_version: V3}
)";

TEST(BootstrapTest, IstioStyleAdsSettings) {
  auto b = loadText(kAdsBootstrap);
  ASSERT_TRUE(b.ok()) << b.status().toString();
  auto ads = adsSettings(*b);
  ASSERT_TRUE(ads.ok() && ads->has_value());
  EXPECT_EQ((*ads)->cluster_name, "xds-grpc");
  EXPECT_EQ((*ads)->address.toString(), "10.244.0.1:15010");
  EXPECT_TRUE((*ads)->lds);
  EXPECT_TRUE((*ads)->cds);
  EXPECT_EQ((*ads)->lds_initial_fetch_timeout, std::chrono::seconds(15));
  auto none = adsSettings(Bootstrap());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(BootstrapTest, BadAdsSettingsNameTheField) {
  struct Case {
    std::string from, to, error;
  };
  const std::vector<Case> cases = {
      {"api_type: GRPC", "api_type: DELTA_GRPC",
       "dynamic_resources.ads_config.api_type: incremental (delta) xDS is not supported"},
      {"cluster_name: xds-grpc}", "cluster_name: pilot}",
       "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: no static cluster "
       "named \"pilot\""},
      {"lds_config: {ads: {}, resource_api_version: V3}",
       "lds_config: {api_config_source: {api_type: GRPC}}",
       "dynamic_resources.lds_config: only {ads: {}} is supported"},
      {"grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]", "grpc_services: []",
       "dynamic_resources.ads_config.grpc_services: one gRPC service is required"},
  };
  for (const auto& c : cases) {
    std::string y = kAdsBootstrap;
    size_t at = y.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    y.replace(at, c.from.size(), c.to);
    auto b = loadText(y);
    ASSERT_FALSE(b.ok()) << c.to;
    EXPECT_THAT(b.status().message(), HasSubstr(c.error)) << c.to;
  }
}

// Each case: a bootstrap (parsed and validated) and a substring of its error.
TEST(BootstrapTest, BadConfigsGiveFieldLevelErrors) {
  const std::string tcp =
      "      - name: envoy.filters.network.tcp_proxy\n"
      "        typed_config:\n"
      "          \"@type\": type.googleapis.com/"
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\n";
  const std::string listener_base =
      "static_resources:\n"
      "  listeners:\n"
      "  - name: l\n"
      "    address: {socket_address: {address: 0.0.0.0, port_value: 80}}\n"
      "    filter_chains:\n";
  const std::string listener_head = listener_base + "    - filters:\n";
  const std::string cluster_c =
      "  clusters:\n"
      "  - name: c\n";
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      {listener_head + tcp + "          stat_prefix: s\n          clustr: c\n" + cluster_c,
       "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: unknown field "
       "\"clustr\""},
      {listener_head + tcp + "          stat_prefix: s\n          cluster: nope\n" + cluster_c,
       "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.cluster: unknown "
       "cluster \"nope\""},
      {listener_head + tcp + "          cluster: c\n" + cluster_c,
       "filters[0].typed_config.stat_prefix: required"},
      {listener_head + tcp + "          stat_prefix: s\n" + cluster_c,
       "filters[0].typed_config: one of \"cluster\" or \"weighted_clusters\" is required"},
      {listener_head + tcp +
           "          stat_prefix: s\n          weighted_clusters: {clusters: []}\n" + cluster_c,
       "typed_config.weighted_clusters.clusters: no clusters"},
      {listener_head + tcp +
           "          stat_prefix: s\n          weighted_clusters: {clusters: [{name: c, weight: "
           "0}]}\n" +
           cluster_c,
       "typed_config.weighted_clusters.clusters: total weight is 0"},
      {listener_head + tcp +
           "          stat_prefix: s\n          weighted_clusters: {clusters: [{name: c, weight: "
           "1}, {name: d, weight: 1}]}\n" +
           cluster_c,
       "typed_config.weighted_clusters.clusters[1].name: unknown cluster \"d\""},
      {listener_head + "      - name: envoy.filters.network.echo\n"
                       "        typed_config:\n"
                       "          \"@type\": "
                       "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n",
       "filters[0].typed_config: unsupported network filter type "
       "\"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\""},
      {listener_head + "      - name: envoy.filters.network.echo\n",
       "filter_chains[0].filters[0]: network filter \"envoy.filters.network.echo\" has no "
       "typed_config"},
      {listener_head + tcp + "          stat_prefix: s\n          cluster: c\n" + tcp +
           "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chains[0].filters[0]: terminal filter \"envoy.filters.network.tcp_proxy\" must be "
       "the last filter"},
      {"static_resources:\n  listeners:\n  - name: l\n    filter_chains:\n    - filters:\n" + tcp +
           "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[0].address: required"},
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "localhost, port_value: 80}}\n    filter_chains:\n    - filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[0].address.socket_address.address: \"localhost\" is not an IPv4 "
       "or IPv6 address"},
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "0.0.0.0, port_value: 70000}}\n    filter_chains:\n    - filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[0].address.socket_address.port_value: 70000 is not a port"},
      {listener_head + tcp + "          stat_prefix: s\n          cluster: c\n" +
           "  - name: l\n    address: {socket_address: {address: 0.0.0.0, port_value: 81}}\n"
           "    filter_chains:\n    - filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[1].name: duplicate listener name \"l\" (also "
       "static_resources.listeners[0])"},
      {listener_head + tcp + "          stat_prefix: s\n          cluster: c\n" +
           "  - name: m\n    address: {socket_address: {address: 0.0.0.0, port_value: 80}}\n"
           "    filter_chains:\n    - filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[1].address: duplicate listener address 0.0.0.0:80"},
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "0.0.0.0, port_value: 80}}\n    listener_filters:\n    - name: "
       "envoy.filters.listener.proxy_protocol\n",
       "static_resources.listeners[0].listener_filters[0]: listener filter "
       "\"envoy.filters.listener.proxy_protocol\" has no typed_config"},
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "0.0.0.0, port_value: 80}}\n",
       "static_resources.listeners[0].filter_chains: no filter chains and no default_filter_chain"},
      // Filter chain matches.
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "0.0.0.0, port_value: 80}}\n    filter_chains:\n"
       "    - filter_chain_match: {server_names: [a.com, b.com]}\n      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" +
           "    - filter_chain_match: {server_names: [B.com]}\n      filters:\n" + tcp +
           "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "static_resources.listeners[0].filter_chains[1].filter_chain_match: multiple filter chains "
       "with the same matching rules: overlaps static_resources.listeners[0].filter_chains[0]"},
      {"static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: "
       "0.0.0.0, port_value: 80}}\n    filter_chains:\n"
       "    - filter_chain_match: {prefix_ranges: [{address_prefix: 0.0.0.0, prefix_len: 0}]}\n"
       "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + "    - filters:\n" + tcp +
           "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chains[1].filter_chain_match: multiple filter chains with the same matching rules"},
      {listener_base +
           "    - filter_chain_match:\n"
           "        prefix_ranges: [{address_prefix: 10.0.0.300, prefix_len: 8}]\n"
           "        source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 33}]\n"
           "        destination_port: 0\n"
           "        source_ports: [70000]\n"
           "        server_names: ['*w.example.com']\n"
           "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chain_match.destination_port: port 0 is not in 1..65535"},
      {listener_base +
           "    - filter_chain_match:\n"
           "        prefix_ranges: [{address_prefix: 10.0.0.300, prefix_len: 8}]\n"
           "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chain_match.prefix_ranges[0]: address_prefix: \"10.0.0.300\" is not an IPv4 or IPv6 "
       "address"},
      {listener_base +
           "    - filter_chain_match:\n"
           "        source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 33}]\n"
           "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chain_match.source_prefix_ranges[0]: prefix_len: prefix length 33 is over 32"},
      {listener_base +
           "    - filter_chain_match:\n"
           "        source_ports: [70000]\n"
           "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chain_match.source_ports[0]: port 70000 is not in 1..65535"},
      {listener_base +
           "    - filter_chain_match:\n"
           "        server_names: ['*w.example.com']\n"
           "      filters:\n" +
           tcp + "          stat_prefix: s\n          cluster: c\n" + cluster_c,
       "filter_chain_match.server_names[0]: partial wildcards are not supported in "
       "\"*w.example.com\""},
      // Clusters.
      {"static_resources:\n  clusters:\n  - name: a\n  - name: a\n",
       "static_resources.clusters[1].name: duplicate cluster name \"a\" (also "
       "static_resources.clusters[0])"},
      {"static_resources:\n  clusters:\n  - type: STATIC\n",
       "static_resources.clusters[0].name: required"},
      {"static_resources:\n  clusters:\n  - {name: a, connect_timeout: 0s}\n",
       "static_resources.clusters[0].connect_timeout: must be greater than 0"},
      {"static_resources:\n  clusters:\n  - {name: a}\n  - {name: b, connect_timeout: 5 seconds}\n",
       "static_resources.clusters[1].connect_timeout: invalid duration \"5 seconds\""},
      {"static_resources:\n  clusters:\n  - {name: a, type: EDS}\n",
       "static_resources.clusters[0].eds_cluster_config.eds_config: required for type EDS"},
      {"static_resources:\n  clusters:\n  - {name: a, type: STRICT_DNS}\n",
       "static_resources.clusters[0].type: STRICT_DNS is not supported"},
      {"static_resources:\n  clusters:\n  - {name: a, type: ORIGINAL_DST, lb_policy: RING_HASH}\n",
       "static_resources.clusters[0].lb_policy: type ORIGINAL_DST needs lb_policy "
       "CLUSTER_PROVIDED"},
      {"static_resources:\n  clusters:\n  - {name: a, lb_policy: CLUSTER_PROVIDED}\n",
       "static_resources.clusters[0].lb_policy: CLUSTER_PROVIDED is only valid with type "
       "ORIGINAL_DST"},
      {"static_resources:\n  clusters:\n  - name: a\n    type: ORIGINAL_DST\n"
       "    load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
       "{address: 1.1.1.1, port_value: 1}}}}]}]}\n",
       "static_resources.clusters[0].load_assignment: an ORIGINAL_DST cluster takes no endpoints"},
      {"static_resources:\n  clusters:\n  - name: a\n"
       "    load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
       "{address: backend.local, port_value: 1}}}}]}]}\n",
       "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
       "socket_address.address: \"backend.local\" is not an IPv4 or IPv6 address"},
      {"static_resources:\n  clusters:\n  - name: a\n"
       "    load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
       "{address: 1.1.1.1}}}}]}]}\n",
       "lb_endpoints[0].endpoint.address.socket_address.port_value: an endpoint needs a port"},
      {"admin: {address: {socket_address: {address: 1.2.3.4, port_value: abc}}}",
       "admin.address.socket_address.port_value: expected a number, got \"abc\""},
      {"admin: {address: {pipe: {path: /tmp/admin}}}",
       "admin.address.pipe: pipe addresses are not supported"},
  };
  for (const auto& c : cases) {
    auto b = loadText(c.yaml);
    EXPECT_FALSE(b.ok()) << c.yaml;
    EXPECT_THAT(b.status().message(), HasSubstr(c.error)) << c.yaml;
  }
}

}  // namespace
}  // namespace remora::config

namespace remora::config {
namespace {

constexpr const char* kHttpListener = R"(
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: 127.0.0.1, port_value: 80}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: s
          http_filters: [{ name: envoy.filters.http.router }]
          route_config:
            %VALIDATE%
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/a" }
                route: { cluster: c }
              - match: { prefix: "/b" }
                route: { cluster: nope }
              - match: { prefix: "/w" }
                route: { weighted_clusters: { clusters: [{ name: c, weight: 1 }, { name: gone, weight: 1 }] } }
  clusters:
  - name: c
)";

std::string httpConfig(const std::string& validate) {
  std::string y = kHttpListener;
  y.replace(y.find("%VALIDATE%"), 10, validate);
  return y;
}

Status loadHttp(const std::string& yaml) {
  Bootstrap b;
  REMORA_RETURN_IF_ERROR(parseYamlOrJson(yaml, &b, "envoy.yaml"));
  return validateBootstrap(b);
}

TEST(BootstrapHttpTest, InlineRoutesMayOnlyNameKnownClusters) {
  Status s = loadHttp(httpConfig("name: r"));
  ASSERT_FALSE(s.ok());
  const std::string route =
      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config."
      "virtual_hosts[0].routes";
  EXPECT_THAT(s.message(), HasSubstr(route + "[1].route.cluster: unknown cluster \"nope\" (set "
                                             "validate_clusters: false to answer 503 NC at run "
                                             "time instead)"));
  EXPECT_THAT(s.message(), HasSubstr(route + "[2].route.weighted_clusters.clusters[1].name: "
                                             "unknown cluster \"gone\""));
  // As Envoy: validate_clusters: false defers the question to request time.
  EXPECT_TRUE(loadHttp(httpConfig("validate_clusters: false")).ok());
}

TEST(BootstrapHttpTest, RdsNeedsARouteConfigName) {
  std::string y = httpConfig("name: r");
  size_t at = y.find("          route_config:");
  y = y.substr(0, at) + "          rds: { config_source: { ads: {} } }\n  clusters:\n  - name: c\n";
  Status s = loadHttp(y);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("typed_config.rds.route_config_name: required"));
}

}  // namespace
}  // namespace remora::config
