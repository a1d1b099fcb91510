#include "pilot/pilot_main.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/logging.h"
#include "pilot/cli.h"
#include "pilot/debug/configz.h"
#include "pilot/model/config_store.h"
#include "pilot/server.h"

namespace remora::pilot {

int pilotMain(int argc, char** argv) {
  CLI::App app{"remora-pilot: the Remora control plane"};
  PilotOptions options;
  std::string log_level = "info";
  int debounce_after_ms = 100, debounce_max_ms = 10000;
  app.add_option("--config-dir", options.config_dir,
                 "folder of Kubernetes and Istio YAML to serve");
  app.add_option(
      "--mesh-config", options.mesh_config,
      "Istio MeshConfig YAML (default: ConfigMap istio-system/istio in the folder, else defaults)");
  app.add_option("--grpc-addr", options.grpc_addr, "ADS (xDS over gRPC) address")
      ->capture_default_str();
  app.add_option("--http-addr", options.http_addr,
                 "debug pages, /metrics, /ready and the config API")
      ->capture_default_str();
  app.add_option("--push-workers", options.push_workers, "threads that build and send pushes")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--debounce-after-ms", debounce_after_ms,
                 "rebuild once the folder has been quiet this long (PILOT_DEBOUNCE_AFTER)")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--debounce-max-ms", debounce_max_ms,
                 "rebuild at the latest this long after a change (PILOT_DEBOUNCE_MAX)")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warning, error, critical, off");

  auto* configz = app.add_subcommand(
      "configz",
      "print what pilot accepts and refuses in a folder (its /debug/configz page), then exit");
  configz->add_option("--config-dir", options.config_dir, "folder of Kubernetes and Istio YAML")
      ->required();
  configz->add_option("--mesh-config", options.mesh_config, "Istio MeshConfig YAML");

  auto* translate =
      app.add_subcommand("translate", "print the xDS resources one proxy would get, then exit");
  std::string proxy, type_name;
  translate->add_option("--config-dir", options.config_dir, "folder of Kubernetes and Istio YAML")
      ->required();
  translate->add_option("--mesh-config", options.mesh_config, "Istio MeshConfig YAML");
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
    std::cout << renderConfigz(
        *MeshSnapshot::build(loadConfigDir(options.config_dir, options.mesh_config)));
    return 0;
  }
  if (translate->parsed()) {
    std::optional<ResourceType> type;
    if (!type_name.empty()) {
      ResourceType t;
      parseShortTypeName(type_name, &t);
      type = t;
    }
    return runTranslate(options.config_dir, options.mesh_config, proxy, type, std::cout, std::cerr);
  }
  if (options.config_dir.empty()) {
    std::cerr << "--config-dir is required\n" << app.help();
    return 2;
  }
  for (const auto* addr : {&options.grpc_addr, &options.http_addr}) {
    if (auto hp = splitHostPort(*addr); !hp.ok()) {
      std::cerr << "remora-pilot: " << hp.status().message() << "\n";
      return 2;
    }
  }
  options.debounce_after = std::chrono::milliseconds(debounce_after_ms);
  options.debounce_max = std::chrono::milliseconds(debounce_max_ms);
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  PilotServer server(options);
  if (Status s = server.start(); !s.ok()) {
    REMORA_LOG_ERROR("{}", s.toString());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  REMORA_LOG_INFO("remora-pilot: signal {}, stopping", sig);
  server.stop();
  return 0;
}

}  // namespace remora::pilot
