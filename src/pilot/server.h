// remora-pilot serving: the config folder watcher, the ADS server (gRPC) and
// the HTTP server for debug pages, metrics, readiness and the config API,
// wired together.
//
// Threads: the watcher runs on its own thread and hands each snapshot to
// the ADS server (which pushes from its workers); the HTTP server runs a
// thread per request. start() and stop() belong to the owner's thread; the
// rest may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/blocking_http.h"
#include "common/status.h"
#include "pilot/ads/discovery_server.h"
#include "pilot/ads/metrics.h"
#include "pilot/source/config_watcher.h"
#include "pilot/source/object_api.h"

namespace remora::pilot {

struct PilotOptions {
  std::string config_dir;
  std::string mesh_config;
  std::string grpc_addr = "0.0.0.0:15010";
  std::string http_addr = "0.0.0.0:15014";
  int push_workers = 2;
  // Istio's PILOT_DEBOUNCE_AFTER and PILOT_DEBOUNCE_MAX.
  std::chrono::milliseconds debounce_after{100};
  std::chrono::milliseconds debounce_max{10000};
  // How long a config API write waits for pilot to serve it.
  std::chrono::milliseconds apply_wait{15000};
};

// "0.0.0.0:15014", "[::]:15014" -> ip, port. Errors name the flag's value.
StatusOr<std::pair<std::string, uint16_t>> splitHostPort(const std::string& address);

class PilotServer {
 public:
  explicit PilotServer(PilotOptions options);
  ~PilotServer();
  PilotServer(const PilotServer&) = delete;
  PilotServer& operator=(const PilotServer&) = delete;

  // Loads the folder (the first snapshot), then serves gRPC and HTTP.
  Status start();
  void stop();

  int grpcPort() const { return ads_.port(); }
  uint16_t httpPort() const { return http_.port(); }
  bool ready() const { return ready_.load(); }
  DiscoveryServer& ads() { return ads_; }
  PilotMetrics& metrics() { return metrics_; }
  // The version of the snapshot being served (0 before the first).
  uint64_t servedVersion() const;

  // One HTTP request (the routes of docs/pilot.md); public for tests.
  BlockingHttpResponse handle(const BlockingHttpRequest& request);

 private:
  void onSnapshot(std::shared_ptr<const MeshSnapshot> snapshot);
  // Waits until a snapshot newer than `version` is served; returns it, or
  // null after `timeout`.
  std::shared_ptr<const MeshSnapshot> waitForSnapshotAfter(uint64_t version,
                                                           std::chrono::milliseconds timeout);
  BlockingHttpResponse handleObjects(const BlockingHttpRequest& request);

  PilotOptions options_;
  PilotMetrics metrics_;
  DiscoveryServer ads_;
  ObjectApi objects_;
  ConfigWatcher watcher_;
  BlockingHttpServer http_;
  std::thread watcher_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};

  mutable std::mutex snapshot_mu_;
  std::condition_variable snapshot_cv_;
  std::shared_ptr<const MeshSnapshot> served_;
  Status watcher_status_;
};

}  // namespace remora::pilot
