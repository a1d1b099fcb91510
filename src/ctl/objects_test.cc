#include "ctl/objects.h"

#include <gtest/gtest.h>

#include "config/parse.h"
#include "ctl/ctl_test_util.h"

namespace remora::ctl {
namespace {

using testdata::expectGolden;
using testdata::readTestdata;

TEST(ResolveKind, PluralSingularShortAndKindNames) {
  for (const char* name : {"virtualservices", "virtualservice", "vs", "VirtualService", "VS",
                           "virtualservices.networking.istio.io"}) {
    auto k = resolveKind(name);
    ASSERT_TRUE(k.ok()) << name;
    EXPECT_STREQ((*k)->kind, "VirtualService") << name;
  }
  EXPECT_STREQ((*resolveKind("dr"))->kind, "DestinationRule");
  EXPECT_STREQ((*resolveKind("se"))->kind, "ServiceEntry");
  EXPECT_STREQ((*resolveKind("svc"))->kind, "Service");
  EXPECT_STREQ((*resolveKind("po"))->kind, "Pod");
  auto bad = resolveKind("gateways");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("unknown resource type \"gateways\" (known: "
                                         "virtualservices (vs), destinationrules (dr), ",
                                         0),
            0u)
      << bad.status().message();
}

TEST(ResourceName, KubectlNames) {
  EXPECT_EQ(resourceName("VirtualService"), "virtualservice.networking.istio.io");
  EXPECT_EQ(resourceName("Service"), "service");
  EXPECT_EQ(resourceName("Gateway"), "gateway");
  EXPECT_EQ(pluralResourceName(**resolveKind("dr")), "destinationrules.networking.istio.io");
  EXPECT_EQ(pluralResourceName(**resolveKind("po")), "pods");
}

TEST(YamlDocumentsToJson, TypesScalarsLikeTheBootstrapParser) {
  auto docs = config::yamlDocumentsToJson(
      "---\n# only a comment\n---\na: 9080\nb: \"9080\"\nc: true\nd: ~\ne: [x, 'y']\n---\n",
      "in.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0], R"json({"a":9080,"b":"9080","c":true,"d":null,"e":["x","y"]})json");
  auto bad = config::yamlDocumentsToJson("a: 1\nb: [1, 2\n", "in.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("in.yaml:3:1: syntax error: ", 0), 0u)
      << bad.status().message();
}

TEST(ObjectIds, DocumentsAndListItemsWithDefaultNamespace) {
  auto ids = objectIds(R"(apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
---
kind: List
items:
- kind: DestinationRule
  metadata: {name: ratings, namespace: prod}
- kind: Service
  metadata: {}
---
kind: Service
)",
                       "STDIN");
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0].toString(), "VirtualService default/reviews");
  EXPECT_EQ((*ids)[1].toString(), "DestinationRule prod/ratings");
  auto bad = objectIds("kind: [\n", "STDIN");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("STDIN:2:1: syntax error", 0), 0u)
      << bad.status().message();
}

// Pilot's replies as src/pilot/server.cc writes them.
TEST(ReportWrite, AppliedObjectsInKubectlWords) {
  WriteReport r = reportWrite(200, R"json({"applied":[
    {"kind":"VirtualService","namespace":"default","name":"reviews","file":"virtualservice-default-reviews.yaml","action":"created"},
    {"kind":"DestinationRule","namespace":"default","name":"reviews","file":"rules.yaml","action":"updated"},
    {"kind":"Service","namespace":"default","name":"ratings","file":"services.yaml","action":"unchanged"}],
    "refused":[],"errors":[],"version":7,"served":true,
    "warnings":["warning: VirtualService default/reviews: spec.http[0].route[0]: subset v3 is not defined"]})json",
                              false, "rules.yaml");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.out,
            "virtualservice.networking.istio.io/reviews created\n"
            "destinationrule.networking.istio.io/reviews configured\n"
            "service/ratings unchanged\n");
  EXPECT_EQ(r.err,
            "warning: VirtualService default/reviews: spec.http[0].route[0]: subset v3 is not "
            "defined\n");
}

TEST(ReportWrite, RefusalsShownAsPilotWritesThemWithTheFileName) {
  WriteReport r = reportWrite(400, R"json({"error":"refused","applied":[],"refused":[
    {"text":"request:4: document 0: VirtualService default/ratings-split: spec.http[0].route: weights sum to 90, want 100",
     "file":"request","document":0,"line":4,"kind":"VirtualService","object":"default/ratings-split",
     "field":"spec.http[0].route","message":"weights sum to 90, want 100"}],
    "errors":["request:20: document 1: Secret default/s: pilot does not serve this kind"],
    "version":3,"served":true,"warnings":[]})json",
                              false, "split.yaml");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "split.yaml:4: document 0: VirtualService default/ratings-split: spec.http[0].route: "
            "weights sum to 90, want 100\n"
            "split.yaml:20: document 1: Secret default/s: pilot does not serve this kind\n");
}

TEST(ReportWrite, DeletedNotFoundUnservedAndRefusedInTheFolder) {
  WriteReport d = reportWrite(200, R"json({"deleted":[
    {"kind":"VirtualService","namespace":"default","name":"reviews","file":"a.yaml","action":"deleted"}],
    "refused":[],"errors":[],"version":9,"served":true,"warnings":[]})json",
                              true, "STDIN");
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.out, "virtualservice.networking.istio.io \"reviews\" deleted\n");

  WriteReport missing = reportWrite(
      404,
      R"json({"error":"not found","deleted":[],"refused":[],"errors":["VirtualService default/x: not found in the config folder"],"version":9,"served":true,"warnings":[]})json",
      true, "STDIN");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.err, "VirtualService default/x: not found in the config folder\n");

  WriteReport unserved = reportWrite(
      200,
      R"json({"applied":[{"kind":"Pod","namespace":"default","name":"p","file":"pod-default-p.yaml","action":"created"}],"refused":[],"errors":[],"version":4,"served":false,"warnings":[]})json",
      false, "STDIN");
  EXPECT_FALSE(unserved.ok);
  EXPECT_EQ(unserved.out, "pod/p created\n");
  EXPECT_EQ(unserved.err,
            "pilot wrote the change to its config folder but has not served it yet (version 4)\n");

  WriteReport duplicate = reportWrite(
      200,
      R"json({"applied":[{"kind":"Service","namespace":"default","name":"s","file":"service-default-s.yaml","action":"created"}],"refused":[],"errors":[],"version":5,"served":true,
      "warnings":["refused: service-default-s.yaml:1: document 0: Service default/s: defined twice (kept the one in a.yaml:3)"]
})json",
      false, "STDIN");
  EXPECT_FALSE(duplicate.ok);
  EXPECT_EQ(duplicate.err,
            "refused: service-default-s.yaml:1: document 0: Service default/s: defined twice (kept "
            "the one in a.yaml:3)\n");

  WriteReport odd = reportWrite(405, "method not allowed\n", false, "STDIN");
  EXPECT_FALSE(odd.ok);
  EXPECT_EQ(odd.err, "pilot answered HTTP 405: method not allowed\n");
}

// What pilot's GET /apis/v1/objects answers: the documents as written.
std::string bookinfoObjects(const std::string& kind) {
  std::string out;
  for (const char* file : {"services.yaml", "pods.yaml", "rules/destination-rule-reviews.yaml",
                           "rules/virtual-service-reviews-80-20.yaml"}) {
    std::ifstream in(test::sourceDir() + "/examples/bookinfo/" + file);
    std::stringstream text;
    text << in.rdbuf();
    auto docs = config::yamlDocumentsToJson(text.str(), file);
    EXPECT_TRUE(docs.ok()) << file;
    for (const auto& d : *docs) {
      if (d.find("\"kind\":\"" + kind + "\"") != std::string::npos) out += "---\n" + d + "\n";
    }
  }
  return out;
}

GetRequest getOf(const char* kind, GetFormat format = GetFormat::kTable) {
  GetRequest r;
  r.kind = *resolveKind(kind);
  r.format = format;
  return r;
}

TEST(RenderGet, KubectlTablesPerKind) {
  auto svc = renderGet(getOf("svc"), bookinfoObjects("Service"));
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  expectGolden("bookinfo.get_services.txt", *svc);
  auto pods = renderGet(getOf("po"), bookinfoObjects("Pod"));
  ASSERT_TRUE(pods.ok()) << pods.status().message();
  expectGolden("bookinfo.get_pods.txt", *pods);
  GetRequest all = getOf("vs");
  all.all_namespaces = true;
  auto vs = renderGet(all, bookinfoObjects("VirtualService"));
  ASSERT_TRUE(vs.ok()) << vs.status().message();
  EXPECT_EQ(*vs,
            "NAMESPACE   NAME      GATEWAYS   HOSTS\n"
            "default     reviews              [\"reviews\"]\n");
  auto dr = renderGet(getOf("dr"), bookinfoObjects("DestinationRule"));
  ASSERT_TRUE(dr.ok());
  EXPECT_EQ(*dr,
            "NAME      HOST\n"
            "reviews   reviews\n");
  auto se = renderGet(getOf("se"), R"(---
kind: ServiceEntry
metadata: {name: billing, namespace: prod}
spec: {hosts: [billing.internal], location: MESH_EXTERNAL, resolution: STATIC}
---
kind: ServiceEntry
metadata: {name: api, namespace: prod}
spec: {hosts: [api.example.com, api2.example.com], resolution: NONE}
)");
  ASSERT_TRUE(se.ok());
  EXPECT_EQ(*se,
            "NAME      HOSTS                                    LOCATION        RESOLUTION\n"
            "api       [\"api.example.com\",\"api2.example.com\"]                   NONE\n"
            "billing   [\"billing.internal\"]                     MESH_EXTERNAL   STATIC\n");
  auto none = renderGet(getOf("se"), "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST(RenderGet, PodReadinessFromStatusesConditionsOrPhase) {
  auto pods = renderGet(getOf("pods"), R"(---
kind: Pod
metadata: {name: a}
spec: {containers: [{name: app}, {name: side}]}
status:
  phase: Running
  containerStatuses: [{name: app, ready: true, restartCount: 2}, {name: side, ready: false, restartCount: 1}]
---
kind: Pod
metadata: {name: b}
spec: {containers: [{name: app}]}
status: {phase: Running, conditions: [{type: Ready, status: "False"}]}
---
kind: Pod
metadata: {name: c}
spec: {containers: [{name: app}]}
status: {phase: Pending}
)");
  ASSERT_TRUE(pods.ok());
  EXPECT_EQ(*pods,
            "NAME   READY   STATUS    RESTARTS\n"
            "a      1/2     Running   3\n"
            "b      0/1     Running   0\n"
            "c      0/1     Pending   0\n");
}

TEST(RenderGet, YamlAndJsonOfOneObjectOrAList) {
  GetRequest one = getOf("vs", GetFormat::kYaml);
  one.name = "reviews";
  auto yaml = renderGet(one, bookinfoObjects("VirtualService"));
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(yaml->rfind("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n", 0), 0u)
      << *yaml;
  EXPECT_NE(yaml->find("      weight: 80\n"), std::string::npos) << *yaml;

  auto list = renderGet(getOf("dr", GetFormat::kJson), bookinfoObjects("DestinationRule"));
  ASSERT_TRUE(list.ok());
  expectGolden("bookinfo.get_dr.json", *list);
}

}  // namespace
}  // namespace remora::ctl
