// Golden tests: for each flag combination the dry-run text must equal
// src/init/testdata/<name>.golden. To regenerate after an intended change:
//   REMORA_UPDATE_GOLDEN=1 ctest --test-dir <build> -R RulesGolden
// and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "init/capture_config.h"
#include "init/cli.h"
#include "init/render.h"
#include "support/paths.h"

namespace remora::init {
namespace {

struct GoldenCase {
  const char* name;
  std::vector<std::string> args;
};

std::string sourceDir() {
  return test::sourceDir();
}

std::string shellQuote(const std::string& arg) {
  bool plain = !arg.empty() && arg.find_first_of(" *'\"\\$|&;<>()") == std::string::npos;
  if (plain) return arg;
  return "'" + arg + "'";
}

std::string commandLine(const std::vector<std::string>& args) {
  std::string out = "remora-init";
  for (const std::string& a : args) out += " " + (a.empty() ? std::string("\"\"") : shellQuote(a));
  return out;
}

// The namespace's own IPv6 addresses must not change the result: goldens
// assume a namespace without IPv6 unless the flags ask for it.
std::string render(const std::vector<std::string>& args) {
  auto options = parseArgs(args);
  EXPECT_TRUE(options.ok()) << options.status().toString();
  if (!options.ok()) return "";
  auto config = captureConfigFromFlags(options->flags);
  EXPECT_TRUE(config.ok()) << config.status().toString();
  if (!config.ok()) return "";
  return "# " + commandLine(args) + "\n" +
         renderDryRun(ruleSetsFor(*config, /*namespace_has_ipv6=*/false));
}

// Test names show the case name, not the struct's bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }

class RulesGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(RulesGolden, MatchesFile) {
  const GoldenCase& c = GetParam();
  std::string path = sourceDir() + "/src/init/testdata/" + c.name + ".golden";
  std::string actual = render(c.args);
  if (std::getenv("REMORA_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path << "; run with REMORA_UPDATE_GOLDEN=1";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "golden " << path << " differs";
}

const GoldenCase kCases[] = {
    // The seed article's init container: one capture port for both directions.
    {"seed", {"-p", "15001", "-z", "15001", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-b", "9080"}},
    // What Istio's sidecar injector passes to istio-init.
    {"istio_default",
     {"-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*",
      "-d", "15090,15021,15020"}},
    {"no_flags", {}},
    {"inbound_port_list", {"-b", "9080,9090,9443", "-i", "*"}},
    {"inbound_all_with_exclusions", {"-b", "*", "-d", "22,15090"}},
    {"outbound_cidr_list", {"-b", "*", "-i", "10.96.0.0/12,10.244.0.0/16"}},
    {"outbound_exclusions",
     {"-b", "*", "-i", "*", "-x", "169.254.169.254/32,10.0.0.0/8", "-o", "3306,6379"}},
    {"outbound_ports", {"-i", "10.96.0.0/12", "-q", "443,8443"}},
    {"exclude_interfaces", {"-b", "*", "-i", "*", "-c", "eth1,veth+"}},
    {"kube_virt_all", {"-b", "*", "-i", "*", "-k", "vnet0"}},
    {"kube_virt_cidrs", {"-b", "9080", "-i", "10.96.0.0/12,fd00:10:96::/112", "-k", "vnet0,vnet1"}},
    {"separate_uid_gid", {"-b", "*", "-i", "*", "-u", "1337", "-g", "1338"}},
    {"ipv6_dual_stack",
     {"--ipv6", "on", "-b", "*", "-d", "15090,15021,15020", "-i", "*", "-x",
      "fd00::/8,10.1.0.0/16"}},
    {"seed_ipv6", {"-p", "15001", "-z", "15001", "-i", "*", "-b", "9080", "--ipv6", "on"}},
    {"long_names",
     {"--outbound-capture-port", "15101", "--inbound-capture-port", "15106", "--proxy-uid", "2102",
      "--include-inbound-ports", "8080", "--include-outbound-cidrs", "*",
      "--exclude-outbound-ports", "5432"}},
};

INSTANTIATE_TEST_SUITE_P(Cases, RulesGolden, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace remora::init
