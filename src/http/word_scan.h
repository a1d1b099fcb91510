// Byte tests and transforms eight bytes at a time ("SWAR"), for the short
// strings of a header block: names and values are mostly 4 to 40 bytes, where
// a byte loop costs ~5-10 instructions a byte and a call into a vectorised
// libc routine costs more than the work. Each test is exact (no false
// positives): the formulas are the classic ones for "is there a byte below n"
// (valid for n <= 128) and "is there a zero byte". The masks are exact per
// byte too (no carry crosses a byte), so they also locate the byte.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace remora::http::word {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHigh = 0x8080808080808080ULL;

// Nonzero when some byte of `x` is below `n` (n <= 128).
constexpr uint64_t anyBelow(uint64_t x, uint8_t n) {
  return (x - kOnes * n) & ~x & kHigh;
}
// Nonzero when some byte of `x` equals `b`.
constexpr uint64_t anyEqual(uint64_t x, uint8_t b) {
  return anyBelow(x ^ (kOnes * b), 1);
}

// The top bit of each byte of `x` that is below `n` (n <= 128), alone.
constexpr uint64_t belowMask(uint64_t x, uint8_t n) {
  return ~(((x & ~kHigh) + kOnes * (0x80 - n)) | x) & kHigh;
}
// The top bit of each byte of `x` equal to `b`, alone.
constexpr uint64_t equalMask(uint64_t x, uint8_t b) {
  uint64_t y = x ^ (kOnes * b);
  return ~(((y & ~kHigh) + ~kHigh) | y) & kHigh;
}

// ASCII A-Z to a-z in each byte; other bytes, including those >= 0x80, kept.
constexpr uint64_t lowerAscii(uint64_t x) {
  uint64_t low7 = x & ~kHigh;
  uint64_t at_least_a = low7 + 0x3f3f3f3f3f3f3f3fULL;  // top bit set from 'A' (0x41) up
  uint64_t above_z = low7 + 0x2525252525252525ULL;     // top bit set from '[' (0x5b) up
  uint64_t upper = (at_least_a ^ above_z) & ~x & kHigh;
  return x | (upper >> 2);
}

inline uint64_t load(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Whether `test` finds something in some word of `s`. A string of eight bytes
// or more ends with its last eight bytes (overlapping the word before: the
// tests ask "any byte", so looking at a byte twice is harmless); a shorter one
// is padded with `pad`, a byte every test passes.
template <typename WordTest>
bool anyWord(std::string_view s, char pad, WordTest test) {
  size_t n = s.size();
  if (n < 8) {
    if (n == 0) return false;
    char tail[8];
    std::memset(tail, pad, 8);
    for (size_t i = 0; i < n; ++i)
      tail[i] = s[i];
    return test(load(tail)) != 0;
  }
  for (size_t i = 0; i + 8 <= n; i += 8) {
    if (test(load(s.data() + i))) return true;
  }
  return (n % 8 != 0) && test(load(s.data() + n - 8)) != 0;
}

// Index of the first byte of `s` that may not appear in a field value (RFC
// 9110 5.5: VCHAR, obs-text, SP and HTAB may; controls and DEL may not), or
// npos.
inline size_t firstInvalidFieldValueByte(std::string_view s) {
  static_assert(std::endian::native == std::endian::little, "byte order of the masks");
  auto bad = [](uint64_t w) {
    return (belowMask(w, 0x20) & ~equalMask(w, '\t')) | equalMask(w, 0x7f);
  };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    if (uint64_t m = bad(load(s.data() + i))) return i + std::countr_zero(m) / 8;
  }
  if (i == s.size()) return std::string_view::npos;
  char tail[8];
  std::memset(tail, ' ', 8);
  for (size_t k = i; k < s.size(); ++k)
    tail[k - i] = s[k];
  if (uint64_t m = bad(load(tail))) return i + std::countr_zero(m) / 8;
  return std::string_view::npos;
}

// ASCII case-insensitive equality, a word at a time.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      char x = a[i], y = b[i];
      if (x != y && ((x | 0x20) != (y | 0x20) || static_cast<unsigned char>((x | 0x20) - 'a') > 25))
        return false;
    }
    return true;
  }
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (lowerAscii(load(a.data() + i)) != lowerAscii(load(b.data() + i))) return false;
  }
  return i == n || lowerAscii(load(a.data() + n - 8)) == lowerAscii(load(b.data() + n - 8));
}

// Copies `in` to `out` (which holds in.size() bytes) lower-cased.
inline void copyLowercase(char* out, std::string_view in) {
  size_t n = in.size();
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      char c = in[i];
      out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    return;
  }
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = lowerAscii(load(in.data() + i));
    std::memcpy(out + i, &w, 8);
  }
  if (i < n) {  // the last eight bytes again, overlapping: lower-casing is idempotent
    uint64_t w = lowerAscii(load(in.data() + n - 8));
    std::memcpy(out + n - 8, &w, 8);
  }
}

}  // namespace remora::http::word
