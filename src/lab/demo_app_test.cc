#include "lab/demo_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remora::lab {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

DemoAppOptions options(const std::string& name, const std::string& version) {
  DemoAppOptions o;
  o.name = name;
  o.ns = "default";
  o.version = version;
  o.address = "127.0.0.1";
  o.ports = {0};
  o.quiet = true;
  o.call_timeout = milliseconds(2000);
  return o;
}

network::SocketAddress local(uint16_t port) {
  return {*network::IpAddress::parse("127.0.0.1"), port};
}

TEST(DemoAppTest, AnswersWithPodVersionPortPathAndPeer) {
  DemoApp app(options("reviews-v1", "v1"));
  ASSERT_TRUE(app.start().ok());
  uint16_t port = app.ports()[0];
  auto r = httpGet(local(port), "reviews", "/reviews/0", {}, milliseconds(2000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body,
              HasSubstr("{\"pod\":\"reviews-v1\",\"namespace\":\"default\",\"version\":"
                        "\"v1\",\"port\":" +
                        std::to_string(port) + ",\"path\":\"/reviews/0\",\"peer\":\"127.0.0.1:"));
  EXPECT_EQ(r->body.back(), '\n');
  EXPECT_EQ(app.requests(), 1);
}

TEST(DemoAppTest, CallsOtherServicesAndNestsTheirAnswers) {
  DemoApp ratings(options("ratings-v1", "v1"));
  ASSERT_TRUE(ratings.start().ok());
  DemoAppOptions o = options("reviews-v2", "v2");
  o.calls = {"http://127.0.0.1:" + std::to_string(ratings.ports()[0]) + "/ratings/0"};
  DemoApp reviews(o);
  ASSERT_TRUE(reviews.start().ok());
  auto r = httpGet(local(reviews.ports()[0]), "reviews", "/reviews/0", {{"x-request-id", "req-1"}},
                   milliseconds(4000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("\"calls\":[{\"url\":\"" + o.calls[0] +
                                 "\",\"status\":200,\"body\":{\"pod\":\"ratings-v1\""));
  EXPECT_THAT(r->body, HasSubstr("\"path\":\"/ratings/0\""));
  EXPECT_EQ(ratings.requests(), 1);
}

TEST(DemoAppTest, AFailedCallIsA502ThatSaysWhy) {
  uint16_t closed;
  {
    DemoApp gone(options("gone", ""));
    ASSERT_TRUE(gone.start().ok());
    closed = gone.ports()[0];
  }
  DemoAppOptions o = options("productpage", "v1");
  o.calls = {"http://127.0.0.1:" + std::to_string(closed) + "/"};
  DemoApp app(o);
  ASSERT_TRUE(app.start().ok());
  auto r = httpGet(local(app.ports()[0]), "p", "/", {}, milliseconds(4000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 502);
  EXPECT_THAT(r->body, HasSubstr("\"error\":\"connect 127.0.0.1:" + std::to_string(closed)));
}

TEST(DemoAppTest, ServesSeveralPortsAndRefusesABusyOne) {
  DemoAppOptions o = options("multi", "");
  o.ports = {0, 0};
  DemoApp app(o);
  ASSERT_TRUE(app.start().ok());
  ASSERT_EQ(app.ports().size(), 2u);
  for (uint16_t p : app.ports()) {
    auto r = httpGet(local(p), "m", "/x", {}, milliseconds(2000));
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(r->body, HasSubstr("\"port\":" + std::to_string(p)));
  }
  DemoAppOptions busy = options("busy", "");
  busy.ports = {app.ports()[0]};
  DemoApp second(busy);
  // SO_REUSEADDR does not allow two listeners on one port.
  EXPECT_THAT(second.start().message(), HasSubstr("listen on 127.0.0.1:"));
}

TEST(DemoAppTest, ArgumentsAndTheirErrors) {
  auto a = parseDemoAppArgs({"--port", "9080", "--port", "9090", "--name", "reviews-v1",
                             "--version", "v1", "--call", "http://ratings:9080/ratings/0"});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->options.ports, (std::vector<uint16_t>{9080, 9090}));
  EXPECT_EQ(a->options.name, "reviews-v1");
  EXPECT_EQ(a->options.calls.size(), 1u);
  auto defaults = parseDemoAppArgs({"--name", "x"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->options.ports, (std::vector<uint16_t>{9080}));
  EXPECT_THAT(parseDemoAppArgs({"--call", "ftp://x/"}).status().message(),
              HasSubstr("--call: \"ftp://x/\" is not an http:// URL"));
  EXPECT_THAT(parseDemoAppArgs({"--address", "nowhere"}).status().message(),
              HasSubstr("--address"));
  EXPECT_FALSE(parseDemoAppArgs({"--port", "70000"}).ok());
  EXPECT_TRUE(parseDemoAppArgs({"--help"})->show_help);
}

TEST(DemoAppTest, JsonStringsAreEscaped) {
  EXPECT_EQ(jsonString("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_TRUE(isPropagatedHeader("x-b3-traceid"));
  EXPECT_FALSE(isPropagatedHeader("authorization"));
}

}  // namespace
}  // namespace remora::lab
