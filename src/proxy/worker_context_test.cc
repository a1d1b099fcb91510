#include "proxy/worker_context.h"

#include <gtest/gtest.h>

namespace remora::proxy {
namespace {

envoy::config::endpoint::v3::ClusterLoadAssignment assignment(std::vector<int> ports) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("eds");
  auto* loc = cla.add_endpoints();
  for (int p : ports) {
    auto* sa =
        loc->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address("127.0.0.1");
    sa->set_port_value(static_cast<uint32_t>(p));
  }
  return cla;
}

class ClusterStateTest : public ::testing::Test {
 protected:
  ClusterStateTest() : dispatcher_(event::Dispatcher::create("t").value()), worker_(*dispatcher_) {
    envoy::config::cluster::v3::Cluster c;
    c.set_name("eds");
    c.set_type(envoy::config::cluster::v3::Cluster::EDS);
    *c.mutable_load_assignment() = assignment({1001, 1002});
    cluster_ = std::move(upstream::Cluster::create(c, stats_).value());
  }
  StatsStore stats_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  WorkerContext worker_;
  upstream::ClusterSharedPtr cluster_;
};

TEST_F(ClusterStateTest, HostSetSwapsWhileKeptHostsKeepTheirPools) {
  ClusterState& state = worker_.clusterState(cluster_);
  EXPECT_EQ(&state, &worker_.clusterState(cluster_));
  const upstream::HostSet& before = state.hosts();
  ASSERT_EQ(before.usable.size(), 2u);
  upstream::HostSharedPtr kept = before.usable[1];  // port 1002
  upstream::ConnPool* kept_pool = &state.poolFor(kept);
  state.poolFor(before.usable[0]);

  // EDS: 1001 leaves, 1002 stays, 1003 arrives.
  ASSERT_TRUE(cluster_->updateHosts(assignment({1002, 1003})).ok());
  const upstream::HostSet& after = state.hosts();
  ASSERT_EQ(after.usable.size(), 2u);
  // The unchanged endpoint is the same Host object, with the same pool.
  EXPECT_EQ(after.usable[0], kept);
  EXPECT_EQ(&state.poolFor(kept), kept_pool);
  EXPECT_EQ(after.usable[1]->address.port, 1003);
  EXPECT_EQ(stats_.valueOf("cluster.eds.membership_total"), 2);
}

TEST_F(ClusterStateTest, WeightChangeMakesANewHost) {
  ClusterState& state = worker_.clusterState(cluster_);
  upstream::HostSharedPtr first = state.hosts().usable[0];
  auto cla = assignment({1001, 1002});
  cla.mutable_endpoints(0)->mutable_lb_endpoints(0)->mutable_load_balancing_weight()->set_value(5);
  ASSERT_TRUE(cluster_->updateHosts(cla).ok());
  const upstream::HostSet& now = state.hosts();
  EXPECT_NE(now.usable[0], first);
  EXPECT_EQ(now.usable[0]->weight, 5u);
  EXPECT_FALSE(now.equal_weights);
}

TEST_F(ClusterStateTest, OriginalDestinationsGetTheirOwnPools) {
  ClusterState& state = worker_.clusterState(cluster_);
  auto a = *network::SocketAddress::parse("10.0.0.1:80");
  auto b = *network::SocketAddress::parse("10.0.0.2:80");
  upstream::ConnPool& pa = state.poolForDestination(a);
  EXPECT_EQ(&pa, &state.poolForDestination(a));
  EXPECT_NE(&pa, &state.poolForDestination(b));
  EXPECT_EQ(pa.host().address, a);
}

}  // namespace
}  // namespace remora::proxy
