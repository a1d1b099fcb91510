// RDS: route configurations. Outbound route config `<port>` holds one virtual
// host per HTTP service on that port (domains per naming.h, routes from the
// service's VirtualService or the default route) plus the catch-all host.
// Inbound route configs are inline in the inbound listeners (lds.h).
#pragma once

#include <string>

#include "envoy/config/route/v3/route.pb.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/resources.h"

namespace remora::pilot {

// All outbound route configs for a proxy, sorted by name, written straight
// in wire format (proto_writer.h). With `reuse`, each route config whose
// inputs match one already built is taken from there, and each virtual host
// whose inputs match is copied as bytes.
ResourceList buildOutboundRouteConfigs(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                       const ResourceReuse* reuse = nullptr);

// Appends to `out` what resources built from `rvs` (null: none) depend on
// besides the proxy: the object's identity and content, and how its
// destinations resolve in `snapshot` (a destination without a port takes the
// single port of its service).
void appendVirtualServiceInputs(const MeshSnapshot& snapshot, const ResolvedVirtualService* rvs,
                                const ResourceReuse& reuse, std::string* out);

// The virtual host `<fqdn>:<port>` of one service port as `proxy` sees it:
// every domain a caller may use (with the :port forms) and the routes of the
// service's VirtualService, else the default route. Proxyless gRPC clients
// get one per route config (proxyless.h).
void buildServiceVirtualHost(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                             const Service& service, uint32_t port,
                             envoy::config::route::v3::VirtualHost* out);

// `inbound|<port>||<fqdn>`: every host and path to the inbound cluster.
envoy::config::route::v3::RouteConfiguration buildInboundRouteConfig(const InboundTarget& target);

}  // namespace remora::pilot
