#include "listener/filter_chain_matcher.h"

#include <gtest/gtest.h>

#include <string>

#include "config/parse.h"

namespace remora::listener {
namespace {

using envoy::config::listener::v3::Listener;
using Kind = ChainSelection::Kind;

// A listener whose chains are named c0, c1, ...; `chains` is the YAML list of
// filter_chain_match bodies (or "{}"), one per line.
Listener listenerWith(const std::vector<std::string>& matches, bool with_default = false) {
  std::string yaml = "name: test\nfilter_chains:\n";
  for (size_t i = 0; i < matches.size(); ++i) {
    yaml += "- name: c" + std::to_string(i) + "\n  filter_chain_match: " + matches[i] + "\n";
  }
  if (with_default) yaml += "default_filter_chain: { name: default }\n";
  Listener l;
  Status st = config::parseYamlOrJson(yaml, &l, "test.yaml");
  EXPECT_TRUE(st.ok()) << st.message();
  return l;
}

FilterChainMatcher matcherFor(const Listener& l) {
  auto m = FilterChainMatcher::create(l);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(*m);
}

ConnectionMatchInput conn(const char* destination, const char* source = "10.1.0.9:40000") {
  ConnectionMatchInput in;
  in.destination = *network::SocketAddress::parse(destination);
  in.source = *network::SocketAddress::parse(source);
  return in;
}

// Name of the chain chosen, "default" or "(close)".
std::string pick(const Listener& l, const ConnectionMatchInput& in) {
  ChainSelection s = matcherFor(l).match(in);
  const auto* chain = s.chain(l);
  if (chain == nullptr) return "(close)";
  return chain->name();
}

TEST(FilterChainMatcherTest, EmptyMatchTakesEverything) {
  Listener l = listenerWith({"{}"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:9080")), "c0");
  EXPECT_EQ(pick(l, conn("[fd00::1]:1")), "c0");
}

TEST(FilterChainMatcherTest, DestinationPortExactBeatsAny) {
  Listener l = listenerWith({"{}", "{ destination_port: 9080 }"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:9080")), "c1");
  EXPECT_EQ(pick(l, conn("10.0.0.5:9081")), "c0");
}

TEST(FilterChainMatcherTest, DestinationIpLongestPrefixWins) {
  Listener l = listenerWith({"{ prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }",
                             "{ prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 24 }] }",
                             "{}"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:80")), "c1");
  EXPECT_EQ(pick(l, conn("10.9.0.5:80")), "c0");
  EXPECT_EQ(pick(l, conn("192.168.1.1:80")), "c2");
}

TEST(FilterChainMatcherTest, ServerNameExactThenLongestWildcardThenAny) {
  Listener l = listenerWith({"{ server_names: [\"*.example.com\"], transport_protocol: tls }",
                             "{ server_names: [\"*.b.example.com\"], transport_protocol: tls }",
                             "{ server_names: [\"a.b.example.com\"], transport_protocol: tls }",
                             "{ transport_protocol: tls }"});
  auto tls = [](const char* sni) {
    ConnectionMatchInput in = conn("10.0.0.5:443");
    in.transport_protocol = "tls";
    in.server_name = sni;
    return in;
  };
  EXPECT_EQ(pick(l, tls("a.b.example.com")), "c2");
  EXPECT_EQ(pick(l, tls("A.B.Example.COM")), "c2");  // case-insensitive
  EXPECT_EQ(pick(l, tls("x.b.example.com")), "c1");
  EXPECT_EQ(pick(l, tls("x.example.com")), "c0");
  EXPECT_EQ(pick(l, tls("example.com")), "c3");  // "*.example.com" needs a label before it
  EXPECT_EQ(pick(l, tls("")), "c3");
}

TEST(FilterChainMatcherTest, TransportProtocolSplitsTlsFromPlaintext) {
  // The seed's inbound listener: one chain for tls, one for raw_buffer.
  Listener l = listenerWith({"{ transport_protocol: tls }", "{ transport_protocol: raw_buffer }"});
  ConnectionMatchInput in = conn("10.0.0.5:9080");
  EXPECT_EQ(pick(l, in), "c1");  // no inspector ran: raw_buffer
  in.transport_protocol = "tls";
  EXPECT_EQ(pick(l, in), "c0");
}

TEST(FilterChainMatcherTest, ApplicationProtocolsAnyOfTheClients) {
  Listener l = listenerWith({"{ application_protocols: [\"h2c\"] }",
                             "{ application_protocols: [\"http/1.0\", \"http/1.1\"] }", "{}"});
  ConnectionMatchInput in = conn("10.0.0.5:80");
  in.application_protocols = {"http/1.1"};
  EXPECT_EQ(pick(l, in), "c1");
  in.application_protocols = {"h2c"};
  EXPECT_EQ(pick(l, in), "c0");
  in.application_protocols = {"spdy/3", "h2c"};
  EXPECT_EQ(pick(l, in), "c0");
  in.application_protocols = {};
  EXPECT_EQ(pick(l, in), "c2");
}

TEST(FilterChainMatcherTest, DirectSourceIp) {
  Listener l = listenerWith(
      {"{ direct_source_prefix_ranges: [{ address_prefix: 10.1.0.0, prefix_len: 16 }] }", "{}"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.1.2.3:5000")), "c0");
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.2.2.3:5000")), "c1");
  ConnectionMatchInput proxied = conn("10.0.0.5:80", "10.2.2.3:5000");
  proxied.direct_source = *network::IpAddress::parse("10.1.9.9");  // a PROXY-protocol hop
  EXPECT_EQ(pick(l, proxied), "c0");
}

TEST(FilterChainMatcherTest, SourceTypeLocalOrExternal) {
  Listener l = listenerWith({"{ source_type: SAME_IP_OR_LOOPBACK }", "{ source_type: EXTERNAL }"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "127.0.0.1:5000")), "c0");
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.0.0.5:5000")), "c0");  // our own address
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.0.0.6:5000")), "c1");
}

TEST(FilterChainMatcherTest, SourceIpAndSourcePort) {
  Listener l = listenerWith({"{ source_prefix_ranges: [{ address_prefix: 10.1.0.0, prefix_len: 16 }], source_ports: [5000] }",
                             "{ source_prefix_ranges: [{ address_prefix: 10.1.0.0, prefix_len: 16 }] }",
                             "{}"});
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.1.2.3:5000")), "c0");
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.1.2.3:5001")), "c1");
  EXPECT_EQ(pick(l, conn("10.0.0.5:80", "10.7.2.3:5000")), "c2");
}

// Envoy's rule: each stage picks the most specific bucket that has chains and
// never comes back to try a less specific one when a later stage fails.
TEST(FilterChainMatcherTest, NoBacktrackingAfterAMoreSpecificStage) {
  Listener l = listenerWith({"{ destination_port: 9080, transport_protocol: tls }",
                             "{ transport_protocol: raw_buffer }"});
  // Port 9080 picks the c0 bucket; raw_buffer fails there. The port-any
  // bucket (c1) would match, but it is not tried: the connection closes.
  EXPECT_EQ(pick(l, conn("10.0.0.5:9080")), "(close)");
  EXPECT_EQ(pick(l, conn("10.0.0.5:9090")), "c1");
  // Same with destination IP: the /32 bucket wins and is never left.
  Listener ip = listenerWith(
      {"{ prefix_ranges: [{ address_prefix: 10.0.0.5, prefix_len: 32 }], server_names: [a.com] }",
       "{}"});
  EXPECT_EQ(pick(ip, conn("10.0.0.5:80")), "(close)");
  EXPECT_EQ(pick(ip, conn("10.0.0.6:80")), "c1");
}

TEST(FilterChainMatcherTest, NoMatchFallsToDefaultChainElseCloses) {
  Listener with_default = listenerWith({"{ destination_port: 9080 }"}, true);
  EXPECT_EQ(pick(with_default, conn("10.0.0.5:9080")), "c0");
  EXPECT_EQ(pick(with_default, conn("10.0.0.5:1")), "default");
  Listener without = listenerWith({"{ destination_port: 9080 }"});
  EXPECT_EQ(pick(without, conn("10.0.0.5:1")), "(close)");
  Listener only_default = listenerWith({}, true);
  EXPECT_EQ(pick(only_default, conn("10.0.0.5:1")), "default");
}

TEST(FilterChainMatcherTest, RefusesDuplicateMatchRules) {
  auto m = FilterChainMatcher::create(
      listenerWith({"{ destination_port: 80, server_names: [a.com, b.com] }",
                    "{ destination_port: 80, server_names: [b.com] }"}));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("filter_chains[1].filter_chain_match"), std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("multiple filter chains with the same matching rules"),
            std::string::npos);
  // An explicit 0.0.0.0/0 is the same bucket as no range at all.
  EXPECT_FALSE(FilterChainMatcher::create(
                   listenerWith({"{}", "{ prefix_ranges: [{ address_prefix: 0.0.0.0, prefix_len: 0 }] }"}))
                   .ok());
}

TEST(FilterChainMatcherTest, RefusesInvalidValuesWithTheirPath) {
  auto bad_port = FilterChainMatcher::create(listenerWith({"{ destination_port: 70000 }"}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("filter_chains[0].filter_chain_match.destination_port"),
            std::string::npos)
      << bad_port.status().message();
  auto bad_sni = FilterChainMatcher::create(listenerWith({"{ server_names: [\"a.*.com\"] }"}));
  ASSERT_FALSE(bad_sni.ok());
  EXPECT_NE(bad_sni.status().message().find("server_names[0]"), std::string::npos);
  auto bad_cidr = FilterChainMatcher::create(
      listenerWith({"{ prefix_ranges: [{ address_prefix: 10.0.0.300, prefix_len: 8 }] }"}));
  ASSERT_FALSE(bad_cidr.ok());
  EXPECT_NE(bad_cidr.status().message().find("prefix_ranges[0]"), std::string::npos);
}

TEST(FilterChainMatcherTest, ExplainNamesEachStageAndItsBucket) {
  Listener l = listenerWith({"{ destination_port: 9080, transport_protocol: tls }",
                             "{ destination_port: 9080, transport_protocol: raw_buffer }"});
  MatchExplanation e = matcherFor(l).explain(conn("10.0.0.5:9080"));
  EXPECT_EQ(e.selection, (ChainSelection{Kind::kChain, 1}));
  std::string text = e.toString();
  EXPECT_NE(text.find("destination port: 9080 -> bucket 9080"), std::string::npos) << text;
  EXPECT_NE(text.find("transport protocol: \"raw_buffer\" -> bucket raw_buffer"), std::string::npos)
      << text;
  EXPECT_NE(text.find("result: filter_chains[1]"), std::string::npos) << text;
}

}  // namespace
}  // namespace remora::listener
