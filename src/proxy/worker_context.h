// What a connection handler needs from the worker it runs on: the event loop,
// per-cluster state (current hosts, load balancer, connection pools),
// reusable pipes, random sources and the HTTP helpers. Owned by one worker
// thread; never shared.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "event/dispatcher.h"
#include "http/conn_manager.h"
#include "http/io.h"
#include "network/socket.h"
#include "upstream/cluster.h"
#include "upstream/conn_pool.h"
#include "upstream/load_balancer.h"

namespace remora::proxy {

class ConfigSnapshot;

// A kernel pipe used to splice bytes between two sockets without copying them
// through user space. Its capacity is the per-direction buffer limit.
struct SplicePipe {
  network::Fd read_end;
  network::Fd write_end;
  size_t capacity = 0;
  size_t bytes = 0;  // bytes currently inside the pipe
};

// One cluster as this worker sees it.
class ClusterState {
 public:
  ClusterState(upstream::ClusterSharedPtr cluster, upstream::PoolContext& pools, uint64_t seed);
  ~ClusterState();

  const upstream::Cluster& cluster() const { return *cluster_; }
  // The cluster's hosts, re-read only when the cluster announced a new set;
  // pools of hosts that left are drained and later dropped.
  const upstream::HostSet& hosts();
  upstream::LoadBalancer& loadBalancer() { return *lb_; }
  upstream::ConnPool& poolFor(const upstream::HostSharedPtr& host);
  // ORIGINAL_DST: the pool for a destination, its host made on first use.
  upstream::ConnPool& poolForDestination(const network::SocketAddress& destination);
  // The cluster left the configuration: idle connections close now, busy
  // ones after their exchange.
  void drainPools();
  // No pooled connection and no waiting request: the state may go.
  bool idle();

 private:
  void dropEmptyDrainingPools();

  upstream::ClusterSharedPtr cluster_;
  upstream::PoolContext& pool_context_;
  upstream::HostSetConstSharedPtr hosts_;
  uint64_t version_ = 0;
  std::unique_ptr<upstream::LoadBalancer> lb_;
  std::unordered_map<const upstream::Host*, std::unique_ptr<upstream::ConnPool>> pools_;
  std::vector<std::unique_ptr<upstream::ConnPool>> draining_;
  std::map<network::SocketAddress, std::unique_ptr<upstream::ConnPool>> by_destination_;
};

class WorkerContext {
 public:
  explicit WorkerContext(event::Dispatcher& dispatcher);
  ~WorkerContext();

  event::Dispatcher& dispatcher() { return dispatcher_; }
  std::mt19937_64& random() { return random_; }
  http::RandomGenerator& fastRandom() { return fast_random_; }
  http::FlushList& flushList() { return flush_; }
  http::WorkerResources& httpResources() { return http_; }
  upstream::PoolContext& poolContext() { return pool_context_; }

  // The configuration new connections and new requests use on this worker.
  const std::shared_ptr<const ConfigSnapshot>& snapshot() const { return snapshot_; }
  // Worker thread. Installs a new configuration; the state of clusters that
  // are no longer referenced by anything (the snapshot, a connection) is
  // dropped, so removed or replaced clusters do not pile up.
  void setSnapshot(std::shared_ptr<const ConfigSnapshot> snapshot);

  // The state of `cluster` on this worker, made on first use. Keyed by the
  // cluster object: a replaced cluster gets fresh state (and pools).
  ClusterState& clusterState(const upstream::ClusterSharedPtr& cluster);
  upstream::LoadBalancer& loadBalancerFor(const upstream::ClusterSharedPtr& cluster) {
    return clusterState(cluster).loadBalancer();
  }

  // A pipe of at least `capacity` bytes (rounded up to what the kernel
  // grants); reused pipes skip two system calls per connection.
  StatusOr<SplicePipe> takePipe(size_t capacity);
  // Returns an empty pipe for reuse; a pipe with bytes in it is closed.
  void returnPipe(SplicePipe pipe);

 private:
  event::Dispatcher& dispatcher_;
  std::mt19937_64 random_{std::random_device{}()};
  http::RandomGenerator fast_random_{std::random_device{}()};
  http::FlushList flush_{dispatcher_};
  http::DateCache date_;
  http::WorkerResources http_;
  upstream::PoolContext pool_context_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
  std::unordered_map<const upstream::Cluster*, std::unique_ptr<ClusterState>> clusters_;
  std::vector<SplicePipe> free_pipes_;
};

}  // namespace remora::proxy
