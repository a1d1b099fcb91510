// Finding a proxy and reading from it: its admin pages (/config_dump,
// /clusters) and, for a lab pod, the pod's nat table and hosts file. A lab
// pod's admin listens on 127.0.0.1:15000 inside the pod's network namespace,
// so it is reached from a thread that joined that namespace (as `lab exec`
// does with `ip netns exec`).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "lab/lab.h"
#include "network/address.h"

namespace remora::ctl {

// A proxy and how to reach it.
struct ProxyTarget {
  std::string display;  // "reviews-v1.default", or the admin address
  std::string netns;    // network namespace to enter first; empty: this one
  network::SocketAddress admin;
  std::optional<network::IpAddress> pod_ip;
  std::string hosts_file;  // the pod's /etc/hosts as its processes see it; "" if unknown
};

// Who knows where proxies are. The lab knows its pods today; pilot will know
// every connected proxy (its /debug/adsz records each node's admin address
// from node metadata): a PilotProxyLocator then slots in beside the lab's,
// tried first, with nothing else changing.
class ProxyLocator {
 public:
  virtual ~ProxyLocator() = default;
  // "<pod>" or "<pod>.<namespace>".
  virtual StatusOr<ProxyTarget> locate(const std::string& pod_ref) = 0;
};

// Pods of a running lab, from its state file.
class LabProxyLocator final : public ProxyLocator {
 public:
  explicit LabProxyLocator(lab::LabOptions options) : options_(std::move(options)) {}
  StatusOr<ProxyTarget> locate(const std::string& pod_ref) override;

 private:
  lab::LabOptions options_;
};

// --admin HOST:PORT: a proxy reached directly, in this namespace.
StatusOr<ProxyTarget> adminTarget(const std::string& host_port);

// GET `path` from the proxy's admin; the body of a 200, else an error naming
// the proxy. Thread: the caller's (joins the pod's namespace on a helper thread).
StatusOr<std::string> adminGet(const ProxyTarget& target, const std::string& path);

// `iptables-save -c -t nat` inside the pod's namespace. FailedPrecondition
// for a target without one (--admin).
StatusOr<std::string> podNatTable(const ProxyTarget& target);

}  // namespace remora::ctl
