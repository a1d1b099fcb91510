#include "support/http_servers.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "support/tcp_servers.h"

namespace remora::test {

namespace {

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Reads more bytes into `buf`; false on EOF, error or stop.
bool readMore(int fd, std::string& buf, const std::atomic<bool>* stop) {
  char tmp[64 * 1024];
  while (stop == nullptr || !*stop) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, stop != nullptr ? 50 : 20000);
    if (r == 0) {
      if (stop == nullptr) return false;  // the client waited 20 s: give up
      continue;
    }
    if (r < 0) return false;
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  return false;
}

struct Head {
  std::string first_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string get(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
};

// Parses a head (without the final CRLFCRLF).
Head parseHead(const std::string& text) {
  Head h;
  size_t pos = text.find("\r\n");
  h.first_line = text.substr(0, pos);
  while (pos != std::string::npos && pos + 2 <= text.size()) {
    size_t start = pos + 2;
    size_t end = text.find("\r\n", start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      h.headers.emplace_back(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    pos = end;
  }
  return h;
}

// Reads a chunked body from buf (reading more as needed); false if it broke.
bool readChunked(int fd, std::string& buf, std::string& body, const std::atomic<bool>* stop) {
  while (true) {
    size_t eol;
    while ((eol = buf.find("\r\n")) == std::string::npos) {
      if (!readMore(fd, buf, stop)) return false;
    }
    size_t size = std::stoul(buf.substr(0, eol), nullptr, 16);
    buf.erase(0, eol + 2);
    if (size == 0) {
      // Trailers until an empty line.
      while (true) {
        while ((eol = buf.find("\r\n")) == std::string::npos) {
          if (!readMore(fd, buf, stop)) return false;
        }
        bool empty = eol == 0;
        buf.erase(0, eol + 2);
        if (empty) return true;
      }
    }
    while (buf.size() < size + 2) {
      if (!readMore(fd, buf, stop)) return false;
    }
    body.append(buf, 0, size);
    buf.erase(0, size + 2);
  }
}

void resetConnection(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

}  // namespace

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

std::string chunked(const std::string& body, size_t chunk) {
  std::string out;
  char hex[32];
  for (size_t off = 0; off < body.size(); off += chunk) {
    size_t n = std::min(chunk, body.size() - off);
    snprintf(hex, sizeof(hex), "%zx\r\n", n);
    out += hex;
    out.append(body, off, n);
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

HttpBackend::HttpBackend(std::string name, Mode mode) : name_(std::move(name)), mode_(mode) {
  auto addr = *network::SocketAddress::parse("127.0.0.1:0");
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss;
  socklen_t len = addr.toSockaddr(&ss);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len);
  listen(listen_fd_, 512);
  len = sizeof(ss);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  address_ = network::SocketAddress::fromSockaddr(ss);
  acceptor_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) != 1) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections_++;
      std::lock_guard<std::mutex> l(lock_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  });
}

HttpBackend::~HttpBackend() {
  stop_ = true;
  acceptor_.join();
  for (auto& t : workers_)
    t.join();
  close(listen_fd_);
}

std::vector<std::string> HttpBackend::requestLines() const {
  std::lock_guard<std::mutex> l(lock_);
  return lines_;
}

void HttpBackend::serve(int fd) {
  std::string buf;
  int on_this_connection = 0;
  while (!stop_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!readMore(fd, buf, &stop_)) {
        close(fd);
        return;
      }
    }
    Head h = parseHead(buf.substr(0, end));
    buf.erase(0, end + 4);
    requests_++;
    ++on_this_connection;
    {
      std::lock_guard<std::mutex> l(lock_);
      lines_.push_back(h.first_line);
    }
    if (mode_ == Mode::kResetSecondRequest && on_this_connection == 2) {
      resetConnection(fd);
      return;
    }
    size_t sp1 = h.first_line.find(' ');
    size_t sp2 = h.first_line.find(' ', sp1 + 1);
    std::string method = h.first_line.substr(0, sp1);
    std::string path = h.first_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string body;
    const bool was_chunked = lower(h.get("transfer-encoding")) == "chunked";
    if (was_chunked) {
      if (!readChunked(fd, buf, body, &stop_)) break;
    } else if (!h.get("content-length").empty()) {
      size_t n = std::stoul(h.get("content-length"));
      while (buf.size() < n) {
        if (!readMore(fd, buf, &stop_)) break;
      }
      body = buf.substr(0, n);
      buf.erase(0, std::min(n, buf.size()));
    }
    const bool close_after = lower(h.get("connection")) == "close";
    const std::string tag = "x-backend: " + name_ + "\r\n";
    std::string out;
    if (path == "/close") {
      close(fd);
      return;
    }
    if (path == "/rst") {
      resetConnection(fd);
      return;
    }
    if (path == "/die") {
      out = "HTTP/1.1 200 OK\r\n" + tag + "content-length: 1000\r\n\r\n0123456789";
      writeAll(fd, out.data(), out.size());
      close(fd);
      return;
    }
    if (path == "/ws") {
      out = "HTTP/1.1 101 Switching Protocols\r\n" + tag +
            "upgrade: websocket\r\nconnection: upgrade\r\n\r\n";
      writeAll(fd, out.data(), out.size());
      if (!buf.empty()) writeAll(fd, buf.data(), buf.size());
      std::string raw;
      while (readMore(fd, raw, &stop_)) {
        writeAll(fd, raw.data(), raw.size());
        raw.clear();
      }
      close(fd);
      return;
    }
    if (path.rfind("/slow/", 0) == 0) {
      int ms = std::stoi(path.substr(6));
      for (int waited = 0; waited < ms && !stop_; waited += 10)
        usleep(10 * 1000);
    }
    if (path == "/echo" && was_chunked) {
      out = "HTTP/1.1 200 OK\r\n" + tag + "transfer-encoding: chunked\r\n\r\n";
      out += chunked(body, 64 * 1024);
    } else if (path.rfind("/big/", 0) == 0) {
      out = "HTTP/1.1 200 OK\r\n" + tag + "transfer-encoding: chunked\r\n\r\n";
      out += chunked(pattern(std::stoul(path.substr(5))), 64 * 1024);
    } else {
      std::string payload;
      if (path == "/echo") {
        payload = body;
      } else if (path == "/headers") {
        for (const auto& [n, v] : h.headers)
          payload += n + ": " + v + "\n";
      } else {
        payload = name_ + " " + method + " " + path + "\n";
      }
      out = "HTTP/1.1 200 OK\r\n" + tag + "content-length: " + std::to_string(payload.size()) +
            "\r\n" + (close_after ? "connection: close\r\n" : "") + "\r\n";
      if (method != "HEAD") out += payload;
    }
    if (!writeAll(fd, out.data(), out.size())) break;
    if (close_after) break;
  }
  close(fd);
}

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

bool HttpResponse::has(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return true;
  }
  return false;
}

HttpClient::HttpClient(const network::SocketAddress& to) : fd_(connectBlocking(to)) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) close(fd_);
}

bool HttpClient::sendRaw(const std::string& bytes) {
  return fd_ >= 0 && writeAll(fd_, bytes.data(), bytes.size());
}

bool HttpClient::fill() {
  return readMore(fd_, buf_, nullptr);
}

HttpResponse HttpClient::request(const std::string& method, const std::string& path,
                                 const std::string& host,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body) {
  std::string req = method + " " + path + " HTTP/1.1\r\n";
  if (!host.empty()) req += "Host: " + host + "\r\n";
  bool has_te = false;
  for (const auto& [n, v] : headers) {
    req += n + ": " + v + "\r\n";
    if (lower(n) == "transfer-encoding") has_te = true;
  }
  if (!body.empty() && !has_te) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  if (!sendRaw(req)) return {};
  return readResponse(method == "HEAD");
}

HttpResponse HttpClient::readResponse(bool head_request) {
  HttpResponse r;
  if (fd_ < 0) return r;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return r;
  }
  Head h = parseHead(buf_.substr(0, end));
  buf_.erase(0, end + 4);
  if (h.first_line.size() < 12) return r;
  r.status = std::stoi(h.first_line.substr(9, 3));
  r.reason = h.first_line.size() > 13 ? h.first_line.substr(13) : "";
  r.headers = h.headers;
  if (head_request || r.status < 200 || r.status == 204 || r.status == 304) {
    r.complete = true;
    return r;
  }
  if (lower(h.get("transfer-encoding")) == "chunked") {
    r.complete = readChunked(fd_, buf_, r.body, nullptr);
    return r;
  }
  if (!h.get("content-length").empty()) {
    size_t n = std::stoul(h.get("content-length"));
    while (buf_.size() < n) {
      if (!fill()) break;
    }
    r.body = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, r.body.size());
    r.complete = r.body.size() == n;
    return r;
  }
  while (fill()) {
  }
  r.body = std::move(buf_);
  buf_.clear();
  r.complete = true;
  return r;
}

bool HttpClient::closedByPeer() {
  if (!buf_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 1000) != 1) return false;
  char c;
  return recv(fd_, &c, 1, MSG_PEEK) == 0;
}

}  // namespace remora::test
