#include "pilot/debug/ads_pages.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <set>

#include "pilot/debug/json_writer.h"
#include "pilot/translate/config_dump.h"

namespace remora::pilot {
namespace {

std::string protoJson(const google::protobuf::Message& m) {
  auto json = toJson(m);
  return json.ok() ? *json : "null";
}

void writeWatch(ResourceType type, const WatchState& w, JsonWriter* out) {
  out->key(shortTypeName(type));
  out->beginObject();
  out->field("typeUrl", typeUrl(type));
  out->field("status", w.status());
  out->field("subscribed", w.subscribed);
  out->field("wildcard", w.wildcard);
  out->field("names", static_cast<int64_t>(w.names.size()));
  out->field("sentVersion", w.sent_version);
  out->field("sentNonce", w.sent_nonce);
  out->field("sentAt", formatTime(w.sent_at));
  out->field("sentResources", static_cast<int64_t>(w.sent_resources));
  out->field("ackedVersion", w.acked_version);
  out->field("ackedNonce", w.acked_nonce);
  out->field("ackedAt", formatTime(w.acked_at));
  out->field("nackedVersion", w.nacked_version);
  out->field("nackedNonce", w.nacked_nonce);
  out->field("nackError", w.nack_error);
  out->field("nackedAt", formatTime(w.nacked_at));
  out->field("pending", w.pending_full || !w.pending_services.empty());
  out->field("responses", w.responses);
  out->field("acks", w.acks);
  out->field("nacks", w.nacks);
  out->endObject();
}

void writeIdentity(const ConnectionStatus& c, JsonWriter* out) {
  out->field("proxy", c.node.identity.proxyId());
  out->field("connectionId", c.connection_id);
  out->field("nodeId", c.node.node_id);
  out->field("known", c.known);
  out->field("proxyless", c.proxyless);
  out->field("adminAddress", c.node.admin_address);
  out->field("connectedAt", formatTime(c.connected_at));
}

}  // namespace

std::string formatTime(WallTime t) {
  if (t == WallTime{}) return "";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(secs), ms % 1000);
}

std::string renderSyncz(const std::vector<ConnectionStatus>& connections, const PushContext* ctx) {
  JsonWriter w;
  w.beginObject();
  w.field("version", ctx ? ctx->version() : std::string());
  w.key("proxies");
  w.beginArray();
  for (const auto& c : connections) {
    w.beginObject();
    writeIdentity(c, &w);
    w.key("types");
    w.beginObject();
    for (ResourceType t : kPushOrder)
      writeWatch(t, c.watches[static_cast<size_t>(t)], &w);
    w.endObject();
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.take();
}

std::string renderAdsz(const std::vector<ConnectionStatus>& connections) {
  JsonWriter w;
  w.beginObject();
  w.field("totalClients", static_cast<int64_t>(connections.size()));
  w.key("clients");
  w.beginArray();
  for (const auto& c : connections) {
    w.beginObject();
    writeIdentity(c, &w);
    w.field("peer", c.peer);
    w.field("cluster", c.node.cluster);
    w.field("userAgent", c.node.user_agent);
    w.key("metadata");
    w.raw(protoJson(c.node.node.metadata()));
    w.key("watches");
    w.beginObject();
    for (ResourceType t : kPushOrder) {
      const WatchState& ws = c.watches[static_cast<size_t>(t)];
      w.key(shortTypeName(t));
      w.beginArray();
      if (ws.subscribed && ws.wildcard) w.value("*");
      for (const auto& n : ws.names)
        w.value(n);
      w.endArray();
    }
    w.endObject();
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.take();
}

StatusOr<std::string> renderEdsz(const PushContext& ctx, const std::string& proxy_id) {
  const MeshSnapshot& snapshot = ctx.snapshot();
  std::vector<ProxyNode> views;
  if (!proxy_id.empty()) {
    auto proxy = snapshot.findProxy(proxy_id);
    if (!proxy) return notFoundError("no pod \"" + proxy_id + "\" (want <pod>.<namespace>)");
    views.push_back(*proxy);
  } else {
    std::set<std::string> namespaces;
    for (const auto& s : snapshot.services())
      namespaces.insert(s.namespace_);
    for (const auto& id : snapshot.proxyIds())
      namespaces.insert(snapshot.findProxy(id)->namespace_);
    for (const auto& ns : namespaces) {
      ProxyNode p;
      p.namespace_ = ns;
      views.push_back(p);
    }
  }
  std::set<std::string, std::less<>> seen;
  JsonWriter w;
  w.beginArray();
  for (const auto& view : views) {
    for (const auto& r : ctx.generator().generate(ResourceType::kEndpoint, view)) {
      if (!seen.emplace(r.name()).second) continue;
      w.raw(protoJson(r.message()));
    }
  }
  w.endArray();
  return w.take();
}

StatusOr<std::string> renderConfigDump(const PushContext& ctx,
                                       const std::vector<ConnectionStatus>& connections,
                                       const std::string& proxy_id) {
  if (auto pod = ctx.snapshot().findProxy(proxy_id); pod && !pod->ip.empty()) {
    return toJson(buildConfigDump(ctx.generator(), *pod, std::nullopt));
  }
  for (const auto& c : connections) {
    if (c.node.identity.proxyId() != proxy_id) continue;
    bool known = false;
    ProxyNode proxy = ctx.proxyFor(c.node.identity, &known);
    auto source = [&](ResourceType t) {
      const WatchState& ws = c.watches[static_cast<size_t>(t)];
      SendPlan plan;
      plan.type = t;
      plan.wildcard = ws.wildcard;
      plan.names.assign(ws.names.begin(), ws.names.end());
      if (!ws.subscribed || (!plan.wildcard && plan.names.empty())) return ResourceList{};
      return ctx.resources(plan, proxy, c.proxyless);
    };
    return toJson(buildConfigDump(source, std::nullopt));
  }
  return notFoundError("no pod or connected proxy \"" + proxy_id + "\" (want <pod>.<namespace>)");
}

}  // namespace remora::pilot
