#include "http/buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace remora::http {
namespace {

TEST(BufferTest, AddDrainLinearize) {
  Buffer b;
  EXPECT_TRUE(b.empty());
  b.add("hello ");
  b.add(std::string(20000, 'x'));
  b.add("world");
  EXPECT_EQ(b.length(), 20011u);
  EXPECT_GE(b.sliceCount(), 2u);
  b.drain(6);
  EXPECT_EQ(b.frontSlice().substr(0, 3), "xxx");
  std::string_view all = b.linearize();
  EXPECT_EQ(all.size(), 20005u);
  EXPECT_EQ(all.substr(20000), "world");
  EXPECT_EQ(b.sliceCount(), 1u);
  b.drain(100000);
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

TEST(BufferTest, ReserveCommitReadsInPlace) {
  Buffer b("head:");
  Buffer::Room room = b.reserve(10);
  ASSERT_GE(room.size, 10u);
  memcpy(room.data, "0123456789", 10);
  b.commit(4);
  EXPECT_EQ(b.toString(), "head:0123");
  // A reservation left unused leaves no trace.
  b.reserve(Buffer::kBlockSize * 2);
  b.commit(0);
  EXPECT_EQ(b.toString(), "head:0123");
  EXPECT_EQ(b.sliceCount(), 1u);
}

TEST(BufferTest, LargePartialMoveSharesTheBlock) {
  Buffer src;
  src.add(std::string(3000, 'a'));
  src.add(std::string(3000, 'b'));
  const char* before = src.frontSlice().data();
  Buffer dst;
  dst.move(src, 4000);
  // The bytes were not copied: dst's first slice is src's memory.
  EXPECT_EQ(dst.frontSlice().data(), before);
  EXPECT_EQ(dst.toString(), std::string(3000, 'a') + std::string(1000, 'b'));
  EXPECT_EQ(src.toString(), std::string(2000, 'b'));
  // Appending to either side does not disturb the other.
  src.add("SRC");
  dst.add("DST");
  EXPECT_EQ(src.toString(), std::string(2000, 'b') + "SRC");
  EXPECT_EQ(dst.toString(), std::string(3000, 'a') + std::string(1000, 'b') + "DST");
  src.clear();
  EXPECT_EQ(dst.length(), 4003u);
}

TEST(BufferTest, SmallMovesAreCopiedIntoTheTail) {
  Buffer dst("x");
  for (int i = 0; i < 50; ++i) {
    Buffer piece("ab");
    dst.move(piece);
  }
  EXPECT_EQ(dst.length(), 101u);
  EXPECT_EQ(dst.sliceCount(), 1u);
}

TEST(BufferTest, IovecsCoverTheSlicesInOrder) {
  Buffer b;
  b.add(std::string(Buffer::kBlockSize, 'p'));
  b.add("tail");
  iovec iov[4];
  int n = b.fillIovec(iov, 4);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(iov[0].iov_len, Buffer::kBlockSize);
  EXPECT_EQ(std::string_view(static_cast<char*>(iov[1].iov_base), iov[1].iov_len), "tail");
  Buffer moved(std::move(b));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(moved.length(), Buffer::kBlockSize + 4);
}

}  // namespace
}  // namespace remora::http
