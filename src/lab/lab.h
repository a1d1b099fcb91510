// The lab: pods on one machine (DESIGN.md, "Pods on one machine"). `up` turns
// a LabSpec into network namespaces on a bridge, with hosts files, capture
// rules, a sidecar and the pod's containers; `down` removes exactly that.
// See docs/lab.md for the topology.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "lab/spec.h"
#include "lab/state.h"

namespace remora::lab {

// The binaries the lab runs.
struct Tools {
  std::string init;   // remora-init
  std::string proxy;  // remora-proxy
  std::string pilot;  // remora-pilot; only needed by a lab that runs pilot (needsPilot)
  // Put first on the containers' PATH, so a lab file can say `remora-app`.
  std::vector<std::string> path_dirs;
};

// Finds remora-init, remora-proxy, remora-pilot and remora-app in `bin_dir`
// if given, else beside `self_exe` (installed side by side, or the build
// tree's apps/<name>/<name>), else in PATH. remora-pilot and remora-app are
// optional here; `up` checks for pilot when the lab needs it.
StatusOr<Tools> findTools(const std::string& self_exe, const std::string& bin_dir);

inline constexpr const char* kDefaultLabName = "remora";
inline constexpr const char* kDefaultStateRoot = "/run/remora-lab";

struct LabOptions {
  std::string name = kDefaultLabName;  // names the hub namespace and prefixes the pods'
  std::string state_root = kDefaultStateRoot;
  Tools tools;
  std::chrono::milliseconds ready_timeout{15000};  // per wait: proxy /ready, container ports
  // Set (by a signal handler) to make `up` stop at the next step and undo it.
  const std::atomic<bool>* interrupted = nullptr;
  // Told one line per step; may be empty.
  std::function<void(const std::string&)> progress;
};

// Names, as `ip netns list` shows them: the hub holding the bridge is the lab's
// name; a pod's namespace is "<lab>-<pod>".
std::string podNetns(const std::string& lab, const std::string& pod);
std::string stateDir(const LabOptions& options);
// Where a lab's pilot keeps its config folder and log: "<state>/_pilot"
// ('_' is never in a pod name, so no pod directory can take it).
std::string pilotDir(const LabOptions& options);

// Brings the lab up. Refused if this lab is already up (or half up), if not
// root, or if a namespace or /etc/netns entry it would make already exists.
// On any failure everything made so far is removed again.
Status labUp(const LabSpec& spec, const std::string& file, const LabOptions& options);

// Stops every process the lab started, deletes its namespaces (with their
// links and rules), /etc/netns entries and state. Goes on past errors and
// reports them all; the state stays while something could not be removed.
Status labDown(const LabOptions& options);

struct ProcessStatus {
  std::string role;
  pid_t pid = 0;
  bool running = false;
};

struct PodStatus {
  PodRecord pod;
  std::string health;  // "ready", "proxy not ready", "proxy exited", "container exited", "running"
  std::vector<ProcessStatus> processes;
};

struct PilotStatus {
  PilotRecord pilot;
  ProcessStatus process;
  std::string health;  // "ready", "not ready", "exited", "not started"
};

struct LabStatus {
  std::string name;
  std::string file;
  std::string phase;
  std::string pod_cidr;
  std::string service_cidr;
  std::vector<PodStatus> pods;
  std::vector<ServiceRecord> services;
  std::optional<PilotStatus> pilot;
};

StatusOr<LabStatus> labStatus(const LabOptions& options);

// What a running (or half-up) lab recorded: its pods (namespace, IP, admin
// address) and services. NotFound when the lab is not up. For tools that
// reach into pods, such as `remoractl proxy-config`.
StatusOr<LabState> readLabState(const LabOptions& options);

// The file `ip netns exec` shows a pod's processes as /etc/<file>, e.g.
// podEtcFile("remora-reviews-v1", "hosts") = "/etc/netns/remora-reviews-v1/hosts".
std::string podEtcFile(const std::string& netns, const std::string& file);
// A table for people.
std::string formatStatus(const LabStatus& status);

// The command line that runs `command` inside a pod: ["ip", "netns", "exec",
// "<lab>-<pod>", "env", "--", "POD_NAME=...", "POD_NAMESPACE=...",
// "POD_IP=...", ...]. NotFound if the lab or the pod does not exist.
StatusOr<std::vector<std::string>> execCommand(const LabOptions& options, const std::string& pod,
                                               const std::vector<std::string>& command);

}  // namespace remora::lab
