#include "ctl/proxy_status.h"

#include <gtest/gtest.h>

#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

using testdata::expectGolden;
using testdata::loadDump;
using testdata::readTestdata;

// Captured from remora-pilot by test/integration/remoractl_pilot_test.cc
// (REMORA_UPDATE_GOLDEN=1): reviews-v1 ACKed CDS and NACKed LDS,
// productpage has not answered its CDS yet.
PilotSync twoProxies(bool with_adsz = true) {
  auto sync = parseProxyStatus(readTestdata("pilot_two_proxies.syncz.json"),
                               with_adsz ? readTestdata("pilot_two_proxies.adsz.json") : "");
  EXPECT_TRUE(sync.ok()) << sync.status().message();
  return sync.ok() ? *sync : PilotSync();
}

TEST(ProxyStatus, ParsesEveryTypeOfEveryStream) {
  PilotSync sync = twoProxies();
  ASSERT_EQ(sync.proxies.size(), 2u);
  const ProxySync& pp = sync.proxies[0];
  const ProxySync& rv = sync.proxies[1];
  EXPECT_EQ(pp.proxy, "productpage-v1-6b746f74dc-9stvs.default");
  EXPECT_EQ(rv.proxy, "reviews-v1-76474f6fb7-pmglr.default");
  EXPECT_EQ(rv.node_id,
            "sidecar~10.244.0.21~reviews-v1-76474f6fb7-pmglr.default~default.svc.cluster.local");
  EXPECT_TRUE(rv.known);
  EXPECT_EQ(rv.cluster_id, "Kubernetes");
  EXPECT_EQ(rv.version, "1.24.0");
  EXPECT_EQ(rv.types[0].type, "CDS");
  EXPECT_EQ(rv.types[0].status, "SYNCED");
  EXPECT_EQ(rv.types[0].acked_version, rv.types[0].sent_version);
  EXPECT_GT(rv.types[0].sent_resources, 0);
  EXPECT_EQ(rv.types[1].type, "LDS");
  EXPECT_EQ(rv.types[1].status, "NACKED");
  EXPECT_EQ(rv.types[1].nack_error, "listener 0.0.0.0_9080: refused by the test");
  EXPECT_EQ(rv.types[1].nacks, 1);
  EXPECT_EQ(rv.types[2].status, "NOT SENT");
  EXPECT_FALSE(rv.types[2].subscribed);
  EXPECT_EQ(pp.types[0].status, "STALE");
  EXPECT_TRUE(pp.types[0].wildcard);
}

TEST(ProxyStatus, TableGolden) {
  expectGolden("pilot_two_proxies.proxy_status.txt",
               proxyStatusTable(twoProxies(), "127.0.0.1:15014"));
}

TEST(ProxyStatus, WithoutAdszIstioDefaults) {
  PilotSync sync = twoProxies(false);
  ASSERT_EQ(sync.proxies.size(), 2u);
  EXPECT_EQ(sync.proxies[1].cluster_id, "Kubernetes");
  EXPECT_EQ(sync.proxies[1].version, "");
  EXPECT_EQ(sync.proxies[1].peer, "");
}

TEST(ProxyStatus, EmptyTableIsTheHeader) {
  auto sync = parseProxyStatus(R"({"version":"1","proxies":[]})", "");
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(proxyStatusTable(*sync, "10.244.0.1:15014"),
            "NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n");
}

TEST(ProxyStatus, ErrorsNameThePageAndField) {
  auto notJson = parseProxyStatus("<html>", "");
  ASSERT_FALSE(notJson.ok());
  EXPECT_EQ(notJson.status().message().rfind("/debug/syncz: ", 0), 0u);
  auto noProxies = parseProxyStatus(R"({"version":"1"})", "");
  ASSERT_FALSE(noProxies.ok());
  EXPECT_EQ(noProxies.status().message(), "/debug/syncz: no \"proxies\" array");
  auto noType = parseProxyStatus(
      R"({"proxies":[{"proxy":"a.default","types":{"cds":{},"lds":{},"eds":{}}}]})", "");
  ASSERT_FALSE(noType.ok());
  EXPECT_EQ(noType.status().message(), "/debug/syncz: proxies[0] (a.default): no types.rds");
  auto badAdsz = parseProxyStatus(R"({"proxies":[]})", "[");
  ASSERT_FALSE(badAdsz.ok());
  EXPECT_EQ(badAdsz.status().message().rfind("/debug/adsz: ", 0), 0u);
}

TEST(ProxyStatus, DetailGolden) {
  PilotSync sync = twoProxies();
  auto reviews = findProxyStatus(sync, "reviews-v1-76474f6fb7-pmglr");
  ASSERT_TRUE(reviews.ok()) << reviews.status().message();
  ASSERT_EQ(reviews->size(), 1u);
  expectGolden("pilot_two_proxies.reviews_detail.txt", proxyStatusDetail(*reviews->front()));
}

TEST(MatchPodRef, ExactOrPodName) {
  EXPECT_EQ(matchPodRef("reviews-v1.default", "reviews-v1.default"), PodRefMatch::kExact);
  EXPECT_EQ(matchPodRef("reviews-v1.default", "reviews-v1"), PodRefMatch::kPodOnly);
  EXPECT_EQ(matchPodRef("reviews-v1.default", "reviews"), PodRefMatch::kNone);
  EXPECT_EQ(matchPodRef("reviews-v1.default", "reviews-v1.def"), PodRefMatch::kNone);
  EXPECT_EQ(matchPodRef("reviews-v1.default", "reviews-v1.default.x"), PodRefMatch::kNone);
}

TEST(FindProxyStatus, UnknownAndAmbiguousPods) {
  PilotSync sync = twoProxies();
  auto missing = findProxyStatus(sync, "ratings-v1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "no proxy \"ratings-v1\" is connected to pilot (connected: "
            "productpage-v1-6b746f74dc-9stvs.default, reviews-v1-76474f6fb7-pmglr.default)");
  sync.proxies.push_back(sync.proxies[1]);
  sync.proxies.back().proxy = "reviews-v1-76474f6fb7-pmglr.prod";
  auto twoNamespaces = findProxyStatus(sync, "reviews-v1-76474f6fb7-pmglr");
  ASSERT_FALSE(twoNamespaces.ok());
  EXPECT_EQ(twoNamespaces.status().code(), StatusCode::kInvalidArgument);
  auto exact = findProxyStatus(sync, "reviews-v1-76474f6fb7-pmglr.prod");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->front()->proxy, "reviews-v1-76474f6fb7-pmglr.prod");
}

TEST(CompareProxyConfig, MatchAndEachKindOfDifference) {
  ProxyConfig pilot = loadDump("bookinfo_reviews");
  EXPECT_EQ(compareProxyConfig(pilot.dump, pilot.dump),
            "Clusters Match\nListeners Match\nRoutes Match\nEndpoints Match\n");

  // The proxy lacks one cluster, has one pilot does not send, runs another
  // cluster with a different timeout, and was asked without include_eds.
  envoy::admin::v3::ConfigDump proxy;
  for (const auto& entry : pilot.dump.configs()) {
    envoy::admin::v3::ClustersConfigDump clusters;
    if (entry.UnpackTo(&clusters)) {
      envoy::admin::v3::ClustersConfigDump changed;
      for (const auto& c : clusters.dynamic_active_clusters()) {
        Cluster cluster;
        ASSERT_TRUE(c.cluster().UnpackTo(&cluster));
        if (cluster.name() == "outbound|9080||details.default.svc.cluster.local") continue;
        if (cluster.name() == "outbound|9080||ratings.default.svc.cluster.local") {
          cluster.mutable_connect_timeout()->set_seconds(7);
        }
        changed.add_dynamic_active_clusters()->mutable_cluster()->PackFrom(cluster);
      }
      Cluster extra;
      extra.set_name("outbound|9080||old.default.svc.cluster.local");
      changed.add_dynamic_active_clusters()->mutable_cluster()->PackFrom(extra);
      proxy.add_configs()->PackFrom(changed);
      continue;
    }
    if (entry.type_url().ends_with("EndpointsConfigDump")) continue;
    *proxy.add_configs() = entry;
  }
  EXPECT_EQ(compareProxyConfig(pilot.dump, proxy),
            "Clusters Don't Match\n"
            "  missing in the proxy: outbound|9080||details.default.svc.cluster.local\n"
            "  only in the proxy: outbound|9080||old.default.svc.cluster.local\n"
            "  different: outbound|9080||ratings.default.svc.cluster.local\n"
            "Listeners Match\n"
            "Routes Match\n"
            "Endpoints: the proxy's dump has none (not compared)\n");
}

}  // namespace
}  // namespace remora::ctl
