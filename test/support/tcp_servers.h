// Real TCP backends for integration tests, each on its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>
#include <mutex>

#include "network/address.h"

namespace remora::test {

// Echoes every byte back. When the client half-closes, it sends `trailer`
// (if any) and then closes its side too: a test of half-close in both
// directions. Counts accepted connections.
class EchoServer {
 public:
  explicit EchoServer(const std::string& bind = "127.0.0.1:0", std::string trailer = "");
  ~EchoServer();
  network::SocketAddress address() const { return address_; }
  int connections() const { return connections_.load(); }

 private:
  void serve(int fd);
  int listen_fd_ = -1;
  network::SocketAddress address_;
  std::string trailer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex lock_;
  std::vector<std::thread> workers_;
  std::vector<int> fds_;
};

// On each connection, writes `total` bytes as fast as the peer takes them,
// then closes. bytesSent() shows how far it got (a slow reader stalls it).
class FirehoseServer {
 public:
  explicit FirehoseServer(uint64_t total);
  ~FirehoseServer();
  network::SocketAddress address() const { return address_; }
  uint64_t bytesSent() const { return sent_.load(); }

 private:
  int listen_fd_ = -1;
  network::SocketAddress address_;
  uint64_t total_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

// Blocking client helpers.
int connectBlocking(const network::SocketAddress& to);
bool writeAll(int fd, const void* data, size_t len);
// Reads until EOF (or error); returns what was read.
std::string readToEof(int fd);

}  // namespace remora::test
