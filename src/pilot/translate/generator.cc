#include "pilot/translate/generator.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "pilot/model/parse.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/eds.h"
#include "pilot/translate/lds.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {

namespace {
// How many generators back a new one looks for resources: what no generator
// used for this many snapshots in a row is dropped (its inputs are most
// likely gone, and it pins its arena). More than one, so that a snapshot
// replaced before any proxy asked (debounced bursts) does not lose anything.
constexpr int kKeepGenerations = 3;

// A namespace's outbound clusters and assignments in name order, collected
// service by service in FQDN order (the order of snapshot.services()). A
// name is `outbound|<port>|<subset>|` then the FQDN, so clusters with the
// same (port, subset) arrive in name order: kept in one group per (port,
// subset), and the few groups ordered by that prefix, they come out sorted
// without comparing (or even reading) thousands of long names, which a
// general sort did and showed in profiles.
class ServiceClusterSorter {
 public:
  // The next cluster and its assignment (null for passthrough services).
  void add(uint32_t port, std::string_view subset, const Resource& cluster,
           const Resource* assignment) {
    // A handful of groups (ports times subsets), and most services have the
    // same shape: a scan from the last group found ends at once.
    size_t n = groups_.size();
    size_t at = n;
    for (size_t k = 0; k < n; ++k) {
      size_t i = (last_ + k) % n;
      if (groups_[i].port == port && groups_[i].subset == subset) {
        at = i;
        break;
      }
    }
    if (at == n) {
      groups_.push_back(
          {port, subset, clusterName(TrafficDirection::kOutbound, port, subset, ""), {}, {}});
    }
    last_ = at + 1;
    Group& g = groups_[at];
    g.clusters.push_back(cluster);
    if (assignment) g.assignments.push_back(*assignment);
  }
  // Clusters, then assignments, each sorted by name.
  ResourceList take(size_t reserve) {
    std::sort(groups_.begin(), groups_.end(),
              [](const Group& a, const Group& b) { return a.prefix < b.prefix; });
    ResourceList out;
    out.reserve(reserve);
    for (auto& g : groups_)
      out.insert(out.end(), std::make_move_iterator(g.clusters.begin()),
                 std::make_move_iterator(g.clusters.end()));
    size_t n_clusters = out.size();
    for (auto& g : groups_)
      out.insert(out.end(), std::make_move_iterator(g.assignments.begin()),
                 std::make_move_iterator(g.assignments.end()));
    // The order holds by construction (services sorted by FQDN, subset
    // names valid host names, so no prefix is a prefix of another); checked
    // in one pass all the same, since a proxy's endpoint names are looked up
    // by binary search in this list. Sorted the general way should it fail.
    auto by_name = [](const Resource& a, const Resource& b) { return a.name() < b.name(); };
    auto split = out.begin() + static_cast<std::ptrdiff_t>(n_clusters);
    if (!std::is_sorted(out.begin(), split, by_name) ||
        !std::is_sorted(split, out.end(), by_name)) {
      assert(false && "service clusters out of name order");
      ResourceList clusters(std::make_move_iterator(out.begin()), std::make_move_iterator(split));
      ResourceList assignments(std::make_move_iterator(split), std::make_move_iterator(out.end()));
      sortByName(&clusters);
      sortByName(&assignments);
      out = std::move(clusters);
      out.insert(out.end(), std::make_move_iterator(assignments.begin()),
                 std::make_move_iterator(assignments.end()));
    }
    return out;
  }

 private:
  struct Group {
    uint32_t port;
    std::string_view subset;
    std::string prefix;
    ResourceList clusters;
    ResourceList assignments;
  };
  std::vector<Group> groups_;
  size_t last_ = 0;  // where the next scan starts
};

}  // namespace

ConfigGenerator::ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot)
    : ConfigGenerator(std::move(snapshot), nullptr) {}

ConfigGenerator::ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot,
                                 const ConfigGenerator* previous)
    : snapshot_(std::move(snapshot)),
      alloc_(std::make_shared<google::protobuf::Arena>()),
      virtual_listener_(buildVirtualListeners(*snapshot_, alloc_)),
      special_clusters_(buildSpecialClusters(*snapshot_, alloc_)),
      store_(std::make_shared<Store>()) {
  // A namespace's build inserts a few thousand entries: no rehashing on the way.
  store_->groups.reserve(4096);
  store_->parts.reserve(2048);
  for (const auto& rvs : snapshot_->virtualServices()) {
    for (const auto& rule : rvs.spec->http) {
      for (const auto& m : rule.match)
        uses_source_matches_ |= !m.source_labels.empty();
    }
    for (const auto& rule : rvs.spec->tcp) {
      for (const auto& m : rule.match)
        uses_source_matches_ |= !m.source_labels.empty();
    }
  }
  for (const auto& o : snapshot_->config().objects) {
    if (const auto* vs = std::get_if<VirtualService>(&o.value)) {
      object_hashes_[vs] = o.content_hash;
    } else if (const auto* dr = std::get_if<DestinationRule>(&o.value)) {
      object_hashes_[dr] = o.content_hash;
    }
  }
  if (!previous) return;
  has_earlier_ = true;
  // Linked, not copied: the previous tables hold thousands of entries, and
  // copying them would cost the first proxy more than most changes do.
  store_->parent = previous->store_;
  std::shared_ptr<Store> oldest = previous->store_;
  for (int depth = 1; oldest && depth < kKeepGenerations; ++depth) {
    std::lock_guard<std::mutex> lock(oldest->mu);
    oldest = oldest->parent;
  }
  if (oldest) {
    std::lock_guard<std::mutex> lock(oldest->mu);
    oldest->parent.reset();
  }
}

const ConfigGenerator::Reusable* ConfigGenerator::findEarlier(const ContentKey& key,
                                                              Reusable* found) const {
  std::shared_ptr<Store> s;
  {
    std::lock_guard<std::mutex> lock(store_->mu);
    s = store_->parent;
  }
  for (int depth = 0; s && depth < kKeepGenerations; ++depth) {
    std::lock_guard<std::mutex> lock(s->mu);
    auto it = s->groups.find(key);
    if (it != s->groups.end()) {
      *found = it->second;
      return found;
    }
    s = s->parent;
  }
  return nullptr;
}

ResourceReuse::Part ConfigGenerator::findPart(std::string_view scope,
                                              std::string_view inputs) const {
  // A part is asked for while its resource is built, and a generator builds
  // each resource once: only earlier generators can have it.
  if (!has_earlier_) return {};
  ContentKey key = ContentKey::of(scope, inputs);
  std::shared_ptr<Store> s = store_;
  for (int depth = 0; s && depth <= kKeepGenerations; ++depth) {
    std::lock_guard<std::mutex> lock(s->mu);
    auto it = s->parts.find(key);
    if (it != s->parts.end()) return it->second;
    s = s->parent;
  }
  return {};
}

void ConfigGenerator::keepPart(std::string_view scope, std::string_view inputs, Part part) const {
  ContentKey key = ContentKey::of(scope, inputs);
  std::lock_guard<std::mutex> lock(store_->mu);
  store_->parts.insert_or_assign(key, std::move(part));
}

ResourceList ConfigGenerator::get(std::string_view inputs,
                                  const std::function<ResourceList()>& build) const {
  return *getShared(inputs, build);
}

std::shared_ptr<const ResourceList> ConfigGenerator::getShared(
    std::string_view inputs, const std::function<ResourceList()>& build) const {
  return getShared(inputs, std::function<std::shared_ptr<const ResourceList>()>(
                               [&] { return std::make_shared<const ResourceList>(build()); }));
}

std::shared_ptr<const ResourceList> ConfigGenerator::getShared(
    std::string_view inputs,
    const std::function<std::shared_ptr<const ResourceList>()>& build) const {
  ContentKey key = ContentKey::of(inputs);
  {
    std::lock_guard<std::mutex> lock(store_->mu);
    auto it = store_->groups.find(key);
    if (it != store_->groups.end()) return it->second.resources;
  }
  // Built outside the lock; a thread that raced us to it wins, with an equal
  // result. Taken ones go into this generator's table too, so that they stay
  // offered to the next generators.
  Reusable found;
  bool reused = findEarlier(key, &found) != nullptr;
  auto got = reused ? found.resources : build();
  std::lock_guard<std::mutex> lock(store_->mu);
  auto [it, inserted] = store_->groups.emplace(key, Reusable{std::move(got)});
  if (inserted) ++(reused ? store_->stats.reused : store_->stats.built);
  return it->second.resources;
}

uint64_t ConfigGenerator::objectHash(const void* spec) const {
  auto it = object_hashes_.find(spec);
  return it == object_hashes_.end() ? 0 : it->second;
}

ConfigGenerator::ReuseStats ConfigGenerator::reuseStats() const {
  std::lock_guard<std::mutex> lock(store_->mu);
  return store_->stats;
}

std::string ConfigGenerator::outboundKey(const ProxyNode& proxy) const {
  std::string key = proxy.namespace_;
  if (uses_source_matches_) {
    for (const auto& [k, v] : proxy.labels)
      key += "|" + k + "=" + v;
  }
  return key;
}

std::shared_ptr<const ConfigGenerator::Outbound> ConfigGenerator::builtOutbound(
    const ProxyNode& proxy) const {
  std::shared_future<std::shared_ptr<const Outbound>> built;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outbound_.find(outboundKey(proxy));
    if (it == outbound_.end()) return nullptr;
    built = it->second;
  }
  return built.get();
}

std::shared_ptr<const ConfigGenerator::Outbound> ConfigGenerator::outbound(
    const ProxyNode& proxy) const {
  std::string key = outboundKey(proxy);
  std::promise<std::shared_ptr<const Outbound>> promise;
  std::shared_future<std::shared_ptr<const Outbound>> existing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outbound_.find(key);
    if (it != outbound_.end()) {
      existing = it->second;
    } else {
      outbound_.emplace(key, promise.get_future().share());
    }
  }
  if (existing.valid()) return existing.get();
  // Built outside the lock, so that other namespaces do not wait.
  auto out = std::make_shared<Outbound>();
  // Outbound listeners, route configs and clusters depend on no backend:
  // when only backends changed since a snapshot (the same configHash, which
  // covers every object but Pods and Endpoints, and the mesh config), the
  // namespace's lists are the ones built then, one lookup each instead of
  // computing every resource's inputs. Endpoints too, when none of the
  // visible services' backends changed.
  const std::string config_key =
      "config;" + std::to_string(snapshot_->configHash()) + ";" + outboundKey(proxy) + ";";
  out->listeners = *getShared(
      config_key + "lds", [&] { return buildOutboundListeners(*snapshot_, proxy, alloc_, this); });
  out->routes = *getShared(config_key + "rds",
                           [&] { return buildOutboundRouteConfigs(*snapshot_, proxy, this); });
  uint64_t backends = fnv1a("backends");
  for (const auto& svc : snapshot_->services()) {
    if (!snapshot_->visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
    backends = fnv1a(std::string_view(reinterpret_cast<const char*>(&svc.endpoints_hash),
                                      sizeof(svc.endpoints_hash)),
                     backends);
  }
  // A service's clusters and their assignments depend only on the service
  // and the DestinationRule a namespace sees for it, so namespaces seeing the
  // same rule share them (one entry per service). When no service's inputs
  // changed, the namespace's sorted lists are taken whole, which saves a
  // lookup per service and the sorting.
  using SharedList = std::shared_ptr<const ResourceList>;
  auto both = getShared(config_key + "cds-eds;" + std::to_string(backends), [&]() -> SharedList {
    // Each service's inputs are a line of the namespace's (`start`, `end`).
    struct Seen {
      const Service* service;
      const DestinationRule* rule;
      size_t start, end;
    };
    std::vector<Seen> seen;
    seen.reserve(snapshot_->services().size());
    std::string ns_inputs = "cds-ns;";
    ns_inputs.reserve(snapshot_->services().size() * 160);
    size_t n_clusters = 0;  // at most as many assignments
    for (const auto& svc : snapshot_->services()) {
      if (!snapshot_->visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
      const DestinationRule* rule = snapshot_->destinationRuleFor(svc, proxy.namespace_);
      size_t start = ns_inputs.size();
      appendServiceClustersInputs(*snapshot_, svc, rule, *this, &ns_inputs);
      ns_inputs += ";eds#";
      ns_inputs += std::to_string(svc.endpoints_hash);
      ns_inputs += ';';
      for (const auto& p : svc.ports) {
        ns_inputs += std::to_string(p.port);
        ns_inputs += ',';
      }
      seen.push_back({&svc, rule, start, ns_inputs.size()});
      ns_inputs += '\n';
      for (const auto& p : svc.ports) {
        if (p.protocol == Protocol::kUdp) continue;
        n_clusters += 1 + (rule ? rule->subsets.size() : 0);
      }
    }
    return getShared(ns_inputs, [&] {
      ServiceClusterSorter sorted;
      for (const auto& [svc, rule, start, end] : seen) {
        std::string_view inputs = std::string_view(ns_inputs).substr(start, end - start);
        auto group = getShared(inputs, [&, svc = svc, rule = rule] {
          ServiceClusters built = buildServiceClusters(*snapshot_, *svc, rule);
          ResourceList all = std::move(built.clusters);
          all.reserve(all.size() + built.eds.size());
          for (const auto& target : built.eds) {
            all.push_back(buildLoadAssignment(target.name, target.service, target.port,
                                              target.subset_labels));
          }
          return all;
        });
        // Clusters first, in buildServiceClusters' order (per port, the
        // whole service, then each subset), then one assignment per cluster
        // in the same order; a passthrough service has none.
        size_t n = 0;
        for (const auto& p : svc->ports) {
          if (p.protocol != Protocol::kUdp) n += 1 + (rule ? rule->subsets.size() : 0);
        }
        bool assignments = group->size() > n;
        size_t i = 0;
        auto add = [&](uint32_t port, std::string_view subset) {
          sorted.add(port, subset, (*group)[i], assignments ? &(*group)[n + i] : nullptr);
          ++i;
        };
        for (const auto& p : svc->ports) {
          if (p.protocol == Protocol::kUdp) continue;
          add(p.port, "");
          if (!rule) continue;
          for (const auto& subset : rule->subsets)
            add(p.port, subset.name);
        }
      }
      return sorted.take(2 * n_clusters);
    });
  });
  // Clusters, then assignments, each sorted by name.
  auto split = std::find_if(both->begin(), both->end(),
                            [](const Resource& r) { return r.type() == ResourceType::kEndpoint; });
  out->n_clusters = static_cast<size_t>(split - both->begin());
  out->clusters_then_endpoints = std::move(both);
  promise.set_value(out);
  return out;
}

Resource ConfigGenerator::loadAssignment(const EdsCluster& target) const {
  // The service's backends enter by the hash the snapshot keeps of them (the
  // one that decides endpoint pushes); the subset by its labels.
  std::string inputs = "eds;";
  inputs += target.name;
  inputs += ';';
  if (const Service* svc = target.service) {
    inputs += svc->fqdn + "#" + std::to_string(svc->endpoints_hash) +
              (svc->passthrough ? ";p" : ";e") + std::to_string(target.port) + ";";
    for (const auto& p : svc->ports)
      inputs += std::to_string(p.port) + ",";
  }
  inputs += ';';
  if (target.subset_labels) {
    for (const auto& [k, v] : *target.subset_labels)
      inputs += k + "=" + v + ";";
  } else {
    inputs += '*';
  }
  return get(inputs,
             [&]() -> ResourceList {
               return {buildLoadAssignment(target.name, target.service, target.port,
                                           target.subset_labels)};
             })
      .front();
}

Resource ConfigGenerator::loadAssignment(const std::string& cluster_name,
                                         const std::string& proxy_namespace) const {
  ClusterKey key;
  EdsCluster target;
  target.name = cluster_name;
  if (parseClusterName(cluster_name, &key) && key.direction == TrafficDirection::kOutbound) {
    target.service = snapshot_->findService(key.host);
    target.port = key.port;
  }
  if (target.service && !key.subset.empty()) {
    // A subset no rule defines selects nothing: Envoy gets an empty
    // assignment for the name it asked for.
    static const Labels kNoMatch = {{"", "\x01"}};
    target.subset_labels = &kNoMatch;
    target.rule = snapshot_->destinationRuleFor(*target.service, proxy_namespace);
    if (target.rule) {
      for (const auto& s : target.rule->subsets) {
        if (s.name == key.subset) target.subset_labels = &s.labels;
      }
    }
  }
  return loadAssignment(target);
}

ResourceList ConfigGenerator::generate(ResourceType type, const ProxyNode& proxy,
                                       const std::vector<std::string>& names) const {
  auto shared =
      type == ResourceType::kEndpoint && !names.empty() ? builtOutbound(proxy) : outbound(proxy);
  switch (type) {
    case ResourceType::kListener: {
      ResourceList inbound = buildInboundListeners(*snapshot_, proxy);
      return mergeByName({shared->listeners, inbound, virtual_listener_});
    }
    case ResourceType::kRoute:
      return shared->routes;
    case ResourceType::kCluster: {
      ResourceList inbound = buildInboundClusters(*snapshot_, proxy);
      return mergeByName({shared->clusters(), inbound, special_clusters_});
    }
    case ResourceType::kEndpoint: {
      auto endpoints = shared ? shared->endpoints() : std::span<const Resource>();
      if (names.empty()) return ResourceList(endpoints.begin(), endpoints.end());
      ResourceList out;
      for (const auto& n : names) {
        if (!shared) {
          out.push_back(loadAssignment(n, proxy.namespace_));
          continue;
        }
        auto it = std::lower_bound(
            endpoints.begin(), endpoints.end(), n,
            [](const Resource& r, const std::string& name) { return r.name() < name; });
        // A name outside this proxy's CDS (a stale subscription) still gets an
        // answer, as Envoy expects one for every name it asks for.
        out.push_back(
            it != endpoints.end() && it->name() == n ? *it : loadAssignment(n, proxy.namespace_));
      }
      sortByName(&out);
      return out;
    }
  }
  return {};
}

std::vector<std::string> ConfigGenerator::edsClusterNames(const ProxyNode& proxy) const {
  std::vector<std::string> out;
  auto shared = outbound(proxy);
  for (const auto& r : shared->endpoints())
    out.emplace_back(r.name());
  return out;
}

std::vector<std::string> ConfigGenerator::proxiesSeeing(const std::string& fqdn) const {
  std::vector<std::string> out;
  const Service* svc = snapshot_->findService(fqdn);
  for (const auto& id : snapshot_->proxyIds()) {
    auto proxy = snapshot_->findProxy(id);
    if (!svc || snapshot_->visibleTo(svc->export_to, svc->namespace_, proxy->namespace_))
      out.push_back(id);
  }
  return out;
}

}  // namespace remora::pilot
