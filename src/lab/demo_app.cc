#include "lab/demo_app.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace remora::lab {
namespace {

constexpr size_t kMaxHead = 64 * 1024;

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool sendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 502:
      return "Bad Gateway";
    default:
      return "Unknown";
  }
}

}  // namespace

bool isPropagatedHeader(const std::string& name) {
  static const char* kNames[] = {"x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
                                 "x-b3-sampled", "x-b3-flags",   "b3",          "traceparent",
                                 "tracestate"};
  return std::any_of(std::begin(kNames), std::end(kNames),
                     [&](const char* n) { return name == n; });
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

StatusOr<DemoAppArgs> parseDemoAppArgs(const std::vector<std::string>& args) {
  DemoAppArgs out;
  DemoAppOptions& o = out.options;
  o.name = envOr("POD_NAME", "");
  o.ns = envOr("POD_NAMESPACE", "default");
  o.version = envOr("VERSION", "");
  int timeout_ms = 5000;
  std::vector<int> ports;
  CLI::App app(
      "remora-app: answers every HTTP request with a line of JSON naming its pod, version, "
      "port, path and the peer it saw; with --call it calls other services on each request and "
      "includes their answers (status 502 if one fails).",
      "remora-app");
  app.add_option("--port", ports, "Port to serve on; repeat for more (default 9080)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--address", o.address, "Address to listen on")->capture_default_str();
  app.add_option("--name", o.name, "Pod name to report (default $POD_NAME, else the host name)");
  app.add_option("--namespace", o.ns, "Namespace to report (default $POD_NAMESPACE, else default)");
  app.add_option("--version", o.version, "Version label to report (default $VERSION)");
  app.add_option("--call", o.calls, "http://host:port/path to call on every request; repeatable");
  app.add_option("--call-timeout-ms", timeout_ms, "Timeout of each call")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "Do not log requests on stdout");
  std::vector<const char*> argv = {"remora-app"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    out.show_help = true;
    out.help_text = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return invalidArgumentError(e.what());
  }
  for (const auto& url : o.calls) {
    if (auto u = parseHttpUrl(url); !u.ok())
      return invalidArgumentError("--call: " + u.status().message());
  }
  auto address = network::IpAddress::parse(o.address);
  if (!address.ok())
    return invalidArgumentError("--address: \"" + o.address + "\" is not an IP address");
  if (o.name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    o.name = host;
  }
  for (int p : ports)
    o.ports.push_back(static_cast<uint16_t>(p));
  if (o.ports.empty()) o.ports.push_back(9080);
  o.call_timeout = std::chrono::milliseconds(timeout_ms);
  return out;
}

DemoApp::DemoApp(DemoAppOptions options) : options_(std::move(options)) {}

DemoApp::~DemoApp() {
  stop();
}

Status DemoApp::start() {
  auto ip = network::IpAddress::parse(options_.address);
  if (!ip.ok()) return ip.status();
  for (uint16_t port : options_.ports) {
    network::SocketAddress addr{*ip, port};
    int fd = socket(ip->isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errnoError("socket", errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage ss;
    socklen_t len = addr.toSockaddr(&ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 512) != 0) {
      int err = errno;
      close(fd);
      return errnoError("listen on " + addr.toString(), err);
    }
    len = sizeof(ss);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    listen_fds_.push_back(fd);
    bound_ports_.push_back(network::SocketAddress::fromSockaddr(ss).port);
  }
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    acceptors_.emplace_back([this, i] { acceptLoop(listen_fds_[i], bound_ports_[i]); });
  }
  return Status::okStatus();
}

void DemoApp::stop() {
  if (stop_.exchange(true)) return;
  for (auto& t : acceptors_)
    t.join();
  for (int fd : listen_fds_)
    close(fd);
  // Connection threads are detached; wait for them so none outlives `this`.
  for (int i = 0; i < 1000 && in_flight_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void DemoApp::acceptLoop(int listen_fd, uint16_t port) {
  while (!stop_) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 100) != 1) continue;
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string peer = network::SocketAddress::fromSockaddr(ss).toString();
    in_flight_++;
    std::thread([this, fd, port, peer] {
      serve(fd, port, peer);
      in_flight_--;
    }).detach();
  }
}

void DemoApp::serve(int fd, uint16_t port, std::string peer) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string head;
  char buf[4096];
  size_t end = std::string::npos;
  while (head.size() < kMaxHead) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
    end = head.find("\r\n\r\n");
    if (end != std::string::npos) break;
  }
  if (end == std::string::npos) {
    // A bare connect (the lab's readiness check) or a client that gave up.
    if (!head.empty())
      sendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    close(fd);
    return;
  }
  Request req;
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  int status = 200;
  std::string body;
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    status = 400;
    body = "{\"error\":" + jsonString("bad request line: " + line) + "}";
  } else {
    req.method = line.substr(0, sp1);
    req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    size_t pos = eol + 2;
    while (pos < end) {
      size_t next = head.find("\r\n", pos);
      std::string h = head.substr(pos, next - pos);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = lower(trim(h.substr(0, colon)));
        std::string value = trim(h.substr(colon + 1));
        if (name == "content-length") content_length = std::strtoul(value.c_str(), nullptr, 10);
        if (isPropagatedHeader(name)) req.propagated.emplace_back(name, value);
      }
      pos = next + 2;
    }
    // Read and drop a request body so the client is not reset mid-send.
    size_t have = head.size() - (end + 4);
    while (have < content_length) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      have += static_cast<size_t>(n);
    }
    requests_++;
    body = answer(req, port, peer, &status);
  }
  body += "\n";
  std::string resp =
      "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nx-remora-pod: " + options_.name + "\r\nConnection: close\r\n\r\n" + body;
  sendAll(fd, resp);
  shutdown(fd, SHUT_WR);
  close(fd);
  if (!options_.quiet) {
    std::lock_guard<std::mutex> l(log_lock_);
    std::printf("%s %s from %s on :%u -> %d\n", req.method.c_str(), req.path.c_str(), peer.c_str(),
                port, status);
    std::fflush(stdout);
  }
}

std::string DemoApp::answer(const Request& request, uint16_t port, const std::string& peer,
                            int* status) {
  std::string out =
      "{\"pod\":" + jsonString(options_.name) + ",\"namespace\":" + jsonString(options_.ns) +
      ",\"version\":" + jsonString(options_.version) + ",\"port\":" + std::to_string(port) +
      ",\"path\":" + jsonString(request.path) + ",\"peer\":" + jsonString(peer);
  if (!options_.calls.empty()) {
    out += ",\"calls\":[";
    for (size_t i = 0; i < options_.calls.size(); ++i) {
      const std::string& url = options_.calls[i];
      out += (i ? "," : "") + std::string("{\"url\":") + jsonString(url);
      auto parsed = parseHttpUrl(url);
      auto resp = parsed.ok() ? httpGet(*parsed, request.propagated, options_.call_timeout)
                              : StatusOr<HttpResponse>(parsed.status());
      if (!resp.ok()) {
        *status = 502;
        out += ",\"error\":" + jsonString(resp.status().message()) + "}";
        continue;
      }
      if (resp->status < 200 || resp->status > 299) *status = 502;
      std::string body = resp->body;
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
        body.pop_back();
      // Another remora-app answers with a JSON object: nest it as is, so the
      // chain reads as one document; anything else is quoted.
      bool object = body.size() >= 2 && body.front() == '{' && body.back() == '}';
      out += ",\"status\":" + std::to_string(resp->status) +
             ",\"body\":" + (object ? body : jsonString(body)) + "}";
    }
    out += "]";
  }
  return out + "}";
}

int runDemoApp(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto parsed = parseDemoAppArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "remora-app: %s\nRun 'remora-app --help' for the flags.\n",
                 parsed.status().message().c_str());
    return 2;
  }
  if (parsed->show_help) {
    std::fputs(parsed->help_text.c_str(), stdout);
    return 0;
  }
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  DemoApp app(parsed->options);
  if (Status s = app.start(); !s.ok()) {
    std::fprintf(stderr, "remora-app: %s\n", s.message().c_str());
    return 1;
  }
  std::string ports;
  for (uint16_t p : app.ports())
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  std::printf("remora-app %s (version %s) serving on %s port %s\n", parsed->options.name.c_str(),
              parsed->options.version.c_str(), parsed->options.address.c_str(), ports.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  // Requests in flight hold no state worth finishing; exit at once.
  std::_Exit(0);
}

}  // namespace remora::lab
