#include "ctl/config_dump.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> listenerNames(const ProxyConfig& c) {
  std::vector<std::string> out;
  for (const auto& l : c.listeners)
    out.push_back(l.name());
  return out;
}

TEST(ConfigDumpTest, ReadsPilotsDynamicResources) {
  ProxyConfig c = testdata::loadDump("bookinfo_reviews");
  EXPECT_FALSE(c.bootstrap.has_value());
  EXPECT_THAT(listenerNames(c), ElementsAre("0.0.0.0_9080", "10.244.0.21_9080", "virtual"));
  EXPECT_EQ(c.clusters.size(), 7u);
  ASSERT_NE(c.findRouteConfig("9080"), nullptr);
  EXPECT_EQ(c.findRouteConfig("9080")->virtual_hosts_size(), 5);  // with allow_any
  ASSERT_NE(c.findEndpoints("outbound|9080||ratings.default.svc.cluster.local"), nullptr);
  EXPECT_EQ(c.findCluster("nope"), nullptr);
  EXPECT_TRUE(c.skipped.empty());
  EXPECT_EQ(c.dump.configs_size(), 4);
}

TEST(ConfigDumpTest, ReadsTheLabProxysStaticDumpInSnakeCase) {
  // remora-proxy prints original proto field names, pilot lowerCamel: both read.
  ProxyConfig c = testdata::loadDump("lab_productpage");
  ASSERT_TRUE(c.bootstrap.has_value());
  EXPECT_THAT(listenerNames(c),
              ElementsAre("virtualOutbound", "virtualInbound", "10.244.0.1_9080", "0.0.0.0_9080"));
  EXPECT_NE(c.findCluster("PassthroughCluster"), nullptr);
  // Inline route configurations are listed as static route configs too.
  ASSERT_NE(c.findRouteConfig("9080"), nullptr);
  EXPECT_FALSE(c.findRouteConfig("9080")->validate_clusters().value());
}

TEST(ConfigDumpTest, DynamicBeforeStaticActiveOnlyUnknownTypesSkipped) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  ASSERT_TRUE(c.bootstrap.has_value());
  EXPECT_EQ(c.bootstrap->bootstrap().node().id(),
            "sidecar~10.244.0.21~reviews-v1.default~default.svc.cluster.local");
  // The warming listener 10.96.0.99_27017 and warming cluster v2 serve nothing.
  EXPECT_THAT(listenerNames(c),
              ElementsAre("virtualOutbound", "virtualInbound", "0.0.0.0_9080", "0.0.0.0_15090"));
  EXPECT_EQ(c.findCluster("outbound|9080|v2|ratings.default.svc.cluster.local"), nullptr);
  EXPECT_EQ(c.clusters.back().name(), "prometheus_stats");
  EXPECT_EQ(c.route_configs.front().name(), "9080");
  EXPECT_THAT(c.skipped, ElementsAre("type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump"));
  EXPECT_EQ(c.dump.configs_size(), 5);
}

TEST(ConfigDumpTest, ReadsEnvoyV2DynamicActiveListeners) {
  auto c = parseConfigDump(R"({"configs": [{
    "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "dynamic_active_listeners": [{"version_info": "1", "listener": {
      "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "virtual",
      "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15001}},
      "use_original_dst": true}}]}]})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].name(), "virtual");
  EXPECT_TRUE(c->listeners[0].use_original_dst().value());
}

TEST(ConfigDumpTest, ErrorsSayWhereTheDumpIsWrong) {
  EXPECT_THAT(parseConfigDump("{").status().message(), HasSubstr("config dump: JSON at byte 1"));
  EXPECT_THAT(parseConfigDump(R"({"listeners": []})").status().message(),
              HasSubstr("no \"configs\" list"));
  EXPECT_THAT(parseConfigDump(R"({"configs": [{}]})").status().message(),
              HasSubstr("configs[0]: no @type"));
  auto bad = parseConfigDump(
      R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
     "staticClusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
       "name": "x", "connectTimeout": "soon"}}]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("configs[0] (envoy.admin.v3.ClustersConfigDump)"));
  auto wrong_any = parseConfigDump(
      R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
     "staticClusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
       "name": "x"}}]}]})");
  ASSERT_FALSE(wrong_any.ok());
  EXPECT_THAT(wrong_any.status().message(), HasSubstr("cannot read"));
}

TEST(ConfigDumpTest, ParsesAdminClustersWithHealthAndPipes) {
  envoy::admin::v3::Clusters c = testdata::loadClusters("modern_reviews");
  ASSERT_EQ(c.cluster_statuses_size(), 5);
  const auto& ratings = c.cluster_statuses(1);
  EXPECT_EQ(ratings.host_statuses(1).health_status().eds_health_status(),
            envoy::config::core::v3::UNHEALTHY);
  EXPECT_TRUE(ratings.host_statuses(2).health_status().failed_outlier_check());
  EXPECT_TRUE(c.cluster_statuses(4).host_statuses(0).address().has_pipe());
  EXPECT_FALSE(parseClusters("[]").ok());
}

TEST(ConfigDumpTest, ClustersFromConfigUsesLoadAssignmentsAndEds) {
  ProxyConfig c = testdata::loadDump("bookinfo_productpage_vs_dr");
  envoy::admin::v3::Clusters derived = clustersFromConfig(c);
  std::map<std::string, std::vector<std::string>> hosts;
  for (const auto& s : derived.cluster_statuses()) {
    for (const auto& h : s.host_statuses()) {
      hosts[s.name()].push_back(
          h.address().socket_address().address() + " " +
          envoy::config::core::v3::HealthStatus_Name(h.health_status().eds_health_status()));
    }
  }
  EXPECT_THAT(hosts["inbound|9080||productpage.default.svc.cluster.local"],
              ElementsAre("127.0.0.1 HEALTHY"));
  EXPECT_THAT(hosts["outbound|9080|v2|reviews.default.svc.cluster.local"],
              ElementsAre("10.244.0.22 HEALTHY"));
  EXPECT_EQ(hosts["outbound|9080||reviews.default.svc.cluster.local"].size(), 3u);
  EXPECT_TRUE(hosts["BlackHoleCluster"].empty());
}

TEST(ConfigDumpTest, MessageToJsonUsesLowerCamelNames) {
  ProxyConfig c = testdata::loadDump("lab_productpage");
  auto json = messageToJson(c.listeners[0]);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"useOriginalDst\":true"));
  EXPECT_THAT(*json, HasSubstr("\"filterChains\":"));
  EXPECT_THAT(*json, ::testing::Not(HasSubstr("use_original_dst")));
}

}  // namespace
}  // namespace remora::ctl
