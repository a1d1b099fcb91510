// How fast remora-pilot brings many proxies to a new config over real ADS
// streams (docs/performance.md, "pilot ADS convergence").
//
//   ads_convergence_bench --pilot PATH [--proxies 50] [--reps 5]
//       [--services 1000] [--rules 200] [--namespaces 10]
//       [--debounce-after-ms 100] [--push-workers 2] [--work DIR] [--keep]
//
// It writes the mesh of pilot_bench (bench/mesh.h) into a config folder,
// starts remora-pilot on it (a child process, loopback ports), and connects
// --proxies ADS clients: the proxy's own xds::AdsClient, all driven by one
// event::Dispatcher thread, each with the node id of a pod of the mesh (pods
// spread over every namespace). Each client subscribes as Envoy does (CDS
// and LDS wildcard, EDS for the EDS clusters of its CDS, RDS for the route
// configs its listeners name) and ACKs every response after decoding what
// it needs. Then, --reps times each:
//   full: a VirtualService edit (a DestinationRule + VirtualService file of
//         one service, its split weights changed, written as editors do:
//         temp file + rename) -> every proxy has ACKed CDS, EDS, LDS and
//         RDS of the new version;
//   eds:  a pod added (a new file) or removed again -> every proxy has ACKed
//         EDS of the new version; checks that no other type was pushed.
// Times run from just before the rename (or unlink) to the last ACK, as
// the clients saw it (the ACK handed to their gRPC stream) and as pilot saw
// it (/debug/syncz ackedAt, millisecond resolution). So they include
// reading the folder, building (or, for endpoint-only changes, patching) the
// snapshot, translating, serializing, gRPC, and the clients decoding. Each
// change comes 300 ms after the previous one settled, so pilot's leading-edge
// debounce loads it at once: --debounce-after-ms (default 100 ms) adds to
// these times only for changes that follow another within that window.
// Also pilot's CPU per change (utime + stime of the process), its RSS, and
// the clients' CPU. Prints medians and ranges.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/blocking_http.h"
#include "common/logging.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "event/dispatcher.h"
#include "pilot/bench/mesh.h"
#include "xds/ads_client.h"
#include "xds/resource_types.h"

extern char** environ;

namespace remora::pilot::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;
namespace fs = std::filesystem;

constexpr size_t kCds = 0, kEds = 1, kLds = 2, kRds = 3;
const std::string_view kTypeUrls[] = {xds::kClusterType, xds::kClusterLoadAssignmentType,
                                      xds::kListenerType, xds::kRouteConfigurationType};
const char* const kTypeNames[] = {"cds", "eds", "lds", "rds"};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "ads_convergence_bench: %s\n", message.c_str());
  std::exit(1);
}

struct Options {
  std::string pilot;
  int proxies = 50;
  int reps = 5;
  MeshShape shape;
  int debounce_after_ms = 100;
  int push_workers = 2;
  std::string work;
  bool keep = false;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// As an editor saves: a temp file renamed over the target (one inotify
// event for the folder's .yaml files).
void writeAtomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) die("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

// remora-pilot as a child process, its log in a file.
class PilotProcess {
 public:
  PilotProcess(const Options& o, const std::string& config_dir, const std::string& log_path)
      : log_path_(log_path) {
    std::vector<std::string> args = {o.pilot,
                                     "--config-dir",
                                     config_dir,
                                     "--grpc-addr",
                                     "127.0.0.1:0",
                                     "--http-addr",
                                     "127.0.0.1:0",
                                     "--debounce-after-ms",
                                     std::to_string(o.debounce_after_ms),
                                     "--push-workers",
                                     std::to_string(o.push_workers)};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, o.pilot.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) die("cannot start " + o.pilot + ": " + std::strerror(rc));
    std::regex ports(R"(ADS on \S+ \(port (\d+)\), HTTP on \S+ \(port (\d+)\))");
    auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        die("remora-pilot exited before serving; its log:\n" + readFile(log_path_));
      }
      std::smatch m;
      std::string log = readFile(log_path_);
      if (std::regex_search(log, m, ports)) {
        grpc_port_ = std::stoi(m[1]);
        http_port_ = static_cast<uint16_t>(std::stoi(m[2]));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    die("remora-pilot did not serve within 120 s; its log:\n" + readFile(log_path_));
  }
  ~PilotProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  int grpcPort() const { return grpc_port_; }
  // utime + stime in milliseconds.
  double cpuMs() const {
    std::string stat = readFile("/proc/" + std::to_string(pid_) + "/stat");
    size_t close = stat.rfind(')');
    std::istringstream in(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  // VmRSS or VmHWM in MiB.
  double memoryMiB(const std::string& key) const {
    std::istringstream in(readFile("/proc/" + std::to_string(pid_) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
    }
    return 0;
  }
  std::string get(const std::string& path) const {
    auto reply = blockingHttpRequest("127.0.0.1", http_port_, "GET", "127.0.0.1", path, {}, "",
                                     std::chrono::seconds(30));
    if (!reply.ok() || reply->status != 200) die("GET " + path + " from pilot failed");
    return reply->body;
  }
  std::string log() const { return readFile(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  uint16_t http_port_ = 0;
};

// What the clients have ACKed, shared with the main thread.
struct Fleet {
  std::mutex mu;
  std::condition_variable cv;
  struct Proxy {
    std::array<uint64_t, 4> acked{};  // version by type
    std::array<Clock::time_point, 4> acked_at{};
    std::array<uint64_t, 4> responses{};
  };
  std::vector<Proxy> proxies;

  // Waits until `done` holds for every proxy; false after `timeout`.
  bool waitAll(const std::function<bool(const Proxy&)>& done, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout,
                       [&] { return std::all_of(proxies.begin(), proxies.end(), done); });
  }
};

std::vector<std::string> edsClusterNames(const std::vector<google::protobuf::Any>& resources) {
  std::vector<std::string> out;
  envoy::config::cluster::v3::Cluster c;
  for (const auto& any : resources) {
    if (!any.UnpackTo(&c)) continue;
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS) out.push_back(c.name());
  }
  return out;
}

std::vector<std::string> routeConfigNames(const std::vector<google::protobuf::Any>& resources) {
  using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  std::vector<std::string> out;
  envoy::config::listener::v3::Listener l;
  HttpConnectionManager hcm;
  auto scan = [&](const envoy::config::listener::v3::FilterChain& chain) {
    for (const auto& f : chain.filters()) {
      if (f.typed_config().Is<HttpConnectionManager>() && f.typed_config().UnpackTo(&hcm) &&
          hcm.has_rds()) {
        out.push_back(hcm.rds().route_config_name());
      }
    }
  };
  for (const auto& any : resources) {
    if (!any.UnpackTo(&l)) continue;
    for (const auto& chain : l.filter_chains())
      scan(chain);
    if (l.has_default_filter_chain()) scan(l.default_filter_chain());
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string summary(const std::vector<double>& v) {
  if (v.empty()) return "-";
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.1f [%.1f-%.1f]", median(v),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  return buf;
}

// The latest ackedAt (ms since the epoch) pilot reports for `types` of the
// bench's proxies in /debug/syncz: when pilot received the last ACK.
double lastAckOnPilot(const std::string& syncz, const std::vector<size_t>& types) {
  double latest = 0;
  for (size_t t : types) {
    std::regex re(
        std::string("\"") + kTypeNames[t] +
        R"(\"\s*:\s*\{[^}]*?\"ackedAt\"\s*:\s*\"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z\")");
    for (auto it = std::sregex_iterator(syncz.begin(), syncz.end(), re);
         it != std::sregex_iterator(); ++it) {
      std::tm tm{};
      tm.tm_year = std::stoi((*it)[1]) - 1900;
      tm.tm_mon = std::stoi((*it)[2]) - 1;
      tm.tm_mday = std::stoi((*it)[3]);
      tm.tm_hour = std::stoi((*it)[4]);
      tm.tm_min = std::stoi((*it)[5]);
      tm.tm_sec = std::stoi((*it)[6]);
      double ms = static_cast<double>(timegm(&tm)) * 1000.0 + std::stod((*it)[7]);
      latest = std::max(latest, ms);
    }
  }
  return latest;
}

double wallMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double threadCpuMs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

int run(const Options& o) {
  fs::path work = o.work.empty()
                      ? fs::temp_directory_path() / ("remora-ads-bench-" + std::to_string(getpid()))
                      : fs::path(o.work);
  fs::path config = work / "config";
  fs::remove_all(config);
  fs::create_directories(config);
  MeshText text = meshText(o.shape);
  writeAtomically(config / "services.yaml", text.services);
  writeAtomically(config / "pods.yaml", text.pods);
  writeAtomically(config / "rules.yaml", text.rules);
  // The edited rules belong to a service without rules of its own.
  const int edited = o.shape.rules;
  if (edited >= o.shape.services || edited % 5 == 4) die("--rules leaves no HTTP service to edit");
  writeAtomically(config / "edit.yaml", splitRules(edited, o.shape, 80));

  std::printf("mesh: %d services, %d pods, %d+1 VirtualServices, %d namespaces; %d proxies\n",
              o.shape.services, o.shape.services * o.shape.pods_per_service, o.shape.rules,
              o.shape.namespaces, o.proxies);
  auto started = Clock::now();
  PilotProcess pilot(o, config.string(), (work / "pilot.log").string());
  std::printf("pilot serving after %.0f ms (first load), RSS %.1f MiB\n",
              Ms(Clock::now() - started).count(), pilot.memoryMiB("VmRSS"));

  // Proxies: pods spread over the mesh (and so over every namespace).
  std::vector<PodRef> pods = meshPods(o.shape);
  std::vector<PodRef> chosen;
  for (int i = 0; i < o.proxies; ++i) {
    int service = (i * (o.shape.services / o.proxies) + i % o.shape.namespaces) % o.shape.services;
    chosen.push_back(pods[static_cast<size_t>(service * o.shape.pods_per_service +
                                              i % o.shape.pods_per_service)]);
  }

  auto dispatcher = event::Dispatcher::create("clients");
  if (!dispatcher.ok()) die("dispatcher: " + dispatcher.status().message());
  std::unique_ptr<event::Dispatcher> loop = std::move(*dispatcher);
  clockid_t loop_clock{};
  std::promise<clockid_t> loop_clock_promise;
  std::thread loop_thread([&] {
    clockid_t c;
    pthread_getcpuclockid(pthread_self(), &c);
    loop_clock_promise.set_value(c);
    loop->run();
  });
  loop_clock = loop_clock_promise.get_future().get();
  auto onLoop = [&](std::function<void()> fn) {
    std::promise<void> done;
    loop->post([&] {
      fn();
      done.set_value();
    });
    done.get_future().get();
  };

  Fleet fleet;
  fleet.proxies.resize(chosen.size());
  std::vector<std::unique_ptr<xds::AdsClient>> clients(chosen.size());
  auto connect_start = Clock::now();
  onLoop([&] {
    for (size_t i = 0; i < chosen.size(); ++i) {
      xds::AdsClient::Options opts;
      opts.target = "127.0.0.1:" + std::to_string(pilot.grpcPort());
      opts.node.set_id(chosen[i].nodeId());
      opts.initial_backoff = std::chrono::milliseconds(100);
      auto apply = [&, i](const std::string& type_url, const std::string& version,
                          const std::vector<google::protobuf::Any>& resources) -> Status {
        size_t t = 0;
        while (t < 4 && kTypeUrls[t] != type_url)
          ++t;
        if (t == 4) return invalidArgumentError("unexpected type " + type_url);
        if (t == kCds)
          clients[i]->subscribe(std::string(kTypeUrls[kEds]), edsClusterNames(resources));
        if (t == kLds) {
          clients[i]->subscribe(std::string(kTypeUrls[kRds]), routeConfigNames(resources));
        }
        uint64_t v = std::stoull(version);
        // The ACK goes out when apply returns; record after that.
        loop->post([&fleet, i, t, v] {
          std::lock_guard<std::mutex> lock(fleet.mu);
          auto& p = fleet.proxies[i];
          p.acked[t] = v;
          p.acked_at[t] = Clock::now();
          ++p.responses[t];
          fleet.cv.notify_all();
        });
        return Status();
      };
      clients[i] = std::make_unique<xds::AdsClient>(*loop, opts, apply, [](bool) {});
      clients[i]->subscribe(std::string(kTypeUrls[kCds]), {}, true);
      clients[i]->subscribe(std::string(kTypeUrls[kLds]), {}, true);
      clients[i]->start();
    }
  });
  auto allAcked = [](const std::vector<size_t>& types, uint64_t after) {
    return [types, after](const Fleet::Proxy& p) {
      return std::all_of(types.begin(), types.end(), [&](size_t t) { return p.acked[t] > after; });
    };
  };
  const std::vector<size_t> all_types = {kCds, kEds, kLds, kRds};
  if (!fleet.waitAll(allAcked(all_types, 0), std::chrono::seconds(300))) {
    die("the proxies did not all get their first config within 300 s; pilot's log:\n" +
        pilot.log());
  }
  uint64_t version = 0;
  {
    std::lock_guard<std::mutex> lock(fleet.mu);
    for (const auto& p : fleet.proxies)
      version = std::max(version, *std::max_element(p.acked.begin(), p.acked.end()));
  }
  std::printf(
      "%d proxies connected and ACKed their first full config in %.0f ms; pilot RSS "
      "%.1f MiB\n",
      o.proxies, Ms(Clock::now() - connect_start).count(), pilot.memoryMiB("VmRSS"));

  struct Series {
    std::vector<double> client_ms, pilot_ms, first_ms, cpu_ms;
    // From pilot's log: rebuilding the snapshot, comparing it with the
    // previous one, and the push (published -> last response written).
    std::vector<double> build_ms, diff_ms, push_ms;
  };
  Series full, eds;
  double clients_cpu_full = 0, clients_cpu_eds = 0;
  PodRef extra = podOf(edited, 0, static_cast<int>(pods.size()) + 1, o.shape);
  extra.name = extra.service + "-v1-extra";
  bool extra_present = false;
  bool eds_only = true;

  // One change and its convergence; `types` must all move past `version`.
  auto measure = [&](const std::function<void()>& change, const std::vector<size_t>& types,
                     Series* series, double* clients_cpu) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the last one settle
    std::array<std::vector<uint64_t>, 4> responses_before;
    {
      std::lock_guard<std::mutex> lock(fleet.mu);
      for (size_t t = 0; t < 4; ++t) {
        for (const auto& p : fleet.proxies)
          responses_before[t].push_back(p.responses[t]);
      }
    }
    double cpu0 = pilot.cpuMs();
    double loop_cpu0 = threadCpuMs(loop_clock);
    double wall0 = wallMs();
    auto t0 = Clock::now();
    change();
    if (!fleet.waitAll(allAcked(types, version), std::chrono::seconds(120))) {
      die("the proxies did not converge within 120 s; pilot's log:\n" + pilot.log());
    }
    auto done = Clock::now();
    double cpu1 = pilot.cpuMs();
    *clients_cpu += threadCpuMs(loop_clock) - loop_cpu0;
    Clock::time_point first = done, last = t0;
    uint64_t next = version;
    {
      std::lock_guard<std::mutex> lock(fleet.mu);
      for (size_t i = 0; i < fleet.proxies.size(); ++i) {
        const auto& p = fleet.proxies[i];
        for (size_t t : types) {
          last = std::max(last, p.acked_at[t]);
          first = std::min(first, p.acked_at[t]);
          next = std::max(next, p.acked[t]);
        }
        for (size_t t = 0; t < 4; ++t) {
          bool pushed = p.responses[t] != responses_before[t][i];
          if (pushed && std::find(types.begin(), types.end(), t) == types.end()) eds_only = false;
        }
      }
    }
    (void)done;
    version = next;
    double on_pilot = lastAckOnPilot(pilot.get("/debug/syncz"), types) - wall0;
    series->client_ms.push_back(Ms(last - t0).count());
    series->first_ms.push_back(Ms(first - t0).count());
    series->pilot_ms.push_back(on_pilot);
    series->cpu_ms.push_back(cpu1 - cpu0);
    // The pilot log lines of this change's snapshot.
    std::string log = pilot.log();
    std::string v = std::to_string(version);
    std::smatch m;
    std::regex built("snapshot " + v + R"( built in ([0-9.]+) ms)");
    std::regex pushed("push " + v + R"( \([^;]*; diff ([0-9.]+) ms\):.* in ([0-9.]+) ms)");
    if (std::regex_search(log, m, built)) series->build_ms.push_back(std::stod(m[1]));
    if (std::regex_search(log, m, pushed)) {
      series->diff_ms.push_back(std::stod(m[1]));
      series->push_ms.push_back(std::stod(m[2]));
    }
  };

  for (int rep = 0; rep < o.reps; ++rep) {
    int weight = rep % 2 == 0 ? 70 : 80;
    measure([&] { writeAtomically(config / "edit.yaml", splitRules(edited, o.shape, weight)); },
            all_types, &full, &clients_cpu_full);
    measure(
        [&] {
          if (extra_present) {
            fs::remove(config / "pod-extra.yaml");
          } else {
            writeAtomically(config / "pod-extra.yaml", podYaml(extra, 1));
          }
          extra_present = !extra_present;
        },
        {kEds}, &eds, &clients_cpu_eds);
    std::printf("rep %d: full %.1f ms (pilot saw %.1f), eds %.1f ms (pilot saw %.1f)\n", rep + 1,
                full.client_ms.back(), full.pilot_ms.back(), eds.client_ms.back(),
                eds.pilot_ms.back());
  }
  std::printf("\n%-6s %-28s %-28s %-24s %-22s\n", "change", "last ACK ms (clients)",
              "last ACK ms (pilot syncz)", "first ACK ms", "pilot CPU ms");
  std::printf("%-6s %-28s %-28s %-24s %-22s\n", "full", summary(full.client_ms).c_str(),
              summary(full.pilot_ms).c_str(), summary(full.first_ms).c_str(),
              summary(full.cpu_ms).c_str());
  std::printf("%-6s %-28s %-28s %-24s %-22s\n", "eds", summary(eds.client_ms).c_str(),
              summary(eds.pilot_ms).c_str(), summary(eds.first_ms).c_str(),
              summary(eds.cpu_ms).c_str());
  std::printf("\nfrom pilot's log: %-26s %-24s %-26s\n", "snapshot rebuild ms", "diff ms",
              "push ms (to last write)");
  std::printf("%-17s %-26s %-24s %-26s\n", "full", summary(full.build_ms).c_str(),
              summary(full.diff_ms).c_str(), summary(full.push_ms).c_str());
  std::printf("%-17s %-26s %-24s %-26s\n", "eds", summary(eds.build_ms).c_str(),
              summary(eds.diff_ms).c_str(), summary(eds.push_ms).c_str());
  std::printf("endpoint-only changes pushed EDS only: %s\n", eds_only ? "yes" : "NO");
  std::printf("clients' CPU per change (all %d, one thread): full %.1f ms, eds %.1f ms\n",
              o.proxies, clients_cpu_full / o.reps, clients_cpu_eds / o.reps);
  std::printf("pilot RSS %.1f MiB, peak %.1f MiB; debounce %d ms, %d push workers\n",
              pilot.memoryMiB("VmRSS"), pilot.memoryMiB("VmHWM"), o.debounce_after_ms,
              o.push_workers);
  onLoop([&] { clients.clear(); });
  loop->exit();
  loop_thread.join();
  if (!o.keep) {
    fs::remove_all(work);
  } else {
    std::printf("work folder (pilot.log, config/): %s\n", work.c_str());
  }
  return eds_only ? 0 : 1;
}

int intArg(const char* value, const char* flag, int min) {
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  if (*end != '\0' || v < min) {
    std::fprintf(stderr, "%s wants a number >= %d, got \"%s\"\n", flag, min, value);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace
}  // namespace remora::pilot::bench

int main(int argc, char** argv) {
  using namespace remora::pilot::bench;
  Options o;
  const char* usage =
      "usage: ads_convergence_bench --pilot PATH [--proxies N] [--reps N] [--services N] "
      "[--rules N] [--namespaces N] [--debounce-after-ms MS] [--push-workers N] [--work DIR] "
      "[--keep]\n";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--keep") {
      o.keep = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fputs(usage, stderr);
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--pilot") {
      o.pilot = value;
    } else if (flag == "--work") {
      o.work = value;
    } else if (flag == "--proxies") {
      o.proxies = intArg(value, argv[i - 1], 1);
    } else if (flag == "--reps") {
      o.reps = intArg(value, argv[i - 1], 1);
    } else if (flag == "--services") {
      o.shape.services = intArg(value, argv[i - 1], 2);
    } else if (flag == "--rules") {
      o.shape.rules = intArg(value, argv[i - 1], 0);
    } else if (flag == "--namespaces") {
      o.shape.namespaces = intArg(value, argv[i - 1], 1);
    } else if (flag == "--debounce-after-ms") {
      o.debounce_after_ms = intArg(value, argv[i - 1], 0);
    } else if (flag == "--push-workers") {
      o.push_workers = intArg(value, argv[i - 1], 1);
    } else {
      std::fprintf(stderr, "unknown flag %s\n%s", flag.c_str(), usage);
      return 2;
    }
  }
  if (o.pilot.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  (void)remora::setLogLevel("warning");
  return run(o);
}
