#include "config/parse.h"

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/api_types.h"
#include "config/filters.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "support/paths.h"

namespace remora::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;
using ::testing::HasSubstr;

TEST(ParseTest, AcceptsOriginalAndCamelCaseNames) {
  Cluster c;
  ASSERT_TRUE(parseYamlOrJson(R"(
name: a
connectTimeout: 0.250s
lb_policy: LEAST_REQUEST
perConnectionBufferLimitBytes: 32768
)",
                              &c, "t.yaml")
                  .ok());
  EXPECT_EQ(c.name(), "a");
  EXPECT_EQ(c.connect_timeout().seconds(), 0);
  EXPECT_EQ(c.connect_timeout().nanos(), 250000000);
  EXPECT_EQ(c.lb_policy(), Cluster::LEAST_REQUEST);
  EXPECT_EQ(c.per_connection_buffer_limit_bytes().value(), 32768u);
}

TEST(ParseTest, ResolvesAnyByTypeUrl) {
  Listener l;
  Status s = parseYamlOrJson(R"(
name: l
filter_chains:
- filters:
  - name: envoy.filters.network.tcp_proxy
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
      stat_prefix: tcp
      cluster: backend
      idle_timeout: 30s
)",
                             &l, "t.yaml");
  ASSERT_TRUE(s.ok()) << s.toString();
  auto tp = unpackTcpProxy(l.filter_chains(0).filters(0));
  ASSERT_TRUE(tp.ok());
  EXPECT_EQ(tp->cluster(), "backend");
  EXPECT_EQ(tp->idle_timeout().seconds(), 30);
}

TEST(ParseTest, UnknownFieldInsideAnyNamesPath) {
  Bootstrap b;
  Status s = parseYamlOrJson(R"(
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          clustr: backend
)",
                             &b, "envoy.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(),
              HasSubstr("envoy.yaml:11:11: static_resources.listeners[0].filter_chains[0]."
                        "filters[0].typed_config: unknown field \"clustr\" (did you mean "
                        "\"cluster\"?)"));
}

TEST(ParseTest, PlainScalarsAreTypedQuotedAreStrings) {
  Cluster c;
  // An unquoted number for a string field is refused with a hint.
  Status s = parseYamlOrJson("name: 9080\n", &c, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("name: expected a string, got 9080 (put it in quotes)"));
  ASSERT_TRUE(parseYamlOrJson("name: \"9080\"\n", &c, "t.yaml").ok());
  EXPECT_EQ(c.name(), "9080");
  // A quoted number is fine for an integer field (protobuf's JSON mapping).
  ASSERT_TRUE(parseYamlOrJson("per_connection_buffer_limit_bytes: '1024'\n", &c, "t.yaml").ok());
  EXPECT_EQ(c.per_connection_buffer_limit_bytes().value(), 1024u);
  // Hex is a YAML 1.2 integer.
  ASSERT_TRUE(parseYamlOrJson("per_connection_buffer_limit_bytes: 0x400\n", &c, "t.yaml").ok());
  EXPECT_EQ(c.per_connection_buffer_limit_bytes().value(), 1024u);
  // null leaves the field unset.
  ASSERT_TRUE(parseYamlOrJson("name: x\nconnect_timeout: ~\n", &c, "t.yaml").ok());
  EXPECT_FALSE(c.has_connect_timeout());
}

TEST(ParseTest, WrongTypesAndRanges) {
  struct Case {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"admin: {address: {socket_address: {address: 1.2.3.4, port_value: abc}}}",
       "admin.address.socket_address.port_value: expected a number, got \"abc\""},
      {"admin: {address: {socket_address: {address: 1.2.3.4, port_value: 1.5}}}",
       "port_value: expected an integer, got 1.5"},
      {"admin: {address: {socket_address: {address: 1.2.3.4, port_value: 5000000000}}}",
       "port_value: value 5000000000 is out of range for uint32"},
      {"admin: {address: {socket_address: {address: 1.2.3.4, port_value: -1}}}",
       "port_value: value -1 is out of range for uint32"},
      {"static_resources: {clusters: [{name: a, connect_timeout: 5 seconds}]}",
       "static_resources.clusters[0].connect_timeout: invalid duration \"5 seconds\""},
      {"static_resources: {clusters: [{name: a, connect_timeout: 5}]}",
       "connect_timeout: invalid duration 5"},
      {"static_resources: {clusters: [{name: a, type: STATC}]}",
       "static_resources.clusters[0].type: unknown value \"STATC\" for DiscoveryType (valid: "
       "STATIC"},
      {"static_resources: {listeners: [{name: a, use_original_dst: yes}]}",
       "use_original_dst: expected true or false, got \"yes\""},
      {"static_resources: {listeners: {name: a}}",
       "static_resources.listeners: expected a list, got an object"},
      {"static_resources: [1]", "static_resources: expected an object, got a list"},
      {"static_resources: {listeners: [{filter_chains: [{filters: [{typed_config: {stat_prefix: "
       "x}}]}]}]}",
       "filters[0].typed_config: missing \"@type\""},
      {"static_resources: {listeners: [{filter_chains: [{filters: [{typed_config: {'@type': "
       "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy}}]}]}]}",
       "typed_config: unknown type "
       "\"type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy\""},
      {"static_resources: {listeners: [{filter_chains: [{filters: [{typed_config: {'@type': "
       "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}}]}]}]}",
       "typed_config: invalid @type \"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\""},
      {"static_resources: {listeners: [{name: a, address: {socket_address: {port_value: 1}, "
       "pipe: {path: /x}}}]}",
       "static_resources.listeners[0].address: only one of \"socket_address\" and \"pipe\" may be "
       "set"},
      {"node: {id: a, id: b}", "t.yaml:1:15: duplicate key \"id\""},
      {"node: {id: a, ID: b}", "node: unknown field \"ID\" (did you mean \"id\"?)"},
      {"node: {id: a, cluster: b}\nnode: {id: c}", "duplicate key \"node\""},
  };
  for (const auto& c : cases) {
    Bootstrap b;
    Status s = parseYamlOrJson(c.yaml, &b, "t.yaml");
    EXPECT_FALSE(s.ok()) << c.yaml;
    EXPECT_THAT(s.message(), HasSubstr(c.error)) << c.yaml;
  }
}

TEST(ParseTest, SyntaxErrorNamesFileLineColumn) {
  Bootstrap b;
  Status s = parseYamlOrJson("node:\n  id: a\n  cluster: [b\n", &b, "/etc/envoy.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/etc/envoy.yaml:"));
  EXPECT_THAT(s.message(), HasSubstr("syntax error"));
  s = parseYamlOrJson("{\"node\": {\"id\": \"a\",}}", &b, "x.json");
  // yaml-cpp accepts a trailing comma in flow style; JSON users get the same result.
  EXPECT_TRUE(s.ok()) << s.toString();
  s = parseYamlOrJson("{\"node\": {\"id\" \"a\"}}", &b, "x.json");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("x.json:1:"));
}

TEST(ParseTest, TopLevelMustBeAnObject) {
  Bootstrap b;
  Status s = parseYamlOrJson("- a\n- b\n", &b, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:1:1: expected an object, got a list"));
  EXPECT_TRUE(parseYamlOrJson("", &b, "t.yaml").ok());
}

TEST(ParseTest, JsonForm) {
  Bootstrap b;
  Status s = parseYamlOrJson(R"({
  "node": {"id": "sidecar~10.0.0.1~a.default~default.svc.cluster.local", "metadata": {"n": 1, "l": [true, null], "s": "x"}},
  "staticResources": {"clusters": [{"name": "c", "connectTimeout": "1s", "type": "STATIC"}]}
})",
                             &b, "b.json");
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(b.static_resources().clusters(0).name(), "c");
  EXPECT_EQ(b.node().metadata().fields().at("n").number_value(), 1);
  EXPECT_EQ(b.node().metadata().fields().at("s").string_value(), "x");
}

TEST(ParseTest, ReportsSeveralErrors) {
  Cluster c;
  Status s = parseYamlOrJson("nam: a\nconnect_timeout: x\ntype: 7\n", &c, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:1:1: unknown field \"nam\""));
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:2:18: connect_timeout: invalid duration \"x\""));
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:3:7: type: unknown value 7"));
}

TEST(ParseTest, DeepNestingIsRefused) {
  std::string deep = "node: {metadata: {a: ";
  for (int i = 0; i < 200; ++i)
    deep += "[";
  for (int i = 0; i < 200; ++i)
    deep += "]";
  deep += "}}";
  Bootstrap b;
  Status s = parseYamlOrJson(deep, &b, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("nesting deeper than"));
}

// Every .proto under api/ (but the gRPC-only ads.proto) must be reachable in the
// generated pool, or an Any naming one of its types would fail to resolve.
TEST(ParseTest, EveryApiFileIsLinked) {
  std::vector<std::string> linked = linkedApiFiles();
  std::filesystem::path api = std::filesystem::path(test::sourceDir()) / "api";
  int count = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(api)) {
    if (e.path().extension() != ".proto" || e.path().filename() == "ads.proto") continue;
    std::string rel = std::filesystem::relative(e.path(), api).string();
    EXPECT_NE(std::find(linked.begin(), linked.end(), rel), linked.end())
        << rel << " is missing from api_types.cc";
    ++count;
  }
  EXPECT_GT(count, 10);
}

}  // namespace
}  // namespace remora::config
