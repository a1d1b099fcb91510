// The HTTP/1.1 codecs: Http1ServerConnection reads requests and writes
// responses (downstream side, under the connection manager);
// Http1ClientConnection writes requests and reads responses (upstream side,
// under the connection pools). Both implement codec.h and do no I/O.
//
// Ordering: HTTP/1 answers pipelined requests in order, so the server codec
// hands out one request at a time. Bytes of the next request that arrive
// before the current response is complete are held (bufferedInputBytes());
// once the response completes (or a 101 switches to a tunnel), the owner
// calls resumeDispatch() outside any encoder call to continue.
//
// Thread: the worker owning the connection.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "http/codec.h"
#include "http/http1_parser.h"

namespace remora::http {

// A request asks to switch protocols: "Connection: upgrade" and an Upgrade field.
bool isUpgradeRequest(const HeaderMap& headers);

// The framing the encoder chose for a message body.
enum class BodyFraming : uint8_t { kNone, kLength, kChunked, kUntilClose, kTunnel };

class Http1ServerConnection : public ServerConnection, private Http1Parser::Callbacks {
 public:
  explicit Http1ServerConnection(ServerConnectionCallbacks& callbacks,
                                 Http1Settings settings = Http1Settings());
  ~Http1ServerConnection() override;

  Status dispatch(Buffer& data) override;
  using Connection::dispatch;
  Status onEof() override;
  Buffer& output() override { return output_; }
  const Buffer& output() const { return output_; }
  bool wantsClose() const override { return wants_close_ || parser_.hasError(); }
  const CodecError* error() const override {
    return parser_.hasError() ? &parser_.error() : nullptr;
  }
  Protocol protocol() const override { return version_; }

  // Parses input held while a response was in progress.
  Status resumeDispatch();
  size_t bufferedInputBytes() const { return held_.length(); }
  // After a 101 (or a 2xx to CONNECT) both directions are raw bytes.
  bool upgraded() const { return upgraded_; }
  // A request is decoded and its response is not complete yet.
  bool streamActive() const { return decoder_ != nullptr; }
  // After a protocol error in a request head (no decoder ever saw the
  // request): the encoder for the error response, or nullptr when a
  // response is already under way. The connection closes after it.
  StreamEncoder* errorResponseEncoder();

 private:
  class ResponseEncoder;
  friend class ResponseEncoder;

  void onHead(Http1Parser::Head& head) override;
  void onBody(Buffer& data, bool end) override;
  void onTrailers(HeaderMapPtr trailers) override;
  void onMessageComplete() override;

  Status process(Buffer& data);
  Status errorStatus() const;
  void responseComplete();

  ServerConnectionCallbacks& callbacks_;
  Http1Settings settings_;
  Http1Parser parser_;
  std::unique_ptr<ResponseEncoder> encoder_;
  Buffer output_;
  Buffer held_;

  StreamDecoder* decoder_ = nullptr;
  Protocol version_ = Protocol::kHttp11;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool upgrade_request_ = false;
  bool connect_request_ = false;
  bool request_complete_ = false;
  bool response_complete_ = false;
  bool awaiting_response_ = false;  // request parsed, response pending
  bool upgraded_ = false;
  bool peer_closed_ = false;
  bool close_after_response_ = false;
  bool wants_close_ = false;
};

class Http1ClientConnection : public ClientConnection, private Http1Parser::Callbacks {
 public:
  explicit Http1ClientConnection(Http1Settings settings = Http1Settings());
  ~Http1ClientConnection() override;

  Status dispatch(Buffer& data) override;
  using Connection::dispatch;
  Status onEof() override;
  Buffer& output() override { return output_; }
  const Buffer& output() const { return output_; }
  bool wantsClose() const override { return wants_close_ || parser_.hasError(); }
  const CodecError* error() const override {
    return parser_.hasError() ? &parser_.error() : nullptr;
  }
  Protocol protocol() const override { return Protocol::kHttp11; }
  StreamEncoder& newStream(StreamDecoder& decoder) override;
  size_t activeStreams() const override { return streams_.size(); }
  bool upgraded() const { return upgraded_; }

 private:
  class RequestEncoder;
  friend class RequestEncoder;
  struct Stream;

  void onHead(Http1Parser::Head& head) override;
  void onBody(Buffer& data, bool end) override;
  void onTrailers(HeaderMapPtr trailers) override;
  void onMessageComplete() override;
  void resetAll(std::string_view reason);

  Http1Settings settings_;
  Http1Parser parser_;
  Buffer output_;
  std::deque<std::unique_ptr<Stream>> streams_;  // oldest first
  // Streams whose encoder may still be referenced by the owner.
  std::vector<std::unique_ptr<Stream>> finished_;
  // A completed stream kept for the next request: keep-alive connections
  // then allocate nothing per exchange for it.
  std::unique_ptr<Stream> spare_;
  bool interim_ = false;  // the message being read is a 1xx
  bool upgraded_ = false;
  bool wants_close_ = false;
};

}  // namespace remora::http
