#include "pilot/ads/metrics.h"

#include <fmt/format.h>

namespace remora::pilot {
namespace {

constexpr ResourceType kTypes[] = {ResourceType::kCluster, ResourceType::kEndpoint,
                                   ResourceType::kListener, ResourceType::kRoute};

std::vector<double> timeBuckets() {
  return {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 10, 30};
}

std::string typeLabel(ResourceType t) {
  return fmt::format("type=\"{}\"", shortTypeName(t));
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(value * 1e6), std::memory_order_relaxed);
}

void Histogram::render(const std::string& name, const std::string& labels, std::string* out) const {
  std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, sep, bounds_[i], cumulative);
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  *out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, sep, cumulative);
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += fmt::format("{}_sum{} {}\n", name, braces,
                      static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6);
  *out += fmt::format("{}_count{} {}\n", name, braces, cumulative);
}

PilotMetrics::PilotMetrics() : convergence_(timeBuckets()) {
  for (int i = 0; i < 4; ++i)
    push_time_.emplace_back(timeBuckets());
}

void PilotMetrics::pushed(ResourceType type, size_t bytes,
                          std::chrono::steady_clock::duration build_time) {
  pushes_[index(type)].fetch_add(1, kRelaxed);
  bytes_[index(type)].fetch_add(bytes, kRelaxed);
  push_time_[index(type)].observe(std::chrono::duration<double>(build_time).count());
}

void PilotMetrics::converged(std::chrono::steady_clock::duration since_published) {
  convergence_.observe(std::chrono::duration<double>(since_published).count());
}

std::string PilotMetrics::render() const {
  std::string out;
  out += "# HELP pilot_xds Number of connected ADS streams.\n# TYPE pilot_xds gauge\n";
  out += fmt::format("pilot_xds {}\n", connected_.load(kRelaxed));
  out += "# HELP pilot_xds_pushes Responses sent, by type.\n# TYPE pilot_xds_pushes counter\n";
  for (auto t : kTypes)
    out += fmt::format("pilot_xds_pushes{{{}}} {}\n", typeLabel(t), pushes(t));
  out += "# HELP pilot_xds_push_bytes_total Bytes of resources sent, by type.\n";
  out += "# TYPE pilot_xds_push_bytes_total counter\n";
  for (auto t : kTypes) {
    out += fmt::format("pilot_xds_push_bytes_total{{{}}} {}\n", typeLabel(t),
                       bytes_[index(t)].load(kRelaxed));
  }
  out += "# HELP pilot_xds_push_time_seconds Time to build and queue one response.\n";
  out += "# TYPE pilot_xds_push_time_seconds histogram\n";
  for (auto t : kTypes)
    push_time_[index(t)].render("pilot_xds_push_time_seconds", typeLabel(t), &out);
  out += "# HELP pilot_proxy_convergence_time Seconds from a config change to its ACK.\n";
  out += "# TYPE pilot_proxy_convergence_time histogram\n";
  convergence_.render("pilot_proxy_convergence_time", "", &out);
  out += "# HELP pilot_total_xds_rejects Responses NACKed by proxies, by type.\n";
  out += "# TYPE pilot_total_xds_rejects counter\n";
  for (auto t : kTypes)
    out += fmt::format("pilot_total_xds_rejects{{{}}} {}\n", typeLabel(t), rejects(t));
  out += "# HELP pilot_push_triggers Snapshots pushed: full (config) or eds (endpoints only).\n";
  out += "# TYPE pilot_push_triggers counter\n";
  out += fmt::format("pilot_push_triggers{{type=\"full\"}} {}\n", full_triggers_.load(kRelaxed));
  out += fmt::format("pilot_push_triggers{{type=\"eds\"}} {}\n", eds_triggers_.load(kRelaxed));
  out += "# HELP pilot_xds_stale_nonces Requests ignored because their nonce was stale.\n";
  out += "# TYPE pilot_xds_stale_nonces counter\n";
  out += fmt::format("pilot_xds_stale_nonces {}\n", stale_.load(kRelaxed));
  out += "# HELP pilot_snapshot_version Version of the config being served.\n";
  out += "# TYPE pilot_snapshot_version gauge\n";
  out += fmt::format("pilot_snapshot_version {}\n", version_.load(kRelaxed));
  return out;
}

}  // namespace remora::pilot
