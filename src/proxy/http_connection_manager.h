// envoy.filters.network.http_connection_manager as a terminal filter: its
// Envoy v3 config compiled into the shared parts (codec settings, timeouts,
// access logs, stats, the HTTP filter list, the route configuration) and a
// handler per connection that runs http::ConnectionManager with a router
// filter bound to the worker and configuration snapshot of that connection.
//
// The route table sits behind a RouteConfigProvider so that it can be
// replaced while traffic flows (RDS): connections notice a new version on
// their next request.
//
// Thread: compile on the main thread; handlers on workers;
// RouteConfigProvider::update from the main thread (xDS), read from workers.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/stats.h"
#include "common/status.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "http/conn_manager.h"
#include "proxy/terminal_filter.h"
#include "router/route_table.h"

namespace remora::proxy {

// The route table of one connection manager, replaceable at any time.
class RouteConfigProvider {
 public:
  // `name`: the route configuration's name (RDS route_config_name).
  // `from_rds`: the table arrives by that name over RDS (else it is inline).
  RouteConfigProvider(std::string name, std::shared_ptr<const router::RouteTable> initial,
                      bool from_rds = false);

  const std::string& name() const { return name_; }
  bool fromRds() const { return from_rds_; }
  // Main thread: a new table (RDS); connections pick it up on their next request.
  void update(std::shared_ptr<const router::RouteTable> table);
  // Any thread. Bumped by update().
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // Any thread; takes a lock, so callers keep the result until version() moves.
  std::shared_ptr<const router::RouteTable> current() const;

 private:
  std::string name_;
  bool from_rds_ = false;
  mutable std::mutex lock_;
  std::shared_ptr<const router::RouteTable> table_;
  std::atomic<uint64_t> version_{1};
};

struct RouterStats {
  Counter* no_route;               // http.<prefix>.no_route
  Counter* no_cluster;             // http.<prefix>.no_cluster
  Counter* rq_redirect;            // http.<prefix>.rq_redirect
  Counter* rq_direct_response;     // http.<prefix>.rq_direct_response
  Counter* rq_total;               // http.<prefix>.rq_total (requests the router handled)
  Counter* route_config_no_route;  // route_config.<name>.no_route
};

// The compiled connection manager, shared by every worker.
struct HttpConnectionManagerConfig {
  std::shared_ptr<const http::ConnectionManagerConfig> connection;
  std::shared_ptr<RouteConfigProvider> routes;
  // HTTP filters before the router, in order (the router is always last).
  std::vector<std::shared_ptr<const http::StreamFilterFactory>> filters;
  RouterStats router_stats{};
  bool suppress_envoy_headers = false;
};

class HttpConnectionManagerFilter : public TerminalFilter {
 public:
  // Errors name the field (relative to the filter's typed_config).
  static StatusOr<std::shared_ptr<const HttpConnectionManagerFilter>> create(
      const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager&
          proto,
      StatsStore& stats);

  std::unique_ptr<ConnectionHandler> createHandler(
      WorkerContext& worker, const std::shared_ptr<const ConfigSnapshot>& snapshot,
      DownstreamConnection connection, std::function<void()> on_done) const override;

  const HttpConnectionManagerConfig& config() const { return *config_; }
  const std::shared_ptr<RouteConfigProvider>& routes() const { return config_->routes; }

 private:
  std::shared_ptr<const HttpConnectionManagerConfig> config_;
};

}  // namespace remora::proxy
