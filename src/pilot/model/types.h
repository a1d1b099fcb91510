// The objects pilot reads, as plain data: Kubernetes v1 Service, Pod and
// Endpoints, Istio networking VirtualService, DestinationRule and ServiceEntry,
// and the mesh config. Only the fields pilot uses are kept; the parser
// (parse.h) refuses fields it does not understand instead of dropping them, so
// every field here is one that translation honours.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remora::pilot {

using Labels = std::map<std::string, std::string>;

// Where an object was read from; refusals and warnings quote it.
struct SourceRef {
  std::string file;  // base name inside the config dir
  int document = 0;  // 0-based index of the YAML document in the file
  int line = 0;      // 1-based line of the document's first key
};

struct ObjectMeta {
  std::string name;
  std::string namespace_ = "default";
  Labels labels;
  std::string creation_timestamp;  // RFC 3339 as written; orders rivals
};

// ---- Kubernetes ----

struct K8sServicePort {
  std::string name;
  uint32_t port = 0;
  // targetPort is a number or the name of a container port; both unset means
  // "same as port".
  uint32_t target_port = 0;
  std::string target_port_name;
  std::string protocol = "TCP";
  std::string app_protocol;
};

struct K8sService {
  ObjectMeta meta;
  std::string cluster_ip;  // "", "None" (headless) or an IPv4 address
  std::vector<K8sServicePort> ports;
  bool has_selector = false;  // without one, an Endpoints object lists backends
  Labels selector;
};

struct K8sPod {
  ObjectMeta meta;
  std::string service_account = "default";
  std::string pod_ip;
  std::string phase;  // empty = assume Running
  bool ready = true;  // false only when status.conditions says Ready=False
  std::map<std::string, uint32_t> named_ports;  // containers[].ports[].name
};

struct K8sEndpointAddress {
  std::string ip;
  std::string pod_name;  // from targetRef when it names a Pod
  std::string pod_namespace;
};

struct K8sEndpointPort {
  std::string name;
  uint32_t port = 0;
};

struct K8sEndpointSubset {
  std::vector<K8sEndpointAddress> addresses;
  std::vector<K8sEndpointPort> ports;
};

struct K8sEndpoints {
  ObjectMeta meta;
  std::vector<K8sEndpointSubset> subsets;
};

// ---- Istio networking ----

struct StringMatch {
  enum class Kind { kExact, kPrefix, kRegex };
  Kind kind = Kind::kExact;
  std::string value;
};

struct HttpMatchRequest {
  std::string name;
  std::optional<StringMatch> uri;
  std::optional<StringMatch> method;
  std::optional<StringMatch> authority;
  std::optional<StringMatch> scheme;
  std::map<std::string, StringMatch> headers;
  std::map<std::string, StringMatch> without_headers;
  std::map<std::string, StringMatch> query_params;
  bool ignore_uri_case = false;
  uint32_t port = 0;
  Labels source_labels;
  std::string source_namespace;
  std::vector<std::string> gateways;
};

struct Destination {
  std::string host;  // as written; resolved against the rule's namespace
  std::string subset;
  uint32_t port = 0;
};

struct HeaderOperations {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct Headers {
  HeaderOperations request;
  HeaderOperations response;
};

struct RouteDestination {
  Destination destination;
  std::optional<uint32_t> weight;
  Headers headers;
};

struct HttpRedirect {
  std::string uri;
  std::string authority;
  uint32_t port = 0;
  std::string scheme;
  uint32_t redirect_code = 301;
};

struct HttpRewrite {
  std::string uri;
  std::string authority;
};

struct HttpRetry {
  uint32_t attempts = 0;
  std::optional<int64_t> per_try_timeout_ms;
  std::string retry_on;
};

struct HttpDirectResponse {
  uint32_t status = 0;
  std::string body;
};

struct HttpRoute {
  std::string name;
  std::vector<HttpMatchRequest> match;
  std::vector<RouteDestination> route;
  std::optional<HttpRedirect> redirect;
  std::optional<HttpDirectResponse> direct_response;
  std::optional<HttpRewrite> rewrite;
  std::optional<int64_t> timeout_ms;
  std::optional<HttpRetry> retries;
  Headers headers;
};

struct L4Match {
  uint32_t port = 0;
  Labels source_labels;
  std::string source_namespace;
  std::vector<std::string> gateways;
};

struct TcpRoute {
  std::vector<L4Match> match;
  std::vector<RouteDestination> route;
};

struct VirtualService {
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;
  std::vector<HttpRoute> http;
  std::vector<TcpRoute> tcp;
  std::vector<std::string> export_to;  // empty = "*"
};

// The DestinationRule traffic policy fields the proxy implements; anything
// else is refused by the parser (docs/pilot.md lists them).
struct TrafficPolicy {
  enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom };
  std::optional<LbPolicy> lb_policy;
  std::optional<uint32_t> max_connections;
  std::optional<int64_t> connect_timeout_ms;
  std::optional<uint32_t> http1_max_pending_requests;
  std::optional<uint32_t> max_requests_per_connection;
  std::optional<int64_t> idle_timeout_ms;  // connectionPool.http.idleTimeout
};

struct Subset {
  std::string name;
  Labels labels;
  std::optional<TrafficPolicy> traffic_policy;
};

struct DestinationRule {
  ObjectMeta meta;
  std::string host;
  std::optional<TrafficPolicy> traffic_policy;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
};

struct ServiceEntryPort {
  uint32_t number = 0;
  std::string protocol;
  std::string name;
  uint32_t target_port = 0;
};

struct WorkloadEntry {
  std::string address;
  std::map<std::string, uint32_t> ports;  // port name -> number
  Labels labels;
  std::string locality;  // region/zone/subzone
  uint32_t weight = 0;
};

struct ServiceEntry {
  enum class Location { kMeshExternal, kMeshInternal };
  enum class Resolution { kNone, kStatic };
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> addresses;
  std::vector<ServiceEntryPort> ports;
  Location location = Location::kMeshExternal;
  Resolution resolution = Resolution::kNone;
  std::vector<WorkloadEntry> endpoints;
  std::vector<std::string> export_to;
};

// ---- mesh config ----

struct MeshConfig {
  enum class OutboundPolicy { kAllowAny, kRegistryOnly };
  OutboundPolicy outbound_policy = OutboundPolicy::kAllowAny;
  std::string trust_domain = "cluster.local";
  // Kubernetes DNS suffix of service FQDNs (name.ns.svc.<suffix>).
  std::string domain_suffix = "cluster.local";
  std::string root_namespace = "istio-system";
  // The seed's value (Istio 1.0); modern Istio defaults to 10 s.
  int64_t connect_timeout_ms = 1000;
  uint32_t proxy_listen_port = 15001;
  // Where remora-init sends inbound connections. 0 is the seed's layout
  // (inbound arrives at proxy_listen_port too, like outbound); Istio's modern
  // layout (remora-init -z 15006) needs 15006, which adds a `virtualInbound`
  // listener there that hands connections to the `<podIP>_<port>` listeners.
  uint32_t proxy_inbound_listen_port = 0;
};

}  // namespace remora::pilot
