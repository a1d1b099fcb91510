// The xDS protocol state of one ADS stream (state of the world), apart from
// gRPC and from what the resources contain, so that it can be tested request
// by request. Per resource type it keeps the subscription, the last response
// sent (version, nonce), the last ACK and the last NACK with its error, and
// the work waiting to be sent.
//
// Rules (Envoy's xds_protocol page; Istio's push behaviour):
// - A request without a nonce is a (re)subscription and is answered.
// - A request whose nonce is not the last one sent for its type is stale and
//   ignored: the client has not seen our newest response yet and will answer
//   that one.
// - A request with the last nonce is an ACK, or a NACK when it carries
//   error_detail. A NACKed config is not resent; the next change is.
// - LDS and CDS are wildcard when the first request names nothing (or names
//   "*"); a client that named resources and then sends an empty list
//   unsubscribes. RDS and EDS are always by name.
// - At most one response per type is unacknowledged. A push that finds one in
//   flight waits; later pushes merge into it (coalescing), and it goes out
//   when the ACK or NACK arrives.
// - A full push goes out in the order CDS, EDS, LDS, RDS, and a type never
//   overtakes an earlier one that is waiting for its ACK (make before break:
//   a listener must not arrive before the clusters it names).
// - An endpoint-only push sends EDS, only the clusters of the services whose
//   endpoints changed, only when the stream watches them.
//
// Not thread-safe: the owner (AdsConnection) holds its lock around every call.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pilot/translate/resources.h"

namespace remora::pilot {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// The order of a full push.
inline constexpr std::array<ResourceType, 4> kPushOrder = {
    ResourceType::kCluster, ResourceType::kEndpoint, ResourceType::kListener, ResourceType::kRoute};

// What a client sent, stripped of the wire format.
struct XdsRequest {
  ResourceType type = ResourceType::kCluster;
  std::string version_info;
  std::string response_nonce;
  std::vector<std::string> resource_names;
  bool has_error = false;  // error_detail present: a NACK
  std::string error_message;
};

// An immutable set of resource names that copies share: a sidecar of a
// large mesh subscribes to thousands of EDS names, and its WatchState is
// copied for every debug page and its names for every full response.
class NameSet {
 public:
  NameSet() = default;
  explicit NameSet(std::set<std::string> names)
      : set_(std::make_shared<const std::set<std::string>>(std::move(names))) {}
  const std::set<std::string>& get() const { return set_ ? *set_ : emptySet(); }
  std::set<std::string>::const_iterator begin() const { return get().begin(); }
  std::set<std::string>::const_iterator end() const { return get().end(); }
  size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  size_t count(const std::string& name) const { return get().count(name); }
  bool operator==(const std::set<std::string>& other) const { return get() == other; }
  bool operator==(const NameSet& other) const { return set_ == other.set_ || get() == other.get(); }

 private:
  static const std::set<std::string>& emptySet();
  std::shared_ptr<const std::set<std::string>> set_;
};

// The state of one type on one stream, as /debug/syncz shows it.
struct WatchState {
  bool subscribed = false;  // a request for the type has arrived
  bool wildcard = false;
  bool named_before = false;  // for the legacy wildcard rule
  NameSet names;              // subscribed names (empty with wildcard)
  NameSet answered;           // names the last full response covered (RDS, EDS)

  std::string sent_version;
  std::string sent_nonce;
  WallTime sent_at{};
  size_t sent_resources = 0;
  SteadyTime sent_published{};  // when the config it was built from appeared
  bool in_flight = false;       // sent_nonce awaits an ACK or NACK

  std::string acked_version;
  std::string acked_nonce;
  WallTime acked_at{};

  std::string nacked_version;
  std::string nacked_nonce;
  std::string nack_error;
  WallTime nacked_at{};

  bool pending_full = false;
  std::set<std::string> pending_services;  // endpoint-only: FQDNs

  uint64_t responses = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;

  // "SYNCED": the last response is ACKed; "NACKED": it was refused; "STALE":
  // sent, no answer yet; "NOT SENT": nothing sent (istioctl's words).
  const char* status() const;
};

// One response to build: its type and which resources it carries.
struct SendPlan {
  ResourceType type = ResourceType::kCluster;
  bool wildcard = false;
  // Named types: the names to answer (all subscribed ones, or for an
  // endpoint-only push the watched clusters of the changed services).
  std::vector<std::string> names;
  bool endpoints_only = false;
};

class XdsStream {
 public:
  enum class Outcome { kSubscribe, kAck, kNack, kStale };
  struct RequestResult {
    Outcome outcome = Outcome::kSubscribe;
    // For an ACK: when the config it acknowledges appeared (convergence).
    SteadyTime acked_published{};
  };

  RequestResult onRequest(const XdsRequest& request, WallTime now);

  // A new config. `full`: everything may have changed; otherwise only the
  // endpoints of `services` (FQDNs).
  void onPush(bool full, const std::vector<std::string>& services = {});

  // The next response to send now, if any, in push order; the type stays
  // pending until markSent. Drops endpoint-only work for clusters the stream
  // no longer watches.
  std::optional<SendPlan> nextSend();
  // Records a response as sent and clears what it covered.
  void markSent(const SendPlan& plan, const std::string& version, const std::string& nonce,
                SteadyTime published, WallTime now);
  // Fills in the size of a response recorded by markSent.
  void setSentResources(ResourceType type, size_t count) {
    mutableWatch(type).sent_resources = count;
  }

  const WatchState& watch(ResourceType type) const { return watches_[index(type)]; }
  // Services (FQDNs) whose clusters the stream watches through EDS.
  bool watchesEndpointsOf(const std::string& fqdn) const;

 private:
  static size_t index(ResourceType type) { return static_cast<size_t>(type); }
  WatchState& mutableWatch(ResourceType type) { return watches_[index(type)]; }
  void setNames(ResourceType type, const std::vector<std::string>& names);

  std::array<WatchState, 4> watches_;
  // The watched EDS names by service FQDN, so that an endpoint-only push
  // finds its names without scanning thousands of subscriptions.
  std::map<std::string, std::vector<std::string>, std::less<>> eds_by_service_;
};

// The FQDN of an `outbound|<port>|<subset>|<fqdn>` cluster name, else empty.
std::string_view clusterService(std::string_view cluster_name);

}  // namespace remora::pilot
