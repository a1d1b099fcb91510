#include "upstream/load_balancer.h"

#include <gtest/gtest.h>

#include <map>

#include "upstream/least_request_lb.h"
#include "upstream/random_lb.h"
#include "upstream/round_robin_lb.h"

namespace remora::upstream {
namespace {

HostSetConstSharedPtr hostsWithWeights(std::vector<uint32_t> weights) {
  std::vector<HostSharedPtr> hosts;
  for (size_t i = 0; i < weights.size(); ++i) {
    auto h = std::make_shared<Host>();
    h->address = *network::SocketAddress::parse("127.0.0.1:" + std::to_string(9000 + i));
    h->weight = weights[i];
    hosts.push_back(h);
  }
  return makeHostSet(std::move(hosts));
}

size_t indexOf(const HostSet& set, const HostSharedPtr* h) {
  return static_cast<size_t>((*h)->address.port - 9000);
}

std::map<size_t, int> draw(LoadBalancer& lb, const HostSet& set, int n) {
  std::map<size_t, int> seen;
  for (int i = 0; i < n; ++i)
    seen[indexOf(set, lb.chooseHost(set))]++;
  return seen;
}

TEST(HostSetTest, PrecomputesWeights) {
  auto set = hostsWithWeights({1, 3, 2});
  EXPECT_FALSE(set->equal_weights);
  EXPECT_EQ(set->total_weight, 6u);
  EXPECT_EQ(set->cumulative_weights, (std::vector<uint64_t>{1, 4, 6}));
  EXPECT_TRUE(hostsWithWeights({5, 5})->equal_weights);
}

TEST(HostSetTest, UnhealthyHostsAreNotPicked) {
  auto set = hostsWithWeights({1, 1, 1});
  auto hosts = set->hosts;
  hosts[1]->health = HealthStatus::kUnhealthy;
  auto filtered = makeHostSet(hosts);
  ASSERT_EQ(filtered->usable.size(), 2u);
  RoundRobinLoadBalancer lb;
  auto seen = draw(lb, *filtered, 10);
  EXPECT_EQ(seen.count(1), 0u);
}

TEST(PickWeightedTest, MapsRandomValuesOntoCumulativeWeights) {
  auto set = hostsWithWeights({1, 3, 2});
  EXPECT_EQ(pickWeighted(*set, 0), 0u);
  EXPECT_EQ(pickWeighted(*set, 1), 1u);
  EXPECT_EQ(pickWeighted(*set, 3), 1u);
  EXPECT_EQ(pickWeighted(*set, 4), 2u);
  EXPECT_EQ(pickWeighted(*set, 5), 2u);
  EXPECT_EQ(pickWeighted(*set, 6), 0u);  // modulo the total
}

TEST(RoundRobinTest, CyclesThroughEqualHosts) {
  auto set = hostsWithWeights({1, 1, 1});
  RoundRobinLoadBalancer lb;
  std::vector<size_t> order;
  for (int i = 0; i < 6; ++i)
    order.push_back(indexOf(*set, lb.chooseHost(*set)));
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinTest, SmoothWeightedSpreadsTheHeavyHost) {
  auto set = hostsWithWeights({5, 1, 1});
  RoundRobinLoadBalancer lb;
  std::vector<size_t> order;
  for (int i = 0; i < 7; ++i)
    order.push_back(indexOf(*set, lb.chooseHost(*set)));
  // Nginx's smooth weighted round robin sequence for 5:1:1.
  EXPECT_EQ(order, (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(RoundRobinTest, EmptySetHasNoHost) {
  auto set = hostsWithWeights({});
  RoundRobinLoadBalancer lb;
  EXPECT_EQ(lb.chooseHost(*set), nullptr);
}

TEST(RandomTest, SameSeedSamePicks) {
  auto set = hostsWithWeights({1, 1, 1, 1});
  RandomLoadBalancer a(42), b(42), c(43);
  std::vector<size_t> pa, pb, pc;
  for (int i = 0; i < 32; ++i) {
    pa.push_back(indexOf(*set, a.chooseHost(*set)));
    pb.push_back(indexOf(*set, b.chooseHost(*set)));
    pc.push_back(indexOf(*set, c.chooseHost(*set)));
  }
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa, pc);
}

TEST(RandomTest, FollowsTheWeights) {
  auto set = hostsWithWeights({1, 3});
  RandomLoadBalancer lb(7);
  auto seen = draw(lb, *set, 40000);
  // 1:3 within 2% of the draws.
  EXPECT_NEAR(seen[0], 10000, 800);
  EXPECT_NEAR(seen[1], 30000, 800);
}

TEST(LeastRequestTest, PrefersTheHostWithFewerRequestsInFlight) {
  auto set = hostsWithWeights({1, 1});
  set->usable[0]->rq_active.set(10);
  LeastRequestLoadBalancer lb(2, 1);
  auto seen = draw(lb, *set, 1000);
  // Host 0 wins only when both draws land on it: about a quarter of picks.
  EXPECT_GT(seen[1], 650);
  EXPECT_LT(seen[0], 350);
  EXPECT_GT(seen[0], 150);
}

TEST(LeastRequestTest, MoreChoicesMeanStricterPreference) {
  auto set = hostsWithWeights({1, 1, 1, 1});
  for (int i = 0; i < 3; ++i)
    set->usable[static_cast<size_t>(i)]->rq_active.set(5);
  LeastRequestLoadBalancer two(2, 3), eight(8, 3);
  auto s2 = draw(two, *set, 2000);
  auto s8 = draw(eight, *set, 2000);
  EXPECT_GT(s8[3], s2[3]);
  EXPECT_GT(s8[3], 1800);
}

TEST(LeastRequestTest, WeightsShareLoadByWeightPerRequest) {
  auto set = hostsWithWeights({4, 1});
  // Four times the weight and four times the load: even score, so the
  // draw's order decides and the heavy host is drawn more often.
  set->usable[0]->rq_active.set(3);
  set->usable[1]->rq_active.set(0);
  LeastRequestLoadBalancer lb(2, 5);
  auto seen = draw(lb, *set, 1000);
  EXPECT_GT(seen[0], 500);
  // With no load, the heavy host wins nearly always.
  set->usable[0]->rq_active.set(0);
  auto idle = draw(lb, *set, 1000);
  EXPECT_GT(idle[0], 900);
}

TEST(LeastRequestTest, DeterministicWithASeed) {
  auto set = hostsWithWeights({1, 1, 1});
  LeastRequestLoadBalancer a(2, 9), b(2, 9);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(a.chooseHost(*set), b.chooseHost(*set));
}

TEST(MakeLoadBalancerTest, OnePerPolicy) {
  auto set = hostsWithWeights({1, 1});
  for (LbPolicy p : {LbPolicy::kRoundRobin, LbPolicy::kLeastRequest, LbPolicy::kRandom}) {
    auto lb = makeLoadBalancer(LbConfig{p, 2}, 1);
    ASSERT_NE(lb, nullptr);
    EXPECT_NE(lb->chooseHost(*set), nullptr);
  }
  EXPECT_NE(dynamic_cast<LeastRequestLoadBalancer*>(
                makeLoadBalancer(LbConfig{LbPolicy::kLeastRequest, 2}, 1).get()),
            nullptr);
  EXPECT_NE(
      dynamic_cast<RandomLoadBalancer*>(makeLoadBalancer(LbConfig{LbPolicy::kRandom, 2}, 1).get()),
      nullptr);
}

}  // namespace
}  // namespace remora::upstream
