#include "ctl/proxy_source.h"

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
