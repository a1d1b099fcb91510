#include "ctl/nat_trace.h"

#include <gtest/gtest.h>

#include <map>

#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

// `iptables-save -c -t nat` of a namespace holding remora-init's rules
// (src/init/testdata/<name>.golden applied with iptables-restore). Kept for
// the whole run: traces point into their table.
const NatTable& table(const std::string& name) {
  static std::map<std::string, NatTable> tables;
  auto it = tables.find(name);
  if (it != tables.end()) return it->second;
  auto t = parseNatTable(testdata::readTestdata("nat_" + name + ".txt"));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return tables[name] = t.ok() ? *t : NatTable();
}

network::IpAddress ip(const char* s) {
  return *network::IpAddress::parse(s);
}

NatPacket outbound(const char* to, uint16_t port, uint32_t uid = 0) {
  NatPacket p;
  p.source = ip("10.244.0.11");
  p.destination = ip(to);
  p.destination_port = port;
  p.out_interface = p.destination.isLoopback() || p.destination == p.source ? "lo" : "eth0";
  p.uid = p.gid = uid;
  return p;
}

std::vector<std::string> path(const NatTrace& t) {
  std::vector<std::string> out;
  for (const NatRule* r : t.path())
    out.push_back(r->text);
  return out;
}

TEST(NatTraceTest, ParsesCountersNegationsAndDeclaredChains) {
  const NatTable& t = table("istio_default");
  ASSERT_EQ(t.rules.size(), 16u);
  EXPECT_EQ(t.rules[0].text, "-A PREROUTING -p tcp -j REMORA_INBOUND");
  EXPECT_EQ(t.rules[0].packets, 0);
  auto counted = parseNatTable("*nat\n[22:1320] -A OUTPUT -p tcp -j X\n-A OUTPUT -j Y\n");
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->rules[0].packets, 22);
  EXPECT_EQ(counted->rules[0].text, "-A OUTPUT -p tcp -j X");
  EXPECT_EQ(counted->rules[1].packets, -1);
  const NatRule& r = t.rules[7];
  EXPECT_EQ(r.chain, "REMORA_OUTPUT");
  ASSERT_TRUE(r.destination);
  EXPECT_TRUE(r.destination->negated);
  ASSERT_TRUE(r.out_interface);
  EXPECT_EQ(r.out_interface->name, "lo");
  ASSERT_TRUE(r.owner);
  EXPECT_EQ(r.owner->id, 1337u);
  EXPECT_FALSE(r.owner->negated);
  EXPECT_TRUE(t.rules[8].owner->negated);
  EXPECT_TRUE(t.isUserChain("REMORA_REDIRECT"));
  EXPECT_FALSE(t.isUserChain("OUTPUT"));
}

TEST(NatTraceTest, AppCallToAServiceIsRedirectedTo15001) {
  NatTrace t = traceNat(table("istio_default"), "OUTPUT", outbound("10.96.0.20", 9080));
  ASSERT_EQ(t.verdict, NatTrace::Verdict::kRedirect) << t.note;
  EXPECT_EQ(t.redirect_port, 15001);
  EXPECT_EQ(path(t), (std::vector<std::string>{
                         "-A OUTPUT -p tcp -j REMORA_OUTPUT",
                         "-A REMORA_OUTPUT -j REMORA_REDIRECT",
                         "-A REMORA_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
                     }));
  // Every REMORA_OUTPUT rule before the last was looked at and said why not.
  ASSERT_GE(t.steps.size(), 9u);
  EXPECT_FALSE(t.steps[1].matched);
  EXPECT_EQ(t.steps[1].why_not, "leaves on eth0, rule wants lo");
  EXPECT_EQ(t.steps[3].why_not, "UID 0, rule wants 1337");
  EXPECT_EQ(t.steps[7].why_not, "destination 10.96.0.20 is not in 127.0.0.1/32");
}

TEST(NatTraceTest, TheProxysOwnTrafficIsNotCaptured) {
  NatTrace t = traceNat(table("istio_default"), "OUTPUT", outbound("10.244.0.21", 9080, 1337));
  EXPECT_EQ(t.verdict, NatTrace::Verdict::kAccept);
  EXPECT_EQ(path(t).back(), "-A REMORA_OUTPUT -m owner --uid-owner 1337 -j RETURN");
  // RETURN goes back to OUTPUT, whose policy lets it through.
  EXPECT_EQ(t.note, "end of OUTPUT: policy ACCEPT, address unchanged");
}

TEST(NatTraceTest, LocalhostAndTheAppsOwnPodIpStayUncaptured) {
  NatTrace local = traceNat(table("istio_default"), "OUTPUT", outbound("127.0.0.1", 9080));
  EXPECT_EQ(local.verdict, NatTrace::Verdict::kAccept);
  EXPECT_EQ(path(local).back(), "-A REMORA_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN");
  // The proxy calling its own pod IP over lo enters inbound (the seed's first rule).
  NatTrace hairpin =
      traceNat(table("istio_default"), "OUTPUT", outbound("10.244.0.11", 9080, 1337));
  EXPECT_EQ(hairpin.verdict, NatTrace::Verdict::kRedirect);
  EXPECT_EQ(hairpin.redirect_port, 15006);
}

TEST(NatTraceTest, InboundGoesTo15006ExceptExcludedPorts) {
  NatPacket p;
  p.source = ip("10.244.0.11");
  p.destination = ip("10.244.0.21");
  p.destination_port = 9080;
  p.in_interface = "eth0";
  NatTrace t = traceNat(table("istio_default"), "PREROUTING", p);
  EXPECT_EQ(t.verdict, NatTrace::Verdict::kRedirect);
  EXPECT_EQ(t.redirect_port, 15006);
  p.destination_port = 15090;
  NatTrace excluded = traceNat(table("istio_default"), "PREROUTING", p);
  EXPECT_EQ(excluded.verdict, NatTrace::Verdict::kAccept);
  EXPECT_EQ(path(excluded).back(), "-A REMORA_INBOUND -p tcp -m tcp --dport 15090 -j RETURN");
}

TEST(NatTraceTest, SeedLayoutCapturesOnlyPort9080InboundAnd15001ForAll) {
  NatPacket p;
  p.destination = ip("10.244.0.21");
  p.destination_port = 9080;
  p.in_interface = "eth0";
  NatTrace t = traceNat(table("seed"), "PREROUTING", p);
  EXPECT_EQ(t.verdict, NatTrace::Verdict::kRedirect);
  EXPECT_EQ(t.redirect_port, 15001);
  p.destination_port = 9090;
  NatTrace other = traceNat(table("seed"), "PREROUTING", p);
  EXPECT_EQ(other.verdict, NatTrace::Verdict::kAccept);
  EXPECT_EQ(other.note, "end of PREROUTING: policy ACCEPT, address unchanged");
}

TEST(NatTraceTest, StopsAtWhatItCannotEvaluate) {
  auto t = parseNatTable(
      "*nat\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n"
      "-A OUTPUT -p tcp -m multiport --dports 1,2 -j X\n"
      "-A OUTPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n");
  ASSERT_TRUE(t.ok()) << t.status().message();
  NatTrace trace = traceNat(*t, "OUTPUT", outbound("10.96.0.20", 9080));
  EXPECT_EQ(trace.verdict, NatTrace::Verdict::kUnknown);
  EXPECT_EQ(trace.note, "stopped at a rule with -m multiport, which explain cannot evaluate");
  auto dnat =
      parseNatTable("*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j DNAT --to-destination 1.2.3.4\n");
  ASSERT_TRUE(dnat.ok());
  EXPECT_EQ(traceNat(*dnat, "OUTPUT", outbound("10.96.0.20", 9080)).verdict,
            NatTrace::Verdict::kUnknown);
}

TEST(NatTraceTest, NegatedPortsWildcardInterfacesAndOtherTables) {
  auto t = parseNatTable(
      "*filter\n-A INPUT -j DROP\nCOMMIT\n"
      "*nat\n:OUTPUT ACCEPT [0:0]\n:R - [0:0]\n"
      "-A OUTPUT -o veth+ -j RETURN\n"
      "-A OUTPUT -p tcp -m tcp ! --dport 15008 -j R\n"
      "-A R -p tcp -j REDIRECT --to-ports 15001\nCOMMIT\n");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->rules.size(), 3u);  // the filter table is not read
  NatPacket p = outbound("10.96.0.20", 9080);
  EXPECT_EQ(traceNat(*t, "OUTPUT", p).verdict, NatTrace::Verdict::kRedirect);
  p.destination_port = 15008;
  NatTrace tunnel = traceNat(*t, "OUTPUT", p);
  EXPECT_EQ(tunnel.verdict, NatTrace::Verdict::kAccept);
  EXPECT_EQ(tunnel.steps[1].why_not, "port 15008, rule wants ! 15008");
  p.out_interface = "veth7";
  EXPECT_EQ(path(traceNat(*t, "OUTPUT", p)),
            std::vector<std::string>{"-A OUTPUT -o veth+ -j RETURN"});
}

TEST(NatTraceTest, RefusesRulesWithoutTargetsOrChains) {
  EXPECT_FALSE(parseNatTable("*nat\n-A OUTPUT -p tcp\n").ok());
  EXPECT_FALSE(parseNatTable("*nat\n-I OUTPUT -j X\n").ok());
  EXPECT_FALSE(parseNatTable("*nat\n-A OUTPUT -d not-an-ip -j RETURN\n").ok());
}

}  // namespace
}  // namespace remora::ctl
