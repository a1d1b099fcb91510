// An upstream host (an endpoint of a cluster) and the immutable set of hosts a
// cluster has at one moment. A host set is replaced whole (EDS), never edited,
// so workers can keep using the set they picked without locks.
//
// Thread: a Host's counters are updated by every worker (relaxed atomics) and
// read by admin on the main thread; everything else is immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/stats.h"
#include "network/address.h"

namespace remora::upstream {

enum class HealthStatus { kUnknown, kHealthy, kUnhealthy, kDraining, kTimeout, kDegraded };

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
  Counter rq_total;
  Counter rq_success;  // 1xx-4xx responses
  Counter rq_error;    // 5xx responses, resets, connect failures
  Counter rq_timeout;
  // Requests in flight to this host from all workers: what LEAST_REQUEST
  // compares.
  Gauge rq_active;

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
  // Facts about `usable` the balancers would otherwise recompute per pick.
  bool equal_weights = true;
  uint64_t total_weight = 0;
  std::vector<uint64_t> cumulative_weights;  // [i] = sum of weights of usable[0..i]
};

using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

HostSetConstSharedPtr makeHostSet(std::vector<HostSharedPtr> hosts);

}  // namespace remora::upstream
