// The codec interface: what the connection manager (server side) and the
// upstream connection pools (client side) see of an HTTP connection, whatever
// the protocol. A codec does no I/O: the owner feeds it the bytes read from
// the socket (dispatch) and writes out what it leaves in output().
//
// One HTTP exchange is a stream. Decoded messages arrive on a StreamDecoder
// the owner supplies; the owner sends the other direction with the
// StreamEncoder the codec supplies. HTTP/1.1 has one stream at a time per
// direction; HTTP/2 (nghttp2) implements the same classes with many.
//
// Thread: a codec belongs to the worker that owns its connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/buffer.h"
#include "http/header_map.h"

namespace remora::http {

enum class Protocol { kHttp10, kHttp11, kHttp2 };

// A protocol violation found in received bytes. `status` is what a server
// answers (400, 414, 431, 501, 505) or, for a response read from upstream,
// 502. `offset` counts bytes from the start of the connection.
struct CodecError {
  int status = 0;
  std::string reason;  // short, e.g. "content-length with transfer-encoding"
  std::string field;   // the header or element concerned, if any
  uint64_t offset = 0;
  std::string toString() const;
};

// Receives one decoded message. The HeaderMap is handed over. decodeData's
// buffer may be drained or moved from; what is left is discarded. A message
// ends with end_stream on decodeHeaders or decodeData, or with decodeTrailers.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Interim responses (100 Continue, 103...), client side only.
  virtual void decode1xxHeaders(HeaderMapPtr headers) {}
  virtual void decodeHeaders(HeaderMapPtr headers, bool end_stream) = 0;
  virtual void decodeData(Buffer& data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMapPtr trailers) = 0;
  // The message will not complete: the peer closed mid-message or sent a
  // protocol error after its headers were delivered.
  virtual void onStreamReset(std::string_view reason) {}
};

// Sends one message. encodeData drains `data`. The encoder frames the body
// itself (content-length, chunked, close-delimited), so callers give it
// neither transfer-encoding nor chunk framing.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  // An interim response such as 100 Continue (server side).
  virtual void encode1xxHeaders(const HeaderMap& headers) = 0;
  virtual void encodeHeaders(const HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Consumes bytes read from the peer, calling decoders as messages appear.
  // `data` is drained of what was consumed (everything, unless the codec
  // stopped on an error). A non-OK status means a protocol error: see
  // error(); the owner answers (server: error()->status, if no response
  // was started) and closes after flushing output().
  virtual Status dispatch(Buffer& data) = 0;
  Status dispatch(std::string_view data) {
    Buffer b(data);
    return dispatch(b);
  }
  // The peer closed its sending side. Completes a message whose end is the
  // close; otherwise resets any stream in progress.
  virtual Status onEof() = 0;
  // Bytes to write to the socket, in order. The owner drains what it wrote.
  virtual Buffer& output() = 0;
  // True once the connection must be closed after output() is flushed
  // (Connection: close, HTTP/1.0, close-delimited body, protocol error).
  // A client connection with wantsClose() must not be reused.
  virtual bool wantsClose() const = 0;
  virtual const CodecError* error() const = 0;
  virtual Protocol protocol() const = 0;
};

class ServerConnectionCallbacks {
 public:
  virtual ~ServerConnectionCallbacks() = default;
  // A request has started; returns where to decode it. `encoder` sends the
  // response and stays valid until that response is complete.
  virtual StreamDecoder& newStream(StreamEncoder& encoder) = 0;
};

class ServerConnection : public Connection {};

class ClientConnection : public Connection {
 public:
  // Starts a request; its response goes to `decoder`, which must live until
  // the response completes or the stream is reset.
  virtual StreamEncoder& newStream(StreamDecoder& decoder) = 0;
  // Requests sent whose responses are not complete.
  virtual size_t activeStreams() const = 0;
};

}  // namespace remora::http
