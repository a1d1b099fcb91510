// Thin, error-checked wrappers over the socket calls the proxy makes. All
// sockets are non-blocking and close-on-exec. Ownership is an `Fd`.
#pragma once

#include <unistd.h>

#include <utility>

#include "common/status.h"
#include "network/address.h"

namespace remora::network {

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct ListenOptions {
  bool reuse_port = true;  // one socket per worker, the kernel spreads connections
  int backlog = 1024;
  bool transparent = false;
  bool freebind = false;
};

// socket + SO_REUSEADDR (+ SO_REUSEPORT) + bind + listen. The error names the
// address ("cannot bind 0.0.0.0:80: Permission denied").
StatusOr<Fd> listenTcp(const SocketAddress& address, const ListenOptions& options);

// accept4; returns an invalid Fd when there is nothing to accept (EAGAIN).
StatusOr<Fd> acceptTcp(int listen_fd, SocketAddress* peer);

// Starts a non-blocking connect. `in_progress` is set when the connection is
// not yet established (wait for writability, then call connectResult).
StatusOr<Fd> connectTcp(const SocketAddress& address, bool* in_progress);
// SO_ERROR of a socket whose non-blocking connect finished.
Status connectResult(int fd);

StatusOr<SocketAddress> localAddress(int fd);
StatusOr<SocketAddress> peerAddress(int fd);

// The destination the client asked for before an iptables REDIRECT/DNAT
// rewrote it (SO_ORIGINAL_DST, or IP6T_SO_ORIGINAL_DST for IPv6). Fails when
// the connection was not redirected; callers then use localAddress.
StatusOr<SocketAddress> originalDestination(int fd);

void setNoDelay(int fd);

}  // namespace remora::network
