// Rules as data: the nat chains remora-init owns and the ordered rules in
// them, built from a validated CaptureConfig. Nothing here knows about text or
// processes; render.h turns a RuleSet into iptables-restore input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "init/capture_config.h"

namespace remora::init {

// Every chain remora-init creates starts with this prefix; --cleanup relies on
// it to find exactly what we added.
inline constexpr const char* kChainPrefix = "REMORA_";
inline constexpr const char* kInboundChain = "REMORA_INBOUND";
inline constexpr const char* kInRedirectChain = "REMORA_IN_REDIRECT";
inline constexpr const char* kOutputChain = "REMORA_OUTPUT";
inline constexpr const char* kRedirectChain = "REMORA_REDIRECT";

bool isOwnedChain(const std::string& name);

struct AddressMatch {
  Cidr cidr;
  bool negated = false;
};

struct OwnerMatch {
  enum class Kind { kUid, kGid };
  Kind kind = Kind::kUid;
  uint32_t id = 0;
  bool negated = false;
};

// The subset of iptables matches remora-init uses. Unset fields match anything.
struct Match {
  std::optional<AddressMatch> source;
  std::optional<AddressMatch> destination;
  std::optional<std::string> in_interface;
  std::optional<std::string> out_interface;
  bool tcp = false;
  std::optional<uint16_t> destination_port;  // implies tcp
  std::optional<OwnerMatch> owner;
};

struct Target {
  enum class Kind { kJump, kReturn, kRedirect };
  Kind kind = Kind::kReturn;
  std::string chain;         // kJump
  uint16_t to_port = 0;      // kRedirect
};

struct Rule {
  Match match;
  Target target;
  std::string note;  // why the rule exists; rendered as a comment
};

struct Chain {
  std::string name;
  bool builtin = false;  // PREROUTING/OUTPUT: we append to them, never declare them
  std::string summary;   // what the chain is for; rendered as a comment
  std::vector<Rule> rules;
};

struct Table {
  std::string name;
  std::vector<Chain> chains;  // in listing order; rules keep their order
};

struct RuleSet {
  IpFamily family = IpFamily::kIpv4;
  std::vector<Table> tables;
};

// The rules for one address family. Pure: same config, same rules.
RuleSet buildRuleSet(const CaptureConfig& config, IpFamily family);

}  // namespace remora::init
