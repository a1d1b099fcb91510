#include "pilot/model/snapshot.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pilot/model/config_store.h"
#include "pilot/translate/generator.h"
#include "pilot/translate/wire_test_util.h"

namespace remora::pilot {
namespace {

std::shared_ptr<const MeshSnapshot> build(const std::string& text) {
  ConfigSet set;
  addConfigText("mesh.yaml", text, &set);
  finishConfigSet(&set);
  return MeshSnapshot::build(std::move(set));
}

std::string service(const std::string& name, const std::string& ns, const std::string& ip,
                    const std::string& ports, const std::string& selector) {
  return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  clusterIP: " + ip + "\n  ports: " + ports +
         (selector.empty() ? "" : "\n  selector: " + selector) + "\n";
}

std::string pod(const std::string& name, const std::string& ns, const std::string& ip,
                const std::string& labels, const std::string& extra = "") {
  return "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
         ", labels: " + labels + "}\nstatus: {podIP: " + ip + extra + "}\n";
}

std::vector<std::string> addresses(const Service& s) {
  std::vector<std::string> out;
  for (const auto& i : s.instances)
    out.push_back(i.address);
  return out;
}

const std::string kRatings =
    service("ratings", "default", "10.96.0.13", "[{name: http, port: 9080}]", "{app: ratings}");

TEST(PilotSnapshot, ServicesSelectReadyPodsOfTheirNamespace) {
  auto s =
      build(kRatings + pod("r1", "default", "10.244.0.2", "{app: ratings, version: v1}") +
            pod("r0", "default", "10.244.0.1", "{app: ratings, version: v2}") +
            pod("other-ns", "prod", "10.244.1.1", "{app: ratings}") +
            pod("unready", "default", "10.244.0.3", "{app: ratings}",
                ", conditions: [{type: Ready, status: \"False\"}]") +
            pod("failed", "default", "10.244.0.4", "{app: ratings}", ", phase: Failed") +
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: no-ip, labels: {app: ratings}}\n" +
            pod("unrelated", "default", "10.244.0.5", "{app: details}"));
  const Service* svc = s->findService("ratings.default.svc.cluster.local");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(addresses(*svc), (std::vector<std::string>{"10.244.0.1", "10.244.0.2"}));  // sorted
  EXPECT_EQ(svc->instances[1].uid, "kubernetes://r1.default");
  EXPECT_EQ(svc->instances[1].labels.at("version"), "v1");
  EXPECT_EQ(svc->instances[1].ports, std::vector<uint32_t>{9080});
  EXPECT_EQ(svc->vips, std::vector<std::string>{"10.96.0.13"});
  EXPECT_EQ(svc->ports.at(0).protocol, Protocol::kHttp);
}

TEST(PilotSnapshot, SelectorNeedsEveryLabel) {
  auto s = build(service("r", "default", "10.96.0.1", "[{port: 80}]", "{app: r, version: v2}") +
                 pod("v1", "default", "10.244.0.1", "{app: r, version: v1}") +
                 pod("v2", "default", "10.244.0.2", "{app: r, version: v2, extra: x}"));
  EXPECT_EQ(addresses(*s->findService("r.default.svc.cluster.local")),
            std::vector<std::string>{"10.244.0.2"});
}

TEST(PilotSnapshot, EmptySelectorSelectsNothing) {
  auto s = build(service("r", "default", "10.96.0.1", "[{port: 80}]", "{}") +
                 pod("p", "default", "10.244.0.1", "{app: r}"));
  EXPECT_TRUE(s->findService("r.default.svc.cluster.local")->instances.empty());
}

TEST(PilotSnapshot, TargetPortsNumberedNamedOrDefaulted) {
  auto s = build(
      service("r", "default", "10.96.0.1",
              "[{name: a, port: 80}, {name: b, port: 81, targetPort: 8081}, {name: c, port: 82, "
              "targetPort: metrics}, {name: d, port: 83, targetPort: missing}]",
              "{app: r}") +
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: r}}\nspec:\n  "
      "containers:\n"
      "  - name: c\n    ports: [{name: metrics, containerPort: 9090}]\nstatus: {podIP: "
      "10.244.0.1}\n");
  const Service* svc = s->findService("r.default.svc.cluster.local");
  ASSERT_EQ(svc->instances.size(), 1u);
  // A named target port the pod does not declare: the pod does not serve it.
  EXPECT_EQ(svc->instances[0].ports, (std::vector<uint32_t>{80, 8081, 9090, 0}));
}

TEST(PilotSnapshot, EndpointsBackServicesWithoutSelector) {
  auto s = build(
      service("db", "default", "10.96.0.9", "[{name: tcp-db, port: 5432}]", "") +
      "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets:\n"
      "- addresses: [{ip: 192.168.1.10}, {ip: 10.244.0.7, targetRef: {kind: Pod, name: db-0}}]\n"
      "  ports: [{name: tcp-db, port: 15432}]\n" +
      pod("db-0", "default", "10.244.0.7", "{role: primary}"));
  const Service* svc = s->findService("db.default.svc.cluster.local");
  ASSERT_EQ(svc->instances.size(), 2u);
  EXPECT_EQ(svc->instances[0].address, "10.244.0.7");
  EXPECT_EQ(svc->instances[0].uid, "kubernetes://db-0.default");
  EXPECT_EQ(svc->instances[0].labels.at("role"), "primary");
  EXPECT_EQ(svc->instances[0].ports, std::vector<uint32_t>{15432});
  EXPECT_EQ(svc->instances[1].address, "192.168.1.10");
  EXPECT_EQ(svc->instances[1].uid, "");
  // The pod is a backend through Endpoints, so it gets the inbound side.
  auto targets = s->inboundTargets(*s->findProxy("db-0.default"));
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].target_port, 15432u);
}

TEST(PilotSnapshot, ServiceEntryHostsAreServices) {
  auto s = build(
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "ext}\nspec:\n"
      "  hosts: [a.example.com, b.example.com]\n  addresses: [240.240.0.1]\n"
      "  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}, {number: 443, name: "
      "tls, protocol: "
      "TLS}]\n  resolution: STATIC\n  endpoints:\n"
      "  - {address: 192.168.0.2, labels: {v: x}, ports: {tls: 8443}}\n  - {address: 192.168.0.1, "
      "weight: 5}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "pass}\nspec:\n"
      "  hosts: [c.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: "
      "NONE\n");
  for (const char* host : {"a.example.com", "b.example.com"}) {
    const Service* svc = s->findService(host);
    ASSERT_NE(svc, nullptr) << host;
    EXPECT_EQ(svc->origin, Service::Origin::kServiceEntry);
    EXPECT_EQ(svc->vips, std::vector<std::string>{"240.240.0.1"});
    EXPECT_FALSE(svc->passthrough);
    ASSERT_EQ(svc->instances.size(), 2u);
    EXPECT_EQ(svc->instances[0].address, "192.168.0.1");
    EXPECT_EQ(svc->instances[0].ports, (std::vector<uint32_t>{8080, 443}));
    EXPECT_EQ(svc->instances[0].weight, 5u);
    EXPECT_EQ(svc->instances[1].ports, (std::vector<uint32_t>{8080, 8443}));
    EXPECT_EQ(svc->instances[1].weight, 1u);
    EXPECT_EQ(svc->ports[1].protocol, Protocol::kTls);
  }
  EXPECT_TRUE(s->findService("c.example.com")->passthrough);
}

TEST(PilotSnapshot, KubernetesServiceWinsAHostClash) {
  auto s = build(kRatings +
                 "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: "
                 "{name: clash}\nspec:\n"
                 "  hosts: [ratings.default.svc.cluster.local]\n  ports: [{number: 80, name: http, "
                 "protocol: HTTP}]\n");
  EXPECT_EQ(s->findService("ratings.default.svc.cluster.local")->origin,
            Service::Origin::kKubernetes);
  ASSERT_EQ(s->warnings().size(), 1u);
  EXPECT_EQ(s->warnings()[0],
            "ServiceEntry default/clash: host ratings.default.svc.cluster.local is already defined "
            "by Service "
            "default/ratings; ignored");
}

TEST(PilotSnapshot, InboundTargetsAreThePodsOwnServicePorts) {
  auto s = build(
      service("reviews", "default", "10.96.0.14",
              "[{name: http, port: 9080}, {name: tcp-admin, port: 7000, targetPort: 17000}]",
              "{app: reviews}") +
      service("all-apps", "default", "10.96.0.20", "[{name: http, port: 80, targetPort: 9080}]",
              "{tier: web}") +
      service("reviews", "prod", "10.96.1.14", "[{name: http, port: 9080}]", "{app: reviews}") +
      pod("reviews-v1", "default", "10.244.0.21", "{app: reviews, tier: web}"));
  auto proxy = s->findProxy("reviews-v1.default");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->ip, "10.244.0.21");
  auto targets = s->inboundTargets(*proxy);
  std::vector<std::string> got;
  for (const auto& t : targets) {
    got.push_back(t.service->fqdn + ":" + std::to_string(t.port.port) + ">" +
                  std::to_string(t.target_port));
  }
  // Sorted by target port, then FQDN; services of other namespaces never.
  EXPECT_EQ(got, (std::vector<std::string>{"all-apps.default.svc.cluster.local:80>9080",
                                           "reviews.default.svc.cluster.local:9080>9080",
                                           "reviews.default.svc.cluster.local:7000>17000"}));
}

TEST(PilotSnapshot, ProxyIdsArePodsWithAnAddress) {
  auto s = build(pod("b", "default", "10.244.0.2", "{}") + pod("a", "prod", "10.244.0.1", "{}") +
                 "---\napiVersion: v1\nkind: Pod\nmetadata: {name: pending}\n");
  EXPECT_EQ(s->proxyIds(), (std::vector<std::string>{"a.prod", "b.default"}));
  EXPECT_FALSE(s->findProxy("nope.default"));
  EXPECT_TRUE(s->findProxy("pending.default"));
}

std::string vs(const std::string& name, const std::string& ns, const std::string& host,
               const std::string& subset, const std::string& extra = "") {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: " +
         name + ", namespace: " + ns + extra + "}\nspec:\n  hosts: [" + host +
         "]\n  http: [{route: [{destination: {host: " + host + ", subset: " + subset + "}}]}]\n";
}

std::string dr(const std::string& name, const std::string& ns, const std::string& host,
               const std::string& subset) {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: " +
         name + ", namespace: " + ns + "}\nspec:\n  host: " + host +
         "\n  subsets: [{name: " + subset + ", labels: {version: " + subset + "}}]\n";
}

TEST(PilotSnapshot, VirtualServiceOfTheProxysNamespaceWinsThenTheOldest) {
  auto s = build(
      kRatings +
      vs("newer", "default", "ratings", "v2", ", creationTimestamp: \"2024-02-01T00:00:00Z\"") +
      vs("older", "default", "ratings.default.svc.cluster.local", "v1",
         ", creationTimestamp: \"2024-01-01T00:00:00Z\"") +
      vs("prods", "prod", "ratings.default", "v3",
         ", creationTimestamp: \"2024-03-01T00:00:00Z\""));
  const std::string fqdn = "ratings.default.svc.cluster.local";
  EXPECT_EQ(s->virtualServiceFor(fqdn, "default")->ref, "default/older");
  EXPECT_EQ(s->virtualServiceFor(fqdn, "prod")->ref, "prod/prods");
  EXPECT_EQ(s->virtualServiceFor(fqdn, "other")->ref, "default/older");
  EXPECT_EQ(s->virtualServiceFor("details.default.svc.cluster.local", "default"), nullptr);
}

TEST(PilotSnapshot, ExactVirtualServiceHostBeatsAWildcard) {
  auto s = build(
      kRatings +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: wild}\n"
      "spec: {hosts: [\"*.default.svc.cluster.local\"], http: [{route: [{destination: {host: "
      "ratings}}]}]}\n" +
      vs("exact", "default", "ratings", "v1"));
  EXPECT_EQ(s->virtualServiceFor("ratings.default.svc.cluster.local", "default")->ref,
            "default/exact");
  EXPECT_EQ(s->virtualServiceFor("details.default.svc.cluster.local", "default")->ref,
            "default/wild");
}

TEST(PilotSnapshot, VirtualServiceExportToAndGatewaysLimitWhoSeesIt) {
  auto s = build(
      kRatings +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: "
      "private}\n"
      "spec: {hosts: [ratings], exportTo: [\".\"], http: [{route: [{destination: {host: "
      "ratings}}]}]}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: gw, "
      "namespace: prod}\nspec: {hosts: [ratings.default], gateways: [ingress], http: [{route: "
      "[{destination: {host: ratings.default}}]}]}\n");
  EXPECT_EQ(s->virtualServiceFor("ratings.default.svc.cluster.local", "default")->ref,
            "default/private");
  // Not exported to prod, and prod's own rule is for a gateway only.
  EXPECT_EQ(s->virtualServiceFor("ratings.default.svc.cluster.local", "prod"), nullptr);
}

TEST(PilotSnapshot, DestinationRulePreference) {
  auto s =
      build(kRatings + dr("in-root", "istio-system", "ratings.default.svc.cluster.local", "root") +
            dr("in-service-ns", "default", "ratings", "svc") +
            dr("in-prod", "prod", "ratings.default", "prod") +
            dr("wild", "default", "\"*.svc.cluster.local\"", "wild"));
  const Service& ratings = *s->findService("ratings.default.svc.cluster.local");
  EXPECT_EQ(s->destinationRuleFor(ratings, "prod")->meta.name, "in-prod");
  EXPECT_EQ(s->destinationRuleFor(ratings, "default")->meta.name, "in-service-ns");
  EXPECT_EQ(s->destinationRuleFor(ratings, "other")->meta.name, "in-service-ns");
  auto only_root =
      build(kRatings + dr("in-root", "istio-system", "ratings.default.svc.cluster.local", "root") +
            dr("elsewhere", "team", "ratings.default.svc.cluster.local", "t"));
  EXPECT_EQ(
      only_root->destinationRuleFor(*only_root->findService(ratings.fqdn), "other")->meta.name,
      "in-root");
  auto only_wild = build(kRatings + dr("wild", "default", "\"*.svc.cluster.local\"", "wild"));
  EXPECT_EQ(
      only_wild->destinationRuleFor(*only_wild->findService(ratings.fqdn), "default")->meta.name,
      "wild");
}

TEST(PilotSnapshot, DanglingReferencesAreReportedNotRefused) {
  auto s = build(
      kRatings + vs("to-v1", "default", "ratings", "v1") +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: "
      "ghost}\n"
      "spec: {hosts: [ghost], http: [{route: [{destination: {host: ghost}}]}]}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: port}\n"
      "spec: {hosts: [x], tcp: [{route: [{destination: {host: ratings, port: {number: "
      "1234}}}]}]}\n");
  EXPECT_TRUE(s->refusals().empty());
  EXPECT_EQ(s->virtualServices().size(), 3u);
  EXPECT_EQ(s->warnings(),
            (std::vector<std::string>{
                "VirtualService default/ghost: spec.http[0].route[0].destination: host "
                "ghost.default.svc.cluster.local "
                "is not in the registry",
                "VirtualService default/port: spec.tcp[0].route[0].destination: port 1234 is not a "
                "port of "
                "ratings.default.svc.cluster.local",
                "VirtualService default/to-v1: spec.http[0].route[0].destination: subset \"v1\" of "
                "ratings.default.svc.cluster.local is not defined by any DestinationRule (requests "
                "will get 503 NC)"}));
  auto fixed = build(kRatings + vs("to-v1", "default", "ratings", "v1") +
                     dr("ratings", "default", "ratings", "v1"));
  EXPECT_TRUE(fixed->warnings().empty());
}

TEST(PilotSnapshot, ServiceExportToHidesFromOtherNamespaces) {
  auto s = build(
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "e}\nspec:\n"
      "  hosts: [a.example.com]\n  exportTo: [\".\"]\n  ports: [{number: 80, name: http, protocol: "
      "HTTP}]\n");
  const Service& svc = *s->findService("a.example.com");
  EXPECT_TRUE(s->visibleTo(svc.export_to, svc.namespace_, "default"));
  EXPECT_FALSE(s->visibleTo(svc.export_to, svc.namespace_, "prod"));
  EXPECT_TRUE(s->visibleTo({"prod"}, "default", "prod"));
  EXPECT_TRUE(s->visibleTo({"*"}, "default", "prod"));
  EXPECT_TRUE(s->visibleTo({}, "default", "prod"));
}

TEST(PilotSnapshot, RulesResolveShortHostsInTheirOwnNamespace) {
  auto s = build(
      service("reviews", "prod", "10.96.1.14", "[{name: http, port: 9080}]", "{app: reviews}") +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "e}\nspec:\n"
      "  hosts: [billing.internal]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n");
  EXPECT_EQ(s->resolveHost("reviews", "prod"), "reviews.prod.svc.cluster.local");
  EXPECT_EQ(s->resolveHost("reviews.prod", "default"), "reviews.prod.svc.cluster.local");
  // A two-label registry host is taken as written, not as name.namespace.
  EXPECT_EQ(s->resolveHost("billing.internal", "default"), "billing.internal");
}

TEST(PilotSnapshot, EndpointOnlyChangesAreToldApartFromConfigChanges) {
  const std::string base = kRatings + dr("ratings", "default", "ratings", "v1");
  auto before = build(base + pod("r1", "default", "10.244.0.2", "{app: ratings, version: v1}"));
  auto moved = build(base + pod("r1", "default", "10.244.0.3", "{app: ratings, version: v1}"));
  SnapshotChanges c = compareSnapshots(*before, *moved);
  EXPECT_FALSE(c.config_changed);
  EXPECT_EQ(c.endpoint_services, std::vector<std::string>{"ratings.default.svc.cluster.local"});
  EXPECT_EQ(c.changed_proxies, std::vector<std::string>{"r1.default"});

  auto same = build(base + pod("r1", "default", "10.244.0.2", "{app: ratings, version: v1}"));
  c = compareSnapshots(*before, *same);
  EXPECT_FALSE(c.config_changed);
  EXPECT_TRUE(c.endpoint_services.empty());
  EXPECT_TRUE(c.changed_proxies.empty());

  auto rule = build(kRatings + dr("ratings", "default", "ratings", "v2") +
                    pod("r1", "default", "10.244.0.2", "{app: ratings, version: v1}"));
  c = compareSnapshots(*before, *rule);
  EXPECT_TRUE(c.config_changed);
  EXPECT_TRUE(c.changed_proxies.empty());  // every proxy gets a full push anyway
}

TEST(PilotSnapshot, OnlyPodsWhoseDocumentsChangedAreChangedProxies) {
  const std::string base = kRatings + dr("ratings", "default", "ratings", "v1");
  const std::string r2 = pod("r2", "default", "10.244.0.4", "{app: ratings, version: v1}");
  auto before =
      build(base + pod("r1", "default", "10.244.0.2", "{app: ratings, version: v1}") + r2);
  // r1 relabelled (leaves subset v1), r3 appears, r2 untouched.
  auto after = build(base + pod("r1", "default", "10.244.0.2", "{app: ratings, version: v2}") + r2 +
                     pod("r3", "default", "10.244.0.5", "{app: ratings, version: v1}"));
  SnapshotChanges c = compareSnapshots(*before, *after);
  EXPECT_FALSE(c.config_changed);
  EXPECT_EQ(c.changed_proxies, (std::vector<std::string>{"r1.default", "r3.default"}));
  // r3 goes again.
  c = compareSnapshots(*after, *before);
  EXPECT_EQ(c.changed_proxies, (std::vector<std::string>{"r1.default", "r3.default"}));
}

// What translation makes of a snapshot for every proxy, resource by resource
// in deterministic wire form: two snapshots that give the same bytes serve
// the same config.
std::map<std::string, std::string> translated(std::shared_ptr<const MeshSnapshot> s) {
  ConfigGenerator generator(s);
  std::map<std::string, std::string> out;
  for (const auto& id : s->proxyIds()) {
    ProxyNode proxy = *s->findProxy(id);
    for (ResourceType type : {ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster,
                              ResourceType::kEndpoint}) {
      for (const auto& r : generator.generate(type, proxy)) {
        out[id + " " + std::to_string(static_cast<int>(type)) + " " + std::string(r.name())] =
            deterministicBytes(r.message());
      }
    }
  }
  return out;
}

// "" when equal, else the first resource that differs (the maps are large).
std::string firstDifference(const std::map<std::string, std::string>& a,
                            const std::map<std::string, std::string>& b) {
  for (const auto& [key, bytes] : a) {
    auto it = b.find(key);
    if (it == b.end()) return "only in the first: " + key;
    if (it->second != bytes) return "differs: " + key;
  }
  for (const auto& [key, bytes] : b) {
    if (!a.count(key)) return "only in the second: " + key;
  }
  return "";
}

std::shared_ptr<const MeshSnapshot> buildFrom(const std::string& text,
                                              const MeshSnapshot* previous) {
  ConfigSet set;
  addConfigText("mesh.yaml", text, &set);
  finishConfigSet(&set);
  return MeshSnapshot::build(std::move(set), previous ? previous->version() + 1 : 1, previous);
}

// Endpoint-only changes patch the previous snapshot; what it serves must be
// exactly what a snapshot built from scratch serves.
TEST(PilotSnapshot, APatchedSnapshotServesWhatARebuiltOneServes) {
  const std::string rules =
      service("reviews", "default", "10.96.0.20", "[{name: http, port: 9080}]", "{app: reviews}") +
      service("reviews", "prod", "10.96.1.20", "[{name: http, port: 9080}]", "{app: reviews}") +
      service("db", "default", "10.96.0.9", "[{name: tcp-db, port: 5432}]", "") + kRatings +
      "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: "
      "ext}\nspec:\n  hosts: [api.example.com]\n  ports: [{number: 443, name: tls, protocol: "
      "TLS}]\n  resolution: STATIC\n  endpoints: [{address: 192.0.2.1}]\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: "
      "reviews}\nspec:\n  host: reviews\n  subsets:\n  - {name: v1, labels: {version: v1}}\n"
      "  - {name: v2, labels: {version: v2}}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: "
      "reviews}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n"
      "    - {destination: {host: reviews, subset: v1}, weight: 80}\n"
      "    - {destination: {host: reviews, subset: v3}, weight: 20}\n";
  const std::string endpoints =
      "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets:\n"
      "- addresses: [{ip: 10.244.0.7, targetRef: {kind: Pod, name: db-0}}]\n"
      "  ports: [{name: tcp-db, port: 15432}]\n";
  // The five pods, each of `changed` in place of the pod of its name, and
  // without the pod named `drop`.
  struct PodSpec {
    const char* name;
    const char* ns;
    const char* ip;
    std::string labels;
    std::string extra;
  };
  const std::vector<PodSpec> base_pods = {
      {"r1", "default", "10.244.0.11", "{app: reviews, version: v1}", ""},
      {"r2", "default", "10.244.0.12", "{app: reviews, version: v2}", ""},
      {"p1", "prod", "10.244.1.11", "{app: reviews, version: v1}", ""},
      {"rt", "default", "10.244.0.13", "{app: ratings}", ""},
      {"db-0", "default", "10.244.0.7", "{role: primary}", ""},
  };
  auto podsWith = [&](const std::vector<PodSpec>& changed, const std::string& drop = "") {
    std::string out;
    for (PodSpec p : base_pods) {
      if (p.name == drop) continue;
      for (const auto& c : changed) {
        if (std::string(c.name) == p.name) p = c;
      }
      out += pod(p.name, p.ns, p.ip, p.labels, p.extra);
    }
    return out;
  };
  const std::string pods = podsWith({});
  struct Change {
    std::string what;
    std::string text;
  };
  const std::vector<Change> changes = {
      {"a pod added", rules + endpoints + pods +
                          pod("r3", "default", "10.244.0.14", "{app: reviews, version: v2}")},
      {"a pod removed", rules + endpoints + podsWith({}, "r2")},
      {"a pod relabelled into another service",
       rules + endpoints + podsWith({{"r2", "default", "10.244.0.12", "{app: ratings}", ""}})},
      {"a pod no longer ready",
       rules + endpoints +
           podsWith({{"r1", "default", "10.244.0.11", "{app: reviews, version: v1}",
                      ", conditions: [{type: Ready, status: \"False\"}]"}})},
      {"a pod named by Endpoints relabelled",
       rules + endpoints + podsWith({{"db-0", "default", "10.244.0.7", "{role: replica}", ""}})},
      {"Endpoints changed",
       rules +
           "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets:\n"
           "- addresses: [{ip: 10.244.0.7, targetRef: {kind: Pod, name: db-0}}, {ip: "
           "192.168.1.10}]\n  ports: [{name: tcp-db, port: 15432}]\n" +
           pods},
  };
  auto before = buildFrom(rules + endpoints + pods, nullptr);
  ASSERT_TRUE(before->refusals().empty()) << before->refusals()[0].toString();
  for (const auto& c : changes) {
    SCOPED_TRACE(c.what);
    auto patched = buildFrom(c.text, before.get());
    auto rebuilt = buildFrom(c.text, nullptr);
    ASSERT_TRUE(patched->refusals().empty()) << patched->refusals()[0].toString();
    EXPECT_TRUE(patched->patched());
    EXPECT_FALSE(rebuilt->patched());
    EXPECT_EQ(patched->configHash(), rebuilt->configHash());
    EXPECT_EQ(patched->warnings(), rebuilt->warnings());
    EXPECT_EQ(patched->proxyIds(), rebuilt->proxyIds());
    ASSERT_EQ(patched->services().size(), rebuilt->services().size());
    for (size_t i = 0; i < rebuilt->services().size(); ++i) {
      EXPECT_EQ(patched->services()[i].fqdn, rebuilt->services()[i].fqdn);
      EXPECT_EQ(patched->services()[i].endpoints_hash, rebuilt->services()[i].endpoints_hash)
          << rebuilt->services()[i].fqdn;
    }
    for (const auto& id : rebuilt->proxyIds())
      EXPECT_EQ(patched->proxyHash(id), rebuilt->proxyHash(id)) << id;
    auto out = translated(patched);
    EXPECT_EQ(firstDifference(out, translated(rebuilt)), "");
    // The change reaches the model (some backends differ).
    bool moved = false;
    for (const auto& svc : before->services())
      moved = moved || svc.endpoints_hash != patched->findService(svc.fqdn)->endpoints_hash;
    EXPECT_TRUE(moved);
    // A snapshot patched from a patched one: nothing refers to the first.
    auto again = buildFrom(c.text, patched.get());
    EXPECT_TRUE(again->patched());
    EXPECT_EQ(firstDifference(translated(again), out), "");
  }
  // A rule change is no endpoint-only change: built in full.
  std::string edited = rules + endpoints + pods;
  edited.replace(edited.find("weight: 80"), 10, "weight: 70");
  edited.replace(edited.find("weight: 20"), 10, "weight: 30");
  auto full = buildFrom(edited, before.get());
  EXPECT_FALSE(full->patched());
  EXPECT_EQ(firstDifference(translated(full), translated(buildFrom(edited, nullptr))), "");
}

}  // namespace
}  // namespace remora::pilot
