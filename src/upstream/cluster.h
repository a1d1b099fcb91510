// A cluster: a named group of upstream hosts plus how to reach them. Built by
// the main thread from an Envoy v3 Cluster; workers read it. Only the host set
// changes after construction (EDS), swapped atomically and announced by a
// version number, so workers re-read the set only when it changed.
//
// Thread: create() and updateHosts() on the main thread; everything else from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/stats.h"
#include "common/status.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "upstream/histogram.h"
#include "upstream/host.h"
#include "upstream/load_balancer.h"

namespace remora::upstream {

struct ClusterStats {
  Counter* upstream_cx_total;
  Counter* upstream_cx_connect_fail;
  Counter* upstream_cx_connect_timeout;
  Counter* upstream_cx_none_healthy;
  Counter* upstream_cx_overflow;
  Gauge* upstream_cx_active;
  Counter* upstream_cx_rx_bytes_total;
  Counter* upstream_cx_tx_bytes_total;
  Counter* upstream_cx_destroy_remote;
  Counter* upstream_cx_destroy_local;
  Counter* upstream_cx_http1_total;
  Counter* upstream_cx_idle_timeout;
  Counter* upstream_cx_max_requests;
  Counter* upstream_cx_protocol_error;
  Counter* upstream_rq_total;
  Gauge* upstream_rq_active;
  Counter* upstream_rq_completed;
  Counter* upstream_rq_1xx;
  Counter* upstream_rq_2xx;
  Counter* upstream_rq_3xx;
  Counter* upstream_rq_4xx;
  Counter* upstream_rq_5xx;
  Counter* upstream_rq_pending_total;
  Gauge* upstream_rq_pending_active;
  Counter* upstream_rq_pending_overflow;
  Counter* upstream_rq_timeout;
  Counter* upstream_rq_rx_reset;
  Counter* upstream_rq_tx_reset;
  Counter* upstream_rq_retry;
  Counter* upstream_rq_retry_success;
  Counter* upstream_rq_retry_overflow;
  Gauge* membership_total;
  Gauge* membership_healthy;
  Histogram* upstream_rq_time;  // ms, from the request sent to the response complete
};

// Circuit breaker thresholds (the DEFAULT priority), cluster-wide: all
// workers count against the same limits, as in Envoy.
struct CircuitBreakers {
  uint64_t max_connections = 1024;
  uint64_t max_pending_requests = 1024;
  uint64_t max_requests = 1024;
  uint64_t max_retries = 3;
};

class Cluster {
 public:
  enum class Type { kStatic, kEds, kOriginalDst };
  using LbPolicy = upstream::LbPolicy;

  // Validates and compiles `config`; `stats` (and `histograms`, when given)
  // must outlive the cluster.
  static StatusOr<std::shared_ptr<Cluster>> create(
      const envoy::config::cluster::v3::Cluster& config, StatsStore& stats,
      Histograms* histograms = nullptr);

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  LbPolicy lbPolicy() const { return lb_config_.policy; }
  const LbConfig& lbConfig() const { return lb_config_; }
  std::chrono::milliseconds connectTimeout() const { return connect_timeout_; }
  uint32_t bufferLimitBytes() const { return buffer_limit_bytes_; }
  uint32_t maxConnections() const { return static_cast<uint32_t>(breakers_.max_connections); }
  const CircuitBreakers& circuitBreakers() const { return breakers_; }
  // Upstream HTTP connections unused this long are closed; 0: never.
  std::chrono::milliseconds idleTimeout() const { return idle_timeout_; }
  // Requests per upstream connection before it is closed; 0: unlimited.
  uint32_t maxRequestsPerConnection() const { return max_requests_per_connection_; }
  // ORIGINAL_DST with use_http_header: the (lower-case) request header that
  // names the destination ("x-envoy-original-dst-host"); "" when off.
  const std::string& originalDstHeader() const { return original_dst_header_; }
  const envoy::config::cluster::v3::Cluster& config() const { return config_; }
  const ClusterStats& stats() const { return stats_; }

  // Any thread. The current hosts; keep the pointer for the whole decision.
  HostSetConstSharedPtr hosts() const;
  // Any thread. Changes whenever the host set is replaced, so a worker can
  // keep its copy of hosts() until this moves.
  uint64_t hostsVersion() const { return hosts_version_.load(std::memory_order_acquire); }
  // Main thread. Replaces the hosts (EDS); validation errors name the field.
  Status updateHosts(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment);

 private:
  Cluster() = default;

  std::string name_;
  Type type_ = Type::kStatic;
  LbConfig lb_config_;
  std::chrono::milliseconds connect_timeout_{5000};
  std::chrono::milliseconds idle_timeout_{3600 * 1000};
  uint32_t max_requests_per_connection_ = 0;
  std::string original_dst_header_;
  uint32_t buffer_limit_bytes_ = 1024 * 1024;
  CircuitBreakers breakers_;
  envoy::config::cluster::v3::Cluster config_;
  ClusterStats stats_{};
  std::unique_ptr<Histogram> own_histogram_;  // when no registry was given
  mutable std::mutex hosts_lock_;             // taken only when the version moved
  HostSetConstSharedPtr hosts_;
  std::atomic<uint64_t> hosts_version_{0};
};

using ClusterSharedPtr = std::shared_ptr<Cluster>;

}  // namespace remora::upstream
