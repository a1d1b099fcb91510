#include "pilot/translate/cds.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "pilot/translate/envoy_util.h"

namespace remora::pilot {
namespace {

using envoy::config::cluster::v3::Cluster;

std::shared_ptr<Cluster> newCluster(const std::string& name, const MeshConfig& mesh,
                                    const MessageAllocator& alloc) {
  auto c = alloc.make<Cluster>();
  c->set_name(name);
  setDurationMs(mesh.connect_timeout_ms, c->mutable_connect_timeout());
  // The seed's shape: one threshold set left at Envoy's defaults unless a
  // DestinationRule says otherwise.
  c->mutable_circuit_breakers()->add_thresholds();
  return c;
}

void applyPolicy(const TrafficPolicy& p, Cluster* c) {
  if (p.lb_policy) {
    switch (*p.lb_policy) {
      case TrafficPolicy::LbPolicy::kRoundRobin:
        c->set_lb_policy(Cluster::ROUND_ROBIN);
        break;
      case TrafficPolicy::LbPolicy::kLeastRequest:
        c->set_lb_policy(Cluster::LEAST_REQUEST);
        break;
      case TrafficPolicy::LbPolicy::kRandom:
        c->set_lb_policy(Cluster::RANDOM);
        break;
    }
  }
  auto* t = c->mutable_circuit_breakers()->mutable_thresholds(0);
  if (p.max_connections) t->mutable_max_connections()->set_value(*p.max_connections);
  if (p.http1_max_pending_requests) {
    t->mutable_max_pending_requests()->set_value(*p.http1_max_pending_requests);
  }
  if (p.max_requests_per_connection) {
    c->mutable_common_http_protocol_options()->mutable_max_requests_per_connection()->set_value(
        *p.max_requests_per_connection);
  }
  if (p.idle_timeout_ms) {
    setDurationMs(*p.idle_timeout_ms,
                  c->mutable_common_http_protocol_options()->mutable_idle_timeout());
  }
  if (p.connect_timeout_ms) setDurationMs(*p.connect_timeout_ms, c->mutable_connect_timeout());
}

std::shared_ptr<Cluster> outboundCluster(const Service& svc, uint32_t port,
                                         const std::string& subset, const MeshConfig& mesh,
                                         const MessageAllocator& alloc) {
  auto c =
      newCluster(clusterName(TrafficDirection::kOutbound, port, subset, svc.fqdn), mesh, alloc);
  if (svc.passthrough) {
    c->set_type(Cluster::ORIGINAL_DST);
    c->set_lb_policy(Cluster::CLUSTER_PROVIDED);
  } else {
    c->set_type(Cluster::EDS);
    setAdsSource(c->mutable_eds_cluster_config()->mutable_eds_config());
    c->mutable_eds_cluster_config()->set_service_name(c->name());
  }
  return c;
}

}  // namespace

TrafficPolicy mergeTrafficPolicy(const std::optional<TrafficPolicy>& top,
                                 const std::optional<TrafficPolicy>& subset) {
  TrafficPolicy out = top.value_or(TrafficPolicy{});
  if (!subset) return out;
  if (subset->lb_policy) out.lb_policy = subset->lb_policy;
  if (subset->max_connections) out.max_connections = subset->max_connections;
  if (subset->connect_timeout_ms) out.connect_timeout_ms = subset->connect_timeout_ms;
  if (subset->http1_max_pending_requests)
    out.http1_max_pending_requests = subset->http1_max_pending_requests;
  if (subset->max_requests_per_connection) {
    out.max_requests_per_connection = subset->max_requests_per_connection;
  }
  if (subset->idle_timeout_ms) out.idle_timeout_ms = subset->idle_timeout_ms;
  return out;
}

ServiceClusters buildServiceClusters(const MeshSnapshot& snapshot, const Service& svc,
                                     const DestinationRule* rule, const MessageAllocator& alloc) {
  const MeshConfig& mesh = snapshot.mesh();
  ServiceClusters out;
  std::string rule_path = rule ? "/apis/networking.istio.io/v1alpha3/namespaces/" +
                                     rule->meta.namespace_ + "/destination-rule/" + rule->meta.name
                               : "";
  for (const auto& p : svc.ports) {
    if (p.protocol == Protocol::kUdp) continue;
    auto c = outboundCluster(svc, p.port, "", mesh, alloc);
    if (rule) {
      applyPolicy(mergeTrafficPolicy(rule->traffic_policy, std::nullopt), c.get());
      setStringMetadata("istio", "config", rule_path, c->mutable_metadata());
    }
    out.clusters.emplace_back(c);
    if (!rule) continue;
    for (const auto& subset : rule->subsets) {
      auto sc = outboundCluster(svc, p.port, subset.name, mesh, alloc);
      applyPolicy(mergeTrafficPolicy(rule->traffic_policy, subset.traffic_policy), sc.get());
      setStringMetadata("istio", "config", rule_path, sc->mutable_metadata());
      out.clusters.emplace_back(sc);
    }
  }
  out.eds = serviceEdsClusters(svc, rule, out.clusters);
  return out;
}

std::vector<EdsCluster> serviceEdsClusters(const Service& svc, const DestinationRule* rule,
                                           const ResourceList& clusters) {
  std::vector<EdsCluster> eds;
  if (svc.passthrough) return eds;
  // The order of buildServiceClusters: per port, the whole service, then
  // each subset.
  size_t i = 0;
  for (const auto& p : svc.ports) {
    if (p.protocol == Protocol::kUdp) continue;
    eds.push_back({clusters.at(i++).name(), &svc, p.port, nullptr, nullptr});
    if (!rule) continue;
    for (const auto& subset : rule->subsets)
      eds.push_back({clusters.at(i++).name(), &svc, p.port, &subset.labels, rule});
  }
  return eds;
}

std::string serviceClustersInputs(const MeshSnapshot& snapshot, const Service& svc,
                                  const DestinationRule* rule, const ResourceReuse& reuse) {
  // Appended piece by piece: computed for every service of a namespace
  // whenever its first proxy asks after a change.
  std::string inputs;
  inputs.reserve(128);
  inputs += "cds;";
  inputs += svc.fqdn;
  inputs += svc.passthrough ? ";p" : ";e";
  inputs += std::to_string(snapshot.mesh().connect_timeout_ms);
  inputs += ';';
  for (const auto& p : svc.ports) {
    if (p.protocol == Protocol::kUdp) continue;
    inputs += std::to_string(p.port);
    inputs += ',';
  }
  // The rule's document holds its subsets and policies; its name is in the
  // clusters' metadata.
  if (rule) {
    inputs += ';';
    inputs += rule->meta.namespace_;
    inputs += '/';
    inputs += rule->meta.name;
    inputs += '#';
    inputs += std::to_string(reuse.objectHash(rule));
  }
  return inputs;
}

ResourceList buildOutboundClusters(const MeshSnapshot& snapshot, std::string_view proxy_namespace,
                                   const MessageAllocator& alloc, std::vector<EdsCluster>* eds,
                                   const ServiceClustersSource& source) {
  ResourceList out;
  std::vector<EdsCluster> targets;
  for (const auto& svc : snapshot.services()) {
    if (!snapshot.visibleTo(svc.export_to, svc.namespace_, proxy_namespace)) continue;
    const DestinationRule* rule = snapshot.destinationRuleFor(svc, proxy_namespace);
    std::shared_ptr<const ServiceClusters> built =
        source
            ? source(svc, rule)
            : std::make_shared<ServiceClusters>(buildServiceClusters(snapshot, svc, rule, alloc));
    out.insert(out.end(), built->clusters.begin(), built->clusters.end());
    targets.insert(targets.end(), built->eds.begin(), built->eds.end());
  }
  sortByName(&out);
  if (eds) {
    std::sort(targets.begin(), targets.end(),
              [](const EdsCluster& a, const EdsCluster& b) { return a.name < b.name; });
    *eds = std::move(targets);
  }
  return out;
}

ResourceList buildInboundClusters(const MeshSnapshot& snapshot, const ProxyNode& proxy) {
  ResourceList out;
  for (const auto& t : snapshot.inboundTargets(proxy)) {
    std::string name = clusterName(TrafficDirection::kInbound, t.port.port, "", t.service->fqdn);
    auto c = newCluster(name, snapshot.mesh(), {});
    c->set_type(Cluster::STATIC);
    auto* la = c->mutable_load_assignment();
    la->set_cluster_name(name);
    setSocketAddress(
        "127.0.0.1", t.target_port,
        la->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address());
    out.emplace_back(c);
  }
  sortByName(&out);
  return out;
}

ResourceList buildSpecialClusters(const MeshSnapshot& snapshot, const MessageAllocator& alloc) {
  auto blackhole = newCluster(kBlackHoleCluster, snapshot.mesh(), alloc);
  blackhole->clear_circuit_breakers();
  blackhole->set_type(Cluster::STATIC);
  auto passthrough = newCluster(kPassthroughCluster, snapshot.mesh(), alloc);
  passthrough->clear_circuit_breakers();
  passthrough->set_type(Cluster::ORIGINAL_DST);
  passthrough->set_lb_policy(Cluster::CLUSTER_PROVIDED);
  return {Resource(blackhole), Resource(passthrough)};
}

}  // namespace remora::pilot
