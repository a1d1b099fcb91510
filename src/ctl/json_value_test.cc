#include "ctl/json_value.h"

#include <gtest/gtest.h>

namespace remora::ctl {
namespace {

JsonValue parseOk(std::string_view text) {
  auto v = JsonValue::parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : JsonValue();
}

TEST(JsonValueTest, KeepsKeyOrderAndNumberText) {
  JsonValue v = parseOk(R"({"z": 1, "a": [true, null, 1.50e3], "m": {"k": "v"}})");
  ASSERT_TRUE(v.isObject());
  ASSERT_EQ(v.members().size(), 3u);
  EXPECT_EQ(v.members()[0].first, "z");
  EXPECT_EQ(v.members()[1].first, "a");
  EXPECT_EQ(v.find("a")->items()[2].text(), "1.50e3");
  EXPECT_EQ(writeJson(v, 0), R"({"z":1,"a":[true,null,1.50e3],"m":{"k":"v"}})");
}

TEST(JsonValueTest, IndentsLikeGoMarshalIndent) {
  JsonValue v = parseOk(R"([{"name":"virtual","filterChains":[],"useOriginalDst":true,"x":{}}])");
  EXPECT_EQ(writeJson(v, 4),
            "[\n"
            "    {\n"
            "        \"name\": \"virtual\",\n"
            "        \"filterChains\": [],\n"
            "        \"useOriginalDst\": true,\n"
            "        \"x\": {}\n"
            "    }\n"
            "]");
}

TEST(JsonValueTest, DecodesAndReencodesEscapes) {
  JsonValue v = parseOk(R"("a\"b\\c\n\u00e9\ud83d\ude00\u0001/")");
  EXPECT_EQ(v.text(), "a\"b\\c\n\xC3\xA9\xF0\x9F\x98\x80\x01/");
  EXPECT_EQ(writeJson(v, 0), R"("a\"b\\c\n)"
                             "\xC3\xA9\xF0\x9F\x98\x80"
                             R"(\u0001/")");
}

TEST(JsonValueTest, RefusesMalformedInputWithItsOffset) {
  for (std::string_view bad : {"", "{", "{\"a\" 1}", "[1,]", "01", "1.", "tru", "\"\\x\"",
                               "\"unterminated", "{} {}", "[\"\x01\"]", "-"}) {
    auto v = JsonValue::parse(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_NE(v.status().message().find("JSON at byte"), std::string::npos);
    }
  }
}

TEST(JsonValueTest, RefusesDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  auto v = JsonValue::parse(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nested deeper"), std::string::npos);
  std::string ok(200, '[');
  ok += std::string(200, ']');
  EXPECT_TRUE(JsonValue::parse(ok).ok());
}

TEST(JsonValueTest, YamlBlockStyleLikeSigsK8sYaml) {
  JsonValue v = parseOk(
      R"([{"name":"0.0.0.0_9080","address":{"socketAddress":{"address":"0.0.0.0","portValue":9080}},
    "filterChains":[{"filters":[{"name":"hcm","typedConfig":{"routeConfigName":"9080"}}]}],
    "empty":[],"none":{}}])");
  EXPECT_EQ(writeYaml(v),
            "- name: 0.0.0.0_9080\n"
            "  address:\n"
            "    socketAddress:\n"
            "      address: 0.0.0.0\n"
            "      portValue: 9080\n"
            "  filterChains:\n"
            "  - filters:\n"
            "    - name: hcm\n"
            "      typedConfig:\n"
            "        routeConfigName: \"9080\"\n"
            "  empty: []\n"
            "  none: {}\n");
}

TEST(JsonValueTest, YamlQuotesStringsThatWouldReadBackAsSomethingElse) {
  JsonValue v = JsonValue::object();
  for (const char* s : {"9080", "1.5", "true", "No", "null", "~", "", "*", "- x", "a: b", "a #b",
                        "1_000", "0x1F", ".inf", "tab\there", "trailing "}) {
    v.add("k", JsonValue::string(s));
  }
  v.add("plain1", JsonValue::string("inbound|9080||reviews.default.svc.cluster.local"));
  v.add("plain2", JsonValue::string("/*"));
  v.add("plain3", JsonValue::string("10.96.0.20"));
  v.add("plain4", JsonValue::string("1s"));
  std::string y = writeYaml(v);
  EXPECT_EQ(y,
            "k: \"9080\"\nk: \"1.5\"\nk: \"true\"\nk: \"No\"\nk: \"null\"\nk: \"~\"\nk: \"\"\n"
            "k: \"*\"\nk: \"- x\"\nk: \"a: b\"\nk: \"a #b\"\nk: \"1_000\"\nk: \"0x1F\"\n"
            "k: \".inf\"\nk: \"tab\\there\"\nk: \"trailing \"\n"
            "plain1: inbound|9080||reviews.default.svc.cluster.local\n"
            "plain2: /*\n"
            "plain3: 10.96.0.20\n"
            "plain4: 1s\n");
}

TEST(JsonValueTest, YamlNestedSequences) {
  JsonValue v = parseOk(R"({"a":[[1,2],[{"b":"c","d":"e"}]]})");
  EXPECT_EQ(writeYaml(v),
            "a:\n"
            "- - 1\n"
            "  - 2\n"
            "- - b: c\n"
            "    d: e\n");
}

}  // namespace
}  // namespace remora::ctl
