// A cluster: a named group of upstream hosts plus how to reach them. Built by
// the main thread from an Envoy v3 Cluster; workers read it. Only the host set
// changes after construction (EDS), swapped atomically.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/stats.h"
#include "common/status.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "upstream/host.h"

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
  Gauge* membership_total;
  Gauge* membership_healthy;
};

class Cluster {
 public:
  enum class Type { kStatic, kEds, kOriginalDst };
  enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom, kClusterProvided };

  // Validates and compiles `config`; `stats` must outlive the cluster.
  static StatusOr<std::shared_ptr<Cluster>> create(
      const envoy::config::cluster::v3::Cluster& config, StatsStore& stats);

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  LbPolicy lbPolicy() const { return lb_policy_; }
  std::chrono::milliseconds connectTimeout() const { return connect_timeout_; }
  uint32_t bufferLimitBytes() const { return buffer_limit_bytes_; }
  uint32_t maxConnections() const { return max_connections_; }
  const envoy::config::cluster::v3::Cluster& config() const { return config_; }
  const ClusterStats& stats() const { return stats_; }

  // Any thread. The current hosts; keep the pointer for the whole decision.
  HostSetConstSharedPtr hosts() const { return std::atomic_load(&hosts_); }
  // Main thread. Replaces the hosts (EDS); validation errors name the field.
  Status updateHosts(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment);

 private:
  Cluster() = default;

  std::string name_;
  Type type_ = Type::kStatic;
  LbPolicy lb_policy_ = LbPolicy::kRoundRobin;
  std::chrono::milliseconds connect_timeout_{5000};
  uint32_t buffer_limit_bytes_ = 1024 * 1024;
  uint32_t max_connections_ = 1024;
  envoy::config::cluster::v3::Cluster config_;
  ClusterStats stats_{};
  HostSetConstSharedPtr hosts_;
};

using ClusterSharedPtr = std::shared_ptr<Cluster>;

}  // namespace remora::upstream
