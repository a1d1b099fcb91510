#include "proxy/worker.h"

#include <sys/socket.h>

#include <algorithm>

#include "common/logging.h"
#include "listener/client_hello.h"
#include "listener/http_detect.h"

namespace remora::proxy {

// A connection being proxied; removal defers its deletion because it is
// usually removed from inside its own callback.
class Worker::ActiveConnection : public event::DeferredDeletable {
 public:
  // The configuration the connection was accepted under: keeps its listener
  // (and the stats below) alive after an update replaced it.
  ConfigSnapshotConstSharedPtr snapshot;
  const CompiledListener* listener = nullptr;
  const ListenerStats* stats = nullptr;
  bool draining = false;  // its listener left the configuration
  std::unique_ptr<ConnectionHandler> handler;
  ~ActiveConnection() override {
    handler.reset();
    stats->downstream_cx_active->dec();
    stats->downstream_cx_destroy->inc();
  }
};

// A connection whose listener filters (tls_inspector, http_inspector) are
// still peeking at its first bytes. MSG_PEEK leaves the bytes in the socket
// for whoever handles the connection next.
class Worker::PendingConnection : public event::DeferredDeletable {
 public:
  PendingConnection(Worker& worker, ConfigSnapshotConstSharedPtr snapshot,
                    const CompiledListener& target, network::Fd fd,
                    const network::SocketAddress& peer, const network::SocketAddress& local)
      : worker_(worker),
        snapshot_(std::move(snapshot)),
        target_(target),
        fd_(std::move(fd)),
        peer_(peer),
        local_(local) {}

  ~PendingConnection() override {
    if (fd_.valid()) {
      target_.stats.downstream_cx_active->dec();
      target_.stats.downstream_cx_destroy->inc();
    }
  }

  void start(std::list<std::unique_ptr<event::DeferredDeletable>>::iterator self) {
    self_ = self;
    event_ = worker_.dispatcher_->createFileEvent(
        fd_.get(), [this](uint32_t) { onReadable(); }, event::kRead);
    if (target_.listener_filters_timeout.count() > 0) {
      timer_ = worker_.dispatcher_->createTimer([this] { onTimeout(); });
      timer_->enable(target_.listener_filters_timeout);
    }
  }

 private:
  static constexpr size_t kMaxPeek = 16 * 1024;

  void onReadable() {
    char buf[kMaxPeek];
    ssize_t n = recv(fd_.get(), buf, sizeof(buf), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    bool eof = n <= 0;
    std::string_view data(buf, n > 0 ? static_cast<size_t>(n) : 0);
    bool need_more = false;
    if (target_.tls_inspector && !tls_done_) {
      auto hello = listener::parseClientHello(data);
      if (hello.kind == listener::ClientHelloResult::Kind::kNeedMoreData && !eof &&
          data.size() < kMaxPeek) {
        need_more = true;
      } else {
        tls_done_ = true;
        if (hello.kind == listener::ClientHelloResult::Kind::kTls) {
          transport_ = "tls";
          server_name_ = hello.server_name;
          alpn_ = hello.application_protocols;
        }
      }
    }
    if (target_.http_inspector && !http_done_ && transport_ == "raw_buffer") {
      auto http = listener::detectHttp(data);
      if (http.kind == listener::HttpDetection::Kind::kNeedMoreData && !eof &&
          data.size() < kMaxPeek) {
        need_more = true;
      } else {
        http_done_ = true;
        if (!http.application_protocol.empty()) alpn_ = {std::string(http.application_protocol)};
      }
    }
    if (need_more) return;
    finish();
  }

  void onTimeout() {
    if (!target_.continue_on_listener_filters_timeout) {
      target_.stats.downstream_pre_cx_timeout->inc();
      fd_.reset();
      target_.stats.downstream_cx_active->dec();
      target_.stats.downstream_cx_destroy->inc();
      done();
      return;
    }
    finish();
  }

  void finish() {
    event_.reset();
    timer_.reset();
    // Hand over the socket; this object's stats accounting moves with it.
    network::Fd fd = std::move(fd_);
    worker_.dispatchToChain(snapshot_, target_, std::move(fd), peer_, local_, server_name_,
                            transport_, alpn_);
    done();
  }

  void done() {
    event_.reset();
    timer_.reset();
    worker_.remove(self_);
  }

  Worker& worker_;
  ConfigSnapshotConstSharedPtr snapshot_;  // owns target_
  const CompiledListener& target_;
  network::Fd fd_;
  network::SocketAddress peer_;
  network::SocketAddress local_;
  std::unique_ptr<event::FileEvent> event_;
  std::unique_ptr<event::Timer> timer_;
  std::list<std::unique_ptr<event::DeferredDeletable>>::iterator self_;
  bool tls_done_ = false;
  bool http_done_ = false;
  std::string transport_ = "raw_buffer";
  std::string server_name_;
  std::vector<std::string> alpn_;
};

StatusOr<std::unique_ptr<Worker>> Worker::create(int index) {
  REMORA_ASSIGN_OR_RETURN(auto dispatcher,
                          event::Dispatcher::create("worker_" + std::to_string(index)));
  return std::unique_ptr<Worker>(new Worker(index, std::move(dispatcher)));
}

Worker::Worker(int index, std::unique_ptr<event::Dispatcher> dispatcher)
    : index_(index), dispatcher_(std::move(dispatcher)), context_(*dispatcher_) {}

Worker::~Worker() {
  join();
  listeners_.clear();
  connections_.clear();
}

void Worker::setInitialState(ConfigSnapshotConstSharedPtr snapshot,
                             std::vector<ListenSocket> sockets) {
  context_.setSnapshot(std::move(snapshot));
  for (auto& s : sockets) {
    listeners_.push_back(ActiveListener{std::move(s.listener), std::move(s.fd), nullptr});
  }
}

void Worker::start() {
  thread_ = std::thread([this] {
    for (auto& l : listeners_)
      watch(l);
    dispatcher_->run();
    // Close whatever is left (drain time over) on the owning thread; the
    // destructors close the sockets and settle the stats.
    connections_.clear();
    for (auto& l : listeners_)
      l.event.reset();
    listeners_.clear();
    finished_.store(true, std::memory_order_release);
  });
}

void Worker::watch(ActiveListener& l) {
  l.event = dispatcher_->createFileEvent(
      l.fd.get(), [this, &l](uint32_t) { onAcceptReady(l); }, event::kRead);
}

void Worker::update(ConfigSnapshotConstSharedPtr snapshot, std::vector<ListenSocket> added,
                    std::vector<network::SocketAddress> closed,
                    std::chrono::milliseconds drain_time) {
  // std::function needs a copyable callable; the sockets travel in a holder.
  auto moved = std::make_shared<std::vector<ListenSocket>>(std::move(added));
  dispatcher_->post([this, snapshot = std::move(snapshot), moved, closed = std::move(closed),
                     drain_time]() mutable {
    applyUpdate(std::move(snapshot), std::move(*moved), closed, drain_time);
  });
}

void Worker::applyUpdate(ConfigSnapshotConstSharedPtr snapshot, std::vector<ListenSocket> added,
                         const std::vector<network::SocketAddress>& closed,
                         std::chrono::milliseconds drain_time) {
  if (draining_) return;  // shutting down: sockets are closed already
  context_.setSnapshot(std::move(snapshot));
  const ConfigSnapshot& current = *context_.snapshot();
  auto bound_at = [&](const network::SocketAddress& a) -> CompiledListenerConstSharedPtr {
    for (const auto& l : current.listeners()) {
      if (l->bind_to_port && l->address == a) return l;
    }
    return nullptr;
  };
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    bool gone = std::find(closed.begin(), closed.end(), it->listener->address) != closed.end();
    CompiledListenerConstSharedPtr next = gone ? nullptr : bound_at(it->listener->address);
    if (next == nullptr) {
      it = listeners_.erase(it);  // the socket closes: the kernel refuses new connections
      continue;
    }
    it->listener = std::move(next);
    ++it;
  }
  for (auto& s : added) {
    CompiledListenerConstSharedPtr l = bound_at(s.listener->address);
    if (l == nullptr) continue;
    listeners_.push_back(ActiveListener{std::move(l), std::move(s.fd), nullptr});
    watch(listeners_.back());
  }
  // Connections whose listener was removed or replaced finish their work;
  // HTTP ones close after the response in flight, the rest at the deadline.
  std::vector<ConnectionHandler*> to_drain;
  for (auto& c : connections_) {
    auto* a = dynamic_cast<ActiveConnection*>(c.get());
    if (a == nullptr || a->draining || !a->handler) continue;
    bool live = std::any_of(current.listeners().begin(), current.listeners().end(),
                            [&](const auto& l) { return l.get() == a->listener; });
    if (live) continue;
    a->draining = true;
    to_drain.push_back(a->handler.get());
  }
  if (to_drain.empty()) return;
  REMORA_LOG_DEBUG("worker_{}: draining {} connections of replaced listeners", index_,
                   to_drain.size());
  for (ConnectionHandler* h : to_drain)
    h->drain();
  if (!listener_drain_timer_) {
    listener_drain_timer_ = dispatcher_->createTimer([this] {
      std::vector<ConnectionHandler*> late;
      for (auto& c : connections_) {
        auto* a = dynamic_cast<ActiveConnection*>(c.get());
        if (a != nullptr && a->draining && a->handler) late.push_back(a->handler.get());
      }
      for (ConnectionHandler* h : late)
        h->close();
    });
  }
  if (!listener_drain_timer_->enabled()) listener_drain_timer_->enable(drain_time);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::drain(std::chrono::milliseconds timeout) {
  dispatcher_->post([this, timeout] {
    draining_ = true;
    // Closing the sockets makes the kernel refuse new connections to this
    // worker at once; the other workers' sockets close at the same time.
    for (auto& l : listeners_) {
      l.event.reset();
      l.fd.reset();
    }
    // Idle keep-alive connections close now, busy ones after their response.
    std::vector<ConnectionHandler*> handlers;
    for (auto& c : connections_) {
      if (auto* a = dynamic_cast<ActiveConnection*>(c.get()); a != nullptr && a->handler) {
        handlers.push_back(a->handler.get());
      }
    }
    for (ConnectionHandler* h : handlers)
      h->drain();
    drain_timer_ = dispatcher_->createTimer([this] {
      REMORA_LOG_INFO("worker_{}: drain time over, closing {} connections", index_,
                      connections_.size());
      dispatcher_->exit();
    });
    drain_timer_->enable(timeout);
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (draining_ && connections_.empty()) {
    drain_timer_.reset();
    dispatcher_->exit();
  }
}

void Worker::onAcceptReady(ActiveListener& l) {
  // Bounded per wake-up so one busy listener cannot starve the others.
  for (int i = 0; i < 64 && l.fd.valid(); ++i) {
    network::SocketAddress peer;
    auto fd = network::acceptTcp(l.fd.get(), &peer);
    if (!fd.ok()) {
      REMORA_LOG_WARN("listener {}: {}", l.listener->name, fd.status().message());
      return;
    }
    if (!fd->valid()) return;
    onConnection(*l.listener, std::move(*fd), peer);
  }
}

void Worker::onConnection(const CompiledListener& receiving, network::Fd fd,
                          const network::SocketAddress& peer) {
  auto local = network::localAddress(fd.get());
  if (!local.ok()) return;  // the client is already gone
  network::SocketAddress destination = *local;
  const CompiledListener* target = &receiving;
  if (receiving.use_original_dst) {
    auto original = network::originalDestination(fd.get());
    if (original.ok()) destination = *original;
    // Hand-off (S2): the listener that owns the original destination takes
    // the connection; with none, the receiving listener keeps it.
    const CompiledListener* owner = context_.snapshot()->listenerForDestination(destination);
    if (owner != nullptr) target = owner;
  }
  target->stats.downstream_cx_total->inc();
  target->stats.downstream_cx_active->inc();
  if (target->tls_inspector || target->http_inspector) {
    auto pending = std::make_unique<PendingConnection>(*this, context_.snapshot(), *target,
                                                       std::move(fd), peer, destination);
    PendingConnection* raw = pending.get();
    connections_.push_back(std::move(pending));
    active_count_.store(connections_.size(), std::memory_order_relaxed);
    raw->start(std::prev(connections_.end()));
    return;
  }
  dispatchToChain(context_.snapshot(), *target, std::move(fd), peer, destination, "", "raw_buffer",
                  {});
}

void Worker::dispatchToChain(const ConfigSnapshotConstSharedPtr& snapshot,
                             const CompiledListener& target, network::Fd fd,
                             const network::SocketAddress& peer,
                             const network::SocketAddress& local, const std::string& server_name,
                             const std::string& transport_protocol,
                             const std::vector<std::string>& application_protocols) {
  listener::ConnectionMatchInput input;
  input.destination = local;
  input.source = peer;
  input.direct_source = peer.ip;
  input.server_name = server_name;
  input.transport_protocol = transport_protocol;
  input.application_protocols = application_protocols;
  const CompiledFilterChain* chain = target.chainFor(target.matcher->match(input));
  if (chain == nullptr || !chain->terminal) {
    REMORA_LOG_DEBUG("listener {}: no filter chain matches {} -> {}", target.name, peer.toString(),
                     local.toString());
    target.stats.no_filter_chain_match->inc();
    target.stats.downstream_cx_active->dec();
    target.stats.downstream_cx_destroy->inc();
    return;  // fd closes here
  }
  network::setNoDelay(fd.get());
  auto conn = std::make_unique<ActiveConnection>();
  conn->snapshot = snapshot;
  conn->listener = &target;
  conn->stats = &target.stats;
  ActiveConnection* raw = conn.get();
  connections_.push_back(std::move(conn));
  auto self = std::prev(connections_.end());
  active_count_.store(connections_.size(), std::memory_order_relaxed);
  DownstreamConnection downstream{std::move(fd), peer, local, server_name, ++connection_ids_};
  raw->handler = chain->terminal->createHandler(context_, snapshot, std::move(downstream),
                                                [this, self] { remove(self); });
  raw->handler->start();
}

void Worker::remove(std::list<std::unique_ptr<event::DeferredDeletable>>::iterator it) {
  dispatcher_->deferredDelete(std::move(*it));
  connections_.erase(it);
  active_count_.store(connections_.size(), std::memory_order_relaxed);
  checkDrained();
}

}  // namespace remora::proxy
