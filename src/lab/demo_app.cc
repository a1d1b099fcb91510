#include "lab/demo_app.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace remora::lab {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
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
  for (uint16_t port : options_.ports) {
    auto server = std::make_unique<BlockingHttpServer>(
        [this](const BlockingHttpRequest& r) { return serve(r, r.local_port); });
    if (Status s = server->start(options_.address, port); !s.ok()) return s;
    bound_ports_.push_back(server->port());
    servers_.push_back(std::move(server));
  }
  return Status::okStatus();
}

void DemoApp::stop() {
  for (auto& s : servers_)
    s->stop();
}

BlockingHttpResponse DemoApp::serve(const BlockingHttpRequest& http, uint16_t port) {
  Request req;
  req.method = http.method;
  req.path = http.target;
  for (const auto& [name, value] : http.headers) {
    if (isPropagatedHeader(name)) req.propagated.emplace_back(name, value);
  }
  requests_++;
  BlockingHttpResponse resp;
  resp.body = answer(req, port, http.peer, &resp.status) + "\n";
  resp.content_type = "application/json";
  resp.headers.emplace_back("x-remora-pod", options_.name);
  if (!options_.quiet) {
    std::lock_guard<std::mutex> l(log_lock_);
    std::printf("%s %s from %s on :%u -> %d\n", req.method.c_str(), req.path.c_str(),
                http.peer.c_str(), port, resp.status);
    std::fflush(stdout);
  }
  return resp;
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
