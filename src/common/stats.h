// Counters and gauges, named as Envoy names them so that dashboards and
// istioctl-style tools read them unchanged. A stat has a scope family
// ("cluster", "listener", "tcp", "http"), a scope value (the cluster name, the
// listener address, the stat prefix) and a metric name. Text form:
// "cluster.<name>.upstream_cx_total"; Prometheus form:
// envoy_cluster_upstream_cx_total{envoy_cluster_name="<name>"}.
//
// Stats are created (any thread, under a lock) when configuration is compiled
// and never destroyed while the store lives, so the data path keeps plain
// references and updates them with relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace remora {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void inc(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

struct StatName {
  std::string family;  // "cluster", "listener", "tcp", "http", "server" ...
  std::string scope;   // tag value; empty for un-scoped stats like server.*
  std::string metric;  // "upstream_cx_total"

  std::string text() const;  // family.scope.metric
  bool operator<(const StatName& o) const {
    return std::tie(family, scope, metric) < std::tie(o.family, o.scope, o.metric);
  }
};

class StatsStore {
 public:
  Counter& counter(const std::string& family, const std::string& scope, const std::string& metric);
  Gauge& gauge(const std::string& family, const std::string& scope, const std::string& metric);

  // "name: value" lines sorted by name, like Envoy's /stats. `filter` keeps
  // only names containing it.
  std::string renderText(const std::string& filter = "") const;
  // Prometheus text exposition format 0.0.4, like Envoy's /stats/prometheus.
  std::string renderPrometheus() const;
  // Value of a stat by its text name, for tests and the CLI; -1 if absent.
  int64_t valueOf(const std::string& text_name) const;

 private:
  mutable std::mutex lock_;
  // std::deque keeps element addresses stable as it grows.
  std::deque<Counter> counter_storage_;
  std::deque<Gauge> gauge_storage_;
  std::map<StatName, Counter*> counters_;
  std::map<StatName, Gauge*> gauges_;
};

}  // namespace remora
