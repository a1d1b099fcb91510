#include "upstream/histogram.h"

#include <cmath>
#include <cstdio>

namespace remora::upstream {

namespace {

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string tagName(const std::string& family) {
  if (family == "cluster") return "envoy_cluster_name";
  if (family == "http") return "envoy_http_conn_manager_prefix";
  if (family == "listener") return "envoy_listener_address";
  return "envoy_" + family + "_name";
}

}  // namespace

void Histogram::record(uint64_t ms) {
  size_t i = 0;
  while (i < kBounds.size() && static_cast<double>(ms) > kBounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(ms, std::memory_order_relaxed);
}

std::array<uint64_t, Histogram::kBuckets> Histogram::buckets() const {
  std::array<uint64_t, kBuckets> out{};
  for (size_t i = 0; i < kBuckets; ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double Histogram::quantile(double q) const {
  auto b = buckets();
  uint64_t total = 0;
  for (uint64_t v : b)
    total += v;
  if (total == 0) return 0;
  double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (b[i] == 0) continue;
    if (static_cast<double>(seen + b[i]) >= rank) {
      double lo = i == 0 ? 0 : kBounds[i - 1];
      double hi = i < kBounds.size() ? kBounds[i] : kBounds.back();
      double within =
          b[i] == 0 ? 0 : (rank - static_cast<double>(seen)) / static_cast<double>(b[i]);
      if (within < 0) within = 0;
      return lo + (hi - lo) * within;
    }
    seen += b[i];
  }
  return kBounds.back();
}

std::string Histogram::summary() const {
  if (count() == 0) return "No recorded values";
  static constexpr std::pair<const char*, double> kQuantiles[] = {
      {"P0", 0},     {"P25", 0.25}, {"P50", 0.5},     {"P75", 0.75},    {"P90", 0.9},
      {"P95", 0.95}, {"P99", 0.99}, {"P99.5", 0.995}, {"P99.9", 0.999}, {"P100", 1.0}};
  std::string out;
  for (const auto& [name, q] : kQuantiles) {
    if (!out.empty()) out += ' ';
    std::string v = number(quantile(q));
    out += std::string(name) + "(" + v + "," + v + ")";
  }
  return out;
}

Histogram& Histograms::histogram(const std::string& family, const std::string& scope,
                                 const std::string& metric) {
  std::lock_guard<std::mutex> l(lock_);
  Key key{family, scope, metric};
  auto it = by_name_.find(key);
  if (it != by_name_.end()) return *it->second;
  Histogram* h = &storage_.emplace_back();
  by_name_.emplace(std::move(key), h);
  return *h;
}

std::string Histograms::renderText() const {
  std::lock_guard<std::mutex> l(lock_);
  std::string out;
  for (const auto& [key, h] : by_name_) {
    const auto& [family, scope, metric] = key;
    out += family + "." + (scope.empty() ? "" : scope + ".") + metric + ": " + h->summary() + "\n";
  }
  return out;
}

std::string Histograms::renderPrometheus() const {
  std::lock_guard<std::mutex> l(lock_);
  std::string out;
  std::string last;
  for (const auto& [key, h] : by_name_) {
    const auto& [family, scope, metric] = key;
    std::string name = "envoy_" + family + "_" + metric;
    for (char& c : name) {
      if (!isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    }
    if (name != last) {
      out += "# TYPE " + name + " histogram\n";
      last = name;
    }
    std::string tag;
    if (!scope.empty()) {
      std::string v;
      for (char c : scope) {
        if (c == '\\' || c == '"') v += '\\';
        v += c;
      }
      tag = tagName(family) + "=\"" + v + "\"";
    }
    auto b = h->buckets();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < Histogram::kBuckets; ++i) {
      cumulative += b[i];
      std::string le = i < Histogram::kBounds.size() ? number(Histogram::kBounds[i]) : "+Inf";
      out += name + "_bucket{" + tag + (tag.empty() ? "" : ",") + "le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    std::string labels = tag.empty() ? "" : "{" + tag + "}";
    out += name + "_sum" + labels + " " + std::to_string(h->sum()) + "\n";
    out += name + "_count" + labels + " " + std::to_string(h->count()) + "\n";
  }
  return out;
}

}  // namespace remora::upstream
