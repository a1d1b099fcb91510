// The mesh as translation sees it: one immutable, indexed view built from a
// ConfigSet. Kubernetes Services and ServiceEntry hosts become the same
// Service type with their backends (instances) resolved, so generators never
// look at raw Kubernetes objects. Shared between threads as
// shared_ptr<const MeshSnapshot>; nothing in it changes after build().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pilot/model/config_store.h"
#include "pilot/model/naming.h"
#include "pilot/model/types.h"

namespace remora::pilot {

struct ServicePort {
  std::string name;
  uint32_t port = 0;
  Protocol protocol = Protocol::kTcp;
};

// One backend of a service: a pod or a ServiceEntry endpoint.
struct ServiceInstance {
  std::string address;
  std::vector<uint32_t> ports;  // parallel to Service::ports; 0 = not served
  Labels labels;
  std::string uid;       // "kubernetes://<pod>.<ns>", empty for non-pods
  std::string locality;  // region/zone/subzone
  uint32_t weight = 1;
};

struct Service {
  enum class Origin { kKubernetes, kServiceEntry };
  std::string fqdn;
  std::string name;  // Kubernetes name, or the ServiceEntry's name
  std::string namespace_;
  Origin origin = Origin::kKubernetes;
  std::vector<std::string> vips;  // ClusterIP or ServiceEntry addresses
  std::vector<ServicePort> ports;
  // ServiceEntry resolution NONE: the proxy forwards to the original
  // destination, so the cluster is ORIGINAL_DST and has no endpoints.
  bool passthrough = false;
  std::vector<std::string> export_to;
  std::vector<ServiceInstance> instances;  // sorted by address
  std::string source;                      // "ServiceEntry default/ext" etc.
  uint64_t endpoints_hash = 0;

  const ServicePort* findPort(uint32_t port) const;
};

// A sidecar's identity: the pod it runs in.
struct ProxyNode {
  std::string pod_name;
  std::string namespace_;
  std::string ip;
  Labels labels;
  std::string service_account;
  std::string id() const { return pod_name + "." + namespace_; }
};

// A service port that delivers traffic to a given pod: the inbound side.
struct InboundTarget {
  const Service* service = nullptr;
  ServicePort port;
  uint32_t target_port = 0;  // where the app listens
};

// A VirtualService with its hosts resolved to FQDNs (or wildcards).
struct ResolvedVirtualService {
  const VirtualService* spec = nullptr;
  std::vector<std::string> hosts;
  std::string ref;  // "default/reviews"
};

class MeshSnapshot {
 public:
  // `version` is opaque to the snapshot; the watcher counts builds.
  static std::shared_ptr<const MeshSnapshot> build(ConfigSet config, uint64_t version = 1);
  // The same snapshot, built from `previous` when `config` differs from its
  // config only in Pods and Endpoints (equal configHash()): services,
  // rules and their indexes are taken over and only the instances of
  // services that select a changed pod (or read a changed Endpoints) are
  // computed again. Otherwise, or without `previous`, a full build.
  static std::shared_ptr<const MeshSnapshot> build(ConfigSet config, uint64_t version,
                                                   const MeshSnapshot* previous);
  // True when build() patched a previous snapshot (for logs and tests).
  bool patched() const { return patched_; }

  uint64_t version() const { return version_; }
  const MeshConfig& mesh() const { return config_.mesh; }
  const ConfigSet& config() const { return config_; }
  // Refusals from parsing plus problems found while linking objects.
  const std::vector<Refusal>& refusals() const { return config_.refusals; }
  // Dangling subsets, unknown hosts, conflicts, ignored kinds.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Sorted by FQDN.
  const std::vector<Service>& services() const { return services_; }
  const Service* findService(std::string_view fqdn) const;
  bool visibleTo(const std::vector<std::string>& export_to, std::string_view owner_ns,
                 std::string_view proxy_ns) const;

  std::optional<ProxyNode> findProxy(std::string_view pod_dot_namespace) const;
  std::vector<std::string> proxyIds() const;  // "pod.ns" of every pod with an IP, sorted
  std::vector<InboundTarget> inboundTargets(const ProxyNode& proxy) const;

  // Host in an Istio object of namespace `ns` -> FQDN (naming.h resolveHost,
  // except that a literal registry host such as a two-label ServiceEntry name
  // is kept as written).
  std::string resolveHost(std::string_view host, std::string_view ns) const;

  // The VirtualService that applies to `fqdn` for sidecars in `proxy_ns`:
  // visible ones only, the proxy's namespace first, then oldest
  // (creationTimestamp, then namespace/name). Exact hosts beat wildcards.
  const ResolvedVirtualService* virtualServiceFor(std::string_view fqdn,
                                                  std::string_view proxy_ns) const;
  // The DestinationRule for `fqdn` seen from `proxy_ns`: proxy namespace, then
  // the service's namespace, then the root namespace, then any other visible.
  const DestinationRule* destinationRuleFor(const Service& service,
                                            std::string_view proxy_ns) const;
  const std::vector<ResolvedVirtualService>& virtualServices() const { return virtual_services_; }

  // Hash of everything except backends (pods, Endpoints): equal hashes across
  // two snapshots mean only endpoints changed.
  uint64_t configHash() const { return config_hash_; }
  // Hash of a proxy's own identity and inbound side; 0 when unknown.
  uint64_t proxyHash(std::string_view pod_dot_namespace) const;
  // "pod.ns" -> hash of the Pod object's document: a pod whose document did
  // not change has the same proxy config when nothing else did.
  const std::map<std::string, uint64_t, std::less<>>& podObjectHashes() const {
    return pod_object_hashes_;
  }

 private:
  MeshSnapshot() = default;
  void index();
  void buildServices();
  void buildInbound();
  void linkRules();
  // False when `previous` turns out not to match (a hash collision): the
  // caller then builds in full.
  bool patchFrom(const MeshSnapshot& previous);
  // A Kubernetes Service's backends: selected pods, or its Endpoints.
  void selectInstances(const K8sService& k, const std::string& key, Service* s) const;

  // A DestinationRule with its host resolved once, at build.
  struct ResolvedDestinationRule {
    const DestinationRule* spec = nullptr;
    std::string host;
  };
  // Rules by the hosts they name: exact FQDNs in a map, wildcards in a list
  // (few in practice), so that lookups do not scan every rule per service.
  struct HostIndex {
    // Hashed: looked up for every service of a namespace when its first
    // proxy asks, and a tree walk missed the cache at every level.
    struct Hash {
      using is_transparent = void;
      size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::vector<size_t>, Hash, std::equal_to<>> exact;
    std::vector<std::pair<std::string, size_t>> wildcard;
    void add(const std::string& host, size_t rule);
    // Calls `f(rule)` for the rules that may cover `fqdn`: exact ones, then
    // wildcards, in rule order (no list built per lookup).
    template <typename F>
    void forEachCandidate(std::string_view fqdn, F&& f) const {
      if (auto it = exact.find(fqdn); it != exact.end()) {
        for (size_t rule : it->second)
          f(rule);
      }
      for (const auto& [host, rule] : wildcard) {
        if (hostMatches(host, fqdn)) f(rule);
      }
    }
  };
  uint64_t version_ = 0;
  ConfigSet config_;
  std::vector<Service> services_;
  // Hashed, like HostIndex: looked up for every destination of every rule
  // while a namespace's config is built.
  std::unordered_map<std::string, size_t, HostIndex::Hash, std::equal_to<>> service_by_fqdn_;
  std::map<std::string, const K8sPod*, std::less<>> pods_;  // "pod.ns"
  std::map<std::string, uint64_t, std::less<>> pod_object_hashes_;
  // "ns\0key=value" -> pods in that namespace with that label, in pods_ order:
  // selectors look up their first label instead of scanning every pod.
  std::map<std::string, std::vector<std::pair<const std::string*, const K8sPod*>>, std::less<>>
      pods_by_label_;
  std::map<std::string, const K8sEndpoints*, std::less<>> endpoints_;     // "ns/name"
  std::map<std::string, uint64_t, std::less<>> endpoints_object_hashes_;  // "ns/name"
  // "ns/podIP" -> the Kubernetes service ports that pod serves, sorted.
  std::map<std::string, std::vector<InboundTarget>, std::less<>> inbound_;
  std::vector<ResolvedVirtualService> virtual_services_;  // preference order
  HostIndex virtual_service_index_;
  std::vector<ResolvedDestinationRule> destination_rules_;
  HostIndex destination_rule_index_;
  std::vector<std::string> warnings_;
  // warnings_ starts with the ConfigSet's own; the rest come from linking
  // services and rules, which a patched snapshot takes over.
  size_t config_warnings_ = 0;
  uint64_t config_hash_ = 0;
  bool patched_ = false;
};

// What changed between two snapshots, so that a server pushes as little as
// possible: when config_changed is false, only EDS for clusters of
// `endpoint_services` needs pushing (to the proxies subscribed to them), plus
// a full push to `changed_proxies` (pods that appeared, vanished, moved or
// were relabelled, since their inbound listeners depend on that). With
// `config_changed` every proxy gets a full push and `changed_proxies` is
// left empty; otherwise only pods whose documents changed are examined, so
// the comparison costs what changed, not the mesh.
struct SnapshotChanges {
  bool config_changed = true;
  std::vector<std::string> endpoint_services;  // FQDNs whose instances changed
  std::vector<std::string> changed_proxies;    // "pod.ns"
};
SnapshotChanges compareSnapshots(const MeshSnapshot& before, const MeshSnapshot& after);

}  // namespace remora::pilot
