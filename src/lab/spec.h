// What a lab file describes: Kubernetes-style v1 Pods and Services, read and
// validated before anything on the machine is touched. See docs/lab.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "network/address.h"

namespace remora::lab {

// Annotations the lab reads. The first two and the traffic.* ones are Istio's
// own; the remora.io ones are ours.
inline constexpr const char* kInjectAnnotation = "sidecar.istio.io/inject";
inline constexpr const char* kInterceptionModeAnnotation = "sidecar.istio.io/interceptionMode";
inline constexpr const char* kBootstrapAnnotation = "remora.io/proxy-bootstrap";
inline constexpr const char* kBootstrapYamlAnnotation = "remora.io/proxy-bootstrap-yaml";
inline constexpr const char* kInboundCapturePortAnnotation = "remora.io/inbound-capture-port";

// The proxy's UID and GID: its own traffic is never captured.
inline constexpr uint32_t kProxyUid = 1337;

// The address ranges of one lab. Both are private IPv4 ranges that do not
// overlap; they exist only inside the lab's namespaces.
struct Network {
  network::CidrRange pod_cidr;
  network::CidrRange service_cidr;
};

inline constexpr const char* kDefaultPodCidr = "10.244.0.0/16";
inline constexpr const char* kDefaultServiceCidr = "10.96.0.0/16";

// Validates the two ranges; errors name the flag (--pod-cidr, --service-cidr).
StatusOr<Network> parseNetwork(const std::string& pod_cidr, const std::string& service_cidr);

struct EnvVar {
  std::string name;
  std::string value;
};

struct Container {
  std::string name;
  std::vector<std::string> argv;  // command + args, as Kubernetes joins them
  std::vector<EnvVar> env;
  std::vector<uint16_t> ports;  // containerPort: `lab up` waits until each accepts
  // ports[i]'s name ("" if none), for Services whose targetPort names it.
  std::vector<std::string> port_names;
};

struct Pod {
  std::string name;
  std::string ns;  // Kubernetes namespace, "default" when not given
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  network::IpAddress ip;
  std::vector<Container> containers;
  std::string service_account;  // spec.serviceAccountName, for pilot
  bool sidecar = false;
  // A sidecar without a bootstrap annotation: its bootstrap is generated and
  // points at the lab's pilot (pilotBootstrapFor).
  bool pilot_bootstrap = false;
  // With a sidecar: remora-init's arguments, the bootstrap with its ${...}
  // variables filled in, and the admin address read from it.
  std::vector<std::string> init_args;
  std::string bootstrap;
  network::SocketAddress admin;
  int line = 0;  // where the Pod starts in the file, for messages
};

struct ServicePort {
  std::string name;
  uint16_t port = 0;
  // For pilot, as written: a number or a container port's name ("" = port).
  std::string target_port;
  std::string protocol;      // "" = TCP
  std::string app_protocol;  // ""
};

struct Service {
  std::string name;
  std::string ns;
  network::IpAddress cluster_ip;
  std::vector<ServicePort> ports;
  std::map<std::string, std::string> labels;
  // Pilot's backends are the pods matching it; without one, a Service has none.
  std::map<std::string, std::string> selector;
  bool has_selector = false;
};

// A document of an Istio API group (VirtualService, DestinationRule,
// ServiceEntry, ...): not the lab's business, handed to pilot as written.
struct IstioObject {
  std::string kind;
  std::string ns;  // metadata.namespace, "default" when not given
  std::string name;
  std::string yaml;  // the document, re-emitted
  int line = 0;      // where it starts in the lab file
};

struct LabSpec {
  Network network;
  std::vector<Pod> pods;
  std::vector<Service> services;
  std::vector<IstioObject> istio_objects;
  std::string source;  // file name, for messages
};

// The hub's address on the bridge: the first host of --pod-cidr
// (10.244.0.1). It is never a pod's; pilot listens on it.
network::IpAddress hubAddress(const Network& network);
// Pilot's ports on the hub address (Istio's: xDS gRPC and debug/monitoring).
inline constexpr uint16_t kPilotGrpcPort = 15010;
inline constexpr uint16_t kPilotHttpPort = 15014;
// The lab runs pilot when some pod has a sidecar without a bootstrap
// annotation: that pod's proxy gets its config from pilot.
bool needsPilot(const LabSpec& spec);

// Reads a lab file: every YAML document is a v1 Pod, v1 Service or v1 List
// of them, or an Istio (*.istio.io) resource, kept for pilot; Remora
// (*.remora.io) resources are skipped. Pod IPs (status.podIP) and cluster IPs
// (spec.clusterIP) may be given or are allocated in order; the first host of
// the pod range is the hub's. An injected pod without a bootstrap annotation
// gets pilotBootstrapFor's bootstrap, -z 15001 unless annotated otherwise.
// Relative bootstrap paths are relative to `base_dir`. Errors read
// "<source>:<line>: Pod reviews: spec.containers[0].command: ...".
StatusOr<LabSpec> parseLabSpec(std::string_view text, const std::string& source,
                               const std::string& base_dir, const Network& network);
StatusOr<LabSpec> loadLabSpec(const std::string& path, const Network& network);

// Kubernetes name rules. `what` names the field in the message.
Status validateDnsLabel(const std::string& what, const std::string& value);
Status validateDns1035Label(const std::string& what, const std::string& value);

// /etc/hosts for a pod: localhost, the pod itself, and every Service under the
// names Kubernetes DNS gives it (the short name only for the pod's namespace).
std::string hostsFileFor(const LabSpec& spec, const Pod& pod);
// resolv.conf for a pod: Kubernetes' search path; the only nameserver is the
// pod's own loopback, so a name missing from hosts fails fast and no query
// leaves the pod.
std::string resolvConfFor(const Pod& pod);

// Fills ${POD_IP}, ${POD_NAME}, ${POD_NAMESPACE}, ${POD_IP:<pod>} and
// ${CLUSTER_IP:<service>[.<namespace>]} in a bootstrap template. `$$` is a
// literal `$`. An unknown variable is an error naming it.
StatusOr<std::string> expandBootstrap(std::string_view text, const LabSpec& spec, const Pod& pod);

// remora-init's arguments for a pod: Istio's injected defaults changed by the
// pod's traffic.sidecar.istio.io annotations. Validated with remora-init's own
// rules; an error names the annotation.
StatusOr<std::vector<std::string>> initArgsFor(const Pod& pod);

}  // namespace remora::lab
