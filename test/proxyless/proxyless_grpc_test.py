"""Proxyless gRPC against remora-pilot, with Debian's python3-grpcio.

A real gRPC xDS client (GRPC_XDS_BOOTSTRAP naming pilot) calls
xds:///ratings.default.svc.cluster.local:9080. The backends are small gRPC
servers on loopback addresses (127.0.0.2, 127.0.0.3), each answering a
generic unary method with its name; pilot's config folder holds the Service,
the Pods (podIP = those addresses) and the Istio objects of the case.

    /usr/bin/python3 proxyless_grpc_test.py --pilot PATH --case CASE

Cases:
  plain     requests reach every backend (round robin over the EDS endpoints)
  weighted  a VirtualService 80/20 split by subset, measured over 1000 calls
  header    a header-matched route to a subset, the rest to another subset
            (with a timeout and retries); the DestinationRule asks for
            LEAST_REQUEST, which pilot must turn into a policy gRPC accepts
  update    a live change on an open channel: plain, then all traffic to v2

Every case also checks pilot's /debug/syncz: the client is seen as
proxyless and every type it subscribed is ACKed, none NACKed.

Exit status: 0 pass, 1 fail, 77 skip (python3-grpcio is not installed).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

try:
    import grpc
except ModuleNotFoundError as e:
    if e.name != "grpc":
        raise
    print("SKIP: python3-grpcio is not installed (apt-get install python3-grpcio)")
    sys.exit(77)

METHOD = "/remora.test.Echo/Name"
TARGET = "xds:///ratings.default.svc.cluster.local:9080"
CLIENT_NODE = "sidecar~127.0.0.1~client.default~default.svc.cluster.local"
CLIENT_PROXY_ID = "client.default"
# Pods in the config from the start.
BACKENDS = {"ratings-v1": ("127.0.0.2", "v1"), "ratings-v2": ("127.0.0.3", "v2")}
# A backend whose pod the update case adds later (an endpoint-only change).
LATE_BACKEND = ("ratings-v2-late", "127.0.0.4", "v2")
DEADLINE = 30.0  # seconds for anything that should take milliseconds


class Failure(Exception):
    pass


def free_port(addresses):
    """A TCP port free on every address (the pods share a target port)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = s.getsockname()[1]
        ok = True
        for a in addresses[1:]:
            with socket.socket() as s:
                try:
                    s.bind((a, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise Failure("no TCP port is free on all of %s" % addresses)


class Backend:
    def __init__(self, name, address, port):
        self.name = name
        self.server = grpc.server(
            __import__("concurrent.futures").futures.ThreadPoolExecutor(max_workers=4))

        def answer(request, context):
            return name.encode()

        handler = grpc.method_handlers_generic_handler(
            "remora.test.Echo",
            {"Name": grpc.unary_unary_rpc_method_handler(
                answer, request_deserializer=None, response_serializer=None)})
        self.server.add_generic_rpc_handlers((handler,))
        bound = self.server.add_insecure_port("%s:%d" % (address, port))
        if bound != port:
            raise Failure("backend %s cannot listen on %s:%d" % (name, address, port))
        self.server.start()

    def stop(self):
        self.server.stop(None)


SERVICE = """apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  clusterIP: 10.96.0.13
  ports:
  - {name: grpc, port: 9080, targetPort: %(port)d}
  selector: {app: ratings}
"""

POD = """---
apiVersion: v1
kind: Pod
metadata:
  name: %(name)s
  namespace: default
  labels: {app: ratings, version: %(version)s}
spec:
  containers:
  - name: ratings
    ports: [{containerPort: %(port)d}]
status:
  phase: Running
  podIP: %(ip)s
  conditions: [{type: Ready, status: "True"}]
"""

DESTINATION_RULE = """apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {simple: %(lb)s}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""

VS_WEIGHTED = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - {destination: {host: ratings, subset: v1}, weight: 80}
    - {destination: {host: ratings, subset: v2}, weight: 20}
"""

VS_HEADER = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match:
    - uri: {prefix: /remora.test.Other/}
    route:
    - destination: {host: ratings, subset: v2}
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: ratings, subset: v2}
  - route:
    - destination: {host: ratings, subset: v1}
    timeout: 5s
    retries: {attempts: 2, perTryTimeout: 1s}
"""

VS_ALL_V2 = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: ratings.default.svc.cluster.local, subset: v2}
"""


class Pilot:
    """remora-pilot on loopback ports chosen by the kernel, read from its log."""

    def __init__(self, binary, config_dir, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--config-dir", config_dir, "--grpc-addr", "127.0.0.1:0",
             "--http-addr", "127.0.0.1:0", "--debounce-after-ms", "20"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.grpc_port = self.http_port = None
        deadline = time.time() + DEADLINE
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("remora-pilot exited with %d:\n%s" % (self.proc.returncode,
                                                                    self.log_text()))
            m = re.search(r"ADS on \S+ \(port (\d+)\), HTTP on \S+ \(port (\d+)\)",
                          self.log_text())
            if m:
                self.grpc_port, self.http_port = int(m.group(1)), int(m.group(2))
                return
            time.sleep(0.05)
        raise Failure("remora-pilot did not start serving:\n" + self.log_text())

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path),
                                    timeout=10) as r:
            return r.read().decode()

    def version(self):
        m = re.search(r"^pilot_snapshot_version (\d+)$", self.get("/metrics"), re.M)
        if not m:
            raise Failure("/metrics has no pilot_snapshot_version")
        return int(m.group(1))

    def client_state(self):
        for p in json.loads(self.get("/debug/syncz"))["proxies"]:
            if p["proxy"] == CLIENT_PROXY_ID:
                return p
        return None

    def wait_synced(self, version, types=("cds", "eds", "lds", "rds")):
        """Until the gRPC client has ACKed every type it watches, those of
        `types` at `version` or later."""
        deadline = time.time() + DEADLINE
        state = None
        while time.time() < deadline:
            state = self.client_state()
            if state:
                for t, w in state["types"].items():
                    if w["nacks"]:
                        raise Failure("gRPC NACKed %s version %s: %s\npilot log:\n%s" % (
                            t, w["nackedVersion"], w["nackError"], self.log_text()))
                watched = [w for w in state["types"].values() if w["subscribed"]]
                if len(watched) == 4 and all(
                        w["status"] == "SYNCED" and (t not in types or
                                                     int(w["ackedVersion"]) >= version)
                        for t, w in state["types"].items()):
                    return state
            time.sleep(0.05)
        raise Failure("the gRPC client did not ACK version %d of every type; syncz: %s\n"
                      "pilot log:\n%s" % (version, json.dumps(state, indent=1), self.log_text()))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Mesh:
    def __init__(self, pilot_binary, workdir):
        self.dir = os.path.join(workdir, "config")
        os.makedirs(self.dir)
        self.port = free_port([ip for ip, _ in BACKENDS.values()] + [LATE_BACKEND[1]])
        self.backends = [Backend(n, ip, self.port) for n, (ip, _) in sorted(BACKENDS.items())]
        self.backends.append(Backend(LATE_BACKEND[0], LATE_BACKEND[1], self.port))
        self.write("ratings.yaml", self.ratings())
        self.pilot = Pilot(pilot_binary, self.dir, os.path.join(workdir, "pilot.log"))
        bootstrap = os.path.join(workdir, "bootstrap.json")
        with open(bootstrap, "w") as f:
            json.dump({
                "xds_servers": [{
                    "server_uri": "127.0.0.1:%d" % self.pilot.grpc_port,
                    "channel_creds": [{"type": "insecure"}],
                    "server_features": ["xds_v3"],
                }],
                "node": {"id": CLIENT_NODE, "locality": {}},
            }, f)
        # Read by gRPC when it creates its xDS client, at the first xds:/// channel.
        os.environ["GRPC_XDS_BOOTSTRAP"] = bootstrap
        self.channel = None

    def ratings(self, late_pod=False):
        """The Service and its pods."""
        pods = sorted((n, ip, v) for n, (ip, v) in BACKENDS.items())
        if late_pod:
            pods.append(LATE_BACKEND)
        return SERVICE % {"port": self.port} + "".join(
            POD % {"name": n, "version": v, "ip": ip, "port": self.port} for n, ip, v in pods)

    def write(self, name, text):
        """Atomically, as an editor or `kubectl apply` would replace a file."""
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.dir, name))

    def load(self, name, text):
        """Writes a file and waits until pilot has a snapshot with it (no
        client needed). Pilot loads a lone change at once, so two writes in
        a row may become two snapshots: a client connecting in between would
        see the first alone."""
        before = self.pilot.version()
        self.write(name, text)
        deadline = time.time() + DEADLINE
        while self.pilot.version() <= before:
            if time.time() > deadline:
                raise Failure("pilot did not take %s:\n%s" % (name, self.pilot.log_text()))
            time.sleep(0.02)

    def apply(self, name, text, types=("cds", "eds", "lds", "rds")):
        """Writes a file and waits until the client has ACKed the result
        (for `types`: the types the change is pushed as)."""
        self.load(name, text)
        return self.pilot.wait_synced(self.pilot.version(), types)

    def connect(self):
        self.channel = grpc.insecure_channel(TARGET)
        ready = grpc.channel_ready_future(self.channel)
        deadline = time.time() + DEADLINE
        while True:
            try:
                ready.result(timeout=0.2)
                break
            except grpc.FutureTimeoutError:
                # A refused resource keeps the channel from ever getting
                # ready: say which, at once.
                state = self.pilot.client_state()
                for t, w in (state or {}).get("types", {}).items():
                    if w["nacks"]:
                        raise Failure("gRPC NACKed %s version %s: %s" % (
                            t, w["nackedVersion"], w["nackError"]))
                if time.time() > deadline:
                    raise Failure("the xDS channel to %s never became ready; pilot's view of "
                                  "the client: %s\npilot log:\n%s" % (
                                      TARGET, json.dumps(state, indent=1),
                                      self.pilot.log_text()))
        return self.pilot.wait_synced(self.pilot.version())

    def call(self, n, metadata=None):
        """n calls; how many each backend answered."""
        stub = self.channel.unary_unary(METHOD)
        counts = {}
        for _ in range(n):
            try:
                name = stub(b"", timeout=10, metadata=metadata).decode()
            except grpc.RpcError as e:
                raise Failure("call to %s failed: %s %s\npilot log:\n%s" % (
                    TARGET, e.code(), e.details(), self.pilot.log_text()))
            counts[name] = counts.get(name, 0) + 1
        return counts

    def close(self):
        if self.channel:
            self.channel.close()
        self.pilot.stop()
        for b in self.backends:
            b.stop()


def expect(cond, message):
    if not cond:
        raise Failure(message)


def check_proxyless(state):
    expect(state["proxyless"], "pilot did not see the gRPC client as proxyless: %s" % state)
    expect(state["types"]["lds"]["names"] == 1,
           "the client should watch one listener by name: %s" % state["types"]["lds"])


def case_plain(mesh):
    check_proxyless(mesh.connect())
    counts = mesh.call(100)
    print("plain: %s" % counts)
    expect(set(counts) == set(BACKENDS), "not every backend answered: %s" % counts)
    # Round robin over two endpoints: an even split, give or take the start.
    for name, n in counts.items():
        expect(45 <= n <= 55, "round robin is uneven: %s" % counts)


def case_weighted(mesh):
    mesh.load("destination-rule.yaml", DESTINATION_RULE % {"lb": "ROUND_ROBIN"})
    mesh.load("virtual-service.yaml", VS_WEIGHTED)
    mesh.connect()
    total = 1000
    counts = mesh.call(total)
    print("weighted 80/20: %s" % counts)
    v1 = counts.get("ratings-v1", 0)
    # Random picks by weight: the standard deviation is sqrt(1000*0.8*0.2) = 12.6
    # calls; the tolerance is 4 of them (5%).
    expect(v1 + counts.get("ratings-v2", 0) == total, "unexpected answers: %s" % counts)
    expect(abs(v1 / total - 0.8) <= 0.05, "v1 got %.1f%%, want 80%% +- 5: %s" % (
        100.0 * v1 / total, counts))


def case_header(mesh):
    mesh.load("destination-rule.yaml", DESTINATION_RULE % {"lb": "LEAST_REQUEST"})
    mesh.load("virtual-service.yaml", VS_HEADER)
    mesh.connect()
    jason = mesh.call(50, metadata=(("end-user", "jason"),))
    other = mesh.call(50, metadata=(("end-user", "mary"),))
    none = mesh.call(50)
    print("header: jason %s, mary %s, no header %s" % (jason, other, none))
    expect(jason == {"ratings-v2": 50}, "end-user: jason must go to v2 only: %s" % jason)
    expect(other == {"ratings-v1": 50}, "end-user: mary must go to v1 only: %s" % other)
    expect(none == {"ratings-v1": 50}, "no end-user must go to v1 only: %s" % none)


def case_update(mesh):
    mesh.connect()
    before = mesh.call(20)
    expect(set(before) == set(BACKENDS), "not every backend answered: %s" % before)
    # Two changes, each waited for: pilot loads a lone change at once, so the
    # two writes may become two snapshots, and the rule's alone must not be
    # mistaken for the route's.
    mesh.apply("destination-rule.yaml", DESTINATION_RULE % {"lb": "ROUND_ROBIN"})
    mesh.apply("virtual-service.yaml", VS_ALL_V2)
    after = mesh.call(50)
    print("update: before %s, after %s" % (before, after))
    expect(after == {"ratings-v2": 50}, "after the change all calls must reach v2: %s" % after)
    # An endpoint-only change: a second v2 pod appears. Pilot pushes it as EDS
    # only, and the client spreads calls over both v2 pods.
    cds_responses = mesh.pilot.client_state()["types"]["cds"]["responses"]
    mesh.apply("ratings.yaml", mesh.ratings(late_pod=True), types=("eds",))
    # gRPC's round_robin picks only connections that are ready: calls made
    # while the new pod's is still connecting all go to the old one. Count
    # only once the new pod has answered.
    deadline = time.time() + DEADLINE
    while LATE_BACKEND[0] not in mesh.call(1):
        expect(time.time() < deadline, "the added pod never answered")
    grown = mesh.call(40)
    print("update: after the pod was added %s" % grown)
    expect(grown == {"ratings-v2": 20, LATE_BACKEND[0]: 20},
           "after the pod was added, both v2 pods must share the calls: %s" % grown)
    expect(mesh.pilot.client_state()["types"]["cds"]["responses"] == cds_responses,
           "an endpoint-only change must not push CDS")


CASES = {"plain": case_plain, "weighted": case_weighted, "header": case_header,
         "update": case_update}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pilot", required=True, help="the remora-pilot binary")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="remora-proxyless-%s-" % args.case)
    mesh = None
    try:
        mesh = Mesh(args.pilot, workdir)
        CASES[args.case](mesh)
        print("PASS %s" % args.case)
        return 0
    except Failure as e:
        print("FAIL %s: %s" % (args.case, e))
        return 1
    finally:
        if mesh:
            mesh.close()
        if args.keep:
            print("work folder: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
