// What a proxy runs, read from its admin pages: `/config_dump` (Envoy's
// envoy.admin.v3.ConfigDump) and `/clusters?format=json`
// (envoy.admin.v3.Clusters). Both static resources (bootstrap) and
// xDS-delivered ones (dynamic_listeners[].active_state, dynamic_active_clusters,
// dynamic_route_configs, EndpointsConfigDump) are read, as istioctl reads them.
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace remora::ctl {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;

struct ProxyConfig {
  // Each list holds the dynamic (xDS) resources first, then the static ones,
  // the order istioctl reads them in.
  std::vector<Listener> listeners;  // active listeners only: warming ones serve nothing
  std::vector<RouteConfiguration> route_configs;
  std::vector<Cluster> clusters;  // active clusters only
  std::vector<ClusterLoadAssignment> endpoints;
  std::optional<envoy::admin::v3::BootstrapConfigDump> bootstrap;
  // The dump as read, minus entries of types Remora does not know (listed in
  // `skipped`), for `proxy-config all -o json`.
  envoy::admin::v3::ConfigDump dump;
  std::vector<std::string> skipped;  // "@type"s of entries not understood

  const Cluster* findCluster(std::string_view name) const;
  const RouteConfiguration* findRouteConfig(std::string_view name) const;
  const ClusterLoadAssignment* findEndpoints(std::string_view cluster_name) const;
};

// Parses `/config_dump` output. Entries of unknown types are skipped, unknown
// fields ignored, so a real Envoy's dump reads too; Envoy v2's
// `dynamic_active_listeners` is read as v3's dynamic_listeners[].active_state.
StatusOr<ProxyConfig> parseConfigDump(std::string_view json);

// Parses `/clusters?format=json` output.
StatusOr<envoy::admin::v3::Clusters> parseClusters(std::string_view json);

// What `/clusters` would report when it cannot be asked (a saved config dump):
// every cluster with the endpoints of its load assignment (static or EDS),
// each with its EDS health status, none failing outlier checks.
envoy::admin::v3::Clusters clustersFromConfig(const ProxyConfig& config);

// Protobuf JSON (lowerCamel names, "@type" in Any), compact. Thread: any.
StatusOr<std::string> messageToJson(const google::protobuf::Message& message);

}  // namespace remora::ctl
