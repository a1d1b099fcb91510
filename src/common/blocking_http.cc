#include "common/blocking_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/http_status.h"

namespace remora {
namespace {

using Clock = std::chrono::steady_clock;

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// "1.2.3.4:80", "[::1]:80".
std::string hostPortText(const std::string& ip, uint16_t port) {
  bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

// Fills `ss` from an IPv4 or IPv6 literal; returns its length, 0 if invalid.
socklen_t toSockaddr(const std::string& ip, uint16_t port, sockaddr_storage* ss) {
  *ss = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

std::string peerText(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return hostPortText(buf, ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
  return hostPortText(buf, ntohs(a->sin6_port));
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 &&
               hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Head lines after the start line, names lower-cased.
HttpHeaderList parseHeaderLines(const std::string& head, size_t from, size_t end) {
  HttpHeaderList out;
  while (from < end) {
    size_t eol = head.find("\r\n", from);
    if (eol == std::string::npos || eol > end) eol = end;
    std::string line = head.substr(from, eol - from);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      out.emplace_back(lowerCase(trimmed(line.substr(0, colon))), trimmed(line.substr(colon + 1)));
    }
    from = eol + 2;
  }
  return out;
}

std::string findHeader(const HttpHeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
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

Status sendBefore(int fd, const std::string& data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
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

}  // namespace

std::string BlockingHttpRequest::header(std::string_view name) const {
  return findHeader(headers, name);
}

std::string BlockingHttpRequest::queryParam(std::string_view name) const {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string_view item(query.data() + pos, amp - pos);
    size_t eq = item.find('=');
    if (percentDecode(item.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : percentDecode(item.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return "";
}

std::string serializeHttpResponse(const BlockingHttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(httpReasonPhrase(r.status)) +
                    "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  for (const auto& [k, v] : r.headers)
    out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += r.body;
  return out;
}

bool sendAllBytes(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

StatusOr<BlockingHttpRequest> readHttpRequest(int fd, size_t max_head, size_t max_body) {
  std::string data;
  char buf[16384];
  size_t end = std::string::npos;
  while (end == std::string::npos) {
    if (data.size() > max_head) return invalidArgumentError("request head too large");
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return data.empty() ? unavailableError("connection closed before a request")
                          : invalidArgumentError("incomplete request head");
    }
    data.append(buf, static_cast<size_t>(n));
    end = data.find("\r\n\r\n");
  }
  BlockingHttpRequest req;
  size_t eol = data.find("\r\n");
  std::string line = data.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    return invalidArgumentError("bad request line: " + line);
  }
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  req.headers = parseHeaderLines(data, eol + 2, end);
  if (lowerCase(req.header("transfer-encoding")).find("chunked") != std::string::npos) {
    return invalidArgumentError("chunked request bodies are not supported; send Content-Length");
  }
  size_t length = std::strtoul(req.header("content-length").c_str(), nullptr, 10);
  if (length > max_body) {
    return invalidArgumentError("request body of " + std::to_string(length) +
                                " bytes is larger than " + std::to_string(max_body));
  }
  req.body = data.substr(end + 4);
  while (req.body.size() < length) {
    ssize_t n = read(fd, buf, std::min(sizeof(buf), length - req.body.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return invalidArgumentError("request body shorter than its Content-Length");
    req.body.append(buf, static_cast<size_t>(n));
  }
  req.body.resize(length);
  return req;
}

BlockingHttpServer::BlockingHttpServer(Handler handler)
    : BlockingHttpServer(std::move(handler), Options()) {}

BlockingHttpServer::BlockingHttpServer(Handler handler, Options options)
    : handler_(std::move(handler)), options_(options) {}

BlockingHttpServer::~BlockingHttpServer() {
  stop();
}

Status BlockingHttpServer::start(const std::string& ip, uint16_t port) {
  sockaddr_storage ss;
  socklen_t len = toSockaddr(ip, port, &ss);
  if (len == 0) return invalidArgumentError("\"" + ip + "\" is not an IP address");
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoError("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 512) != 0) {
    int err = errno;
    close(fd);
    return errnoError("listen on " + hostPortText(ip, port), err);
  }
  len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { acceptLoop(); });
  return Status::okStatus();
}

void BlockingHttpServer::stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  // Connection threads are detached; wait for them so none outlives `this`.
  for (int i = 0; i < 2000 && in_flight_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void BlockingHttpServer::acceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) != 1) continue;
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    in_flight_++;
    std::thread([this, fd, peer = peerText(ss)] {
      serve(fd, peer);
      in_flight_--;
    }).detach();
  }
}

void BlockingHttpServer::serve(int fd, std::string peer) {
  timeval tv{static_cast<time_t>(options_.read_timeout.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  auto request = readHttpRequest(fd, options_.max_head, options_.max_body);
  if (!request.ok()) {
    // A bare connect (a readiness check) or a client that gave up gets
    // nothing; a malformed request gets told why.
    if (request.status().code() == StatusCode::kInvalidArgument) {
      BlockingHttpResponse bad;
      bad.status = 400;
      bad.body = request.status().message() + "\n";
      sendAllBytes(fd, serializeHttpResponse(bad));
    }
    close(fd);
    return;
  }
  request->peer = std::move(peer);
  request->local_port = port_;
  BlockingHttpResponse response = handler_(*request);
  if (request->method == "HEAD") {
    std::string text = serializeHttpResponse(response);
    sendAllBytes(fd, std::string_view(text).substr(0, text.size() - response.body.size()));
  } else {
    sendAllBytes(fd, serializeHttpResponse(response));
  }
  shutdown(fd, SHUT_WR);
  close(fd);
}

StatusOr<int> connectTcp(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string where = "connect " + hostPortText(ip, port);
  sockaddr_storage ss;
  socklen_t len = toSockaddr(ip, port, &ss);
  if (len == 0) return invalidArgumentError(where + ": not an IP address");
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errnoError("socket", errno);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return errnoError(where, err);
  }
  pollfd p{fd, POLLOUT, 0};
  int r = poll(&p, 1, remainingMs(deadline));
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (r == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (r != 1 || err != 0) {
    close(fd);
    if (r != 1) return Status(StatusCode::kDeadlineExceeded, where + ": timed out");
    return errnoError(where, err);
  }
  return fd;
}

StatusOr<HttpReply> parseHttpReply(const std::string& raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12 || head_end == std::string::npos) {
    if (raw.empty()) return unavailableError("connection closed without a response");
    return unavailableError("not an HTTP/1.x response: \"" + raw.substr(0, 40) + "\"");
  }
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.headers = parseHeaderLines(raw, raw.find("\r\n") + 2, head_end);
  std::string body = raw.substr(head_end + 4);
  std::string length = findHeader(reply.headers, "content-length");
  if (lowerCase(findHeader(reply.headers, "transfer-encoding")).find("chunked") !=
      std::string::npos) {
    REMORA_ASSIGN_OR_RETURN(reply.body, decodeChunked(body));
  } else if (!length.empty()) {
    size_t n = std::strtoul(length.c_str(), nullptr, 10);
    if (body.size() < n) return unavailableError("truncated body");
    reply.body = body.substr(0, n);
  } else {
    reply.body = std::move(body);
  }
  return reply;
}

StatusOr<HttpReply> blockingHttpRequest(const std::string& ip, uint16_t port,
                                        const std::string& method, const std::string& host_header,
                                        const std::string& target, const HttpHeaderList& headers,
                                        const std::string& body,
                                        std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  REMORA_ASSIGN_OR_RETURN(int fd, connectTcp(ip, port, timeout));
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_header +
                    "\r\nUser-Agent: remora\r\nAccept: */*\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers)
    req += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "DELETE") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  Status sent = sendBefore(fd, req, deadline);
  auto raw = sent.ok() ? readToEnd(fd, deadline) : StatusOr<std::string>(sent);
  close(fd);
  if (!raw.ok()) return raw.status();
  return parseHttpReply(*raw);
}

}  // namespace remora
