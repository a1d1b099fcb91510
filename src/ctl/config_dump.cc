#include "ctl/config_dump.h"

#include <google/protobuf/util/json_util.h>

#include "config/api_types.h"
#include "ctl/json_value.h"

namespace remora::ctl {
namespace {

constexpr std::string_view kTypePrefix = "type.googleapis.com/";

// Parses one JSON object into `out` the way protobuf's JSON mapping reads
// it, ignoring fields our .proto subset lacks (a real Envoy's dump has many).
Status parseMessage(const JsonValue& json, google::protobuf::Message* out,
                    const std::string& what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(writeJson(json, 0), out, options);
  if (!status.ok()) {
    return invalidArgumentError(what + ": " + std::string(status.message()));
  }
  return Status::okStatus();
}

// Envoy v2 listed active listeners as dynamic_active_listeners[] {listener};
// v3 has dynamic_listeners[] {name, active_state {listener}}.
void upgradeV2Listeners(JsonValue& entry) {
  for (const char* key : {"dynamicActiveListeners", "dynamic_active_listeners"}) {
    JsonValue* old = entry.find(key);
    if (old == nullptr || !old->isArray()) continue;
    JsonValue* current = entry.find("dynamicListeners");
    if (current == nullptr) {
      entry.add("dynamicListeners", JsonValue::array());
      current = entry.find("dynamicListeners");
    }
    for (const JsonValue& item : old->items()) {
      JsonValue state = JsonValue::object();
      for (const auto& [k, v] : item.members())
        state.add(k, v);
      current->push(JsonValue::object().add("activeState", std::move(state)));
    }
    *old = JsonValue();
  }
  auto& members = entry.members();
  std::erase_if(members, [](const auto& m) {
    return (m.first == "dynamicActiveListeners" || m.first == "dynamic_active_listeners");
  });
}

template <typename T>
Status unpackInto(const google::protobuf::Any& any, std::vector<T>& out, const std::string& what) {
  T message;
  if (!any.UnpackTo(&message)) {
    return invalidArgumentError(what + ": cannot read " + any.type_url() + " as " +
                                T::descriptor()->full_name());
  }
  out.push_back(std::move(message));
  return Status::okStatus();
}

struct DumpParts {
  std::vector<Listener> static_listeners, dynamic_listeners;
  std::vector<RouteConfiguration> static_routes, dynamic_routes;
  std::vector<Cluster> static_clusters, dynamic_clusters;
  std::vector<ClusterLoadAssignment> static_endpoints, dynamic_endpoints;
};

Status readEntry(const google::protobuf::Message& entry, ProxyConfig& config, DumpParts& parts,
                 const std::string& what) {
  using namespace envoy::admin::v3;
  if (const auto* b = dynamic_cast<const BootstrapConfigDump*>(&entry)) {
    config.bootstrap = *b;
  } else if (const auto* l = dynamic_cast<const ListenersConfigDump*>(&entry)) {
    for (const auto& s : l->static_listeners())
      REMORA_RETURN_IF_ERROR(unpackInto(s.listener(), parts.static_listeners, what));
    for (const auto& d : l->dynamic_listeners()) {
      if (!d.has_active_state() || !d.active_state().has_listener()) continue;
      REMORA_RETURN_IF_ERROR(unpackInto(d.active_state().listener(), parts.dynamic_listeners,
                                        what + ": listener " + d.name()));
    }
  } else if (const auto* c = dynamic_cast<const ClustersConfigDump*>(&entry)) {
    for (const auto& s : c->static_clusters())
      REMORA_RETURN_IF_ERROR(unpackInto(s.cluster(), parts.static_clusters, what));
    for (const auto& d : c->dynamic_active_clusters())
      REMORA_RETURN_IF_ERROR(unpackInto(d.cluster(), parts.dynamic_clusters, what));
  } else if (const auto* r = dynamic_cast<const RoutesConfigDump*>(&entry)) {
    for (const auto& s : r->static_route_configs())
      REMORA_RETURN_IF_ERROR(unpackInto(s.route_config(), parts.static_routes, what));
    for (const auto& d : r->dynamic_route_configs())
      REMORA_RETURN_IF_ERROR(unpackInto(d.route_config(), parts.dynamic_routes, what));
  } else if (const auto* e = dynamic_cast<const EndpointsConfigDump*>(&entry)) {
    for (const auto& s : e->static_endpoint_configs())
      REMORA_RETURN_IF_ERROR(unpackInto(s.endpoint_config(), parts.static_endpoints, what));
    for (const auto& d : e->dynamic_endpoint_configs())
      REMORA_RETURN_IF_ERROR(unpackInto(d.endpoint_config(), parts.dynamic_endpoints, what));
  }
  return Status::okStatus();
}

template <typename T>
std::vector<T> concat(std::vector<T> first, std::vector<T>& second) {
  for (auto& x : second)
    first.push_back(std::move(x));
  return first;
}

}  // namespace

const Cluster* ProxyConfig::findCluster(std::string_view name) const {
  for (const auto& c : clusters) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

const RouteConfiguration* ProxyConfig::findRouteConfig(std::string_view name) const {
  for (const auto& r : route_configs) {
    if (r.name() == name) return &r;
  }
  return nullptr;
}

const ClusterLoadAssignment* ProxyConfig::findEndpoints(std::string_view cluster_name) const {
  for (const auto& e : endpoints) {
    if (e.cluster_name() == cluster_name) return &e;
  }
  return nullptr;
}

StatusOr<ProxyConfig> parseConfigDump(std::string_view json) {
  config::ensureApiTypesLinked();
  auto root = JsonValue::parse(json);
  if (!root.ok()) return root.status().withPrefix("config dump");
  const JsonValue* configs = root->find("configs");
  if (configs == nullptr || !configs->isArray()) {
    return invalidArgumentError("config dump: no \"configs\" list; is this /config_dump output?");
  }
  ProxyConfig config;
  DumpParts parts;
  for (size_t i = 0; i < configs->items().size(); ++i) {
    JsonValue entry = configs->items()[i];
    std::string what = "config dump: configs[" + std::to_string(i) + "]";
    const JsonValue* type = entry.find("@type");
    if (type == nullptr || !type->isString()) return invalidArgumentError(what + ": no @type");
    std::string type_name = type->text();
    if (type_name.starts_with(kTypePrefix)) type_name.erase(0, kTypePrefix.size());
    const auto* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
    if (descriptor == nullptr || !type_name.starts_with("envoy.admin.v3.")) {
      config.skipped.push_back(type->text());
      continue;
    }
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
    std::erase_if(entry.members(), [](const auto& m) { return m.first == "@type"; });
    if (type_name == "envoy.admin.v3.ListenersConfigDump") upgradeV2Listeners(entry);
    REMORA_RETURN_IF_ERROR(parseMessage(entry, message.get(), what + " (" + type_name + ")"));
    REMORA_RETURN_IF_ERROR(readEntry(*message, config, parts, what));
    config.dump.add_configs()->PackFrom(*message);
  }
  config.listeners = concat(std::move(parts.dynamic_listeners), parts.static_listeners);
  config.route_configs = concat(std::move(parts.dynamic_routes), parts.static_routes);
  config.clusters = concat(std::move(parts.dynamic_clusters), parts.static_clusters);
  config.endpoints = concat(std::move(parts.dynamic_endpoints), parts.static_endpoints);
  return config;
}

StatusOr<envoy::admin::v3::Clusters> parseClusters(std::string_view json) {
  config::ensureApiTypesLinked();
  auto root = JsonValue::parse(json);
  if (!root.ok()) return root.status().withPrefix("clusters");
  envoy::admin::v3::Clusters out;
  REMORA_RETURN_IF_ERROR(parseMessage(*root, &out, "clusters"));
  return out;
}

envoy::admin::v3::Clusters clustersFromConfig(const ProxyConfig& config) {
  envoy::admin::v3::Clusters out;
  for (const Cluster& c : config.clusters) {
    auto* status = out.add_cluster_statuses();
    status->set_name(c.name());
    status->set_observability_name(c.name());
    const ClusterLoadAssignment* cla = c.has_load_assignment() ? &c.load_assignment() : nullptr;
    if (cla == nullptr) {
      std::string service = c.eds_cluster_config().service_name().empty()
                                ? c.name()
                                : c.eds_cluster_config().service_name();
      cla = config.findEndpoints(service);
    }
    if (cla == nullptr) continue;
    for (const auto& locality : cla->endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        auto* host = status->add_host_statuses();
        *host->mutable_address() = lb.endpoint().address();
        host->set_weight(lb.has_load_balancing_weight() ? lb.load_balancing_weight().value() : 1);
        host->mutable_health_status()->set_eds_health_status(
            lb.health_status() == envoy::config::core::v3::UNKNOWN
                ? envoy::config::core::v3::HEALTHY
                : lb.health_status());
        host->set_hostname(lb.endpoint().hostname());
        *host->mutable_locality() = locality.locality();
      }
    }
  }
  return out;
}

StatusOr<std::string> messageToJson(const google::protobuf::Message& message) {
  config::ensureApiTypesLinked();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return internalError("JSON conversion of " + message.GetTypeName() +
                         " failed: " + std::string(status.message()));
  }
  return out;
}

}  // namespace remora::ctl
