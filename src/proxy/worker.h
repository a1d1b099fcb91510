// A worker: one thread, one Dispatcher, its own listening sockets (one per
// bound listener, SO_REUSEPORT, so the kernel spreads connections across
// workers) and the connections it accepted, for their whole life.
//
// Threading: the public methods other than the constructor are called from
// the main thread and only post work to the worker's loop.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include "event/dispatcher.h"
#include "network/socket.h"
#include "proxy/config_snapshot.h"
#include "proxy/worker_context.h"

namespace remora::proxy {

// A listening socket made by the main thread for one worker.
struct ListenSocket {
  std::shared_ptr<const CompiledListener> listener;
  network::Fd fd;
};

class Worker {
 public:
  static StatusOr<std::unique_ptr<Worker>> create(int index);
  ~Worker();

  // Main thread, before start().
  void setInitialState(ConfigSnapshotConstSharedPtr snapshot, std::vector<ListenSocket> sockets);
  void start();
  // Main thread, after start(): a new configuration (xDS). `added` are new
  // listening sockets for this worker; sockets bound to `closed` addresses
  // stop accepting; the others now feed the new snapshot's listener at their
  // address. Connections of a listener that was removed or replaced drain:
  // they finish what is in flight and are closed after `drain_time`.
  void update(ConfigSnapshotConstSharedPtr snapshot, std::vector<ListenSocket> added,
              std::vector<network::SocketAddress> closed, std::chrono::milliseconds drain_time);
  // Stop accepting, let connections finish for up to `timeout`, then close
  // the rest and end the thread. `on_done` runs on the worker thread.
  void drain(std::chrono::milliseconds timeout);
  void join();

  // Number of open downstream connections (any thread, approximate).
  size_t activeConnections() const { return active_count_.load(std::memory_order_relaxed); }
  // True once the worker's loop has ended (drained). Any thread.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  class ActiveConnection;
  class PendingConnection;
  struct ActiveListener {
    std::shared_ptr<const CompiledListener> listener;
    network::Fd fd;
    std::unique_ptr<event::FileEvent> event;
  };

  explicit Worker(int index, std::unique_ptr<event::Dispatcher> dispatcher);
  void onAcceptReady(ActiveListener& l);
  void onConnection(const CompiledListener& receiving, network::Fd fd,
                    const network::SocketAddress& peer);
  void inspectThenDispatch(const CompiledListener& target, network::Fd fd,
                           const network::SocketAddress& peer, const network::SocketAddress& local);
  void dispatchToChain(const ConfigSnapshotConstSharedPtr& snapshot, const CompiledListener& target,
                       network::Fd fd, const network::SocketAddress& peer,
                       const network::SocketAddress& local, const std::string& server_name,
                       const std::string& transport_protocol,
                       const std::vector<std::string>& application_protocols);
  void remove(std::list<std::unique_ptr<event::DeferredDeletable>>::iterator it);
  void checkDrained();
  void watch(ActiveListener& l);
  void applyUpdate(ConfigSnapshotConstSharedPtr snapshot, std::vector<ListenSocket> added,
                   const std::vector<network::SocketAddress>& closed,
                   std::chrono::milliseconds drain_time);

  int index_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  WorkerContext context_;
  std::thread thread_;
  // Stable addresses: each socket's FileEvent callback refers to its entry.
  std::list<ActiveListener> listeners_;
  // Connections in listener-filter inspection or proxying; owned here so a
  // shutdown can close them all.
  std::list<std::unique_ptr<event::DeferredDeletable>> connections_;
  std::atomic<size_t> active_count_{0};
  uint64_t connection_ids_ = 0;
  std::atomic<bool> finished_{false};
  bool draining_ = false;
  std::unique_ptr<event::Timer> drain_timer_;
  // Connections of removed or replaced listeners are closed when this fires.
  std::unique_ptr<event::Timer> listener_drain_timer_;
};

}  // namespace remora::proxy
