// CDS: `outbound|<port>||<fqdn>` (EDS over ADS, or ORIGINAL_DST for
// passthrough ServiceEntries) per service port, one more per DestinationRule
// subset, `inbound|<port>||<fqdn>` (STATIC to 127.0.0.1:<targetPort>) per
// served port, and BlackHoleCluster / PassthroughCluster.
#pragma once

#include <memory>
#include <vector>

#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// What EDS needs to know about one EDS cluster; filled while CDS is built so
// that endpoints are computed without parsing cluster names back.
struct EdsCluster {
  std::string_view name;  // views the Cluster resource's name
  const Service* service = nullptr;
  uint32_t port = 0;
  const Labels* subset_labels = nullptr;  // null: the whole service
  const DestinationRule* rule = nullptr;  // the rule that defined the subset
};

// The outbound clusters of one service as `rule` (null: none) shapes them.
struct ServiceClusters {
  ResourceList clusters;
  std::vector<EdsCluster> eds;
};
// Written straight in wire format (proto_writer.h): pilot builds thousands.
ServiceClusters buildServiceClusters(const MeshSnapshot& snapshot, const Service& service,
                                     const DestinationRule* rule);
// The EDS clusters of `clusters`, which buildServiceClusters built for a
// service and rule with the same inputs (appendServiceClustersInputs): pointers
// into this snapshot for clusters that may come from an earlier one.
std::vector<EdsCluster> serviceEdsClusters(const Service& service, const DestinationRule* rule,
                                           const ResourceList& clusters);
// What buildServiceClusters output depends on, as ResourceReuse::get wants
// it, appended to `out`.
void appendServiceClustersInputs(const MeshSnapshot& snapshot, const Service& service,
                                 const DestinationRule* rule, const ResourceReuse& reuse,
                                 std::string* out);

ResourceList buildInboundClusters(const MeshSnapshot& snapshot, const ProxyNode& proxy);
ResourceList buildSpecialClusters(const MeshSnapshot& snapshot, const MessageAllocator& alloc = {});

// The effective policy of a subset: top level, then the subset's fields over it.
TrafficPolicy mergeTrafficPolicy(const std::optional<TrafficPolicy>& top,
                                 const std::optional<TrafficPolicy>& subset);

}  // namespace remora::pilot
