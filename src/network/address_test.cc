#include "network/address.h"

#include <gtest/gtest.h>

namespace remora::network {
namespace {

TEST(AddressTest, ParsesAndFormatsBothFamilies) {
  auto v4 = SocketAddress::parse("10.1.2.3:9080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->toString(), "10.1.2.3:9080");
  auto v6 = SocketAddress::parse("[::1]:15001");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->ip.isLoopback());
  EXPECT_EQ(v6->toString(), "[::1]:15001");
  EXPECT_FALSE(SocketAddress::parse("10.1.2.3").ok());
  EXPECT_FALSE(SocketAddress::parse("10.1.2.3:70000").ok());
  EXPECT_FALSE(IpAddress::parse("10.1.2").ok());
}

TEST(AddressTest, SockaddrRoundTrip) {
  auto a = SocketAddress::parse("[fd00::5]:80");
  ASSERT_TRUE(a.ok());
  sockaddr_storage ss;
  a->toSockaddr(&ss);
  EXPECT_EQ(SocketAddress::fromSockaddr(ss), *a);
}

TEST(AddressTest, CidrContains) {
  auto r = CidrRange::parse("10.0.0.0/8");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->contains(*IpAddress::parse("10.255.1.1")));
  EXPECT_FALSE(r->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(r->contains(*IpAddress::parse("::1")));
  auto odd = CidrRange::parse("192.168.1.77/27");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->toString(), "192.168.1.64/27");
  EXPECT_TRUE(odd->contains(*IpAddress::parse("192.168.1.95")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("192.168.1.96")));
  EXPECT_FALSE(CidrRange::parse("10.0.0.0/33").ok());
  auto all = CidrRange::parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->contains(*IpAddress::parse("8.8.8.8")));
}

}  // namespace
}  // namespace remora::network
