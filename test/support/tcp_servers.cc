#include "support/tcp_servers.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace remora::test {

namespace {

int listenOn(const std::string& bind_address, network::SocketAddress* bound) {
  auto addr = *network::SocketAddress::parse(bind_address);
  int fd = socket(addr.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = addr.toSockaddr(&ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 || listen(fd, 128) < 0) {
    close(fd);
    return -1;
  }
  len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound = network::SocketAddress::fromSockaddr(ss);
  return fd;
}

// accept() that gives up when `stop` is set, polling so the destructor can end it.
int acceptUntil(int listen_fd, const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 50) == 1) return accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
  return -1;
}

}  // namespace

EchoServer::EchoServer(const std::string& bind, std::string trailer)
    : trailer_(std::move(trailer)) {
  listen_fd_ = listenOn(bind, &address_);
  acceptor_ = std::thread([this] {
    while (!stop_) {
      int fd = acceptUntil(listen_fd_, stop_);
      if (fd < 0) continue;
      connections_++;
      std::lock_guard<std::mutex> l(lock_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  });
}

void EchoServer::serve(int fd) {
  std::vector<char> buf(256 * 1024);
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) != 1) continue;
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    if (!writeAll(fd, buf.data(), static_cast<size_t>(n))) break;
  }
  if (!trailer_.empty()) writeAll(fd, trailer_.data(), trailer_.size());
  shutdown(fd, SHUT_WR);
}

EchoServer::~EchoServer() {
  stop_ = true;
  acceptor_.join();
  for (auto& t : workers_) t.join();
  for (int fd : fds_) close(fd);
  close(listen_fd_);
}

FirehoseServer::FirehoseServer(uint64_t total) : total_(total) {
  listen_fd_ = listenOn("127.0.0.1:0", &address_);
  thread_ = std::thread([this] {
    int fd = acceptUntil(listen_fd_, stop_);
    if (fd < 0) return;
    std::vector<char> chunk(64 * 1024, 'x');
    while (!stop_ && sent_ < total_) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 50) != 1) continue;
      ssize_t n = send(fd, chunk.data(), std::min<uint64_t>(chunk.size(), total_ - sent_),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) break;
      sent_ += static_cast<uint64_t>(n);
    }
    close(fd);
  });
}

FirehoseServer::~FirehoseServer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

int connectBlocking(const network::SocketAddress& to) {
  int fd = socket(to.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss;
  socklen_t len = to.toSockaddr(&ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    close(fd);
    return -1;
  }
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

bool writeAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd pf{fd, POLLOUT, 0};
      poll(&pf, 1, 100);
      continue;
    }
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

std::string readToEof(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace remora::test
