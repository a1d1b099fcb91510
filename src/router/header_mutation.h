// request/response_headers_to_add and _to_remove at one level of a route
// configuration (route config, virtual host, route, weighted cluster), compiled
// once. Which levels apply, and in which order, is the route table's business
// (RouteDecision::requestHeaderLevels); this file applies one level.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "envoy/config/core/v3/base.pb.h"
#include "router/request_view.h"

namespace remora::router {

// Envoy's HeaderValueOption.HeaderAppendAction, same order.
enum class AppendAction {
  kAppendIfExistsOrAdd,     // add one more entry
  kAddIfAbsent,             // add only if the header is not there
  kOverwriteIfExistsOrAdd,  // replace every entry, or add
  kOverwriteIfExists,       // replace every entry; nothing if absent
};
const char* appendActionName(AppendAction action);

struct HeaderToAdd {
  std::string name;  // lowercase
  std::string value;
  AppendAction action = AppendAction::kAppendIfExistsOrAdd;
};

struct HeaderMutations {
  enum class Side { kRequest, kResponse };

  // `field_prefix` names the level in errors: "virtual_hosts[0].routes[2]." or "".
  static StatusOr<HeaderMutations> compile(
      const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
      const google::protobuf::RepeatedPtrField<std::string>& remove, Side side,
      const std::string& field_prefix);

  bool empty() const { return remove.empty() && add.empty(); }
  // Removals first, then additions in configured order, so that a level can
  // remove a header and add it back with its own value.
  void apply(HeaderMutator& headers) const;

  std::vector<std::string> remove;  // lowercase
  std::vector<HeaderToAdd> add;
};

}  // namespace remora::router
