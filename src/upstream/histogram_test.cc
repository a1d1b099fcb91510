#include "upstream/histogram.h"

#include <gtest/gtest.h>

namespace remora::upstream {
namespace {

TEST(HistogramTest, CountsIntoEnvoysBuckets) {
  Histogram h;
  h.record(0);         // <= 0.5
  h.record(1);         // <= 1
  h.record(3);         // <= 5
  h.record(7000);      // <= 10000
  h.record(99999999);  // +Inf
  auto b = h.buckets();
  EXPECT_EQ(b[0], 1u);
  EXPECT_EQ(b[1], 1u);
  EXPECT_EQ(b[2], 1u);
  EXPECT_EQ(b[12], 1u);
  EXPECT_EQ(b[Histogram::kBuckets - 1], 1u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 0u + 1 + 3 + 7000 + 99999999);
}

TEST(HistogramTest, QuantilesInterpolateWithinBuckets) {
  Histogram h;
  EXPECT_EQ(h.summary(), "No recorded values");
  for (int i = 0; i < 100; ++i)
    h.record(3);  // all in (1, 5]
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 3.0);
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 5.0);
  EXPECT_NE(h.summary().find("P50(3,3)"), std::string::npos) << h.summary();
}

TEST(HistogramsTest, RendersTextAndPrometheus) {
  Histograms r;
  Histogram& h = r.histogram("cluster", "outbound|9080||a", "upstream_rq_time");
  EXPECT_EQ(&h, &r.histogram("cluster", "outbound|9080||a", "upstream_rq_time"));
  h.record(2);
  h.record(20);
  std::string text = r.renderText();
  EXPECT_EQ(text.rfind("cluster.outbound|9080||a.upstream_rq_time: P0(", 0), 0u) << text;
  std::string prom = r.renderPrometheus();
  EXPECT_NE(prom.find("# TYPE envoy_cluster_upstream_rq_time histogram\n"), std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"outbound|9080||"
                      "a\",le=\"5\"} 1\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("le=\"25\"} 2\n"), std::string::npos);
  EXPECT_NE(prom.find("le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"outbound|9080||a\"} "
                      "22\n"),
            std::string::npos);
  EXPECT_NE(prom.find("_count{envoy_cluster_name=\"outbound|9080||a\"} 2\n"), std::string::npos);
}

}  // namespace
}  // namespace remora::upstream
