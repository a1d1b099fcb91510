// remora-init's command line: flags with istio-iptables' short letters,
// readable long names, and the top-level run (dry-run, apply or cleanup).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "init/capture_config.h"
#include "init/rules.h"

namespace remora::init {

// Exit codes: 0 done, 1 could not apply/clean up, 2 bad command line.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct InitOptions {
  CaptureFlags flags;
  bool dry_run = false;
  bool cleanup = false;
  std::string log_level = "info";
  bool show_help = false;
  std::string help_text;  // set when show_help
};

// Parses the arguments after the program name. Syntax errors (unknown flag,
// missing value) are InvalidArgument; flag values are checked later by
// captureConfigFromFlags.
StatusOr<InitOptions> parseArgs(const std::vector<std::string>& args);

// IPv4 always; IPv6 when --ipv6 on, or auto and (an -i/-x CIDR is IPv6 or
// the namespace has a global IPv6 address).
std::vector<RuleSet> ruleSetsFor(const CaptureConfig& config, bool namespace_has_ipv6);

// True if any non-loopback interface here has a non-link-local IPv6 address.
bool namespaceHasIpv6();

// The whole program; returns the exit code.
int runInit(int argc, char** argv);

}  // namespace remora::init
