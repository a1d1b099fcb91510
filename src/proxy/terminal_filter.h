// The seam between a worker and the terminal network filter that takes a
// connection once its filter chain is chosen (tcp_proxy, the HTTP
// connection manager). A TerminalFilter is the compiled, immutable
// configuration of one such filter, shared by workers; it makes one
// ConnectionHandler per accepted connection, which lives on that worker.
//
// Thread: createHandler() and every ConnectionHandler method run on the
// worker that accepted the connection.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "network/address.h"
#include "network/socket.h"

namespace remora::proxy {

class ConfigSnapshot;
class WorkerContext;

// An accepted connection on its way to a terminal filter.
struct DownstreamConnection {
  network::Fd fd;
  network::SocketAddress peer;
  // Where the client connected before any REDIRECT (SO_ORIGINAL_DST), else
  // the local address: what ORIGINAL_DST clusters forward to.
  network::SocketAddress original_destination;
  std::string server_name;  // SNI, when a TLS inspector found one
  uint64_t id = 0;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void start() = 0;
  // Closes at once (worker shutdown, drain deadline).
  virtual void close() = 0;
  // Graceful shutdown: finish what is in flight, take nothing new.
  virtual void drain() {}
};

class TerminalFilter {
 public:
  virtual ~TerminalFilter() = default;
  // `snapshot` is the configuration the connection keeps for its life.
  // `on_done` runs once when the connection is finished and must defer the
  // handler's deletion.
  virtual std::unique_ptr<ConnectionHandler> createHandler(
      WorkerContext& worker, const std::shared_ptr<const ConfigSnapshot>& snapshot,
      DownstreamConnection connection, std::function<void()> on_done) const = 0;
};

}  // namespace remora::proxy
