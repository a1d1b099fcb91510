// The ADS server over real gRPC streams: a libgrpc++ client driven request by
// request, and the proxy's own xDS client (src/xds). Every wait has a
// generous deadline that only matters when something is broken.
#include "pilot/ads/discovery_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "event/dispatcher.h"
#include "support/paths.h"
#include "xds/ads_client.h"

namespace remora::pilot {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using std::chrono::seconds;

const char* kCdsUrl = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const char* kEdsUrl = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
const char* kLdsUrl = "type.googleapis.com/envoy.config.listener.v3.Listener";
const char* kRdsUrl = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
const std::string kReviewsV1 = "reviews-v1-76474f6fb7-pmglr";
const std::string kReviewsV1Node =
    "sidecar~10.244.0.21~reviews-v1-76474f6fb7-pmglr.default~default.svc.cluster.local";
const std::string kRatings = "outbound|9080||ratings.default.svc.cluster.local";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Bookinfo as in the golden scenario, plus `extra` YAML.
std::shared_ptr<const MeshSnapshot> bookinfo(uint64_t version, const std::string& extra = "") {
  std::string dir = test::sourceDir() + "/src/pilot/testdata/bookinfo/";
  ConfigSet set;
  addConfigText("services.yaml", readFile(dir + "services.yaml"), &set);
  addConfigText("pods.yaml", readFile(dir + "pods.yaml"), &set);
  if (!extra.empty()) addConfigText("extra.yaml", extra, &set);
  finishConfigSet(&set);
  return MeshSnapshot::build(std::move(set), version);
}

const char* kSecondRatingsPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: ratings-v1-8558d4458d-xxxxx
  namespace: default
  labels: {app: ratings, version: v1}
spec:
  containers:
  - name: ratings
    ports: [{containerPort: 9080}]
status: {phase: Running, podIP: 10.244.0.99}
)";

const char* kReviewsTimeout = R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    timeout: 3s
)";

// One ADS stream from a libgrpc++ client; a reader thread queues responses.
class TestStream {
 public:
  explicit TestStream(int port)
      : channel_(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials())),
        stub_(AggregatedDiscoveryService::NewStub(channel_)) {
    context_.set_deadline(std::chrono::system_clock::now() + seconds(60));
    stream_ = stub_->StreamAggregatedResources(&context_);
    reader_ = std::thread([this] {
      DiscoveryResponse r;
      while (stream_->Read(&r)) {
        std::lock_guard<std::mutex> lock(mu_);
        responses_.push_back(r);
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      cv_.notify_all();
    });
  }
  ~TestStream() {
    stream_->WritesDone();
    context_.TryCancel();
    reader_.join();
  }

  void send(const std::string& type_url, std::vector<std::string> names = {},
            const std::string& nonce = "", const std::string& version = "",
            const std::string& node_id = "", const std::string& error = "") {
    DiscoveryRequest r;
    r.set_type_url(type_url);
    for (auto& n : names)
      r.add_resource_names(n);
    r.set_response_nonce(nonce);
    r.set_version_info(version);
    if (!node_id.empty()) r.mutable_node()->set_id(node_id);
    if (!error.empty()) r.mutable_error_detail()->set_message(error);
    ASSERT_TRUE(stream_->Write(r));
  }
  void ack(const DiscoveryResponse& r, std::vector<std::string> names = {}) {
    send(r.type_url(), std::move(names), r.nonce(), r.version_info());
  }
  // The next response; fails the test after 20 s.
  DiscoveryResponse next() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, seconds(20), [this] { return !responses_.empty() || closed_; }) ||
        responses_.empty()) {
      ADD_FAILURE() << "no response";
      return {};
    }
    DiscoveryResponse r = responses_.front();
    responses_.pop_front();
    return r;
  }
  grpc::Status finish() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, seconds(20), [this] { return closed_; });
    }
    return stream_->Finish();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DiscoveryResponse> responses_;
  bool closed_ = false;
};

template <typename T>
std::vector<std::string> names(const DiscoveryResponse& r) {
  std::vector<std::string> out;
  for (const auto& any : r.resources()) {
    T m;
    EXPECT_TRUE(any.UnpackTo(&m));
    if constexpr (std::is_same_v<T, envoy::config::endpoint::v3::ClusterLoadAssignment>) {
      out.push_back(m.cluster_name());
    } else {
      out.push_back(m.name());
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> edsClusters(const DiscoveryResponse& cds) {
  std::vector<std::string> out;
  for (const auto& any : cds.resources()) {
    envoy::config::cluster::v3::Cluster c;
    any.UnpackTo(&c);
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS) out.push_back(c.name());
  }
  return out;
}

class DiscoveryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ =
        std::make_unique<DiscoveryServer>(DiscoveryServer::Options{"127.0.0.1:0", 2}, &metrics_);
    ASSERT_TRUE(server_->start().ok());
    server_->onSnapshot(bookinfo(1));
  }
  void TearDown() override { server_->stop(); }

  ConnectionStatus statusOf(const std::string& proxy_id) {
    for (const auto& c : server_->connections()) {
      if (c.node.identity.proxyId() == proxy_id) return c;
    }
    ADD_FAILURE() << "no connection for " << proxy_id;
    return {};
  }
  const WatchState& watch(const ConnectionStatus& c, ResourceType t) {
    return c.watches[static_cast<size_t>(t)];
  }

  // Subscribes like Envoy (CDS, EDS for its clusters, LDS, RDS 9080) and
  // ACKs everything; returns the stream synced at version `v`.
  std::unique_ptr<TestStream> syncedSidecar() {
    auto s = std::make_unique<TestStream>(server_->port());
    s->send(kCdsUrl, {}, "", "", kReviewsV1Node);
    auto cds = s->next();
    s->send(kEdsUrl, edsClusters(cds));
    s->ack(cds);
    auto eds = s->next();
    s->ack(eds, edsClusters(cds));
    s->send(kLdsUrl);
    auto lds = s->next();
    s->send(kRdsUrl, {"9080"});
    s->ack(lds);
    auto rds = s->next();
    s->ack(rds, {"9080"});
    return s;
  }

  PilotMetrics metrics_;
  std::unique_ptr<DiscoveryServer> server_;
};

TEST_F(DiscoveryServerTest, ASidecarGetsItsConfigAndEveryTypeEndsSynced) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", kReviewsV1Node);
  auto cds = s.next();
  EXPECT_EQ(cds.type_url(), kCdsUrl);
  EXPECT_EQ(cds.version_info(), "1");
  auto clusters = names<envoy::config::cluster::v3::Cluster>(cds);
  EXPECT_TRUE(contains(clusters, kRatings));
  EXPECT_TRUE(contains(clusters, "inbound|9080||reviews.default.svc.cluster.local"));
  EXPECT_TRUE(contains(clusters, "PassthroughCluster"));
  s.send(kEdsUrl, edsClusters(cds));
  s.ack(cds);
  auto eds = s.next();
  EXPECT_EQ(eds.type_url(), kEdsUrl);
  EXPECT_EQ(names<envoy::config::endpoint::v3::ClusterLoadAssignment>(eds), edsClusters(cds));
  s.ack(eds, edsClusters(cds));
  s.send(kLdsUrl);
  auto lds = s.next();
  auto listeners = names<envoy::config::listener::v3::Listener>(lds);
  EXPECT_TRUE(contains(listeners, "virtual"));
  EXPECT_TRUE(contains(listeners, "10.244.0.21_9080"));
  EXPECT_TRUE(contains(listeners, "0.0.0.0_9080"));
  s.send(kRdsUrl, {"9080"});
  s.ack(lds);
  auto rds = s.next();
  EXPECT_EQ(names<envoy::config::route::v3::RouteConfiguration>(rds),
            std::vector<std::string>{"9080"});
  s.ack(rds, {"9080"});
  // The ACK is read on another thread: a last subscription change, answered
  // after it, orders the check behind it.
  s.send(kRdsUrl, {"9080", "none"}, rds.nonce(), rds.version_info());
  auto rds2 = s.next();
  EXPECT_EQ(names<envoy::config::route::v3::RouteConfiguration>(rds2),
            (std::vector<std::string>{"9080", "none"}));
  ConnectionStatus c = statusOf(kReviewsV1 + ".default");
  EXPECT_TRUE(c.known);
  EXPECT_FALSE(c.proxyless);
  for (ResourceType t :
       {ResourceType::kCluster, ResourceType::kEndpoint, ResourceType::kListener}) {
    EXPECT_EQ(watch(c, t).status(), std::string("SYNCED")) << shortTypeName(t);
    EXPECT_EQ(watch(c, t).acked_version, "1");
  }
  EXPECT_EQ(watch(c, ResourceType::kRoute).status(), std::string("STALE"));
  EXPECT_EQ(metrics_.pushes(ResourceType::kCluster), 1u);
  EXPECT_EQ(metrics_.pushes(ResourceType::kRoute), 2u);
}

TEST_F(DiscoveryServerTest, AMalformedNodeIdEndsTheStreamWithInvalidArgument) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", "reviews-v1");
  grpc::Status st = s.finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("malformed node id \"reviews-v1\""), std::string::npos)
      << st.error_message();
}

TEST_F(DiscoveryServerTest, AFirstRequestWithoutNodeEndsTheStream) {
  TestStream s(server_->port());
  s.send(kCdsUrl);
  grpc::Status st = s.finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("must carry the node"), std::string::npos);
}

TEST_F(DiscoveryServerTest, ANackIsRecordedAndCountedAndNotResent) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", kReviewsV1Node);
  auto cds = s.next();
  s.send(kCdsUrl, {}, cds.nonce(), "", "", "cluster PassthroughCluster: unsupported");
  s.send(kLdsUrl);
  auto lds = s.next();
  EXPECT_EQ(lds.type_url(), kLdsUrl);  // not a second CDS
  ConnectionStatus c = statusOf(kReviewsV1 + ".default");
  const WatchState& w = watch(c, ResourceType::kCluster);
  EXPECT_EQ(w.status(), std::string("NACKED"));
  EXPECT_EQ(w.nack_error, "cluster PassthroughCluster: unsupported");
  EXPECT_EQ(w.nacked_version, "1");
  EXPECT_EQ(metrics_.rejects(ResourceType::kCluster), 1u);
}

TEST_F(DiscoveryServerTest, AnEndpointOnlyChangePushesOnlyEdsOfTheChangedService) {
  auto s = syncedSidecar();
  server_->onSnapshot(bookinfo(2, kSecondRatingsPod));
  auto eds = s->next();
  ASSERT_EQ(eds.type_url(), kEdsUrl);
  EXPECT_EQ(eds.version_info(), "2");
  for (const auto& n : names<envoy::config::endpoint::v3::ClusterLoadAssignment>(eds)) {
    EXPECT_NE(n.find("|ratings.default.svc.cluster.local"), std::string::npos) << n;
  }
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  ASSERT_TRUE(eds.resources(0).UnpackTo(&cla));
  EXPECT_EQ(cla.cluster_name(), kRatings);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints_size(), 2);
  s->ack(eds, {});
  // Nothing else was queued: the next response answers a new subscription.
  s->send(kRdsUrl, {"9080", "8080"}, "", "");
  auto rds = s->next();
  EXPECT_EQ(rds.type_url(), kRdsUrl);
}

TEST_F(DiscoveryServerTest, ANewSnapshotReusesWhatThePreviousOneBuilt) {
  auto s = syncedSidecar();
  server_->onSnapshot(bookinfo(2, kReviewsTimeout));
  auto cds = s->next();
  ASSERT_EQ(cds.type_url(), kCdsUrl);
  EXPECT_EQ(cds.version_info(), "2");
  // The push context of snapshot 2 was built with that of snapshot 1: the
  // clusters of services the change did not touch were taken over.
  auto stats = server_->context()->generator().reuseStats();
  EXPECT_GT(stats.reused, 0u) << "built " << stats.built;
}

TEST_F(DiscoveryServerTest, AConfigChangeIsPushedInOrderAndCoalescedBehindAnUnackedType) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", kReviewsV1Node);
  auto cds = s.next();
  s.send(kLdsUrl);
  auto lds = s.next();
  s.ack(lds);
  // CDS stays unacknowledged while two config changes arrive.
  server_->onSnapshot(bookinfo(2, kReviewsTimeout));
  server_->onSnapshot(bookinfo(3, std::string(kReviewsTimeout) + "---\n" + kSecondRatingsPod));
  s.ack(cds);
  auto cds3 = s.next();
  EXPECT_EQ(cds3.type_url(), kCdsUrl);
  EXPECT_EQ(cds3.version_info(), "3");
  auto lds3 = s.next();
  EXPECT_EQ(lds3.type_url(), kLdsUrl);
  EXPECT_EQ(lds3.version_info(), "3");
  s.ack(cds3);
  s.ack(lds3);
  s.send(kRdsUrl, {"9080"});
  auto rds = s.next();
  EXPECT_EQ(rds.type_url(), kRdsUrl);
  EXPECT_EQ(statusOf(kReviewsV1 + ".default")
                .watches[static_cast<size_t>(ResourceType::kCluster)]
                .responses,
            2u);
}

TEST_F(DiscoveryServerTest, AStaleNonceIsIgnored) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", kReviewsV1Node);
  auto first = s.next();
  s.ack(first);
  server_->onSnapshot(bookinfo(2, kReviewsTimeout));
  auto second = s.next();
  // An answer to the first response, arriving late, with an error: ignored.
  s.send(kCdsUrl, {}, first.nonce(), "", "", "late");
  s.send(kLdsUrl);
  s.next();
  ConnectionStatus c = statusOf(kReviewsV1 + ".default");
  EXPECT_EQ(watch(c, ResourceType::kCluster).nacks, 0u);
  EXPECT_EQ(watch(c, ResourceType::kCluster).status(), std::string("STALE"));
  EXPECT_EQ(watch(c, ResourceType::kCluster).sent_nonce, second.nonce());
}

TEST_F(DiscoveryServerTest, AnUnknownPodGetsItsNamespacesOutboundConfigOnly) {
  TestStream s(server_->port());
  s.send(kCdsUrl, {}, "", "", "sidecar~10.9.9.9~vm-1.default~default.svc.cluster.local");
  auto clusters = names<envoy::config::cluster::v3::Cluster>(s.next());
  EXPECT_TRUE(contains(clusters, kRatings));
  for (const auto& c : clusters)
    EXPECT_EQ(c.rfind("inbound|", 0), std::string::npos) << c;
  s.send(kLdsUrl);
  auto listeners = names<envoy::config::listener::v3::Listener>(s.next());
  EXPECT_TRUE(contains(listeners, "0.0.0.0_9080"));
  for (const auto& l : listeners)
    EXPECT_EQ(l.rfind("10.9.9.9_", 0), std::string::npos) << l;
  EXPECT_FALSE(statusOf("vm-1.default").known);
}

TEST_F(DiscoveryServerTest, ThePodAppearingTurnsAnUnknownNodeIntoAKnownOneWithAFullPush) {
  auto s = std::make_unique<TestStream>(server_->port());
  s->send(kCdsUrl, {}, "", "",
          "sidecar~10.244.0.99~ratings-v1-8558d4458d-xxxxx.default~default.svc.cluster.local");
  auto cds = s->next();
  s->ack(cds);
  EXPECT_FALSE(contains(names<envoy::config::cluster::v3::Cluster>(cds),
                        "inbound|9080||ratings.default.svc.cluster.local"));
  // Only endpoints changed, but this proxy's own pod appeared: it gets CDS.
  server_->onSnapshot(bookinfo(2, kSecondRatingsPod));
  auto cds2 = s->next();
  EXPECT_EQ(cds2.type_url(), kCdsUrl);
  EXPECT_TRUE(contains(names<envoy::config::cluster::v3::Cluster>(cds2),
                       "inbound|9080||ratings.default.svc.cluster.local"));
}

TEST_F(DiscoveryServerTest, DeltaXdsIsRefusedWithAReason) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + seconds(20));
  auto stream = stub->DeltaAggregatedResources(&ctx);
  envoy::service::discovery::v3::DeltaDiscoveryResponse r;
  EXPECT_FALSE(stream->Read(&r));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(st.error_message().find("state-of-the-world"), std::string::npos);
}

// The proxy's own ADS client (src/xds), as remora-proxy runs it.
TEST_F(DiscoveryServerTest, TheProxysAdsClientSubscribesAppliesAndAcks) {
  auto d = event::Dispatcher::create("main");
  ASSERT_TRUE(d.ok());
  std::unique_ptr<event::Dispatcher> owner = std::move(*d);
  std::thread loop([&] { owner->run(); });
  std::promise<void> lds_applied;
  std::atomic<bool> fulfilled{false};
  std::unique_ptr<xds::AdsClient> client;
  auto onOwner = [&](auto fn) {
    std::packaged_task<void()> task(fn);
    auto done = task.get_future();
    owner->post([&task] { task(); });
    done.get();
  };
  onOwner([&] {
    xds::AdsClient::Options opts;
    opts.target = "127.0.0.1:" + std::to_string(server_->port());
    opts.node.set_id(kReviewsV1Node);
    (*opts.node.mutable_metadata()->mutable_fields())[kAdminAddressKey].set_string_value(
        "10.244.0.21:15000");
    client = std::make_unique<xds::AdsClient>(
        *owner, opts,
        [&](const std::string& type, const std::string&,
            const std::vector<google::protobuf::Any>&) {
          if (type == kLdsUrl && !fulfilled.exchange(true)) lds_applied.set_value();
          return Status();
        },
        [](bool) {});
    client->subscribe(kCdsUrl, {}, true);
    client->subscribe(kLdsUrl, {}, true);
    client->start();
  });
  ASSERT_EQ(lds_applied.get_future().wait_for(seconds(20)), std::future_status::ready);
  // The ACK follows the apply on the client's loop; a config change after
  // it is answered only once both types are acknowledged.
  server_->onSnapshot(bookinfo(2, kReviewsTimeout));
  for (int i = 0; i < 400; ++i) {
    ConnectionStatus c = statusOf(kReviewsV1 + ".default");
    if (watch(c, ResourceType::kListener).acked_version == "2" &&
        watch(c, ResourceType::kCluster).acked_version == "2") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ConnectionStatus c = statusOf(kReviewsV1 + ".default");
  EXPECT_EQ(watch(c, ResourceType::kCluster).status(), std::string("SYNCED"));
  EXPECT_EQ(watch(c, ResourceType::kListener).status(), std::string("SYNCED"));
  EXPECT_EQ(watch(c, ResourceType::kListener).acked_version, "2");
  EXPECT_EQ(c.node.admin_address, "10.244.0.21:15000");
  onOwner([&] { client.reset(); });
  owner->exit();
  loop.join();
}

}  // namespace
}  // namespace remora::pilot
