#include "network/socket.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace remora::network {
namespace {

TEST(SocketTest, ListenConnectAcceptOnLoopback) {
  auto listener = listenTcp(*SocketAddress::parse("127.0.0.1:0"), ListenOptions{});
  ASSERT_TRUE(listener.ok()) << listener.status().toString();
  auto bound = localAddress(listener->get());
  ASSERT_TRUE(bound.ok());
  EXPECT_NE(bound->port, 0);

  bool in_progress = false;
  auto client = connectTcp(*bound, &in_progress);
  ASSERT_TRUE(client.ok());
  pollfd p{client->get(), POLLOUT, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  EXPECT_TRUE(connectResult(client->get()).ok());

  pollfd lp{listener->get(), POLLIN, 0};
  ASSERT_EQ(poll(&lp, 1, 2000), 1);
  SocketAddress peer;
  auto accepted = acceptTcp(listener->get(), &peer);
  ASSERT_TRUE(accepted.ok());
  ASSERT_TRUE(accepted->valid());
  EXPECT_EQ(peer, *localAddress(client->get()));
  // Not redirected by iptables: there is no original destination.
  EXPECT_FALSE(originalDestination(accepted->get()).ok());
}

TEST(SocketTest, BindConflictNamesTheAddress) {
  ListenOptions exclusive;
  exclusive.reuse_port = false;
  auto first = listenTcp(*SocketAddress::parse("127.0.0.1:0"), exclusive);
  ASSERT_TRUE(first.ok());
  auto addr = localAddress(first->get());
  auto second = listenTcp(*addr, exclusive);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot bind " + addr->toString()), std::string::npos)
      << second.status().message();
}

TEST(SocketTest, ConnectRefusedIsReported) {
  // Find a free port, then close it so nothing listens there.
  SocketAddress target;
  {
    auto l = listenTcp(*SocketAddress::parse("127.0.0.1:0"), ListenOptions{});
    ASSERT_TRUE(l.ok());
    target = *localAddress(l->get());
  }
  bool in_progress = false;
  auto client = connectTcp(target, &in_progress);
  if (!client.ok()) return;  // refused synchronously: also correct
  pollfd p{client->get(), POLLOUT, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  EXPECT_FALSE(connectResult(client->get()).ok());
}

}  // namespace
}  // namespace remora::network
