#include "ctl/nat_trace.h"

#include <algorithm>
#include <charconv>

namespace remora::ctl {
namespace {

std::vector<std::string> tokenize(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    if (i >= line.size()) break;
    std::string token;
    if (line[i] == '"') {
      // --comment "some words": iptables-save quotes and escapes with '\'.
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        token += line[i];
      }
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ')
        token += line[i++];
    }
    out.push_back(std::move(token));
  }
  return out;
}

template <typename T>
bool parseNumber(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

Status parseRule(std::string_view line, NatRule& rule) {
  // With -c each rule starts with its counters: "[12:720] -A ...".
  if (line.starts_with("[")) {
    size_t colon = line.find(':');
    size_t close = line.find("] ");
    int64_t packets = 0;
    if (colon != std::string_view::npos && close != std::string_view::npos && colon < close &&
        parseNumber(line.substr(1, colon - 1), packets)) {
      rule.packets = packets;
    }
    if (close != std::string_view::npos) line.remove_prefix(close + 2);
  }
  rule.text = std::string(line);
  std::vector<std::string> t = tokenize(line);
  auto bad = [&](const std::string& what) {
    return invalidArgumentError("nat rule \"" + rule.text + "\": " + what);
  };
  if (t.size() < 2 || t[0] != "-A") return bad("expected -A CHAIN");
  rule.chain = t[1];
  bool negate = false;
  for (size_t i = 2; i < t.size(); ++i) {
    const std::string& tok = t[i];
    auto value = [&]() -> StatusOr<std::string> {
      if (i + 1 >= t.size()) return bad(tok + " needs a value");
      return t[++i];
    };
    if (tok == "!") {
      negate = true;
      continue;
    }
    if (tok == "-s" || tok == "-d") {
      REMORA_ASSIGN_OR_RETURN(std::string v, value());
      auto cidr = network::CidrRange::parse(v);
      if (!cidr.ok()) return bad(tok + ": " + cidr.status().message());
      (tok == "-s" ? rule.source : rule.destination) = NatRule::Address{*cidr, negate};
    } else if (tok == "-i" || tok == "-o") {
      REMORA_ASSIGN_OR_RETURN(std::string v, value());
      (tok == "-i" ? rule.in_interface : rule.out_interface) = NatRule::Interface{v, negate};
    } else if (tok == "-p") {
      REMORA_ASSIGN_OR_RETURN(rule.protocol, value());
      rule.protocol_negated = negate;
    } else if (tok == "-m") {
      REMORA_ASSIGN_OR_RETURN(std::string module, value());
      if (module != "tcp" && module != "owner" && module != "comment" && rule.unsupported.empty()) {
        rule.unsupported = "-m " + module;
      }
    } else if (tok == "--dport" || tok == "--destination-port") {
      REMORA_ASSIGN_OR_RETURN(std::string v, value());
      uint16_t port = 0;
      if (!parseNumber(v, port)) {
        // A range such as 1000:2000.
        if (rule.unsupported.empty()) rule.unsupported = "--dport " + v;
      } else {
        rule.destination_port = NatRule::Port{port, negate};
      }
    } else if (tok == "--uid-owner" || tok == "--gid-owner") {
      REMORA_ASSIGN_OR_RETURN(std::string v, value());
      uint32_t id = 0;
      if (!parseNumber(v, id)) {
        if (rule.unsupported.empty()) rule.unsupported = tok + " " + v;
      } else {
        rule.owner = NatRule::Owner{tok == "--gid-owner", id, negate};
      }
    } else if (tok == "--comment") {
      REMORA_RETURN_IF_ERROR(value().status());
    } else if (tok == "-j") {
      REMORA_ASSIGN_OR_RETURN(rule.target, value());
    } else if (tok == "--to-ports" || tok == "--to-port") {
      REMORA_ASSIGN_OR_RETURN(std::string v, value());
      if (!parseNumber(v, rule.to_port) && rule.unsupported.empty()) {
        rule.unsupported = tok + " " + v;
      }
    } else if (rule.unsupported.empty()) {
      rule.unsupported = tok;
    }
    negate = false;
  }
  if (rule.target.empty()) return bad("no -j target");
  return Status::okStatus();
}

bool interfaceMatches(const NatRule::Interface& rule, const std::string& name) {
  bool match = rule.name.ends_with("+")
                   ? name.starts_with(std::string_view(rule.name).substr(0, rule.name.size() - 1))
                   : name == rule.name;
  return match != rule.negated;
}

std::string neg(bool negated) {
  return negated ? "! " : "";
}

// "" when `rule` matches `p`, else the first condition that does not.
std::string mismatch(const NatRule& rule, const NatPacket& p, std::string_view chain_start) {
  if (rule.protocol && ((*rule.protocol == "tcp") == rule.protocol_negated)) {
    return "protocol is tcp, rule wants " + neg(rule.protocol_negated) + *rule.protocol;
  }
  if (rule.source && rule.source->cidr.contains(p.source) == rule.source->negated) {
    return "source " + p.source.toString() + " is " + (rule.source->negated ? "" : "not ") + "in " +
           rule.source->cidr.toString();
  }
  if (rule.destination &&
      rule.destination->cidr.contains(p.destination) == rule.destination->negated) {
    return "destination " + p.destination.toString() + " is " +
           (rule.destination->negated ? "" : "not ") + "in " + rule.destination->cidr.toString();
  }
  if (rule.in_interface) {
    if (chain_start != "PREROUTING") return "-i does not apply to locally sent packets";
    if (!interfaceMatches(*rule.in_interface, p.in_interface)) {
      return "arrives on " + p.in_interface + ", rule wants " + neg(rule.in_interface->negated) +
             rule.in_interface->name;
    }
  }
  if (rule.out_interface) {
    if (chain_start != "OUTPUT") return "-o does not apply to arriving packets";
    if (!interfaceMatches(*rule.out_interface, p.out_interface)) {
      return "leaves on " + p.out_interface + ", rule wants " + neg(rule.out_interface->negated) +
             rule.out_interface->name;
    }
  }
  if (rule.destination_port &&
      (p.destination_port == rule.destination_port->port) == rule.destination_port->negated) {
    return "port " + std::to_string(p.destination_port) + ", rule wants " +
           neg(rule.destination_port->negated) + std::to_string(rule.destination_port->port);
  }
  if (rule.owner) {
    if (chain_start != "OUTPUT") return "owner matches only locally sent packets";
    uint32_t id = rule.owner->gid ? p.gid : p.uid;
    if ((id == rule.owner->id) == rule.owner->negated) {
      return std::string(rule.owner->gid ? "GID " : "UID ") + std::to_string(id) + ", rule wants " +
             neg(rule.owner->negated) + std::to_string(rule.owner->id);
    }
  }
  return "";
}

bool isBuiltin(std::string_view chain) {
  return chain == "PREROUTING" || chain == "INPUT" || chain == "OUTPUT" || chain == "POSTROUTING";
}

}  // namespace

StatusOr<NatTable> parseNatTable(std::string_view text) {
  NatTable table;
  bool in_nat = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      in_nat = line == "*nat";
      continue;
    }
    if (!in_nat || line == "COMMIT") continue;
    if (line[0] == ':') {
      // ":OUTPUT ACCEPT [0:0]"; user chains have "-".
      auto t = tokenize(line.substr(1));
      if (t.size() >= 2 && isBuiltin(t[0])) table.policies.emplace_back(t[0], t[1]);
      if (t.size() >= 1 && !isBuiltin(t[0])) table.user_chains.push_back(t[0]);
      continue;
    }
    NatRule rule;
    REMORA_RETURN_IF_ERROR(parseRule(line, rule));
    table.rules.push_back(std::move(rule));
  }
  return table;
}

bool NatTable::isUserChain(std::string_view name) const {
  return std::find(user_chains.begin(), user_chains.end(), name) != user_chains.end();
}

std::vector<const NatRule*> NatTrace::path() const {
  std::vector<const NatRule*> out;
  for (const NatStep& s : steps) {
    if (s.matched) out.push_back(s.rule);
  }
  return out;
}

NatTrace traceNat(const NatTable& table, std::string_view start, const NatPacket& packet) {
  NatTrace trace;
  struct Frame {
    std::string chain;
    size_t next;  // index into table.rules to resume from
  };
  std::vector<Frame> stack;
  std::string chain(start);
  size_t i = 0;
  constexpr size_t kMaxSteps = 10000;
  while (trace.steps.size() < kMaxSteps) {
    // Next rule of `chain` at or after i.
    while (i < table.rules.size() && table.rules[i].chain != chain)
      ++i;
    if (i >= table.rules.size()) {
      if (!stack.empty()) {
        chain = stack.back().chain;
        i = stack.back().next;
        stack.pop_back();
        continue;
      }
      std::string policy = "ACCEPT";
      for (const auto& [c, p] : table.policies) {
        if (c == start) policy = p;
      }
      trace.verdict = policy == "DROP" ? NatTrace::Verdict::kDrop : NatTrace::Verdict::kAccept;
      trace.note = "end of " + std::string(start) + ": policy " + policy + ", address unchanged";
      return trace;
    }
    const NatRule& rule = table.rules[i];
    if (!rule.unsupported.empty()) {
      trace.steps.push_back({&rule, false, "cannot evaluate " + rule.unsupported});
      trace.note = "stopped at a rule with " + rule.unsupported + ", which explain cannot evaluate";
      return trace;
    }
    std::string why = mismatch(rule, packet, start);
    trace.steps.push_back({&rule, why.empty(), why});
    if (!why.empty()) {
      ++i;
      continue;
    }
    if (rule.target == "RETURN") {
      if (stack.empty()) {
        trace.verdict = NatTrace::Verdict::kAccept;
        trace.note = "RETURN from " + std::string(start) + ": address unchanged";
        return trace;
      }
      chain = stack.back().chain;
      i = stack.back().next;
      stack.pop_back();
    } else if (rule.target == "REDIRECT") {
      trace.verdict = NatTrace::Verdict::kRedirect;
      trace.redirect_port = rule.to_port != 0 ? rule.to_port : packet.destination_port;
      trace.note = "REDIRECT to port " + std::to_string(trace.redirect_port);
      return trace;
    } else if (rule.target == "ACCEPT") {
      trace.verdict = NatTrace::Verdict::kAccept;
      trace.note = "ACCEPT: address unchanged";
      return trace;
    } else if (rule.target == "DROP") {
      trace.verdict = NatTrace::Verdict::kDrop;
      trace.note = "DROP";
      return trace;
    } else if (!table.isUserChain(rule.target)) {
      trace.verdict = NatTrace::Verdict::kUnknown;
      trace.note = "target " + rule.target + " is not evaluated by explain";
      return trace;
    } else {
      stack.push_back({chain, i + 1});
      chain = rule.target;
      i = 0;
    }
  }
  trace.note = "gave up after " + std::to_string(kMaxSteps) + " rules (a loop?)";
  return trace;
}

}  // namespace remora::ctl
