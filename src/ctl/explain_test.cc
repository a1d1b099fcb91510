#include "ctl/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

network::IpAddress ip(const char* s) {
  return *network::IpAddress::parse(s);
}

// One explain run over saved admin output, as `remoractl explain -f` does.
class ExplainTest : public ::testing::Test {
 protected:
  ExplainResult run(const std::string& dump, const std::string& url, const char* destination,
                    bool inbound = false) {
    config_ = testdata::loadDump(dump);
    return runOn(url, destination, inbound);
  }

  ExplainResult runOn(const std::string& url, const char* destination, bool inbound = false) {
    ExplainRequest q;
    EXPECT_TRUE(parseExplainUrl(url, q).ok()) << url;
    q.destination = ip(destination);
    q.resolved_by = "test";
    q.inbound = inbound;
    q.headers = headers_;
    q.pod_ip = pod_ip_;
    ExplainInput in;
    in.config = &config_;
    in.clusters = clusters_ ? &*clusters_ : nullptr;
    in.nat_save = nat_;
    return explainRequest(q, in);
  }

  ProxyConfig config_;
  std::optional<envoy::admin::v3::Clusters> clusters_;
  std::string nat_;
  std::optional<network::IpAddress> pod_ip_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

TEST_F(ExplainTest, SeedsOutboundWalkToASubsetCluster) {
  ExplainResult r =
      run("bookinfo_productpage_vs_dr", "http://reviews:9080/reviews/0", "10.96.0.14");
  EXPECT_EQ(r.outcome, ExplainOutcome::kForwarded) << r.summary;
  EXPECT_FALSE(r.capture_evaluated);
  EXPECT_EQ(r.capture_port, 15001);
  EXPECT_EQ(r.receiving_listener, "virtual");
  EXPECT_TRUE(r.use_original_dst);
  EXPECT_EQ(r.original_destination.toString(), "10.96.0.14:9080");
  EXPECT_EQ(r.handoff, "wildcard");  // no 10.96.0.14_9080: HTTP services share 0.0.0.0_9080
  EXPECT_EQ(r.listener, "0.0.0.0_9080");
  EXPECT_EQ(r.chain, "filter_chains[0]");
  EXPECT_EQ(r.network_filter, "http_connection_manager");
  EXPECT_EQ(r.route_config, "9080");
  EXPECT_FALSE(r.route_config_inline);
  EXPECT_EQ(r.virtual_host, "reviews.default.svc.cluster.local:9080");
  EXPECT_EQ(r.domain, "reviews:9080");
  EXPECT_EQ(r.domain_match, "exact");
  EXPECT_EQ(r.route, "#0");
  EXPECT_EQ(r.route_match, "prefix \"/\"");
  EXPECT_EQ(r.virtual_service, "reviews.default");
  EXPECT_EQ(r.cluster, "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(r.cluster_type, "EDS");
  EXPECT_EQ(r.destination_rule, "reviews.default");
  EXPECT_EQ(r.endpoints_source, "config dump");
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].address, "10.244.0.21:9080");
  EXPECT_TRUE(r.endpoints[0].eligible);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_THAT(r.notes, ElementsAre(HasSubstr("pod's IP is not known"),
                                   HasSubstr("capture not checked"), HasSubstr("port 15001")));
}

TEST_F(ExplainTest, VirtualServiceWithoutDestinationRuleIs503NC) {
  ExplainResult r = run("bookinfo_productpage_vs_v1", "http://reviews:9080/", "10.96.0.14");
  EXPECT_EQ(r.outcome, ExplainOutcome::kClusterNotFound);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.response_flag, "NC");
  EXPECT_EQ(r.cluster, "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_TRUE(r.cluster_type.empty());
  EXPECT_EQ(r.summary,
            "cluster \"outbound|9080|v1|reviews.default.svc.cluster.local\" is not in the proxy: "
            "503 NC");
}

TEST_F(ExplainTest, HeadersSelectTheRoute) {
  ExplainResult v1 = run("bookinfo_productpage_jason", "http://reviews:9080/", "10.96.0.14");
  EXPECT_EQ(v1.cluster, "outbound|9080|v1|reviews.default.svc.cluster.local");
  headers_ = {{"end-user", "jason"}};
  ExplainResult v2 = runOn("http://reviews:9080/", "10.96.0.14");
  EXPECT_EQ(v2.outcome, ExplainOutcome::kForwarded);
  EXPECT_EQ(v2.route, "#0");
  EXPECT_EQ(v2.cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(v2.endpoints[0].address, "10.244.0.22:9080");
  // -H Host replaces the URL's authority for virtual host selection.
  headers_ = {{"Host", "ratings"}};
  ExplainResult ratings = runOn("http://reviews:9080/", "10.96.0.14");
  EXPECT_EQ(ratings.domain, "ratings");
  EXPECT_EQ(ratings.cluster, "outbound|9080||ratings.default.svc.cluster.local");
}

TEST_F(ExplainTest, NoListenerForTheDestinationPassesThrough) {
  ExplainResult r = run("bookinfo_reviews", "http://example.com/", "93.184.216.34");
  EXPECT_EQ(r.outcome, ExplainOutcome::kPassthrough) << r.summary;
  EXPECT_EQ(r.handoff, "none");
  EXPECT_EQ(r.listener, "virtual");
  EXPECT_EQ(r.network_filter, "tcp_proxy");
  EXPECT_EQ(r.cluster, "PassthroughCluster");
  EXPECT_EQ(r.cluster_type, "ORIGINAL_DST");
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].address, "93.184.216.34:80");
}

TEST_F(ExplainTest, UnknownHostOnAnHttpPortGoesToAllowAny) {
  ExplainResult r = run("bookinfo_reviews", "http://example.com:9080/", "93.184.216.34");
  EXPECT_EQ(r.outcome, ExplainOutcome::kPassthrough) << r.summary;
  EXPECT_EQ(r.listener, "0.0.0.0_9080");
  EXPECT_EQ(r.virtual_host, "allow_any");
  EXPECT_EQ(r.domain_match, "any (*)");
  EXPECT_EQ(r.cluster, "PassthroughCluster");
}

TEST_F(ExplainTest, RegistryOnlyBlackHoles) {
  ExplainResult r = run("bookinfo_reviews_registry_only", "http://example.com/", "93.184.216.34");
  EXPECT_EQ(r.outcome, ExplainOutcome::kBlackHole) << r.summary;
  EXPECT_EQ(r.chain, "filter_chains[1] \"virtualOutbound-catchall-tcp\"");
  EXPECT_EQ(r.cluster, "BlackHoleCluster");
  EXPECT_EQ(r.http_status, 0);  // tcp_proxy: the connection is closed
  EXPECT_EQ(r.response_flag, "UH");
  EXPECT_TRUE(r.endpoints.empty());
}

TEST_F(ExplainTest, SeedsInboundWalkToTheApp) {
  ExplainResult r = run("bookinfo_reviews", "http://reviews:9080/", "10.244.0.21", true);
  EXPECT_EQ(r.outcome, ExplainOutcome::kForwarded) << r.summary;
  EXPECT_EQ(r.capture_port, 15001);  // the seed's layout: no 15006 listener
  EXPECT_EQ(r.handoff, "exact");
  EXPECT_EQ(r.listener, "10.244.0.21_9080");
  EXPECT_THAT(r.deciding_fields, ElementsAre("transport protocol raw_buffer"));
  EXPECT_TRUE(r.route_config_inline);
  EXPECT_EQ(r.route_config, "inbound|9080||reviews.default.svc.cluster.local");
  EXPECT_EQ(r.domain_match, "any (*)");
  EXPECT_EQ(r.cluster, "inbound|9080||reviews.default.svc.cluster.local");
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].address, "127.0.0.1:9080");
}

TEST_F(ExplainTest, ModernInboundMatchesDestinationPortAndTransport) {
  config_ = testdata::loadDump("modern_reviews");
  // Modern Istio's virtualInbound restores the original destination with the
  // original_dst listener filter and keeps the connection. Remora's proxy
  // reads that filter as use_original_dst (config::usesOriginalDst) and would
  // hand the connection to the outbound 0.0.0.0_9080 (next test); without
  // that listener, the filter chain match is Istio's.
  config_.listeners.erase(config_.listeners.begin() + 2);
  nat_ = testdata::readTestdata("nat_istio_default.txt");
  pod_ip_ = ip("10.244.0.21");
  ExplainResult r = runOn("http://reviews:9080/", "10.244.0.21", true);
  EXPECT_TRUE(r.capture_evaluated);
  EXPECT_EQ(r.capture_chain, "PREROUTING");
  EXPECT_EQ(r.capture_port, 15006);
  EXPECT_EQ(r.receiving_listener, "virtualInbound");
  EXPECT_EQ(r.handoff, "none");
  EXPECT_EQ(r.application_protocols, std::vector<std::string>{"http/1.1"});  // http_inspector
  EXPECT_EQ(r.chain, "filter_chains[2] \"0.0.0.0_9080\"");
  EXPECT_THAT(r.deciding_fields,
              ElementsAre("destination port 9080", "transport protocol raw_buffer"));
  EXPECT_EQ(r.cluster, "inbound|9080||");
  EXPECT_EQ(r.outcome, ExplainOutcome::kPassthrough);  // ORIGINAL_DST to the pod's IP
  EXPECT_EQ(r.endpoints[0].address, "10.244.0.21:9080");
}

TEST_F(ExplainTest, OriginalDstListenerFilterHandsOffLikeUseOriginalDst) {
  config_ = testdata::loadDump("modern_reviews");
  ExplainResult r = runOn("http://reviews:9080/", "10.244.0.21", true);
  EXPECT_EQ(r.receiving_listener, "virtualInbound");
  EXPECT_EQ(r.handoff, "wildcard");
  EXPECT_EQ(r.listener, "0.0.0.0_9080");
}

TEST_F(ExplainTest, LabPodWithNatTableAndLiveClusters) {
  config_ = testdata::loadDump("lab_productpage");
  clusters_ = testdata::loadClusters("lab_productpage");
  nat_ = testdata::readTestdata("lab_productpage.nat.txt");
  pod_ip_ = ip("10.244.0.1");
  ExplainResult r = runOn("http://reviews:9080/reviews/0", "10.96.0.2");
  EXPECT_EQ(r.outcome, ExplainOutcome::kForwarded) << r.summary;
  std::vector<std::string> path;
  for (const auto& s : r.capture_steps) {
    if (s.matched) path.push_back(s.rule);
  }
  EXPECT_THAT(
      path, ElementsAre("-A OUTPUT -p tcp -j REMORA_OUTPUT", "-A REMORA_OUTPUT -j REMORA_REDIRECT",
                        "-A REMORA_REDIRECT -p tcp -j REDIRECT --to-ports 15001"));
  EXPECT_EQ(r.packet.out_interface, "eth0");
  EXPECT_EQ(r.receiving_listener, "virtualOutbound");
  EXPECT_TRUE(r.route_config_inline);
  EXPECT_EQ(r.route_checks.size(), 2u);  // "/v1/" was tried first
  EXPECT_EQ(r.route, "#1");
  EXPECT_EQ(r.endpoints_source, "/clusters");
  EXPECT_EQ(r.endpoints[0].address, "10.244.0.2:9080");
  EXPECT_EQ(r.summary,
            "forwarded to \"outbound|9080||reviews.default.svc.cluster.local\", one of 1 eligible "
            "endpoint: 10.244.0.2:9080");
  testdata::expectGolden("lab_productpage.explain.txt", formatExplainText(r));
}

TEST_F(ExplainTest, LocalhostIsNotCaptured) {
  config_ = testdata::loadDump("lab_productpage");
  nat_ = testdata::readTestdata("lab_productpage.nat.txt");
  pod_ip_ = ip("10.244.0.1");
  ExplainResult r = runOn("http://127.0.0.1:9080/", "127.0.0.1");
  EXPECT_EQ(r.outcome, ExplainOutcome::kNotCaptured);
  EXPECT_EQ(r.packet.out_interface, "lo");
  EXPECT_TRUE(r.receiving_listener.empty());
  EXPECT_THAT(r.summary, HasSubstr("goes straight to 127.0.0.1:9080"));
}

TEST_F(ExplainTest, NoVirtualHostIs404NR) {
  config_ = testdata::loadDump("lab_productpage");
  ExplainResult r = runOn("http://10.96.0.1:9080/", "10.96.0.1");
  EXPECT_EQ(r.outcome, ExplainOutcome::kNoVirtualHost);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.response_flag, "NR");
  EXPECT_TRUE(r.virtual_host.empty());
  EXPECT_TRUE(r.cluster.empty());
}

TEST_F(ExplainTest, VirtualHostWithoutAMatchingRouteIs404NR) {
  config_ = testdata::loadDump("modern_reviews");
  headers_ = {{"host", "empty"}};
  ExplainResult r = runOn("http://10.96.1.9:9080/", "10.96.1.9");
  EXPECT_EQ(r.outcome, ExplainOutcome::kNoRoute) << r.summary;
  EXPECT_EQ(r.virtual_host, "empty.default.svc.cluster.local:9080");
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.response_flag, "NR");
}

TEST_F(ExplainTest, MissingRdsConfigIs404NR) {
  config_ = testdata::loadDump("bookinfo_reviews");
  config_.route_configs.clear();
  ExplainResult r = runOn("http://ratings:9080/", "10.96.0.13");
  EXPECT_EQ(r.outcome, ExplainOutcome::kNoRouteConfig);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_THAT(r.summary, HasSubstr("\"9080\" (RDS) has not reached the proxy"));
}

TEST_F(ExplainTest, NoEligibleEndpointIs503UH) {
  config_ = testdata::loadDump("lab_productpage");
  clusters_ = testdata::loadClusters("lab_productpage");
  ExplainResult empty = runOn("http://ratings:9080/", "10.96.0.3");
  EXPECT_EQ(empty.outcome, ExplainOutcome::kNoHealthyUpstream);
  EXPECT_EQ(empty.http_status, 503);
  EXPECT_EQ(empty.response_flag, "UH");

  // Only a DRAINING endpoint: the proxy's upstream::makeHostSet skips it.
  config_ = testdata::loadDump("modern_reviews");
  clusters_ = testdata::loadClusters("modern_reviews");
  ExplainResult draining = runOn("http://reviews:9080/reviews/7", "10.96.1.3");
  EXPECT_EQ(draining.route, "#1 \"re\"");
  EXPECT_EQ(draining.outcome, ExplainOutcome::kNoHealthyUpstream) << draining.summary;
  ASSERT_EQ(draining.endpoints.size(), 1u);
  EXPECT_EQ(draining.endpoints[0].health, "DRAINING");
  EXPECT_FALSE(draining.endpoints[0].eligible);
}

TEST_F(ExplainTest, UnhealthyAndOutlierEjectedEndpointsAreNotEligible) {
  config_ = testdata::loadDump("modern_reviews");
  clusters_ = testdata::loadClusters("modern_reviews");
  config_.route_configs[0]
      .mutable_virtual_hosts(0)
      ->mutable_routes(1)
      ->mutable_route()
      ->set_cluster("outbound|9080||ratings.default.svc.cluster.local");
  ExplainResult r = runOn("http://ratings:9080/", "10.96.1.2");
  EXPECT_EQ(r.outcome, ExplainOutcome::kForwarded) << r.summary;
  ASSERT_EQ(r.endpoints.size(), 3u);
  EXPECT_TRUE(r.endpoints[0].eligible);
  EXPECT_FALSE(r.endpoints[1].eligible);  // UNHEALTHY
  EXPECT_FALSE(r.endpoints[2].eligible);  // failed outlier check
  EXPECT_TRUE(r.endpoints[2].failed_outlier_check);
}

TEST_F(ExplainTest, DirectResponseIsALocalReply) {
  config_ = testdata::loadDump("modern_reviews");
  ExplainResult r = runOn("http://reviews:9080/health", "10.96.1.3");
  EXPECT_EQ(r.outcome, ExplainOutcome::kLocalReply);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.route, "#0 \"exact\"");
  EXPECT_EQ(r.route_match, "path \"/health\"");
}

TEST_F(ExplainTest, NoMatchingFilterChainClosesTheConnection) {
  config_ = testdata::loadDump("modern_reviews");
  // Leave virtualInbound only its TLS chain for port 9080 (STRICT mTLS): a
  // plain-text request finds the 9080 bucket, then no transport bucket, and
  // Envoy does not go back to less specific buckets.
  auto* chains = config_.listeners[1].mutable_filter_chains();
  chains->erase(chains->begin() + 2, chains->end());
  config_.listeners.erase(config_.listeners.begin() + 2);  // no hand-off (see above)
  ExplainResult r = runOn("http://reviews:9080/", "10.244.0.21", true);
  EXPECT_EQ(r.outcome, ExplainOutcome::kNoFilterChain) << r.summary;
  EXPECT_EQ(r.chain_index, -1);
  ASSERT_FALSE(r.chain_stages.empty());
  EXPECT_EQ(r.chain_stages.back().stage, "transport protocol");
  EXPECT_FALSE(r.chain_stages.back().matched);
}

TEST_F(ExplainTest, RedirectToAPortNoListenerBindsIsRefused) {
  config_ = testdata::loadDump("bookinfo_reviews");
  nat_ = testdata::readTestdata("nat_istio_default.txt");
  pod_ip_ = ip("10.244.0.21");
  // istio_default sends inbound to 15006; this (seed-layout) proxy has none.
  ExplainResult r = runOn("http://reviews:9080/", "10.244.0.21", true);
  EXPECT_EQ(r.capture_port, 15006);
  EXPECT_EQ(r.outcome, ExplainOutcome::kNoProxyListener);
  EXPECT_THAT(r.summary, HasSubstr("no listener binds port 15006"));
}

TEST_F(ExplainTest, AnInvalidListenerIsAConfigErrorWithTheMatchersMessage) {
  config_ = testdata::loadDump("bookinfo_reviews");
  auto* match = config_.listeners[0].mutable_filter_chains(0)->mutable_filter_chain_match();
  match->mutable_destination_port()->set_value(70000);
  ExplainResult r = runOn("http://ratings:9080/", "10.96.0.13");
  EXPECT_EQ(r.outcome, ExplainOutcome::kConfigError);
  EXPECT_THAT(r.summary, HasSubstr("port 70000 is not in 1..65535"));
}

TEST_F(ExplainTest, JsonCarriesEveryDecision) {
  ExplainResult r =
      run("bookinfo_productpage_vs_dr", "http://reviews:9080/reviews/0", "10.96.0.14");
  std::string json = writeJson(explainJson(r), 2);
  EXPECT_THAT(json, HasSubstr("\"handoff\": \"wildcard\""));
  EXPECT_THAT(json, HasSubstr("\"virtualHost\": \"reviews.default.svc.cluster.local:9080\""));
  EXPECT_THAT(json, HasSubstr("\"outcome\": \"forwarded\""));
  EXPECT_THAT(json, HasSubstr("\"eligible\": true"));
  EXPECT_TRUE(JsonValue::parse(json).ok());
  ExplainResult nc = run("bookinfo_productpage_vs_v1", "http://reviews:9080/", "10.96.0.14");
  std::string nc_json = writeJson(explainJson(nc), 0);
  EXPECT_THAT(nc_json, HasSubstr(R"("result":{"outcome":"cluster_not_found","httpStatus":503,)"
                                 R"("responseFlag":"NC")"));
  EXPECT_THAT(nc_json, HasSubstr(R"("found":false)"));
}

TEST(ExplainInputTest, UrlsHeadersAndHostsFiles) {
  ExplainRequest q;
  ASSERT_TRUE(parseExplainUrl("http://reviews:9080/reviews/0?x=1", q).ok());
  EXPECT_EQ(q.host, "reviews");
  EXPECT_EQ(q.port, 9080);
  EXPECT_EQ(q.path, "/reviews/0?x=1");
  EXPECT_EQ(q.authority(), "reviews:9080");
  ASSERT_TRUE(parseExplainUrl("ratings", q).ok());
  EXPECT_EQ(q.port, 80);
  EXPECT_EQ(q.path, "/");
  EXPECT_EQ(q.authority(), "ratings");
  for (const char* bad :
       {"https://a/", "http://:80/", "http://a:0/", "http://a:99999/", "http://a:x/"}) {
    EXPECT_FALSE(parseExplainUrl(bad, q).ok()) << bad;
  }
  auto h = parseHeaderFlag("end-user:  jason ");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->first, "end-user");
  EXPECT_EQ(h->second, "jason");
  EXPECT_FALSE(parseHeaderFlag("no colon").ok());
  EXPECT_FALSE(parseHeaderFlag(": v").ok());

  std::string hosts = testdata::readTestdata("lab_productpage.hosts");
  EXPECT_EQ(lookupHostsFile(hosts, "Reviews.default.svc.cluster.local")->toString(), "10.96.0.2");
  EXPECT_EQ(lookupHostsFile(hosts, "localhost")->toString(), "127.0.0.1");
  EXPECT_FALSE(lookupHostsFile(hosts, "details").has_value());
  EXPECT_FALSE(lookupHostsFile("# 10.0.0.1 commented\n", "commented").has_value());
}

}  // namespace
}  // namespace remora::ctl
