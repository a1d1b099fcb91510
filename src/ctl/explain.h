// `remoractl explain`: one request followed through a proxy's real config,
// the way the seed article follows productpage's call by hand: the pod's nat
// rules, the virtual listener's hand-off by original destination, the filter
// chain, the route configuration, virtual host and route, the cluster and its
// endpoints; or where it stops (Passthrough/BlackHole, 404 NR, 503 NC, 503 UH).
//
// Every decision is made by the proxy's own code (listener::FilterChainMatcher,
// listener::selectListenerForOriginalDst, listener::detectHttp,
// router::RouteTable, upstream::makeHostSet); this file only feeds them the
// request and writes down what they said. Pure: no I/O, so it is tested on
// config dumps alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "ctl/config_dump.h"
#include "ctl/json_value.h"
#include "ctl/nat_trace.h"
#include "envoy/admin/v3/clusters.pb.h"
#include "network/address.h"

namespace remora::ctl {

struct ExplainRequest {
  std::string method = "GET";
  std::string scheme = "http";
  std::string host;  // from the URL: a name or an IP literal
  uint16_t port = 80;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // -H, in order

  // Where the connection goes: the URL's host resolved as the pod would
  // (outbound), or the pod's own IP (inbound), with the URL's port.
  network::IpAddress destination;
  std::string resolved_by;  // "IP literal", "/etc/netns/remora-x/hosts", ...

  bool inbound = false;
  // The pod the proxy runs in; unknown with --admin alone.
  std::optional<network::IpAddress> pod_ip;

  // Host header as curl sends it: host, plus ":port" unless it is 80; a -H
  // Host wins.
  std::string authority() const;
};

// Parses "[http://]host[:port][/path]" (IPv4 or a name, as the lab has) into
// host, port and path of `out`.
Status parseExplainUrl(std::string_view url, ExplainRequest& out);
// "Name: value" as curl's -H takes it.
StatusOr<std::pair<std::string, std::string>> parseHeaderFlag(std::string_view flag);
// The first address a hosts(5) file gives `name` (case-insensitive), if any.
std::optional<network::IpAddress> lookupHostsFile(std::string_view hosts_text,
                                                  std::string_view name);

struct ExplainInput {
  const ProxyConfig* config = nullptr;
  // The proxy's /clusters; null: endpoints come from the config dump and are
  // reported as such.
  const envoy::admin::v3::Clusters* clusters = nullptr;
  // `iptables-save -t nat` from the pod's namespace; empty: the capture step
  // is skipped with `capture_skipped` as the reason, and the proxy's usual
  // capture ports (outbound 15001, inbound 15006 else 15001) are assumed.
  std::string nat_save;
  std::string capture_skipped;
  uint32_t app_uid = 0;      // who sends outbound requests (never the proxy's 1337)
  uint64_t random_seed = 1;  // for weighted clusters
};

enum class ExplainOutcome {
  kForwarded,          // to a cluster with an eligible endpoint
  kPassthrough,        // to PassthroughCluster / an ORIGINAL_DST cluster: the original destination
  kBlackHole,          // to BlackHoleCluster: closed (TCP) or 503 (HTTP)
  kNotCaptured,        // the nat rules let it go straight to the destination
  kNoProxyListener,    // redirected to a port no listener binds
  kNoFilterChain,      // the listener closes the connection
  kNoRouteConfig,      // RDS name the proxy has not received: 404 NR
  kNoVirtualHost,      // 404 NR
  kNoRoute,            // 404 NR
  kLocalReply,         // a redirect or direct response route
  kClusterNotFound,    // 503 NC (HTTP) / connection closed (TCP)
  kNoHealthyUpstream,  // 503 UH (HTTP) / connection closed (TCP)
  kConfigError,        // the dump holds something the proxy could not have compiled
};
const char* explainOutcomeName(ExplainOutcome o);  // "forwarded", "no_virtual_host", ...

struct ExplainEndpoint {
  std::string address;  // "10.244.0.21:9080"
  std::string health;   // EDS health status name
  bool failed_outlier_check = false;
  bool eligible = false;
  uint32_t weight = 1;
};

// The decisions, each filled in once the request got that far.
struct ExplainResult {
  ExplainRequest request;

  // Capture.
  bool capture_evaluated = false;
  std::string capture_chain;  // "OUTPUT" or "PREROUTING"
  NatPacket packet;
  struct CaptureStep {
    std::string rule;  // as iptables-save prints it
    bool matched = false;
    std::string why_not;
    int64_t packets = -1;  // the rule's counter when read, -1 if unknown
  };
  std::vector<CaptureStep> capture_steps;  // every rule looked at, in order
  std::string capture_note;
  uint16_t capture_port = 0;  // where the proxy receives it; 0 if not captured

  // Listener hand-off.
  std::string receiving_listener;  // bound to capture_port
  bool use_original_dst = false;
  network::SocketAddress original_destination;
  std::string handoff;   // "exact", "wildcard", "none" (the receiving listener keeps it)
  std::string listener;  // the listener whose filter chains are matched
  std::string listener_address;

  // Filter chain.
  std::string transport_protocol;
  std::vector<std::string> application_protocols;
  struct ChainStage {
    std::string stage, input, bucket;
    bool matched = false;
  };
  std::vector<ChainStage> chain_stages;
  std::string chain;     // "filter_chains[1] \"name\"" or "default_filter_chain"
  int chain_index = -1;  // -1: default chain or none
  std::vector<std::string> deciding_fields;  // stages whose bucket was specific
  std::string network_filter;                // tcp_proxy or http_connection_manager

  // HTTP routing.
  std::string route_config;  // its name
  bool route_config_inline = false;
  std::string virtual_host;
  std::string domain;                     // the configured domain that matched
  std::string domain_match;               // exact, suffix wildcard, prefix wildcard, any
  std::string route;                      // "#0 \"default\""
  std::string route_match;                // "prefix \"/\""
  std::vector<std::string> route_checks;  // one line per route tried
  std::string virtual_service;            // from route metadata

  // Upstream.
  std::string cluster;
  std::string cluster_type;                    // EDS, STATIC, ORIGINAL_DST...
  std::string destination_rule;                // from cluster metadata
  std::vector<std::string> weighted_clusters;  // "name (weight w)"
  std::string endpoints_source;                // "/clusters" or "config dump"
  std::vector<ExplainEndpoint> endpoints;

  // Result.
  ExplainOutcome outcome = ExplainOutcome::kConfigError;
  int http_status = 0;             // 0 for TCP and for forwarded requests
  std::string response_flag;       // NR, NC, UH
  std::string summary;             // one line
  std::vector<std::string> notes;  // assumptions made (skipped capture, ...)
};

// Follows `request` through `input`. Never fails: a broken config is an
// outcome (kConfigError) with the proxy's own error message.
ExplainResult explainRequest(const ExplainRequest& request, const ExplainInput& input);

// Text for people, one block per step; JSON for tools.
std::string formatExplainText(const ExplainResult& result);
JsonValue explainJson(const ExplainResult& result);

}  // namespace remora::ctl
