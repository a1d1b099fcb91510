#include "lab/lab_command.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "init/command.h"
#include "lab/lab.h"
#include "lab/spec.h"

namespace remora::lab {
namespace {

std::atomic<bool> g_interrupted{false};

void onStopSignal(int) {
  g_interrupted = true;
}

struct LabFlags {
  std::string name = kDefaultLabName;
  std::string state_root = kDefaultStateRoot;
  std::string file;
  std::string pod_cidr = kDefaultPodCidr;
  std::string service_cidr = kDefaultServiceCidr;
  std::string bin_dir;
  double timeout_s = 15;
  bool quiet = false;
  std::string pod;
  std::vector<std::string> command;
};

std::string selfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

LabOptions optionsFrom(const LabFlags& f) {
  LabOptions o;
  o.name = f.name;
  o.state_root = f.state_root;
  return o;
}

int fail(const std::string& what, const Status& s) {
  ctl::printError(what + ": " + s.message());
  return s.code() == StatusCode::kInvalidArgument ? ctl::kExitUsage : ctl::kExitFailed;
}

int runUp(const LabFlags& f) {
  auto network = parseNetwork(f.pod_cidr, f.service_cidr);
  if (!network.ok()) return fail("lab up", network.status());
  auto spec = loadLabSpec(f.file, *network);
  if (!spec.ok()) return fail("lab up", spec.status());
  LabOptions o = optionsFrom(f);
  auto tools = findTools(selfExe(), f.bin_dir);
  if (!tools.ok()) return fail("lab up", tools.status());
  o.tools = *tools;
  o.ready_timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
  o.interrupted = &g_interrupted;
  if (!f.quiet) {
    o.progress = [](const std::string& line) { std::fprintf(stderr, "lab: %s\n", line.c_str()); };
  }
  // Ctrl-C or SIGTERM half-way: `up` notices at its next step and undoes
  // what it made, instead of dying with namespaces left behind.
  struct sigaction sa = {};
  sa.sa_handler = onStopSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    sigaction(sig, &sa, nullptr);
  Status up = labUp(*spec, f.file, o);
  if (!up.ok()) return fail("lab up", up);
  auto st = labStatus(o);
  if (st.ok()) std::fputs(formatStatus(*st).c_str(), stdout);
  return ctl::kExitOk;
}

int runDown(const LabFlags& f) {
  LabOptions o = optionsFrom(f);
  if (!f.quiet) {
    o.progress = [](const std::string& line) { std::fprintf(stderr, "lab: %s\n", line.c_str()); };
  }
  Status s = labDown(o);
  if (!s.ok()) return fail("lab down", s);
  return ctl::kExitOk;
}

int runStatus(const LabFlags& f) {
  auto st = labStatus(optionsFrom(f));
  if (!st.ok()) return fail("lab status", st.status());
  std::fputs(formatStatus(*st).c_str(), stdout);
  bool healthy = st->phase == "up";  // a half-up lab is not healthy, however its pods are
  for (const auto& p : st->pods)
    healthy = healthy && (p.health == "ready" || p.health == "running");
  if (st->pilot) healthy = healthy && st->pilot->health == "ready";
  return healthy ? ctl::kExitOk : ctl::kExitFailed;
}

int runExec(const LabFlags& f) {
  auto argv = execCommand(optionsFrom(f), f.pod, f.command);
  if (!argv.ok()) return fail("lab exec", argv.status());
  auto ip = init::findProgram("ip");
  if (!ip.ok()) return fail("lab exec", ip.status());
  std::vector<char*> args;
  for (auto& a : *argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  std::fflush(stdout);
  execv(ip->c_str(), args.data());
  ctl::printError("lab exec: cannot run ip: " + std::string(strerror(errno)));
  return 127;
}

}  // namespace

void addLabCommand(ctl::CommandLine& cli) {
  auto flags = std::make_shared<LabFlags>();
  CLI::App* lab = cli.root().add_subcommand(
      "lab",
      "Pods on one machine: network namespaces on a bridge, each with remora-init's "
      "rules, a remora-proxy sidecar and its containers (docs/lab.md)");
  lab->require_subcommand(1);
  lab->add_option("--name", flags->name,
                  "Lab name: the namespace holding the bridge; pods are <name>-<pod>")
      ->capture_default_str();
  lab->add_option("--state-dir", flags->state_root, "Where labs record what they made")
      ->capture_default_str();

  CLI::App* up = lab->add_subcommand("up", "Create the pods and services of a lab file");
  up->add_option("file", flags->file, "Kubernetes-style YAML: v1 Pods and Services")->required();
  up->add_option("--pod-cidr", flags->pod_cidr, "Private IPv4 range for pod IPs")
      ->capture_default_str();
  up->add_option("--service-cidr", flags->service_cidr,
                 "Private IPv4 range for cluster IPs (virtual: only the proxies answer them)")
      ->capture_default_str();
  up->add_option("--bin-dir", flags->bin_dir,
                 "Where remora-init, remora-proxy, remora-pilot and remora-app are (default: "
                 "beside remoractl, then PATH)");
  up->add_option("--timeout", flags->timeout_s, "Seconds to wait for each proxy and port")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  up->add_flag("-q,--quiet", flags->quiet, "Print no progress");
  up->fallthrough();  // --name and --state-dir may follow the subcommand
  up->callback([&cli, flags] { cli.setAction([flags] { return runUp(*flags); }); });

  CLI::App* down = lab->add_subcommand("down", "Stop and remove everything `lab up` made");
  down->add_flag("-q,--quiet", flags->quiet, "Print no progress");
  down->fallthrough();  // --name and --state-dir may follow the subcommand
  down->callback([&cli, flags] { cli.setAction([flags] { return runDown(*flags); }); });

  CLI::App* status = lab->add_subcommand(
      "status",
      "List pods, IPs, processes and health (exit 1 if a pod is unhealthy or the lab half up)");
  status->fallthrough();  // --name and --state-dir may follow the subcommand
  status->callback([&cli, flags] { cli.setAction([flags] { return runStatus(*flags); }); });

  CLI::App* exec = lab->add_subcommand("exec", "Run a command inside a pod: exec POD -- CMD...");
  exec->add_option("pod", flags->pod, "Pod name")->required();
  exec->add_option("command", flags->command, "Command and its arguments, after --")->required();
  exec->fallthrough();  // --name and --state-dir may follow the subcommand
  exec->callback([&cli, flags] { cli.setAction([flags] { return runExec(*flags); }); });
}

}  // namespace remora::lab
