// Round robin; weighted hosts appear in proportion to their weight, spread by
// a smooth weighted round robin so a heavy host does not get bursts.
#pragma once

#include <vector>

#include "upstream/load_balancer.h"

namespace remora::upstream {

class RoundRobinLoadBalancer : public LoadBalancer {
 public:
  const HostSharedPtr* chooseHost(const HostSet& hosts) override;

 private:
  size_t next_ = 0;
  // Smooth weighted round robin state, reset when the host set changes.
  const HostSet* weighted_for_ = nullptr;
  std::vector<int64_t> current_;
};

}  // namespace remora::upstream
