#include "common/stats.h"

#include <sstream>

namespace remora {
namespace {

// Envoy's tag name for each scope family.
std::string tagName(const std::string& family) {
  if (family == "cluster") return "envoy_cluster_name";
  if (family == "listener") return "envoy_listener_address";
  if (family == "http") return "envoy_http_conn_manager_prefix";
  if (family == "tcp") return "envoy_tcp_prefix";
  return "envoy_" + family + "_name";
}

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string promMetric(const StatName& n) {
  std::string m = "envoy_" + n.family + "_" + n.metric;
  for (char& c : m) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return m;
}

template <typename Map>
void renderProm(const Map& stats, const char* type, std::ostringstream& out) {
  std::string last;
  for (const auto& [name, stat] : stats) {
    std::string metric = promMetric(name);
    if (metric != last) {
      out << "# TYPE " << metric << " " << type << "\n";
      last = metric;
    }
    out << metric;
    if (!name.scope.empty())
      out << "{" << tagName(name.family) << "=\"" << escapeLabel(name.scope) << "\"}";
    out << " " << stat->value() << "\n";
  }
}

}  // namespace

std::string StatName::text() const {
  if (scope.empty()) return family + "." + metric;
  return family + "." + scope + "." + metric;
}

Counter& StatsStore::counter(const std::string& family, const std::string& scope,
                             const std::string& metric) {
  std::lock_guard<std::mutex> l(lock_);
  StatName name{family, scope, metric};
  auto it = counters_.find(name);
  if (it != counters_.end()) return *it->second;
  Counter* c = &counter_storage_.emplace_back();
  counters_.emplace(std::move(name), c);
  return *c;
}

Gauge& StatsStore::gauge(const std::string& family, const std::string& scope,
                         const std::string& metric) {
  std::lock_guard<std::mutex> l(lock_);
  StatName name{family, scope, metric};
  auto it = gauges_.find(name);
  if (it != gauges_.end()) return *it->second;
  Gauge* g = &gauge_storage_.emplace_back();
  gauges_.emplace(std::move(name), g);
  return *g;
}

std::string StatsStore::renderText(const std::string& filter) const {
  std::lock_guard<std::mutex> l(lock_);
  std::map<std::string, std::string> lines;
  for (const auto& [name, c] : counters_)
    lines[name.text()] = std::to_string(c->value());
  for (const auto& [name, g] : gauges_)
    lines[name.text()] = std::to_string(g->value());
  std::ostringstream out;
  for (const auto& [n, v] : lines) {
    if (!filter.empty() && n.find(filter) == std::string::npos) continue;
    out << n << ": " << v << "\n";
  }
  return out.str();
}

std::string StatsStore::renderPrometheus() const {
  std::lock_guard<std::mutex> l(lock_);
  // Group by metric name first so each # TYPE line precedes all its samples.
  std::map<std::string, std::map<StatName, const Counter*>> counters;
  for (const auto& [n, c] : counters_)
    counters[promMetric(n)].emplace(n, c);
  std::map<std::string, std::map<StatName, const Gauge*>> gauges;
  for (const auto& [n, g] : gauges_)
    gauges[promMetric(n)].emplace(n, g);
  std::ostringstream out;
  for (const auto& [metric, stats] : counters)
    renderProm(stats, "counter", out);
  for (const auto& [metric, stats] : gauges)
    renderProm(stats, "gauge", out);
  return out.str();
}

int64_t StatsStore::valueOf(const std::string& text_name) const {
  std::lock_guard<std::mutex> l(lock_);
  for (const auto& [n, c] : counters_) {
    if (n.text() == text_name) return static_cast<int64_t>(c->value());
  }
  for (const auto& [n, g] : gauges_) {
    if (n.text() == text_name) return g->value();
  }
  return -1;
}

}  // namespace remora
