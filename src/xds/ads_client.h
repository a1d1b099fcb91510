// The proxy's side of xDS: one Aggregated Discovery Service stream (state of
// the world) to the control plane, carrying every subscribed resource type.
// It knows the protocol (subscriptions, versions, nonces, ACK and NACK,
// reconnecting); what the resources mean is the owner's business, given as an
// ApplyFn that accepts or refuses each response.
//
// Thread: everything runs on the owner's Dispatcher (the main thread): the
// stream is driven by that loop (grpc_stream.h), so callbacks and public
// methods share one thread and need no locks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/status.h"
#include "envoy/config/core/v3/base.pb.h"
#include "event/dispatcher.h"
#include "google/protobuf/any.pb.h"
#include "xds/grpc_stream.h"

namespace remora::xds {

// What the proxy knows of one resource type on the stream, for /config_dump,
// logs and tests.
struct TypeState {
  std::string type_url;
  std::vector<std::string> names;  // empty with wildcard: everything
  bool wildcard = false;
  std::string acked_version;  // the version last accepted
  std::string last_nonce;
  std::string last_error;  // the last NACK's message; cleared by an ACK
  uint64_t responses = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
};

class AdsClient {
 public:
  struct Options {
    std::string target;  // host:port of the control plane
    envoy::config::core::v3::Node node;
    // Reconnect delay: exponential from initial to max, with full jitter.
    std::chrono::milliseconds initial_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
  };
  // Applies one response of `type_url`; OK means ACK, an error means NACK
  // with the error's message as error_detail (the previous config stays).
  using ApplyFn = std::function<Status(const std::string& type_url, const std::string& version,
                                       const std::vector<google::protobuf::Any>& resources)>;
  // Called when the stream comes up (first response) and when it goes down.
  using ConnectionFn = std::function<void(bool connected)>;

  AdsClient(event::Dispatcher& owner, Options options, ApplyFn apply, ConnectionFn on_connection);
  ~AdsClient();
  AdsClient(const AdsClient&) = delete;
  AdsClient& operator=(const AdsClient&) = delete;

  // Starts connecting; requests go out for every type subscribed so far, in
  // subscription order (subscribe CDS before EDS, LDS before RDS).
  void start();
  // Sets the resource names wanted for a type. `wildcard` (LDS, CDS) asks for
  // every resource of the type. A change is sent at once when connected.
  void subscribe(const std::string& type_url, std::vector<std::string> names,
                 bool wildcard = false);

  bool connected() const { return connected_; }
  const std::vector<TypeState>& state() const { return types_; }
  const std::string& target() const { return options_.target; }
  // Why the last stream ended ("14 connection refused", "3 malformed node
  // id ..."), empty while the first one is up.
  const std::string& lastStreamError() const { return last_stream_error_; }

 private:
  TypeState* find(const std::string& type_url);
  void connect();
  void send(const TypeState& t, const std::string& version, const std::string& nonce,
            const std::string* error);
  void onMessage(std::string_view bytes);
  void onClose(int grpc_status, const std::string& message);

  event::Dispatcher& owner_;
  const Options options_;
  const ApplyFn apply_;
  const ConnectionFn on_connection_;
  std::vector<TypeState> types_;  // in subscription order
  std::unique_ptr<GrpcStream> stream_;
  bool node_sent_ = false;  // on the current stream
  bool connected_ = false;
  std::string last_stream_error_;
  std::unique_ptr<event::Timer> retry_timer_;
  std::chrono::milliseconds backoff_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace remora::xds
