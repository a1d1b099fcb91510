// The lab, end to end (issue 4): pods in network namespaces on a bridge, each
// with remora-init's rules and a remora-proxy sidecar running as UID 1337,
// serving remora-app. Counters come from two independent places: the proxy's
// stats and the nat rules' packet counters (one per captured connection).
#include <signal.h>
#include <sys/stat.h>

#include <gmock/gmock.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "e2e/lab_fixture.h"
#include "lab/system.h"
#include "support/paths.h"
#include "support/process.h"

namespace remora::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kReviewsInbound = "inbound|9080||reviews.default.svc.cluster.local";
constexpr const char* kReviewsOutbound = "outbound|9080||reviews.default.svc.cluster.local";

TEST_F(LabTest, InboundToThePodIpIsCapturedAndReachesTheAppOnLocalhost) {
  upOrFail();
  std::string reviews = ip("reviews-v1");
  auto r = get("client", reviews + ":9080", "/inbound");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(jsonField(r->body, "pod"), "reviews-v1");
  EXPECT_EQ(jsonField(r->body, "version"), "v1");
  EXPECT_EQ(jsonField(r->body, "path"), "/inbound");
  // The app was reached by its proxy over localhost, not by the client.
  EXPECT_THAT(jsonField(r->body, "peer"), StartsWith("127.0.0.1:"));
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_IN_REDIRECT"), 1);
  EXPECT_EQ(stat("reviews-v1", "listener." + reviews + "_9080.downstream_cx_total"), 1);
  EXPECT_EQ(stat("reviews-v1", std::string("cluster.") + kReviewsInbound + ".upstream_cx_total"),
            1);
  // The proxy's own connection to 127.0.0.1:9080 was not captured.
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_REDIRECT"), 0);
}

TEST_F(LabTest, OutboundToAClusterIpGoesThroughBothProxiesWithoutALoop) {
  upOrFail();
  std::string productpage = ip("productpage");
  std::string reviews = ip("reviews-v1");
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  std::string reviews_vip;
  for (const auto& s : st->services) {
    if (s.name == "reviews") reviews_vip = s.cluster_ip;
  }
  constexpr int kRequests = 5;
  for (int i = 0; i < kRequests; ++i) {
    // client -> productpage (inbound capture) -> its app calls
    // http://reviews:9080 (hosts file -> cluster IP -> outbound capture) ->
    // productpage's proxy -> reviews' pod IP (inbound capture) -> reviews' app.
    auto r = get("client", productpage + ":9080", "/productpage");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_THAT(r->body, HasSubstr("\"calls\":[{\"url\":\"http://reviews:9080/reviews/0\","
                                   "\"status\":200,\"body\":{\"pod\":\"reviews-v1\""));
  }
  // Exactly one outbound capture per request: the app's connection. Had the
  // proxy's upstream connection been captured again, it would count too (and
  // come back to the proxy forever).
  EXPECT_EQ(natPackets("productpage", "REMORA_REDIRECT"), kRequests);
  EXPECT_EQ(stat("productpage", "listener." + reviews_vip + "_9080.downstream_cx_total"),
            kRequests);
  EXPECT_EQ(stat("productpage", "listener.0.0.0.0_15001.downstream_cx_total"), 0)
      << "every connection is handed to the listener owning the cluster IP";
  EXPECT_EQ(stat("productpage", std::string("cluster.") + kReviewsOutbound + ".upstream_cx_total"),
            kRequests);
  EXPECT_EQ(stat("productpage", "cluster.PassthroughCluster.upstream_cx_total"), 0);
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_IN_REDIRECT"), kRequests);
  EXPECT_EQ(stat("reviews-v1", "listener." + reviews + "_9080.downstream_cx_total"), kRequests);
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_REDIRECT"), 0);
}

TEST_F(LabTest, CallingItsOwnServiceGoesOutAndBackInThroughTheProxy) {
  // The seed's first ISTIO_OUTPUT rule: productpage's app calls the
  // productpage Service; its proxy picks productpage's own pod IP; that
  // connection (UID 1337, over lo, not to 127.0.0.1) must enter the inbound
  // path instead of reaching the app unproxied or looping.
  upOrFail();
  std::string productpage = ip("productpage");
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  std::string vip = st->services[0].cluster_ip;  // productpage
  auto r = get("productpage", vip + ":9080", "/self-via-service");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(jsonField(r->body, "path"), "/self-via-service");
  EXPECT_THAT(jsonField(r->body, "peer"), StartsWith("127.0.0.1:"));
  EXPECT_EQ(stat("productpage", "listener." + vip + "_9080.downstream_cx_total"), 1);
  EXPECT_EQ(stat("productpage", "listener." + productpage + "_9080.downstream_cx_total"), 1);
  EXPECT_EQ(natPackets("productpage", "REMORA_IN_REDIRECT"), 1);
  // Two outbound captures: this call and the app's call to reviews.
  EXPECT_EQ(natPackets("productpage", "REMORA_REDIRECT"), 2);
}

TEST_F(LabTest, NothingAnswersAClusterIpWithoutTheProxy) {
  upOrFail();
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  std::string vip = st->services[1].cluster_ip;  // reviews
  // The client pod has no sidecar: its connect to the virtual IP goes out on
  // the bridge, where no one owns that address.
  auto r = get("client", vip + ":9080", "/");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("connect " + vip + ":9080"));
}

TEST_F(LabTest, LocalhostAndTheAppsOwnPodIpAreNotCaptured) {
  upOrFail();
  std::string reviews = ip("reviews-v1");
  EXPECT_THAT(peerSeenBy("reviews-v1", "127.0.0.1:9080", "/local"), StartsWith("127.0.0.1:"));
  // App to its own pod IP goes over lo from a UID other than 1337: RETURN.
  EXPECT_THAT(peerSeenBy("reviews-v1", reviews + ":9080", "/self"), StartsWith(reviews + ":"));
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_REDIRECT"), 0);
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_IN_REDIRECT"), 0);
  EXPECT_EQ(stat("reviews-v1", "listener." + reviews + "_9080.downstream_cx_total"), 0);
}

TEST_F(LabTest, InboundExclusionsApplyWithCaptureAll) {
  // productpage: -b '*' -d 15090,15021,15020,9090.
  upOrFail();
  std::string client = ip("client");
  std::string productpage = ip("productpage");
  EXPECT_THAT(peerSeenBy("client", productpage + ":9090", "/excluded"), StartsWith(client + ":"))
      << "the app saw the client itself: no proxy in between";
  EXPECT_EQ(natPackets("productpage", "REMORA_IN_REDIRECT"), 0);
  // 9091 is not excluded: captured, and with no listener for it the
  // virtualInbound closes it (its BlackHoleCluster), although the app listens.
  auto captured = get("client", productpage + ":9091", "/captured");
  ASSERT_FALSE(captured.ok());
  // Closed or reset, depending on whether the request was read yet.
  EXPECT_THAT(captured.status().message(), HasSubstr("without a response"));
  EXPECT_EQ(natPackets("productpage", "REMORA_IN_REDIRECT"), 1);
  EXPECT_EQ(stat("productpage", "cluster.BlackHoleCluster.upstream_cx_none_healthy"), 1);
}

TEST_F(LabTest, InboundPortListCapturesOnlyTheListedPorts) {
  // reviews: -b 9080.
  upOrFail();
  std::string client = ip("client");
  std::string reviews = ip("reviews-v1");
  EXPECT_THAT(peerSeenBy("client", reviews + ":9080", "/listed"), StartsWith("127.0.0.1:"));
  EXPECT_THAT(peerSeenBy("client", reviews + ":9090", "/unlisted"), StartsWith(client + ":"));
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_IN_REDIRECT"), 1);
}

TEST_F(LabTest, OutboundPortExclusionAndPassthrough) {
  // productpage: -o 9090. Its app (played by the test thread) calls reviews'
  // pod IP directly: 9090 leaves uncaptured; 9080 is captured, no listener
  // owns reviews' pod IP, so the virtualOutbound passes it through to its
  // original destination, where reviews' own rules capture it inbound.
  upOrFail();
  std::string productpage = ip("productpage");
  std::string reviews = ip("reviews-v1");
  EXPECT_THAT(peerSeenBy("productpage", reviews + ":9090", "/direct"),
              StartsWith(productpage + ":"));
  EXPECT_EQ(natPackets("productpage", "REMORA_REDIRECT"), 0);
  EXPECT_THAT(peerSeenBy("productpage", reviews + ":9080", "/passthrough"),
              StartsWith("127.0.0.1:"));
  EXPECT_EQ(natPackets("productpage", "REMORA_REDIRECT"), 1);
  EXPECT_EQ(stat("productpage", "cluster.PassthroughCluster.upstream_cx_total"), 1);
  EXPECT_EQ(natPackets("reviews-v1", "REMORA_IN_REDIRECT"), 1);
}

TEST_F(LabTest, HostsFilesResolveServiceNamesToClusterIps) {
  upOrFail();
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  std::string vip = st->services[1].cluster_ip;
  for (const char* name : {"reviews", "reviews.default", "reviews.default.svc.cluster.local"}) {
    std::string out;
    EXPECT_EQ(runCommand({"ip", "netns", "exec", netns("client"), "getent", "hosts", name}, &out),
              0)
        << name << ": " << out;
    EXPECT_THAT(out, StartsWith(vip + " ")) << name;
  }
  // The host's own /etc/hosts is untouched: only `ip netns exec` sees these.
  std::string host_hosts;
  runCommand({"cat", "/etc/hosts"}, &host_hosts);
  EXPECT_THAT(host_hosts, ::testing::Not(HasSubstr("reviews.default.svc.cluster.local")));
}

TEST_F(LabTest, StatusReportsHealthAndAnExitedProxy) {
  upOrFail();
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok()) << st.status().message();
  ASSERT_EQ(st->pods.size(), 3u);
  EXPECT_EQ(st->phase, "up");
  EXPECT_EQ(st->pods[0].health, "running");  // client: no sidecar
  EXPECT_EQ(st->pods[1].health, "ready");
  EXPECT_EQ(st->pods[2].health, "ready");
  pid_t proxy = 0;
  for (const auto& p : st->pods[2].processes) {
    if (p.role == "proxy") proxy = p.pid;
  }
  ASSERT_GT(proxy, 0);
  kill(proxy, SIGKILL);
  for (int i = 0; i < 100 && lab::isRunning({proxy, 0}); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pods[2].health, "proxy exited");
  EXPECT_THAT(lab::formatStatus(*st), HasSubstr("proxy=" + std::to_string(proxy) + "(exited)"));
}

TEST_F(LabTest, UpTwiceIsRefusedAndLeavesTheFirstLabAlone) {
  upOrFail();
  auto network = lab::parseNetwork(lab::kDefaultPodCidr, lab::kDefaultServiceCidr);
  auto spec = lab::parseLabSpec(labYaml(), "again.yaml", sourceDir(), *network);
  ASSERT_TRUE(spec.ok());
  Status again = lab::labUp(*spec, "again.yaml", options());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("lab " + name_ + " is already up (from e2e.yaml)"));
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pods[1].health, "ready");
  auto r = get("client", ip("reviews-v1") + ":9080", "/still-here");
  EXPECT_TRUE(r.ok()) << r.status().message();
}

// True if `path` is absent or a directory with entries.
bool absentOrInUse(const std::string& path) {
  std::error_code ec;
  return !std::filesystem::exists(path, ec) || !std::filesystem::is_empty(path, ec);
}

TEST_F(LabTest, DownStopsEveryProcessAndRemovesEveryTrace) {
  // Shared by all labs: if this lab made them, the last lab down removes
  // them; other tests' labs may hold them meanwhile, never empty.
  struct stat before;
  bool had_etc_netns = ::stat("/etc/netns", &before) == 0;
  bool had_state_root = ::stat(lab::kDefaultStateRoot, &before) == 0;
  upOrFail();
  auto st = lab::labStatus(options());
  ASSERT_TRUE(st.ok());
  std::vector<pid_t> pids;
  for (const auto& p : st->pods) {
    for (const auto& pr : p.processes)
      pids.push_back(pr.pid);
  }
  EXPECT_EQ(pids.size(), 5u);  // 3 apps + 2 proxies
  // Something started by hand inside a pod goes with it too; `setsid -f`
  // makes it nobody's child here, as a shell from `lab exec` would be.
  std::string out;
  ASSERT_EQ(
      runCommand({"setsid", "-f", "ip", "netns", "exec", netns("client"), "sleep", "300"}, &out), 0)
      << out;
  pid_t stray = 0;
  for (int i = 0; i < 100 && stray == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    runCommand({"ip", "netns", "pids", netns("client")}, &out);
    std::istringstream in(out);
    pid_t pid;
    while (in >> pid) {
      if (std::find(pids.begin(), pids.end(), pid) == pids.end()) stray = pid;
    }
  }
  ASSERT_GT(stray, 0) << "the stray sleep did not show up in " << netns("client");
  uint64_t stray_start = lab::processStartTime(stray);
  ASSERT_TRUE(lab::labDown(options()).ok());
  up_ = false;
  for (pid_t pid : pids) {
    EXPECT_FALSE(lab::isRunning({pid, 0})) << pid;
  }
  EXPECT_FALSE(lab::isRunning({stray, stray_start})) << "the stray process is still running";
  for (const char* pod : {"client", "productpage", "reviews-v1"}) {
    EXPECT_FALSE(lab::netnsExists(netns(pod)));
    struct stat s;
    EXPECT_NE(::stat(("/etc/netns/" + netns(pod)).c_str(), &s), 0) << pod;
  }
  EXPECT_FALSE(lab::netnsExists(name_));
  struct stat s;
  EXPECT_NE(::stat(lab::stateDir(options()).c_str(), &s), 0);
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  EXPECT_EQ(lab::labDown(options()).code(), StatusCode::kNotFound);
  if (!had_etc_netns) {
    EXPECT_TRUE(absentOrInUse("/etc/netns"));
  }
  if (!had_state_root) {
    EXPECT_TRUE(absentOrInUse(lab::kDefaultStateRoot));
  }
}

TEST_F(LabTest, AFailureHalfWayRemovesWhatWasMade) {
  // The last pod's container dies at once: by then namespaces, rules, two
  // proxies and two apps exist, and must all go again.
  Status s = up(labYaml(R"(
---
apiVersion: v1
kind: Pod
metadata: { name: broken }
spec:
  containers:
  - name: app
    command: [sh, -c, "echo about to fail; exit 3"]
    ports: [{ containerPort: 9080 }]
)"));
  if (skip_) GTEST_SKIP() << "this kernel cannot create a Linux bridge (bridge module)";
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("pod broken: container app exited with status 3"));
  EXPECT_THAT(s.message(), HasSubstr("about to fail"));
  up_ = false;
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
  struct stat st;
  EXPECT_NE(::stat(lab::stateDir(options()).c_str(), &st), 0);
  EXPECT_EQ(lab::labStatus(options()).status().code(), StatusCode::kNotFound);
}

TEST_F(LabTest, AProxyThatCannotStartFailsUpWithItsLog) {
  // A valid bootstrap whose listener address does not exist in the pod: the
  // proxy only finds out when it binds, and exits.
  std::string yaml = R"(
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  annotations:
    sidecar.istio.io/inject: "true"
    remora.io/proxy-bootstrap-yaml: |
      admin:
        address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
      static_resources:
        listeners:
        - name: elsewhere
          address: { socket_address: { address: 10.1.2.3, port_value: 8080 } }
          filter_chains:
          - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: elsewhere
                cluster: c
        clusters:
        - { name: c, type: STATIC, connect_timeout: 1s }
spec:
  containers: [{ command: [sleep, infinity] }]
)";
  Status s = up(yaml);
  if (skip_) GTEST_SKIP() << "this kernel cannot create a Linux bridge (bridge module)";
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("pod lonely: proxy exited"));
  EXPECT_THAT(s.message(), HasSubstr("10.1.2.3:8080"));
  up_ = false;
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
}

}  // namespace
}  // namespace remora::test
