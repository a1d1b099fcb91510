// What happened to one request, for the access log and stats: timings, sizes,
// the response code and Envoy's response flags. Filled by the connection
// manager and the filters; read by access loggers when the stream ends.
//
// Thread: the worker owning the stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/stats.h"
#include "event/dispatcher.h"
#include "http/codec.h"
#include "http/header_map.h"
#include "network/address.h"

namespace remora::http {

// Envoy's response flags (the access log's %RESPONSE_FLAGS%), same meaning,
// same short names, printed in Envoy's order.
enum ResponseFlag : uint32_t {
  kNoHealthyUpstream = 1u << 0,                // UH
  kUpstreamRequestTimeout = 1u << 1,           // UT
  kLocalReset = 1u << 2,                       // LR
  kUpstreamRemoteReset = 1u << 3,              // UR
  kUpstreamConnectionFailure = 1u << 4,        // UF
  kUpstreamConnectionTermination = 1u << 5,    // UC
  kUpstreamOverflow = 1u << 6,                 // UO
  kNoRouteFound = 1u << 7,                     // NR
  kDownstreamConnectionTermination = 1u << 8,  // DC
  kUpstreamRetryLimitExceeded = 1u << 9,       // URX
  kStreamIdleTimeout = 1u << 10,               // SI
  kDownstreamProtocolError = 1u << 11,         // DPE
  kUpstreamProtocolError = 1u << 12,           // UPE
  kNoClusterFound = 1u << 13,                  // NC
};

// "UH,UT" or "-" when no flag is set.
std::string responseFlagsToString(uint32_t flags);

// Counts a response in the counter of its status class: [0] for 1xx ...
// [4] for 5xx (anything else counts as 5xx).
inline void countStatusClass(uint32_t status, Counter* const (&by_class)[5]) {
  uint32_t c = status / 100;
  by_class[c >= 1 && c <= 5 ? c - 1 : 4]->inc();
}

// The downstream connection a stream arrived on.
struct ConnectionInfo {
  network::SocketAddress remote;  // the client
  // Where the client connected: the original destination after an iptables
  // REDIRECT, which an ORIGINAL_DST cluster forwards to.
  network::SocketAddress local;
  std::string requested_server_name;  // SNI, when a TLS inspector saw one
  uint64_t id = 0;
};

struct StreamInfo {
  std::chrono::system_clock::time_point start_time;  // wall clock, for the access log
  event::MonotonicTime start;
  event::MonotonicTime end;
  Protocol protocol = Protocol::kHttp11;
  uint32_t response_code = 0;  // 0: no response was sent
  uint32_t response_flags = 0;
  // Envoy's %RESPONSE_CODE_DETAILS%: "via_upstream", "route_not_found", ...
  std::string_view response_code_details;
  uint64_t bytes_received = 0;  // request body bytes
  uint64_t bytes_sent = 0;      // response body bytes
  std::optional<network::SocketAddress> upstream_host;
  std::optional<network::SocketAddress> upstream_local_address;
  std::string_view upstream_cluster;  // points into the configuration in use
  std::string_view route_name;
  std::string_view local_reply_body;
  const ConnectionInfo* connection = nullptr;
  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;

  void setFlag(ResponseFlag f) { response_flags |= f; }
  bool hasFlag(ResponseFlag f) const { return (response_flags & f) != 0; }
};

}  // namespace remora::http
