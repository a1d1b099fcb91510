// Per-proxy configuration from one snapshot: what an ADS server asks for.
// One ConfigGenerator per MeshSnapshot; it caches the parts that depend only on
// the proxy's namespace (outbound listeners, routes and clusters; endpoint
// assignments), so serving N proxies costs one outbound build per namespace
// plus N small inbound builds. Thread-safe: generate() may be called from any
// thread; caches are filled under a mutex.
//
// Reuse across snapshots (like Istio's XdsCache): shared resources are kept
// by a key of their inputs (ContentKey), and a generator built with the one
// it replaces takes every resource whose inputs did not change from it, so
// the first proxy after a change pays for what changed. A reused resource
// keeps the arena it was built on alive.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pilot/model/snapshot.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

class ConfigGenerator : private ResourceReuse {
 public:
  explicit ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot);
  // `previous`: the generator of the snapshot this one replaces (null: none).
  // What it built, or inherited and used lately, is taken over when the
  // inputs match; `previous` may be destroyed afterwards.
  ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot, const ConfigGenerator* previous);

  const MeshSnapshot& snapshot() const { return *snapshot_; }
  const std::shared_ptr<const MeshSnapshot>& snapshotPtr() const { return snapshot_; }

  // All resources of `type` for `proxy`, sorted by name. For kEndpoint,
  // `names` selects cluster names (what the proxy subscribed to); empty means
  // every EDS cluster the proxy's CDS contains. Other types ignore `names`.
  // Named endpoints come from the namespace's shared config when some proxy
  // already built it, else one by one: an endpoint-only push right after a
  // new snapshot then costs the changed clusters, not a namespace build.
  ResourceList generate(ResourceType type, const ProxyNode& proxy,
                        const std::vector<std::string>& names = {}) const;

  // Names of the EDS clusters in the proxy's CDS (what it will subscribe to).
  std::vector<std::string> edsClusterNames(const ProxyNode& proxy) const;

  // Proxies in the snapshot that see `fqdn` (exportTo), e.g. to push EDS
  // after an endpoints-only change (SnapshotChanges::endpoint_services).
  std::vector<std::string> proxiesSeeing(const std::string& fqdn) const;

  // Shared resource groups (a route config, a listener, a service's
  // clusters and their assignments, an assignment) taken from the previous generator, and built
  // here, so far.
  struct ReuseStats {
    size_t reused = 0;
    size_t built = 0;
  };
  ReuseStats reuseStats() const;

 private:
  // ResourceReuse, for the builders.
  ResourceList get(std::string_view inputs,
                   const std::function<ResourceList()>& build) const override;
  // get() without copying the list.
  std::shared_ptr<const ResourceList> getShared(std::string_view inputs,
                                                const std::function<ResourceList()>& build) const;
  // The same with a builder that returns a shared list (e.g. one got under
  // another key): kept under both keys, not copied.
  std::shared_ptr<const ResourceList> getShared(
      std::string_view inputs,
      const std::function<std::shared_ptr<const ResourceList>()>& build) const;
  uint64_t objectHash(const void* spec) const override;
  Part findPart(std::string_view scope, std::string_view inputs) const override;
  void keepPart(std::string_view scope, std::string_view inputs, Part part) const override;
  std::string proxyKey(const ProxyNode& proxy) const override { return outboundKey(proxy); }

  // What all proxies of a namespace share (plus their labels, when some
  // VirtualService matches on sourceLabels). Built once, on first use.
  struct Outbound {
    ResourceList listeners;
    ResourceList routes;
    // Clusters, then one assignment per EDS cluster, each part sorted by
    // name: shared with the generator's table rather than copied.
    std::shared_ptr<const ResourceList> clusters_then_endpoints;
    size_t n_clusters = 0;
    std::span<const Resource> clusters() const {
      return std::span<const Resource>(*clusters_then_endpoints).first(n_clusters);
    }
    std::span<const Resource> endpoints() const {
      return std::span<const Resource>(*clusters_then_endpoints).subspan(n_clusters);
    }
  };
  std::shared_ptr<const Outbound> outbound(const ProxyNode& proxy) const;
  // The cached one, or null when no proxy of the namespace asked yet.
  std::shared_ptr<const Outbound> builtOutbound(const ProxyNode& proxy) const;
  std::string outboundKey(const ProxyNode& proxy) const;
  // For names a proxy asks for outside its CDS.
  Resource loadAssignment(const std::string& cluster_name,
                          const std::string& proxy_namespace) const;
  Resource loadAssignment(const EdsCluster& target) const;

  struct Reusable {
    std::shared_ptr<const ResourceList> resources;
  };
  using ReuseTable = std::unordered_map<ContentKey, Reusable, ContentKeyHash>;
  using PartTable = std::unordered_map<ContentKey, Part, ContentKeyHash>;
  // What one generator built or took; the next generators look here, through
  // `parent`, a few generations back. Outlives its generator while a later
  // one links to it.
  struct Store {
    std::mutex mu;
    ReuseTable groups;  // get()
    PartTable parts;    // findPart() / keepPart()
    std::shared_ptr<Store> parent;
    ReuseStats stats;
  };
  // The entry for `key` in an earlier generator's store, copied to `found`.
  const Reusable* findEarlier(const ContentKey& key, Reusable* found) const;

  std::shared_ptr<const MeshSnapshot> snapshot_;
  // What the generator builds lives on one arena, freed when neither it nor
  // a later generator that took resources from it is left.
  MessageAllocator alloc_;
  bool uses_source_matches_ = false;
  ResourceList virtual_listener_;
  ResourceList special_clusters_;
  mutable std::mutex mu_;
  // By namespace (+labels). A future, so that a second thread asking for a
  // namespace being built waits for it instead of building it again.
  mutable std::map<std::string, std::shared_future<std::shared_ptr<const Outbound>>> outbound_;
  // VirtualService and DestinationRule specs -> their document's hash.
  std::unordered_map<const void*, uint64_t> object_hashes_;
  std::shared_ptr<Store> store_;
  bool has_earlier_ = false;  // built with a previous generator
};

}  // namespace remora::pilot
