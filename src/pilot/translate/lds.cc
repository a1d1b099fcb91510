#include "pilot/translate/lds.h"

#include <set>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "pilot/translate/envoy_util.h"
#include "pilot/translate/proto_writer.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {
namespace {

using envoy::config::listener::v3::Listener;

std::shared_ptr<Listener> newListener(const std::string& ip, uint32_t port,
                                      envoy::config::core::v3::TrafficDirection direction,
                                      const MessageAllocator& alloc) {
  auto l = alloc.make<Listener>();
  l->set_name(listenerName(ip, port));
  setSocketAddress(ip, port, l->mutable_address());
  // Reached only through the virtual listener's original-destination hand-off.
  l->mutable_bind_to_port()->set_value(false);
  l->set_traffic_direction(direction);
  return l;
}

bool l4MatchApplies(const L4Match& m, const ProxyNode& proxy, uint32_t port) {
  if (m.port != 0 && m.port != port) return false;
  if (!m.source_namespace.empty() && m.source_namespace != proxy.namespace_) return false;
  for (const auto& [k, v] : m.source_labels) {
    auto it = proxy.labels.find(k);
    if (it == proxy.labels.end() || it->second != v) return false;
  }
  return m.gateways.empty() ||
         std::find(m.gateways.begin(), m.gateways.end(), "mesh") != m.gateways.end();
}

// The tcp_proxy filter of an outbound TCP service port (FilterChain.filters)
// in wire format, honouring the first matching `tcp` rule of its
// VirtualService (those few built as messages).
void writeOutboundTcpFilter(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                            const Service& svc, uint32_t port, ProtoWriter* w) {
  std::string default_cluster = clusterName(TrafficDirection::kOutbound, port, "", svc.fqdn);
  const ResolvedVirtualService* rvs = snapshot.virtualServiceFor(svc.fqdn, proxy.namespace_);
  const TcpRoute* chosen = nullptr;
  if (rvs) {
    for (const auto& rule : rvs->spec->tcp) {
      bool applies = rule.match.empty();
      for (const auto& m : rule.match)
        applies = applies || l4MatchApplies(m, proxy, port);
      if (applies) {
        chosen = &rule;
        break;
      }
    }
  }
  if (!chosen) {
    // What makeTcpProxyFilter makes of it, as a message.
    size_t filter = w->begin(3);    // FilterChain.filters
    w->string(1, kTcpProxyFilter);  // Filter.name
    size_t any = w->begin(4);       // Filter.typed_config
    w->string(1, "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
    size_t tcp = w->begin(2);             // Any.value
    w->string(1, default_cluster);        // TcpProxy.stat_prefix
    w->stringAlways(2, default_cluster);  // TcpProxy.cluster (oneof)
    w->end(tcp);
    w->end(any);
    w->end(filter);
    return;
  }
  envoy::config::listener::v3::Filter message;
  envoy::config::listener::v3::Filter* out = &message;
  auto cluster = [&](const Destination& d) {
    std::string host = snapshot.resolveHost(d.host, rvs->spec->meta.namespace_);
    const Service* dest = snapshot.findService(host);
    uint32_t p =
        d.port ? d.port : (dest && dest->ports.size() == 1 ? dest->ports.front().port : port);
    return clusterName(TrafficDirection::kOutbound, p, d.subset, host);
  };
  if (chosen->route.size() == 1) {
    makeTcpProxyFilter(default_cluster, cluster(chosen->route.front().destination), out);
    w->message(3, message);
    return;
  }
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(default_cluster);
  for (const auto& d : chosen->route) {
    if (d.weight.value_or(0) == 0) continue;
    auto* c = tcp.mutable_weighted_clusters()->add_clusters();
    c->set_name(cluster(d.destination));
    c->set_weight(*d.weight);
  }
  out->set_name(kTcpProxyFilter);
  out->mutable_typed_config()->PackFrom(tcp);
  w->message(3, message);
}

// Outbound TCP listener `<ip>_<port>` in wire format: what newListener and
// writeOutboundTcpFilter make of it (field numbers from
// envoy/config/listener/v3/listener{,_components}.proto).
Resource outboundTcpListener(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                             const Service& svc, std::string_view ip, uint32_t port) {
  ProtoWriter w{ProtoWriter::Scratch{}};
  w.string(1, listenerName(ip, port));  // name
  size_t address = w.begin(2);          // address
  size_t socket = w.begin(1);           // Address.socket_address
  w.string(2, ip);                      // SocketAddress.address
  w.uintAlways(3, port);                // SocketAddress.port_value (oneof)
  w.end(socket);
  w.end(address);
  size_t chain = w.begin(3);  // filter_chains
  writeOutboundTcpFilter(snapshot, proxy, svc, port, &w);
  w.end(chain);
  w.uint(16, envoy::config::core::v3::OUTBOUND);  // traffic_direction
  // bind_to_port: false. Reached only through the virtual listener's
  // original-destination hand-off.
  w.empty(26);
  return Resource(EncodedMessage::copyOf(ResourceType::kListener, w.bytes()));
}

// A listener that receives redirected connections and hands each to the
// listener owning its original destination; `catch_all` takes the rest.
std::shared_ptr<Listener> newCaptureListener(const std::string& name, uint32_t port,
                                             envoy::config::core::v3::TrafficDirection direction,
                                             const std::string& chain_prefix, const char* catch_all,
                                             const MessageAllocator& alloc) {
  auto l = alloc.make<Listener>();
  l->set_name(name);
  setSocketAddress("0.0.0.0", port, l->mutable_address());
  l->mutable_use_original_dst()->set_value(true);
  l->set_traffic_direction(direction);
  // A connection whose original destination is this very port (someone
  // dialling <podIP>:15001, or the proxy's own passthrough connection to an
  // unowned local port coming back) would otherwise be passed through to
  // itself forever.
  auto* guard = l->add_filter_chains();
  guard->set_name(chain_prefix + "-blackhole");
  guard->mutable_filter_chain_match()->mutable_destination_port()->set_value(port);
  makeTcpProxyFilter(kBlackHoleCluster, kBlackHoleCluster, guard->add_filters());
  auto* rest = l->add_filter_chains();
  rest->set_name(chain_prefix + "-catchall-tcp");
  makeTcpProxyFilter(catch_all, catch_all, rest->add_filters());
  return l;
}

}  // namespace

ResourceList buildVirtualListeners(const MeshSnapshot& snapshot, const MessageAllocator& alloc) {
  const MeshConfig& mesh = snapshot.mesh();
  const char* outbound_target = mesh.outbound_policy == MeshConfig::OutboundPolicy::kAllowAny
                                    ? kPassthroughCluster
                                    : kBlackHoleCluster;
  ResourceList out{Resource(newCaptureListener("virtual", mesh.proxy_listen_port,
                                               envoy::config::core::v3::OUTBOUND, "virtualOutbound",
                                               outbound_target, alloc))};
  if (mesh.proxy_inbound_listen_port != 0) {
    // Inbound to a port no service claims goes to the app unchanged: the
    // outbound traffic policy is about what the app may call, not about who
    // may call it.
    out.emplace_back(newCaptureListener("virtualInbound", mesh.proxy_inbound_listen_port,
                                        envoy::config::core::v3::INBOUND, "virtualInbound",
                                        kPassthroughCluster, alloc));
    sortByName(&out);
  }
  return out;
}

ResourceList buildInboundListeners(const MeshSnapshot& snapshot, const ProxyNode& proxy) {
  ResourceList out;
  std::set<uint32_t> taken;
  // Targets come sorted by target port then FQDN: when two services reach the
  // same container port, the first one names the listener's route and cluster.
  for (const auto& t : snapshot.inboundTargets(proxy)) {
    if (!taken.insert(t.target_port).second) continue;
    auto l = newListener(proxy.ip, t.target_port, envoy::config::core::v3::INBOUND, {});
    auto* chain = l->add_filter_chains();
    chain->mutable_filter_chain_match()->set_transport_protocol("raw_buffer");
    std::string stat_prefix = "inbound_" + l->name();
    if (isHttpProtocol(t.port.protocol)) {
      makeInlineHcmFilter(stat_prefix, buildInboundRouteConfig(t), chain->add_filters());
    } else {
      std::string cluster =
          clusterName(TrafficDirection::kInbound, t.port.port, "", t.service->fqdn);
      makeTcpProxyFilter(cluster, cluster, chain->add_filters());
    }
    out.emplace_back(l);
  }
  sortByName(&out);
  return out;
}

ResourceList buildOutboundListeners(const MeshSnapshot& snapshot, const ProxyNode& proxy,
                                    const MessageAllocator& alloc, const ResourceReuse* reuse) {
  // What to build, planned first: with `reuse`, when no listener's inputs
  // changed, the namespace's sorted list is taken whole.
  struct Planned {
    const Service* svc;  // null: the HTTP listener of `port`
    std::string_view ip;
    uint32_t port;
    std::string inputs;  // with `reuse`
  };
  std::vector<Planned> plan;
  std::set<uint32_t> http_ports;
  for (const auto& svc : snapshot.services()) {
    if (!snapshot.visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
    for (const auto& p : svc.ports) {
      if (isHttpProtocol(p.protocol)) http_ports.insert(p.port);
    }
  }
  // Listener names (`<ip>_<port>`) taken, as (ip, port).
  std::set<std::pair<std::string_view, uint32_t>> taken;
  for (uint32_t port : http_ports) {
    taken.insert({"0.0.0.0", port});
    plan.push_back({nullptr, "0.0.0.0", port, reuse ? "lds-http;" + std::to_string(port) : ""});
  }
  const std::string proxy_key = reuse ? reuse->proxyKey(proxy) : "";
  static const std::vector<std::string> kAnyAddress = {"0.0.0.0"};
  for (const auto& svc : snapshot.services()) {
    if (!snapshot.visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
    for (const auto& p : svc.ports) {
      if (isHttpProtocol(p.protocol) || p.protocol == Protocol::kUdp) continue;
      // Without a VIP the only key left is the port: such services share
      // 0.0.0.0_<port> and the first one (by FQDN) wins, as in Istio.
      for (const auto& ip : svc.vips.empty() ? kAnyAddress : svc.vips) {
        if (!taken.insert({ip, p.port}).second) continue;
        std::string inputs;
        if (reuse) {
          // The tcp_proxy depends on the service's rule as this proxy sees it.
          inputs = "lds-tcp;" + proxy_key + ";" + listenerName(ip, p.port) + ";" + svc.fqdn + ";" +
                   std::to_string(p.port) + ";";
          appendVirtualServiceInputs(
              snapshot, snapshot.virtualServiceFor(svc.fqdn, proxy.namespace_), *reuse, &inputs);
        }
        plan.push_back({&svc, ip, p.port, std::move(inputs)});
      }
    }
  }
  auto build = [&](const Planned& p) -> ResourceList {
    if (p.svc) return {outboundTcpListener(snapshot, proxy, *p.svc, p.ip, p.port)};
    auto l = newListener("0.0.0.0", p.port, envoy::config::core::v3::OUTBOUND, alloc);
    makeRdsHcmFilter("outbound_" + l->name(), std::to_string(p.port),
                     l->add_filter_chains()->add_filters());
    return {Resource(l)};
  };
  auto buildAll = [&] {
    ResourceList out;
    out.reserve(plan.size());
    for (const auto& p : plan) {
      ResourceList got = reuse ? reuse->get(p.inputs, [&] { return build(p); }) : build(p);
      out.insert(out.end(), got.begin(), got.end());
    }
    sortByName(&out);
    return out;
  };
  if (!reuse) return buildAll();
  std::string all = "lds-ns;";
  for (const auto& p : plan) {
    all += p.inputs;
    all += '\n';
  }
  return reuse->get(all, buildAll);
}

}  // namespace remora::pilot
