// Minimal blocking HTTP/1.1, one request per connection (Connection: close),
// for the small servers and clients around Remora: remora-app, the lab's
// health checks, pilot's debug and config API, remoractl's calls to them.
// Not the proxy's codec (src/http): here simplicity beats speed, and none of
// this is on a data path. Blocking sockets, a thread per connection on the
// server side.
//
// Threads: BlockingHttpServer's handler runs on the connection's own thread
// and may be called concurrently; start()/stop() from the owner's thread.
// The free functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace remora {

using HttpHeaderList = std::vector<std::pair<std::string, std::string>>;

struct BlockingHttpRequest {
  std::string method;
  std::string target;      // as sent: "/debug/syncz?proxyID=a.default"
  std::string path;        // the target before '?'
  std::string query;       // after '?', undecoded
  HttpHeaderList headers;  // names lower-cased
  std::string body;
  std::string peer;  // "127.0.0.1:40112"
  uint16_t local_port = 0;

  // The first value of a header (lower-case name), or "".
  std::string header(std::string_view name) const;
  // A query parameter, percent-decoded ('+' is a space), or "".
  std::string queryParam(std::string_view name) const;
};

struct BlockingHttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  HttpHeaderList headers;  // extra headers
};

// Status line, Content-Type, Content-Length, the extra headers,
// Connection: close, then the body.
std::string serializeHttpResponse(const BlockingHttpResponse& response);
// Writes everything (retrying short writes); false when the peer is gone.
bool sendAllBytes(int fd, std::string_view data);

// Reads one request: the head (at most max_head bytes) and a body of
// Content-Length bytes (at most max_body). Errors: kUnavailable when the
// connection closed or timed out before a complete head (a bare connect, as
// health checks do); kInvalidArgument for a malformed request or one too
// large, with the reason.
StatusOr<BlockingHttpRequest> readHttpRequest(int fd, size_t max_head, size_t max_body);

class BlockingHttpServer {
 public:
  using Handler = std::function<BlockingHttpResponse(const BlockingHttpRequest&)>;
  struct Options {
    size_t max_head = 64 * 1024;
    size_t max_body = 8 * 1024 * 1024;
    std::chrono::seconds read_timeout{10};
  };

  explicit BlockingHttpServer(Handler handler);
  BlockingHttpServer(Handler handler, Options options);
  ~BlockingHttpServer();
  BlockingHttpServer(const BlockingHttpServer&) = delete;
  BlockingHttpServer& operator=(const BlockingHttpServer&) = delete;

  // Listens on ip:port (0 picks a free port); errors read
  // "listen on <ip>:<port>: <reason>".
  Status start(const std::string& ip, uint16_t port);
  uint16_t port() const { return port_; }
  // Stops accepting and waits for the connections being served.
  void stop();

 private:
  void acceptLoop();
  void serve(int fd, std::string peer);

  Handler handler_;
  Options options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};
};

// ---- client ----

struct HttpReply {
  int status = 0;
  HttpHeaderList headers;  // names lower-cased
  std::string body;
};

// A TCP connection to ip:port within `timeout`; the fd is non-blocking. Errors
// read "connect <ip>:<port>: <reason>".
StatusOr<int> connectTcp(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout);

// Sends one request (Content-Length when there is a body, Connection: close)
// and reads the reply to the end (Content-Length, chunked, or EOF). Errors
// name the step that failed (connect, send, timeout, bad response).
StatusOr<HttpReply> blockingHttpRequest(const std::string& ip, uint16_t port,
                                        const std::string& method, const std::string& host_header,
                                        const std::string& target, const HttpHeaderList& headers,
                                        const std::string& body, std::chrono::milliseconds timeout);

// Parses a whole reply as read until the server closed.
StatusOr<HttpReply> parseHttpReply(const std::string& raw);

}  // namespace remora
