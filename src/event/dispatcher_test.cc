#include "event/dispatcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace remora::event {
namespace {

TEST(DispatcherTest, PostFromAnotherThreadRunsOnOwner) {
  auto d = Dispatcher::create("test");
  ASSERT_TRUE(d.ok());
  std::atomic<int> ran{0};
  std::thread::id ran_on;
  std::thread::id loop_id;
  std::thread loop([&] {
    loop_id = std::this_thread::get_id();
    (*d)->run();
  });
  (*d)->post([&] {
    ran_on = std::this_thread::get_id();
    ran = 1;
    (*d)->exit();
  });
  loop.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(ran_on, loop_id);
}

TEST(DispatcherTest, TimersFireInOrderAndCanBeCancelled) {
  auto d = Dispatcher::create("test");
  ASSERT_TRUE(d.ok());
  std::vector<int> order;
  auto t1 = (*d)->createTimer([&] { order.push_back(1); });
  auto t2 = (*d)->createTimer([&] {
    order.push_back(2);
    (*d)->exit();
  });
  auto t3 = (*d)->createTimer([&] { order.push_back(3); });
  t2->enable(std::chrono::milliseconds(30));
  t1->enable(std::chrono::milliseconds(5));
  t3->enable(std::chrono::milliseconds(10));
  t3->disable();
  (*d)->run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(DispatcherTest, FileEventReportsReadable) {
  auto d = Dispatcher::create("test");
  ASSERT_TRUE(d.ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string got;
  auto ev = (*d)->createFileEvent(
      fds[0],
      [&](uint32_t ready) {
        char buf[16];
        ssize_t n = read(fds[0], buf, sizeof(buf));
        if (n > 0) got.append(buf, n);
        if (ready & kClosed || n == 0) (*d)->exit();
      },
      kRead);
  ASSERT_EQ(write(fds[1], "hello", 5), 5);
  close(fds[1]);
  (*d)->run();
  ev.reset();
  close(fds[0]);
  EXPECT_EQ(got, "hello");
}

}  // namespace
}  // namespace remora::event
