// How long translation takes for a large mesh, and how it scales.
//
//   pilot_bench [--services N] [--pods-per-service K] [--rules R] [--namespaces M] [--reps N]
//               [--scaling] [--breakdown] [--profile-change N] [--profile-cold N]
//
// Builds a synthetic mesh as YAML text (default: 1000 services, 3 pods each,
// 200 VirtualServices and 200 DestinationRules, 10 namespaces), loads it the
// way pilot loads a folder, then times, in milliseconds of this thread's CPU:
//   - load: YAML parse + validation + MeshSnapshot::build
//   - cold: LDS, RDS, CDS and EDS for one proxy from a fresh ConfigGenerator
//     (nothing cached: the first proxy after pilot starts, which also builds
//     the outbound config its whole namespace shares)
//   - warm: the same for a second proxy of that namespace
//   - after VS / after pod: the same first proxy right after one
//     VirtualService edit (an 80/20 split becomes 70/30) / one pod added to a
//     service, from a ConfigGenerator built with the one that served the
//     snapshot before (it had served that proxy and one more of its
//     namespace); includes building the generator, not the snapshot
//   - all: a fresh ConfigGenerator producing all four types for every pod
//     (what a full push to the whole mesh computes)
// and prints the median of --reps runs. --scaling repeats the timings for
// 1/8, 1/4, 1/2 and all of the services (pods and rules scaled alike) to show
// how the cost grows. --breakdown prints, per "after" run, the generator's
// construction and each type's CPU ms and how many resource groups were
// reused or built; --profile-change N only repeats the "after pod" case N
// times, and --profile-cold N the cold case N times (printing the median of
// each type), for a profiler. Peak RSS: run it under /usr/bin/time -v (docs/performance.md).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pilot/bench/mesh.h"
#include "pilot/model/config_store.h"
#include "pilot/model/snapshot.h"
#include "pilot/translate/cds.h"
#include "pilot/translate/eds.h"
#include "pilot/translate/generator.h"
#include "pilot/translate/lds.h"
#include "pilot/translate/rds.h"

namespace remora::pilot {
namespace {

using bench::MeshShape;

// `edit`: one more file, the object(s) a user changes.
ConfigSet makeMesh(const MeshShape& shape, const std::string& edit = "") {
  bench::MeshText text = bench::meshText(shape);
  ConfigSet set;
  addConfigText("services.yaml", text.services, &set);
  addConfigText("pods.yaml", text.pods, &set);
  addConfigText("rules.yaml", text.rules, &set);
  if (!edit.empty()) addConfigText("edit.yaml", edit, &set);
  finishConfigSet(&set);
  return set;
}

// CPU time of this thread: the machine this runs on is shared, and wall time
// would count the time other processes hold the CPU.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }
};

double msSince(double start) {
  return Clock::now() - start;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

constexpr ResourceType kAllTypes[] = {ResourceType::kListener, ResourceType::kRoute,
                                      ResourceType::kCluster, ResourceType::kEndpoint};

struct Result {
  double load_ms = 0;
  double cold_ms = 0;
  double warm_ms = 0;
  double after_vs_ms = 0;
  double after_pod_ms = 0;
  double all_ms = 0;
  size_t proxies = 0;
  size_t resources_one = 0;
  size_t refusals = 0;
};

size_t generateAll(const ConfigGenerator& generator, const ProxyNode& proxy) {
  size_t n = 0;
  for (ResourceType t : kAllTypes)
    n += generator.generate(t, proxy).size();
  return n;
}

// --breakdown: print where each "after" measurement went (stderr).
bool g_breakdown = false;

// CPU ms for `first` (LDS, RDS, CDS, EDS) from a generator of `after` built
// with the one that served `before` to `first` and `second`.
double firstAfterChange(const std::shared_ptr<const MeshSnapshot>& before,
                        const std::shared_ptr<const MeshSnapshot>& after, const ProxyNode& first,
                        const ProxyNode& second) {
  auto previous = std::make_unique<ConfigGenerator>(before);
  generateAll(*previous, first);
  generateAll(*previous, second);
  double start = Clock::now();
  ConfigGenerator generator(after, previous.get());
  double t0 = msSince(start);
  double t[4];
  for (int i = 0; i < 4; ++i) {
    double s0 = Clock::now();
    generator.generate(kAllTypes[i], first);
    t[i] = msSince(s0);
  }
  double ms = msSince(start);
  if (g_breakdown)
    std::fprintf(stderr, "ctor %.2f lds %.2f rds %.2f cds %.2f eds %.2f reused %zu built %zu\n", t0,
                 t[0], t[1], t[2], t[3], generator.reuseStats().reused,
                 generator.reuseStats().built);
  // As in a server: the old generator goes once the new one is in place.
  previous.reset();
  return ms;
}

// --profile-change N: only the "after pod" case, N times (for a profiler).
int g_profile_change = 0;
// --profile-cold N: only the cold case, N times, each from a fresh generator.
int g_profile_cold = 0;

// The cold case `n` times; prints the medians of the whole and of each type.
void profileCold(const std::shared_ptr<const MeshSnapshot>& snapshot, const ProxyNode& proxy,
                 int n) {
  std::vector<double> whole, by_type[4];
  for (int i = 0; i < n; ++i) {
    ConfigGenerator generator(snapshot);
    double start = Clock::now();
    for (int t = 0; t < 4; ++t) {
      double s0 = Clock::now();
      generator.generate(kAllTypes[t], proxy);
      by_type[t].push_back(msSince(s0));
    }
    whole.push_back(msSince(start));
  }
  std::printf("cold %.2f ms (lds %.2f rds %.2f cds %.2f eds %.2f)\n", median(whole),
              median(by_type[0]), median(by_type[1]), median(by_type[2]), median(by_type[3]));
  // The builders alone, without the generator's keys, tables and sorting
  // (the first type above pays for the whole shared build).
  std::vector<double> lds, rds, cds, eds;
  for (int i = 0; i < n; ++i) {
    double s0 = Clock::now();
    ResourceList l = buildOutboundListeners(*snapshot, proxy);
    lds.push_back(msSince(s0));
    s0 = Clock::now();
    ResourceList r = buildOutboundRouteConfigs(*snapshot, proxy);
    rds.push_back(msSince(s0));
    s0 = Clock::now();
    std::vector<ServiceClusters> built;
    for (const auto& svc : snapshot->services()) {
      if (!snapshot->visibleTo(svc.export_to, svc.namespace_, proxy.namespace_)) continue;
      built.push_back(buildServiceClusters(*snapshot, svc,
                                           snapshot->destinationRuleFor(svc, proxy.namespace_)));
    }
    cds.push_back(msSince(s0));
    s0 = Clock::now();
    ResourceList e;
    for (const auto& b : built) {
      for (const auto& t : b.eds)
        e.push_back(buildLoadAssignment(t.name, t.service, t.port, t.subset_labels));
    }
    eds.push_back(msSince(s0));
  }
  std::printf("builders alone: lds %.2f rds %.2f cds %.2f eds %.2f ms\n", median(lds), median(rds),
              median(cds), median(eds));
}

Result run(const MeshShape& shape, int reps) {
  std::vector<double> load, cold, warm, after_vs, after_pod, all;
  // The edited VirtualService is that of the first service without rules
  // (service `rules`), so that the base mesh is the one measured cold.
  int edited = std::min(shape.rules, shape.services - 1);
  std::string rules_before = bench::splitRules(edited, shape, 80);
  std::string rules_after = bench::splitRules(edited, shape, 70);
  // The pod added: one more of service 0, at the next free address.
  std::string new_pod = bench::podYaml(
      bench::podOf(0, shape.pods_per_service, shape.services * shape.pods_per_service, shape), 1);
  Result r;
  for (int rep = 0; rep < reps; ++rep) {
    double start = Clock::now();
    auto snapshot = MeshSnapshot::build(makeMesh(shape));
    load.push_back(msSince(start));
    r.refusals = snapshot->refusals().size();
    std::vector<ProxyNode> proxies;
    for (const auto& id : snapshot->proxyIds())
      proxies.push_back(*snapshot->findProxy(id));
    r.proxies = proxies.size();
    // Timers stop before the generator is destroyed: freeing a snapshot's
    // resources happens when the next snapshot replaces it, off the path of
    // any proxy.
    {
      // cold: the first proxy after a change, which also builds what its
      // namespace shares; warm: the next proxy of that namespace.
      const ProxyNode& first = proxies[proxies.size() / 2];
      const ProxyNode* second = &proxies.front();
      for (const auto& p : proxies) {
        if (p.namespace_ == first.namespace_ && p.id() != first.id()) second = &p;
      }
      if (g_profile_cold > 0) {
        profileCold(snapshot, first, g_profile_cold);
        std::exit(0);
      }
      ConfigGenerator generator(snapshot);
      start = Clock::now();
      r.resources_one = generateAll(generator, first);
      cold.push_back(msSince(start));
      if (g_profile_change > 0) {
        auto after = MeshSnapshot::build(makeMesh(shape, new_pod), 2);
        for (int i = 0; i < g_profile_change; ++i) {
          start = Clock::now();
          ConfigGenerator next(after, &generator);
          generateAll(next, first);
          after_pod.push_back(msSince(start));
        }
        std::printf("after pod %.2f ms\n", median(after_pod));
        std::exit(0);
      }
      start = Clock::now();
      generateAll(generator, *second);
      warm.push_back(msSince(start));
      after_pod.push_back(firstAfterChange(
          snapshot, MeshSnapshot::build(makeMesh(shape, new_pod), 2), first, *second));
      after_vs.push_back(firstAfterChange(MeshSnapshot::build(makeMesh(shape, rules_before), 3),
                                          MeshSnapshot::build(makeMesh(shape, rules_after), 4),
                                          first, *second));
    }
    {
      start = Clock::now();
      ConfigGenerator generator(snapshot);
      size_t n = 0;
      for (const auto& p : proxies)
        n += generateAll(generator, p);
      if (n == 0) std::abort();  // keeps the work observable
      all.push_back(msSince(start));
    }
  }
  r.load_ms = median(load);
  r.cold_ms = median(cold);
  r.warm_ms = median(warm);
  r.after_vs_ms = median(after_vs);
  r.after_pod_ms = median(after_pod);
  r.all_ms = median(all);
  return r;
}

void print(const MeshShape& shape, const Result& r) {
  std::printf("%8d %6zu %6d %4d %9.1f %10zu %10.2f %10.3f %10.2f %10.2f %10.1f %10.3f\n",
              shape.services, r.proxies, shape.rules, shape.namespaces, r.load_ms, r.resources_one,
              r.cold_ms, r.warm_ms, r.after_vs_ms, r.after_pod_ms, r.all_ms,
              r.all_ms / static_cast<double>(r.proxies));
}

int intArg(const char* value, const char* flag) {
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  if (*end != '\0' || v <= 0) {
    std::fprintf(stderr, "%s wants a positive number, got \"%s\"\n", flag, value);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace
}  // namespace remora::pilot

int main(int argc, char** argv) {
  using remora::pilot::bench::MeshShape;
  MeshShape shape;
  int reps = 5;
  bool scaling = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--scaling") {
      scaling = true;
      continue;
    }
    if (flag == "--breakdown") {
      remora::pilot::g_breakdown = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: pilot_bench [--services N] [--pods-per-service K] [--rules R] "
                   "[--namespaces M] [--reps N] [--scaling] [--breakdown] "
                   "[--profile-change N] [--profile-cold N]\n");
      return 2;
    }
    int v = remora::pilot::intArg(argv[++i], flag.c_str());
    if (flag == "--services") {
      shape.services = v;
    } else if (flag == "--pods-per-service") {
      shape.pods_per_service = v;
    } else if (flag == "--rules") {
      shape.rules = v;
    } else if (flag == "--namespaces") {
      shape.namespaces = v;
    } else if (flag == "--reps") {
      reps = v;
    } else if (flag == "--profile-change") {
      remora::pilot::g_profile_change = v;
    } else if (flag == "--profile-cold") {
      remora::pilot::g_profile_cold = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("%8s %6s %6s %4s %9s %10s %10s %10s %10s %10s %10s %10s\n", "services", "pods",
              "rules", "ns", "load", "resources", "cold", "warm", "after VS", "after pod", "all",
              "all/proxy");
  std::vector<MeshShape> shapes;
  if (scaling) {
    for (int div : {8, 4, 2}) {
      MeshShape s = shape;
      s.services = std::max(1, shape.services / div);
      s.rules = shape.rules / div;
      shapes.push_back(s);
    }
  }
  shapes.push_back(shape);
  for (const auto& s : shapes) {
    auto r = remora::pilot::run(s, reps);
    if (r.refusals != 0) {
      std::fprintf(stderr, "the generated mesh has %zu refused objects\n", r.refusals);
      return 1;
    }
    remora::pilot::print(s, r);
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS %ld KiB\n", usage.ru_maxrss);
  return 0;
}
