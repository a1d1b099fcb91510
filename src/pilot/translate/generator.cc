#include "pilot/translate/generator.h"

#include <algorithm>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/eds.h"
#include "pilot/translate/lds.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {
namespace {

void append(ResourceList* to, const ResourceList& from) { to->insert(to->end(), from.begin(), from.end()); }

}  // namespace

ConfigGenerator::ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot)
    : snapshot_(std::move(snapshot)) {
  for (const auto& rvs : snapshot_->virtualServices()) {
    for (const auto& rule : rvs.spec->http) {
      for (const auto& m : rule.match) uses_source_matches_ |= !m.source_labels.empty();
    }
    for (const auto& rule : rvs.spec->tcp) {
      for (const auto& m : rule.match) uses_source_matches_ |= !m.source_labels.empty();
    }
  }
}

std::shared_ptr<const ConfigGenerator::Outbound> ConfigGenerator::outbound(const ProxyNode& proxy) const {
  std::string key = proxy.namespace_;
  if (uses_source_matches_) {
    for (const auto& [k, v] : proxy.labels) key += "|" + k + "=" + v;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outbound_.find(key);
    if (it != outbound_.end()) return it->second;
  }
  // Built outside the lock: two threads may race to build the same entry,
  // which wastes work but keeps other namespaces from waiting.
  auto out = std::make_shared<Outbound>();
  out->listeners = buildOutboundListeners(*snapshot_, proxy);
  out->routes = buildOutboundRouteConfigs(*snapshot_, proxy);
  out->clusters = buildOutboundClusters(*snapshot_, proxy.namespace_);
  for (const auto& r : out->clusters) {
    const auto& c = static_cast<const envoy::config::cluster::v3::Cluster&>(*r.message);
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS) out->eds_clusters.push_back(r.name);
  }
  std::lock_guard<std::mutex> lock(mu_);
  return outbound_.emplace(key, std::move(out)).first->second;
}

Resource ConfigGenerator::loadAssignment(const std::string& cluster_name,
                                         const std::string& proxy_namespace) const {
  ClusterKey key;
  const Service* svc = nullptr;
  const DestinationRule* dr = nullptr;
  const Labels* subset_labels = nullptr;
  bool known = parseClusterName(cluster_name, &key) && key.direction == TrafficDirection::kOutbound;
  if (known) svc = snapshot_->findService(key.host);
  if (svc && !key.subset.empty()) {
    dr = snapshot_->destinationRuleFor(*svc, proxy_namespace);
    static const Labels kNoMatch = {{"", "\x01"}};  // subset unknown here: select nothing
    subset_labels = &kNoMatch;
    if (dr) {
      for (const auto& s : dr->subsets) {
        if (s.name == key.subset) subset_labels = &s.labels;
      }
    }
  }
  std::string cache_key = cluster_name;
  if (dr) cache_key += "@" + dr->meta.namespace_ + "/" + dr->meta.name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = assignments_.find(cache_key);
    if (it != assignments_.end()) return it->second;
  }
  auto cla = std::make_shared<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      buildLoadAssignment(cluster_name, svc, key.port, subset_labels));
  Resource r{cluster_name, cla};
  std::lock_guard<std::mutex> lock(mu_);
  return assignments_.emplace(cache_key, std::move(r)).first->second;
}

ResourceList ConfigGenerator::generate(ResourceType type, const ProxyNode& proxy,
                                       const std::vector<std::string>& names) const {
  ResourceList out;
  switch (type) {
    case ResourceType::kListener:
      append(&out, buildVirtualListener(*snapshot_));
      append(&out, buildInboundListeners(*snapshot_, proxy));
      append(&out, outbound(proxy)->listeners);
      break;
    case ResourceType::kRoute:
      append(&out, outbound(proxy)->routes);
      break;
    case ResourceType::kCluster:
      append(&out, buildSpecialClusters(*snapshot_));
      append(&out, buildInboundClusters(*snapshot_, proxy));
      append(&out, outbound(proxy)->clusters);
      break;
    case ResourceType::kEndpoint: {
      const std::vector<std::string>& wanted = names.empty() ? outbound(proxy)->eds_clusters : names;
      for (const auto& n : wanted) out.push_back(loadAssignment(n, proxy.namespace_));
      break;
    }
  }
  sortByName(&out);
  return out;
}

std::vector<std::string> ConfigGenerator::edsClusterNames(const ProxyNode& proxy) const {
  return outbound(proxy)->eds_clusters;
}

std::vector<std::string> ConfigGenerator::proxiesSeeing(const std::string& fqdn) const {
  std::vector<std::string> out;
  const Service* svc = snapshot_->findService(fqdn);
  for (const auto& id : snapshot_->proxyIds()) {
    auto proxy = snapshot_->findProxy(id);
    if (!svc || snapshot_->visibleTo(svc->export_to, svc->namespace_, proxy->namespace_)) out.push_back(id);
  }
  return out;
}

}  // namespace remora::pilot
