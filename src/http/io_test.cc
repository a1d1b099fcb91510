#include "http/io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <cstdio>
#include <string>

namespace remora::http {
namespace {

TEST(UuidTest, Version4TextFromTheGeneratorsBits) {
  RandomGenerator random(42);
  RandomGenerator same(42);
  for (int n = 0; n < 100; ++n) {
    char out[36];
    writeUuid(random, out);
    uint64_t hi = (same.next() & 0xffffffffffff0fffull) | 0x4000ull;
    uint64_t lo = (same.next() & 0x3fffffffffffffffull) | 0x8000000000000000ull;
    char want[40];
    std::snprintf(want, sizeof(want),
                  "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, hi >> 32,
                  (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & uint64_t{0xffffffffffff});
    std::string got(out, 36);
    EXPECT_EQ(got, want);
    EXPECT_EQ(got[14], '4');
    EXPECT_NE(std::string("89ab").find(got[19]), std::string::npos) << got;
  }
}

// A buffer of `slices` slices holding `size` bytes in all.
Buffer slicedBuffer(size_t slices, size_t size, std::string* content) {
  Buffer out;
  for (size_t i = 0; i < slices; ++i) {
    std::string part(size / slices + (i == 0 ? size % slices : 0), static_cast<char>('a' + i));
    content->append(part);
    // A room of a whole block is never left at the tail: each part starts a slice.
    Buffer::Room room = out.reserve(std::max(part.size(), Buffer::kBlockSize));
    std::memcpy(room.data, part.data(), part.size());
    out.commit(part.size());
  }
  return out;
}

std::string readAll(int fd, size_t size) {
  std::string got;
  char buf[65536];
  while (got.size() < size) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(WriteSomeTest, SendsEveryShapeOfBufferInOrder) {
  // One slice, a few small ones (sent as one piece), and many or large ones
  // (an iovec).
  for (auto [slices, size] : std::vector<std::pair<size_t, size_t>>{
           {1, 100}, {2, 1300}, {5, 8192}, {3, 8193}, {20, 4000}, {2, 100000}}) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    int big = 1 << 20;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    std::string content;
    Buffer b = slicedBuffer(slices, size, &content);
    ASSERT_EQ(b.sliceCount(), slices);
    IoStatus st = writeSome(fds[0], b);
    EXPECT_EQ(st.result, IoResult::kOk) << slices << " slices, " << size << " bytes";
    EXPECT_EQ(st.bytes, size);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(readAll(fds[1], size), content) << slices << " slices, " << size << " bytes";
    close(fds[0]);
    close(fds[1]);
  }
}

TEST(WriteSomeTest, AFullSocketKeepsWhatItDidNotTake) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::string content;
  Buffer b = slicedBuffer(4, 4 << 20, &content);
  IoStatus st = writeSome(fds[0], b);
  EXPECT_EQ(st.result, IoResult::kAgain);
  EXPECT_GT(st.bytes, 0u);
  EXPECT_EQ(b.length(), content.size() - st.bytes);
  std::string got = readAll(fds[1], st.bytes);
  EXPECT_EQ(got, content.substr(0, st.bytes));
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace remora::http
