#include "lab/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/paths.h"

namespace remora::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Network defaultNetwork() {
  return *parseNetwork(kDefaultPodCidr, kDefaultServiceCidr);
}

StatusOr<LabSpec> parse(const std::string& yaml) {
  return parseLabSpec(yaml, "lab.yaml", "/nonexistent", defaultNetwork());
}

// A bootstrap with an admin address and one inbound listener, as a pod's
// inline annotation (indented to sit under `remora.io/proxy-bootstrap-yaml: |`).
constexpr const char* kInlineBootstrap = R"(
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
        static_resources:
          listeners:
          - name: ${POD_IP}_9080
            address: { socket_address: { address: ${POD_IP}, port_value: 9080 } }
            bind_to_port: false
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: inbound
                  cluster: to-${CLUSTER_IP:reviews}
          clusters:
          - name: to-${CLUSTER_IP:reviews}
            type: STATIC
            load_assignment:
              cluster_name: to-${CLUSTER_IP:reviews}
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: ${POD_IP:reviews-v1}, port_value: 9080 } } }
)";

std::string twoPods() {
  return std::string(R"(apiVersion: v1
kind: Service
metadata: { name: reviews }
spec:
  ports: [{ name: http, port: 9080 }]
---
apiVersion: v1
kind: Pod
metadata:
  name: productpage
  labels: { app: productpage, version: v1 }
  annotations:
    sidecar.istio.io/inject: "true"
    traffic.sidecar.istio.io/excludeInboundPorts: "9090"
    remora.io/proxy-bootstrap-yaml: |)") +
         kInlineBootstrap + R"(
spec:
  containers:
  - command: [remora-app, --port, "9080"]
    args: [--call, http://reviews:9080/]
    env: [{ name: VERSION, value: v1 }]
    ports: [{ containerPort: 9080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1, namespace: default }
spec:
  containers: [{ name: main, command: [sleep, infinity] }]
status: { podIP: 10.244.0.9 }
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews }
)";
}

TEST(LabSpecTest, ReadsPodsServicesAndAllocatesAddresses) {
  auto spec = parse(twoPods());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_EQ(spec->pods.size(), 2u);
  ASSERT_EQ(spec->services.size(), 1u);
  const Pod& pp = spec->pods[0];
  EXPECT_EQ(pp.name, "productpage");
  EXPECT_EQ(pp.ns, "default");
  EXPECT_EQ(pp.labels.at("version"), "v1");
  EXPECT_TRUE(pp.sidecar);
  EXPECT_EQ(pp.ip.toString(), "10.244.0.2");  // first free host address (.1 is the hub's)
  ASSERT_EQ(pp.containers.size(), 1u);
  EXPECT_EQ(pp.containers[0].name, "app");
  EXPECT_THAT(pp.containers[0].argv,
              ElementsAre("remora-app", "--port", "9080", "--call", "http://reviews:9080/"));
  EXPECT_THAT(pp.containers[0].ports, ElementsAre(9080));
  ASSERT_EQ(pp.containers[0].env.size(), 1u);
  EXPECT_EQ(pp.containers[0].env[0].value, "v1");
  EXPECT_EQ(pp.admin.toString(), "127.0.0.1:15000");
  // Variables are filled in with the allocated and explicit addresses.
  EXPECT_THAT(pp.bootstrap, HasSubstr("name: 10.244.0.2_9080"));
  EXPECT_THAT(pp.bootstrap, HasSubstr("cluster: to-10.96.0.1"));
  EXPECT_THAT(pp.bootstrap, HasSubstr("address: 10.244.0.9, port_value: 9080"));
  EXPECT_THAT(pp.init_args, ElementsAre("-p", "15001", "-z", "15006", "-u", "1337", "-g", "1337",
                                        "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d",
                                        "15090,15021,15020,9090"));
  const Pod& reviews = spec->pods[1];
  EXPECT_FALSE(reviews.sidecar);
  EXPECT_EQ(reviews.ip.toString(), "10.244.0.9");
  EXPECT_TRUE(reviews.init_args.empty());
  EXPECT_EQ(spec->services[0].cluster_ip.toString(), "10.96.0.1");
  EXPECT_EQ(spec->services[0].ports[0].port, 9080);
}

TEST(LabSpecTest, AnnotationsChangeInitArgsAndBadOnesNameTheAnnotation) {
  Pod pod;
  pod.annotations = {{"traffic.sidecar.istio.io/includeInboundPorts", "9080, 9081"},
                     {"traffic.sidecar.istio.io/excludeOutboundPorts", "3306"},
                     {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.244.0.7/32"},
                     {kInboundCapturePortAnnotation, "15001"}};
  auto args = initArgsFor(pod);
  ASSERT_TRUE(args.ok()) << args.status().message();
  EXPECT_THAT(
      *args, ElementsAre("-p", "15001", "-z", "15001", "-u", "1337", "-g", "1337", "-m", "REDIRECT",
                         "-i", "*", "-x", "10.244.0.7/32", "-b", "9080,9081", "-o", "3306"));
  pod.annotations = {{"traffic.sidecar.istio.io/excludeInboundPorts", "99999"}};
  auto bad = initArgsFor(pod);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("annotation traffic.sidecar.istio.io/excludeInboundPorts: \"99999\""));
  pod.annotations = {{kInterceptionModeAnnotation, "TPROXY"}};
  EXPECT_THAT(initArgsFor(pod).status().message(), HasSubstr("sidecar.istio.io/interceptionMode"));
}

TEST(LabSpecTest, ErrorsNameFileLineObjectAndField) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  std::vector<Case> cases = {
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: Bad_Name }\n",
       "lab.yaml:3: Pod Bad_Name: metadata.name: \"Bad_Name\" is not a valid name"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec:\n  containers:\n  - name: x\n",
       "lab.yaml:6: Pod a: spec.containers[0].command: required"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec:\n  containers: [{command: [x], "
       "ports: [{containerPort: 70000}]}]\n",
       "spec.containers[0].ports[0].containerPort: \"70000\" is not a port"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "status: { podIP: 10.1.0.1 }\n",
       "lab.yaml:5: Pod a: status.podIP: 10.1.0.1 is not a host address inside --pod-cidr "
       "10.244.0.0/16"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "status: { podIP: 10.244.0.1 }\n",
       "lab.yaml:5: Pod a: status.podIP: 10.244.0.1 is the hub's address on the bridge (the first "
       "host of --pod-cidr)"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: r }\n"
       "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
       "metadata: { name: r, namespace: default }\n",
       "lab.yaml:10: VirtualService r: metadata.name: a VirtualService with this name is already "
       "defined in namespace default at line 6"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: R/1 }\n",
       "lab.yaml:8: DestinationRule R/1: metadata.name: \"R/1\" is not a valid name"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nspec: {}\n",
       "lab.yaml:6: metadata: required"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a, annotations: { "
       "sidecar.istio.io/inject: \"yes\" } }\nspec: { containers: [{command: [x]}] }\n",
       "metadata.annotations.sidecar.istio.io/inject: must be \"true\" or \"false\""},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a, annotations: { "
       "sidecar.istio.io/inject: \"true\", remora.io/proxy-bootstrap: missing.yaml } }\n"
       "spec: { containers: [{command: [x]}] }\n",
       "cannot read /nonexistent/missing.yaml"},
      {"apiVersion: v1\nkind: Service\nmetadata: { name: 9lives }\n",
       "Service 9lives: metadata.name: \"9lives\" is not a valid name"},
      {"apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { clusterIP: None }\n",
       "headless Services (clusterIP: None) are not supported"},
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\n",
       "\"apps/v1\" (Deployment) is not supported by the lab"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n",
       "\"ConfigMap\" is not supported by the lab (Pod, Service, List)"},
      {"apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: [{command: [x]}] }\n"
       "---\napiVersion: v1\nkind: Pod\nmetadata: { name: a, namespace: other }\n"
       "spec: { containers: [{command: [x]}] }\n",
       "already defined at line 1; pod names must be unique in a lab"},
      {"kind: [unclosed\n", "lab.yaml:"},
      {"apiVersion: v1\nkind: Service\nmetadata: { name: s }\n", "no Pod in the file"},
  };
  for (const Case& c : cases) {
    auto spec = parse(c.yaml);
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_THAT(spec.status().message(), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(LabSpecTest, BootstrapErrorsNameThePodAndVariable) {
  std::string yaml = twoPods();
  auto at = yaml.find("${CLUSTER_IP:reviews}");
  yaml.replace(at, 21, "${CLUSTER_IP:ratings}");
  auto spec = parse(yaml);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(),
              HasSubstr("Pod productpage: metadata.annotations.remora.io/proxy-bootstrap-yaml: "
                        "${CLUSTER_IP:ratings}: no Service \"ratings\" in namespace default"));
  yaml = twoPods();
  yaml.replace(yaml.find("port_value: 15000"), 17, "port_value: 99999");
  spec = parse(yaml);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("invalid bootstrap"));
}

TEST(LabSpecTest, NetworksMustBePrivateDisjointIpv4Ranges) {
  EXPECT_TRUE(parseNetwork("10.244.0.0/16", "10.96.0.0/12").ok());
  EXPECT_TRUE(parseNetwork("192.168.50.0/24", "172.20.0.0/16").ok());
  struct Case {
    const char* pods;
    const char* services;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"8.8.8.0/24", "10.96.0.0/16", "--pod-cidr: 8.8.8.0/24 is not inside a private range"},
           {"10.244.0.0/16", "172.0.0.0/8", "--service-cidr: 172.0.0.0/8 is not inside a private"},
           {"10.0.0.0/8", "10.96.0.0/16", "overlap"},
           {"10.244.0.1/16", "10.96.0.0/16", "has host bits set; did you mean 10.244.0.0/16?"},
           {"10.244.0.0/31", "10.96.0.0/16", "prefix length from /8 to /30"},
           {"fd00::/64", "10.96.0.0/16", "IPv4 only"},
           {"banana", "10.96.0.0/16", "--pod-cidr: \"banana\" is not a CIDR range"},
           {"10.244.0.0", "10.96.0.0/16", "is not a CIDR range"},
       }) {
    auto n = parseNetwork(c.pods, c.services);
    ASSERT_FALSE(n.ok()) << c.pods << " " << c.services;
    EXPECT_THAT(n.status().message(), HasSubstr(c.message));
  }
}

TEST(LabSpecTest, AllocationSkipsExplicitAddressesAndTheHubsAndRunsOut) {
  auto small = *parseNetwork("10.1.0.0/29", "10.2.0.0/30");  // hosts .1 (the hub's) to .6
  EXPECT_EQ(hubAddress(small).toString(), "10.1.0.1");
  auto podDoc = [&](const std::string& name, const std::string& ip) {
    std::string d = "---\napiVersion: v1\nkind: Pod\nmetadata: { name: " + name +
                    " }\nspec: { containers: [{command: [x]}] }\n";
    if (!ip.empty()) d += "status: { podIP: " + ip + " }\n";
    return d;
  };
  auto spec =
      parseLabSpec(podDoc("a", "") + podDoc("b", "10.1.0.2") + podDoc("c", ""), "f", ".", small);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->pods[0].ip.toString(), "10.1.0.3");
  EXPECT_EQ(spec->pods[1].ip.toString(), "10.1.0.2");
  EXPECT_EQ(spec->pods[2].ip.toString(), "10.1.0.4");
  std::string six;
  for (const char* name : {"a", "b", "c", "d", "e", "f"})
    six += podDoc(name, "");
  auto full = parseLabSpec(six, "f", ".", small);
  ASSERT_FALSE(full.ok());
  EXPECT_THAT(full.status().message(), HasSubstr("Pod f: --pod-cidr 10.1.0.0/29 has no free"));
  auto hub = parseLabSpec(podDoc("a", "10.1.0.1"), "f", ".", small);
  EXPECT_THAT(hub.status().message(),
              HasSubstr("Pod a: status.podIP: 10.1.0.1 is the hub's address on the bridge"));
  auto twice = parseLabSpec(podDoc("a", "10.1.0.2") + podDoc("b", "10.1.0.2"), "f", ".", small);
  EXPECT_THAT(twice.status().message(), HasSubstr("Pod b: status.podIP: 10.1.0.2 is used twice"));
  auto broadcast = parseLabSpec(podDoc("a", "10.1.0.7"), "f", ".", small);
  EXPECT_THAT(broadcast.status().message(), HasSubstr("not a host address"));
}

TEST(LabSpecTest, InjectedPodWithoutBootstrapIsConfiguredByPilot) {
  auto spec = parse(R"(apiVersion: v1
kind: Service
metadata: { name: reviews, labels: { app: reviews } }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080, targetPort: http }, { name: grpc, port: 7070, targetPort: 7071,
            protocol: TCP, appProtocol: grpc }]
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1
  labels: { app: reviews, version: v1 }
  annotations: { sidecar.istio.io/inject: "true" }
spec:
  serviceAccountName: bookinfo-reviews
  containers:
  - command: [remora-app]
    ports: [{ name: http, containerPort: 9080 }, { containerPort: 9090 }]
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v2
  namespace: prod
  labels: { app: reviews, version: v2 }
  annotations: { sidecar.istio.io/inject: "true", remora.io/inbound-capture-port: "15006" }
spec:
  serviceAccount: old-spelling
  containers: [{ command: [remora-app] }]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v1 } }] }]
---
apiVersion: config.remora.io/v1
kind: Anything
metadata: { name: skipped }
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(needsPilot(*spec));
  const Pod& v1 = spec->pods[0];
  EXPECT_TRUE(v1.sidecar);
  EXPECT_TRUE(v1.pilot_bootstrap);
  EXPECT_EQ(v1.service_account, "bookinfo-reviews");
  EXPECT_THAT(v1.containers[0].port_names, ElementsAre("http", ""));
  EXPECT_EQ(v1.admin.toString(), "127.0.0.1:15000");
  // The seed's single-port layout, which is pilot's default.
  EXPECT_THAT(v1.init_args,
              ElementsAre("-p", "15001", "-z", "15001", "-u", "1337", "-g", "1337", "-m",
                          "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"));
  EXPECT_THAT(v1.bootstrap,
              HasSubstr("id: sidecar~10.244.0.2~reviews-v1.default~default.svc.cluster.local"));
  EXPECT_THAT(v1.bootstrap, HasSubstr("address: 10.244.0.1, port_value: 15010"));
  const Pod& v2 = spec->pods[1];
  EXPECT_EQ(v2.service_account, "old-spelling");
  EXPECT_THAT(v2.init_args, ::testing::Contains("15006"));  // the annotation wins
  const Service& svc = spec->services[0];
  EXPECT_TRUE(svc.has_selector);
  EXPECT_EQ(svc.selector.at("app"), "reviews");
  EXPECT_EQ(svc.labels.at("app"), "reviews");
  ASSERT_EQ(svc.ports.size(), 2u);
  EXPECT_EQ(svc.ports[0].target_port, "http");
  EXPECT_EQ(svc.ports[1].target_port, "7071");
  EXPECT_EQ(svc.ports[1].protocol, "TCP");
  EXPECT_EQ(svc.ports[1].app_protocol, "grpc");
  ASSERT_EQ(spec->istio_objects.size(), 1u);  // the remora.io document is skipped
  const IstioObject& vs = spec->istio_objects[0];
  EXPECT_EQ(vs.kind, "VirtualService");
  EXPECT_EQ(vs.ns, "default");
  EXPECT_EQ(vs.name, "reviews");
  EXPECT_EQ(vs.line, 32);
  EXPECT_THAT(vs.yaml, HasSubstr("subset: v1"));
}

TEST(LabSpecTest, StaticBootstrapsNeedNoPilot) {
  auto spec = parse(twoPods());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_FALSE(needsPilot(*spec));
  EXPECT_FALSE(spec->pods[0].pilot_bootstrap);
  // The DestinationRule of the file is still kept (written only for a pilot).
  ASSERT_EQ(spec->istio_objects.size(), 1u);
  EXPECT_EQ(spec->istio_objects[0].kind, "DestinationRule");
}

TEST(LabSpecTest, HostsFileGivesShortNamesOnlyInTheSameNamespace) {
  LabSpec spec;
  Pod pod;
  pod.name = "productpage";
  pod.ns = "default";
  pod.ip = *network::IpAddress::parse("10.244.0.1");
  Service ratings;
  ratings.name = "ratings";
  ratings.ns = "default";
  ratings.cluster_ip = *network::IpAddress::parse("10.96.0.7");
  Service details = ratings;
  details.name = "details";
  details.ns = "other";
  details.cluster_ip = *network::IpAddress::parse("10.96.0.8");
  spec.services = {ratings, details};
  std::string hosts = hostsFileFor(spec, pod);
  EXPECT_THAT(hosts, HasSubstr("127.0.0.1\tlocalhost\n"));
  EXPECT_THAT(hosts, HasSubstr("10.244.0.1\tproductpage\n"));
  EXPECT_THAT(hosts, HasSubstr("10.96.0.7\tratings ratings.default ratings.default.svc "
                               "ratings.default.svc.cluster.local\n"));
  EXPECT_THAT(hosts, HasSubstr("10.96.0.8\tdetails.other details.other.svc "
                               "details.other.svc.cluster.local\n"));
  // A Service named like the pod keeps the name: no line for the pod then.
  pod.name = "ratings";
  EXPECT_THAT(hostsFileFor(spec, pod), ::testing::Not(HasSubstr("10.244.0.1")));
  pod.name = "productpage";
  EXPECT_THAT(resolvConfFor(pod), HasSubstr("search default.svc.cluster.local svc.cluster.local"));
  EXPECT_THAT(resolvConfFor(pod), HasSubstr("nameserver 127.0.0.1\n"));
}

TEST(LabSpecTest, ExpandBootstrapVariables) {
  LabSpec spec;
  Pod a;
  a.name = "a";
  a.ns = "ns1";
  a.ip = *network::IpAddress::parse("10.244.0.5");
  spec.pods = {a};
  Service svc;
  svc.name = "svc";
  svc.ns = "ns2";
  svc.cluster_ip = *network::IpAddress::parse("10.96.0.3");
  spec.services = {svc};
  auto out = expandBootstrap(
      "${POD_NAME}.${POD_NAMESPACE} ${POD_IP} ${POD_IP:a} "
      "${CLUSTER_IP:svc.ns2} $$HOME $x",
      spec, a);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "a.ns1 10.244.0.5 10.244.0.5 10.96.0.3 $HOME $x");
  EXPECT_THAT(expandBootstrap("${NOPE}", spec, a).status().message(),
              HasSubstr("unknown variable ${NOPE}"));
  EXPECT_THAT(expandBootstrap("${CLUSTER_IP:svc}", spec, a).status().message(),
              HasSubstr("no Service \"svc\" in namespace ns1"));
  EXPECT_THAT(expandBootstrap("${POD_IP", spec, a).status().message(), HasSubstr("unterminated"));
}

TEST(LabSpecTest, ExampleLabFilesLoad) {
  auto spec = loadLabSpec(test::sourceDir() + "/examples/lab/two-pods.yaml", defaultNetwork());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->pods.size(), 2u);
  for (const Pod& p : spec->pods)
    EXPECT_TRUE(p.sidecar) << p.name;
  EXPECT_FALSE(needsPilot(*spec));
  auto bookinfo =
      loadLabSpec(test::sourceDir() + "/examples/bookinfo/lab/bookinfo.yaml", defaultNetwork());
  ASSERT_TRUE(bookinfo.ok()) << bookinfo.status().message();
  EXPECT_EQ(bookinfo->pods.size(), 6u);
  EXPECT_EQ(bookinfo->services.size(), 4u);
  for (const Pod& p : bookinfo->pods)
    EXPECT_TRUE(p.pilot_bootstrap) << p.name;
}

}  // namespace
}  // namespace remora::lab
