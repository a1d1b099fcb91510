// Istio's naming rules, which proxies, istioctl users and our remoractl all
// rely on: cluster keys, listener names, virtual host domains, port protocols
// and short-name resolution (reference/istio-facts.md 2.4-2.8).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace remora::pilot {

enum class Protocol { kHttp, kHttp2, kGrpc, kTcp, kTls, kUdp };

const char* protocolName(Protocol p);
// HTTP-family ports get an HTTP connection manager; all others tcp_proxy.
bool isHttpProtocol(Protocol p);

// Kubernetes Service port: appProtocol wins, else the port name's prefix before
// the first '-' (http, http2, grpc, grpc-web, tcp, tls, https...), else TCP.
// UDP/SCTP ports are reported as kUdp and get no listener.
Protocol protocolForServicePort(std::string_view name, std::string_view app_protocol,
                                std::string_view k8s_protocol);
// ServiceEntry port: the `protocol` field (HTTP, HTTP2, GRPC, TCP, TLS...).
Protocol protocolForServiceEntryPort(std::string_view protocol);

enum class TrafficDirection { kInbound, kOutbound };

// `outbound|9080|v1|ratings.default.svc.cluster.local`; empty subset gives `||`.
std::string clusterName(TrafficDirection direction, uint32_t port, std::string_view subset,
                        std::string_view host);

struct ClusterKey {
  TrafficDirection direction = TrafficDirection::kOutbound;
  uint32_t port = 0;
  std::string subset;
  std::string host;
};
// Inverse of clusterName; false for names that are not subset keys
// (BlackHoleCluster, PassthroughCluster...).
bool parseClusterName(std::string_view name, ClusterKey* key);

// `10.254.0.1_443`, `0.0.0.0_9080`.
std::string listenerName(std::string_view ip, uint32_t port);

// `ratings.default.svc.cluster.local:9080`.
std::string hostPort(std::string_view host, uint32_t port);

// Domains of the outbound virtual host for (host, port) as seen from a proxy in
// `proxy_namespace`, in the seed's order: host, host:port, then the names a
// caller in that namespace may use (the unique part of the host and each
// longer form up to the shared DNS suffix, each with :port), then each VIP and
// VIP:port. From the same namespace that gives `ratings`, `ratings.default.svc.cluster`,
// `ratings.default.svc`, `ratings.default`; from another namespace never the
// bare `ratings`.
std::vector<std::string> virtualHostDomains(std::string_view host, uint32_t port,
                                            const std::vector<std::string>& vips,
                                            std::string_view proxy_namespace,
                                            std::string_view domain_suffix);
// The same, appended to `text` one after the other, the end of each in
// `ends`: no allocation per domain (route configs hold ~10 000 of them).
void appendVirtualHostDomains(std::string_view host, uint32_t port,
                              const std::vector<std::string>& vips,
                              std::string_view proxy_namespace, std::string_view domain_suffix,
                              std::string* text, std::vector<size_t>* ends);

// Resolves a host written in an Istio object of namespace `ns`: `reviews` ->
// `reviews.<ns>.svc.<suffix>`; `reviews.prod` and `reviews.prod.svc` ->
// `reviews.prod.svc.<suffix>`; anything else (FQDNs, external names,
// wildcards) unchanged.
std::string resolveHost(std::string_view host, std::string_view ns, std::string_view domain_suffix);

// Kubernetes FQDN of a Service.
std::string serviceFqdn(std::string_view name, std::string_view ns, std::string_view domain_suffix);

// True when `host` (maybe `*.suffix` or `*`) covers `fqdn`.
bool hostMatches(std::string_view pattern, std::string_view fqdn);

}  // namespace remora::pilot
