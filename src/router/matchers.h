// Compiled forms of the Envoy v3 matchers a route uses: string, path, header
// and query parameter. Compiling validates once (regexes, required fields) so
// that matching on the request path cannot fail, only say yes or no.
// Every matcher can also describe itself for `remoractl explain`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"

namespace re2 {
class RE2;
}

namespace remora::router {

// A precompiled RE2, shared because compiled entries are copied into the
// immutable table.
using Regex = std::shared_ptr<const re2::RE2>;

// `field` is the config path of the matcher ("virtual_hosts[1].routes[0].match
// .safe_regex"); errors start with it.
StatusOr<Regex> compileRegex(const envoy::type::matcher::v3::RegexMatcher& config,
                             const std::string& field);
bool regexFullMatch(const re2::RE2& re, std::string_view value);

class StringMatch {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };

  static StatusOr<StringMatch> compile(const envoy::type::matcher::v3::StringMatcher& config,
                                       const std::string& field);
  static StringMatch literal(Kind kind, std::string value, bool ignore_case);
  static StringMatch regex(Regex re, std::string pattern);

  bool matches(std::string_view value) const;
  // e.g. `exact "v1"`, `prefix "/api" (ignore case)`, `regex "v[0-9]+"`.
  std::string describe() const;
  Kind kind() const { return kind_; }

 private:
  Kind kind_ = Kind::kExact;
  std::string value_;  // lowercase when ignore_case_; the pattern for kRegex
  bool ignore_case_ = false;
  Regex regex_;
};

// A route's path specifier, applied to the path without query or fragment.
struct PathMatch {
  enum class Kind { kPrefix, kPath, kSafeRegex, kPathSeparatedPrefix };

  static StatusOr<PathMatch> compile(const envoy::config::route::v3::RouteMatch& config,
                                     const std::string& field);
  bool matches(std::string_view path) const;
  // How many leading bytes of the path the specifier consumed: what
  // prefix_rewrite replaces. Whole path for exact and regex matches.
  size_t matchedLength(std::string_view path) const;
  std::string describe() const;

  Kind kind = Kind::kPrefix;
  std::string value;  // the configured prefix/path/regex pattern
  bool case_sensitive = true;
  Regex regex;
};

const char* pathMatchKindName(PathMatch::Kind kind);  // "prefix", "path", ...

struct HeaderMatch {
  enum class Kind { kString, kRange, kPresent };

  static StatusOr<HeaderMatch> compile(const envoy::config::route::v3::HeaderMatcher& config,
                                       const std::string& field);
  // `value` is the header's value (several values joined by ","), or nullopt
  // when the request lacks the header.
  bool matches(std::optional<std::string_view> value) const;
  std::string describe() const;

  std::string name;  // lowercase
  Kind kind = Kind::kPresent;
  std::optional<StringMatch> string;
  int64_t range_start = 0;  // inclusive
  int64_t range_end = 0;    // exclusive
  bool present = true;
  bool invert = false;
  bool treat_missing_as_empty = false;
};

struct QueryParamMatch {
  static StatusOr<QueryParamMatch> compile(
      const envoy::config::route::v3::QueryParameterMatcher& config, const std::string& field);
  // `first_value` is the first value of the parameter, nullopt when absent.
  bool matches(std::optional<std::string_view> first_value) const;
  std::string describe() const;

  std::string name;
  std::optional<StringMatch> string;  // unset: presence is enough
};

// The query string of a request target, split and percent-decoded. Parsed
// only when a route has query parameter matchers.
class QueryParams {
 public:
  static QueryParams parse(std::string_view path_with_query);
  std::optional<std::string_view> first(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// "/a/b?x#f" -> "/a/b".
std::string_view pathWithoutQuery(std::string_view path);
// "%2F" -> "/"; malformed escapes are kept as they are.
std::string percentDecode(std::string_view s);

}  // namespace remora::router
