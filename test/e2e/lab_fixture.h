// A lab for one test: three pods on a bridge, brought up through the lab
// library, torn down (and checked gone) after the test.
//
//   client       no sidecar: plays the caller, not captured
//   productpage  sidecar, -b '*' -d 9090 (inbound 9090 excluded), -o 9090
//                (outbound 9090 excluded); app on 9080, 9090, 9091; each
//                request calls http://reviews:9080/reviews/0
//   reviews      sidecar, -b 9080 (only 9080 captured); app on 9080, 9090
//
// Both sidecars have static tcp_proxy bootstraps in the shape pilot will
// produce: virtualOutbound 15001 (default PassthroughCluster), virtualInbound
// 15006 (default BlackHoleCluster), <podIP>_9080 inbound to 127.0.0.1:9080,
// <clusterIP>_9080 outbound per Service.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

#include "lab/http_client.h"
#include "lab/lab.h"
#include "support/machine.h"

namespace remora::test {

class LabTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The lab file above, with `extra` appended (more YAML documents).
  std::string labYaml(const std::string& extra = "") const;
  // Parses `yaml` and brings it up; skips the test if the kernel has no bridge.
  Status up(const std::string& yaml);
  void upOrFail(const std::string& yaml = "");

  lab::LabOptions options() const;
  std::string netns(const std::string& pod) const { return lab::podNetns(name_, pod); }
  std::string ip(const std::string& pod) const;  // from the running lab's status

  // GET http://<to>/<path> from inside a pod (the test thread plays an app
  // in that pod, as root: captured like the pod's app would be).
  StatusOr<lab::HttpResponse> get(const std::string& from_pod, const std::string& to,
                                  const std::string& path);
  // The "peer" remora-app reports for that GET: who it saw connect, the
  // proxy (127.0.0.1) or the caller; "<error: ...>" if the GET failed.
  std::string peerSeenBy(const std::string& from_pod, const std::string& to,
                         const std::string& path);
  // A stat of a pod's proxy (admin 127.0.0.1:15000), or -1.
  int64_t stat(const std::string& pod, const std::string& name);
  int64_t natPackets(const std::string& pod, const std::string& chain) {
    return natChainPackets(netns(pod), chain);
  }

  // Host netns and /etc/netns entries of this lab only, so that other
  // tests running at the same time do not disturb the comparison; links,
  // host iptables and routes whole (the lab never touches them).
  MachineSnapshot snapshot() const;

  std::string name_;
  bool up_ = false;
  bool skip_ = false;
  MachineSnapshot before_;
};

// The JSON field `key` of a remora-app answer ("" if absent), e.g. "peer".
std::string jsonField(const std::string& body, const std::string& key);

}  // namespace remora::test
