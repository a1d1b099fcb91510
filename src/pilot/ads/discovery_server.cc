#include "pilot/ads/discovery_server.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/logging.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "pilot/ads/wire.h"

namespace remora::pilot {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;

bool parseTypeUrl(std::string_view url, ResourceType* type) {
  for (ResourceType t : kPushOrder) {
    if (url == typeUrl(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

// One ADS stream. gRPC owns the reactor until OnDone; it also owns itself
// through self_ so that a push worker holding it past OnDone finds a live
// object (and, seeing the stream finished, leaves it alone).
class AdsConnection final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  AdsConnection(DiscoveryServer* server, uint64_t number, std::string peer)
      : server_(server), number_(number), peer_(std::move(peer)), connected_at_(Wall::now()) {}

  // gRPC thread, from the method handler.
  void start(std::shared_ptr<AdsConnection> self) {
    self_ = std::move(self);
    server_->addConnection(self_);
    StartRead(&read_buf_);
  }

  uint64_t number() const { return number_; }

  // Config source thread. True when the stream now has work to send and
  // was not queued yet: the caller queues it.
  bool onPush(bool full, const SnapshotChanges& changes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!node_ || finish_wanted_) return false;
    bool mine = std::binary_search(changes.changed_proxies.begin(), changes.changed_proxies.end(),
                                   node_->identity.proxyId());
    stream_.onPush(full || mine, changes.endpoint_services);
    return claimWorkLocked();
  }

  // Push worker: sends every response that is due, in push order.
  void process();

  ConnectionStatus status() const {
    std::lock_guard<std::mutex> lock(mu_);
    ConnectionStatus s;
    s.connection_id = connectionIdLocked();
    s.peer = peer_;
    s.connected_at = connected_at_;
    s.has_node = node_.has_value();
    if (node_) s.node = *node_;
    s.known = known_;
    s.proxyless = proxylessLocked();
    for (ResourceType t : kPushOrder)
      s.watches[static_cast<size_t>(t)] = stream_.watch(t);
    return s;
  }

  bool hasNode() const {
    std::lock_guard<std::mutex> lock(mu_);
    return node_.has_value();
  }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  void OnCancel() override {}

 private:
  using Wall = std::chrono::system_clock;

  std::string connectionIdLocked() const {
    return (node_ ? node_->identity.proxyId() : std::string("unidentified")) + "-" +
           std::to_string(number_);
  }
  bool proxylessLocked() const {
    const WatchState& lds = stream_.watch(ResourceType::kListener);
    return (node_ && node_->proxyless) || (lds.subscribed && !lds.wildcard && lds.named_before);
  }
  // True when the stream has something to send and no worker has it yet.
  bool claimWorkLocked() {
    if (scheduled_ || finish_wanted_ || !stream_.nextSend()) return false;
    scheduled_ = true;
    return true;
  }
  void requestFinish(grpc::Status status);
  void handle(const DiscoveryRequest& request);

  DiscoveryServer* const server_;
  const uint64_t number_;
  const std::string peer_;
  const WallTime connected_at_;
  std::shared_ptr<AdsConnection> self_;

  mutable std::mutex mu_;
  std::optional<NodeInfo> node_;
  XdsStream stream_;
  std::set<std::string> unknown_types_;
  // The proxy as the context it was resolved with sees it.
  std::shared_ptr<const PushContext> proxy_context_;
  ProxyNode proxy_;
  bool known_ = false;
  bool scheduled_ = false;               // queued for, or held by, a push worker
  std::deque<grpc::ByteBuffer> writes_;  // front is being written
  bool writing_ = false;
  bool finish_wanted_ = false;
  bool finish_called_ = false;
  grpc::Status finish_status_;

  grpc::ByteBuffer read_buf_;  // gRPC threads only, one read at a time
};

void AdsConnection::OnReadDone(bool ok) {
  if (!ok) {
    // The client closed its side, or the stream broke.
    requestFinish(grpc::Status::OK);
    return;
  }
  DiscoveryRequest request;
  bool parsed = decodeDiscoveryRequest(&read_buf_, &request);
  read_buf_.Clear();
  if (!parsed) {
    requestFinish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                               "the request is not an envoy.service.discovery.v3."
                               "DiscoveryRequest"));
    return;
  }
  handle(request);
}

void AdsConnection::handle(const DiscoveryRequest& request) {
  bool queue = false;
  std::optional<grpc::Status> refuse;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_wanted_) return;
    if (!node_) {
      // Clients send the node on the first request of a stream only.
      auto node = request.has_node() ? readNode(request.node())
                                     : StatusOr<NodeInfo>(invalidArgumentError(
                                           "the first request of a stream must carry the "
                                           "node"));
      if (node.ok()) {
        node_ = std::move(*node);
        REMORA_LOG_INFO("ADS: {} connected from {} (node {}{}{})", connectionIdLocked(), peer_,
                        node_->node_id, node_->admin_address.empty() ? "" : ", admin ",
                        node_->admin_address);
      } else {
        REMORA_LOG_WARN("ADS: refusing stream from {}: {}", peer_, node.status().message());
        refuse = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, node.status().message());
      }
    }
  }
  if (refuse) {
    requestFinish(*refuse);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ResourceType type;
    if (!parseTypeUrl(request.type_url(), &type)) {
      if (unknown_types_.insert(request.type_url()).second) {
        REMORA_LOG_WARN("ADS: {} asked for type \"{}\", which pilot does not serve",
                        connectionIdLocked(), request.type_url());
      }
    } else {
      XdsRequest x;
      x.type = type;
      x.version_info = request.version_info();
      x.response_nonce = request.response_nonce();
      x.resource_names.assign(request.resource_names().begin(), request.resource_names().end());
      x.has_error = request.has_error_detail();
      x.error_message = request.error_detail().message();
      auto result = stream_.onRequest(x, Wall::now());
      switch (result.outcome) {
        case XdsStream::Outcome::kAck:
          server_->metrics_->converged(std::chrono::steady_clock::now() - result.acked_published);
          break;
        case XdsStream::Outcome::kNack:
          server_->metrics_->rejected(type);
          REMORA_LOG_WARN("ADS: {} rejected {} version {}: {}", connectionIdLocked(),
                          shortTypeName(type), stream_.watch(type).nacked_version, x.error_message);
          break;
        case XdsStream::Outcome::kStale:
          server_->metrics_->staleNonce();
          break;
        case XdsStream::Outcome::kSubscribe:
          break;
      }
      queue = claimWorkLocked();
    }
  }
  if (queue) server_->schedule(self_);
  StartRead(&read_buf_);
}

void AdsConnection::process() {
  for (;;) {
    auto ctx = server_->context();
    SendPlan plan;
    ProxyNode proxy;
    bool proxyless = false;
    std::string nonce;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::optional<SendPlan> next = ctx && !finish_wanted_ ? stream_.nextSend() : std::nullopt;
      if (!next) {
        scheduled_ = false;
        return;
      }
      plan = std::move(*next);
      if (proxy_context_ != ctx) {
        bool known = false;
        proxy_ = ctx->proxyFor(node_->identity, &known);
        if (!known) server_->noteUnknownNode(node_->identity.proxyId(), node_->node_id);
        known_ = known;
        proxy_context_ = ctx;
      }
      proxy = proxy_;
      proxyless = proxylessLocked();
      nonce = server_->nextNonce();
      stream_.markSent(plan, ctx->version(), nonce, ctx->published(), Wall::now());
    }
    auto start = std::chrono::steady_clock::now();
    EncodedResponse body = ctx->build(plan, proxy, proxyless);
    grpc::ByteBuffer buffer =
        encodeDiscoveryResponse(ctx->version(), typeUrl(plan.type), nonce, body);
    server_->metrics_->pushed(plan.type, body.bytes, std::chrono::steady_clock::now() - start);
    server_->countResponse(plan.type, body.bytes);
    const grpc::ByteBuffer* to_write = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_.setSentResources(plan.type, body.resources.size());
      if (finish_wanted_) continue;
      writes_.push_back(std::move(buffer));
      if (!writing_) {
        writing_ = true;
        to_write = &writes_.front();
      }
    }
    if (to_write) StartWrite(to_write);
  }
}

void AdsConnection::OnWriteDone(bool ok) {
  const grpc::ByteBuffer* next = nullptr;
  bool finish = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.pop_front();
    if (ok && !finish_wanted_ && !writes_.empty()) {
      next = &writes_.front();
    } else {
      // A failed write means a dead stream: the pending read fails too and
      // finishes it.
      writing_ = false;
      writes_.clear();
      if (finish_wanted_ && !finish_called_) finish = finish_called_ = true;
    }
  }
  if (next) StartWrite(next);
  if (finish) Finish(finish_status_);
}

void AdsConnection::requestFinish(grpc::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_wanted_) return;
    finish_wanted_ = true;
    finish_status_ = std::move(status);
    // With a write in flight, OnWriteDone finishes: gRPC allows no Finish
    // while a write is outstanding.
    if (writing_) return;
    finish_called_ = true;
  }
  Finish(finish_status_);
}

void AdsConnection::OnDone() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (node_) {
      REMORA_LOG_INFO("ADS: {} disconnected{}", connectionIdLocked(),
                      finish_status_.ok() ? "" : ": " + finish_status_.error_message());
    }
  }
  server_->removeConnection(number_);
  // The last reference may be a worker's; otherwise this deletes us.
  auto self = std::move(self_);
}

// Delta xDS is not served: a client asking for it gets UNIMPLEMENTED with a
// reason instead of a stream that never answers.
class DeltaRefusal final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  DeltaRefusal() {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "remora-pilot serves state-of-the-world ADS only "
                        "(StreamAggregatedResources), not delta xDS"));
  }
  void OnDone() override { delete this; }
};

class DiscoveryServer::Service final
    : public AggregatedDiscoveryService::WithRawCallbackMethod_StreamAggregatedResources<
          AggregatedDiscoveryService::WithRawCallbackMethod_DeltaAggregatedResources<
              AggregatedDiscoveryService::Service>> {
 public:
  explicit Service(DiscoveryServer* server) : server_(server) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamAggregatedResources(
      grpc::CallbackServerContext* context) override {
    auto connection =
        std::make_shared<AdsConnection>(server_, ++server_->connection_numbers_, context->peer());
    AdsConnection* raw = connection.get();
    raw->start(std::move(connection));
    return raw;
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* DeltaAggregatedResources(
      grpc::CallbackServerContext*) override {
    return new DeltaRefusal();
  }

 private:
  DiscoveryServer* server_;
};

DiscoveryServer::DiscoveryServer(Options options, PilotMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

DiscoveryServer::~DiscoveryServer() {
  stop();
}

Status DiscoveryServer::start() {
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  // A full push to a sidecar of a large mesh is megabytes.
  builder.SetMaxSendMessageSize(-1);
  builder.SetMaxReceiveMessageSize(16 << 20);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return unavailableError("cannot serve gRPC on " + options_.address);
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    workers_.emplace_back([this] { workerLoop(); });
  reaper_ = std::thread([this] { reaperLoop(); });
  return Status::okStatus();
}

void DiscoveryServer::stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_.clear();
  }
  queue_cv_.notify_all();
  for (auto& t : workers_)
    t.join();
  workers_.clear();
  {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    reaper_stopping_ = true;
  }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  retired_.clear();
  server_.reset();
  std::lock_guard<std::mutex> lock(connections_mu_);
  connections_.clear();
}

std::shared_ptr<const PushContext> DiscoveryServer::context() const {
  std::lock_guard<std::mutex> lock(context_mu_);
  return context_;
}

void DiscoveryServer::onSnapshot(std::shared_ptr<const MeshSnapshot> snapshot) {
  // Snapshots come from one thread, so the context read here is the one the
  // new context replaces; streams keep serving from it meanwhile.
  std::shared_ptr<const PushContext> previous = context();
  auto ctx = std::make_shared<const PushContext>(snapshot, std::chrono::steady_clock::now(),
                                                 previous.get());
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    context_ = ctx;
  }
  metrics_->setVersion(snapshot->version());
  auto compare_start = std::chrono::steady_clock::now();
  SnapshotChanges changes;
  if (previous) changes = compareSnapshots(previous->snapshot(), *snapshot);
  double compare_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - compare_start)
          .count();
  bool full = changes.config_changed;
  metrics_->triggered(full);
  std::vector<std::shared_ptr<AdsConnection>> all;
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    for (const auto& [n, c] : connections_)
      all.push_back(c);
  }
  std::string label =
      full ? fmt::format("{} (full; diff {:.1f} ms)", ctx->version(), compare_ms)
           : fmt::format("{} (eds: {} services{}; diff {:.1f} ms)", ctx->version(),
                         changes.endpoint_services.size(),
                         changes.changed_proxies.empty()
                             ? ""
                             : fmt::format(", {} pods changed", changes.changed_proxies.size()),
                         compare_ms);
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (batch_.active) logBatchLocked(", superseded");
    batch_ = Batch{};
    batch_.active = true;
    batch_.label = label;
    batch_.start = std::chrono::steady_clock::now();
  }
  size_t queued = 0;
  for (const auto& c : all) {
    if (c->onPush(full, changes)) {
      schedule(c);
      ++queued;
    }
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    batch_.proxies = queued;
    if (queued == 0 && batch_.active) logBatchLocked("");
  }
  if (previous) {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    if (reaper_.joinable()) retired_.push_back(std::move(previous));
  }
}

void DiscoveryServer::reaperLoop() {
  std::unique_lock<std::mutex> lock(reaper_mu_);
  while (!reaper_stopping_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(100));
    std::vector<std::shared_ptr<const PushContext>> unused;
    for (auto it = retired_.begin(); it != retired_.end();) {
      if (it->use_count() == 1) {
        unused.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    unused.clear();  // frees them, off every stream's path
    lock.lock();
  }
}

void DiscoveryServer::schedule(std::shared_ptr<AdsConnection> connection) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return;
    queue_.push_back(std::move(connection));
  }
  queue_cv_.notify_one();
}

void DiscoveryServer::workerLoop() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto connection = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    connection->process();
    connection.reset();
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0 && batch_.active && batch_.proxies > 0) logBatchLocked("");
  }
}

void DiscoveryServer::countResponse(ResourceType type, size_t bytes) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (!batch_.active) return;
  ++batch_.responses[static_cast<size_t>(type)];
  batch_.bytes += bytes;
}

void DiscoveryServer::logBatchLocked(const char* suffix) {
  size_t total = 0;
  std::string by_type;
  for (ResourceType t : kPushOrder) {
    size_t n = batch_.responses[static_cast<size_t>(t)];
    total += n;
    if (n) by_type += fmt::format("{}{} {}", by_type.empty() ? "" : ", ", shortTypeName(t), n);
  }
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - batch_.start)
          .count();
  REMORA_LOG_INFO("push {}: {} proxies, {} responses{}{}{}, {:.1f} KiB in {:.1f} ms{}",
                  batch_.label, batch_.proxies, total, by_type.empty() ? "" : " (", by_type,
                  by_type.empty() ? "" : ")", static_cast<double>(batch_.bytes) / 1024.0, ms,
                  suffix);
  batch_.active = false;
}

bool DiscoveryServer::idle() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.empty() && busy_ == 0;
}

void DiscoveryServer::addConnection(const std::shared_ptr<AdsConnection>& connection) {
  metrics_->connected(1);
  std::lock_guard<std::mutex> lock(connections_mu_);
  connections_[connection->number()] = connection;
}

void DiscoveryServer::removeConnection(uint64_t number) {
  metrics_->connected(-1);
  std::lock_guard<std::mutex> lock(connections_mu_);
  connections_.erase(number);
}

void DiscoveryServer::noteUnknownNode(const std::string& proxy_id, const std::string& node_id) {
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    if (!unknown_logged_.insert(proxy_id).second) return;
  }
  REMORA_LOG_INFO(
      "ADS: node {} names no pod with an IP in the config; serving it the outbound config of "
      "its namespace",
      node_id);
}

std::vector<ConnectionStatus> DiscoveryServer::connections() const {
  std::vector<std::shared_ptr<AdsConnection>> all;
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    for (const auto& [n, c] : connections_)
      all.push_back(c);
  }
  std::vector<ConnectionStatus> out;
  for (const auto& c : all) {
    ConnectionStatus s = c->status();
    if (s.has_node) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const ConnectionStatus& a, const ConnectionStatus& b) {
    return a.connection_id < b.connection_id;
  });
  return out;
}

}  // namespace remora::pilot
