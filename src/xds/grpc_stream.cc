#include "xds/grpc_stream.h"

#include <netdb.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>

#include "common/logging.h"
#include "network/socket.h"

namespace remora::xds {

namespace {

constexpr int kUnavailable = 14;
constexpr int kInternal = 13;
constexpr int32_t kWindow = 16 << 20;  // big xDS pushes need not wait for WINDOW_UPDATEs

StatusOr<network::SocketAddress> resolve(const std::string& target) {
  auto direct = network::SocketAddress::parse(target);
  if (direct.ok()) return direct;
  size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return invalidArgumentError("xDS target \"" + target + "\": expected host:port");
  }
  std::string host = target.substr(0, colon);
  std::string port = target.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return unavailableError("xDS target \"" + target + "\": " + gai_strerror(rc));
  }
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return network::SocketAddress::fromSockaddr(ss);
}

// grpc-message is percent-encoded (gRPC's HTTP/2 protocol spec).
std::string percentDecode(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
      out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace

class GrpcStream::Impl {
 public:
  Impl(event::Dispatcher& d, std::string authority, std::string path, Callbacks cb)
      : dispatcher_(d),
        authority_(std::move(authority)),
        path_(std::move(path)),
        cb_(std::move(cb)) {}

  ~Impl() {
    event_.reset();
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  Status connect(const network::SocketAddress& address) {
    bool in_progress = false;
    REMORA_ASSIGN_OR_RETURN(fd_, network::connectTcp(address, &in_progress));
    network::setNoDelay(fd_.get());
    event_ = dispatcher_.createFileEvent(
        fd_.get(), [this](uint32_t ready) { onReady(ready); }, event::kWrite);
    // Even a connect that finished at once (loopback) is completed on the
    // first writable event, so there is one path.
    (void)in_progress;
    connecting_ = true;
    return Status();
  }

  void send(std::string_view message) {
    std::string framed(5, '\0');
    framed[1] = static_cast<char>(message.size() >> 24);
    framed[2] = static_cast<char>(message.size() >> 16);
    framed[3] = static_cast<char>(message.size() >> 8);
    framed[4] = static_cast<char>(message.size());
    framed.append(message);
    outgoing_.push_back(std::move(framed));
    if (session_ != nullptr && stream_id_ > 0) {
      nghttp2_session_resume_data(session_, stream_id_);
      // Inside a delivery the caller's flush follows; nghttp2 must not be
      // re-entered from its own callbacks.
      if (!delivering_) flush();
    }
  }

 private:
  void onReady(uint32_t ready) {
    if (closed_) return;
    if (connecting_) {
      Status s = network::connectResult(fd_.get());
      if (!s.ok()) return fail(kUnavailable, s.message());
      connecting_ = false;
      Status started = startSession();
      if (!started.ok()) return fail(kInternal, started.message());
    } else if (ready & event::kRead) {
      if (!readSome()) return;
    }
    flush();
  }

  Status startSession() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Impl::onDataChunk);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Impl::onHeader);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Impl::onStreamClose);
    int rc = nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) return internalError(std::string("nghttp2: ") + nghttp2_strerror(rc));
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
    auto nv = [](const char* name, const std::string& value) {
      return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                        std::strlen(name), value.size(), NGHTTP2_NV_FLAG_NONE};
    };
    static const std::string kPost = "POST", kHttp = "http", kGrpc = "application/grpc",
                             kTrailers = "trailers", kAgent = "remora-proxy";
    nghttp2_nv headers[] = {nv(":method", kPost),      nv(":scheme", kHttp),
                            nv(":path", path_),        nv(":authority", authority_),
                            nv("content-type", kGrpc), nv("te", kTrailers),
                            nv("user-agent", kAgent)};
    nghttp2_data_provider body;
    body.source.ptr = this;
    body.read_callback = &Impl::readBody;
    stream_id_ = nghttp2_submit_request(session_, nullptr, headers, 7, &body, this);
    if (stream_id_ < 0) {
      return internalError(std::string("nghttp2: ") + nghttp2_strerror(stream_id_));
    }
    return Status();
  }

  // Returns false if the stream was closed (and `this` may be gone).
  bool readSome() {
    char buf[16384];
    while (true) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n > 0) {
        ssize_t used = nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf),
                                                static_cast<size_t>(n));
        if (!deliver()) return false;
        if (used < 0) {
          fail(trailer_status_ >= 0 ? trailer_status_ : kInternal,
               trailer_message_.empty()
                   ? std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used))
                   : trailer_message_);
          return false;
        }
        if (stream_closed_) {
          fail(close_status_, close_message_);
          return false;
        }
        continue;
      }
      if (n == 0) {
        fail(kUnavailable, "connection closed by the server");
        return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      fail(kUnavailable, std::string("recv: ") + std::strerror(errno));
      return false;
    }
  }

  void flush() {
    if (closed_ || session_ == nullptr) return;
    while (true) {
      if (pending_.empty()) {
        const uint8_t* data;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) return fail(kInternal, nghttp2_strerror(static_cast<int>(n)));
        if (n == 0) break;
        pending_.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      ssize_t w = ::send(fd_.get(), pending_.data(), pending_.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail(kUnavailable, std::string("send: ") + std::strerror(errno));
      }
      pending_.erase(0, static_cast<size_t>(w));
      if (!pending_.empty()) break;
    }
    if (closed_) return;
    uint32_t want = event::kRead;
    if (!pending_.empty()) want |= event::kWrite;
    event_->setEnabled(want);
  }

  // Hands the messages nghttp2 produced to the owner, outside nghttp2's
  // callbacks. Returns false if the owner destroyed the stream meanwhile.
  bool deliver() {
    std::weak_ptr<bool> alive = alive_;
    delivering_ = true;
    while (!received_.empty()) {
      std::string message = std::move(received_.front());
      received_.pop_front();
      cb_.on_message(message);
      if (alive.expired() || closed_) return false;
    }
    delivering_ = false;
    return true;
  }

  void fail(int status, const std::string& message) {
    if (closed_) return;
    closed_ = true;
    event_.reset();
    fd_.reset();
    // The callback may destroy this object: nothing after it.
    cb_.on_close(status, message);
  }

  // ---- nghttp2 callbacks ----

  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* self = static_cast<Impl*>(source->ptr);
    size_t copied = 0;
    while (copied < length && !self->outgoing_.empty()) {
      std::string& front = self->outgoing_.front();
      size_t take = std::min(length - copied, front.size() - self->front_offset_);
      std::memcpy(buf + copied, front.data() + self->front_offset_, take);
      copied += take;
      self->front_offset_ += take;
      if (self->front_offset_ == front.size()) {
        self->outgoing_.pop_front();
        self->front_offset_ = 0;
      }
    }
    (void)flags;  // the request body never ends: the stream lives until closed
    if (copied == 0) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(copied);
  }

  static int onDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (stream_id != self->stream_id_) return 0;
    self->incoming_.append(reinterpret_cast<const char*>(data), len);
    return self->splitMessages();
  }

  // Cuts whole gRPC messages out of the DATA bytes received so far.
  int splitMessages() {
    while (incoming_.size() >= 5) {
      if (incoming_[0] != 0) {
        trailer_status_ = kInternal;
        trailer_message_ = "compressed gRPC messages are not supported";
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      size_t len = static_cast<size_t>(static_cast<uint8_t>(incoming_[1])) << 24 |
                   static_cast<size_t>(static_cast<uint8_t>(incoming_[2])) << 16 |
                   static_cast<size_t>(static_cast<uint8_t>(incoming_[3])) << 8 |
                   static_cast<uint8_t>(incoming_[4]);
      if (len > kMaxMessageBytes) {
        trailer_status_ = kInternal;
        trailer_message_ = "message of " + std::to_string(len) + " bytes is over the limit";
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      if (incoming_.size() < 5 + len) break;
      received_.push_back(incoming_.substr(5, len));
      incoming_.erase(0, 5 + len);
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (frame->hd.stream_id != self->stream_id_) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status" && v != "200") {
      self->trailer_status_ = kUnavailable;
      self->trailer_message_ = "HTTP status " + std::string(v);
    } else if (n == "grpc-status") {
      self->trailer_status_ = std::atoi(std::string(v).c_str());
    } else if (n == "grpc-message") {
      self->trailer_message_ = percentDecode(v);
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (stream_id != self->stream_id_) return 0;
    int status = self->trailer_status_;
    std::string message = self->trailer_message_;
    if (status < 0) {
      status = kUnavailable;
      message = error_code != 0 ? std::string("stream reset: ") + nghttp2_http2_strerror(error_code)
                                : "stream ended without grpc-status";
    }
    // Reported once nghttp2 has returned (readSome), never from inside it.
    self->stream_closed_ = true;
    self->close_status_ = status;
    self->close_message_ = message;
    return 0;
  }

  event::Dispatcher& dispatcher_;
  std::string authority_;
  std::string path_;
  Callbacks cb_;
  network::Fd fd_;
  std::unique_ptr<event::FileEvent> event_;
  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  bool connecting_ = false;
  bool closed_ = false;
  std::string pending_;               // bytes nghttp2 produced that the socket did not take
  std::deque<std::string> outgoing_;  // framed messages not yet given to nghttp2
  size_t front_offset_ = 0;
  std::string incoming_;              // DATA bytes not yet forming a whole message
  std::deque<std::string> received_;  // whole messages waiting for deliver()
  bool delivering_ = false;
  int trailer_status_ = -1;
  std::string trailer_message_;
  bool stream_closed_ = false;
  int close_status_ = 0;
  std::string close_message_;
  // Expires with this object: lets deliver() notice the owner destroyed it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

GrpcStream::GrpcStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcStream::~GrpcStream() = default;

StatusOr<std::unique_ptr<GrpcStream>> GrpcStream::open(event::Dispatcher& dispatcher,
                                                       const std::string& target,
                                                       const std::string& path,
                                                       Callbacks callbacks) {
  REMORA_ASSIGN_OR_RETURN(auto address, resolve(target));
  auto impl = std::make_unique<Impl>(dispatcher, target, path, std::move(callbacks));
  REMORA_RETURN_IF_ERROR(impl->connect(address));
  return std::unique_ptr<GrpcStream>(new GrpcStream(std::move(impl)));
}

void GrpcStream::send(std::string_view message) {
  impl_->send(message);
}

}  // namespace remora::xds
