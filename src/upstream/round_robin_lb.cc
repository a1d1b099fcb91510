#include "upstream/round_robin_lb.h"

#include <algorithm>

#include "upstream/least_request_lb.h"
#include "upstream/random_lb.h"

namespace remora::upstream {

const HostSharedPtr* RoundRobinLoadBalancer::chooseHost(const HostSet& set) {
  const auto& hosts = set.usable;
  if (hosts.empty()) return nullptr;
  if (set.equal_weights) return &hosts[next_++ % hosts.size()];

  if (weighted_for_ != &set || current_.size() != hosts.size()) {
    weighted_for_ = &set;
    current_.assign(hosts.size(), 0);
  }
  int64_t total = static_cast<int64_t>(set.total_weight);
  size_t best = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    current_[i] += hosts[i]->weight;
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= total;
  return &hosts[best];
}

size_t pickWeighted(const HostSet& set, uint64_t random) {
  if (set.equal_weights) return static_cast<size_t>(random % set.usable.size());
  uint64_t r = random % set.total_weight;
  // First host whose cumulative weight exceeds r.
  auto it = std::upper_bound(set.cumulative_weights.begin(), set.cumulative_weights.end(), r);
  return static_cast<size_t>(it - set.cumulative_weights.begin());
}

std::unique_ptr<LoadBalancer> makeLoadBalancer(const LbConfig& config, uint64_t seed) {
  switch (config.policy) {
    case LbPolicy::kLeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(config.choice_count, seed);
    case LbPolicy::kRandom:
      return std::make_unique<RandomLoadBalancer>(seed);
    case LbPolicy::kRoundRobin:
    case LbPolicy::kClusterProvided:
      break;
  }
  return std::make_unique<RoundRobinLoadBalancer>();
}

}  // namespace remora::upstream
