#include "ctl/proxy_config.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "config/filters.h"
#include "ctl/json_value.h"
#include "ctl/tab_writer.h"

namespace remora::ctl {
namespace {

using envoy::config::listener::v3::FilterChain;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Every piece between separators, empty ones included: "a||b" -> a, "", b.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

template <typename Repeated>
std::vector<std::string> strings(const Repeated& r) {
  return std::vector<std::string>(r.begin(), r.end());
}

std::string listenerAddress(const Listener& l) {
  return l.address().socket_address().address();
}

uint32_t listenerPort(const Listener& l) {
  return l.address().socket_address().port_value();
}

// filter_chains, then default_filter_chain: every chain istioctl lists.
std::vector<const FilterChain*> allChains(const Listener& l) {
  std::vector<const FilterChain*> out;
  for (const auto& c : l.filter_chains())
    out.push_back(&c);
  if (l.has_default_filter_chain()) out.push_back(&l.default_filter_chain());
  return out;
}

std::optional<config::TcpProxyConfig> tcpProxyOf(const envoy::config::listener::v3::Filter& f) {
  auto type = config::networkFilterType(f);
  if (!type.ok() || *type != config::NetworkFilterType::kTcpProxy) return std::nullopt;
  auto tcp = config::unpackTcpProxy(f);
  if (!tcp.ok()) return std::nullopt;
  return *tcp;
}

bool isHttpConnectionManager(const envoy::config::listener::v3::Filter& f) {
  auto type = config::networkFilterType(f);
  return type.ok() && *type == config::NetworkFilterType::kHttpConnectionManager;
}

// istioctl skips tcp_proxy filters whose config mentions BlackHoleCluster.
bool mentionsBlackHole(const config::TcpProxyConfig& tcp) {
  if (tcp.cluster().find("BlackHoleCluster") != std::string::npos) return true;
  for (const auto& w : tcp.weighted_clusters().clusters()) {
    if (w.name().find("BlackHoleCluster") != std::string::npos) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Listener rows.

// istioctl's names for well-known ALPN lists (exact list, in order).
const std::vector<std::pair<std::string, std::vector<std::string>>>& alpnDescriptions() {
  static const auto* d = new std::vector<std::pair<std::string, std::vector<std::string>>>{
      {"App: HTTP TLS",
       {"http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"}},
      {"App: Istio HTTP Plain", {"istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"}},
      {"App: TCP TLS", {"istio-peer-exchange", "istio"}},
      {"App: HTTP", {"http/1.0", "http/1.1", "h2c"}},
  };
  return *d;
}

std::string describeChainMatch(const FilterChain& chain) {
  const auto& m = chain.filter_chain_match();
  std::vector<std::string> parts;
  if (m.server_names_size() > 0) parts.push_back("SNI: " + join(strings(m.server_names()), ","));
  if (!m.transport_protocol().empty()) parts.push_back("Trans: " + m.transport_protocol());
  if (m.application_protocols_size() > 0) {
    auto alpn = strings(m.application_protocols());
    std::string described;
    for (const auto& [name, list] : alpnDescriptions()) {
      if (alpn == list) described = name;
    }
    parts.push_back(described.empty() ? "App: " + join(alpn, ",") : described);
  }
  std::string port =
      m.has_destination_port() ? ":" + std::to_string(m.destination_port().value()) : "";
  if (m.prefix_ranges_size() > 0) {
    std::vector<std::string> prefixes;
    for (const auto& p : m.prefix_ranges()) {
      prefixes.push_back(p.address_prefix() + "/" + std::to_string(p.prefix_len().value()));
    }
    parts.push_back("Addr: " + join(prefixes, ",") + port);
  } else if (!port.empty()) {
    parts.push_back("Addr: *" + port);
  }
  return parts.empty() ? "ALL" : join(parts, "; ");
}

std::string describeRouteMatch(const envoy::config::route::v3::RouteMatch& match) {
  std::vector<std::string> conds;
  if (!match.prefix().empty()) conds.push_back(match.prefix() + "*");
  if (!match.path_separated_prefix().empty()) {
    conds.push_back("PathPrefix:" + match.path_separated_prefix());
  }
  if (!match.path().empty()) conds.push_back(match.path());
  if (match.has_safe_regex()) conds.push_back("regex " + match.safe_regex().regex());
  return join(conds, " ");  // headers are not shown, as in istioctl
}

// A route config with one "*" virtual host whose only route sends "/" to a
// cluster: istioctl shows just the cluster.
std::string matchAllCluster(const RouteConfiguration& rc) {
  if (rc.virtual_hosts_size() != 1) return "";
  const auto& vh = rc.virtual_hosts(0);
  if (vh.domains_size() != 1 || vh.domains(0) != "*" || vh.routes_size() != 1) return "";
  const auto& r = vh.routes(0);
  if (r.match().prefix() != "/" || !r.has_route() || r.route().cluster().empty()) return "";
  const std::string& cluster = r.route().cluster();
  return cluster.find("Cluster") != std::string::npos ? cluster : "Cluster: " + cluster;
}

std::string describeInlineRoutes(const RouteConfiguration& rc) {
  std::string cluster = matchAllCluster(rc);
  if (!cluster.empty()) return cluster;
  std::vector<std::string> vhosts;
  for (const auto& vh : rc.virtual_hosts()) {
    std::vector<std::string> matches;
    for (const auto& r : vh.routes())
      matches.push_back(describeRouteMatch(r.match()));
    bool any = vh.domains_size() == 1 && vh.domains(0) == "*";
    std::string domains = any ? "" : join(strings(vh.domains()), "/");
    vhosts.push_back(domains.empty() ? join(matches, ", ") : domains + " " + join(matches, ", "));
  }
  return "Inline Route: " + join(vhosts, "; ");
}

std::string describeChainDestination(const FilterChain& chain) {
  for (const auto& f : chain.filters()) {
    if (isHttpConnectionManager(f)) {
      auto hcm = config::unpackHttpConnectionManager(f);
      if (!hcm.ok()) return hcm.status().message();
      if (hcm->has_route_config()) return describeInlineRoutes(hcm->route_config());
      if (!hcm->rds().route_config_name().empty()) {
        return "Route: " + hcm->rds().route_config_name();
      }
      return "HTTP";
    }
    if (auto tcp = tcpProxyOf(f)) {
      // Unlike istioctl, which prints "Non-HTTP/Non-TCP" for them, chains to
      // BlackHoleCluster are named: the seed's `virtual` listener is one.
      const std::string& cluster = tcp->cluster();
      if (cluster.empty()) return "Cluster: (weighted)";
      return cluster.find("Cluster") != std::string::npos ? cluster : "Cluster: " + cluster;
    }
  }
  return "Non-HTTP/Non-TCP";
}

// ---------------------------------------------------------------------------
// Route rows.

std::string trimSuffix(const std::string& s, std::string_view suffix) {
  return s.ends_with(suffix) ? s.substr(0, s.size() - suffix.size()) : s;
}

// Drops "x.svc.cluster.local" and "x.svc" when "x" is also there.
std::vector<std::string> unexpandDomains(const std::vector<std::string>& domains) {
  auto has = [&](const std::string& d) {
    return std::find(domains.begin(), domains.end(), d) != domains.end();
  };
  std::vector<std::string> out;
  for (const auto& d : domains) {
    std::string full = trimSuffix(d, ".svc.cluster.local");
    std::string partial = trimSuffix(d, ".svc");
    if ((full != d && has(full)) || (partial != d && has(partial))) continue;
    out.push_back(d);
  }
  return out;
}

std::string describeRouteDomains(const std::vector<std::string>& domains) {
  if (domains.empty()) return "";
  if (domains.size() == 1) return domains[0];
  std::vector<std::string> without_port;
  for (const auto& d : domains) {
    if (d.find(':') == std::string::npos || d.starts_with("[")) without_port.push_back(d);
  }
  without_port = unexpandDomains(without_port);
  constexpr size_t kShown = 2;
  if (without_port.size() > kShown) {
    return join({without_port.begin(), without_port.begin() + kShown}, ", ") + " + " +
           std::to_string(without_port.size() - kShown) + " more...";
  }
  return join(without_port, ", ");
}

bool isPassthroughRoute(const envoy::config::route::v3::Route& r) {
  return r.has_route() && r.route().cluster() == "PassthroughCluster";
}

std::optional<long> numericName(const std::string& name) {
  long v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec != std::errc() || end != name.data() + name.size() || name.empty()) return std::nullopt;
  return v;
}

// Route configs named by port first, in numeric order, then the others by name.
std::vector<const RouteConfiguration*> sortedRouteConfigs(const ProxyConfig& config,
                                                          const RouteFilter& filter) {
  std::vector<const RouteConfiguration*> out;
  for (const auto& rc : config.route_configs) {
    if (filter.matches(rc)) out.push_back(&rc);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    auto na = numericName(a->name()), nb = numericName(b->name());
    if (na.has_value() != nb.has_value()) return na.has_value();
    if (na) return *na < *nb;
    return a->name() < b->name();
  });
  return out;
}

// ---------------------------------------------------------------------------
// Cluster and endpoint rows.

std::vector<const Cluster*> sortedClusters(const ProxyConfig& config, const ClusterFilter& filter) {
  std::vector<const Cluster*> out;
  for (const auto& c : config.clusters) {
    if (filter.matches(c)) out.push_back(&c);
  }
  std::stable_sort(out.begin(), out.end(), [](const Cluster* a, const Cluster* b) {
    SubsetKey ka = parseSubsetKey(a->name()), kb = parseSubsetKey(b->name());
    if (!ka.is_subset_key) ka.fqdn = a->name();
    if (!kb.is_subset_key) kb.fqdn = b->name();
    return std::tie(ka.fqdn, ka.subset, ka.port, ka.direction) <
           std::tie(kb.fqdn, kb.subset, kb.port, kb.direction);
  });
  return out;
}

std::string clusterTypeName(const Cluster& c) {
  return envoy::config::cluster::v3::Cluster::DiscoveryType_Name(c.type());
}

std::string hostAddress(const envoy::admin::v3::HostStatus& h) {
  if (h.address().has_pipe()) return h.address().pipe().path();
  return h.address().socket_address().address();
}

uint32_t hostPort(const envoy::admin::v3::HostStatus& h) {
  return h.address().has_pipe() ? 0 : h.address().socket_address().port_value();
}

std::string healthName(const envoy::admin::v3::HostStatus& h) {
  return envoy::config::core::v3::HealthStatus_Name(h.health_status().eds_health_status());
}

struct EndpointRow {
  std::string address;
  uint32_t port;
  std::string cluster;
  const envoy::admin::v3::HostStatus* host;
};

std::vector<EndpointRow> sortedEndpoints(const envoy::admin::v3::Clusters& clusters,
                                         const EndpointFilter& filter) {
  std::vector<EndpointRow> rows;
  for (const auto& c : clusters.cluster_statuses()) {
    for (const auto& h : c.host_statuses()) {
      if (filter.matches(h, c.name())) rows.push_back({hostAddress(h), hostPort(h), c.name(), &h});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const EndpointRow& a, const EndpointRow& b) {
    return std::tie(a.address, a.port, a.cluster) < std::tie(b.address, b.port, b.cluster);
  });
  return rows;
}

// ---------------------------------------------------------------------------
// Documents.

StatusOr<JsonValue> toJsonValue(const google::protobuf::Message& m) {
  REMORA_ASSIGN_OR_RETURN(std::string json, messageToJson(m));
  return JsonValue::parse(json);
}

std::string render(const JsonValue& v, OutputFormat format) {
  return format == OutputFormat::kYaml ? writeYaml(v) : writeJson(v, 4) + "\n";
}

template <typename T>
StatusOr<std::string> listDocument(const std::vector<const T*>& messages, OutputFormat format) {
  JsonValue list = JsonValue::array();
  for (const T* m : messages) {
    REMORA_ASSIGN_OR_RETURN(JsonValue v, toJsonValue(*m));
    list.push(std::move(v));
  }
  return render(list, format);
}

}  // namespace

StatusOr<OutputFormat> parseOutputFormat(std::string_view text) {
  if (text == "short") return OutputFormat::kShort;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  return invalidArgumentError("-o/--output: \"" + std::string(text) +
                              "\" is not one of short, json, yaml");
}

std::string listenerType(const Listener& listener) {
  int http = 0, tcp = 0;
  for (const FilterChain* chain : allChains(listener)) {
    for (const auto& f : chain->filters()) {
      if (isHttpConnectionManager(f)) {
        ++http;
      } else if (auto t = tcpProxyOf(f); t && !mentionsBlackHole(*t)) {
        ++tcp;
      }
    }
  }
  if (http > 0) return tcp == 0 ? "HTTP" : "HTTP+TCP";
  return tcp > 0 ? "TCP" : "UNKNOWN";
}

bool ListenerFilter::matches(const Listener& listener) const {
  if (!address.empty() && !equalsIgnoreCase(listenerAddress(listener), address)) return false;
  if (port != 0 && listenerPort(listener) != port) return false;
  if (!type.empty() && !equalsIgnoreCase(listenerType(listener), type)) return false;
  return true;
}

bool RouteFilter::matches(const RouteConfiguration& route_config) const {
  return name.empty() || route_config.name() == name;
}

bool ClusterFilter::matches(const Cluster& cluster) const {
  const std::string& n = cluster.name();
  if (!fqdn.empty() && n.find(fqdn) == std::string::npos) return false;
  if (!direction.empty() && n.find(direction) == std::string::npos) return false;
  if (!subset.empty() && n.find(subset) == std::string::npos) return false;
  if (port != 0 && n.find("|" + std::to_string(port) + "|") == std::string::npos) return false;
  return true;
}

bool EndpointFilter::matches(const envoy::admin::v3::HostStatus& host,
                             const std::string& cluster_name) const {
  if (!address.empty() && !equalsIgnoreCase(hostAddress(host), address)) return false;
  if (port != 0 && hostPort(host) != port) return false;
  if (!cluster.empty() && !equalsIgnoreCase(cluster_name, cluster)) return false;
  if (!status.empty() && !equalsIgnoreCase(healthName(host), status)) return false;
  return true;
}

Status validateListenerType(std::string_view type) {
  for (std::string_view t : {"HTTP", "TCP", "HTTP+TCP"}) {
    if (equalsIgnoreCase(type, t)) return Status::okStatus();
  }
  return invalidArgumentError("--type: \"" + std::string(type) +
                              "\" is not one of HTTP, TCP, HTTP+TCP");
}

Status validateDirection(std::string_view direction) {
  if (direction == "inbound" || direction == "outbound") return Status::okStatus();
  return invalidArgumentError("--direction: \"" + std::string(direction) +
                              "\" is not one of inbound, outbound");
}

Status validateHealthStatus(std::string_view status) {
  const auto* e = envoy::config::core::v3::HealthStatus_descriptor();
  std::string names;
  for (int i = 0; i < e->value_count(); ++i) {
    if (equalsIgnoreCase(status, e->value(i)->name())) return Status::okStatus();
    names += (i ? ", " : "") + e->value(i)->name();
  }
  return invalidArgumentError("--status: \"" + std::string(status) + "\" is not one of " + names);
}

std::string describeManagement(const envoy::config::core::v3::Metadata& metadata) {
  auto istio = metadata.filter_metadata().find("istio");
  if (istio == metadata.filter_metadata().end()) return "";
  auto config = istio->second.fields().find("config");
  if (config == istio->second.fields().end()) return "";
  const std::string& path = config->second.string_value();
  constexpr std::string_view kPrefix = "/apis/networking.istio.io/v1alpha3/namespaces/";
  if (!path.starts_with(kPrefix)) return "<unknown>";
  // "", apis, networking.istio.io, v1alpha3, namespaces, <ns>, <kind>, <name>
  std::vector<std::string_view> pieces = split(path, '/');
  if (pieces.size() != 8) return "";
  return std::string(pieces[7]) + "." + std::string(pieces[5]);
}

SubsetKey parseSubsetKey(std::string_view name) {
  std::vector<std::string_view> parts = split(name, '|');
  SubsetKey key;
  if (parts.size() < 4) return key;
  key.is_subset_key = true;
  key.direction = std::string(parts[0]);
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), port);
  if (ec == std::errc() && end == parts[1].data() + parts[1].size()) key.port = port;
  key.subset = std::string(parts[2]);
  key.fqdn = std::string(parts[3]);
  return key;
}

std::string listenersTable(const ProxyConfig& config, const ListenerFilter& filter) {
  std::vector<const Listener*> listeners;
  for (const auto& l : config.listeners) {
    if (filter.matches(l)) listeners.push_back(&l);
  }
  std::stable_sort(listeners.begin(), listeners.end(), [](const Listener* a, const Listener* b) {
    return std::make_tuple(listenerPort(*a), listenerAddress(*a), listenerType(*a)) <
           std::make_tuple(listenerPort(*b), listenerAddress(*b), listenerType(*b));
  });
  std::vector<TableRow> rows = {{"ADDRESSES", "PORT", "MATCH", "DESTINATION"}};
  for (const Listener* l : listeners) {
    std::vector<std::pair<std::string, std::string>> chains;  // match, destination
    for (const FilterChain* c : allChains(*l)) {
      chains.emplace_back(describeChainMatch(*c), describeChainDestination(*c));
    }
    std::stable_sort(chains.begin(), chains.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (auto& [match, destination] : chains) {
      rows.push_back({listenerAddress(*l), std::to_string(listenerPort(*l)), match, destination});
    }
  }
  return formatTable(rows);
}

std::string routesTable(const ProxyConfig& config, const RouteFilter& filter) {
  std::vector<TableRow> rows = {{"NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"}};
  for (const RouteConfiguration* rc : sortedRouteConfigs(config, filter)) {
    for (const auto& vh : rc->virtual_hosts()) {
      std::string domains = describeRouteDomains(strings(vh.domains()));
      for (const auto& r : vh.routes()) {
        if (isPassthroughRoute(r)) continue;
        rows.push_back(
            {rc->name(), domains, describeRouteMatch(r.match()), describeManagement(r.metadata())});
      }
      if (vh.routes_size() == 0) rows.push_back({rc->name(), domains, "/*", "404"});
    }
  }
  return formatTable(rows);
}

std::string clustersTable(const ProxyConfig& config, const ClusterFilter& filter) {
  std::vector<TableRow> rows = {
      {"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"}};
  for (const Cluster* c : sortedClusters(config, filter)) {
    SubsetKey key = parseSubsetKey(c->name());
    std::string dr = describeManagement(c->metadata());
    if (key.is_subset_key) {
      rows.push_back({key.fqdn, std::to_string(key.port), key.subset.empty() ? "-" : key.subset,
                      key.direction, clusterTypeName(*c), dr});
    } else {
      rows.push_back({c->name(), "-", "-", "-", clusterTypeName(*c), dr});
    }
  }
  return formatTable(rows);
}

std::string endpointsTable(const envoy::admin::v3::Clusters& clusters,
                           const EndpointFilter& filter) {
  std::vector<TableRow> rows = {{"ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"}};
  for (const EndpointRow& e : sortedEndpoints(clusters, filter)) {
    std::string endpoint =
        e.port != 0 ? e.address + ":" + std::to_string(e.port) : "unix://" + e.address;
    rows.push_back({endpoint, healthName(*e.host),
                    e.host->health_status().failed_outlier_check() ? "FAILED" : "OK", e.cluster});
  }
  return formatTable(rows);
}

StatusOr<std::string> listenersDocument(const ProxyConfig& config, const ListenerFilter& filter,
                                        OutputFormat format) {
  std::vector<const Listener*> selected;
  for (const auto& l : config.listeners) {
    if (filter.matches(l)) selected.push_back(&l);
  }
  return listDocument(selected, format);
}

StatusOr<std::string> routesDocument(const ProxyConfig& config, const RouteFilter& filter,
                                     OutputFormat format) {
  return listDocument(sortedRouteConfigs(config, filter), format);
}

StatusOr<std::string> clustersDocument(const ProxyConfig& config, const ClusterFilter& filter,
                                       OutputFormat format) {
  return listDocument(sortedClusters(config, filter), format);
}

StatusOr<std::string> endpointsDocument(const envoy::admin::v3::Clusters& clusters,
                                        const EndpointFilter& filter, OutputFormat format) {
  std::vector<envoy::admin::v3::ClusterStatus> kept;
  for (const auto& c : clusters.cluster_statuses()) {
    envoy::admin::v3::ClusterStatus copy = c;
    copy.clear_host_statuses();
    for (const auto& h : c.host_statuses()) {
      if (filter.matches(h, c.name())) *copy.add_host_statuses() = h;
    }
    if (copy.host_statuses_size() > 0) kept.push_back(std::move(copy));
  }
  std::vector<const envoy::admin::v3::ClusterStatus*> pointers;
  for (const auto& c : kept)
    pointers.push_back(&c);
  return listDocument(pointers, format);
}

StatusOr<std::string> messageDocument(const google::protobuf::Message& message,
                                      OutputFormat format) {
  REMORA_ASSIGN_OR_RETURN(JsonValue v, toJsonValue(message));
  return render(v, format);
}

}  // namespace remora::ctl
