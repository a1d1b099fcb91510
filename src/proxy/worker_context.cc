#include "proxy/worker_context.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "proxy/config_snapshot.h"

namespace remora::proxy {

namespace {
constexpr size_t kMaxPooledPipes = 128;
// ORIGINAL_DST destinations whose pools went empty are swept once this many
// exist, so a worker that saw many destinations does not keep them all.
constexpr size_t kMaxIdleDestinations = 256;
}  // namespace

ClusterState::ClusterState(upstream::ClusterSharedPtr cluster, upstream::PoolContext& pools,
                           uint64_t seed)
    : cluster_(std::move(cluster)),
      pool_context_(pools),
      lb_(upstream::makeLoadBalancer(cluster_->lbConfig(), seed)) {}

ClusterState::~ClusterState() = default;

const upstream::HostSet& ClusterState::hosts() {
  uint64_t v = cluster_->hostsVersion();
  if (v != version_ || !hosts_) {
    version_ = v;
    upstream::HostSetConstSharedPtr next = cluster_->hosts();
    // Pools of hosts no longer in the set finish their requests and go.
    for (auto it = pools_.begin(); it != pools_.end();) {
      bool kept =
          std::any_of(next->hosts.begin(), next->hosts.end(),
                      [&](const upstream::HostSharedPtr& h) { return h.get() == it->first; });
      if (kept) {
        ++it;
        continue;
      }
      it->second->drain();
      draining_.push_back(std::move(it->second));
      it = pools_.erase(it);
    }
    hosts_ = std::move(next);
    dropEmptyDrainingPools();
  }
  return *hosts_;
}

void ClusterState::dropEmptyDrainingPools() {
  draining_.erase(
      std::remove_if(draining_.begin(), draining_.end(), [](const auto& p) { return p->empty(); }),
      draining_.end());
}

upstream::ConnPool& ClusterState::poolFor(const upstream::HostSharedPtr& host) {
  auto& pool = pools_[host.get()];
  if (!pool) pool = std::make_unique<upstream::ConnPool>(pool_context_, cluster_, host);
  return *pool;
}

upstream::ConnPool& ClusterState::poolForDestination(const network::SocketAddress& destination) {
  auto it = by_destination_.find(destination);
  if (it != by_destination_.end()) return *it->second;
  if (by_destination_.size() >= kMaxIdleDestinations) {
    for (auto i = by_destination_.begin(); i != by_destination_.end();) {
      i = i->second->empty() ? by_destination_.erase(i) : std::next(i);
    }
  }
  auto host = std::make_shared<upstream::Host>();
  host->address = destination;
  auto pool = std::make_unique<upstream::ConnPool>(pool_context_, cluster_, std::move(host));
  upstream::ConnPool& ref = *pool;
  by_destination_.emplace(destination, std::move(pool));
  return ref;
}

WorkerContext::WorkerContext(event::Dispatcher& dispatcher)
    : dispatcher_(dispatcher),
      http_{dispatcher, flush_, date_, fast_random_},
      pool_context_{dispatcher, flush_} {}

WorkerContext::~WorkerContext() = default;

void ClusterState::drainPools() {
  for (auto& [host, pool] : pools_) {
    pool->drain();
    draining_.push_back(std::move(pool));
  }
  pools_.clear();
  for (auto& [destination, pool] : by_destination_) {
    pool->drain();
    draining_.push_back(std::move(pool));
  }
  by_destination_.clear();
}

bool ClusterState::idle() {
  dropEmptyDrainingPools();
  return pools_.empty() && by_destination_.empty() && draining_.empty();
}

void WorkerContext::setSnapshot(std::shared_ptr<const ConfigSnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    const upstream::Cluster& c = it->second->cluster();
    const upstream::ClusterSharedPtr* current = snapshot_->findCluster(c.name());
    if (current != nullptr && current->get() == &c) {
      ++it;
      continue;
    }
    it->second->drainPools();
    if (it->second->idle()) {
      it = clusters_.erase(it);
    } else {
      ++it;
    }
  }
}

ClusterState& WorkerContext::clusterState(const upstream::ClusterSharedPtr& cluster) {
  auto& state = clusters_[cluster.get()];
  if (!state) state = std::make_unique<ClusterState>(cluster, pool_context_, random_());
  return *state;
}

StatusOr<SplicePipe> WorkerContext::takePipe(size_t capacity) {
  for (size_t i = free_pipes_.size(); i > 0; --i) {
    if (free_pipes_[i - 1].capacity >= capacity) {
      SplicePipe p = std::move(free_pipes_[i - 1]);
      free_pipes_.erase(free_pipes_.begin() + static_cast<long>(i - 1));
      return p;
    }
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return errnoError("pipe2", errno);
  SplicePipe p;
  p.read_end = network::Fd(fds[0]);
  p.write_end = network::Fd(fds[1]);
  int granted = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(capacity));
  if (granted < 0) granted = fcntl(fds[1], F_GETPIPE_SZ);
  p.capacity = granted > 0 ? static_cast<size_t>(granted) : 65536;
  return p;
}

void WorkerContext::returnPipe(SplicePipe pipe) {
  if (pipe.bytes != 0 || !pipe.read_end.valid() || free_pipes_.size() >= kMaxPooledPipes) return;
  free_pipes_.push_back(std::move(pipe));
}

}  // namespace remora::proxy
