// remoractl against the real remora-pilot binary on 127.0.0.1 (ephemeral
// ports, a temporary config folder holding the seed's Bookinfo): apply,
// create from standard input, get, delete, a refused object, persistence in
// the folder, and proxy-status and proxy-config with a fake proxy (a
// libgrpc++ ADS client that ACKs and NACKs as told, and an admin server that
// answers /config_dump).
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "common/blocking_http.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "support/paths.h"
#include "support/process.h"

extern char** environ;

namespace remora {
namespace {

namespace fs = std::filesystem;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr char kCdsUrl[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kLdsUrl[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr char kReviewsV1[] = "reviews-v1-76474f6fb7-pmglr";
constexpr char kReviewsV1Node[] =
    "sidecar~10.244.0.21~reviews-v1-76474f6fb7-pmglr.default~default.svc.cluster.local";
constexpr char kProductpageNode[] =
    "sidecar~10.244.0.12~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs of spaces as one: table rows without their padding (the renderers'
// golden tests check the padding).
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// The seed's routing rule, as its `cat <<EOF | istioctl create -f -` gives it.
constexpr char kSeedVirtualService[] = R"(apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1			# every call to reviews goes to v1
)";

constexpr char kSeedDestinationRule[] = R"(apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
)";

// Weights summing to 90: pilot refuses it, naming the field.
constexpr char kBadSplit[] = R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ratings-split
  namespace: default
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v1}
      weight: 50
    - destination: {host: ratings, subset: v2}
      weight: 40
)";

class RemoractlPilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/remoractl-pilot-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_dir_ = dir_ + "/config";
    fs::create_directory(config_dir_);
    std::string bookinfo = test::sourceDir() + "/examples/bookinfo/";
    fs::copy_file(bookinfo + "services.yaml", config_dir_ + "/services.yaml");
    fs::copy_file(bookinfo + "pods.yaml", config_dir_ + "/pods.yaml");

    ASSERT_TRUE(pilot_.start({test::binaryPath("remora-pilot"), "--config-dir", config_dir_,
                              "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
                              "--debounce-after-ms", "20", "--debounce-max-ms", "500"}));
    // "ADS on 127.0.0.1:0 (port N), HTTP on 127.0.0.1:0 (port M)"
    std::regex serving(R"(ADS on \S+ \(port (\d+)\), HTTP on \S+ \(port (\d+)\))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::smatch m;
    std::string log;
    while (std::chrono::steady_clock::now() < deadline && pilot_.running()) {
      log = pilot_.output();
      if (std::regex_search(log, m, serving)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(m.size() == 3) << "pilot did not start:\n" << log;
    grpc_port_ = std::stoi(m[1].str());
    http_ = "127.0.0.1:" + m[2].str();
  }

  void TearDown() override {
    pilot_.signal(SIGTERM);
    EXPECT_EQ(pilot_.wait(std::chrono::seconds(10)), 0) << pilot_.output();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // remoractl ARGS..., with `input` on standard input and --pilot appended
  // when `with_pilot`; the lab state is an empty folder of the test's.
  Result remoractl(std::vector<std::string> args, const std::string& input = "",
                   bool with_pilot = true, const std::vector<std::string>& env_extra = {}) {
    if (with_pilot) {
      args.push_back("--pilot");
      args.push_back(http_);
    }
    args.push_back("--state-dir");
    args.push_back(dir_ + "/labs");
    std::string in = dir_ + "/stdin", out = dir_ + "/stdout", err = dir_ + "/stderr";
    std::ofstream(in) << input;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv = {test::binaryPath("remoractl")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("REMORA_PILOT=", 0) != 0) env.push_back(*e);
    }
    env.insert(env.end(), env_extra.begin(), env_extra.end());
    std::vector<char*> cenv;
    for (auto& e : env)
      cenv.push_back(e.data());
    cenv.push_back(nullptr);
    Result r;
    pid_t pid = -1;
    int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      r.err = "posix_spawn failed";
      return r;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = readFile(out);
    r.err = readFile(err);
    return r;
  }

  // REMORA_UPDATE_GOLDEN=1: saves pilot's /debug/syncz and /debug/adsz as
  // src/ctl/testdata/<name>.{syncz,adsz}.json for the renderers' golden tests.
  void captureTestdata(const std::string& name) {
    const char* update = std::getenv("REMORA_UPDATE_GOLDEN");
    if (!update || *update != '1') return;
    for (const char* page : {"syncz", "adsz"}) {
      auto r = test::httpRequest(*network::SocketAddress::parse(http_), "GET",
                                 std::string("/debug/") + page);
      ASSERT_EQ(r.status, 200);
      std::ofstream(test::sourceDir() + "/src/ctl/testdata/" + name + "." + page + ".json")
          << r.body;
    }
  }

  std::string dir_, config_dir_, http_;
  int grpc_port_ = 0;
  test::ChildProcess pilot_;
};

#define EXPECT_RUN(result, want_code) \
  EXPECT_EQ((result).code, want_code) << "stdout:\n" << (result).out << "stderr:\n" << (result).err

TEST_F(RemoractlPilotTest, ApplyGetReplaceDelete) {
  std::string file = dir_ + "/reviews-v1.yaml";
  std::ofstream(file) << readFile(test::sourceDir() +
                                  "/examples/bookinfo/rules/virtual-service-reviews-v1.yaml");
  Result r = remoractl({"apply", "-f", file});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io/reviews created\n");
  // Persisted: the object has its own file in pilot's folder.
  std::string written = config_dir_ + "/virtualservice-default-reviews.yaml";
  ASSERT_TRUE(fs::exists(written));
  EXPECT_NE(readFile(written).find("subset: v1"), std::string::npos);

  r = remoractl({"get", "vs"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out,
            "NAME      GATEWAYS   HOSTS\n"
            "reviews              [\"reviews\"]\n");
  r = remoractl({"get", "virtualservices", "reviews", "-o", "yaml"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out,
            "apiVersion: networking.istio.io/v1alpha3\n"
            "kind: VirtualService\n"
            "metadata:\n"
            "  name: reviews\n"
            "  namespace: default\n"
            "spec:\n"
            "  hosts:\n"
            "  - reviews\n"
            "  http:\n"
            "  - route:\n"
            "    - destination:\n"
            "        host: reviews\n"
            "        subset: v1\n");
  r = remoractl({"get", "vs", "-o", "json", "-n", "other"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No resources found in namespace other.\n");

  // The same again: unchanged; a change: configured, in the same file.
  r = remoractl({"apply", "-f", file});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io/reviews unchanged\n");
  std::string text = readFile(file);
  text.replace(text.find("subset: v1"), 10, "subset: v2");
  std::ofstream(file) << text;
  r = remoractl({"apply", "-f", file});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io/reviews configured\n");
  EXPECT_NE(readFile(written).find("subset: v2"), std::string::npos);

  r = remoractl({"delete", "-f", file});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io \"reviews\" deleted\n");
  EXPECT_FALSE(fs::exists(written));
  r = remoractl({"get", "vs", "reviews"});
  EXPECT_RUN(r, 1);
  EXPECT_EQ(r.err,
            "remoractl: virtualservices.networking.istio.io \"reviews\" not found in namespace "
            "default\n");
  r = remoractl({"delete", "-f", file});
  EXPECT_RUN(r, 1);
  EXPECT_NE(r.err.find("VirtualService default/reviews: not found in the config folder"),
            std::string::npos)
      << r.err;
}

TEST_F(RemoractlPilotTest, CreateFromStdinRefusesAnExistingObject) {
  Result r = remoractl({"create", "-f", "-"}, kSeedVirtualService);
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io/reviews created\n");
  // The route points at a subset no DestinationRule defines yet: pilot
  // serves it and says so, as the seed expects (503 NC at request time).
  EXPECT_NE(r.err.find("warning:"), std::string::npos) << r.err;
  r = remoractl({"create", "-f", "-"}, kSeedDestinationRule);
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "destinationrule.networking.istio.io/ratings created\n");
  EXPECT_TRUE(fs::exists(config_dir_ + "/destinationrule-default-ratings.yaml"));

  std::string before = readFile(config_dir_ + "/virtualservice-default-reviews.yaml");
  r = remoractl({"create", "-f", "-"}, kSeedVirtualService);
  EXPECT_RUN(r, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "remoractl: STDIN: virtualservices.networking.istio.io \"reviews\" already exists in "
            "namespace default (apply replaces an object)\n");
  EXPECT_EQ(readFile(config_dir_ + "/virtualservice-default-reviews.yaml"), before);

  r = remoractl({"get", "dr", "-A"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out,
            "NAMESPACE   NAME      HOST\n"
            "default     ratings   ratings\n");
  r = remoractl({"delete", "vs", "reviews"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out, "virtualservice.networking.istio.io \"reviews\" deleted\n");
}

TEST_F(RemoractlPilotTest, RefusedObjectNamesFileAndFieldAndWritesNothing) {
  std::string file = dir_ + "/split.yaml";
  std::ofstream(file) << kBadSplit;
  Result r = remoractl({"apply", "-f", file});
  EXPECT_RUN(r, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "remoractl: " + file +
                       ":10: document 0: VirtualService default/ratings-split: spec.http[0].route: "
                       "weights sum to 90, want 100\n");
  EXPECT_FALSE(fs::exists(config_dir_ + "/virtualservice-default-ratings-split.yaml"));
  r = remoractl({"create", "-f", "-"}, kBadSplit);
  EXPECT_RUN(r, 1);
  EXPECT_NE(r.err.find("remoractl: STDIN:10: document 0:"), std::string::npos) << r.err;

  r = remoractl({"apply", "-f", "-"}, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n");
  EXPECT_RUN(r, 1);
  EXPECT_NE(r.err.find("Secret"), std::string::npos) << r.err;
}

TEST_F(RemoractlPilotTest, GetServicesAndPods) {
  Result r = remoractl({"get", "svc"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out,
            "NAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)\n"
            "details       ClusterIP   10.96.0.11   <none>        9080/TCP\n"
            "productpage   ClusterIP   10.96.0.12   <none>        9080/TCP\n"
            "ratings       ClusterIP   10.96.0.13   <none>        9080/TCP\n"
            "reviews       ClusterIP   10.96.0.14   <none>        9080/TCP\n");
  r = remoractl({"get", "pods"});
  EXPECT_RUN(r, 0);
  EXPECT_NE(r.out.find("NAME                              READY   STATUS    RESTARTS\n"
                       "details-v1-5974b67c8-wclnd        1/1     Running   0\n"),
            std::string::npos)
      << r.out;
  r = remoractl({"get", "services", "ratings", "-o", "json"});
  EXPECT_RUN(r, 0);
  EXPECT_NE(r.out.find("    \"kind\": \"Service\",\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"port\": 9080"), std::string::npos) << r.out;
  r = remoractl({"get", "gateways"});
  EXPECT_RUN(r, 2);
  EXPECT_NE(r.err.find("unknown resource type \"gateways\""), std::string::npos) << r.err;

  // $REMORA_PILOT stands in for --pilot.
  r = remoractl({"get", "svc", "details"}, "", false, {"REMORA_PILOT=" + http_});
  EXPECT_RUN(r, 0);
  EXPECT_NE(r.out.find("details   ClusterIP   10.96.0.11"), std::string::npos) << r.out;
  // Nothing there: the error names the address and how it was found.
  r = remoractl({"get", "svc"}, "", false, {"REMORA_PILOT=127.0.0.1:1"});
  EXPECT_RUN(r, 1);
  EXPECT_NE(r.err.find("pilot at 127.0.0.1:1 ($REMORA_PILOT)"), std::string::npos) << r.err;
}

TEST_F(RemoractlPilotTest, FoldersAndArgumentErrors) {
  // -f DIR: each file is its own request; a refused one does not stop the rest.
  std::string folder = dir_ + "/rules";
  fs::create_directory(folder);
  std::ofstream(folder + "/a-split.yaml") << kBadSplit;
  std::ofstream(folder + "/b-dr.yaml") << kSeedDestinationRule;
  std::ofstream(folder + "/notes.txt") << "not yaml";
  Result r = remoractl({"apply", "-f", folder});
  EXPECT_RUN(r, 1);
  EXPECT_EQ(r.out, "destinationrule.networking.istio.io/ratings created\n");
  EXPECT_NE(r.err.find("remoractl: " + folder + "/a-split.yaml:10: document 0: "),
            std::string::npos)
      << r.err;

  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case usage[] = {
      {{"get", "vs", "-o", "wide"}, "-o/--output: \"wide\" is not one of yaml, json"},
      {{"delete"}, "give -f FILE|-, or KIND NAME..."},
      {{"delete", "-f", "x.yaml", "vs", "reviews"}, "give either -f or KIND NAME..., not both"},
      {{"apply", "-f", dir_ + "/missing.yaml"}, "-f " + dir_ + "/missing.yaml: "},
      {{"apply"}, "--filename is required"},
  };
  for (const Case& c : usage) {
    r = remoractl(c.args);
    EXPECT_RUN(r, 2);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args[0] << ": " << r.err;
  }
  r = remoractl({"get", "svc", "--pilot", "localhost:15014"}, "", false);
  EXPECT_RUN(r, 2);
  EXPECT_NE(r.err.find("--pilot: \"localhost:15014\" is not HOST:PORT with an IP"),
            std::string::npos)
      << r.err;
}

// A sidecar as pilot sees it: one ADS stream, answered request by request.
class FakeProxy {
 public:
  FakeProxy(int grpc_port, const std::string& node_id, const std::string& admin_address) {
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port),
                                   grpc::InsecureChannelCredentials());
    stub_ = AggregatedDiscoveryService::NewStub(channel_);
    stream_ = stub_->StreamAggregatedResources(&context_);
    node_.set_id(node_id);
    auto& fields = *node_.mutable_metadata()->mutable_fields();
    fields["ADMIN_ADDRESS"].set_string_value(admin_address);
    fields["CLUSTER_ID"].set_string_value("Kubernetes");
    fields["ISTIO_VERSION"].set_string_value("1.24.0");
  }
  ~FakeProxy() { context_.TryCancel(); }

  // Subscribes to a wildcard type and returns the response.
  DiscoveryResponse subscribe(const std::string& type_url) {
    DiscoveryRequest req;
    *req.mutable_node() = node_;
    req.set_type_url(type_url);
    EXPECT_TRUE(stream_->Write(req));
    DiscoveryResponse resp;
    EXPECT_TRUE(stream_->Read(&resp));
    EXPECT_EQ(resp.type_url(), type_url);
    return resp;
  }
  void ack(const DiscoveryResponse& resp) {
    DiscoveryRequest req;
    req.set_type_url(resp.type_url());
    req.set_version_info(resp.version_info());
    req.set_response_nonce(resp.nonce());
    EXPECT_TRUE(stream_->Write(req));
  }
  void nack(const DiscoveryResponse& resp, const std::string& error) {
    DiscoveryRequest req;
    req.set_type_url(resp.type_url());
    req.set_response_nonce(resp.nonce());
    req.mutable_error_detail()->set_code(3);
    req.mutable_error_detail()->set_message(error);
    EXPECT_TRUE(stream_->Write(req));
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  envoy::config::core::v3::Node node_;
};

// The fake proxy's admin: /config_dump answers what the test sets.
class FakeAdmin {
 public:
  FakeAdmin()
      : server_([this](const BlockingHttpRequest& r) {
          BlockingHttpResponse resp;
          std::lock_guard<std::mutex> lock(mu_);
          if (r.path == "/config_dump") {
            resp.content_type = "application/json";
            resp.body = dump_;
          } else {
            resp.status = 404;
          }
          return resp;
        }) {
    EXPECT_TRUE(server_.start("127.0.0.1", 0).ok());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  void setDump(std::string dump) {
    std::lock_guard<std::mutex> lock(mu_);
    dump_ = std::move(dump);
  }

 private:
  std::mutex mu_;
  std::string dump_;
  BlockingHttpServer server_;
};

// Runs `run` until its output contains `want` (pilot records an ACK or NACK
// when its stream reads it, a moment after the client sent it).
Result waitForOutput(const std::function<Result()>& run, const std::string& want) {
  Result r;
  for (int i = 0; i < 100; ++i) {
    r = run();
    if (r.out.find(want) != std::string::npos) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

TEST_F(RemoractlPilotTest, ProxyStatusShowsSyncedNackedAndNotSent) {
  Result r = remoractl({"proxy-status"});
  EXPECT_RUN(r, 0);
  EXPECT_EQ(r.out,
            "NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n");

  FakeAdmin admin;
  FakeProxy proxy(grpc_port_, kReviewsV1Node, admin.address());
  DiscoveryResponse cds = proxy.subscribe(kCdsUrl);
  EXPECT_GT(cds.resources_size(), 0);
  proxy.ack(cds);
  DiscoveryResponse lds = proxy.subscribe(kLdsUrl);
  proxy.nack(lds, "listener 0.0.0.0_9080: refused by the test");
  // A second proxy that never answers its clusters: STALE.
  FakeProxy quiet(grpc_port_, kProductpageNode, "127.0.0.1:1");
  quiet.subscribe(kCdsUrl);

  auto status = [&] { return remoractl({"proxy-status"}); };
  r = waitForOutput(status, "NACKED");
  EXPECT_RUN(r, 0);
  std::string name = std::string(kReviewsV1) + ".default";
  EXPECT_NE(squeeze(r.out).find(name + " Kubernetes SYNCED NACKED NOT SENT NOT SENT NOT SENT " +
                                http_ + " 1.24.0\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(squeeze(r.out).find("productpage-v1-6b746f74dc-9stvs.default Kubernetes STALE NOT SENT "
                                "NOT SENT NOT SENT NOT SENT " +
                                http_ + " 1.24.0\n"),
            std::string::npos)
      << r.out;
  captureTestdata("pilot_two_proxies");
  EXPECT_NE(r.out.find("\n" + name + ": LDS version " + lds.version_info() +
                       " NACKED: listener 0.0.0.0_9080: refused by the test\n"),
            std::string::npos)
      << r.out;

  // One proxy: the detail, then pilot's config against the proxy's own.
  auto pilot_dump = test::httpRequest(*network::SocketAddress::parse(http_), "GET",
                                      "/debug/config_dump?proxyID=" + name);
  ASSERT_EQ(pilot_dump.status, 200);
  admin.setDump(pilot_dump.body);
  r = remoractl({"proxy-status", kReviewsV1});
  EXPECT_RUN(r, 0);
  EXPECT_NE(squeeze(r.out).find("Admin: " + admin.address() + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LDS version " + lds.version_info() + " NACKED at "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Clusters Match\nListeners Match\nRoutes Match\nEndpoints Match\n"),
            std::string::npos)
      << r.out;

  // A proxy missing a cluster pilot sends.
  std::string partial = pilot_dump.body;
  std::string ratings = "\"name\": \"outbound|9080||ratings.default.svc.cluster.local\"";
  size_t at = partial.find(ratings);
  ASSERT_NE(at, std::string::npos);
  partial.replace(at, ratings.size(), "\"name\": \"outbound|9080||renamed\"");
  admin.setDump(partial);
  r = remoractl({"proxy-status", name});
  EXPECT_RUN(r, 0);
  EXPECT_NE(r.out.find("Clusters Don't Match\n"
                       "  missing in the proxy: outbound|9080||ratings.default.svc.cluster.local\n"
                       "  only in the proxy: outbound|9080||renamed\n"),
            std::string::npos)
      << r.out;

  // proxy-config finds the proxy through pilot (no lab, no --admin).
  admin.setDump(pilot_dump.body);
  r = remoractl({"proxy-config", "clusters", kReviewsV1, "--fqdn", "ratings"});
  EXPECT_RUN(r, 0);
  EXPECT_NE(squeeze(r.out).find("ratings.default.svc.cluster.local 9080 - outbound EDS"),
            std::string::npos)
      << r.out;

  r = remoractl({"proxy-status", "ratings-v1-8558d4458d-46skm"});
  EXPECT_RUN(r, 1);
  EXPECT_EQ(r.err,
            "remoractl: no proxy \"ratings-v1-8558d4458d-46skm\" is connected to pilot "
            "(connected: productpage-v1-6b746f74dc-9stvs.default, " +
                name + ")\n");
}

}  // namespace
}  // namespace remora
