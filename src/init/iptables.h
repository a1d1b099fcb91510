// Applying and removing remora-init's rules in the current network namespace.
// Every change is one iptables-restore --noflush transaction per address
// family, so the kernel sees all of it or none of it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "init/command.h"
#include "init/rules.h"

namespace remora::init {

// The part of `iptables-save -t nat` that apply and cleanup care about.
struct NatState {
  std::vector<std::string> owned_chains;   // existing REMORA_* chains
  std::vector<std::string> foreign_jumps;  // "-A PREROUTING ... -j REMORA_X" in chains not ours
};

NatState parseNatSave(std::string_view save_text);

// Replaces whatever remora-init put there before with `rules`: our old jumps are
// deleted, our chains re-declared (which empties them) and refilled. Running it
// twice therefore gives the same table.
std::string applyTransaction(const RuleSet& rules, const NatState& current);

// Deletes our jumps, then flushes and deletes our chains. Empty when there is
// nothing of ours in the table.
std::string cleanupTransaction(const NatState& current);

// One address family's tools: iptables-{save,restore} or ip6tables-{save,restore}.
class Iptables {
 public:
  Iptables(CommandRunner& runner, IpFamily family) : runner_(runner), family_(family) {}

  StatusOr<std::string> saveNat();
  // noflush=false replaces the tables in `text` wholesale (used for rollback).
  Status restore(std::string_view text, bool noflush);
  // The transaction apply() would run; reads the current table.
  StatusOr<std::string> planApply(const RuleSet& rules);
  StatusOr<std::string> planCleanup();
  Status apply(const RuleSet& rules);
  Status cleanup();

  IpFamily family() const { return family_; }
  std::string saveTool() const;
  std::string restoreTool() const;

 private:
  CommandRunner& runner_;
  IpFamily family_;
};

// Applies every rule set (IPv4 first). If a later family fails, the families
// already applied are put back to their saved state, so a failure leaves the
// namespace as it was.
Status applyAll(CommandRunner& runner, const std::vector<RuleSet>& rule_sets);

}  // namespace remora::init
