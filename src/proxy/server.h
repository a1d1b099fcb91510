// The remora-proxy process: loads the bootstrap, compiles it into a snapshot,
// opens the listening sockets, runs the workers, serves admin on the main
// thread, and drains on SIGTERM or /quitquitquit.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/stats.h"
#include "event/dispatcher.h"
#include "proxy/admin_server.h"
#include "proxy/config_snapshot.h"
#include "proxy/worker.h"

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

  // For tests: blocks until run() is serving (or failed).
  const ConfigSnapshot& snapshot() const { return *snapshot_; }
  StatsStore& stats() { return stats_; }
  upstream::Histograms& histograms() { return histograms_; }

 private:
  Server() = default;
  Status bindAll();
  void registerAdminHandlers();
  void startDrain(const std::string& why);
  std::string configDumpJson() const;
  std::string clustersText() const;
  std::string clustersJson() const;

  ServerOptions options_;
  StatsStore stats_;
  upstream::Histograms histograms_;
  ConfigSnapshotConstSharedPtr snapshot_;
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
