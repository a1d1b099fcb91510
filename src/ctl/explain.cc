#include "ctl/explain.h"

#include <algorithm>
#include <map>

#include "config/bootstrap.h"
#include "config/filters.h"
#include "ctl/proxy_config.h"
#include "lab/http_client.h"
#include "listener/filter_chain_matcher.h"
#include "listener/http_detect.h"
#include "listener/original_dst.h"
#include "router/route_table.h"
#include "router/simple_request.h"
#include "upstream/host.h"

namespace remora::ctl {
namespace {

constexpr uint16_t kOutboundCapturePort = 15001;
constexpr uint16_t kInboundCapturePort = 15006;

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

upstream::HealthStatus healthFromProto(envoy::config::core::v3::HealthStatus s) {
  switch (s) {
    case envoy::config::core::v3::HEALTHY:
      return upstream::HealthStatus::kHealthy;
    case envoy::config::core::v3::UNHEALTHY:
      return upstream::HealthStatus::kUnhealthy;
    case envoy::config::core::v3::DRAINING:
      return upstream::HealthStatus::kDraining;
    case envoy::config::core::v3::TIMEOUT:
      return upstream::HealthStatus::kTimeout;
    case envoy::config::core::v3::DEGRADED:
      return upstream::HealthStatus::kDegraded;
    default:
      return upstream::HealthStatus::kUnknown;
  }
}

class Explainer {
 public:
  Explainer(const ExplainRequest& request, const ExplainInput& input)
      : in_(input), config_(*input.config) {
    r_.request = request;
  }

  ExplainResult run() {
    if (!capture()) return std::move(r_);
    const Listener* l = handOff();
    if (l == nullptr) return std::move(r_);
    const envoy::config::listener::v3::FilterChain* chain = filterChain(*l);
    if (chain == nullptr) return std::move(r_);
    networkFilter(*chain);
    return std::move(r_);
  }

 private:
  void finish(ExplainOutcome outcome, std::string summary, int http_status = 0,
              std::string flag = "") {
    r_.outcome = outcome;
    r_.summary = std::move(summary);
    r_.http_status = http_status;
    r_.response_flag = std::move(flag);
  }

  bool http() const { return r_.network_filter == "http_connection_manager"; }

  // -------------------------------------------------------------------------
  // 1. The pod's nat rules.
  bool capture() {
    const ExplainRequest& q = r_.request;
    r_.capture_chain = q.inbound ? "PREROUTING" : "OUTPUT";
    NatPacket& p = r_.packet;
    p.destination = q.destination;
    p.destination_port = q.port;
    bool local = q.destination.isLoopback() || (q.pod_ip && *q.pod_ip == q.destination);
    if (q.inbound) {
      p.in_interface = "eth0";
      r_.notes.push_back(
          "the caller is another pod; its address (0.0.0.0 here) matters only "
          "to source matches");
    } else {
      p.out_interface = local ? "lo" : "eth0";
      p.uid = p.gid = in_.app_uid;
      if (q.destination.isLoopback()) {
        p.source = *network::IpAddress::parse("127.0.0.1");
      } else if (q.pod_ip) {
        p.source = *q.pod_ip;
      } else {
        r_.notes.push_back("the pod's IP is not known (give --pod-ip); 0.0.0.0 stands for it");
      }
    }
    if (in_.nat_save.empty()) {
      r_.notes.push_back("capture not checked: " + (in_.capture_skipped.empty()
                                                        ? std::string("no nat table given")
                                                        : in_.capture_skipped));
      r_.capture_port = q.inbound && listenerBoundTo(kInboundCapturePort) != nullptr
                            ? kInboundCapturePort
                            : kOutboundCapturePort;
      r_.notes.push_back("assumed redirected to port " + std::to_string(r_.capture_port) +
                         ", as remora-init does by default");
      return true;
    }
    auto table = parseNatTable(in_.nat_save);
    if (!table.ok()) {
      finish(ExplainOutcome::kConfigError,
             "cannot read the nat table: " + table.status().message());
      return false;
    }
    NatTrace trace = traceNat(*table, r_.capture_chain, p);
    r_.capture_evaluated = true;
    r_.capture_note = trace.note;
    for (const NatStep& s : trace.steps) {
      r_.capture_steps.push_back({s.rule->text, s.matched, s.why_not, s.rule->packets});
    }
    if (trace.verdict == NatTrace::Verdict::kRedirect) {
      r_.capture_port = trace.redirect_port;
      return true;
    }
    std::string to = network::SocketAddress{q.destination, q.port}.toString();
    finish(ExplainOutcome::kNotCaptured, "not captured (" + trace.note +
                                             "): the connection goes straight to " + to +
                                             " and the proxy never sees it");
    return false;
  }

  // -------------------------------------------------------------------------
  // 2. The listener bound to the capture port, and its hand-off.
  const Listener* listenerBoundTo(uint16_t port) const {
    for (const Listener& l : config_.listeners) {
      auto address = config::toSocketAddress(l.address());
      if (address.ok() && address->port == port && config::bindToPort(l)) return &l;
    }
    return nullptr;
  }

  const Listener* handOff() {
    const Listener* receiving = listenerBoundTo(r_.capture_port);
    network::SocketAddress original{r_.request.destination, r_.request.port};
    r_.original_destination = original;
    if (receiving == nullptr) {
      finish(ExplainOutcome::kNoProxyListener, "no listener binds port " +
                                                   std::to_string(r_.capture_port) +
                                                   ": the redirected connection is refused");
      return nullptr;
    }
    r_.receiving_listener = receiving->name();
    r_.use_original_dst = config::usesOriginalDst(*receiving);
    const Listener* target = receiving;
    if (r_.use_original_dst) {
      std::map<network::SocketAddress, const Listener*> by_address;
      for (const Listener& l : config_.listeners) {
        auto address = config::toSocketAddress(l.address());
        if (address.ok()) by_address.emplace(*address, &l);
      }
      const Listener* const* owner = listener::selectListenerForOriginalDst(original, by_address);
      if (owner != nullptr && *owner != receiving) {
        target = *owner;
        auto address = config::toSocketAddress(target->address());
        r_.handoff = address.ok() && *address == original ? "exact" : "wildcard";
      } else {
        r_.handoff = "none";
      }
    }
    r_.listener = target->name();
    auto address = config::toSocketAddress(target->address());
    r_.listener_address = address.ok() ? address->toString() : "";
    return target;
  }

  // -------------------------------------------------------------------------
  // 3. Listener filters and the filter chain match.
  const envoy::config::listener::v3::FilterChain* filterChain(const Listener& l) {
    bool http_inspector = false;
    for (const auto& f : l.listener_filters()) {
      auto type = config::listenerFilterType(f);
      if (type.ok() && *type == config::ListenerFilterType::kHttpInspector) http_inspector = true;
    }
    listener::ConnectionMatchInput m;
    m.destination = r_.original_destination;
    m.source.ip = r_.packet.source;
    m.transport_protocol = "raw_buffer";  // a plain-text request: tls_inspector says so too
    if (http_inspector) {
      std::string head = r_.request.method + " " + r_.request.path +
                         " HTTP/1.1\r\nHost: " + r_.request.authority() + "\r\n\r\n";
      auto detected = listener::detectHttp(head);
      if (!detected.application_protocol.empty()) {
        m.application_protocols.emplace_back(detected.application_protocol);
      }
    }
    r_.transport_protocol = m.transport_protocol;
    r_.application_protocols = m.application_protocols;
    auto matcher = listener::FilterChainMatcher::create(l);
    if (!matcher.ok()) {
      finish(ExplainOutcome::kConfigError,
             "listener " + quoted(l.name()) + " is invalid: " + matcher.status().message());
      return nullptr;
    }
    listener::MatchExplanation e = matcher->explain(m);
    for (const listener::MatchStep& s : e.steps) {
      r_.chain_stages.push_back({s.stage, s.input, s.bucket, s.matched});
      bool specific =
          s.matched && s.bucket != "(any)" && s.bucket != "0.0.0.0/0" && s.bucket != "::/0";
      if (specific) r_.deciding_fields.push_back(s.stage + " " + s.bucket);
    }
    const envoy::config::listener::v3::FilterChain* chain = e.selection.chain(l);
    switch (e.selection.kind) {
      case listener::ChainSelection::Kind::kChain:
        r_.chain_index = e.selection.index;
        r_.chain = "filter_chains[" + std::to_string(e.selection.index) + "]";
        if (!chain->name().empty()) r_.chain += " " + quoted(chain->name());
        break;
      case listener::ChainSelection::Kind::kDefault:
        r_.chain = "default_filter_chain";
        if (!chain->name().empty()) r_.chain += " " + quoted(chain->name());
        break;
      case listener::ChainSelection::Kind::kNone:
        finish(ExplainOutcome::kNoFilterChain,
               "no filter chain of listener " + quoted(l.name()) +
                   " matches and it has no default chain: the connection is closed");
        return nullptr;
    }
    return chain;
  }

  // -------------------------------------------------------------------------
  // 4. The network filter: tcp_proxy, or HTTP routing.
  void networkFilter(const envoy::config::listener::v3::FilterChain& chain) {
    for (const auto& f : chain.filters()) {
      auto type = config::networkFilterType(f);
      if (!type.ok()) continue;
      if (*type == config::NetworkFilterType::kTcpProxy) {
        r_.network_filter = "tcp_proxy";
        auto tcp = config::unpackTcpProxy(f);
        if (!tcp.ok()) return finish(ExplainOutcome::kConfigError, tcp.status().message());
        std::string cluster = tcp->cluster();
        for (const auto& w : tcp->weighted_clusters().clusters()) {
          r_.weighted_clusters.push_back(w.name() + " (weight " + std::to_string(w.weight()) + ")");
          if (cluster.empty()) cluster = w.name();
        }
        if (!r_.weighted_clusters.empty()) {
          r_.notes.push_back("tcp_proxy picks a weighted cluster per connection; explaining " +
                             cluster);
        }
        return upstreamCluster(cluster, 503);
      }
      r_.network_filter = "http_connection_manager";
      auto hcm = config::unpackHttpConnectionManager(f);
      if (!hcm.ok()) return finish(ExplainOutcome::kConfigError, hcm.status().message());
      return routeHttp(*hcm);
    }
    r_.network_filter = "none";
    finish(ExplainOutcome::kConfigError,
           "the chain has neither tcp_proxy nor http_connection_manager");
  }

  void routeHttp(const config::HttpConnectionManagerConfig& hcm) {
    const RouteConfiguration* rc = nullptr;
    if (hcm.has_route_config()) {
      rc = &hcm.route_config();
      r_.route_config = rc->name();
      r_.route_config_inline = true;
    } else {
      r_.route_config = hcm.rds().route_config_name();
      rc = config_.findRouteConfig(r_.route_config);
      if (rc == nullptr) {
        return finish(ExplainOutcome::kNoRouteConfig,
                      "route configuration " + quoted(r_.route_config) +
                          " (RDS) has not reached the proxy: 404 NR",
                      404, "NR");
      }
    }
    auto table = router::RouteTable::compile(*rc);
    if (!table.ok()) {
      return finish(ExplainOutcome::kConfigError, "route configuration " + quoted(r_.route_config) +
                                                      " is invalid: " + table.status().message());
    }
    const ExplainRequest& q = r_.request;
    router::SimpleRequest request(q.authority(), q.path, q.method, q.scheme);
    for (const auto& [name, value] : q.headers) {
      if (lower(name) != "host") request.header(name, value);
    }
    router::SeededRandom random(in_.random_seed);
    router::Explanation e = (*table)->explain(request, random);
    const router::RouteDecision& d = e.decision;
    if (e.domain.matched) {
      r_.virtual_host = e.domain.virtual_host;
      r_.domain = e.domain.domain;
      r_.domain_match = router::domainMatchKindName(e.domain.kind);
    }
    for (const router::RouteCheck& c : e.routes) {
      r_.route_checks.push_back("#" + std::to_string(c.index) +
                                (c.name.empty() ? "" : " " + quoted(c.name)) +
                                (c.matched ? ": MATCH, " : ": no, ") + c.detail);
    }
    if (d.route != nullptr) {
      r_.route = "#" + std::to_string(d.route->index) +
                 (d.route->name.empty() ? "" : " " + quoted(d.route->name));
      r_.route_match = e.matched_field + " " + quoted(d.route->path.value);
      if (d.route->config != nullptr) {
        r_.virtual_service = describeManagement(d.route->config->metadata());
      }
    }
    using O = router::RouteDecision::Outcome;
    switch (d.outcome) {
      case O::kNoVirtualHost:
        return finish(ExplainOutcome::kNoVirtualHost,
                      "no virtual host of " + quoted(r_.route_config) + " matches host " +
                          quoted(e.domain.host) + ": 404 NR",
                      404, "NR");
      case O::kNoRoute:
        return finish(ExplainOutcome::kNoRoute,
                      "virtual host " + quoted(r_.virtual_host) + " has no route for " + q.method +
                          " " + q.path + ": 404 NR",
                      404, "NR");
      case O::kRedirect:
      case O::kDirectResponse:
        return finish(ExplainOutcome::kLocalReply, "the proxy answers itself: " + e.summary,
                      static_cast<int>(d.status));
      case O::kCluster:
        break;
    }
    for (const auto& w : d.route->cluster.weighted_clusters) {
      r_.weighted_clusters.push_back(w.name + " (weight " + std::to_string(w.weight) + ")");
    }
    if (d.weighted_cluster != nullptr) {
      r_.notes.push_back("the route picks a weighted cluster per request; with seed " +
                         std::to_string(in_.random_seed) + " it picked " +
                         d.weighted_cluster->name);
    }
    upstreamCluster(std::string(d.clusterName()), d.route->cluster.cluster_not_found_status);
  }

  // -------------------------------------------------------------------------
  // 5. Cluster and endpoints.
  void upstreamCluster(const std::string& name, uint32_t not_found_status) {
    r_.cluster = name;
    const Cluster* cluster = name.empty() ? nullptr : config_.findCluster(name);
    if (cluster == nullptr) {
      std::string what = name.empty() ? "the route names no cluster (cluster_header absent)"
                                      : "cluster " + quoted(name) + " is not in the proxy";
      if (http()) {
        return finish(ExplainOutcome::kClusterNotFound,
                      what + ": " + std::to_string(not_found_status) + " NC",
                      static_cast<int>(not_found_status), "NC");
      }
      return finish(ExplainOutcome::kClusterNotFound, what + ": the connection is closed (NC)", 0,
                    "NC");
    }
    r_.cluster_type = Cluster::DiscoveryType_Name(cluster->type());
    r_.destination_rule = describeManagement(cluster->metadata());
    if (cluster->type() == Cluster::ORIGINAL_DST) {
      r_.endpoints_source = "original destination";
      r_.endpoints.push_back({r_.original_destination.toString(), "HEALTHY", false, true, 1});
      return finish(ExplainOutcome::kPassthrough,
                    "passed through: " + quoted(name) + " (ORIGINAL_DST) connects to " +
                        r_.original_destination.toString() + ", where the app meant to go");
    }
    collectEndpoints(*cluster);
    bool any = std::any_of(r_.endpoints.begin(), r_.endpoints.end(),
                           [](const ExplainEndpoint& e) { return e.eligible; });
    if (name == "BlackHoleCluster" || !any) {
      ExplainOutcome o = name == "BlackHoleCluster" ? ExplainOutcome::kBlackHole
                                                    : ExplainOutcome::kNoHealthyUpstream;
      std::string what = name == "BlackHoleCluster"
                             ? "black-holed: " + quoted(name) + " has no endpoints"
                             : "cluster " + quoted(name) + " has no eligible endpoint (" +
                                   std::to_string(r_.endpoints.size()) + " in total)";
      if (http()) return finish(o, what + ": 503 UH", 503, "UH");
      return finish(o, what + ": the connection is closed (UH)", 0, "UH");
    }
    std::vector<std::string> eligible;
    for (const auto& e : r_.endpoints) {
      if (e.eligible) eligible.push_back(e.address);
    }
    std::string list;
    for (size_t i = 0; i < eligible.size(); ++i)
      list += (i ? ", " : "") + eligible[i];
    finish(ExplainOutcome::kForwarded, "forwarded to " + quoted(name) + ", one of " +
                                           std::to_string(eligible.size()) + " eligible endpoint" +
                                           (eligible.size() == 1 ? "" : "s") + ": " + list);
  }

  void collectEndpoints(const Cluster& cluster) {
    envoy::admin::v3::Clusters derived;
    const envoy::admin::v3::Clusters* statuses = in_.clusters;
    r_.endpoints_source = "/clusters";
    if (statuses == nullptr) {
      derived = clustersFromConfig(config_);
      statuses = &derived;
      r_.endpoints_source = "config dump";
    }
    const envoy::admin::v3::ClusterStatus* status = nullptr;
    for (const auto& c : statuses->cluster_statuses()) {
      if (c.name() == cluster.name()) status = &c;
    }
    if (status == nullptr) return;
    // The proxy's own rule for which hosts take traffic (upstream::makeHostSet).
    std::vector<upstream::HostSharedPtr> hosts;
    for (const auto& h : status->host_statuses()) {
      auto host = std::make_shared<upstream::Host>();
      host->health = h.health_status().failed_outlier_check()
                         ? upstream::HealthStatus::kUnhealthy
                         : healthFromProto(h.health_status().eds_health_status());
      host->weight = h.weight() == 0 ? 1 : h.weight();
      hosts.push_back(host);
    }
    upstream::HostSetConstSharedPtr set = upstream::makeHostSet(hosts);
    for (int i = 0; i < status->host_statuses_size(); ++i) {
      const auto& h = status->host_statuses(i);
      ExplainEndpoint e;
      e.address = h.address().has_pipe()
                      ? "unix://" + h.address().pipe().path()
                      : network::SocketAddress{*network::IpAddress::parse(
                                                   h.address().socket_address().address()),
                                               static_cast<uint16_t>(
                                                   h.address().socket_address().port_value())}
                            .toString();
      e.health = envoy::config::core::v3::HealthStatus_Name(h.health_status().eds_health_status());
      e.failed_outlier_check = h.health_status().failed_outlier_check();
      e.weight = hosts[static_cast<size_t>(i)]->weight;
      e.eligible = std::find(set->usable.begin(), set->usable.end(),
                             hosts[static_cast<size_t>(i)]) != set->usable.end();
      r_.endpoints.push_back(std::move(e));
    }
  }

  const ExplainInput& in_;
  const ProxyConfig& config_;
  ExplainResult r_;
};

}  // namespace

std::string ExplainRequest::authority() const {
  for (const auto& [name, value] : headers) {
    if (lower(name) == "host") return value;
  }
  return port == 80 ? host : host + ":" + std::to_string(port);
}

Status parseExplainUrl(std::string_view url, ExplainRequest& out) {
  std::string text(url);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto parsed = lab::parseHttpUrl(text);
  if (!parsed.ok()) {
    return invalidArgumentError("url: " + parsed.status().message() +
                                " (explain follows plain-text http:// requests)");
  }
  out.host = parsed->host;
  out.port = parsed->port;
  out.path = parsed->path;
  return Status::okStatus();
}

StatusOr<std::pair<std::string, std::string>> parseHeaderFlag(std::string_view flag) {
  size_t colon = flag.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalidArgumentError("-H " + quoted(flag) + ": expected 'Name: value'");
  }
  std::string_view value = flag.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return std::make_pair(std::string(flag.substr(0, colon)), std::string(value));
}

std::optional<network::IpAddress> lookupHostsFile(std::string_view text, std::string_view name) {
  std::string want = lower(name);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
      size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t')
        ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    for (size_t w = 1; w < words.size(); ++w) {
      if (lower(words[w]) != want) continue;
      auto ip = network::IpAddress::parse(words[0]);
      if (ip.ok()) return *ip;
    }
  }
  return std::nullopt;
}

const char* explainOutcomeName(ExplainOutcome o) {
  switch (o) {
    case ExplainOutcome::kForwarded:
      return "forwarded";
    case ExplainOutcome::kPassthrough:
      return "passthrough";
    case ExplainOutcome::kBlackHole:
      return "black_hole";
    case ExplainOutcome::kNotCaptured:
      return "not_captured";
    case ExplainOutcome::kNoProxyListener:
      return "no_proxy_listener";
    case ExplainOutcome::kNoFilterChain:
      return "no_filter_chain";
    case ExplainOutcome::kNoRouteConfig:
      return "no_route_config";
    case ExplainOutcome::kNoVirtualHost:
      return "no_virtual_host";
    case ExplainOutcome::kNoRoute:
      return "no_route";
    case ExplainOutcome::kLocalReply:
      return "local_reply";
    case ExplainOutcome::kClusterNotFound:
      return "cluster_not_found";
    case ExplainOutcome::kNoHealthyUpstream:
      return "no_healthy_upstream";
    case ExplainOutcome::kConfigError:
      return "config_error";
  }
  return "unknown";
}

ExplainResult explainRequest(const ExplainRequest& request, const ExplainInput& input) {
  return Explainer(request, input).run();
}

}  // namespace remora::ctl
