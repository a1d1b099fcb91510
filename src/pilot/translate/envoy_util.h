// Small builders for Envoy messages that every generator needs.
#pragma once

#include <cstdint>
#include <string>

#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/protobuf/duration.pb.h"

namespace remora::pilot {

// Envoy's canonical filter names (v3 typed_config; the seed's v2 output used
// the older envoy.tcp_proxy / envoy.http_connection_manager).
inline constexpr char kTcpProxyFilter[] = "envoy.filters.network.tcp_proxy";
inline constexpr char kHcmFilter[] = "envoy.filters.network.http_connection_manager";
inline constexpr char kRouterFilter[] = "envoy.filters.http.router";
inline constexpr char kBlackHoleCluster[] = "BlackHoleCluster";
inline constexpr char kPassthroughCluster[] = "PassthroughCluster";

void setSocketAddress(const std::string& ip, uint32_t port, envoy::config::core::v3::Address* out);
void setDurationMs(int64_t ms, google::protobuf::Duration* out);
void setAdsSource(envoy::config::core::v3::ConfigSource* out);

// A network filter: tcp_proxy to one cluster, stat prefix = the cluster name.
void makeTcpProxyFilter(const std::string& stat_prefix, const std::string& cluster,
                        envoy::config::listener::v3::Filter* out);

// HTTP connection manager with the router filter; either RDS over ADS
// (route_config_name) or an inline route config.
void makeRdsHcmFilter(const std::string& stat_prefix, const std::string& route_config_name,
                      envoy::config::listener::v3::Filter* out);
void makeInlineHcmFilter(const std::string& stat_prefix,
                         const envoy::config::route::v3::RouteConfiguration& routes,
                         envoy::config::listener::v3::Filter* out);

}  // namespace remora::pilot
