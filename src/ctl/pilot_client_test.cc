// Finding pilot, talking to it, and finding proxies through it, against a
// local HTTP server that answers with pages captured from remora-pilot.
#include "ctl/pilot_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "ctl/ctl_test_util.h"
#include "ctl/json_value.h"
#include "ctl/proxy_source.h"
#include "lab/state.h"

namespace remora::ctl {
namespace {

namespace fs = std::filesystem;
using testdata::readTestdata;

TEST(ParsePilotAddress, IpAndPortOnly) {
  auto t = parsePilotAddress("10.244.0.1:15014", "--pilot");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->host, "10.244.0.1");
  EXPECT_EQ(t->port, 15014);
  EXPECT_EQ(t->describe(), "10.244.0.1:15014 (--pilot)");
  auto v6 = parsePilotAddress("[::1]:15014", "--pilot");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->address(), "[::1]:15014");
  auto name = parsePilotAddress("localhost:15014", "$REMORA_PILOT");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(name.status().message().rfind(
                "$REMORA_PILOT: \"localhost:15014\" is not HOST:PORT with an IP (", 0),
            0u)
      << name.status().message();
  EXPECT_FALSE(parsePilotAddress("127.0.0.1:0", "--pilot").ok());
}

class FindPilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ctl-pilot-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    flags_.lab = "test";
    flags_.state_root = root_;
  }
  void TearDown() override { fs::remove_all(root_); }

  // A lab state as `lab up` writes it, with the pods given.
  void writeLab(const std::vector<lab::PodRecord>& pods,
                std::optional<lab::PilotRecord> pilot = std::nullopt) {
    lab::LabState s;
    s.name = "test";
    s.phase = "up";
    s.pods = pods;
    s.pilot = std::move(pilot);
    fs::create_directories(root_ + "/test");
    std::ofstream(root_ + "/test/" + lab::kStateFile) << lab::renderState(s);
  }

  std::string root_;
  PilotFlags flags_;
};

TEST_F(FindPilotTest, FlagThenEnvironmentThenDefault) {
  flags_.pilot = "127.0.0.2:1000";
  auto t = findPilot(flags_, "127.0.0.3:2000");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->describe(), "127.0.0.2:1000 (--pilot)");
  flags_.pilot.clear();
  t = findPilot(flags_, "127.0.0.3:2000");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->describe(), "127.0.0.3:2000 ($REMORA_PILOT)");
  // No lab: the default address.
  t = findPilot(flags_, "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->describe(), "127.0.0.1:15014 (the default address)");
  EXPECT_TRUE(t->netns.empty());
  // A lab without a pilot (static bootstraps): the default too.
  writeLab({});
  t = findPilot(flags_, "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->describe(), "127.0.0.1:15014 (the default address)");
  // A lab that started pilot: its address, reached inside the hub namespace.
  writeLab({}, lab::PilotRecord{"test", "10.244.0.1:15010", "10.244.0.1:15014", "/run/cfg"});
  t = findPilot(flags_, "");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->describe(), "10.244.0.1:15014 (lab test, network namespace test)");
  EXPECT_EQ(t->config_dir, "/run/cfg");
  writeLab({}, lab::PilotRecord{"test", "10.244.0.1:15010", "pilot:15014", "/run/cfg"});
  t = findPilot(flags_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind("the lab's state (pilot.http_address): lab test: ", 0), 0u)
      << t.status().message();
  // A lab whose state is unreadable is an error, not a guess.
  std::ofstream(root_ + "/test/" + lab::kStateFile) << "pods: [\n";
  t = findPilot(flags_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(
      t.status().message().rfind("finding pilot through lab test (give --pilot HOST:PORT): ", 0),
      0u)
      << t.status().message();
}

TEST(PilotErrorMessage, PilotsErrorFieldOrTheBody) {
  EXPECT_EQ(pilotErrorMessage(R"json({"error": "no page /x (see /debug)"})json"),
            "no page /x (see /debug)");
  EXPECT_EQ(pilotErrorMessage("not ready\n"), "not ready");
  EXPECT_EQ(queryEscape("reviews-v1.default"), "reviews-v1.default");
  EXPECT_EQ(queryEscape("a b/c&d"), "a%20b%2Fc%26d");
}

// Pilot's HTTP server, played by the test: fixed pages.
class FakePilot {
 public:
  FakePilot() : server_([this](const BlockingHttpRequest& r) { return handle(r); }) {
    EXPECT_TRUE(server_.start("127.0.0.1", 0).ok());
  }
  PilotClient client() const {
    auto t = parsePilotAddress("127.0.0.1:" + std::to_string(server_.port()), "--pilot");
    return PilotClient(*t, std::chrono::seconds(5));
  }
  void setSyncz(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    syncz_ = std::move(s);
  }

 private:
  BlockingHttpResponse handle(const BlockingHttpRequest& r) {
    BlockingHttpResponse resp;
    std::lock_guard<std::mutex> lock(mu_);
    if (r.path == "/debug/syncz") {
      resp.content_type = "application/json";
      resp.body = syncz_;
    } else {
      resp.status = 404;
      resp.body = "{\"error\": \"no page " + r.path + " (see /debug)\"}";
    }
    return resp;
  }

  std::mutex mu_;
  std::string syncz_ = R"json({"version":"1","proxies":[]})json";
  BlockingHttpServer server_;
};

TEST(PilotClient, GetReturnsBodyOrPilotsError) {
  FakePilot pilot;
  auto ok = pilot.client().get("/debug/syncz");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, R"json({"version":"1","proxies":[]})json");
  auto missing = pilot.client().get("/debug/nothing?x=1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "pilot at " + pilot.client().target().describe() +
                ": GET /debug/nothing?x=1: HTTP 404: no page /debug/nothing (see /debug)");
  PilotClient nobody(*parsePilotAddress("127.0.0.1:1", "--pilot"), std::chrono::seconds(2));
  auto down = nobody.get("/debug/syncz");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(
      down.status().message().rfind("pilot at 127.0.0.1:1 (--pilot): connect 127.0.0.1:1: ", 0), 0u)
      << down.status().message();
}

TEST_F(FindPilotTest, PilotProxyLocatorUsesAdminAddressAndTheLabsNamespace) {
  FakePilot pilot;
  pilot.setSyncz(readTestdata("pilot_two_proxies.syncz.json"));
  lab::LabOptions lab;
  lab.name = "test";
  lab.state_root = root_;

  // Not a lab pod: the admin address from node metadata, in this namespace;
  // the pod IP from the node id.
  PilotProxyLocator locator(pilot.client(), &lab);
  auto t = locator.locate("productpage-v1-6b746f74dc-9stvs");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->display, "productpage-v1-6b746f74dc-9stvs.default");
  EXPECT_EQ(t->admin.toString(), "127.0.0.1:1");
  EXPECT_TRUE(t->netns.empty());
  ASSERT_TRUE(t->pod_ip.has_value());
  EXPECT_EQ(t->pod_ip->toString(), "10.244.0.12");
  EXPECT_EQ(t->hosts_file, "");

  // A lab pod: its admin listens inside the pod's namespace.
  lab::PodRecord pod;
  pod.name = "productpage-v1-6b746f74dc-9stvs";
  pod.ns = "default";
  pod.netns = "test-productpage";
  pod.ip = "10.244.0.12";
  pod.sidecar = true;
  pod.admin = "127.0.0.1:15000";
  writeLab({pod});
  t = locator.locate("productpage-v1-6b746f74dc-9stvs.default");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->netns, "test-productpage");
  EXPECT_EQ(t->admin.toString(), "127.0.0.1:1");
  EXPECT_EQ(t->hosts_file, lab::podEtcFile("test-productpage", "hosts"));

  auto missing = locator.locate("ratings-v1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  // A proxy that reconnected shows twice for a moment: the newest stream
  // counts, whatever its connection id.
  auto twice = JsonValue::parse(readTestdata("pilot_two_proxies.syncz.json"));
  ASSERT_TRUE(twice.ok());
  JsonValue& proxies = *twice->find("proxies");
  JsonValue newer = proxies.items()[1];
  *newer.find("connectionId") = JsonValue::string("reviews-v1-76474f6fb7-pmglr.default-0");
  *newer.find("connectedAt") = JsonValue::string("2030-01-01T00:00:00.000Z");
  *newer.find("adminAddress") = JsonValue::string("127.0.0.1:2");
  proxies.push(std::move(newer));
  pilot.setSyncz(writeJson(*twice, 0));
  t = locator.locate("reviews-v1-76474f6fb7-pmglr");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->admin.toString(), "127.0.0.1:2");

  // A proxy that reports no admin address cannot be inspected.
  std::string syncz = readTestdata("pilot_two_proxies.syncz.json");
  size_t at = syncz.find("\"adminAddress\": \"127.0.0.1:1\"");
  ASSERT_NE(at, std::string::npos) << syncz;
  syncz.replace(at, std::string("\"adminAddress\": \"127.0.0.1:1\"").size(),
                "\"adminAddress\": \"\"");
  pilot.setSyncz(syncz);
  auto no_admin = locator.locate("productpage-v1-6b746f74dc-9stvs");
  ASSERT_FALSE(no_admin.ok());
  EXPECT_EQ(no_admin.status().message(),
            "proxy productpage-v1-6b746f74dc-9stvs.default is connected to pilot but reports no "
            "admin address (node metadata ADMIN_ADDRESS)");
}

// A locator with a fixed answer.
class FixedLocator final : public ProxyLocator {
 public:
  explicit FixedLocator(StatusOr<ProxyTarget> answer) : answer_(std::move(answer)) {}
  StatusOr<ProxyTarget> locate(const std::string&) override { return answer_; }

 private:
  StatusOr<ProxyTarget> answer_;
};

TEST(FallbackProxyLocator, FirstAnswerWinsElseEveryReason) {
  ProxyTarget found;
  found.display = "from the lab";
  std::vector<std::unique_ptr<ProxyLocator>> locators;
  locators.push_back(std::make_unique<FixedLocator>(unavailableError("pilot at x: refused")));
  locators.push_back(std::make_unique<FixedLocator>(found));
  FallbackProxyLocator fallback(std::move(locators));
  auto t = fallback.locate("p");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->display, "from the lab");

  std::vector<std::unique_ptr<ProxyLocator>> failing;
  failing.push_back(std::make_unique<FixedLocator>(unavailableError("pilot at x: refused")));
  failing.push_back(std::make_unique<FixedLocator>(notFoundError("lab remora is not up")));
  FallbackProxyLocator none(std::move(failing));
  auto err = none.locate("p");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(err.status().message(), "cannot find pod p: pilot at x: refused; lab remora is not up");
}

}  // namespace
}  // namespace remora::ctl
