// Finding a proxy and reading from it: its admin pages (/config_dump,
// /clusters) and, for a lab pod, the pod's nat table and hosts file. A lab
// pod's admin listens on 127.0.0.1:15000 inside the pod's network namespace,
// so it is reached from a thread that joined that namespace (as `lab exec`
// does with `ip netns exec`).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ctl/pilot_client.h"
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

// Who knows where proxies are: pilot knows every connected proxy (its
// /debug/adsz records each node's admin address from node metadata), the lab
// knows its pods. FallbackProxyLocator asks pilot first, then the lab.
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

// Proxies connected to pilot, by /debug/adsz: the admin address a proxy
// reports (node metadata ADMIN_ADDRESS) and its pod IP (the node id). A lab
// pod's admin listens inside the pod's network namespace, so when the lab
// (`lab`, may be null) has the pod, its namespace and hosts file come from
// the lab's record; otherwise the address is reached from this namespace.
class PilotProxyLocator final : public ProxyLocator {
 public:
  PilotProxyLocator(PilotClient pilot, const lab::LabOptions* lab)
      : pilot_(std::move(pilot)), lab_(lab) {}
  StatusOr<ProxyTarget> locate(const std::string& pod_ref) override;

 private:
  PilotClient pilot_;
  const lab::LabOptions* lab_;
};

// Tries each locator in order; the first answer wins. When all fail the
// error lists every locator's reason.
class FallbackProxyLocator final : public ProxyLocator {
 public:
  explicit FallbackProxyLocator(std::vector<std::unique_ptr<ProxyLocator>> locators)
      : locators_(std::move(locators)) {}
  StatusOr<ProxyTarget> locate(const std::string& pod_ref) override;

 private:
  std::vector<std::unique_ptr<ProxyLocator>> locators_;
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
