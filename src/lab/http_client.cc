#include "lab/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace remora::lab {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Non-blocking connect bounded by the deadline; returns a connected fd.
StatusOr<int> connectBefore(const network::SocketAddress& to, Clock::time_point deadline) {
  int fd = socket(to.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errnoError("socket", errno);
  sockaddr_storage ss;
  socklen_t len = to.toSockaddr(&ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return errnoError("connect " + to.toString(), err);
  }
  pollfd p{fd, POLLOUT, 0};
  int r = poll(&p, 1, remainingMs(deadline));
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (r == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (r != 1 || err != 0) {
    close(fd);
    if (r != 1)
      return Status(StatusCode::kDeadlineExceeded, "connect " + to.toString() + ": timed out");
    return errnoError("connect " + to.toString(), err);
  }
  return fd;
}

Status sendAll(int fd, const std::string& data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, remainingMs(deadline)) != 1) {
        return Status(StatusCode::kDeadlineExceeded, "send: timed out");
      }
      continue;
    }
    return errnoError("send", errno);
  }
  return Status::okStatus();
}

StatusOr<std::string> readToEnd(int fd, Clock::time_point deadline) {
  std::string out;
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, remainingMs(deadline));
    if (r == 0) return Status(StatusCode::kDeadlineExceeded, "reading the response: timed out");
    if (r < 0 && errno == EINTR) continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      // A reset after a complete response is still a response.
      if (!out.empty()) return out;
      if (errno == ECONNRESET) return unavailableError("connection reset without a response");
      return errnoError("read", errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

StatusOr<std::string> decodeChunked(const std::string& body) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return unavailableError("truncated chunked body");
    size_t size = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) return out;
    if (pos + size > body.size()) return unavailableError("truncated chunked body");
    out.append(body, pos, size);
    pos += size + 2;
  }
}

StatusOr<HttpResponse> parseResponse(const std::string& raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12 || head_end == std::string::npos) {
    if (raw.empty()) return unavailableError("connection closed without a response");
    return unavailableError("not an HTTP/1.x response: \"" + raw.substr(0, 40) + "\"");
  }
  HttpResponse resp;
  resp.status = std::atoi(raw.c_str() + 9);
  std::string body = raw.substr(head_end + 4);
  bool chunked = false;
  long length = -1;
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    size_t eol = raw.find("\r\n", line);
    std::string h = raw.substr(line, eol - line);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = lower(h.substr(0, colon));
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      if (name == "content-length") length = std::atol(value.c_str());
      if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) {
        chunked = true;
      }
    }
    line = eol + 2;
  }
  if (chunked) {
    REMORA_ASSIGN_OR_RETURN(resp.body, decodeChunked(body));
  } else if (length >= 0) {
    if (body.size() < static_cast<size_t>(length)) return unavailableError("truncated body");
    resp.body = body.substr(0, static_cast<size_t>(length));
  } else {
    resp.body = body;
  }
  return resp;
}

}  // namespace

StatusOr<HttpUrl> parseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return invalidArgumentError("\"" + url + "\" is not an http:// URL");
  }
  HttpUrl out;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.path = rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    long p = port.empty() || port.size() > 5 ||
                     !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c); })
                 ? 0
                 : std::atol(port.c_str());
    if (p < 1 || p > 65535)
      return invalidArgumentError("\"" + url + "\": bad port \"" + port + "\"");
    out.port = static_cast<uint16_t>(p);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return invalidArgumentError("\"" + url + "\" has no host");
  out.host = authority;
  return out;
}

StatusOr<network::IpAddress> resolveHost(const std::string& host) {
  auto literal = network::IpAddress::parse(host);
  if (literal.ok()) return literal;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return notFoundError("resolve " + host + ": " + gai_strerror(rc));
  network::IpAddress ip;
  if (res->ai_family == AF_INET) {
    ip = network::IpAddress::fromV4(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr);
  } else {
    ip = network::IpAddress::fromV6(reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr);
  }
  freeaddrinfo(res);
  return ip;
}

StatusOr<HttpResponse> httpGet(const network::SocketAddress& to, const std::string& host_header,
                               const std::string& path, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  REMORA_ASSIGN_OR_RETURN(int fd, connectBefore(to, deadline));
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host_header +
                    "\r\nUser-Agent: remora-lab\r\nAccept: */*\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers)
    req += name + ": " + value + "\r\n";
  req += "\r\n";
  Status sent = sendAll(fd, req, deadline);
  auto raw = sent.ok() ? readToEnd(fd, deadline) : StatusOr<std::string>(sent);
  close(fd);
  if (!raw.ok()) return raw.status();
  return parseResponse(*raw);
}

StatusOr<HttpResponse> httpGet(const HttpUrl& url, const HttpHeaders& headers,
                               std::chrono::milliseconds timeout) {
  REMORA_ASSIGN_OR_RETURN(network::IpAddress ip, resolveHost(url.host));
  std::string host = url.host + (url.port == 80 ? "" : ":" + std::to_string(url.port));
  return httpGet(network::SocketAddress{ip, url.port}, host, url.path, headers, timeout);
}

bool canConnect(const network::SocketAddress& to, std::chrono::milliseconds timeout) {
  auto fd = connectBefore(to, Clock::now() + timeout);
  if (!fd.ok()) return false;
  close(*fd);
  return true;
}

}  // namespace remora::lab
