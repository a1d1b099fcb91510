// CDS: `outbound|<port>||<fqdn>` (EDS over ADS, or ORIGINAL_DST for
// passthrough ServiceEntries) per service port, one more per DestinationRule
// subset, `inbound|<port>||<fqdn>` (STATIC to 127.0.0.1:<targetPort>) per
// served port, and BlackHoleCluster / PassthroughCluster.
#pragma once

#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// Depends on the proxy only through its namespace (DestinationRule lookup and
// exportTo), so ConfigGenerator caches it per namespace.
ResourceList buildOutboundClusters(const MeshSnapshot& snapshot, std::string_view proxy_namespace);
ResourceList buildInboundClusters(const MeshSnapshot& snapshot, const ProxyNode& proxy);
ResourceList buildSpecialClusters(const MeshSnapshot& snapshot);

// The effective policy of a subset: top level, then the subset's fields over it.
TrafficPolicy mergeTrafficPolicy(const std::optional<TrafficPolicy>& top,
                                 const std::optional<TrafficPolicy>& subset);

}  // namespace remora::pilot
