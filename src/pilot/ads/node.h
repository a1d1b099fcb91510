// Who is at the other end of an ADS stream: Istio's node id
// `sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local` split into its parts,
// and what pilot keeps of node.metadata (the proxy's admin address, whether
// it is a proxyless gRPC client). Plain data and pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "envoy/config/core/v3/base.pb.h"

namespace remora::pilot {

// node.metadata key under which a proxy reports where its admin interface
// listens ("10.1.0.5:15000"); remoractl reads it from /debug/adsz to fetch
// the proxy's /config_dump. Istio's own keys are upper snake case too.
inline constexpr char kAdminAddressKey[] = "ADMIN_ADDRESS";
// Istio's grpc-agent bootstrap marks proxyless gRPC clients with
// GENERATOR: grpc; pilot then serves them what gRPC's xDS client accepts.
inline constexpr char kGeneratorKey[] = "GENERATOR";

struct NodeIdentity {
  std::string type;  // "sidecar"
  std::string ip;
  std::string pod;
  std::string namespace_;
  std::string dns_domain;  // "default.svc.cluster.local"
  // "pod.ns", the key of /debug/syncz, config_dump?proxyID= and proxy-status.
  std::string proxyId() const { return pod + "." + namespace_; }
};

// Fails with a message that quotes the id and shows the expected form.
StatusOr<NodeIdentity> parseNodeId(std::string_view id);

struct NodeInfo {
  NodeIdentity identity;
  std::string node_id;
  std::string cluster;  // node.cluster
  std::string admin_address;
  bool proxyless = false;  // GENERATOR: grpc
  std::string user_agent;  // "envoy 1.28", "gRPC Python 1.51.1"
  envoy::config::core::v3::Node node;
};

// node.id must parse; node.metadata is optional.
StatusOr<NodeInfo> readNode(const envoy::config::core::v3::Node& node);

}  // namespace remora::pilot
