// remora-proxy at L4 with real sockets on loopback: a client, the proxy as a
// child process, and real backends.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "support/process.h"
#include "support/tcp_servers.h"

namespace remora::test {
namespace {

using network::SocketAddress;
using std::chrono::milliseconds;
using std::chrono::seconds;

SocketAddress local(uint16_t port) { return *SocketAddress::parse("127.0.0.1:" + std::to_string(port)); }

// An Envoy-style static bootstrap, as users write it.
std::string bootstrap(uint16_t listen, uint16_t admin, const std::string& clusters_yaml,
                      const std::string& tcp_proxy_yaml) {
  return R"(
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: )" + std::to_string(admin) + R"( }
static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address: { address: 127.0.0.1, port_value: )" + std::to_string(listen) + R"( }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
)" + tcp_proxy_yaml + R"(
  clusters:
)" + clusters_yaml;
}

std::string staticCluster(const std::string& name, const std::vector<SocketAddress>& endpoints) {
  std::string y = "  - name: " + name + R"(
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: )" + name + R"(
      endpoints:
      - lb_endpoints:
)";
  for (const auto& e : endpoints) {
    y += "        - endpoint: { address: { socket_address: { address: " + e.ip.toString() +
         ", port_value: " + std::to_string(e.port) + " } } }\n";
  }
  if (endpoints.empty()) y += "        []\n";
  return y;
}

class TcpProxyTest : public ::testing::Test {
 protected:
  void startProxy(const std::string& yaml, int concurrency = 1) {
    config_path_ = writeTempFile("tcp-" + std::to_string(listen_) + ".yaml", yaml);
    ASSERT_TRUE(proxy_.start({binaryPath("remora-proxy"), "-c", config_path_, "--concurrency",
                              std::to_string(concurrency), "--drain-time-s", "2"}));
    ASSERT_TRUE(waitReady(local(admin_), seconds(10))) << proxy_.output();
  }
  std::string tcp(const std::string& cluster) {
    return "          stat_prefix: tcp_test\n          cluster: " + cluster + "\n";
  }

  uint16_t listen_ = freePort();
  uint16_t admin_ = freePort();
  std::string config_path_;
  ChildProcess proxy_;
};

TEST_F(TcpProxyTest, EchoesThroughTheProxyAndCounts) {
  EchoServer echo;
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")));
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(writeAll(fd, "hello remora", 12));
  shutdown(fd, SHUT_WR);
  EXPECT_EQ(readToEof(fd), "hello remora");
  close(fd);
  EXPECT_EQ(statValue(local(admin_), "cluster.echo.upstream_cx_total"), 1);
  EXPECT_EQ(statValue(local(admin_), "listener.127.0.0.1_" + std::to_string(listen_) +
                                         ".downstream_cx_total"),
            1);
  EXPECT_EQ(statValue(local(admin_), "tcp.tcp_test.downstream_cx_rx_bytes_total"), 12);
}

TEST_F(TcpProxyTest, LargeTransferArrivesIntact) {
  EchoServer echo;
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")));
  const size_t total = 128ull * 1024 * 1024;
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  // Deterministic pseudo-random payload; the reader recomputes it.
  auto byteAt = [](size_t i) { return static_cast<char>((i * 2654435761u) >> 13); };
  std::thread writer([&] {
    std::vector<char> chunk(1 << 20);
    for (size_t off = 0; off < total; off += chunk.size()) {
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = byteAt(off + i);
      if (!writeAll(fd, chunk.data(), chunk.size())) break;
    }
    shutdown(fd, SHUT_WR);
  });
  size_t got = 0;
  size_t mismatches = 0;
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) {
    for (ssize_t i = 0; i < n; ++i) mismatches += buf[static_cast<size_t>(i)] != byteAt(got + static_cast<size_t>(i));
    got += static_cast<size_t>(n);
  }
  writer.join();
  close(fd);
  EXPECT_EQ(got, total);
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(TcpProxyTest, HalfCloseTravelsBothWays) {
  // The backend answers only after the client's FIN has reached it, then
  // closes: both FINs must cross the proxy, in order, after the data.
  EchoServer echo("127.0.0.1:0", "|bye");
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")));
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(writeAll(fd, "request", 7));
  ASSERT_EQ(shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(readToEof(fd), "request|bye");
  close(fd);
}

TEST_F(TcpProxyTest, BackendDownClosesDownstreamAndCounts) {
  uint16_t dead = freePort();  // nothing listens there
  startProxy(bootstrap(listen_, admin_, staticCluster("dead", {local(dead)}), tcp("dead")));
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  EXPECT_EQ(readToEof(fd), "");  // closed by the proxy
  close(fd);
  for (int i = 0; i < 100 && statValue(local(admin_), "cluster.dead.upstream_cx_connect_fail") < 1; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(statValue(local(admin_), "cluster.dead.upstream_cx_connect_fail"), 1);
  auto clusters = httpRequest(local(admin_), "GET", "/clusters");
  EXPECT_NE(clusters.body.find("dead::127.0.0.1:" + std::to_string(dead) + "::cx_connect_fail::1"),
            std::string::npos)
      << clusters.body;
}

TEST_F(TcpProxyTest, BlackHoleClusterClosesAtOnce) {
  startProxy(bootstrap(listen_, admin_, staticCluster("BlackHoleCluster", {}), tcp("BlackHoleCluster")));
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  EXPECT_EQ(readToEof(fd), "");
  close(fd);
  EXPECT_EQ(statValue(local(admin_), "cluster.BlackHoleCluster.upstream_cx_none_healthy"), 1);
}

TEST_F(TcpProxyTest, SlowReaderDoesNotGrowProxyMemory) {
  // The backend would send 1 GiB; the client reads nothing. The proxy must
  // stop reading from the backend once its per-connection buffer is full.
  FirehoseServer firehose(1ull << 30);
  startProxy(bootstrap(listen_, admin_, staticCluster("fire", {firehose.address()}), tcp("fire")));
  long rss_before = rssKb(proxy_.pid());
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::this_thread::sleep_for(seconds(2));
  uint64_t sent = firehose.bytesSent();
  std::this_thread::sleep_for(milliseconds(500));
  // Stalled: kernel socket buffers and one bounded pipe hold it all.
  EXPECT_EQ(firehose.bytesSent(), sent);
  EXPECT_LT(sent, 64ull << 20) << "the backend was never throttled";
  long rss_after = rssKb(proxy_.pid());
  EXPECT_LT(rss_after - rss_before, 8 * 1024) << "proxy RSS grew by " << (rss_after - rss_before) << " KiB";
  EXPECT_GE(statValue(local(admin_), "tcp.tcp_test.downstream_cx_total"), 1);
  close(fd);
}

TEST_F(TcpProxyTest, WeightedClustersSplitConnections) {
  EchoServer a("127.0.0.1:0", "A");
  EchoServer b("127.0.0.1:0", "B");
  std::string clusters =
      staticCluster("a", {a.address()}) + staticCluster("b", {b.address()});
  std::string tcp_yaml = R"(          stat_prefix: split
          weighted_clusters:
            clusters:
            - { name: a, weight: 3 }
            - { name: b, weight: 1 }
)";
  startProxy(bootstrap(listen_, admin_, clusters, tcp_yaml));
  int as = 0, bs = 0;
  for (int i = 0; i < 200; ++i) {
    int fd = connectBlocking(local(listen_));
    ASSERT_GE(fd, 0);
    shutdown(fd, SHUT_WR);
    std::string r = readToEof(fd);
    close(fd);
    as += r == "A";
    bs += r == "B";
  }
  EXPECT_EQ(as + bs, 200);
  EXPECT_GT(as, 110);  // expected 150; far outside chance otherwise
  EXPECT_GT(bs, 20);   // expected 50
}

TEST_F(TcpProxyTest, RoundRobinAcrossEndpoints) {
  EchoServer a("127.0.0.1:0", "A");
  EchoServer b("127.0.0.1:0", "B");
  startProxy(bootstrap(listen_, admin_, staticCluster("ab", {a.address(), b.address()}), tcp("ab")));
  std::string seen;
  for (int i = 0; i < 4; ++i) {
    int fd = connectBlocking(local(listen_));
    shutdown(fd, SHUT_WR);
    seen += readToEof(fd);
    close(fd);
  }
  EXPECT_EQ(seen, "ABAB");
}

TEST_F(TcpProxyTest, AdminEndpoints) {
  EchoServer echo;
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")));
  auto dump = httpRequest(local(admin_), "GET", "/config_dump");
  EXPECT_EQ(dump.status, 200);
  EXPECT_NE(dump.body.find("type.googleapis.com/envoy.admin.v3.ListenersConfigDump"), std::string::npos);
  EXPECT_NE(dump.body.find("\"static_listeners\""), std::string::npos);
  EXPECT_NE(dump.body.find("type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"),
            std::string::npos);
  auto listeners = httpRequest(local(admin_), "GET", "/listeners");
  EXPECT_EQ(listeners.body, "listener_0::127.0.0.1:" + std::to_string(listen_) + "\n");
  auto prom = httpRequest(local(admin_), "GET", "/stats/prometheus");
  EXPECT_NE(prom.body.find("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"echo\"} 0"),
            std::string::npos)
      << prom.body;
  auto info = httpRequest(local(admin_), "GET", "/server_info");
  EXPECT_NE(info.body.find("\"state\": \"LIVE\""), std::string::npos) << info.body;
  EXPECT_EQ(httpRequest(local(admin_), "GET", "/clusters?format=json").status, 200);
  EXPECT_EQ(httpRequest(local(admin_), "GET", "/nope").status, 404);
  EXPECT_EQ(httpRequest(local(admin_), "GET", "/quitquitquit").status, 405);
  EXPECT_EQ(httpRequest(local(admin_), "POST", "/quitquitquit").status, 200);
  EXPECT_EQ(proxy_.wait(seconds(10)), 0);
}

TEST_F(TcpProxyTest, SigtermDrainsOpenConnectionsThenExits) {
  EchoServer echo;
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")), 2);
  int fd = connectBlocking(local(listen_));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(writeAll(fd, "a", 1));
  char c;
  ASSERT_EQ(read(fd, &c, 1), 1);
  proxy_.signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(200));
  // The open connection still works during the drain...
  ASSERT_TRUE(writeAll(fd, "b", 1));
  ASSERT_EQ(read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'b');
  // ...new ones are refused...
  EXPECT_LT(connectBlocking(local(listen_)), 0);
  EXPECT_TRUE(proxy_.running());
  // ...and the proxy exits cleanly once it closes.
  shutdown(fd, SHUT_WR);
  readToEof(fd);
  close(fd);
  EXPECT_EQ(proxy_.wait(seconds(5)), 0) << proxy_.output();
}

TEST_F(TcpProxyTest, DrainTimeoutClosesLingeringConnections) {
  EchoServer echo;
  startProxy(bootstrap(listen_, admin_, staticCluster("echo", {echo.address()}), tcp("echo")));
  int fd = connectBlocking(local(listen_));
  ASSERT_TRUE(writeAll(fd, "a", 1));
  char c;
  ASSERT_EQ(read(fd, &c, 1), 1);
  proxy_.signal(SIGTERM);
  // --drain-time-s 2: the proxy closes the idle connection and exits.
  EXPECT_EQ(proxy_.wait(seconds(6)), 0);
  EXPECT_EQ(readToEof(fd), "");
  close(fd);
}

TEST_F(TcpProxyTest, ValidateModeAcceptsGoodAndNamesFieldOfBad) {
  std::string out;
  std::string good = writeTempFile(
      "good.yaml", bootstrap(listen_, admin_, staticCluster("echo", {local(1)}), tcp("echo")));
  EXPECT_EQ(runCommand({binaryPath("remora-proxy"), "--mode", "validate", "-c", good}, &out), 0) << out;
  std::string bad = writeTempFile(
      "bad.yaml", bootstrap(listen_, admin_, staticCluster("echo", {local(1)}),
                            "          stat_prefix: x\n          clustr: echo\n"));
  EXPECT_EQ(runCommand({binaryPath("remora-proxy"), "--mode", "validate", "-c", bad}, &out), 1);
  EXPECT_NE(out.find("static_resources.listeners[0].filter_chains[0].filters[0].typed_config"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("clustr"), std::string::npos) << out;
  std::string unknown = writeTempFile(
      "unknown-cluster.yaml",
      bootstrap(listen_, admin_, staticCluster("echo", {local(1)}), tcp("nosuch")));
  EXPECT_EQ(runCommand({binaryPath("remora-proxy"), "--mode", "validate", "-c", unknown}, &out), 1);
  EXPECT_NE(out.find("nosuch"), std::string::npos) << out;
}

TEST_F(TcpProxyTest, AddressInUseIsAClearError) {
  // Something else already holds the port (without SO_REUSEPORT).
  int blocker = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_storage ss;
  socklen_t len = local(listen_).toSockaddr(&ss);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&ss), len), 0);
  ASSERT_EQ(::listen(blocker, 1), 0);
  std::string path = writeTempFile(
      "inuse.yaml", bootstrap(listen_, admin_, staticCluster("echo", {local(1)}), tcp("echo")));
  std::string out;
  EXPECT_EQ(runCommand({binaryPath("remora-proxy"), "-c", path}, &out), 1);
  EXPECT_NE(out.find("listener \"listener_0\": cannot bind 127.0.0.1:" + std::to_string(listen_)),
            std::string::npos)
      << out;
  close(blocker);
}

}  // namespace
}  // namespace remora::test
