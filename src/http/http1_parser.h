// Http1Parser: the HTTP/1.x message reader under both HTTP/1 codecs. It
// reads one message at a time (request or response), validates it strictly
// per RFC 9112 and reports it through a few callbacks per message, never per
// byte. The head is scanned in place: when a head arrives whole in one read,
// fields are validated as string_views into the input and copied once, into
// the HeaderMap, only after the whole head is known to be good, so a bad
// request never produces headers at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/buffer.h"
#include "http/codec.h"
#include "http/header_map.h"

namespace remora::http {

struct Http1Settings {
  size_t max_request_line_bytes = 8 * 1024;  // longer: 414
  size_t max_header_bytes = 60 * 1024;       // whole head; larger: 431
  size_t max_header_count = 100;             // more fields: 431
  // :scheme given to origin-form requests; a TLS listener passes "https".
  std::string default_scheme = "http";
};

class Http1Parser {
 public:
  enum class Type : uint8_t { kRequest, kResponse };
  enum class BodyKind : uint8_t { kNone, kLength, kChunked, kUntilClose };

  struct Head {
    HeaderMapPtr headers;
    Protocol version = Protocol::kHttp11;
    int status = 0;  // responses
    bool keep_alive = true;
    bool upgrade = false;  // "Connection: upgrade" with an Upgrade field, and no body
    bool connect = false;  // a CONNECT request
    bool expect_continue = false;
    BodyKind body = BodyKind::kNone;
    uint64_t content_length = 0;
  };

  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // A valid head. The callee may set head.body to kNone (a response to
    // HEAD or CONNECT, an interim response) or call fail().
    virtual void onHead(Head& head) = 0;
    // Body bytes; end is true on the last call of the message (unless
    // trailers follow).
    virtual void onBody(Buffer& data, bool end) = 0;
    virtual void onTrailers(HeaderMapPtr trailers) = 0;
    virtual void onMessageComplete() = 0;
  };

  Http1Parser(Type type, const Http1Settings& settings, Callbacks& callbacks);

  // Parses from `data`, returning how many bytes were consumed. Stops after
  // a complete message (so the owner may pause between messages), on an
  // error, or when `data` is used up.
  size_t parse(std::string_view data);
  // How many of the next bytes are body bytes with no framing among them:
  // the rest of a Content-Length body or of the current chunk, or everything
  // for a body read until close. 0 when the next bytes are framing. The owner
  // hands such bytes over with consumeBody() rather than parse(), so that
  // they are moved (shared), not copied.
  uint64_t bodyBytesExpected() const {
    switch (state_) {
      case State::kBodyLength:
      case State::kChunkData:
        return remaining_;
      case State::kBodyUntilClose:
        return UINT64_MAX;
      default:
        return 0;
    }
  }
  // Moves the first `size` bytes of `data` (at most bodyBytesExpected()) into
  // the message body and reports them through onBody.
  void consumeBody(Buffer& data, size_t size);
  // The peer closed. Completes a close-delimited body; returns false if a
  // message was left incomplete.
  bool onEof();

  // Records an error; parsing stops for good. For responses every status
  // becomes 502 (it is the upstream that misbehaved).
  void fail(int status, std::string_view reason, std::string_view field, uint64_t offset);
  // For errors found by callbacks: reported at the start of the message's head.
  void fail(int status, std::string_view reason) { fail(status, reason, {}, head_offset_); }
  bool hasError() const { return state_ == State::kError; }
  const CodecError& error() const { return error_; }

  // Nothing of the next message has been seen yet.
  bool betweenMessages() const {
    return state_ == State::kHead && head_buf_.empty() && scan_.pos == 0;
  }
  // Bytes consumed since the connection began.
  uint64_t offset() const { return offset_; }

 private:
  enum class State : uint8_t {
    kHead,
    kBodyLength,
    kChunkSize,
    kChunkSizeWs,
    kChunkExt,
    kChunkSizeLf,
    kChunkData,
    kChunkDataCr,
    kChunkDataLf,
    kTrailers,
    kBodyUntilClose,
    kError,
  };
  struct Scan {
    size_t pos = 0;         // next byte to scan
    size_t line_start = 0;  // start of the current line
    size_t first_line = 0;  // start of the start line (after skipped empty lines)
    size_t lines = 0;       // lines seen, start line included
  };
  struct Field {
    std::string_view name;
    std::string_view value;
  };
  // Framing facts gathered from the fields of one head.
  struct Framing {
    bool has_cl = false;
    uint64_t cl = 0;
    bool has_te = false;
    int hosts = 0;
    std::string_view host;
    bool conn_close = false;
    bool conn_keep_alive = false;
    bool conn_upgrade = false;
    bool has_upgrade = false;
    bool expect_continue = false;
  };

  size_t consumeHead(std::string_view in, bool trailers);
  // 1: complete, `end` is one past the final CRLF; 0: need more; -1: error.
  int scanHead(std::string_view buf, bool trailers, size_t& end);
  void processHead(std::string_view block, uint64_t base);
  void processTrailers(std::string_view block, uint64_t base);
  bool parseFields(std::string_view block, uint64_t base, bool trailers);
  bool parseTransferEncoding(std::string_view value, uint64_t base);
  bool finishRequestHead(std::string_view line, uint64_t base, Head& head);
  bool finishResponseHead(std::string_view line, uint64_t base, Head& head);
  size_t parseChunked(std::string_view in);
  void finishMessage();
  void flushBody(bool end);
  int failStatus(int request_status) const;

  const Type type_;
  const Http1Settings& settings_;
  Callbacks& callbacks_;
  State state_ = State::kHead;
  uint64_t offset_ = 0;       // of the first byte of the current parse() input
  uint64_t head_offset_ = 0;  // of the current message's start line

  std::string head_buf_;  // a head split across reads
  uint64_t head_buf_base_ = 0;
  Scan scan_;
  std::vector<Field> fields_;  // reused between messages
  Framing framing_;
  bool te_last_chunked_ = false;      // the latest coding seen is "chunked"
  bool te_chunked_not_last_ = false;  // "chunked" seen before another coding
  bool te_other_ = false;             // a coding other than chunked seen
  bool message_complete_ = false;

  Buffer body_;
  uint64_t remaining_ = 0;  // of a Content-Length body or of the current chunk
  uint32_t chunk_digits_ = 0;
  uint32_t chunk_ext_bytes_ = 0;
  CodecError error_;
};

}  // namespace remora::http
