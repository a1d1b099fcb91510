#include "pilot/model/parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pilot/model/config_store.h"

namespace remora::pilot {
namespace {

ConfigSet load(const std::string& text, const std::string& file = "case.yaml") {
  ConfigSet set;
  addConfigText(file, text, &set);
  finishConfigSet(&set);
  return set;
}

// ---- every refusal: the message names file, document, object and field ----

struct RefusalCase {
  const char* name;
  const char* yaml;
  const char* object;  // "namespace/name", "" when the metadata is unusable
  const char* field;
  const char* message;  // the whole message
};

void PrintTo(const RefusalCase& c, std::ostream* os) {
  *os << c.name;
}

class PilotRefusal : public testing::TestWithParam<RefusalCase> {};

TEST_P(PilotRefusal, NamesFileDocumentObjectAndField) {
  const RefusalCase& c = GetParam();
  // A valid object before and after: refusing one document keeps the rest.
  std::string text =
      "apiVersion: v1\nkind: Service\nmetadata: {name: before}\nspec: {ports: [{port: "
      "80}]}\n---\n" +
      std::string(c.yaml) +
      "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: after}\nspec: {ports: [{port: "
      "80}]}\n";
  ConfigSet set = load(text);
  ASSERT_EQ(set.refusals.size(), 1u)
      << (set.refusals.empty() ? "accepted" : set.refusals[1].toString());
  const Refusal& r = set.refusals[0];
  EXPECT_EQ(r.source.file, "case.yaml");
  EXPECT_EQ(r.source.document, 1);
  EXPECT_GE(r.source.line, 6);  // inside the second document, not the first
  EXPECT_EQ(r.object, c.object);
  EXPECT_EQ(r.field, c.field);
  EXPECT_EQ(r.message, c.message);
  std::vector<std::string> kept;
  for (const auto& o : set.objects)
    kept.push_back(o.meta().name);
  EXPECT_EQ(kept, (std::vector<std::string>{"before", "after"}));
}

#define VS_HEAD \
  "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: r}\n"
#define DR_HEAD \
  "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: d}\n"
#define SE_HEAD "apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: e}\n"
#define SVC_HEAD "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
#define ROUTE "route: [{destination: {host: reviews}}]"

const RefusalCase kRefusals[] = {
    // Generic field checks.
    {"UnknownField",
     VS_HEAD "spec: {hosts: [reviews], http: [{rout: [{destination: {host: reviews}}]}]}",
     "default/r", "spec.http[0].rout", "unknown field"},
    {"UnknownTopLevelField", VS_HEAD "spek: {}\nspec: {hosts: [a], http: [{" ROUTE "}]}",
     "default/r", "spek", "unknown field"},
    {"ListWhereMapExpected", VS_HEAD "spec: [a]", "default/r", "spec",
     "wrong type: expected a map, got a list"},
    {"StringWhereListExpected", VS_HEAD "spec: {hosts: reviews, http: [{" ROUTE "}]}", "default/r",
     "spec.hosts", "wrong type: expected a list, got \"reviews\""},
    {"MapWhereStringExpected", VS_HEAD "spec: {hosts: [{a: b}], http: [{" ROUTE "}]}", "default/r",
     "spec.hosts[0]", "wrong type: expected a string, got a map"},
    {"StringWhereIntegerExpected", SVC_HEAD "spec: {ports: [{port: eighty}]}", "default/s",
     "spec.ports[0].port", "wrong type: expected a non-negative integer, got \"eighty\""},
    {"QuotedNumberIsAString", SVC_HEAD "spec: {ports: [{port: \"80\"}]}", "default/s",
     "spec.ports[0].port", "wrong type: expected a non-negative integer, got string \"80\""},
    {"NegativeNumber",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {host: a}, weight: -5}]}]}",
     "default/r", "spec.http[0].route[0].weight",
     "wrong type: expected a non-negative integer, got \"-5\""},
    {"WeightOutOfRange",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {host: a}, weight: 101}]}]}",
     "default/r", "spec.http[0].route[0].weight", "value 101 is out of range (max 100)"},
    {"PortZero", SVC_HEAD "spec: {ports: [{port: 0}]}", "default/s", "spec.ports[0].port",
     "port must be between 1 and 65535"},
    {"PortTooLarge", SVC_HEAD "spec: {ports: [{port: 70000}]}", "default/s", "spec.ports[0].port",
     "value 70000 is out of range (max 65535)"},
    {"NotABool", VS_HEAD "spec: {hosts: [a], http: [{match: [{ignoreUriCase: yes}], " ROUTE "}]}",
     "default/r", "spec.http[0].match[0].ignoreUriCase",
     "wrong type: expected true or false, got \"yes\""},
    {"LabelsNotAMap", SVC_HEAD "spec: {selector: [app], ports: [{port: 80}]}", "default/s",
     "spec.selector", "wrong type: expected a map of strings, got a list"},
    {"LabelValueNotAString", SVC_HEAD "spec: {selector: {app: [x]}, ports: [{port: 80}]}",
     "default/s", "spec.selector.app", "wrong type: expected a string, got a list"},
    {"StringListNotAList", VS_HEAD "spec: {hosts: [a], gateways: mesh, http: [{" ROUTE "}]}",
     "default/r", "spec.gateways", "wrong type: expected a list of strings, got \"mesh\""},
    {"BadDuration", VS_HEAD "spec: {hosts: [a], http: [{" ROUTE ", timeout: 10 parsecs}]}",
     "default/r", "spec.http[0].timeout",
     "invalid duration \"10 parsecs\" (expected e.g. 10s, 250ms, 1m)"},
    {"BadIPv4", SVC_HEAD "spec: {clusterIP: 10.0.0.300, ports: [{port: 80}]}", "default/s",
     "spec.clusterIP", "\"10.0.0.300\" is not an IPv4 address"},
    // Metadata.
    {"NoMetadata", "apiVersion: v1\nkind: Service\nspec: {ports: [{port: 80}]}", "", "metadata",
     "missing"},
    {"NoName",
     "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\nspec: {ports: [{port: 80}]}", "",
     "metadata.name", "missing"},
    {"NameNotDns1123", "apiVersion: v1\nkind: Service\nmetadata: {name: Reviews_V1}\nspec: {}", "",
     "metadata.name", "\"Reviews_V1\" is not a valid DNS-1123 name"},
    // Document shape.
    {"NotAMap", "- just\n- a list", "", "", "document is not a map"},
    {"NoKind", "apiVersion: v1\nmetadata: {name: x}", "", "kind", "missing"},
    {"ListWithoutItems", "apiVersion: v1\nkind: List\nitems: {a: b}", "", "items",
     "expected a list"},
    {"WrongApiVersion",
     "apiVersion: v1\nkind: VirtualService\nmetadata: {name: r}\nspec: {hosts: [a]}", "default/r",
     "apiVersion",
     "\"v1\" is not valid for kind VirtualService (want networking.istio.io/v1alpha3, v1beta1 or "
     "v1)"},
    {"InvalidYaml", "apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n", "", "",
     "invalid YAML: end of sequence flow not found"},
    // Kubernetes Service and Endpoints.
    {"ServicePortMissing", SVC_HEAD "spec: {ports: [{name: http}]}", "default/s",
     "spec.ports[0].port", "missing"},
    {"ServiceProtocol", SVC_HEAD "spec: {ports: [{port: 80, protocol: HTTP}]}", "default/s",
     "spec.ports[0].protocol", "must be TCP, UDP or SCTP"},
    {"DuplicatePortName",
     SVC_HEAD "spec: {ports: [{name: http, port: 80}, {name: http, port: 81}]}", "default/s",
     "spec.ports[1].name", "duplicate port name \"http\""},
    {"DuplicatePortNumber", SVC_HEAD "spec: {ports: [{name: a, port: 80}, {name: b, port: 80}]}",
     "default/s", "spec.ports[1].port", "duplicate port 80"},
    {"UnnamedPortAmongSeveral", SVC_HEAD "spec: {ports: [{name: a, port: 80}, {port: 81}]}",
     "default/s", "spec.ports[1].name", "required when a Service has more than one port"},
    {"EndpointsAddressWithoutIp",
     "apiVersion: v1\nkind: Endpoints\nmetadata: {name: x}\nsubsets: [{addresses: [{hostname: "
     "a}]}]",
     "default/x", "subsets[0].addresses[0].ip", "missing"},
    {"EndpointsPortMissing",
     "apiVersion: v1\nkind: Endpoints\nmetadata: {name: x}\nsubsets: [{ports: [{name: http}]}]",
     "default/x", "subsets[0].ports[0].port", "missing"},
    // VirtualService.
    {"WeightsNotSummingTo100",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {host: a, subset: v1}, weight: 70}, "
             "{destination: {host: a, subset: v2}, weight: 20}]}]}",
     "default/r", "spec.http[0].route", "weights sum to 90, want 100"},
    {"TwoDestinationsWithoutWeights",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {host: a, subset: v1}}, "
             "{destination: {host: a, subset: v2}}]}]}",
     "default/r", "spec.http[0].route", "weights sum to 0, want 100"},
    {"InvalidHost", VS_HEAD "spec: {hosts: [Reviews_Service], http: [{" ROUTE "}]}", "default/r",
     "spec.hosts[0]", "\"Reviews_Service\" is not a valid host name"},
    {"InvalidDestinationHost",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {host: \"a b\"}}]}]}", "default/r",
     "spec.http[0].route[0].destination.host", "\"a b\" is not a valid host name"},
    {"NoHosts", VS_HEAD "spec: {http: [{" ROUTE "}]}", "default/r", "spec.hosts",
     "at least one host is required"},
    {"NoRoutes", VS_HEAD "spec: {hosts: [a]}", "default/r", "spec",
     "at least one of http or tcp is required"},
    {"DestinationMissing", VS_HEAD "spec: {hosts: [a], http: [{route: [{weight: 100}]}]}",
     "default/r", "spec.http[0].route[0].destination", "missing"},
    {"DestinationHostMissing",
     VS_HEAD "spec: {hosts: [a], http: [{route: [{destination: {subset: v1}}]}]}", "default/r",
     "spec.http[0].route[0].destination.host", "missing"},
    {"BadRegex", VS_HEAD "spec: {hosts: [a], http: [{match: [{uri: {regex: \"(\"}}], " ROUTE "}]}",
     "default/r", "spec.http[0].match[0].uri.regex", "invalid RE2 regex: missing ): ("},
    {"TwoStringMatchKinds",
     VS_HEAD "spec: {hosts: [a], http: [{match: [{uri: {exact: /a, prefix: /b}}], " ROUTE "}]}",
     "default/r", "spec.http[0].match[0].uri", "exactly one of exact, prefix or regex is required"},
    {"HeadersNotAMap",
     VS_HEAD "spec: {hosts: [a], http: [{match: [{headers: [end-user]}], " ROUTE "}]}", "default/r",
     "spec.http[0].match[0].headers", "wrong type: expected a map, got a list"},
    {"BadRedirectCode",
     VS_HEAD "spec: {hosts: [a], http: [{redirect: {uri: /x, redirectCode: 300}}]}", "default/r",
     "spec.http[0].redirect.redirectCode", "must be one of 301, 302, 303, 307, 308"},
    {"DirectResponseWithoutStatus",
     VS_HEAD "spec: {hosts: [a], http: [{directResponse: {body: {string: x}}}]}", "default/r",
     "spec.http[0].directResponse.status", "missing"},
    {"UnknownRetryCondition",
     VS_HEAD "spec: {hosts: [a], http: [{" ROUTE
             ", retries: {attempts: 3, retryOn: \"5xx,sometimes\"}}]}",
     "default/r", "spec.http[0].retries.retryOn", "unknown retry condition \"sometimes\""},
    {"RuleWithoutAction", VS_HEAD "spec: {hosts: [a], http: [{match: [{uri: {prefix: /}}]}]}",
     "default/r", "spec.http[0].route", "one of route, redirect or directResponse is required"},
    {"RouteAndRedirect", VS_HEAD "spec: {hosts: [a], http: [{" ROUTE ", redirect: {uri: /x}}]}",
     "default/r", "spec.http[0]", "route, redirect and directResponse are mutually exclusive"},
    {"TcpRuleWithoutDestination", VS_HEAD "spec: {hosts: [a], tcp: [{match: [{port: 3306}]}]}",
     "default/r", "spec.tcp[0].route", "at least one destination is required"},
    {"FaultInjectionUnsupported",
     VS_HEAD "spec: {hosts: [a], http: [{" ROUTE ", fault: {abort: {httpStatus: 500}}}]}",
     "default/r", "spec.http[0].fault", "field is not supported by remora (see docs/pilot.md)"},
    {"TlsRoutesUnsupported", VS_HEAD "spec: {hosts: [a], tls: [{route: []}], http: [{" ROUTE "}]}",
     "default/r", "spec.tls", "field is not supported by remora (see docs/pilot.md)"},
    // DestinationRule.
    {"DestinationRuleWithoutHost", DR_HEAD "spec: {subsets: [{name: v1}]}", "default/d",
     "spec.host", "missing"},
    {"DestinationRuleBadHost", DR_HEAD "spec: {host: Ratings_Service}", "default/d", "spec.host",
     "\"Ratings_Service\" is not a valid host name"},
    {"SubsetWithoutName", DR_HEAD "spec: {host: a, subsets: [{labels: {version: v1}}]}",
     "default/d", "spec.subsets[0].name", "missing"},
    {"SubsetBadName", DR_HEAD "spec: {host: a, subsets: [{name: V1}]}", "default/d",
     "spec.subsets[0].name", "\"V1\" is not a valid subset name"},
    {"DuplicateSubset", DR_HEAD "spec: {host: a, subsets: [{name: v1}, {name: v1}]}", "default/d",
     "spec.subsets[1].name", "duplicate subset \"v1\""},
    {"UnsupportedLoadBalancer",
     DR_HEAD "spec: {host: a, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}", "default/d",
     "spec.trafficPolicy.loadBalancer.simple",
     "\"PASSTHROUGH\" is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM)"},
    {"ConsistentHashUnsupported",
     DR_HEAD
     "spec: {host: a, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}}",
     "default/d", "spec.trafficPolicy.loadBalancer.consistentHash",
     "field is not supported by remora (see docs/pilot.md)"},
    {"OutlierDetectionUnsupported",
     DR_HEAD "spec: {host: a, trafficPolicy: {outlierDetection: {interval: 1s}}}", "default/d",
     "spec.trafficPolicy.outlierDetection", "field is not supported by remora (see docs/pilot.md)"},
    {"Http2MaxRequestsUnsupported",
     DR_HEAD "spec: {host: a, subsets: [{name: v1, trafficPolicy: {connectionPool: {http: "
             "{http2MaxRequests: "
             "10}}}}]}",
     "default/d", "spec.subsets[0].trafficPolicy.connectionPool.http.http2MaxRequests",
     "field is not supported by remora (see docs/pilot.md)"},
    {"MutualTlsUnsupported", DR_HEAD "spec: {host: a, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}",
     "default/d", "spec.trafficPolicy.tls.mode",
     "only DISABLE is supported (remora has no mTLS yet)"},
    // ServiceEntry.
    {"ServiceEntryWithoutHosts",
     SE_HEAD "spec: {ports: [{number: 80, name: http, protocol: HTTP}]}", "default/e", "spec.hosts",
     "at least one host is required"},
    {"ServiceEntryWithoutPorts", SE_HEAD "spec: {hosts: [a.example.com]}", "default/e",
     "spec.ports", "at least one port is required"},
    {"ServiceEntryPortNumberMissing",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{name: http, protocol: HTTP}]}", "default/e",
     "spec.ports[0].number", "missing"},
    {"ServiceEntryPortNameMissing",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, protocol: HTTP}]}", "default/e",
     "spec.ports[0].name", "missing"},
    {"ServiceEntryPortProtocolMissing",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http}]}", "default/e",
     "spec.ports[0].protocol", "missing"},
    {"ServiceEntryDuplicatePortName",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}, "
             "{number: 81, "
             "name: http, protocol: HTTP}]}",
     "default/e", "spec.ports[1].name", "duplicate port name \"http\""},
    {"ServiceEntryBadLocation",
     SE_HEAD
     "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], location: "
     "OUTSIDE}",
     "default/e", "spec.location", "must be MESH_EXTERNAL or MESH_INTERNAL"},
    {"ServiceEntryDnsResolution",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 443, name: tls, protocol: TLS}], "
             "resolution: DNS}",
     "default/e", "spec.resolution", "resolution DNS is not supported yet (use STATIC or NONE)"},
    {"ServiceEntryDnsRoundRobin",
     SE_HEAD
     "spec: {hosts: [a.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: "
     "DNS_ROUND_ROBIN}",
     "default/e", "spec.resolution",
     "resolution DNS_ROUND_ROBIN is not supported yet (use STATIC or NONE)"},
    {"ServiceEntryUnknownResolution",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], "
             "resolution: "
             "MAGIC}",
     "default/e", "spec.resolution", "must be NONE or STATIC"},
    {"ServiceEntryEndpointWithoutAddress",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], "
             "resolution: "
             "STATIC, endpoints: [{labels: {v: a}}]}",
     "default/e", "spec.endpoints[0].address", "missing"},
    {"ServiceEntryEndpointPortsNotAMap",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], "
             "resolution: "
             "STATIC, endpoints: [{address: 10.1.1.1, ports: [80]}]}",
     "default/e", "spec.endpoints[0].ports", "wrong type: expected a map of port name to number"},
    {"ServiceEntryEndpointUnknownPort",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], "
             "resolution: "
             "STATIC, endpoints: [{address: 10.1.1.1, ports: {grpc: 9090}}]}",
     "default/e", "spec.endpoints[0].ports.grpc", "no port named \"grpc\" in spec.ports"},
    {"ServiceEntryEndpointsWithoutStatic",
     SE_HEAD
     "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], endpoints: "
     "[{address: 10.1.1.1}]}",
     "default/e", "spec.endpoints", "endpoints require resolution STATIC"},
    {"ServiceEntryWorkloadSelectorUnsupported",
     SE_HEAD "spec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], "
             "workloadSelector: {labels: {app: a}}}",
     "default/e", "spec.workloadSelector", "field is not supported by remora (see docs/pilot.md)"},
    // Mesh config in the istio ConfigMap.
    {"MeshBadOutboundPolicy",
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  "
     "mesh: |\n    "
     "outboundTrafficPolicy: {mode: DENY}",
     "istio-system/istio", "data.mesh.outboundTrafficPolicy.mode",
     "must be ALLOW_ANY or REGISTRY_ONLY"},
    {"MeshBadDomainSuffix",
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  "
     "mesh: |\n    "
     "domainSuffix: Cluster_Local",
     "istio-system/istio", "data.mesh.domainSuffix", "\"Cluster_Local\" is not a valid domain"},
    {"MeshInboundPortClash",
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  "
     "mesh: |\n    "
     "proxyInboundListenPort: 15001",
     "istio-system/istio", "data.mesh.proxyInboundListenPort",
     "must differ from proxyListenPort (leave it out for the seed's single-port layout)"},
    {"MeshUnknownField",
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  "
     "mesh: |\n    "
     "outboundTraficPolicy: {mode: ALLOW_ANY}",
     "istio-system/istio", "data.mesh.outboundTraficPolicy", "unknown field"},
};

INSTANTIATE_TEST_SUITE_P(All, PilotRefusal, testing::ValuesIn(kRefusals),
                         [](const testing::TestParamInfo<RefusalCase>& info) {
                           return info.param.name;
                         });

TEST(PilotParse, RefusalTextQuotesFileLineDocumentObjectAndField) {
  ConfigSet set = load(
      "# comment\n"
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n" VS_HEAD
      "spec:\n  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a, subset: v1}\n      "
      "weight: 70\n"
      "    - destination: {host: a, subset: v2}\n      weight: 20\n",
      "bookinfo.yaml");
  ASSERT_EQ(set.refusals.size(), 1u);
  EXPECT_EQ(set.refusals[0].toString(),
            "bookinfo.yaml:13: document 1: VirtualService default/r: spec.http[0].route: weights "
            "sum to 90, want 100");
}

TEST(PilotParse, DuplicateObjectIsRefusedWithTheFirstDefinition) {
  ConfigSet set;
  addConfigText("a.yaml", SVC_HEAD "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n", &set);
  addConfigText(
      "b.yaml",
      "# two\n# comments\n" SVC_HEAD "spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}\n", &set);
  finishConfigSet(&set);
  ASSERT_EQ(set.refusals.size(), 1u);
  EXPECT_EQ(set.refusals[0].toString(),
            "b.yaml:3: document 0: Service default/s: metadata.name: duplicate object: already "
            "defined at a.yaml:1");
  ASSERT_EQ(set.objects.size(), 1u);
  EXPECT_EQ(std::get<K8sService>(set.objects[0].value).cluster_ip, "10.96.0.1");
}

// In a watched folder, a new file repeating an object must not replace the
// one being served, even when its name sorts first.
TEST(PilotParse, DuplicateKeepsTheObjectAlreadyServed) {
  ConfigSet before;
  addConfigText("b.yaml", SVC_HEAD "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n", &before);
  finishConfigSet(&before);
  ConfigSet after;
  addConfigText("a.yaml", SVC_HEAD "spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}\n", &after);
  addConfigText("b.yaml", SVC_HEAD "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n", &after);
  finishConfigSet(&after, &before);
  ASSERT_EQ(after.objects.size(), 1u);
  EXPECT_EQ(std::get<K8sService>(after.objects[0].value).cluster_ip, "10.96.0.1");
  ASSERT_EQ(after.refusals.size(), 1u);
  EXPECT_EQ(after.refusals[0].toString(),
            "a.yaml:1: document 0: Service default/s: metadata.name: duplicate object: already "
            "defined at "
            "b.yaml:1");
}

TEST(PilotParse, SameNameInAnotherNamespaceOrKindIsNoDuplicate) {
  ConfigSet set =
      load(SVC_HEAD
           "spec: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: prod}\n"
           "spec: {}\n---\n" DR_HEAD
           "spec: {host: s}\n---\n"
           "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
           "metadata: {name: s}\nspec: {host: s}\n");
  EXPECT_TRUE(set.refusals.empty());
  EXPECT_EQ(set.objects.size(), 4u);
}

TEST(PilotParse, UnknownKindIsWarnedAndSkipped) {
  ConfigSet set = load(
      "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec: {}\n"
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n");
  EXPECT_TRUE(set.refusals.empty());
  EXPECT_TRUE(set.objects.empty());
  // A ConfigMap other than istio-system/istio is Kubernetes data pilot does
  // not read, not a typo: no warning for it.
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_EQ(
      set.warnings[0],
      "case.yaml:1: document 0: ignoring unknown kind \"Gateway\" (networking.istio.io/v1beta1)");
}

TEST(PilotParse, AllIstioApiVersionsAreAccepted) {
  for (const char* version : {"v1alpha3", "v1beta1", "v1"}) {
    ConfigSet set = load(std::string("apiVersion: networking.istio.io/") + version +
                         "\nkind: DestinationRule\nmetadata: {name: d}\nspec: {host: a}\n");
    EXPECT_TRUE(set.refusals.empty()) << version;
    EXPECT_EQ(set.objects.size(), 1u) << version;
  }
}

TEST(PilotParse, ListKindYieldsEachItem) {
  ConfigSet set = load(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: "
      "s}\n"
      "  spec: {}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n");
  ASSERT_EQ(set.objects.size(), 2u);
  EXPECT_EQ(set.objects[0].kind, ObjectKind::kService);
  EXPECT_EQ(set.objects[1].kind, ObjectKind::kPod);
}

TEST(PilotParse, ServiceFields) {
  ConfigSet set = load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: prod, labels: {app: "
      "reviews}}\n"
      "spec:\n  type: ClusterIP\n  clusterIP: 10.96.0.14\n  selector: {app: reviews}\n  ports:\n"
      "  - {name: http, port: 9080, targetPort: 9081}\n  - {name: metrics, port: 15020, "
      "targetPort: "
      "http-metrics, appProtocol: http}\n  - {name: dns, port: 53, protocol: UDP}\n");
  ASSERT_TRUE(set.refusals.empty()) << set.refusals[0].toString();
  const auto& s = std::get<K8sService>(set.objects.at(0).value);
  EXPECT_EQ(s.meta.namespace_, "prod");
  EXPECT_EQ(s.cluster_ip, "10.96.0.14");
  EXPECT_TRUE(s.has_selector);
  EXPECT_EQ(s.selector, (Labels{{"app", "reviews"}}));
  ASSERT_EQ(s.ports.size(), 3u);
  EXPECT_EQ(s.ports[0].target_port, 9081u);
  EXPECT_EQ(s.ports[1].target_port_name, "http-metrics");
  EXPECT_EQ(s.ports[1].app_protocol, "http");
  EXPECT_EQ(s.ports[2].protocol, "UDP");
}

TEST(PilotParse, PodReadsWhatRoutingNeedsAndIgnoresTheRest) {
  ConfigSet set = load(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: reviews-v1, labels: {app: reviews, version: "
      "v1}}\n"
      "spec:\n  serviceAccountName: bookinfo-reviews\n  nodeName: node-1\n  containers:\n"
      "  - name: reviews\n    image: reviews:1\n    ports: [{name: http-metrics, containerPort: "
      "9091}]\n"
      "status:\n  phase: Running\n  podIP: 10.244.0.21\n  hostIP: 192.168.1.1\n"
      "  conditions: [{type: Ready, status: \"False\"}]\n");
  ASSERT_TRUE(set.refusals.empty());
  const auto& p = std::get<K8sPod>(set.objects.at(0).value);
  EXPECT_EQ(p.service_account, "bookinfo-reviews");
  EXPECT_EQ(p.pod_ip, "10.244.0.21");
  EXPECT_EQ(p.phase, "Running");
  EXPECT_FALSE(p.ready);
  EXPECT_EQ(p.named_ports.at("http-metrics"), 9091u);
  EXPECT_EQ(p.meta.labels.at("version"), "v1");
}

TEST(PilotParse, VirtualServiceFields) {
  ConfigSet set = load(VS_HEAD R"(spec:
  hosts: [reviews, reviews.prod.svc.cluster.local]
  http:
  - name: jason
    match:
    - name: by-header
      headers: {end-user: {exact: jason}}
      uri: {prefix: /reviews}
      method: {exact: GET}
      authority: {regex: "reviews.*"}
      queryParams: {debug: {exact: "1"}}
      withoutHeaders: {x-canary: {prefix: "no"}}
      ignoreUriCase: true
      port: 9080
      sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2, port: {number: 9080}}
      weight: 80
      headers: {request: {set: {x-a: "1"}}}
    - destination: {host: reviews, subset: v3}
      weight: 20
    rewrite: {uri: /v2, authority: reviews-v2}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 250ms, retryOn: "5xx,503"}
    headers: {response: {add: {x-b: "2"}, remove: [x-c]}}
  - redirect: {uri: /new, authority: other, port: 8080, scheme: https, redirectCode: 308}
  - directResponse: {status: 418, body: {string: teapot}}
  tcp:
  - match: [{port: 3306}]
    route: [{destination: {host: mysql}}]
)");
  ASSERT_TRUE(set.refusals.empty()) << set.refusals[0].toString();
  const auto& vs = std::get<VirtualService>(set.objects.at(0).value);
  ASSERT_EQ(vs.http.size(), 3u);
  const HttpRoute& r = vs.http[0];
  EXPECT_EQ(r.name, "jason");
  const HttpMatchRequest& m = r.match.at(0);
  EXPECT_EQ(m.name, "by-header");
  EXPECT_EQ(m.headers.at("end-user").value, "jason");
  EXPECT_EQ(m.uri->kind, StringMatch::Kind::kPrefix);
  EXPECT_EQ(m.authority->kind, StringMatch::Kind::kRegex);
  EXPECT_EQ(m.query_params.at("debug").value, "1");
  EXPECT_EQ(m.without_headers.at("x-canary").kind, StringMatch::Kind::kPrefix);
  EXPECT_TRUE(m.ignore_uri_case);
  EXPECT_EQ(m.port, 9080u);
  EXPECT_EQ(m.source_labels.at("app"), "productpage");
  ASSERT_EQ(r.route.size(), 2u);
  EXPECT_EQ(r.route[0].destination.port, 9080u);
  EXPECT_EQ(r.route[0].weight, 80u);
  EXPECT_EQ(r.route[0].headers.request.set.at("x-a"), "1");
  EXPECT_EQ(r.rewrite->uri, "/v2");
  EXPECT_EQ(r.timeout_ms, 1500);
  EXPECT_EQ(r.retries->attempts, 3u);
  EXPECT_EQ(r.retries->per_try_timeout_ms, 250);
  EXPECT_EQ(r.headers.response.remove, std::vector<std::string>{"x-c"});
  EXPECT_EQ(vs.http[1].redirect->redirect_code, 308u);
  EXPECT_EQ(vs.http[1].redirect->port, 8080u);
  EXPECT_EQ(vs.http[2].direct_response->status, 418u);
  EXPECT_EQ(vs.http[2].direct_response->body, "teapot");
  EXPECT_EQ(vs.tcp.at(0).match.at(0).port, 3306u);
}

TEST(PilotParse, DestinationRuleFields) {
  ConfigSet set = load(DR_HEAD R"(spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 250ms}
      http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 1, idleTimeout: 30s}
    tls: {mode: DISABLE}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: RANDOM}}
)");
  ASSERT_TRUE(set.refusals.empty()) << set.refusals[0].toString();
  const auto& dr = std::get<DestinationRule>(set.objects.at(0).value);
  const TrafficPolicy& tp = *dr.traffic_policy;
  EXPECT_EQ(tp.lb_policy, TrafficPolicy::LbPolicy::kLeastRequest);
  EXPECT_EQ(tp.max_connections, 100u);
  EXPECT_EQ(tp.connect_timeout_ms, 250);
  EXPECT_EQ(tp.http1_max_pending_requests, 10u);
  EXPECT_EQ(tp.max_requests_per_connection, 1u);
  EXPECT_EQ(tp.idle_timeout_ms, 30000);
  EXPECT_EQ(dr.subsets.at(0).traffic_policy->lb_policy, TrafficPolicy::LbPolicy::kRandom);
}

TEST(PilotParse, ServiceEntryFields) {
  ConfigSet set = load(SE_HEAD R"(spec:
  hosts: [billing.example.com]
  addresses: [240.240.0.10]
  ports: [{number: 8080, name: http, protocol: HTTP, targetPort: 18080}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - {address: 192.168.1.1, ports: {http: 9000}, labels: {v: a}, locality: eu/z1, weight: 3}
)");
  ASSERT_TRUE(set.refusals.empty()) << set.refusals[0].toString();
  const auto& se = std::get<ServiceEntry>(set.objects.at(0).value);
  EXPECT_EQ(se.location, ServiceEntry::Location::kMeshInternal);
  EXPECT_EQ(se.resolution, ServiceEntry::Resolution::kStatic);
  EXPECT_EQ(se.ports.at(0).target_port, 18080u);
  EXPECT_EQ(se.endpoints.at(0).ports.at("http"), 9000u);
  EXPECT_EQ(se.endpoints.at(0).weight, 3u);
  EXPECT_EQ(se.endpoints.at(0).locality, "eu/z1");
}

TEST(PilotParse, MeshConfigFromTheIstioConfigMap) {
  ConfigSet set = load(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
      "data:\n  mesh: |\n    outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n"
      "    trustDomain: example.org\n    connectTimeout: 5s\n    proxyInboundListenPort: 15006\n"
      "    accessLogFile: /dev/stdout\n");
  ASSERT_TRUE(set.refusals.empty()) << set.refusals[0].toString();
  EXPECT_TRUE(set.objects.empty());  // the mesh config is not a routing object
  EXPECT_EQ(set.mesh.outbound_policy, MeshConfig::OutboundPolicy::kRegistryOnly);
  EXPECT_EQ(set.mesh.trust_domain, "example.org");
  EXPECT_EQ(set.mesh.connect_timeout_ms, 5000);
  EXPECT_EQ(set.mesh.proxy_inbound_listen_port, 15006u);
  EXPECT_EQ(set.mesh_source, "case.yaml: ConfigMap istio-system/istio");
}

TEST(PilotParse, MeshConfigDefaultsAreTheSeeds) {
  ConfigSet set = load("");
  EXPECT_EQ(set.mesh_source, "defaults");
  EXPECT_EQ(set.mesh.outbound_policy, MeshConfig::OutboundPolicy::kAllowAny);
  EXPECT_EQ(set.mesh.domain_suffix, "cluster.local");
  EXPECT_EQ(set.mesh.connect_timeout_ms, 1000);
  EXPECT_EQ(set.mesh.proxy_listen_port, 15001u);
  EXPECT_EQ(set.mesh.proxy_inbound_listen_port, 0u);
}

TEST(PilotParse, MeshConfigFileRefusalNamesTheField) {
  auto parsed =
      parseMeshConfig(YAML::Load("outboundTrafficPolicy:\n  mode: OPEN\n"), {"mesh.yaml", 0, 1});
  ASSERT_TRUE(std::holds_alternative<Refusal>(parsed));
  EXPECT_EQ(std::get<Refusal>(parsed).toString(),
            "mesh.yaml:2: document 0: MeshConfig: outboundTrafficPolicy.mode: must be ALLOW_ANY or "
            "REGISTRY_ONLY");
}

TEST(PilotParse, DocumentLinesAreTheFiles) {
  ConfigSet set = load("# header\n---\n" SVC_HEAD
                       "spec: {}\n---\n\n\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
  // Comments before the first "---" are no document of their own.
  ASSERT_EQ(set.objects.size(), 2u);
  EXPECT_EQ(set.objects[0].source.document, 0);
  EXPECT_EQ(set.objects[0].source.line, 3);
  EXPECT_EQ(set.objects[1].source.document, 1);
  EXPECT_EQ(set.objects[1].source.line, 10);
}

TEST(PilotParse, ContentHashTellsChangedDocumentsApart) {
  ConfigSet a = load(SVC_HEAD "spec: {clusterIP: 10.96.0.1}\n");
  ConfigSet b = load(SVC_HEAD "spec: {clusterIP: 10.96.0.1}\n");
  ConfigSet c = load(SVC_HEAD "spec: {clusterIP: 10.96.0.2}\n");
  EXPECT_EQ(a.objects[0].content_hash, b.objects[0].content_hash);
  EXPECT_NE(a.objects[0].content_hash, c.objects[0].content_hash);
}

TEST(PilotParse, Durations) {
  EXPECT_EQ(parseDurationMs("10s"), 10000);
  EXPECT_EQ(parseDurationMs("1.5s"), 1500);
  EXPECT_EQ(parseDurationMs("250ms"), 250);
  EXPECT_EQ(parseDurationMs("1m"), 60000);
  EXPECT_EQ(parseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(parseDurationMs("0s"), 0);
  EXPECT_FALSE(parseDurationMs(""));
  EXPECT_FALSE(parseDurationMs("10"));
  EXPECT_FALSE(parseDurationMs("s"));
  EXPECT_FALSE(parseDurationMs("10 s"));
  EXPECT_FALSE(parseDurationMs("1d"));
}

TEST(PilotParse, HostNames) {
  EXPECT_TRUE(isValidHostName("reviews", false));
  EXPECT_TRUE(isValidHostName("reviews.default.svc.cluster.local", false));
  EXPECT_TRUE(isValidHostName("a-b.example.com", false));
  EXPECT_FALSE(isValidHostName("Reviews", false));
  EXPECT_FALSE(isValidHostName("-a", false));
  EXPECT_FALSE(isValidHostName("a-", false));
  EXPECT_FALSE(isValidHostName("a..b", false));
  EXPECT_FALSE(isValidHostName("a_b", false));
  EXPECT_FALSE(isValidHostName("", false));
  EXPECT_FALSE(isValidHostName(std::string(64, 'a'), false));
  EXPECT_FALSE(isValidHostName("*.example.com", false));
  EXPECT_TRUE(isValidHostName("*.example.com", true));
  EXPECT_TRUE(isValidHostName("*", true));
  EXPECT_FALSE(isValidHostName("a.*.com", true));
}

}  // namespace
}  // namespace remora::pilot
