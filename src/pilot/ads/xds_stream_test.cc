#include "pilot/ads/xds_stream.h"

#include <gtest/gtest.h>

#include "pilot/ads/node.h"

namespace remora::pilot {
namespace {

constexpr ResourceType kCds = ResourceType::kCluster;
constexpr ResourceType kEds = ResourceType::kEndpoint;
constexpr ResourceType kLds = ResourceType::kListener;
constexpr ResourceType kRds = ResourceType::kRoute;

const std::string kRatings = "outbound|9080||ratings.default.svc.cluster.local";
const std::string kRatingsV1 = "outbound|9080|v1|ratings.default.svc.cluster.local";
const std::string kReviews = "outbound|9080||reviews.default.svc.cluster.local";

XdsRequest request(ResourceType type, std::vector<std::string> names = {}, std::string nonce = "",
                   std::string version = "") {
  XdsRequest r;
  r.type = type;
  r.resource_names = std::move(names);
  r.response_nonce = std::move(nonce);
  r.version_info = std::move(version);
  return r;
}

XdsRequest nack(ResourceType type, std::string nonce, std::string error,
                std::vector<std::string> names = {}) {
  XdsRequest r = request(type, std::move(names), std::move(nonce), "");
  r.has_error = true;
  r.error_message = std::move(error);
  return r;
}

// Drives one stream the way AdsConnection does, numbering versions and
// nonces so that tests can name them.
class XdsStreamTest : public ::testing::Test {
 protected:
  // Sends what is due now; returns the plans in the order sent.
  std::vector<SendPlan> sendAll() {
    std::vector<SendPlan> sent;
    while (auto plan = stream_.nextSend()) {
      stream_.markSent(*plan, std::to_string(version_), std::to_string(++nonce_), {}, {});
      sent.push_back(*plan);
    }
    return sent;
  }
  std::string nonceOf(ResourceType t) { return stream_.watch(t).sent_nonce; }
  std::string versionOf(ResourceType t) { return stream_.watch(t).sent_version; }
  void ack(ResourceType t, std::vector<std::string> names = {}) {
    auto r = stream_.onRequest(request(t, std::move(names), nonceOf(t), versionOf(t)), {});
    EXPECT_EQ(r.outcome, XdsStream::Outcome::kAck);
  }

  XdsStream stream_;
  int version_ = 1;
  int nonce_ = 0;
};

std::vector<ResourceType> typesOf(const std::vector<SendPlan>& plans) {
  std::vector<ResourceType> out;
  for (const auto& p : plans)
    out.push_back(p.type);
  return out;
}

TEST_F(XdsStreamTest, AnInitialRequestIsAnsweredAndItsAckRecorded) {
  EXPECT_EQ(stream_.watch(kCds).status(), std::string("NOT SENT"));
  auto r = stream_.onRequest(request(kCds), {});
  EXPECT_EQ(r.outcome, XdsStream::Outcome::kSubscribe);
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, kCds);
  EXPECT_TRUE(sent[0].wildcard);
  EXPECT_EQ(stream_.watch(kCds).status(), std::string("STALE"));
  ack(kCds);
  const WatchState& w = stream_.watch(kCds);
  EXPECT_EQ(w.status(), std::string("SYNCED"));
  EXPECT_EQ(w.acked_version, "1");
  EXPECT_EQ(w.acked_nonce, "1");
  EXPECT_EQ(w.acks, 1u);
  EXPECT_TRUE(sendAll().empty());
}

TEST_F(XdsStreamTest, ANackIsRecordedWithItsErrorAndTheConfigIsNotResent) {
  stream_.onRequest(request(kLds), {});
  sendAll();
  auto r =
      stream_.onRequest(nack(kLds, nonceOf(kLds), "listener 0.0.0.0_9080: unknown filter"), {});
  EXPECT_EQ(r.outcome, XdsStream::Outcome::kNack);
  const WatchState& w = stream_.watch(kLds);
  EXPECT_EQ(w.status(), std::string("NACKED"));
  EXPECT_EQ(w.nack_error, "listener 0.0.0.0_9080: unknown filter");
  EXPECT_EQ(w.nacked_version, "1");
  EXPECT_EQ(w.acked_version, "");
  EXPECT_TRUE(sendAll().empty());
  // The next config is sent, and its ACK makes the stream synced again.
  version_ = 2;
  stream_.onPush(true);
  ASSERT_EQ(sendAll().size(), 1u);
  ack(kLds);
  EXPECT_EQ(stream_.watch(kLds).status(), std::string("SYNCED"));
  EXPECT_EQ(stream_.watch(kLds).acked_version, "2");
  EXPECT_EQ(stream_.watch(kLds).nacks, 1u);
}

TEST_F(XdsStreamTest, AStaleNonceIsIgnored) {
  stream_.onRequest(request(kCds), {});
  sendAll();
  std::string first = nonceOf(kCds);
  ack(kCds);
  version_ = 2;
  stream_.onPush(true);
  sendAll();
  // A request answering the first response arrives after the second was
  // sent: it changes nothing, not even the subscription.
  auto r = stream_.onRequest(nack(kCds, first, "old news", {"a"}), {});
  EXPECT_EQ(r.outcome, XdsStream::Outcome::kStale);
  const WatchState& w = stream_.watch(kCds);
  EXPECT_TRUE(w.in_flight);
  EXPECT_TRUE(w.wildcard);
  EXPECT_EQ(w.nacks, 0u);
  EXPECT_EQ(w.status(), std::string("STALE"));
  ack(kCds);
  EXPECT_EQ(stream_.watch(kCds).acked_version, "2");
}

TEST_F(XdsStreamTest, PushesWaitingForAnAckCoalesceIntoOne) {
  stream_.onRequest(request(kCds), {});
  sendAll();
  for (int v = 2; v <= 5; ++v) {
    version_ = v;
    stream_.onPush(true);
    EXPECT_TRUE(sendAll().empty()) << "version " << v << " went out before the ACK";
  }
  ack(kCds);
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(versionOf(kCds), "5");
  ack(kCds);
  EXPECT_TRUE(sendAll().empty());
  EXPECT_EQ(stream_.watch(kCds).responses, 2u);
}

TEST_F(XdsStreamTest, AFullPushGoesOutAsCdsEdsLdsRds) {
  // Subscribed in Envoy's order of discovery, answered as asked.
  stream_.onRequest(request(kLds), {});
  stream_.onRequest(request(kCds), {});
  sendAll();
  ack(kCds);
  ack(kLds);
  stream_.onRequest(request(kRds, {"9080"}), {});
  stream_.onRequest(request(kEds, {kRatings}), {});
  sendAll();
  ack(kRds, {"9080"});
  ack(kEds, {kRatings});
  version_ = 2;
  stream_.onPush(true);
  auto sent = sendAll();
  EXPECT_EQ(typesOf(sent), (std::vector<ResourceType>{kCds, kEds, kLds, kRds}));
  EXPECT_EQ(sent[1].names, std::vector<std::string>{kRatings});
  EXPECT_EQ(sent[3].names, std::vector<std::string>{"9080"});
}

TEST_F(XdsStreamTest, ALaterTypeWaitsBehindAnEarlierOneAwaitingItsAck) {
  stream_.onRequest(request(kCds), {});
  stream_.onRequest(request(kLds), {});
  sendAll();
  ack(kLds);
  // CDS is still unacknowledged when the next config arrives: its listeners
  // must not overtake the clusters they name.
  version_ = 2;
  stream_.onPush(true);
  EXPECT_TRUE(sendAll().empty());
  // Once CDS is written, LDS may follow it on the stream: the client reads
  // them in that order.
  ack(kCds);
  EXPECT_EQ(typesOf(sendAll()), (std::vector<ResourceType>{kCds, kLds}));
  EXPECT_EQ(versionOf(kLds), "2");
}

TEST_F(XdsStreamTest, AnEndpointOnlyPushSendsTheWatchedClustersOfTheChangedServices) {
  stream_.onRequest(request(kCds), {});
  stream_.onRequest(request(kLds), {});
  stream_.onRequest(request(kEds, {kRatings, kRatingsV1, kReviews}), {});
  sendAll();
  ack(kCds);
  ack(kLds);
  ack(kEds, {kRatings, kRatingsV1, kReviews});
  version_ = 2;
  stream_.onPush(false, {"ratings.default.svc.cluster.local", "details.default.svc.cluster.local"});
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, kEds);
  EXPECT_TRUE(sent[0].endpoints_only);
  EXPECT_EQ(sent[0].names, (std::vector<std::string>{kRatingsV1, kRatings}));
  ack(kEds, {kRatings, kRatingsV1, kReviews});
  // A service this stream does not watch: nothing to send.
  stream_.onPush(false, {"details.default.svc.cluster.local"});
  EXPECT_TRUE(sendAll().empty());
  EXPECT_FALSE(stream_.watchesEndpointsOf("details.default.svc.cluster.local"));
  EXPECT_TRUE(stream_.watchesEndpointsOf("reviews.default.svc.cluster.local"));
}

TEST_F(XdsStreamTest, EndpointPushesWaitingForAnAckMergeTheirServices) {
  stream_.onRequest(request(kEds, {kRatings, kReviews}), {});
  sendAll();
  stream_.onPush(false, {"ratings.default.svc.cluster.local"});
  stream_.onPush(false, {"reviews.default.svc.cluster.local"});
  EXPECT_TRUE(sendAll().empty());
  ack(kEds, {kRatings, kReviews});
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].names, (std::vector<std::string>{kRatings, kReviews}));
  // A full push pending meanwhile covers the endpoint-only one.
  stream_.onPush(false, {"ratings.default.svc.cluster.local"});
  stream_.onPush(true);
  ack(kEds, {kRatings, kReviews});
  sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].endpoints_only);
}

TEST_F(XdsStreamTest, AnAckNamingNewResourcesIsAnsweredAndOneDroppingSomeIsNot) {
  stream_.onRequest(request(kEds, {kRatings}), {});
  sendAll();
  // Envoy announces the clusters of a new CDS on its EDS ACK.
  ack(kEds, {kRatings, kReviews});
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].names, (std::vector<std::string>{kRatings, kReviews}));
  ack(kEds, {kReviews});
  EXPECT_TRUE(sendAll().empty());
  EXPECT_EQ(stream_.watch(kEds).names, (std::set<std::string>{kReviews}));
}

TEST_F(XdsStreamTest, ListenersAreWildcardUnlessNamedAndAnEmptyListThenUnsubscribes) {
  stream_.onRequest(request(kLds), {});
  EXPECT_TRUE(stream_.watch(kLds).wildcard);
  sendAll();
  ack(kLds, {"ratings.default.svc.cluster.local:9080"});
  EXPECT_FALSE(stream_.watch(kLds).wildcard);
  auto sent = sendAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].names, std::vector<std::string>{"ratings.default.svc.cluster.local:9080"});
  ack(kLds, {});
  EXPECT_FALSE(stream_.watch(kLds).wildcard);
  stream_.onPush(true);
  EXPECT_TRUE(sendAll().empty());
  // "*" asks for everything again.
  stream_.onRequest(request(kLds, {"*"}, nonceOf(kLds)), {});
  EXPECT_TRUE(stream_.watch(kLds).wildcard);
  EXPECT_EQ(typesOf(sendAll()), (std::vector<ResourceType>{kLds}));
}

TEST_F(XdsStreamTest, ARequestWithoutNonceStartsTheTypeOver) {
  stream_.onRequest(request(kCds), {});
  sendAll();
  // The response in flight will never be acknowledged on its own.
  stream_.onRequest(request(kCds), {});
  EXPECT_FALSE(stream_.watch(kCds).in_flight);
  EXPECT_EQ(sendAll().size(), 1u);
  EXPECT_EQ(nonceOf(kCds), "2");
}

TEST_F(XdsStreamTest, NamedTypesWithoutNamesSendNothing) {
  stream_.onRequest(request(kEds, {}), {});
  stream_.onRequest(request(kRds, {}), {});
  EXPECT_TRUE(sendAll().empty());
  stream_.onPush(true);
  EXPECT_TRUE(sendAll().empty());
}

TEST(ClusterServiceTest, TakesTheHostOfOutboundClusters) {
  EXPECT_EQ(clusterService(kRatingsV1), "ratings.default.svc.cluster.local");
  EXPECT_EQ(clusterService("outbound|9080||a.b"), "a.b");
  EXPECT_EQ(clusterService("inbound|9080||a.b"), "");
  EXPECT_EQ(clusterService("BlackHoleCluster"), "");
  EXPECT_EQ(clusterService("outbound|9080"), "");
}

TEST(NodeIdTest, ParsesIstiosForm) {
  auto n =
      parseNodeId("sidecar~10.1.0.5~reviews-v1-545db77b95-2ps7b.default~default.svc.cluster.local");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->type, "sidecar");
  EXPECT_EQ(n->ip, "10.1.0.5");
  EXPECT_EQ(n->pod, "reviews-v1-545db77b95-2ps7b");
  EXPECT_EQ(n->namespace_, "default");
  EXPECT_EQ(n->proxyId(), "reviews-v1-545db77b95-2ps7b.default");
  // Pod names may hold dots; the namespace comes from the DNS domain.
  auto dotted = parseNodeId("sidecar~fd00::5~web.v2.prod~prod.svc.cluster.local");
  ASSERT_TRUE(dotted.ok()) << dotted.status().message();
  EXPECT_EQ(dotted->pod, "web.v2");
  EXPECT_EQ(dotted->namespace_, "prod");
}

TEST(NodeIdTest, MalformedIdsAreRefusedWithTheReason) {
  auto why = [](const std::string& id) { return parseNodeId(id).status().message(); };
  EXPECT_NE(why("").find("empty"), std::string::npos);
  EXPECT_NE(why("reviews-v1").find("has 1 parts, want 4"), std::string::npos);
  EXPECT_NE(why("router~10.1.0.5~gw.default~default.svc.cluster.local").find("not sidecar"),
            std::string::npos);
  EXPECT_NE(why("sidecar~10.1.0~a.default~default.svc.cluster.local").find("not an IP"),
            std::string::npos);
  EXPECT_NE(why("sidecar~10.1.0.5~a.prod~default.svc.cluster.local").find("not <pod>.default"),
            std::string::npos);
  EXPECT_NE(why("sidecar~10.1.0.5~a.default~default").find("not <namespace>.svc"),
            std::string::npos);
  EXPECT_NE(why("x").find("want sidecar~<podIP>~<pod>.<namespace>~<namespace>.svc.cluster.local"),
            std::string::npos);
}

TEST(NodeIdTest, MetadataGivesTheAdminAddressAndProxylessClients) {
  envoy::config::core::v3::Node node;
  node.set_id("sidecar~10.1.0.5~reviews-v1.default~default.svc.cluster.local");
  (*node.mutable_metadata()->mutable_fields())[kAdminAddressKey].set_string_value("10.1.0.5:15000");
  node.set_user_agent_name("remora");
  node.set_user_agent_version("0.1.0");
  auto info = readNode(node);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->admin_address, "10.1.0.5:15000");
  EXPECT_FALSE(info->proxyless);
  EXPECT_EQ(info->user_agent, "remora 0.1.0");
  (*node.mutable_metadata()->mutable_fields())[kGeneratorKey].set_string_value("grpc");
  EXPECT_TRUE(readNode(node)->proxyless);
}

}  // namespace
}  // namespace remora::pilot
