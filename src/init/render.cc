#include "init/render.h"

namespace remora::init {
namespace {

void appendAddress(std::string& out, const char* flag, const AddressMatch& a) {
  out += a.negated ? " ! " : " ";
  out += flag;
  out += " " + a.cidr.toString();
}

}  // namespace

const char* familyName(IpFamily family) { return family == IpFamily::kIpv4 ? "IPv4" : "IPv6"; }

std::string renderRule(const std::string& chain, const Rule& rule) {
  const Match& m = rule.match;
  std::string out = "-A " + chain;
  if (m.source) appendAddress(out, "-s", *m.source);
  if (m.destination) appendAddress(out, "-d", *m.destination);
  if (m.in_interface) out += " -i " + *m.in_interface;
  if (m.out_interface) out += " -o " + *m.out_interface;
  if (m.tcp || m.destination_port) out += " -p tcp";
  if (m.destination_port) out += " -m tcp --dport " + std::to_string(*m.destination_port);
  if (m.owner) {
    out += " -m owner";
    out += m.owner->negated ? " ! " : " ";
    out += m.owner->kind == OwnerMatch::Kind::kUid ? "--uid-owner " : "--gid-owner ";
    out += std::to_string(m.owner->id);
  }
  switch (rule.target.kind) {
    case Target::Kind::kJump:
      out += " -j " + rule.target.chain;
      break;
    case Target::Kind::kReturn:
      out += " -j RETURN";
      break;
    case Target::Kind::kRedirect:
      out += " -j REDIRECT --to-ports " + std::to_string(rule.target.to_port);
      break;
  }
  return out;
}

std::string renderTableRules(const Table& table) {
  std::string out;
  for (const Chain& chain : table.chains) {
    if (chain.rules.empty()) continue;
    out += "# " + chain.name + ": " + chain.summary + "\n";
    for (const Rule& rule : chain.rules) {
      if (!rule.note.empty()) out += "#   " + rule.note + "\n";
      out += renderRule(chain.name, rule) + "\n";
    }
  }
  return out;
}

std::string renderRestore(const RuleSet& rules) {
  std::string out;
  for (const Table& table : rules.tables) {
    out += "*" + table.name + "\n";
    for (const Chain& chain : table.chains) {
      if (!chain.builtin) out += ":" + chain.name + " - [0:0]\n";
    }
    out += renderTableRules(table);
    out += "COMMIT\n";
  }
  return out;
}

std::string renderDryRun(const std::vector<RuleSet>& rule_sets) {
  std::string out;
  for (const RuleSet& rules : rule_sets) {
    const char* tool =
        rules.family == IpFamily::kIpv4 ? "iptables-restore" : "ip6tables-restore";
    out += "# remora-init: " + std::string(familyName(rules.family)) + " rules, applied with `" +
           tool + " --noflush`\n";
    out += renderRestore(rules);
  }
  return out;
}

}  // namespace remora::init
