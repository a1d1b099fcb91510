#include "upstream/cluster.h"

#include <gtest/gtest.h>

#include <map>

#include "upstream/round_robin_lb.h"

namespace remora::upstream {
namespace {

envoy::config::cluster::v3::Cluster staticCluster(std::vector<std::pair<std::string, int>> eps) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("backend");
  c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  auto* la = c.mutable_load_assignment();
  la->set_cluster_name("backend");
  auto* loc = la->add_endpoints();
  for (const auto& [ip, port] : eps) {
    auto* sa =
        loc->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address(ip);
    sa->set_port_value(port);
  }
  return c;
}

TEST(ClusterTest, StaticClusterRoundRobins) {
  StatsStore stats;
  auto c = Cluster::create(staticCluster({{"127.0.0.1", 9001}, {"127.0.0.1", 9002}}), stats);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(stats.valueOf("cluster.backend.membership_total"), 2);
  RoundRobinLoadBalancer lb;
  auto hosts = (*c)->hosts();
  std::vector<uint16_t> ports;
  for (int i = 0; i < 4; ++i)
    ports.push_back((*lb.chooseHost(*hosts))->address.port);
  EXPECT_EQ(ports, (std::vector<uint16_t>{9001, 9002, 9001, 9002}));
}

TEST(ClusterTest, WeightedRoundRobinIsProportional) {
  StatsStore stats;
  auto cfg = staticCluster({{"127.0.0.1", 1}, {"127.0.0.1", 2}});
  cfg.mutable_load_assignment()
      ->mutable_endpoints(0)
      ->mutable_lb_endpoints(0)
      ->mutable_load_balancing_weight()
      ->set_value(3);
  auto c = Cluster::create(cfg, stats);
  ASSERT_TRUE(c.ok());
  RoundRobinLoadBalancer lb;
  std::map<uint16_t, int> seen;
  auto hosts = (*c)->hosts();
  for (int i = 0; i < 400; ++i)
    seen[(*lb.chooseHost(*hosts))->address.port]++;
  EXPECT_EQ(seen[1], 300);
  EXPECT_EQ(seen[2], 100);
}

TEST(ClusterTest, EmptyClusterHasNoHost) {
  StatsStore stats;
  envoy::config::cluster::v3::Cluster c;
  c.set_name("BlackHoleCluster");
  auto cl = Cluster::create(c, stats);
  ASSERT_TRUE(cl.ok());
  RoundRobinLoadBalancer lb;
  EXPECT_EQ(lb.chooseHost(*(*cl)->hosts()), nullptr);
}

TEST(ClusterTest, BadEndpointNamesTheField) {
  StatsStore stats;
  auto c = Cluster::create(staticCluster({{"127.0.0.1", 80}, {"not-an-ip", 80}}), stats);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "load_assignment: endpoints[0].lb_endpoints[1].endpoint.address.socket_address."
            "address: \"not-an-ip\" is not an IPv4 or IPv6 address");
}

TEST(ClusterTest, UnsupportedTypeIsRefused) {
  StatsStore stats;
  envoy::config::cluster::v3::Cluster c;
  c.set_name("dns");
  c.set_type(envoy::config::cluster::v3::Cluster::STRICT_DNS);
  auto cl = Cluster::create(c, stats);
  ASSERT_FALSE(cl.ok());
  EXPECT_NE(cl.status().message().find("STRICT_DNS is not supported"), std::string::npos);
}

}  // namespace
}  // namespace remora::upstream
