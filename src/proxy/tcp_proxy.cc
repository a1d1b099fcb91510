#include "proxy/tcp_proxy.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <google/protobuf/util/time_util.h>

#include "common/logging.h"
#include "proxy/config_snapshot.h"

namespace remora::proxy {

using google::protobuf::util::TimeUtil;

StatusOr<std::shared_ptr<const TcpProxyConfig>> TcpProxyConfig::create(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto, StatsStore& stats) {
  auto c = std::make_shared<TcpProxyConfig>();
  if (proto.stat_prefix().empty()) return invalidArgumentError("stat_prefix: must not be empty");
  c->stat_prefix = proto.stat_prefix();
  if (proto.has_weighted_clusters()) {
    const auto& wc = proto.weighted_clusters();
    for (int i = 0; i < wc.clusters_size(); ++i) {
      if (wc.clusters(i).name().empty()) {
        return invalidArgumentError("weighted_clusters.clusters[" + std::to_string(i) +
                                    "].name: must not be empty");
      }
      if (wc.clusters(i).weight() == 0) continue;  // weight 0 never receives traffic
      c->clusters.push_back({wc.clusters(i).name(), wc.clusters(i).weight()});
      c->total_weight += wc.clusters(i).weight();
    }
    if (c->total_weight == 0) {
      return invalidArgumentError("weighted_clusters: needs at least one cluster with weight > 0");
    }
  } else if (!proto.cluster().empty()) {
    c->clusters.push_back({proto.cluster(), 1});
    c->total_weight = 1;
  } else {
    return invalidArgumentError("cluster: one of cluster or weighted_clusters is required");
  }
  if (proto.has_idle_timeout()) {
    c->idle_timeout =
        std::chrono::milliseconds(TimeUtil::DurationToMilliseconds(proto.idle_timeout()));
  }
  const std::string& p = c->stat_prefix;
  c->stats = TcpProxyStats{
      &stats.counter("tcp", p, "downstream_cx_total"),
      &stats.counter("tcp", p, "downstream_cx_no_route"),
      &stats.counter("tcp", p, "downstream_cx_rx_bytes_total"),
      &stats.counter("tcp", p, "downstream_cx_tx_bytes_total"),
      &stats.counter("tcp", p, "downstream_flow_control_paused_reading_total"),
      &stats.counter("tcp", p, "downstream_flow_control_resumed_reading_total"),
      &stats.counter("tcp", p, "upstream_flush_total"),
      &stats.counter("tcp", p, "idle_timeout"),
  };
  return std::shared_ptr<const TcpProxyConfig>(std::move(c));
}

const std::string& TcpProxyConfig::pickCluster(std::mt19937_64& random) const {
  if (clusters.size() == 1) return clusters[0].name;
  uint64_t r = random() % total_weight;
  for (const auto& c : clusters) {
    if (r < c.weight) return c.name;
    r -= c.weight;
  }
  return clusters.back().name;
}

TcpProxySession::TcpProxySession(WorkerContext& worker,
                                 std::shared_ptr<const TcpProxyConfig> config,
                                 const ClusterLookup& clusters, Downstream downstream,
                                 std::function<void()> on_done)
    : worker_(worker),
      config_(std::move(config)),
      clusters_(clusters),
      downstream_(std::move(downstream)),
      on_done_(std::move(on_done)) {
  config_->stats.downstream_cx_total->inc();
}

std::unique_ptr<ConnectionHandler> TcpProxyFilter::createHandler(
    WorkerContext& worker, const std::shared_ptr<const ConfigSnapshot>& snapshot,
    DownstreamConnection connection, std::function<void()> on_done) const {
  // The snapshot is captured so the clusters this connection uses stay alive
  // even if a newer configuration replaces them mid-connection.
  ClusterLookup lookup = [snapshot](const std::string& name) { return snapshot->cluster(name); };
  return std::make_unique<TcpProxySession>(
      worker, config_, lookup,
      TcpProxySession::Downstream{std::move(connection.fd), connection.peer,
                                  connection.original_destination},
      std::move(on_done));
}

TcpProxySession::~TcpProxySession() {
  downstream_event_.reset();
  upstream_event_.reset();
  if (cluster_ && connected_) cluster_->stats().upstream_cx_active->dec();
  if (host_ && connected_) host_->cx_active.dec();
  worker_.returnPipe(std::move(to_upstream_.pipe));
  worker_.returnPipe(std::move(to_downstream_.pipe));
}

void TcpProxySession::start() {
  const std::string& name = config_->pickCluster(worker_.random());
  cluster_ = clusters_(name);
  if (!cluster_) {
    REMORA_LOG_DEBUG("tcp_proxy {}: cluster '{}' not found", config_->stat_prefix, name);
    config_->stats.downstream_cx_no_route->inc();
    fail(false);
    return;
  }
  if (cluster_->type() == upstream::Cluster::Type::kOriginalDst) {
    // The PassthroughCluster: one host per destination, made on the fly.
    host_ = std::make_shared<upstream::Host>();
    host_->address = downstream_.original_destination;
  } else {
    ClusterState& state = worker_.clusterState(cluster_);
    const upstream::HostSharedPtr* host = state.loadBalancer().chooseHost(state.hosts());
    if (host != nullptr) host_ = *host;
  }
  if (!host_) {
    // BlackHoleCluster, or every host is unhealthy: close at once.
    cluster_->stats().upstream_cx_none_healthy->inc();
    fail(false);
    return;
  }
  cluster_->stats().upstream_cx_total->inc();
  host_->cx_total.inc();
  bool in_progress = false;
  auto fd = network::connectTcp(host_->address, &in_progress);
  if (!fd.ok()) {
    REMORA_LOG_DEBUG("tcp_proxy {}: {}", config_->stat_prefix, fd.status().message());
    fail(true);
    return;
  }
  upstream_fd_ = std::move(*fd);
  upstream_event_ = worker_.dispatcher().createFileEvent(
      upstream_fd_.get(), [this](uint32_t ready) { onEvent(false, ready); }, event::kWrite);
  connect_timer_ = worker_.dispatcher().createTimer([this] {
    cluster_->stats().upstream_cx_connect_timeout->inc();
    fail(true);
  });
  connect_timer_->enable(cluster_->connectTimeout());
  if (!in_progress) onUpstreamConnected();
}

void TcpProxySession::onUpstreamConnected() {
  connect_timer_.reset();
  connected_ = true;
  cluster_->stats().upstream_cx_active->inc();
  host_->cx_active.inc();
  size_t limit = cluster_->bufferLimitBytes();
  auto a = worker_.takePipe(limit);
  auto b = worker_.takePipe(limit);
  if (!a.ok() || !b.ok()) {
    REMORA_LOG_WARN("tcp_proxy {}: cannot make pipes: {}", config_->stat_prefix,
                    (a.ok() ? b.status() : a.status()).message());
    fail(false);
    return;
  }
  to_upstream_.src = downstream_.fd.get();
  to_upstream_.dst = upstream_fd_.get();
  to_upstream_.pipe = std::move(*a);
  to_upstream_.rx = config_->stats.downstream_cx_rx_bytes_total;
  to_upstream_.tx = cluster_->stats().upstream_cx_tx_bytes_total;
  to_downstream_.src = upstream_fd_.get();
  to_downstream_.dst = downstream_.fd.get();
  to_downstream_.pipe = std::move(*b);
  to_downstream_.rx = cluster_->stats().upstream_cx_rx_bytes_total;
  to_downstream_.tx = config_->stats.downstream_cx_tx_bytes_total;

  downstream_event_ = worker_.dispatcher().createFileEvent(
      downstream_.fd.get(), [this](uint32_t ready) { onEvent(true, ready); }, 0);
  last_activity_ = worker_.dispatcher().now();
  if (config_->idle_timeout.count() > 0) {
    idle_timer_ = worker_.dispatcher().createTimer([this] { onIdleTimer(); });
    idle_timer_->enable(config_->idle_timeout);
  }
  updateInterest();
}

void TcpProxySession::onEvent(bool downstream_side, uint32_t ready) {
  if (done_) return;
  if (!connected_) {
    // Only the upstream socket is watched while connecting.
    Status s = network::connectResult(upstream_fd_.get());
    if (!s.ok()) {
      REMORA_LOG_DEBUG("tcp_proxy {}: upstream {}: {}", config_->stat_prefix,
                       host_->address.toString(), s.message());
      fail(true);
      return;
    }
    onUpstreamConnected();
    return;
  }
  Flow& inbound = downstream_side ? to_upstream_ : to_downstream_;
  Flow& outbound = downstream_side ? to_downstream_ : to_upstream_;
  if (ready & event::kWrite) {
    if (drain(outbound) == Io::kError) return fail(false);
    // Room was made on this socket's side: the other socket may read again.
    Flow& refill = outbound;
    if (!refill.src_eof && refill.pipe.bytes < refill.pipe.capacity) {
      if (fill(refill) == Io::kError) return fail(false);
      if (drain(refill) == Io::kError) return fail(false);
    }
  }
  if (ready & event::kRead) {
    if (fill(inbound) == Io::kError) return fail(false);
    if (drain(inbound) == Io::kError) return fail(false);
  }
  last_activity_ = worker_.dispatcher().now();
  finishHalfCloses();
  if (!done_) updateInterest();
}

TcpProxySession::Io TcpProxySession::fill(Flow& f) {
  while (!f.src_eof && f.pipe.bytes < f.pipe.capacity) {
    size_t room = f.pipe.capacity - f.pipe.bytes;
    ssize_t n = splice(f.src, nullptr, f.pipe.write_end.get(), nullptr, room,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      f.pipe.bytes += static_cast<size_t>(n);
      f.rx->inc(static_cast<uint64_t>(n));
      // A short read means the socket is drained; the next readiness event
      // brings more. Saves one EAGAIN system call per event.
      if (static_cast<size_t>(n) < room) break;
      continue;
    }
    if (n == 0) {
      f.src_eof = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    return Io::kError;
  }
  return Io::kOk;
}

TcpProxySession::Io TcpProxySession::drain(Flow& f) {
  while (f.pipe.bytes > 0) {
    ssize_t n = splice(f.pipe.read_end.get(), nullptr, f.dst, nullptr, f.pipe.bytes,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      f.pipe.bytes -= static_cast<size_t>(n);
      f.tx->inc(static_cast<uint64_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return Io::kError;
  }
  return Io::kOk;
}

void TcpProxySession::finishHalfCloses() {
  for (Flow* f : {&to_upstream_, &to_downstream_}) {
    if (f->src_eof && f->pipe.bytes == 0 && !f->dst_shut) {
      // Pass the FIN on only after every byte before it went through.
      ::shutdown(f->dst, SHUT_WR);
      f->dst_shut = true;
    }
  }
  if (to_upstream_.dst_shut && to_downstream_.dst_shut) finish();
}

void TcpProxySession::updateInterest() {
  auto wanted = [](const Flow& reading, const Flow& writing) {
    uint32_t ev = 0;
    if (!reading.src_eof && reading.pipe.bytes < reading.pipe.capacity) ev |= event::kRead;
    if (writing.pipe.bytes > 0) ev |= event::kWrite;
    return ev;
  };
  for (Flow* f : {&to_upstream_, &to_downstream_}) {
    bool full = !f->src_eof && f->pipe.bytes >= f->pipe.capacity;
    if (full && !f->paused) {
      f->paused = true;
      if (f == &to_upstream_) config_->stats.downstream_flow_control_paused_reading_total->inc();
    } else if (!full && f->paused) {
      f->paused = false;
      if (f == &to_upstream_) config_->stats.downstream_flow_control_resumed_reading_total->inc();
    }
  }
  downstream_event_->setEnabled(wanted(to_upstream_, to_downstream_));
  upstream_event_->setEnabled(wanted(to_downstream_, to_upstream_));
}

void TcpProxySession::onIdleTimer() {
  // The timer is armed once per period and checks activity lazily, so the
  // data path never touches the timer structure.
  auto idle_for = worker_.dispatcher().now() - last_activity_;
  if (idle_for < config_->idle_timeout) {
    idle_timer_->enable(
        std::chrono::duration_cast<std::chrono::milliseconds>(config_->idle_timeout - idle_for) +
        std::chrono::milliseconds(1));
    return;
  }
  config_->stats.idle_timeout->inc();
  fail(false);
}

void TcpProxySession::fail(bool connect_failure) {
  if (done_) return;
  if (connect_failure && cluster_) {
    cluster_->stats().upstream_cx_connect_fail->inc();
    if (host_) host_->cx_connect_fail.inc();
  }
  if (cluster_ && connected_) cluster_->stats().upstream_cx_destroy_local->inc();
  finish();
}

void TcpProxySession::finish() {
  if (done_) return;
  done_ = true;
  connect_timer_.reset();
  idle_timer_.reset();
  if (downstream_event_) downstream_event_->setEnabled(0);
  if (upstream_event_) upstream_event_->setEnabled(0);
  on_done_();
}

void TcpProxySession::close() {
  finish();
}

}  // namespace remora::proxy
