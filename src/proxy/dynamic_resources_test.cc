#include "proxy/dynamic_resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/api_types.h"
#include "config/parse.h"
#include "xds/resource_types.h"

namespace remora::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kBootstrap = R"(
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    load_assignment:
      cluster_name: xds-grpc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 15010 } } }
dynamic_resources:
  ads_config:
    api_type: GRPC
    grpc_services: [{ envoy_grpc: { cluster_name: xds-grpc } }]
  cds_config: { ads: {} }
  lds_config: { ads: {} }
)";

template <typename T>
google::protobuf::Any resource(const std::string& yaml) {
  T message;
  Status s = config::parseYamlOrJson(yaml, &message, "test");
  EXPECT_TRUE(s.ok()) << s.message();
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

google::protobuf::Any edsCluster(const std::string& name) {
  return resource<envoy::config::cluster::v3::Cluster>("name: " + name +
                                                       "\ntype: EDS\n"
                                                       "eds_cluster_config: { eds_config: { ads: "
                                                       "{} } }\nconnect_timeout: 1s\n");
}

google::protobuf::Any assignment(const std::string& name, const std::string& ip) {
  return resource<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      "cluster_name: " + name +
      "\nendpoints:\n- lb_endpoints:\n  - endpoint: { address: { "
      "socket_address: { address: " +
      ip + ", port_value: 9080 } } }\n");
}

google::protobuf::Any httpListener(const std::string& name, int port, const std::string& rds) {
  return resource<envoy::config::listener::v3::Listener>(
      "name: " + name +
      "\naddress: { socket_address: { address: 0.0.0.0, port_value: " + std::to_string(port) +
      " } }\nbind_to_port: false\nfilter_chains:\n- filters:\n  - name: "
      "envoy.filters.network.http_connection_manager\n    typed_config:\n      \"@type\": "
      "type.googleapis.com/"
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n     "
      " stat_prefix: " +
      name + "\n      rds: { route_config_name: \"" + rds +
      "\", config_source: { ads: {} } }\n      http_filters:\n      - name: "
      "envoy.filters.http.router\n        typed_config: { \"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }\n");
}

google::protobuf::Any routeConfig(const std::string& name, const std::string& cluster,
                                  const std::string& prefix = "/") {
  return resource<envoy::config::route::v3::RouteConfiguration>(
      "name: \"" + name +
      "\"\nvirtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n  - "
      "match: { prefix: \"" +
      prefix + "\" }\n    route: { cluster: \"" + cluster + "\" }\n");
}

class DynamicResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::ensureApiTypesLinked();
    dispatcher_ = std::move(event::Dispatcher::create("main").value());
    envoy::config::bootstrap::v3::Bootstrap b;
    ASSERT_TRUE(config::parseYamlOrJson(kBootstrap, &b, "bootstrap").ok());
    auto settings = config::adsSettings(b);
    ASSERT_TRUE(settings.ok() && settings->has_value());
    auto initial = ConfigSnapshot::build(b, stats_);
    ASSERT_TRUE(initial.ok());
    dynamic_ = std::make_unique<DynamicResources>(
        *dispatcher_, **settings, *initial, stats_, nullptr,
        [this](ConfigSnapshotConstSharedPtr s) { published_.push_back(std::move(s)); },
        [this](const std::string& type, std::vector<std::string> names) {
          subscribed_[type] = std::move(names);
        });
  }

  Status apply(std::string_view type, const std::string& version,
               std::vector<google::protobuf::Any> resources) {
    return dynamic_->apply(std::string(type), version, resources);
  }

  const ConfigSnapshot& latest() { return *published_.back(); }

  StatsStore stats_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  std::unique_ptr<DynamicResources> dynamic_;
  std::vector<ConfigSnapshotConstSharedPtr> published_;
  std::map<std::string, std::vector<std::string>> subscribed_;
};

const std::string kEds(xds::kClusterLoadAssignmentType);
const std::string kRds(xds::kRouteConfigurationType);

TEST_F(DynamicResourcesTest, AnEdsClusterWarmsUntilItsEndpointsArrive) {
  EXPECT_FALSE(dynamic_->initialized());
  ASSERT_TRUE(apply(xds::kClusterType, "1", {edsCluster("outbound|9080||ratings")}).ok());
  EXPECT_THAT(subscribed_[kEds], ElementsAre("outbound|9080||ratings"));
  ASSERT_FALSE(published_.empty());
  EXPECT_EQ(latest().findCluster("outbound|9080||ratings"), nullptr) << "warming, not active";
  ASSERT_TRUE(apply(xds::kClusterLoadAssignmentType, "1",
                    {assignment("outbound|9080||ratings", "10.244.0.13")})
                  .ok());
  const auto* c = latest().findCluster("outbound|9080||ratings");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)->hosts()->hosts.size(), 1u);
  EXPECT_NE(latest().findCluster("xds-grpc"), nullptr) << "static clusters stay";
  EXPECT_FALSE(dynamic_->initialized()) << "no LDS yet";
  ASSERT_TRUE(apply(xds::kListenerType, "1", {}).ok());
  EXPECT_TRUE(dynamic_->initialized());
}

TEST_F(DynamicResourcesTest, AListenerWarmsUntilItsRouteConfigurationArrives) {
  ASSERT_TRUE(apply(xds::kClusterType, "1", {}).ok());
  ASSERT_TRUE(apply(xds::kListenerType, "1", {httpListener("0.0.0.0_9080", 9080, "9080")}).ok());
  EXPECT_THAT(subscribed_[kRds], ElementsAre("9080"));
  EXPECT_FALSE(dynamic_->initialized());
  EXPECT_TRUE(latest().listeners().empty());
  ASSERT_TRUE(apply(xds::kRouteConfigurationType, "1", {routeConfig("9080", "c")}).ok());
  ASSERT_EQ(latest().listeners().size(), 1u);
  const auto& l = *latest().listeners()[0];
  EXPECT_EQ(l.name, "0.0.0.0_9080");
  ASSERT_EQ(l.route_providers.size(), 1u);
  EXPECT_NE(l.route_providers[0]->current(), nullptr);
  EXPECT_TRUE(dynamic_->initialized());
}

TEST_F(DynamicResourcesTest, ABadRouteConfigurationIsRefusedAndTheOldOneKeepsServing) {
  ASSERT_TRUE(apply(xds::kListenerType, "1", {httpListener("0.0.0.0_9080", 9080, "9080")}).ok());
  ASSERT_TRUE(apply(xds::kRouteConfigurationType, "1", {routeConfig("9080", "good")}).ok());
  auto provider = latest().listeners()[0]->route_providers[0];
  auto before = provider->current();
  auto bad = resource<envoy::config::route::v3::RouteConfiguration>(
      "name: \"9080\"\nvirtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n  - match: { "
      "safe_regex: { regex: \"(\" } }\n    route: { cluster: x }\n");
  Status s = apply(xds::kRouteConfigurationType, "2", {routeConfig("other", "c"), bad});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("resources[1] (route configuration \"9080\")"));
  EXPECT_THAT(s.message(), HasSubstr("safe_regex"));
  EXPECT_EQ(provider->current(), before) << "all or nothing";
  auto dump = dynamic_->routesDump();
  ASSERT_EQ(dump.dynamic_route_configs_size(), 1);
  EXPECT_EQ(dump.dynamic_route_configs(0).version_info(), "1");
}

TEST_F(DynamicResourcesTest, ABadListenerNacksTheWholeResponse) {
  ASSERT_TRUE(apply(xds::kListenerType, "1", {httpListener("a", 9080, "9080")}).ok());
  size_t published = published_.size();
  auto bad = resource<envoy::config::listener::v3::Listener>(
      "name: b\naddress: { socket_address: { address: 0.0.0.0, port_value: 9081 } }\n"
      "filter_chains:\n- filters:\n  - name: envoy.filters.network.mongo_proxy\n");
  Status s = apply(xds::kListenerType, "2", {bad});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("resources[0] (listener \"b\")"));
  EXPECT_THAT(s.message(), HasSubstr("filter_chains[0].filters[0]"));
  EXPECT_EQ(published_.size(), published) << "nothing changed";
  auto dump = dynamic_->listenersDump();
  ASSERT_EQ(dump.dynamic_listeners_size(), 1);
  EXPECT_EQ(dump.dynamic_listeners(0).name(), "a");
  EXPECT_EQ(dump.version_info(), "1");
}

TEST_F(DynamicResourcesTest, TwoListenersOnOneAddressAreRefused) {
  Status s =
      apply(xds::kListenerType, "1", {httpListener("a", 9080, "r"), httpListener("b", 9080, "r")});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("resources[1] (listener \"b\").address: 0.0.0.0:9080 is "
                                     "already used by listener \"a\""));
}

TEST_F(DynamicResourcesTest, UnchangedListenersAreKeptAndMissingOnesRemoved) {
  ASSERT_TRUE(apply(xds::kRouteConfigurationType, "1", {routeConfig("r", "c")}).ok());
  ASSERT_TRUE(
      apply(xds::kListenerType, "1", {httpListener("a", 9080, "r"), httpListener("b", 9081, "r")})
          .ok());
  ASSERT_EQ(latest().listeners().size(), 2u);
  const CompiledListener* a = latest().listeners()[0].get();
  ASSERT_TRUE(apply(xds::kListenerType, "2", {httpListener("a", 9080, "r")}).ok());
  ASSERT_EQ(latest().listeners().size(), 1u);
  EXPECT_EQ(latest().listeners()[0].get(), a) << "same compiled listener: its connections stay";
  ASSERT_TRUE(apply(xds::kListenerType, "3", {httpListener("a", 9082, "r")}).ok());
  EXPECT_NE(latest().listeners()[0].get(), a) << "changed: a new listener replaces it";
  EXPECT_EQ(latest().listeners()[0]->address.port, 9082);
  auto dump = dynamic_->listenersDump();
  ASSERT_EQ(dump.dynamic_listeners_size(), 1);
  EXPECT_EQ(dump.dynamic_listeners(0).active_state().version_info(), "3");
}

TEST_F(DynamicResourcesTest, ABadAssignmentIsNackedAndTheGoodOnesApply) {
  ASSERT_TRUE(apply(xds::kClusterType, "1", {edsCluster("a"), edsCluster("b")}).ok());
  auto bad = resource<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      "cluster_name: b\nendpoints:\n- lb_endpoints:\n  - endpoint: { address: { socket_address: "
      "{ address: not-an-ip, port_value: 1 } } }\n");
  Status s = apply(xds::kClusterLoadAssignmentType, "1", {assignment("a", "10.0.0.1"), bad});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("resources[1] (cluster load assignment \"b\")"));
  ASSERT_NE(latest().findCluster("a"), nullptr);
  EXPECT_EQ((*latest().findCluster("a"))->hosts()->hosts.size(), 1u);
  EXPECT_EQ(latest().findCluster("b"), nullptr) << "still warming";
}

TEST_F(DynamicResourcesTest, AChangedClusterKeepsItsEndpoints) {
  ASSERT_TRUE(apply(xds::kClusterType, "1", {edsCluster("a")}).ok());
  ASSERT_TRUE(apply(xds::kClusterLoadAssignmentType, "1", {assignment("a", "10.0.0.1")}).ok());
  auto first = *latest().findCluster("a");
  auto changed = resource<envoy::config::cluster::v3::Cluster>(
      "name: a\ntype: EDS\neds_cluster_config: { eds_config: { ads: {} } }\nconnect_timeout: "
      "2s\n");
  ASSERT_TRUE(apply(xds::kClusterType, "2", {changed}).ok());
  auto second = *latest().findCluster("a");
  EXPECT_NE(first, second);
  EXPECT_EQ(second->hosts()->hosts.size(), 1u) << "no warming: its endpoints are known";
  ASSERT_TRUE(apply(xds::kClusterType, "3", {}).ok());
  EXPECT_EQ(latest().findCluster("a"), nullptr);
  EXPECT_TRUE(subscribed_[kEds].empty());
}

TEST_F(DynamicResourcesTest, AResourceOfAnotherTypeIsRefused) {
  Status s = apply(xds::kClusterType, "1", {routeConfig("r", "c")});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("resources[0]: type type.googleapis.com/"
                                     "envoy.config.route.v3.RouteConfiguration in a response "
                                     "for type.googleapis.com/envoy.config.cluster.v3.Cluster"));
}

}  // namespace
}  // namespace remora::proxy
