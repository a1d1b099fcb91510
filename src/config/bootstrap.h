// The proxy's Envoy v3 bootstrap: loading (-c / --config-yaml), semantic
// validation with field paths, and small accessors that apply Envoy's defaults.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "common/status.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "network/address.h"

namespace remora::config {

using Bootstrap = envoy::config::bootstrap::v3::Bootstrap;

// Envoy's `-c path` and `--config-yaml text`: either may be empty, not both.
// The file (YAML or JSON, whatever its extension) is parsed, then the overlay
// is parsed as a second Bootstrap and merged in with protobuf MergeFrom (so
// repeated fields such as listeners are appended, scalars overwritten).
// Only parses: call validateBootstrap() on the result before using it.
// Thread: any (reads the file).
StatusOr<Bootstrap> loadBootstrap(const std::string& path, const std::string& config_yaml_overlay);

// Semantic checks Envoy does at load time, restricted to what Remora supports.
// All problems found are reported, one per line, each starting with its field
// path, e.g. "static_resources.listeners[1].name: duplicate listener name
// "web" (also static_resources.listeners[0])". Thread: any.
Status validateBootstrap(const Bootstrap& bootstrap);

// dynamic_resources over ADS, as Istio's bootstrap writes it: lds_config and
// cds_config `{ads: {}}`, ads_config a gRPC service naming a static cluster
// (Istio's "xds-grpc") whose endpoint is the control plane.
struct AdsSettings {
  std::string cluster_name;        // empty for google_grpc.target_uri
  network::SocketAddress address;  // where the control plane listens
  bool lds = false;                // listeners come over ADS
  bool cds = false;                // clusters come over ADS
  std::chrono::milliseconds lds_initial_fetch_timeout{15000};
  std::chrono::milliseconds cds_initial_fetch_timeout{15000};
};
// nullopt when the bootstrap has no dynamic_resources. Errors name the field
// path ("dynamic_resources.ads_config.api_type: ...").
StatusOr<std::optional<AdsSettings>> adsSettings(const Bootstrap& bootstrap);
// A ConfigSource's initial_fetch_timeout, 15 s when unset (Envoy's default).
std::chrono::milliseconds initialFetchTimeout(const envoy::config::core::v3::ConfigSource& source);

// The same checks for one listener or cluster, e.g. an xDS resource. `path`
// prefixes the messages. `known_clusters` null means clusters come from CDS,
// so cluster references are not checked.
Status validateListener(const envoy::config::listener::v3::Listener& listener,
                        const std::set<std::string>* known_clusters, const std::string& path);
Status validateCluster(const envoy::config::cluster::v3::Cluster& cluster, const std::string& path);

// An Address that must be an IP literal and a port (listener, admin and static
// endpoint addresses). Errors say which part is wrong, without a path.
StatusOr<network::SocketAddress> toSocketAddress(const envoy::config::core::v3::Address& address);
// Envoy's CidrRange: prefix_len defaults to 0 when unset.
StatusOr<network::CidrRange> toCidrRange(const envoy::config::core::v3::CidrRange& range);

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d);
// Cluster.connect_timeout, 5 s when unset (Envoy's default).
std::chrono::milliseconds connectTimeout(const envoy::config::cluster::v3::Cluster& cluster);
// Listener.listener_filters_timeout, 15 s when unset (Envoy's default); zero
// means no timeout.
std::chrono::milliseconds listenerFiltersTimeout(const envoy::config::listener::v3::Listener& l);
// Listener.bind_to_port, true when unset.
bool bindToPort(const envoy::config::listener::v3::Listener& listener);
// use_original_dst: true, or an envoy.filters.listener.original_dst listener
// filter: both mean "hand connections off by original destination".
bool usesOriginalDst(const envoy::config::listener::v3::Listener& listener);

}  // namespace remora::config
