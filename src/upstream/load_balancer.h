// Load balancers pick one host from a host set. One instance per worker and
// cluster, so they keep their state (round-robin position) without locks.
#pragma once

#include <memory>

#include "upstream/cluster.h"

namespace remora::upstream {

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // nullptr when the set has no usable host.
  virtual HostSharedPtr chooseHost(const HostSet& hosts) = 0;
};

// The balancer for a cluster's policy.
std::unique_ptr<LoadBalancer> makeLoadBalancer(Cluster::LbPolicy policy);

}  // namespace remora::upstream
