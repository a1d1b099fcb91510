#include "ctl/proxy_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

using ::testing::HasSubstr;

// The full tables of each fixture, byte for byte: column widths, padding,
// row order and cell text as istioctl prints them.
TEST(ProxyConfigGoldenTest, PilotBookinfoReviews) {
  ProxyConfig c = testdata::loadDump("bookinfo_reviews");
  testdata::expectGolden("bookinfo_reviews.listeners.txt", listenersTable(c, {}));
  testdata::expectGolden("bookinfo_reviews.routes.txt", routesTable(c, {}));
  testdata::expectGolden("bookinfo_reviews.clusters.txt", clustersTable(c, {}));
  testdata::expectGolden("bookinfo_reviews.endpoints.txt",
                         endpointsTable(clustersFromConfig(c), {}));
}

TEST(ProxyConfigGoldenTest, PilotBookinfoProductpageWithVirtualServiceAndDestinationRule) {
  ProxyConfig c = testdata::loadDump("bookinfo_productpage_vs_dr");
  testdata::expectGolden("bookinfo_productpage_vs_dr.routes.txt", routesTable(c, {}));
  testdata::expectGolden("bookinfo_productpage_vs_dr.clusters.txt", clustersTable(c, {}));
}

TEST(ProxyConfigGoldenTest, ModernIstioShapes) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  testdata::expectGolden("modern_reviews.listeners.txt", listenersTable(c, {}));
  testdata::expectGolden("modern_reviews.routes.txt", routesTable(c, {}));
  testdata::expectGolden("modern_reviews.clusters.txt", clustersTable(c, {}));
  testdata::expectGolden("modern_reviews.endpoints.txt",
                         endpointsTable(testdata::loadClusters("modern_reviews"), {}));
}

TEST(ProxyConfigGoldenTest, LabProxyLiveDump) {
  ProxyConfig c = testdata::loadDump("lab_productpage");
  testdata::expectGolden("lab_productpage.listeners.txt", listenersTable(c, {}));
  testdata::expectGolden("lab_productpage.routes.txt", routesTable(c, {}));
  testdata::expectGolden("lab_productpage.clusters.txt", clustersTable(c, {}));
  testdata::expectGolden("lab_productpage.endpoints.txt",
                         endpointsTable(testdata::loadClusters("lab_productpage"), {}));
}

TEST(ProxyConfigGoldenTest, SeedsListenerListingAsJsonAndYaml) {
  ProxyConfig c = testdata::loadDump("bookinfo_reviews");
  ListenerFilter port15001;
  port15001.port = 15001;
  auto json = listenersDocument(c, port15001, OutputFormat::kJson);
  ASSERT_TRUE(json.ok()) << json.status().message();
  testdata::expectGolden("bookinfo_reviews.listeners_15001.json", *json);
  auto yaml = listenersDocument(c, port15001, OutputFormat::kYaml);
  ASSERT_TRUE(yaml.ok()) << yaml.status().message();
  testdata::expectGolden("bookinfo_reviews.listeners_15001.yaml", *yaml);
}

// The acceptance anchors of istio-facts.md 2.21, written out by hand.
TEST(ProxyConfigAnchorTest, ClustersByFqdnEmptySubsetFirst) {
  ClusterFilter f;
  f.fqdn = "ratings";
  EXPECT_EQ(clustersTable(testdata::loadDump("modern_reviews"), f),
            "SERVICE FQDN                          PORT     SUBSET     DIRECTION     TYPE     "
            "DESTINATION RULE\n"
            "ratings.default.svc.cluster.local     9080     -          outbound      EDS      "
            "ratings.default\n"
            "ratings.default.svc.cluster.local     9080     v1         outbound      EDS      "
            "ratings.default\n");
}

TEST(ProxyConfigAnchorTest, RouteDomainsCollapseToTwoAndACount) {
  RouteFilter f;
  f.name = "9080";
  std::string table = routesTable(testdata::loadDump("modern_reviews"), f);
  EXPECT_THAT(table, HasSubstr("\n9080     ratings, ratings.default + 1 more...       /*      "));
  EXPECT_THAT(table, HasSubstr("ratings.default\n"));
  // The allow_any route to PassthroughCluster is not listed; an empty virtual
  // host is, as "/*  404".
  EXPECT_THAT(table, ::testing::Not(HasSubstr("allow_any")));
  EXPECT_THAT(
      table,
      HasSubstr("empty.default.svc.cluster.local, empty     /*                        404\n"));
}

TEST(ProxyConfigAnchorTest, ListenerRowsPerFilterChain) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  ListenerFilter f;
  f.port = 9080;
  EXPECT_EQ(listenersTable(c, f),
            "ADDRESSES     PORT     MATCH                                    DESTINATION\n"
            "0.0.0.0       9080     Trans: raw_buffer; App: http/1.1,h2c     Route: 9080\n"
            "0.0.0.0       9080     ALL                                      PassthroughCluster\n");
  f.port = 15006;
  std::string inbound = listenersTable(c, f);
  EXPECT_THAT(inbound, HasSubstr("Trans: raw_buffer; Addr: *:9080     "));
  EXPECT_THAT(inbound, HasSubstr("Cluster: inbound|9080||\n"));
  EXPECT_THAT(inbound,
              HasSubstr("Trans: tls; App: istio,istio-peer-exchange,istio-http/1.0,"
                        "istio-http/1.1,istio-h2; Addr: *:9080     Cluster: inbound|9080||"));
}

TEST(ProxyConfigAnchorTest, EndpointsOfASubsetCluster) {
  EndpointFilter f;
  f.cluster = "outbound|9080|v1|ratings.default.svc.cluster.local";
  EXPECT_EQ(endpointsTable(testdata::loadClusters("modern_reviews"), f),
            "ENDPOINT              STATUS      OUTLIER CHECK     CLUSTER\n"
            "10.244.0.191:9080     HEALTHY     OK                "
            "outbound|9080|v1|ratings.default.svc.cluster.local\n");
}

TEST(ProxyConfigAnchorTest, AlpnListsHaveIstioctlsNames) {
  Listener l;
  l.set_name("x");
  for (auto alpn : std::vector<std::vector<std::string>>{
           {"http/1.0", "http/1.1", "h2c"},
           {"istio-peer-exchange", "istio"},
           {"http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"},
           {"istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"}}) {
    auto* chain = l.add_filter_chains();
    for (const auto& a : alpn)
      chain->mutable_filter_chain_match()->add_application_protocols(a);
    chain->mutable_filter_chain_match()->add_server_names("a.example.com");
    chain->mutable_filter_chain_match()->add_server_names("b.example.com");
  }
  ProxyConfig c;
  c.listeners.push_back(l);
  std::string t = listenersTable(c, {});
  EXPECT_THAT(t, HasSubstr("SNI: a.example.com,b.example.com; App: HTTP     "));
  EXPECT_THAT(t, HasSubstr("SNI: a.example.com,b.example.com; App: TCP TLS     "));
  EXPECT_THAT(t, HasSubstr("SNI: a.example.com,b.example.com; App: HTTP TLS     "));
  EXPECT_THAT(t, HasSubstr("SNI: a.example.com,b.example.com; App: Istio HTTP Plain     "));
  EXPECT_THAT(t, HasSubstr("Non-HTTP/Non-TCP"));
}

// Filters.
TEST(ProxyConfigFilterTest, Listeners) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  auto names = [&](const ListenerFilter& f) {
    std::vector<std::string> out;
    for (const auto& l : c.listeners) {
      if (f.matches(l)) out.push_back(l.name());
    }
    return out;
  };
  ListenerFilter f;
  EXPECT_EQ(names(f).size(), 4u);
  f.port = 15001;
  EXPECT_EQ(names(f), std::vector<std::string>{"virtualOutbound"});
  f = {};
  f.address = "0.0.0.0";
  f.type = "http";  // case-insensitive, as in istioctl; HTTP+TCP is another type
  EXPECT_EQ(names(f), std::vector<std::string>{"0.0.0.0_15090"});
  f.type = "HTTP+TCP";
  EXPECT_EQ(names(f), (std::vector<std::string>{"virtualInbound", "0.0.0.0_9080"}));
  f.type = "TCP";
  // virtualOutbound's only TCP proxy that counts goes to PassthroughCluster.
  EXPECT_EQ(names(f), std::vector<std::string>{"virtualOutbound"});
  f = {};
  f.address = "10.244.0.21";
  EXPECT_TRUE(names(f).empty());
}

TEST(ProxyConfigFilterTest, ListenerTypes) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  EXPECT_EQ(listenerType(c.listeners[0]), "TCP");
  EXPECT_EQ(listenerType(c.listeners[1]), "HTTP+TCP");
  EXPECT_EQ(listenerType(c.listeners[2]), "HTTP+TCP");  // the default chain passes through
  EXPECT_EQ(listenerType(c.listeners[3]), "HTTP");
  ProxyConfig reg = testdata::loadDump("bookinfo_reviews_registry_only");
  auto virtual_listener = std::find_if(reg.listeners.begin(), reg.listeners.end(),
                                       [](const Listener& l) { return l.name() == "virtual"; });
  ASSERT_NE(virtual_listener, reg.listeners.end());
  // Only BlackHoleCluster behind 15001 in REGISTRY_ONLY: nothing that counts.
  EXPECT_EQ(listenerType(*virtual_listener), "UNKNOWN");
}

TEST(ProxyConfigFilterTest, RoutesByName) {
  ProxyConfig c = testdata::loadDump("modern_reviews");
  RouteFilter f;
  f.name = "inbound|9080||";
  EXPECT_EQ(routesTable(c, f),
            "NAME               DOMAINS     MATCH     VIRTUAL SERVICE\n"
            "inbound|9080||     *           /*        \n");
  f.name = "nope";
  EXPECT_EQ(routesTable(c, f), "NAME     DOMAINS     MATCH     VIRTUAL SERVICE\n");
}

TEST(ProxyConfigFilterTest, Clusters) {
  ProxyConfig c = testdata::loadDump("bookinfo_productpage_vs_dr");
  auto count = [&](const ClusterFilter& f) {
    int n = 0;
    for (const auto& cl : c.clusters)
      n += f.matches(cl) ? 1 : 0;
    return n;
  };
  ClusterFilter f;
  EXPECT_EQ(count(f), 10);
  f.fqdn = "reviews.default.svc.cluster.local";
  EXPECT_EQ(count(f), 4);
  f.subset = "v1";
  EXPECT_EQ(count(f), 1);
  f = {};
  f.direction = "inbound";
  EXPECT_EQ(count(f), 1);
  f.direction = "outbound";
  EXPECT_EQ(count(f), 7);
  f.port = 9080;
  EXPECT_EQ(count(f), 7);
  f.port = 9081;
  EXPECT_EQ(count(f), 0);
}

TEST(ProxyConfigFilterTest, Endpoints) {
  envoy::admin::v3::Clusters clusters = testdata::loadClusters("modern_reviews");
  auto rows = [&](const EndpointFilter& f) {
    std::string t = endpointsTable(clusters, f);
    return static_cast<int>(std::count(t.begin(), t.end(), '\n')) - 1;
  };
  EndpointFilter f;
  EXPECT_EQ(rows(f), 7);
  f.address = "10.244.0.191";
  EXPECT_EQ(rows(f), 2);
  f.port = 9081;
  EXPECT_EQ(rows(f), 0);
  f = {};
  f.status = "unhealthy";
  EXPECT_EQ(rows(f), 1);
  f.status = "HEALTHY";
  f.cluster = "OUTBOUND|9080||ratings.default.svc.cluster.local";  // case-insensitive
  EXPECT_EQ(rows(f), 2);  // 10.244.0.191 and the outlier-ejected 10.244.0.193
  f = {};
  f.address = "./var/run/secrets/workload-spiffe-uds/socket";
  EXPECT_EQ(rows(f), 1);
}

TEST(ProxyConfigFilterTest, EndpointsDocumentKeepsOnlyMatchingHosts) {
  EndpointFilter f;
  f.status = "DRAINING";
  auto doc = endpointsDocument(testdata::loadClusters("modern_reviews"), f, OutputFormat::kJson);
  ASSERT_TRUE(doc.ok());
  EXPECT_THAT(*doc, HasSubstr("\"name\": \"outbound|9080||reviews.default.svc.cluster.local\""));
  EXPECT_THAT(*doc, ::testing::Not(HasSubstr("ratings")));
  EXPECT_THAT(*doc, HasSubstr("\"edsHealthStatus\": \"DRAINING\""));
}

TEST(ProxyConfigFilterTest, FlagValuesAreChecked) {
  EXPECT_TRUE(validateListenerType("http+tcp").ok());
  EXPECT_THAT(validateListenerType("UDP").message(),
              HasSubstr("--type: \"UDP\" is not one of HTTP, TCP, HTTP+TCP"));
  EXPECT_TRUE(validateDirection("inbound").ok());
  EXPECT_FALSE(validateDirection("in").ok());
  EXPECT_TRUE(validateHealthStatus("degraded").ok());
  EXPECT_THAT(validateHealthStatus("sick").message(), HasSubstr("HEALTHY, UNHEALTHY, DRAINING"));
  EXPECT_TRUE(parseOutputFormat("yaml").ok());
  EXPECT_FALSE(parseOutputFormat("table").ok());
}

TEST(ProxyConfigTest, SubsetKeysAndManagementMetadata) {
  SubsetKey k = parseSubsetKey("outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_TRUE(k.is_subset_key);
  EXPECT_EQ(k.direction, "outbound");
  EXPECT_EQ(k.port, 9080u);
  EXPECT_EQ(k.subset, "v1");
  EXPECT_EQ(k.fqdn, "reviews.default.svc.cluster.local");
  EXPECT_FALSE(parseSubsetKey("BlackHoleCluster").is_subset_key);
  EXPECT_EQ(parseSubsetKey("inbound|9080||").fqdn, "");

  envoy::config::core::v3::Metadata m;
  EXPECT_EQ(describeManagement(m), "");
  auto& fields = *(*m.mutable_filter_metadata())["istio"].mutable_fields();
  fields["config"].set_string_value(
      "/apis/networking.istio.io/v1alpha3/namespaces/prod/virtual-service/reviews");
  EXPECT_EQ(describeManagement(m), "reviews.prod");
  fields["config"].set_string_value("/apis/other/thing");
  EXPECT_EQ(describeManagement(m), "<unknown>");
}

}  // namespace
}  // namespace remora::ctl
