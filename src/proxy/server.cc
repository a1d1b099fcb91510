#include "proxy/server.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <re2/re2.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <thread>

#include "common/logging.h"
#include "config/api_types.h"
#include "config/bootstrap.h"
#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "proxy/memory_trim.h"
#include "xds/resource_types.h"

namespace remora::proxy {

namespace {

using google::protobuf::util::TimeUtil;

constexpr const char* kAgentVersion = "0.1.0";
constexpr const char* kVersion = "remora/0.1.0";  // /server_info

google::protobuf::Timestamp toTimestamp(std::chrono::system_clock::time_point t) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

std::string toJson(const google::protobuf::Message& m, bool print_defaults = false) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  // /server_info shows "state": "LIVE" although LIVE is the enum's zero value.
  opts.always_print_primitive_fields = print_defaults;
  opts.preserve_proto_field_names = true;  // Envoy's admin prints field names as in the .proto
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(m, &out, opts);
  if (!st.ok()) return "{\"error\": \"" + std::string(st.message()) + "\"}\n";
  return out + "\n";
}

const char* healthFlag(upstream::HealthStatus h) {
  switch (h) {
    case upstream::HealthStatus::kUnhealthy:
      return "/eds_health_status/unhealthy";
    case upstream::HealthStatus::kDraining:
      return "/eds_health_status/draining";
    case upstream::HealthStatus::kTimeout:
      return "/eds_health_status/timeout";
    case upstream::HealthStatus::kDegraded:
      return "/eds_health_status/degraded";
    default:
      return "healthy";
  }
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::create(const ServerOptions& options) {
  config::ensureApiTypesLinked();
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  REMORA_ASSIGN_OR_RETURN(auto bootstrap,
                          config::loadBootstrap(options.config_path, options.config_yaml));
  REMORA_RETURN_IF_ERROR(config::validateBootstrap(bootstrap));
  REMORA_ASSIGN_OR_RETURN(s->ads_settings_, config::adsSettings(bootstrap));
  REMORA_ASSIGN_OR_RETURN(s->snapshot_,
                          ConfigSnapshot::build(bootstrap, s->stats_, &s->histograms_));
  return s;
}

Server::~Server() {
  // The xDS client's events live on main_.
  ads_.reset();
  dynamic_.reset();
  for (auto& w : workers_)
    w->join();
  workers_.clear();
  signal_event_.reset();
  if (signal_fd_ >= 0) close(signal_fd_);
}

StatusOr<std::vector<network::Fd>> Server::openSockets(const CompiledListener& l, size_t workers) {
  network::SocketAddress addr = l.address;
  network::ListenOptions opts;
  opts.transparent = l.proto.transparent().value();
  opts.freebind = l.proto.freebind().value();
  if (l.proto.has_tcp_backlog_size()) {
    opts.backlog = static_cast<int>(l.proto.tcp_backlog_size().value());
  }
  std::vector<network::Fd> fds;
  for (size_t w = 0; w < workers; ++w) {
    auto fd = network::listenTcp(addr, opts);
    if (!fd.ok()) return fd.status().withPrefix("listener \"" + l.name + "\"");
    if (addr.port == 0) {
      // Port 0: the first socket picks the port; the others share it.
      REMORA_ASSIGN_OR_RETURN(auto bound, network::localAddress(fd->get()));
      addr.port = bound.port;
      REMORA_LOG_INFO("listener {} bound to {}", l.name, addr.toString());
    }
    fds.push_back(std::move(*fd));
  }
  return fds;
}

Status Server::bindAll() {
  int n = options_.concurrency > 0
              ? options_.concurrency
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<ListenSocket>> per_worker(static_cast<size_t>(n));
  for (const auto& l : snapshot_->listeners()) {
    if (!l->bind_to_port) continue;  // hand-off targets only (S2)
    REMORA_ASSIGN_OR_RETURN(auto fds, openSockets(*l, static_cast<size_t>(n)));
    for (size_t w = 0; w < fds.size(); ++w) {
      per_worker[w].push_back(ListenSocket{l, std::move(fds[w])});
    }
    bound_.insert(l->address);
  }
  const auto& bootstrap = snapshot_->bootstrap();
  if (bootstrap.has_admin() && bootstrap.admin().has_address()) {
    REMORA_ASSIGN_OR_RETURN(auto addr, config::toSocketAddress(bootstrap.admin().address()));
    REMORA_ASSIGN_OR_RETURN(admin_, AdminServer::create(*main_, addr));
    REMORA_LOG_INFO("admin address: {}", admin_->address().toString());
    registerAdminHandlers();
  }
  for (int w = 0; w < n; ++w) {
    REMORA_ASSIGN_OR_RETURN(auto worker, Worker::create(w));
    worker->setInitialState(snapshot_, std::move(per_worker[static_cast<size_t>(w)]));
    workers_.push_back(std::move(worker));
  }
  return Status::okStatus();
}

void Server::startXds() {
  if (!ads_settings_) return;
  dynamic_ = std::make_unique<DynamicResources>(
      *main_, *ads_settings_, snapshot_, stats_, &histograms_,
      [this](ConfigSnapshotConstSharedPtr next) { publish(std::move(next)); },
      [this](const std::string& type, std::vector<std::string> names) {
        ads_->subscribe(type, std::move(names));
      });
  xds::AdsClient::Options opts;
  opts.target = ads_settings_->address.toString();
  opts.node = snapshot_->bootstrap().node();
  opts.node.set_user_agent_name("remora");
  opts.node.set_user_agent_version(kAgentVersion);
  if (admin_) {
    // How pilot (and remoractl through it) finds this proxy's admin.
    (*opts.node.mutable_metadata()->mutable_fields())["ADMIN_ADDRESS"].set_string_value(
        admin_->address().toString());
  }
  auto& connected = stats_.gauge("control_plane", "", "connected_state");
  ads_ = std::make_unique<xds::AdsClient>(
      *main_, std::move(opts),
      [this](const std::string& type, const std::string& version,
             const std::vector<google::protobuf::Any>& resources) {
        return dynamic_->apply(type, version, resources);
      },
      [this, &connected](bool up) {
        connected.set(up ? 1 : 0);
        // The client logs connecting; what matters here is what keeps serving.
        if (!up) {
          REMORA_LOG_WARN("xDS: stream to {} ended ({}); serving the last configuration",
                          ads_->target(), ads_->lastStreamError());
        }
      });
  // Clusters before listeners, as Envoy asks: routes name clusters.
  if (ads_settings_->cds) ads_->subscribe(std::string(xds::kClusterType), {}, true);
  if (ads_settings_->lds) ads_->subscribe(std::string(xds::kListenerType), {}, true);
  ads_->start();
}

void Server::publish(ConfigSnapshotConstSharedPtr next) {
  if (draining_) return;
  std::set<network::SocketAddress> wanted;
  std::vector<std::vector<ListenSocket>> added(workers_.size());
  for (const auto& l : next->listeners()) {
    if (!l->bind_to_port) continue;
    wanted.insert(l->address);
    if (bound_.count(l->address)) continue;
    auto fds = openSockets(*l, workers_.size());
    if (!fds.ok()) {
      // Envoy keeps the rest of the update; the listener just does not serve.
      REMORA_LOG_ERROR("{}", fds.status().message());
      wanted.erase(l->address);
      continue;
    }
    for (size_t w = 0; w < fds->size(); ++w) {
      added[w].push_back(ListenSocket{l, std::move((*fds)[w])});
    }
  }
  std::vector<network::SocketAddress> closed;
  for (const auto& a : bound_) {
    if (!wanted.count(a)) closed.push_back(a);
  }
  bound_ = std::move(wanted);
  snapshot_ = next;
  for (size_t w = 0; w < workers_.size(); ++w) {
    workers_[w]->update(next, std::move(added[w]), closed, options_.drain_time);
  }
}

bool Server::initialized() const {
  return !dynamic_ || dynamic_->initialized();
}

int Server::run() {
  started_ = std::chrono::steady_clock::now();
  // splice() and send() to a closed peer must fail with EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  // Block the shutdown signals before any thread starts so that every thread
  // inherits the mask and only the signalfd on the main loop sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  auto main = event::Dispatcher::create("main");
  if (!main.ok()) {
    REMORA_LOG_ERROR("{}", main.status().message());
    return 1;
  }
  main_ = std::move(*main);
  Status bound = bindAll();
  if (!bound.ok()) {
    REMORA_LOG_ERROR("{}", bound.message());
    return 1;
  }
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  signal_event_ = main_->createFileEvent(
      signal_fd_,
      [this](uint32_t) {
        signalfd_siginfo info;
        while (read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
          startDrain(info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        }
      },
      event::kRead);
  for (auto& w : workers_)
    w->start();
  startXds();
  // Start-up is over: its code and the linker's tables need not stay resident.
  size_t released = releaseStartupPages();
  REMORA_LOG_DEBUG("released {} KiB of start-up pages", released / 1024);
  REMORA_LOG_INFO("remora-proxy serving {} listeners, {} clusters with {} workers",
                  snapshot_->listeners().size(), snapshot_->clusters().size(), workers_.size());
  main_->run();
  ads_.reset();
  for (auto& w : workers_)
    w->join();
  REMORA_LOG_INFO("remora-proxy exiting");
  return 0;
}

void Server::startDrain(const std::string& why) {
  if (draining_) return;
  draining_ = true;
  size_t open = 0;
  for (auto& w : workers_)
    open += w->activeConnections();
  REMORA_LOG_INFO("{}: draining {} connections for up to {} ms", why, open,
                  options_.drain_time.count());
  for (auto& w : workers_)
    w->drain(options_.drain_time);
  // The main loop ends once every worker has finished draining (or hit the
  // drain deadline); polling keeps admin responsive meanwhile.
  drain_poll_ = main_->createTimer([this] {
    bool all_finished = true;
    for (auto& w : workers_)
      all_finished &= w->finished();
    if (all_finished) {
      main_->exit();
    } else {
      drain_poll_->enable(std::chrono::milliseconds(20));
    }
  });
  drain_poll_->enable(std::chrono::milliseconds(1));
}

void Server::registerAdminHandlers() {
  admin_->addHandler("/config_dump", "dump the running configuration", [this](const AdminRequest&) {
    return AdminResponse{200, "application/json", configDumpJson()};
  });
  admin_->addHandler(
      "/listeners", "listener names and addresses (?format=json)", [this](const AdminRequest& r) {
        AdminResponse resp;
        if (r.query.count("format") && r.query.at("format") == "json") {
          resp.content_type = "application/json";
          resp.body = "{\"listener_statuses\": [";
          bool first = true;
          for (const auto& l : snapshot_->listeners()) {
            resp.body += std::string(first ? "" : ",") + "{\"name\": \"" + l->name +
                         "\", \"local_address\": {\"socket_address\": {\"address\": \"" +
                         l->address.ip.toString() +
                         "\", \"port_value\": " + std::to_string(l->address.port) + "}}}";
            first = false;
          }
          resp.body += "]}\n";
          return resp;
        }
        for (const auto& l : snapshot_->listeners()) {
          resp.body += l->name + "::" + l->address.toString() + "\n";
        }
        return resp;
      });
  admin_->addHandler("/clusters", "upstream clusters and their hosts (?format=json)",
                     [this](const AdminRequest& r) {
                       if (r.query.count("format") && r.query.at("format") == "json") {
                         return AdminResponse{200, "application/json", clustersJson()};
                       }
                       return AdminResponse{200, "text/plain; charset=UTF-8", clustersText()};
                     });
  admin_->addHandler(
      "/stats", "counters and gauges (?filter=regex)", [this](const AdminRequest& r) {
        AdminResponse resp;
        // Counters and gauges, then histograms, as Envoy orders them.
        std::string all = stats_.renderText() + histograms_.renderText();
        auto f = r.query.find("filter");
        if (f == r.query.end() || f->second.empty()) {
          resp.body = std::move(all);
          return resp;
        }
        RE2 re(f->second);
        if (!re.ok())
          return AdminResponse{400, "text/plain", "bad filter regex: " + re.error() + "\n"};
        size_t pos = 0;
        while (pos < all.size()) {
          size_t nl = all.find('\n', pos);
          std::string line = all.substr(pos, nl - pos);
          if (RE2::PartialMatch(line.substr(0, line.find(':')), re)) resp.body += line + "\n";
          pos = nl == std::string::npos ? all.size() : nl + 1;
        }
        return resp;
      });
  admin_->addHandler(
      "/stats/prometheus", "stats in Prometheus text format", [this](const AdminRequest&) {
        return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                             stats_.renderPrometheus() + histograms_.renderPrometheus()};
      });
  admin_->addHandler("/ready", "LIVE (200) when serving, else 503", [this](const AdminRequest&) {
    if (draining_) return AdminResponse{503, "text/plain", "DRAINING\n"};
    // With xDS, not before the first listeners and clusters are in.
    if (!initialized()) return AdminResponse{503, "text/plain", "INITIALIZING\n"};
    return AdminResponse{200, "text/plain", "LIVE\n"};
  });
  admin_->addHandler("/server_info", "version, state and uptime", [this](const AdminRequest&) {
    envoy::admin::v3::ServerInfo info;
    info.set_version(kVersion);
    info.set_state(draining_       ? envoy::admin::v3::ServerInfo::DRAINING
                   : initialized() ? envoy::admin::v3::ServerInfo::LIVE
                                   : envoy::admin::v3::ServerInfo::INITIALIZING);
    auto up = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started_)
                  .count();
    *info.mutable_uptime_current_epoch() = TimeUtil::MillisecondsToDuration(up);
    *info.mutable_uptime_all_epochs() = TimeUtil::MillisecondsToDuration(up);
    info.set_hot_restart_version("disabled");
    return AdminResponse{200, "application/json", toJson(info, true)};
  });
  admin_->addHandler(
      "/quitquitquit", "drain and exit",
      [this](const AdminRequest&) {
        main_->post([this] { startDrain("/quitquitquit"); });
        return AdminResponse{200, "text/plain", "OK\n"};
      },
      true);
}

std::string Server::configDumpJson() const {
  envoy::admin::v3::ConfigDump dump;
  auto updated = toTimestamp(snapshot_->createdAt());
  envoy::admin::v3::BootstrapConfigDump b;
  *b.mutable_bootstrap() = snapshot_->bootstrap();
  *b.mutable_last_updated() = updated;
  dump.add_configs()->PackFrom(b);
  if (dynamic_) {
    // Envoy's order: bootstrap, clusters, endpoints, listeners, routes.
    dump.add_configs()->PackFrom(dynamic_->clustersDump());
    dump.add_configs()->PackFrom(dynamic_->endpointsDump());
    dump.add_configs()->PackFrom(dynamic_->listenersDump());
    dump.add_configs()->PackFrom(dynamic_->routesDump());
    return toJson(dump);
  }
  envoy::admin::v3::ClustersConfigDump c;
  for (const auto& [name, cluster] : snapshot_->clusters()) {
    auto* sc = c.add_static_clusters();
    sc->mutable_cluster()->PackFrom(cluster->config());
    *sc->mutable_last_updated() = updated;
  }
  dump.add_configs()->PackFrom(c);
  envoy::admin::v3::ListenersConfigDump l;
  for (const auto& listener : snapshot_->listeners()) {
    auto* sl = l.add_static_listeners();
    sl->mutable_listener()->PackFrom(listener->proto);
    *sl->mutable_last_updated() = updated;
  }
  dump.add_configs()->PackFrom(l);
  // Inline route configurations, as Envoy lists them: static route configs.
  envoy::admin::v3::RoutesConfigDump r;
  for (const auto& provider : snapshot_->routeConfigProviders()) {
    auto table = provider->current();
    if (!table) continue;
    auto* sr = r.add_static_route_configs();
    sr->mutable_route_config()->PackFrom(table->config());
    *sr->mutable_last_updated() = updated;
  }
  dump.add_configs()->PackFrom(r);
  return toJson(dump);
}

std::string Server::clustersText() const {
  std::string out;
  for (const auto& [name, c] : snapshot_->clusters()) {
    out +=
        name + "::default_priority::max_connections::" + std::to_string(c->maxConnections()) + "\n";
    out += name + "::added_via_api::" + (dynamic_ && !dynamic_->isStatic(name) ? "true" : "false") +
           "\n";
    auto hosts = c->hosts();
    for (const auto& h : hosts->hosts) {
      std::string p = name + "::" + h->address.toString() + "::";
      out += p + "cx_active::" + std::to_string(h->cx_active.value()) + "\n";
      out += p + "cx_connect_fail::" + std::to_string(h->cx_connect_fail.value()) + "\n";
      out += p + "cx_total::" + std::to_string(h->cx_total.value()) + "\n";
      out += p + "rq_active::" + std::to_string(h->rq_active.value()) + "\n";
      out += p + "rq_error::" + std::to_string(h->rq_error.value()) + "\n";
      out += p + "rq_success::" + std::to_string(h->rq_success.value()) + "\n";
      out += p + "rq_timeout::" + std::to_string(h->rq_timeout.value()) + "\n";
      out += p + "rq_total::" + std::to_string(h->rq_total.value()) + "\n";
      out += p + "hostname::" + h->hostname + "\n";
      out += p + "health_flags::" + healthFlag(h->health) + "\n";
      out += p + "weight::" + std::to_string(h->weight) + "\n";
    }
  }
  return out;
}

std::string Server::clustersJson() const {
  envoy::admin::v3::Clusters out;
  for (const auto& [name, c] : snapshot_->clusters()) {
    auto* cs = out.add_cluster_statuses();
    cs->set_name(name);
    cs->set_observability_name(name);
    auto hosts = c->hosts();
    for (const auto& h : hosts->hosts) {
      auto* hs = cs->add_host_statuses();
      auto* sa = hs->mutable_address()->mutable_socket_address();
      sa->set_address(h->address.ip.toString());
      sa->set_port_value(h->address.port);
      hs->set_weight(h->weight);
      hs->set_hostname(h->hostname);
      auto add = [hs](const char* n, uint64_t v, envoy::admin::v3::SimpleMetric::Type t) {
        auto* m = hs->add_stats();
        m->set_name(n);
        m->set_value(v);
        m->set_type(t);
      };
      add("cx_connect_fail", h->cx_connect_fail.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("cx_total", h->cx_total.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("cx_active", static_cast<uint64_t>(h->cx_active.value()),
          envoy::admin::v3::SimpleMetric::GAUGE);
      add("rq_error", h->rq_error.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("rq_success", h->rq_success.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("rq_timeout", h->rq_timeout.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("rq_total", h->rq_total.value(), envoy::admin::v3::SimpleMetric::COUNTER);
      add("rq_active", static_cast<uint64_t>(h->rq_active.value()),
          envoy::admin::v3::SimpleMetric::GAUGE);
      auto* health = hs->mutable_health_status();
      switch (h->health) {
        case upstream::HealthStatus::kUnhealthy:
          health->set_eds_health_status(envoy::config::core::v3::UNHEALTHY);
          break;
        case upstream::HealthStatus::kDraining:
          health->set_eds_health_status(envoy::config::core::v3::DRAINING);
          break;
        case upstream::HealthStatus::kDegraded:
          health->set_eds_health_status(envoy::config::core::v3::DEGRADED);
          break;
        default:
          health->set_eds_health_status(envoy::config::core::v3::HEALTHY);
          break;
      }
    }
  }
  return toJson(out);
}

}  // namespace remora::proxy
