#include "http/word_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::http::word {
namespace {

// Every byte value in every position of a word whose other bytes are `fill`:
// each word test must agree with the byte-by-byte definition.
template <typename Word, typename Byte>
void expectSameAsBytes(Word word_test, Byte byte_test, const char* what) {
  for (int fill : {0x00, 0x20, 0x41, 0x61, 0x7f, 0x80, 0xff}) {
    for (int pos = 0; pos < 8; ++pos) {
      for (int b = 0; b < 256; ++b) {
        unsigned char bytes[8];
        std::memset(bytes, fill, 8);
        bytes[pos] = static_cast<unsigned char>(b);
        bool want = false;
        for (unsigned char c : bytes)
          want = want || byte_test(c);
        uint64_t w;
        std::memcpy(&w, bytes, 8);
        ASSERT_EQ(word_test(w) != 0, want)
            << what << ": byte " << b << " at " << pos << " among " << fill;
      }
    }
  }
}

TEST(WordScanTest, TestsAgreeWithTheirByteDefinitions) {
  expectSameAsBytes([](uint64_t w) { return anyBelow(w, 0x21); },
                    [](unsigned char c) { return c < 0x21; }, "below 0x21");
  expectSameAsBytes([](uint64_t w) { return anyBelow(w, 1); },
                    [](unsigned char c) { return c == 0; }, "zero");
  expectSameAsBytes([](uint64_t w) { return anyEqual(w, ':'); },
                    [](unsigned char c) { return c == ':'; }, "colon");
  expectSameAsBytes([](uint64_t w) { return anyEqual(w, 0x7f); },
                    [](unsigned char c) { return c == 0x7f; }, "DEL");
  expectSameAsBytes([](uint64_t w) { return anyBelow(w, 128); },
                    [](unsigned char c) { return c < 128; }, "below 128");
}

TEST(WordScanTest, MasksMarkExactlyTheMatchingBytes) {
  for (int fill : {0x00, 0x09, 0x1f, 0x20, 0x41, 0x7f, 0x80, 0xff}) {
    for (int pos = 0; pos < 8; ++pos) {
      for (int b = 0; b < 256; ++b) {
        unsigned char bytes[8];
        std::memset(bytes, fill, 8);
        bytes[pos] = static_cast<unsigned char>(b);
        uint64_t w, want_below = 0, want_equal = 0;
        std::memcpy(&w, bytes, 8);
        for (int i = 0; i < 8; ++i) {
          if (bytes[i] < 0x20) want_below |= uint64_t{0x80} << (8 * i);
          if (bytes[i] == 0x7f) want_equal |= uint64_t{0x80} << (8 * i);
        }
        ASSERT_EQ(belowMask(w, 0x20), want_below) << b << " at " << pos << " among " << fill;
        ASSERT_EQ(equalMask(w, 0x7f), want_equal) << b << " at " << pos << " among " << fill;
      }
    }
  }
}

TEST(WordScanTest, FindsTheFirstInvalidFieldValueByte) {
  auto valid = [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); };
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'v');
        s[pos] = static_cast<char>(b);
        size_t want = valid(static_cast<unsigned char>(b)) ? std::string_view::npos : pos;
        ASSERT_EQ(firstInvalidFieldValueByte(s), want) << "length " << len << " byte " << b;
      }
    }
  }
  std::string two = std::string("ab\x01") + "cdefgh\x7f";
  EXPECT_EQ(firstInvalidFieldValueByte(two), 2u);
  EXPECT_EQ(firstInvalidFieldValueByte(""), std::string_view::npos);
}

TEST(WordScanTest, EqualsIgnoreCaseForEveryPairOfBytesAndLength) {
  for (size_t len = 1; len <= 17; len += 4) {
    for (int x = 0; x < 256; ++x) {
      for (int y = 0; y < 256; ++y) {
        std::string a(len, 'k'), b(len, 'K');
        a[len / 2] = static_cast<char>(x);
        b[len / 2] = static_cast<char>(y);
        auto fold = [](int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; };
        ASSERT_EQ(equalsIgnoreCase(a, b), fold(x) == fold(y)) << len << " " << x << " " << y;
      }
    }
  }
  EXPECT_FALSE(equalsIgnoreCase("abc", "abcd"));
}

TEST(WordScanTest, LowerAsciiChangesOnlyUpperCaseLetters) {
  for (int pos = 0; pos < 8; ++pos) {
    for (int b = 0; b < 256; ++b) {
      unsigned char bytes[8] = {'A', 'z', '@', '[', 0x80, 0xc1, 'Q', '`'};
      bytes[pos] = static_cast<unsigned char>(b);
      unsigned char want[8];
      for (int i = 0; i < 8; ++i)
        want[i] = (bytes[i] >= 'A' && bytes[i] <= 'Z') ? bytes[i] + 32 : bytes[i];
      uint64_t w;
      std::memcpy(&w, bytes, 8);
      w = lowerAscii(w);
      ASSERT_EQ(std::memcmp(&w, want, 8), 0) << "byte " << b << " at " << pos;
    }
  }
}

TEST(WordScanTest, AnyWordLooksAtEveryByteOfEveryLengthAndNoPadding) {
  auto has_cr = [](uint64_t w) { return anyEqual(w, '\r'); };
  for (size_t len = 0; len <= 25; ++len) {
    std::string s(len, 'v');
    EXPECT_FALSE(anyWord(s, 'a', has_cr)) << len;
    for (size_t pos = 0; pos < len; ++pos) {
      s[pos] = '\r';
      EXPECT_TRUE(anyWord(s, 'a', has_cr)) << len << " at " << pos;
      s[pos] = 'v';
    }
    // Bytes just past the end are never read as part of the string.
    std::string longer = s + "\r\r\r\r\r\r\r\r";
    EXPECT_FALSE(anyWord(std::string_view(longer).substr(0, len), 'a', has_cr)) << len;
  }
}

}  // namespace
}  // namespace remora::http::word
