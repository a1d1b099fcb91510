// EDS: the ClusterLoadAssignment of one outbound cluster: the service's
// instances serving the port, filtered by the subset's labels, grouped by
// locality (each with load_balancing_weight, which gRPC clients require), pod
// endpoints tagged with metadata istio.uid = kubernetes://<pod>.<ns>.
#pragma once

#include <string_view>

#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// `subset_labels` come from the DestinationRule the proxy sees; null when the
// cluster has no subset. An unknown cluster gives an assignment with no
// endpoints (what Envoy expects for a name it asked for). Written straight in
// wire format (proto_writer.h): pilot builds thousands of them.
Resource buildLoadAssignment(std::string_view cluster_name, const Service* service, uint32_t port,
                             const Labels* subset_labels);

}  // namespace remora::pilot
