#include "router/route_table.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <map>

#include "router/simple_request.h"

namespace remora::router {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using Outcome = RouteDecision::Outcome;
using ::testing::HasSubstr;

RouteConfiguration parseConfig(const std::string& text) {
  RouteConfiguration c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

std::shared_ptr<const RouteTable> compile(const std::string& text) {
  auto t = RouteTable::compile(parseConfig(text));
  EXPECT_TRUE(t.ok()) << t.status().toString();
  return t.ok() ? *t : nullptr;
}

Status compileError(const std::string& text) {
  auto t = RouteTable::compile(parseConfig(text));
  EXPECT_FALSE(t.ok());
  return t.status();
}

std::string vhostFor(const RouteTable& t, std::string_view host) {
  const VirtualHostEntry* vh = t.findVirtualHost(host);
  return vh ? vh->name : "<none>";
}

// One virtual host per domain, each with a catch-all route to a cluster named
// after it.
std::string domainsConfig(const std::vector<std::string>& domains, bool ignore_port = false) {
  std::string out = ignore_port ? "ignore_port_in_host_matching: true\n" : "";
  for (const auto& d : domains) {
    out += "virtual_hosts { name: '" + d + "' domains: '" + d +
           "' routes { match { prefix: '/' } route { cluster: 'c' } } }\n";
  }
  return out;
}

// --- virtual host selection ---

TEST(VirtualHostTest, DomainPrecedence) {
  auto t = compile(domainsConfig({"*", "foo.*", "*.com", "*.foo.com", "api.foo.com"}));
  EXPECT_EQ(vhostFor(*t, "api.foo.com"), "api.foo.com");
  EXPECT_EQ(vhostFor(*t, "www.foo.com"), "*.foo.com");
  EXPECT_EQ(vhostFor(*t, "www.bar.com"), "*.com");
  EXPECT_EQ(vhostFor(*t, "foo.org"), "foo.*");
  EXPECT_EQ(vhostFor(*t, "bar.org"), "*");
}

TEST(VirtualHostTest, SuffixBeatsPrefixAndLongestWildcardWins) {
  auto t = compile(domainsConfig({"foo.*", "*.com", "*-bar.foo.com", "*.foo.com", "foo.bar.*"}));
  EXPECT_EQ(vhostFor(*t, "foo.com"), "*.com");  // suffix before prefix
  EXPECT_EQ(vhostFor(*t, "x-bar.foo.com"), "*-bar.foo.com");
  EXPECT_EQ(vhostFor(*t, "x.foo.com"), "*.foo.com");
  EXPECT_EQ(vhostFor(*t, "foo.bar.org"), "foo.bar.*");
  EXPECT_EQ(vhostFor(*t, "foo.org"), "foo.*");
}

TEST(VirtualHostTest, WildcardMatchesAtLeastOneCharacter) {
  auto t = compile(domainsConfig({"*.foo.com", "foo.*"}));
  EXPECT_EQ(vhostFor(*t, ".foo.com"), "<none>");
  EXPECT_EQ(vhostFor(*t, "a.foo.com"), "*.foo.com");
  EXPECT_EQ(vhostFor(*t, "foo."), "<none>");
  EXPECT_EQ(vhostFor(*t, "foo.x"), "foo.*");
}

TEST(VirtualHostTest, CaseInsensitive) {
  auto t = compile(domainsConfig({"Reviews.Default", "*.Foo.com", "Bar.*"}));
  EXPECT_EQ(vhostFor(*t, "REVIEWS.default"), "Reviews.Default");
  EXPECT_EQ(vhostFor(*t, "A.FOO.COM"), "*.Foo.com");
  EXPECT_EQ(vhostFor(*t, "bar.ORG"), "Bar.*");
}

TEST(VirtualHostTest, PortIsPartOfTheMatch) {
  auto t = compile(domainsConfig({"ratings", "ratings:9080"}));
  EXPECT_EQ(vhostFor(*t, "ratings"), "ratings");
  EXPECT_EQ(vhostFor(*t, "ratings:9080"), "ratings:9080");
  EXPECT_EQ(vhostFor(*t, "ratings:8080"), "<none>");
  auto wild = compile(domainsConfig({"*.foo.com"}));
  EXPECT_EQ(vhostFor(*wild, "a.foo.com:80"), "<none>");
}

TEST(VirtualHostTest, IgnorePortInHostMatching) {
  auto t = compile(domainsConfig({"ratings", "*.foo.com", "[::1]"}, true));
  EXPECT_EQ(vhostFor(*t, "ratings:9080"), "ratings");
  EXPECT_EQ(vhostFor(*t, "a.foo.com:80"), "*.foo.com");
  EXPECT_EQ(vhostFor(*t, "[::1]:15001"), "[::1]");
}

TEST(VirtualHostTest, DuplicateDomainIsRefusedNamingBoth) {
  Status s = compileError(
      "virtual_hosts { name: 'a' domains: 'x.com' domains: 'y.com' routes { match { prefix: '/' } "
      "route { cluster: 'c' } } }\n"
      "virtual_hosts { name: 'b' domains: 'Y.COM' routes { match { prefix: '/' } route { cluster: "
      "'c' } } }");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("virtual_hosts[1].domains[0]"));
  EXPECT_THAT(s.message(), HasSubstr("duplicate domain \"y.com\""));
  EXPECT_THAT(s.message(), HasSubstr("\"a\" (virtual_hosts[0])"));
  EXPECT_THAT(s.message(), HasSubstr("\"b\" (virtual_hosts[1])"));
  EXPECT_THAT(compileError(domainsConfig({"*", "*"})).message(), HasSubstr("duplicate domain"));
}

TEST(VirtualHostTest, VirtualHostWithoutDomainsIsRefused) {
  EXPECT_THAT(compileError("virtual_hosts { name: 'a' }").message(), HasSubstr("no domains"));
}

TEST(VirtualHostTest, TenThousandHostsAreIndexedNotScanned) {
  std::vector<std::string> domains;
  for (int i = 0; i < 10000; ++i)
    domains.push_back("svc-" + std::to_string(i) + ".ns.svc");
  for (int i = 0; i < 100; ++i)
    domains.push_back("*.w" + std::to_string(i) + ".example.com");
  domains.push_back("*");
  auto t = compile(domainsConfig(domains));
  RouteTable::IndexStats s = t->indexStats();
  EXPECT_EQ(s.exact_domains, 10000u);
  // 100 suffix wildcards, but only two distinct lengths to probe.
  EXPECT_EQ(s.suffix_wildcard_lengths, 2u);
  DomainExplanation why;
  EXPECT_EQ(t->findVirtualHost("svc-9999.ns.svc", &why)->name, "svc-9999.ns.svc");
  EXPECT_EQ(why.hash_probes, 1u);
  EXPECT_EQ(t->findVirtualHost("a.w42.example.com", &why)->name, "*.w42.example.com");
  EXPECT_LE(why.hash_probes, 3u);
  EXPECT_EQ(t->findVirtualHost("nothing.at.all", &why)->name, "*");
  EXPECT_LE(why.hash_probes, 3u);
}

// --- route matching ---

constexpr const char* kRoutes = R"(
virtual_hosts {
  name: 'reviews'
  domains: '*'
  routes { name: 'login' match { path: '/login' } route { cluster: 'login' } }
  routes { name: 'jason' match { prefix: '/' headers { name: 'end-user' string_match { exact: 'jason' } } }
           route { cluster: 'v2' } }
  routes { name: 'debug' match { prefix: '/' query_parameters { name: 'debug' string_match { exact: 'on' } }
                                 headers { name: ':method' string_match { exact: 'POST' } } }
           route { cluster: 'debug' } }
  routes { name: 'api' match { prefix: '/API' case_sensitive { value: false } } route { cluster: 'api' } }
  routes { name: 'num' match { safe_regex { regex: '/item/[0-9]+' } } route { cluster: 'item' } }
  routes { name: 'sep' match { path_separated_prefix: '/docs' } route { cluster: 'docs' } }
  routes { name: 'grpc' match { prefix: '/pkg.Service/' grpc {} } route { cluster: 'grpc' } }
  routes { name: 'multi' match { prefix: '/m' headers { name: 'x-tag' string_match { exact: 'a,b' } } }
           route { cluster: 'multi' } }
}
)";

std::string clusterFor(const RouteTable& t, const SimpleRequest& r) {
  SeededRandom random(1);
  RouteDecision d = t.route(r, random);
  if (d.noRoute()) return "NR";
  return std::string(d.clusterName());
}

TEST(RouteMatchTest, FirstMatchWinsAndQueryIsNotPartOfThePath) {
  auto t = compile(kRoutes);
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/login")), "login");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/login?next=/x")), "login");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/login/")), "NR");
  // Both "login" and "jason" match: the first one wins.
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/login").header("end-user", "jason")), "login");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/anything").header("End-User", "jason")), "v2");
}

TEST(RouteMatchTest, CaseSensitivity) {
  auto t = compile(kRoutes);
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/Login")), "NR");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/api/x")), "api");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/Api/x")), "api");
}

TEST(RouteMatchTest, RegexAndPathSeparatedPrefix) {
  auto t = compile(kRoutes);
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/item/42?x=1")), "item");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/item/42/x")), "NR");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/docs")), "docs");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/docs/a")), "docs");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/docs?x")), "docs");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/docsa")), "NR");
}

TEST(RouteMatchTest, HeadersAndQueryParametersAreAnded) {
  auto t = compile(kRoutes);
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/x?debug=on", "POST")), "debug");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/x?debug=on", "GET")), "NR");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/x?debug=off", "POST")), "NR");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/x?a=1&debug=o%6E", "POST")), "debug");
}

TEST(RouteMatchTest, GrpcAndMultiValuedHeaders) {
  auto t = compile(kRoutes);
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/pkg.Service/Get")), "NR");
  EXPECT_EQ(
      clusterFor(
          *t,
          SimpleRequest("h", "/pkg.Service/Get").header("content-type", "application/grpc+proto")),
      "grpc");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/m").header("x-tag", "a").header("x-tag", "b")),
            "multi");
  EXPECT_EQ(clusterFor(*t, SimpleRequest("h", "/m").header("x-tag", "a")), "NR");
}

TEST(RouteMatchTest, IgnorePathParameters) {
  auto t = compile(
      "ignore_path_parameters_in_path_matching: true virtual_hosts { name: 'v' domains: '*' "
      "routes { match { path: '/a/b' } route { cluster: 'ab' prefix_rewrite: '/z' } } }");
  SeededRandom random(1);
  RouteDecision d = t->route(SimpleRequest("h", "/a;x=1/b;y?q=1"), random);
  ASSERT_TRUE(d.forwards());
  EXPECT_EQ(d.clusterName(), "ab");
  EXPECT_EQ(*d.path_rewrite, "/z?q=1");
}

TEST(RouteMatchTest, BadRegexNamesTheField) {
  Status s = compileError(
      "virtual_hosts { name: 'a' domains: 'a' routes { match { prefix: '/' } route { cluster: 'c' "
      "} } }\n"
      "virtual_hosts { name: 'b' domains: 'b' routes { match { safe_regex { regex: '/(x' } } route "
      "{ cluster: 'c' } } }");
  EXPECT_EQ(s.message().rfind("virtual_hosts[1].routes[0].match.safe_regex: invalid regex", 0), 0u)
      << s.message();
  Status h = compileError(
      "virtual_hosts { name: 'a' domains: 'a' routes { match { prefix: '/' headers { name: 'x' "
      "string_match { safe_regex { regex: '[' } } } } route { cluster: 'c' } } }");
  EXPECT_THAT(h.message(),
              HasSubstr("virtual_hosts[0].routes[0].match.headers[0].string_match.safe_regex:"));
}

TEST(RouteMatchTest, UnsupportedFieldsAreRefused) {
  auto route = [](const std::string& action) {
    return "virtual_hosts { name: 'a' domains: 'a' routes { match { prefix: '/' } " + action +
           " } }";
  };
  EXPECT_THAT(compileError(route("route { cluster: 'c' hash_policy { header { header_name: 'x' } "
                                 "} }"))
                  .message(),
              HasSubstr("routes[0].route.hash_policy: consistent hashing is not supported"));
  EXPECT_THAT(compileError(route("route { cluster: 'c' metadata_match {} }")).message(),
              HasSubstr("metadata_match"));
  EXPECT_THAT(
      compileError(route("direct_response { status: 200 body { filename: '/etc/passwd' } }"))
          .message(),
      HasSubstr("direct_response.body: only inline"));
  EXPECT_THAT(compileError(route("route { cluster: 'c' } request_headers_to_add { header { key: "
                                 "'x' value: '%DOWNSTREAM_REMOTE_ADDRESS%' } }"))
                  .message(),
              HasSubstr("formatters"));
  EXPECT_THAT(compileError(route("route { cluster: 'c' retry_policy { retry_on: '5xx,bogus' } }"))
                  .message(),
              HasSubstr("unknown condition \"bogus\""));
  EXPECT_THAT(compileError(route("route { cluster: 'c' } request_headers_to_add { header { key: "
                                 "':path' value: 'x' } }"))
                  .message(),
              HasSubstr("pseudo-header"));
  EXPECT_THAT(compileError(route("")).message(), HasSubstr("no action"));
  EXPECT_THAT(compileError(route("direct_response { status: 99 }")).message(),
              HasSubstr("not in [200, 599]"));
}

// --- weighted clusters ---

constexpr const char* kWeighted = R"(
virtual_hosts { name: 'v' domains: '*'
  routes { match { prefix: '/' } route { weighted_clusters {
    clusters { name: 'v1' weight { value: 75 } }
    clusters { name: 'v2' weight { value: 25 } }
    clusters { name: 'never' weight { value: 0 } } } } } }
)";

TEST(WeightedClusterTest, DeterministicWithSeededRandom) {
  auto t = compile(kWeighted);
  auto picks = [&](uint64_t seed) {
    SeededRandom random(seed);
    std::string out;
    for (int i = 0; i < 50; ++i)
      out += t->route(SimpleRequest("h", "/"), random).clusterName()[1];
    return out;
  };
  EXPECT_EQ(picks(7), picks(7));
  EXPECT_NE(picks(7), picks(8));
}

TEST(WeightedClusterTest, RoughlyProportional) {
  auto t = compile(kWeighted);
  SeededRandom random(42);
  std::map<std::string, int> counts;
  for (int i = 0; i < 10000; ++i) {
    ++counts[std::string(t->route(SimpleRequest("h", "/"), random).clusterName())];
  }
  EXPECT_NEAR(counts["v1"], 7500, 300);
  EXPECT_NEAR(counts["v2"], 2500, 300);
  EXPECT_EQ(counts["never"], 0);
}

TEST(WeightedClusterTest, RandomValueFromHeader) {
  auto t = compile(R"(virtual_hosts { name: 'v' domains: '*'
    routes { match { prefix: '/' } route { weighted_clusters { header_name: 'x-pick'
      clusters { name: 'a' weight { value: 10 } } clusters { name: 'b' weight { value: 10 } } } } } })");
  SeededRandom random(1);
  EXPECT_EQ(t->route(SimpleRequest("h", "/").header("x-pick", "3"), random).clusterName(), "a");
  EXPECT_EQ(t->route(SimpleRequest("h", "/").header("x-pick", "15"), random).clusterName(), "b");
  EXPECT_EQ(t->route(SimpleRequest("h", "/").header("x-pick", "23"), random).clusterName(), "a");
}

TEST(WeightedClusterTest, AllZeroWeightsAreRefused) {
  Status s = compileError(R"(virtual_hosts { name: 'v' domains: '*'
    routes { match { prefix: '/' } route { weighted_clusters {
      clusters { name: 'a' weight { value: 0 } } clusters { name: 'b' } } } } })");
  EXPECT_THAT(s.message(), HasSubstr("virtual_hosts[0].routes[0].route.weighted_clusters: the "
                                     "weights of all clusters are 0"));
}

// --- actions ---

RouteDecision routeOne(const std::string& action, const SimpleRequest& request,
                       const std::string& match = "prefix: '/'") {
  auto t = compile("virtual_hosts { name: 'v' domains: '*' routes { name: 'r' match { " + match +
                   " } " + action + " } }");
  static std::vector<std::shared_ptr<const RouteTable>> keep;  // decisions point into tables
  keep.push_back(t);
  SeededRandom random(1);
  return t->route(request, random);
}

std::string locationFor(const std::string& redirect, const SimpleRequest& request,
                        const std::string& match = "prefix: '/'") {
  RouteDecision d = routeOne("redirect { " + redirect + " }", request, match);
  EXPECT_EQ(d.outcome, Outcome::kRedirect);
  return d.location;
}

TEST(RedirectTest, LocationBuilding) {
  SimpleRequest req("example.com:80", "/a/b?x=1");
  EXPECT_EQ(locationFor("https_redirect: true", req), "https://example.com/a/b?x=1");
  EXPECT_EQ(locationFor("scheme_redirect: 'HTTPS' port_redirect: 8443", req),
            "https://example.com:8443/a/b?x=1");
  EXPECT_EQ(locationFor("host_redirect: 'new.com'", req), "http://new.com/a/b?x=1");
  EXPECT_EQ(locationFor("port_redirect: 8080", req), "http://example.com:8080/a/b?x=1");
  EXPECT_EQ(locationFor("path_redirect: '/c'", req), "http://example.com:80/c?x=1");
  EXPECT_EQ(locationFor("path_redirect: '/c?y=2'", req), "http://example.com:80/c?y=2");
  EXPECT_EQ(locationFor("path_redirect: '/c' strip_query: true", req), "http://example.com:80/c");
  EXPECT_EQ(locationFor("prefix_rewrite: '/new'", req, "prefix: '/a'"),
            "http://example.com:80/new/b?x=1");
  EXPECT_EQ(locationFor("regex_rewrite { pattern { regex: '^/a/(.*)$' } substitution: '/z/\\\\1' "
                        "}",
                        req),
            "http://example.com:80/z/b?x=1");
  // A non-default port survives the scheme change.
  EXPECT_EQ(locationFor("https_redirect: true", SimpleRequest("h:8080", "/")), "https://h:8080/");
  EXPECT_EQ(locationFor("scheme_redirect: 'http'", SimpleRequest("h:443", "/", "GET", "https")),
            "http://h/");
}

TEST(RedirectTest, StatusCodes) {
  SimpleRequest req("h", "/");
  EXPECT_EQ(routeOne("redirect { path_redirect: '/x' }", req).status, 301u);
  EXPECT_EQ(routeOne("redirect { response_code: FOUND }", req).status, 302u);
  EXPECT_EQ(routeOne("redirect { response_code: SEE_OTHER }", req).status, 303u);
  EXPECT_EQ(routeOne("redirect { response_code: TEMPORARY_REDIRECT }", req).status, 307u);
  EXPECT_EQ(routeOne("redirect { response_code: PERMANENT_REDIRECT }", req).status, 308u);
}

TEST(RedirectTest, RequireTls) {
  auto t = compile(
      "virtual_hosts { name: 'v' domains: '*' require_tls: ALL routes { match { prefix: '/' } "
      "route { cluster: 'c' } } }");
  SeededRandom random(1);
  RouteDecision d = t->route(SimpleRequest("h", "/x?y"), random);
  EXPECT_EQ(d.outcome, Outcome::kRedirect);
  EXPECT_EQ(d.location, "https://h/x?y");
  EXPECT_TRUE(t->route(SimpleRequest("h", "/x", "GET", "https"), random).forwards());
}

TEST(ActionTest, DirectResponse) {
  RouteDecision d = routeOne("direct_response { status: 503 body { inline_string: 'down' } }",
                             SimpleRequest("h", "/"));
  EXPECT_EQ(d.outcome, Outcome::kDirectResponse);
  EXPECT_EQ(d.status, 503u);
  EXPECT_EQ(d.body, "down");
  EXPECT_THAT(compileError("max_direct_response_body_size_bytes { value: 2 } virtual_hosts { name: "
                           "'v' domains: '*' routes { match { prefix: '/' } direct_response { "
                           "status: 200 body { inline_string: 'abc' } } } }")
                  .message(),
              HasSubstr("over max_direct_response_body_size_bytes 2"));
}

TEST(ActionTest, Rewrites) {
  SimpleRequest req("h", "/api/v1/users?id=7");
  RouteDecision d =
      routeOne("route { cluster: 'c' prefix_rewrite: '/' host_rewrite_literal: 'up' }", req,
               "prefix: '/api/'");
  EXPECT_EQ(*d.path_rewrite, "/v1/users?id=7");
  EXPECT_EQ(*d.host_rewrite, "up");
  d = routeOne(
      "route { cluster: 'c' regex_rewrite { pattern { regex: '/v([0-9]+)/' } substitution: "
      "'/version\\\\1/' } }",
      req);
  EXPECT_EQ(*d.path_rewrite, "/api/version1/users?id=7");
  d = routeOne("route { cluster: 'c' }", req);
  EXPECT_FALSE(d.path_rewrite.has_value());
  EXPECT_FALSE(d.host_rewrite.has_value());
  d = routeOne("route { cluster: 'c' prefix_rewrite: '/x' }", req, "path: '/api/v1/users'");
  EXPECT_EQ(*d.path_rewrite, "/x?id=7");
}

TEST(ActionTest, TimeoutsRetriesDecoratorAndNotFoundCode) {
  SimpleRequest req("h", "/");
  EXPECT_EQ(routeOne("route { cluster: 'c' }", req).route->cluster.timeout, Millis(15000));
  EXPECT_EQ(routeOne("route { cluster: 'c' timeout { } }", req).route->cluster.timeout, Millis(0));
  EXPECT_EQ(routeOne("route { cluster: 'c' timeout { seconds: 2 nanos: 500000000 } }", req)
                .route->cluster.timeout,
            Millis(2500));
  RouteDecision d = routeOne(
      "route { cluster: 'c' cluster_not_found_response_code: NOT_FOUND retry_policy { retry_on: "
      "'connect-failure, refused-stream,unavailable' num_retries { value: 2 } per_try_timeout { "
      "seconds: 1 } retriable_status_codes: 503 retry_host_predicate { name: "
      "'envoy.retry_host_predicates.previous_hosts' } host_selection_retry_max_attempts: 5 } } "
      "decorator { operation: 'reviews:9080/*' }",
      req);
  const ClusterAction& a = d.route->cluster;
  EXPECT_EQ(a.cluster_not_found_status, 404u);
  ASSERT_TRUE(a.retry_policy.has_value());
  EXPECT_THAT(a.retry_policy->conditions,
              ::testing::ElementsAre("connect-failure", "refused-stream", "unavailable"));
  EXPECT_EQ(a.retry_policy->num_retries, 2u);
  EXPECT_EQ(a.retry_policy->per_try_timeout, Millis(1000));
  EXPECT_THAT(a.retry_policy->retriable_status_codes, ::testing::ElementsAre(503u));
  EXPECT_EQ(a.retry_policy->host_selection_retry_max_attempts, 5);
  EXPECT_EQ(a.retry_policy->back_off_base, Millis(25));
  EXPECT_EQ(d.route->decorator_operation, "reviews:9080/*");
  EXPECT_EQ(d.route->name, "r");
  EXPECT_EQ(routeOne("route { cluster: 'c' }", req).route->cluster.cluster_not_found_status, 503u);
}

TEST(ActionTest, VirtualHostRetryPolicyIsTheDefault) {
  auto t = compile(R"(virtual_hosts { name: 'v' domains: '*' retry_policy { retry_on: '5xx' }
    routes { match { prefix: '/a' } route { cluster: 'c' } }
    routes { match { prefix: '/' } route { cluster: 'c' retry_policy { retry_on: 'reset' } } } })");
  SeededRandom random(1);
  EXPECT_EQ(t->route(SimpleRequest("h", "/a"), random).route->cluster.retry_policy->retry_on,
            "5xx");
  EXPECT_EQ(t->route(SimpleRequest("h", "/b"), random).route->cluster.retry_policy->retry_on,
            "reset");
}

TEST(ActionTest, ClusterHeader) {
  SimpleRequest req("h", "/");
  EXPECT_EQ(routeOne("route { cluster_header: 'X-Cluster' }", req).clusterName(), "");
  req.header("x-cluster", "dyn");
  EXPECT_EQ(routeOne("route { cluster_header: 'X-Cluster' }", req).clusterName(), "dyn");
}

// --- header mutations ---

constexpr const char* kHeaders = R"(
request_headers_to_add { header { key: 'x-level' value: 'config' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
request_headers_to_add { header { key: 'x-trail' value: 'config' } }
response_headers_to_add { header { key: 'x-resp' value: 'config' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
virtual_hosts { name: 'v' domains: '*'
  request_headers_to_add { header { key: 'x-level' value: 'vhost' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
  request_headers_to_add { header { key: 'x-trail' value: 'vhost' } }
  response_headers_to_add { header { key: 'x-resp' value: 'vhost' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
  routes { match { prefix: '/' }
    route { weighted_clusters { clusters { name: 'w' weight { value: 1 }
      request_headers_to_add { header { key: 'x-trail' value: 'cluster' } } } } }
    request_headers_to_add { header { key: 'x-level' value: 'route' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
    request_headers_to_add { header { key: 'x-trail' value: 'route' } }
    request_headers_to_add { header { key: 'x-absent' value: 'added' } append_action: ADD_IF_ABSENT }
    request_headers_to_add { header { key: 'x-present' value: 'kept?' } append_action: ADD_IF_ABSENT }
    request_headers_to_add { header { key: 'x-only-if' value: 'no' } append_action: OVERWRITE_IF_EXISTS }
    request_headers_to_add { header { key: 'x-replace' value: 'new' } append_action: OVERWRITE_IF_EXISTS }
    request_headers_to_add { header { key: 'x-gone' value: 'back' } }
    request_headers_to_add { header { key: 'x-empty' value: '' } }
    request_headers_to_add { header { key: 'x-kept-empty' value: '' } keep_empty_value: true }
    request_headers_to_add { header { key: 'x-legacy' value: 'new' } append { value: false } }
    request_headers_to_remove: 'x-gone'
    request_headers_to_remove: 'X-Secret'
    response_headers_to_add { header { key: 'x-resp' value: 'route' } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
  }
}
)";

TEST(HeaderMutationTest, LeastSpecificLevelWinsByDefault) {
  auto t = compile(kHeaders);
  SeededRandom random(1);
  SimpleRequest req("h", "/");
  req.header("x-present", "old").header("x-replace", "old").header("x-gone", "old");
  req.header("x-secret", "s").header("x-legacy", "old1").header("x-legacy", "old2");
  RouteDecision d = t->route(req, random);
  d.applyRequestHeaders(req);
  EXPECT_EQ(req.get("x-level"), "config");
  EXPECT_EQ(req.get("x-trail"), "cluster,route,vhost,config");
  EXPECT_EQ(req.get("x-absent"), "added");
  EXPECT_EQ(req.get("x-present"), "old");
  EXPECT_FALSE(req.has("x-only-if"));
  EXPECT_EQ(req.get("x-replace"), "new");
  EXPECT_EQ(req.get("x-gone"), "back");  // removed, then added: removal comes first
  EXPECT_FALSE(req.has("x-secret"));
  EXPECT_FALSE(req.has("x-empty"));
  EXPECT_TRUE(req.has("x-kept-empty"));
  EXPECT_EQ(req.get("x-legacy"), "new");
  SimpleRequest resp;
  d.applyResponseHeaders(resp);
  EXPECT_EQ(resp.get("x-resp"), "config");
}

TEST(HeaderMutationTest, MostSpecificWinsWhenAsked) {
  auto t = compile(std::string("most_specific_header_mutations_wins: true\n") + kHeaders);
  SeededRandom random(1);
  SimpleRequest req("h", "/");
  RouteDecision d = t->route(req, random);
  d.applyRequestHeaders(req);
  EXPECT_EQ(req.get("x-level"), "route");
  EXPECT_EQ(req.get("x-trail"), "config,vhost,route,cluster");
  SimpleRequest resp;
  d.applyResponseHeaders(resp);
  EXPECT_EQ(resp.get("x-resp"), "route");
}

// --- explain ---

TEST(ExplainTest, ReasonsForAMatch) {
  auto t = compile(kRoutes);
  SeededRandom random(1);
  Explanation e = t->explain(SimpleRequest("Reviews:9080", "/x?debug=on", "POST"), random);
  EXPECT_TRUE(e.domain.matched);
  EXPECT_EQ(e.domain.kind, DomainMatchKind::kAny);
  EXPECT_EQ(e.domain.virtual_host, "reviews");
  ASSERT_EQ(e.routes.size(), 3u);
  EXPECT_FALSE(e.routes[0].matched);
  EXPECT_THAT(e.routes[0].detail, HasSubstr("path \"/login\" did not match path \"/x\""));
  EXPECT_THAT(e.routes[1].detail, HasSubstr("header \"end-user\""));
  EXPECT_THAT(e.routes[1].detail, HasSubstr("header absent"));
  EXPECT_TRUE(e.routes[2].matched);
  EXPECT_EQ(e.routes[2].name, "debug");
  EXPECT_EQ(e.matched_field, "prefix");
  EXPECT_EQ(e.summary, "route 2 -> cluster \"debug\"");
  EXPECT_TRUE(e.response_flag.empty());
  EXPECT_THAT(e.toText(), HasSubstr("route 2 \"debug\": MATCH"));
}

TEST(ExplainTest, NoVirtualHostAndNoRoute) {
  auto t = compile(domainsConfig({"a.com", "*.b.com"}));
  SeededRandom random(1);
  Explanation e = t->explain(SimpleRequest("c.com", "/"), random);
  EXPECT_FALSE(e.domain.matched);
  EXPECT_EQ(e.decision.outcome, Outcome::kNoVirtualHost);
  EXPECT_EQ(e.decision.status, 404u);
  EXPECT_EQ(e.response_flag, "NR");
  EXPECT_THAT(e.summary, HasSubstr("no virtual host matches host \"c.com\""));

  Explanation s = t->explain(SimpleRequest("x.B.com", "/"), random);
  EXPECT_EQ(s.domain.kind, DomainMatchKind::kSuffixWildcard);
  EXPECT_EQ(s.domain.domain, "*.b.com");

  auto r = compile(kRoutes);
  Explanation n = r->explain(SimpleRequest("h", "/nothing/here"), random);
  EXPECT_EQ(n.decision.outcome, Outcome::kNoRoute);
  EXPECT_EQ(n.response_flag, "NR");
  EXPECT_EQ(n.routes.size(), 8u);
  EXPECT_THAT(n.summary, HasSubstr("404 NR"));
}

TEST(ExplainTest, SameDecisionAsRoute) {
  auto t = compile(kWeighted);
  SeededRandom a(5), b(5);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(t->route(SimpleRequest("h", "/"), a).clusterName(),
              t->explain(SimpleRequest("h", "/"), b).decision.clusterName());
  }
}

}  // namespace
}  // namespace remora::router
