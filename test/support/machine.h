// What the machine looks like from the host, for tests that must leave it as
// they found it (the lab's `down`), and iptables counters inside a namespace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remora::test {

struct MachineSnapshot {
  std::vector<std::string> netns;      // `ip netns list` names
  std::vector<std::string> links;      // the host's interface names
  std::string iptables;                // host `iptables-save` without counters and comments
  std::vector<std::string> etc_netns;  // entries of /etc/netns ("<absent>" if missing)
  std::vector<std::string> routes;     // host `ip route` lines

  bool operator==(const MachineSnapshot&) const = default;
};

MachineSnapshot takeMachineSnapshot();
// A readable diff for failure messages ("" when equal).
std::string describeDifference(const MachineSnapshot& before, const MachineSnapshot& after);

// Sum of the packet counters of the rules in `chain` of the nat table inside
// network namespace `netns` (-1 if iptables-save failed). A REDIRECT rule
// counts connections, since nat sees only the first packet of each.
int64_t natChainPackets(const std::string& netns, const std::string& chain);

}  // namespace remora::test
