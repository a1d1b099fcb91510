#include "pilot/translate/proxyless.h"

#include <charconv>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "pilot/translate/envoy_util.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::route::v3::HeaderMatcher;

// gRPC 1.51 predates string_match in header matchers (gRFC A63).
void useLegacyHeaderMatch(HeaderMatcher* h) {
  if (!h->has_string_match() || h->string_match().ignore_case()) return;
  auto m = h->string_match();
  switch (m.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact:
      h->set_exact_match(m.exact());
      break;
    case envoy::type::matcher::v3::StringMatcher::kPrefix:
      h->set_prefix_match(m.prefix());
      break;
    case envoy::type::matcher::v3::StringMatcher::kSuffix:
      h->set_suffix_match(m.suffix());
      break;
    case envoy::type::matcher::v3::StringMatcher::kContains:
      h->set_contains_match(m.contains());
      break;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex:
      *h->mutable_safe_regex_match() = m.safe_regex();
      break;
    default:
      break;
  }
}

}  // namespace

std::optional<ServicePortRef> findServicePort(const MeshSnapshot& snapshot, std::string_view name,
                                              std::string_view proxy_namespace) {
  size_t colon = name.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  uint32_t port = 0;
  std::string_view digits = name.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  std::string host = snapshot.resolveHost(name.substr(0, colon), proxy_namespace);
  const Service* svc = snapshot.findService(host);
  if (!svc || !svc->findPort(port)) return std::nullopt;
  if (!snapshot.visibleTo(svc->export_to, svc->namespace_, proxy_namespace)) return std::nullopt;
  return ServicePortRef{svc, port};
}

Resource buildApiListener(const std::string& name) {
  using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  setAdsSource(hcm.mutable_rds()->mutable_config_source());
  hcm.mutable_rds()->set_route_config_name(name);
  auto* router = hcm.add_http_filters();
  router->set_name(kRouterFilter);
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  auto l = std::make_shared<envoy::config::listener::v3::Listener>();
  l->set_name(name);
  l->mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
  return Resource(std::shared_ptr<const envoy::config::listener::v3::Listener>(std::move(l)));
}

Resource buildProxylessRouteConfig(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                   const std::string& name, const ServicePortRef& ref) {
  auto rc = std::make_shared<envoy::config::route::v3::RouteConfiguration>();
  rc->set_name(name);
  auto* vh = rc->add_virtual_hosts();
  buildServiceVirtualHost(snapshot, proxy, *ref.service, ref.port, vh);
  for (auto& route : *vh->mutable_routes()) {
    for (auto& h : *route.mutable_match()->mutable_headers())
      useLegacyHeaderMatch(&h);
  }
  return Resource(
      std::shared_ptr<const envoy::config::route::v3::RouteConfiguration>(std::move(rc)));
}

Resource adaptClusterForGrpc(const Resource& resource) {
  const auto& cluster = static_cast<const Cluster&>(resource.message());
  if (cluster.lb_policy() == Cluster::ROUND_ROBIN || cluster.lb_policy() == Cluster::RING_HASH) {
    return resource;
  }
  auto c = std::make_shared<Cluster>(cluster);
  c->set_lb_policy(Cluster::ROUND_ROBIN);
  c->clear_least_request_lb_config();
  return Resource(std::shared_ptr<const Cluster>(std::move(c)));
}

}  // namespace remora::pilot
