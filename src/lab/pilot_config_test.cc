#include "lab/pilot_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/bootstrap.h"
#include "pilot/model/config_store.h"
#include "pilot/model/snapshot.h"
#include "support/paths.h"

namespace remora::lab {
namespace {

using ::testing::HasSubstr;

LabSpec bookinfo() {
  auto network = parseNetwork(kDefaultPodCidr, kDefaultServiceCidr);
  auto spec = loadLabSpec(test::sourceDir() + "/examples/bookinfo/lab/bookinfo.yaml", *network);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : LabSpec{};
}

const Pod& podNamed(const LabSpec& spec, const std::string& name) {
  for (const Pod& p : spec.pods) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no pod " << name;
  return spec.pods.front();
}

// Pilot's own parser reads the folder the lab writes: nothing refused, every
// Service has its pods as backends, every pod is a known proxy.
TEST(PilotConfigTest, PilotAcceptsTheFolderAndSeesEveryBackend) {
  LabSpec spec = bookinfo();
  ASSERT_FALSE(spec.pods.empty());
  spec.istio_objects.push_back({"DestinationRule", "default", "reviews",
                                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
                                "metadata: { name: reviews }\nspec:\n  host: reviews\n"
                                "  subsets: [{ name: v1, labels: { version: v1 } }]\n",
                                40});
  pilot::ConfigSet set;
  std::vector<std::string> names;
  for (const ConfigFile& f : pilotConfigFiles(spec)) {
    names.push_back(f.name);
    pilot::addConfigText(f.name, f.text, &set);
  }
  EXPECT_THAT(names, ::testing::ElementsAre("services.yaml", "pods.yaml",
                                            "destinationrule-default-reviews.yaml"));
  pilot::finishConfigSet(&set);
  for (const auto& r : set.refusals)
    ADD_FAILURE() << r.toString();
  EXPECT_TRUE(set.warnings.empty()) << set.warnings.front();
  auto snapshot = pilot::MeshSnapshot::build(set);
  const pilot::Service* reviews = snapshot->findService("reviews.default.svc.cluster.local");
  ASSERT_NE(reviews, nullptr);
  ASSERT_EQ(reviews->vips.size(), 1u);
  EXPECT_EQ(reviews->vips[0], "10.96.0.14");
  std::vector<std::string> addresses;
  for (const auto& i : reviews->instances) {
    addresses.push_back(i.address);
    EXPECT_EQ(i.ports, std::vector<uint32_t>{9080});
  }
  EXPECT_THAT(addresses, ::testing::ElementsAre("10.244.0.21", "10.244.0.22", "10.244.0.23"));
  auto proxy = snapshot->findProxy("reviews-v2-65c4dc6fdc-sm4w7.default");
  ASSERT_TRUE(proxy.has_value());
  EXPECT_EQ(proxy->ip, "10.244.0.22");
  EXPECT_EQ(proxy->service_account, "bookinfo-reviews");
  EXPECT_EQ(proxy->labels.at("version"), "v2");
  EXPECT_EQ(snapshot->proxyIds().size(), 6u);
  EXPECT_NE(snapshot->destinationRuleFor(*reviews, "default"), nullptr);
}

TEST(PilotConfigTest, NamedTargetPortsAndNoSelectorAreKept) {
  Service s;
  s.name = "ratings";
  s.ns = "prod";
  s.cluster_ip = *network::IpAddress::parse("10.96.0.9");
  s.ports = {{"http", 9080, "http-port", "", ""}, {"tcp-db", 3306, "3307", "TCP", "mysql"}};
  std::string yaml = serviceObjectYaml(s);
  EXPECT_THAT(yaml, HasSubstr("targetPort: http-port"));
  EXPECT_THAT(yaml, HasSubstr("targetPort: 3307"));
  EXPECT_THAT(yaml, HasSubstr("appProtocol: mysql"));
  EXPECT_THAT(yaml, ::testing::Not(HasSubstr("selector")));
  pilot::ConfigSet set;
  pilot::addConfigText("s.yaml", yaml, &set);
  EXPECT_TRUE(set.refusals.empty()) << set.refusals.front().toString();
  ASSERT_EQ(set.objects.size(), 1u);
}

TEST(PilotConfigTest, BootstrapIsIstiosShapeAndTheProxyAcceptsIt) {
  LabSpec spec = bookinfo();
  ASSERT_FALSE(spec.pods.empty());
  const Pod& pod = podNamed(spec, "reviews-v1-76474f6fb7-pmglr");
  EXPECT_EQ(sidecarNodeId(pod),
            "sidecar~10.244.0.21~reviews-v1-76474f6fb7-pmglr.default~default.svc.cluster.local");
  std::string text = pilotBootstrapFor(pod, *network::SocketAddress::parse("10.244.0.1:15010"));
  EXPECT_EQ(text, pod.bootstrap);  // what the lab parsed and checked
  auto b = config::loadBootstrap("", text);
  ASSERT_TRUE(b.ok()) << b.status().message() << "\n" << text;
  ASSERT_TRUE(config::validateBootstrap(*b).ok()) << config::validateBootstrap(*b).message();
  EXPECT_EQ(b->node().id(), sidecarNodeId(pod));
  EXPECT_EQ(b->node().cluster(), "reviews.default");
  const auto& md = b->node().metadata().fields();
  EXPECT_EQ(md.at("NAMESPACE").string_value(), "default");
  EXPECT_EQ(md.at("NAME").string_value(), "reviews-v1-76474f6fb7-pmglr");
  EXPECT_EQ(md.at("INSTANCE_IPS").string_value(), "10.244.0.21");
  const auto& labels = md.at("LABELS").struct_value().fields();
  EXPECT_EQ(labels.at("app").string_value(), "reviews");
  EXPECT_EQ(labels.at("version").string_value(), "v1");
  EXPECT_EQ(config::toSocketAddress(b->admin().address())->toString(), "127.0.0.1:15000");

  const auto& dr = b->dynamic_resources();
  EXPECT_EQ(dr.ads_config().api_type(), envoy::config::core::v3::ApiConfigSource::GRPC);
  EXPECT_EQ(dr.ads_config().transport_api_version(), envoy::config::core::v3::V3);
  ASSERT_EQ(dr.ads_config().grpc_services_size(), 1);
  EXPECT_EQ(dr.ads_config().grpc_services(0).envoy_grpc().cluster_name(), kXdsClusterName);
  EXPECT_TRUE(dr.lds_config().has_ads());
  EXPECT_EQ(dr.lds_config().resource_api_version(), envoy::config::core::v3::V3);
  EXPECT_TRUE(dr.cds_config().has_ads());
  EXPECT_EQ(dr.cds_config().resource_api_version(), envoy::config::core::v3::V3);

  ASSERT_EQ(b->static_resources().clusters_size(), 1);
  const auto& xds = b->static_resources().clusters(0);
  EXPECT_EQ(xds.name(), kXdsClusterName);
  EXPECT_EQ(xds.type(), envoy::config::cluster::v3::Cluster::STATIC);
  EXPECT_TRUE(xds.has_http2_protocol_options());
  const auto& ep = xds.load_assignment().endpoints(0).lb_endpoints(0).endpoint();
  EXPECT_EQ(config::toSocketAddress(ep.address())->toString(), "10.244.0.1:15010");
  EXPECT_EQ(b->static_resources().listeners_size(), 0);  // every listener comes from pilot
}

TEST(PilotConfigTest, PodWithoutAppLabelNamesItsClusterAfterItself) {
  Pod pod;
  pod.name = "sleep";
  pod.ns = "tools";
  pod.ip = *network::IpAddress::parse("10.244.0.9");
  auto b = config::loadBootstrap(
      "", pilotBootstrapFor(pod, *network::SocketAddress::parse("10.244.0.1:15010")));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->node().cluster(), "sleep.tools");
  EXPECT_TRUE(b->node().metadata().fields().at("LABELS").struct_value().fields().empty());
}

}  // namespace
}  // namespace remora::lab
