#include "xds/ads_client.h"

#include <algorithm>

#include "common/logging.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/resource_types.h"

namespace remora::xds {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

namespace {
constexpr const char* kAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
constexpr int kInvalidArgument = 3;  // google.rpc.Code
}  // namespace

std::string_view shortTypeName(std::string_view type_url) {
  if (type_url == kListenerType) return "LDS";
  if (type_url == kRouteConfigurationType) return "RDS";
  if (type_url == kClusterType) return "CDS";
  if (type_url == kClusterLoadAssignmentType) return "EDS";
  return type_url;
}

AdsClient::AdsClient(event::Dispatcher& owner, Options options, ApplyFn apply,
                     ConnectionFn on_connection)
    : owner_(owner),
      options_(std::move(options)),
      apply_(std::move(apply)),
      on_connection_(std::move(on_connection)),
      backoff_(options_.initial_backoff) {}

AdsClient::~AdsClient() = default;

TypeState* AdsClient::find(const std::string& type_url) {
  for (auto& t : types_) {
    if (t.type_url == type_url) return &t;
  }
  return nullptr;
}

void AdsClient::start() {
  retry_timer_ = owner_.createTimer([this] { connect(); });
  connect();
}

void AdsClient::connect() {
  GrpcStream::Callbacks cb;
  cb.on_message = [this](std::string_view bytes) { onMessage(bytes); };
  cb.on_close = [this](int status, const std::string& message) { onClose(status, message); };
  auto stream = GrpcStream::open(owner_, options_.target, kAdsMethod, std::move(cb));
  if (!stream.ok()) {
    onClose(14, stream.status().message());
    return;
  }
  stream_ = std::move(*stream);
  node_sent_ = false;
  // A new stream asks for everything again, from the versions already
  // applied, so the control plane can tell what this proxy runs.
  for (auto& t : types_) {
    t.last_nonce.clear();
    send(t, t.acked_version, "", nullptr);
  }
}

void AdsClient::send(const TypeState& t, const std::string& version, const std::string& nonce,
                     const std::string* error) {
  if (!stream_) return;
  DiscoveryRequest req;
  req.set_version_info(version);
  req.set_type_url(t.type_url);
  req.set_response_nonce(nonce);
  for (const auto& n : t.names)
    req.add_resource_names(n);
  if (error != nullptr) {
    req.mutable_error_detail()->set_code(kInvalidArgument);
    req.mutable_error_detail()->set_message(*error);
  }
  // The node goes with the first request of each stream, as Envoy does.
  if (!node_sent_) {
    *req.mutable_node() = options_.node;
    node_sent_ = true;
  }
  stream_->send(req.SerializeAsString());
}

void AdsClient::subscribe(const std::string& type_url, std::vector<std::string> names,
                          bool wildcard) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  TypeState* t = find(type_url);
  if (t == nullptr) {
    types_.push_back(TypeState{});
    t = &types_.back();
    t->type_url = type_url;
  } else if (t->names == names && t->wildcard == wildcard) {
    return;
  }
  t->names = std::move(names);
  t->wildcard = wildcard;
  send(*t, t->acked_version, t->last_nonce, nullptr);
}

void AdsClient::onMessage(std::string_view bytes) {
  DiscoveryResponse resp;
  if (!resp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    REMORA_LOG_WARN("xds: a DiscoveryResponse of {} bytes does not parse; ignored", bytes.size());
    return;
  }
  if (!connected_) {
    connected_ = true;
    backoff_ = options_.initial_backoff;
    REMORA_LOG_INFO("xds: connected to {}", options_.target);
    if (on_connection_) on_connection_(true);
  }
  TypeState* t = find(resp.type_url());
  if (t == nullptr) {
    REMORA_LOG_WARN("xds: ignoring a response of unsubscribed type {}", resp.type_url());
    return;
  }
  ++t->responses;
  t->last_nonce = resp.nonce();
  std::vector<google::protobuf::Any> resources(resp.resources().begin(), resp.resources().end());
  Status applied = apply_(resp.type_url(), resp.version_info(), resources);
  t = find(resp.type_url());  // apply may have subscribed other types
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
    REMORA_LOG_WARN("xds: NACK {} version {}: {}", shortTypeName(t->type_url), resp.version_info(),
                    applied.message());
    send(*t, t->acked_version, resp.nonce(), &t->last_error);
  }
}

void AdsClient::onClose(int grpc_status, const std::string& message) {
  // Called from inside the stream: destroy it later, not under its feet.
  if (stream_) {
    struct Doomed : event::DeferredDeletable {
      std::unique_ptr<GrpcStream> stream;
    };
    auto doomed = std::make_unique<Doomed>();
    doomed->stream = std::move(stream_);
    owner_.deferredDelete(std::move(doomed));
  }
  last_stream_error_ = std::to_string(grpc_status) + " " + message;
  if (connected_) {
    connected_ = false;
    REMORA_LOG_WARN("xds: stream to {} ended ({} {}); serving the last config", options_.target,
                    grpc_status, message);
    if (on_connection_) on_connection_(false);
  } else {
    REMORA_LOG_DEBUG("xds: cannot reach {}: {} {}", options_.target, grpc_status, message);
  }
  // Full jitter: proxies that lost the same control plane do not all come
  // back at the same instant.
  std::uniform_int_distribution<int64_t> pick(0, backoff_.count());
  retry_timer_->enable(std::chrono::milliseconds(pick(random_)));
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

}  // namespace remora::xds
