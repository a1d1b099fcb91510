#include "router/matchers.h"

#include <re2/re2.h>

#include <charconv>

#include "router/ascii.h"

namespace remora::router {

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

}  // namespace

StatusOr<Regex> compileRegex(const envoy::type::matcher::v3::RegexMatcher& config,
                             const std::string& field) {
  if (config.regex().empty()) return invalidArgumentError(field + ": empty regex");
  RE2::Options options;
  options.set_log_errors(false);  // the error travels in the Status instead
  auto re = std::make_shared<const RE2>(config.regex(), options);
  if (!re->ok()) {
    return invalidArgumentError(field + ": invalid regex " + quoted(config.regex()) + ": " +
                                re->error());
  }
  return Regex(std::move(re));
}

bool regexFullMatch(const re2::RE2& re, std::string_view value) {
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

StatusOr<StringMatch> StringMatch::compile(const envoy::type::matcher::v3::StringMatcher& config,
                                           const std::string& field) {
  using M = envoy::type::matcher::v3::StringMatcher;
  const bool ic = config.ignore_case();
  switch (config.match_pattern_case()) {
    case M::kExact:
      return literal(Kind::kExact, config.exact(), ic);
    case M::kPrefix:
      if (config.prefix().empty())
        return invalidArgumentError(field + ".prefix: must not be empty");
      return literal(Kind::kPrefix, config.prefix(), ic);
    case M::kSuffix:
      if (config.suffix().empty())
        return invalidArgumentError(field + ".suffix: must not be empty");
      return literal(Kind::kSuffix, config.suffix(), ic);
    case M::kContains:
      if (config.contains().empty()) {
        return invalidArgumentError(field + ".contains: must not be empty");
      }
      return literal(Kind::kContains, config.contains(), ic);
    case M::kSafeRegex: {
      // Envoy documents ignore_case as having no effect on regexes; so here.
      REMORA_ASSIGN_OR_RETURN(Regex re, compileRegex(config.safe_regex(), field + ".safe_regex"));
      return regex(std::move(re), config.safe_regex().regex());
    }
    case M::MATCH_PATTERN_NOT_SET:
      break;
  }
  return invalidArgumentError(field +
                              ": no match pattern (exact, prefix, suffix, contains or "
                              "safe_regex) is set");
}

StringMatch StringMatch::literal(Kind kind, std::string value, bool ignore_case) {
  StringMatch m;
  m.kind_ = kind;
  m.ignore_case_ = ignore_case;
  m.value_ = ignore_case ? toLowerAscii(value) : std::move(value);
  return m;
}

StringMatch StringMatch::regex(Regex re, std::string pattern) {
  StringMatch m;
  m.kind_ = Kind::kRegex;
  m.value_ = std::move(pattern);
  m.regex_ = std::move(re);
  return m;
}

bool StringMatch::matches(std::string_view v) const {
  switch (kind_) {
    case Kind::kExact:
      return ignore_case_ ? equalsIgnoreCase(v, value_) : v == value_;
    case Kind::kPrefix:
      return ignore_case_ ? startsWithIgnoreCase(v, value_) : v.starts_with(value_);
    case Kind::kSuffix:
      return ignore_case_ ? endsWithIgnoreCase(v, value_) : v.ends_with(value_);
    case Kind::kContains:
      return ignore_case_ ? containsIgnoreCase(v, value_)
                          : v.find(value_) != std::string_view::npos;
    case Kind::kRegex:
      return regexFullMatch(*regex_, v);
  }
  return false;
}

std::string StringMatch::describe() const {
  static const char* const kNames[] = {"exact", "prefix", "suffix", "contains", "regex"};
  std::string out = kNames[static_cast<int>(kind_)];
  out += ' ';
  out += quoted(value_);
  if (ignore_case_) out += " (ignore case)";
  return out;
}

StatusOr<PathMatch> PathMatch::compile(const envoy::config::route::v3::RouteMatch& config,
                                       const std::string& field) {
  using M = envoy::config::route::v3::RouteMatch;
  PathMatch m;
  m.case_sensitive = !config.has_case_sensitive() || config.case_sensitive().value();
  switch (config.path_specifier_case()) {
    case M::kPrefix:
      m.kind = Kind::kPrefix;
      m.value = config.prefix();
      return m;
    case M::kPath:
      m.kind = Kind::kPath;
      m.value = config.path();
      return m;
    case M::kSafeRegex: {
      m.kind = Kind::kSafeRegex;
      m.value = config.safe_regex().regex();
      REMORA_ASSIGN_OR_RETURN(m.regex, compileRegex(config.safe_regex(), field + ".safe_regex"));
      return m;
    }
    case M::kPathSeparatedPrefix: {
      const std::string& p = config.path_separated_prefix();
      if (p.empty() || p.back() == '/' || p.find_first_of("?#") != std::string::npos) {
        return invalidArgumentError(field + ".path_separated_prefix: " + quoted(p) +
                                    " must be non-empty, without '?' or '#', and not end in '/'");
      }
      m.kind = Kind::kPathSeparatedPrefix;
      m.value = p;
      return m;
    }
    case M::PATH_SPECIFIER_NOT_SET:
      break;
  }
  return invalidArgumentError(field +
                              ": no path specifier (prefix, path, safe_regex or "
                              "path_separated_prefix) is set");
}

bool PathMatch::matches(std::string_view path) const {
  switch (kind) {
    case Kind::kPrefix:
      return case_sensitive ? path.starts_with(value) : startsWithIgnoreCase(path, value);
    case Kind::kPath:
      return case_sensitive ? path == value : equalsIgnoreCase(path, value);
    case Kind::kSafeRegex:
      // case_sensitive does not apply to regexes (use (?i) in the pattern).
      return regexFullMatch(*regex, path);
    case Kind::kPathSeparatedPrefix: {
      const bool head =
          case_sensitive ? path.starts_with(value) : startsWithIgnoreCase(path, value);
      return head && (path.size() == value.size() || path[value.size()] == '/');
    }
  }
  return false;
}

size_t PathMatch::matchedLength(std::string_view path) const {
  switch (kind) {
    case Kind::kPrefix:
    case Kind::kPathSeparatedPrefix:
      return value.size();
    case Kind::kPath:
    case Kind::kSafeRegex:
      break;
  }
  return path.size();
}

const char* pathMatchKindName(PathMatch::Kind kind) {
  switch (kind) {
    case PathMatch::Kind::kPrefix:
      return "prefix";
    case PathMatch::Kind::kPath:
      return "path";
    case PathMatch::Kind::kSafeRegex:
      return "safe_regex";
    case PathMatch::Kind::kPathSeparatedPrefix:
      return "path_separated_prefix";
  }
  return "?";
}

std::string PathMatch::describe() const {
  std::string out = pathMatchKindName(kind);
  out += ' ';
  out += quoted(value);
  if (!case_sensitive && kind != Kind::kSafeRegex) out += " (case insensitive)";
  return out;
}

StatusOr<HeaderMatch> HeaderMatch::compile(const envoy::config::route::v3::HeaderMatcher& config,
                                           const std::string& field) {
  using M = envoy::config::route::v3::HeaderMatcher;
  using K = StringMatch::Kind;
  HeaderMatch m;
  if (config.name().empty()) return invalidArgumentError(field + ".name: must not be empty");
  m.name = toLowerAscii(config.name());
  m.invert = config.invert_match();
  m.treat_missing_as_empty = config.treat_missing_header_as_empty();
  auto nonEmpty = [&](const std::string& v, const char* sub) -> Status {
    if (v.empty()) return invalidArgumentError(field + "." + sub + ": must not be empty");
    return Status();
  };
  switch (config.header_match_specifier_case()) {
    case M::kExactMatch:
      m.kind = Kind::kString;
      m.string = StringMatch::literal(K::kExact, config.exact_match(), false);
      break;
    case M::kSafeRegexMatch: {
      m.kind = Kind::kString;
      REMORA_ASSIGN_OR_RETURN(Regex re,
                              compileRegex(config.safe_regex_match(), field + ".safe_regex_match"));
      m.string = StringMatch::regex(std::move(re), config.safe_regex_match().regex());
      break;
    }
    case M::kRangeMatch:
      m.kind = Kind::kRange;
      m.range_start = config.range_match().start();
      m.range_end = config.range_match().end();
      if (m.range_start >= m.range_end) {
        return invalidArgumentError(field + ".range_match: start must be below end");
      }
      break;
    case M::kPresentMatch:
      m.kind = Kind::kPresent;
      m.present = config.present_match();
      break;
    case M::kPrefixMatch:
      REMORA_RETURN_IF_ERROR(nonEmpty(config.prefix_match(), "prefix_match"));
      m.kind = Kind::kString;
      m.string = StringMatch::literal(K::kPrefix, config.prefix_match(), false);
      break;
    case M::kSuffixMatch:
      REMORA_RETURN_IF_ERROR(nonEmpty(config.suffix_match(), "suffix_match"));
      m.kind = Kind::kString;
      m.string = StringMatch::literal(K::kSuffix, config.suffix_match(), false);
      break;
    case M::kContainsMatch:
      REMORA_RETURN_IF_ERROR(nonEmpty(config.contains_match(), "contains_match"));
      m.kind = Kind::kString;
      m.string = StringMatch::literal(K::kContains, config.contains_match(), false);
      break;
    case M::kStringMatch: {
      m.kind = Kind::kString;
      REMORA_ASSIGN_OR_RETURN(StringMatch s,
                              StringMatch::compile(config.string_match(), field + ".string_match"));
      m.string = std::move(s);
      break;
    }
    case M::HEADER_MATCH_SPECIFIER_NOT_SET:
      // Envoy's documented default: no specifier means "the header is present".
      m.kind = Kind::kPresent;
      m.present = true;
      break;
  }
  return m;
}

bool HeaderMatch::matches(std::optional<std::string_view> value) const {
  if (!value && !treat_missing_as_empty) {
    // An absent header satisfies only "present_match: false" (or, inverted,
    // "present_match: true"); every value matcher fails whatever `invert` says,
    // as Envoy does, so `invert` means "present with another value".
    if (kind != Kind::kPresent) return false;
    return invert ? present : !present;
  }
  const std::string_view v = value.value_or(std::string_view());
  bool match = false;
  switch (kind) {
    case Kind::kString:
      match = string->matches(v);
      break;
    case Kind::kRange: {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      match = ec == std::errc() && end == v.data() + v.size() && !v.empty() && n >= range_start &&
              n < range_end;
      break;
    }
    case Kind::kPresent:
      match = present;
      break;
  }
  return match != invert;
}

std::string HeaderMatch::describe() const {
  std::string out = "header " + quoted(name) + ' ';
  if (invert) out += "not ";
  switch (kind) {
    case Kind::kString:
      out += string->describe();
      break;
    case Kind::kRange:
      out += "in [" + std::to_string(range_start) + ", " + std::to_string(range_end) + ")";
      break;
    case Kind::kPresent:
      out += present ? "present" : "absent";
      break;
  }
  if (treat_missing_as_empty) out += " (missing = empty)";
  return out;
}

StatusOr<QueryParamMatch> QueryParamMatch::compile(
    const envoy::config::route::v3::QueryParameterMatcher& config, const std::string& field) {
  using M = envoy::config::route::v3::QueryParameterMatcher;
  QueryParamMatch m;
  if (config.name().empty()) return invalidArgumentError(field + ".name: must not be empty");
  m.name = config.name();
  if (config.query_parameter_match_specifier_case() == M::kStringMatch) {
    REMORA_ASSIGN_OR_RETURN(StringMatch s,
                            StringMatch::compile(config.string_match(), field + ".string_match"));
    m.string = std::move(s);
  }
  // present_match (true or false) and no specifier all mean "present", as in
  // Envoy: a query parameter matcher never matches an absent parameter.
  return m;
}

bool QueryParamMatch::matches(std::optional<std::string_view> first_value) const {
  if (!first_value) return false;
  return !string || string->matches(*first_value);
}

std::string QueryParamMatch::describe() const {
  std::string out = "query parameter " + quoted(name) + ' ';
  out += string ? string->describe() : std::string("present");
  return out;
}

QueryParams QueryParams::parse(std::string_view path) {
  QueryParams q;
  size_t start = path.find('?');
  if (start == std::string_view::npos) return q;
  std::string_view query = path.substr(start + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    q.params_.emplace_back(percentDecode(name), percentDecode(value));
  }
  return q;
}

std::optional<std::string_view> QueryParams::first(std::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view pathWithoutQuery(std::string_view path) {
  return path.substr(0, path.find_first_of("?#"));
}

std::string percentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = lowerAscii(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace remora::router
