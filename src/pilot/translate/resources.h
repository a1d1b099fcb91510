// What generators produce: named, immutable xDS resources. Shared pointers let
// the per-namespace caches of ConfigGenerator hand the same Cluster object to
// every proxy in a namespace without copying.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace remora::pilot {

enum class ResourceType { kListener, kRoute, kCluster, kEndpoint };

// "type.googleapis.com/envoy.config.listener.v3.Listener" etc.
const char* typeUrl(ResourceType type);
// "lds", "rds", "cds", "eds".
const char* shortTypeName(ResourceType type);
bool parseShortTypeName(std::string_view name, ResourceType* type);

struct Resource {
  std::string name;
  std::shared_ptr<const google::protobuf::Message> message;
};

// Always sorted by name, so output and pushes are deterministic.
using ResourceList = std::vector<Resource>;

void sortByName(ResourceList* list);

}  // namespace remora::pilot
