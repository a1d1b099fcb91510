// A real HTTP/1.1 backend and a blocking HTTP/1.1 client for integration
// tests, both deliberately independent of src/http so that a bug in our codec
// cannot hide itself in the test. The backend serves each connection on its
// own thread; its behaviour is chosen by the request path:
//
//   /echo              the request body back (chunked if the request was)
//   /headers           the request's header lines as the body
//   /big/<n>           n bytes of a deterministic pattern, chunked
//   /slow/<ms>         answers after ms milliseconds
//   /die               headers announcing 1000 bytes, 10 of them, then close
//   /close             closes without answering
//   /rst               resets the connection (RST) without answering
//   /ws                101 Switching Protocols, then echoes raw bytes
//   anything else      200 "<name> <method> <path>\n"
//
// Every response carries "x-backend: <name>".
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "network/address.h"

namespace remora::test {

class HttpBackend {
 public:
  enum class Mode {
    kNormal,
    // Resets the connection when a second request arrives on it, without
    // answering: a kept-alive connection the server closed meanwhile.
    kResetSecondRequest,
  };

  explicit HttpBackend(std::string name, Mode mode = Mode::kNormal);
  ~HttpBackend();
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  network::SocketAddress address() const { return address_; }
  const std::string& name() const { return name_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // Request lines ("GET /a HTTP/1.1") in arrival order.
  std::vector<std::string> requestLines() const;

 private:
  void serve(int fd);

  std::string name_;
  Mode mode_;
  int listen_fd_ = -1;
  network::SocketAddress address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  mutable std::mutex lock_;
  std::vector<std::thread> workers_;
  std::vector<int> fds_;
  std::vector<std::string> lines_;
};

struct HttpResponse {
  int status = 0;  // 0: no (complete) response
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool complete = false;  // the body arrived in full (by its framing)
  // The first value of `name` (lower-case), or "".
  std::string header(const std::string& name) const;
  bool has(const std::string& name) const;
};

// One client connection; requests go out one at a time (or raw, pipelined).
class HttpClient {
 public:
  explicit HttpClient(const network::SocketAddress& to);
  ~HttpClient();
  bool connected() const { return fd_ >= 0; }

  // Sends a request and reads its response. `headers` are sent as given
  // (include Host yourself unless `host` is non-empty).
  HttpResponse request(const std::string& method, const std::string& path, const std::string& host,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = "");
  bool sendRaw(const std::string& bytes);
  // Reads one response; `head_request` for responses without a body.
  HttpResponse readResponse(bool head_request = false);
  // True when the server closed the connection (reads EOF) within a second.
  bool closedByPeer();
  int fd() const { return fd_; }

 private:
  bool fill();  // reads more into buf_; false on EOF/error

  int fd_ = -1;
  std::string buf_;
};

// The chunked encoding of `body` in pieces of `chunk` bytes.
std::string chunked(const std::string& body, size_t chunk);
// The deterministic pattern of /big/<n>.
std::string pattern(size_t n);

}  // namespace remora::test
