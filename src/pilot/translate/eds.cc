#include "pilot/translate/eds.h"

#include <algorithm>
#include <vector>

#include "pilot/translate/proto_writer.h"

namespace remora::pilot {
namespace {

bool hasLabels(const ServiceInstance& inst, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = inst.labels.find(k);
    if (it == inst.labels.end() || it->second != v) return false;
  }
  return true;
}

// envoy.config.core.v3.Locality from "region/zone/sub_zone".
void writeLocality(std::string_view locality, ProtoWriter* w) {
  size_t at = w->begin(1);  // LocalityLbEndpoints.locality
  size_t a = locality.find('/');
  w->string(1, locality.substr(0, a));  // region
  if (a != std::string_view::npos) {
    size_t b = locality.find('/', a + 1);
    w->string(2, locality.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));  // zone
    if (b != std::string_view::npos) w->string(3, locality.substr(b + 1));              // sub_zone
  }
  w->end(at);
}

}  // namespace

Resource buildLoadAssignment(std::string_view cluster_name, const Service* service, uint32_t port,
                             const Labels* subset_labels) {
  // Field numbers: envoy/config/endpoint/v3/endpoint{,_components}.proto,
  // envoy/config/core/v3/address.proto.
  ProtoWriter w{ProtoWriter::Scratch{}};
  w.string(1, cluster_name);  // ClusterLoadAssignment.cluster_name
  auto done = [&] { return Resource(EncodedMessage::copyOf(ResourceType::kEndpoint, w.bytes())); };
  if (!service || service->passthrough) return done();
  size_t port_index = service->ports.size();
  for (size_t i = 0; i < service->ports.size(); ++i) {
    if (service->ports[i].port == port) port_index = i;
  }
  if (port_index == service->ports.size()) return done();
  // Instances are sorted by address; grouping keeps that order inside each
  // locality, and localities come out sorted by name. Most services have
  // one locality: a stable sort of the matching instances by locality does
  // the grouping without a map per assignment.
  // One list per thread, kept: thousands of assignments are built at a time.
  thread_local std::vector<const ServiceInstance*> matching;
  matching.clear();
  bool one_locality = true;
  for (const auto& inst : service->instances) {
    if (inst.ports[port_index] == 0) continue;
    if (subset_labels && !hasLabels(inst, *subset_labels)) continue;
    one_locality =
        one_locality && (matching.empty() || matching.front()->locality == inst.locality);
    matching.push_back(&inst);
  }
  if (!one_locality) {
    std::stable_sort(matching.begin(), matching.end(),
                     [](const ServiceInstance* a, const ServiceInstance* b) {
                       return a->locality < b->locality;
                     });
  }
  for (size_t first = 0; first < matching.size();) {
    std::string_view locality = matching[first]->locality;
    size_t group = w.begin(2);  // ClusterLoadAssignment.endpoints
    writeLocality(locality, &w);
    uint32_t total = 0;
    size_t i = first;
    for (; i < matching.size() && matching[i]->locality == locality; ++i) {
      const ServiceInstance* inst = matching[i];
      size_t lb = w.begin(2);                    // LocalityLbEndpoints.lb_endpoints
      size_t endpoint = w.begin(1);              // LbEndpoint.endpoint
      size_t address = w.begin(1);               // Endpoint.address
      size_t socket = w.begin(1);                // Address.socket_address
      w.string(2, inst->address);                // SocketAddress.address
      w.uintAlways(3, inst->ports[port_index]);  // SocketAddress.port_value (oneof)
      w.end(socket);
      w.end(address);
      w.end(endpoint);
      if (!inst->uid.empty())
        w.stringMetadata(3, "istio", "uid", inst->uid);  // LbEndpoint.metadata
      w.uint32Value(4, inst->weight);                    // LbEndpoint.load_balancing_weight
      w.end(lb);
      total += inst->weight;
    }
    w.uint32Value(3, total);  // LocalityLbEndpoints.load_balancing_weight
    w.end(group);
    first = i;
  }
  return done();
}

}  // namespace remora::pilot
