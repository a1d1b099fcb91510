#include "pilot/translate/resources.h"

#include <algorithm>

namespace remora::pilot {

const char* typeUrl(ResourceType type) {
  switch (type) {
    case ResourceType::kListener:
      return "type.googleapis.com/envoy.config.listener.v3.Listener";
    case ResourceType::kRoute:
      return "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    case ResourceType::kCluster:
      return "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    case ResourceType::kEndpoint:
      return "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  }
  return "";
}

const char* shortTypeName(ResourceType type) {
  switch (type) {
    case ResourceType::kListener:
      return "lds";
    case ResourceType::kRoute:
      return "rds";
    case ResourceType::kCluster:
      return "cds";
    case ResourceType::kEndpoint:
      return "eds";
  }
  return "";
}

bool parseShortTypeName(std::string_view name, ResourceType* type) {
  for (auto t : {ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster,
                 ResourceType::kEndpoint}) {
    if (name == shortTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

void sortByName(ResourceList* list) {
  std::stable_sort(list->begin(), list->end(),
                   [](const Resource& a, const Resource& b) { return a.name < b.name; });
}

}  // namespace remora::pilot
