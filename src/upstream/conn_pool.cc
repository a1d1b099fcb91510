#include "upstream/conn_pool.h"

#include <sys/socket.h>

#include "common/logging.h"

namespace remora::upstream {

// One upstream connection. It is the codec's decoder for responses, so it
// sees where each response ends and whether any byte of it came, and
// forwards everything to the request that holds it.
class PooledConnection : public PoolStream,
                         public http::StreamDecoder,
                         public http::FlushList::Entry,
                         public event::DeferredDeletable {
 public:
  enum class State : uint8_t { kConnecting, kReady, kBusy, kClosed };

  PooledConnection(ConnPool& pool, network::Fd fd)
      : pool_(pool),
        cluster_(pool.cluster_),
        host_(pool.host_),
        fd_(std::move(fd)),
        idle_timer_(pool.context_.dispatcher, [this] { onIdleTimeout(); }) {
    const ClusterStats& s = cluster_->stats();
    s.upstream_cx_total->inc();
    s.upstream_cx_http1_total->inc();
    s.upstream_cx_active->inc();
    host_->cx_total.inc();
    host_->cx_active.inc();
  }

  ~PooledConnection() override {
    event_.reset();
    cluster_->stats().upstream_cx_active->dec();
    host_->cx_active.dec();
  }

  // `connected`: the connect finished at once (it may, on loopback).
  void start(bool connected) {
    event_ = pool_.context_.dispatcher.createFileEvent(
        fd_.get(), [this](uint32_t ready) { onEvent(ready); }, event::kWrite);
    connect_timer_ = pool_.context_.dispatcher.createTimer([this] {
      http::FlushList::Scope scope(pool_.context_.flush);
      onConnectTimeout();
    });
    connect_timer_->enable(cluster_->connectTimeout());
    if (connected) onConnectDone();
  }

  State state() const { return state_; }
  // Where the pool keeps this connection (connecting_, ready_ or busy_).
  ConnPool::ConnList* list = nullptr;
  ConnPool::ConnList::iterator self;

  // Takes the next request.
  void attach(PoolCallbacks& callbacks) {
    callbacks_ = &callbacks;
    state_ = State::kBusy;
    reused_ = requests_ > 0;
    ++requests_;
    request_complete_ = false;
    response_complete_ = false;
    response_bytes_ = false;
    idle_timer_.disarm();
    encoder_ = &codec_.newStream(*this);
  }

  // PoolStream.
  void encodeHeaders(const http::HeaderMap& headers, bool end_stream) override {
    if (state_ != State::kBusy) return;
    encoder_->encodeHeaders(headers, end_stream);
    if (end_stream) request_complete_ = true;
    pool_.context_.flush.schedule(*this);
  }
  void encodeData(http::Buffer& data, bool end_stream) override {
    if (state_ != State::kBusy) {
      data.clear();
      return;
    }
    cluster_->stats().upstream_cx_tx_bytes_total->inc(data.length());
    encoder_->encodeData(data, end_stream);
    if (end_stream) request_complete_ = true;
    if (codec_.output().length() > cluster_->bufferLimitBytes()) above_watermark_ = true;
    pool_.context_.flush.schedule(*this);
  }
  void encodeTrailers(const http::HeaderMap& trailers) override {
    if (state_ != State::kBusy) return;
    encoder_->encodeTrailers(trailers);
    request_complete_ = true;
    pool_.context_.flush.schedule(*this);
  }
  size_t bufferedBytes() const override { return codec_.output().length(); }
  void readDisable(bool disable) override {
    read_disabled_ = disable;
    updateInterest();
  }
  void reset() override {
    callbacks_ = nullptr;
    cluster_->stats().upstream_rq_tx_reset->inc();
    close(true);
  }
  const network::SocketAddress& localAddress() const override {
    if (!local_known_) {
      auto a = network::localAddress(fd_.get());
      if (a.ok()) local_ = *a;
      local_known_ = true;
    }
    return local_;
  }
  bool reused() const override { return reused_; }

  // http::StreamDecoder: the response, from the codec.
  void decode1xxHeaders(http::HeaderMapPtr headers) override {
    response_bytes_ = true;
    if (callbacks_ != nullptr) callbacks_->decode1xxHeaders(std::move(headers));
  }
  void decodeHeaders(http::HeaderMapPtr headers, bool end_stream) override {
    response_bytes_ = true;
    if (end_stream) response_complete_ = true;
    PoolCallbacks* cb = callbacks_;
    if (end_stream) callbacks_ = nullptr;
    if (cb != nullptr) cb->decodeHeaders(std::move(headers), end_stream);
  }
  void decodeData(http::Buffer& data, bool end_stream) override {
    response_bytes_ = true;
    cluster_->stats().upstream_cx_rx_bytes_total->inc(data.length());
    if (end_stream) response_complete_ = true;
    PoolCallbacks* cb = callbacks_;
    if (end_stream) callbacks_ = nullptr;
    if (cb != nullptr) {
      cb->decodeData(data, end_stream);
    } else {
      data.clear();
    }
  }
  void decodeTrailers(http::HeaderMapPtr trailers) override {
    response_bytes_ = true;
    response_complete_ = true;
    PoolCallbacks* cb = callbacks_;
    callbacks_ = nullptr;
    if (cb != nullptr) cb->decodeTrailers(std::move(trailers));
  }
  void onStreamReset(std::string_view) override { codec_reset_ = true; }

  // FlushList::Entry.
  void flushNow() override {
    if (state_ == State::kClosed || state_ == State::kConnecting || write_blocked_) return;
    if (!codec_.output().empty()) {
      http::IoStatus w = http::writeSome(fd_.get(), codec_.output());
      if (w.result == http::IoResult::kError) {
        // A write error on a reused connection means the upstream closed it
        // and never got the request.
        fail(reused_ && !response_bytes_ ? ResetReason::kStaleConnection
                                         : ResetReason::kRemoteReset);
        return;
      }
      if (w.result == http::IoResult::kAgain) {
        write_blocked_ = true;
        updateInterest();
        return;
      }
    }
    if (above_watermark_ && codec_.output().length() <= cluster_->bufferLimitBytes() / 2) {
      above_watermark_ = false;
      if (callbacks_ != nullptr) callbacks_->onUpstreamWritable();
    }
    // A tunnel whose client finished sending: pass the FIN on.
    if (codec_.upgraded() && request_complete_ && codec_.output().empty() && !shut_write_) {
      shut_write_ = true;
      ::shutdown(fd_.get(), SHUT_WR);
    }
  }

  // Closes the connection; `local` for stats.
  void close(bool local) {
    if (state_ == State::kClosed) return;
    const State was = state_;
    state_ = State::kClosed;
    (local ? cluster_->stats().upstream_cx_destroy_local
           : cluster_->stats().upstream_cx_destroy_remote)
        ->inc();
    pool_.context_.flush.cancel(*this);
    idle_timer_.disarm();
    connect_timer_.reset();
    event_.reset();
    fd_.reset();
    pool_.remove(*this, was == State::kConnecting);  // defers our deletion
  }

 private:
  void updateInterest() {
    if (!event_ || state_ == State::kClosed) return;
    uint32_t want = 0;
    if (state_ == State::kConnecting) {
      want = event::kWrite;
    } else {
      if (!read_disabled_) want |= event::kRead;
      if (write_blocked_) want |= event::kWrite;
    }
    event_->setEnabled(want);
  }

  void onEvent(uint32_t ready) {
    http::FlushList::Scope scope(pool_.context_.flush);
    if (state_ == State::kConnecting) {
      if (ready & (event::kWrite | event::kClosed | event::kRead)) onConnectDone();
      return;
    }
    if ((ready & event::kWrite) && state_ != State::kClosed) {
      write_blocked_ = false;
      updateInterest();
      flushNow();
    }
    if ((ready & event::kRead) && state_ != State::kClosed) onReadable();
  }

  void onConnectDone() {
    if (state_ != State::kConnecting) return;
    Status s = network::connectResult(fd_.get());
    if (!s.ok()) {
      REMORA_LOG_DEBUG("cluster {}: connect to {}: {}", cluster_->name(), host_->address.toString(),
                       s.message());
      connectFailed(PoolFailure::kConnectFailure);
      return;
    }
    connect_timer_.reset();
    state_ = State::kReady;
    updateInterest();
    pool_.onConnected(*this);
  }

  void onConnectTimeout() {
    cluster_->stats().upstream_cx_connect_timeout->inc();
    connectFailed(PoolFailure::kConnectTimeout);
  }

  void connectFailed(PoolFailure reason) {
    cluster_->stats().upstream_cx_connect_fail->inc();
    host_->cx_connect_fail.inc();
    ConnPool& pool = pool_;
    close(true);
    pool.onConnectFailed(reason);
  }

  void onReadable() {
    http::IoStatus r = http::readOnce(fd_.get(), read_buffer_, http::Buffer::kBlockSize);
    if (r.result == http::IoResult::kAgain) return;
    if (r.result == http::IoResult::kError) {
      fail(reused_ && !response_bytes_ ? ResetReason::kStaleConnection : ResetReason::kRemoteReset);
      return;
    }
    if (r.result == http::IoResult::kEof) {
      if (state_ == State::kReady) {
        close(false);  // the upstream closed an idle connection
        return;
      }
      bool had_response = response_bytes_;
      codec_reset_ = false;
      Status s = codec_.onEof();
      if (response_complete_ && !codec_reset_) {
        // A response delimited by the close: complete.
        exchangeDone();
        if (state_ != State::kClosed) close(false);
        return;
      }
      (void)s;
      fail(reused_ && !had_response ? ResetReason::kStaleConnection
                                    : ResetReason::kConnectionTermination);
      return;
    }
    codec_reset_ = false;
    Status s = codec_.dispatch(read_buffer_);
    if (!s.ok()) {
      cluster_->stats().upstream_cx_protocol_error->inc();
      fail(ResetReason::kProtocolError);
      return;
    }
    if (response_complete_) exchangeDone();
  }

  // The response is complete (the caller was told already).
  void exchangeDone() {
    callbacks_ = nullptr;
    if (state_ != State::kBusy) return;
    uint32_t max = cluster_->maxRequestsPerConnection();
    if (max > 0 && requests_ >= max) {
      cluster_->stats().upstream_cx_max_requests->inc();
      close(true);
      return;
    }
    if (!request_complete_ || codec_.wantsClose() || codec_.upgraded()) {
      close(true);
      return;
    }
    state_ = State::kReady;
    read_disabled_ = false;
    updateInterest();
    if (cluster_->idleTimeout().count() > 0) {
      idle_timer_.arm(pool_.context_.dispatcher.now() + cluster_->idleTimeout());
    }
    pool_.onIdle(*this);
  }

  void fail(ResetReason reason) {
    PoolCallbacks* cb = callbacks_;
    callbacks_ = nullptr;
    if (cb != nullptr) cluster_->stats().upstream_rq_rx_reset->inc();
    close(reason == ResetReason::kProtocolError);
    if (cb != nullptr) cb->onUpstreamReset(reason);
  }

  void onIdleTimeout() {
    if (state_ != State::kReady) return;
    cluster_->stats().upstream_cx_idle_timeout->inc();
    close(true);
  }

  ConnPool& pool_;
  ClusterSharedPtr cluster_;
  HostSharedPtr host_;
  network::Fd fd_;
  http::Http1ClientConnection codec_;
  http::Buffer read_buffer_;
  std::unique_ptr<event::FileEvent> event_;
  std::unique_ptr<event::Timer> connect_timer_;
  http::DeadlineTimer idle_timer_;
  PoolCallbacks* callbacks_ = nullptr;
  http::StreamEncoder* encoder_ = nullptr;
  mutable network::SocketAddress local_;
  mutable bool local_known_ = false;
  State state_ = State::kConnecting;
  uint32_t requests_ = 0;
  bool reused_ = false;
  bool request_complete_ = false;
  bool response_complete_ = false;
  bool response_bytes_ = false;
  bool codec_reset_ = false;
  bool read_disabled_ = false;
  bool write_blocked_ = false;
  bool above_watermark_ = false;
  bool shut_write_ = false;
};

// ---------------------------------------------------------------------------

ConnPool::ConnPool(PoolContext& context, ClusterSharedPtr cluster, HostSharedPtr host)
    : context_(context), cluster_(std::move(cluster)), host_(std::move(host)) {}

ConnPool::~ConnPool() {
  cluster_->stats().upstream_rq_pending_active->dec(static_cast<int64_t>(pending_.size()));
  // Only at worker shutdown, when nothing runs any more: the connections go
  // now rather than through deferred deletion.
}

bool ConnPool::empty() const {
  return pending_.empty() && connecting_.empty() && ready_.empty() && busy_.empty();
}

void ConnPool::moveTo(PooledConnection& c, ConnList& to) {
  if (c.list == &to) return;
  to.splice(to.begin(), *c.list, c.self);
  c.list = &to;
}

void ConnPool::newStream(PoolCallbacks& callbacks) {
  if (!ready_.empty()) {
    attach(*ready_.front(), callbacks);
    return;
  }
  const ClusterStats& s = cluster_->stats();
  // A request that cannot have a connection now waits; how many may wait is
  // the pending-requests breaker.
  if (static_cast<uint64_t>(s.upstream_rq_pending_active->value()) >=
      cluster_->circuitBreakers().max_pending_requests) {
    s.upstream_rq_pending_overflow->inc();
    callbacks.onPoolFailure(PoolFailure::kOverflow);
    return;
  }
  s.upstream_rq_pending_total->inc();
  s.upstream_rq_pending_active->inc();
  pending_.push_back(&callbacks);
  maybeConnect();
}

void ConnPool::maybeConnect() {
  // One connection per waiting request beyond those already connecting,
  // within the connections breaker; past it, requests wait for a busy
  // connection to come free.
  while (pending_.size() > connecting_.size() && !draining_) {
    if (static_cast<uint64_t>(cluster_->stats().upstream_cx_active->value()) >=
        cluster_->circuitBreakers().max_connections) {
      cluster_->stats().upstream_cx_overflow->inc();
      return;
    }
    if (!createConnection()) return;
  }
}

void ConnPool::cancel(PoolCallbacks& callbacks) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (*it == &callbacks) {
      pending_.erase(it);
      cluster_->stats().upstream_rq_pending_active->dec();
      return;
    }
  }
}

void ConnPool::failPending(PoolFailure reason) {
  PoolCallbacks* cb = pending_.front();
  pending_.pop_front();
  cluster_->stats().upstream_rq_pending_active->dec();
  cb->onPoolFailure(reason);
}

bool ConnPool::createConnection() {
  bool in_progress = false;
  auto fd = network::connectTcp(host_->address, &in_progress);
  if (!fd.ok()) {
    REMORA_LOG_DEBUG("cluster {}: {}", cluster_->name(), fd.status().message());
    cluster_->stats().upstream_cx_connect_fail->inc();
    host_->cx_connect_fail.inc();
    // Nothing will come of this attempt: fail the request it was for.
    if (!pending_.empty()) failPending(PoolFailure::kConnectFailure);
    return false;
  }
  network::setNoDelay(fd->get());
  connecting_.push_front(std::make_unique<PooledConnection>(*this, std::move(*fd)));
  PooledConnection& c = *connecting_.front();
  c.list = &connecting_;
  c.self = connecting_.begin();
  c.start(!in_progress);
  return true;
}

void ConnPool::onConnected(PooledConnection& c) {
  moveTo(c, ready_);
  onIdle(c);
}

void ConnPool::onConnectFailed(PoolFailure reason) {
  // Requests beyond what the remaining attempts can serve fail now, the
  // oldest first.
  while (!pending_.empty() && pending_.size() > connecting_.size())
    failPending(reason);
}

void ConnPool::onIdle(PooledConnection& c) {
  moveTo(c, ready_);
  if (draining_) {
    c.close(true);
    return;
  }
  if (!pending_.empty()) {
    PoolCallbacks* cb = pending_.front();
    pending_.pop_front();
    cluster_->stats().upstream_rq_pending_active->dec();
    attach(c, *cb);
  }
}

void ConnPool::attach(PooledConnection& c, PoolCallbacks& callbacks) {
  moveTo(c, busy_);
  c.attach(callbacks);
  callbacks.onPoolReady(c);
}

void ConnPool::remove(PooledConnection& c, bool was_connecting) {
  ConnList& l = *c.list;
  context_.dispatcher.deferredDelete(std::move(*c.self));
  l.erase(c.self);
  c.list = nullptr;
  // A slot under max_connections came free for requests still waiting; a
  // failed connect is handled by onConnectFailed instead.
  if (!was_connecting) maybeConnect();
}

void ConnPool::drain() {
  draining_ = true;
  while (!ready_.empty())
    ready_.front()->close(true);
}

}  // namespace remora::upstream
