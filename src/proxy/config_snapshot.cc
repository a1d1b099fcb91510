#include "proxy/config_snapshot.h"

#include "config/bootstrap.h"
#include "config/filters.h"

namespace remora::proxy {

namespace {

std::string listenerStatScope(const network::SocketAddress& a) {
  // Envoy scopes listener stats by address: listener.0.0.0.0_15001.*
  return a.ip.toString() + "_" + std::to_string(a.port);
}

StatusOr<CompiledFilterChain> compileChain(
    const envoy::config::listener::v3::FilterChain& chain, StatsStore& stats,
    std::vector<std::shared_ptr<RouteConfigProvider>>& routes) {
  CompiledFilterChain out;
  out.name = chain.name();
  if (chain.filters_size() == 0) {
    return invalidArgumentError("filters: a filter chain needs a terminal network filter");
  }
  for (int i = 0; i < chain.filters_size(); ++i) {
    std::string path = "filters[" + std::to_string(i) + "]";
    REMORA_ASSIGN_OR_RETURN(auto type, config::networkFilterType(chain.filters(i)));
    bool last = i + 1 == chain.filters_size();
    if (!last) {
      return invalidArgumentError(path +
                                  ": only one (terminal) network filter per chain is "
                                  "supported; it must be the last");
    }
    switch (type) {
      case config::NetworkFilterType::kTcpProxy: {
        REMORA_ASSIGN_OR_RETURN(auto proto, config::unpackTcpProxy(chain.filters(i)));
        auto tcp = TcpProxyConfig::create(proto, stats);
        if (!tcp.ok()) return tcp.status().withPrefix(path + ".typed_config");
        out.terminal = std::make_shared<TcpProxyFilter>(*tcp);
        break;
      }
      case config::NetworkFilterType::kHttpConnectionManager: {
        REMORA_ASSIGN_OR_RETURN(auto proto, config::unpackHttpConnectionManager(chain.filters(i)));
        auto hcm = HttpConnectionManagerFilter::create(proto, stats);
        if (!hcm.ok()) return hcm.status().withPrefix(path + ".typed_config");
        routes.push_back((*hcm)->routes());
        out.terminal = *hcm;
        break;
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<std::shared_ptr<CompiledListener>> ConfigSnapshot::compileListener(
    const envoy::config::listener::v3::Listener& proto, StatsStore& stats) {
  auto l = std::make_shared<CompiledListener>();
  l->proto = proto;
  l->name = proto.name();
  REMORA_ASSIGN_OR_RETURN(l->address, config::toSocketAddress(proto.address()));
  l->bind_to_port = config::bindToPort(proto);
  l->use_original_dst = config::usesOriginalDst(proto);
  l->listener_filters_timeout = config::listenerFiltersTimeout(proto);
  l->continue_on_listener_filters_timeout = proto.continue_on_listener_filters_timeout();
  if (proto.has_per_connection_buffer_limit_bytes()) {
    l->buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  for (const auto& f : proto.listener_filters()) {
    REMORA_ASSIGN_OR_RETURN(auto type, config::listenerFilterType(f));
    if (type == config::ListenerFilterType::kTlsInspector) l->tls_inspector = true;
    if (type == config::ListenerFilterType::kHttpInspector) l->http_inspector = true;
  }
  for (int i = 0; i < proto.filter_chains_size(); ++i) {
    auto chain = compileChain(proto.filter_chains(i), stats, l->route_providers);
    if (!chain.ok()) return chain.status().withPrefix("filter_chains[" + std::to_string(i) + "]");
    l->chains.push_back(std::move(*chain));
  }
  if (proto.has_default_filter_chain()) {
    auto chain = compileChain(proto.default_filter_chain(), stats, l->route_providers);
    if (!chain.ok()) return chain.status().withPrefix("default_filter_chain");
    l->chains.push_back(std::move(*chain));
  }
  auto matcher = listener::FilterChainMatcher::create(l->proto);
  if (!matcher.ok()) return matcher.status();
  l->matcher = std::make_unique<listener::FilterChainMatcher>(std::move(*matcher));
  std::string scope = listenerStatScope(l->address);
  l->stats = ListenerStats{
      &stats.counter("listener", scope, "downstream_cx_total"),
      &stats.gauge("listener", scope, "downstream_cx_active"),
      &stats.counter("listener", scope, "downstream_cx_destroy"),
      &stats.counter("listener", scope, "no_filter_chain_match"),
      &stats.counter("listener", scope, "downstream_listener_filter_error"),
      &stats.counter("listener", scope, "downstream_pre_cx_timeout"),
  };
  return l;
}

const CompiledFilterChain* CompiledListener::chainFor(
    const listener::ChainSelection& selection) const {
  switch (selection.kind) {
    case listener::ChainSelection::Kind::kChain:
      return &chains[static_cast<size_t>(selection.index)];
    case listener::ChainSelection::Kind::kDefault:
      return proto.has_default_filter_chain() ? &chains.back() : nullptr;
    case listener::ChainSelection::Kind::kNone:
      break;
  }
  return nullptr;
}

StatusOr<std::shared_ptr<const ConfigSnapshot>> ConfigSnapshot::build(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, StatsStore& stats,
    upstream::Histograms* histograms) {
  const auto& res = bootstrap.static_resources();
  ClusterMap clusters;
  for (int i = 0; i < res.clusters_size(); ++i) {
    auto c = upstream::Cluster::create(res.clusters(i), stats, histograms);
    if (!c.ok()) {
      return c.status().withPrefix("static_resources.clusters[" + std::to_string(i) + "]");
    }
    clusters[(*c)->name()] = *c;
  }
  std::vector<CompiledListenerConstSharedPtr> listeners;
  for (int i = 0; i < res.listeners_size(); ++i) {
    auto l = compileListener(res.listeners(i), stats);
    if (!l.ok()) {
      return l.status().withPrefix("static_resources.listeners[" + std::to_string(i) + "]");
    }
    listeners.push_back(std::move(*l));
  }
  return assemble(bootstrap, std::move(listeners), std::move(clusters));
}

StatusOr<std::shared_ptr<const ConfigSnapshot>> ConfigSnapshot::assemble(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
    std::vector<CompiledListenerConstSharedPtr> listeners, ClusterMap clusters) {
  auto s = std::shared_ptr<ConfigSnapshot>(new ConfigSnapshot());
  s->bootstrap_ = bootstrap;
  s->created_at_ = std::chrono::system_clock::now();
  s->clusters_ = std::move(clusters);
  for (size_t i = 0; i < listeners.size(); ++i) {
    const CompiledListener* l = listeners[i].get();
    auto [it, inserted] = s->by_address_.emplace(l->address, l);
    if (!inserted) {
      return invalidArgumentError("listeners[" + std::to_string(i) + "] \"" + l->name +
                                  "\": address " + l->address.toString() +
                                  " is already used by listener \"" + it->second->name + "\"");
    }
    for (const auto& p : l->route_providers)
      s->route_providers_.push_back(p);
  }
  s->listeners_ = std::move(listeners);
  return std::shared_ptr<const ConfigSnapshot>(std::move(s));
}

upstream::ClusterSharedPtr ConfigSnapshot::cluster(std::string_view name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

const CompiledListener* ConfigSnapshot::listenerForDestination(
    const network::SocketAddress& destination) const {
  auto it = by_address_.find(destination);
  if (it != by_address_.end()) return it->second;
  network::SocketAddress wildcard;
  wildcard.port = destination.port;
  if (!destination.ip.isV4()) wildcard.ip = *network::IpAddress::parse("::");
  it = by_address_.find(wildcard);
  return it == by_address_.end() ? nullptr : it->second;
}

}  // namespace remora::proxy
