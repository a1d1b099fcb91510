#include "lab/lab.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "init/command.h"
#include "lab/http_client.h"
#include "lab/pilot_config.h"
#include "lab/system.h"

namespace remora::lab {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kEtcNetns = "/etc/netns";
constexpr const char* kBridge = "br0";
// The proxy drains for --drain-time-s 1 on SIGTERM; give it a little more.
constexpr milliseconds kStopGrace{3000};
constexpr const char* kSystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// /etc/netns/<ns>/ files the lab writes; `ip netns exec` bind-mounts each over /etc/<file>.
const char* const kEtcFiles[] = {"hosts", "resolv.conf"};

bool isExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string dirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

StatusOr<std::string> findTool(const std::string& name, const std::string& self_dir,
                               const std::string& bin_dir) {
  if (!bin_dir.empty()) {
    std::string p = bin_dir + "/" + name;
    if (isExecutableFile(p)) return p;
    return notFoundError("--bin-dir: no executable " + p);
  }
  for (const std::string& p : {self_dir + "/" + name, self_dir + "/../" + name + "/" + name}) {
    if (isExecutableFile(p)) return std::filesystem::path(p).lexically_normal().string();
  }
  auto found = init::findProgram(name);
  if (found.ok()) return found;
  return notFoundError(name + " not found beside " + self_dir + " nor in PATH; give --bin-dir");
}

std::string joinArgs(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" \t'\"*$\\") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return out;
}

// "pod reviews: proxy", or "pilot" for the lab's own processes (no pod).
std::string processName(const ProcessRecord& p) {
  return p.pod.empty() ? p.role : "pod " + p.pod + ": " + p.role;
}

// Writes the journal after each change, so that a crash leaves a record.
class Journal {
 public:
  Journal(std::string dir, LabState state) : dir_(std::move(dir)), state_(std::move(state)) {}
  LabState& state() { return state_; }
  const std::string& dir() const { return dir_; }
  Status save() { return writeFileAtomic(dir_ + "/" + kStateFile, renderState(state_), 0644); }

 private:
  std::string dir_;
  LabState state_;
};

// /etc/netns and the state root are shared by every lab on the machine, so
// no one lab's journal can own them. A lab that creates one leaves a marker
// in the state root; whichever lab goes down last, and finds the directory
// empty, removes it and the marker.
constexpr const char* kMadeStateRoot = ".made-by-remora-lab";
constexpr const char* kMadeEtcNetns = ".made-etc-netns-by-remora-lab";

bool pathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Creates `dir` if missing, leaving `marker` (outside `dir`) behind when it
// did. The marker comes first, so a crash cannot leave a made directory
// without one.
Status makeSharedDir(const std::string& dir, const std::string& marker) {
  if (pathExists(dir)) return Status::okStatus();
  REMORA_RETURN_IF_ERROR(writeFileAtomic(marker, "", 0644));
  return makeDir(dir, 0755);
}

void removeSharedDirs(const std::string& state_root) {
  std::string etc_marker = state_root + "/" + kMadeEtcNetns;
  if (pathExists(etc_marker) && (rmdir(kEtcNetns) == 0 || errno == ENOENT)) {
    unlink(etc_marker.c_str());
  }
  std::string root_marker = state_root + "/" + kMadeStateRoot;
  if (!pathExists(root_marker)) return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_root, ec)) {
    if (entry.path().filename() != kMadeStateRoot) return;  // another lab, or its marker
  }
  unlink(root_marker.c_str());
  rmdir(state_root.c_str());
}

// Removes what `state` records, newest first; see labDown.
Status teardown(Journal& journal, const std::function<void(const std::string&)>& say) {
  LabState& s = journal.state();
  init::SubprocessRunner runner;
  std::vector<std::string> errors;
  for (auto it = s.processes.rbegin(); it != s.processes.rend(); ++it) {
    ProcessId id{it->pid, it->start_time};
    std::string what = it->pod.empty() ? it->role : it->role + " of pod " + it->pod;
    if (isRunning(id)) say("stopping " + what + " (pid " + std::to_string(it->pid) + ")");
    stopProcess(id, kStopGrace);
    if (isRunning(id))
      errors.push_back("pid " + std::to_string(it->pid) + " (" + what + ") does not stop");
  }
  for (auto it = s.netns.rbegin(); it != s.netns.rend(); ++it) {
    if (!netnsExists(*it)) continue;
    // A pod goes with everything in it, such as a shell from `lab exec`.
    auto pids = runToolOutput(runner, {"ip", "netns", "pids", *it});
    if (pids.ok()) {
      std::istringstream in(*pids);
      pid_t pid;
      while (in >> pid) {
        ProcessId id{pid, processStartTime(pid)};
        say("stopping pid " + std::to_string(pid) + ", still inside namespace " + *it);
        stopProcess(id, milliseconds(1000));
      }
    }
    say("deleting network namespace " + *it);
    if (Status st = runTool(runner, {"ip", "netns", "del", *it}); !st.ok()) {
      errors.push_back(st.message());
    }
  }
  for (auto it = s.etc_dirs.rbegin(); it != s.etc_dirs.rend(); ++it) {
    for (const char* f : kEtcFiles) {
      std::string path = *it + "/" + f;
      if (unlink(path.c_str()) != 0 && errno != ENOENT)
        errors.push_back(errnoError("remove " + path, errno).message());
    }
    if (rmdir(it->c_str()) != 0 && errno != ENOENT) {
      errors.push_back(
          errnoError("remove " + *it + " (it holds files the lab did not write)", errno).message());
    }
  }
  if (errors.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(journal.dir(), ec);
    if (ec) return internalError("remove " + journal.dir() + ": " + ec.message());
    removeSharedDirs(dirOf(journal.dir()));
    return Status::okStatus();
  }
  std::string all;
  for (const auto& e : errors)
    all += "\n  " + e;
  return internalError("could not remove everything (state kept in " + journal.dir() + "):" + all);
}

class Upper {
 public:
  Upper(const LabSpec& spec, const LabOptions& options, Journal& journal)
      : spec_(spec), options_(options), journal_(journal) {}

  Status run() {
    LabState& s = journal_.state();
    REMORA_RETURN_IF_ERROR(makeHub());
    for (size_t i = 0; i < spec_.pods.size(); ++i) {
      REMORA_RETURN_IF_ERROR(makePodNetwork(spec_.pods[i], i));
      REMORA_RETURN_IF_ERROR(writeEtcFiles(spec_.pods[i]));
    }
    // The control plane first: proxies that bootstrap from pilot only
    // become ready once it serves them.
    if (s.pilot) REMORA_RETURN_IF_ERROR(startPilot(*s.pilot));
    // Proxies first, all together; the apps start once every proxy is ready
    // (Istio's holdApplicationUntilProxyStarts), so their first calls are
    // already intercepted and answered.
    std::vector<size_t> proxies;
    for (const Pod& pod : spec_.pods) {
      if (!pod.sidecar) continue;
      REMORA_RETURN_IF_ERROR(applyRules(pod));
      REMORA_RETURN_IF_ERROR(startProxy(pod));
      proxies.push_back(s.processes.size() - 1);
    }
    for (size_t index : proxies)
      REMORA_RETURN_IF_ERROR(waitProxyReady(s.processes[index]));
    std::vector<std::pair<const Pod*, const Container*>> started;
    bool portless = false;
    for (const Pod& pod : spec_.pods) {
      for (const Container& c : pod.containers) {
        REMORA_RETURN_IF_ERROR(startContainer(pod, c));
        started.emplace_back(&pod, &c);
        portless = portless || c.ports.empty();
      }
    }
    size_t first_container = s.processes.size() - started.size();
    for (size_t i = 0; i < started.size(); ++i) {
      REMORA_RETURN_IF_ERROR(
          waitPorts(*started[i].first, *started[i].second, s.processes[first_container + i]));
    }
    // A command that fails at once (a typo, a missing file) must fail `up`,
    // even in a container with no port to wait for.
    if (portless) std::this_thread::sleep_for(milliseconds(300));
    for (const ProcessRecord& p : s.processes)
      REMORA_RETURN_IF_ERROR(checkAlive(p));
    s.phase = "up";
    return journal_.save();
  }

 private:
  void say(const std::string& m) {
    if (options_.progress) options_.progress(m);
  }

  Status checkInterrupted() {
    if (options_.interrupted != nullptr && options_.interrupted->load()) {
      return Status(StatusCode::kUnavailable, "interrupted");
    }
    return Status::okStatus();
  }

  Status ip(const std::vector<std::string>& args) {
    REMORA_RETURN_IF_ERROR(checkInterrupted());
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runTool(runner_, argv);
  }

  Status addNetns(const std::string& name) {
    journal_.state().netns.push_back(name);
    REMORA_RETURN_IF_ERROR(journal_.save());
    return ip({"netns", "add", name});
  }

  Status makeHub() {
    const std::string& hub = options_.name;
    say("creating namespace " + hub + " with bridge " + kBridge);
    REMORA_RETURN_IF_ERROR(addNetns(hub));
    Status bridge = ip({"-n", hub, "link", "add", kBridge, "type", "bridge"});
    if (!bridge.ok()) {
      return failedPreconditionError(
          "cannot create a Linux bridge (is the kernel's bridge module "
          "available?): " +
          bridge.message());
    }
    if (journal_.state().pilot) {
      // Pilot listens here; pods reach it over the bridge, on their own subnet.
      std::string cidr = hubAddress(spec_.network).toString() + "/" +
                         std::to_string(spec_.network.pod_cidr.prefixLen());
      say("giving bridge " + std::string(kBridge) + " the hub's address " + cidr);
      REMORA_RETURN_IF_ERROR(ip({"-n", hub, "addr", "add", cidr, "dev", kBridge}));
      // Connections to the hub's own address (tools asking pilot from the
      // hub) go over loopback.
      REMORA_RETURN_IF_ERROR(ip({"-n", hub, "link", "set", "lo", "up"}));
    }
    return ip({"-n", hub, "link", "set", kBridge, "up"});
  }

  Status makePodNetwork(const Pod& pod, size_t index) {
    std::string ns = podNetns(options_.name, pod.name);
    std::string veth = "veth" + std::to_string(index);
    say("creating pod " + pod.name + ": namespace " + ns + ", " + pod.ip.toString() + " on " +
        kBridge + " via " + veth);
    REMORA_RETURN_IF_ERROR(addNetns(ns));
    REMORA_RETURN_IF_ERROR(ip({"-n", ns, "link", "set", "lo", "up"}));
    // The host never sees these links: the outer end is created in the hub,
    // the inner end straight in the pod.
    REMORA_RETURN_IF_ERROR(ip({"-n", options_.name, "link", "add", veth, "type", "veth", "peer",
                               "name", "eth0", "netns", ns}));
    REMORA_RETURN_IF_ERROR(ip({"-n", options_.name, "link", "set", veth, "master", kBridge, "up"}));
    std::string cidr = pod.ip.toString() + "/" + std::to_string(spec_.network.pod_cidr.prefixLen());
    REMORA_RETURN_IF_ERROR(ip({"-n", ns, "addr", "add", cidr, "dev", "eth0"}));
    REMORA_RETURN_IF_ERROR(ip({"-n", ns, "link", "set", "eth0", "up"}));
    // Cluster IPs answer nowhere; this route only lets connect() start, so
    // that the pod's OUTPUT rules can hand the connection to its proxy.
    return ip({"-n", ns, "route", "add", spec_.network.service_cidr.toString(), "dev", "eth0"});
  }

  Status writeEtcFiles(const Pod& pod) {
    LabState& s = journal_.state();
    std::string dir = std::string(kEtcNetns) + "/" + podNetns(options_.name, pod.name);
    s.etc_dirs.push_back(dir);
    REMORA_RETURN_IF_ERROR(journal_.save());
    std::string marker = dirOf(journal_.dir()) + "/" + kMadeEtcNetns;
    Status made = makeSharedDir(kEtcNetns, marker);
    if (made.ok()) made = makeDir(dir, 0755);
    if (!made.ok()) {
      // Another lab going down may have removed an empty /etc/netns just now.
      made = makeSharedDir(kEtcNetns, marker);
      if (made.ok()) made = makeDir(dir, 0755);
    }
    REMORA_RETURN_IF_ERROR(made);
    REMORA_RETURN_IF_ERROR(writeFileAtomic(dir + "/hosts", hostsFileFor(spec_, pod), 0644));
    return writeFileAtomic(dir + "/resolv.conf", resolvConfFor(pod), 0644);
  }

  Status applyRules(const Pod& pod) {
    std::string ns = podNetns(options_.name, pod.name);
    std::vector<std::string> argv = {"netns", "exec", ns, options_.tools.init};
    argv.insert(argv.end(), pod.init_args.begin(), pod.init_args.end());
    say("capture rules in " + pod.name + ": remora-init " + joinArgs(pod.init_args));
    return ip(argv);
  }

  std::string podDir(const Pod& pod) { return journal_.dir() + "/" + pod.name; }

  // The namespace a recorded process runs in: its pod's, or the hub for
  // the lab's own (pilot).
  std::string netnsOf(const ProcessRecord& p) const {
    return p.pod.empty() ? options_.name : podNetns(options_.name, p.pod);
  }

  // Starts argv in `pod`'s namespace, or in the hub when `pod` is null.
  Status spawn(const Pod* pod, const std::string& role, std::vector<std::string> argv,
               std::vector<std::string> env, const std::string& log, const std::string& cwd) {
    REMORA_RETURN_IF_ERROR(checkInterrupted());
    std::string pod_name = pod ? pod->name : "";
    argv.insert(argv.begin(),
                {"ip", "netns", "exec", pod ? podNetns(options_.name, pod_name) : options_.name});
    auto id = spawnDaemon({argv, env, log, cwd});
    if (!id.ok()) return id.status().withPrefix(pod ? "pod " + pod_name + ": " + role : role);
    journal_.state().processes.push_back({pod_name, role, id->pid, id->start_time, log});
    return journal_.save();
  }

  Status startPilot(const PilotRecord& pilot) {
    std::string dir = pilotDir(options_);
    REMORA_RETURN_IF_ERROR(makeDir(dir, 0755));
    REMORA_RETURN_IF_ERROR(makeDir(pilot.config_dir, 0755));
    for (const ConfigFile& f : pilotConfigFiles(spec_)) {
      REMORA_RETURN_IF_ERROR(writeFileAtomic(pilot.config_dir + "/" + f.name, f.text, 0644));
    }
    say("starting remora-pilot in namespace " + pilot.netns + ": xDS on " + pilot.grpc_address +
        ", HTTP on " + pilot.http_address + ", config in " + pilot.config_dir);
    REMORA_RETURN_IF_ERROR(
        spawn(nullptr, "pilot",
              {options_.tools.pilot, "--config-dir", pilot.config_dir, "--grpc-addr",
               pilot.grpc_address, "--http-addr", pilot.http_address, "-l", "info"},
              {std::string("PATH=") + kSystemPath, "HOME=/"}, dir + "/pilot.log", "/"));
    const ProcessRecord& p = journal_.state().processes.back();
    auto http = network::SocketAddress::parse(pilot.http_address);
    if (!http.ok()) return http.status();
    say("waiting for pilot: GET " + pilot.http_address + "/ready");
    REMORA_RETURN_IF_ERROR(waitUntil(p, "no 200 from GET " + pilot.http_address + "/ready", [&] {
      auto r = httpGet(*http, "pilot", "/ready", {}, milliseconds(500));
      return r.ok() && r->status == 200;
    }));
    return checkPilotAccepts(p, *http);
  }

  // Pilot refuses a bad object and serves the rest; in a lab file that is a
  // mistake to report now, not a route missing later.
  Status checkPilotAccepts(const ProcessRecord& p, const network::SocketAddress& http) {
    StatusOr<HttpResponse> page = internalError("not asked");
    REMORA_RETURN_IF_ERROR(inNetns(netnsOf(p), [&] {
      page = httpGet(http, "pilot", "/debug/configz", {}, milliseconds(5000));
    }));
    if (!page.ok()) return page.status().withPrefix("pilot: GET /debug/configz");
    std::string refused;
    try {
      YAML::Node configz = YAML::Load(page->body);
      for (const auto& r : configz["refused"]) {
        std::string text = r["text"].as<std::string>("");
        std::string file = r["file"].as<std::string>("");
        std::string from;
        for (const IstioObject& o : spec_.istio_objects) {
          if (file == istioObjectFileName(o)) {
            from = " (" + spec_.source + ":" + std::to_string(o.line) + ")";
          }
        }
        refused += "\n  " + text + from;
      }
    } catch (const YAML::Exception& e) {
      return internalError("pilot: GET /debug/configz: unreadable answer: " +
                           std::string(e.what()));
    }
    if (refused.empty()) return Status::okStatus();
    return invalidArgumentError("pilot refuses objects of " + spec_.source +
                                " (they are in its config folder " +
                                journal_.state().pilot->config_dir + "):" + refused);
  }

  Status startProxy(const Pod& pod) {
    REMORA_RETURN_IF_ERROR(makeDir(podDir(pod), 0755));
    // Readable by UID 1337, which the proxy runs as.
    std::string bootstrap = podDir(pod) + "/bootstrap.yaml";
    REMORA_RETURN_IF_ERROR(writeFileAtomic(bootstrap, pod.bootstrap, 0644));
    say("starting remora-proxy in " + pod.name + " as UID/GID " + std::to_string(kProxyUid) +
        " (admin " + pod.admin.toString() + ")");
    std::string id = std::to_string(kProxyUid);
    return spawn(&pod, "proxy",
                 {"setpriv", "--reuid", id, "--regid", id, "--clear-groups", options_.tools.proxy,
                  "-c", bootstrap, "--concurrency", "2", "--drain-time-s", "1", "-l", "info"},
                 {std::string("PATH=") + kSystemPath, "HOME=/"}, podDir(pod) + "/proxy.log", "/");
  }

  Status startContainer(const Pod& pod, const Container& c) {
    REMORA_RETURN_IF_ERROR(makeDir(podDir(pod), 0755));
    std::string path;
    for (const auto& d : options_.tools.path_dirs)
      path += d + ":";
    std::vector<std::string> env = {"PATH=" + path + kSystemPath, "HOME=/root",
                                    "HOSTNAME=" + pod.name,       "POD_NAME=" + pod.name,
                                    "POD_NAMESPACE=" + pod.ns,    "POD_IP=" + pod.ip.toString()};
    for (const EnvVar& v : c.env) {
      std::string prefix = v.name + "=";
      env.erase(std::remove_if(env.begin(), env.end(),
                               [&](const std::string& e) { return e.rfind(prefix, 0) == 0; }),
                env.end());
      env.push_back(prefix + v.value);
    }
    say("starting container " + c.name + " in " + pod.name + ": " + joinArgs(c.argv));
    std::error_code ec;
    std::string file = std::filesystem::absolute(journal_.state().file, ec).string();
    std::string cwd = ec || journal_.state().file.empty() ? "/" : dirOf(file);
    return spawn(&pod, "container " + c.name, c.argv, env, podDir(pod) + "/" + c.name + ".log",
                 cwd);
  }

  Status exitedError(const ProcessRecord& p) {
    int status = exitStatusOf({p.pid, p.start_time});
    std::string how = status >= 0 ? " exited with status " + std::to_string(status) : " exited";
    return unavailableError(processName(p) + how + "; the end of " + p.log + ":\n" +
                            tailOfFile(p.log, 15));
  }

  Status checkAlive(const ProcessRecord& p) {
    if (isRunning({p.pid, p.start_time})) return Status::okStatus();
    return exitedError(p);
  }

  // Polls `ready` inside the pod until it holds, the process dies or time is up.
  Status waitUntil(const ProcessRecord& p, const std::string& what,
                   const std::function<bool()>& ready) {
    std::string ns = netnsOf(p);
    auto deadline = Clock::now() + options_.ready_timeout;
    for (;;) {
      REMORA_RETURN_IF_ERROR(checkInterrupted());
      REMORA_RETURN_IF_ERROR(checkAlive(p));
      bool ok = false;
      REMORA_RETURN_IF_ERROR(inNetns(ns, [&] { ok = ready(); }));
      if (ok) return Status::okStatus();
      if (Clock::now() > deadline) {
        return Status(StatusCode::kDeadlineExceeded,
                      processName(p) + ": " + what + " within " +
                          std::to_string(options_.ready_timeout.count()) + " ms; the end of " +
                          p.log + ":\n" + tailOfFile(p.log, 15));
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  Status waitProxyReady(const ProcessRecord& p) {
    const Pod& pod = podNamed(p.pod);
    say("waiting for " + pod.name + "'s proxy: GET " + pod.admin.toString() + "/ready");
    return waitUntil(p, "no 200 from GET " + pod.admin.toString() + "/ready", [&] {
      auto r = httpGet(pod.admin, "admin", "/ready", {}, milliseconds(500));
      return r.ok() && r->status == 200;
    });
  }

  Status waitPorts(const Pod& pod, const Container& c, const ProcessRecord& p) {
    for (uint16_t port : c.ports) {
      say("waiting for " + pod.name + "/" + c.name +
          " to accept on 127.0.0.1:" + std::to_string(port));
      network::SocketAddress local{*network::IpAddress::parse("127.0.0.1"), port};
      REMORA_RETURN_IF_ERROR(waitUntil(p, "nothing accepts on 127.0.0.1:" + std::to_string(port),
                                       [&] { return canConnect(local, milliseconds(200)); }));
    }
    return Status::okStatus();
  }

  const Pod& podNamed(const std::string& name) {
    return *std::find_if(spec_.pods.begin(), spec_.pods.end(),
                         [&](const Pod& p) { return p.name == name; });
  }

  const LabSpec& spec_;
  const LabOptions& options_;
  Journal& journal_;
  init::SubprocessRunner runner_;
};

Status checkProgram(const std::string& name, const std::string& why) {
  if (init::findProgram(name).ok()) return Status::okStatus();
  return failedPreconditionError(name + " not found: the lab needs it " + why);
}

// Everything that can be checked without changing the machine.
Status preflight(const LabSpec& spec, const LabOptions& options) {
  if (geteuid() != 0) {
    return permissionDeniedError(
        "lab up needs root: it creates network namespaces, links and iptables rules");
  }
  REMORA_RETURN_IF_ERROR(checkProgram("ip", "to create namespaces and links (iproute2)"));
  bool sidecars =
      std::any_of(spec.pods.begin(), spec.pods.end(), [](const Pod& p) { return p.sidecar; });
  if (sidecars) {
    REMORA_RETURN_IF_ERROR(checkProgram("setpriv", "to run the proxy as UID 1337 (util-linux)"));
    REMORA_RETURN_IF_ERROR(checkProgram("iptables-restore", "for remora-init (iptables)"));
    for (const std::string* tool : {&options.tools.init, &options.tools.proxy}) {
      if (tool->empty() || !isExecutableFile(*tool)) {
        return failedPreconditionError("cannot run \"" + *tool + "\"; give --bin-dir");
      }
    }
  }
  if (needsPilot(spec) && (options.tools.pilot.empty() || !isExecutableFile(options.tools.pilot))) {
    return failedPreconditionError(
        "the lab runs remora-pilot (a pod has a sidecar without a bootstrap annotation) but " +
        (options.tools.pilot.empty() ? std::string("it was not found")
                                     : "cannot run \"" + options.tools.pilot + "\"") +
        "; build it or give --bin-dir");
  }
  std::vector<std::string> names = {options.name};
  for (const Pod& p : spec.pods)
    names.push_back(podNetns(options.name, p.name));
  for (const auto& n : names) {
    if (netnsExists(n)) {
      return alreadyExistsError("network namespace " + n +
                                " already exists and is not this lab's; remove it or choose "
                                "another --name");
    }
  }
  for (size_t i = 1; i < names.size(); ++i) {
    struct stat st;
    std::string dir = std::string(kEtcNetns) + "/" + names[i];
    if (stat(dir.c_str(), &st) == 0) {
      return alreadyExistsError(dir + " already exists and is not this lab's");
    }
  }
  return Status::okStatus();
}

// AlreadyExists if the lab's state directory exists.
Status refuseIfUp(const std::string& dir, const std::string& name) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return Status::okStatus();
  auto text = readTextFile(dir + "/" + kStateFile);
  auto state = text.ok() ? parseState(*text) : StatusOr<LabState>(text.status());
  if (state.ok() && state->phase == "up") {
    return alreadyExistsError("lab " + name + " is already up (from " + state->file +
                              "); run `remoractl lab down` first");
  }
  return alreadyExistsError("lab " + name + " is half up (state in " + dir +
                            ", left by an interrupted `lab up`); run `remoractl lab down` to "
                            "clean it up");
}

}  // namespace

StatusOr<Tools> findTools(const std::string& self_exe, const std::string& bin_dir) {
  std::string self_dir = dirOf(self_exe);
  Tools t;
  REMORA_ASSIGN_OR_RETURN(t.init, findTool("remora-init", self_dir, bin_dir));
  REMORA_ASSIGN_OR_RETURN(t.proxy, findTool("remora-proxy", self_dir, bin_dir));
  for (const std::string& tool : {t.init, t.proxy}) {
    std::string d = dirOf(tool);
    if (std::find(t.path_dirs.begin(), t.path_dirs.end(), d) == t.path_dirs.end())
      t.path_dirs.push_back(d);
  }
  auto app = findTool("remora-app", self_dir, bin_dir);
  if (app.ok()) t.path_dirs.insert(t.path_dirs.begin(), dirOf(*app));
  auto pilot = findTool("remora-pilot", self_dir, bin_dir);
  if (pilot.ok()) t.pilot = *pilot;
  return t;
}

std::string podNetns(const std::string& lab, const std::string& pod) {
  return lab + "-" + pod;
}

std::string stateDir(const LabOptions& options) {
  return options.state_root + "/" + options.name;
}

std::string pilotDir(const LabOptions& options) {
  return stateDir(options) + "/_pilot";
}

Status labUp(const LabSpec& spec, const std::string& file, const LabOptions& options) {
  REMORA_RETURN_IF_ERROR(validateDnsLabel("lab name", options.name));
  std::string dir = stateDir(options);
  // Said first: a lab that is up also owns the namespaces preflight checks.
  REMORA_RETURN_IF_ERROR(refuseIfUp(dir, options.name));
  REMORA_RETURN_IF_ERROR(preflight(spec, options));
  bool made_root = false;
  REMORA_RETURN_IF_ERROR(makeDir(options.state_root, 0755, &made_root));
  if (made_root) {
    REMORA_RETURN_IF_ERROR(writeFileAtomic(options.state_root + "/" + kMadeStateRoot, "", 0644));
  }
  // mkdir is the lock: two `up`s of one lab cannot both get past it.
  if (mkdir(dir.c_str(), 0755) != 0) {
    if (errno != EEXIST) return errnoError("mkdir " + dir, errno);
    return refuseIfUp(dir, options.name);
  }
  chmod(dir.c_str(), 0755);
  LabState initial;
  initial.name = options.name;
  initial.file = file;
  initial.phase = "creating";
  initial.pod_cidr = spec.network.pod_cidr.toString();
  initial.service_cidr = spec.network.service_cidr.toString();
  for (const Pod& p : spec.pods) {
    initial.pods.push_back({p.name, p.ns, podNetns(options.name, p.name), p.ip.toString(),
                            p.sidecar, p.sidecar ? p.admin.toString() : ""});
  }
  for (const Service& s : spec.services) {
    ServiceRecord r{s.name, s.ns, s.cluster_ip.toString(), {}};
    for (const auto& port : s.ports)
      r.ports.push_back(port.port);
    initial.services.push_back(std::move(r));
  }
  if (needsPilot(spec)) {
    std::string hub = hubAddress(spec.network).toString();
    initial.pilot =
        PilotRecord{options.name, hub + ":" + std::to_string(kPilotGrpcPort),
                    hub + ":" + std::to_string(kPilotHttpPort), pilotDir(options) + "/config"};
  }
  Journal journal(dir, std::move(initial));
  Status up = journal.save();
  if (up.ok()) up = Upper(spec, options, journal).run();
  if (up.ok()) return up;
  if (options.progress) options.progress("lab up failed; removing what it made");
  Status undone = teardown(
      journal, options.progress ? options.progress : [](const std::string&) {});
  if (!undone.ok())
    return Status(up.code(), up.message() + "\nand cleaning up: " + undone.message());
  return up;
}

Status labDown(const LabOptions& options) {
  REMORA_RETURN_IF_ERROR(validateDnsLabel("lab name", options.name));
  std::string dir = stateDir(options);
  auto text = readTextFile(dir + "/" + kStateFile);
  if (!text.ok()) {
    struct stat st;
    if (stat(dir.c_str(), &st) == 0) {
      // up died between mkdir and its first journal write: nothing else exists.
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      return Status::okStatus();
    }
    return notFoundError("lab " + options.name + " is not up (no " + dir + ")");
  }
  REMORA_ASSIGN_OR_RETURN(LabState state, parseState(*text));
  if (geteuid() != 0) return permissionDeniedError("lab down needs root");
  Journal journal(dir, std::move(state));
  return teardown(
      journal, options.progress ? options.progress : [](const std::string&) {});
}

StatusOr<LabState> readLabState(const LabOptions& options) {
  REMORA_RETURN_IF_ERROR(validateDnsLabel("lab name", options.name));
  std::string dir = stateDir(options);
  auto text = readTextFile(dir + "/" + kStateFile);
  if (!text.ok()) return notFoundError("lab " + options.name + " is not up (no " + dir + ")");
  return parseState(*text);
}

std::string podEtcFile(const std::string& netns, const std::string& file) {
  return std::string(kEtcNetns) + "/" + netns + "/" + file;
}

StatusOr<LabStatus> labStatus(const LabOptions& options) {
  REMORA_ASSIGN_OR_RETURN(LabState state, readLabState(options));
  LabStatus out{state.name,         state.file, state.phase,    state.pod_cidr,
                state.service_cidr, {},         state.services, std::nullopt};
  for (const PodRecord& pod : state.pods) {
    PodStatus ps{pod, "running", {}};
    bool proxy_running = false;
    for (const ProcessRecord& p : state.processes) {
      if (p.pod != pod.name) continue;
      bool running = isRunning({p.pid, p.start_time});
      ps.processes.push_back({p.role, p.pid, running});
      if (p.role == "proxy") proxy_running = running;
      if (!running && ps.health == "running") ps.health = p.role + " exited";
    }
    if (pod.sidecar && ps.health == "running") {
      if (!proxy_running) {
        ps.health = "proxy not started";
      } else {
        auto admin = network::SocketAddress::parse(pod.admin);
        bool ready = false;
        if (admin.ok() && netnsExists(pod.netns)) {
          (void)inNetns(pod.netns, [&] {
            auto r = httpGet(*admin, "admin", "/ready", {}, milliseconds(1000));
            ready = r.ok() && r->status == 200;
          });
        }
        ps.health = ready ? "ready" : "proxy not ready";
      }
    }
    if (state.phase != "up" && ps.processes.empty()) ps.health = "not started";
    out.pods.push_back(std::move(ps));
  }
  if (state.pilot) {
    PilotStatus ps{*state.pilot, {"pilot", 0, false}, "not started"};
    for (const ProcessRecord& p : state.processes) {
      if (!p.pod.empty() || p.role != "pilot") continue;
      ps.process = {p.role, p.pid, isRunning({p.pid, p.start_time})};
      ps.health = ps.process.running ? "not ready" : "exited";
    }
    auto http = network::SocketAddress::parse(state.pilot->http_address);
    if (ps.process.running && http.ok() && netnsExists(state.pilot->netns)) {
      (void)inNetns(state.pilot->netns, [&] {
        auto r = httpGet(*http, "pilot", "/ready", {}, milliseconds(1000));
        if (r.ok() && r->status == 200) ps.health = "ready";
      });
    }
    out.pilot = std::move(ps);
  }
  return out;
}

std::string formatStatus(const LabStatus& st) {
  std::ostringstream out;
  out << "lab " << st.name << " (" << st.file << "): " << st.phase << "; pods " << st.pod_cidr
      << ", services " << st.service_cidr << "\n";
  auto pad = [](std::string s, size_t w) {
    return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
  };
  size_t w = 12;
  for (const auto& p : st.pods)
    w = std::max(w, p.pod.name.size() + 2);
  for (const auto& s : st.services)
    w = std::max(w, s.name.size() + 2);
  out << pad("POD", w) << pad("NAMESPACE", 12) << pad("IP", 16) << pad("SIDECAR", 9)
      << pad("HEALTH", 20) << "PROCESSES\n";
  for (const auto& p : st.pods) {
    std::string procs;
    for (const auto& pr : p.processes) {
      std::string role = pr.role.rfind("container ", 0) == 0 ? pr.role.substr(10) : pr.role;
      procs += (procs.empty() ? "" : " ") + role + "=" + std::to_string(pr.pid) +
               (pr.running ? "" : "(exited)");
    }
    out << pad(p.pod.name, w) << pad(p.pod.ns, 12) << pad(p.pod.ip, 16)
        << pad(p.pod.sidecar ? "yes" : "no", 9) << pad(p.health, 20) << procs << "\n";
  }
  if (st.pilot) {
    const PilotStatus& p = *st.pilot;
    out << "\npilot: " << p.health;
    if (p.process.pid != 0) out << " (pid " << p.process.pid << ")";
    out << "; xDS " << p.pilot.grpc_address << ", HTTP " << p.pilot.http_address << " in namespace "
        << p.pilot.netns << "; config " << p.pilot.config_dir << "\n";
  }
  if (!st.services.empty()) {
    out << "\n" << pad("SERVICE", w) << pad("NAMESPACE", 12) << pad("CLUSTER-IP", 16) << "PORTS\n";
    for (const auto& s : st.services) {
      std::string ports;
      for (uint16_t p : s.ports)
        ports += (ports.empty() ? "" : ",") + std::to_string(p);
      out << pad(s.name, w) << pad(s.ns, 12) << pad(s.cluster_ip, 16) << ports << "\n";
    }
  }
  return out.str();
}

StatusOr<std::vector<std::string>> execCommand(const LabOptions& options, const std::string& pod,
                                               const std::vector<std::string>& command) {
  if (command.empty()) return invalidArgumentError("no command to run; write `exec POD -- CMD...`");
  REMORA_ASSIGN_OR_RETURN(LabState state, readLabState(options));
  std::string names;
  for (const PodRecord& p : state.pods) {
    if (p.name == pod) {
      if (!netnsExists(p.netns)) return notFoundError("pod " + pod + " has no namespace (yet)");
      // The pod's own variables, as `kubectl exec` gives the container's.
      std::vector<std::string> argv = {"ip",
                                       "netns",
                                       "exec",
                                       p.netns,
                                       "env",
                                       "--",
                                       "POD_NAME=" + p.name,
                                       "POD_NAMESPACE=" + p.ns,
                                       "POD_IP=" + p.ip};
      argv.insert(argv.end(), command.begin(), command.end());
      return argv;
    }
    names += (names.empty() ? "" : ", ") + p.name;
  }
  return notFoundError("lab " + options.name + " has no pod \"" + pod + "\" (pods: " + names + ")");
}

}  // namespace remora::lab
