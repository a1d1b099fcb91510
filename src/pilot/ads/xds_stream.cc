#include "pilot/ads/xds_stream.h"

#include <algorithm>

namespace remora::pilot {

const std::set<std::string>& NameSet::emptySet() {
  static const std::set<std::string> kEmpty;
  return kEmpty;
}

const char* WatchState::status() const {
  if (sent_nonce.empty()) return "NOT SENT";
  if (acked_nonce == sent_nonce) return "SYNCED";
  if (nacked_nonce == sent_nonce) return "NACKED";
  return "STALE";
}

std::string_view clusterService(std::string_view name) {
  constexpr std::string_view kOutbound = "outbound|";
  if (name.substr(0, kOutbound.size()) != kOutbound) return {};
  size_t port_end = name.find('|', kOutbound.size());
  if (port_end == std::string_view::npos) return {};
  size_t subset_end = name.find('|', port_end + 1);
  if (subset_end == std::string_view::npos) return {};
  return name.substr(subset_end + 1);
}

namespace {

// True when `names` (as a client sent them) are exactly `set`. Clients repeat
// their whole subscription in every ACK (thousands of EDS names for a
// sidecar of a large mesh); this spares rebuilding the set each time.
bool sameNames(const std::vector<std::string>& names, const NameSet& set) {
  if (names.size() != set.size()) return false;
  if (std::is_sorted(names.begin(), names.end()) &&
      std::adjacent_find(names.begin(), names.end()) == names.end()) {
    return std::equal(names.begin(), names.end(), set.begin());
  }
  return std::all_of(names.begin(), names.end(),
                     [&](const std::string& n) { return set.count(n) > 0; }) &&
         std::set<std::string>(names.begin(), names.end()).size() == set.size();
}

}  // namespace

void XdsStream::setNames(ResourceType type, const std::vector<std::string>& names) {
  WatchState& w = mutableWatch(type);
  bool wildcard_type = type == ResourceType::kListener || type == ResourceType::kCluster;
  bool star = std::find(names.begin(), names.end(), "*") != names.end();
  if (wildcard_type && (star || (names.empty() && !w.named_before))) {
    w.wildcard = true;
    w.names = NameSet();
  } else {
    w.wildcard = false;
    if (!names.empty()) w.named_before = true;
    if (sameNames(names, w.names)) return;
    w.names = NameSet(std::set<std::string>(names.begin(), names.end()));
  }
  if (type == ResourceType::kEndpoint) {
    eds_by_service_.clear();
    for (const auto& n : w.names) {
      std::string_view fqdn = clusterService(n);
      if (fqdn.empty()) continue;
      auto it = eds_by_service_.find(fqdn);
      if (it == eds_by_service_.end()) it = eds_by_service_.emplace(fqdn, 0).first;
      it->second.push_back(n);
    }
  }
}

XdsStream::RequestResult XdsStream::onRequest(const XdsRequest& request, WallTime now) {
  WatchState& w = mutableWatch(request.type);
  RequestResult result;
  if (request.response_nonce.empty()) {
    // A new subscription, or the client starting over: answer it in full,
    // forgetting any response it will no longer acknowledge.
    w.subscribed = true;
    setNames(request.type, request.resource_names);
    w.in_flight = false;
    w.pending_full = true;
    result.outcome = Outcome::kSubscribe;
    return result;
  }
  if (request.response_nonce != w.sent_nonce) {
    result.outcome = Outcome::kStale;
    return result;
  }
  if (w.in_flight) {
    if (request.has_error) {
      w.nacked_version = w.sent_version;
      w.nacked_nonce = w.sent_nonce;
      w.nack_error = request.error_message;
      w.nacked_at = now;
      ++w.nacks;
      result.outcome = Outcome::kNack;
    } else {
      w.acked_version = request.version_info;
      w.acked_nonce = w.sent_nonce;
      w.acked_at = now;
      ++w.acks;
      result.outcome = Outcome::kAck;
      result.acked_published = w.sent_published;
    }
    w.in_flight = false;
  }
  // An ACK also carries the client's current subscription: Envoy announces
  // the clusters of a new CDS this way. Names not yet answered need a
  // response; names dropped need none.
  bool was_wildcard = w.wildcard;
  setNames(request.type, request.resource_names);
  bool new_names =
      w.names.size() > w.answered.size() ||
      !std::includes(w.answered.begin(), w.answered.end(), w.names.begin(), w.names.end());
  if ((w.wildcard && !was_wildcard) || (!w.wildcard && new_names)) w.pending_full = true;
  return result;
}

void XdsStream::onPush(bool full, const std::vector<std::string>& services) {
  for (ResourceType t : kPushOrder) {
    WatchState& w = mutableWatch(t);
    if (!w.subscribed) continue;
    if (full) {
      w.pending_full = true;
    } else if (t == ResourceType::kEndpoint) {
      for (const auto& s : services) {
        if (eds_by_service_.count(s)) w.pending_services.insert(s);
      }
    }
  }
}

bool XdsStream::watchesEndpointsOf(const std::string& fqdn) const {
  return eds_by_service_.count(fqdn) > 0;
}

std::optional<SendPlan> XdsStream::nextSend() {
  bool blocked = false;
  for (ResourceType t : kPushOrder) {
    WatchState& w = mutableWatch(t);
    if (!w.subscribed) continue;
    if (!w.pending_full && w.pending_services.empty()) continue;
    SendPlan plan;
    plan.type = t;
    plan.wildcard = w.wildcard;
    if (w.pending_full) {
      plan.names.assign(w.names.begin(), w.names.end());
    } else {
      plan.endpoints_only = true;
      if (t == ResourceType::kEndpoint) {
        for (const auto& s : w.pending_services) {
          auto it = eds_by_service_.find(s);
          if (it != eds_by_service_.end()) {
            plan.names.insert(plan.names.end(), it->second.begin(), it->second.end());
          }
        }
        std::sort(plan.names.begin(), plan.names.end());
      }
      if (plan.names.empty()) {
        w.pending_services.clear();
        continue;
      }
    }
    // A named type with nothing subscribed has nothing to answer.
    if (!plan.wildcard && plan.names.empty()) continue;
    if (w.in_flight) {
      blocked = true;
      continue;
    }
    if (blocked) continue;
    return plan;
  }
  return std::nullopt;
}

void XdsStream::markSent(const SendPlan& plan, const std::string& version, const std::string& nonce,
                         SteadyTime published, WallTime now) {
  WatchState& w = mutableWatch(plan.type);
  w.sent_version = version;
  w.sent_nonce = nonce;
  w.sent_at = now;
  w.sent_published = published;
  w.sent_resources = 0;
  w.in_flight = true;
  ++w.responses;
  w.pending_services.clear();
  if (!plan.endpoints_only) {
    w.pending_full = false;
    w.answered = w.names;
  }
}

}  // namespace remora::pilot
