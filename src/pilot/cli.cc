#include "pilot/cli.h"

#include <iostream>

#include "pilot/model/config_store.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/config_dump.h"

namespace remora::pilot {

int runTranslate(const std::string& config_dir, const std::string& mesh_config,
                 const std::string& proxy_id, std::optional<ResourceType> type, std::ostream& out,
                 std::ostream& err) {
  auto snapshot = MeshSnapshot::build(loadConfigDir(config_dir, mesh_config));
  for (const auto& r : snapshot->refusals())
    err << "refused: " << r.toString() << "\n";
  for (const auto& w : snapshot->warnings())
    err << "warning: " << w << "\n";
  auto proxy = snapshot->findProxy(proxy_id);
  if (!proxy) {
    err << "error: no pod \"" << proxy_id << "\" in " << config_dir
        << " (want <pod>.<namespace>)\n";
    return 2;
  }
  if (proxy->ip.empty()) {
    err << "error: pod " << proxy_id << " has no status.podIP\n";
    return 2;
  }
  ConfigGenerator generator(snapshot);
  auto json = toJson(buildConfigDump(generator, *proxy, type));
  if (!json.ok()) {
    err << "error: " << json.status().toString() << "\n";
    return 2;
  }
  out << *json;
  if (json->empty() || json->back() != '\n') out << "\n";
  return 0;
}

}  // namespace remora::pilot
