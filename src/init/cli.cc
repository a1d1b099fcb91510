#include "init/cli.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "common/logging.h"
#include "init/command.h"
#include "init/iptables.h"
#include "init/render.h"

namespace remora::init {
namespace {

constexpr const char* kDescription =
    "remora-init: writes the nat rules that send a pod's TCP traffic through its remora-proxy\n"
    "sidecar (REDIRECT mode), or removes them. Run it inside the pod's network namespace, as\n"
    "root. Flags use istio-iptables' letters and meanings; lists are comma-separated.";

constexpr const char* kFooter =
    "\nChains: PREROUTING -> REMORA_INBOUND -> REMORA_IN_REDIRECT (REDIRECT to -z),\n"
    "        OUTPUT -> REMORA_OUTPUT -> REMORA_REDIRECT (REDIRECT to -p).\n"
    "Traffic from the proxy's UID/GID and to localhost is never captured.\n"
    "\nExamples:\n"
    "  Istio's injected defaults (inbound on 15006):\n"
    "    remora-init -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x \"\" -b '*' "
    "-d 15090,15021,15020\n"
    "  The seed's single-port layout, printed only:\n"
    "    remora-init -n -p 15001 -z 15001 -u 1337 -m REDIRECT -i '*' -b 9080\n"
    "  Remove everything remora-init added:\n"
    "    remora-init --cleanup\n"
    "\nExit status: 0 done, 1 rules could not be read or applied, 2 bad command line.\n";

// Repeating a list flag adds to the list (the values are joined with ','
// after parsing); repeating a single-value flag keeps the last, as with
// istio-iptables.
CLI::Option* listOption(CLI::App& app, const char* names, std::string& into, const char* help,
                        const char* type) {
  return app.add_option(names, into, help)
      ->type_name(type)
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
}

CLI::Option* valueOption(CLI::App& app, const char* names, std::string& into, const char* help,
                         const char* type) {
  return app.add_option(names, into, help)
      ->type_name(type)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
}

void addOptions(CLI::App& app, InitOptions& o) {
  CaptureFlags& f = o.flags;
  valueOption(app, "-p,--outbound-capture-port,--envoy-port", f.outbound_capture_port,
              "Port the proxy's outbound (virtual) listener accepts redirected traffic on", "PORT");
  valueOption(app, "-z,--inbound-capture-port", f.inbound_capture_port,
              "Port inbound traffic is redirected to; equal to -p gives the seed's single-port "
              "layout",
              "PORT");
  listOption(app, "-u,--proxy-uid", f.proxy_uid,
             "UID(s) the proxy runs as; their traffic is never captured (default 1337)",
             "UID[,UID...]");
  listOption(app, "-g,--proxy-gid", f.proxy_gid,
             "GID(s) the proxy runs as; their traffic is never captured (default: -u)",
             "GID[,GID...]");
  valueOption(app, "-m,--interception-mode,--istio-inbound-interception-mode",
              f.interception_mode, "Inbound interception mode; only REDIRECT (TPROXY is refused)",
              "MODE");
  listOption(app, "-b,--include-inbound-ports,--istio-inbound-ports", f.include_inbound_ports,
             "Inbound ports to capture: '*' for all, a list, or empty for no inbound capture",
             "'*'|PORTS");
  listOption(app, "-d,--exclude-inbound-ports,--istio-local-exclude-ports",
             f.exclude_inbound_ports, "Inbound ports never captured (only used with -b '*')",
             "PORTS");
  listOption(app, "-i,--include-outbound-cidrs,--istio-service-cidr", f.include_outbound_cidrs,
             "Outbound destinations to capture: '*' for all, CIDRs, or empty for none",
             "'*'|CIDRS");
  listOption(app, "-x,--exclude-outbound-cidrs,--istio-service-exclude-cidr",
             f.exclude_outbound_cidrs, "Outbound destinations never captured ('*' not allowed)",
             "CIDRS");
  listOption(app, "-q,--include-outbound-ports,--istio-outbound-ports", f.include_outbound_ports,
             "Outbound ports always captured, whatever the destination", "PORTS");
  listOption(app, "-o,--exclude-outbound-ports,--istio-local-outbound-ports-exclude",
             f.exclude_outbound_ports, "Outbound ports never captured", "PORTS");
  listOption(app, "-c,--exclude-interfaces,--istio-exclude-interfaces", f.exclude_interfaces,
             "Interfaces whose traffic is never captured, either direction", "IFACES");
  listOption(app, "-k,--kube-virt-interfaces", f.kube_virt_interfaces,
             "VM interfaces (KubeVirt) whose incoming traffic is treated as outbound", "IFACES");
  valueOption(app, "--ipv6", f.ipv6,
              "Also write ip6tables rules: auto (if an -i/-x CIDR is IPv6 or the namespace has "
              "a global IPv6 address), on, off",
              "auto|on|off");
  app.add_flag("-n,--dry-run", o.dry_run,
               "Print the rules (iptables-restore input) instead of applying them; needs no root");
  app.add_flag("--cleanup", o.cleanup,
               "Remove every chain and jump remora-init added, and nothing else");
  valueOption(app, "--log-level", o.log_level,
              "trace, debug, info, warning, error, critical or off", "LEVEL");
}

void printError(const std::string& message) {
  std::fprintf(stderr, "remora-init: %s\n", message.c_str());
}

int runCleanup(bool dry_run) {
  SubprocessRunner runner;
  for (IpFamily family : {IpFamily::kIpv4, IpFamily::kIpv6}) {
    Iptables tables(runner, family);
    if (family == IpFamily::kIpv6 && !findProgram(tables.saveTool()).ok()) {
      REMORA_LOG_DEBUG("{} not installed; skipping IPv6 cleanup", tables.saveTool());
      continue;
    }
    if (dry_run) {
      auto plan = tables.planCleanup();
      if (!plan.ok()) {
        printError(plan.status().message());
        return kExitFailed;
      }
      std::printf("# remora-init --cleanup: %s, with `%s --noflush`\n%s", familyName(family),
                  tables.restoreTool().c_str(),
                  plan->empty() ? "# nothing to remove\n" : plan->c_str());
      continue;
    }
    Status s = tables.cleanup();
    if (!s.ok()) {
      if (family == IpFamily::kIpv6 && s.code() != StatusCode::kPermissionDenied) {
        // No IPv6 nat here (kernel without it) means we never added any.
        REMORA_LOG_WARN("IPv6 cleanup skipped: {}", s.message());
        continue;
      }
      printError(s.message());
      return kExitFailed;
    }
  }
  return kExitOk;
}

}  // namespace

StatusOr<InitOptions> parseArgs(const std::vector<std::string>& args) {
  InitOptions options;
  CLI::App app(kDescription, "remora-init");
  app.footer(kFooter);
  app.get_formatter()->column_width(44);
  addOptions(app, options);
  std::vector<const char*> argv = {"remora-init"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    options.show_help = true;
    options.help_text = app.help();
    return options;
  } catch (const CLI::ParseError& e) {
    return invalidArgumentError(e.what());
  }
  CaptureFlags& f = options.flags;
  for (std::string* list :
       {&f.proxy_uid, &f.proxy_gid, &f.include_inbound_ports, &f.exclude_inbound_ports,
        &f.include_outbound_cidrs, &f.exclude_outbound_cidrs, &f.include_outbound_ports,
        &f.exclude_outbound_ports, &f.exclude_interfaces, &f.kube_virt_interfaces}) {
    std::replace(list->begin(), list->end(), '\n', ',');
  }
  return options;
}

bool namespaceHasIpv6() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET6) continue;
    const in6_addr& addr = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr;
    found = !IN6_IS_ADDR_LOOPBACK(&addr) && !IN6_IS_ADDR_LINKLOCAL(&addr);
  }
  freeifaddrs(list);
  return found;
}

std::vector<RuleSet> ruleSetsFor(const CaptureConfig& config, bool namespace_has_ipv6) {
  std::vector<RuleSet> sets = {buildRuleSet(config, IpFamily::kIpv4)};
  bool ipv6 = config.ipv6 == Ipv6Mode::kOn ||
              (config.ipv6 == Ipv6Mode::kAuto && (config.mentionsIpv6() || namespace_has_ipv6));
  if (ipv6) sets.push_back(buildRuleSet(config, IpFamily::kIpv6));
  return sets;
}

int runInit(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto options = parseArgs(args);
  if (!options.ok()) {
    printError(options.status().message());
    std::fprintf(stderr, "Run 'remora-init --help' for the flags.\n");
    return kExitUsage;
  }
  if (options->show_help) {
    std::fputs(options->help_text.c_str(), stdout);
    return kExitOk;
  }
  if (Status s = setLogLevel(options->log_level); !s.ok()) {
    printError("--log-level: " + s.message());
    return kExitUsage;
  }
  auto config = captureConfigFromFlags(options->flags);
  if (!config.ok()) {
    printError(config.status().message());
    return kExitUsage;
  }
  if (options->cleanup) return runCleanup(options->dry_run);

  std::vector<RuleSet> sets = ruleSetsFor(*config, namespaceHasIpv6());
  if (options->dry_run) {
    std::fputs(renderDryRun(sets).c_str(), stdout);
    return kExitOk;
  }
  SubprocessRunner runner;
  if (Status s = applyAll(runner, sets); !s.ok()) {
    printError(s.message());
    return kExitFailed;
  }
  REMORA_LOG_INFO("remora-init: applied {} rules", sets.size() == 2 ? "IPv4 and IPv6" : "IPv4");
  return kExitOk;
}

}  // namespace remora::init
