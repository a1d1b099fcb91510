// remora-app: the lab's demo service. It answers every HTTP request with one
// line of JSON naming its pod, version, port, path and the peer it saw, and
// can call other services on each request and include their answers, which
// is enough to build the seed's productpage -> reviews -> ratings chain.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/blocking_http.h"
#include "common/status.h"
#include "lab/http_client.h"

namespace remora::lab {

struct DemoAppOptions {
  std::string name;     // pod name ($POD_NAME by default)
  std::string ns;       // namespace ($POD_NAMESPACE)
  std::string version;  // version label ($VERSION)
  std::string address = "0.0.0.0";
  std::vector<uint16_t> ports;     // 0 picks a free port (tests)
  std::vector<std::string> calls;  // http:// URLs called on every request
  std::chrono::milliseconds call_timeout{5000};
  bool quiet = false;  // no request log on stdout
};

struct DemoAppArgs {
  DemoAppOptions options;
  bool show_help = false;
  std::string help_text;
};

// Parses remora-app's arguments (after the program name). Errors name the flag.
StatusOr<DemoAppArgs> parseDemoAppArgs(const std::vector<std::string>& args);

// Headers copied from a request to the calls it makes, so a trace follows
// the chain (the headers Istio asks applications to propagate).
bool isPropagatedHeader(const std::string& lowercase_name);

// JSON string literal for `s` (quotes included).
std::string jsonString(const std::string& s);

class DemoApp {
 public:
  explicit DemoApp(DemoAppOptions options);
  ~DemoApp();
  DemoApp(const DemoApp&) = delete;
  DemoApp& operator=(const DemoApp&) = delete;

  // Binds every port and starts serving; fails if a port cannot be bound.
  Status start();
  // The bound ports, in the order given.
  std::vector<uint16_t> ports() const { return bound_ports_; }
  // Stops accepting and waits for the connections in flight.
  void stop();
  int64_t requests() const { return requests_.load(); }

 private:
  struct Request {
    std::string method;
    std::string path;
    HttpHeaders propagated;
  };

  BlockingHttpResponse serve(const BlockingHttpRequest& request, uint16_t port);
  // The response to one request; sets `status`.
  std::string answer(const Request& request, uint16_t port, const std::string& peer, int* status);

  DemoAppOptions options_;
  std::vector<std::unique_ptr<BlockingHttpServer>> servers_;  // one per port
  std::vector<uint16_t> bound_ports_;
  std::atomic<int64_t> requests_{0};
  std::mutex log_lock_;
};

// The whole program; returns the exit code. Serves until SIGTERM or SIGINT.
int runDemoApp(int argc, char** argv);

}  // namespace remora::lab
