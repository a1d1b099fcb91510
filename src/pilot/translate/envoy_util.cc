#include "pilot/translate/envoy_util.h"

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "google/protobuf/struct.pb.h"

namespace remora::pilot {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

HttpConnectionManager baseHcm(const std::string& stat_prefix) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(stat_prefix);
  auto* router = hcm.add_http_filters();
  router->set_name(kRouterFilter);
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  // The seed shows use_remote_address: false: sidecars trust the local app's
  // X-Forwarded-For instead of overwriting it with the peer address.
  hcm.mutable_use_remote_address()->set_value(false);
  return hcm;
}

}  // namespace

void setSocketAddress(const std::string& ip, uint32_t port, envoy::config::core::v3::Address* out) {
  auto* sa = out->mutable_socket_address();
  sa->set_address(ip);
  sa->set_port_value(port);
}

void setDurationMs(int64_t ms, google::protobuf::Duration* out) {
  out->set_seconds(ms / 1000);
  out->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

void setAdsSource(envoy::config::core::v3::ConfigSource* out) {
  out->mutable_ads();
  out->set_resource_api_version(envoy::config::core::v3::V3);
}

void makeTcpProxyFilter(const std::string& stat_prefix, const std::string& cluster,
                        envoy::config::listener::v3::Filter* out) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(stat_prefix);
  tcp.set_cluster(cluster);
  out->set_name(kTcpProxyFilter);
  out->mutable_typed_config()->PackFrom(tcp);
}

void makeRdsHcmFilter(const std::string& stat_prefix, const std::string& route_config_name,
                      envoy::config::listener::v3::Filter* out) {
  HttpConnectionManager hcm = baseHcm(stat_prefix);
  setAdsSource(hcm.mutable_rds()->mutable_config_source());
  hcm.mutable_rds()->set_route_config_name(route_config_name);
  out->set_name(kHcmFilter);
  out->mutable_typed_config()->PackFrom(hcm);
}

void makeInlineHcmFilter(const std::string& stat_prefix,
                         const envoy::config::route::v3::RouteConfiguration& routes,
                         envoy::config::listener::v3::Filter* out) {
  HttpConnectionManager hcm = baseHcm(stat_prefix);
  *hcm.mutable_route_config() = routes;
  out->set_name(kHcmFilter);
  out->mutable_typed_config()->PackFrom(hcm);
}

}  // namespace remora::pilot
