// The remora-proxy process: loads the bootstrap, compiles it into a snapshot,
// opens the listening sockets, runs the workers, serves admin on the main
// thread, and drains on SIGTERM or /quitquitquit.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/stats.h"
#include "config/bootstrap.h"
#include "event/dispatcher.h"
#include "proxy/admin_server.h"
#include "proxy/config_snapshot.h"
#include "proxy/dynamic_resources.h"
#include "proxy/worker.h"
#include "xds/ads_client.h"

namespace remora::proxy {

struct ServerOptions {
  std::string config_path;  // -c
  std::string config_yaml;  // --config-yaml, merged over the file
  int concurrency = 0;      // 0: one worker per core
  std::chrono::milliseconds drain_time{5000};
};

class Server {
 public:
  // Loads, validates and compiles the configuration; binds nothing. The
  // error names the file and field at fault.
  static StatusOr<std::unique_ptr<Server>> create(const ServerOptions& options);
  ~Server();

  // Binds listeners and admin and serves until drained; returns the exit code.
  int run();

  // The running configuration (main thread).
  const ConfigSnapshot& snapshot() const { return *snapshot_; }
  StatsStore& stats() { return stats_; }
  upstream::Histograms& histograms() { return histograms_; }

 private:
  Server() = default;
  Status bindAll();
  // Listening sockets for `l`, one per worker (SO_REUSEPORT).
  StatusOr<std::vector<network::Fd>> openSockets(const CompiledListener& l, size_t workers);
  // xDS: the client and what it applies, once admin is bound (node metadata
  // carries the admin address).
  void startXds();
  // A new configuration from xDS: sockets for new bound listeners, the rest
  // closed, every worker updated.
  void publish(ConfigSnapshotConstSharedPtr next);
  bool initialized() const;
  void registerAdminHandlers();
  void startDrain(const std::string& why);
  std::string configDumpJson() const;
  std::string clustersText() const;
  std::string clustersJson() const;

  ServerOptions options_;
  StatsStore stats_;
  upstream::Histograms histograms_;
  ConfigSnapshotConstSharedPtr snapshot_;
  std::optional<config::AdsSettings> ads_settings_;
  std::unique_ptr<DynamicResources> dynamic_;
  std::unique_ptr<xds::AdsClient> ads_;
  std::set<network::SocketAddress> bound_;  // addresses the workers listen on
  std::unique_ptr<event::Dispatcher> main_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<event::FileEvent> signal_event_;
  int signal_fd_ = -1;
  bool draining_ = false;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<event::Timer> drain_poll_;
};

}  // namespace remora::proxy
