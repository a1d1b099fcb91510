#include "ctl/proxy_source.h"

#include <algorithm>

#include "ctl/proxy_status.h"
#include "init/command.h"
#include "lab/http_client.h"
#include "lab/system.h"

namespace remora::ctl {
namespace {

constexpr std::chrono::milliseconds kAdminTimeout{5000};

}  // namespace

StatusOr<ProxyTarget> LabProxyLocator::locate(const std::string& pod_ref) {
  size_t dot = pod_ref.find('.');
  std::string pod = pod_ref.substr(0, dot);
  std::string ns = dot == std::string::npos ? "" : pod_ref.substr(dot + 1);
  auto state = lab::readLabState(options_);
  if (!state.ok()) {
    return notFoundError("pod " + pod_ref + ": " + state.status().message() +
                         "; give the proxy's admin address with --admin HOST:PORT");
  }
  std::string names;
  for (const lab::PodRecord& p : state->pods) {
    names += (names.empty() ? "" : ", ") + p.name + "." + p.ns;
    if (p.name != pod || (!ns.empty() && p.ns != ns)) continue;
    if (!p.sidecar || p.admin.empty()) {
      return failedPreconditionError("pod " + p.name + "." + p.ns + " has no sidecar proxy");
    }
    auto admin = network::SocketAddress::parse(p.admin);
    if (!admin.ok()) return admin.status().withPrefix("lab state: pod " + p.name + " admin");
    auto ip = network::IpAddress::parse(p.ip);
    ProxyTarget t;
    t.display = p.name + "." + p.ns;
    t.netns = p.netns;
    t.admin = *admin;
    if (ip.ok()) t.pod_ip = *ip;
    t.hosts_file = lab::podEtcFile(p.netns, "hosts");
    return t;
  }
  return notFoundError("lab " + options_.name + " has no pod \"" + pod_ref + "\" (pods: " + names +
                       ")");
}

StatusOr<ProxyTarget> PilotProxyLocator::locate(const std::string& pod_ref) {
  REMORA_ASSIGN_OR_RETURN(std::string syncz, pilot_.get("/debug/syncz"));
  auto sync = parseProxyStatus(syncz, "");
  if (!sync.ok()) return sync.status().withPrefix("pilot at " + pilot_.target().describe());
  auto streams = findProxyStatus(*sync, pod_ref);
  if (!streams.ok()) return streams.status().withPrefix("pilot at " + pilot_.target().describe());
  // The newest stream: a proxy that reconnected shows twice for a moment
  // (RFC 3339 times in UTC order as strings do).
  const ProxySync& p = **std::max_element(
      streams->begin(), streams->end(),
      [](const ProxySync* a, const ProxySync* b) { return a->connected_at < b->connected_at; });
  if (p.admin_address.empty()) {
    return failedPreconditionError("proxy " + p.proxy + " is connected to pilot but reports no " +
                                   "admin address (node metadata ADMIN_ADDRESS)");
  }
  auto admin = network::SocketAddress::parse(p.admin_address);
  if (!admin.ok()) {
    return admin.status().withPrefix("proxy " + p.proxy + ": ADMIN_ADDRESS \"" + p.admin_address +
                                     "\"");
  }
  ProxyTarget t;
  t.display = p.proxy;
  t.admin = *admin;
  // sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local
  size_t first = p.node_id.find('~');
  size_t second = first == std::string::npos ? first : p.node_id.find('~', first + 1);
  if (second != std::string::npos) {
    if (auto ip = network::IpAddress::parse(p.node_id.substr(first + 1, second - first - 1));
        ip.ok()) {
      t.pod_ip = *ip;
    }
  }
  if (lab_ != nullptr) {
    if (auto state = lab::readLabState(*lab_); state.ok()) {
      for (const lab::PodRecord& pod : state->pods) {
        if (pod.name + "." + pod.ns != p.proxy) continue;
        t.netns = pod.netns;
        t.hosts_file = lab::podEtcFile(pod.netns, "hosts");
        if (auto ip = network::IpAddress::parse(pod.ip); ip.ok()) t.pod_ip = *ip;
      }
    }
  }
  return t;
}

StatusOr<ProxyTarget> FallbackProxyLocator::locate(const std::string& pod_ref) {
  std::string reasons;
  StatusCode code = StatusCode::kNotFound;
  for (const auto& locator : locators_) {
    auto t = locator->locate(pod_ref);
    if (t.ok()) return t;
    reasons += (reasons.empty() ? "" : "; ") + t.status().message();
    if (t.status().code() != StatusCode::kNotFound) code = t.status().code();
  }
  return Status(code, "cannot find pod " + pod_ref + ": " + reasons);
}

StatusOr<ProxyTarget> adminTarget(const std::string& host_port) {
  auto admin = network::SocketAddress::parse(host_port);
  if (!admin.ok()) return admin.status().withPrefix("--admin");
  ProxyTarget t;
  t.display = admin->toString();
  t.admin = *admin;
  return t;
}

StatusOr<std::string> adminGet(const ProxyTarget& target, const std::string& path) {
  StatusOr<lab::HttpResponse> response = internalError("not run");
  auto get = [&] { response = lab::httpGet(target.admin, "admin", path, {}, kAdminTimeout); };
  if (target.netns.empty()) {
    get();
  } else {
    REMORA_RETURN_IF_ERROR(lab::inNetns(target.netns, get));
  }
  std::string where = target.display + " (admin " + target.admin.toString() + ")";
  if (!response.ok()) return response.status().withPrefix(where + path);
  if (response->status != 200) {
    return unavailableError(where + path + ": HTTP " + std::to_string(response->status) + ": " +
                            response->body);
  }
  return std::move(response->body);
}

StatusOr<std::string> podNatTable(const ProxyTarget& target) {
  if (target.netns.empty()) {
    return failedPreconditionError("the proxy's pod is not known (--admin)");
  }
  init::SubprocessRunner runner;
  return lab::runToolOutput(
      runner, {"ip", "netns", "exec", target.netns, "iptables-save", "-c", "-t", "nat"});
}

}  // namespace remora::ctl
