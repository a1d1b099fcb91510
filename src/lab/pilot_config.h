// What the lab hands its control plane (docs/lab.md, "The lab's pilot"):
// the config folder remora-pilot watches (the lab's Services and Pods as
// Kubernetes v1 objects with their addresses resolved, and the lab file's
// Istio objects) and the bootstrap of a sidecar that pilot configures.
// Pure functions of a LabSpec; any thread.
#pragma once

#include <string>
#include <vector>

#include "lab/spec.h"
#include "network/address.h"

namespace remora::lab {

struct ConfigFile {
  std::string name;  // base name in the folder
  std::string text;
};

// The folder's files: services.yaml and pods.yaml (every Service and Pod of
// the lab, one document each, so that pilot's config API can replace or
// delete one), and one file per Istio object, named as pilot's config API
// names the files it creates (<kind>-<namespace>-<name>.yaml).
std::vector<ConfigFile> pilotConfigFiles(const LabSpec& spec);

// The file an Istio object goes to: "virtualservice-default-reviews.yaml".
std::string istioObjectFileName(const IstioObject& object);

// One Pod as pilot reads it: labels, serviceAccountName, container ports
// (with names), status.podIP, phase Running and condition Ready.
std::string podObjectYaml(const Pod& pod);
// One Service: labels, clusterIP, selector, ports (name, port, targetPort,
// protocol, appProtocol).
std::string serviceObjectYaml(const Service& service);

// Istio's node id for a sidecar: sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local.
std::string sidecarNodeId(const Pod& pod);

// The Envoy v3 bootstrap of a sidecar configured by pilot, Istio's shape:
// node (id above; cluster <app label or pod name>.<ns>; metadata NAMESPACE,
// NAME, LABELS, INSTANCE_IPS), admin 127.0.0.1:15000, the static cluster
// xds-grpc (HTTP/2) to `xds`, and dynamic_resources with ads_config over it
// and LDS and CDS over ADS.
std::string pilotBootstrapFor(const Pod& pod, const network::SocketAddress& xds);

inline constexpr const char* kXdsClusterName = "xds-grpc";

}  // namespace remora::lab
