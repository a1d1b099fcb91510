// The synthetic mesh of pilot's benchmarks, as the YAML a user would write:
// by default 1000 Services (four in five HTTP on 9080/8080/80, one in five
// TCP on a database port, one in ten also gRPC on 9090), 3 pods each
// (versions v1-v3), 200 DestinationRules (subsets, LEAST_REQUEST) and 200
// VirtualServices (half a header match plus a prefix match to v2, half an
// 80/20 split), spread over 10 namespaces. Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

namespace remora::pilot::bench {

struct MeshShape {
  int services = 1000;
  int pods_per_service = 3;
  int rules = 200;  // VirtualServices, and as many DestinationRules
  int namespaces = 10;
};

struct MeshText {
  std::string services;
  std::string pods;
  std::string rules;
};

MeshText meshText(const MeshShape& shape);

struct PodRef {
  std::string name;
  std::string namespace_;
  std::string ip;
  std::string service;  // the Service selecting it
  // Istio's node id for its sidecar.
  std::string nodeId() const;
};

// Pod `k` (version v<k+1>) of service `i`, as meshText writes it, at pod
// ordinal `ordinal` (which picks its IP).
PodRef podOf(int i, int k, int ordinal, const MeshShape& shape);
// One pod's YAML document (with its leading `---`).
std::string podYaml(const PodRef& pod, int version);

// Every pod of the mesh, in meshText's order.
std::vector<PodRef> meshPods(const MeshShape& shape);

// A DestinationRule (subsets v1-v3) and a VirtualService splitting service
// `i` between v1 (`v1_weight`) and v2: what a user edits. Give a service
// without rules (i >= shape.rules), or the objects are duplicates.
std::string splitRules(int i, const MeshShape& shape, int v1_weight);

}  // namespace remora::pilot::bench
