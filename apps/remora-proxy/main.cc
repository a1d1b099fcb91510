// remora-proxy: the sidecar. Flags follow Envoy's so that an Envoy user's
// command line works: -c, --config-yaml, --concurrency, -l, --mode validate,
// --drain-time-s.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/logging.h"
#include "proxy/server.h"

int main(int argc, char** argv) {
  CLI::App app{"remora-proxy: the Remora sidecar proxy (Envoy v3 bootstrap and xDS)"};
  remora::proxy::ServerOptions options;
  std::string level = "info";
  std::string mode = "serve";
  double drain_seconds = 5;
  app.add_option("-c,--config-path", options.config_path, "Envoy v3 bootstrap file (YAML or JSON)");
  app.add_option("--config-yaml", options.config_yaml,
                 "bootstrap YAML merged over the file (or used alone)");
  app.add_option("--concurrency", options.concurrency, "worker threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  app.add_option("-l,--log-level", level,
                 "trace, debug, info, warning, error, critical, off (default info)");
  app.add_option("--mode", mode, "serve (default) or validate: load, check and exit")
      ->check(CLI::IsMember({"serve", "validate"}));
  app.add_option("--drain-time-s", drain_seconds,
                 "on SIGTERM, how long open connections may finish (default 5)")
      ->check(CLI::Range(0.0, 86400.0));
  CLI11_PARSE(app, argc, argv);

  if (auto s = remora::setLogLevel(level); !s.ok()) {
    std::fprintf(stderr, "remora-proxy: %s\n", s.message().c_str());
    return 2;
  }
  if (options.config_path.empty() && options.config_yaml.empty()) {
    std::fprintf(stderr, "remora-proxy: give a configuration with -c FILE or --config-yaml TEXT\n");
    return 2;
  }
  options.drain_time = std::chrono::milliseconds(static_cast<int64_t>(drain_seconds * 1000));
  auto server = remora::proxy::Server::create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "remora-proxy: invalid configuration: %s\n",
                 server.status().message().c_str());
    return 1;
  }
  if (mode == "validate") {
    std::printf("configuration '%s' OK\n",
                options.config_path.empty() ? "--config-yaml" : options.config_path.c_str());
    return 0;
  }
  return (*server)->run();
}
