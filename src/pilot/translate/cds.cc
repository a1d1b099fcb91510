#include "pilot/translate/cds.h"

#include <charconv>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "pilot/translate/envoy_util.h"
#include "pilot/translate/proto_writer.h"

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

// Cluster.lb_policy for a DestinationRule's choice.
Cluster::LbPolicy lbPolicy(TrafficPolicy::LbPolicy p) {
  switch (p) {
    case TrafficPolicy::LbPolicy::kRoundRobin:
      return Cluster::ROUND_ROBIN;
    case TrafficPolicy::LbPolicy::kLeastRequest:
      return Cluster::LEAST_REQUEST;
    case TrafficPolicy::LbPolicy::kRandom:
      return Cluster::RANDOM;
  }
  return Cluster::ROUND_ROBIN;
}

// `outbound|<port>|<subset>|<fqdn>`, written straight in wire format
// (proto_writer.h; field numbers from envoy/config/cluster/v3/cluster.proto
// and the files it imports): what newCluster, applyPolicy and setAdsSource
// make of it as a message. `policy` and `rule_path` only with a rule.
Resource outboundCluster(const Service& svc, uint32_t port, const std::string& subset,
                         const MeshConfig& mesh, const TrafficPolicy* policy,
                         const std::string& rule_path) {
  ProtoWriter w{ProtoWriter::Scratch{}};
  // The name (clusterName's), written from its parts.
  char digits[12];
  auto [digits_end, ec] = std::to_chars(digits, digits + sizeof(digits), port);
  std::initializer_list<std::string_view> name = {
      "outbound|", std::string_view(digits, static_cast<size_t>(digits_end - digits)),
      "|",         subset,
      "|",         svc.fqdn};
  w.stringOf(1, name);  // name
  // type, a oneof member.
  w.uintAlways(2, svc.passthrough ? Cluster::ORIGINAL_DST : Cluster::EDS);
  if (!svc.passthrough) {
    size_t eds = w.begin(3);                 // eds_cluster_config
    size_t source = w.begin(1);              // EdsClusterConfig.eds_config
    w.empty(3);                              // ConfigSource.ads
    w.uint(6, envoy::config::core::v3::V3);  // ConfigSource.resource_api_version
    w.end(source);
    w.stringOf(2, name);  // EdsClusterConfig.service_name
    w.end(eds);
  }
  w.durationMs(4, policy && policy->connect_timeout_ms ? *policy->connect_timeout_ms
                                                       : mesh.connect_timeout_ms);
  Cluster::LbPolicy lb = svc.passthrough ? Cluster::CLUSTER_PROVIDED : Cluster::ROUND_ROBIN;
  if (policy && policy->lb_policy) lb = lbPolicy(*policy->lb_policy);
  w.uint(6, static_cast<uint64_t>(lb));  // lb_policy
  // circuit_breakers: one threshold set, Envoy's defaults unless the rule
  // says otherwise (the seed's shape).
  size_t breakers = w.begin(10);
  size_t thresholds = w.begin(1);
  if (policy && policy->max_connections) w.uint32Value(2, *policy->max_connections);
  if (policy && policy->http1_max_pending_requests) {
    w.uint32Value(3, *policy->http1_max_pending_requests);
  }
  w.end(thresholds);
  w.end(breakers);
  if (policy) w.stringMetadata(25, "istio", "config", rule_path);  // metadata
  if (policy && (policy->idle_timeout_ms || policy->max_requests_per_connection)) {
    size_t options = w.begin(29);  // common_http_protocol_options
    if (policy->idle_timeout_ms) w.durationMs(1, *policy->idle_timeout_ms);
    if (policy->max_requests_per_connection) w.uint32Value(6, *policy->max_requests_per_connection);
    w.end(options);
  }
  return Resource(EncodedMessage::copyOf(ResourceType::kCluster, w.bytes()));
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
                                     const DestinationRule* rule) {
  const MeshConfig& mesh = snapshot.mesh();
  ServiceClusters out;
  std::string rule_path = rule ? "/apis/networking.istio.io/v1alpha3/namespaces/" +
                                     rule->meta.namespace_ + "/destination-rule/" + rule->meta.name
                               : "";
  for (const auto& p : svc.ports) {
    if (p.protocol == Protocol::kUdp) continue;
    if (!rule) {
      out.clusters.push_back(outboundCluster(svc, p.port, "", mesh, nullptr, rule_path));
      continue;
    }
    TrafficPolicy top = mergeTrafficPolicy(rule->traffic_policy, std::nullopt);
    out.clusters.push_back(outboundCluster(svc, p.port, "", mesh, &top, rule_path));
    for (const auto& subset : rule->subsets) {
      TrafficPolicy policy = mergeTrafficPolicy(rule->traffic_policy, subset.traffic_policy);
      out.clusters.push_back(outboundCluster(svc, p.port, subset.name, mesh, &policy, rule_path));
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

void appendServiceClustersInputs(const MeshSnapshot& snapshot, const Service& svc,
                                 const DestinationRule* rule, const ResourceReuse& reuse,
                                 std::string* out) {
  // Appended piece by piece: computed for every service of a namespace
  // whenever its first proxy asks after a change.
  std::string& inputs = *out;
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
