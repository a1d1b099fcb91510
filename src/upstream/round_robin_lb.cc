#include "upstream/round_robin_lb.h"

namespace remora::upstream {

HostSharedPtr RoundRobinLoadBalancer::chooseHost(const HostSet& set) {
  const auto& hosts = set.usable;
  if (hosts.empty()) return nullptr;
  bool weighted = false;
  for (const auto& h : hosts)
    weighted |= h->weight != 1;
  if (!weighted) return hosts[next_++ % hosts.size()];

  if (weighted_for_ != &set || current_.size() != hosts.size()) {
    weighted_for_ = &set;
    current_.assign(hosts.size(), 0);
  }
  int64_t total = 0;
  size_t best = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    current_[i] += hosts[i]->weight;
    total += hosts[i]->weight;
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= total;
  return hosts[best];
}

std::unique_ptr<LoadBalancer> makeLoadBalancer(Cluster::LbPolicy policy) {
  // LEAST_REQUEST and RANDOM arrive with the HTTP router (issue 3); until then
  // they balance round robin, which is correct if not optimal for L4.
  (void)policy;
  return std::make_unique<RoundRobinLoadBalancer>();
}

}  // namespace remora::upstream
