// Histograms of durations in milliseconds, with Envoy's default buckets, for
// the stats Envoy keeps as histograms (cluster.<name>.upstream_rq_time).
// StatsStore holds counters and gauges; histograms live in a Histograms
// registry beside it, and admin renders both.
//
// Thread: record() from any worker (relaxed atomics); registration on the
// main thread while compiling configuration; rendering on the main thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace remora::upstream {

class Histogram {
 public:
  // Envoy's default bucket upper bounds, in milliseconds.
  static constexpr std::array<double, 19> kBounds = {
      0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
      2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  static constexpr size_t kBuckets = kBounds.size() + 1;  // the last is +Inf

  void record(uint64_t ms);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  // Per-bucket (not cumulative) counts.
  std::array<uint64_t, kBuckets> buckets() const;
  // The value below which `q` (0..1) of the samples fall, interpolated
  // within its bucket; 0 when empty.
  double quantile(double q) const;
  // Envoy's /stats form: "P0(1,1) P25(2.5,2.5) ... P100(10,10)", or "No recorded values".
  std::string summary() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
};

class Histograms {
 public:
  // Thread: any; the histogram lives as long as the registry.
  Histogram& histogram(const std::string& family, const std::string& scope,
                       const std::string& metric);
  // "family.scope.metric: summary" lines, sorted.
  std::string renderText() const;
  // Prometheus histograms (_bucket with le, _sum, _count), Envoy's names and tags.
  std::string renderPrometheus() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  mutable std::mutex lock_;
  std::deque<Histogram> storage_;
  std::map<Key, Histogram*> by_name_;
};

}  // namespace remora::upstream
