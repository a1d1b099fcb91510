#include "pilot/debug/configz.h"

#include <gtest/gtest.h>

#include "pilot/model/config_store.h"

namespace remora::pilot {
namespace {

TEST(PilotConfigz, ListsAcceptedRefusedAndWarnings) {
  ConfigSet set;
  addConfigText(
      "bookinfo.yaml",
      "apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {ports: [{name: http, port: "
      "9080}]}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: "
      "\"r\"}\n"
      "spec: {hosts: [ratings], http: [{route: [{destination: {host: ratings}, weight: 90}]}]}\n"
      "---\napiVersion: networking.istio.io/v1beta1\nkind: Sidecar\nmetadata: {name: s}\n",
      &set);
  finishConfigSet(&set);
  EXPECT_EQ(renderConfigz(*MeshSnapshot::build(std::move(set), 7)), R"json({
  "version": 7,
  "meshConfig": {
    "source": "defaults",
    "outboundTrafficPolicy": "ALLOW_ANY",
    "trustDomain": "cluster.local",
    "domainSuffix": "cluster.local",
    "rootNamespace": "istio-system",
    "connectTimeoutMs": 1000,
    "proxyListenPort": 15001,
    "proxyInboundListenPort": 0
  },
  "refused": [
    {
      "text": "bookinfo.yaml:9: document 1: VirtualService default/r: spec.http[0].route: weights sum to 90, want 100",
      "file": "bookinfo.yaml",
      "document": 1,
      "line": 9,
      "kind": "VirtualService",
      "object": "default/r",
      "field": "spec.http[0].route",
      "message": "weights sum to 90, want 100"
    }
  ],
  "warnings": [
    "bookinfo.yaml:11: document 2: ignoring unknown kind \"Sidecar\" (networking.istio.io/v1beta1)"
  ],
  "accepted": [
    {
      "kind": "Service",
      "namespace": "default",
      "name": "ratings",
      "file": "bookinfo.yaml",
      "document": 0,
      "line": 1
    }
  ]
}
)json");
}

TEST(PilotConfigz, EmptyListsStayLists) {
  std::string page = renderConfigz(*MeshSnapshot::build(ConfigSet{}));
  EXPECT_NE(page.find("\"refused\": []"), std::string::npos) << page;
  EXPECT_NE(page.find("\"warnings\": []"), std::string::npos) << page;
  EXPECT_NE(page.find("\"accepted\": []"), std::string::npos) << page;
}

TEST(PilotConfigz, EscapesText) {
  ConfigSet set;
  set.warnings.push_back("tab\there \"quoted\" back\\slash \x01");
  std::string page = renderConfigz(*MeshSnapshot::build(std::move(set)));
  EXPECT_NE(page.find(R"("tab\there \"quoted\" back\\slash \u0001")"), std::string::npos) << page;
}

}  // namespace
}  // namespace remora::pilot
