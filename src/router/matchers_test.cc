#include "router/matchers.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "router/route_table.h"

namespace remora::router {
namespace {

template <typename T>
T parse(const std::string& text) {
  T msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &msg)) << text;
  return msg;
}

StringMatch stringMatch(const std::string& text) {
  auto m = StringMatch::compile(parse<envoy::type::matcher::v3::StringMatcher>(text), "m");
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return *m;
}

HeaderMatch headerMatch(const std::string& text) {
  auto m = HeaderMatch::compile(parse<envoy::config::route::v3::HeaderMatcher>(text), "h");
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return *m;
}

PathMatch pathMatch(const std::string& text) {
  auto m = PathMatch::compile(parse<envoy::config::route::v3::RouteMatch>(text), "match");
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return *m;
}

TEST(StringMatchTest, LiteralKindsAndIgnoreCase) {
  EXPECT_TRUE(stringMatch("exact: 'v1'").matches("v1"));
  EXPECT_FALSE(stringMatch("exact: 'v1'").matches("V1"));
  EXPECT_TRUE(stringMatch("exact: 'v1' ignore_case: true").matches("V1"));
  EXPECT_TRUE(stringMatch("prefix: 'Mozilla'").matches("Mozilla/5.0"));
  EXPECT_FALSE(stringMatch("prefix: 'Mozilla'").matches("mozilla/5.0"));
  EXPECT_TRUE(stringMatch("prefix: 'Mozilla' ignore_case: true").matches("mozilla/5.0"));
  EXPECT_TRUE(stringMatch("suffix: '.json'").matches("a.json"));
  EXPECT_TRUE(stringMatch("suffix: '.JSON' ignore_case: true").matches("a.json"));
  EXPECT_TRUE(stringMatch("contains: 'bot'").matches("googlebot/2"));
  EXPECT_TRUE(stringMatch("contains: 'BOT' ignore_case: true").matches("GoogleBot/2"));
  EXPECT_FALSE(stringMatch("contains: 'bot'").matches("human"));
}

TEST(StringMatchTest, RegexIsAFullMatch) {
  StringMatch m = stringMatch("safe_regex { regex: 'v[0-9]+' }");
  EXPECT_TRUE(m.matches("v12"));
  EXPECT_FALSE(m.matches("xv12"));
  EXPECT_FALSE(m.matches("v12x"));
  EXPECT_EQ(m.describe(), "regex \"v[0-9]+\"");
}

TEST(StringMatchTest, InvalidConfigIsRefused) {
  using envoy::type::matcher::v3::StringMatcher;
  EXPECT_FALSE(StringMatch::compile(parse<StringMatcher>("prefix: ''"), "m").ok());
  EXPECT_FALSE(StringMatch::compile(parse<StringMatcher>("ignore_case: true"), "m").ok());
  auto bad = StringMatch::compile(parse<StringMatcher>("safe_regex { regex: '(' }"), "x.y");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("x.y.safe_regex: invalid regex \"(\"", 0), 0u)
      << bad.status().message();
}

TEST(PathMatchTest, Prefix) {
  PathMatch m = pathMatch("prefix: '/api'");
  EXPECT_TRUE(m.matches("/api"));
  EXPECT_TRUE(m.matches("/api/v1"));
  EXPECT_TRUE(m.matches("/apix"));
  EXPECT_FALSE(m.matches("/API"));
  EXPECT_EQ(m.matchedLength("/api/v1"), 4u);
}

TEST(PathMatchTest, ExactPath) {
  PathMatch m = pathMatch("path: '/login'");
  EXPECT_TRUE(m.matches("/login"));
  EXPECT_FALSE(m.matches("/login/"));
  EXPECT_FALSE(m.matches("/Login"));
}

TEST(PathMatchTest, CaseInsensitive) {
  EXPECT_TRUE(pathMatch("prefix: '/api' case_sensitive { value: false }").matches("/API/x"));
  EXPECT_TRUE(pathMatch("path: '/login' case_sensitive { value: false }").matches("/LOGIN"));
  EXPECT_FALSE(pathMatch("prefix: '/api' case_sensitive { value: true }").matches("/API/x"));
}

TEST(PathMatchTest, SafeRegexIsFullMatchAndIgnoresCaseFlag) {
  PathMatch m = pathMatch("safe_regex { regex: '/v[0-9]+/.*' } case_sensitive { value: false }");
  EXPECT_TRUE(m.matches("/v1/users"));
  EXPECT_FALSE(m.matches("/V1/users"));
  EXPECT_FALSE(m.matches("/x/v1/users"));
}

TEST(PathMatchTest, PathSeparatedPrefix) {
  PathMatch m = pathMatch("path_separated_prefix: '/api'");
  EXPECT_TRUE(m.matches("/api"));
  EXPECT_TRUE(m.matches("/api/v1"));
  EXPECT_FALSE(m.matches("/apix"));
  using envoy::config::route::v3::RouteMatch;
  EXPECT_FALSE(PathMatch::compile(parse<RouteMatch>("path_separated_prefix: '/api/'"), "m").ok());
  EXPECT_FALSE(PathMatch::compile(parse<RouteMatch>("path_separated_prefix: '/a?b'"), "m").ok());
  EXPECT_FALSE(PathMatch::compile(parse<RouteMatch>(""), "m").ok());
}

TEST(HeaderMatchTest, StringMatchAndDeprecatedForms) {
  EXPECT_TRUE(headerMatch("name: 'X-User' string_match { exact: 'jason' }").matches("jason"));
  EXPECT_EQ(headerMatch("name: 'X-User' exact_match: 'a'").name, "x-user");
  EXPECT_TRUE(headerMatch("name: 'x' exact_match: 'a'").matches("a"));
  EXPECT_TRUE(headerMatch("name: 'x' prefix_match: 'ab'").matches("abc"));
  EXPECT_TRUE(headerMatch("name: 'x' suffix_match: 'bc'").matches("abc"));
  EXPECT_TRUE(headerMatch("name: 'x' contains_match: 'b'").matches("abc"));
  EXPECT_TRUE(headerMatch("name: 'x' safe_regex_match { regex: 'a.c' }").matches("abc"));
  EXPECT_FALSE(headerMatch("name: 'x' safe_regex_match { regex: 'a.c' }").matches("abcd"));
  EXPECT_TRUE(
      headerMatch("name: 'x' string_match { exact: 'ABC' ignore_case: true }").matches("abc"));
}

TEST(HeaderMatchTest, AbsentHeader) {
  // A value matcher never matches an absent header, inverted or not.
  EXPECT_FALSE(headerMatch("name: 'x' string_match { exact: 'a' }").matches(std::nullopt));
  EXPECT_FALSE(headerMatch("name: 'x' string_match { exact: 'a' } invert_match: true")
                   .matches(std::nullopt));
  // Unless missing counts as empty.
  EXPECT_TRUE(headerMatch("name: 'x' string_match { exact: 'a' } invert_match: true "
                          "treat_missing_header_as_empty: true")
                  .matches(std::nullopt));
  EXPECT_TRUE(
      headerMatch("name: 'x' string_match { exact: '' } treat_missing_header_as_empty: true")
          .matches(std::nullopt));
}

TEST(HeaderMatchTest, PresentAndInvert) {
  HeaderMatch present = headerMatch("name: 'x' present_match: true");
  EXPECT_TRUE(present.matches("anything"));
  EXPECT_FALSE(present.matches(std::nullopt));
  HeaderMatch absent = headerMatch("name: 'x' present_match: false");
  EXPECT_FALSE(absent.matches("anything"));
  EXPECT_TRUE(absent.matches(std::nullopt));
  HeaderMatch not_present = headerMatch("name: 'x' present_match: true invert_match: true");
  EXPECT_FALSE(not_present.matches("v"));
  EXPECT_TRUE(not_present.matches(std::nullopt));
  HeaderMatch no_specifier = headerMatch("name: 'x'");
  EXPECT_TRUE(no_specifier.matches("v"));
  EXPECT_FALSE(no_specifier.matches(std::nullopt));
  HeaderMatch inverted = headerMatch("name: 'x' string_match { exact: 'a' } invert_match: true");
  EXPECT_FALSE(inverted.matches("a"));
  EXPECT_TRUE(inverted.matches("b"));
}

TEST(HeaderMatchTest, Range) {
  HeaderMatch m = headerMatch("name: 'x' range_match { start: -10 end: 0 }");
  EXPECT_TRUE(m.matches("-10"));
  EXPECT_TRUE(m.matches("-1"));
  EXPECT_FALSE(m.matches("0"));
  EXPECT_FALSE(m.matches("abc"));
  EXPECT_FALSE(m.matches("-1x"));
  EXPECT_FALSE(m.matches(""));
  HeaderMatch inv = headerMatch("name: 'x' range_match { start: -10 end: 0 } invert_match: true");
  EXPECT_FALSE(inv.matches("-1"));
  EXPECT_TRUE(inv.matches("5"));
  EXPECT_FALSE(HeaderMatch::compile(parse<envoy::config::route::v3::HeaderMatcher>(
                                        "name: 'x' range_match { start: 5 end: 5 }"),
                                    "h")
                   .ok());
}

TEST(QueryParamMatchTest, StringAndPresence) {
  using envoy::config::route::v3::QueryParameterMatcher;
  auto m = QueryParamMatch::compile(
      parse<QueryParameterMatcher>("name: 'debug' string_match { exact: 'on' }"), "q");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->matches("on"));
  EXPECT_FALSE(m->matches("off"));
  EXPECT_FALSE(m->matches(std::nullopt));
  auto p = QueryParamMatch::compile(
      parse<QueryParameterMatcher>("name: 'debug' present_match: true"), "q");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->matches(""));
  EXPECT_FALSE(p->matches(std::nullopt));
}

TEST(QueryParamsTest, ParseDecodeFirstWins) {
  QueryParams q = QueryParams::parse("/p?a=1&b=x%20y&a=2&flag&c=%zz#frag");
  EXPECT_EQ(q.first("a"), "1");
  EXPECT_EQ(q.first("b"), "x y");
  EXPECT_EQ(q.first("flag"), "");
  EXPECT_EQ(q.first("c"), "%zz");
  EXPECT_FALSE(q.first("frag").has_value());
  EXPECT_FALSE(QueryParams::parse("/p").first("a").has_value());
}

TEST(PathHelpersTest, PathWithoutQueryAndStripPort) {
  EXPECT_EQ(pathWithoutQuery("/a/b?x=1"), "/a/b");
  EXPECT_EQ(pathWithoutQuery("/a#f"), "/a");
  EXPECT_EQ(stripPortFromHost("host:80"), "host");
  EXPECT_EQ(stripPortFromHost("host"), "host");
  EXPECT_EQ(stripPortFromHost("[::1]:80"), "[::1]");
  EXPECT_EQ(stripPortFromHost("[::1]"), "[::1]");
  EXPECT_EQ(stripPortFromHost("::1"), "::1");
  EXPECT_EQ(stripPortFromHost("host:abc"), "host:abc");
}

}  // namespace
}  // namespace remora::router
