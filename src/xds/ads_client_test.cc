#include "xds/ads_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/resource_types.h"

namespace remora::xds {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A real ADS server on loopback whose stream the test drives by hand: it
// queues every request it reads and writes the responses the test gives it.
class FakeAds final : public AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    {
      std::lock_guard<std::mutex> g(lock_);
      ++streams_;
      if (!reject_with_.empty()) return grpc::Status(grpc::INVALID_ARGUMENT, reject_with_);
      stream_ = stream;
    }
    changed_.notify_all();
    DiscoveryRequest req;
    while (stream->Read(&req)) {
      std::lock_guard<std::mutex> g(lock_);
      requests_.push_back(req);
      changed_.notify_all();
    }
    std::lock_guard<std::mutex> g(lock_);
    stream_ = nullptr;
    return grpc::Status::OK;
  }

  // The next request the client sent, waiting up to 5 s.
  std::optional<DiscoveryRequest> nextRequest() {
    std::unique_lock<std::mutex> g(lock_);
    if (!changed_.wait_for(g, seconds(5), [this] { return !requests_.empty(); })) {
      return std::nullopt;
    }
    DiscoveryRequest r = requests_.front();
    requests_.pop_front();
    return r;
  }

  bool respond(const std::string& type_url, const std::string& version, const std::string& nonce,
               const std::vector<google::protobuf::Any>& resources = {}) {
    DiscoveryResponse resp;
    resp.set_type_url(type_url);
    resp.set_version_info(version);
    resp.set_nonce(nonce);
    for (const auto& r : resources)
      *resp.add_resources() = r;
    std::unique_lock<std::mutex> g(lock_);
    if (!changed_.wait_for(g, seconds(5), [this] { return stream_ != nullptr; })) return false;
    return stream_->Write(resp);
  }

  int streams() {
    std::lock_guard<std::mutex> g(lock_);
    return streams_;
  }

  // Every new stream is refused with this message (a control plane that
  // does not accept the node, say).
  void rejectStreams(std::string message) {
    std::lock_guard<std::mutex> g(lock_);
    reject_with_ = std::move(message);
  }

 private:
  std::mutex lock_;
  std::condition_variable changed_;
  grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream_ = nullptr;
  std::deque<DiscoveryRequest> requests_;
  int streams_ = 0;
  std::string reject_with_;
};

class AdsClientTest : public ::testing::Test {
 protected:
  // Runs `fn` on the owner thread and waits for it: the client's methods
  // belong to that thread.
  template <typename Fn>
  auto onOwner(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    owner_->post([&task] { task(); });
    return result.get();
  }

  void SetUp() override {
    startServer("127.0.0.1:0");
    auto d = event::Dispatcher::create("main");
    ASSERT_TRUE(d.ok());
    owner_ = std::move(*d);
    owner_thread_ = std::thread([this] { owner_->run(); });
  }

  void TearDown() override {
    onOwner([this] { client_.reset(); });
    owner_->exit();
    owner_thread_.join();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  void startServer(const std::string& address) {
    service_ = std::make_unique<FakeAds>();
    grpc::ServerBuilder b;
    b.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void stopServer() {
    server_->Shutdown(std::chrono::system_clock::now() + milliseconds(100));
    server_.reset();
  }

  void startClient() {
    AdsClient::Options opts;
    opts.target = "127.0.0.1:" + std::to_string(port_);
    opts.node.set_id("sidecar~10.1.0.5~reviews-v1.default~default.svc.cluster.local");
    opts.node.set_cluster("reviews.default");
    opts.initial_backoff = milliseconds(20);
    opts.max_backoff = milliseconds(100);
    onOwner([&] {
      client_ = std::make_unique<AdsClient>(
          *owner_, opts,
          [this](const std::string& type, const std::string& version,
                 const std::vector<google::protobuf::Any>& resources) {
            applied_.push_back(type + "@" + version + "#" + std::to_string(resources.size()));
            if (version == "bad") return invalidArgumentError("clusters[0].lb_policy: not served");
            return Status();
          },
          [this](bool up) { connection_events_.push_back(up); });
      client_->subscribe(std::string(kClusterType), {}, true);
      client_->subscribe(std::string(kListenerType), {}, true);
      client_->start();
    });
  }

  TypeState stateOf(std::string_view type) {
    return onOwner([&] {
      for (const auto& t : client_->state()) {
        if (t.type_url == type) return t;
      }
      return TypeState{};
    });
  }

  int port_ = 0;
  std::unique_ptr<FakeAds> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<event::Dispatcher> owner_;
  std::thread owner_thread_;
  std::unique_ptr<AdsClient> client_;
  // Owner thread only.
  std::vector<std::string> applied_;
  std::vector<bool> connection_events_;
};

TEST_F(AdsClientTest, SubscribesInOrderWithTheNodeOnTheFirstRequestOnly) {
  startClient();
  auto cds = service_->nextRequest();
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->type_url(), kClusterType);
  EXPECT_EQ(cds->node().id(), "sidecar~10.1.0.5~reviews-v1.default~default.svc.cluster.local");
  EXPECT_EQ(cds->version_info(), "");
  EXPECT_EQ(cds->response_nonce(), "");
  auto lds = service_->nextRequest();
  ASSERT_TRUE(lds);
  EXPECT_EQ(lds->type_url(), kListenerType);
  EXPECT_FALSE(lds->has_node());
}

TEST_F(AdsClientTest, AcksAnAcceptedResponseWithItsVersionAndNonce) {
  startClient();
  service_->nextRequest();
  service_->nextRequest();
  envoy::config::cluster::v3::Cluster c;
  c.set_name("outbound|9080||ratings.default.svc.cluster.local");
  google::protobuf::Any any;
  any.PackFrom(c);
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "v1", "nonce-1", {any, any}));
  auto ack = service_->nextRequest();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type_url(), kClusterType);
  EXPECT_EQ(ack->version_info(), "v1");
  EXPECT_EQ(ack->response_nonce(), "nonce-1");
  EXPECT_FALSE(ack->has_error_detail());
  TypeState s = stateOf(kClusterType);
  EXPECT_EQ(s.acked_version, "v1");
  EXPECT_EQ(s.acks, 1u);
  EXPECT_EQ(onOwner([this] { return applied_; }),
            std::vector<std::string>{std::string(kClusterType) + "@v1#2"});
  EXPECT_TRUE(onOwner([this] { return client_->connected(); }));
}

TEST_F(AdsClientTest, NackKeepsTheLastGoodVersionAndSaysWhy) {
  startClient();
  service_->nextRequest();
  service_->nextRequest();
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "v1", "n1"));
  ASSERT_TRUE(service_->nextRequest());
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "bad", "n2"));
  auto nack = service_->nextRequest();
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->version_info(), "v1");
  EXPECT_EQ(nack->response_nonce(), "n2");
  ASSERT_TRUE(nack->has_error_detail());
  EXPECT_EQ(nack->error_detail().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(nack->error_detail().message(), "clusters[0].lb_policy: not served");
  TypeState s = stateOf(kClusterType);
  EXPECT_EQ(s.acked_version, "v1");
  EXPECT_EQ(s.nacks, 1u);
  EXPECT_EQ(s.last_error, "clusters[0].lb_policy: not served");
}

TEST_F(AdsClientTest, ChangingNamesSendsTheNewSetOnce) {
  startClient();
  service_->nextRequest();
  service_->nextRequest();
  onOwner([this] {
    client_->subscribe(std::string(kClusterLoadAssignmentType), {"b", "a", "b"});
    client_->subscribe(std::string(kClusterLoadAssignmentType), {"a", "b"});  // no change
    client_->subscribe(std::string(kClusterLoadAssignmentType), {"a"});
    return 0;
  });
  auto first = service_->nextRequest();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type_url(), kClusterLoadAssignmentType);
  EXPECT_EQ(
      std::vector<std::string>(first->resource_names().begin(), first->resource_names().end()),
      (std::vector<std::string>{"a", "b"}));
  auto second = service_->nextRequest();
  ASSERT_TRUE(second);
  EXPECT_EQ(
      std::vector<std::string>(second->resource_names().begin(), second->resource_names().end()),
      std::vector<std::string>{"a"});
}

TEST_F(AdsClientTest, ReconnectsAfterTheControlPlaneRestartsAndResumesFromItsVersions) {
  startClient();
  service_->nextRequest();
  service_->nextRequest();
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "v7", "n1"));
  ASSERT_TRUE(service_->nextRequest());
  std::string address = "127.0.0.1:" + std::to_string(port_);
  stopServer();
  startServer(address);
  auto cds = service_->nextRequest();
  ASSERT_TRUE(cds) << "the client did not come back";
  EXPECT_EQ(cds->type_url(), kClusterType);
  EXPECT_EQ(cds->version_info(), "v7");  // what it runs, so pilot can tell
  EXPECT_TRUE(cds->has_node());          // a new stream starts with the node
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "v8", "n2"));
  ASSERT_TRUE(service_->nextRequest());  // LDS
  auto ack = service_->nextRequest();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->version_info(), "v8");
  EXPECT_EQ(onOwner([this] { return connection_events_; }), (std::vector<bool>{true, false, true}));
}

TEST_F(AdsClientTest, KeepsTryingWhileNoControlPlaneAnswers) {
  std::string address = "127.0.0.1:" + std::to_string(port_);
  stopServer();
  startClient();
  std::this_thread::sleep_for(milliseconds(300));  // several failed attempts
  EXPECT_FALSE(onOwner([this] { return client_->connected(); }));
  startServer(address);
  auto cds = service_->nextRequest();
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->type_url(), kClusterType);
}

TEST_F(AdsClientTest, LargePushesArriveWhole) {
  startClient();
  service_->nextRequest();
  service_->nextRequest();
  // ~6 MB in one response: far past HTTP/2's default 64 KiB window.
  std::vector<google::protobuf::Any> many;
  for (int i = 0; i < 3000; ++i) {
    envoy::config::cluster::v3::Cluster c;
    c.set_name("outbound|9080||svc-" + std::to_string(i) + ".default.svc.cluster.local" +
               std::string(2000, 'x'));
    many.emplace_back().PackFrom(c);
  }
  ASSERT_TRUE(service_->respond(std::string(kClusterType), "big", "n1", many));
  auto ack = service_->nextRequest();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->version_info(), "big");
  EXPECT_EQ(onOwner([this] { return applied_; }),
            std::vector<std::string>{std::string(kClusterType) + "@big#3000"});
}

TEST_F(AdsClientTest, AStreamRefusedByTheServerIsReportedAndRetried) {
  service_->rejectStreams(
      "malformed node id \"x\": want sidecar~IP~pod.ns~ns.svc.cluster.local (100% é)");
  startClient();
  for (int i = 0; i < 100 && service_->streams() < 2; ++i)
    std::this_thread::sleep_for(milliseconds(20));
  EXPECT_GE(service_->streams(), 2);  // it keeps trying, with backoff
  std::string error = onOwner([this] { return client_->lastStreamError(); });
  EXPECT_EQ(error,
            "3 malformed node id \"x\": want sidecar~IP~pod.ns~ns.svc.cluster.local (100% é)");
  EXPECT_FALSE(onOwner([this] { return client_->connected(); }));
}

}  // namespace
}  // namespace remora::xds
