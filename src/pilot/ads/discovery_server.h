// The ADS server: envoy.service.discovery.v3.AggregatedDiscoveryService /
// StreamAggregatedResources (state of the world) on Debian's libgrpc++.
//
// Threads, and why:
// - gRPC's callback API runs each stream as a reactor (AdsConnection):
//   reads and write completions arrive on gRPC's own threads, and each only
//   takes the stream's lock for the protocol bookkeeping of xds_stream.h.
//   No thread per stream, so a thousand idle proxies cost memory, not threads.
// - Building a response (translation, serialization) can take milliseconds;
//   it never runs on gRPC's threads but on a small pool of push workers
//   (Options::workers). A stream with work to send is queued once; one
//   worker at a time serves it, sending its types in push order, so a
//   stream's responses never reorder.
// - The config source calls onSnapshot on its own thread. Snapshots are
//   immutable and shared (shared_ptr<const PushContext>): swapping in a new one
//   is a pointer exchange under a lock, a worker building from the previous
//   one finishes undisturbed, and the next response of every stream uses the
//   newest. A config change therefore never blocks a stream and a stream
//   never sees half a change.
// Every public method may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "pilot/ads/metrics.h"
#include "pilot/ads/node.h"
#include "pilot/ads/push_context.h"
#include "pilot/ads/xds_stream.h"

namespace remora::pilot {

class AdsConnection;

// One stream as the debug pages show it, copied under the stream's lock.
struct ConnectionStatus {
  std::string connection_id;  // "<pod>.<ns>-<n>"
  std::string peer;           // "ipv4:127.0.0.1:40112"
  WallTime connected_at{};
  bool has_node = false;  // false until the first request arrived
  NodeInfo node;
  bool known = false;                 // the node names a pod of the snapshot
  bool proxyless = false;             // GENERATOR: grpc, or LDS by name
  std::array<WatchState, 4> watches;  // by ResourceType
};

// Resource type URL -> type; false for types pilot does not serve.
bool parseTypeUrl(std::string_view url, ResourceType* type);

class DiscoveryServer {
 public:
  struct Options {
    std::string address = "0.0.0.0:15010";
    int workers = 2;
  };

  DiscoveryServer(Options options, PilotMetrics* metrics);
  ~DiscoveryServer();
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  // Binds and starts serving; streams wait for the first snapshot.
  Status start();
  int port() const { return port_; }
  // Closes every stream (clients reconnect elsewhere or later) and stops.
  void stop();

  // A new config: pushes what changed to the streams that need it.
  void onSnapshot(std::shared_ptr<const MeshSnapshot> snapshot);
  std::shared_ptr<const PushContext> context() const;

  std::vector<ConnectionStatus> connections() const;
  // For tests and benchmarks: true once no stream has work queued or being
  // built (responses may still wait for ACKs).
  bool idle() const;

 private:
  friend class AdsConnection;
  class Service;
  struct Batch {
    bool active = false;
    std::string label;  // "12 (full)", "13 (eds: 2 services)"
    SteadyTime start{};
    size_t proxies = 0;
    std::array<size_t, 4> responses{};
    size_t bytes = 0;
  };

  void schedule(std::shared_ptr<AdsConnection> connection);
  void workerLoop();
  // Frees replaced contexts once no stream uses them (reaper_).
  void reaperLoop();
  void addConnection(const std::shared_ptr<AdsConnection>& connection);
  void removeConnection(uint64_t number);
  void countResponse(ResourceType type, size_t bytes);
  void logBatchLocked(const char* suffix);  // queue_mu_ held
  std::string nextNonce() { return std::to_string(++nonce_); }
  // Logs a node that names no pod once per pilot run.
  void noteUnknownNode(const std::string& proxy_id, const std::string& node_id);

  Options options_;
  PilotMetrics* metrics_;
  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<uint64_t> nonce_{0};
  std::atomic<uint64_t> connection_numbers_{0};

  mutable std::mutex context_mu_;
  std::shared_ptr<const PushContext> context_;

  mutable std::mutex connections_mu_;
  std::map<uint64_t, std::shared_ptr<AdsConnection>> connections_;
  std::set<std::string> unknown_logged_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<AdsConnection>> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  Batch batch_;
  std::vector<std::thread> workers_;

  // A replaced context holds a whole snapshot and its translation (hundreds
  // of MB for a large mesh); freeing it takes tens of milliseconds. Without
  // this, the stream that happened to drop the last reference would free it
  // in the middle of a push. The reaper thread owns the last reference.
  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  std::vector<std::shared_ptr<const PushContext>> retired_;
  bool reaper_stopping_ = false;
  std::thread reaper_;
};

}  // namespace remora::pilot
