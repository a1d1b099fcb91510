// Bookinfo end to end with the control plane (issue 6's list): the lab of
// examples/bookinfo/lab/bookinfo.yaml runs remora-pilot in its hub namespace
// and every sidecar bootstraps from it over ADS. Routing rules are applied
// the way `remoractl apply` does, through pilot's config API; requests are
// made from inside productpage's pod, as its app makes them, so each one
// crosses productpage's proxy (outbound) and the chosen reviews pod's proxy
// (inbound).
#include <signal.h>

#include <gmock/gmock.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "common/blocking_http.h"
#include "ctl/json_value.h"
#include "e2e/lab_fixture.h"
#include "lab/pilot_config.h"
#include "lab/system.h"
#include "support/paths.h"
#include "support/process.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr const char* kProductpage = "productpage-v1-6b746f74dc-9stvs";
constexpr const char* kReviewsV3 = "reviews-v3-6dc9897554-z8fxd";
const std::vector<std::string> kPods = {
    "details-v1-5974b67c8-wclnd",  "productpage-v1-6b746f74dc-9stvs",
    "ratings-v1-8558d4458d-ns6lk", "reviews-v1-76474f6fb7-pmglr",
    "reviews-v2-65c4dc6fdc-sm4w7", "reviews-v3-6dc9897554-z8fxd"};

constexpr const char* kDestinationRule = R"(apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
  - { name: v3, labels: { version: v3 } }
)";

constexpr const char* kSplit8020 = R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 80 }
    - { destination: { host: reviews, subset: v3 }, weight: 20 }
)";

std::string readSource(const std::string& path) {
  auto text = lab::readTextFile(sourceDir() + "/" + path);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return text.ok() ? *text : "";
}

class PilotLabTest : public LabTest {
 protected:
  void TearDown() override {
    if (restarted_.pid != 0) lab::stopProcess(restarted_, milliseconds(3000));
    LabTest::TearDown();
  }

  // The Bookinfo lab with `extra` documents; fails (or skips) the test.
  void upBookinfo(const std::string& extra = "") {
    upOrFail(readSource("examples/bookinfo/lab/bookinfo.yaml") + extra);
    if (IsSkipped() || HasFatalFailure()) return;
    auto state = lab::readLabState(options());
    ASSERT_TRUE(state.ok()) << state.status().message();
    ASSERT_TRUE(state->pilot.has_value());
    pilot_ = *state->pilot;
    for (const auto& s : state->services)
      vip_[s.name] = s.cluster_ip;
  }

  // A request to pilot's HTTP API from the hub namespace, where it listens.
  StatusOr<HttpReply> pilot(const std::string& method, const std::string& target,
                            const std::string& body = "") {
    auto http = network::SocketAddress::parse(pilot_.http_address);
    if (!http.ok()) return http.status();
    StatusOr<HttpReply> reply = internalError("not sent");
    Status entered = lab::inNetns(pilot_.netns, [&] {
      reply = blockingHttpRequest(http->ip.toString(), http->port, method, pilot_.http_address,
                                  target, {}, body, milliseconds(20000));
    });
    if (!entered.ok()) return entered;
    return reply;
  }

  // A page's body, or the error, for messages.
  std::string pilotText(const std::string& target) {
    auto r = pilot("GET", target);
    return r.ok() ? r->body : "<" + r.status().message() + ">";
  }

  ctl::JsonValue pilotJson(const std::string& target) {
    auto r = pilot("GET", target);
    EXPECT_TRUE(r.ok()) << target << ": " << r.status().message();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 200) << target << ": " << r->body;
    auto json = ctl::JsonValue::parse(r->body);
    EXPECT_TRUE(json.ok()) << target << ": " << r->body;
    return json.ok() ? *json : ctl::JsonValue();
  }

  // POSTs objects (`remoractl apply`); the answer comes once pilot serves them.
  ctl::JsonValue apply(const std::string& yaml, int want_status = 200) {
    auto r = pilot("POST", "/apis/v1/objects", yaml);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, want_status) << r->body;
    auto json = ctl::JsonValue::parse(r->body);
    EXPECT_TRUE(json.ok()) << r->body;
    return json.ok() ? *json : ctl::JsonValue();
  }

  // A Prometheus sample of pilot's /metrics ("pilot_xds_pushes{type=\"eds\"}"), or -1.
  int64_t metric(const std::string& sample) {
    auto r = pilot("GET", "/metrics");
    if (!r.ok()) return -1;
    size_t at = r->body.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(r->body.substr(at + sample.size() + 2));
  }

  // One call from productpage's app to http://reviews:9080/reviews/0: the
  // answering version ("v1"), or "<status N>", or "<error ...>".
  std::string callReviews() {
    auto to = network::SocketAddress::parse(vip_["reviews"] + ":9080");
    StatusOr<lab::HttpResponse> r = internalError("not sent");
    (void)lab::inNetns(netns(kProductpage), [&] {
      r = lab::httpGet(*to, "reviews:9080", "/reviews/0", {}, milliseconds(5000));
    });
    if (!r.ok()) return "<error " + r.status().message() + ">";
    if (r->status != 200) return "<status " + std::to_string(r->status) + ">" + r->body;
    return jsonField(r->body, "version");
  }

  std::map<std::string, int> reviewsVersions(int n) {
    std::map<std::string, int> out;
    for (int i = 0; i < n; ++i)
      ++out[callReviews()];
    return out;
  }

  // Polls `done` every 20 ms until it holds or `timeout` passes.
  static bool eventually(milliseconds timeout, const std::function<bool()>& done) {
    auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  }

  // True when all of Bookinfo's proxies are connected and have ACKed every
  // type, none is pending, and each got snapshot `version` (as a full or an
  // EDS push); version 0: the snapshot pilot serves now, whichever it is.
  bool synced(int64_t version) {
    auto r = pilot("GET", "/debug/syncz");
    if (!r.ok() || r->status != 200) return false;
    auto json = ctl::JsonValue::parse(r->body);
    if (!json.ok() || json->find("version") == nullptr) return false;
    if (version == 0) version = std::stoll(json->find("version")->text());
    if (json->find("version")->text() != std::to_string(version)) return false;
    const ctl::JsonValue* proxies = json->find("proxies");
    if (proxies == nullptr || proxies->items().size() != kPods.size()) return false;
    for (const auto& p : proxies->items()) {
      bool got = false;
      for (const auto& [type, w] : p.find("types")->members()) {
        if (w.find("status")->text() != "SYNCED" || w.find("pending")->asBool()) return false;
        got = got || w.find("sentVersion")->text() == std::to_string(version);
      }
      if (!got) return false;
    }
    return true;
  }

  void expectSynced(int64_t version = 0) {
    EXPECT_TRUE(eventually(milliseconds(10000), [&] { return synced(version); }))
        << "not every proxy ACKed snapshot " << version << ":\n"
        << pilotText("/debug/syncz");
  }

  // The proxy of a pod: one of its counters (admin 127.0.0.1:15000 in the pod).
  int64_t proxyStat(const std::string& pod, const std::string& name) { return stat(pod, name); }

  lab::PilotRecord pilot_;
  std::map<std::string, std::string> vip_;
  lab::ProcessId restarted_;
};

TEST_F(PilotLabTest, PilotRunsInTheHubAndEveryProxyBootstrapsFromIt) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(pilot_.netns, name_);
  EXPECT_EQ(pilot_.grpc_address, "10.244.0.1:15010");
  EXPECT_EQ(pilot_.http_address, "10.244.0.1:15014");
  auto ready = pilot("GET", "/ready");
  ASSERT_TRUE(ready.ok()) << ready.status().message();
  EXPECT_EQ(ready->status, 200);
  // Everything the lab file says, accepted: 4 Services and 6 Pods.
  ctl::JsonValue configz = pilotJson("/debug/configz");
  EXPECT_TRUE(configz.find("refused")->items().empty());
  EXPECT_EQ(configz.find("accepted")->items().size(), 10u);
  auto status = lab::labStatus(options());
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(status->pilot.has_value());
  EXPECT_EQ(status->pilot->health, "ready");
  EXPECT_THAT(lab::formatStatus(*status), HasSubstr("pilot: ready (pid "));

  for (const std::string& pod : kPods) {
    std::string ip;
    for (const auto& p : status->pods) {
      if (p.pod.name == pod) ip = p.pod.ip;
    }
    auto bootstrap = lab::readTextFile(lab::stateDir(options()) + "/" + pod + "/bootstrap.yaml");
    ASSERT_TRUE(bootstrap.ok()) << bootstrap.status().message();
    EXPECT_THAT(*bootstrap,
                HasSubstr("id: sidecar~" + ip + "~" + pod + ".default~default.svc.cluster.local"));
    EXPECT_THAT(*bootstrap, HasSubstr("cluster_name: xds-grpc"));
    EXPECT_THAT(*bootstrap, HasSubstr("address: 10.244.0.1, port_value: 15010"));
    // The seed's single port: inbound is captured to 15001 too.
    std::string nat;
    ASSERT_EQ(runCommand({"ip", "netns", "exec", netns(pod), "iptables-save", "-t", "nat"}, &nat),
              0);
    EXPECT_THAT(nat, HasSubstr("-A REMORA_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15001"));
  }
  // Each proxy is connected over ADS with its identity and admin address.
  EXPECT_TRUE(eventually(milliseconds(10000), [&] {
    return pilotJson("/debug/adsz").find("totalClients")->text() == "6";
  }));
  ctl::JsonValue adsz = pilotJson("/debug/adsz");
  std::set<std::string> connected;
  for (const auto& c : adsz.find("clients")->items()) {
    connected.insert(c.find("proxy")->text());
    EXPECT_EQ(c.find("adminAddress")->text(), "127.0.0.1:15000");
    EXPECT_TRUE(c.find("known")->asBool()) << c.find("proxy")->text();
  }
  std::set<std::string> want;
  for (const std::string& pod : kPods)
    want.insert(pod + ".default");
  EXPECT_EQ(connected, want);
}

TEST_F(PilotLabTest, RequestsFlowAndRoundRobinAcrossReviewsVersions) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  // productpage's own page: its app calls details and reviews, and reviews
  // v2 and v3 call ratings; every hop through two proxies configured by pilot.
  auto to = network::SocketAddress::parse(vip_["productpage"] + ":9080");
  std::set<std::string> reviewers;
  for (int i = 0; i < 6; ++i) {
    StatusOr<lab::HttpResponse> page = internalError("not sent");
    ASSERT_TRUE(lab::inNetns(netns(kProductpage), [&] {
                  page =
                      lab::httpGet(*to, "productpage:9080", "/productpage", {}, milliseconds(5000));
                }).ok());
    ASSERT_TRUE(page.ok()) << page.status().message();
    ASSERT_EQ(page->status, 200) << page->body;
    EXPECT_THAT(page->body, HasSubstr("{\"url\":\"http://details:9080/details/0\",\"status\":200,"
                                      "\"body\":{\"pod\":\"details-v1-5974b67c8-wclnd\""));
    EXPECT_THAT(page->body, HasSubstr("{\"url\":\"http://reviews:9080/reviews/0\",\"status\":200,"
                                      "\"body\":{\"pod\":\"reviews-v"));
    size_t at = page->body.find("\"pod\":\"reviews-v");
    std::string version = page->body.substr(at + 15, 2);
    reviewers.insert(version);
    if (version != "v1") {
      EXPECT_THAT(page->body, HasSubstr("\"url\":\"http://ratings:9080/ratings/0\",\"status\":200,"
                                        "\"body\":{\"pod\":\"ratings-v1-8558d4458d-ns6lk\""));
    }
  }
  EXPECT_GE(reviewers.size(), 2u);
  // Round robin over the three endpoints of outbound|9080||reviews: each of
  // the proxy's two workers keeps its own cursor, so over 30 requests a
  // version gets 10 +/- 1 per worker: 8 to 12.
  auto counts = reviewsVersions(30);
  EXPECT_EQ(counts.size(), 3u) << ::testing::PrintToString(counts);
  for (const char* v : {"v1", "v2", "v3"}) {
    EXPECT_GE(counts[v], 8) << v << " " << ::testing::PrintToString(counts);
    EXPECT_LE(counts[v], 12) << v << " " << ::testing::PrintToString(counts);
  }
}

TEST_F(PilotLabTest, SubsetRouteWithoutDestinationRuleIs503NcThenTheRuleSendsAllToV1) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  ASSERT_EQ(callReviews().substr(0, 1), "v");
  // The seed's rule: every call to reviews goes to subset v1, which no
  // DestinationRule defines yet. Pilot serves it (with a warning).
  ctl::JsonValue vs = apply(readSource("examples/bookinfo/rules/virtual-service-reviews-v1.yaml"));
  EXPECT_TRUE(vs.find("served")->asBool());
  std::string warnings;
  for (const auto& w : vs.find("warnings")->items())
    warnings += w.text() + "\n";
  EXPECT_THAT(warnings, HasSubstr("v1"));
  expectSynced(std::stoll(vs.find("version")->text()));
  const std::string no_cluster = "http.outbound_0.0.0.0_9080.no_cluster";
  int64_t before = proxyStat(kProductpage, no_cluster);
  auto counts = reviewsVersions(10);
  // Cluster not found (NC): Envoy's 503 with an empty body, counted by the
  // connection manager, not sent upstream.
  EXPECT_EQ(counts["<status 503>"], 10) << ::testing::PrintToString(counts);
  EXPECT_EQ(proxyStat(kProductpage, no_cluster), std::max<int64_t>(before, 0) + 10);
  EXPECT_EQ(proxyStat(kProductpage,
                      "cluster.outbound|9080|v1|reviews.default.svc.cluster.local."
                      "upstream_rq_total"),
            -1)
      << "the subset cluster must not exist yet";

  // The DestinationRule defines the subsets: within a second, every call
  // goes to v1.
  auto applied = Clock::now();
  apply(kDestinationRule);
  bool v1 = eventually(milliseconds(1000), [&] { return callReviews() == "v1"; });
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - applied);
  EXPECT_TRUE(v1) << "no answer from v1 within 1 s of applying the DestinationRule";
  EXPECT_LE(took.count(), 1000);
  RecordProperty("destination_rule_to_v1_ms", static_cast<int>(took.count()));
  counts = reviewsVersions(30);
  EXPECT_EQ(counts["v1"], 30) << ::testing::PrintToString(counts);
  EXPECT_GE(proxyStat(kProductpage,
                      "cluster.outbound|9080|v1|reviews.default.svc.cluster.local."
                      "upstream_rq_total"),
            30);
}

TEST_F(PilotLabTest, WeightedSplit8020Over1000Requests) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  apply(kDestinationRule);
  ctl::JsonValue vs = apply(kSplit8020);
  expectSynced(std::stoll(vs.find("version")->text()));
  auto counts = reviewsVersions(1000);
  RecordProperty("v1_of_1000", counts["v1"]);
  EXPECT_EQ(counts["v1"] + counts["v3"], 1000) << ::testing::PrintToString(counts);
  // Each request picks a cluster independently with P(v1) = 0.8, so the v1
  // count is Binomial(1000, 0.8): mean 800, standard deviation 12.6. +/- 63
  // (5 sigma) fails a correct proxy about once in two million runs and still
  // catches a 75/25 or 85/15 split.
  EXPECT_GE(counts["v1"], 737) << ::testing::PrintToString(counts);
  EXPECT_LE(counts["v1"], 863) << ::testing::PrintToString(counts);
}

// A pod without a sidecar is a backend like any other but has no proxy of
// its own, so taking it out of pilot's config (or putting it back) changes
// endpoints and nothing else: pilot must push EDS and only EDS.
TEST_F(PilotLabTest, ScalingReviewsPushesEndpointsOnly) {
  const std::string extra = R"(---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1-76474f6fb7-x2k8q
  labels: { app: reviews, version: v1-extra }
spec:
  serviceAccountName: bookinfo-reviews
  containers:
  - command: [remora-app, --port, "9080", --version, v1-extra]
    ports: [{ name: http, containerPort: 9080 }]
)";
  upBookinfo(extra);
  if (IsSkipped() || HasFatalFailure()) return;
  expectSynced();
  // Round robin over four endpoints, two workers (see above): 10 +/- 2.
  auto extra_share = [&] { return reviewsVersions(40)["v1-extra"]; };
  int share = extra_share();
  EXPECT_GE(share, 8);
  EXPECT_LE(share, 12);

  auto pushes = [&] {
    std::map<std::string, int64_t> m;
    for (const char* t : {"cds", "eds", "lds", "rds"})
      m[t] = metric(std::string("pilot_xds_pushes{type=\"") + t + "\"}");
    m["full"] = metric("pilot_push_triggers{type=\"full\"}");
    m["eds-trigger"] = metric("pilot_push_triggers{type=\"eds\"}");
    return m;
  };
  auto expectEdsOnly = [&](const std::map<std::string, int64_t>& before,
                           const std::map<std::string, int64_t>& after) {
    for (const auto& [name, value] : before)
      EXPECT_GE(value, 0) << name << " is not in pilot's /metrics";
    for (const char* t : {"cds", "lds", "rds", "full"})
      EXPECT_EQ(after.at(t), before.at(t)) << t;
    // One EDS response to each of the six proxies (all watch reviews).
    EXPECT_EQ(after.at("eds") - before.at("eds"), 6);
    EXPECT_EQ(after.at("eds-trigger") - before.at("eds-trigger"), 1);
  };

  // Scale down: the pod leaves the config.
  auto before = pushes();
  auto r = pilot("DELETE", "/apis/v1/objects",
                 "apiVersion: v1\nkind: Pod\nmetadata: { name: reviews-v1-76474f6fb7-x2k8q, "
                 "namespace: default }\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->body;
  auto json = ctl::JsonValue::parse(r->body);
  ASSERT_TRUE(json.ok());
  expectSynced(std::stoll(json->find("version")->text()));
  expectEdsOnly(before, pushes());
  auto counts = reviewsVersions(30);
  EXPECT_EQ(counts["v1-extra"], 0) << ::testing::PrintToString(counts);
  EXPECT_EQ(counts["v1"] + counts["v2"] + counts["v3"], 30) << ::testing::PrintToString(counts);

  // Scale up again: the same pod, as the lab wrote it, comes back.
  before = pushes();
  lab::Pod pod;
  pod.name = "reviews-v1-76474f6fb7-x2k8q";
  pod.ns = "default";
  pod.labels = {{"app", "reviews"}, {"version", "v1-extra"}};
  pod.service_account = "bookinfo-reviews";
  pod.containers.push_back({"app", {}, {}, {9080}, {"http"}});
  auto state = lab::readLabState(options());
  ASSERT_TRUE(state.ok());
  for (const auto& p : state->pods) {
    if (p.name == pod.name) pod.ip = *network::IpAddress::parse(p.ip);
  }
  ctl::JsonValue added = apply(lab::podObjectYaml(pod));
  expectSynced(std::stoll(added.find("version")->text()));
  expectEdsOnly(before, pushes());
  share = extra_share();
  EXPECT_GE(share, 8);
  EXPECT_LE(share, 12);
}

TEST_F(PilotLabTest, KillingPilotLeavesTrafficFlowingAndARestartResyncs) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  expectSynced();
  auto state = lab::readLabState(options());
  ASSERT_TRUE(state.ok());
  lab::ProcessRecord record;
  for (const auto& p : state->processes) {
    if (p.role == "pilot") record = p;
  }
  ASSERT_NE(record.pid, 0);
  lab::ProcessId id{record.pid, record.start_time};
  ASSERT_EQ(kill(record.pid, SIGKILL), 0);
  ASSERT_TRUE(eventually(milliseconds(3000), [&] { return !lab::isRunning(id); }));

  // The proxies keep serving with their last config.
  auto counts = reviewsVersions(30);
  EXPECT_EQ(counts["v1"] + counts["v2"] + counts["v3"], 30) << ::testing::PrintToString(counts);

  // While pilot is down the rules land in its folder (as a restart after an
  // edit would find them); the restarted pilot serves them and every proxy
  // reconnects and resynchronises.
  for (const auto& [file, text] : std::map<std::string, std::string>{
           {"destinationrule-default-reviews.yaml", kDestinationRule},
           {"virtualservice-default-reviews.yaml",
            readSource("examples/bookinfo/rules/virtual-service-reviews-v1.yaml")}}) {
    ASSERT_TRUE(lab::writeFileAtomic(pilot_.config_dir + "/" + file, text, 0644).ok());
  }
  auto restarted = lab::spawnDaemon(
      {{"ip", "netns", "exec", pilot_.netns, binaryPath("remora-pilot"), "--config-dir",
        pilot_.config_dir, "--grpc-addr", pilot_.grpc_address, "--http-addr", pilot_.http_address},
       {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
       record.log,
       "/"});
  ASSERT_TRUE(restarted.ok()) << restarted.status().message();
  restarted_ = *restarted;
  ASSERT_TRUE(eventually(milliseconds(10000), [&] {
    auto r = pilot("GET", "/ready");
    return r.ok() && r->status == 200;
  }));
  // Reconnection waits for the proxies' backoff; give it time.
  EXPECT_TRUE(eventually(milliseconds(30000), [&] { return synced(0); }))
      << pilotText("/debug/syncz");
  counts = reviewsVersions(30);
  EXPECT_EQ(counts["v1"], 30) << ::testing::PrintToString(counts);
}

TEST_F(PilotLabTest, BadVirtualServiceIsRefusedAndTheOldRoutingStays) {
  upBookinfo();
  if (IsSkipped() || HasFatalFailure()) return;
  apply(kDestinationRule);
  ctl::JsonValue good =
      apply(readSource("examples/bookinfo/rules/virtual-service-reviews-v1.yaml"));
  int64_t version = std::stoll(good.find("version")->text());
  expectSynced(version);
  ASSERT_EQ(reviewsVersions(10)["v1"], 10);

  std::string bad = kSplit8020;
  bad.replace(bad.find("weight: 20"), 10, "weight: 10");
  ctl::JsonValue refused = apply(bad, 400);
  EXPECT_EQ(refused.find("error")->text(), "refused");
  ASSERT_EQ(refused.find("refused")->items().size(), 1u);
  const ctl::JsonValue& why = refused.find("refused")->items()[0];
  EXPECT_EQ(why.find("field")->text(), "spec.http[0].route");
  EXPECT_THAT(why.find("message")->text(), HasSubstr("weights sum to 90, want 100"));
  EXPECT_THAT(why.find("text")->text(), HasSubstr("VirtualService default/reviews"));

  // Nothing changed: the same snapshot, the old rule in the folder, v1 only.
  EXPECT_EQ(pilotJson("/debug/syncz").find("version")->text(), std::to_string(version));
  auto stored = pilot("GET", "/apis/v1/objects?kind=VirtualService&name=reviews");
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(stored->body, HasSubstr("subset: v1"));
  EXPECT_THAT(stored->body, ::testing::Not(HasSubstr("weight")));
  auto counts = reviewsVersions(20);
  EXPECT_EQ(counts["v1"], 20) << ::testing::PrintToString(counts);
}

TEST_F(PilotLabTest, AnObjectPilotRefusesFailsUpWithItsLineAndLeavesNothing) {
  std::string yaml = readSource("examples/bookinfo/lab/bookinfo.yaml");
  int line = static_cast<int>(std::count(yaml.begin(), yaml.end(), '\n')) + 2;
  std::string bad = kSplit8020;
  bad.replace(bad.find("weight: 20"), 10, "weight: 10");
  Status s = up(yaml + "---\n" + bad);
  if (skip_) GTEST_SKIP() << "this kernel cannot create a Linux bridge: " << s.message();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  EXPECT_THAT(s.message(), HasSubstr("pilot refuses objects of e2e.yaml"));
  EXPECT_THAT(s.message(), HasSubstr("VirtualService default/reviews: spec.http[0].route: weights "
                                     "sum to 90, want 100 (e2e.yaml:" +
                                     std::to_string(line) + ")"));
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  EXPECT_FALSE(lab::readLabState(options()).ok()) << "the state must be gone";
}

}  // namespace
}  // namespace remora::test
