#include "upstream/cluster.h"

#include <google/protobuf/util/time_util.h>

#include <map>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace remora::upstream {

using envoy::config::cluster::v3::Cluster_DiscoveryType;
using envoy::config::cluster::v3::Cluster_LbPolicy;

HostSetConstSharedPtr makeHostSet(std::vector<HostSharedPtr> hosts) {
  auto set = std::make_shared<HostSet>();
  for (const auto& h : hosts) {
    if (!h->usable()) continue;
    set->usable.push_back(h);
    set->total_weight += h->weight;
    set->cumulative_weights.push_back(set->total_weight);
    if (h->weight != set->usable.front()->weight) set->equal_weights = false;
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

namespace {

using UpstreamHttpOptions = envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
constexpr const char* kHttpOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

// The connection-level HTTP options: the typed_extension_protocol_options
// entry (current Envoy, Istio) wins over the deprecated cluster field.
StatusOr<const envoy::config::core::v3::HttpProtocolOptions*> commonHttpOptions(
    const envoy::config::cluster::v3::Cluster& config, UpstreamHttpOptions& storage) {
  for (const auto& [key, any] : config.typed_extension_protocol_options()) {
    if (key != kHttpOptionsKey) {
      return invalidArgumentError("typed_extension_protocol_options: \"" + key +
                                  "\" is not supported (only " + kHttpOptionsKey + ")");
    }
  }
  auto it = config.typed_extension_protocol_options().find(kHttpOptionsKey);
  if (it != config.typed_extension_protocol_options().end()) {
    if (!it->second.UnpackTo(&storage)) {
      return invalidArgumentError(std::string("typed_extension_protocol_options[") +
                                  kHttpOptionsKey + "]: not a " +
                                  UpstreamHttpOptions::descriptor()->full_name() + " (@type " +
                                  it->second.type_url() + ")");
    }
    if (storage.has_common_http_protocol_options()) return &storage.common_http_protocol_options();
  }
  if (config.has_common_http_protocol_options()) return &config.common_http_protocol_options();
  return static_cast<const envoy::config::core::v3::HttpProtocolOptions*>(nullptr);
}

}  // namespace

HostSetConstSharedPtr Cluster::hosts() const {
  std::lock_guard<std::mutex> l(hosts_lock_);
  return hosts_;
}

StatusOr<std::shared_ptr<Cluster>> Cluster::create(
    const envoy::config::cluster::v3::Cluster& config, StatsStore& stats, Histograms* histograms) {
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
      c->lb_config_.policy = LbPolicy::kRoundRobin;
      break;
    case envoy::config::cluster::v3::Cluster::LEAST_REQUEST:
      c->lb_config_.policy = LbPolicy::kLeastRequest;
      if (config.has_least_request_lb_config() &&
          config.least_request_lb_config().has_choice_count()) {
        uint32_t n = config.least_request_lb_config().choice_count().value();
        if (n < 2) {
          return invalidArgumentError("least_request_lb_config.choice_count: must be at least 2");
        }
        c->lb_config_.choice_count = n;
      }
      break;
    case envoy::config::cluster::v3::Cluster::RANDOM:
      c->lb_config_.policy = LbPolicy::kRandom;
      break;
    case envoy::config::cluster::v3::Cluster::CLUSTER_PROVIDED:
      c->lb_config_.policy = LbPolicy::kClusterProvided;
      break;
    default:
      return invalidArgumentError("lb_policy: " + Cluster_LbPolicy_Name(config.lb_policy()) +
                                  " is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM are)");
  }
  if (c->type_ == Type::kOriginalDst && c->lbPolicy() != LbPolicy::kClusterProvided &&
      c->lbPolicy() != LbPolicy::kRoundRobin) {
    return invalidArgumentError("lb_policy: an ORIGINAL_DST cluster needs CLUSTER_PROVIDED");
  }
  if (config.has_original_dst_lb_config() && config.original_dst_lb_config().use_http_header()) {
    if (c->type_ != Type::kOriginalDst) {
      return invalidArgumentError("original_dst_lb_config: only for ORIGINAL_DST clusters");
    }
    std::string h = config.original_dst_lb_config().http_header_name();
    if (h.empty()) h = "x-envoy-original-dst-host";
    for (char& ch : h) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
    }
    c->original_dst_header_ = std::move(h);
  }
  if (c->type_ != Type::kOriginalDst && c->lbPolicy() == LbPolicy::kClusterProvided) {
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
    if (t.priority() != envoy::config::core::v3::DEFAULT) continue;
    if (t.has_max_connections()) c->breakers_.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) {
      c->breakers_.max_pending_requests = t.max_pending_requests().value();
    }
    if (t.has_max_requests()) c->breakers_.max_requests = t.max_requests().value();
    if (t.has_max_retries()) c->breakers_.max_retries = t.max_retries().value();
  }
  UpstreamHttpOptions http_options;
  auto common = commonHttpOptions(config, http_options);
  if (!common.ok()) return common.status();
  if (*common != nullptr) {
    const auto& o = **common;
    if (o.has_idle_timeout()) {
      c->idle_timeout_ = std::chrono::milliseconds(
          google::protobuf::util::TimeUtil::DurationToMilliseconds(o.idle_timeout()));
    }
    if (o.has_max_requests_per_connection()) {
      c->max_requests_per_connection_ = o.max_requests_per_connection().value();
    }
  }
  if (c->max_requests_per_connection_ == 0 && config.has_max_requests_per_connection()) {
    c->max_requests_per_connection_ = config.max_requests_per_connection().value();
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
      &stats.counter("cluster", n, "upstream_cx_http1_total"),
      &stats.counter("cluster", n, "upstream_cx_idle_timeout"),
      &stats.counter("cluster", n, "upstream_cx_max_requests"),
      &stats.counter("cluster", n, "upstream_cx_protocol_error"),
      &stats.counter("cluster", n, "upstream_rq_total"),
      &stats.gauge("cluster", n, "upstream_rq_active"),
      &stats.counter("cluster", n, "upstream_rq_completed"),
      &stats.counter("cluster", n, "upstream_rq_1xx"),
      &stats.counter("cluster", n, "upstream_rq_2xx"),
      &stats.counter("cluster", n, "upstream_rq_3xx"),
      &stats.counter("cluster", n, "upstream_rq_4xx"),
      &stats.counter("cluster", n, "upstream_rq_5xx"),
      &stats.counter("cluster", n, "upstream_rq_pending_total"),
      &stats.gauge("cluster", n, "upstream_rq_pending_active"),
      &stats.counter("cluster", n, "upstream_rq_pending_overflow"),
      &stats.counter("cluster", n, "upstream_rq_timeout"),
      &stats.counter("cluster", n, "upstream_rq_rx_reset"),
      &stats.counter("cluster", n, "upstream_rq_tx_reset"),
      &stats.counter("cluster", n, "upstream_rq_retry"),
      &stats.counter("cluster", n, "upstream_rq_retry_success"),
      &stats.counter("cluster", n, "upstream_rq_retry_overflow"),
      &stats.gauge("cluster", n, "membership_total"),
      &stats.gauge("cluster", n, "membership_healthy"),
      nullptr,
  };
  if (histograms != nullptr) {
    c->stats_.upstream_rq_time = &histograms->histogram("cluster", n, "upstream_rq_time");
  } else {
    c->own_histogram_ = std::make_unique<Histogram>();
    c->stats_.upstream_rq_time = c->own_histogram_.get();
  }
  c->hosts_ = makeHostSet({});
  c->hosts_version_.store(1);
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
  // An endpoint that is still there with the same attributes keeps its Host,
  // so its counters and the workers' pooled connections to it carry on.
  std::map<network::SocketAddress, HostSharedPtr> previous;
  for (const HostSharedPtr& h : hosts()->hosts)
    previous.emplace(h->address, h);
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
      if (auto it = previous.find(host->address); it != previous.end()) {
        const Host& old = *it->second;
        if (old.weight == host->weight && old.health == host->health &&
            old.hostname == host->hostname) {
          host = it->second;
        }
      }
      hosts.push_back(std::move(host));
    }
  }
  auto set = makeHostSet(std::move(hosts));
  stats_.membership_total->set(static_cast<int64_t>(set->hosts.size()));
  stats_.membership_healthy->set(static_cast<int64_t>(set->usable.size()));
  {
    std::lock_guard<std::mutex> l(hosts_lock_);
    hosts_ = std::move(set);
  }
  hosts_version_.fetch_add(1, std::memory_order_release);
  return Status::okStatus();
}

}  // namespace remora::upstream
