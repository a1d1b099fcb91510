#include "upstream/least_request_lb.h"

namespace remora::upstream {

const HostSharedPtr* LeastRequestLoadBalancer::chooseHost(const HostSet& set) {
  const auto& hosts = set.usable;
  if (hosts.empty()) return nullptr;
  if (hosts.size() == 1) return &hosts[0];
  size_t best = pickWeighted(set, random_.next());
  for (uint32_t i = 1; i < choice_count_; ++i) {
    size_t c = pickWeighted(set, random_.next());
    if (set.equal_weights) {
      if (hosts[c]->rq_active.value() < hosts[best]->rq_active.value()) best = c;
    } else {
      // The host with more weight per request in flight wins.
      auto score = [&](size_t k) {
        return static_cast<double>(hosts[k]->weight) /
               static_cast<double>(hosts[k]->rq_active.value() + 1);
      };
      if (score(c) > score(best)) best = c;
    }
  }
  return &hosts[best];
}

}  // namespace remora::upstream
