#include "config/bootstrap.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <map>
#include <vector>

#include "config/filters.h"
#include "config/parse.h"

namespace remora::config {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::FilterChainMatch;
using envoy::config::listener::v3::Listener;

// Expanding a filter_chain_match into the cartesian product of its values is
// how Envoy finds duplicates too; past this size the config is unreasonable.
constexpr size_t kMaxMatchCombinations = 1 << 20;

class Errors {
 public:
  void add(const std::string& path, const std::string& what) {
    list_.push_back(path + ": " + what);
  }
  void add(const std::string& path, const Status& s) {
    if (!s.ok()) add(path, s.message());
  }
  // For statuses whose message already starts with a field path.
  void add(const Status& s) {
    if (!s.ok()) list_.push_back(s.message());
  }
  Status status() const {
    if (list_.empty()) return Status();
    std::string msg;
    for (const auto& e : list_) {
      if (!msg.empty()) msg += "\n";
      msg += e;
    }
    return invalidArgumentError(msg);
  }

 private:
  std::vector<std::string> list_;
};

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string join(const std::string& path, const std::string& field) {
  return path.empty() ? field : path + "." + field;
}

std::string indexed(const std::string& path, const std::string& field, int i) {
  return join(path, field) + "[" + std::to_string(i) + "]";
}

StatusOr<std::string> readFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return errnoError("cannot open " + path, errno);
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return errnoError("cannot read " + path, err);
  return text;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Canonical CIDR strings for one prefix-range dimension of a filter chain
// match; an empty list means "any address", which Envoy files under both /0s.
std::vector<std::string> cidrKeys(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::CidrRange>& ranges,
    const std::string& path, Errors* errors) {
  std::vector<std::string> keys;
  for (int i = 0; i < ranges.size(); ++i) {
    auto r = toCidrRange(ranges[i]);
    if (!r.ok()) {
      errors->add(path + "[" + std::to_string(i) + "]", r.status());
      continue;
    }
    keys.push_back(r->toString());
  }
  if (ranges.empty()) keys = {"0.0.0.0/0", "::/0"};
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Every combination of values a filter_chain_match accepts, as strings; two
// chains sharing one are ambiguous, so Envoy refuses the listener.
std::vector<std::string> matchKeys(const FilterChainMatch& m, const std::string& path,
                                   Errors* errors) {
  std::vector<std::vector<std::string>> dims;
  if (m.has_destination_port()) {
    uint32_t port = m.destination_port().value();
    if (port < 1 || port > 65535) {
      errors->add(join(path, "destination_port"),
                  "port " + std::to_string(port) + " is not in 1..65535");
    }
    dims.push_back({std::to_string(port)});
  } else {
    dims.push_back({""});
  }
  dims.push_back(cidrKeys(m.prefix_ranges(), join(path, "prefix_ranges"), errors));
  std::vector<std::string> names;
  for (int i = 0; i < m.server_names_size(); ++i) {
    const std::string& n = m.server_names(i);
    size_t star = n.find('*');
    if (n.empty()) {
      errors->add(indexed(path, "server_names", i), "empty server name");
    } else if (star != std::string::npos &&
               (star != 0 || n.size() < 3 || n[1] != '.' || n.find('*', 1) != std::string::npos)) {
      errors->add(indexed(path, "server_names", i), "partial wildcards are not supported in " +
                                                        quoted(n) + " (only a leading \"*.\" is)");
    }
    names.push_back(lower(n));
  }
  if (names.empty()) names.push_back("");
  dims.push_back(names);
  dims.push_back({m.transport_protocol()});
  std::vector<std::string> alpn(m.application_protocols().begin(), m.application_protocols().end());
  if (alpn.empty()) alpn.push_back("");
  dims.push_back(alpn);
  dims.push_back(
      cidrKeys(m.direct_source_prefix_ranges(), join(path, "direct_source_prefix_ranges"), errors));
  dims.push_back({std::to_string(m.source_type())});
  dims.push_back(cidrKeys(m.source_prefix_ranges(), join(path, "source_prefix_ranges"), errors));
  std::vector<std::string> ports;
  for (int i = 0; i < m.source_ports_size(); ++i) {
    if (m.source_ports(i) < 1 || m.source_ports(i) > 65535) {
      errors->add(indexed(path, "source_ports", i),
                  "port " + std::to_string(m.source_ports(i)) + " is not in 1..65535");
    }
    ports.push_back(std::to_string(m.source_ports(i)));
  }
  if (ports.empty()) ports.push_back("");
  dims.push_back(ports);
  if (!m.address_suffix().empty() || m.has_suffix_len()) {
    errors->add(path, "address_suffix and suffix_len are not supported (Envoy ignores them too)");
  }

  size_t total = 1;
  for (const auto& d : dims) {
    total *= std::max<size_t>(d.size(), 1);
    if (total > kMaxMatchCombinations) {
      errors->add(path, "expands to more than " + std::to_string(kMaxMatchCombinations) +
                            " combinations of match values");
      return {};
    }
  }
  std::vector<std::string> keys = {""};
  for (const auto& d : dims) {
    std::vector<std::string> next;
    next.reserve(keys.size() * d.size());
    for (const auto& k : keys) {
      for (const auto& v : d)
        next.push_back(k + '\x1f' + v);
    }
    keys = std::move(next);
  }
  return keys;
}

// Errors read "<path>.<sub field>: what", so callers need not add context.
StatusOr<network::SocketAddress> socketAddressAt(const envoy::config::core::v3::Address& address,
                                                 const std::string& path) {
  auto fail = [&](const std::string& field, const std::string& what) {
    return invalidArgumentError(join(path, field) + ": " + what);
  };
  if (address.has_pipe()) return fail("pipe", "pipe addresses are not supported");
  if (!address.has_socket_address()) return fail("socket_address", "required");
  const auto& sa = address.socket_address();
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
    return fail("socket_address.protocol", "only TCP is supported");
  }
  if (!sa.resolver_name().empty()) {
    return fail("socket_address.resolver_name", "custom resolvers are not supported");
  }
  auto ip = network::IpAddress::parse(sa.address());
  if (!ip.ok()) {
    return fail("socket_address.address",
                ip.status().message() + " (host names are not supported here)");
  }
  if (sa.port_specifier_case() == envoy::config::core::v3::SocketAddress::kNamedPort) {
    return fail("socket_address.named_port", "named ports are not supported");
  }
  if (sa.port_value() > 65535) {
    return fail("socket_address.port_value",
                std::to_string(sa.port_value()) + " is not a port (0..65535)");
  }
  return network::SocketAddress{*ip, static_cast<uint16_t>(sa.port_value())};
}

void validateTcpProxy(const TcpProxyConfig& tp, const std::set<std::string>* known_clusters,
                      const std::string& path, Errors* errors) {
  if (tp.stat_prefix().empty()) errors->add(join(path, "stat_prefix"), "required");
  auto checkCluster = [&](const std::string& name, const std::string& at) {
    if (name.empty()) {
      errors->add(at, "cluster name is empty");
    } else if (known_clusters != nullptr && known_clusters->count(name) == 0) {
      errors->add(at, "unknown cluster " + quoted(name));
    }
  };
  switch (tp.cluster_specifier_case()) {
    case TcpProxyConfig::kCluster:
      checkCluster(tp.cluster(), join(path, "cluster"));
      break;
    case TcpProxyConfig::kWeightedClusters: {
      const auto& wc = tp.weighted_clusters();
      std::string wpath = join(path, "weighted_clusters");
      if (wc.clusters().empty()) {
        errors->add(join(wpath, "clusters"), "no clusters");
        break;
      }
      uint64_t total = 0;
      for (int i = 0; i < wc.clusters_size(); ++i) {
        checkCluster(wc.clusters(i).name(), join(indexed(wpath, "clusters", i), "name"));
        total += wc.clusters(i).weight();
      }
      if (total == 0) errors->add(join(wpath, "clusters"), "total weight is 0");
      break;
    }
    case TcpProxyConfig::CLUSTER_SPECIFIER_NOT_SET:
      errors->add(path, "one of \"cluster\" or \"weighted_clusters\" is required");
      break;
  }
}

// Envoy's validate_clusters: an inline route configuration (unless it says
// false) may only name clusters that exist; with RDS, or with false, an
// unknown cluster is a 503 NC at request time instead.
void validateRouteClusters(const envoy::config::route::v3::RouteConfiguration& rc,
                           const std::set<std::string>& known, const std::string& path,
                           Errors* errors) {
  if (rc.has_validate_clusters() && !rc.validate_clusters().value()) return;
  for (int v = 0; v < rc.virtual_hosts_size(); ++v) {
    const auto& vh = rc.virtual_hosts(v);
    std::string vpath = indexed(path, "virtual_hosts", v);
    for (int r = 0; r < vh.routes_size(); ++r) {
      const auto& route = vh.routes(r);
      if (!route.has_route()) continue;
      std::string rpath = join(indexed(vpath, "routes", r), "route");
      const auto& action = route.route();
      if (!action.cluster().empty() && known.count(action.cluster()) == 0) {
        errors->add(join(rpath, "cluster"),
                    "unknown cluster " + quoted(action.cluster()) +
                        " (set validate_clusters: false to answer 503 NC at run time instead)");
      }
      for (int w = 0; w < action.weighted_clusters().clusters_size(); ++w) {
        const std::string& name = action.weighted_clusters().clusters(w).name();
        if (!name.empty() && known.count(name) == 0) {
          errors->add(join(indexed(join(rpath, "weighted_clusters"), "clusters", w), "name"),
                      "unknown cluster " + quoted(name));
        }
      }
    }
  }
}

void validateHttpConnectionManager(const HttpConnectionManagerConfig& hcm,
                                   const std::set<std::string>* known_clusters,
                                   const std::string& path, Errors* errors) {
  if (hcm.stat_prefix().empty()) errors->add(join(path, "stat_prefix"), "required");
  switch (hcm.route_specifier_case()) {
    case HttpConnectionManagerConfig::ROUTE_SPECIFIER_NOT_SET:
      errors->add(path, "one of \"rds\" or \"route_config\" is required");
      break;
    case HttpConnectionManagerConfig::kRouteConfig:
      if (known_clusters != nullptr) {
        validateRouteClusters(hcm.route_config(), *known_clusters, join(path, "route_config"),
                              errors);
      }
      break;
    case HttpConnectionManagerConfig::kRds:
      if (hcm.rds().route_config_name().empty()) {
        errors->add(join(path, "rds.route_config_name"), "required");
      }
      break;
  }
}

void validateFilterChain(const FilterChain& chain, const std::set<std::string>* known_clusters,
                         const std::string& path, Errors* errors) {
  if (chain.filters().empty()) {
    errors->add(join(path, "filters"),
                "no network filters (a connection would have nothing to do)");
  }
  for (int i = 0; i < chain.filters_size(); ++i) {
    const auto& filter = chain.filters(i);
    std::string fpath = indexed(path, "filters", i);
    std::string cpath = filter.has_typed_config() ? join(fpath, "typed_config") : fpath;
    auto type = networkFilterType(filter);
    if (!type.ok()) {
      errors->add(cpath, type.status());
      continue;
    }
    // Both supported filters are terminal: they own the connection's data.
    if (i + 1 != chain.filters_size()) {
      errors->add(fpath, "terminal filter " + quoted(filter.name()) + " must be the last filter");
    }
    if (*type == NetworkFilterType::kTcpProxy) {
      auto tp = unpackTcpProxy(filter);
      if (!tp.ok()) {
        errors->add(cpath, tp.status());
      } else {
        validateTcpProxy(*tp, known_clusters, cpath, errors);
      }
    } else {
      auto hcm = unpackHttpConnectionManager(filter);
      if (!hcm.ok()) {
        errors->add(cpath, hcm.status());
      } else {
        validateHttpConnectionManager(*hcm, known_clusters, cpath, errors);
      }
    }
  }
}

void validateListenerInto(const Listener& l, const std::set<std::string>* known_clusters,
                          const std::string& path, Errors* errors) {
  if (!l.has_api_listener()) {
    if (!l.has_address()) {
      errors->add(join(path, "address"), "required");
    } else {
      errors->add(socketAddressAt(l.address(), join(path, "address")).status());
    }
  }
  for (int i = 0; i < l.listener_filters_size(); ++i) {
    const auto& f = l.listener_filters(i);
    std::string fpath = indexed(path, "listener_filters", i);
    auto type = listenerFilterType(f);
    if (!type.ok()) {
      errors->add(f.has_typed_config() ? join(fpath, "typed_config") : fpath, type.status());
    }
  }
  std::map<std::string, int> seen_keys;
  std::map<std::string, int> chain_names;
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    const FilterChain& chain = l.filter_chains(i);
    std::string cpath = indexed(path, "filter_chains", i);
    if (!chain.name().empty()) {
      auto [it, inserted] = chain_names.emplace(chain.name(), i);
      if (!inserted) {
        errors->add(join(cpath, "name"), "duplicate filter chain name " + quoted(chain.name()) +
                                             " (also " +
                                             indexed(path, "filter_chains", it->second) + ")");
      }
    }
    validateFilterChain(chain, known_clusters, cpath, errors);
    std::string mpath = join(cpath, "filter_chain_match");
    for (const std::string& key : matchKeys(chain.filter_chain_match(), mpath, errors)) {
      auto [it, inserted] = seen_keys.emplace(key, i);
      if (!inserted) {
        errors->add(mpath, "multiple filter chains with the same matching rules: overlaps " +
                               indexed(path, "filter_chains", it->second));
        break;
      }
    }
  }
  if (l.has_default_filter_chain()) {
    validateFilterChain(l.default_filter_chain(), known_clusters,
                        join(path, "default_filter_chain"), errors);
  }
  if (l.filter_chains().empty() && !l.has_default_filter_chain() && !l.has_api_listener()) {
    errors->add(join(path, "filter_chains"),
                "no filter chains and no default_filter_chain: every connection would be closed");
  }
}

void validateClusterInto(const Cluster& c, const std::string& path, Errors* errors) {
  if (c.name().empty()) errors->add(join(path, "name"), "required");
  if (c.has_connect_timeout()) {
    const auto& d = c.connect_timeout();
    if (d.seconds() < 0 || d.nanos() < 0 || (d.seconds() == 0 && d.nanos() == 0)) {
      errors->add(join(path, "connect_timeout"), "must be greater than 0");
    }
  }
  const bool original_dst = c.type() == Cluster::ORIGINAL_DST;
  switch (c.lb_policy()) {
    case Cluster::ROUND_ROBIN:
    case Cluster::LEAST_REQUEST:
    case Cluster::RANDOM:
      // ROUND_ROBIN is also what an unset lb_policy reads as; for ORIGINAL_DST
      // we take it as "unset" rather than refuse it as current Envoy does.
      break;
    case Cluster::CLUSTER_PROVIDED:
      if (!original_dst) {
        errors->add(join(path, "lb_policy"),
                    "CLUSTER_PROVIDED is only valid with type ORIGINAL_DST");
      }
      break;
    default:
      errors->add(join(path, "lb_policy"),
                  Cluster::LbPolicy_Name(c.lb_policy()) +
                      " is not supported (supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM)");
  }
  if (original_dst && c.lb_policy() != Cluster::ROUND_ROBIN &&
      c.lb_policy() != Cluster::CLUSTER_PROVIDED) {
    errors->add(join(path, "lb_policy"),
                "type ORIGINAL_DST needs lb_policy CLUSTER_PROVIDED (or none), not " +
                    Cluster::LbPolicy_Name(c.lb_policy()));
  }
  const auto& la = c.load_assignment();
  std::string lapath = join(path, "load_assignment");
  switch (c.type()) {
    case Cluster::STATIC:
      // No endpoints is fine: that is how a BlackHoleCluster is written.
      for (int i = 0; i < la.endpoints_size(); ++i) {
        const auto& locality = la.endpoints(i);
        std::string lpath = indexed(lapath, "endpoints", i);
        for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
          const auto& lbe = locality.lb_endpoints(j);
          std::string epath = indexed(lpath, "lb_endpoints", j);
          if (!lbe.has_endpoint()) {
            errors->add(join(epath, "endpoint"), "required (named endpoints are not supported)");
            continue;
          }
          if (!lbe.endpoint().has_address()) {
            errors->add(join(epath, "endpoint.address"), "required");
            continue;
          }
          auto sa = socketAddressAt(lbe.endpoint().address(), join(epath, "endpoint.address"));
          if (!sa.ok()) {
            errors->add(sa.status());
          } else if (sa->port == 0) {
            errors->add(join(epath, "endpoint.address.socket_address.port_value"),
                        "an endpoint needs a port");
          }
        }
      }
      break;
    case Cluster::EDS:
      if (!c.has_eds_cluster_config() || !c.eds_cluster_config().has_eds_config()) {
        errors->add(join(path, "eds_cluster_config.eds_config"), "required for type EDS");
      }
      break;
    case Cluster::ORIGINAL_DST:
      if (!la.endpoints().empty()) {
        errors->add(lapath, "an ORIGINAL_DST cluster takes no endpoints");
      }
      break;
    default:
      errors->add(join(path, "type"),
                  Cluster::DiscoveryType_Name(c.type()) +
                      " is not supported (supported: STATIC, EDS, ORIGINAL_DST)");
  }
}

}  // namespace

StatusOr<Bootstrap> loadBootstrap(const std::string& path, const std::string& config_yaml_overlay) {
  if (path.empty() && config_yaml_overlay.empty()) {
    return invalidArgumentError("no configuration: give -c FILE and/or --config-yaml TEXT");
  }
  Bootstrap bootstrap;
  if (!path.empty()) {
    REMORA_ASSIGN_OR_RETURN(std::string text, readFile(path));
    REMORA_RETURN_IF_ERROR(parseYamlOrJson(text, &bootstrap, path));
  }
  if (!config_yaml_overlay.empty()) {
    Bootstrap overlay;
    REMORA_RETURN_IF_ERROR(parseYamlOrJson(config_yaml_overlay, &overlay, "--config-yaml"));
    bootstrap.MergeFrom(overlay);
  }
  return bootstrap;
}

Status validateListener(const Listener& listener, const std::set<std::string>* known_clusters,
                        const std::string& path) {
  Errors errors;
  validateListenerInto(listener, known_clusters, path, &errors);
  return errors.status();
}

Status validateCluster(const Cluster& cluster, const std::string& path) {
  Errors errors;
  validateClusterInto(cluster, path, &errors);
  return errors.status();
}

Status validateBootstrap(const Bootstrap& bootstrap) {
  Errors errors;
  const auto& sr = bootstrap.static_resources();
  std::set<std::string> cluster_names;
  std::map<std::string, int> cluster_index;
  for (int i = 0; i < sr.clusters_size(); ++i) {
    const Cluster& c = sr.clusters(i);
    std::string path = indexed("static_resources", "clusters", i);
    validateClusterInto(c, path, &errors);
    if (c.name().empty()) continue;
    auto [it, inserted] = cluster_index.emplace(c.name(), i);
    if (!inserted) {
      errors.add(join(path, "name"), "duplicate cluster name " + quoted(c.name()) + " (also " +
                                         indexed("static_resources", "clusters", it->second) + ")");
    }
    cluster_names.insert(c.name());
  }
  // With CDS, a tcp_proxy may name a cluster that arrives later.
  const bool dynamic_clusters = bootstrap.dynamic_resources().has_cds_config() ||
                                !bootstrap.dynamic_resources().cds_resources_locator().empty();
  std::map<std::string, int> listener_index;
  std::map<network::SocketAddress, int> address_index;
  for (int i = 0; i < sr.listeners_size(); ++i) {
    const Listener& l = sr.listeners(i);
    std::string path = indexed("static_resources", "listeners", i);
    validateListenerInto(l, dynamic_clusters ? nullptr : &cluster_names, path, &errors);
    if (!l.name().empty()) {
      auto [it, inserted] = listener_index.emplace(l.name(), i);
      if (!inserted) {
        errors.add(join(path, "name"), "duplicate listener name " + quoted(l.name()) + " (also " +
                                           indexed("static_resources", "listeners", it->second) +
                                           ")");
      }
    }
    if (l.has_address()) {
      auto sa = toSocketAddress(l.address());
      if (sa.ok()) {
        auto [it, inserted] = address_index.emplace(*sa, i);
        if (!inserted) {
          errors.add(join(path, "address"),
                     "duplicate listener address " + sa->toString() + " (also " +
                         indexed("static_resources", "listeners", it->second) + ")");
        }
      }
    }
  }
  if (bootstrap.has_admin() && bootstrap.admin().has_address()) {
    errors.add(socketAddressAt(bootstrap.admin().address(), "admin.address").status());
  }
  errors.add(adsSettings(bootstrap).status());
  return errors.status();
}

std::chrono::milliseconds initialFetchTimeout(const envoy::config::core::v3::ConfigSource& source) {
  if (!source.has_initial_fetch_timeout()) return std::chrono::seconds(15);
  return toMillis(source.initial_fetch_timeout());
}

namespace {

// lds_config / cds_config: only the ADS form.
Status checkAdsSource(const envoy::config::core::v3::ConfigSource& source,
                      const std::string& path) {
  using envoy::config::core::v3::ConfigSource;
  if (source.config_source_specifier_case() != ConfigSource::kAds) {
    return invalidArgumentError(path +
                                ": only {ads: {}} is supported (the control plane's ADS "
                                "stream, as Istio's bootstrap has it)");
  }
  if (source.resource_api_version() == envoy::config::core::v3::V2) {
    return invalidArgumentError(path + ".resource_api_version: V2 is gone; use V3");
  }
  return Status();
}

}  // namespace

StatusOr<std::optional<AdsSettings>> adsSettings(const Bootstrap& bootstrap) {
  using envoy::config::core::v3::ApiConfigSource;
  if (!bootstrap.has_dynamic_resources()) return std::optional<AdsSettings>();
  const auto& dr = bootstrap.dynamic_resources();
  const std::string path = "dynamic_resources";
  if (!dr.lds_resources_locator().empty() || !dr.cds_resources_locator().empty()) {
    return invalidArgumentError(path + ": xDS-TP resource locators are not supported");
  }
  AdsSettings out;
  if (dr.has_lds_config()) {
    REMORA_RETURN_IF_ERROR(checkAdsSource(dr.lds_config(), path + ".lds_config"));
    out.lds = true;
    out.lds_initial_fetch_timeout = initialFetchTimeout(dr.lds_config());
  }
  if (dr.has_cds_config()) {
    REMORA_RETURN_IF_ERROR(checkAdsSource(dr.cds_config(), path + ".cds_config"));
    out.cds = true;
    out.cds_initial_fetch_timeout = initialFetchTimeout(dr.cds_config());
  }
  if (!dr.has_ads_config()) {
    if (out.lds || out.cds) {
      return invalidArgumentError(path +
                                  ".ads_config: required when lds_config or cds_config "
                                  "is {ads: {}}");
    }
    return std::optional<AdsSettings>();
  }
  const ApiConfigSource& ads = dr.ads_config();
  const std::string apath = path + ".ads_config";
  if (ads.api_type() == ApiConfigSource::DELTA_GRPC ||
      ads.api_type() == ApiConfigSource::AGGREGATED_DELTA_GRPC) {
    return invalidArgumentError(apath +
                                ".api_type: incremental (delta) xDS is not supported; use "
                                "GRPC (state of the world)");
  }
  if (ads.api_type() != ApiConfigSource::GRPC &&
      ads.api_type() != ApiConfigSource::AGGREGATED_GRPC) {
    return invalidArgumentError(apath + ".api_type: must be GRPC");
  }
  if (ads.transport_api_version() == envoy::config::core::v3::V2) {
    return invalidArgumentError(apath + ".transport_api_version: V2 is gone; use V3");
  }
  if (ads.grpc_services_size() == 0) {
    return invalidArgumentError(apath + ".grpc_services: one gRPC service is required");
  }
  const auto& svc = ads.grpc_services(0);
  const std::string spath = apath + ".grpc_services[0]";
  if (svc.has_google_grpc()) {
    auto addr = network::SocketAddress::parse(svc.google_grpc().target_uri());
    if (!addr.ok()) {
      return invalidArgumentError(spath + ".google_grpc.target_uri: " + addr.status().message());
    }
    out.address = *addr;
    return std::optional<AdsSettings>(out);
  }
  if (!svc.has_envoy_grpc() || svc.envoy_grpc().cluster_name().empty()) {
    return invalidArgumentError(spath + ": envoy_grpc.cluster_name is required");
  }
  out.cluster_name = svc.envoy_grpc().cluster_name();
  const Cluster* cluster = nullptr;
  for (const auto& c : bootstrap.static_resources().clusters()) {
    if (c.name() == out.cluster_name) cluster = &c;
  }
  if (cluster == nullptr) {
    return invalidArgumentError(spath + ".envoy_grpc.cluster_name: no static cluster named " +
                                quoted(out.cluster_name));
  }
  const auto& la = cluster->load_assignment();
  if (la.endpoints_size() == 0 || la.endpoints(0).lb_endpoints_size() == 0) {
    return invalidArgumentError(spath + ".envoy_grpc.cluster_name: cluster " +
                                quoted(out.cluster_name) +
                                " has no endpoint (load_assignment) to reach the control plane at");
  }
  auto addr = toSocketAddress(la.endpoints(0).lb_endpoints(0).endpoint().address());
  if (!addr.ok()) {
    return invalidArgumentError(spath + ".envoy_grpc.cluster_name: cluster " +
                                quoted(out.cluster_name) + ": " + addr.status().message());
  }
  out.address = *addr;
  return std::optional<AdsSettings>(out);
}

StatusOr<network::SocketAddress> toSocketAddress(const envoy::config::core::v3::Address& address) {
  return socketAddressAt(address, "");
}

StatusOr<network::CidrRange> toCidrRange(const envoy::config::core::v3::CidrRange& range) {
  auto ip = network::IpAddress::parse(range.address_prefix());
  if (!ip.ok()) return invalidArgumentError("address_prefix: " + ip.status().message());
  auto r = network::CidrRange::create(*ip, range.prefix_len().value());
  if (!r.ok()) return invalidArgumentError("prefix_len: " + r.status().message());
  return r;
}

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

std::chrono::milliseconds connectTimeout(const Cluster& cluster) {
  if (!cluster.has_connect_timeout()) return std::chrono::seconds(5);
  return toMillis(cluster.connect_timeout());
}

std::chrono::milliseconds listenerFiltersTimeout(const Listener& l) {
  if (!l.has_listener_filters_timeout()) return std::chrono::seconds(15);
  return toMillis(l.listener_filters_timeout());
}

bool bindToPort(const Listener& listener) {
  return !listener.has_bind_to_port() || listener.bind_to_port().value();
}

bool usesOriginalDst(const Listener& listener) {
  if (listener.use_original_dst().value()) return true;
  for (const auto& f : listener.listener_filters()) {
    auto type = listenerFilterType(f);
    if (type.ok() && *type == ListenerFilterType::kOriginalDst) return true;
  }
  return false;
}

}  // namespace remora::config
