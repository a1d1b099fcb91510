#include "pilot/server.h"

#include <charconv>

#include "common/logging.h"
#include "pilot/debug/ads_pages.h"
#include "pilot/debug/configz.h"
#include "pilot/debug/json_writer.h"

namespace remora::pilot {
namespace {

BlockingHttpResponse reply(int status, std::string body,
                           std::string content_type = "application/json") {
  BlockingHttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

BlockingHttpResponse errorReply(int status, const std::string& message) {
  JsonWriter w;
  w.beginObject();
  w.field("error", message);
  w.endObject();
  return reply(status, w.take());
}

constexpr char kIndex[] =
    "remora-pilot\n"
    "  /ready                           200 once the config is loaded and gRPC serves\n"
    "  /metrics                         Prometheus metrics\n"
    "  /debug/syncz                     per proxy and type: sent, acked, nacked\n"
    "  /debug/adsz                      connected proxies and their node metadata\n"
    "  /debug/edsz[?proxyID=pod.ns]     endpoints of every cluster\n"
    "  /debug/configz                   accepted and refused config\n"
    "  /debug/config_dump?proxyID=pod.ns  what pilot would send that proxy\n"
    "  /apis/v1/objects                 GET ?kind=&namespace=&name=, POST and DELETE YAML\n";

}  // namespace

StatusOr<std::pair<std::string, uint16_t>> splitHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return invalidArgumentError("\"" + address + "\" is not <ip>:<port>");
  }
  std::string ip = address.substr(0, colon);
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  uint32_t port = 0;
  std::string_view digits(address.data() + colon + 1, address.size() - colon - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return invalidArgumentError("\"" + address + "\" has no valid port");
  }
  return std::pair{ip, static_cast<uint16_t>(port)};
}

PilotServer::PilotServer(PilotOptions options)
    : options_(std::move(options)),
      ads_(DiscoveryServer::Options{options_.grpc_addr, options_.push_workers}, &metrics_),
      objects_(options_.config_dir),
      watcher_(
          options_.config_dir, options_.mesh_config,
          [this](std::shared_ptr<const MeshSnapshot> s) { onSnapshot(std::move(s)); },
          options_.debounce_after, options_.debounce_max),
      http_([this](const BlockingHttpRequest& r) { return handle(r); }) {}

PilotServer::~PilotServer() {
  stop();
}

Status PilotServer::start() {
  REMORA_ASSIGN_OR_RETURN(auto http, splitHostPort(options_.http_addr));
  watcher_thread_ = std::thread([this] {
    Status s = watcher_.run([this] { return stop_.load(); });
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    watcher_status_ = s;
    snapshot_cv_.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(snapshot_mu_);
    snapshot_cv_.wait(lock, [this] { return served_ != nullptr || !watcher_status_.ok(); });
    if (!watcher_status_.ok()) return watcher_status_;
  }
  if (Status s = ads_.start(); !s.ok()) return s;
  if (Status s = http_.start(http.first, http.second); !s.ok()) return s;
  ready_ = true;
  REMORA_LOG_INFO("remora-pilot serving {}: ADS on {} (port {}), HTTP on {} (port {})",
                  options_.config_dir, options_.grpc_addr, ads_.port(), options_.http_addr,
                  http_.port());
  return Status::okStatus();
}

void PilotServer::stop() {
  ready_ = false;
  stop_ = true;
  if (watcher_thread_.joinable()) watcher_thread_.join();
  http_.stop();
  ads_.stop();
}

uint64_t PilotServer::servedVersion() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return served_ ? served_->version() : 0;
}

void PilotServer::onSnapshot(std::shared_ptr<const MeshSnapshot> snapshot) {
  REMORA_LOG_INFO("snapshot {}: {} services, {} proxies, {} refused, {} warnings",
                  snapshot->version(), snapshot->services().size(), snapshot->proxyIds().size(),
                  snapshot->refusals().size(), snapshot->warnings().size());
  for (const auto& r : snapshot->refusals())
    REMORA_LOG_WARN("refused: {}", r.toString());
  for (const auto& w : snapshot->warnings())
    REMORA_LOG_WARN("{}", w);
  ads_.onSnapshot(snapshot);
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  served_ = std::move(snapshot);
  snapshot_cv_.notify_all();
}

std::shared_ptr<const MeshSnapshot> PilotServer::waitForSnapshotAfter(
    uint64_t version, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(snapshot_mu_);
  if (!snapshot_cv_.wait_for(lock, timeout, [&] { return served_->version() > version; })) {
    return nullptr;
  }
  return served_;
}

BlockingHttpResponse PilotServer::handle(const BlockingHttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/apis/v1/objects") return handleObjects(request);
  if (request.method != "GET" && request.method != "HEAD") {
    return errorReply(405, request.method + " is not allowed on " + path);
  }
  if (path == "/ready") {
    return ready() ? reply(200, "ready\n", "text/plain") : reply(503, "not ready\n", "text/plain");
  }
  if (path == "/metrics") {
    return reply(200, metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/" || path == "/debug" || path == "/debug/") return reply(200, kIndex, "text/plain");
  auto ctx = ads_.context();
  if (!ctx) return errorReply(503, "no config loaded yet");
  if (path == "/debug/syncz") return reply(200, renderSyncz(ads_.connections(), ctx.get()));
  if (path == "/debug/adsz") return reply(200, renderAdsz(ads_.connections()));
  if (path == "/debug/configz") return reply(200, renderConfigz(ctx->snapshot()));
  if (path == "/debug/edsz") {
    auto page = renderEdsz(*ctx, request.queryParam("proxyID"));
    return page.ok() ? reply(200, *page) : errorReply(404, page.status().message());
  }
  if (path == "/debug/config_dump") {
    std::string id = request.queryParam("proxyID");
    if (id.empty()) return errorReply(400, "want ?proxyID=<pod>.<namespace>");
    auto page = renderConfigDump(*ctx, ads_.connections(), id);
    return page.ok() ? reply(200, *page) : errorReply(404, page.status().message());
  }
  return errorReply(404, "no page " + path + " (see /debug)");
}

BlockingHttpResponse PilotServer::handleObjects(const BlockingHttpRequest& request) {
  if (request.method == "GET") {
    size_t found = 0;
    std::string name = request.queryParam("name");
    std::string yaml =
        objects_.get(request.queryParam("kind"), request.queryParam("namespace"), name, &found);
    if (!name.empty() && found == 0) {
      return errorReply(404, "no " +
                                 (request.queryParam("kind").empty() ? std::string("object")
                                                                     : request.queryParam("kind")) +
                                 " named " + name);
    }
    auto r = reply(200, std::move(yaml), "application/yaml");
    r.headers.emplace_back("X-Remora-Objects", std::to_string(found));
    return r;
  }
  if (request.method != "POST" && request.method != "DELETE") {
    return errorReply(405, request.method + " is not allowed on /apis/v1/objects");
  }
  uint64_t before = servedVersion();
  ObjectApiResult result;
  {
    // Every file of the request in one snapshot.
    auto hold = watcher_.holdReloads();
    result =
        request.method == "POST" ? objects_.apply(request.body) : objects_.remove(request.body);
  }
  std::shared_ptr<const MeshSnapshot> served;
  if (result.status == 200 && result.changed()) {
    // Answer once pilot serves the change, so that a client may rely on it.
    served = waitForSnapshotAfter(before, options_.apply_wait);
  }
  for (const auto& c : result.changes) {
    if (c.action != "unchanged") {
      REMORA_LOG_INFO("config API: {} {} ({})", c.action, c.object.toString(), c.file);
    }
  }
  JsonWriter w;
  w.beginObject();
  if (result.status != 200) {
    w.field("error", result.status == 400   ? "refused"
                     : result.status == 404 ? "not found"
                     : result.status == 409 ? "conflict"
                                            : "failed");
  }
  w.key(request.method == "POST" ? "applied" : "deleted");
  w.beginArray();
  for (const auto& c : result.changes) {
    w.beginObject();
    w.field("kind", c.object.kind);
    w.field("namespace", c.object.namespace_);
    w.field("name", c.object.name);
    w.field("file", c.file);
    w.field("action", c.action);
    w.endObject();
  }
  w.endArray();
  w.key("refused");
  w.beginArray();
  for (const auto& r : result.refusals)
    writeRefusal(r, &w);
  w.endArray();
  w.key("errors");
  w.beginArray();
  for (const auto& e : result.errors)
    w.value(e);
  w.endArray();
  // The snapshot serving the change, and whether each object made it in:
  // a file the folder's other objects conflict with is refused there.
  uint64_t version = served ? served->version() : before;
  w.field("version", static_cast<int64_t>(version));
  w.field("served", !result.changed() || served != nullptr);
  // What the served snapshot says about the written objects: a refusal in
  // the folder (another file defines the object too) or a warning (a subset
  // no DestinationRule defines, say).
  w.key("warnings");
  w.beginArray();
  if (served) {
    for (const auto& r : served->refusals()) {
      for (const auto& c : result.changes) {
        if (r.source.file == c.file) w.value("refused: " + r.toString());
      }
    }
    for (const auto& warning : served->warnings()) {
      for (const auto& c : result.changes) {
        if (warning.find(c.object.toString()) != std::string::npos) {
          w.value("warning: " + warning);
          break;
        }
      }
    }
  }
  w.endArray();
  w.endObject();
  return reply(result.status, w.take());
}

}  // namespace remora::pilot
