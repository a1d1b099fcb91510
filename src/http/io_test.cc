#include "http/io.h"

#include <gtest/gtest.h>

#include <cinttypes>
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

}  // namespace
}  // namespace remora::http
