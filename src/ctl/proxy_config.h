// `remoractl proxy-config`: istioctl's filters, tables and listings over a
// proxy's config dump (../shared/reference/istio-facts.md 2.13). Pure: the
// command (proxy_config_command.cc) fetches, this renders.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ctl/config_dump.h"
#include "envoy/admin/v3/clusters.pb.h"

namespace remora::ctl {

enum class OutputFormat { kShort, kJson, kYaml };
// "short", "json" or "yaml".
StatusOr<OutputFormat> parseOutputFormat(std::string_view text);

// Listener: "HTTP" (an HTTP connection manager and no TCP proxy), "TCP",
// "HTTP+TCP", or "UNKNOWN". A tcp_proxy to BlackHoleCluster does not count,
// as in istioctl.
std::string listenerType(const Listener& listener);

// Each filter matches everything while its fields are empty/zero.
struct ListenerFilter {
  std::string address;  // exact, case-insensitive
  uint32_t port = 0;
  std::string type;  // HTTP, TCP, HTTP+TCP (case-insensitive)
  bool matches(const Listener& listener) const;
};

struct RouteFilter {
  std::string name;  // exact
  bool matches(const RouteConfiguration& route_config) const;
};

struct ClusterFilter {
  std::string fqdn;       // substring of the cluster name
  uint32_t port = 0;      // "|port|" in the name
  std::string subset;     // substring
  std::string direction;  // substring: "inbound" or "outbound"
  bool matches(const Cluster& cluster) const;
};

struct EndpointFilter {
  std::string address;  // exact IP (or unix path), case-insensitive
  uint32_t port = 0;
  std::string cluster;  // exact cluster name, case-insensitive
  std::string status;   // EDS health status name (HEALTHY, UNHEALTHY, ...), case-insensitive
  bool matches(const envoy::admin::v3::HostStatus& host, const std::string& cluster_name) const;
};

// Checks a --type / --direction / --status value, naming the flag.
Status validateListenerType(std::string_view type);
Status validateDirection(std::string_view direction);
Status validateHealthStatus(std::string_view status);

// The tables of `-o short`, each line as istioctl prints it: Go tabwriter
// layout (padding 5), istioctl's columns, cell text and row order.
std::string listenersTable(const ProxyConfig& config, const ListenerFilter& filter);
std::string routesTable(const ProxyConfig& config, const RouteFilter& filter);
std::string clustersTable(const ProxyConfig& config, const ClusterFilter& filter);
std::string endpointsTable(const envoy::admin::v3::Clusters& clusters,
                           const EndpointFilter& filter);

// `-o json` / `-o yaml`: the selected resources as a JSON array (4-space
// indents, protobuf's lowerCamel names, like the seed's listings) or YAML.
StatusOr<std::string> listenersDocument(const ProxyConfig& config, const ListenerFilter& filter,
                                        OutputFormat format);
StatusOr<std::string> routesDocument(const ProxyConfig& config, const RouteFilter& filter,
                                     OutputFormat format);
StatusOr<std::string> clustersDocument(const ProxyConfig& config, const ClusterFilter& filter,
                                       OutputFormat format);
// The cluster statuses that have a matching endpoint, with only those endpoints.
StatusOr<std::string> endpointsDocument(const envoy::admin::v3::Clusters& clusters,
                                        const EndpointFilter& filter, OutputFormat format);
// A single message (the bootstrap dump, the whole config dump) as one
// document rather than a list.
StatusOr<std::string> messageDocument(const google::protobuf::Message& message,
                                      OutputFormat format);

// "<name>.<namespace>" of the Istio object named in `istio.config` metadata
// ("/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews"
// -> "reviews.default"), "" without one, "<unknown>" for other paths.
std::string describeManagement(const envoy::config::core::v3::Metadata& metadata);

// A cluster name split as istioctl's ParseSubsetKey splits
// "outbound|9080|v1|reviews.default.svc.cluster.local"; `is_subset_key` false
// for names with fewer than four parts (BlackHoleCluster, xds-grpc).
struct SubsetKey {
  bool is_subset_key = false;
  std::string direction;
  uint32_t port = 0;
  std::string subset;
  std::string fqdn;
};
SubsetKey parseSubsetKey(std::string_view cluster_name);

}  // namespace remora::ctl
