#include "pilot/translate/eds.h"

#include <map>

#include "pilot/translate/envoy_util.h"

namespace remora::pilot {

envoy::config::endpoint::v3::ClusterLoadAssignment buildLoadAssignment(
    const std::string& cluster_name, const Service* service, uint32_t port, const Labels* subset_labels) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(cluster_name);
  if (!service || service->passthrough) return cla;
  size_t port_index = service->ports.size();
  for (size_t i = 0; i < service->ports.size(); ++i) {
    if (service->ports[i].port == port) port_index = i;
  }
  if (port_index == service->ports.size()) return cla;
  std::map<std::string, envoy::config::endpoint::v3::LocalityLbEndpoints> by_locality;
  for (const auto& inst : service->instances) {
    uint32_t endpoint_port = inst.ports[port_index];
    if (endpoint_port == 0) continue;
    if (subset_labels) {
      bool match = true;
      for (const auto& [k, v] : *subset_labels) {
        auto it = inst.labels.find(k);
        match = match && it != inst.labels.end() && it->second == v;
      }
      if (!match) continue;
    }
    auto& group = by_locality[inst.locality];
    auto* lb = group.add_lb_endpoints();
    setSocketAddress(inst.address, endpoint_port, lb->mutable_endpoint()->mutable_address());
    if (!inst.uid.empty()) setStringMetadata("istio", "uid", inst.uid, lb->mutable_metadata());
    lb->mutable_load_balancing_weight()->set_value(inst.weight);
    group.mutable_load_balancing_weight()->set_value(group.load_balancing_weight().value() + inst.weight);
  }
  for (auto& [locality, group] : by_locality) {
    auto* loc = group.mutable_locality();
    size_t a = locality.find('/');
    loc->set_region(locality.substr(0, a));
    if (a != std::string::npos) {
      size_t b = locality.find('/', a + 1);
      loc->set_zone(locality.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
      if (b != std::string::npos) loc->set_sub_zone(locality.substr(b + 1));
    }
    *cla.add_endpoints() = std::move(group);
  }
  return cla;
}

}  // namespace remora::pilot
