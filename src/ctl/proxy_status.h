// `remoractl proxy-status`: istioctl's table of every proxy connected to
// pilot, with the state of each xDS type, read from pilot's /debug/syncz
// (and /debug/adsz for the node metadata istioctl shows), and the detail of
// one proxy, including whether what it runs matches what pilot would send
// it (istioctl's "Clusters Match"). Pure functions; no I/O; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "envoy/admin/v3/config_dump.pb.h"

namespace remora::ctl {

// One xDS type on one stream, as pilot's /debug/syncz reports it.
struct TypeSync {
  std::string type;    // "CDS", "LDS", "EDS", "RDS"
  std::string status;  // pilot's word: SYNCED, NOT SENT, STALE, NACKED
  bool subscribed = false;
  bool wildcard = false;
  int64_t names = 0;  // subscribed names (0 with wildcard)
  std::string sent_version;
  std::string sent_nonce;
  std::string sent_at;
  int64_t sent_resources = 0;
  std::string acked_version;
  std::string acked_at;
  std::string nacked_version;
  std::string nack_error;
  std::string nacked_at;
  int64_t responses = 0;
  int64_t acks = 0;
  int64_t nacks = 0;
};

// One ADS stream (a proxy that reconnected may show twice for a moment).
struct ProxySync {
  std::string proxy;  // "<pod>.<namespace>"
  std::string connection_id;
  std::string node_id;
  std::string admin_address;
  std::string connected_at;
  bool known = false;  // pilot knows the pod
  bool proxyless = false;
  // From /debug/adsz when it was read: the node's metadata and user agent.
  std::string cluster_id;  // metadata CLUSTER_ID; Istio's default "Kubernetes" when absent
  std::string version;     // metadata ISTIO_VERSION, else the user agent
  std::string peer;
  std::array<TypeSync, 4> types;  // CDS, LDS, EDS, RDS: istioctl's column order
};

struct PilotSync {
  std::string version;             // the config version pilot serves
  std::vector<ProxySync> proxies;  // sorted by proxy, then connection
};

// `syncz` is /debug/syncz; `adsz` is /debug/adsz or "" (CLUSTER and VERSION
// then fall back to Istio's defaults). Errors name the page and the field.
StatusOr<PilotSync> parseProxyStatus(std::string_view syncz, std::string_view adsz);

// istioctl's table: NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION
// (tabwriter 0/8/5), one row per stream; ECDS is NOT SENT (pilot serves no
// extension configs); `pilot_id` fills ISTIOD. After the table, one line per
// NACKed type with pilot's record of the error.
std::string proxyStatusTable(const PilotSync& sync, const std::string& pilot_id);

// How a proxy id "<pod>.<namespace>" answers a user's "<pod>[.<namespace>]":
// exactly, by pod name alone (in some namespace), or not.
enum class PodRefMatch { kNone, kExact, kPodOnly };
PodRefMatch matchPodRef(std::string_view proxy_id, std::string_view pod_ref);

// The streams of one proxy ("<pod>.<namespace>" or a unique "<pod>"); NotFound
// listing the connected proxies otherwise.
StatusOr<std::vector<const ProxySync*>> findProxyStatus(const PilotSync& sync,
                                                        const std::string& pod_ref);

// One stream in full: identity, then per type its sent, acked and nacked
// versions and times, with the NACK error.
std::string proxyStatusDetail(const ProxySync& proxy);

// istioctl's `proxy-status <pod>` comparison of what pilot would send
// (`pilot`, /debug/config_dump?proxyID=) with what the proxy runs (`proxy`,
// its /config_dump?include_eds): per type "Clusters Match", or "Clusters
// Don't Match" followed by the names missing, extra or different. Only
// xDS-delivered resources count (the proxy's static ones are its bootstrap's).
std::string compareProxyConfig(const envoy::admin::v3::ConfigDump& pilot,
                               const envoy::admin::v3::ConfigDump& proxy);

}  // namespace remora::ctl
