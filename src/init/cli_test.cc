#include "init/cli.h"

#include <gtest/gtest.h>

#include "init/render.h"

namespace remora::init {
namespace {

int runWith(std::vector<std::string> args) {
  args.insert(args.begin(), "remora-init");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return runInit(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseArgs, ShortAndLongNamesFillTheSameFlags) {
  auto a = parseArgs({"-p", "1", "-z", "2", "-u", "3", "-g", "4", "-m", "REDIRECT", "-b", "5",
                      "-d", "6", "-i", "*", "-x", "10.0.0.0/8", "-q", "7", "-o", "8", "-c",
                      "eth1", "-k", "vnet0", "-n"});
  auto b = parseArgs({"--outbound-capture-port", "1", "--inbound-capture-port", "2",
                      "--proxy-uid", "3", "--proxy-gid", "4", "--interception-mode", "REDIRECT",
                      "--include-inbound-ports", "5", "--exclude-inbound-ports", "6",
                      "--include-outbound-cidrs", "*", "--exclude-outbound-cidrs", "10.0.0.0/8",
                      "--include-outbound-ports", "7", "--exclude-outbound-ports", "8",
                      "--exclude-interfaces", "eth1", "--kube-virt-interfaces", "vnet0",
                      "--dry-run"});
  ASSERT_TRUE(a.ok()) << a.status().toString();
  ASSERT_TRUE(b.ok()) << b.status().toString();
  for (const auto* o : {&*a, &*b}) {
    EXPECT_EQ(o->flags.outbound_capture_port, "1");
    EXPECT_EQ(o->flags.inbound_capture_port, "2");
    EXPECT_EQ(o->flags.proxy_uid, "3");
    EXPECT_EQ(o->flags.proxy_gid, "4");
    EXPECT_EQ(o->flags.include_inbound_ports, "5");
    EXPECT_EQ(o->flags.exclude_inbound_ports, "6");
    EXPECT_EQ(o->flags.include_outbound_cidrs, "*");
    EXPECT_EQ(o->flags.exclude_outbound_cidrs, "10.0.0.0/8");
    EXPECT_EQ(o->flags.include_outbound_ports, "7");
    EXPECT_EQ(o->flags.exclude_outbound_ports, "8");
    EXPECT_EQ(o->flags.exclude_interfaces, "eth1");
    EXPECT_EQ(o->flags.kube_virt_interfaces, "vnet0");
    EXPECT_TRUE(o->dry_run);
  }
}

TEST(ParseArgs, IstioLongNamesAreAccepted) {
  auto o = parseArgs({"--envoy-port", "15001", "--istio-inbound-ports", "*",
                      "--istio-service-cidr", "*", "--istio-local-exclude-ports", "15090"});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->flags.include_inbound_ports, "*");
  EXPECT_EQ(o->flags.exclude_inbound_ports, "15090");
}

TEST(ParseArgs, EmptyValueIsAllowed) {
  auto o = parseArgs({"-i", "*", "-x", ""});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->flags.exclude_outbound_cidrs, "");
}

TEST(ParseArgs, RepeatedListFlagsAddUpAndValuesKeepTheLast) {
  auto o = parseArgs({"-x", "10.0.0.0/8", "-x", "fd00::/8", "-d", "", "-d", "15090", "-p", "1",
                      "-p", "2"});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->flags.exclude_outbound_cidrs, "10.0.0.0/8,fd00::/8");
  EXPECT_EQ(o->flags.exclude_inbound_ports, ",15090");
  EXPECT_EQ(o->flags.outbound_capture_port, "2");
}

TEST(ParseArgs, UnknownFlagIsAnError) {
  auto o = parseArgs({"-Q", "1"});
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseArgs, MissingValueIsAnError) {
  auto o = parseArgs({"-b"});
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseArgs, HelpExplainsEveryFlag) {
  auto o = parseArgs({"--help"});
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(o->show_help);
  for (const char* flag : {"-p,", "-z,", "-u,", "-g,", "-m,", "-b,", "-d,", "-i,", "-x,", "-q,",
                           "-o,", "-c,", "-k,", "-n,", "--cleanup", "--ipv6", "TPROXY", "15006"}) {
    EXPECT_NE(o->help_text.find(flag), std::string::npos) << flag << " not in help";
  }
}

TEST(RunInit, HelpExitsZero) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(runWith({"-h"}), kExitOk);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("Usage"), std::string::npos);
}

TEST(RunInit, BadValueExitsTwoNamingTheFlag) {
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(runWith({"-b", "9080,99999"}), kExitUsage);
  std::string out = testing::internal::GetCapturedStdout();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("-b/--include-inbound-ports: \"99999\""), std::string::npos) << err;
}

TEST(RunInit, EveryValidationErrorExitsTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"-p", "http"},          {"-z", "0"},   {"-u", "root"},  {"-g", "-5"},
      {"-m", "TPROXY"},        {"-b", "*,1"}, {"-d", "*"},     {"-i", "10.0.0.0/40"},
      {"-x", "*"},             {"-q", "1-2"}, {"-o", "65536"}, {"-c", "a b"},
      {"-k", "toolonginterface"}, {"--ipv6", "yes"}, {"--log-level", "loud"}, {"--bogus"},
  };
  for (const auto& args : bad) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(runWith(args), kExitUsage) << args[0];
    EXPECT_NE(testing::internal::GetCapturedStderr().find("remora-init: "), std::string::npos);
  }
}

TEST(RunInit, DryRunPrintsTheRulesWithoutRoot) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(runWith({"-n", "-p", "15001", "-z", "15001", "-u", "1337", "-m", "REDIRECT", "-i",
                     "*", "-b", "9080", "--ipv6", "off"}),
            kExitOk);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("-A REMORA_INBOUND -p tcp -m tcp --dport 9080 -j REMORA_IN_REDIRECT\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("ip6tables"), std::string::npos);
}

TEST(RuleSetsFor, Ipv6Modes) {
  CaptureConfig config;
  EXPECT_EQ(ruleSetsFor(config, false).size(), 1u);
  EXPECT_EQ(ruleSetsFor(config, true).size(), 2u);
  config.ipv6 = Ipv6Mode::kOff;
  EXPECT_EQ(ruleSetsFor(config, true).size(), 1u);
  config.ipv6 = Ipv6Mode::kOn;
  auto sets = ruleSetsFor(config, false);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[1].family, IpFamily::kIpv6);
  config.ipv6 = Ipv6Mode::kAuto;
  auto cidr = parseCidr("-x", "fd00::/8");
  ASSERT_TRUE(cidr.ok());
  config.exclude_outbound_cidrs.push_back(*cidr);
  EXPECT_EQ(ruleSetsFor(config, false).size(), 2u);
}

}  // namespace
}  // namespace remora::init
