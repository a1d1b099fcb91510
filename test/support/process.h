// Runs Remora binaries as child processes for integration tests, and talks to
// their admin endpoint.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "network/address.h"

namespace remora::test {

// Path of a built binary ("remora-proxy") from REMORA_BUILD_DIR.
std::string binaryPath(const std::string& name);
// A free TCP port on 127.0.0.1 (bound then released; fine for tests).
uint16_t freePort();
// Writes `text` to a new file in a per-test temp dir; returns its path.
std::string writeTempFile(const std::string& name, const std::string& text);

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with its output captured to a file.
  bool start(const std::vector<std::string>& argv);
  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `timeout` for exit; returns the exit status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string output() const;  // stdout + stderr so far

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

// Runs a command to completion; returns exit status and sets `output`.
int runCommand(const std::vector<std::string>& argv, std::string* output);

struct HttpResult {
  int status = 0;  // 0: could not connect
  std::string body;
};
// A tiny HTTP/1.1 client for admin endpoints.
HttpResult httpRequest(const network::SocketAddress& to, const std::string& method,
                       const std::string& path);
// Polls GET /ready until 200 or the timeout.
bool waitReady(const network::SocketAddress& admin, std::chrono::milliseconds timeout);
// A stat's value from /stats, or -1.
int64_t statValue(const network::SocketAddress& admin, const std::string& name);
// Resident set size of a process in KiB.
long rssKb(pid_t pid);

}  // namespace remora::test
