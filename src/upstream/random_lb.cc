#include "upstream/random_lb.h"

namespace remora::upstream {

const HostSharedPtr* RandomLoadBalancer::chooseHost(const HostSet& hosts) {
  if (hosts.usable.empty()) return nullptr;
  return &hosts.usable[pickWeighted(hosts, random_.next())];
}

}  // namespace remora::upstream
