#include "listener/original_dst.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace remora::listener {
namespace {

network::SocketAddress addr(const char* s) { return *network::SocketAddress::parse(s); }

TEST(OriginalDstTest, ExactThenWildcardThenNone) {
  std::map<network::SocketAddress, std::string> listeners = {
      {addr("0.0.0.0:15001"), "virtualOutbound"},
      {addr("10.0.0.5:9080"), "10.0.0.5_9080"},
      {addr("0.0.0.0:9080"), "0.0.0.0_9080"},
      {addr("[::]:9090"), "[::]_9090"},
      {addr("[fd00::5]:9090"), "fd00::5_9090"},
  };
  auto pick = [&](const char* dst) {
    const std::string* l = selectListenerForOriginalDst(addr(dst), listeners);
    return l ? *l : std::string("(none)");
  };
  EXPECT_EQ(pick("10.0.0.5:9080"), "10.0.0.5_9080");
  EXPECT_EQ(pick("10.96.1.2:9080"), "0.0.0.0_9080");
  EXPECT_EQ(pick("10.96.1.2:9081"), "(none)");
  EXPECT_EQ(pick("[fd00::5]:9090"), "fd00::5_9090");
  EXPECT_EQ(pick("[fd00::6]:9090"), "[::]_9090");
  // An IPv4 destination does not fall into an IPv6 wildcard, nor the reverse.
  EXPECT_EQ(pick("10.0.0.9:9090"), "(none)");
  EXPECT_EQ(pick("[fd00::6]:9080"), "(none)");
  // The receiving listener's own address finds itself; the caller keeps it.
  EXPECT_EQ(pick("0.0.0.0:15001"), "virtualOutbound");
}

}  // namespace
}  // namespace remora::listener
