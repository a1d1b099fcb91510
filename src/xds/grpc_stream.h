// One client-side bidirectional gRPC stream over its own HTTP/2 connection
// (nghttp2), driven by a Dispatcher: no thread of its own. It is what the
// proxy needs to talk xDS, and no more: insecure transport, no compression,
// one stream per connection.
//
// Why not libgrpc++: merely linking it costs the proxy ~2 MB of resident
// memory before any config is loaded, and a channel brings seven threads; the
// proxy's whole idle footprint is under 10 MB. The control plane (pilot) and
// the tests use libgrpc++, which keeps this client honest on the wire.
//
// Thread: the dispatcher's owner only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "event/dispatcher.h"

namespace remora::xds {

class GrpcStream {
 public:
  struct Callbacks {
    // One whole message (the gRPC length prefix removed).
    std::function<void(std::string_view message)> on_message;
    // The stream ended: the server's grpc-status (0 = OK) and grpc-message,
    // or 14 (UNAVAILABLE) when the connection failed or broke. Called once;
    // the stream may be destroyed from inside it.
    std::function<void(int grpc_status, const std::string& message)> on_close;
  };
  // Largest message accepted from the server.
  static constexpr size_t kMaxMessageBytes = 64 << 20;

  // Starts connecting to `target` ("host:port"; host a name from /etc/hosts
  // or DNS, or an IP) and opens `path` ("/package.Service/Method"). Messages
  // sent before the connection is up are queued. Errors only for a target
  // that cannot be resolved or parsed; later failures arrive via on_close.
  static StatusOr<std::unique_ptr<GrpcStream>> open(event::Dispatcher& dispatcher,
                                                    const std::string& target,
                                                    const std::string& path, Callbacks callbacks);
  ~GrpcStream();

  // Queues one serialized message.
  void send(std::string_view message);

  class Impl;

 private:
  explicit GrpcStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace remora::xds
