#include "pilot/translate/config_dump.h"

#include <google/protobuf/util/json_util.h>

namespace remora::pilot {
namespace {

// An encoded resource goes in as its bytes: no parse (and no parsed copy
// kept with the resource) for a dump.
void pack(const Resource& r, google::protobuf::Any* out) {
  if (const EncodedMessage* e = r.encoded()) {
    out->set_type_url(typeUrl(r.type()));
    out->set_value(e->bytes().data(), e->bytes().size());
  } else {
    out->PackFrom(r.message());
  }
}

}  // namespace

envoy::admin::v3::ConfigDump buildConfigDump(const ConfigGenerator& generator,
                                             const ProxyNode& proxy,
                                             std::optional<ResourceType> type) {
  return buildConfigDump([&](ResourceType t) { return generator.generate(t, proxy); }, type);
}

envoy::admin::v3::ConfigDump buildConfigDump(const ResourceSource& source,
                                             std::optional<ResourceType> type) {
  envoy::admin::v3::ConfigDump dump;
  auto want = [&](ResourceType t) { return !type || *type == t; };
  if (want(ResourceType::kCluster)) {
    envoy::admin::v3::ClustersConfigDump d;
    for (const auto& r : source(ResourceType::kCluster)) {
      pack(r, d.add_dynamic_active_clusters()->mutable_cluster());
    }
    dump.add_configs()->PackFrom(d);
  }
  if (want(ResourceType::kListener)) {
    envoy::admin::v3::ListenersConfigDump d;
    for (const auto& r : source(ResourceType::kListener)) {
      auto* l = d.add_dynamic_listeners();
      l->set_name(std::string(r.name()));
      pack(r, l->mutable_active_state()->mutable_listener());
    }
    dump.add_configs()->PackFrom(d);
  }
  if (want(ResourceType::kRoute)) {
    envoy::admin::v3::RoutesConfigDump d;
    for (const auto& r : source(ResourceType::kRoute)) {
      pack(r, d.add_dynamic_route_configs()->mutable_route_config());
    }
    dump.add_configs()->PackFrom(d);
  }
  if (want(ResourceType::kEndpoint)) {
    envoy::admin::v3::EndpointsConfigDump d;
    for (const auto& r : source(ResourceType::kEndpoint)) {
      pack(r, d.add_dynamic_endpoint_configs()->mutable_endpoint_config());
    }
    dump.add_configs()->PackFrom(d);
  }
  return dump;
}

StatusOr<std::string> toJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = false;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok())
    return internalError("JSON conversion failed: " + std::string(status.message()));
  return out;
}

}  // namespace remora::pilot
