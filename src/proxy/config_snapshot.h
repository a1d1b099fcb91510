// The proxy's running configuration compiled from the bootstrap (and later
// from xDS): immutable once built, shared by the main thread and the workers
// through shared_ptr<const ConfigSnapshot>. A new configuration is a new
// snapshot posted to every worker; connections keep the snapshot they started
// under.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/stats.h"
#include "common/status.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "listener/filter_chain_matcher.h"
#include "network/address.h"
#include "proxy/http_connection_manager.h"
#include "proxy/tcp_proxy.h"
#include "proxy/terminal_filter.h"
#include "upstream/cluster.h"
#include "upstream/histogram.h"

namespace remora::proxy {

struct ListenerStats {
  Counter* downstream_cx_total;
  Gauge* downstream_cx_active;
  Counter* downstream_cx_destroy;
  Counter* no_filter_chain_match;
  Counter* downstream_listener_filter_error;
  Counter* downstream_pre_cx_timeout;
};

// One filter chain, compiled: what the connection is handed to.
struct CompiledFilterChain {
  std::string name;
  std::shared_ptr<const TerminalFilter> terminal;  // tcp_proxy or http_connection_manager
};

struct CompiledListener {
  envoy::config::listener::v3::Listener proto;
  std::string name;
  network::SocketAddress address;
  bool bind_to_port = true;
  bool use_original_dst = false;
  bool tls_inspector = false;
  bool http_inspector = false;
  std::chrono::milliseconds listener_filters_timeout{15000};
  bool continue_on_listener_filters_timeout = false;
  uint32_t buffer_limit_bytes = 1024 * 1024;
  std::unique_ptr<listener::FilterChainMatcher> matcher;
  // Indexed like proto.filter_chains(); the default chain, if any, is last.
  std::vector<CompiledFilterChain> chains;
  // The route configurations of its HTTP connection managers; RDS fills
  // those whose route config comes by name.
  std::vector<std::shared_ptr<RouteConfigProvider>> route_providers;
  ListenerStats stats{};

  // The compiled chain for a matcher's selection, or null (close).
  const CompiledFilterChain* chainFor(const listener::ChainSelection& selection) const;
};

using CompiledListenerConstSharedPtr = std::shared_ptr<const CompiledListener>;
using ClusterMap = std::map<std::string, upstream::ClusterSharedPtr, std::less<>>;

class ConfigSnapshot {
 public:
  // Compiles static_resources; errors name the field path. Histograms
  // (upstream_rq_time) are registered in `histograms` when given.
  static StatusOr<std::shared_ptr<const ConfigSnapshot>> build(
      const envoy::config::bootstrap::v3::Bootstrap& bootstrap, StatsStore& stats,
      upstream::Histograms* histograms = nullptr);

  // One listener, compiled (static or from LDS); errors name the field path
  // relative to the listener.
  static StatusOr<std::shared_ptr<CompiledListener>> compileListener(
      const envoy::config::listener::v3::Listener& proto, StatsStore& stats);

  // A snapshot of already compiled parts (xDS: unchanged listeners and
  // clusters are shared with the previous snapshot). Listener addresses must
  // be distinct; the error names the listener that repeats one.
  static StatusOr<std::shared_ptr<const ConfigSnapshot>> assemble(
      const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
      std::vector<CompiledListenerConstSharedPtr> listeners, ClusterMap clusters);

  const envoy::config::bootstrap::v3::Bootstrap& bootstrap() const { return bootstrap_; }
  const std::vector<std::shared_ptr<const CompiledListener>>& listeners() const {
    return listeners_;
  }
  const std::map<std::string, upstream::ClusterSharedPtr, std::less<>>& clusters() const {
    return clusters_;
  }
  upstream::ClusterSharedPtr cluster(std::string_view name) const;
  // The request path's lookup: no copy of the name or of the pointer.
  const upstream::ClusterSharedPtr* findCluster(std::string_view name) const {
    auto it = clusters_.find(name);
    return it == clusters_.end() ? nullptr : &it->second;
  }
  // Every HTTP connection manager's route configuration, in listener order,
  // so that RDS can replace a table by its name.
  const std::vector<std::shared_ptr<RouteConfigProvider>>& routeConfigProviders() const {
    return route_providers_;
  }

  // The listener that owns `destination` for original-destination hand-off:
  // the exact IP:port first, then the wildcard address with that port.
  const CompiledListener* listenerForDestination(const network::SocketAddress& destination) const;

  std::chrono::system_clock::time_point createdAt() const { return created_at_; }

 private:
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  std::vector<std::shared_ptr<const CompiledListener>> listeners_;
  std::map<network::SocketAddress, const CompiledListener*> by_address_;
  std::map<std::string, upstream::ClusterSharedPtr, std::less<>> clusters_;
  std::vector<std::shared_ptr<RouteConfigProvider>> route_providers_;
  std::chrono::system_clock::time_point created_at_;
};

using ConfigSnapshotConstSharedPtr = std::shared_ptr<const ConfigSnapshot>;

}  // namespace remora::proxy
