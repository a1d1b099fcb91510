// The route table: an Envoy v3 RouteConfiguration compiled into an immutable,
// indexed form that answers "which virtual host, which route, which action"
// for a request. Pure logic, no I/O.
//
// Threads: compile() runs on the main thread when a route configuration
// arrives (static or RDS); the resulting shared_ptr<const RouteTable> is posted
// to workers, which call route() on every request without locks. A
// RouteDecision points into the table: keep the table alive while it is used.
//
// The connection manager and `remoractl explain` run the same matching code;
// explain() only asks it to record its reasons on the way.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "envoy/config/route/v3/route.pb.h"
#include "router/ascii.h"
#include "router/header_mutation.h"
#include "router/matchers.h"
#include "router/request_view.h"

namespace remora::router {

using Millis = std::chrono::milliseconds;

enum class DomainMatchKind { kExact, kSuffixWildcard, kPrefixWildcard, kAny };
const char* domainMatchKindName(DomainMatchKind kind);  // "exact", "suffix wildcard", ...

struct RetryPolicy {
  std::string retry_on;                 // as configured: "connect-failure,5xx"
  std::vector<std::string> conditions;  // retry_on split, each one known to Envoy
  uint32_t num_retries = 1;             // Envoy's default when a policy is present
  Millis per_try_timeout{0};            // 0: only the route timeout applies
  Millis per_try_idle_timeout{0};
  std::vector<uint32_t> retriable_status_codes;
  Millis back_off_base{25};
  Millis back_off_max{250};                        // default 10 x base
  std::vector<std::string> retry_host_predicates;  // extension names
  std::string retry_priority;                      // extension name, "" if none
  int64_t host_selection_retry_max_attempts = 1;
};

struct WeightedClusterEntry {
  std::string name;
  uint32_t weight = 0;
  HeaderMutations request_headers;
  HeaderMutations response_headers;
  std::optional<std::string> host_rewrite_literal;  // wins over the route's
};

// RouteAction: forward to a cluster.
struct ClusterAction {
  enum class Specifier { kCluster, kClusterHeader, kWeightedClusters };
  Specifier specifier = Specifier::kCluster;
  std::string cluster;         // kCluster
  std::string cluster_header;  // kClusterHeader, lowercase
  std::vector<WeightedClusterEntry> weighted_clusters;
  uint64_t total_weight = 0;
  std::string random_value_header;  // weighted_clusters.header_name, lowercase

  uint32_t cluster_not_found_status = 503;  // from cluster_not_found_response_code
  std::string prefix_rewrite;
  Regex regex_rewrite;
  std::string regex_rewrite_pattern;
  std::string regex_rewrite_substitution;
  std::optional<std::string> host_rewrite_literal;
  std::string host_rewrite_header;  // lowercase
  bool append_x_forwarded_host = false;
  Millis timeout{15000};  // 0: no timeout
  std::optional<Millis> idle_timeout;
  std::optional<RetryPolicy> retry_policy;  // the route's, else the virtual host's
  bool high_priority = false;
  std::vector<std::pair<std::string, bool>> upgrade_configs;  // type, enabled
  std::optional<Millis> max_stream_duration;
  std::optional<Millis> grpc_timeout_header_max;
  std::optional<Millis> grpc_timeout_header_offset;
};

struct RedirectSpec {
  enum class PathRewrite { kNone, kPath, kPrefix, kRegex };
  std::string scheme;  // lowercase; "" keeps the request's
  std::string host;    // "" keeps the request's
  uint32_t port = 0;   // 0 keeps the request's (see docs/routing.md)
  PathRewrite path_rewrite = PathRewrite::kNone;
  std::string path;  // kPath: the new path; kPrefix: the new prefix
  Regex regex;
  std::string regex_substitution;
  bool strip_query = false;
  uint32_t status = 301;
};

struct DirectResponseSpec {
  uint32_t status = 200;
  std::string body;
};

enum class ActionKind { kCluster, kRedirect, kDirectResponse };

struct RouteEntry {
  size_t index = 0;  // in its virtual host
  std::string name;
  PathMatch path;
  std::vector<HeaderMatch> headers;
  std::vector<QueryParamMatch> query_params;
  bool grpc_only = false;  // match.grpc: content-type application/grpc*

  ActionKind action = ActionKind::kCluster;
  ClusterAction cluster;  // kCluster
  RedirectSpec redirect;  // kRedirect
  DirectResponseSpec direct_response;

  HeaderMutations request_headers;
  HeaderMutations response_headers;
  bool has_decorator = false;
  std::string decorator_operation;
  bool decorator_propagate = true;
  std::optional<uint32_t> per_request_buffer_limit_bytes;
  std::string stat_prefix;
  // The route as configured, for what the router does not interpret itself
  // (typed_per_filter_config, metadata). Points into the table's copy.
  const envoy::config::route::v3::Route* config = nullptr;
};

struct VirtualHostEntry {
  enum class TlsRequirement { kNone, kExternalOnly, kAll };
  size_t index = 0;  // in the route configuration
  std::string name;
  std::vector<std::string> domains;  // lowercase, as configured
  std::vector<RouteEntry> routes;
  TlsRequirement require_tls = TlsRequirement::kNone;
  HeaderMutations request_headers;
  HeaderMutations response_headers;
  bool include_request_attempt_count = false;
  bool include_attempt_count_in_response = false;
  std::optional<uint32_t> per_request_buffer_limit_bytes;
  const envoy::config::route::v3::VirtualHost* config = nullptr;
};

class RouteTable;

// What to do with one request. Plain data; pointers are into the table.
struct RouteDecision {
  enum class Outcome {
    kNoVirtualHost,   // local reply 404, response flag NR
    kNoRoute,         // local reply 404, response flag NR
    kCluster,         // forward to clusterName()
    kRedirect,        // local reply `status` with Location `location`
    kDirectResponse,  // local reply `status` with `body`
  };

  Outcome outcome = Outcome::kNoVirtualHost;
  const RouteTable* table = nullptr;
  const VirtualHostEntry* virtual_host = nullptr;
  const RouteEntry* route = nullptr;  // null for NR and for require_tls redirects
  const WeightedClusterEntry* weighted_cluster = nullptr;  // when picked by weight
  std::string cluster_from_header;                         // cluster_header routes
  uint32_t status = 0;  // redirect, direct response, or 404 for NR
  std::string location;
  std::string_view body;
  std::optional<std::string> path_rewrite;  // new :path (query kept) when rewritten
  std::optional<std::string> host_rewrite;  // new :authority when rewritten

  bool forwards() const { return outcome == Outcome::kCluster; }
  bool noRoute() const {
    return outcome == Outcome::kNoVirtualHost || outcome == Outcome::kNoRoute;
  }
  // Empty when a cluster_header route found no header: treat as cluster not
  // found (route->cluster.cluster_not_found_status, flag NC).
  std::string_view clusterName() const;
  // Header mutation levels in the order to apply them: by default the most
  // specific first (weighted cluster, route, virtual host, route config), so
  // that the least specific level's overwrite wins; reversed when the route
  // config sets most_specific_header_mutations_wins. Null entries are skipped.
  std::array<const HeaderMutations*, 4> requestHeaderLevels() const;
  std::array<const HeaderMutations*, 4> responseHeaderLevels() const;
  void applyRequestHeaders(HeaderMutator& headers) const;
  void applyResponseHeaders(HeaderMutator& headers) const;
};

struct DomainExplanation {
  std::string host;  // as looked up (port removed if ignore_port_in_host_matching)
  bool matched = false;
  DomainMatchKind kind = DomainMatchKind::kExact;
  std::string domain;  // the configured domain that matched
  std::string virtual_host;
  size_t virtual_host_index = 0;
  size_t hash_probes = 0;  // hash lookups made; bounded by distinct wildcard lengths
};

struct RouteCheck {
  size_t index = 0;
  std::string name;
  bool matched = false;
  std::string detail;  // what matched, or the first condition that did not
};

struct Explanation {
  RouteDecision decision;
  DomainExplanation domain;
  std::vector<RouteCheck> routes;  // in order, up to and including the match
  std::string matched_field;       // "prefix", "path", "safe_regex", ...
  std::string response_flag;       // "NR" when no virtual host or route
  std::string summary;             // one line
  std::string toText() const;      // several lines, for a CLI
};

class RouteTable {
 public:
  static StatusOr<std::shared_ptr<const RouteTable>> compile(
      const envoy::config::route::v3::RouteConfiguration& config);
  // Same, without copying a large configuration the caller no longer needs.
  static StatusOr<std::shared_ptr<const RouteTable>> compile(
      envoy::config::route::v3::RouteConfiguration&& config);

  // Thread: any. The per-request entry point.
  RouteDecision route(const RequestView& request, RandomSource& random) const;
  // Thread: any. Same decision, with its reasons.
  Explanation explain(const RequestView& request, RandomSource& random) const;
  // Virtual host lookup alone (`authority` may carry a port).
  const VirtualHostEntry* findVirtualHost(std::string_view authority,
                                          DomainExplanation* why = nullptr) const;

  const std::string& name() const { return name_; }
  const std::vector<VirtualHostEntry>& virtualHosts() const { return virtual_hosts_; }
  const envoy::config::route::v3::RouteConfiguration& config() const { return config_; }
  const HeaderMutations& requestHeaders() const { return request_headers_; }
  const HeaderMutations& responseHeaders() const { return response_headers_; }
  bool mostSpecificHeaderMutationsWins() const { return most_specific_header_mutations_wins_; }
  // Headers the connection manager strips from requests from outside the mesh.
  const std::vector<std::string>& internalOnlyHeaders() const { return internal_only_headers_; }
  // Whether the config asks for clusters to exist when it is loaded; checked
  // by whoever owns the cluster manager, not here.
  bool validateClusters() const { return validate_clusters_; }

  // The shape of the domain index, so tests can check that lookups probe a
  // hash per distinct wildcard length, never each virtual host.
  struct IndexStats {
    size_t exact_domains = 0;
    size_t suffix_wildcard_lengths = 0;
    size_t prefix_wildcard_lengths = 0;
    bool has_catch_all = false;
  };
  IndexStats indexStats() const;

 private:
  using DomainMap =
      std::unordered_map<std::string, uint32_t, CaseInsensitiveHash, CaseInsensitiveEqual>;
  struct WildcardBucket {
    size_t length = 0;  // of the fixed part
    DomainMap domains;  // fixed part -> virtual host index
  };
  class Compiler;
  friend class Compiler;

  RouteTable() = default;
  RouteDecision match(const RequestView& request, RandomSource& random, Explanation* why) const;

  envoy::config::route::v3::RouteConfiguration config_;
  std::string name_;
  std::vector<VirtualHostEntry> virtual_hosts_;
  DomainMap exact_;
  std::vector<WildcardBucket> suffix_wildcards_;  // longest first
  std::vector<WildcardBucket> prefix_wildcards_;  // longest first
  int catch_all_ = -1;
  bool ignore_port_in_host_matching_ = false;
  bool ignore_path_parameters_ = false;
  bool most_specific_header_mutations_wins_ = false;
  bool validate_clusters_ = false;
  HeaderMutations request_headers_;
  HeaderMutations response_headers_;
  std::vector<std::string> internal_only_headers_;
};

// "host:80" -> "host", "[::1]:80" -> "[::1]"; anything else unchanged.
std::string_view stripPortFromHost(std::string_view host);

}  // namespace remora::router
