// What proxyless gRPC clients get (a channel to `xds:///<host>:<port>`; Istio's
// grpcgen). Such a client asks for listener `<host>:<port>` by name and expects
// an API listener (HttpConnectionManager, RDS over ADS, router filter last),
// then route config `<host>:<port>` with one virtual host whose domains keep
// the :port forms (gRPC matches the target's authority, port included), then
// the clusters it names and their endpoints.
//
// gRPC's xDS client (1.51, Debian's) is stricter than Envoy; what it refuses
// and pilot therefore changes for it (found by testing, pilot_proxyless_test):
// - lb_policy other than ROUND_ROBIN and RING_HASH: the cluster is NACKed;
//   pilot serves ROUND_ROBIN instead of LEAST_REQUEST and RANDOM.
// - header matchers written with string_match (Envoy's current form): the
//   route config is NACKed; pilot writes the older exact_match, prefix_match,
//   suffix_match, contains_match and safe_regex_match fields.
// - localities without load_balancing_weight are dropped silently (EDS always
//   sets it, see eds.h).
// Pure functions of the snapshot; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// The service port a `<host>:<port>` name stands for, the host resolved as a
// name written in the proxy's namespace; nullopt when there is none.
struct ServicePortRef {
  const Service* service = nullptr;
  uint32_t port = 0;
};
std::optional<ServicePortRef> findServicePort(const MeshSnapshot& snapshot, std::string_view name,
                                              std::string_view proxy_namespace);

// Listener `name` with an api_listener whose RDS route config is also `name`.
Resource buildApiListener(const std::string& name);
// Route config `name` with the single virtual host of `ref` (rds.h).
Resource buildProxylessRouteConfig(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                   const std::string& name, const ServicePortRef& ref);
// `cluster` as gRPC accepts it, or the same object when nothing changes.
Resource adaptClusterForGrpc(const Resource& cluster);

}  // namespace remora::pilot
