#include "upstream/conn_pool.h"

#include <gtest/gtest.h>

#include <functional>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "support/http_servers.h"
#include "support/process.h"

namespace remora::upstream {
namespace {

using test::HttpBackend;

// One request through the pool, recording what happens to it.
class Request : public PoolCallbacks {
 public:
  explicit Request(std::string path, std::function<void(Request&)> done = nullptr)
      : path_(std::move(path)), done_(std::move(done)) {}

  void onPoolReady(PoolStream& stream) override {
    events.push_back(stream.reused() ? "ready:reused" : "ready:new");
    http::HeaderMap h;
    h.add(":method", "GET");
    h.add(":path", path_);
    h.add(":authority", "backend");
    stream.encodeHeaders(h, true);
  }
  void onPoolFailure(PoolFailure reason) override {
    events.push_back("failure:" + std::to_string(static_cast<int>(reason)));
    finish();
  }
  void onUpstreamReset(ResetReason reason) override {
    events.push_back("reset:" + std::to_string(static_cast<int>(reason)));
    finish();
  }
  void decodeHeaders(http::HeaderMapPtr headers, bool end_stream) override {
    events.push_back("headers:" + std::string(headers->status()));
    if (end_stream) finish();
  }
  void decodeData(http::Buffer& data, bool end_stream) override {
    body += data.toString();
    data.clear();
    if (end_stream) finish();
  }
  void decodeTrailers(http::HeaderMapPtr) override { finish(); }

  std::vector<std::string> events;
  std::string body;
  bool finished = false;

 private:
  void finish() {
    finished = true;
    if (done_) done_(*this);
  }
  std::string path_;
  std::function<void(Request&)> done_;
};

class ConnPoolTest : public ::testing::Test {
 protected:
  ConnPoolTest()
      : dispatcher_(event::Dispatcher::create("pool-test").value()),
        flush_(*dispatcher_),
        context_{*dispatcher_, flush_} {}

  ClusterSharedPtr cluster(const network::SocketAddress& host, const std::string& extra = "") {
    envoy::config::cluster::v3::Cluster c;
    c.set_name("c");
    c.mutable_connect_timeout()->set_seconds(2);
    auto* sa = c.mutable_load_assignment()
                   ->add_endpoints()
                   ->add_lb_endpoints()
                   ->mutable_endpoint()
                   ->mutable_address()
                   ->mutable_socket_address();
    sa->set_address(host.ip.toString());
    sa->set_port_value(host.port);
    if (extra == "breakers") {
      auto* t = c.mutable_circuit_breakers()->add_thresholds();
      t->mutable_max_connections()->set_value(1);
      t->mutable_max_pending_requests()->set_value(0);
    } else if (extra == "one-connection") {
      auto* t = c.mutable_circuit_breakers()->add_thresholds();
      t->mutable_max_connections()->set_value(1);
    } else if (extra == "idle") {
      envoy::extensions::upstreams::http::v3::HttpProtocolOptions o;
      o.mutable_common_http_protocol_options()->mutable_idle_timeout()->set_nanos(50 * 1000 * 1000);
      (*c.mutable_typed_extension_protocol_options())
          ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
              .PackFrom(o);
    }
    auto created = Cluster::create(c, stats_);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return *created;
  }

  std::unique_ptr<ConnPool> pool(const ClusterSharedPtr& c) {
    return std::make_unique<ConnPool>(context_, c, c->hosts()->hosts[0]);
  }

  // Starts `r` on the next loop turn: a connection is back in the pool once
  // the last callback of its response has returned.
  void later(ConnPool& p, Request& r) {
    next_ = dispatcher_->createTimer([&p, &r] { p.newStream(r); });
    next_->enable(std::chrono::milliseconds(0));
  }

  // Runs the loop until `until` holds (checked every millisecond), at most 10 s.
  void runUntil(std::function<bool()> until) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    poll_ = dispatcher_->createTimer([&, until] {
      if (until() || std::chrono::steady_clock::now() > deadline) {
        dispatcher_->exit();
        return;
      }
      poll_->enable(std::chrono::milliseconds(1));
    });
    poll_->enable(std::chrono::milliseconds(0));
    dispatcher_->run();
  }

  StatsStore stats_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  http::FlushList flush_;
  PoolContext context_;
  std::unique_ptr<event::Timer> poll_;
  std::unique_ptr<event::Timer> next_;
};

TEST_F(ConnPoolTest, SecondRequestReusesTheKeptAliveConnection) {
  HttpBackend backend("b");
  auto c = cluster(backend.address());
  auto p = pool(c);
  Request second("/two");
  Request first("/one", [&](Request&) { later(*p, second); });
  p->newStream(first);
  runUntil([&] { return second.finished; });
  EXPECT_EQ(first.events, (std::vector<std::string>{"ready:new", "headers:200"}));
  EXPECT_EQ(second.events, (std::vector<std::string>{"ready:reused", "headers:200"}));
  EXPECT_EQ(second.body, "b GET /two\n");
  EXPECT_EQ(backend.connections(), 1);
  EXPECT_EQ(p->idleConnections(), 1u);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_total"), 1);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_active"), 1);
}

TEST_F(ConnPoolTest, ConnectFailureFailsTheWaitingRequest) {
  auto c = cluster(*network::SocketAddress::parse("127.0.0.1:" + std::to_string(test::freePort())));
  auto p = pool(c);
  Request r("/x");
  p->newStream(r);
  runUntil([&] { return r.finished; });
  EXPECT_EQ(r.events, (std::vector<std::string>{"failure:" + std::to_string(static_cast<int>(
                                                                 PoolFailure::kConnectFailure))}));
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_connect_fail"), 1);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_active"), 0);
  EXPECT_TRUE(p->empty());
}

TEST_F(ConnPoolTest, NoRoomToWaitIsOverflow) {
  HttpBackend backend("b");
  auto c = cluster(backend.address(), "breakers");
  auto p = pool(c);
  Request r("/x");
  p->newStream(r);  // max_pending_requests 0: nobody may wait for a connection
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.events, (std::vector<std::string>{
                          "failure:" + std::to_string(static_cast<int>(PoolFailure::kOverflow))}));
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_rq_pending_overflow"), 1);
  EXPECT_EQ(backend.connections(), 0);
}

TEST_F(ConnPoolTest, RequestsWaitForTheOnlyConnection) {
  HttpBackend backend("b");
  auto c = cluster(backend.address(), "one-connection");
  auto p = pool(c);
  Request a("/slow/30"), b("/after");
  p->newStream(a);
  p->newStream(b);  // waits: max_connections 1
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_rq_pending_active"), 2);
  runUntil([&] { return a.finished && b.finished; });
  EXPECT_EQ(b.events, (std::vector<std::string>{"ready:reused", "headers:200"}));
  EXPECT_EQ(backend.connections(), 1);
  EXPECT_GE(stats_.valueOf("cluster.c.upstream_cx_overflow"), 1);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_rq_pending_active"), 0);
}

TEST_F(ConnPoolTest, AKeptAliveConnectionTheServerClosedIsReportedStale) {
  HttpBackend backend("b", HttpBackend::Mode::kResetSecondRequest);
  auto c = cluster(backend.address());
  auto p = pool(c);
  Request second("/two");
  Request first("/one", [&](Request&) { later(*p, second); });
  p->newStream(first);
  runUntil([&] { return second.finished; });
  ASSERT_EQ(second.events.size(), 2u);
  EXPECT_EQ(second.events[0], "ready:reused");
  EXPECT_EQ(second.events[1],
            "reset:" + std::to_string(static_cast<int>(ResetReason::kStaleConnection)));
  EXPECT_TRUE(p->empty());
}

TEST_F(ConnPoolTest, ResetBeforeAnyResponseOnAFreshConnectionIsNotStale) {
  HttpBackend backend("b");
  auto c = cluster(backend.address());
  auto p = pool(c);
  Request r("/rst");
  p->newStream(r);
  runUntil([&] { return r.finished; });
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1], "reset:" + std::to_string(static_cast<int>(ResetReason::kRemoteReset)));
}

TEST_F(ConnPoolTest, IdleConnectionsCloseAfterTheIdleTimeout) {
  HttpBackend backend("b");
  auto c = cluster(backend.address(), "idle");
  EXPECT_EQ(c->idleTimeout(), std::chrono::milliseconds(50));
  auto p = pool(c);
  Request r("/x");
  p->newStream(r);
  runUntil([&] { return stats_.valueOf("cluster.c.upstream_cx_idle_timeout") == 1; });
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_idle_timeout"), 1);
  EXPECT_EQ(stats_.valueOf("cluster.c.upstream_cx_active"), 0);
}

}  // namespace
}  // namespace remora::upstream
