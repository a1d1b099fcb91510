#include "pilot/cli.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "common/logging.h"
#include "pilot/debug/configz.h"
#include "pilot/model/config_store.h"
#include "pilot/model/snapshot.h"
#include "pilot/source/config_watcher.h"
#include "pilot/translate/config_dump.h"

namespace remora::pilot {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) {
  g_stop = 1;
}

}  // namespace

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

int pilotMain(int argc, char** argv) {
  CLI::App app{"remora-pilot: the Remora control plane"};
  std::string config_dir, mesh_config, log_level = "info";
  app.add_option("--config-dir", config_dir, "folder of Kubernetes and Istio YAML to serve");
  app.add_option(
      "--mesh-config", mesh_config,
      "Istio MeshConfig YAML (default: ConfigMap istio-system/istio in the folder, else defaults)");
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warning, error, critical, off");

  auto* configz = app.add_subcommand(
      "configz",
      "print what pilot accepts and refuses in a folder (its /debug/configz page), then exit");
  configz->add_option("--config-dir", config_dir, "folder of Kubernetes and Istio YAML")
      ->required();
  configz->add_option("--mesh-config", mesh_config, "Istio MeshConfig YAML");

  auto* translate =
      app.add_subcommand("translate", "print the xDS resources one proxy would get, then exit");
  std::string proxy, type_name;
  translate->add_option("--config-dir", config_dir, "folder of Kubernetes and Istio YAML")
      ->required();
  translate->add_option("--mesh-config", mesh_config, "Istio MeshConfig YAML");
  translate->add_option("--proxy", proxy, "<pod>.<namespace>")->required();
  translate->add_option("--type", type_name, "lds, rds, cds or eds (default: all)")
      ->check(CLI::IsMember({"lds", "rds", "cds", "eds"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto s = setLogLevel(log_level); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  if (configz->parsed()) {
    std::cout << renderConfigz(*MeshSnapshot::build(loadConfigDir(config_dir, mesh_config)));
    return 0;
  }
  if (translate->parsed()) {
    std::optional<ResourceType> type;
    if (!type_name.empty()) {
      ResourceType t;
      parseShortTypeName(type_name, &t);
      type = t;
    }
    return runTranslate(config_dir, mesh_config, proxy, type, std::cout, std::cerr);
  }
  if (config_dir.empty()) {
    std::cerr << "--config-dir is required\n" << app.help();
    return 2;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  ConfigWatcher watcher(config_dir, mesh_config, [](std::shared_ptr<const MeshSnapshot> snapshot) {
    REMORA_LOG_INFO("snapshot {}: {} services, {} proxies, {} refused, {} warnings",
                    snapshot->version(), snapshot->services().size(), snapshot->proxyIds().size(),
                    snapshot->refusals().size(), snapshot->warnings().size());
    for (const auto& r : snapshot->refusals())
      REMORA_LOG_WARN("refused: {}", r.toString());
    for (const auto& w : snapshot->warnings())
      REMORA_LOG_WARN("{}", w);
  });
  Status s = watcher.run([] { return g_stop != 0; });
  if (!s.ok()) {
    REMORA_LOG_ERROR("{}", s.toString());
    return 1;
  }
  return 0;
}

}  // namespace remora::pilot
