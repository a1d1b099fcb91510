// Translation rules one at a time; the golden tests (golden_test.cc) show the
// whole output for the seed's scenarios.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "pilot/cli.h"
#include "pilot/model/config_store.h"
#include "pilot/translate/generator.h"
#include "pilot/translate/wire_test_util.h"
#include "support/paths.h"

namespace remora::pilot {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

// A mesh built from YAML text, and the resources one of its pods gets.
class Mesh {
 public:
  explicit Mesh(const std::string& text) {
    ConfigSet set;
    addConfigText("mesh.yaml", text, &set);
    finishConfigSet(&set);
    snapshot_ = MeshSnapshot::build(std::move(set));
    generator_ = std::make_unique<ConfigGenerator>(snapshot_);
  }
  const MeshSnapshot& snapshot() const { return *snapshot_; }
  const ConfigGenerator& generator() const { return *generator_; }
  ProxyNode proxy(const std::string& id) const {
    auto p = snapshot_->findProxy(id);
    EXPECT_TRUE(p) << id;
    return p ? *p : ProxyNode{};
  }
  std::vector<std::string> names(ResourceType type, const std::string& proxy_id) const {
    std::vector<std::string> out;
    for (const auto& r : generator_->generate(type, proxy(proxy_id)))
      out.emplace_back(r.name());
    return out;
  }
  template <typename T>
  T get(ResourceType type, const std::string& proxy_id, const std::string& name) const {
    for (const auto& r : generator_->generate(type, proxy(proxy_id))) {
      if (r.name() == name) return static_cast<const T&>(r.message());
    }
    ADD_FAILURE() << "no resource " << name << " for " << proxy_id;
    return T();
  }
  Listener listener(const std::string& proxy_id, const std::string& name) const {
    return get<Listener>(ResourceType::kListener, proxy_id, name);
  }
  Cluster cluster(const std::string& proxy_id, const std::string& name) const {
    return get<Cluster>(ResourceType::kCluster, proxy_id, name);
  }
  ClusterLoadAssignment endpoints(const std::string& proxy_id, const std::string& name) const {
    return get<ClusterLoadAssignment>(ResourceType::kEndpoint, proxy_id, name);
  }
  RouteConfiguration routes(const std::string& proxy_id, const std::string& port) const {
    return get<RouteConfiguration>(ResourceType::kRoute, proxy_id, port);
  }
  VirtualHost vhost(const std::string& proxy_id, const std::string& port,
                    const std::string& name) const {
    RouteConfiguration rc = routes(proxy_id, port);
    for (const auto& vh : rc.virtual_hosts()) {
      if (vh.name() == name) return vh;
    }
    ADD_FAILURE() << "no virtual host " << name;
    return VirtualHost();
  }

 private:
  std::shared_ptr<const MeshSnapshot> snapshot_;
  std::unique_ptr<ConfigGenerator> generator_;
};

template <typename T>
T filterConfig(const envoy::config::listener::v3::Filter& f) {
  T out;
  EXPECT_TRUE(f.typed_config().UnpackTo(&out)) << f.name();
  return out;
}

std::string service(const std::string& name, const std::string& ip, const std::string& ports,
                    const std::string& ns = "default") {
  return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  clusterIP: " + ip + "\n  selector: {app: " + name + "}\n  ports: " + ports +
         "\n";
}

std::string pod(const std::string& name, const std::string& app, const std::string& version,
                const std::string& ip, const std::string& ns = "default") {
  return "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
         ", labels: {app: " + app + ", version: " + version + "}}\nstatus: {podIP: " + ip + "}\n";
}

const std::string kMeshRegistryOnly =
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: "
    "istio-system}\ndata:\n  mesh: |\n"
    "    outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n";

const std::string kReviews = service("reviews", "10.96.0.14", "[{name: http, port: 9080}]") +
                             pod("reviews-v1", "reviews", "v1", "10.244.0.21") +
                             pod("reviews-v2", "reviews", "v2", "10.244.0.22") +
                             pod("reviews-v3", "reviews", "v3", "10.244.0.23");
const std::string kClient = pod("client", "client", "v1", "10.244.0.9");
const std::string kSubsets =
    "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: "
    "reviews}\n"
    "spec:\n  host: reviews\n  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, "
    "labels: {version: v2}}\n";
const std::string kReviewsFqdn = "reviews.default.svc.cluster.local";

std::string reviewsVs(const std::string& http) {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: "
         "reviews}\n"
         "spec:\n  hosts: [reviews]\n  http:\n" +
         http;
}

// ---- LDS ----

TEST(PilotTranslate, VirtualListenerPassesThroughUnderAllowAny) {
  Mesh mesh(kClient);
  Listener l = mesh.listener("client.default", "virtual");
  EXPECT_EQ(l.address().socket_address().address(), "0.0.0.0");
  EXPECT_EQ(l.address().socket_address().port_value(), 15001u);
  EXPECT_TRUE(l.use_original_dst().value());
  EXPECT_FALSE(l.has_bind_to_port());  // the one listener that binds
  ASSERT_EQ(l.filter_chains_size(), 2);
  // Connections to 15001 itself would loop back into the proxy forever.
  EXPECT_EQ(l.filter_chains(0).filter_chain_match().destination_port().value(), 15001u);
  EXPECT_EQ(filterConfig<TcpProxy>(l.filter_chains(0).filters(0)).cluster(), "BlackHoleCluster");
  EXPECT_FALSE(l.filter_chains(1).has_filter_chain_match());
  EXPECT_EQ(filterConfig<TcpProxy>(l.filter_chains(1).filters(0)).cluster(), "PassthroughCluster");
  EXPECT_EQ(mesh.names(ResourceType::kListener, "client.default"),
            std::vector<std::string>{"virtual"});
}

TEST(PilotTranslate, VirtualListenerDropsUnknownDestinationsUnderRegistryOnly) {
  Mesh mesh(kClient + kMeshRegistryOnly);
  Listener l = mesh.listener("client.default", "virtual");
  EXPECT_EQ(filterConfig<TcpProxy>(l.filter_chains(1).filters(0)).cluster(), "BlackHoleCluster");
}

TEST(PilotTranslate, InboundCaptureListenerOnlyWhenTheMeshConfigAsks) {
  Mesh mesh(kClient +
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: "
            "istio-system}\ndata:\n"
            "  mesh: |\n    proxyInboundListenPort: 15006\n    outboundTrafficPolicy: {mode: "
            "REGISTRY_ONLY}\n");
  EXPECT_EQ(mesh.names(ResourceType::kListener, "client.default"),
            (std::vector<std::string>{"virtual", "virtualInbound"}));
  Listener l = mesh.listener("client.default", "virtualInbound");
  EXPECT_EQ(l.address().socket_address().port_value(), 15006u);
  EXPECT_TRUE(l.use_original_dst().value());
  EXPECT_EQ(l.traffic_direction(), envoy::config::core::v3::INBOUND);
  EXPECT_EQ(l.filter_chains(0).filter_chain_match().destination_port().value(), 15006u);
  // Who may call the pod is not the outbound policy's business.
  EXPECT_EQ(filterConfig<TcpProxy>(l.filter_chains(1).filters(0)).cluster(), "PassthroughCluster");
}

TEST(PilotTranslate, InboundHttpPortGetsTheSeedsListenerAndCluster) {
  Mesh mesh(service("web", "10.96.0.5", "[{name: http, port: 80, targetPort: 8080}]") +
            pod("web-1", "web", "v1", "10.244.0.5"));
  Listener l = mesh.listener("web-1.default", "10.244.0.5_8080");
  EXPECT_EQ(l.address().socket_address().address(), "10.244.0.5");
  EXPECT_EQ(l.address().socket_address().port_value(), 8080u);
  EXPECT_FALSE(l.bind_to_port().value());
  EXPECT_EQ(l.traffic_direction(), envoy::config::core::v3::INBOUND);
  ASSERT_EQ(l.filter_chains_size(), 1);
  EXPECT_EQ(l.filter_chains(0).filter_chain_match().transport_protocol(), "raw_buffer");
  auto hcm = filterConfig<HttpConnectionManager>(l.filter_chains(0).filters(0));
  const RouteConfiguration& rc = hcm.route_config();
  EXPECT_EQ(rc.name(), "inbound|80||web.default.svc.cluster.local");
  EXPECT_FALSE(rc.validate_clusters().value());
  ASSERT_EQ(rc.virtual_hosts_size(), 1);
  EXPECT_EQ(rc.virtual_hosts(0).name(), "inbound|http|80");
  EXPECT_EQ(rc.virtual_hosts(0).domains(0), "*");
  const Route& r = rc.virtual_hosts(0).routes(0);
  EXPECT_EQ(r.match().prefix(), "/");
  EXPECT_EQ(r.route().cluster(), "inbound|80||web.default.svc.cluster.local");
  EXPECT_EQ(r.route().timeout().seconds(), 0);
  EXPECT_TRUE(r.route().has_max_grpc_timeout());

  Cluster c = mesh.cluster("web-1.default", "inbound|80||web.default.svc.cluster.local");
  EXPECT_EQ(c.type(), Cluster::STATIC);
  EXPECT_EQ(c.connect_timeout().seconds(), 1);
  const auto& ep =
      c.load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(ep.address(), "127.0.0.1");
  EXPECT_EQ(ep.port_value(), 8080u);
}

TEST(PilotTranslate, InboundTcpPortGetsTcpProxy) {
  Mesh mesh(service("db", "10.96.0.6", "[{name: tcp-db, port: 5432}]") +
            pod("db-0", "db", "v1", "10.244.0.6"));
  Listener l = mesh.listener("db-0.default", "10.244.0.6_5432");
  EXPECT_EQ(filterConfig<TcpProxy>(l.filter_chains(0).filters(0)).cluster(),
            "inbound|5432||db.default.svc.cluster.local");
}

TEST(PilotTranslate, OutboundListenersPerProtocol) {
  Mesh mesh(
      kClient + kReviews +
      service("db", "10.96.0.6",
              "[{name: tcp-db, port: 5432}, {name: dns, port: 53, protocol: UDP}]") +
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: headless}\nspec:\n  clusterIP: None\n"
      "  ports: [{name: tcp, port: 6379}]\n");
  EXPECT_EQ(
      mesh.names(ResourceType::kListener, "client.default"),
      (std::vector<std::string>{"0.0.0.0_6379", "0.0.0.0_9080", "10.96.0.6_5432", "virtual"}));
  Listener http = mesh.listener("client.default", "0.0.0.0_9080");
  EXPECT_FALSE(http.bind_to_port().value());
  EXPECT_EQ(http.traffic_direction(), envoy::config::core::v3::OUTBOUND);
  auto hcm = filterConfig<HttpConnectionManager>(http.filter_chains(0).filters(0));
  EXPECT_EQ(hcm.rds().route_config_name(), "9080");
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  EXPECT_EQ(hcm.http_filters(0).name(), "envoy.filters.http.router");
  Listener tcp = mesh.listener("client.default", "10.96.0.6_5432");
  EXPECT_EQ(filterConfig<TcpProxy>(tcp.filter_chains(0).filters(0)).cluster(),
            "outbound|5432||db.default.svc.cluster.local");
  // A TCP service without a VIP can only be told by its port.
  Listener headless = mesh.listener("client.default", "0.0.0.0_6379");
  EXPECT_EQ(headless.address().socket_address().address(), "0.0.0.0");
}

TEST(PilotTranslate, TcpRouteWeightsSplitConnections) {
  Mesh mesh(
      kClient + service("db", "10.96.0.6", "[{name: tcp-db, port: 5432}]") +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: db}\n"
      "spec:\n  hosts: [db]\n  tcp:\n  - match: [{port: 5432}]\n    route:\n"
      "    - {destination: {host: db, subset: primary}, weight: 90}\n"
      "    - {destination: {host: db, subset: replica}, weight: 10}\n");
  auto tcp = filterConfig<TcpProxy>(
      mesh.listener("client.default", "10.96.0.6_5432").filter_chains(0).filters(0));
  ASSERT_EQ(tcp.weighted_clusters().clusters_size(), 2);
  EXPECT_EQ(tcp.weighted_clusters().clusters(0).name(),
            "outbound|5432|primary|db.default.svc.cluster.local");
  EXPECT_EQ(tcp.weighted_clusters().clusters(0).weight(), 90u);
  EXPECT_EQ(tcp.weighted_clusters().clusters(1).weight(), 10u);
}

// ---- RDS ----

TEST(PilotTranslate, RouteConfigPerPortEndsWithTheCatchAll) {
  Mesh open(kClient + kReviews);
  RouteConfiguration rc = open.routes("client.default", "9080");
  EXPECT_FALSE(rc.validate_clusters().value());
  ASSERT_EQ(rc.virtual_hosts_size(), 2);
  EXPECT_EQ(rc.virtual_hosts(0).name(), kReviewsFqdn + ":9080");
  const VirtualHost& any = rc.virtual_hosts(1);
  EXPECT_EQ(any.name(), "allow_any");
  EXPECT_EQ(any.domains(0), "*");
  EXPECT_EQ(any.routes(0).route().cluster(), "PassthroughCluster");

  Mesh closed(kClient + kReviews + kMeshRegistryOnly);
  const VirtualHost block = closed.routes("client.default", "9080").virtual_hosts(1);
  EXPECT_EQ(block.name(), "block_all");
  EXPECT_EQ(block.routes(0).direct_response().status(), 502u);
}

TEST(PilotTranslate, DefaultRouteIsTheSeeds) {
  Mesh mesh(kClient + kReviews);
  VirtualHost vh = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080");
  ASSERT_EQ(vh.routes_size(), 1);
  const Route& r = vh.routes(0);
  EXPECT_EQ(r.match().prefix(), "/");
  EXPECT_EQ(r.route().cluster(), "outbound|9080||" + kReviewsFqdn);
  EXPECT_TRUE(r.route().has_timeout());
  EXPECT_EQ(r.route().timeout().seconds() + r.route().timeout().nanos(), 0);
  EXPECT_TRUE(r.route().has_max_grpc_timeout());
  EXPECT_EQ(r.decorator().operation(), kReviewsFqdn + ":9080/*");
  EXPECT_FALSE(r.route().has_retry_policy());
}

TEST(PilotTranslate, DomainsAlreadyTakenByAnEarlierVirtualHostAreDropped) {
  // A ServiceEntry host that is also a short form of a Kubernetes service:
  // it sorts first and keeps the domain, so Envoy never sees it twice.
  Mesh mesh(kClient + kReviews +
            "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
            "alias}\nspec:\n"
            "  hosts: [reviews.default]\n  ports: [{number: 9080, name: http, protocol: HTTP}]\n  "
            "resolution: NONE\n");
  RouteConfiguration rc = mesh.routes("client.default", "9080");
  ASSERT_EQ(rc.virtual_hosts(0).name(), "reviews.default:9080");
  ASSERT_EQ(rc.virtual_hosts(1).name(), kReviewsFqdn + ":9080");
  std::vector<std::string> domains(rc.virtual_hosts(1).domains().begin(),
                                   rc.virtual_hosts(1).domains().end());
  EXPECT_EQ(std::count(domains.begin(), domains.end(), "reviews.default"), 0);
  EXPECT_EQ(std::count(domains.begin(), domains.end(), "reviews"), 1);
}

TEST(PilotTranslate, EveryMatchConditionBecomesAnEnvoyMatcher) {
  Mesh mesh(kClient + kReviews + kSubsets + reviewsVs(R"(  - name: beta
    match:
    - name: jason
      uri: {exact: /reviews/1}
      method: {exact: GET}
      authority: {prefix: reviews}
      headers: {end-user: {exact: jason}, x-id: {regex: "[0-9]+"}}
      withoutHeaders: {x-canary: {exact: "no"}}
      queryParams: {debug: {exact: "1"}}
      ignoreUriCase: true
    - uri: {regex: "/r/[0-9]+"}
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)"));
  VirtualHost vh = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080");
  ASSERT_EQ(vh.routes_size(), 3);  // one per match block, then the fallback rule
  const Route& a = vh.routes(0);
  EXPECT_EQ(a.name(), "beta.jason");
  EXPECT_EQ(a.match().path(), "/reviews/1");
  EXPECT_FALSE(a.match().case_sensitive().value());
  std::vector<std::string> headers;
  for (const auto& h : a.match().headers()) {
    headers.push_back(h.name() + (h.invert_match() ? "!=" : "=") +
                      h.string_match().ShortDebugString());
  }
  EXPECT_EQ(headers, (std::vector<std::string>{
                         ":method=exact: \"GET\"", ":authority=prefix: \"reviews\"",
                         "end-user=exact: \"jason\"", "x-id=safe_regex { regex: \"[0-9]+\" }",
                         "x-canary!=exact: \"no\""}));
  ASSERT_EQ(a.match().query_parameters_size(), 1);
  EXPECT_EQ(a.match().query_parameters(0).name(), "debug");
  EXPECT_EQ(a.match().query_parameters(0).string_match().exact(), "1");
  EXPECT_EQ(a.decorator().operation(), kReviewsFqdn + ":9080/reviews/1");
  EXPECT_EQ(a.metadata().filter_metadata().at("istio").fields().at("config").string_value(),
            "/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews");
  const Route& b = vh.routes(1);
  EXPECT_EQ(b.match().safe_regex().regex(), "/r/[0-9]+");
  EXPECT_EQ(b.route().cluster(), "outbound|9080|v2|" + kReviewsFqdn);
  EXPECT_EQ(vh.routes(2).match().prefix(), "/");
  EXPECT_EQ(vh.routes(2).route().cluster(), "outbound|9080|v1|" + kReviewsFqdn);
}

TEST(PilotTranslate, RulesAfterACatchAllAreUnreachableAndLeftOut) {
  Mesh mesh(kClient + kReviews + kSubsets + reviewsVs(R"(  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v2}}]
)"));
  // A prefix "/" match still matches something specific; an empty match block
  // or no match at all is what ends the list.
  EXPECT_EQ(mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080").routes_size(), 2);
  Mesh stops(kClient + kReviews + kSubsets +
             reviewsVs(R"(  - route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v2}}]
)"));
  EXPECT_EQ(stops.vhost("client.default", "9080", kReviewsFqdn + ":9080").routes_size(), 1);
}

TEST(PilotTranslate, SourceLabelsAndNamespaceAreMatchedPerProxy) {
  Mesh mesh(kClient + pod("canary-client", "client", "canary", "10.244.0.10") +
            pod("prod-client", "client", "v1", "10.244.1.10", "prod") + kReviews + kSubsets +
            reviewsVs(R"(  - match: [{sourceLabels: {version: canary}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{sourceNamespace: prod}]
    route: [{destination: {host: reviews.default.svc.cluster.local, subset: v2}, weight: 50}, {destination: {host: reviews, subset: v1}, weight: 50}]
  - route: [{destination: {host: reviews, subset: v1}}]
)"));
  auto first = [&](const std::string& proxy) {
    const Route r = mesh.vhost(proxy, "9080", kReviewsFqdn + ":9080").routes(0);
    return r.route().has_weighted_clusters() ? std::string("weighted") : r.route().cluster();
  };
  EXPECT_EQ(first("canary-client.default"), "outbound|9080|v2|" + kReviewsFqdn);
  EXPECT_EQ(first("client.default"), "outbound|9080|v1|" + kReviewsFqdn);
  EXPECT_EQ(first("prod-client.prod"), "weighted");
}

TEST(PilotTranslate, PortMatchLimitsARuleToOnePort) {
  Mesh mesh(
      kClient +
      service("api", "10.96.0.7", "[{name: http, port: 80}, {name: http-admin, port: 8080}]") +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: api}\n"
      "spec:\n  hosts: [api]\n  http:\n  - match: [{port: 8080}]\n    directResponse: {status: "
      "403}\n");
  EXPECT_EQ(mesh.vhost("client.default", "8080", "api.default.svc.cluster.local:8080")
                .routes(0)
                .direct_response()
                .status(),
            403u);
  // Port 80 keeps the default route: a destination without a port on a
  // multi-port service takes the port of the listener.
  EXPECT_EQ(mesh.vhost("client.default", "80", "api.default.svc.cluster.local:80")
                .routes(0)
                .route()
                .cluster(),
            "outbound|80||api.default.svc.cluster.local");
}

TEST(PilotTranslate, WeightedDestinations) {
  Mesh mesh(kClient + kReviews + kSubsets + reviewsVs(R"(  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
      headers: {request: {set: {x-version: v1}}}
    - destination: {host: reviews, subset: v2}
      weight: 20
    - destination: {host: reviews, subset: v3}
      weight: 0
)"));
  const Route r = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080").routes(0);
  const auto& wc = r.route().weighted_clusters();
  ASSERT_EQ(wc.clusters_size(), 2);  // a weight of 0 gets no traffic and no entry
  EXPECT_EQ(wc.clusters(0).name(), "outbound|9080|v1|" + kReviewsFqdn);
  EXPECT_EQ(wc.clusters(0).weight().value(), 80u);
  EXPECT_EQ(wc.clusters(0).request_headers_to_add(0).header().key(), "x-version");
  EXPECT_EQ(wc.clusters(1).name(), "outbound|9080|v2|" + kReviewsFqdn);
  EXPECT_EQ(wc.clusters(1).weight().value(), 20u);
}

TEST(PilotTranslate, RewriteTimeoutRetriesAndHeaders) {
  Mesh mesh(kClient + kReviews + reviewsVs(R"(  - route: [{destination: {host: reviews}}]
    rewrite: {uri: /v2/, authority: reviews-v2.internal}
    timeout: 2.5s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "gateway-error,503,504"}
    headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {set: {x-d: "4"}, remove: [server]}
)"));
  const Route r = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080").routes(0);
  EXPECT_EQ(r.route().prefix_rewrite(), "/v2/");
  EXPECT_EQ(r.route().host_rewrite_literal(), "reviews-v2.internal");
  EXPECT_EQ(r.route().timeout().seconds(), 2);
  EXPECT_EQ(r.route().timeout().nanos(), 500000000);
  EXPECT_EQ(r.route().max_grpc_timeout().seconds(), 2);
  const auto& retry = r.route().retry_policy();
  EXPECT_EQ(retry.num_retries().value(), 3u);
  EXPECT_EQ(retry.retry_on(), "gateway-error,retriable-status-codes");
  EXPECT_EQ(std::vector<uint32_t>(retry.retriable_status_codes().begin(),
                                  retry.retriable_status_codes().end()),
            (std::vector<uint32_t>{503, 504}));
  EXPECT_EQ(retry.per_try_timeout().nanos(), 500000000);
  ASSERT_EQ(r.request_headers_to_add_size(), 2);
  EXPECT_EQ(r.request_headers_to_add(0).header().key(), "x-a");
  EXPECT_EQ(r.request_headers_to_add(0).append_action(),
            envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  EXPECT_EQ(r.request_headers_to_add(1).header().key(), "x-b");
  EXPECT_EQ(r.request_headers_to_add(1).append_action(),
            envoy::config::core::v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  EXPECT_EQ(r.request_headers_to_remove(0), "x-c");
  EXPECT_EQ(r.response_headers_to_add(0).header().key(), "x-d");
  EXPECT_EQ(r.response_headers_to_remove(0), "server");
}

TEST(PilotTranslate, RetriesWithoutConditionsUseIstiosDefaultsAndZeroAttemptsNone) {
  Mesh mesh(kClient + kReviews + kSubsets + reviewsVs(R"(  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: reviews}}]
    retries: {attempts: 2}
  - route: [{destination: {host: reviews}}]
    retries: {attempts: 0}
)"));
  VirtualHost vh = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080");
  EXPECT_EQ(vh.routes(0).route().retry_policy().retry_on(),
            "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  EXPECT_EQ(vh.routes(0).route().retry_policy().retriable_status_codes(0), 503u);
  EXPECT_FALSE(vh.routes(1).route().has_retry_policy());
}

TEST(PilotTranslate, RedirectsAndDirectResponses) {
  Mesh mesh(kClient + kReviews + reviewsVs(R"(  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: reviews.example.com, port: 8443, scheme: https, redirectCode: 302}
  - match: [{uri: {exact: /gone}}]
    redirect: {uri: /new}
  - directResponse: {status: 503, body: {string: down for maintenance}}
)"));
  VirtualHost vh = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080");
  const auto& rd = vh.routes(0).redirect();
  EXPECT_EQ(rd.path_redirect(), "/new");
  EXPECT_EQ(rd.host_redirect(), "reviews.example.com");
  EXPECT_EQ(rd.port_redirect(), 8443u);
  EXPECT_EQ(rd.scheme_redirect(), "https");
  EXPECT_EQ(rd.response_code(), envoy::config::route::v3::RedirectAction::FOUND);
  EXPECT_EQ(vh.routes(1).redirect().response_code(),
            envoy::config::route::v3::RedirectAction::MOVED_PERMANENTLY);
  EXPECT_EQ(vh.routes(2).direct_response().status(), 503u);
  EXPECT_EQ(vh.routes(2).direct_response().body().inline_string(), "down for maintenance");
}

// VirtualService routes are written straight in wire format: every shape
// a rule can take must come out as protobuf's own serialization of the
// same message (field order, defaults, packed numbers, oneof members).
TEST(PilotTranslate, EveryRouteShapeIsWrittenAsProtobufWritesIt) {
  Mesh mesh(kClient + kReviews + kSubsets + reviewsVs(R"(  - name: beta
    match:
    - name: jason
      uri: {prefix: /reviews/}
      method: {exact: GET}
      authority: {prefix: reviews}
      scheme: {exact: http}
      headers: {end-user: {exact: ""}, x-id: {regex: "[0-9]+"}}
      withoutHeaders: {x-canary: {prefix: "no"}}
      queryParams: {debug: {exact: "1"}, v: {regex: "[a-z]"}}
      ignoreUriCase: true
    - uri: {regex: "/r/[0-9]+"}
      headers: {x-a: {exact: b}}
    route:
    - destination: {host: reviews, subset: v2}
      weight: 70
      headers: {request: {set: {x-w: "1"}, remove: [x-r]}, response: {add: {x-s: "2"}, remove: [x-t]}}
    - destination: {host: reviews, subset: v1}
      weight: 30
    - destination: {host: reviews, subset: v3}
      weight: 0
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,503,504"}
    headers: {request: {add: {x-q: v}}, response: {set: {x-p: ""}, remove: [server]}}
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: reviews.example.com, port: 8443, scheme: https, redirectCode: 308}
  - match: [{uri: {exact: /gone}}]
    redirect: {authority: elsewhere}
  - match: [{uri: {exact: /down}}]
    directResponse: {status: 503, body: {string: down for maintenance}}
  - match: [{uri: {exact: /empty}}]
    directResponse: {status: 204}
  - match: [{uri: {prefix: /retry}}]
    route: [{destination: {host: reviews}, headers: {request: {set: {x-one: "1"}}}}]
    rewrite: {uri: /v2/, authority: reviews-v2.internal}
    retries: {attempts: 2}
    headers: {request: {set: {x-two: "2"}, remove: [x-three]}}
  - route: [{destination: {host: reviews, subset: v1}}]
)"));
  size_t routes = 0;
  for (const auto& r :
       mesh.generator().generate(ResourceType::kRoute, mesh.proxy("client.default"))) {
    ASSERT_NE(r.encoded(), nullptr) << r.name();
    EXPECT_EQ(deterministicBytes(r.message()), std::string(r.encoded()->bytes())) << r.name();
    for (const auto& vh : static_cast<const RouteConfiguration&>(r.message()).virtual_hosts())
      routes += static_cast<size_t>(vh.routes_size());
  }
  EXPECT_EQ(routes, 8u + 1u);  // the rules' routes, then allow_any
}

TEST(PilotTranslate, DestinationPortsFollowIstiosRules) {
  Mesh mesh(kClient + kReviews +
            service("api", "10.96.0.7", "[{name: http, port: 80}, {name: http-alt, port: 8080}]") +
            reviewsVs(R"(  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: api}}]
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: api, port: {number: 8080}}}]
  - route: [{destination: {host: reviews}}]
)"));
  VirtualHost vh = mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080");
  // No port on a multi-port service: the listener's port.
  EXPECT_EQ(vh.routes(0).route().cluster(), "outbound|9080||api.default.svc.cluster.local");
  EXPECT_EQ(vh.routes(1).route().cluster(), "outbound|8080||api.default.svc.cluster.local");
  EXPECT_EQ(vh.routes(2).route().cluster(), "outbound|9080||" + kReviewsFqdn);
}

TEST(PilotTranslate, RouteToAnUndefinedSubsetIsStillEmitted) {
  Mesh mesh(kClient + kReviews +
            reviewsVs("  - route: [{destination: {host: reviews, subset: v1}}]\n"));
  EXPECT_EQ(
      mesh.vhost("client.default", "9080", kReviewsFqdn + ":9080").routes(0).route().cluster(),
      "outbound|9080|v1|" + kReviewsFqdn);
  auto clusters = mesh.names(ResourceType::kCluster, "client.default");
  EXPECT_EQ(std::count(clusters.begin(), clusters.end(), "outbound|9080|v1|" + kReviewsFqdn), 0);
  ASSERT_EQ(mesh.snapshot().warnings().size(), 1u);
}

// ---- CDS / EDS ----

TEST(PilotTranslate, ClustersPerPortAndSubset) {
  Mesh mesh(kClient + kReviews + kSubsets);
  EXPECT_EQ(mesh.names(ResourceType::kCluster, "client.default"),
            (std::vector<std::string>{
                "BlackHoleCluster", "PassthroughCluster", "outbound|9080|v1|" + kReviewsFqdn,
                "outbound|9080|v2|" + kReviewsFqdn, "outbound|9080||" + kReviewsFqdn}));
  Cluster c = mesh.cluster("client.default", "outbound|9080|v1|" + kReviewsFqdn);
  EXPECT_EQ(c.type(), Cluster::EDS);
  EXPECT_TRUE(c.eds_cluster_config().eds_config().has_ads());
  EXPECT_EQ(c.eds_cluster_config().service_name(), c.name());
  EXPECT_EQ(c.circuit_breakers().thresholds_size(), 1);
  EXPECT_EQ(c.metadata().filter_metadata().at("istio").fields().at("config").string_value(),
            "/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews");
  EXPECT_EQ(mesh.cluster("client.default", "BlackHoleCluster").type(), Cluster::STATIC);
  Cluster pass = mesh.cluster("client.default", "PassthroughCluster");
  EXPECT_EQ(pass.type(), Cluster::ORIGINAL_DST);
  EXPECT_EQ(pass.lb_policy(), Cluster::CLUSTER_PROVIDED);
}

TEST(PilotTranslate, TrafficPolicyWithSubsetOverrides) {
  Mesh mesh(
      kClient + kReviews +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: "
      "reviews}\n"
      "spec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: LEAST_REQUEST}\n"
      "    connectionPool:\n      tcp: {maxConnections: 100, connectTimeout: 3s}\n"
      "      http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 5, idleTimeout: 60s}\n"
      "  subsets:\n  - name: v1\n    labels: {version: v1}\n    trafficPolicy:\n"
      "      loadBalancer: {simple: RANDOM}\n      connectionPool: {tcp: {maxConnections: 1}}\n"
      "  - {name: v2, labels: {version: v2}}\n");
  Cluster top = mesh.cluster("client.default", "outbound|9080||" + kReviewsFqdn);
  EXPECT_EQ(top.lb_policy(), Cluster::LEAST_REQUEST);
  EXPECT_EQ(top.connect_timeout().seconds(), 3);
  EXPECT_EQ(top.circuit_breakers().thresholds(0).max_connections().value(), 100u);
  EXPECT_EQ(top.circuit_breakers().thresholds(0).max_pending_requests().value(), 10u);
  EXPECT_EQ(top.common_http_protocol_options().max_requests_per_connection().value(), 5u);
  EXPECT_EQ(top.common_http_protocol_options().idle_timeout().seconds(), 60);
  Cluster v1 = mesh.cluster("client.default", "outbound|9080|v1|" + kReviewsFqdn);
  EXPECT_EQ(v1.lb_policy(), Cluster::RANDOM);
  EXPECT_EQ(v1.circuit_breakers().thresholds(0).max_connections().value(), 1u);
  EXPECT_EQ(v1.circuit_breakers().thresholds(0).max_pending_requests().value(), 10u);  // inherited
  Cluster v2 = mesh.cluster("client.default", "outbound|9080|v2|" + kReviewsFqdn);
  EXPECT_EQ(v2.lb_policy(), Cluster::LEAST_REQUEST);
}

TEST(PilotTranslate, WithoutDestinationRuleClustersKeepEnvoysDefaults) {
  Mesh mesh(kClient + kReviews);
  Cluster c = mesh.cluster("client.default", "outbound|9080||" + kReviewsFqdn);
  EXPECT_EQ(c.lb_policy(), Cluster::ROUND_ROBIN);
  EXPECT_FALSE(c.circuit_breakers().thresholds(0).has_max_connections());
  EXPECT_FALSE(c.has_metadata());
}

TEST(PilotTranslate, EndpointsCarryUidLocalityAndWeights) {
  Mesh mesh(kClient + kReviews + kSubsets);
  ClusterLoadAssignment all = mesh.endpoints("client.default", "outbound|9080||" + kReviewsFqdn);
  ASSERT_EQ(all.endpoints_size(), 1);
  const auto& group = all.endpoints(0);
  EXPECT_TRUE(group.has_locality());
  EXPECT_EQ(group.load_balancing_weight().value(), 3u);  // gRPC clients ignore groups without one
  ASSERT_EQ(group.lb_endpoints_size(), 3);
  const auto& first = group.lb_endpoints(0);
  EXPECT_EQ(first.endpoint().address().socket_address().address(), "10.244.0.21");
  EXPECT_EQ(first.endpoint().address().socket_address().port_value(), 9080u);
  EXPECT_EQ(first.metadata().filter_metadata().at("istio").fields().at("uid").string_value(),
            "kubernetes://reviews-v1.default");
  EXPECT_EQ(first.load_balancing_weight().value(), 1u);

  ClusterLoadAssignment v2 = mesh.endpoints("client.default", "outbound|9080|v2|" + kReviewsFqdn);
  ASSERT_EQ(v2.endpoints(0).lb_endpoints_size(), 1);
  EXPECT_EQ(v2.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(),
            "10.244.0.22");
}

TEST(PilotTranslate, ServiceEntryEndpointsByLocalityAndSubsetLabels) {
  Mesh mesh(
      kClient +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "ext}\nspec:\n"
      "  hosts: [api.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  "
      "resolution: STATIC\n"
      "  endpoints:\n  - {address: 192.168.0.1, locality: us/east/a, labels: {tier: gold}, weight: "
      "4}\n"
      "  - {address: 192.168.0.2, locality: us/east/a, labels: {tier: gold}}\n"
      "  - {address: 192.168.0.3, locality: eu, labels: {tier: bronze}}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: ext}\n"
      "spec:\n  host: api.example.com\n  subsets: [{name: gold, labels: {tier: gold}}]\n");
  ClusterLoadAssignment all = mesh.endpoints("client.default", "outbound|443||api.example.com");
  ASSERT_EQ(all.endpoints_size(), 2);
  EXPECT_EQ(all.endpoints(0).locality().region(), "eu");
  EXPECT_EQ(all.endpoints(1).locality().region(), "us");
  EXPECT_EQ(all.endpoints(1).locality().zone(), "east");
  EXPECT_EQ(all.endpoints(1).locality().sub_zone(), "a");
  EXPECT_EQ(all.endpoints(1).load_balancing_weight().value(), 5u);
  EXPECT_FALSE(all.endpoints(1).lb_endpoints(0).has_metadata());  // no pod, no uid
  ClusterLoadAssignment gold =
      mesh.endpoints("client.default", "outbound|443|gold|api.example.com");
  ASSERT_EQ(gold.endpoints_size(), 1);
  EXPECT_EQ(gold.endpoints(0).lb_endpoints_size(), 2);
  EXPECT_EQ(mesh.names(ResourceType::kListener, "client.default"),
            (std::vector<std::string>{"0.0.0.0_443", "virtual"}));
}

TEST(PilotTranslate, PassthroughServiceEntryIsOriginalDstWithoutEndpoints) {
  Mesh mesh(kClient +
            "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
            "ext}\nspec:\n"
            "  hosts: [api.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  "
            "resolution: NONE\n");
  Cluster c = mesh.cluster("client.default", "outbound|443||api.example.com");
  EXPECT_EQ(c.type(), Cluster::ORIGINAL_DST);
  EXPECT_EQ(c.lb_policy(), Cluster::CLUSTER_PROVIDED);
  EXPECT_TRUE(mesh.names(ResourceType::kEndpoint, "client.default").empty());
}

TEST(PilotTranslate, EndpointsForNamesOutsideTheProxysClusters) {
  Mesh mesh(kClient + kReviews + kSubsets);
  ProxyNode client = mesh.proxy("client.default");
  auto list = mesh.generator().generate(
      ResourceType::kEndpoint, client,
      {"outbound|9080|v9|" + kReviewsFqdn, "outbound|9080|v1|" + kReviewsFqdn,
       "outbound|1||nowhere.example.com"});
  ASSERT_EQ(list.size(), 3u);  // sorted by name, one answer per name asked
  EXPECT_EQ(list[0].name(), "outbound|1||nowhere.example.com");
  EXPECT_EQ(static_cast<const ClusterLoadAssignment&>(list[0].message()).endpoints_size(), 0);
  EXPECT_EQ(list[1].name(), "outbound|9080|v1|" + kReviewsFqdn);
  EXPECT_EQ(static_cast<const ClusterLoadAssignment&>(list[1].message()).endpoints_size(), 1);
  EXPECT_EQ(list[2].name(), "outbound|9080|v9|" + kReviewsFqdn);
  EXPECT_EQ(static_cast<const ClusterLoadAssignment&>(list[2].message()).endpoints_size(), 0);
}

TEST(PilotTranslate, EdsClusterNamesAreTheEdsClustersOfCds) {
  Mesh mesh(kClient + kReviews + kSubsets);
  ProxyNode client = mesh.proxy("client.default");
  std::vector<std::string> eds;
  for (const auto& r : mesh.generator().generate(ResourceType::kCluster, client)) {
    if (static_cast<const Cluster&>(r.message()).type() == Cluster::EDS) eds.emplace_back(r.name());
  }
  EXPECT_EQ(mesh.generator().edsClusterNames(client), eds);
  EXPECT_EQ(mesh.names(ResourceType::kEndpoint, "client.default"), eds);
}

// ---- sharing and visibility ----

TEST(PilotTranslate, ProxiesOfOneNamespaceShareTheirOutboundResources) {
  Mesh mesh(kClient + kReviews + kSubsets);
  auto a = mesh.generator().generate(ResourceType::kCluster, mesh.proxy("client.default"));
  auto b = mesh.generator().generate(ResourceType::kCluster, mesh.proxy("reviews-v2.default"));
  const Resource* shared_a = nullptr;
  const Resource* shared_b = nullptr;
  for (const auto& r : a) {
    if (r.name() == "outbound|9080|v1|" + kReviewsFqdn) shared_a = &r;
  }
  for (const auto& r : b) {
    if (r.name() == "outbound|9080|v1|" + kReviewsFqdn) shared_b = &r;
  }
  ASSERT_TRUE(shared_a && shared_b);
  EXPECT_EQ(&shared_a->message(), &shared_b->message());
  // ... but not their inbound side.
  EXPECT_EQ(b.size(), a.size() + 1);
}

TEST(PilotTranslate, ExportToHidesServicesFromOtherNamespaces) {
  Mesh mesh(kClient + pod("other", "client", "v1", "10.244.1.9", "prod") +
            "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
            "ext}\nspec:\n"
            "  hosts: [api.example.com]\n  exportTo: [\".\"]\n  ports: [{number: 80, name: http, "
            "protocol: HTTP}]\n");
  EXPECT_EQ(mesh.names(ResourceType::kRoute, "client.default"), std::vector<std::string>{"80"});
  EXPECT_TRUE(mesh.names(ResourceType::kRoute, "other.prod").empty());
  EXPECT_EQ(mesh.generator().proxiesSeeing("api.example.com"),
            std::vector<std::string>{"client.default"});
}

// ---- reuse across snapshots ----

std::shared_ptr<const MeshSnapshot> snapshotOf(const std::string& text) {
  ConfigSet set;
  addConfigText("mesh.yaml", text, &set);
  finishConfigSet(&set);
  return MeshSnapshot::build(std::move(set));
}

// Every type for every proxy, as the bytes a push sends.
std::vector<std::string> everything(const ConfigGenerator& g) {
  std::vector<std::string> out;
  for (const auto& id : g.snapshot().proxyIds()) {
    for (auto type : {ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster,
                      ResourceType::kEndpoint}) {
      for (const auto& r : g.generate(type, *g.snapshot().findProxy(id)))
        out.push_back(id + " " + std::string(r.name()) + " " + deterministicBytes(r.message()));
    }
  }
  return out;
}

const google::protobuf::Message* message(const ConfigGenerator& g, ResourceType type,
                                         const std::string& proxy_id, const std::string& name) {
  for (const auto& r : g.generate(type, *g.snapshot().findProxy(proxy_id))) {
    if (r.name() == name) return &r.message();
  }
  return nullptr;
}

const std::string kRatings = service("ratings", "10.96.0.15", "[{name: http, port: 9080}]") +
                             pod("ratings-v1", "ratings", "v1", "10.244.0.31");
const std::string kDb = service("db", "10.96.0.16", "[{name: tcp, port: 3306}]") +
                        pod("db-0", "db", "v1", "10.244.0.41");
const std::string kProd = service("shop", "10.96.1.10", "[{name: http, port: 9080}]", "prod") +
                          pod("shop-0", "shop", "v1", "10.244.1.10", "prod");
const std::string kBase = kClient + kReviews + kSubsets + kRatings + kDb + kProd;
const std::string kVs80 = reviewsVs(
    "  - route:\n    - {destination: {host: reviews, subset: v1}, weight: 80}\n"
    "    - {destination: {host: reviews, subset: v2}, weight: 20}\n");
const std::string kVs70 = reviewsVs(
    "  - route:\n    - {destination: {host: reviews, subset: v1}, weight: 70}\n"
    "    - {destination: {host: reviews, subset: v2}, weight: 30}\n");

// The output of a generator built with the previous one equals a fresh
// generator's, byte for byte, for every proxy and type.
void expectSameAsFresh(const std::string& before, const std::string& after) {
  auto previous = std::make_unique<ConfigGenerator>(snapshotOf(before));
  everything(*previous);
  ConfigGenerator next(snapshotOf(after), previous.get());
  previous.reset();  // what it hands over must outlive it
  ConfigGenerator fresh(next.snapshotPtr());
  EXPECT_EQ(everything(next), everything(fresh));
}

TEST(PilotTranslateReuse, OutputEqualsAFreshGeneratorsAfterEachKindOfChange) {
  // A VirtualService edit, a pod added, a subset changed, a service removed,
  // a rule added, a pod relabelled, a VIP changed, nothing changed.
  expectSameAsFresh(kBase + kVs80, kBase + kVs70);
  expectSameAsFresh(kBase + kVs80,
                    kBase + kVs80 + pod("reviews-v1b", "reviews", "v1", "10.244.0.24"));
  std::string subsets = kSubsets;
  subsets.replace(subsets.find("version: v2"), 11, "version: v3");
  expectSameAsFresh(kBase + kVs80, kClient + kReviews + subsets + kRatings + kDb + kProd + kVs80);
  expectSameAsFresh(kBase + kVs80, kClient + kReviews + kSubsets + kDb + kProd + kVs80);
  expectSameAsFresh(kBase, kBase + kVs80);
  std::string relabelled = kReviews;
  relabelled.replace(relabelled.find("version: v3"), 11, "version: v2");
  expectSameAsFresh(kBase, kClient + relabelled + kSubsets + kRatings + kDb + kProd);
  std::string moved = kDb;
  moved.replace(moved.find("10.96.0.16"), 10, "10.96.0.17");
  expectSameAsFresh(kBase, kClient + kReviews + kSubsets + kRatings + moved + kProd);
  expectSameAsFresh(kBase + kVs80, kBase + kVs80);
}

TEST(PilotTranslateReuse, OnlyWhatAChangeTouchesIsBuiltAgain) {
  const std::string ratings = "outbound|9080||ratings.default.svc.cluster.local";
  const std::string reviews = "outbound|9080|v1|" + kReviewsFqdn;
  auto previous = std::make_unique<ConfigGenerator>(snapshotOf(kBase + kVs80));
  everything(*previous);

  // Nothing changed: everything is taken over.
  ConfigGenerator same(snapshotOf(kBase + kVs80), previous.get());
  everything(same);
  EXPECT_GT(same.reuseStats().reused, 0u);
  EXPECT_EQ(same.reuseStats().built, 0u);

  // A pod added to reviews: its clusters and endpoints are new, ratings' are
  // the previous generator's very messages, and so are the route configs.
  ConfigGenerator pod_added(
      snapshotOf(kBase + kVs80 + pod("reviews-v1b", "reviews", "v1", "10.244.0.24")),
      previous.get());
  for (auto type : {ResourceType::kCluster, ResourceType::kEndpoint}) {
    EXPECT_EQ(message(pod_added, type, "client.default", ratings),
              message(*previous, type, "client.default", ratings));
    EXPECT_NE(message(pod_added, type, "client.default", reviews),
              message(*previous, type, "client.default", reviews));
  }
  EXPECT_EQ(message(pod_added, ResourceType::kRoute, "client.default", "9080"),
            message(*previous, ResourceType::kRoute, "client.default", "9080"));
  EXPECT_EQ(static_cast<const ClusterLoadAssignment*>(
                message(pod_added, ResourceType::kEndpoint, "client.default", reviews))
                ->endpoints(0)
                .lb_endpoints_size(),
            2);

  // The VirtualService edited: the route config is new, the clusters are not.
  ConfigGenerator vs_edited(snapshotOf(kBase + kVs70), previous.get());
  EXPECT_NE(message(vs_edited, ResourceType::kRoute, "client.default", "9080"),
            message(*previous, ResourceType::kRoute, "client.default", "9080"));
  EXPECT_EQ(message(vs_edited, ResourceType::kCluster, "client.default", reviews),
            message(*previous, ResourceType::kCluster, "client.default", reviews));
  // ... and the other namespace's listeners are the previous ones.
  EXPECT_EQ(message(vs_edited, ResourceType::kListener, "shop-0.prod", "10.96.0.16_3306"),
            message(*previous, ResourceType::kListener, "shop-0.prod", "10.96.0.16_3306"));
}

TEST(PilotTranslateReuse, ResourcesNotUsedForSomeSnapshotsAreDropped) {
  // Generators in which no proxy asks for anything: what the first one
  // built is offered up to the third generator after it, not to later ones
  // (it would pin its arena forever).
  auto first = std::make_unique<ConfigGenerator>(snapshotOf(kBase));
  everything(*first);
  auto g = std::move(first);
  for (int i = 0; i < 2; ++i)
    g = std::make_unique<ConfigGenerator>(snapshotOf(kBase), g.get());
  ConfigGenerator kept(snapshotOf(kBase), g.get());
  everything(kept);
  EXPECT_EQ(kept.reuseStats().built, 0u);
  auto h = std::make_unique<ConfigGenerator>(snapshotOf(kBase), g.get());
  h = std::make_unique<ConfigGenerator>(snapshotOf(kBase), h.get());
  ConfigGenerator dropped(snapshotOf(kBase), h.get());
  everything(dropped);
  EXPECT_EQ(dropped.reuseStats().reused, 0u);
}

// ---- the translate command ----

TEST(PilotTranslateCommand, PrintsOneTypeWhenAsked) {
  std::ostringstream out, err;
  int rc = runTranslate(test::sourceDir() + "/src/pilot/testdata/bookinfo", "",
                        "reviews-v1-76474f6fb7-pmglr.default", ResourceType::kRoute, out, err);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_NE(out.str().find("RoutesConfigDump"), std::string::npos);
  EXPECT_EQ(out.str().find("ClustersConfigDump"), std::string::npos);
  EXPECT_EQ(out.str().find("ListenersConfigDump"), std::string::npos);
}

TEST(PilotTranslateCommand, UnknownProxyIsAnError) {
  std::ostringstream out, err;
  int rc = runTranslate(test::sourceDir() + "/src/pilot/testdata/bookinfo", "",
                        "reviews-v9.default", std::nullopt, out, err);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("error: no pod \"reviews-v9.default\""), std::string::npos) << err.str();
}

TEST(PilotTranslateCommand, MeshConfigFileOverridesTheFolder) {
  char path[] = "/tmp/remora-mesh-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::ostringstream out, err;
  int rc = runTranslate(test::sourceDir() + "/src/pilot/testdata/bookinfo", path,
                        "productpage-v1-6b746f74dc-9stvs.default", ResourceType::kRoute, out, err);
  unlink(path);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.str().find("block_all"), std::string::npos);
  EXPECT_EQ(out.str().find("allow_any"), std::string::npos);
}

}  // namespace
}  // namespace remora::pilot
