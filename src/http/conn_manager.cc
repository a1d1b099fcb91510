#include "http/conn_manager.h"

#include <sys/socket.h>

#include <charconv>

#include "common/logging.h"

namespace remora::http {

namespace {

// Reads per event: more than one read per readiness report only when the
// first filled the buffer, so an idle-ish connection costs one recv.
constexpr size_t kReadSize = Buffer::kBlockSize;

bool isTrailersOnly(std::string_view te) {
  return equalsIgnoreCase(te, "trailers");
}

void appendHeader(HeaderMap& h, Known k, std::string_view value) {
  const std::string_view* old = h.get(k);
  if (old == nullptr) {
    h.add(knownName(k), value);
    return;
  }
  std::string joined(*old);
  joined += ", ";
  joined += value;
  h.set(k, joined);
}

}  // namespace

// ---------------------------------------------------------------------------
// ActiveStream: one request/response exchange and its filters.

class ConnectionManager::ActiveStream : public StreamDecoder,
                                        public StreamFilterCallbacks,
                                        public event::DeferredDeletable {
 public:
  ActiveStream(ConnectionManager& conn, StreamEncoder& encoder) : conn_(conn), encoder_(encoder) {
    const ConnectionManagerConfig& c = *conn_.config_;
    info_.start = conn_.worker_.dispatcher.now();
    if (!c.access_logs.empty()) info_.start_time = std::chrono::system_clock::now();
    info_.connection = &conn_.info_;
    c.stats.downstream_rq_total->inc();
    c.stats.downstream_rq_active->inc();
  }

  ~ActiveStream() override = default;

  // StreamDecoder: the request, from the codec.
  void decodeHeaders(HeaderMapPtr headers, bool end_stream) override;
  void decodeData(Buffer& data, bool end_stream) override;
  void decodeTrailers(HeaderMapPtr trailers) override;
  void onStreamReset(std::string_view reason) override {
    // The request broke off: the client left, or its body broke HTTP/1.1.
    if (done_) return;
    if (conn_.peer_eof_) {
      resetWithFlags(kDownstreamConnectionTermination, "downstream_remote_disconnect");
    } else {
      resetWithFlags(kDownstreamProtocolError, "codec_error");
    }
  }

  // StreamFilterCallbacks.
  event::Dispatcher& dispatcher() override { return conn_.worker_.dispatcher; }
  StreamInfo& streamInfo() override { return info_; }
  const ConnectionInfo& connection() const override { return conn_.info_; }
  void continueDecoding() override;
  void encode1xxHeaders(HeaderMapPtr headers) override;
  void encodeHeaders(HeaderMapPtr headers, bool end_stream) override;
  void encodeData(Buffer& data, bool end_stream) override;
  void encodeTrailers(HeaderMapPtr trailers) override;
  void sendLocalReply(uint32_t status, std::string_view body, uint32_t flags,
                      std::string_view details,
                      const std::function<void(HeaderMap&)>& modify = nullptr) override;
  // The filter asking has set its flags (Envoy: "200 UC" for an upstream
  // that died mid-response), so none is added here.
  void resetStream() override { resetWithFlags(0, "reset"); }
  void readDisableDownstream(bool disable) override {
    if (disable != downstream_read_disabled_) {
      downstream_read_disabled_ = disable;
      conn_.readDisable(disable);
    }
  }
  size_t downstreamBufferedBytes() const override { return conn_.codec_.output().length(); }

  // From the connection.
  // A request that failed in its head: no headers, only the error reply.
  void startForError() {
    request_headers_ = newHeaderMap();
    info_.request_headers = request_headers_.get();
    request_complete_ = true;
  }
  void onDownstreamWritable() {
    for (auto& f : filters_)
      f->onDownstreamWritable();
  }
  // The connection is going away under the stream.
  void resetWithFlags(uint32_t flags, std::string_view details);
  bool done() const { return done_; }
  bool responseStarted() const { return response_started_; }
  void onStreamIdleTimeout() {
    conn_.config_->stats.downstream_rq_idle_timeout->inc();
    if (!response_started_) {
      sendLocalReply(408, "stream timeout", kStreamIdleTimeout, "stream_idle_timeout");
    } else {
      resetWithFlags(kStreamIdleTimeout, "stream_idle_timeout");
    }
  }

 private:
  void mutateRequestHeaders(HeaderMap& h, bool end_stream);
  void mutateResponseHeaders(HeaderMap& h);
  // Runs decodeHeaders from filter `from`; false when iteration stopped or the
  // stream ended meanwhile.
  bool runDecodeHeaders(size_t from);
  // Runs decodeData on filters [from, to); false as above.
  bool runDecodeData(size_t from, size_t to, Buffer& data, bool end_stream);
  bool runDecodeTrailers(size_t from, size_t to, HeaderMap& trailers);
  void countResponse(uint32_t status);
  void finish();

  ConnectionManager& conn_;
  StreamEncoder& encoder_;
  StreamInfo info_;
  HeaderMapPtr request_headers_;
  HeaderMapPtr request_trailers_;
  HeaderMapPtr response_headers_;
  std::vector<std::unique_ptr<StreamFilter>> filters_;
  // Decoding stopped at filters_[stopped_at_] (decodeHeaders returned kStop);
  // what arrives meanwhile passes the filters up to it and waits in held_.
  static constexpr size_t kNotStopped = SIZE_MAX;
  size_t stopped_at_ = kNotStopped;
  Buffer held_data_;
  bool held_end_ = false;
  bool request_end_stream_ = false;  // decodeHeaders had end_stream
  bool request_complete_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool is_upgrade_ = false;
  bool downstream_read_disabled_ = false;
  bool done_ = false;
};

void ConnectionManager::ActiveStream::mutateRequestHeaders(HeaderMap& h, bool end_stream) {
  const ConnectionManagerConfig& c = *conn_.config_;
  is_upgrade_ = isUpgradeRequest(h);
  // Hop-by-hop fields end here (RFC 9110 7.6.1), including any the client
  // nominated in Connection; an upgrade keeps its Upgrade and gets a fresh
  // "connection: upgrade".
  std::vector<std::string> nominated;
  if (const std::string_view* conn = h.get(Known::kConnection); conn != nullptr) {
    for (const HeaderMap::Entry& e : h) {
      if (e.name != "connection") continue;
      std::string_view v = e.value;
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view t = v.substr(0, comma);
        while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
          t.remove_prefix(1);
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
          t.remove_suffix(1);
        if (!t.empty() && !equalsIgnoreCase(t, "close") && !equalsIgnoreCase(t, "keep-alive") &&
            !equalsIgnoreCase(t, "upgrade") && t.front() != ':') {
          std::string name(t);
          for (char& ch : name) {
            if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
          }
          nominated.push_back(std::move(name));
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
  }
  const bool upgrade = is_upgrade_;
  h.removeIf([&](const HeaderMap::Entry& e) {
    switch (e.known) {
      case Known::kConnection:
      case Known::kKeepAlive:
      case Known::kProxyConnection:
      case Known::kTransferEncoding:
        return true;
      case Known::kUpgrade:
        return !upgrade;
      case Known::kTe:
        return !isTrailersOnly(e.value);
      default:
        break;
    }
    for (const std::string& n : nominated) {
      if (n == e.name) return true;
    }
    return false;
  });
  if (upgrade) h.add("connection", "upgrade");

  if (h.has(Known::kExpect)) {
    if (!c.proxy_100_continue && equalsIgnoreCase(h.value(Known::kExpect), "100-continue")) {
      // As Envoy by default: answer 100 Continue ourselves and do not ask
      // the upstream, so the client starts sending at once.
      h.remove(Known::kExpect);
      if (!end_stream) {
        HeaderMap cont;
        cont.add(":status", "100");
        encoder_.encode1xxHeaders(cont);
        conn_.worker_.flush.schedule(conn_);
      }
    }
  }
  if (c.use_remote_address && !c.skip_xff_append) {
    appendHeader(h, Known::kXForwardedFor, conn_.info_.remote.ip.toString());
  }
  if (c.use_remote_address || !h.has(Known::kXForwardedProto)) {
    std::string_view scheme = h.scheme();
    h.set(Known::kXForwardedProto, scheme.empty() ? std::string_view("http") : scheme);
  }
  if (c.generate_request_id && !h.has(Known::kXRequestId)) {
    char id[36];
    writeUuid(conn_.worker_.random, id);
    h.add(knownName(Known::kXRequestId), std::string_view(id, sizeof(id)));
  }
  if (!c.via.empty()) {
    std::string via = "1.1 " + c.via;
    if (const std::string_view* old = h.get("via"); old != nullptr) {
      h.set("via", std::string(*old) + ", " + via);
    } else {
      h.add("via", via);
    }
  }
}

void ConnectionManager::ActiveStream::decodeHeaders(HeaderMapPtr headers, bool end_stream) {
  const ConnectionManagerConfig& c = *conn_.config_;
  request_headers_ = std::move(headers);
  info_.request_headers = request_headers_.get();
  info_.protocol = conn_.codec_.protocol();
  request_end_stream_ = end_stream;
  request_complete_ = end_stream;
  if (info_.protocol == Protocol::kHttp10 && !c.accept_http_10) {
    sendLocalReply(426, "", 0, "low_version");
    return;
  }
  mutateRequestHeaders(*request_headers_, end_stream);

  if (is_upgrade_) {
    std::string_view type = request_headers_->value(Known::kUpgrade);
    bool allowed = false;
    for (const std::string& t : c.upgrade_types) {
      if (equalsIgnoreCase(t, type)) allowed = true;
    }
    if (!allowed) {
      // Envoy refuses upgrades the connection manager is not configured for.
      c.stats.downstream_rq_ws_on_non_ws_route->inc();
      sendLocalReply(403, "", 0, "upgrade_failed");
      return;
    }
    c.stats.downstream_cx_upgrades_total->inc();
  }

  conn_.filter_factory_.createFilters(filters_);
  for (auto& f : filters_)
    f->setCallbacks(*this);
  runDecodeHeaders(0);
}

bool ConnectionManager::ActiveStream::runDecodeHeaders(size_t from) {
  for (size_t i = from; i < filters_.size(); ++i) {
    bool end = request_end_stream_ && held_data_.empty() && request_trailers_ == nullptr;
    FilterStatus s = filters_[i]->decodeHeaders(*request_headers_, end);
    if (done_) return false;
    if (s == FilterStatus::kStop) {
      stopped_at_ = i;
      return false;
    }
  }
  return true;
}

bool ConnectionManager::ActiveStream::runDecodeData(size_t from, size_t to, Buffer& data,
                                                    bool end_stream) {
  for (size_t i = from; i < to; ++i) {
    FilterStatus s = filters_[i]->decodeData(data, end_stream);
    if (done_) return false;
    if (s == FilterStatus::kStop) return false;
  }
  return true;
}

bool ConnectionManager::ActiveStream::runDecodeTrailers(size_t from, size_t to,
                                                        HeaderMap& trailers) {
  for (size_t i = from; i < to; ++i) {
    FilterStatus s = filters_[i]->decodeTrailers(trailers);
    if (done_) return false;
    if (s == FilterStatus::kStop) return false;
  }
  return true;
}

void ConnectionManager::ActiveStream::decodeData(Buffer& data, bool end_stream) {
  if (done_) {
    data.clear();
    return;
  }
  if (end_stream) request_complete_ = true;
  info_.bytes_received += data.length();
  conn_.touchStream();
  if (filters_.empty()) {
    data.clear();
    return;
  }
  if (stopped_at_ == kNotStopped) {
    runDecodeData(0, filters_.size(), data, end_stream);
    return;
  }
  // Stopped: the filters up to the stopping one see the bytes; the rest wait.
  if (!runDecodeData(0, stopped_at_ + 1, data, end_stream)) return;
  held_data_.move(data);
  held_end_ = held_end_ || end_stream;
  if (held_data_.length() > conn_.config_->buffer_limit_bytes) {
    sendLocalReply(413, "payload too large", 0, "request_payload_too_large");
  }
}

void ConnectionManager::ActiveStream::decodeTrailers(HeaderMapPtr trailers) {
  if (done_) return;
  request_complete_ = true;
  request_trailers_ = std::move(trailers);
  if (filters_.empty()) return;
  if (stopped_at_ == kNotStopped) {
    runDecodeTrailers(0, filters_.size(), *request_trailers_);
    return;
  }
  runDecodeTrailers(0, stopped_at_ + 1, *request_trailers_);
}

void ConnectionManager::ActiveStream::continueDecoding() {
  if (done_ || stopped_at_ == kNotStopped) return;
  const size_t from = stopped_at_ + 1;
  stopped_at_ = kNotStopped;
  const bool passed_all = runDecodeHeaders(from);
  if (done_) return;
  // A later filter may stop at the headers too (the router always does);
  // it still gets the body, and whatever is after it keeps waiting.
  const size_t to = passed_all ? filters_.size() : stopped_at_ + 1;
  const bool has_trailers = request_trailers_ != nullptr;
  if (!held_data_.empty() || (held_end_ && !has_trailers)) {
    Buffer data;
    data.move(held_data_);
    const bool end = held_end_ && !has_trailers;
    if (!runDecodeData(from, to, data, end)) return;
    if (!passed_all) held_data_.move(data);
  }
  if (has_trailers) runDecodeTrailers(from, to, *request_trailers_);
}

void ConnectionManager::ActiveStream::mutateResponseHeaders(HeaderMap& h) {
  const ConnectionManagerConfig& c = *conn_.config_;
  const bool switching = h.status() == "101";
  h.removeIf([switching](const HeaderMap::Entry& e) {
    switch (e.known) {
      case Known::kConnection:
      case Known::kUpgrade:
        return !switching;
      case Known::kKeepAlive:
      case Known::kProxyConnection:
      case Known::kTransferEncoding:
        return true;
      default:
        return false;
    }
  });
  switch (c.server_header) {
    case ConnectionManagerConfig::ServerHeader::kOverwrite:
      h.set(Known::kServer, c.server_name);
      break;
    case ConnectionManagerConfig::ServerHeader::kAppendIfAbsent:
      if (!h.has(Known::kServer)) h.add(knownName(Known::kServer), c.server_name);
      break;
    case ConnectionManagerConfig::ServerHeader::kPassThrough:
      break;
  }
  h.set(Known::kDate, conn_.worker_.date.now());
  if (c.always_set_request_id_in_response && request_headers_ != nullptr) {
    if (const std::string_view* id = request_headers_->get(Known::kXRequestId); id != nullptr) {
      h.set(Known::kXRequestId, *id);
    }
  }
  if (!c.via.empty()) h.add("via", "1.1 " + c.via);
  ++conn_.requests_;
  if (conn_.draining_ ||
      (c.max_requests_per_connection > 0 && conn_.requests_ >= c.max_requests_per_connection)) {
    h.set(Known::kConnection, "close");
  }
}

void ConnectionManager::ActiveStream::countResponse(uint32_t status) {
  const ConnectionManagerStats& s = conn_.config_->stats;
  info_.response_code = status;
  countStatusClass(status, {s.downstream_rq_1xx, s.downstream_rq_2xx, s.downstream_rq_3xx,
                            s.downstream_rq_4xx, s.downstream_rq_5xx});
}

void ConnectionManager::ActiveStream::encode1xxHeaders(HeaderMapPtr headers) {
  if (done_ || response_started_) return;
  // Without proxy_100_continue the 100 was already sent by us.
  if (!conn_.config_->proxy_100_continue && headers->status() == "100") return;
  encoder_.encode1xxHeaders(*headers);
  conn_.worker_.flush.schedule(conn_);
}

void ConnectionManager::ActiveStream::encodeHeaders(HeaderMapPtr headers, bool end_stream) {
  if (done_ || response_started_) return;
  response_started_ = true;
  mutateResponseHeaders(*headers);
  for (size_t i = filters_.size(); i > 0; --i)
    filters_[i - 1]->encodeHeaders(*headers, end_stream);
  uint32_t status = 0;
  std::string_view sv = headers->status();
  std::from_chars(sv.data(), sv.data() + sv.size(), status);
  countResponse(status);
  response_headers_ = std::move(headers);
  info_.response_headers = response_headers_.get();
  encoder_.encodeHeaders(*response_headers_, end_stream);
  conn_.worker_.flush.schedule(conn_);
  if (end_stream) {
    response_complete_ = true;
    finish();
  }
}

void ConnectionManager::ActiveStream::encodeData(Buffer& data, bool end_stream) {
  if (done_ || !response_started_) {
    data.clear();
    return;
  }
  for (size_t i = filters_.size(); i > 0; --i)
    filters_[i - 1]->encodeData(data, end_stream);
  info_.bytes_sent += data.length();
  conn_.touchStream();
  encoder_.encodeData(data, end_stream);
  if (!conn_.above_watermark_ &&
      conn_.codec_.output().length() > conn_.config_->buffer_limit_bytes) {
    conn_.above_watermark_ = true;
  }
  conn_.worker_.flush.schedule(conn_);
  if (end_stream) {
    response_complete_ = true;
    finish();
  }
}

void ConnectionManager::ActiveStream::encodeTrailers(HeaderMapPtr trailers) {
  if (done_ || !response_started_) return;
  encoder_.encodeTrailers(*trailers);
  conn_.worker_.flush.schedule(conn_);
  response_complete_ = true;
  finish();
}

void ConnectionManager::ActiveStream::sendLocalReply(
    uint32_t status, std::string_view body, uint32_t flags, std::string_view details,
    const std::function<void(HeaderMap&)>& modify) {
  if (done_) return;
  info_.response_flags |= flags;
  info_.response_code_details = details;
  if (response_started_) {
    // Too late for a reply: the client has part of a response already.
    resetWithFlags(0, details);
    return;
  }
  info_.local_reply_body = body;
  auto headers = newHeaderMap();
  char code[4];
  auto r = std::to_chars(code, code + sizeof(code), status);
  headers->add(":status", std::string_view(code, static_cast<size_t>(r.ptr - code)));
  char len[24];
  r = std::to_chars(len, len + sizeof(len), body.size());
  headers->add("content-length", std::string_view(len, static_cast<size_t>(r.ptr - len)));
  if (!body.empty()) headers->add("content-type", "text/plain");
  if (modify) modify(*headers);
  const bool head = request_headers_ != nullptr && request_headers_->method() == "HEAD";
  if (body.empty() || head) {
    encodeHeaders(std::move(headers), true);
    return;
  }
  encodeHeaders(std::move(headers), false);
  Buffer b(body);
  encodeData(b, true);
}

void ConnectionManager::ActiveStream::resetWithFlags(uint32_t flags, std::string_view details) {
  if (done_) return;
  info_.response_flags |= flags;
  if (info_.response_code_details.empty()) info_.response_code_details = details;
  finish();
  // HTTP/1 has no way to end one stream but the connection.
  conn_.closeNow(0);
}

void ConnectionManager::ActiveStream::finish() {
  if (done_) return;
  done_ = true;
  const ConnectionManagerConfig& c = *conn_.config_;
  c.stats.downstream_rq_active->dec();
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    conn_.readDisable(false);
  }
  if (response_complete_) {
    c.stats.downstream_rq_completed->inc();
  } else if (!request_complete_) {
    c.stats.downstream_rq_rx_reset->inc();
  }
  for (auto& f : filters_)
    f->onDestroy();
  if (!c.access_logs.empty()) {
    info_.end = std::chrono::steady_clock::now();
    for (const auto& log : c.access_logs)
      log->log(info_);
  }
  conn_.streamDone(*this);
}

// ---------------------------------------------------------------------------
// ConnectionManager

ConnectionManager::ConnectionManager(std::shared_ptr<const ConnectionManagerConfig> config,
                                     WorkerResources& worker, FilterChainFactory& filters,
                                     network::Fd fd, ConnectionInfo info,
                                     std::function<void()> on_close)
    : config_(std::move(config)),
      worker_(worker),
      filter_factory_(filters),
      fd_(std::move(fd)),
      info_(std::move(info)),
      on_close_(std::move(on_close)),
      codec_(*this, config_->codec),
      timer_(worker.dispatcher, [this] {
        FlushList::Scope scope(worker_.flush);
        onTimer();
      }) {
  config_->stats.downstream_cx_total->inc();
  config_->stats.downstream_cx_active->inc();
}

ConnectionManager::~ConnectionManager() {
  // Destroyed by its owner (worker shutdown): no callback into the owner.
  on_close_ = nullptr;
  closeNow(kDownstreamConnectionTermination);
  config_->stats.downstream_cx_active->dec();
  config_->stats.downstream_cx_destroy->inc();
}

void ConnectionManager::start() {
  event_ = worker_.dispatcher.createFileEvent(
      fd_.get(), [this](uint32_t ready) { onEvent(ready); }, event::kRead);
  if (config_->idle_timeout.count() > 0) {
    timer_.arm(worker_.dispatcher.now() + config_->idle_timeout);
  }
}

StreamDecoder& ConnectionManager::newStream(StreamEncoder& encoder) {
  stream_ = std::make_unique<ActiveStream>(*this, encoder);
  timer_.disarm();
  touchStream();
  return *stream_;
}

void ConnectionManager::touchStream() {
  if (config_->stream_idle_timeout.count() > 0) {
    timer_.arm(worker_.dispatcher.now() + config_->stream_idle_timeout);
  }
}

void ConnectionManager::onEvent(uint32_t ready) {
  FlushList::Scope scope(worker_.flush);
  if ((ready & event::kWrite) && !closed_) {
    write_blocked_ = false;
    flushNow();
  }
  if ((ready & event::kRead) && !closed_) onReadable();
}

void ConnectionManager::onReadable() {
  IoStatus r = readOnce(fd_.get(), read_buffer_, kReadSize);
  if (r.result == IoResult::kAgain) return;
  if (r.result == IoResult::kError) {
    closeNow(kDownstreamConnectionTermination);
    return;
  }
  if (r.result == IoResult::kEof) {
    peer_eof_ = true;
    if (half_closed_) {
      closeNow(0);
      return;
    }
    Status s = codec_.onEof();
    if (closed_) return;
    if (stream_ && !stream_->done()) {
      if (!s.ok()) {
        stream_->resetWithFlags(kDownstreamConnectionTermination, "downstream_remote_disconnect");
        return;
      }
      // A half-closed client still gets its answer (or its tunnel's end);
      // there is nothing more to read.
      updateInterest();
      return;
    }
    if (codec_.bufferedInputBytes() > 0) {
      updateInterest();
      return;
    }
    closeNow(0);
    return;
  }
  if (half_closed_) {
    read_buffer_.clear();  // after our close, whatever the client sends is dropped
    return;
  }
  Status s = codec_.dispatch(read_buffer_);
  if (closed_) return;
  if (!s.ok()) {
    onCodecError();
    return;
  }
  // Pipelined requests waiting for the current response are bounded too.
  if (codec_.bufferedInputBytes() > config_->buffer_limit_bytes && !pipeline_paused_) {
    pipeline_paused_ = true;
    readDisable(true);
  }
}

void ConnectionManager::onCodecError() {
  config_->stats.downstream_cx_protocol_error->inc();
  const CodecError* err = codec_.error();
  uint32_t status = err != nullptr ? static_cast<uint32_t>(err->status) : 400;
  REMORA_LOG_DEBUG("downstream {}: {}", info_.remote.toString(),
                   err != nullptr ? err->toString() : std::string("protocol error"));
  if (stream_ && !stream_->done()) {
    if (!stream_->responseStarted()) {
      stream_->sendLocalReply(status, "", kDownstreamProtocolError, "codec_error");
    } else {
      stream_->resetWithFlags(kDownstreamProtocolError, "codec_error");
    }
  } else if (StreamEncoder* encoder = codec_.errorResponseEncoder(); encoder != nullptr) {
    // The bad request never reached a filter; it is answered and logged
    // like any other local reply.
    stream_ = std::make_unique<ActiveStream>(*this, *encoder);
    stream_->startForError();
    stream_->sendLocalReply(status, "", kDownstreamProtocolError, "codec_error");
  }
  if (!closed_) closeAfterFlush();
}

void ConnectionManager::streamDone(ActiveStream& stream) {
  if (stream_.get() != &stream) return;
  worker_.dispatcher.deferredDelete(std::move(stream_));
  resume_pending_ = true;
  if (config_->idle_timeout.count() > 0) {
    timer_.arm(worker_.dispatcher.now() + config_->idle_timeout);
  } else {
    timer_.disarm();
  }
  worker_.flush.schedule(*this);
}

void ConnectionManager::flushNow() {
  if (closed_) return;
  if (!codec_.output().empty() && !write_blocked_) {
    IoStatus w = writeSome(fd_.get(), codec_.output());
    if (w.result == IoResult::kError) {
      closeNow(kDownstreamConnectionTermination);
      return;
    }
    if (w.result == IoResult::kAgain) {
      write_blocked_ = true;
      updateInterest();
    }
  }
  if (above_watermark_ && codec_.output().length() <= config_->buffer_limit_bytes / 2) {
    above_watermark_ = false;
    if (stream_) stream_->onDownstreamWritable();
    if (closed_) return;
  }
  if (stream_ || !codec_.output().empty()) return;
  // No response in progress and everything written.
  if (codec_.wantsClose() || draining_) {
    closeAfterFlush();
    return;
  }
  if (resume_pending_) {
    resume_pending_ = false;
    if (pipeline_paused_) {
      pipeline_paused_ = false;
      readDisable(false);
    }
    if (codec_.bufferedInputBytes() > 0) {
      // Outside any encoder call, as the codec requires.
      Status s = codec_.resumeDispatch();
      if (closed_) return;
      if (!s.ok()) {
        onCodecError();
        return;
      }
    }
    if (peer_eof_ && !stream_ && codec_.bufferedInputBytes() == 0 && codec_.output().empty()) {
      closeNow(0);
      return;
    }
    if (!codec_.output().empty()) worker_.flush.schedule(*this);
  }
}

void ConnectionManager::readDisable(bool disable) {
  if (disable) {
    ++read_disabled_;
  } else if (read_disabled_ > 0) {
    --read_disabled_;
  }
  updateInterest();
}

void ConnectionManager::updateInterest() {
  if (!event_ || closed_) return;
  uint32_t want = 0;
  if (read_disabled_ == 0 && !peer_eof_) want |= event::kRead;
  if (write_blocked_) want |= event::kWrite;
  event_->setEnabled(want);
}

void ConnectionManager::onTimer() {
  if (closed_) return;
  if (half_closed_) {
    closeNow(0);
    return;
  }
  if (stream_ && !stream_->done()) {
    stream_->onStreamIdleTimeout();
    return;
  }
  config_->stats.downstream_cx_idle_timeout->inc();
  closeNow(0);
}

void ConnectionManager::closeAfterFlush() {
  if (closed_) return;
  if (!codec_.output().empty()) {
    // flushNow comes back here once the output is written.
    draining_ = true;
    if (!write_blocked_) worker_.flush.schedule(*this);
    return;
  }
  if (half_closed_) return;
  if (peer_eof_) {
    closeNow(0);
    return;
  }
  // Shut our side and give the client a moment to read the response before
  // the socket goes: closing with unread input would send a reset that can
  // destroy the response in flight.
  ::shutdown(fd_.get(), SHUT_WR);
  half_closed_ = true;
  read_disabled_ = 0;
  updateInterest();
  timer_.disarm();
  timer_.arm(worker_.dispatcher.now() + config_->delayed_close_timeout);
}

void ConnectionManager::closeNow(uint32_t stream_flags) {
  if (closed_) return;
  closed_ = true;
  if (stream_ && !stream_->done()) {
    stream_->resetWithFlags(stream_flags == 0 ? kDownstreamConnectionTermination : stream_flags,
                            "downstream_remote_disconnect");
  }
  worker_.flush.cancel(*this);
  timer_.disarm();
  event_.reset();
  fd_.reset();
  if (on_close_) {
    auto cb = std::move(on_close_);
    on_close_ = nullptr;
    cb();
  }
}

void ConnectionManager::close() {
  closeNow(kDownstreamConnectionTermination);
}

void ConnectionManager::drain() {
  draining_ = true;
  if (!stream_) closeAfterFlush();
}

}  // namespace remora::http
