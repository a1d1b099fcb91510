// Envoy's /config_dump shape for what pilot would send one proxy: an
// envoy.admin.v3.ConfigDump with Clusters, Listeners, Routes and Endpoints
// dumps, printed as protobuf JSON (lowerCamel keys, like the seed). Used by
// `remora-pilot translate` and the golden tests.
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "pilot/translate/generator.h"

namespace remora::pilot {

// Only `type` when given, else all four in Envoy's order (clusters, listeners,
// routes, endpoints).
envoy::admin::v3::ConfigDump buildConfigDump(const ConfigGenerator& generator,
                                             const ProxyNode& proxy,
                                             std::optional<ResourceType> type);
// The same from any source of resources per type (what a connected proxy
// subscribed to, say).
using ResourceSource = std::function<ResourceList(ResourceType)>;
envoy::admin::v3::ConfigDump buildConfigDump(const ResourceSource& source,
                                             std::optional<ResourceType> type);

// Pretty-printed protobuf JSON, newline-terminated.
StatusOr<std::string> toJson(const google::protobuf::Message& message);

}  // namespace remora::pilot
