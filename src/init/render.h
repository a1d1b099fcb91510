// Renders a RuleSet as iptables-restore input (to be fed with --noflush), in
// the canonical argument order iptables-save prints, so rendered rules can be
// compared line by line with what the kernel reports.
#pragma once

#include <string>
#include <vector>

#include "init/rules.h"

namespace remora::init {

// "-A CHAIN <matches> -j TARGET", exactly as iptables-save would print it.
std::string renderRule(const std::string& chain, const Rule& rule);

// A table's rule lines in chain order, each chain under its summary comment
// and each rule under its note; no header, declarations or COMMIT.
std::string renderTableRules(const Table& table);

// One "*table ... COMMIT" block per table: owned chains declared, then every
// chain's rules in order, with the chain summaries and rule notes as comments.
std::string renderRestore(const RuleSet& rules);

// What `remora-init --dry-run` prints: each family's restore text under a
// header naming the command that would apply it.
std::string renderDryRun(const std::vector<RuleSet>& rule_sets);

const char* familyName(IpFamily family);  // "IPv4" / "IPv6"

}  // namespace remora::init
