#include "proxy/worker_context.h"

#include <fcntl.h>
#include <unistd.h>

namespace remora::proxy {

namespace {
constexpr size_t kMaxPooledPipes = 128;
}

upstream::LoadBalancer& WorkerContext::loadBalancerFor(const upstream::Cluster& cluster) {
  auto& lb = lbs_[&cluster];
  if (!lb) lb = upstream::makeLoadBalancer(cluster.lbPolicy());
  return *lb;
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
