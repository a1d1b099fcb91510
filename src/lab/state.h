// What `lab up` made, written down as it goes (a journal), so that `lab down`
// removes exactly that, even after `up` was killed half-way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace remora::lab {

struct ProcessRecord {
  std::string pod;
  std::string role;  // "proxy" or "container <name>"
  pid_t pid = 0;
  uint64_t start_time = 0;  // see ProcessId
  std::string log;
};

struct PodRecord {
  std::string name;
  std::string ns;
  std::string netns;
  std::string ip;
  bool sidecar = false;
  std::string admin;  // the proxy's admin address inside the pod ("127.0.0.1:15000")
};

struct ServiceRecord {
  std::string name;
  std::string ns;
  std::string cluster_ip;
  std::vector<uint16_t> ports;
};

// The lab's control plane, when `up` started one: remora-pilot runs in the
// lab's hub namespace (`netns`) on the bridge's address, so pods reach it
// over the bridge and tools on the host reach it by joining `netns`.
struct PilotRecord {
  std::string netns;         // "remora": the hub namespace
  std::string grpc_address;  // "10.244.0.1:15010", what bootstraps point at
  std::string http_address;  // "10.244.0.1:15014", debug pages and the config API
  std::string config_dir;    // the folder pilot watches (apply persists there)
};

struct LabState {
  std::string name;
  std::string file;   // the lab file `up` read
  std::string phase;  // "creating" until `up` is done, then "up"
  std::string pod_cidr;
  std::string service_cidr;
  // Journal, in creation order. A name is recorded before the thing is made,
  // so a crash can leave a record of something that does not exist (down
  // skips it) but never something that exists without a record.
  std::vector<std::string> netns;
  std::vector<std::string> etc_dirs;
  std::vector<ProcessRecord> processes;
  // For status and exec.
  std::vector<PodRecord> pods;
  std::vector<ServiceRecord> services;
  std::optional<PilotRecord> pilot;  // none: proxies have static bootstraps
};

inline constexpr const char* kStateFile = "state.yaml";

std::string renderState(const LabState& state);
StatusOr<LabState> parseState(const std::string& text);

}  // namespace remora::lab
