#include "http/buffer.h"

#include <gtest/gtest.h>

namespace remora::http {
namespace {

TEST(BufferTest, AddDrainLinearize) {
  Buffer b;
  EXPECT_TRUE(b.empty());
  b.add("hello ");
  b.add(std::string(5000, 'x'));
  b.add("world");
  EXPECT_EQ(b.length(), 5011u);
  EXPECT_GE(b.sliceCount(), 2u);
  b.drain(6);
  EXPECT_EQ(b.frontSlice().substr(0, 3), "xxx");
  std::string_view all = b.linearize();
  EXPECT_EQ(all.size(), 5005u);
  EXPECT_EQ(all.substr(5000), "world");
  EXPECT_EQ(b.sliceCount(), 1u);
  b.drain(10000);
  EXPECT_TRUE(b.empty());
}

TEST(BufferTest, MoveKeepsOrder) {
  Buffer a("abc");
  Buffer big(std::string(2000, 'y'));
  Buffer c;
  c.move(a);
  c.move(big);
  c.add("z");
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(big.empty());
  EXPECT_EQ(c.toString(), "abc" + std::string(2000, 'y') + "z");
  Buffer d;
  d.move(c, 4);
  EXPECT_EQ(d.toString(), "abcy");
  EXPECT_EQ(c.length(), 2000u);
}

TEST(BufferTest, SlicesCoverAllBytes) {
  Buffer b;
  std::string expect;
  for (int i = 0; i < 100; ++i) {
    std::string piece(static_cast<size_t>(i * 97 % 1500), static_cast<char>('a' + i % 26));
    b.add(piece);
    expect += piece;
  }
  std::string got;
  for (std::string_view s : b.slices())
    got.append(s);
  EXPECT_EQ(got, expect);
  EXPECT_EQ(b.linearize(10), expect.substr(0, 10));
}

}  // namespace
}  // namespace remora::http
