// Envoy-style bootstraps for the HTTP integration tests, written as users
// write them (YAML), and a fixture that runs remora-proxy on them.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_servers.h"
#include "support/process.h"

namespace remora::test {

inline network::SocketAddress loopback(uint16_t port) {
  return *network::SocketAddress::parse("127.0.0.1:" + std::to_string(port));
}

struct ClusterSpec {
  std::string name;
  std::vector<network::SocketAddress> endpoints;
  std::string extra;  // more YAML under the cluster, indented by 4
};

inline std::string clusterYaml(const ClusterSpec& c) {
  std::string y = "  - name: " + c.name + "\n    type: STATIC\n    connect_timeout: 1s\n";
  y += c.extra;
  y += "    load_assignment:\n      cluster_name: " + c.name + "\n      endpoints:\n";
  y += "      - lb_endpoints:";
  if (c.endpoints.empty()) {
    y += " []\n";
  } else {
    y += "\n";
    for (const auto& e : c.endpoints) {
      y += "        - endpoint: { address: { socket_address: { address: " + e.ip.toString() +
           ", port_value: " + std::to_string(e.port) + " } } }\n";
    }
  }
  return y;
}

// `virtual_hosts`: YAML list items indented by 12; `hcm_extra`: more HCM
// fields indented by 10.
// `validate_clusters`: false lets routes name clusters that do not exist
// (503 NC at run time), as Envoy's route_config.validate_clusters.
inline std::string httpBootstrap(uint16_t listen, uint16_t admin, const std::string& virtual_hosts,
                                 const std::vector<ClusterSpec>& clusters,
                                 const std::string& access_log_path,
                                 const std::string& hcm_extra = "", bool validate_clusters = true) {
  std::string y = R"(
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: )" +
                  std::to_string(admin) + R"( } }
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: )" +
                  std::to_string(listen) + R"( } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
)";
  if (!access_log_path.empty()) {
    y += R"(          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: )" +
         access_log_path + "\n";
  }
  y += hcm_extra;
  y += R"(          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            name: local_route
)";
  if (!validate_clusters) y += "            validate_clusters: false\n";
  y += "            virtual_hosts:\n";
  y += virtual_hosts;
  y += "  clusters:\n";
  for (const auto& c : clusters)
    y += clusterYaml(c);
  return y;
}

class HttpProxyTest : public ::testing::Test {
 protected:
  void startProxy(const std::string& yaml) {
    std::string path = writeTempFile("http-" + std::to_string(listen_) + ".yaml", yaml);
    ASSERT_TRUE(proxy_.start({binaryPath("remora-proxy"), "-c", path, "--concurrency", "1",
                              "--drain-time-s", "1", "-l", "warning"}));
    ASSERT_TRUE(waitReady(loopback(admin_), std::chrono::seconds(10))) << proxy_.output();
  }
  network::SocketAddress proxy() const { return loopback(listen_); }
  network::SocketAddress admin() const { return loopback(admin_); }
  int64_t stat(const std::string& name) { return statValue(admin(), name); }
  // The access log's lines so far.
  std::vector<std::string> logLines() {
    std::ifstream in(log_path_);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
      lines.push_back(line);
    return lines;
  }

  uint16_t listen_ = freePort();
  uint16_t admin_ = freePort();
  std::string log_path_ = writeTempFile("access-" + std::to_string(listen_) + ".log", "");
  ChildProcess proxy_;
};

}  // namespace remora::test
