#include "proxy/dynamic_resources.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "common/logging.h"
#include "xds/resource_types.h"

namespace remora::proxy {

namespace {

using google::protobuf::Any;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp toTimestamp(std::chrono::system_clock::time_point t) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// "resources[2] (listener "0.0.0.0_9080")": how a NACK names the culprit.
std::string resourcePath(size_t i, const char* kind, const std::string& name) {
  std::string p = "resources[" + std::to_string(i) + "]";
  if (!name.empty()) p += std::string(" (") + kind + " \"" + name + "\")";
  return p;
}

template <typename T>
Status unpack(const Any& any, std::string_view type_url, size_t i, T& out) {
  if (any.type_url() != type_url) {
    return invalidArgumentError(resourcePath(i, "", "") + ": type " + any.type_url() +
                                " in a response for " + std::string(type_url));
  }
  if (!any.UnpackTo(&out)) {
    return invalidArgumentError(resourcePath(i, "", "") + ": cannot decode " +
                                std::string(type_url));
  }
  return Status();
}

std::string edsName(const envoy::config::cluster::v3::Cluster& c) {
  const auto& s = c.eds_cluster_config().service_name();
  return s.empty() ? c.name() : s;
}

std::vector<std::string> sortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

DynamicResources::DynamicResources(event::Dispatcher& main, const config::AdsSettings& settings,
                                   ConfigSnapshotConstSharedPtr initial, StatsStore& stats,
                                   upstream::Histograms* histograms, PublishFn publish,
                                   SubscribeFn subscribe)
    : main_(main),
      settings_(settings),
      static_(std::move(initial)),
      stats_(stats),
      histograms_(histograms),
      publish_(std::move(publish)),
      subscribe_(std::move(subscribe)) {
  // Envoy's names for these: listener_manager.lds.*, cluster_manager.cds.*.
  auto counters = [&](const std::string& family, const std::string& scope) {
    return Counters{&stats_.counter(family, scope, "update_attempt"),
                    &stats_.counter(family, scope, "update_success"),
                    &stats_.counter(family, scope, "update_rejected")};
  };
  lds_stats_ = counters("listener_manager", "lds");
  cds_stats_ = counters("cluster_manager", "cds");
  rds_stats_ = counters("http", "rds");
  eds_stats_ = counters("cluster_manager", "eds");
  // Without a type on ADS there is nothing to wait for.
  lds_done_ = !settings_.lds;
  cds_done_ = !settings_.cds;
}

DynamicResources::~DynamicResources() = default;

bool DynamicResources::initialized() const {
  return lds_done_ && cds_done_ && warming_listeners_.empty() && warming_clusters_.empty();
}

Status DynamicResources::apply(const std::string& type_url, const std::string& version,
                               const std::vector<Any>& resources) {
  Counters* c = nullptr;
  Status s;
  if (type_url == xds::kListenerType) {
    c = &lds_stats_;
    c->attempt->inc();
    s = applyListeners(version, resources);
  } else if (type_url == xds::kClusterType) {
    c = &cds_stats_;
    c->attempt->inc();
    s = applyClusters(version, resources);
  } else if (type_url == xds::kRouteConfigurationType) {
    c = &rds_stats_;
    c->attempt->inc();
    s = applyRoutes(version, resources);
  } else if (type_url == xds::kClusterLoadAssignmentType) {
    c = &eds_stats_;
    c->attempt->inc();
    s = applyEndpoints(version, resources);
  } else {
    return invalidArgumentError("type " + type_url + " is not one this proxy subscribes to");
  }
  if (s.ok()) {
    c->success->inc();
  } else {
    c->rejected->inc();
    REMORA_LOG_WARN("xDS {} version {} rejected: {}", xds::shortTypeName(type_url), version,
                    s.message());
  }
  return s;
}

// ---------------------------------------------------------------------------
// LDS

Status DynamicResources::applyListeners(const std::string& version,
                                        const std::vector<Any>& resources) {
  const auto now = Clock::now();
  std::map<std::string, ListenerEntry> next_active, next_warming;
  std::map<network::SocketAddress, std::string> addresses;
  for (const auto& l : static_->listeners())
    addresses.emplace(l->address, l->name);
  std::set<std::string> seen;
  for (size_t i = 0; i < resources.size(); ++i) {
    envoy::config::listener::v3::Listener proto;
    REMORA_RETURN_IF_ERROR(unpack(resources[i], xds::kListenerType, i, proto));
    const std::string path = resourcePath(i, "listener", proto.name());
    if (proto.name().empty()) return invalidArgumentError(path + ".name: required");
    if (!seen.insert(proto.name()).second) {
      return invalidArgumentError(path + ".name: listener \"" + proto.name() +
                                  "\" appears twice in the response");
    }
    for (const auto& l : static_->listeners()) {
      if (l->name == proto.name()) {
        return invalidArgumentError(path + ".name: a static listener has this name");
      }
    }
    REMORA_RETURN_IF_ERROR(config::validateListener(proto, nullptr, path));
    // Unchanged listeners keep their compiled form, sockets and connections.
    auto same = [&](const std::map<std::string, ListenerEntry>& m) -> const ListenerEntry* {
      auto it = m.find(proto.name());
      if (it == m.end() || !MessageDifferencer::Equals(it->second.compiled->proto, proto)) {
        return nullptr;
      }
      return &it->second;
    };
    ListenerEntry entry;
    bool warming = false;
    if (const ListenerEntry* w = same(warming_listeners_)) {
      entry = *w;
      warming = true;
      if (auto a = active_listeners_.find(proto.name()); a != active_listeners_.end()) {
        next_active.emplace(proto.name(), a->second);  // still serving while the new one warms
      }
    } else if (const ListenerEntry* a = same(active_listeners_)) {
      entry = *a;
    } else {
      auto compiled = ConfigSnapshot::compileListener(proto, stats_);
      if (!compiled.ok()) return compiled.status().withPrefix(path);
      for (const auto& p : (*compiled)->route_providers) {
        if (!p->fromRds()) continue;
        if (auto r = routes_.find(p->name()); r != routes_.end()) p->update(r->second.table);
      }
      entry.version = version;
      entry.last_updated = now;
      entry.compiled = std::move(*compiled);
      entry.warm_deadline = std::chrono::steady_clock::now() + settings_.lds_initial_fetch_timeout;
      warming = !routesReady(*entry.compiled);
      if (warming) {
        if (auto a = active_listeners_.find(proto.name()); a != active_listeners_.end()) {
          next_active.emplace(proto.name(), a->second);
        }
      }
    }
    auto [it, inserted] = addresses.emplace(entry.compiled->address, proto.name());
    if (!inserted) {
      return invalidArgumentError(path + ".address: " + entry.compiled->address.toString() +
                                  " is already used by listener \"" + it->second + "\"");
    }
    (warming ? next_warming : next_active).insert_or_assign(proto.name(), std::move(entry));
  }
  for (const auto& [name, e] : next_warming) {
    REMORA_LOG_INFO("lds: listener {} warming until its routes arrive", name);
  }
  size_t removed = 0;
  for (const auto& [name, e] : active_listeners_) {
    if (!seen.count(name)) ++removed;
  }
  active_listeners_ = std::move(next_active);
  warming_listeners_ = std::move(next_warming);
  lds_version_ = version;
  lds_done_ = true;
  REMORA_LOG_INFO("lds: version {}: {} active, {} warming, {} removed", version,
                  active_listeners_.size(), warming_listeners_.size(), removed);
  resubscribe();
  armWarmingTimer();
  publish();
  return Status();
}

bool DynamicResources::routesReady(const CompiledListener& l) const {
  for (const auto& p : l.route_providers) {
    if (p->fromRds() && !routes_.count(p->name())) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// CDS

Status DynamicResources::applyClusters(const std::string& version,
                                       const std::vector<Any>& resources) {
  const auto now = Clock::now();
  std::map<std::string, ClusterEntry> next_active, next_warming;
  std::set<std::string> seen;
  for (size_t i = 0; i < resources.size(); ++i) {
    envoy::config::cluster::v3::Cluster proto;
    REMORA_RETURN_IF_ERROR(unpack(resources[i], xds::kClusterType, i, proto));
    const std::string path = resourcePath(i, "cluster", proto.name());
    if (proto.name().empty()) return invalidArgumentError(path + ".name: required");
    if (!seen.insert(proto.name()).second) {
      return invalidArgumentError(path + ".name: cluster \"" + proto.name() +
                                  "\" appears twice in the response");
    }
    if (static_->findCluster(proto.name()) != nullptr) {
      return invalidArgumentError(path + ".name: a static cluster has this name");
    }
    REMORA_RETURN_IF_ERROR(config::validateCluster(proto, path));
    auto same = [&](const std::map<std::string, ClusterEntry>& m) -> const ClusterEntry* {
      auto it = m.find(proto.name());
      if (it == m.end() || !MessageDifferencer::Equals(it->second.cluster->config(), proto)) {
        return nullptr;
      }
      return &it->second;
    };
    if (const ClusterEntry* a = same(active_clusters_)) {
      next_active.emplace(proto.name(), *a);
      continue;
    }
    if (const ClusterEntry* w = same(warming_clusters_)) {
      next_warming.emplace(proto.name(), *w);
      if (auto a = active_clusters_.find(proto.name()); a != active_clusters_.end()) {
        next_active.emplace(proto.name(), a->second);
      }
      continue;
    }
    auto cluster = upstream::Cluster::create(proto, stats_, histograms_);
    if (!cluster.ok()) return cluster.status().withPrefix(path);
    ClusterEntry entry;
    entry.version = version;
    entry.last_updated = now;
    entry.cluster = std::move(*cluster);
    entry.warm_deadline = std::chrono::steady_clock::now() +
                          config::initialFetchTimeout(proto.eds_cluster_config().eds_config());
    bool warming = false;
    if (entry.cluster->type() == upstream::Cluster::Type::kEds) {
      entry.eds_name = edsName(proto);
      if (auto e = endpoints_.find(entry.eds_name); e != endpoints_.end()) {
        Status s = entry.cluster->updateHosts(e->second.proto);
        if (!s.ok()) REMORA_LOG_WARN("cds: cluster {}: {}", proto.name(), s.message());
      } else {
        warming = true;
      }
    }
    if (warming) {
      if (auto a = active_clusters_.find(proto.name()); a != active_clusters_.end()) {
        next_active.emplace(proto.name(), a->second);
      }
      next_warming.insert_or_assign(proto.name(), std::move(entry));
    } else {
      next_active.insert_or_assign(proto.name(), std::move(entry));
    }
  }
  active_clusters_ = std::move(next_active);
  warming_clusters_ = std::move(next_warming);
  cds_version_ = version;
  cds_done_ = true;
  REMORA_LOG_INFO("cds: version {}: {} active, {} warming", version, active_clusters_.size(),
                  warming_clusters_.size());
  resubscribe();
  armWarmingTimer();
  publish();
  return Status();
}

// ---------------------------------------------------------------------------
// RDS

Status DynamicResources::applyRoutes(const std::string& version,
                                     const std::vector<Any>& resources) {
  const auto now = Clock::now();
  std::vector<RouteEntry> compiled;
  std::set<std::string> seen;
  for (size_t i = 0; i < resources.size(); ++i) {
    RouteEntry e;
    REMORA_RETURN_IF_ERROR(unpack(resources[i], xds::kRouteConfigurationType, i, e.proto));
    const std::string path = resourcePath(i, "route configuration", e.proto.name());
    if (!seen.insert(e.proto.name()).second) {
      return invalidArgumentError(path + ".name: appears twice in the response");
    }
    auto existing = routes_.find(e.proto.name());
    if (existing != routes_.end() && MessageDifferencer::Equals(existing->second.proto, e.proto)) {
      continue;  // unchanged: keep its version and time
    }
    auto table = router::RouteTable::compile(e.proto);
    if (!table.ok()) return table.status().withPrefix(path);
    e.table = std::move(*table);
    e.version = version;
    e.last_updated = now;
    compiled.push_back(std::move(e));
  }
  for (auto& e : compiled) {
    auto update = [&](const std::map<std::string, ListenerEntry>& m) {
      for (const auto& [name, l] : m) {
        for (const auto& p : l.compiled->route_providers) {
          if (p->fromRds() && p->name() == e.proto.name()) p->update(e.table);
        }
      }
    };
    update(active_listeners_);
    update(warming_listeners_);
    std::string name = e.proto.name();
    routes_.insert_or_assign(name, std::move(e));
  }
  if (!compiled.empty()) {
    REMORA_LOG_INFO("rds: version {}: {} route configurations changed", version, compiled.size());
  }
  if (promoteWarmed(false)) publish();
  return Status();
}

// ---------------------------------------------------------------------------
// EDS

Status DynamicResources::applyEndpoints(const std::string& version,
                                        const std::vector<Any>& resources) {
  const auto now = Clock::now();
  std::vector<std::string> errors;
  for (size_t i = 0; i < resources.size(); ++i) {
    EndpointEntry e;
    Status s = unpack(resources[i], xds::kClusterLoadAssignmentType, i, e.proto);
    if (!s.ok()) {
      errors.push_back(s.message());
      continue;
    }
    const std::string& name = e.proto.cluster_name();
    const std::string path = resourcePath(i, "cluster load assignment", name);
    auto existing = endpoints_.find(name);
    if (existing != endpoints_.end() &&
        MessageDifferencer::Equals(existing->second.proto, e.proto)) {
      continue;
    }
    // Apply to every cluster fed by this name; a bad assignment changes none.
    std::vector<upstream::Cluster*> targets;
    for (auto* m : {&active_clusters_, &warming_clusters_}) {
      for (auto& [cname, c] : *m) {
        if (c.eds_name == name) targets.push_back(c.cluster.get());
      }
    }
    Status applied;
    for (upstream::Cluster* c : targets) {
      applied = c->updateHosts(e.proto);
      if (!applied.ok()) break;
    }
    if (!applied.ok()) {
      errors.push_back(applied.withPrefix(path).message());
      continue;
    }
    e.version = version;
    e.last_updated = now;
    endpoints_.insert_or_assign(name, std::move(e));
  }
  if (promoteWarmed(false)) publish();
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors)
      msg += (msg.empty() ? "" : "\n") + e;
    return invalidArgumentError(msg);
  }
  return Status();
}

// ---------------------------------------------------------------------------
// Warming, subscriptions, snapshots

namespace {

// Moves the warming entries that are ready, or whose initial fetch timed out
// (logged as "<what> <name>: <late>"), to `active`. True if any moved.
template <typename Entry, typename Ready>
bool promote(std::map<std::string, Entry>& warming, std::map<std::string, Entry>& active,
             Ready ready, std::string_view what, std::string_view late) {
  const auto now = std::chrono::steady_clock::now();
  bool moved = false;
  for (auto it = warming.begin(); it != warming.end();) {
    bool is_ready = ready(it->second);
    if (!is_ready && now < it->second.warm_deadline) {
      ++it;
      continue;
    }
    if (!is_ready) REMORA_LOG_WARN("{} {}: {}", what, it->first, late);
    active.insert_or_assign(it->first, std::move(it->second));
    it = warming.erase(it);
    moved = true;
  }
  return moved;
}

}  // namespace

bool DynamicResources::promoteWarmed(bool deadline_passed_only) {
  bool moved = promote(
      warming_clusters_, active_clusters_,
      [&](const ClusterEntry& c) {
        return !deadline_passed_only && endpoints_.count(c.eds_name) > 0;
      },
      "cds: cluster", "no endpoints within the initial fetch timeout; serving it empty");
  moved |= promote(
      warming_listeners_, active_listeners_,
      [&](const ListenerEntry& l) { return !deadline_passed_only && routesReady(*l.compiled); },
      "lds: listener",
      "routes missing after the initial fetch timeout; serving it (404 until they come)");
  armWarmingTimer();
  return moved;
}

void DynamicResources::armWarmingTimer() {
  std::optional<std::chrono::steady_clock::time_point> earliest;
  for (const auto& [n, c] : warming_clusters_) {
    if (!earliest || c.warm_deadline < *earliest) earliest = c.warm_deadline;
  }
  for (const auto& [n, l] : warming_listeners_) {
    if (!earliest || l.warm_deadline < *earliest) earliest = l.warm_deadline;
  }
  if (!earliest) {
    if (warming_timer_) warming_timer_->disable();
    return;
  }
  if (!warming_timer_) {
    warming_timer_ = main_.createTimer([this] {
      if (promoteWarmed(true)) publish();
    });
  }
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      *earliest - std::chrono::steady_clock::now());
  warming_timer_->enable(std::max(delay, std::chrono::milliseconds(1)));
}

void DynamicResources::resubscribe() {
  std::vector<std::string> rds, eds;
  for (const auto* m : {&active_listeners_, &warming_listeners_}) {
    for (const auto& [n, l] : *m) {
      for (const auto& p : l.compiled->route_providers) {
        if (p->fromRds()) rds.push_back(p->name());
      }
    }
  }
  for (const auto* m : {&active_clusters_, &warming_clusters_}) {
    for (const auto& [n, c] : *m) {
      if (!c.eds_name.empty()) eds.push_back(c.eds_name);
    }
  }
  rds = sortedUnique(std::move(rds));
  eds = sortedUnique(std::move(eds));
  if (settings_.cds && eds != eds_names_) {
    eds_names_ = eds;
    subscribe_(std::string(xds::kClusterLoadAssignmentType), std::move(eds));
  }
  if (settings_.lds && rds != rds_names_) {
    rds_names_ = rds;
    subscribe_(std::string(xds::kRouteConfigurationType), std::move(rds));
  }
}

void DynamicResources::publish() {
  std::vector<CompiledListenerConstSharedPtr> listeners = static_->listeners();
  for (const auto& [name, l] : active_listeners_)
    listeners.push_back(l.compiled);
  ClusterMap clusters = static_->clusters();
  for (const auto& [name, c] : active_clusters_)
    clusters[name] = c.cluster;
  auto snapshot =
      ConfigSnapshot::assemble(static_->bootstrap(), std::move(listeners), std::move(clusters));
  if (!snapshot.ok()) {
    // Addresses were checked per response; a clash here is a bug, not input.
    REMORA_LOG_ERROR("xDS: cannot assemble a configuration: {}", snapshot.status().message());
    return;
  }
  publish_(std::move(*snapshot));
}

// ---------------------------------------------------------------------------
// /config_dump

envoy::admin::v3::ListenersConfigDump DynamicResources::listenersDump() const {
  envoy::admin::v3::ListenersConfigDump d;
  d.set_version_info(lds_version_);
  auto created = toTimestamp(static_->createdAt());
  for (const auto& l : static_->listeners()) {
    auto* s = d.add_static_listeners();
    s->mutable_listener()->PackFrom(l->proto);
    *s->mutable_last_updated() = created;
  }
  std::set<std::string> names;
  for (const auto& [n, l] : active_listeners_)
    names.insert(n);
  for (const auto& [n, l] : warming_listeners_)
    names.insert(n);
  for (const auto& name : names) {
    auto* dl = d.add_dynamic_listeners();
    dl->set_name(name);
    auto fill = [](const ListenerEntry& e,
                   envoy::admin::v3::ListenersConfigDump::DynamicListenerState* state) {
      state->set_version_info(e.version);
      state->mutable_listener()->PackFrom(e.compiled->proto);
      *state->mutable_last_updated() = toTimestamp(e.last_updated);
    };
    if (auto a = active_listeners_.find(name); a != active_listeners_.end()) {
      fill(a->second, dl->mutable_active_state());
    }
    if (auto w = warming_listeners_.find(name); w != warming_listeners_.end()) {
      fill(w->second, dl->mutable_warming_state());
    }
    dl->set_client_status(envoy::admin::v3::ACKED);
  }
  return d;
}

envoy::admin::v3::ClustersConfigDump DynamicResources::clustersDump() const {
  envoy::admin::v3::ClustersConfigDump d;
  d.set_version_info(cds_version_);
  auto created = toTimestamp(static_->createdAt());
  for (const auto& [name, c] : static_->clusters()) {
    auto* s = d.add_static_clusters();
    s->mutable_cluster()->PackFrom(c->config());
    *s->mutable_last_updated() = created;
  }
  auto fill = [](const ClusterEntry& e, envoy::admin::v3::ClustersConfigDump::DynamicCluster* c) {
    c->set_version_info(e.version);
    c->mutable_cluster()->PackFrom(e.cluster->config());
    *c->mutable_last_updated() = toTimestamp(e.last_updated);
    c->set_client_status(envoy::admin::v3::ACKED);
  };
  for (const auto& [name, c] : active_clusters_)
    fill(c, d.add_dynamic_active_clusters());
  for (const auto& [name, c] : warming_clusters_)
    fill(c, d.add_dynamic_warming_clusters());
  return d;
}

envoy::admin::v3::RoutesConfigDump DynamicResources::routesDump() const {
  envoy::admin::v3::RoutesConfigDump d;
  auto created = toTimestamp(static_->createdAt());
  for (const auto& l : static_->listeners()) {
    for (const auto& p : l->route_providers) {
      auto table = p->current();
      if (p->fromRds() || !table) continue;
      auto* s = d.add_static_route_configs();
      s->mutable_route_config()->PackFrom(table->config());
      *s->mutable_last_updated() = created;
    }
  }
  // Inline route configurations of dynamic listeners are static ones too, as
  // Envoy lists them.
  for (const auto& [name, l] : active_listeners_) {
    for (const auto& p : l.compiled->route_providers) {
      auto table = p->current();
      if (p->fromRds() || !table) continue;
      auto* s = d.add_static_route_configs();
      s->mutable_route_config()->PackFrom(table->config());
      *s->mutable_last_updated() = toTimestamp(l.last_updated);
    }
  }
  for (const auto& [name, r] : routes_) {
    auto* dr = d.add_dynamic_route_configs();
    dr->set_version_info(r.version);
    dr->mutable_route_config()->PackFrom(r.proto);
    *dr->mutable_last_updated() = toTimestamp(r.last_updated);
    dr->set_client_status(envoy::admin::v3::ACKED);
  }
  return d;
}

envoy::admin::v3::EndpointsConfigDump DynamicResources::endpointsDump() const {
  envoy::admin::v3::EndpointsConfigDump d;
  for (const auto& [name, e] : endpoints_) {
    auto* de = d.add_dynamic_endpoint_configs();
    de->set_version_info(e.version);
    de->mutable_endpoint_config()->PackFrom(e.proto);
    *de->mutable_last_updated() = toTimestamp(e.last_updated);
    de->set_client_status(envoy::admin::v3::ACKED);
  }
  return d;
}

}  // namespace remora::proxy
