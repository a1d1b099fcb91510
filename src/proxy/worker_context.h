// What a connection handler needs from the worker it runs on: the event loop,
// per-worker load balancer state, reusable pipes and a random source. Owned
// by one worker thread; never shared.
#pragma once

#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "event/dispatcher.h"
#include "network/socket.h"
#include "upstream/cluster.h"
#include "upstream/load_balancer.h"

namespace remora::proxy {

// A kernel pipe used to splice bytes between two sockets without copying them
// through user space. Its capacity is the per-direction buffer limit.
struct SplicePipe {
  network::Fd read_end;
  network::Fd write_end;
  size_t capacity = 0;
  size_t bytes = 0;  // bytes currently inside the pipe
};

class WorkerContext {
 public:
  explicit WorkerContext(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  event::Dispatcher& dispatcher() { return dispatcher_; }
  std::mt19937_64& random() { return random_; }

  upstream::LoadBalancer& loadBalancerFor(const upstream::Cluster& cluster);

  // A pipe of at least `capacity` bytes (rounded up to what the kernel
  // grants); reused pipes skip two system calls per connection.
  StatusOr<SplicePipe> takePipe(size_t capacity);
  // Returns an empty pipe for reuse; a pipe with bytes in it is closed.
  void returnPipe(SplicePipe pipe);

 private:
  event::Dispatcher& dispatcher_;
  std::mt19937_64 random_{std::random_device{}()};
  // Keyed by cluster identity; a replaced cluster gets a fresh balancer.
  std::unordered_map<const upstream::Cluster*, std::unique_ptr<upstream::LoadBalancer>> lbs_;
  std::vector<SplicePipe> free_pipes_;
};

}  // namespace remora::proxy
