#include "pilot/ads/node.h"

#include <arpa/inet.h>

#include <vector>

namespace remora::pilot {
namespace {

bool isIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

}  // namespace

StatusOr<NodeIdentity> parseNodeId(std::string_view id) {
  auto bad = [&](const std::string& why) {
    return invalidArgumentError("malformed node id \"" + std::string(id) + "\": " + why +
                                " (want sidecar~<podIP>~<pod>.<namespace>~<namespace>.svc."
                                "cluster.local)");
  };
  if (id.empty()) return bad("empty");
  auto parts = split(id, '~');
  if (parts.size() != 4) return bad("has " + std::to_string(parts.size()) + " parts, want 4");
  NodeIdentity n;
  n.type = parts[0];
  if (n.type != "sidecar") return bad("type \"" + n.type + "\" is not sidecar");
  n.ip = parts[1];
  if (!isIp(n.ip)) return bad("\"" + n.ip + "\" is not an IP address");
  n.dns_domain = parts[3];
  // The namespace is the first label of the DNS domain, as Istio reads it;
  // the pod part must end with it, since pod names may contain dots.
  size_t dot = n.dns_domain.find('.');
  n.namespace_ = n.dns_domain.substr(0, dot);
  if (n.namespace_.empty() || dot == std::string::npos) {
    return bad("\"" + n.dns_domain + "\" is not <namespace>.svc.<domain>");
  }
  std::string_view pod_ns = parts[2];
  std::string suffix = "." + n.namespace_;
  if (pod_ns.size() <= suffix.size() || pod_ns.substr(pod_ns.size() - suffix.size()) != suffix) {
    return bad("\"" + std::string(pod_ns) + "\" is not <pod>." + n.namespace_);
  }
  n.pod = pod_ns.substr(0, pod_ns.size() - suffix.size());
  return n;
}

StatusOr<NodeInfo> readNode(const envoy::config::core::v3::Node& node) {
  NodeInfo info;
  REMORA_ASSIGN_OR_RETURN(info.identity, parseNodeId(node.id()));
  info.node_id = node.id();
  info.cluster = node.cluster();
  const auto& fields = node.metadata().fields();
  if (auto it = fields.find(kAdminAddressKey); it != fields.end()) {
    info.admin_address = it->second.string_value();
  }
  if (auto it = fields.find(kGeneratorKey); it != fields.end()) {
    info.proxyless = it->second.string_value() == "grpc";
  }
  info.user_agent = node.user_agent_name();
  if (node.has_user_agent_build_version() || !node.user_agent_version().empty()) {
    info.user_agent += " " + node.user_agent_version();
  }
  info.node = node;
  return info;
}

}  // namespace remora::pilot
