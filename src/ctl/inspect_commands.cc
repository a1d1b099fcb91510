#include "ctl/inspect_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "ctl/config_dump.h"
#include "ctl/explain.h"
#include "ctl/proxy_config.h"
#include "ctl/proxy_source.h"
#include "lab/http_client.h"
#include "lab/system.h"

namespace remora::ctl {
namespace {

// How the proxy is found or its config read; shared by every command here.
struct SourceFlags {
  std::string lab = lab::kDefaultLabName;
  std::string state_root = lab::kDefaultStateRoot;
  std::string pilot;          // --pilot HOST:PORT: where to look the pod up first
  std::string admin;          // --admin HOST:PORT instead of a pod
  std::string file;           // a saved /config_dump instead of a live proxy
  std::string clusters_file;  // a saved /clusters?format=json
};

void addSourceOptions(CLI::App* app, SourceFlags& f) {
  app->add_option("--admin", f.admin,
                  "The proxy's admin address HOST:PORT, in place of a pod (reached from this "
                  "network namespace)");
  app->add_option("--pilot", f.pilot,
                  "Pilot's HTTP address HOST:PORT, asked first where the pod's proxy is "
                  "(default: $REMORA_PILOT, else the lab's pilot, else 127.0.0.1:15014)");
  app->add_option("--lab", f.lab, "The lab whose pods are looked up (remoractl lab)")
      ->capture_default_str();
  app->add_option("--state-dir", f.state_root, "Where labs record what they made")
      ->capture_default_str();
  app->add_option("-f,--file", f.file,
                  "Read a saved /config_dump (JSON) instead of asking a proxy");
  app->add_option("--clusters-file", f.clusters_file,
                  "Read a saved /clusters?format=json instead of asking a proxy");
}

// Asking pilot where a pod is must not hold up the lab's answer for long.
constexpr std::chrono::milliseconds kLocateTimeout{5000};

// Exactly one way to the proxy. `pod` may be empty when --admin or --file
// stands in for it.
StatusOr<std::optional<ProxyTarget>> resolveTarget(const SourceFlags& f, const std::string& pod) {
  int ways = (pod.empty() ? 0 : 1) + (f.admin.empty() ? 0 : 1) + (f.file.empty() ? 0 : 1);
  if (ways == 0) return invalidArgumentError("name a pod, or give --admin HOST:PORT or --file");
  if (ways > 1) return invalidArgumentError("give only one of a pod, --admin and --file");
  if (!f.file.empty()) return std::optional<ProxyTarget>();
  if (!f.admin.empty()) {
    auto t = adminTarget(f.admin);
    if (!t.ok()) return invalidArgumentError(t.status().message());
    return std::optional<ProxyTarget>(*t);
  }
  lab::LabOptions options;
  options.name = f.lab;
  options.state_root = f.state_root;
  const char* env = std::getenv(kPilotEnv);
  REMORA_ASSIGN_OR_RETURN(PilotTarget pilot,
                          findPilot({f.pilot, f.lab, f.state_root}, env ? env : ""));
  std::vector<std::unique_ptr<ProxyLocator>> locators;
  locators.push_back(
      std::make_unique<PilotProxyLocator>(PilotClient(std::move(pilot), kLocateTimeout), &options));
  locators.push_back(std::make_unique<LabProxyLocator>(options));
  FallbackProxyLocator locator(std::move(locators));
  REMORA_ASSIGN_OR_RETURN(ProxyTarget t, locator.locate(pod));
  return std::optional<ProxyTarget>(std::move(t));
}

StatusOr<ProxyConfig> loadConfig(const SourceFlags& f, const std::optional<ProxyTarget>& target) {
  if (!f.file.empty()) {
    REMORA_ASSIGN_OR_RETURN(std::string text, lab::readTextFile(f.file));
    auto config = parseConfigDump(text);
    if (!config.ok()) return config.status().withPrefix(f.file);
    return config;
  }
  REMORA_ASSIGN_OR_RETURN(std::string text, adminGet(*target, "/config_dump?include_eds"));
  auto config = parseConfigDump(text);
  if (!config.ok()) return config.status().withPrefix(target->display + " /config_dump");
  return config;
}

// /clusters from the file or the proxy; from the config dump itself when
// reading a saved dump without a clusters file.
StatusOr<envoy::admin::v3::Clusters> loadClusters(const SourceFlags& f,
                                                  const std::optional<ProxyTarget>& target,
                                                  const ProxyConfig* config) {
  if (!f.clusters_file.empty()) {
    REMORA_ASSIGN_OR_RETURN(std::string text, lab::readTextFile(f.clusters_file));
    auto clusters = parseClusters(text);
    if (!clusters.ok()) return clusters.status().withPrefix(f.clusters_file);
    return clusters;
  }
  if (!target) return clustersFromConfig(*config);
  REMORA_ASSIGN_OR_RETURN(std::string text, adminGet(*target, "/clusters?format=json"));
  auto clusters = parseClusters(text);
  if (!clusters.ok()) return clusters.status().withPrefix(target->display + " /clusters");
  return clusters;
}

// ---------------------------------------------------------------------------
// proxy-config

enum class Resource { kListeners, kRoutes, kClusters, kEndpoints, kBootstrap, kAll };

struct ProxyConfigFlags {
  SourceFlags source;
  std::string pod;
  std::string output = "short";
  ListenerFilter listeners;
  RouteFilter routes;
  ClusterFilter clusters;
  EndpointFilter endpoints;
};

Status validateFilters(Resource r, const ProxyConfigFlags& f) {
  if (r == Resource::kListeners && !f.listeners.type.empty()) {
    return validateListenerType(f.listeners.type);
  }
  if (r == Resource::kClusters && !f.clusters.direction.empty()) {
    return validateDirection(f.clusters.direction);
  }
  if (r == Resource::kEndpoints && !f.endpoints.status.empty()) {
    return validateHealthStatus(f.endpoints.status);
  }
  return Status::okStatus();
}

StatusOr<std::string> renderResource(Resource r, const ProxyConfigFlags& f, OutputFormat format,
                                     const std::optional<ProxyTarget>& target) {
  if (r == Resource::kEndpoints) {
    // Only /clusters is needed, unless a saved dump stands in for it.
    std::optional<ProxyConfig> config;
    if (!target && f.source.clusters_file.empty()) {
      REMORA_ASSIGN_OR_RETURN(config, loadConfig(f.source, target));
    }
    REMORA_ASSIGN_OR_RETURN(auto clusters,
                            loadClusters(f.source, target, config ? &*config : nullptr));
    if (format == OutputFormat::kShort) return endpointsTable(clusters, f.endpoints);
    return endpointsDocument(clusters, f.endpoints, format);
  }
  REMORA_ASSIGN_OR_RETURN(ProxyConfig config, loadConfig(f.source, target));
  switch (r) {
    case Resource::kListeners:
      if (format == OutputFormat::kShort) return listenersTable(config, f.listeners);
      return listenersDocument(config, f.listeners, format);
    case Resource::kRoutes:
      if (format == OutputFormat::kShort) return routesTable(config, f.routes);
      return routesDocument(config, f.routes, format);
    case Resource::kClusters:
      if (format == OutputFormat::kShort) return clustersTable(config, f.clusters);
      return clustersDocument(config, f.clusters, format);
    case Resource::kBootstrap:
      if (!config.bootstrap) return notFoundError("the config dump has no BootstrapConfigDump");
      // A bootstrap has no table; its short form is its JSON, as in istioctl.
      return messageDocument(*config.bootstrap,
                             format == OutputFormat::kYaml ? format : OutputFormat::kJson);
    case Resource::kAll: {
      if (format != OutputFormat::kShort) return messageDocument(config.dump, format);
      REMORA_ASSIGN_OR_RETURN(auto clusters, loadClusters(f.source, target, &config));
      return clustersTable(config, {}) + "\n" + listenersTable(config, {}) + "\n" +
             routesTable(config, {}) + "\n" + endpointsTable(clusters, {});
    }
    case Resource::kEndpoints:
      break;
  }
  return internalError("unreachable");
}

int runProxyConfig(Resource r, const ProxyConfigFlags& f) {
  auto format = parseOutputFormat(f.output);
  if (!format.ok()) return failWith(format.status());
  Status valid = validateFilters(r, f);
  if (!valid.ok()) return failWith(valid);
  auto target = resolveTarget(f.source, f.pod);
  if (!target.ok()) return failWith(target.status());
  auto out = renderResource(r, f, *format, *target);
  if (!out.ok()) return failWith(out.status());
  std::fputs(out->c_str(), stdout);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// explain

struct ExplainFlags {
  SourceFlags source;
  std::vector<std::string> args;  // [pod] url
  std::vector<std::string> headers;
  std::string method = "GET";
  bool inbound = false;
  std::string output = "text";
  std::string nat_file;
  std::string pod_ip;
  std::vector<std::string> resolve;  // NAME:IP
  uint64_t seed = 1;
};

// The URL's host as the pod's processes would resolve it.
Status resolveDestination(const ExplainFlags& f, const std::optional<ProxyTarget>& target,
                          ExplainRequest& q) {
  if (auto ip = network::IpAddress::parse(q.host); ip.ok()) {
    q.destination = *ip;
    q.resolved_by = "IP literal";
    return Status::okStatus();
  }
  for (const std::string& entry : f.resolve) {
    size_t colon = entry.find(':');
    if (colon == std::string::npos) {
      return invalidArgumentError("--resolve " + entry + ": expected NAME:IP");
    }
    if (entry.substr(0, colon) != q.host) continue;
    auto ip = network::IpAddress::parse(entry.substr(colon + 1));
    if (!ip.ok()) return invalidArgumentError("--resolve " + entry + ": " + ip.status().message());
    q.destination = *ip;
    q.resolved_by = "--resolve";
    return Status::okStatus();
  }
  if (target && !target->hosts_file.empty()) {
    REMORA_ASSIGN_OR_RETURN(std::string hosts, lab::readTextFile(target->hosts_file));
    auto ip = lookupHostsFile(hosts, q.host);
    if (!ip) {
      return notFoundError(q.host + " is not in " + target->hosts_file +
                           ": the pod's processes cannot resolve it (the lab has no DNS server)");
    }
    q.destination = *ip;
    q.resolved_by = target->hosts_file;
    return Status::okStatus();
  }
  auto ip = lab::resolveHost(q.host);
  if (!ip.ok()) {
    return notFoundError("cannot resolve " + q.host + " (" + ip.status().message() +
                         "); give --resolve " + q.host + ":IP");
  }
  q.destination = *ip;
  q.resolved_by = "this machine's resolver (the pod is not known)";
  return Status::okStatus();
}

int runExplain(const ExplainFlags& f) {
  if (f.output != "text" && f.output != "json") {
    return failWith(
        invalidArgumentError("-o/--output: \"" + f.output + "\" is not one of text, json"));
  }
  bool pod_given = f.source.admin.empty() && f.source.file.empty();
  size_t want = pod_given ? 2 : 1;
  if (f.args.size() != want) {
    return failWith(invalidArgumentError(pod_given ? "expected POD URL"
                                                   : "expected only URL with --admin or --file"));
  }
  auto target = resolveTarget(f.source, pod_given ? f.args[0] : "");
  if (!target.ok()) return failWith(target.status());

  ExplainRequest q;
  q.method = f.method;
  q.inbound = f.inbound;
  Status s = parseExplainUrl(f.args.back(), q);
  if (!s.ok()) return failWith(s);
  for (const auto& h : f.headers) {
    auto header = parseHeaderFlag(h);
    if (!header.ok()) return failWith(header.status());
    q.headers.push_back(*header);
  }
  if (*target && (*target)->pod_ip) q.pod_ip = (*target)->pod_ip;
  if (!f.pod_ip.empty()) {
    auto ip = network::IpAddress::parse(f.pod_ip);
    if (!ip.ok()) return failWith(invalidArgumentError("--pod-ip: " + ip.status().message()));
    q.pod_ip = *ip;
  }
  if (q.inbound && q.pod_ip) {
    // Arriving from another pod's proxy, which already picked this pod's IP.
    q.destination = *q.pod_ip;
    q.resolved_by = "the pod's IP";
  } else {
    s = resolveDestination(f, *target, q);
    if (!s.ok()) return failWith(s);
  }

  auto config = loadConfig(f.source, *target);
  if (!config.ok()) return failWith(config.status());
  ExplainInput in;
  in.config = &*config;
  in.random_seed = f.seed;
  std::optional<envoy::admin::v3::Clusters> clusters;
  if (*target || !f.source.clusters_file.empty()) {
    auto c = loadClusters(f.source, *target, &*config);
    if (!c.ok()) return failWith(c.status());
    clusters = std::move(*c);
    in.clusters = &*clusters;
  }
  if (!f.nat_file.empty()) {
    auto text = lab::readTextFile(f.nat_file);
    if (!text.ok()) return failWith(text.status());
    in.nat_save = *text;
  } else if (*target && !(*target)->netns.empty()) {
    auto nat = podNatTable(**target);
    if (!nat.ok()) return failWith(nat.status().withPrefix("reading the pod's nat table"));
    in.nat_save = *nat;
  } else {
    in.capture_skipped = "the proxy was given by " +
                         std::string(f.source.admin.empty() ? "--file" : "--admin") +
                         ", so its pod's nat table is unknown (give --nat-file)";
  }
  if (!in.nat_save.empty() && !q.pod_ip) {
    return failWith(invalidArgumentError("--nat-file needs --pod-ip: the rules depend on it"));
  }
  ExplainResult result = explainRequest(q, in);
  std::string out =
      f.output == "json" ? writeJson(explainJson(result), 2) + "\n" : formatExplainText(result);
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace

void addProxyConfigCommand(CommandLine& cli) {
  auto flags = std::make_shared<ProxyConfigFlags>();
  CLI::App* pc = cli.root().add_subcommand(
      "proxy-config",
      "What a sidecar runs, from its own /config_dump and /clusters, as istioctl proxy-config "
      "shows it (docs/remoractl.md)");
  pc->alias("pc");
  pc->require_subcommand(1);

  struct Kind {
    Resource resource;
    const char* name;
    std::vector<const char*> aliases;
    const char* help;
  };
  const Kind kinds[] = {
      {Resource::kListeners, "listeners", {"listener", "l"}, "Listeners, one row per filter chain"},
      {Resource::kRoutes, "routes", {"route", "r"}, "Route configurations, one row per route"},
      {Resource::kClusters, "clusters", {"cluster", "c"}, "Clusters"},
      {Resource::kEndpoints,
       "endpoints",
       {"endpoint", "ep", "e"},
       "Endpoints of every cluster, from /clusters (health, outlier check)"},
      {Resource::kBootstrap, "bootstrap", {"b"}, "The bootstrap the proxy started with"},
      {Resource::kAll, "all", {}, "Clusters, listeners, routes and endpoints"},
  };
  for (const Kind& k : kinds) {
    CLI::App* sub = pc->add_subcommand(k.name, k.help);
    for (const char* a : k.aliases)
      sub->alias(a);
    sub->add_option("pod", flags->pod, "<pod>[.<namespace>] of the lab (or give --admin/--file)");
    addSourceOptions(sub, flags->source);
    sub->add_option("-o,--output", flags->output, "short (a table), json or yaml")
        ->capture_default_str();
    switch (k.resource) {
      case Resource::kListeners:
        sub->add_option("--port", flags->listeners.port, "Only listeners on this port");
        sub->add_option("--address", flags->listeners.address, "Only listeners on this address");
        sub->add_option("--type", flags->listeners.type,
                        "Only listeners of type HTTP, TCP or HTTP+TCP");
        break;
      case Resource::kRoutes:
        sub->add_option("--name", flags->routes.name, "Only the route configuration of this name");
        break;
      case Resource::kClusters:
        sub->add_option("--fqdn", flags->clusters.fqdn, "Only clusters whose name contains this");
        sub->add_option("--port", flags->clusters.port, "Only clusters of this port");
        sub->add_option("--subset", flags->clusters.subset, "Only clusters of this subset");
        sub->add_option("--direction", flags->clusters.direction, "inbound or outbound");
        break;
      case Resource::kEndpoints:
        sub->add_option("--cluster", flags->endpoints.cluster, "Only endpoints of this cluster");
        sub->add_option("--address", flags->endpoints.address, "Only endpoints at this address");
        sub->add_option("--port", flags->endpoints.port, "Only endpoints on this port");
        sub->add_option("--status", flags->endpoints.status,
                        "Only endpoints in this health status (HEALTHY, UNHEALTHY, ...)");
        break;
      default:
        break;
    }
    Resource r = k.resource;
    sub->callback(
        [&cli, flags, r] { cli.setAction([flags, r] { return runProxyConfig(r, *flags); }); });
  }
}

void addExplainCommand(CommandLine& cli) {
  auto flags = std::make_shared<ExplainFlags>();
  CLI::App* ex = cli.root().add_subcommand(
      "explain",
      "Follow one request through a pod's nat rules and its proxy's listeners, filter chains, "
      "routes, clusters and endpoints (docs/remoractl.md)");
  ex->add_option("args", flags->args, "<pod>[.<namespace>] and the URL (only the URL with --admin)")
      ->required()
      ->expected(1, 2);
  ex->add_option("-H,--header", flags->headers, "A request header 'Name: value' (repeatable)");
  ex->add_option("-X,--request", flags->method, "The request method")->capture_default_str();
  ex->add_flag("--inbound", flags->inbound,
               "The request arrives at the pod from another pod (default: the pod's app sends it)");
  ex->add_option("-o,--output", flags->output, "text or json")->capture_default_str();
  ex->add_option("--nat-file", flags->nat_file,
                 "A saved `iptables-save -t nat` of the pod (with --admin or --file)");
  ex->add_option("--pod-ip", flags->pod_ip, "The pod's IP when it is not known (--admin, --file)");
  ex->add_option("--resolve", flags->resolve, "NAME:IP: resolve NAME to IP (repeatable)");
  ex->add_option("--seed", flags->seed, "Seed for weighted cluster picks")->capture_default_str();
  addSourceOptions(ex, flags->source);
  ex->callback([&cli, flags] { cli.setAction([flags] { return runExplain(*flags); }); });
}

}  // namespace remora::ctl
