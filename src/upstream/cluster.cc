#include "upstream/cluster.h"

#include <google/protobuf/util/time_util.h>

namespace remora::upstream {

using envoy::config::cluster::v3::Cluster_DiscoveryType;
using envoy::config::cluster::v3::Cluster_LbPolicy;

HostSetConstSharedPtr makeHostSet(std::vector<HostSharedPtr> hosts) {
  auto set = std::make_shared<HostSet>();
  for (const auto& h : hosts) {
    if (h->usable()) set->usable.push_back(h);
  }
  set->hosts = std::move(hosts);
  return set;
}

namespace {

HealthStatus fromProto(envoy::config::core::v3::HealthStatus s) {
  switch (s) {
    case envoy::config::core::v3::HEALTHY:
      return HealthStatus::kHealthy;
    case envoy::config::core::v3::UNHEALTHY:
      return HealthStatus::kUnhealthy;
    case envoy::config::core::v3::DRAINING:
      return HealthStatus::kDraining;
    case envoy::config::core::v3::TIMEOUT:
      return HealthStatus::kTimeout;
    case envoy::config::core::v3::DEGRADED:
      return HealthStatus::kDegraded;
    default:
      return HealthStatus::kUnknown;
  }
}

}  // namespace

StatusOr<std::shared_ptr<Cluster>> Cluster::create(
    const envoy::config::cluster::v3::Cluster& config, StatsStore& stats) {
  std::shared_ptr<Cluster> c(new Cluster());
  c->name_ = config.name();
  c->config_ = config;
  if (c->name_.empty()) return invalidArgumentError("name: a cluster needs a name");
  switch (config.type()) {
    case envoy::config::cluster::v3::Cluster::STATIC:
      c->type_ = Type::kStatic;
      break;
    case envoy::config::cluster::v3::Cluster::EDS:
      c->type_ = Type::kEds;
      break;
    case envoy::config::cluster::v3::Cluster::ORIGINAL_DST:
      c->type_ = Type::kOriginalDst;
      break;
    default:
      return invalidArgumentError("type: " + Cluster_DiscoveryType_Name(config.type()) +
                                  " is not supported (STATIC, EDS, ORIGINAL_DST are)");
  }
  switch (config.lb_policy()) {
    case envoy::config::cluster::v3::Cluster::ROUND_ROBIN:
      c->lb_policy_ = LbPolicy::kRoundRobin;
      break;
    case envoy::config::cluster::v3::Cluster::LEAST_REQUEST:
      c->lb_policy_ = LbPolicy::kLeastRequest;
      break;
    case envoy::config::cluster::v3::Cluster::RANDOM:
      c->lb_policy_ = LbPolicy::kRandom;
      break;
    case envoy::config::cluster::v3::Cluster::CLUSTER_PROVIDED:
      c->lb_policy_ = LbPolicy::kClusterProvided;
      break;
    default:
      return invalidArgumentError("lb_policy: " + Cluster_LbPolicy_Name(config.lb_policy()) +
                                  " is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM are)");
  }
  if (c->type_ == Type::kOriginalDst && c->lb_policy_ != LbPolicy::kClusterProvided &&
      c->lb_policy_ != LbPolicy::kRoundRobin) {
    return invalidArgumentError("lb_policy: an ORIGINAL_DST cluster needs CLUSTER_PROVIDED");
  }
  if (c->type_ != Type::kOriginalDst && c->lb_policy_ == LbPolicy::kClusterProvided) {
    return invalidArgumentError("lb_policy: CLUSTER_PROVIDED is only for ORIGINAL_DST clusters");
  }
  if (config.has_connect_timeout()) {
    int64_t ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(config.connect_timeout());
    if (ms <= 0) return invalidArgumentError("connect_timeout: must be greater than 0");
    c->connect_timeout_ = std::chrono::milliseconds(ms);
  }
  if (config.has_per_connection_buffer_limit_bytes()) {
    c->buffer_limit_bytes_ = config.per_connection_buffer_limit_bytes().value();
  }
  for (const auto& t : config.circuit_breakers().thresholds()) {
    if (t.priority() == envoy::config::core::v3::DEFAULT && t.has_max_connections()) {
      c->max_connections_ = t.max_connections().value();
    }
  }
  if (c->type_ == Type::kEds && config.has_load_assignment() == false &&
      !config.has_eds_cluster_config()) {
    return invalidArgumentError("eds_cluster_config: an EDS cluster needs eds_cluster_config");
  }

  const std::string& n = c->name_;
  c->stats_ = ClusterStats{
      &stats.counter("cluster", n, "upstream_cx_total"),
      &stats.counter("cluster", n, "upstream_cx_connect_fail"),
      &stats.counter("cluster", n, "upstream_cx_connect_timeout"),
      &stats.counter("cluster", n, "upstream_cx_none_healthy"),
      &stats.counter("cluster", n, "upstream_cx_overflow"),
      &stats.gauge("cluster", n, "upstream_cx_active"),
      &stats.counter("cluster", n, "upstream_cx_rx_bytes_total"),
      &stats.counter("cluster", n, "upstream_cx_tx_bytes_total"),
      &stats.counter("cluster", n, "upstream_cx_destroy_remote"),
      &stats.counter("cluster", n, "upstream_cx_destroy_local"),
      &stats.gauge("cluster", n, "membership_total"),
      &stats.gauge("cluster", n, "membership_healthy"),
  };
  c->hosts_ = makeHostSet({});
  if (config.has_load_assignment()) {
    Status s = c->updateHosts(config.load_assignment());
    if (!s.ok()) return s.withPrefix("load_assignment");
  } else {
    c->stats_.membership_total->set(0);
    c->stats_.membership_healthy->set(0);
  }
  return c;
}

Status Cluster::updateHosts(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla) {
  std::vector<HostSharedPtr> hosts;
  for (int i = 0; i < cla.endpoints_size(); ++i) {
    const auto& locality = cla.endpoints(i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lb = locality.lb_endpoints(j);
      std::string path =
          "endpoints[" + std::to_string(i) + "].lb_endpoints[" + std::to_string(j) + "]";
      if (!lb.endpoint().address().has_socket_address()) {
        return invalidArgumentError(path + ".endpoint.address: a socket_address is required");
      }
      const auto& sa = lb.endpoint().address().socket_address();
      auto ip = network::IpAddress::parse(sa.address());
      if (!ip.ok()) {
        return invalidArgumentError(
            path + ".endpoint.address.socket_address.address: " + ip.status().message());
      }
      if (sa.port_value() == 0 || sa.port_value() > 65535) {
        return invalidArgumentError(path + ".endpoint.address.socket_address.port_value: " +
                                    std::to_string(sa.port_value()) + " is not a port (1-65535)");
      }
      auto host = std::make_shared<Host>();
      host->address = network::SocketAddress{*ip, static_cast<uint16_t>(sa.port_value())};
      host->hostname = lb.endpoint().hostname();
      host->health = fromProto(lb.health_status());
      if (lb.has_load_balancing_weight()) {
        if (lb.load_balancing_weight().value() == 0) {
          return invalidArgumentError(path + ".load_balancing_weight: must be at least 1");
        }
        host->weight = lb.load_balancing_weight().value();
      }
      hosts.push_back(std::move(host));
    }
  }
  auto set = makeHostSet(std::move(hosts));
  stats_.membership_total->set(static_cast<int64_t>(set->hosts.size()));
  stats_.membership_healthy->set(static_cast<int64_t>(set->usable.size()));
  std::atomic_store(&hosts_, std::move(set));
  return Status::okStatus();
}

}  // namespace remora::upstream
