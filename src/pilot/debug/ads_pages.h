// pilot's debug pages about the ADS streams and what they carry, as JSON
// (shapes in docs/pilot.md, "Debug and metrics"; remoractl proxy-status
// reads /debug/syncz):
//   /debug/syncz        per proxy and type: sent, acked, nacked with error
//   /debug/adsz         connected proxies, node metadata, admin address, watches
//   /debug/edsz         the ClusterLoadAssignment of every cluster (the seed's query)
//   /debug/config_dump  what pilot would send one proxy, in Envoy's config_dump shape
// Pure functions of their arguments; any thread.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "pilot/ads/discovery_server.h"
#include "pilot/ads/push_context.h"

namespace remora::pilot {

// RFC 3339 UTC with milliseconds; "" for a time never set.
std::string formatTime(WallTime t);

std::string renderSyncz(const std::vector<ConnectionStatus>& connections, const PushContext* ctx);
std::string renderAdsz(const std::vector<ConnectionStatus>& connections);
// Every namespace's view, one entry per cluster name (the first namespace
// in name order wins); `proxy_id` ("pod.ns"), when given, picks one proxy's
// view. NotFound for an unknown proxy.
StatusOr<std::string> renderEdsz(const PushContext& ctx, const std::string& proxy_id);
// A pod of the snapshot: its four types as `remora-pilot translate` prints
// them. A connected proxy that is no pod (proxyless, or not in the config):
// what its subscriptions would get now. NotFound otherwise.
StatusOr<std::string> renderConfigDump(const PushContext& ctx,
                                       const std::vector<ConnectionStatus>& connections,
                                       const std::string& proxy_id);

}  // namespace remora::pilot
