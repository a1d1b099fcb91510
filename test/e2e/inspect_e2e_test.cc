// `remoractl proxy-config` and `remoractl explain` against live proxies in a
// lab: what they print must be what the proxies run, and every request
// explain follows must end the way the proxy really answers it.
//
// The lab is test/e2e/testdata/inspect-lab.yaml:
//   productpage  sidecar with HTTP routing (testdata/productpage-l7-proxy.yaml):
//                route "9080": reviews -> reviews-v1, /v1/ -> a subset cluster
//                that does not exist (503 NC), ratings -> no endpoint (503 UH)
//   reviews-v1   sidecar with the lab's L4 bootstrap (examples/lab/reviews-proxy.yaml)
#include <gmock/gmock.h>

#include "ctl/json_value.h"
#include "e2e/lab_fixture.h"
#include "lab/system.h"
#include "support/paths.h"
#include "support/process.h"

namespace remora::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

class InspectTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    auto yaml = lab::readTextFile(sourceDir() + "/test/e2e/testdata/inspect-lab.yaml");
    ASSERT_TRUE(yaml.ok()) << yaml.status().message();
    // The file's bootstrap paths are relative to its folder, as `lab up`
    // reads them; LabTest::up resolves them from the repository root.
    std::string text = *yaml;
    const std::string key = "remora.io/proxy-bootstrap: ";
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      text.insert(at + key.size(), "test/e2e/testdata/");
    }
    upOrFail(text);
    if (IsSkipped() || HasFatalFailure()) return;
    auto st = lab::labStatus(options());
    ASSERT_TRUE(st.ok()) << st.status().message();
    for (const auto& s : st->services)
      vip_[s.name] = s.cluster_ip;
  }

  // remoractl with `args` and --lab <this lab>; exit status, output in `out`.
  int remoractl(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), binaryPath("remoractl"));
    args.insert(args.end(), {"--lab", name_});
    return runCommand(args, out);
  }

  // remoractl run inside a pod's namespace, for --admin 127.0.0.1:15000.
  int remoractlInPod(const std::string& pod, std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {"ip", "netns", "exec", netns(pod), binaryPath("remoractl")});
    return runCommand(args, out);
  }

  // explain -o json's result.outcome and result.httpStatus.
  std::pair<std::string, int> explainOutcome(const std::string& url) {
    std::string out;
    int rc = remoractl({"explain", "productpage", url, "-o", "json"}, &out);
    EXPECT_EQ(rc, 0) << out;
    auto json = ctl::JsonValue::parse(out);
    EXPECT_TRUE(json.ok()) << out;
    if (!json.ok()) return {"<no json>", 0};
    const ctl::JsonValue* result = json->find("result");
    if (result == nullptr) return {"<no result>", 0};
    const ctl::JsonValue* status = result->find("httpStatus");
    return {result->find("outcome")->text(), status ? std::stoi(status->text()) : 0};
  }

  std::map<std::string, std::string> vip_;
};

TEST_F(InspectTest, ProxyConfigTablesShowWhatTheProxyRuns) {
  std::string out;
  std::string pod_ip = ip("productpage");
  ASSERT_EQ(remoractl({"proxy-config", "listeners", "productpage"}, &out), 0) << out;
  // Column widths depend on the pod IP's length: checked exactly in the unit
  // tests; here the rows' cells.
  EXPECT_THAT(out, ContainsRegex("^ADDRESSES +PORT +MATCH +DESTINATION\n"));
  EXPECT_THAT(out, ContainsRegex("\n" + pod_ip +
                                 " +9080 +Trans: raw_buffer +Cluster: "
                                 "inbound\\|9080\\|\\|productpage.default.svc.cluster.local\n"));
  EXPECT_THAT(out, ContainsRegex("\n0.0.0.0 +15001 +ALL +PassthroughCluster\n"));
  EXPECT_THAT(out, ContainsRegex("\n0.0.0.0 +15006 +ALL +BlackHoleCluster\n"));

  ASSERT_EQ(remoractl({"pc", "clusters", "productpage.default", "--fqdn", "reviews"}, &out), 0)
      << out;
  EXPECT_EQ(
      out,
      "SERVICE FQDN                          PORT     SUBSET     DIRECTION     TYPE       "
      "DESTINATION RULE\n"
      "reviews.default.svc.cluster.local     9080     -          outbound      STATIC     \n");

  ASSERT_EQ(remoractl({"pc", "routes", "productpage", "--name", "9080"}, &out), 0) << out;
  EXPECT_EQ(out,
            "NAME     DOMAINS                                                    MATCH     "
            "VIRTUAL SERVICE\n"
            "9080     reviews, reviews.default + 1 more...                       /v1/*     \n"
            "9080     reviews, reviews.default + 1 more...                       /*        \n"
            "9080     ratings.default.svc.cluster.local, ratings + 1 more...     /*        \n");

  ASSERT_EQ(remoractl({"pc", "endpoints", "productpage", "--cluster",
                       "outbound|9080||reviews.default.svc.cluster.local"},
                      &out),
            0)
      << out;
  std::string reviews = ip("reviews-v1") + ":9080";
  EXPECT_EQ(out, "ENDPOINT" + std::string(reviews.size() + 5 - 8, ' ') +
                     "STATUS      OUTLIER CHECK     CLUSTER\n" + reviews +
                     "     HEALTHY     OK                "
                     "outbound|9080||reviews.default.svc.cluster.local\n");

  // The L4 sidecar: one listener per service cluster IP.
  ASSERT_EQ(remoractl({"pc", "listeners", "reviews-v1", "--type", "TCP", "--port", "9080"}, &out),
            0);
  EXPECT_THAT(out, ContainsRegex("\n" + vip_["productpage"] +
                                 " +9080 +ALL +Cluster: "
                                 "outbound\\|9080\\|\\|productpage.default.svc.cluster.local\n"));
}

TEST_F(InspectTest, ProxyConfigListingsAndErrors) {
  std::string out;
  ASSERT_EQ(remoractl({"pc", "listeners", "reviews-v1", "--port", "15001", "-o", "json"}, &out), 0);
  auto json = ctl::JsonValue::parse(out);
  ASSERT_TRUE(json.ok()) << out;
  ASSERT_EQ(json->items().size(), 1u);
  EXPECT_EQ(json->items()[0].find("name")->text(), "virtualOutbound");
  EXPECT_TRUE(json->items()[0].find("useOriginalDst")->asBool());
  EXPECT_THAT(out, HasSubstr("\n        \"filterChains\": [\n"));  // 4-space indents

  ASSERT_EQ(
      remoractl({"pc", "clusters", "reviews-v1", "--direction", "inbound", "-o", "yaml"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("- name: inbound|9080||reviews.default.svc.cluster.local\n"));
  EXPECT_THAT(out, HasSubstr("        portValue: 9080\n"));

  ASSERT_EQ(remoractl({"pc", "bootstrap", "productpage"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"staticResources\": {"));

  ASSERT_EQ(remoractl({"pc", "all", "productpage"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("SERVICE FQDN"));
  EXPECT_THAT(out, HasSubstr("\nADDRESSES"));
  EXPECT_THAT(out, HasSubstr("\nNAME"));
  EXPECT_THAT(out, HasSubstr("\nENDPOINT"));

  // Inside the pod, --admin reaches the same proxy directly.
  ASSERT_EQ(
      remoractlInPod("productpage",
                     {"pc", "clusters", "--admin", "127.0.0.1:15000", "--fqdn", "ratings"}, &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("ratings.default.svc.cluster.local     9080     -          outbound"));

  EXPECT_EQ(remoractl({"pc", "listeners", "nosuchpod"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("has no pod \"nosuchpod\""));
  EXPECT_EQ(remoractl({"pc", "listeners", "productpage", "--type", "UDP"}, &out), 2);
  EXPECT_EQ(remoractl({"pc", "listeners", "productpage", "--admin", "127.0.0.1:1"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("give only one of a pod, --admin and --file"));
  EXPECT_EQ(
      runCommand({binaryPath("remoractl"), "pc", "listeners", "--admin", "127.0.0.1:1"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("127.0.0.1:1"));
}

TEST_F(InspectTest, ExplainAgreesWithTheLiveProxy) {
  // For each request: explain's verdict, then the same request made from
  // inside productpage, as its app would make it.
  struct Case {
    std::string vip;
    std::string path;
    std::string outcome;
    int explained_status;
    int real_status;
  };
  std::vector<Case> cases = {
      {vip_["reviews"], "/reviews/0", "forwarded", 0, 200},
      {vip_["reviews"], "/v1/reviews/0", "cluster_not_found", 503, 503},
      {vip_["ratings"], "/ratings/0", "no_healthy_upstream", 503, 503},
      {vip_["productpage"], "/", "no_virtual_host", 404, 404},
  };
  for (const Case& c : cases) {
    std::string to = c.vip + ":9080";
    auto [outcome, status] = explainOutcome("http://" + to + c.path);
    EXPECT_EQ(outcome, c.outcome) << to << c.path;
    EXPECT_EQ(status, c.explained_status) << to << c.path;
    auto real = get("productpage", to, c.path);
    ASSERT_TRUE(real.ok()) << real.status().message();
    EXPECT_EQ(real->status, c.real_status) << to << c.path << ": " << real->body;
  }
}

TEST_F(InspectTest, ExplainWalksTheSeedsStepsByName) {
  std::string out;
  ASSERT_EQ(remoractl({"explain", "productpage", "http://reviews:9080/reviews/0"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("reviews is " + vip_["reviews"] + " (/etc/netns/" +
                             netns("productpage") + "/hosts)"));
  EXPECT_THAT(out, HasSubstr("MATCH  -A REMORA_REDIRECT -p tcp -j REDIRECT --to-ports 15001  ["));
  EXPECT_THAT(out, HasSubstr("\"virtualOutbound\" on port 15001 receives it"));
  EXPECT_THAT(out, HasSubstr("handed to \"0.0.0.0_9080\" on 0.0.0.0:9080 (wildcard address"));
  EXPECT_THAT(out, HasSubstr("virtual host \"reviews.default.svc.cluster.local:9080\": domain "
                             "\"reviews:9080\" matched (exact)"));
  EXPECT_THAT(out, HasSubstr("endpoints   from /clusters: 1 of 1 eligible\n"));
  EXPECT_THAT(out, HasSubstr(ip("reviews-v1") + ":9080  HEALTHY  eligible"));

  // Inbound at reviews-v1: the L4 path to the app.
  ASSERT_EQ(remoractl({"explain", "reviews-v1", "http://reviews:9080/", "--inbound"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("MATCH  -A REMORA_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006"));
  EXPECT_THAT(out,
              HasSubstr("handed to \"" + ip("reviews-v1") + "_9080\", the listener on exactly"));
  EXPECT_THAT(out, HasSubstr("-> filter_chains[0] (no field narrows it: the chain matches "
                             "anything): tcp_proxy"));
  EXPECT_THAT(out, HasSubstr("127.0.0.1:9080  HEALTHY  eligible"));

  // The app calling localhost is never captured.
  ASSERT_EQ(remoractl({"explain", "productpage", "http://127.0.0.1:9080/"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("result      not captured"));

  // A name the pod cannot resolve.
  EXPECT_EQ(remoractl({"explain", "productpage", "http://details:9080/"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("details is not in /etc/netns/" + netns("productpage") + "/hosts"));

  // With --admin only, the capture step is skipped and said so.
  ASSERT_EQ(remoractlInPod("productpage",
                           {"explain", "--admin", "127.0.0.1:15000",
                            "http://" + vip_["reviews"] + ":9080/", "--pod-ip", ip("productpage")},
                           &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("note        capture not checked: the proxy was given by --admin"));
  EXPECT_THAT(out, HasSubstr("result      forwarded to"));
}

}  // namespace
}  // namespace remora::test
