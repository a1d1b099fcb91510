#include "router/route_table.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

namespace remora::router {

namespace {

namespace rv3 = envoy::config::route::v3;

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

StatusOr<Millis> toMillis(const google::protobuf::Duration& d, const std::string& field) {
  if (d.seconds() < 0 || d.nanos() < 0)
    return invalidArgumentError(field + ": must not be negative");
  return Millis(d.seconds() * 1000 + d.nanos() / 1000000);
}

constexpr std::string_view kKnownRetryOn[] = {"5xx",
                                              "gateway-error",
                                              "reset",
                                              "reset-before-request",
                                              "connect-failure",
                                              "envoy-ratelimited",
                                              "retriable-4xx",
                                              "refused-stream",
                                              "retriable-status-codes",
                                              "retriable-headers",
                                              "http3-post-connect-failure",
                                              "cancelled",
                                              "deadline-exceeded",
                                              "internal",
                                              "resource-exhausted",
                                              "unavailable"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

StatusOr<RetryPolicy> compileRetryPolicy(const rv3::RetryPolicy& config, const std::string& field) {
  RetryPolicy p;
  p.retry_on = config.retry_on();
  std::string_view rest = config.retry_on();
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (token.empty()) continue;
    if (std::find(std::begin(kKnownRetryOn), std::end(kKnownRetryOn), token) ==
        std::end(kKnownRetryOn)) {
      return invalidArgumentError(field + ".retry_on: unknown condition " + quoted(token));
    }
    p.conditions.emplace_back(token);
  }
  if (config.has_num_retries()) p.num_retries = config.num_retries().value();
  if (config.has_per_try_timeout()) {
    REMORA_ASSIGN_OR_RETURN(p.per_try_timeout,
                            toMillis(config.per_try_timeout(), field + ".per_try_timeout"));
  }
  if (config.has_per_try_idle_timeout()) {
    REMORA_ASSIGN_OR_RETURN(p.per_try_idle_timeout, toMillis(config.per_try_idle_timeout(),
                                                             field + ".per_try_idle_timeout"));
  }
  for (uint32_t code : config.retriable_status_codes()) {
    if (code < 100 || code > 599) {
      return invalidArgumentError(field + ".retriable_status_codes: " + std::to_string(code) +
                                  " is not an HTTP status");
    }
    p.retriable_status_codes.push_back(code);
  }
  if (config.has_retry_back_off()) {
    const auto& b = config.retry_back_off();
    const std::string bf = field + ".retry_back_off";
    REMORA_ASSIGN_OR_RETURN(p.back_off_base, toMillis(b.base_interval(), bf + ".base_interval"));
    if (p.back_off_base.count() <= 0) {
      return invalidArgumentError(bf + ".base_interval: must be positive");
    }
    p.back_off_max = p.back_off_base * 10;
    if (b.has_max_interval()) {
      REMORA_ASSIGN_OR_RETURN(p.back_off_max, toMillis(b.max_interval(), bf + ".max_interval"));
      if (p.back_off_max < p.back_off_base) {
        return invalidArgumentError(bf + ".max_interval: must not be below base_interval");
      }
    }
  }
  for (const auto& pred : config.retry_host_predicate())
    p.retry_host_predicates.push_back(pred.name());
  if (config.has_retry_priority()) p.retry_priority = config.retry_priority().name();
  p.host_selection_retry_max_attempts =
      std::max<int64_t>(1, config.host_selection_retry_max_attempts());
  if (!config.retriable_headers().empty()) {
    return invalidArgumentError(field + ".retriable_headers: not supported");
  }
  if (!config.retriable_request_headers().empty()) {
    return invalidArgumentError(field + ".retriable_request_headers: not supported");
  }
  return p;
}

uint32_t redirectStatus(rv3::RedirectAction::RedirectResponseCode code) {
  switch (code) {
    case rv3::RedirectAction::MOVED_PERMANENTLY:
      return 301;
    case rv3::RedirectAction::FOUND:
      return 302;
    case rv3::RedirectAction::SEE_OTHER:
      return 303;
    case rv3::RedirectAction::TEMPORARY_REDIRECT:
      return 307;
    case rv3::RedirectAction::PERMANENT_REDIRECT:
      return 308;
    default:
      break;
  }
  return 301;
}

bool parseUint64(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// Per-request state shared by the route checks: the path split once, the
// query parsed at most once, header scratch space reused.
class MatchContext {
 public:
  MatchContext(const RequestView& request, bool ignore_path_parameters)
      : request_(request), full_path_(request.path()) {
    path_ = pathWithoutQuery(full_path_);
    suffix_ = full_path_.substr(path_.size());
    if (ignore_path_parameters && path_.find(';') != std::string_view::npos) {
      // "/a;x=1/b;y" matches as "/a/b".
      stripped_.reserve(path_.size());
      bool in_param = false;
      for (char c : path_) {
        if (c == ';') in_param = true;
        if (c == '/') in_param = false;
        if (!in_param) stripped_ += c;
      }
      path_ = stripped_;
    }
  }

  const RequestView& request() const { return request_; }
  std::string_view path() const { return path_; }
  // "?query#fragment" or "".
  std::string_view querySuffix() const { return suffix_; }

  // Several values are joined with ',' as Envoy does; the view is valid until
  // the next call.
  std::optional<std::string_view> header(std::string_view name) {
    if (!name.empty() && name[0] == ':') {
      if (name == ":method") return request_.method();
      if (name == ":path") return full_path_;
      if (name == ":authority") return request_.authority();
      if (name == ":scheme") return request_.scheme();
      return std::nullopt;
    }
    values_.clear();
    request_.headerValues(name, values_);
    if (values_.empty()) return std::nullopt;
    if (values_.size() == 1) return values_[0];
    joined_.clear();
    for (size_t i = 0; i < values_.size(); ++i) {
      if (i > 0) joined_ += ',';
      joined_.append(values_[i]);
    }
    return std::string_view(joined_);
  }

  const QueryParams& query() {
    if (!query_) query_ = QueryParams::parse(full_path_);
    return *query_;
  }

 private:
  const RequestView& request_;
  std::string_view full_path_;
  std::string_view path_;
  std::string_view suffix_;
  std::string stripped_;
  HeaderValues values_;
  std::string joined_;
  std::optional<QueryParams> query_;
};

bool routeMatches(const RouteEntry& r, MatchContext& ctx, RouteCheck* check) {
  if (!r.path.matches(ctx.path())) {
    if (check) check->detail = r.path.describe() + " did not match path " + quoted(ctx.path());
    return false;
  }
  for (const HeaderMatch& h : r.headers) {
    std::optional<std::string_view> v = ctx.header(h.name);
    if (!h.matches(v)) {
      if (check) {
        check->detail = h.describe() + " did not match (" +
                        (v ? "value " + quoted(*v) : std::string("header absent")) + ")";
      }
      return false;
    }
  }
  for (const QueryParamMatch& q : r.query_params) {
    std::optional<std::string_view> v = ctx.query().first(q.name);
    if (!q.matches(v)) {
      if (check) {
        check->detail = q.describe() + " did not match (" +
                        (v ? "value " + quoted(*v) : std::string("parameter absent")) + ")";
      }
      return false;
    }
  }
  if (r.grpc_only) {
    std::optional<std::string_view> ct = ctx.header("content-type");
    if (!ct || !startsWithIgnoreCase(*ct, "application/grpc")) {
      if (check) check->detail = "grpc: content-type is not application/grpc";
      return false;
    }
  }
  if (check) {
    check->matched = true;
    check->detail = r.path.describe() + " matched path " + quoted(ctx.path());
    const size_t conditions = r.headers.size() + r.query_params.size() + (r.grpc_only ? 1 : 0);
    if (conditions > 0) {
      check->detail += ", and " + std::to_string(conditions) + " header/query condition(s)";
    }
  }
  return true;
}

std::string regexReplace(const re2::RE2& re, std::string_view input, const std::string& sub) {
  std::string out(input);
  RE2::GlobalReplace(&out, re, sub);
  return out;
}

std::string buildLocation(const RedirectSpec& s, const RouteEntry& r, MatchContext& ctx) {
  const RequestView& req = ctx.request();
  const std::string request_scheme = req.scheme().empty() ? "http" : toLowerAscii(req.scheme());
  const std::string& scheme = s.scheme.empty() ? request_scheme : s.scheme;
  std::string authority = s.host.empty() ? std::string(req.authority()) : s.host;
  if (s.port != 0) {
    authority = std::string(stripPortFromHost(authority)) + ":" + std::to_string(s.port);
  } else if (scheme != request_scheme) {
    // Switching scheme drops an explicit default port of the old one
    // (http://h:80 -> https://h), as Envoy documents for https_redirect.
    const std::string_view old_default = request_scheme == "https" ? ":443" : ":80";
    if (std::string_view(authority).ends_with(old_default) &&
        stripPortFromHost(authority).size() + old_default.size() == authority.size()) {
      authority.resize(authority.size() - old_default.size());
    }
  }
  std::string_view query = ctx.querySuffix();
  std::string path;
  switch (s.path_rewrite) {
    case RedirectSpec::PathRewrite::kNone:
      path = ctx.path();
      break;
    case RedirectSpec::PathRewrite::kPath:
      path = s.path;
      // A query in path_redirect replaces the request's, strip_query or not.
      if (s.path.find('?') != std::string::npos) query = {};
      break;
    case RedirectSpec::PathRewrite::kPrefix:
      path = s.path;
      path.append(ctx.path().substr(r.path.matchedLength(ctx.path())));
      break;
    case RedirectSpec::PathRewrite::kRegex:
      path = regexReplace(*s.regex, ctx.path(), s.regex_substitution);
      break;
  }
  if (s.strip_query) query = {};
  // The request's fragment (rarely sent) is not carried into the Location.
  query = query.substr(0, query.find('#'));
  std::string location;
  location.reserve(scheme.size() + 3 + authority.size() + path.size() + query.size());
  location.append(scheme).append("://").append(authority).append(path).append(query);
  return location;
}

void resolveCluster(const RouteEntry& r, MatchContext& ctx, RandomSource& random,
                    RouteDecision& d) {
  const ClusterAction& a = r.cluster;
  d.outcome = RouteDecision::Outcome::kCluster;
  switch (a.specifier) {
    case ClusterAction::Specifier::kCluster:
      break;
    case ClusterAction::Specifier::kClusterHeader: {
      std::optional<std::string_view> v = ctx.header(a.cluster_header);
      if (v) d.cluster_from_header = std::string(v->substr(0, v->find(',')));
      break;
    }
    case ClusterAction::Specifier::kWeightedClusters: {
      uint64_t value = 0;
      std::optional<std::string_view> h;
      if (!a.random_value_header.empty()) h = ctx.header(a.random_value_header);
      if (!h || !parseUint64(*h, value)) value = random.next();
      const uint64_t target = value % a.total_weight;
      uint64_t end = 0;
      for (const WeightedClusterEntry& w : a.weighted_clusters) {
        end += w.weight;
        if (target < end) {
          d.weighted_cluster = &w;
          break;
        }
      }
      break;
    }
  }
  if (!a.prefix_rewrite.empty()) {
    std::string p = a.prefix_rewrite;
    p.append(ctx.path().substr(r.path.matchedLength(ctx.path())));
    p.append(ctx.querySuffix());
    d.path_rewrite = std::move(p);
  } else if (a.regex_rewrite) {
    std::string p = regexReplace(*a.regex_rewrite, ctx.path(), a.regex_rewrite_substitution);
    p.append(ctx.querySuffix());
    d.path_rewrite = std::move(p);
  }
  if (d.weighted_cluster && d.weighted_cluster->host_rewrite_literal) {
    d.host_rewrite = *d.weighted_cluster->host_rewrite_literal;
  } else if (a.host_rewrite_literal) {
    d.host_rewrite = *a.host_rewrite_literal;
  } else if (!a.host_rewrite_header.empty()) {
    std::optional<std::string_view> v = ctx.header(a.host_rewrite_header);
    if (v) d.host_rewrite = std::string(*v);
  }
}

}  // namespace

const char* domainMatchKindName(DomainMatchKind kind) {
  switch (kind) {
    case DomainMatchKind::kExact:
      return "exact";
    case DomainMatchKind::kSuffixWildcard:
      return "suffix wildcard";
    case DomainMatchKind::kPrefixWildcard:
      return "prefix wildcard";
    case DomainMatchKind::kAny:
      return "any (*)";
  }
  return "?";
}

std::string_view stripPortFromHost(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  if (!host.empty() && host[0] == '[') {
    // IPv6 literal: only a colon right after the closing bracket starts a port.
    if (colon == 0 || host[colon - 1] != ']') return host;
  } else if (host.find(':') != colon) {
    return host;  // a bare IPv6 address, no port
  }
  std::string_view port = host.substr(colon + 1);
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return host;
  }
  return host.substr(0, colon);
}

// ---------------------------------------------------------------------------
// Compilation.

class RouteTable::Compiler {
 public:
  explicit Compiler(RouteTable& t) : t_(t) {}

  Status run() {
    const rv3::RouteConfiguration& c = t_.config_;
    t_.name_ = c.name();
    t_.ignore_port_in_host_matching_ = c.ignore_port_in_host_matching();
    t_.ignore_path_parameters_ = c.ignore_path_parameters_in_path_matching();
    t_.most_specific_header_mutations_wins_ = c.most_specific_header_mutations_wins();
    t_.validate_clusters_ = c.has_validate_clusters() && c.validate_clusters().value();
    max_body_ = c.has_max_direct_response_body_size_bytes()
                    ? c.max_direct_response_body_size_bytes().value()
                    : 4096;
    for (const std::string& h : c.internal_only_headers()) {
      t_.internal_only_headers_.push_back(toLowerAscii(h));
    }
    REMORA_ASSIGN_OR_RETURN(
        t_.request_headers_,
        HeaderMutations::compile(c.request_headers_to_add(), c.request_headers_to_remove(),
                                 HeaderMutations::Side::kRequest, ""));
    REMORA_ASSIGN_OR_RETURN(
        t_.response_headers_,
        HeaderMutations::compile(c.response_headers_to_add(), c.response_headers_to_remove(),
                                 HeaderMutations::Side::kResponse, ""));
    t_.virtual_hosts_.reserve(c.virtual_hosts_size());
    for (int i = 0; i < c.virtual_hosts_size(); ++i) {
      REMORA_RETURN_IF_ERROR(compileVirtualHost(c.virtual_hosts(i), static_cast<size_t>(i)));
    }
    for (auto& [len, map] : suffix_)
      t_.suffix_wildcards_.push_back({len, std::move(map)});
    for (auto& [len, map] : prefix_)
      t_.prefix_wildcards_.push_back({len, std::move(map)});
    return Status();
  }

 private:
  Status compileVirtualHost(const rv3::VirtualHost& config, size_t index) {
    const std::string field = "virtual_hosts[" + std::to_string(index) + "]";
    VirtualHostEntry vh;
    vh.index = index;
    vh.name = config.name();
    vh.config = &config;
    if (config.domains().empty()) {
      return invalidArgumentError(field + ": virtual host " + quoted(config.name()) +
                                  " has no domains");
    }
    for (int j = 0; j < config.domains_size(); ++j) {
      REMORA_RETURN_IF_ERROR(addDomain(config.domains(j), index, config.name(),
                                       field + ".domains[" + std::to_string(j) + "]"));
      vh.domains.push_back(toLowerAscii(config.domains(j)));
    }
    switch (config.require_tls()) {
      case rv3::VirtualHost::EXTERNAL_ONLY:
        vh.require_tls = VirtualHostEntry::TlsRequirement::kExternalOnly;
        break;
      case rv3::VirtualHost::ALL:
        vh.require_tls = VirtualHostEntry::TlsRequirement::kAll;
        break;
      default:
        break;
    }
    REMORA_ASSIGN_OR_RETURN(vh.request_headers,
                            HeaderMutations::compile(config.request_headers_to_add(),
                                                     config.request_headers_to_remove(),
                                                     HeaderMutations::Side::kRequest, field + "."));
    REMORA_ASSIGN_OR_RETURN(
        vh.response_headers,
        HeaderMutations::compile(config.response_headers_to_add(),
                                 config.response_headers_to_remove(),
                                 HeaderMutations::Side::kResponse, field + "."));
    vh.include_request_attempt_count = config.include_request_attempt_count();
    vh.include_attempt_count_in_response = config.include_attempt_count_in_response();
    if (config.has_per_request_buffer_limit_bytes()) {
      vh.per_request_buffer_limit_bytes = config.per_request_buffer_limit_bytes().value();
    }
    std::optional<RetryPolicy> vh_retry;
    if (config.has_retry_policy()) {
      REMORA_ASSIGN_OR_RETURN(RetryPolicy p,
                              compileRetryPolicy(config.retry_policy(), field + ".retry_policy"));
      vh_retry = std::move(p);
    }
    vh.routes.reserve(config.routes_size());
    for (int k = 0; k < config.routes_size(); ++k) {
      const std::string rfield = field + ".routes[" + std::to_string(k) + "]";
      REMORA_ASSIGN_OR_RETURN(RouteEntry r, compileRoute(config.routes(k), rfield, vh_retry));
      r.index = static_cast<size_t>(k);
      vh.routes.push_back(std::move(r));
    }
    t_.virtual_hosts_.push_back(std::move(vh));
    return Status();
  }

  Status addDomain(const std::string& raw, size_t index, const std::string& vh_name,
                   const std::string& field) {
    if (raw.empty()) return invalidArgumentError(field + ": empty domain");
    std::string domain = toLowerAscii(raw);
    auto [it, inserted] = seen_.emplace(domain, index);
    if (!inserted) {
      const auto& other = t_.config_.virtual_hosts(static_cast<int>(it->second));
      return invalidArgumentError(field + ": duplicate domain " + quoted(domain) +
                                  " in virtual hosts " + quoted(other.name()) + " (virtual_hosts[" +
                                  std::to_string(it->second) + "]) and " + quoted(vh_name) +
                                  " (virtual_hosts[" + std::to_string(index) + "])");
    }
    const auto idx = static_cast<uint32_t>(index);
    if (domain == "*") {
      t_.catch_all_ = static_cast<int>(index);
    } else if (domain.front() == '*') {
      std::string fixed = domain.substr(1);
      suffix_[fixed.size()].emplace(std::move(fixed), idx);
    } else if (domain.back() == '*') {
      std::string fixed = domain.substr(0, domain.size() - 1);
      prefix_[fixed.size()].emplace(std::move(fixed), idx);
    } else {
      t_.exact_.emplace(std::move(domain), idx);
    }
    return Status();
  }

  StatusOr<RouteEntry> compileRoute(const rv3::Route& config, const std::string& field,
                                    const std::optional<RetryPolicy>& vh_retry) {
    RouteEntry r;
    r.name = config.name();
    r.config = &config;
    r.stat_prefix = config.stat_prefix();
    if (!config.has_match()) return invalidArgumentError(field + ".match: required");
    const rv3::RouteMatch& m = config.match();
    REMORA_ASSIGN_OR_RETURN(r.path, PathMatch::compile(m, field + ".match"));
    for (int i = 0; i < m.headers_size(); ++i) {
      REMORA_ASSIGN_OR_RETURN(
          HeaderMatch h,
          HeaderMatch::compile(m.headers(i), field + ".match.headers[" + std::to_string(i) + "]"));
      r.headers.push_back(std::move(h));
    }
    for (int i = 0; i < m.query_parameters_size(); ++i) {
      REMORA_ASSIGN_OR_RETURN(
          QueryParamMatch q,
          QueryParamMatch::compile(m.query_parameters(i),
                                   field + ".match.query_parameters[" + std::to_string(i) + "]"));
      r.query_params.push_back(std::move(q));
    }
    r.grpc_only = m.has_grpc();

    switch (config.action_case()) {
      case rv3::Route::kRoute:
        r.action = ActionKind::kCluster;
        REMORA_RETURN_IF_ERROR(compileClusterAction(config.route(), field + ".route", vh_retry, r));
        break;
      case rv3::Route::kRedirect:
        r.action = ActionKind::kRedirect;
        REMORA_RETURN_IF_ERROR(compileRedirect(config.redirect(), field + ".redirect", r));
        break;
      case rv3::Route::kDirectResponse:
        r.action = ActionKind::kDirectResponse;
        REMORA_RETURN_IF_ERROR(
            compileDirectResponse(config.direct_response(), field + ".direct_response", r));
        break;
      case rv3::Route::ACTION_NOT_SET:
        return invalidArgumentError(field +
                                    ": no action (route, redirect or direct_response) is set");
    }
    REMORA_ASSIGN_OR_RETURN(r.request_headers,
                            HeaderMutations::compile(config.request_headers_to_add(),
                                                     config.request_headers_to_remove(),
                                                     HeaderMutations::Side::kRequest, field + "."));
    REMORA_ASSIGN_OR_RETURN(r.response_headers, HeaderMutations::compile(
                                                    config.response_headers_to_add(),
                                                    config.response_headers_to_remove(),
                                                    HeaderMutations::Side::kResponse, field + "."));
    if (config.has_decorator()) {
      r.has_decorator = true;
      r.decorator_operation = config.decorator().operation();
      if (config.decorator().has_propagate()) {
        r.decorator_propagate = config.decorator().propagate().value();
      }
    }
    if (config.has_per_request_buffer_limit_bytes()) {
      r.per_request_buffer_limit_bytes = config.per_request_buffer_limit_bytes().value();
    }
    return r;
  }

  Status compileClusterAction(const rv3::RouteAction& config, const std::string& field,
                              const std::optional<RetryPolicy>& vh_retry, RouteEntry& r) {
    ClusterAction& a = r.cluster;
    switch (config.cluster_specifier_case()) {
      case rv3::RouteAction::kCluster:
        if (config.cluster().empty()) return invalidArgumentError(field + ".cluster: empty");
        a.specifier = ClusterAction::Specifier::kCluster;
        a.cluster = config.cluster();
        break;
      case rv3::RouteAction::kClusterHeader:
        if (config.cluster_header().empty()) {
          return invalidArgumentError(field + ".cluster_header: empty");
        }
        a.specifier = ClusterAction::Specifier::kClusterHeader;
        a.cluster_header = toLowerAscii(config.cluster_header());
        break;
      case rv3::RouteAction::kWeightedClusters:
        a.specifier = ClusterAction::Specifier::kWeightedClusters;
        REMORA_RETURN_IF_ERROR(
            compileWeighted(config.weighted_clusters(), field + ".weighted_clusters", a));
        break;
      case rv3::RouteAction::CLUSTER_SPECIFIER_NOT_SET:
        return invalidArgumentError(
            field + ": no cluster specifier (cluster, cluster_header or weighted_clusters) is set");
    }
    switch (config.cluster_not_found_response_code()) {
      case rv3::RouteAction::NOT_FOUND:
        a.cluster_not_found_status = 404;
        break;
      case rv3::RouteAction::INTERNAL_SERVER_ERROR:
        a.cluster_not_found_status = 500;
        break;
      default:
        a.cluster_not_found_status = 503;
        break;
    }
    if (config.has_metadata_match()) {
      return invalidArgumentError(field +
                                  ".metadata_match: subset load balancing is not supported");
    }
    if (!config.hash_policy().empty()) {
      return invalidArgumentError(field + ".hash_policy: consistent hashing is not supported yet");
    }
    a.prefix_rewrite = config.prefix_rewrite();
    if (config.has_regex_rewrite()) {
      if (!a.prefix_rewrite.empty()) {
        return invalidArgumentError(field +
                                    ": only one of prefix_rewrite and regex_rewrite may be set");
      }
      REMORA_ASSIGN_OR_RETURN(a.regex_rewrite, compileRegex(config.regex_rewrite().pattern(),
                                                            field + ".regex_rewrite.pattern"));
      a.regex_rewrite_pattern = config.regex_rewrite().pattern().regex();
      a.regex_rewrite_substitution = config.regex_rewrite().substitution();
      std::string err;
      if (!a.regex_rewrite->CheckRewriteString(a.regex_rewrite_substitution, &err)) {
        return invalidArgumentError(field + ".regex_rewrite.substitution: " + err);
      }
    }
    switch (config.host_rewrite_specifier_case()) {
      case rv3::RouteAction::kHostRewriteLiteral:
        a.host_rewrite_literal = config.host_rewrite_literal();
        break;
      case rv3::RouteAction::kAutoHostRewrite:
        if (config.auto_host_rewrite().value()) {
          return invalidArgumentError(field + ".auto_host_rewrite: not supported");
        }
        break;
      case rv3::RouteAction::kHostRewriteHeader:
        a.host_rewrite_header = toLowerAscii(config.host_rewrite_header());
        break;
      default:
        break;
    }
    a.append_x_forwarded_host = config.append_x_forwarded_host();
    if (config.has_timeout()) {
      REMORA_ASSIGN_OR_RETURN(a.timeout, toMillis(config.timeout(), field + ".timeout"));
    }
    if (config.has_idle_timeout()) {
      REMORA_ASSIGN_OR_RETURN(Millis t, toMillis(config.idle_timeout(), field + ".idle_timeout"));
      a.idle_timeout = t;
    }
    if (config.has_retry_policy()) {
      REMORA_ASSIGN_OR_RETURN(RetryPolicy p,
                              compileRetryPolicy(config.retry_policy(), field + ".retry_policy"));
      a.retry_policy = std::move(p);
    } else {
      a.retry_policy = vh_retry;
    }
    a.high_priority = config.priority() != 0;
    for (const auto& u : config.upgrade_configs()) {
      a.upgrade_configs.emplace_back(toLowerAscii(u.upgrade_type()),
                                     !u.has_enabled() || u.enabled().value());
    }
    if (config.has_max_stream_duration()) {
      const auto& msd = config.max_stream_duration();
      const std::string mf = field + ".max_stream_duration";
      if (msd.has_max_stream_duration()) {
        REMORA_ASSIGN_OR_RETURN(Millis t,
                                toMillis(msd.max_stream_duration(), mf + ".max_stream_duration"));
        a.max_stream_duration = t;
      }
      if (msd.has_grpc_timeout_header_max()) {
        REMORA_ASSIGN_OR_RETURN(
            Millis t, toMillis(msd.grpc_timeout_header_max(), mf + ".grpc_timeout_header_max"));
        a.grpc_timeout_header_max = t;
      }
      if (msd.has_grpc_timeout_header_offset()) {
        REMORA_ASSIGN_OR_RETURN(Millis t, toMillis(msd.grpc_timeout_header_offset(),
                                                   mf + ".grpc_timeout_header_offset"));
        a.grpc_timeout_header_offset = t;
      }
    }
    if (!a.grpc_timeout_header_max && config.has_max_grpc_timeout()) {
      REMORA_ASSIGN_OR_RETURN(Millis t,
                              toMillis(config.max_grpc_timeout(), field + ".max_grpc_timeout"));
      a.grpc_timeout_header_max = t;
    }
    if (!a.grpc_timeout_header_offset && config.has_grpc_timeout_offset()) {
      REMORA_ASSIGN_OR_RETURN(
          Millis t, toMillis(config.grpc_timeout_offset(), field + ".grpc_timeout_offset"));
      a.grpc_timeout_header_offset = t;
    }
    return Status();
  }

  Status compileWeighted(const rv3::WeightedCluster& config, const std::string& field,
                         ClusterAction& a) {
    if (config.clusters().empty()) return invalidArgumentError(field + ".clusters: empty");
    if (!config.runtime_key_prefix().empty()) {
      return invalidArgumentError(field + ".runtime_key_prefix: runtime is not supported");
    }
    if (config.random_value_specifier_case() == rv3::WeightedCluster::kHeaderName) {
      a.random_value_header = toLowerAscii(config.header_name());
    }
    for (int i = 0; i < config.clusters_size(); ++i) {
      const auto& c = config.clusters(i);
      const std::string cf = field + ".clusters[" + std::to_string(i) + "]";
      if (!c.cluster_header().empty()) {
        return invalidArgumentError(cf + ".cluster_header: not supported in weighted clusters");
      }
      if (c.name().empty()) return invalidArgumentError(cf + ".name: empty");
      if (c.has_metadata_match()) {
        return invalidArgumentError(cf + ".metadata_match: subset load balancing is not supported");
      }
      WeightedClusterEntry w;
      w.name = c.name();
      w.weight = c.has_weight() ? c.weight().value() : 0;
      if (c.host_rewrite_specifier_case() ==
          rv3::WeightedCluster::ClusterWeight::kHostRewriteLiteral) {
        w.host_rewrite_literal = c.host_rewrite_literal();
      }
      REMORA_ASSIGN_OR_RETURN(
          w.request_headers,
          HeaderMutations::compile(c.request_headers_to_add(), c.request_headers_to_remove(),
                                   HeaderMutations::Side::kRequest, cf + "."));
      REMORA_ASSIGN_OR_RETURN(
          w.response_headers,
          HeaderMutations::compile(c.response_headers_to_add(), c.response_headers_to_remove(),
                                   HeaderMutations::Side::kResponse, cf + "."));
      a.total_weight += w.weight;
      a.weighted_clusters.push_back(std::move(w));
    }
    if (a.total_weight == 0) {
      return invalidArgumentError(field + ": the weights of all clusters are 0");
    }
    if (config.has_total_weight() && config.total_weight().value() != a.total_weight) {
      return invalidArgumentError(
          field + ".total_weight: " + std::to_string(config.total_weight().value()) +
          " differs from the sum of the weights, " + std::to_string(a.total_weight));
    }
    return Status();
  }

  Status compileRedirect(const rv3::RedirectAction& config, const std::string& field,
                         RouteEntry& r) {
    RedirectSpec& s = r.redirect;
    if (config.scheme_rewrite_specifier_case() == rv3::RedirectAction::kHttpsRedirect) {
      if (config.https_redirect()) s.scheme = "https";
    } else if (config.scheme_rewrite_specifier_case() == rv3::RedirectAction::kSchemeRedirect) {
      s.scheme = toLowerAscii(config.scheme_redirect());
    }
    s.host = config.host_redirect();
    if (config.port_redirect() > 65535) {
      return invalidArgumentError(
          field + ".port_redirect: " + std::to_string(config.port_redirect()) + " is not a port");
    }
    s.port = config.port_redirect();
    switch (config.path_rewrite_specifier_case()) {
      case rv3::RedirectAction::kPathRedirect:
        s.path_rewrite = RedirectSpec::PathRewrite::kPath;
        s.path = config.path_redirect();
        break;
      case rv3::RedirectAction::kPrefixRewrite:
        s.path_rewrite = RedirectSpec::PathRewrite::kPrefix;
        s.path = config.prefix_rewrite();
        break;
      case rv3::RedirectAction::kRegexRewrite: {
        s.path_rewrite = RedirectSpec::PathRewrite::kRegex;
        REMORA_ASSIGN_OR_RETURN(s.regex, compileRegex(config.regex_rewrite().pattern(),
                                                      field + ".regex_rewrite.pattern"));
        s.regex_substitution = config.regex_rewrite().substitution();
        std::string err;
        if (!s.regex->CheckRewriteString(s.regex_substitution, &err)) {
          return invalidArgumentError(field + ".regex_rewrite.substitution: " + err);
        }
        break;
      }
      default:
        break;
    }
    s.strip_query = config.strip_query();
    s.status = redirectStatus(config.response_code());
    return Status();
  }

  Status compileDirectResponse(const rv3::DirectResponseAction& config, const std::string& field,
                               RouteEntry& r) {
    if (config.status() < 200 || config.status() > 599) {
      return invalidArgumentError(field + ".status: " + std::to_string(config.status()) +
                                  " is not in [200, 599]");
    }
    r.direct_response.status = config.status();
    if (config.has_body()) {
      const auto& b = config.body();
      switch (b.specifier_case()) {
        case envoy::config::core::v3::DataSource::kInlineString:
          r.direct_response.body = b.inline_string();
          break;
        case envoy::config::core::v3::DataSource::kInlineBytes:
          r.direct_response.body = b.inline_bytes();
          break;
        case envoy::config::core::v3::DataSource::kFilename:
        case envoy::config::core::v3::DataSource::kEnvironmentVariable:
          // The table is built without I/O; whoever loads config may inline it.
          return invalidArgumentError(field +
                                      ".body: only inline_string and inline_bytes are supported");
        default:
          break;
      }
    }
    if (r.direct_response.body.size() > max_body_) {
      return invalidArgumentError(
          field + ".body: " + std::to_string(r.direct_response.body.size()) +
          " bytes, over max_direct_response_body_size_bytes " + std::to_string(max_body_));
    }
    return Status();
  }

  RouteTable& t_;
  uint64_t max_body_ = 4096;
  std::unordered_map<std::string, size_t> seen_;
  std::map<size_t, DomainMap, std::greater<>> suffix_;
  std::map<size_t, DomainMap, std::greater<>> prefix_;
};

StatusOr<std::shared_ptr<const RouteTable>> RouteTable::compile(
    const envoy::config::route::v3::RouteConfiguration& config) {
  return compile(envoy::config::route::v3::RouteConfiguration(config));
}

StatusOr<std::shared_ptr<const RouteTable>> RouteTable::compile(
    envoy::config::route::v3::RouteConfiguration&& config) {
  // Built in place: entries point into config_, so the table never moves.
  std::shared_ptr<RouteTable> table(new RouteTable());
  table->config_.Swap(&config);
  Compiler compiler(*table);
  REMORA_RETURN_IF_ERROR(compiler.run());
  return std::shared_ptr<const RouteTable>(std::move(table));
}

RouteTable::IndexStats RouteTable::indexStats() const {
  IndexStats s;
  s.exact_domains = exact_.size();
  s.suffix_wildcard_lengths = suffix_wildcards_.size();
  s.prefix_wildcard_lengths = prefix_wildcards_.size();
  s.has_catch_all = catch_all_ >= 0;
  return s;
}

// ---------------------------------------------------------------------------
// Matching.

const VirtualHostEntry* RouteTable::findVirtualHost(std::string_view authority,
                                                    DomainExplanation* why) const {
  const std::string_view host =
      ignore_port_in_host_matching_ ? stripPortFromHost(authority) : authority;
  size_t probes = 0;
  auto found = [&](uint32_t index, DomainMatchKind kind,
                   std::string domain) -> const VirtualHostEntry* {
    const VirtualHostEntry* vh = &virtual_hosts_[index];
    if (why) {
      why->matched = true;
      why->kind = kind;
      why->domain = std::move(domain);
      why->virtual_host = vh->name;
      why->virtual_host_index = index;
    }
    return vh;
  };
  if (why) why->host = std::string(host);
  const VirtualHostEntry* result = nullptr;
  ++probes;
  if (auto it = exact_.find(host); it != exact_.end()) {
    result = found(it->second, DomainMatchKind::kExact, why ? it->first : std::string());
  }
  // A wildcard stands for at least one character, hence the strict `<`.
  for (size_t i = 0; !result && i < suffix_wildcards_.size(); ++i) {
    const WildcardBucket& b = suffix_wildcards_[i];
    if (b.length >= host.size()) continue;
    ++probes;
    if (auto it = b.domains.find(host.substr(host.size() - b.length)); it != b.domains.end()) {
      result = found(it->second, DomainMatchKind::kSuffixWildcard,
                     why ? "*" + it->first : std::string());
    }
  }
  for (size_t i = 0; !result && i < prefix_wildcards_.size(); ++i) {
    const WildcardBucket& b = prefix_wildcards_[i];
    if (b.length >= host.size()) continue;
    ++probes;
    if (auto it = b.domains.find(host.substr(0, b.length)); it != b.domains.end()) {
      result = found(it->second, DomainMatchKind::kPrefixWildcard,
                     why ? it->first + "*" : std::string());
    }
  }
  if (!result && catch_all_ >= 0) {
    result = found(static_cast<uint32_t>(catch_all_), DomainMatchKind::kAny, "*");
  }
  if (why) why->hash_probes = probes;
  return result;
}

RouteDecision RouteTable::route(const RequestView& request, RandomSource& random) const {
  return match(request, random, nullptr);
}

RouteDecision RouteTable::match(const RequestView& request, RandomSource& random,
                                Explanation* why) const {
  RouteDecision d;
  d.table = this;
  const VirtualHostEntry* vh = findVirtualHost(request.authority(), why ? &why->domain : nullptr);
  if (vh == nullptr) {
    d.outcome = RouteDecision::Outcome::kNoVirtualHost;
    d.status = 404;
    return d;
  }
  d.virtual_host = vh;
  MatchContext ctx(request, ignore_path_parameters_);
  if (vh->require_tls != VirtualHostEntry::TlsRequirement::kNone &&
      !equalsIgnoreCase(request.scheme(), "https")) {
    bool redirect = true;
    if (vh->require_tls == VirtualHostEntry::TlsRequirement::kExternalOnly) {
      std::optional<std::string_view> internal = ctx.header("x-envoy-internal");
      redirect = !(internal && *internal == "true");
    }
    if (redirect) {
      d.outcome = RouteDecision::Outcome::kRedirect;
      d.status = 301;
      d.location = "https://" + std::string(request.authority()) + std::string(request.path());
      return d;
    }
  }
  for (const RouteEntry& r : vh->routes) {
    RouteCheck* check = nullptr;
    if (why) {
      check = &why->routes.emplace_back();
      check->index = r.index;
      check->name = r.name;
    }
    if (!routeMatches(r, ctx, check)) continue;
    d.route = &r;
    if (why) why->matched_field = pathMatchKindName(r.path.kind);
    switch (r.action) {
      case ActionKind::kCluster:
        resolveCluster(r, ctx, random, d);
        break;
      case ActionKind::kRedirect:
        d.outcome = RouteDecision::Outcome::kRedirect;
        d.status = r.redirect.status;
        d.location = buildLocation(r.redirect, r, ctx);
        break;
      case ActionKind::kDirectResponse:
        d.outcome = RouteDecision::Outcome::kDirectResponse;
        d.status = r.direct_response.status;
        d.body = r.direct_response.body;
        break;
    }
    return d;
  }
  d.outcome = RouteDecision::Outcome::kNoRoute;
  d.status = 404;
  return d;
}

Explanation RouteTable::explain(const RequestView& request, RandomSource& random) const {
  Explanation e;
  e.decision = match(request, random, &e);
  const RouteDecision& d = e.decision;
  using O = RouteDecision::Outcome;
  switch (d.outcome) {
    case O::kNoVirtualHost:
      e.response_flag = "NR";
      e.summary = "no virtual host matches host " + quoted(e.domain.host) + ": 404 NR";
      break;
    case O::kNoRoute:
      e.response_flag = "NR";
      e.summary = "virtual host " + quoted(d.virtual_host->name) + " has no route for " +
                  quoted(request.method()) + " " + quoted(request.path()) + ": 404 NR";
      break;
    case O::kCluster:
      e.summary =
          "route " + std::to_string(d.route->index) + " -> cluster " + quoted(d.clusterName());
      if (d.weighted_cluster) {
        e.summary += " (weight " + std::to_string(d.weighted_cluster->weight) + " of " +
                     std::to_string(d.route->cluster.total_weight) + ")";
      }
      if (d.path_rewrite) e.summary += ", path rewritten to " + quoted(*d.path_rewrite);
      if (d.host_rewrite) e.summary += ", host rewritten to " + quoted(*d.host_rewrite);
      break;
    case O::kRedirect:
      e.summary =
          (d.route ? "route " + std::to_string(d.route->index) : std::string("require_tls")) +
          " -> redirect " + std::to_string(d.status) + " to " + quoted(d.location);
      break;
    case O::kDirectResponse:
      e.summary = "route " + std::to_string(d.route->index) + " -> direct response " +
                  std::to_string(d.status);
      break;
  }
  return e;
}

std::string Explanation::toText() const {
  std::string out;
  if (domain.matched) {
    out += "virtual host: " + quoted(domain.virtual_host) + " (virtual_hosts[" +
           std::to_string(domain.virtual_host_index) + "]), host " + quoted(domain.host) +
           " matched domain " + quoted(domain.domain) + " by " + domainMatchKindName(domain.kind) +
           "\n";
  } else {
    out += "virtual host: none for host " + quoted(domain.host) + "\n";
  }
  for (const RouteCheck& c : routes) {
    out += "  route " + std::to_string(c.index);
    if (!c.name.empty()) out += " " + quoted(c.name);
    out += c.matched ? ": MATCH, " : ": no, ";
    out += c.detail + "\n";
  }
  out += "decision: " + summary + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// Decision helpers.

std::string_view RouteDecision::clusterName() const {
  if (outcome != Outcome::kCluster || route == nullptr) return {};
  if (weighted_cluster) return weighted_cluster->name;
  if (route->cluster.specifier == ClusterAction::Specifier::kClusterHeader) {
    return cluster_from_header;
  }
  return route->cluster.cluster;
}

namespace {

std::array<const HeaderMutations*, 4> levels(bool most_specific_wins,
                                             const HeaderMutations* weighted,
                                             const HeaderMutations* route,
                                             const HeaderMutations* vhost,
                                             const HeaderMutations* config) {
  if (most_specific_wins) return {config, vhost, route, weighted};
  return {weighted, route, vhost, config};
}

}  // namespace

std::array<const HeaderMutations*, 4> RouteDecision::requestHeaderLevels() const {
  if (table == nullptr) return {};
  return levels(table->mostSpecificHeaderMutationsWins(),
                weighted_cluster ? &weighted_cluster->request_headers : nullptr,
                route ? &route->request_headers : nullptr,
                virtual_host ? &virtual_host->request_headers : nullptr, &table->requestHeaders());
}

std::array<const HeaderMutations*, 4> RouteDecision::responseHeaderLevels() const {
  if (table == nullptr) return {};
  return levels(table->mostSpecificHeaderMutationsWins(),
                weighted_cluster ? &weighted_cluster->response_headers : nullptr,
                route ? &route->response_headers : nullptr,
                virtual_host ? &virtual_host->response_headers : nullptr,
                &table->responseHeaders());
}

void RouteDecision::applyRequestHeaders(HeaderMutator& headers) const {
  for (const HeaderMutations* m : requestHeaderLevels()) {
    if (m != nullptr) m->apply(headers);
  }
}

void RouteDecision::applyResponseHeaders(HeaderMutator& headers) const {
  for (const HeaderMutations* m : responseHeaderLevels()) {
    if (m != nullptr) m->apply(headers);
  }
}

}  // namespace remora::router
