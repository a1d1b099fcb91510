// envoy.filters.http.router: the last HTTP filter. It asks the route table
// what to do with the request (virtual host by Host, first matching route),
// answers redirects, direct responses and failures itself (Envoy's local
// replies and response flags), and forwards the rest: cluster by name, host
// by the cluster's load balancer (or the original destination for an
// ORIGINAL_DST cluster), connection from the worker's pool for that host.
// The response comes back through the connection manager to the client.
//
// Thread: the worker owning the downstream connection.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http/conn_manager.h"
#include "http/filter.h"
#include "proxy/http_connection_manager.h"
#include "proxy/worker_context.h"
#include "router/route_table.h"
#include "upstream/conn_pool.h"

namespace remora::proxy {

class RouterFilter;

// What the router filters of one downstream connection share: the route
// table (re-read when its provider moves), the configuration snapshot, the
// worker, and one timer for the request timeout (HTTP/1.1 has one request
// at a time per connection).
class RouterContext {
 public:
  RouterContext(const HttpConnectionManagerConfig& config, WorkerContext& worker,
                const http::ConnectionInfo& info);

  // nullptr while an RDS route configuration has not arrived.
  const router::RouteTable* routeTable();
  const HttpConnectionManagerConfig& config() const { return config_; }
  WorkerContext& worker() { return worker_; }
  // The worker's current configuration, not the one the connection started
  // under: a cluster that CDS added is routable on a kept-alive connection.
  const ConfigSnapshot& snapshot() const;
  const http::ConnectionInfo& connection() const { return info_; }
  router::RandomSource& random() { return random_; }

  // The request timeout of `filter` (one at a time).
  void armTimeout(RouterFilter& filter, event::MonotonicTime deadline);
  void disarmTimeout(RouterFilter& filter);

 private:
  class Random : public router::RandomSource {
   public:
    explicit Random(http::RandomGenerator& g) : g_(g) {}
    uint64_t next() override { return g_.next(); }

   private:
    http::RandomGenerator& g_;
  };

  const HttpConnectionManagerConfig& config_;
  WorkerContext& worker_;
  const http::ConnectionInfo& info_;
  std::shared_ptr<const router::RouteTable> table_;
  uint64_t table_version_ = 0;
  Random random_;
  http::DeadlineTimer timer_;
  RouterFilter* timed_ = nullptr;
};

class RouterFilter : public http::StreamFilter {
 public:
  explicit RouterFilter(RouterContext& context) : ctx_(context), upstream_(*this) {}
  ~RouterFilter() override;

  http::FilterStatus decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterStatus decodeData(http::Buffer& data, bool end_stream) override;
  http::FilterStatus decodeTrailers(http::HeaderMap& trailers) override;
  void onDownstreamWritable() override;
  void onDestroy() override;

  void onTimeout();

 private:
  // The upstream side's callbacks (a separate object: its decodeData has the
  // same signature as the filter's).
  class Upstream : public upstream::PoolCallbacks {
   public:
    explicit Upstream(RouterFilter& r) : r_(r) {}
    void onPoolReady(upstream::PoolStream& stream) override { r_.onPoolReady(stream); }
    void onPoolFailure(upstream::PoolFailure reason) override { r_.onPoolFailure(reason); }
    void onUpstreamReset(upstream::ResetReason reason) override { r_.onUpstreamReset(reason); }
    void onUpstreamWritable() override { r_.onUpstreamWritable(); }
    void decode1xxHeaders(http::HeaderMapPtr headers) override {
      r_.onResponse1xx(std::move(headers));
    }
    void decodeHeaders(http::HeaderMapPtr headers, bool end_stream) override {
      r_.onResponseHeaders(std::move(headers), end_stream);
    }
    void decodeData(http::Buffer& data, bool end_stream) override {
      r_.onResponseData(data, end_stream);
    }
    void decodeTrailers(http::HeaderMapPtr trailers) override {
      r_.onResponseTrailers(std::move(trailers));
    }

   private:
    RouterFilter& r_;
  };

  enum class Cause { kConnectFailure, kReset, kStatus };

  void startAttempt();
  void onPoolReady(upstream::PoolStream& stream);
  void onPoolFailure(upstream::PoolFailure reason);
  void onUpstreamReset(upstream::ResetReason reason);
  void onUpstreamWritable();
  void onResponse1xx(http::HeaderMapPtr headers);
  void onResponseHeaders(http::HeaderMapPtr headers, bool end_stream);
  void onResponseData(http::Buffer& data, bool end_stream);
  void onResponseTrailers(http::HeaderMapPtr trailers);
  void onResponseComplete();
  // Releases the upstream side: pool wait, connection (reset if mid-exchange).
  void releaseUpstream(bool reset);
  bool retryOn(Cause cause, uint32_t status);
  void scheduleRetry();
  void finishAttemptStats(bool success);
  // Answers 503/504 with Envoy's body for an upstream failure.
  void upstreamFailure(uint32_t status, uint32_t flags, std::string_view body,
                       std::string_view details);

  RouterContext& ctx_;
  Upstream upstream_;
  http::HeaderMap* request_headers_ = nullptr;
  http::HeaderMap* request_trailers_ = nullptr;
  router::RouteDecision decision_;
  const upstream::Cluster* cluster_ = nullptr;
  upstream::ClusterSharedPtr cluster_ref_;  // keeps cluster_ alive across a CDS update
  ClusterState* cluster_state_ = nullptr;
  upstream::HostSharedPtr host_;
  upstream::ConnPool* pool_ = nullptr;
  upstream::PoolStream* stream_ = nullptr;  // the connection carrying this request
  http::Buffer pending_body_;               // request body that arrived before the connection
  std::unique_ptr<event::Timer> retry_timer_;
  event::MonotonicTime upstream_start_;
  uint32_t retries_ = 0;
  uint32_t stale_replays_ = 0;
  bool request_end_ = false;  // the request is complete
  bool body_seen_ = false;    // the request has a body: it cannot be replayed
  bool waiting_for_pool_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool rq_counted_ = false;         // upstream_rq_active/host rq_active incremented
  bool downstream_paused_ = false;  // we stopped reading the client (upstream slow)
  bool upstream_paused_ = false;    // we stopped reading the upstream (client slow)
  bool destroyed_ = false;
};

// The per-connection handler of an HTTP connection manager.
class HttpConnectionHandler : public ConnectionHandler, private http::FilterChainFactory {
 public:
  HttpConnectionHandler(std::shared_ptr<const HttpConnectionManagerConfig> config,
                        WorkerContext& worker, DownstreamConnection connection,
                        std::function<void()> on_done);
  void start() override { manager_.start(); }
  void close() override { manager_.close(); }
  void drain() override { manager_.drain(); }

 private:
  void createFilters(std::vector<std::unique_ptr<http::StreamFilter>>& filters) override;

  std::shared_ptr<const HttpConnectionManagerConfig> config_;
  http::ConnectionInfo info_;
  RouterContext router_context_;
  http::ConnectionManager manager_;
};

}  // namespace remora::proxy
