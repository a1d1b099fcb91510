#include "e2e/lab_fixture.h"

#include <unistd.h>

#include <algorithm>

#include "lab/spec.h"
#include "lab/system.h"
#include "support/paths.h"
#include "support/process.h"

namespace remora::test {

using std::chrono::milliseconds;

void LabTest::SetUp() {
  // CI runs as root; without it there is nothing this test can show.
  ASSERT_EQ(geteuid(), 0u) << "the lab's end-to-end tests need root (exclude them with -LE root)";
  name_ = "e2e" + std::to_string(getpid());
  before_ = snapshot();
}

void LabTest::TearDown() {
  if (!up_) return;
  Status down = lab::labDown(options());
  EXPECT_TRUE(down.ok()) << down.message();
  MachineSnapshot after = snapshot();
  EXPECT_EQ(before_, after) << describeDifference(before_, after);
}

lab::LabOptions LabTest::options() const {
  lab::LabOptions o;
  o.name = name_;
  o.tools.init = binaryPath("remora-init");
  o.tools.proxy = binaryPath("remora-proxy");
  o.tools.pilot = binaryPath("remora-pilot");
  std::string app = binaryPath("remora-app");
  o.tools.path_dirs = {app.substr(0, app.rfind('/'))};
  o.ready_timeout = milliseconds(15000);
  return o;
}

std::string LabTest::labYaml(const std::string& extra) const {
  std::string examples = sourceDir() + "/examples/lab/";
  return R"(
apiVersion: v1
kind: Service
metadata: { name: productpage }
spec: { ports: [{ name: tcp-http, port: 9080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { ports: [{ name: tcp-http, port: 9080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  containers: [{ name: sleep, command: [sleep, infinity] }]
---
apiVersion: v1
kind: Pod
metadata:
  name: productpage
  labels: { app: productpage, version: v1 }
  annotations:
    sidecar.istio.io/inject: "true"
    remora.io/proxy-bootstrap: )" +
         examples + R"(productpage-proxy.yaml
    traffic.sidecar.istio.io/excludeInboundPorts: "9090"
    traffic.sidecar.istio.io/excludeOutboundPorts: "9090"
spec:
  containers:
  - name: app
    command: [remora-app, --port, "9080", --port, "9090", --port, "9091", --version, v1,
              --call, "http://reviews:9080/reviews/0"]
    ports: [{ containerPort: 9080 }, { containerPort: 9090 }]
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1
  labels: { app: reviews, version: v1 }
  annotations:
    sidecar.istio.io/inject: "true"
    remora.io/proxy-bootstrap: )" +
         examples + R"(reviews-proxy.yaml
    traffic.sidecar.istio.io/includeInboundPorts: "9080"
spec:
  containers:
  - name: app
    command: [remora-app, --port, "9080", --port, "9090", --version, v1]
    ports: [{ containerPort: 9080 }, { containerPort: 9090 }]
)" + extra;
}

Status LabTest::up(const std::string& yaml) {
  auto network = lab::parseNetwork(lab::kDefaultPodCidr, lab::kDefaultServiceCidr);
  if (!network.ok()) return network.status();
  auto spec = lab::parseLabSpec(yaml, "e2e.yaml", sourceDir(), *network);
  if (!spec.ok()) return spec.status();
  Status s = lab::labUp(*spec, "e2e.yaml", options());
  if (s.ok()) up_ = true;
  if (s.message().find("cannot create a Linux bridge") != std::string::npos) skip_ = true;
  return s;
}

void LabTest::upOrFail(const std::string& yaml) {
  Status s = up(yaml.empty() ? labYaml() : yaml);
  if (skip_)
    GTEST_SKIP() << "this kernel cannot create a Linux bridge (bridge module): " << s.message();
  ASSERT_TRUE(s.ok()) << s.message();
}

std::string LabTest::ip(const std::string& pod) const {
  auto st = lab::labStatus(options());
  if (!st.ok()) return "";
  for (const auto& p : st->pods) {
    if (p.pod.name == pod) return p.pod.ip;
  }
  return "";
}

StatusOr<lab::HttpResponse> LabTest::get(const std::string& from_pod, const std::string& to,
                                         const std::string& path) {
  StatusOr<lab::HttpResponse> result = internalError("not run");
  auto address = network::SocketAddress::parse(to);
  if (!address.ok()) return address.status();
  Status entered = lab::inNetns(
      netns(from_pod), [&] { result = lab::httpGet(*address, to, path, {}, milliseconds(5000)); });
  if (!entered.ok()) return entered;
  return result;
}

std::string LabTest::peerSeenBy(const std::string& from_pod, const std::string& to,
                                const std::string& path) {
  auto r = get(from_pod, to, path);
  if (!r.ok()) return "<error: " + r.status().message() + ">";
  if (jsonField(r->body, "path") != path) return "<wrong answer: " + r->body + ">";
  return jsonField(r->body, "peer");
}

int64_t LabTest::stat(const std::string& pod, const std::string& name) {
  int64_t v = -2;
  Status s = lab::inNetns(
      netns(pod), [&] { v = statValue(*network::SocketAddress::parse("127.0.0.1:15000"), name); });
  return s.ok() ? v : -2;
}

MachineSnapshot LabTest::snapshot() const {
  MachineSnapshot s = takeMachineSnapshot();
  // e2e12 must not claim e2e123's namespaces: the hub is the name itself,
  // pods are "<name>-<pod>".
  auto notMine = [&](const std::string& n) { return n != name_ && n.rfind(name_ + "-", 0) != 0; };
  s.netns.erase(std::remove_if(s.netns.begin(), s.netns.end(), notMine), s.netns.end());
  // Whether /etc/netns itself exists depends on the labs of other tests
  // running now; DownStopsEveryProcessAndRemovesEveryTrace checks it.
  s.etc_netns.erase(std::remove_if(s.etc_netns.begin(), s.etc_netns.end(), notMine),
                    s.etc_netns.end());
  return s;
}

std::string jsonField(const std::string& body, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  size_t at = body.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  if (body[at] == '"') {
    size_t end = body.find('"', at + 1);
    return body.substr(at + 1, end - at - 1);
  }
  size_t end = body.find_first_of(",}", at);
  return body.substr(at, end - at);
}

}  // namespace remora::test
