// LEAST_REQUEST as Envoy does it: the power of `choice_count` (default two)
// random choices. With equal weights the candidate with fewer requests in
// flight wins (ties: the first drawn). With unequal weights candidates are
// drawn by weight and compared by weight / (requests in flight + 1), so a
// heavy host takes proportionally more load.
#pragma once

#include "http/io.h"
#include "upstream/load_balancer.h"

namespace remora::upstream {

class LeastRequestLoadBalancer : public LoadBalancer {
 public:
  LeastRequestLoadBalancer(uint32_t choice_count, uint64_t seed)
      : choice_count_(choice_count < 2 ? 2 : choice_count), random_(seed) {}
  const HostSharedPtr* chooseHost(const HostSet& hosts) override;

 private:
  uint32_t choice_count_;
  http::RandomGenerator random_;
};

}  // namespace remora::upstream
