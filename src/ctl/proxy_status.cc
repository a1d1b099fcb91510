#include "ctl/proxy_status.h"

#include <algorithm>
#include <map>

#include "ctl/config_dump.h"
#include "ctl/json_value.h"
#include "ctl/tab_writer.h"

namespace remora::ctl {
namespace {

// pilot's keys in /debug/syncz "types", in istioctl's column order.
constexpr std::array<std::pair<const char*, const char*>, 4> kTypes = {
    {{"cds", "CDS"}, {"lds", "LDS"}, {"eds", "EDS"}, {"rds", "RDS"}}};

// Istio's default cluster ID, what istiod assumes for a proxy that sends none.
constexpr char kDefaultClusterId[] = "Kubernetes";

std::string stringField(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.find(key);
  return v ? v->text() : std::string();
}

int64_t intField(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.find(key);
  if (!v || v->type() != JsonValue::Type::kNumber) return 0;
  return std::strtoll(v->text().c_str(), nullptr, 10);
}

bool boolField(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.find(key);
  return v && v->asBool();
}

StatusOr<JsonValue> parsePage(std::string_view text, const std::string& page) {
  auto json = JsonValue::parse(text);
  if (!json.ok()) return json.status().withPrefix(page);
  if (!json->isObject()) return invalidArgumentError(page + ": not a JSON object");
  return json;
}

TypeSync readType(const JsonValue& t, const char* name) {
  TypeSync s;
  s.type = name;
  s.status = stringField(t, "status");
  s.subscribed = boolField(t, "subscribed");
  s.wildcard = boolField(t, "wildcard");
  s.names = intField(t, "names");
  s.sent_version = stringField(t, "sentVersion");
  s.sent_nonce = stringField(t, "sentNonce");
  s.sent_at = stringField(t, "sentAt");
  s.sent_resources = intField(t, "sentResources");
  s.acked_version = stringField(t, "ackedVersion");
  s.acked_at = stringField(t, "ackedAt");
  s.nacked_version = stringField(t, "nackedVersion");
  s.nack_error = stringField(t, "nackError");
  s.nacked_at = stringField(t, "nackedAt");
  s.responses = intField(t, "responses");
  s.acks = intField(t, "acks");
  s.nacks = intField(t, "nacks");
  return s;
}

std::string orDash(const std::string& s) {
  return s.empty() ? "-" : s;
}

}  // namespace

StatusOr<PilotSync> parseProxyStatus(std::string_view syncz, std::string_view adsz) {
  REMORA_ASSIGN_OR_RETURN(JsonValue root, parsePage(syncz, "/debug/syncz"));
  const JsonValue* proxies = root.find("proxies");
  if (!proxies || !proxies->isArray()) {
    return invalidArgumentError("/debug/syncz: no \"proxies\" array");
  }
  // adsz, by connection id: the metadata and user agent syncz leaves out.
  std::map<std::string, const JsonValue*> clients;
  JsonValue ads;
  if (!adsz.empty()) {
    REMORA_ASSIGN_OR_RETURN(ads, parsePage(adsz, "/debug/adsz"));
    if (const JsonValue* list = ads.find("clients"); list && list->isArray()) {
      for (const JsonValue& c : list->items())
        clients[stringField(c, "connectionId")] = &c;
    }
  }
  PilotSync out;
  out.version = stringField(root, "version");
  for (size_t i = 0; i < proxies->items().size(); ++i) {
    const JsonValue& p = proxies->items()[i];
    ProxySync s;
    s.proxy = stringField(p, "proxy");
    if (s.proxy.empty()) {
      return invalidArgumentError("/debug/syncz: proxies[" + std::to_string(i) + "]: no \"proxy\"");
    }
    s.connection_id = stringField(p, "connectionId");
    s.node_id = stringField(p, "nodeId");
    s.admin_address = stringField(p, "adminAddress");
    s.connected_at = stringField(p, "connectedAt");
    s.known = boolField(p, "known");
    s.proxyless = boolField(p, "proxyless");
    const JsonValue* types = p.find("types");
    if (!types || !types->isObject()) {
      return invalidArgumentError("/debug/syncz: proxies[" + std::to_string(i) + "] (" + s.proxy +
                                  "): no \"types\" object");
    }
    for (size_t t = 0; t < kTypes.size(); ++t) {
      const JsonValue* type = types->find(kTypes[t].first);
      if (!type || !type->isObject()) {
        return invalidArgumentError("/debug/syncz: proxies[" + std::to_string(i) + "] (" + s.proxy +
                                    "): no types." + kTypes[t].first);
      }
      s.types[t] = readType(*type, kTypes[t].second);
    }
    s.cluster_id = kDefaultClusterId;
    if (auto it = clients.find(s.connection_id); it != clients.end()) {
      const JsonValue& c = *it->second;
      s.peer = stringField(c, "peer");
      s.version = stringField(c, "userAgent");
      if (const JsonValue* meta = c.find("metadata"); meta && meta->isObject()) {
        if (std::string id = stringField(*meta, "CLUSTER_ID"); !id.empty()) s.cluster_id = id;
        if (std::string v = stringField(*meta, "ISTIO_VERSION"); !v.empty()) s.version = v;
      }
    }
    out.proxies.push_back(std::move(s));
  }
  std::sort(out.proxies.begin(), out.proxies.end(), [](const ProxySync& a, const ProxySync& b) {
    return a.proxy != b.proxy ? a.proxy < b.proxy : a.connection_id < b.connection_id;
  });
  return out;
}

std::string proxyStatusTable(const PilotSync& sync, const std::string& pilot_id) {
  std::vector<TableRow> rows = {
      {"NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"}};
  std::string nacks;
  for (const ProxySync& p : sync.proxies) {
    TableRow row = {p.proxy, p.cluster_id};
    for (const TypeSync& t : p.types) {
      row.push_back(t.status);
      if (t.status == "NACKED") {
        nacks += p.proxy + ": " + t.type + " version " + t.nacked_version +
                 " NACKED: " + t.nack_error + "\n";
      }
    }
    row.push_back("NOT SENT");
    row.push_back(pilot_id);
    row.push_back(p.version);
    rows.push_back(std::move(row));
  }
  std::string out = formatTable(rows);
  if (!nacks.empty()) out += "\n" + nacks;
  return out;
}

PodRefMatch matchPodRef(std::string_view proxy_id, std::string_view pod_ref) {
  if (proxy_id == pod_ref) return PodRefMatch::kExact;
  if (proxy_id.size() > pod_ref.size() + 1 && proxy_id.substr(0, pod_ref.size()) == pod_ref &&
      proxy_id[pod_ref.size()] == '.' &&
      proxy_id.find('.', pod_ref.size() + 1) == std::string_view::npos) {
    return PodRefMatch::kPodOnly;
  }
  return PodRefMatch::kNone;
}

StatusOr<std::vector<const ProxySync*>> findProxyStatus(const PilotSync& sync,
                                                        const std::string& pod_ref) {
  std::vector<const ProxySync*> exact, by_pod;
  std::string names;
  for (const ProxySync& p : sync.proxies) {
    PodRefMatch m = matchPodRef(p.proxy, pod_ref);
    if (m == PodRefMatch::kExact) exact.push_back(&p);
    if (m == PodRefMatch::kPodOnly) by_pod.push_back(&p);
    if (names.find(p.proxy) == std::string::npos) names += (names.empty() ? "" : ", ") + p.proxy;
  }
  if (!exact.empty()) return exact;
  if (!by_pod.empty()) {
    for (const ProxySync* p : by_pod) {
      if (p->proxy != by_pod.front()->proxy) {
        return invalidArgumentError("\"" + pod_ref + "\" is connected in several namespaces (" +
                                    by_pod.front()->proxy + ", " + p->proxy +
                                    "); give <pod>.<namespace>");
      }
    }
    return by_pod;
  }
  return notFoundError("no proxy \"" + pod_ref + "\" is connected to pilot (connected: " +
                       (names.empty() ? "none" : names) + ")");
}

std::string proxyStatusDetail(const ProxySync& p) {
  std::vector<TableRow> about = {
      {"Proxy:", p.proxy},
      {"Node:", p.node_id},
      {"Connection:", p.connection_id + (p.peer.empty() ? "" : " from " + p.peer) +
                          (p.connected_at.empty() ? "" : " since " + p.connected_at)},
      {"Admin:", orDash(p.admin_address)},
      {"Pod known to pilot:", p.known ? "yes" : "no (pilot serves it what its node asks)"},
  };
  if (p.proxyless) about.push_back({"Proxyless:", "yes (GENERATOR: grpc)"});
  std::string out = formatTable(about, {0, 8, 1});
  std::vector<TableRow> rows = {{"TYPE", "STATUS", "SUBSCRIBED", "SENT", "SENT AT", "RESOURCES",
                                 "ACKED", "ACKED AT", "NACKED", "RESPONSES/ACKS/NACKS"}};
  std::string errors;
  for (const TypeSync& t : p.types) {
    std::string subscribed = !t.subscribed ? "no"
                             : t.wildcard  ? "*"
                                           : std::to_string(t.names) + " names";
    rows.push_back({t.type, t.status, subscribed, orDash(t.sent_version), orDash(t.sent_at),
                    t.sent_nonce.empty() ? "-" : std::to_string(t.sent_resources),
                    orDash(t.acked_version), orDash(t.acked_at), orDash(t.nacked_version),
                    std::to_string(t.responses) + "/" + std::to_string(t.acks) + "/" +
                        std::to_string(t.nacks)});
    if (!t.nack_error.empty()) {
      errors += t.type + " version " + t.nacked_version + " NACKED at " + t.nacked_at + ": " +
                t.nack_error + "\n";
    }
  }
  out += "\n" + formatTable(rows);
  if (!errors.empty()) out += "\n" + errors;
  return out;
}

namespace {

enum class Kind { kClusters, kListeners, kRoutes, kEndpoints };
constexpr const char* kKindNames[] = {"Clusters", "Listeners", "Routes", "Endpoints"};

// The xDS-delivered resources of a dump, by kind and name, as protobuf JSON.
using ResourceMap = std::array<std::map<std::string, std::string>, 4>;

template <typename M>
void addResource(const google::protobuf::Any& any, const std::string& name_hint,
                 std::map<std::string, std::string>& out) {
  M message;
  if (!any.UnpackTo(&message)) {
    out[name_hint.empty() ? "(" + any.type_url() + ")" : name_hint] = "(unreadable)";
    return;
  }
  auto json = messageToJson(message);
  out[message.name().empty() ? name_hint : message.name()] = json.ok() ? *json : "(unprintable)";
}

ResourceMap dynamicResources(const envoy::admin::v3::ConfigDump& dump) {
  ResourceMap out;
  for (const auto& entry : dump.configs()) {
    envoy::admin::v3::ClustersConfigDump clusters;
    envoy::admin::v3::ListenersConfigDump listeners;
    envoy::admin::v3::RoutesConfigDump routes;
    envoy::admin::v3::EndpointsConfigDump endpoints;
    if (entry.UnpackTo(&clusters)) {
      for (const auto& c : clusters.dynamic_active_clusters()) {
        addResource<Cluster>(c.cluster(), "", out[static_cast<size_t>(Kind::kClusters)]);
      }
    } else if (entry.UnpackTo(&listeners)) {
      for (const auto& l : listeners.dynamic_listeners()) {
        if (!l.has_active_state()) continue;
        addResource<Listener>(l.active_state().listener(), l.name(),
                              out[static_cast<size_t>(Kind::kListeners)]);
      }
    } else if (entry.UnpackTo(&routes)) {
      for (const auto& r : routes.dynamic_route_configs()) {
        addResource<RouteConfiguration>(r.route_config(), "",
                                        out[static_cast<size_t>(Kind::kRoutes)]);
      }
    } else if (entry.UnpackTo(&endpoints)) {
      auto& eds = out[static_cast<size_t>(Kind::kEndpoints)];
      for (const auto& e : endpoints.dynamic_endpoint_configs()) {
        ClusterLoadAssignment cla;
        if (!e.endpoint_config().UnpackTo(&cla)) continue;
        auto json = messageToJson(cla);
        eds[cla.cluster_name()] = json.ok() ? *json : "(unprintable)";
      }
    }
  }
  return out;
}

bool hasType(const envoy::admin::v3::ConfigDump& dump, const google::protobuf::Message& type) {
  return std::any_of(dump.configs().begin(), dump.configs().end(),
                     [&](const google::protobuf::Any& a) {
                       return a.type_url().ends_with("/" + type.GetDescriptor()->full_name());
                     });
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string compareProxyConfig(const envoy::admin::v3::ConfigDump& pilot,
                               const envoy::admin::v3::ConfigDump& proxy) {
  ResourceMap want = dynamicResources(pilot);
  ResourceMap have = dynamicResources(proxy);
  // A proxy dump without EndpointsConfigDump was asked without include_eds.
  bool proxy_has_eds = hasType(proxy, envoy::admin::v3::EndpointsConfigDump());
  std::string out;
  for (size_t k = 0; k < want.size(); ++k) {
    const char* kind = kKindNames[k];
    if (k == static_cast<size_t>(Kind::kEndpoints) && !proxy_has_eds) {
      out += std::string(kind) + ": the proxy's dump has none (not compared)\n";
      continue;
    }
    std::vector<std::string> missing, extra, differ;
    for (const auto& [name, json] : want[k]) {
      auto it = have[k].find(name);
      if (it == have[k].end()) {
        missing.push_back(name);
      } else if (it->second != json) {
        differ.push_back(name);
      }
    }
    for (const auto& [name, json] : have[k]) {
      if (!want[k].count(name)) extra.push_back(name);
    }
    if (missing.empty() && extra.empty() && differ.empty()) {
      out += std::string(kind) + " Match\n";
      continue;
    }
    out += std::string(kind) + " Don't Match\n";
    if (!missing.empty()) out += "  missing in the proxy: " + joinNames(missing) + "\n";
    if (!extra.empty()) out += "  only in the proxy: " + joinNames(extra) + "\n";
    if (!differ.empty()) out += "  different: " + joinNames(differ) + "\n";
  }
  return out;
}

}  // namespace remora::ctl
