// Load balancers pick one host from a host set. One instance per worker and
// cluster, so they keep their state (round-robin position, random generator)
// without locks. Each policy is one small class in its own file:
// round_robin_lb.cc, least_request_lb.cc, random_lb.cc.
//
// Thread: the owning worker.
#pragma once

#include <cstdint>
#include <memory>

#include "upstream/host.h"

namespace remora::upstream {

enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom, kClusterProvided };

struct LbConfig {
  LbPolicy policy = LbPolicy::kRoundRobin;
  uint32_t choice_count = 2;  // LEAST_REQUEST: hosts compared per pick
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // A host from `hosts.usable`, or nullptr when it is empty. The pointer is
  // into `hosts`: keep the set alive while using it.
  virtual const HostSharedPtr* chooseHost(const HostSet& hosts) = 0;
};

// The balancer for a policy; `seed` feeds its random choices, so tests are
// deterministic.
std::unique_ptr<LoadBalancer> makeLoadBalancer(const LbConfig& config, uint64_t seed);

// A usable host drawn with probability weight / total weight (shared by the
// balancers that draw at random).
size_t pickWeighted(const HostSet& hosts, uint64_t random);

}  // namespace remora::upstream
