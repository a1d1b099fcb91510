#include "network/socket.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace remora::network {

StatusOr<Fd> listenTcp(const SocketAddress& address, const ListenOptions& options) {
  const int family = address.ip.isV4() ? AF_INET : AF_INET6;
  Fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoError("socket for " + address.toString(), errno);
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (options.reuse_port) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (family == AF_INET6) {
    // [::] means IPv6 only here; a user who wants IPv4 too configures 0.0.0.0.
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (options.transparent && setsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0) {
    return errnoError("cannot set IP_TRANSPARENT on " + address.toString(), errno);
  }
  if (options.freebind) setsockopt(fd.get(), SOL_IP, IP_FREEBIND, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = address.toSockaddr(&ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return errnoError("cannot bind " + address.toString(), errno);
  }
  if (::listen(fd.get(), options.backlog) < 0) {
    return errnoError("cannot listen on " + address.toString(), errno);
  }
  return fd;
}

StatusOr<Fd> acceptTcp(int listen_fd, SocketAddress* peer) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int fd =
      ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
      return Fd();
    }
    return errnoError("accept", errno);
  }
  if (peer != nullptr) *peer = SocketAddress::fromSockaddr(ss);
  return Fd(fd);
}

StatusOr<Fd> connectTcp(const SocketAddress& address, bool* in_progress) {
  const int family = address.ip.isV4() ? AF_INET : AF_INET6;
  Fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoError("socket", errno);
  setNoDelay(fd.get());
  sockaddr_storage ss;
  socklen_t len = address.toSockaddr(&ss);
  *in_progress = false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    if (errno != EINPROGRESS) return errnoError("connect " + address.toString(), errno);
    *in_progress = true;
  }
  return fd;
}

Status connectResult(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errnoError("SO_ERROR", errno);
  if (err != 0) return errnoError("connect", err);
  return Status::okStatus();
}

StatusOr<SocketAddress> localAddress(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return errnoError("getsockname", errno);
  }
  return SocketAddress::fromSockaddr(ss);
}

StatusOr<SocketAddress> peerAddress(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return errnoError("getpeername", errno);
  }
  return SocketAddress::fromSockaddr(ss);
}

StatusOr<SocketAddress> originalDestination(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0) {
    return SocketAddress::fromSockaddr(ss);
  }
  len = sizeof(ss);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) == 0) {
    return SocketAddress::fromSockaddr(ss);
  }
  return errnoError("SO_ORIGINAL_DST", errno);
}

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace remora::network
