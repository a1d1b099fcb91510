// Applies remora-init's rules for real, inside a network namespace this test
// creates (and always removes), and compares iptables-save output. Needs root;
// skips only when not root or when iptables/iproute2 are missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "init/command.h"
#include "support/paths.h"

namespace remora::init {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// iptables-save output without its timestamped comment lines.
std::string withoutComments(const std::string& text) {
  std::string out;
  for (const std::string& l : lines(text)) {
    if (!l.empty() && l[0] != '#') out += l + "\n";
  }
  return out;
}

// The "-A" lines of our chains and of jumps into them, grouped by chain.
// iptables-save lists chains in its own order; within a chain order matters.
std::map<std::string, std::vector<std::string>> ourRulesByChain(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& l : lines(text)) {
    if (l.rfind("-A ", 0) != 0 || l.find("REMORA_") == std::string::npos) continue;
    std::string chain = l.substr(3, l.find(' ', 3) - 3);
    out[chain].push_back(l);
  }
  return out;
}

class InitRootTest : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace)";
    for (const char* tool : {"ip", "iptables-save", "iptables-restore"}) {
      if (!findProgram(tool).ok()) GTEST_SKIP() << tool << " is not installed";
    }
    binary_ = test::buildDir() + "/apps/remora-init/remora-init";
    ASSERT_TRUE(findProgram(binary_).ok()) << binary_ << " is not built";
    ns_ = "remora-init-test-" + std::to_string(getpid());
    auto added = runner_.run({"ip", "netns", "add", ns_}, "");
    ASSERT_TRUE(added.ok() && added->exit_code == 0) << "ip netns add failed";
    created_ = true;
    // Someone else's rules, which must survive apply and cleanup untouched.
    ASSERT_EQ(inNs({"iptables-restore", "--noflush"},
                   "*nat\n:OTHER - [0:0]\n-A PREROUTING -p udp -j OTHER\n"
                   "-A POSTROUTING -o eth0 -j MASQUERADE\n-A OTHER -p udp -j RETURN\nCOMMIT\n")
                  .exit_code,
              0);
  }

  void TearDown() override {
    if (created_) (void)runner_.run({"ip", "netns", "del", ns_}, "");
  }

  CommandResult inNs(std::vector<std::string> argv, std::string_view input = "") {
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns_});
    auto r = runner_.run(argv, input);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : CommandResult{-1, "", r.status().toString()};
  }

  CommandResult init(std::vector<std::string> args) {
    args.insert(args.begin(), binary_);
    return inNs(args);
  }

  std::string save(const char* tool = "iptables-save") {
    CommandResult r = inNs({tool, "-t", "nat"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return withoutComments(r.out);
  }

  // Applies `args`, then checks the table holds exactly the rules `-n` prints.
  void applyAndCheck(std::vector<std::string> args, const char* save_tool) {
    CommandResult applied = init(args);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    args.push_back("-n");
    CommandResult dry = init(args);
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    std::string family_header = std::string(save_tool) == "iptables-save" ? "IPv4" : "IPv6";
    std::string rendered;
    bool in_family = false;
    for (const std::string& l : lines(dry.out)) {
      if (l.rfind("# remora-init: ", 0) == 0) in_family = l.find(family_header) != std::string::npos;
      if (in_family) rendered += l + "\n";
    }
    EXPECT_EQ(ourRulesByChain(save(save_tool)), ourRulesByChain(rendered))
        << "table:\n" << save(save_tool) << "rendered:\n" << rendered;
  }

  SubprocessRunner runner_;
  std::string binary_;
  std::string ns_;
  bool created_ = false;
};

const std::vector<std::string> kIstioArgs = {
    "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*",
    "-d", "15090,15021,15020", "--ipv6", "off"};
const std::vector<std::string> kSeedArgs = {"-p", "15001", "-z", "15001", "-u", "1337", "-m",
                                            "REDIRECT", "-i", "*", "-b", "9080", "--ipv6", "off"};

TEST_F(InitRootTest, ApplyTwiceIsIdempotentAndCleanupRestoresTheTable) {
  const std::string before = save();
  std::vector<std::string> args = kIstioArgs;
  for (const char* extra : {"-c", "eth1", "-k", "vnet0", "-q", "443", "-o", "3306"}) {
    args.push_back(extra);
  }
  args.back() = "3306";
  args.push_back("-x");
  args.push_back("169.254.169.254/32");
  applyAndCheck(args, "iptables-save");
  const std::string once = save();
  EXPECT_NE(once.find("-A POSTROUTING -o eth0 -j MASQUERADE"), std::string::npos);

  applyAndCheck(args, "iptables-save");
  EXPECT_EQ(save(), once) << "second apply changed the table";

  CommandResult cleaned = init({"--cleanup"});
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.err;
  EXPECT_EQ(save(), before);
}

TEST_F(InitRootTest, ReapplyWithOtherFlagsLeavesNoOldRules) {
  const std::string before = save();
  applyAndCheck(kSeedArgs, "iptables-save");
  applyAndCheck(kIstioArgs, "iptables-save");
  EXPECT_EQ(save().find("--dport 9080"), std::string::npos) << "seed rule left behind";
  ASSERT_EQ(init({"--cleanup"}).exit_code, 0);
  EXPECT_EQ(save(), before);
}

TEST_F(InitRootTest, Ipv6RulesApplyAndCleanUp) {
  if (!findProgram("ip6tables-save").ok() || !findProgram("ip6tables-restore").ok()) {
    GTEST_SKIP() << "ip6tables is not installed";
  }
  const std::string before4 = save();
  const std::string before6 = save("ip6tables-save");
  std::vector<std::string> args = kIstioArgs;
  args.back() = "on";  // --ipv6 on
  args.insert(args.end(), {"-x", "fd00::/8"});
  applyAndCheck(args, "iptables-save");
  applyAndCheck(args, "ip6tables-save");
  ASSERT_EQ(init({"--cleanup"}).exit_code, 0);
  EXPECT_EQ(save(), before4);
  EXPECT_EQ(save("ip6tables-save"), before6);
}

TEST_F(InitRootTest, BadInputAppliesNothing) {
  const std::string before = save();
  CommandResult r = init({"-b", "9080,99999", "-i", "*"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-b/--include-inbound-ports: \"99999\""), std::string::npos) << r.err;
  EXPECT_EQ(save(), before);
}

TEST_F(InitRootTest, CleanupOnACleanTableChangesNothing) {
  const std::string before = save();
  CommandResult r = init({"--cleanup"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(save(), before);
}

TEST_F(InitRootTest, WithoutPrivilegesFailsClearly) {
  if (!findProgram("setpriv").ok()) GTEST_SKIP() << "setpriv (util-linux) is not installed";
  const std::string before = save();
  CommandResult r = inNs({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "--inh-caps=-all", binary_, "-i", "*", "-b", "*", "--ipv6", "off"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("needs root"), std::string::npos) << r.err;
  EXPECT_EQ(save(), before);
}

}  // namespace
}  // namespace remora::init
