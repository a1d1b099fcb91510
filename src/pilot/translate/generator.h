// Per-proxy configuration from one snapshot: what an ADS server asks for.
// One ConfigGenerator per MeshSnapshot; it caches the parts that depend only on
// the proxy's namespace (outbound listeners, routes and clusters; endpoint
// assignments), so serving N proxies costs one outbound build per namespace
// plus N small inbound builds. Thread-safe: generate() may be called from any
// thread; caches are filled under a mutex.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pilot/model/snapshot.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

class ConfigGenerator {
 public:
  explicit ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot);

  const MeshSnapshot& snapshot() const { return *snapshot_; }

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

 private:
  // What all proxies of a namespace share (plus their labels, when some
  // VirtualService matches on sourceLabels). Built once, on first use.
  struct Outbound {
    ResourceList listeners;
    ResourceList routes;
    ResourceList clusters;
    ResourceList endpoints;  // one per EDS cluster of `clusters`
  };
  std::shared_ptr<const Outbound> outbound(const ProxyNode& proxy) const;
  // The cached one, or null when no proxy of the namespace asked yet.
  std::shared_ptr<const Outbound> builtOutbound(const ProxyNode& proxy) const;
  std::string outboundKey(const ProxyNode& proxy) const;
  // For names a proxy asks for outside its CDS.
  Resource loadAssignment(const std::string& cluster_name,
                          const std::string& proxy_namespace) const;
  Resource loadAssignment(const EdsCluster& target) const;

  std::shared_ptr<const MeshSnapshot> snapshot_;
  // Everything the generator caches lives on one arena, freed with it.
  MessageAllocator alloc_;
  bool uses_source_matches_ = false;
  ResourceList virtual_listener_;
  ResourceList special_clusters_;
  mutable std::mutex mu_;
  // By namespace (+labels). A future, so that a second thread asking for a
  // namespace being built waits for it instead of building it again.
  mutable std::map<std::string, std::shared_future<std::shared_ptr<const Outbound>>> outbound_;
  // By cluster name (viewing the assignment's own name) and the
  // DestinationRule that chose its subset labels: namespaces that see the
  // same rule share the assignment.
  mutable std::map<std::pair<std::string_view, const DestinationRule*>, Resource> assignments_;
  // A service's clusters depend only on the DestinationRule a namespace
  // sees for it, so namespaces seeing the same rule share them.
  mutable std::map<std::pair<const Service*, const DestinationRule*>,
                   std::shared_ptr<const ServiceClusters>>
      service_clusters_;
};

}  // namespace remora::pilot
