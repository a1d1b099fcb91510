// RANDOM: each pick independent, with probability weight / total weight.
#pragma once

#include "http/io.h"
#include "upstream/load_balancer.h"

namespace remora::upstream {

class RandomLoadBalancer : public LoadBalancer {
 public:
  explicit RandomLoadBalancer(uint64_t seed) : random_(seed) {}
  const HostSharedPtr* chooseHost(const HostSet& hosts) override;

 private:
  http::RandomGenerator random_;
};

}  // namespace remora::upstream
