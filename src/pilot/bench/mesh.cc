#include "pilot/bench/mesh.h"

namespace remora::pilot::bench {
namespace {

std::string ns(int i, const MeshShape& shape) {
  return "ns" + std::to_string(i % shape.namespaces);
}
std::string svcName(int i) {
  return "svc" + std::to_string(i);
}

// Service i: one port, HTTP on 9080/8080/80 for four in five, TCP (a
// database port) for the fifth; every tenth also serves gRPC on 9090. So
// route configs are shared by hundreds of virtual hosts while TCP services
// each add a listener, as in real meshes.
void appendService(int i, const MeshShape& shape, std::string* out) {
  static const int kHttpPorts[] = {9080, 8080, 80};
  static const int kTcpPorts[] = {3306, 5432, 6379, 27017};
  std::string port = i % 5 == 4
                         ? "  - {name: tcp-db, port: " + std::to_string(kTcpPorts[i % 4]) + "}\n"
                         : "  - {name: http, port: " + std::to_string(kHttpPorts[i % 3]) + "}\n";
  if (i % 10 == 0) port += "  - {name: grpc, port: 9090}\n";
  *out += "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + svcName(i) +
          ", namespace: " + ns(i, shape) + "}\nspec:\n  clusterIP: 10.96." +
          std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
          "\n  selector: {app: " + svcName(i) + "}\n  ports:\n" + port;
}

std::string destinationRule(int i, const MeshShape& shape) {
  std::string out =
      "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
      "metadata: {name: " +
      svcName(i) + ", namespace: " + ns(i, shape) + "}\nspec:\n  host: " + svcName(i) +
      "\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n  subsets:\n";
  for (int k = 0; k < shape.pods_per_service; ++k) {
    std::string v = "v" + std::to_string(k + 1);
    out += "  - {name: " + v + ", labels: {version: " + v + "}}\n";
  }
  return out;
}

std::string virtualServiceHead(int i, const MeshShape& shape) {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
         "metadata: {name: " +
         svcName(i) + ", namespace: " + ns(i, shape) + "}\nspec:\n  hosts: [" + svcName(i) +
         "]\n  http:\n";
}

std::string splitRoute(int i, int v1_weight) {
  return "  - route:\n    - {destination: {host: " + svcName(i) +
         ", subset: v1}, weight: " + std::to_string(v1_weight) +
         "}\n    - {destination: {host: " + svcName(i) +
         ", subset: v2}, weight: " + std::to_string(100 - v1_weight) + "}\n";
}

// Rule i targets service i: subsets per version, and a VirtualService that
// alternates between a header match to v2 and an 80/20 split, with a
// timeout and retries, so every route feature is on the path.
void appendRules(int i, const MeshShape& shape, std::string* out) {
  *out += destinationRule(i, shape) + virtualServiceHead(i, shape);
  if (i % 2 == 0) {
    *out +=
        "  - match: [{headers: {end-user: {exact: jason}}}, {uri: {prefix: /beta}}]\n"
        "    route: [{destination: {host: " +
        svcName(i) + ", subset: v2}}]\n  - route: [{destination: {host: " + svcName(i) +
        ", subset: v1}}]\n    timeout: 5s\n    retries: {attempts: 2, perTryTimeout: 1s}\n";
  } else {
    *out += splitRoute(i, 80);
  }
}

}  // namespace

std::string PodRef::nodeId() const {
  return "sidecar~" + ip + "~" + name + "." + namespace_ + "~" + namespace_ + ".svc.cluster.local";
}

PodRef podOf(int i, int k, int ordinal, const MeshShape& shape) {
  PodRef p;
  p.name = svcName(i) + "-v" + std::to_string(k + 1) + "-0";
  p.namespace_ = ns(i, shape);
  p.ip = "10." + std::to_string(64 + ordinal / 62500) + "." + std::to_string(ordinal / 250 % 250) +
         "." + std::to_string(ordinal % 250 + 1);
  p.service = svcName(i);
  return p;
}

std::string podYaml(const PodRef& pod, int version) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + pod.name +
         "\n  namespace: " + pod.namespace_ + "\n  labels: {app: " + pod.service + ", version: v" +
         std::to_string(version) + "}\nspec: {serviceAccountName: " + pod.service +
         "}\nstatus: {podIP: " + pod.ip + "}\n";
}

MeshText meshText(const MeshShape& shape) {
  MeshText text;
  int ordinal = 0;
  for (int i = 0; i < shape.services; ++i) {
    appendService(i, shape, &text.services);
    for (int k = 0; k < shape.pods_per_service; ++k)
      text.pods += podYaml(podOf(i, k, ordinal++, shape), k + 1);
    if (i < shape.rules) appendRules(i, shape, &text.rules);
  }
  return text;
}

std::vector<PodRef> meshPods(const MeshShape& shape) {
  std::vector<PodRef> out;
  int ordinal = 0;
  for (int i = 0; i < shape.services; ++i) {
    for (int k = 0; k < shape.pods_per_service; ++k)
      out.push_back(podOf(i, k, ordinal++, shape));
  }
  return out;
}

std::string splitRules(int i, const MeshShape& shape, int v1_weight) {
  return destinationRule(i, shape) + virtualServiceHead(i, shape) + splitRoute(i, v1_weight);
}

}  // namespace remora::pilot::bench
