#include "pilot/ads/xds_stream.h"

#include <algorithm>

namespace remora::pilot {

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

void XdsStream::setNames(ResourceType type, const std::vector<std::string>& names) {
  WatchState& w = mutableWatch(type);
  bool wildcard_type = type == ResourceType::kListener || type == ResourceType::kCluster;
  bool star = std::find(names.begin(), names.end(), "*") != names.end();
  w.names.clear();
  if (wildcard_type && (star || (names.empty() && !w.named_before))) {
    w.wildcard = true;
  } else {
    w.wildcard = false;
    w.names.insert(names.begin(), names.end());
    if (!names.empty()) w.named_before = true;
  }
  if (type == ResourceType::kEndpoint) {
    eds_services_.clear();
    for (const auto& n : w.names) {
      std::string_view fqdn = clusterService(n);
      if (!fqdn.empty()) eds_services_.emplace(fqdn);
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
  bool new_names = std::any_of(w.names.begin(), w.names.end(),
                               [&](const std::string& n) { return !w.answered.count(n); });
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
        if (eds_services_.count(s)) w.pending_services.insert(s);
      }
    }
  }
}

bool XdsStream::watchesEndpointsOf(const std::string& fqdn) const {
  return eds_services_.count(fqdn) > 0;
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
      for (const auto& n : w.names) {
        if (w.pending_services.count(std::string(clusterService(n)))) plan.names.push_back(n);
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
