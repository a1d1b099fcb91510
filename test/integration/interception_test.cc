// The seed's interception at L4 (S1 + S2), for real: inside a network
// namespace made by the test, an iptables REDIRECT sends the pod's outbound
// TCP to the proxy's 15001; the virtual listener reads the original
// destination and hands the connection to the listener that owns it.
// Needs root (CI is root); skips only without root or iptables.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "support/process.h"
#include "support/tcp_servers.h"

namespace remora::test {
namespace {

using network::SocketAddress;
using std::chrono::seconds;

constexpr const char* kPodIp = "10.200.0.2";  // exists only inside the test's namespace
constexpr int kProxyUid = 1337;

std::string run(const std::vector<std::string>& argv) {
  std::string out;
  int st = runCommand(argv, &out);
  if (st != 0) ADD_FAILURE() << "command failed (" << st << "): " << argv[0] << " ... " << out;
  return out;
}

class InterceptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace";
    std::string out;
    if (runCommand({"iptables", "--version"}, &out) != 0) GTEST_SKIP() << "iptables not installed";
    ns_ = "remora-it-" + std::to_string(getpid());
    run({"ip", "netns", "add", ns_});
    created_ = true;
    exec({"ip", "link", "set", "lo", "up"});
    // A veth pair inside the namespace gives the pod its IP (veth exists in
    // every kernel that has network namespaces; dummy is a module some lack).
    exec({"ip", "link", "add", "pod0", "type", "veth", "peer", "name", "pod0-peer"});
    exec({"ip", "addr", "add", std::string(kPodIp) + "/24", "dev", "pod0"});
    exec({"ip", "link", "set", "pod0-peer", "up"});
    exec({"ip", "link", "set", "pod0", "up"});
    // S1 in small: outbound TCP from anyone but the proxy's UID goes to
    // 15001; localhost is spared (the proxy reaches the app on 127.0.0.1).
    exec({"iptables", "-t", "nat", "-N", "TEST_OUTPUT"});
    exec({"iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "TEST_OUTPUT"});
    exec({"iptables", "-t", "nat", "-A", "TEST_OUTPUT", "-m", "owner", "--uid-owner",
          std::to_string(kProxyUid), "-j", "RETURN"});
    exec({"iptables", "-t", "nat", "-A", "TEST_OUTPUT", "-d", "127.0.0.1/32", "-j", "RETURN"});
    exec({"iptables", "-t", "nat", "-A", "TEST_OUTPUT", "-p", "tcp", "-j", "REDIRECT",
          "--to-ports", "15001"});
    // This thread (and the threads and children it starts) now live in the pod.
    int fd = open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    original_ns_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0);
    close(fd);
  }

  void TearDown() override {
    proxy_.reset();
    if (original_ns_ >= 0) {
      setns(original_ns_, CLONE_NEWNET);
      close(original_ns_);
    }
    if (created_) run({"ip", "netns", "del", ns_});
  }

  void exec(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns_});
    run(argv);
  }

  // Runs the proxy inside the namespace as UID/GID 1337, like a sidecar.
  void startProxy(const std::string& yaml) {
    std::string path = writeTempFile("intercept-" + ns_ + ".yaml", yaml);
    chmod(path.c_str(), 0644);
    chmod(path.substr(0, path.rfind('/')).c_str(), 0755);
    proxy_ = std::make_unique<ChildProcess>();
    ASSERT_TRUE(proxy_->start({"setpriv", "--reuid", std::to_string(kProxyUid), "--regid",
                               std::to_string(kProxyUid), "--clear-groups", binaryPath("remora-proxy"),
                               "-c", path, "--concurrency", "2"}));
    ASSERT_TRUE(waitReady(*SocketAddress::parse("127.0.0.1:15000"), seconds(10)))
        << proxy_->output();
  }

  std::string config(const std::string& catch_all_cluster) {
    return std::string(R"(
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
static_resources:
  listeners:
  - name: virtual
    address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }
    use_original_dst: true
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: )") + catch_all_cluster + R"(
          cluster: )" + catch_all_cluster + R"(
  - name: )" + kPodIp + R"(_9080
    address: { socket_address: { address: )" + kPodIp + R"(, port_value: 9080 } }
    bind_to_port: false
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: inbound_9080
          cluster: inbound|9080||reviews.default.svc.cluster.local
  clusters:
  - name: inbound|9080||reviews.default.svc.cluster.local
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: inbound|9080||reviews.default.svc.cluster.local
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9080 } } }
  - name: PassthroughCluster
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 1s
  - name: BlackHoleCluster
    type: STATIC
    connect_timeout: 1s
)";
  }

  std::string ns_;
  bool created_ = false;
  int original_ns_ = -1;
  std::unique_ptr<ChildProcess> proxy_;
};

std::string roundTrip(const std::string& to, const std::string& payload) {
  int fd = connectBlocking(*SocketAddress::parse(to));
  if (fd < 0) return "<connect failed>";
  writeAll(fd, payload.data(), payload.size());
  shutdown(fd, SHUT_WR);
  std::string r = readToEof(fd);
  close(fd);
  return r;
}

TEST_F(InterceptionTest, VirtualListenerHandsOffByOriginalDestination) {
  EchoServer app("127.0.0.1:9080", "|from-app");  // the app, on localhost like in a pod
  startProxy(config("PassthroughCluster"));
  // The client dials the pod IP; iptables redirects it to 15001.
  EXPECT_EQ(roundTrip(std::string(kPodIp) + ":9080", "GET /"), "GET /|from-app");
  SocketAddress admin = *SocketAddress::parse("127.0.0.1:15000");
  EXPECT_EQ(statValue(admin, "listener.0.0.0.0_15001.downstream_cx_total"), 0)
      << "the connection is counted on the listener it was handed to";
  EXPECT_EQ(statValue(admin, std::string("listener.") + kPodIp + "_9080.downstream_cx_total"), 1);
  EXPECT_EQ(statValue(admin, "cluster.inbound|9080||reviews.default.svc.cluster.local.upstream_cx_total"), 1);
  EXPECT_EQ(app.connections(), 1);
}

TEST_F(InterceptionTest, UnknownPortGoesToPassthrough) {
  EchoServer other("0.0.0.0:7777", "|other");
  startProxy(config("PassthroughCluster"));
  // No listener owns :7777: the virtual listener's own chain forwards the
  // connection to its original destination; the proxy's own connection (UID
  // 1337) is not captured again.
  EXPECT_EQ(roundTrip(std::string(kPodIp) + ":7777", "x"), "x|other");
  SocketAddress admin = *SocketAddress::parse("127.0.0.1:15000");
  EXPECT_EQ(statValue(admin, "cluster.PassthroughCluster.upstream_cx_total"), 1);
  EXPECT_EQ(statValue(admin, "listener.0.0.0.0_15001.downstream_cx_total"), 1);
  EXPECT_EQ(other.connections(), 1);
}

TEST_F(InterceptionTest, UnknownPortGoesToBlackHoleWhenConfigured) {
  EchoServer other("0.0.0.0:7777", "|other");
  startProxy(config("BlackHoleCluster"));
  EXPECT_EQ(roundTrip(std::string(kPodIp) + ":7777", "x"), "");
  SocketAddress admin = *SocketAddress::parse("127.0.0.1:15000");
  EXPECT_EQ(statValue(admin, "cluster.BlackHoleCluster.upstream_cx_none_healthy"), 1);
  EXPECT_EQ(other.connections(), 0);
}

}  // namespace
}  // namespace remora::test
