// Following one TCP connection through a pod's nat table, the way the seed
// walks `iptables -t nat -L` by hand: which chains it visits, which rule
// catches it, and where it is redirected. Reads `iptables-save -t nat`
// output; knows the matches remora-init and istio-iptables write (addresses,
// interfaces, tcp ports, owner) and stops with a note at any other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "network/address.h"

namespace remora::ctl {

struct NatRule {
  std::string chain;
  std::string text;      // the line as iptables-save printed it, without counters
  int64_t packets = -1;  // from `iptables-save -c`; -1 without counters
  struct Address {
    network::CidrRange cidr;
    bool negated = false;
  };
  struct Port {
    uint16_t port = 0;
    bool negated = false;
  };
  struct Owner {
    bool gid = false;  // --gid-owner, else --uid-owner
    uint32_t id = 0;
    bool negated = false;
  };
  struct Interface {
    std::string name;  // "veth+" matches every name starting with "veth"
    bool negated = false;
  };
  std::optional<Address> source, destination;
  std::optional<Interface> in_interface, out_interface;
  std::optional<std::string> protocol;  // "tcp", "udp", ...
  bool protocol_negated = false;
  std::optional<Port> destination_port;
  std::optional<Owner> owner;
  std::string target;    // a chain, RETURN, ACCEPT, REDIRECT, DNAT, ...
  uint16_t to_port = 0;  // REDIRECT --to-ports
  // A match or target option we cannot evaluate; the trace stops here.
  std::string unsupported;
};

struct NatTable {
  std::vector<NatRule> rules;                                 // in file order
  std::vector<std::pair<std::string, std::string>> policies;  // built-in chain -> ACCEPT/DROP
  std::vector<std::string> user_chains;                       // declared with ":NAME - [0:0]"
  bool isUserChain(std::string_view name) const;
};

// Reads the *nat section of `iptables-save` output.
StatusOr<NatTable> parseNatTable(std::string_view save_text);

// The connection's first packet as nat sees it.
struct NatPacket {
  network::IpAddress source;
  network::IpAddress destination;
  uint16_t destination_port = 0;
  std::string in_interface;   // PREROUTING: where it arrived
  std::string out_interface;  // OUTPUT: where routing sends it
  uint32_t uid = 0;           // OUTPUT: the sending process's owner
  uint32_t gid = 0;
};

struct NatStep {
  const NatRule* rule = nullptr;
  bool matched = false;
  std::string why_not;  // for a rule that did not match: the first condition that failed
};

struct NatTrace {
  enum class Verdict { kRedirect, kAccept, kDrop, kUnknown };
  Verdict verdict = Verdict::kUnknown;
  uint16_t redirect_port = 0;  // kRedirect
  std::vector<NatStep> steps;  // every rule looked at, in order
  std::string note;            // why the verdict (policy, unsupported rule...)

  // The rules that matched: the path the packet took.
  std::vector<const NatRule*> path() const;
};

// Runs `packet` from built-in chain `start` ("OUTPUT" for a pod's own
// connections, "PREROUTING" for arriving ones). Thread: any.
NatTrace traceNat(const NatTable& table, std::string_view start, const NatPacket& packet);

}  // namespace remora::ctl
