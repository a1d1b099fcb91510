#include "http/http1_codec.h"

#include <charconv>
#include <cstring>

#include "common/http_status.h"
#include "http/word_scan.h"

namespace remora::http {
namespace {

// Fields that would break the framing of what we write (CR, LF, NUL) are
// dropped: a filter must not be able to inject a header line or a message.
bool safeToWrite(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  // Names: no control bytes, space, ':' or DEL. Values: no CR, LF or NUL.
  bool bad_name = word::anyWord(name, 'a', [](uint64_t w) {
    return word::anyBelow(w, 0x21) | word::anyEqual(w, ':') | word::anyEqual(w, 0x7f);
  });
  if (bad_name) return false;
  return !word::anyWord(value, 'a', [](uint64_t w) {
    return word::anyEqual(w, '\r') | word::anyEqual(w, '\n') | word::anyBelow(w, 1);
  });
}

// Writes the fields of `h` that the codec does not own: pseudo-headers become
// the start line and framing is the encoder's.
void writeFields(Buffer& out, const HeaderMap& h, bool skip_host, bool skip_length) {
  for (const HeaderMap::Entry& e : h) {
    if (e.name.empty() || e.name[0] == ':') continue;
    Known k = e.known;
    if (k == Known::kTransferEncoding) continue;
    if (k == Known::kHost && skip_host) continue;
    if (k == Known::kContentLength && skip_length) continue;
    if (!e.parsed && !safeToWrite(e.name, e.value)) continue;
    // One reservation and four copies per line rather than four appends.
    const size_t n = e.name.size() + e.value.size() + 4;
    Buffer::Room room = out.reserve(n);
    char* p = room.data;
    std::memcpy(p, e.name.data(), e.name.size());
    p += e.name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, e.value.data(), e.value.size());
    p += e.value.size();
    *p++ = '\r';
    *p++ = '\n';
    out.commit(n);
  }
}

bool parseLength(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 18) return false;
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

void writeNumber(Buffer& out, uint64_t n, int base) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), n, base);
  out.add(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

// Body framing on the sending side, shared by both directions.
struct BodyWriter {
  BodyFraming framing = BodyFraming::kNone;
  uint64_t remaining = 0;
  bool truncated = false;  // the caller broke its own content-length

  void data(Buffer& out, Buffer& data, bool end) {
    switch (framing) {
      case BodyFraming::kNone:
        data.clear();
        break;
      case BodyFraming::kLength: {
        uint64_t n = std::min<uint64_t>(remaining, data.length());
        out.move(data, static_cast<size_t>(n));
        remaining -= n;
        if (!data.empty()) {
          // Bytes past the declared length would be read as the next message.
          truncated = true;
          data.clear();
        }
        if (end && remaining > 0) truncated = true;
        break;
      }
      case BodyFraming::kChunked:
        if (!data.empty()) {
          writeNumber(out, data.length(), 16);
          out.add("\r\n");
          out.move(data);
          out.add("\r\n");
        }
        if (end) out.add("0\r\n\r\n");
        break;
      case BodyFraming::kUntilClose:
      case BodyFraming::kTunnel:
        out.move(data);
        break;
    }
  }

  void trailers(Buffer& out, const HeaderMap& t) {
    if (framing == BodyFraming::kChunked) {
      out.add("0\r\n");
      writeFields(out, t, false, true);
      out.add("\r\n");
    } else if (framing == BodyFraming::kLength && remaining > 0) {
      truncated = true;
    }
  }
};

}  // namespace

bool isUpgradeRequest(const HeaderMap& headers) {
  return headers.has(Known::kUpgrade) && headers.hasToken("connection", "upgrade");
}

// ---------------------------------------------------------------------------
// Server

class Http1ServerConnection::ResponseEncoder : public StreamEncoder {
 public:
  explicit ResponseEncoder(Http1ServerConnection& c) : c_(c) {}

  void reset() {
    writer_ = BodyWriter{};
    started_ = false;
    ended_ = false;
  }
  bool inProgress() const { return started_ && !ended_; }

  void encode1xxHeaders(const HeaderMap& headers) override {
    // HTTP/1.0 clients do not know interim responses.
    if (started_ || c_.version_ == Protocol::kHttp10) return;
    int status = 100;
    parseStatus(headers, status);
    if (status < 100 || status > 199 || status == 101) return;
    writeStatusLine(status);
    writeFields(c_.output_, headers, false, true);
    c_.output_.add("\r\n");
  }

  void encodeHeaders(const HeaderMap& headers, bool end_stream) override {
    if (started_ || ended_) return;
    started_ = true;
    int status = 500;
    if (!parseStatus(headers, status) || status < 200 || status > 599) {
      if (status != 101) status = 500;
    }
    const bool tunnel = (status == 101 && c_.upgrade_request_) ||
                        (c_.connect_request_ && status >= 200 && status < 300);
    if (status == 101 && !tunnel) status = 500;  // nothing to switch to
    bool close = !c_.keep_alive_ || headers.hasToken("connection", "close") ||
                 ((c_.upgrade_request_ || c_.connect_request_) && !tunnel);
    const bool no_body = c_.head_request_ || status == 204 || status == 304;

    std::string_view length_value = headers.value(Known::kContentLength);
    uint64_t length = 0;
    bool has_length = !length_value.empty() && parseLength(length_value, length);
    std::string_view framing_field;
    if (tunnel) {
      writer_.framing = BodyFraming::kTunnel;
    } else if (no_body) {
      writer_.framing = BodyFraming::kNone;
    } else if (has_length) {
      writer_.framing = length > 0 ? BodyFraming::kLength : BodyFraming::kNone;
      writer_.remaining = length;
    } else if (end_stream) {
      writer_.framing = BodyFraming::kNone;
      framing_field = "content-length: 0\r\n";
    } else if (c_.version_ == Protocol::kHttp11) {
      writer_.framing = BodyFraming::kChunked;
      framing_field = "transfer-encoding: chunked\r\n";
    } else {
      writer_.framing = BodyFraming::kUntilClose;
      close = true;
    }
    if (close) c_.close_after_response_ = true;

    writeStatusLine(status);
    // A malformed content-length from the caller is replaced by our framing.
    writeFields(c_.output_, headers, false, !has_length || tunnel);
    if (!framing_field.empty()) c_.output_.add(framing_field);
    if (close) {
      if (!headers.hasToken("connection", "close")) c_.output_.add("connection: close\r\n");
    } else if (c_.version_ == Protocol::kHttp10) {
      c_.output_.add("connection: keep-alive\r\n");
    }
    c_.output_.add("\r\n");
    if (tunnel) {
      c_.upgraded_ = true;
      c_.awaiting_response_ = false;
    }
    if (end_stream) end();
  }

  void encodeData(Buffer& data, bool end_stream) override {
    if (!started_ || ended_) {
      data.clear();
      return;
    }
    writer_.data(c_.output_, data, end_stream);
    if (end_stream) end();
  }

  void encodeTrailers(const HeaderMap& trailers) override {
    if (!started_ || ended_) return;
    writer_.trailers(c_.output_, trailers);
    end();
  }

 private:
  static bool parseStatus(const HeaderMap& h, int& status) {
    std::string_view s = h.status();
    if (s.size() != 3) return false;
    int v = 0;
    auto r = std::from_chars(s.data(), s.data() + 3, v);
    if (r.ec != std::errc() || r.ptr != s.data() + 3) return false;
    status = v;
    return true;
  }

  void writeStatusLine(int status) {
    c_.output_.add("HTTP/1.1 ");
    writeNumber(c_.output_, static_cast<uint64_t>(status), 10);
    c_.output_.add(" ");
    c_.output_.add(httpReasonPhrase(status));
    c_.output_.add("\r\n");
  }

  void end() {
    ended_ = true;
    if (writer_.truncated || writer_.framing == BodyFraming::kUntilClose ||
        writer_.framing == BodyFraming::kTunnel) {
      c_.close_after_response_ = true;
    }
    c_.responseComplete();
  }

  Http1ServerConnection& c_;
  BodyWriter writer_;
  bool started_ = false;
  bool ended_ = false;
};

Http1ServerConnection::Http1ServerConnection(ServerConnectionCallbacks& callbacks,
                                             Http1Settings settings)
    : callbacks_(callbacks),
      settings_(std::move(settings)),
      parser_(Http1Parser::Type::kRequest, settings_, *this),
      encoder_(std::make_unique<ResponseEncoder>(*this)) {}

Http1ServerConnection::~Http1ServerConnection() = default;

StreamEncoder* Http1ServerConnection::errorResponseEncoder() {
  if (decoder_ != nullptr || awaiting_response_ || encoder_->inProgress()) return nullptr;
  encoder_->reset();
  head_request_ = upgrade_request_ = connect_request_ = false;
  keep_alive_ = false;
  request_complete_ = true;
  response_complete_ = false;
  close_after_response_ = true;
  return encoder_.get();
}

Status Http1ServerConnection::errorStatus() const {
  return invalidArgumentError(parser_.error().toString());
}

Status Http1ServerConnection::dispatch(Buffer& data) {
  if (parser_.hasError()) {
    data.clear();
    return errorStatus();
  }
  if (!held_.empty() && !upgraded_) {
    // Keep arrival order behind what is already held.
    held_.move(data);
    return awaiting_response_ ? Status() : resumeDispatch();
  }
  return process(data);
}

Status Http1ServerConnection::resumeDispatch() {
  if (parser_.hasError()) return errorStatus();
  Buffer data;
  data.move(held_);
  Status status = process(data);
  if (status.ok() && peer_closed_ && held_.empty()) return onEof();
  return status;
}

Status Http1ServerConnection::process(Buffer& data) {
  while (!data.empty()) {
    if (upgraded_) {
      if (decoder_ != nullptr) decoder_->decodeData(data, false);
      data.clear();
      break;
    }
    if (awaiting_response_) {
      held_.move(data);
      break;
    }
    if (wants_close_) {
      data.clear();  // closing: nothing more is read
      break;
    }
    if (uint64_t body = parser_.bodyBytesExpected(); body > 0) {
      parser_.consumeBody(data, static_cast<size_t>(std::min<uint64_t>(body, data.length())));
      continue;
    }
    size_t n = parser_.parse(data.frontSlice());
    data.drain(n);
    if (parser_.hasError()) {
      data.clear();
      if (decoder_ != nullptr && !request_complete_) {
        StreamDecoder* d = decoder_;
        decoder_ = nullptr;
        d->onStreamReset(parser_.error().reason);
      }
      return errorStatus();
    }
  }
  return Status();
}

Status Http1ServerConnection::onEof() {
  peer_closed_ = true;
  if (upgraded_) {
    wants_close_ = true;
    if (decoder_ != nullptr && !request_complete_) {
      request_complete_ = true;
      Buffer empty;
      decoder_->decodeData(empty, true);
    }
    return Status();
  }
  // A half-closed client still gets its answer, then the close.
  if (awaiting_response_ || !held_.empty()) return Status();
  wants_close_ = true;
  if (parser_.hasError()) return errorStatus();
  if (decoder_ != nullptr && !request_complete_) {
    StreamDecoder* d = decoder_;
    decoder_ = nullptr;
    d->onStreamReset("downstream closed mid-request");
    return unavailableError("downstream closed mid-request");
  }
  if (!parser_.betweenMessages()) return unavailableError("downstream closed mid-request");
  return Status();
}

void Http1ServerConnection::onHead(Http1Parser::Head& head) {
  encoder_->reset();
  version_ = head.version;
  keep_alive_ = head.keep_alive;
  head_request_ = head.headers->method() == "HEAD";
  upgrade_request_ = head.upgrade;
  connect_request_ = head.connect;
  request_complete_ = head.body == Http1Parser::BodyKind::kNone && !head.upgrade && !head.connect;
  response_complete_ = false;
  close_after_response_ = false;
  decoder_ = &callbacks_.newStream(*encoder_);
  decoder_->decodeHeaders(std::move(head.headers), request_complete_);
}

void Http1ServerConnection::onBody(Buffer& data, bool end) {
  if (end) request_complete_ = true;
  if (decoder_ != nullptr) decoder_->decodeData(data, end);
}

void Http1ServerConnection::onTrailers(HeaderMapPtr trailers) {
  request_complete_ = true;
  if (decoder_ != nullptr) decoder_->decodeTrailers(std::move(trailers));
}

void Http1ServerConnection::onMessageComplete() {
  if (decoder_ == nullptr) return;  // answered early; the connection is closing
  if (response_complete_) {
    decoder_ = nullptr;
  } else {
    awaiting_response_ = true;
  }
}

void Http1ServerConnection::responseComplete() {
  response_complete_ = true;
  if (upgraded_) {
    wants_close_ = true;  // a tunnel ends with the connection
    return;
  }
  // A response that overtakes its request leaves unread body bytes that
  // would be parsed as the next request: close instead.
  if (close_after_response_ || !request_complete_ || (peer_closed_ && held_.empty())) {
    wants_close_ = true;
  }
  awaiting_response_ = false;
  decoder_ = nullptr;
}

// ---------------------------------------------------------------------------
// Client

struct Http1ClientConnection::Stream {
  StreamDecoder* decoder = nullptr;
  std::unique_ptr<RequestEncoder> encoder;
  BodyWriter writer;
  bool head_request = false;
  bool connect = false;
  bool upgrade = false;
  bool close = false;
  bool started = false;
  bool request_complete = false;
};

class Http1ClientConnection::RequestEncoder : public StreamEncoder {
 public:
  RequestEncoder(Http1ClientConnection& c, Stream& s) : c_(c), s_(s) {}

  void encode1xxHeaders(const HeaderMap&) override {}

  void encodeHeaders(const HeaderMap& headers, bool end_stream) override {
    if (s_.started) return;
    s_.started = true;
    Buffer& out = c_.output_;
    std::string_view method = headers.method();
    if (method.empty()) method = "GET";
    std::string_view authority = headers.authority();
    s_.connect = method == "CONNECT";
    s_.head_request = method == "HEAD";
    s_.upgrade = isUpgradeRequest(headers);
    s_.close = headers.hasToken("connection", "close");
    std::string_view target = s_.connect ? authority : headers.path();
    if (target.empty()) target = "/";

    std::string_view length_value = headers.value(Known::kContentLength);
    uint64_t length = 0;
    bool has_length = !length_value.empty() && parseLength(length_value, length);
    std::string_view framing_field;
    if (has_length) {
      s_.writer.framing = length > 0 ? BodyFraming::kLength : BodyFraming::kNone;
      s_.writer.remaining = length;
    } else if (end_stream || s_.connect || s_.upgrade) {
      // Upgrade and CONNECT bytes flow raw, and only after the peer agrees.
      s_.writer.framing = BodyFraming::kNone;
      if (end_stream && (method == "POST" || method == "PUT" || method == "PATCH")) {
        framing_field = "content-length: 0\r\n";
      }
    } else {
      s_.writer.framing = BodyFraming::kChunked;
      framing_field = "transfer-encoding: chunked\r\n";
    }

    out.add(method);
    out.add(" ");
    out.add(target);
    out.add(" HTTP/1.1\r\n");
    if (!authority.empty() && safeToWrite("host", authority)) {
      out.add("host: ");
      out.add(authority);
      out.add("\r\n");
    }
    writeFields(out, headers, !authority.empty(), !has_length);
    if (!framing_field.empty()) out.add(framing_field);
    out.add("\r\n");
    if (end_stream) s_.request_complete = true;
  }

  void encodeData(Buffer& data, bool end_stream) override {
    if (!s_.started || s_.request_complete) {
      data.clear();
      return;
    }
    if (c_.upgraded_) {
      c_.output_.move(data);
      if (end_stream) c_.wants_close_ = true;
    } else {
      s_.writer.data(c_.output_, data, end_stream);
      if (s_.writer.truncated) c_.wants_close_ = true;
    }
    if (end_stream) s_.request_complete = true;
  }

  void encodeTrailers(const HeaderMap& trailers) override {
    if (!s_.started || s_.request_complete) return;
    s_.writer.trailers(c_.output_, trailers);
    if (s_.writer.truncated) c_.wants_close_ = true;
    s_.request_complete = true;
  }

 private:
  Http1ClientConnection& c_;
  Stream& s_;
};

Http1ClientConnection::Http1ClientConnection(Http1Settings settings)
    : settings_(std::move(settings)), parser_(Http1Parser::Type::kResponse, settings_, *this) {}

Http1ClientConnection::~Http1ClientConnection() = default;

StreamEncoder& Http1ClientConnection::newStream(StreamDecoder& decoder) {
  std::unique_ptr<Stream> s;
  if (spare_) {
    s = std::move(spare_);
    std::unique_ptr<RequestEncoder> encoder = std::move(s->encoder);
    *s = Stream{};
    s->encoder = std::move(encoder);
  } else {
    s = std::make_unique<Stream>();
    s->encoder = std::make_unique<RequestEncoder>(*this, *s);
  }
  s->decoder = &decoder;
  StreamEncoder& e = *s->encoder;
  streams_.push_back(std::move(s));
  return e;
}

Status Http1ClientConnection::dispatch(Buffer& data) {
  if (parser_.hasError()) {
    data.clear();
    return invalidArgumentError(parser_.error().toString());
  }
  while (!data.empty()) {
    if (upgraded_) {
      if (!streams_.empty()) streams_.front()->decoder->decodeData(data, false);
      data.clear();
      break;
    }
    if (uint64_t body = parser_.bodyBytesExpected(); body > 0) {
      parser_.consumeBody(data, static_cast<size_t>(std::min<uint64_t>(body, data.length())));
      continue;
    }
    size_t n = parser_.parse(data.frontSlice());
    data.drain(n);
    if (parser_.hasError()) {
      data.clear();
      resetAll(parser_.error().reason);
      return invalidArgumentError(parser_.error().toString());
    }
  }
  return Status();
}

Status Http1ClientConnection::onEof() {
  wants_close_ = true;
  if (upgraded_) {
    if (!streams_.empty()) {
      Buffer empty;
      std::unique_ptr<Stream> s = std::move(streams_.front());
      streams_.pop_front();
      s->decoder->decodeData(empty, true);
      finished_.push_back(std::move(s));
    }
    return Status();
  }
  if (parser_.hasError()) return invalidArgumentError(parser_.error().toString());
  bool clean = parser_.onEof();
  if (!clean || !streams_.empty()) {
    resetAll("upstream closed before the response completed");
    return unavailableError("upstream closed before the response completed");
  }
  return Status();
}

void Http1ClientConnection::resetAll(std::string_view reason) {
  wants_close_ = true;
  while (!streams_.empty()) {
    std::unique_ptr<Stream> s = std::move(streams_.front());
    streams_.pop_front();
    s->decoder->onStreamReset(reason);
    finished_.push_back(std::move(s));
  }
}

void Http1ClientConnection::onHead(Http1Parser::Head& head) {
  if (streams_.empty()) {
    parser_.fail(502, "response without a request");
    return;
  }
  Stream& s = *streams_.front();
  if (head.status < 200) {
    head.body = Http1Parser::BodyKind::kNone;
    if (head.status == 101) {
      if (!s.upgrade) {
        parser_.fail(502, "101 without an upgrade request");
        return;
      }
      upgraded_ = true;
      s.decoder->decodeHeaders(std::move(head.headers), false);
      return;
    }
    interim_ = true;
    s.decoder->decode1xxHeaders(std::move(head.headers));
    return;
  }
  if (s.head_request) head.body = Http1Parser::BodyKind::kNone;
  const bool tunnel = s.connect && head.status < 300;
  if (tunnel) {
    head.body = Http1Parser::BodyKind::kNone;
    upgraded_ = true;
  }
  if (!head.keep_alive || s.upgrade || s.connect) s.close = true;
  s.decoder->decodeHeaders(std::move(head.headers),
                           head.body == Http1Parser::BodyKind::kNone && !tunnel);
}

void Http1ClientConnection::onBody(Buffer& data, bool end) {
  if (!streams_.empty()) streams_.front()->decoder->decodeData(data, end);
}

void Http1ClientConnection::onTrailers(HeaderMapPtr trailers) {
  if (!streams_.empty()) streams_.front()->decoder->decodeTrailers(std::move(trailers));
}

void Http1ClientConnection::onMessageComplete() {
  if (interim_) {
    interim_ = false;
    return;
  }
  if (upgraded_ || streams_.empty()) return;
  std::unique_ptr<Stream> s = std::move(streams_.front());
  streams_.pop_front();
  // An unfinished request cannot be followed by another on this connection.
  if (s->close || !s->request_complete) wants_close_ = true;
  // The owner may still hold the encoder of an unfinished request.
  if (!s->request_complete) {
    finished_.push_back(std::move(s));
  } else {
    spare_ = std::move(s);
  }
}

}  // namespace remora::http
