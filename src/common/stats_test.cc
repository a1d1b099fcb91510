#include "common/stats.h"

#include <gtest/gtest.h>

namespace remora {
namespace {

TEST(StatsTest, TextAndPrometheusForms) {
  StatsStore store;
  store.counter("cluster", "outbound|9080||ratings.default.svc.cluster.local", "upstream_cx_total")
      .inc(3);
  store.counter("cluster", "BlackHoleCluster", "upstream_cx_total").inc();
  store.gauge("listener", "0.0.0.0_15001", "downstream_cx_active").set(2);
  // Asking again returns the same stat.
  store.counter("cluster", "BlackHoleCluster", "upstream_cx_total").inc();

  std::string text = store.renderText();
  EXPECT_NE(text.find("cluster.BlackHoleCluster.upstream_cx_total: 2\n"), std::string::npos);
  EXPECT_NE(text.find("listener.0.0.0.0_15001.downstream_cx_active: 2\n"), std::string::npos);
  EXPECT_EQ(store.renderText("listener").find("cluster."), std::string::npos);

  std::string prom = store.renderPrometheus();
  EXPECT_NE(prom.find("# TYPE envoy_cluster_upstream_cx_total counter\n"), std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"outbound|9080||"
                      "ratings.default.svc.cluster.local\"} 3\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_listener_downstream_cx_active{envoy_listener_address=\"0.0.0.0_"
                      "15001\"} 2\n"),
            std::string::npos);
  // One TYPE line per metric even with several scopes.
  size_t first = prom.find("# TYPE envoy_cluster_upstream_cx_total");
  EXPECT_EQ(prom.find("# TYPE envoy_cluster_upstream_cx_total", first + 1), std::string::npos);
  EXPECT_EQ(store.valueOf("cluster.BlackHoleCluster.upstream_cx_total"), 2);
  EXPECT_EQ(store.valueOf("nope"), -1);
}

}  // namespace
}  // namespace remora
