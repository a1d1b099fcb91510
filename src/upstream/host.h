// An upstream host (an endpoint of a cluster) and the immutable set of hosts a
// cluster has at one moment. A host set is replaced whole (EDS), never edited,
// so workers can keep using the set they picked without locks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/stats.h"
#include "network/address.h"

namespace remora::upstream {

enum class HealthStatus { kUnknown, kHealthy, kUnhealthy, kDraining, kTimeout, kDegraded };

struct HostStats {
  Counter* cx_total = nullptr;
  Counter* cx_connect_fail = nullptr;
  Gauge* cx_active = nullptr;
};

struct Host {
  network::SocketAddress address;
  std::string hostname;
  uint32_t weight = 1;
  HealthStatus health = HealthStatus::kUnknown;
  // Counted per host as Envoy's /clusters shows them. Owned by the host so
  // they survive a host set swap only while a worker still holds the host.
  Counter cx_total;
  Counter cx_connect_fail;
  Gauge cx_active;

  // Envoy sends traffic to hosts whose EDS status is HEALTHY or UNKNOWN
  // (no health checking) and to DEGRADED ones only when nothing else is left.
  bool usable() const {
    return health == HealthStatus::kUnknown || health == HealthStatus::kHealthy;
  }
};

using HostSharedPtr = std::shared_ptr<Host>;

struct HostSet {
  std::vector<HostSharedPtr> hosts;
  std::vector<HostSharedPtr> usable;  // the subset load balancers pick from
};

using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

HostSetConstSharedPtr makeHostSet(std::vector<HostSharedPtr> hosts);

}  // namespace remora::upstream
