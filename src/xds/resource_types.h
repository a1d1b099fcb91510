// The xDS resource types the proxy speaks, by their type URLs.
#pragma once

#include <string_view>

namespace remora::xds {

inline constexpr std::string_view kListenerType =
    "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteConfigurationType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterType =
    "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kClusterLoadAssignmentType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// "LDS", "RDS", "CDS", "EDS" for logs and admin pages; the URL itself if unknown.
std::string_view shortTypeName(std::string_view type_url);

}  // namespace remora::xds
