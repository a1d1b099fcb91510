#include "xds/ads_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "common/logging.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/resource_types.h"

namespace remora::xds {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::string_view shortTypeName(std::string_view type_url) {
  if (type_url == kListenerType) return "LDS";
  if (type_url == kRouteConfigurationType) return "RDS";
  if (type_url == kClusterType) return "CDS";
  if (type_url == kClusterLoadAssignmentType) return "EDS";
  return type_url;
}

// Everything the stream thread and the owner thread share. Posted closures
// hold it weakly, so a response that arrives while the client is being
// destroyed is dropped instead of touching freed memory.
struct AdsClient::Shared : std::enable_shared_from_this<AdsClient::Shared> {
  using ReaderWriter = grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>;

  Shared(event::Dispatcher& o, Options opts, ApplyFn a, ConnectionFn c)
      : owner(o), options(std::move(opts)), apply(std::move(a)), on_connection(std::move(c)) {}

  event::Dispatcher& owner;
  const Options options;
  const ApplyFn apply;
  const ConnectionFn on_connection;

  // ---- owner thread only ----
  std::vector<TypeState> types;  // in subscription order
  bool connected = false;
  uint64_t node_sent_generation = 0;

  // ---- guarded by lock: the live stream, written by the owner thread ----
  std::mutex lock;
  std::condition_variable wake;
  grpc::ClientContext* context = nullptr;
  ReaderWriter* stream = nullptr;
  bool stopping = false;
  std::atomic<uint64_t> generation{0};
  std::thread thread;

  TypeState* find(const std::string& type_url) {
    for (auto& t : types) {
      if (t.type_url == type_url) return &t;
    }
    return nullptr;
  }

  // Owner thread. Sends the request for `t` on the current stream, if any.
  void send(const TypeState& t, const std::string& version, const std::string& nonce,
            const std::string* error) {
    DiscoveryRequest req;
    req.set_version_info(version);
    req.set_type_url(t.type_url);
    req.set_response_nonce(nonce);
    for (const auto& n : t.names)
      req.add_resource_names(n);
    if (error != nullptr) {
      req.mutable_error_detail()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
      req.mutable_error_detail()->set_message(*error);
    }
    std::lock_guard<std::mutex> g(lock);
    if (stream == nullptr) return;
    // The node goes with the first request of each stream, as Envoy does.
    uint64_t gen = generation.load();
    if (node_sent_generation != gen) {
      *req.mutable_node() = options.node;
      node_sent_generation = gen;
    }
    if (!stream->Write(req)) {
      REMORA_LOG_DEBUG("xds: write of {} request failed; the stream is ending",
                       shortTypeName(t.type_url));
    }
  }

  // Owner thread: a new stream asks for everything again, from the versions
  // already applied, so the control plane can tell what the proxy has.
  void onStreamStarted(uint64_t gen) {
    if (gen != generation.load()) return;
    for (auto& t : types) {
      t.last_nonce.clear();
      send(t, t.acked_version, "", nullptr);
    }
  }

  void onResponse(uint64_t gen, const DiscoveryResponse& resp) {
    if (gen != generation.load()) return;
    if (!connected) {
      connected = true;
      REMORA_LOG_INFO("xds: connected to {}", options.target);
      if (on_connection) on_connection(true);
    }
    TypeState* t = find(resp.type_url());
    if (t == nullptr) {
      REMORA_LOG_WARN("xds: ignoring a response of unsubscribed type {}", resp.type_url());
      return;
    }
    ++t->responses;
    t->last_nonce = resp.nonce();
    std::vector<google::protobuf::Any> resources(resp.resources().begin(), resp.resources().end());
    Status applied = apply(resp.type_url(), resp.version_info(), resources);
    // apply() may have re-subscribed this type; find it again.
    t = find(resp.type_url());
    if (applied.ok()) {
      ++t->acks;
      t->acked_version = resp.version_info();
      t->last_error.clear();
      REMORA_LOG_DEBUG("xds: ACK {} version {} ({} resources)", shortTypeName(t->type_url),
                       resp.version_info(), resources.size());
      send(*t, t->acked_version, resp.nonce(), nullptr);
    } else {
      ++t->nacks;
      t->last_error = applied.message();
      REMORA_LOG_WARN("xds: NACK {} version {}: {}", shortTypeName(t->type_url),
                      resp.version_info(), applied.message());
      send(*t, t->acked_version, resp.nonce(), &t->last_error);
    }
  }

  void onStreamEnded(uint64_t gen, const std::string& why) {
    if (gen != generation.load()) return;
    if (connected) {
      connected = false;
      REMORA_LOG_WARN("xds: stream to {} ended: {}; serving the last config", options.target, why);
      if (on_connection) on_connection(false);
    } else {
      REMORA_LOG_DEBUG("xds: cannot reach {}: {}", options.target, why);
    }
  }

  template <typename Fn>
  void postToOwner(Fn fn) {
    std::weak_ptr<Shared> weak = shared_from_this();
    owner.post([weak, fn = std::move(fn)]() mutable {
      if (auto self = weak.lock()) fn(*self);
    });
  }

  // The stream thread: connect, read until the stream ends, back off, again.
  void run() {
    auto channel = grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials());
    auto stub = AggregatedDiscoveryService::NewStub(channel);
    std::mt19937_64 random{std::random_device{}()};
    auto backoff = options.initial_backoff;
    while (true) {
      grpc::ClientContext ctx;
      std::unique_ptr<ReaderWriter> rw;
      uint64_t gen;
      {
        std::lock_guard<std::mutex> g(lock);
        if (stopping) return;
        rw = stub->StreamAggregatedResources(&ctx);
        context = &ctx;
        stream = rw.get();
        gen = ++generation;
      }
      postToOwner([gen](Shared& s) { s.onStreamStarted(gen); });
      bool received = false;
      auto resp = std::make_shared<DiscoveryResponse>();
      while (rw->Read(resp.get())) {
        received = true;
        postToOwner([gen, resp](Shared& s) { s.onResponse(gen, *resp); });
        resp = std::make_shared<DiscoveryResponse>();
      }
      {
        std::lock_guard<std::mutex> g(lock);
        stream = nullptr;
        context = nullptr;
      }
      grpc::Status st = rw->Finish();
      std::string why = st.ok() ? "closed by the server"
                                : std::to_string(st.error_code()) + " " + st.error_message();
      postToOwner([gen, why](Shared& s) { s.onStreamEnded(gen, why); });
      if (received) backoff = options.initial_backoff;
      // Full jitter: proxies that lost the same control plane do not all
      // come back at the same instant.
      std::uniform_int_distribution<int64_t> pick(0, backoff.count());
      auto delay = std::chrono::milliseconds(pick(random));
      backoff = std::min(backoff * 2, options.max_backoff);
      std::unique_lock<std::mutex> g(lock);
      if (wake.wait_for(g, delay, [this] { return stopping; })) return;
    }
  }
};

AdsClient::AdsClient(event::Dispatcher& owner, Options options, ApplyFn apply,
                     ConnectionFn on_connection)
    : shared_(std::make_shared<Shared>(owner, std::move(options), std::move(apply),
                                       std::move(on_connection))) {}

AdsClient::~AdsClient() {
  {
    std::lock_guard<std::mutex> g(shared_->lock);
    shared_->stopping = true;
    if (shared_->context != nullptr) shared_->context->TryCancel();
  }
  shared_->wake.notify_all();
  if (shared_->thread.joinable()) shared_->thread.join();
}

void AdsClient::start() {
  shared_->thread = std::thread([s = shared_] { s->run(); });
}

void AdsClient::subscribe(const std::string& type_url, std::vector<std::string> names,
                          bool wildcard) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  TypeState* t = shared_->find(type_url);
  if (t == nullptr) {
    shared_->types.push_back(TypeState{});
    t = &shared_->types.back();
    t->type_url = type_url;
  } else if (t->names == names && t->wildcard == wildcard) {
    return;
  }
  t->names = std::move(names);
  t->wildcard = wildcard;
  shared_->send(*t, t->acked_version, t->last_nonce, nullptr);
}

bool AdsClient::connected() const {
  return shared_->connected;
}

std::vector<TypeState> AdsClient::state() const {
  return shared_->types;
}

}  // namespace remora::xds
