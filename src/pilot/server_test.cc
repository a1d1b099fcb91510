// remora-pilot as served: the config API (POST and DELETE /apis/v1/objects)
// persists into the folder atomically and survives a restart, and /metrics
// exposes what issue 6 lists (pushes by type, push time histogram,
// convergence time, rejects, connected proxies) with values that follow real
// ADS traffic. Real gRPC on loopback; every wait has a deadline that only
// matters when something is broken.
#include "pilot/server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "pilot/model/config_store.h"
#include "support/paths.h"

namespace remora::pilot {
namespace {

namespace fs = std::filesystem;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

const char* kCdsUrl = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const char* kLdsUrl = "type.googleapis.com/envoy.config.listener.v3.Listener";
const std::string kReviewsV1Node =
    "sidecar~10.244.0.21~reviews-v1-76474f6fb7-pmglr.default~default.svc.cluster.local";

const char* kRatingsSplit = R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - {destination: {host: ratings}, weight: 100}
)";

const char* kBadWeights = R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - {destination: {host: ratings, subset: v1}, weight: 80}
    - {destination: {host: ratings, subset: v2}, weight: 10}
)";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every file of a folder and its text: to show that a refused write changed
// nothing.
std::map<std::string, std::string> folderContents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out[e.path().filename().string()] = readFile(e.path());
  return out;
}

class PilotServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("remora-pilot-server-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string bookinfo = test::sourceDir() + "/src/pilot/testdata/bookinfo/";
    fs::copy_file(bookinfo + "services.yaml", dir_ / "services.yaml");
    fs::copy_file(bookinfo + "pods.yaml", dir_ / "pods.yaml");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void startServer() {
    PilotOptions o;
    o.config_dir = dir_.string();
    o.grpc_addr = "127.0.0.1:0";
    o.http_addr = "127.0.0.1:0";
    o.debounce_after = std::chrono::milliseconds(10);
    server_ = std::make_unique<PilotServer>(o);
    ASSERT_TRUE(server_->start().ok());
  }

  BlockingHttpResponse request(const std::string& method, const std::string& path,
                               const std::string& body = "") {
    BlockingHttpRequest r;
    r.method = method;
    r.target = path;
    r.path = path.substr(0, path.find('?'));
    if (path.find('?') != std::string::npos) r.query = path.substr(path.find('?') + 1);
    r.body = body;
    return server_->handle(r);
  }

  // The value of one /metrics sample, or -1 when it is missing.
  double metric(const std::string& sample) {
    std::string page = request("GET", "/metrics").body;
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
    }
    return -1;
  }

  fs::path dir_;
  std::unique_ptr<PilotServer> server_;
};

TEST_F(PilotServerTest, APostedObjectIsWrittenToItsOwnFileServedAndKeptAcrossARestart) {
  startServer();
  uint64_t before = server_->servedVersion();
  auto r = request("POST", "/apis/v1/objects", kRatingsSplit);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"action\": \"created\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"served\": true"), std::string::npos) << r.body;
  // Answered only once served.
  EXPECT_GT(server_->servedVersion(), before);
  fs::path file = dir_ / "virtualservice-default-ratings.yaml";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_NE(readFile(file).find("name: ratings"), std::string::npos);
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  auto got = request("GET", "/apis/v1/objects?kind=VirtualService&namespace=default&name=ratings");
  EXPECT_EQ(got.status, 200);

  // A new pilot on the same folder serves it: nothing accepted is lost.
  server_.reset();
  ConfigSet reloaded = loadConfigDir(dir_.string());
  bool found = false;
  for (const auto& o : reloaded.objects) {
    found |= o.kind == ObjectKind::kVirtualService && o.key() == "default/ratings";
  }
  EXPECT_TRUE(found);
  startServer();
  auto configz = request("GET", "/debug/configz");
  EXPECT_NE(configz.body.find("virtualservice-default-ratings.yaml"), std::string::npos)
      << configz.body;
}

TEST_F(PilotServerTest, ARefusedPostReturns400WithTheFieldAndLeavesTheFolderUntouched) {
  startServer();
  auto before = folderContents(dir_);
  uint64_t version = server_->servedVersion();
  auto r = request("POST", "/apis/v1/objects", kBadWeights);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("weights sum to 90, want 100"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("spec.http[0].route"), std::string::npos) << r.body;
  EXPECT_EQ(folderContents(dir_), before);
  EXPECT_EQ(server_->servedVersion(), version);
}

TEST_F(PilotServerTest, AnUpdateReplacesOnlyItsDocumentAndDeleteRemovesIt) {
  // Two objects in one file, as users write them.
  std::string other = R"(apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
)";
  std::string original = std::string("# rules\n---\n") + kRatingsSplit + "---\n" + other;
  { std::ofstream(dir_ / "rules.yaml") << original; }
  startServer();
  std::string updated = std::string(kRatingsSplit) + "    timeout: 3s\n";
  auto r = request("POST", "/apis/v1/objects", updated);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"action\": \"updated\""), std::string::npos) << r.body;
  EXPECT_EQ(readFile(dir_ / "rules.yaml"),
            std::string("# rules\n---\n") + updated + "---\n" + other);
  EXPECT_FALSE(fs::exists(dir_ / "virtualservice-default-ratings.yaml"));

  auto d = request("DELETE", "/apis/v1/objects",
                   "kind: VirtualService\nmetadata: {name: ratings, namespace: default}\n");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(readFile(dir_ / "rules.yaml"), std::string("# rules\n---\n") + other);
  // Deleting it again: 404, and nothing written.
  auto again = request("DELETE", "/apis/v1/objects",
                       "kind: VirtualService\nmetadata: {name: ratings, namespace: default}\n");
  EXPECT_EQ(again.status, 404);
  // The last object of a file takes the file with it.
  auto last = request("DELETE", "/apis/v1/objects",
                      "kind: DestinationRule\nmetadata: {name: reviews, namespace: default}\n");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_FALSE(fs::exists(dir_ / "rules.yaml"));
}

// A reader of the folder (the watcher, or pilot restarting) sees every
// version of a file whole: each write replaces the file in one rename.
TEST_F(PilotServerTest, ConcurrentReadersNeverSeeAPartlyWrittenFile) {
  startServer();
  // Big enough that a plain rewrite would be observable half done.
  auto bigRule = [](int timeout) {
    std::string s = std::string(kRatingsSplit);
    s += "    timeout: " + std::to_string(timeout) + "s\n";
    s += "  - match: [{headers: {x-pad: {exact: '" + std::string(200000, 'p') + "'}}}]\n";
    s += "    route: [{destination: {host: ratings}}]\n";
    return s;
  };
  ASSERT_EQ(request("POST", "/apis/v1/objects", bigRule(1)).status, 200);
  fs::path file = dir_ / "virtualservice-default-ratings.yaml";
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread reader([&] {
    while (!done) {
      std::string text = readFile(file);
      ++reads;
      if (text != bigRule(1) && text != bigRule(2)) ++torn;
    }
  });
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(request("POST", "/apis/v1/objects", bigRule(i % 2 == 0 ? 2 : 1)).status, 200);
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
}

// One ADS stream from a libgrpc++ client; responses read synchronously.
class Stream {
 public:
  explicit Stream(int port)
      : channel_(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials())),
        stub_(AggregatedDiscoveryService::NewStub(channel_)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stream_ = stub_->StreamAggregatedResources(&context_);
  }
  ~Stream() {
    stream_->WritesDone();
    context_.TryCancel();
    stream_->Finish();
  }
  void send(const std::string& type_url, const std::string& nonce = "",
            const std::string& error = "") {
    DiscoveryRequest r;
    r.set_type_url(type_url);
    r.set_response_nonce(nonce);
    if (!sent_node_) r.mutable_node()->set_id(kReviewsV1Node);
    sent_node_ = true;
    if (!error.empty()) r.mutable_error_detail()->set_message(error);
    ASSERT_TRUE(stream_->Write(r));
  }
  DiscoveryResponse next() {
    DiscoveryResponse r;
    EXPECT_TRUE(stream_->Read(&r));
    return r;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  bool sent_node_ = false;
};

bool waitFor(const std::function<bool()>& cond) {
  for (int i = 0; i < 400; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return cond();
}

TEST_F(PilotServerTest, MetricsCountPushesByTypeAcksAsConvergenceRejectsAndStreams) {
  startServer();
  EXPECT_EQ(metric("pilot_xds"), 0);
  EXPECT_EQ(metric("pilot_xds_pushes{type=\"cds\"}"), 0);
  {
    Stream s(server_->grpcPort());
    s.send(kCdsUrl);
    auto cds = s.next();
    EXPECT_TRUE(waitFor([&] { return metric("pilot_xds") == 1; }));
    s.send(kCdsUrl, cds.nonce());  // ACK
    s.send(kLdsUrl);
    auto lds = s.next();
    s.send(kLdsUrl, lds.nonce(), "listener virtual: unsupported");  // NACK
    ASSERT_TRUE(waitFor([&] { return metric("pilot_total_xds_rejects{type=\"lds\"}") == 1; }));
    EXPECT_EQ(metric("pilot_xds_pushes{type=\"cds\"}"), 1);
    EXPECT_EQ(metric("pilot_xds_pushes{type=\"lds\"}"), 1);
    EXPECT_EQ(metric("pilot_xds_pushes{type=\"rds\"}"), 0);
    EXPECT_EQ(metric("pilot_total_xds_rejects{type=\"cds\"}"), 0);
    EXPECT_GT(metric("pilot_xds_push_bytes_total{type=\"cds\"}"), 1000);
    // One observation per response, in cumulative buckets.
    EXPECT_EQ(metric("pilot_xds_push_time_seconds_count{type=\"cds\"}"), 1);
    EXPECT_EQ(metric("pilot_xds_push_time_seconds_bucket{type=\"cds\",le=\"+Inf\"}"), 1);
    EXPECT_GE(metric("pilot_xds_push_time_seconds_bucket{type=\"cds\",le=\"30\"}"),
              metric("pilot_xds_push_time_seconds_bucket{type=\"cds\",le=\"0.001\"}"));
    // The ACK (not the NACK) is a convergence.
    EXPECT_EQ(metric("pilot_proxy_convergence_time_count"), 1);
    EXPECT_GT(metric("pilot_proxy_convergence_time_sum"), 0);
    EXPECT_GE(metric("pilot_snapshot_version"), 1);
  }
  EXPECT_TRUE(waitFor([&] { return metric("pilot_xds") == 0; }));
  // Every family has its HELP and TYPE lines.
  std::string page = request("GET", "/metrics").body;
  for (const char* family :
       {"pilot_xds gauge", "pilot_xds_pushes counter", "pilot_xds_push_time_seconds histogram",
        "pilot_proxy_convergence_time histogram", "pilot_total_xds_rejects counter"}) {
    EXPECT_NE(page.find(std::string("# TYPE ") + family), std::string::npos) << family;
  }
}

}  // namespace
}  // namespace remora::pilot
