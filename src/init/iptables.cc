#include "init/iptables.h"

#include <algorithm>
#include <sstream>

#include "common/logging.h"
#include "init/render.h"

namespace remora::init {
namespace {

std::vector<std::string> tokens(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

std::string firstLine(const std::string& text) {
  std::string s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status toolFailure(const std::string& tool, const CommandResult& r) {
  std::string err = firstLine(r.err.empty() ? r.out : r.err);
  if (err.find("Permission denied") != std::string::npos ||
      err.find("you must be root") != std::string::npos ||
      err.find("Operation not permitted") != std::string::npos) {
    return permissionDeniedError(tool +
                                 " was refused: remora-init needs root (CAP_NET_ADMIN) in the "
                                 "target network namespace: " +
                                 err);
  }
  return unavailableError(tool + " failed with exit code " + std::to_string(r.exit_code) + ": " +
                          err);
}

Status notFoundHint(const Status& s) {
  if (s.code() != StatusCode::kNotFound) return s;
  return notFoundError(s.message() + " (install the Debian package \"iptables\")");
}

}  // namespace

NatState parseNatSave(std::string_view save_text) {
  NatState state;
  bool in_nat = false;
  std::istringstream in{std::string(save_text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      in_nat = line == "*nat";
      continue;
    }
    if (!in_nat) continue;
    if (line[0] == ':') {
      std::string name = line.substr(1, line.find(' ') - 1);
      if (isOwnedChain(name)) state.owned_chains.push_back(name);
      continue;
    }
    std::vector<std::string> t = tokens(line);
    if (t.size() < 2 || t[0] != "-A" || isOwnedChain(t[1])) continue;
    for (size_t i = 2; i + 1 < t.size(); ++i) {
      if ((t[i] == "-j" || t[i] == "-g") && isOwnedChain(t[i + 1])) {
        state.foreign_jumps.push_back(line);
        break;
      }
    }
  }
  return state;
}

namespace {

// "-A X spec" -> "-D X spec": iptables-save prints specs that -D accepts.
std::string deleteOf(const std::string& append_line) { return "-D" + append_line.substr(2); }

}  // namespace

std::string applyTransaction(const RuleSet& rules, const NatState& current) {
  std::string out;
  for (const Table& table : rules.tables) {
    std::vector<std::string> wanted;
    for (const Chain& c : table.chains) {
      if (!c.builtin) wanted.push_back(c.name);
    }
    out += "*" + table.name + "\n";
    for (const std::string& name : wanted) out += ":" + name + " - [0:0]\n";
    if (table.name == "nat") {
      if (!current.foreign_jumps.empty() || !current.owned_chains.empty()) {
        out += "# remove what an earlier run added\n";
      }
      for (const std::string& jump : current.foreign_jumps) out += deleteOf(jump) + "\n";
      // Declaring an existing chain empties it under --noflush; the explicit
      // flush says so and does not depend on that.
      for (const std::string& name : current.owned_chains) out += "-F " + name + "\n";
      for (const std::string& name : current.owned_chains) {
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
          out += "-X " + name + "\n";
        }
      }
    }
    out += renderTableRules(table);
    out += "COMMIT\n";
  }
  return out;
}

std::string cleanupTransaction(const NatState& current) {
  if (current.owned_chains.empty() && current.foreign_jumps.empty()) return "";
  std::string out = "*nat\n";
  for (const std::string& jump : current.foreign_jumps) out += deleteOf(jump) + "\n";
  // Flush all before deleting any: our chains jump to each other.
  for (const std::string& name : current.owned_chains) out += "-F " + name + "\n";
  for (const std::string& name : current.owned_chains) out += "-X " + name + "\n";
  out += "COMMIT\n";
  return out;
}

std::string Iptables::saveTool() const {
  return family_ == IpFamily::kIpv4 ? "iptables-save" : "ip6tables-save";
}

std::string Iptables::restoreTool() const {
  return family_ == IpFamily::kIpv4 ? "iptables-restore" : "ip6tables-restore";
}

StatusOr<std::string> Iptables::saveNat() {
  auto result = runner_.run({saveTool(), "-t", "nat"}, "");
  if (!result.ok()) return notFoundHint(result.status());
  if (result->exit_code != 0) return toolFailure(saveTool(), *result);
  return std::move(result->out);
}

Status Iptables::restore(std::string_view text, bool noflush) {
  std::vector<std::string> argv = {restoreTool()};
  if (noflush) argv.push_back("--noflush");
  REMORA_LOG_DEBUG("{} input:\n{}", restoreTool(), text);
  auto result = runner_.run(argv, text);
  if (!result.ok()) return notFoundHint(result.status());
  if (result->exit_code != 0) return toolFailure(restoreTool(), *result);
  return Status::okStatus();
}

StatusOr<std::string> Iptables::planApply(const RuleSet& rules) {
  REMORA_ASSIGN_OR_RETURN(std::string saved, saveNat());
  return applyTransaction(rules, parseNatSave(saved));
}

StatusOr<std::string> Iptables::planCleanup() {
  REMORA_ASSIGN_OR_RETURN(std::string saved, saveNat());
  return cleanupTransaction(parseNatSave(saved));
}

Status Iptables::apply(const RuleSet& rules) {
  REMORA_ASSIGN_OR_RETURN(std::string text, planApply(rules));
  return restore(text, /*noflush=*/true);
}

Status Iptables::cleanup() {
  REMORA_ASSIGN_OR_RETURN(std::string text, planCleanup());
  if (text.empty()) {
    REMORA_LOG_INFO("{}: no remora-init rules to remove", familyName(family_));
    return Status::okStatus();
  }
  return restore(text, /*noflush=*/true);
}

Status applyAll(CommandRunner& runner, const std::vector<RuleSet>& rule_sets) {
  struct Applied {
    Iptables tables;
    std::string before;
  };
  std::vector<Applied> applied;
  for (const RuleSet& rules : rule_sets) {
    Iptables tables(runner, rules.family);
    auto before = tables.saveNat();
    Status status = before.ok() ? tables.restore(applyTransaction(rules, parseNatSave(*before)),
                                                 /*noflush=*/true)
                                : before.status();
    if (!status.ok()) {
      for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
        Status undo = it->tables.restore(it->before, /*noflush=*/false);
        if (!undo.ok()) {
          REMORA_LOG_ERROR("could not roll back {} rules: {}", familyName(it->tables.family()),
                           undo.toString());
        }
      }
      return status.withPrefix(std::string(familyName(rules.family)) + " rules not applied");
    }
    applied.push_back({tables, std::move(*before)});
  }
  return Status::okStatus();
}

}  // namespace remora::init
