// pilot's Prometheus metrics, named as istiod names them where it has one
// (reference/istio-facts.md 2.12) so that existing dashboards read them:
//   pilot_xds                          gauge, connected ADS streams
//   pilot_xds_pushes{type}             responses sent, by type (cds, eds, lds, rds)
//   pilot_xds_push_time_seconds{type}  histogram: building and queueing one response
//   pilot_proxy_convergence_time       histogram: config published -> ACK of it
//   pilot_total_xds_rejects{type}      NACKs received
//   pilot_push_triggers{type}          snapshots pushed (full, eds)
//   pilot_xds_stale_nonces             requests ignored for a stale nonce
//   pilot_xds_push_bytes_total{type}   bytes of resources sent
//   pilot_snapshot_version             the version being served
// Updated with relaxed atomics from any thread; render() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "pilot/translate/resources.h"

namespace remora::pilot {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Prometheus lines for `name` with `labels` ("" or `type="cds"`).
  void render(const std::string& name, const std::string& labels, std::string* out) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // non-cumulative; last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class PilotMetrics {
 public:
  PilotMetrics();

  void pushed(ResourceType type, size_t bytes, std::chrono::steady_clock::duration build_time);
  void converged(std::chrono::steady_clock::duration since_published);
  void rejected(ResourceType type) { rejects_[index(type)].fetch_add(1, kRelaxed); }
  void staleNonce() { stale_.fetch_add(1, kRelaxed); }
  void triggered(bool full) { (full ? full_triggers_ : eds_triggers_).fetch_add(1, kRelaxed); }
  void connected(int delta) { connected_.fetch_add(delta, kRelaxed); }
  void setVersion(uint64_t v) { version_.store(v, kRelaxed); }

  uint64_t pushes(ResourceType type) const { return pushes_[index(type)].load(kRelaxed); }
  uint64_t rejects(ResourceType type) const { return rejects_[index(type)].load(kRelaxed); }
  int64_t connectedProxies() const { return connected_.load(kRelaxed); }

  std::string render() const;

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  static size_t index(ResourceType t) { return static_cast<size_t>(t); }

  std::array<std::atomic<uint64_t>, 4> pushes_{};
  std::array<std::atomic<uint64_t>, 4> bytes_{};
  std::array<std::atomic<uint64_t>, 4> rejects_{};
  std::deque<Histogram> push_time_;  // by type (a deque: Histogram cannot move)
  Histogram convergence_;
  std::atomic<uint64_t> stale_{0};
  std::atomic<uint64_t> full_triggers_{0};
  std::atomic<uint64_t> eds_triggers_{0};
  std::atomic<int64_t> connected_{0};
  std::atomic<uint64_t> version_{0};
};

}  // namespace remora::pilot
