#include "init/capture_config.h"

#include <gtest/gtest.h>

namespace remora::init {
namespace {

// Expects captureConfigFromFlags to refuse `flags` with a message naming
// `flag` and `value`.
void expectRefused(const CaptureFlags& flags, const std::string& flag, const std::string& value) {
  auto config = captureConfigFromFlags(flags);
  ASSERT_FALSE(config.ok()) << "accepted " << flag << " " << value;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(flag), std::string::npos) << config.status().message();
  EXPECT_NE(config.status().message().find("\"" + value + "\""), std::string::npos)
      << config.status().message();
}

TEST(CaptureConfig, DefaultsAreIstios) {
  auto config = captureConfigFromFlags(CaptureFlags{});
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->outbound_capture_port, 15001);
  EXPECT_EQ(config->inbound_capture_port, 15006);
  EXPECT_EQ(config->proxy_uids, std::vector<uint32_t>{1337});
  EXPECT_EQ(config->proxy_gids, std::vector<uint32_t>{1337});
  EXPECT_TRUE(config->include_inbound_ports.empty());
  EXPECT_TRUE(config->include_outbound_cidrs.empty());
  EXPECT_FALSE(config->singlePort());
}

TEST(CaptureConfig, GidDefaultsToUid) {
  CaptureFlags f;
  f.proxy_uid = "2102";
  auto config = captureConfigFromFlags(f);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->proxy_gids, std::vector<uint32_t>{2102});
}

TEST(CaptureConfig, ListsAreTrimmedDedupedAndToleratetrailingCommas) {
  CaptureFlags f;
  f.include_inbound_ports = " 9080, 9090,9080,";
  f.exclude_outbound_ports = "3306,,";
  auto config = captureConfigFromFlags(f);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->include_inbound_ports.items, (std::vector<uint16_t>{9080, 9090}));
  EXPECT_EQ(config->exclude_outbound_ports, std::vector<uint16_t>{3306});
}

TEST(CaptureConfig, WildcardsAreRecognised) {
  CaptureFlags f;
  f.include_inbound_ports = "*";
  f.include_outbound_cidrs = "*";
  auto config = captureConfigFromFlags(f);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->include_inbound_ports.all);
  EXPECT_TRUE(config->include_outbound_cidrs.all);
}

TEST(CaptureConfig, CidrsAreCanonical) {
  auto a = parseCidr("-i", "10.1.2.3/8");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->toString(), "10.0.0.0/8");
  auto b = parseCidr("-i", "192.168.1.7");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->toString(), "192.168.1.7/32");
  auto c = parseCidr("-i", "fd00:10:96::1/112");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->toString(), "fd00:10:96::/112");
  EXPECT_EQ(c->family, IpFamily::kIpv6);
  auto d = parseCidr("-i", "0.0.0.0/0");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->toString(), "0.0.0.0/0");
}

TEST(CaptureConfig, MentionsIpv6) {
  CaptureFlags f;
  f.exclude_outbound_cidrs = "fd00::/8";
  auto config = captureConfigFromFlags(f);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->mentionsIpv6());
}

TEST(CaptureConfig, SinglePortLayout) {
  CaptureFlags f;
  f.inbound_capture_port = "15001";
  auto config = captureConfigFromFlags(f);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->singlePort());
}

TEST(CaptureConfigErrors, MalformedCapturePorts) {
  for (const char* bad : {"abc", "15o01", "-1", "1.5", "0x10", ""}) {
    CaptureFlags f;
    f.outbound_capture_port = bad;
    expectRefused(f, "-p/--outbound-capture-port", bad);
    CaptureFlags g;
    g.inbound_capture_port = bad;
    expectRefused(g, "-z/--inbound-capture-port", bad);
  }
}

TEST(CaptureConfigErrors, PortsOutOfRange) {
  for (const char* bad : {"0", "65536", "99999", "1234567"}) {
    CaptureFlags f;
    f.outbound_capture_port = bad;
    expectRefused(f, "-p/--outbound-capture-port", bad);
    CaptureFlags b;
    b.include_inbound_ports = std::string("80,") + bad;
    expectRefused(b, "-b/--include-inbound-ports", bad);
  }
}

TEST(CaptureConfigErrors, MalformedPortInEachList) {
  CaptureFlags b;
  b.include_inbound_ports = "9080,http";
  expectRefused(b, "-b/--include-inbound-ports", "http");
  CaptureFlags d;
  d.include_inbound_ports = "*";
  d.exclude_inbound_ports = "15090,x";
  expectRefused(d, "-d/--exclude-inbound-ports", "x");
  CaptureFlags q;
  q.include_outbound_ports = "443:444";
  expectRefused(q, "-q/--include-outbound-ports", "443:444");
  CaptureFlags o;
  o.exclude_outbound_ports = "70000";
  expectRefused(o, "-o/--exclude-outbound-ports", "70000");
}

TEST(CaptureConfigErrors, WildcardWherePortsAreRequired) {
  CaptureFlags d;
  d.exclude_inbound_ports = "*";
  expectRefused(d, "-d/--exclude-inbound-ports", "*");
  CaptureFlags q;
  q.include_outbound_ports = "*";
  expectRefused(q, "-q/--include-outbound-ports", "*");
  CaptureFlags o;
  o.exclude_outbound_ports = "*";
  expectRefused(o, "-o/--exclude-outbound-ports", "*");
}

TEST(CaptureConfigErrors, WildcardMixedWithItems) {
  CaptureFlags b;
  b.include_inbound_ports = "*,9080";
  expectRefused(b, "-b/--include-inbound-ports", "*,9080");
  CaptureFlags i;
  i.include_outbound_cidrs = "10.0.0.0/8,*";
  expectRefused(i, "-i/--include-outbound-cidrs", "10.0.0.0/8,*");
}

TEST(CaptureConfigErrors, WildcardInExcludeCidrs) {
  CaptureFlags x;
  x.exclude_outbound_cidrs = "*";
  expectRefused(x, "-x/--exclude-outbound-cidrs", "*");
  auto config = captureConfigFromFlags(x);
  EXPECT_NE(config.status().message().find("leave -i empty"), std::string::npos);
}

TEST(CaptureConfigErrors, MalformedCidrs) {
  for (const char* bad : {"10.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/a", "fd00::/129",
                          "not-an-ip", "10.0.0.0/8/8", "300.1.1.1/32", "10.0.0.0/-1"}) {
    CaptureFlags i;
    i.include_outbound_cidrs = bad;
    expectRefused(i, "-i/--include-outbound-cidrs", bad);
    CaptureFlags x;
    x.exclude_outbound_cidrs = std::string("192.168.0.0/16,") + bad;
    expectRefused(x, "-x/--exclude-outbound-cidrs", bad);
  }
}

TEST(CaptureConfigErrors, MalformedIds) {
  for (const char* bad : {"istio-proxy", "-1", "13.37", "4294967295", "99999999999"}) {
    CaptureFlags u;
    u.proxy_uid = bad;
    expectRefused(u, "-u/--proxy-uid", bad);
    CaptureFlags g;
    g.proxy_gid = std::string("1337,") + bad;
    expectRefused(g, "-g/--proxy-gid", bad);
  }
  CaptureFlags empty;
  empty.proxy_uid = "";
  expectRefused(empty, "-u/--proxy-uid", "");
}

TEST(CaptureConfigErrors, TproxyIsRefusedClearly) {
  CaptureFlags m;
  m.interception_mode = "TPROXY";
  expectRefused(m, "-m/--interception-mode", "TPROXY");
  auto config = captureConfigFromFlags(m);
  EXPECT_NE(config.status().message().find("not supported yet"), std::string::npos);
}

TEST(CaptureConfigErrors, UnknownMode) {
  CaptureFlags m;
  m.interception_mode = "NAT";
  expectRefused(m, "-m/--interception-mode", "NAT");
}

TEST(CaptureConfigErrors, BadInterfaceNames) {
  for (const char* bad : {"eth 0", "a/b", "*", "averyveryverylongname", "..", "eth+0", "!eth0"}) {
    CaptureFlags c;
    c.exclude_interfaces = bad;
    expectRefused(c, "-c/--exclude-interfaces", bad);
    CaptureFlags k;
    k.kube_virt_interfaces = bad;
    expectRefused(k, "-k/--kube-virt-interfaces", bad);
  }
}

TEST(CaptureConfigErrors, BadIpv6Mode) {
  CaptureFlags f;
  f.ipv6 = "maybe";
  expectRefused(f, "--ipv6", "maybe");
}

}  // namespace
}  // namespace remora::init
