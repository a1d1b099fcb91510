#include "pilot/translate/generator.h"

#include <algorithm>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/eds.h"
#include "pilot/translate/lds.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {

ConfigGenerator::ConfigGenerator(std::shared_ptr<const MeshSnapshot> snapshot)
    : snapshot_(std::move(snapshot)),
      alloc_(std::make_shared<google::protobuf::Arena>()),
      virtual_listener_(buildVirtualListeners(*snapshot_, alloc_)),
      special_clusters_(buildSpecialClusters(*snapshot_, alloc_)) {
  for (const auto& rvs : snapshot_->virtualServices()) {
    for (const auto& rule : rvs.spec->http) {
      for (const auto& m : rule.match)
        uses_source_matches_ |= !m.source_labels.empty();
    }
    for (const auto& rule : rvs.spec->tcp) {
      for (const auto& m : rule.match)
        uses_source_matches_ |= !m.source_labels.empty();
    }
  }
}

std::string ConfigGenerator::outboundKey(const ProxyNode& proxy) const {
  std::string key = proxy.namespace_;
  if (uses_source_matches_) {
    for (const auto& [k, v] : proxy.labels)
      key += "|" + k + "=" + v;
  }
  return key;
}

std::shared_ptr<const ConfigGenerator::Outbound> ConfigGenerator::builtOutbound(
    const ProxyNode& proxy) const {
  std::shared_future<std::shared_ptr<const Outbound>> built;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outbound_.find(outboundKey(proxy));
    if (it == outbound_.end()) return nullptr;
    built = it->second;
  }
  return built.get();
}

std::shared_ptr<const ConfigGenerator::Outbound> ConfigGenerator::outbound(
    const ProxyNode& proxy) const {
  std::string key = outboundKey(proxy);
  std::promise<std::shared_ptr<const Outbound>> promise;
  std::shared_future<std::shared_ptr<const Outbound>> existing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outbound_.find(key);
    if (it != outbound_.end()) {
      existing = it->second;
    } else {
      outbound_.emplace(key, promise.get_future().share());
    }
  }
  if (existing.valid()) return existing.get();
  // Built outside the lock, so that other namespaces do not wait.
  auto out = std::make_shared<Outbound>();
  out->listeners = buildOutboundListeners(*snapshot_, proxy, alloc_);
  out->routes = buildOutboundRouteConfigs(*snapshot_, proxy, alloc_);
  std::vector<EdsCluster> eds;
  out->clusters = buildOutboundClusters(
      *snapshot_, proxy.namespace_, alloc_, &eds,
      [this](const Service& svc,
             const DestinationRule* rule) -> std::shared_ptr<const ServiceClusters> {
        std::pair key{&svc, rule};
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = service_clusters_.find(key);
          if (it != service_clusters_.end()) return it->second;
        }
        auto built = std::make_shared<const ServiceClusters>(
            buildServiceClusters(*snapshot_, svc, rule, alloc_));
        std::lock_guard<std::mutex> lock(mu_);
        return service_clusters_.emplace(key, std::move(built)).first->second;
      });
  out->endpoints.reserve(eds.size());
  for (const auto& target : eds)
    out->endpoints.push_back(loadAssignment(target));
  promise.set_value(out);
  return out;
}

Resource ConfigGenerator::loadAssignment(const EdsCluster& target) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = assignments_.find({target.name, target.rule});
    if (it != assignments_.end()) return it->second;
  }
  auto cla = alloc_.make<envoy::config::endpoint::v3::ClusterLoadAssignment>();
  buildLoadAssignment(std::string(target.name), target.service, target.port, target.subset_labels,
                      cla.get());
  Resource r(std::move(cla));
  std::lock_guard<std::mutex> lock(mu_);
  return assignments_.emplace(std::pair{r.name(), target.rule}, r).first->second;
}

Resource ConfigGenerator::loadAssignment(const std::string& cluster_name,
                                         const std::string& proxy_namespace) const {
  ClusterKey key;
  EdsCluster target;
  target.name = cluster_name;
  if (parseClusterName(cluster_name, &key) && key.direction == TrafficDirection::kOutbound) {
    target.service = snapshot_->findService(key.host);
    target.port = key.port;
  }
  if (target.service && !key.subset.empty()) {
    // A subset no rule defines selects nothing: Envoy gets an empty
    // assignment for the name it asked for.
    static const Labels kNoMatch = {{"", "\x01"}};
    target.subset_labels = &kNoMatch;
    target.rule = snapshot_->destinationRuleFor(*target.service, proxy_namespace);
    if (target.rule) {
      for (const auto& s : target.rule->subsets) {
        if (s.name == key.subset) target.subset_labels = &s.labels;
      }
    }
  }
  return loadAssignment(target);
}

ResourceList ConfigGenerator::generate(ResourceType type, const ProxyNode& proxy,
                                       const std::vector<std::string>& names) const {
  auto shared =
      type == ResourceType::kEndpoint && !names.empty() ? builtOutbound(proxy) : outbound(proxy);
  switch (type) {
    case ResourceType::kListener: {
      ResourceList inbound = buildInboundListeners(*snapshot_, proxy);
      return mergeByName({&shared->listeners, &inbound, &virtual_listener_});
    }
    case ResourceType::kRoute:
      return shared->routes;
    case ResourceType::kCluster: {
      ResourceList inbound = buildInboundClusters(*snapshot_, proxy);
      return mergeByName({&shared->clusters, &inbound, &special_clusters_});
    }
    case ResourceType::kEndpoint: {
      if (names.empty()) return shared->endpoints;
      ResourceList out;
      for (const auto& n : names) {
        if (!shared) {
          out.push_back(loadAssignment(n, proxy.namespace_));
          continue;
        }
        auto it = std::lower_bound(
            shared->endpoints.begin(), shared->endpoints.end(), n,
            [](const Resource& r, const std::string& name) { return r.name() < name; });
        // A name outside this proxy's CDS (a stale subscription) still gets an
        // answer, as Envoy expects one for every name it asks for.
        out.push_back(it != shared->endpoints.end() && it->name() == n
                          ? *it
                          : loadAssignment(n, proxy.namespace_));
      }
      sortByName(&out);
      return out;
    }
  }
  return {};
}

std::vector<std::string> ConfigGenerator::edsClusterNames(const ProxyNode& proxy) const {
  std::vector<std::string> out;
  for (const auto& r : outbound(proxy)->endpoints)
    out.emplace_back(r.name());
  return out;
}

std::vector<std::string> ConfigGenerator::proxiesSeeing(const std::string& fqdn) const {
  std::vector<std::string> out;
  const Service* svc = snapshot_->findService(fqdn);
  for (const auto& id : snapshot_->proxyIds()) {
    auto proxy = snapshot_->findProxy(id);
    if (!svc || snapshot_->visibleTo(svc->export_to, svc->namespace_, proxy->namespace_))
      out.push_back(id);
  }
  return out;
}

}  // namespace remora::pilot
