#include "pilot/translate/eds.h"

#include <map>
#include <vector>

#include "pilot/translate/envoy_util.h"

namespace remora::pilot {
namespace {

bool hasLabels(const ServiceInstance& inst, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = inst.labels.find(k);
    if (it == inst.labels.end() || it->second != v) return false;
  }
  return true;
}

void setLocality(const std::string& locality, envoy::config::core::v3::Locality* out) {
  size_t a = locality.find('/');
  out->set_region(locality.substr(0, a));
  if (a == std::string::npos) return;
  size_t b = locality.find('/', a + 1);
  out->set_zone(locality.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
  if (b != std::string::npos) out->set_sub_zone(locality.substr(b + 1));
}

}  // namespace

void buildLoadAssignment(const std::string& cluster_name, const Service* service, uint32_t port,
                         const Labels* subset_labels,
                         envoy::config::endpoint::v3::ClusterLoadAssignment* out) {
  out->set_cluster_name(cluster_name);
  if (!service || service->passthrough) return;
  size_t port_index = service->ports.size();
  for (size_t i = 0; i < service->ports.size(); ++i) {
    if (service->ports[i].port == port) port_index = i;
  }
  if (port_index == service->ports.size()) return;
  // Instances are sorted by address; grouping keeps that order inside each
  // locality, and localities come out sorted by name.
  std::map<std::string_view, std::vector<const ServiceInstance*>> by_locality;
  for (const auto& inst : service->instances) {
    if (inst.ports[port_index] == 0) continue;
    if (subset_labels && !hasLabels(inst, *subset_labels)) continue;
    by_locality[inst.locality].push_back(&inst);
  }
  for (const auto& [locality, instances] : by_locality) {
    auto* group = out->add_endpoints();
    setLocality(std::string(locality), group->mutable_locality());
    uint32_t total = 0;
    for (const ServiceInstance* inst : instances) {
      auto* lb = group->add_lb_endpoints();
      setSocketAddress(inst->address, inst->ports[port_index],
                       lb->mutable_endpoint()->mutable_address());
      if (!inst->uid.empty()) setStringMetadata("istio", "uid", inst->uid, lb->mutable_metadata());
      lb->mutable_load_balancing_weight()->set_value(inst->weight);
      total += inst->weight;
    }
    group->mutable_load_balancing_weight()->set_value(total);
  }
}

}  // namespace remora::pilot
