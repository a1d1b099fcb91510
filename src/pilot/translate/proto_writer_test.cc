// ProtoWriter writes what protobuf's serializer writes: each shape compared
// with the serialization of the same message built with protobuf, and every
// resource pilot encodes for the golden scenarios compared with protobuf's
// serialization of its own parse (equal bytes: field order, defaults left out,
// map entries and lengths as protobuf writes them).
#include "pilot/translate/proto_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "pilot/model/config_store.h"
#include "pilot/translate/envoy_util.h"
#include "pilot/translate/generator.h"
#include "pilot/translate/wire_test_util.h"
#include "support/paths.h"

namespace remora::pilot {
namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::endpoint::v3::LbEndpoint;
using envoy::config::route::v3::VirtualHost;

TEST(ProtoWriter, ScalarsLeaveOutDefaultsUnlessAlways) {
  ProtoWriter w;
  w.uint(3, 0);
  w.string(1, "");
  EXPECT_EQ(w.size(), 0u);
  envoy::config::core::v3::SocketAddress a;
  a.set_address("10.0.0.1");
  a.set_port_value(0);  // a oneof member: present although 0
  w.string(2, "10.0.0.1");
  w.uintAlways(3, 0);
  EXPECT_EQ(std::string(w.take().view()), deterministicBytes(a));
}

TEST(ProtoWriter, WrappersDurationsAndEmptyMessagesArePresent) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("c");
  setDurationMs(1500, c.mutable_connect_timeout());
  c.mutable_circuit_breakers()->add_thresholds()->mutable_max_connections()->set_value(0);
  ProtoWriter w;
  w.string(1, "c");
  w.durationMs(4, 1500);
  size_t breakers = w.begin(10);
  size_t thresholds = w.begin(1);
  w.uint32Value(2, 0);
  w.end(thresholds);
  w.end(breakers);
  EXPECT_EQ(std::string(w.take().view()), deterministicBytes(c));

  envoy::config::route::v3::RouteConfiguration rc;
  rc.mutable_validate_clusters()->set_value(false);
  ProtoWriter empty;
  empty.empty(7);
  EXPECT_EQ(std::string(empty.take().view()), deterministicBytes(rc));
}

// metadata.filter_metadata[filter].fields[key] = string_value, built with
// protobuf's own API.
void setStringMetadata(const std::string& filter, const std::string& key, const std::string& value,
                       envoy::config::core::v3::Metadata* out) {
  (*(*out->mutable_filter_metadata())[filter].mutable_fields())[key].set_string_value(value);
}

TEST(ProtoWriter, MetadataIsOneMapEntryWithKeyAndValue) {
  LbEndpoint lb;
  setStringMetadata("istio", "uid", "kubernetes://reviews-v1.default", lb.mutable_metadata());
  ProtoWriter w;
  w.stringMetadata(3, "istio", "uid", "kubernetes://reviews-v1.default");
  EXPECT_EQ(std::string(w.take().view()), deterministicBytes(lb));
  // An empty value is still written (map values always are).
  LbEndpoint empty;
  setStringMetadata("", "", "", empty.mutable_metadata());
  w.stringMetadata(3, "", "", "");
  EXPECT_EQ(std::string(w.take().view()), deterministicBytes(empty));
}

TEST(ProtoWriter, LongBodiesGetLongerLengthsAndCancelDropsAField) {
  VirtualHost vh;
  vh.set_name("v");
  for (int i = 0; i < 40; ++i)
    vh.add_domains("domain-" + std::to_string(i) + ".example.com");  // 1000+ bytes
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name("9080");
  *rc.add_virtual_hosts() = vh;
  ProtoWriter w(16);  // grows while writing
  w.string(1, "9080");
  size_t dropped = w.begin(2);
  w.string(1, "dropped");
  w.cancel(2, dropped);
  size_t at = w.begin(2);
  w.string(1, "v");
  for (const auto& d : vh.domains())
    w.string(2, d);
  size_t size = w.end(at);
  std::string bytes = std::string(w.take().view());
  EXPECT_EQ(bytes, deterministicBytes(rc));
  // end() tells where the body is: the last `size` bytes.
  EXPECT_EQ(bytes.substr(bytes.size() - size), deterministicBytes(vh));
  // A message serialized by protobuf, as a field.
  ProtoWriter w2;
  w2.string(1, "9080");
  w2.message(2, vh);
  EXPECT_EQ(std::string(w2.take().view()), bytes);
}

// Scratch writers borrow one buffer per thread: a writer made while another
// holds it gets its own, and what each wrote survives the other; a copy
// made with copyOf keeps its bytes after the buffer is reused.
TEST(ProtoWriter, ScratchWritersNestAndCopiesOutliveTheBuffer) {
  std::shared_ptr<const EncodedMessage> outer_copy, inner_copy;
  {
    ProtoWriter outer{ProtoWriter::Scratch{}};
    outer.string(1, "outbound|9080||a.default.svc.cluster.local");
    {
      ProtoWriter inner{ProtoWriter::Scratch{}};
      for (int i = 0; i < 500; ++i)  // grows past the first buffer
        inner.string(2, "endpoint-" + std::to_string(i));
      inner_copy = EncodedMessage::copyOf(ResourceType::kEndpoint, inner.bytes());
    }
    outer.uint(3, 7);
    outer_copy = EncodedMessage::copyOf(ResourceType::kCluster, outer.bytes());
  }
  {
    ProtoWriter again{ProtoWriter::Scratch{}};  // reuses (and overwrites) a buffer
    for (int i = 0; i < 100; ++i)
      again.string(1, "overwritten");
  }
  EXPECT_EQ(outer_copy->name(), "outbound|9080||a.default.svc.cluster.local");
  EXPECT_EQ(outer_copy->type(), ResourceType::kCluster);
  ProtoWriter expected;
  expected.string(1, "outbound|9080||a.default.svc.cluster.local");
  expected.uint(3, 7);
  EXPECT_EQ(outer_copy->bytes(), expected.bytes());
  EXPECT_EQ(inner_copy->name(), "");  // no field 1
  ProtoReader reader(inner_copy->bytes());
  int field = 0, n = 0;
  uint64_t value = 0;
  std::string_view v;
  while (reader.next(&field, &value, &v)) {
    EXPECT_EQ(v, "endpoint-" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 500);
}

TEST(ProtoReader, ReadsBackFields) {
  ProtoWriter w;
  w.string(1, "name");
  w.uint(2, 300);
  w.string(2, "x");
  std::string bytes = std::string(w.take().view());
  ProtoReader r(bytes);
  int field = 0;
  uint64_t value = 0;
  std::string_view v;
  ASSERT_TRUE(r.next(&field, &value, &v));
  EXPECT_EQ(field, 1);
  EXPECT_EQ(v, "name");
  ASSERT_TRUE(r.next(&field, &value, &v));
  EXPECT_EQ(field, 2);
  EXPECT_EQ(value, 300u);
  ASSERT_TRUE(r.next(&field, &value, &v));
  EXPECT_EQ(v, "x");
  EXPECT_FALSE(r.next(&field, &value, &v));
  EXPECT_FALSE(ProtoReader(std::string_view("\x0a\x05"
                                            "ab",
                                            4))
                   .next(&field, &value, &v));
}

// Every resource built in wire format, for every proxy of every golden
// scenario, is what protobuf writes for the message it parses into.
TEST(ProtoWriter, EncodedResourcesAreProtobufsOwnSerialization) {
  size_t checked = 0;
  for (const auto& dir :
       std::filesystem::directory_iterator(test::sourceDir() + "/src/pilot/testdata")) {
    auto snapshot = MeshSnapshot::build(loadConfigDir(dir.path().string()));
    ConfigGenerator generator(snapshot);
    for (const auto& id : snapshot->proxyIds()) {
      auto proxy = snapshot->findProxy(id);
      for (auto type : {ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster,
                        ResourceType::kEndpoint}) {
        for (const auto& r : generator.generate(type, *proxy)) {
          const EncodedMessage* e = r.encoded();
          if (!e) continue;
          EXPECT_EQ(deterministicBytes(e->message()), std::string(e->bytes()))
              << dir.path() << " " << r.name();
          EXPECT_EQ(r.type(), type);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace remora::pilot
