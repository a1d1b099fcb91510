// remora-proxy as an xDS client of the real remora-pilot, both as child
// processes on loopback: start-up order, live updates, endpoint-only
// updates, and the control plane going away and coming back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/blocking_http.h"
#include "support/process.h"

namespace remora::test {
namespace {

using network::SocketAddress;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

SocketAddress local(uint16_t port) {
  return *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
}

constexpr const char* kMesh = R"(
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: default }
spec:
  clusterIP: 10.96.0.13
  selector: { app: ratings }
  ports: [{ name: http, port: 9080, targetPort: 9080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: ratings-v1, namespace: default, labels: { app: ratings, version: v1 } }
status: { podIP: 10.244.0.13 }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: default, labels: { app: client } }
status: { podIP: 10.244.0.50 }
)";

constexpr const char* kSubsetV1 = R"(
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: ratings, namespace: default }
spec:
  host: ratings
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: ratings, namespace: default }
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: { host: ratings, subset: v1 }
)";

constexpr const char* kSecondPod = R"(
apiVersion: v1
kind: Pod
metadata: { name: ratings-v2, namespace: default, labels: { app: ratings, version: v2 } }
status: { podIP: 10.244.0.14 }
)";

class XdsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc_port_ = freePort();
    http_port_ = freePort();
    admin_port_ = freePort();
    listen_port_ = freePort();
    config_dir_ =
        std::filesystem::path(writeTempFile("meshconfig.yaml", "")).parent_path() / "mesh";
    std::filesystem::create_directories(config_dir_);
    std::ofstream(config_dir_ / "services.yaml") << kMesh;
    // The virtual listener on a free port, so tests can run side by side.
    mesh_config_ =
        writeTempFile("meshconfig.yaml", "proxyListenPort: " + std::to_string(listen_port_) + "\n");
    std::string bootstrap = R"(
node:
  id: sidecar~10.244.0.50~client.default~default.svc.cluster.local
  cluster: client.default
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: )" +
                            std::to_string(admin_port_) + R"( } }
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: xds-grpc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: )" +
                            std::to_string(grpc_port_) + R"( } } }
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{ envoy_grpc: { cluster_name: xds-grpc } }]
  cds_config: { ads: {}, resource_api_version: V3 }
  lds_config: { ads: {}, resource_api_version: V3 }
)";
    bootstrap_ = writeTempFile("bootstrap.yaml", bootstrap);
  }

  void startPilot() {
    pilot_ = std::make_unique<ChildProcess>();
    ASSERT_TRUE(pilot_->start(
        {binaryPath("remora-pilot"), "--config-dir", config_dir_.string(), "--mesh-config",
         mesh_config_, "--grpc-addr", "127.0.0.1:" + std::to_string(grpc_port_), "--http-addr",
         "127.0.0.1:" + std::to_string(http_port_), "--debounce-after-ms", "20"}));
    for (int i = 0; i < 100; ++i) {
      if (httpRequest(local(http_port_), "GET", "/ready").status == 200) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "pilot not ready: " << pilot_->output();
  }

  void startProxy() {
    ASSERT_TRUE(proxy_.start({binaryPath("remora-proxy"), "-c", bootstrap_, "--concurrency", "1",
                              "--drain-time-s", "1"}));
  }

  std::string admin(const std::string& path) {
    return httpRequest(local(admin_port_), "GET", path).body;
  }

  // POSTs YAML to pilot's config API (what `remoractl apply` does).
  int apply(const std::string& yaml) {
    auto r = blockingHttpRequest("127.0.0.1", http_port_, "POST", "pilot", "/apis/v1/objects",
                                 {{"content-type", "application/yaml"}}, yaml, seconds(5));
    if (!r.ok()) return 0;
    last_reply_ = r->body;
    return r->status;
  }

  // Polls the admin page until `needle` shows up; returns how long it took.
  std::optional<milliseconds> waitFor(const std::string& path, const std::string& needle,
                                      milliseconds timeout) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < timeout) {
      if (admin(path).find(needle) != std::string::npos) {
        return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return std::nullopt;
  }

  bool listenerAccepts() {
    auto fd = blockingHttpRequest("127.0.0.1", listen_port_, "GET", "x", "/", {}, "", seconds(1));
    // Any answer or a close after accepting means the socket is served; a
    // refused connection means it is not.
    return fd.ok() || fd.status().message().find("refused") == std::string::npos;
  }

  uint16_t grpc_port_ = 0, http_port_ = 0, admin_port_ = 0, listen_port_ = 0;
  std::filesystem::path config_dir_;
  std::string mesh_config_, bootstrap_, last_reply_;
  std::unique_ptr<ChildProcess> pilot_;
  ChildProcess proxy_;
};

TEST_F(XdsIntegrationTest, TheProxyIsReadyOnlyOnceTheControlPlaneConfiguredIt) {
  startProxy();
  std::this_thread::sleep_for(milliseconds(300));
  auto before = httpRequest(local(admin_port_), "GET", "/ready");
  EXPECT_EQ(before.status, 503);
  EXPECT_EQ(before.body, "INITIALIZING\n");
  EXPECT_FALSE(listenerAccepts()) << "no listener before LDS";
  startPilot();
  ASSERT_TRUE(waitReady(local(admin_port_), seconds(10))) << proxy_.output();
  std::string dump = admin("/config_dump");
  EXPECT_THAT(dump, HasSubstr("\"dynamic_active_clusters\""));
  EXPECT_THAT(dump, HasSubstr("outbound|9080||ratings.default.svc.cluster.local"));
  EXPECT_THAT(dump, HasSubstr("\"dynamic_listeners\""));
  EXPECT_THAT(dump, HasSubstr("\"name\": \"0.0.0.0_9080\""));
  EXPECT_THAT(dump, HasSubstr("\"dynamic_route_configs\""));
  EXPECT_THAT(dump, HasSubstr("\"dynamic_endpoint_configs\""));
  EXPECT_THAT(dump, HasSubstr("\"version_info\": \"1\""));
  std::string clusters = admin("/clusters");
  EXPECT_THAT(clusters,
              HasSubstr("outbound|9080||ratings.default.svc.cluster.local::added_via_api::true"));
  EXPECT_THAT(clusters, HasSubstr("outbound|9080||ratings.default.svc.cluster.local::10.244.0.13:"
                                  "9080::health_flags::healthy"));
  EXPECT_TRUE(listenerAccepts()) << "the virtual listener from LDS is bound";
  // Pilot sees the proxy synced, and knows its admin address.
  std::string syncz = httpRequest(local(http_port_), "GET", "/debug/syncz").body;
  EXPECT_THAT(syncz, HasSubstr("client.default"));
  EXPECT_THAT(syncz, HasSubstr("\"adminAddress\": \"127.0.0.1:" + std::to_string(admin_port_)));
  EXPECT_THAT(syncz, Not(HasSubstr("NACKED")));
  EXPECT_EQ(statValue(local(admin_port_), "control_plane.connected_state"), 1);
  EXPECT_GE(statValue(local(admin_port_), "listener_manager.lds.update_success"), 1);
  EXPECT_EQ(statValue(local(admin_port_), "listener_manager.lds.update_rejected"), 0);
}

TEST_F(XdsIntegrationTest, ARoutingChangeReachesTheProxyWithinASecond) {
  startPilot();
  startProxy();
  ASSERT_TRUE(waitReady(local(admin_port_), seconds(10))) << proxy_.output();
  ASSERT_EQ(apply(kSubsetV1), 200) << last_reply_;
  auto took =
      waitFor("/config_dump", "\"cluster\": \"outbound|9080|v1|ratings.default.svc.cluster.local\"",
              seconds(5));
  ASSERT_TRUE(took) << admin("/config_dump");
  EXPECT_LT(took->count(), 1000) << "route to the subset took " << took->count() << " ms";
  // The route and the new cluster's endpoints come in separate responses
  // (the proxy asks for the endpoints once CDS gave it the cluster), so the
  // route may be applied while the cluster still warms, as in Envoy.
  auto warmed =
      waitFor("/clusters", "outbound|9080|v1|ratings.default.svc.cluster.local::10.244.0.13:9080",
              seconds(5));
  ASSERT_TRUE(warmed) << admin("/clusters");
  EXPECT_LT(took->count() + warmed->count(), 1000)
      << "the subset's endpoints took " << warmed->count() << " ms more";
}

TEST_F(XdsIntegrationTest, AnEndpointChangeMovesOnlyEndpoints) {
  startPilot();
  startProxy();
  ASSERT_TRUE(waitReady(local(admin_port_), seconds(10))) << proxy_.output();
  std::string before = admin("/config_dump");
  ASSERT_EQ(apply(kSecondPod), 200) << last_reply_;
  ASSERT_TRUE(waitFor("/clusters",
                      "outbound|9080||ratings.default.svc.cluster.local::10.244.0.14:9080",
                      seconds(5)))
      << admin("/clusters");
  // Clusters and listeners kept their versions: only EDS moved.
  EXPECT_EQ(statValue(local(admin_port_), "cluster_manager.cds.update_attempt"), 1);
  EXPECT_EQ(statValue(local(admin_port_), "listener_manager.lds.update_attempt"), 1);
  EXPECT_GE(statValue(local(admin_port_), "cluster_manager.eds.update_success"), 2);
}

TEST_F(XdsIntegrationTest, WithoutTheControlPlaneTheProxyKeepsServingAndResyncsLater) {
  startPilot();
  startProxy();
  ASSERT_TRUE(waitReady(local(admin_port_), seconds(10))) << proxy_.output();
  pilot_->signal(SIGKILL);
  pilot_->wait(seconds(5));
  for (int i = 0; i < 100 && statValue(local(admin_port_), "control_plane.connected_state") != 0;
       ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(statValue(local(admin_port_), "control_plane.connected_state"), 0);
  EXPECT_EQ(httpRequest(local(admin_port_), "GET", "/ready").status, 200) << "still LIVE";
  EXPECT_TRUE(listenerAccepts());
  EXPECT_THAT(admin("/clusters"), HasSubstr("ratings.default.svc.cluster.local::10.244.0.13:9080"));
  // Pilot comes back with a change made while it was away.
  std::ofstream(config_dir_ / "subset.yaml") << kSubsetV1;
  startPilot();
  ASSERT_TRUE(
      waitFor("/config_dump", "outbound|9080|v1|ratings.default.svc.cluster.local", seconds(40)))
      << proxy_.output();
  EXPECT_TRUE(waitFor("/stats", "control_plane.connected_state: 1", seconds(2)));
}

}  // namespace
}  // namespace remora::test
