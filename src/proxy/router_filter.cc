#include "proxy/router_filter.h"

#include <charconv>

#include "common/logging.h"
#include "proxy/config_snapshot.h"

namespace remora::proxy {

namespace {

using http::FilterStatus;
using http::HeaderMap;
using http::Known;

// Envoy's local reply bodies, word for word: clients and tests match them.
constexpr std::string_view kNoHealthyUpstream = "no healthy upstream";
constexpr std::string_view kUpstreamTimeout = "upstream request timeout";
constexpr std::string_view kOverflow =
    "upstream connect error or disconnect/reset before headers. reset reason: overflow";
constexpr std::string_view kConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
constexpr std::string_view kConnectionTermination =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination";
constexpr std::string_view kRemoteReset =
    "upstream connect error or disconnect/reset before headers. reset reason: remote reset";
constexpr std::string_view kProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";

// How many times a request is sent again because the kept-alive connection
// it went to turned out to be closed (each attempt uses up one such
// connection; a fresh connection cannot be stale).
constexpr uint32_t kMaxStaleReplays = 3;

// The request as the route table sees it, and its header mutations.
class HeaderMapRequest : public router::RequestView, public router::HeaderMutator {
 public:
  explicit HeaderMapRequest(HeaderMap& h) : h_(h) {}
  std::string_view method() const override { return h_.method(); }
  std::string_view path() const override { return h_.path(); }
  std::string_view authority() const override { return h_.authority(); }
  std::string_view scheme() const override {
    // As the connection manager settled it.
    std::string_view xfp = h_.value(Known::kXForwardedProto);
    return xfp.empty() ? h_.scheme() : xfp;
  }
  void headerValues(std::string_view name, router::HeaderValues& out) const override {
    for (const HeaderMap::Entry& e : h_) {
      if (e.name == name) out.add(e.value);
    }
  }
  bool has(std::string_view name) const override { return h_.get(name) != nullptr; }
  void append(std::string_view name, std::string_view value) override { h_.add(name, value); }
  void set(std::string_view name, std::string_view value) override { h_.set(name, value); }
  void remove(std::string_view name) override { h_.remove(name); }

 private:
  HeaderMap& h_;
};

void setNumber(HeaderMap& h, http::Known name, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  h.set(name, std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

bool hasCondition(const router::RetryPolicy& p, std::string_view c) {
  for (const std::string& x : p.conditions) {
    if (x == c) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// RouterContext

RouterContext::RouterContext(const HttpConnectionManagerConfig& config, WorkerContext& worker,
                             const http::ConnectionInfo& info)
    : config_(config),
      worker_(worker),
      info_(info),
      random_(worker.fastRandom()),
      timer_(worker.dispatcher(), [this] {
        http::FlushList::Scope scope(worker_.flushList());
        if (timed_ != nullptr) {
          RouterFilter* f = timed_;
          timed_ = nullptr;
          f->onTimeout();
        }
      }) {}

const ConfigSnapshot& RouterContext::snapshot() const {
  return *worker_.snapshot();
}

const router::RouteTable* RouterContext::routeTable() {
  uint64_t v = config_.routes->version();
  if (v != table_version_) {
    table_ = config_.routes->current();
    table_version_ = v;
  }
  return table_.get();
}

void RouterContext::armTimeout(RouterFilter& filter, event::MonotonicTime deadline) {
  timed_ = &filter;
  timer_.arm(deadline);
}

void RouterContext::disarmTimeout(RouterFilter& filter) {
  if (timed_ != &filter) return;
  timed_ = nullptr;
  timer_.disarm();
}

// ---------------------------------------------------------------------------
// RouterFilter

RouterFilter::~RouterFilter() {
  if (!destroyed_) onDestroy();
}

FilterStatus RouterFilter::decodeHeaders(HeaderMap& headers, bool end_stream) {
  const HttpConnectionManagerConfig& config = ctx_.config();
  const RouterStats& stats = config.router_stats;
  http::StreamInfo& info = callbacks_->streamInfo();
  request_headers_ = &headers;
  request_end_ = end_stream;
  body_seen_ = !end_stream;
  stats.rq_total->inc();

  const router::RouteTable* table = ctx_.routeTable();
  if (table == nullptr) {
    stats.no_route->inc();
    stats.route_config_no_route->inc();
    callbacks_->sendLocalReply(404, "", http::kNoRouteFound, "route_not_found");
    return FilterStatus::kStop;
  }
  HeaderMapRequest request(headers);
  decision_ = table->route(request, ctx_.random());
  using Outcome = router::RouteDecision::Outcome;
  switch (decision_.outcome) {
    case Outcome::kNoVirtualHost:
    case Outcome::kNoRoute:
      stats.no_route->inc();
      stats.route_config_no_route->inc();
      callbacks_->sendLocalReply(404, "", http::kNoRouteFound, "route_not_found");
      return FilterStatus::kStop;
    case Outcome::kRedirect: {
      stats.rq_redirect->inc();
      if (decision_.route != nullptr) info.route_name = decision_.route->name;
      std::string location = decision_.location;
      const router::RouteDecision& d = decision_;
      callbacks_->sendLocalReply(d.status, "", 0, "via_route", [&](HeaderMap& h) {
        h.add("location", location);
        HeaderMapRequest m(h);
        d.applyResponseHeaders(m);
      });
      return FilterStatus::kStop;
    }
    case Outcome::kDirectResponse: {
      stats.rq_direct_response->inc();
      info.route_name = decision_.route->name;
      const router::RouteDecision& d = decision_;
      callbacks_->sendLocalReply(d.status, d.body, 0, "direct_response", [&](HeaderMap& h) {
        HeaderMapRequest m(h);
        d.applyResponseHeaders(m);
      });
      return FilterStatus::kStop;
    }
    case Outcome::kCluster:
      break;
  }
  const router::RouteEntry& route = *decision_.route;
  info.route_name = route.name;
  std::string_view cluster_name = decision_.clusterName();
  const upstream::ClusterSharedPtr* cluster = ctx_.snapshot().findCluster(cluster_name);
  if (cluster == nullptr) {
    stats.no_cluster->inc();
    callbacks_->sendLocalReply(route.cluster.cluster_not_found_status, "", http::kNoClusterFound,
                               "cluster_not_found");
    return FilterStatus::kStop;
  }
  cluster_ref_ = *cluster;
  cluster_ = cluster_ref_.get();
  info.upstream_cluster = cluster_->name();

  // A route may switch an upgrade type off that the connection manager allows.
  if (headers.has(Known::kUpgrade)) {
    std::string_view type = headers.value(Known::kUpgrade);
    for (const auto& [t, enabled] : route.cluster.upgrade_configs) {
      if (!enabled && http::equalsIgnoreCase(t, type)) {
        callbacks_->sendLocalReply(403, "", 0, "upgrade_failed");
        return FilterStatus::kStop;
      }
    }
  }

  // The request as the upstream will see it.
  HeaderMapRequest mutator(headers);
  decision_.applyRequestHeaders(mutator);
  if (decision_.path_rewrite) {
    if (!config.suppress_envoy_headers) {
      headers.set("x-envoy-original-path", std::string(headers.path()));
    }
    headers.set(":path", *decision_.path_rewrite);
  }
  if (decision_.host_rewrite) headers.set(":authority", *decision_.host_rewrite);
  std::chrono::milliseconds timeout = route.cluster.timeout;
  if (timeout.count() > 0 && !config.suppress_envoy_headers) {
    setNumber(headers, http::Known::kXEnvoyExpectedRqTimeoutMs,
              static_cast<uint64_t>(timeout.count()));
  }

  const upstream::ClusterStats& cs = cluster_->stats();
  // Requests in flight to the cluster, across workers: the max_requests breaker.
  if (static_cast<uint64_t>(cs.upstream_rq_active->value()) >=
      cluster_->circuitBreakers().max_requests) {
    cs.upstream_rq_pending_overflow->inc();
    upstreamFailure(503, http::kUpstreamOverflow, kOverflow, "overflow");
    return FilterStatus::kStop;
  }
  cluster_state_ = &ctx_.worker().clusterState(*cluster);
  if (timeout.count() > 0) {
    ctx_.armTimeout(*this, ctx_.worker().dispatcher().now() + timeout);
  }
  startAttempt();
  return FilterStatus::kStop;
}

void RouterFilter::startAttempt() {
  const upstream::ClusterStats& cs = cluster_->stats();
  if (cluster_->type() == upstream::Cluster::Type::kOriginalDst) {
    network::SocketAddress destination = ctx_.connection().local;
    if (const std::string& name = cluster_->originalDstHeader(); !name.empty()) {
      // use_http_header: the request names its destination; a value that
      // is not IP:port finds no host rather than falling back silently.
      if (const std::string_view* v = request_headers_->get(name); v != nullptr) {
        auto parsed = network::SocketAddress::parse(*v);
        if (!parsed.ok()) {
          cs.upstream_cx_none_healthy->inc();
          upstreamFailure(503, http::kNoHealthyUpstream, kNoHealthyUpstream, "no_healthy_upstream");
          return;
        }
        destination = *parsed;
      }
    }
    pool_ = &cluster_state_->poolForDestination(destination);
  } else {
    const upstream::HostSharedPtr* host =
        cluster_state_->loadBalancer().chooseHost(cluster_state_->hosts());
    if (host == nullptr) {
      cs.upstream_cx_none_healthy->inc();
      upstreamFailure(503, http::kNoHealthyUpstream, kNoHealthyUpstream, "no_healthy_upstream");
      return;
    }
    pool_ = &cluster_state_->poolFor(*host);
  }
  host_ = nullptr;
  cs.upstream_rq_total->inc();
  cs.upstream_rq_active->inc();
  pool_->host().rq_total.inc();
  pool_->host().rq_active.inc();
  rq_counted_ = true;
  callbacks_->streamInfo().upstream_host = pool_->host().address;
  upstream_start_ = ctx_.worker().dispatcher().now();
  waiting_for_pool_ = true;
  pool_->newStream(upstream_);
}

void RouterFilter::onPoolReady(upstream::PoolStream& stream) {
  waiting_for_pool_ = false;
  stream_ = &stream;
  const bool headers_only = request_end_ && pending_body_.empty() && request_trailers_ == nullptr;
  stream.encodeHeaders(*request_headers_, headers_only);
  if (!pending_body_.empty() || (request_end_ && !headers_only && request_trailers_ == nullptr)) {
    // Moved, not copied: a replay needs no body (replays are bodiless).
    stream.encodeData(pending_body_, request_end_ && request_trailers_ == nullptr);
  }
  if (request_trailers_ != nullptr) stream.encodeTrailers(*request_trailers_);
  if (downstream_paused_ && stream.bufferedBytes() <= cluster_->bufferLimitBytes()) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

FilterStatus RouterFilter::decodeData(http::Buffer& data, bool end_stream) {
  if (end_stream) request_end_ = true;
  if (stream_ != nullptr) {
    stream_->encodeData(data, end_stream);
    if (!downstream_paused_ && stream_->bufferedBytes() > cluster_->bufferLimitBytes()) {
      downstream_paused_ = true;
      callbacks_->readDisableDownstream(true);
    }
  } else {
    pending_body_.move(data);
    if (!downstream_paused_ && cluster_ != nullptr &&
        pending_body_.length() > cluster_->bufferLimitBytes()) {
      downstream_paused_ = true;
      callbacks_->readDisableDownstream(true);
    }
  }
  return FilterStatus::kStop;
}

FilterStatus RouterFilter::decodeTrailers(HeaderMap& trailers) {
  request_end_ = true;
  request_trailers_ = &trailers;
  if (stream_ != nullptr) stream_->encodeTrailers(trailers);
  return FilterStatus::kStop;
}

void RouterFilter::onUpstreamWritable() {
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::onDownstreamWritable() {
  if (upstream_paused_ && stream_ != nullptr) {
    upstream_paused_ = false;
    stream_->readDisable(false);
  }
}

void RouterFilter::onResponse1xx(http::HeaderMapPtr headers) {
  callbacks_->encode1xxHeaders(std::move(headers));
}

void RouterFilter::onResponseHeaders(http::HeaderMapPtr headers, bool end_stream) {
  uint32_t status = 0;
  std::string_view sv = headers->status();
  std::from_chars(sv.data(), sv.data() + sv.size(), status);
  if (status >= 500 && retryOn(Cause::kStatus, status)) {
    finishAttemptStats(false);
    releaseUpstream(!end_stream);
    scheduleRetry();
    return;
  }
  response_started_ = true;
  const upstream::ClusterStats& cs = cluster_->stats();
  http::countStatusClass(status, {cs.upstream_rq_1xx, cs.upstream_rq_2xx, cs.upstream_rq_3xx,
                                  cs.upstream_rq_4xx, cs.upstream_rq_5xx});
  (status >= 500 ? pool_->host().rq_error : pool_->host().rq_success).inc();
  if (status == 101) ctx_.disarmTimeout(*this);  // a tunnel lasts as long as it lasts
  callbacks_->streamInfo().response_code_details = "via_upstream";
  if (!ctx_.config().suppress_envoy_headers) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  ctx_.worker().dispatcher().now() - upstream_start_)
                  .count();
    setNumber(*headers, http::Known::kXEnvoyUpstreamServiceTime, static_cast<uint64_t>(ms));
  }
  HeaderMapRequest mutator(*headers);
  decision_.applyResponseHeaders(mutator);
  if (end_stream) {
    onResponseComplete();
    callbacks_->encodeHeaders(std::move(headers), true);
    return;
  }
  callbacks_->encodeHeaders(std::move(headers), false);
}

void RouterFilter::onResponseData(http::Buffer& data, bool end_stream) {
  if (end_stream) {
    onResponseComplete();
    callbacks_->encodeData(data, true);
    return;
  }
  callbacks_->encodeData(data, false);
  if (!upstream_paused_ && stream_ != nullptr && !destroyed_ &&
      callbacks_->downstreamBufferedBytes() > cluster_->bufferLimitBytes()) {
    upstream_paused_ = true;
    stream_->readDisable(true);
  }
}

void RouterFilter::onResponseTrailers(http::HeaderMapPtr trailers) {
  onResponseComplete();
  callbacks_->encodeTrailers(std::move(trailers));
}

void RouterFilter::onResponseComplete() {
  response_complete_ = true;
  ctx_.disarmTimeout(*this);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.worker().dispatcher().now() -
                                                                  upstream_start_)
                .count();
  cluster_->stats().upstream_rq_time->record(static_cast<uint64_t>(ms));
  cluster_->stats().upstream_rq_completed->inc();
  if (retries_ > 0) cluster_->stats().upstream_rq_retry_success->inc();
  finishAttemptStats(true);
  // The pool takes the connection back itself once the response ended.
  stream_ = nullptr;
}

void RouterFilter::finishAttemptStats(bool success) {
  if (!rq_counted_) return;
  rq_counted_ = false;
  cluster_->stats().upstream_rq_active->dec();
  pool_->host().rq_active.dec();
  (void)success;
}

void RouterFilter::releaseUpstream(bool reset) {
  if (waiting_for_pool_ && pool_ != nullptr) {
    waiting_for_pool_ = false;
    pool_->cancel(upstream_);
  }
  if (stream_ != nullptr) {
    upstream::PoolStream* s = stream_;
    stream_ = nullptr;
    if (reset) s->reset();
  }
  if (upstream_paused_) upstream_paused_ = false;
}

bool RouterFilter::retryOn(Cause cause, uint32_t status) {
  const router::RouteEntry* route = decision_.route;
  if (route == nullptr || !route->cluster.retry_policy || body_seen_ || response_started_) {
    return false;
  }
  const router::RetryPolicy& p = *route->cluster.retry_policy;
  bool wanted = false;
  switch (cause) {
    case Cause::kConnectFailure:
      wanted = hasCondition(p, "connect-failure") || hasCondition(p, "5xx") ||
               hasCondition(p, "gateway-error") || hasCondition(p, "reset");
      break;
    case Cause::kReset:
      wanted =
          hasCondition(p, "5xx") || hasCondition(p, "gateway-error") || hasCondition(p, "reset");
      break;
    case Cause::kStatus:
      wanted = hasCondition(p, "5xx") ||
               (hasCondition(p, "gateway-error") && status >= 502 && status <= 504);
      if (!wanted && hasCondition(p, "retriable-status-codes")) {
        for (uint32_t c : p.retriable_status_codes) {
          if (c == status) wanted = true;
        }
      }
      break;
  }
  if (!wanted) return false;
  if (retries_ >= p.num_retries) {
    callbacks_->streamInfo().setFlag(http::kUpstreamRetryLimitExceeded);
    return false;
  }
  return true;
}

void RouterFilter::scheduleRetry() {
  ++retries_;
  cluster_->stats().upstream_rq_retry->inc();
  const router::RetryPolicy& p = *decision_.route->cluster.retry_policy;
  // Exponential back-off with full jitter, as Envoy: up to base * 2^(n-1), capped.
  uint64_t ceiling = static_cast<uint64_t>(p.back_off_base.count()) << (retries_ - 1);
  ceiling = std::min<uint64_t>(ceiling, static_cast<uint64_t>(p.back_off_max.count()));
  uint64_t wait = ceiling == 0 ? 0 : ctx_.random().next() % (ceiling + 1);
  if (!retry_timer_) {
    retry_timer_ = ctx_.worker().dispatcher().createTimer([this] {
      http::FlushList::Scope scope(ctx_.worker().flushList());
      startAttempt();
    });
  }
  retry_timer_->enable(std::chrono::milliseconds(wait));
}

void RouterFilter::onPoolFailure(upstream::PoolFailure reason) {
  waiting_for_pool_ = false;
  finishAttemptStats(false);
  pool_->host().rq_error.inc();
  if (reason == upstream::PoolFailure::kOverflow) {
    upstreamFailure(503, http::kUpstreamOverflow, kOverflow, "overflow");
    return;
  }
  if (retryOn(Cause::kConnectFailure, 0)) {
    scheduleRetry();
    return;
  }
  upstreamFailure(503, http::kUpstreamConnectionFailure, kConnectFailure,
                  "upstream_reset_before_response_started{connection_failure}");
}

void RouterFilter::onUpstreamReset(upstream::ResetReason reason) {
  stream_ = nullptr;
  finishAttemptStats(false);
  if (reason == upstream::ResetReason::kStaleConnection && !body_seen_ && !response_started_ &&
      idempotent(request_headers_->method()) && stale_replays_ < kMaxStaleReplays) {
    // The upstream had closed the kept-alive connection: send the request
    // again, which is not a retry in Envoy's sense (nothing was answered).
    ++stale_replays_;
    startAttempt();
    return;
  }
  pool_->host().rq_error.inc();
  if (!response_started_ && retryOn(Cause::kReset, 0)) {
    scheduleRetry();
    return;
  }
  switch (reason) {
    case upstream::ResetReason::kRemoteReset:
      upstreamFailure(503, http::kUpstreamRemoteReset, kRemoteReset,
                      "upstream_reset_before_response_started{remote_reset}");
      break;
    case upstream::ResetReason::kProtocolError:
      upstreamFailure(503, http::kUpstreamProtocolError, kProtocolError,
                      "upstream_reset_before_response_started{protocol_error}");
      break;
    case upstream::ResetReason::kConnectionTermination:
    case upstream::ResetReason::kStaleConnection:
      upstreamFailure(503, http::kUpstreamConnectionTermination, kConnectionTermination,
                      "upstream_reset_before_response_started{connection_termination}");
      break;
  }
}

void RouterFilter::upstreamFailure(uint32_t status, uint32_t flags, std::string_view body,
                                   std::string_view details) {
  ctx_.disarmTimeout(*this);
  if (response_started_) {
    // Part of the response went out: all we can do is cut the stream.
    http::StreamInfo& info = callbacks_->streamInfo();
    info.response_flags |= flags;
    info.response_code_details = "upstream_reset_after_response_started";
    callbacks_->resetStream();
    return;
  }
  callbacks_->sendLocalReply(status, body, flags, details);
}

void RouterFilter::onTimeout() {
  if (destroyed_ || response_complete_) return;
  cluster_->stats().upstream_rq_timeout->inc();
  if (pool_ != nullptr) pool_->host().rq_timeout.inc();
  if (retry_timer_) retry_timer_->disable();
  finishAttemptStats(false);
  releaseUpstream(true);
  upstreamFailure(504, http::kUpstreamRequestTimeout, kUpstreamTimeout,
                  "upstream_response_timeout");
}

void RouterFilter::onDestroy() {
  if (destroyed_) return;
  destroyed_ = true;
  ctx_.disarmTimeout(*this);
  retry_timer_.reset();
  finishAttemptStats(false);
  // A connection with the exchange unfinished cannot be reused.
  releaseUpstream(!response_complete_);
}

// ---------------------------------------------------------------------------
// HttpConnectionHandler

HttpConnectionHandler::HttpConnectionHandler(
    std::shared_ptr<const HttpConnectionManagerConfig> config, WorkerContext& worker,
    DownstreamConnection connection, std::function<void()> on_done)
    : config_(std::move(config)),
      info_{connection.peer, connection.original_destination, connection.server_name,
            connection.id},
      router_context_(*config_, worker, info_),
      manager_(config_->connection, worker.httpResources(), *this, std::move(connection.fd), info_,
               std::move(on_done)) {}

void HttpConnectionHandler::createFilters(
    std::vector<std::unique_ptr<http::StreamFilter>>& filters) {
  filters.reserve(config_->filters.size() + 1);
  for (const auto& f : config_->filters)
    filters.push_back(f->create());
  filters.push_back(std::make_unique<RouterFilter>(router_context_));
}

}  // namespace remora::proxy
