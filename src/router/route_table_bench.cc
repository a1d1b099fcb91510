// Route lookup cost against the number of virtual hosts: the per-request
// numbers should stay flat from 10 to 10000 hosts (hashed domains).
#include <benchmark/benchmark.h>

#include <string>

#include "router/route_table.h"
#include "router/simple_request.h"

namespace remora::router {
namespace {

std::shared_ptr<const RouteTable> makeTable(int hosts) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name("9080");
  for (int i = 0; i < hosts; ++i) {
    auto* vh = config.add_virtual_hosts();
    const std::string name = "svc-" + std::to_string(i) + ".default.svc.cluster.local";
    vh->set_name(name + ":9080");
    vh->add_domains(name);
    vh->add_domains(name + ":9080");
    vh->add_domains("*.w" + std::to_string(i % 50) + "-" + std::to_string(i) + ".example.com");
    auto* r = vh->add_routes();
    r->mutable_match()->set_prefix("/");
    r->mutable_route()->set_cluster("outbound|9080||" + name);
  }
  auto t = RouteTable::compile(config);
  return t.ok() ? *t : nullptr;
}

void BM_RouteExact(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  auto table = makeTable(hosts);
  SimpleRequest req("svc-" + std::to_string(hosts / 2) + ".default.svc.cluster.local:9080",
                    "/reviews/1");
  SeededRandom random(1);
  for (auto _ : state) {
    RouteDecision d = table->route(req, random);
    benchmark::DoNotOptimize(d.clusterName().size());
  }
}
BENCHMARK(BM_RouteExact)->Arg(10)->Arg(1000)->Arg(10000);

void BM_RouteWildcard(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  auto table = makeTable(hosts);
  SimpleRequest req("a.w7-7.example.com", "/");
  SeededRandom random(1);
  for (auto _ : state) {
    RouteDecision d = table->route(req, random);
    benchmark::DoNotOptimize(d.clusterName().size());
  }
}
BENCHMARK(BM_RouteWildcard)->Arg(10)->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace remora::router

BENCHMARK_MAIN();
