#include "init/rules.h"

#include <string_view>

namespace remora::init {
namespace {

Cidr localhost(IpFamily family) {
  Cidr c;
  c.family = family;
  if (family == IpFamily::kIpv4) {
    c.address = {127, 0, 0, 1};
    c.prefix_len = 32;
  } else {
    c.address[15] = 1;
    c.prefix_len = 128;
  }
  return c;
}

Target jump(const char* chain) { return Target{Target::Kind::kJump, chain, 0}; }
Target returnTarget() { return Target{Target::Kind::kReturn, "", 0}; }
Target redirect(uint16_t port) { return Target{Target::Kind::kRedirect, "", port}; }

Match tcpPort(uint16_t port) {
  Match m;
  m.tcp = true;
  m.destination_port = port;
  return m;
}

Match tcpOnly() {
  Match m;
  m.tcp = true;
  return m;
}

Match toAddress(const Cidr& cidr, bool negated = false) {
  Match m;
  m.destination = AddressMatch{cidr, negated};
  return m;
}

Match owner(OwnerMatch::Kind kind, uint32_t id, bool negated = false) {
  Match m;
  m.owner = OwnerMatch{kind, id, negated};
  return m;
}

std::vector<Cidr> ofFamily(const std::vector<Cidr>& cidrs, IpFamily family) {
  std::vector<Cidr> out;
  for (const Cidr& c : cidrs) {
    if (c.family == family) out.push_back(c);
  }
  return out;
}

const char* idKind(OwnerMatch::Kind kind) { return kind == OwnerMatch::Kind::kUid ? "UID" : "GID"; }

Chain inboundChain(const CaptureConfig& config, IpFamily family) {
  Chain chain{kInboundChain, false,
              "inbound TCP to captured ports goes to REMORA_IN_REDIRECT; the rest is untouched",
              {}};
  for (const std::string& iface : config.kube_virt_interfaces) {
    if (config.include_outbound_cidrs.all) {
      Match m;
      m.in_interface = iface;
      chain.rules.push_back(
          {m, jump(kRedirectChain), "traffic from VM interface " + iface + " counts as outbound"});
    } else {
      for (const Cidr& cidr : ofFamily(config.include_outbound_cidrs.items, family)) {
        Match m = toAddress(cidr);
        m.in_interface = iface;
        chain.rules.push_back({m, jump(kRedirectChain),
                               "traffic from VM interface " + iface + " to " + cidr.toString() +
                                   " counts as outbound"});
      }
    }
    Match m;
    m.in_interface = iface;
    chain.rules.push_back({m, returnTarget(), "nothing else from " + iface + " is captured"});
  }
  for (const std::string& iface : config.exclude_interfaces) {
    Match m;
    m.in_interface = iface;
    chain.rules.push_back({m, returnTarget(), "interface " + iface + " is never captured (-c)"});
  }
  const Selection<uint16_t>& ports = config.include_inbound_ports;
  if (ports.all) {
    for (uint16_t port : config.exclude_inbound_ports) {
      chain.rules.push_back({tcpPort(port), returnTarget(),
                             "port " + std::to_string(port) + " is excluded from capture (-d)"});
    }
    chain.rules.push_back({tcpOnly(), jump(kInRedirectChain), "every other port is captured"});
  } else {
    for (uint16_t port : ports.items) {
      chain.rules.push_back({tcpPort(port), jump(kInRedirectChain),
                             "port " + std::to_string(port) + " is captured (-b)"});
    }
  }
  return chain;
}

Chain outputChain(const CaptureConfig& config, IpFamily family) {
  Chain chain{kOutputChain, false,
              "decides which outbound TCP goes to the proxy; the first matching rule wins",
              {}};
  const Cidr lo = localhost(family);
  for (const std::string& iface : config.exclude_interfaces) {
    Match m;
    m.out_interface = iface;
    chain.rules.push_back({m, returnTarget(), "interface " + iface + " is never captured (-c)"});
  }
  for (uint16_t port : config.exclude_outbound_ports) {
    chain.rules.push_back({tcpPort(port), returnTarget(),
                           "port " + std::to_string(port) + " is never captured (-o)"});
  }
  if (config.singlePort()) {
    // The seed's layout: one capture port, so a call to our own pod IP over lo
    // (from the app or the proxy) can go through the proxy's virtual listener,
    // which hands it to the inbound listener for that address.
    Match self = toAddress(lo, /*negated=*/true);
    self.out_interface = "lo";
    chain.rules.push_back({self, jump(kRedirectChain),
                           "a call to this pod's own IP (over lo) goes through the proxy"});
    for (uint32_t uid : config.proxy_uids) {
      chain.rules.push_back({owner(OwnerMatch::Kind::kUid, uid), returnTarget(),
                             "the proxy's own traffic (UID " + std::to_string(uid) +
                                 ") is not captured again"});
    }
    for (uint32_t gid : config.proxy_gids) {
      chain.rules.push_back({owner(OwnerMatch::Kind::kGid, gid), returnTarget(),
                             "the proxy's own traffic (GID " + std::to_string(gid) +
                                 ") is not captured again"});
    }
  } else {
    // Split ports: the unqualified seed rule would send the proxy's connection
    // to its own pod IP back to the outbound port, a loop. Only the proxy's
    // calls to our pod IP are turned into inbound traffic; the app's go direct.
    auto ownerBlock = [&](OwnerMatch::Kind kind, uint32_t id) {
      std::string who = std::string(idKind(kind)) + " " + std::to_string(id);
      Match self = owner(kind, id);
      self.destination = AddressMatch{lo, true};
      self.out_interface = "lo";
      chain.rules.push_back({self, jump(kInRedirectChain),
                             "the proxy (" + who + ") calling this pod's own IP enters inbound"});
      Match app_lo = owner(kind, id, /*negated=*/true);
      app_lo.out_interface = "lo";
      chain.rules.push_back(
          {app_lo, returnTarget(), "anything else over lo (not " + who + ") is not captured"});
      chain.rules.push_back({owner(kind, id), returnTarget(),
                             "the proxy's own traffic (" + who + ") is not captured again"});
    };
    for (uint32_t uid : config.proxy_uids) ownerBlock(OwnerMatch::Kind::kUid, uid);
    for (uint32_t gid : config.proxy_gids) ownerBlock(OwnerMatch::Kind::kGid, gid);
  }
  chain.rules.push_back({toAddress(lo), returnTarget(), "localhost is never captured"});
  for (const Cidr& cidr : ofFamily(config.exclude_outbound_cidrs, family)) {
    chain.rules.push_back(
        {toAddress(cidr), returnTarget(), cidr.toString() + " is never captured (-x)"});
  }
  for (uint16_t port : config.include_outbound_ports) {
    chain.rules.push_back({tcpPort(port), jump(kRedirectChain),
                           "port " + std::to_string(port) + " is always captured (-q)"});
  }
  if (config.include_outbound_cidrs.all) {
    chain.rules.push_back({Match{}, jump(kRedirectChain), "everything else is captured (-i *)"});
  } else {
    for (const Cidr& cidr : ofFamily(config.include_outbound_cidrs.items, family)) {
      chain.rules.push_back(
          {toAddress(cidr), jump(kRedirectChain), cidr.toString() + " is captured (-i)"});
    }
  }
  return chain;
}

}  // namespace

bool isOwnedChain(const std::string& name) {
  return std::string_view(name).starts_with(kChainPrefix);
}

RuleSet buildRuleSet(const CaptureConfig& config, IpFamily family) {
  Chain prerouting{"PREROUTING", true, "inbound TCP is examined by REMORA_INBOUND", {}};
  if (!config.include_inbound_ports.empty() || !config.kube_virt_interfaces.empty()) {
    prerouting.rules.push_back({tcpOnly(), jump(kInboundChain), ""});
  }
  Chain output{"OUTPUT", true, "outbound TCP is examined by REMORA_OUTPUT", {}};
  output.rules.push_back({tcpOnly(), jump(kOutputChain), ""});

  Chain in_redirect{kInRedirectChain, false,
                    "redirects to the proxy's inbound capture port (-z)",
                    {{tcpOnly(), redirect(config.inbound_capture_port), ""}}};
  Chain out_redirect{kRedirectChain, false,
                     "redirects to the proxy's outbound capture port (-p)",
                     {{tcpOnly(), redirect(config.outbound_capture_port), ""}}};

  Table nat{"nat",
            {std::move(prerouting), std::move(output), inboundChain(config, family),
             std::move(in_redirect), outputChain(config, family), std::move(out_redirect)}};
  return RuleSet{family, {std::move(nat)}};
}

}  // namespace remora::init
