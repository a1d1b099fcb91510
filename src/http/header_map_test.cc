#include "http/header_map.h"

#include <gtest/gtest.h>

namespace remora::http {
namespace {

TEST(HeaderMapTest, CaseInsensitiveAndOrdered) {
  HeaderMap h;
  h.add(":method", "GET");
  h.add("Content-Length", "5");
  h.add("X-Foo", "1");
  h.add("x-foo", "2");
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.entries()[1].name, "content-length");
  EXPECT_EQ(*h.get("CONTENT-LENGTH"), "5");
  EXPECT_EQ(h.value(Known::kContentLength), "5");
  EXPECT_EQ(h.method(), "GET");
  EXPECT_EQ(h.getJoined("x-foo"), "1, 2");
  EXPECT_EQ(h.get("absent"), nullptr);
  EXPECT_FALSE(h.has(Known::kPath));
}

TEST(HeaderMapTest, SetAndRemoveKeepIndex) {
  HeaderMap h;
  h.add("a", "1");
  h.add("connection", "keep-alive");
  h.add("a", "2");
  h.add("transfer-encoding", "chunked");
  h.set("A", "3");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.getJoined("a"), "3");
  EXPECT_EQ(h.value(Known::kTransferEncoding), "chunked");
  EXPECT_EQ(h.remove("connection"), 1u);
  EXPECT_FALSE(h.has(Known::kConnection));
  EXPECT_EQ(h.value(Known::kTransferEncoding), "chunked");
  h.set("connection", "close");
  EXPECT_EQ(h.value(Known::kConnection), "close");
}

TEST(HeaderMapTest, Tokens) {
  HeaderMap h;
  h.add("connection", "keep-alive, Upgrade");
  h.add("Connection", " close ");
  EXPECT_TRUE(h.hasToken("connection", "upgrade"));
  EXPECT_TRUE(h.hasToken("connection", "close"));
  EXPECT_FALSE(h.hasToken("connection", "up"));
}

TEST(HeaderMapTest, KnownNamesRoundTrip) {
  for (size_t i = 0; i < static_cast<size_t>(Known::kCount); ++i) {
    Known k = static_cast<Known>(i);
    EXPECT_EQ(knownFromName(knownName(k)), k) << knownName(k);
  }
  EXPECT_EQ(knownFromName("x-other"), Known::kCount);
}

TEST(HeaderMapTest, LowerCasesOnlyAsciiLetters) {
  HeaderMap h;
  h.add("X-Mixed_Case-09@[`{", "Value Kept");
  EXPECT_EQ(h.entries()[0].name, "x-mixed_case-09@[`{");
  EXPECT_EQ(h.entries()[0].value, "Value Kept");
}

TEST(HeaderMapTest, LowerCasesEveryByteValueAtEveryLengthAndOffset) {
  // Names are lower-cased eight bytes at a time with a short tail: every byte
  // value in every position of names of 1 to 24 bytes.
  for (size_t len = 1; len <= 24; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string name(len, 'Q');
        name[pos] = static_cast<char>(b);
        std::string want = name;
        for (char& c : want)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        HeaderMap h;
        h.add(name, "v");
        ASSERT_EQ(h.entries()[0].name, want) << "length " << len << " byte " << b << " at " << pos;
      }
    }
  }
}

TEST(HeaderMapTest, ArgumentsThatViewTheMapSurviveItsGrowth) {
  HeaderMap h;
  h.add("x-first", std::string(200, 'a'));
  // Each add may move the character buffer while copying from it.
  for (int i = 0; i < 12; ++i) {
    const HeaderMap::Entry& last = h.entries().back();
    h.add(last.name, last.value);
  }
  ASSERT_EQ(h.size(), 13u);
  for (const auto& e : h) {
    EXPECT_EQ(e.name, "x-first");
    EXPECT_EQ(e.value, std::string(200, 'a'));
  }
  // set() with a longer value built from the map, and with a part of itself.
  h.set("x-other", "short");
  h.set("x-other", std::string(*h.get("x-first")) + "b");
  EXPECT_EQ(*h.get("x-other"), std::string(200, 'a') + "b");
  h.set("x-other", h.get("x-other")->substr(150));
  EXPECT_EQ(*h.get("x-other"), std::string(50, 'a') + "b");
  h.set(h.entries()[0].name, *h.get("x-other"));  // name views the map: duplicates dropped first
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.entries()[0].value, std::string(50, 'a') + "b");
  EXPECT_EQ(h.byteSize(), 2 * (7 + 51));
}

TEST(HeaderMapTest, CopiesAndMovesKeepFieldsAndIndex) {
  HeaderMap h;
  h.addParsed("Host", "a.example");
  h.add("x-b", "2");
  HeaderMap copy = h;
  h.set(Known::kHost, "changed");
  EXPECT_EQ(copy.value(Known::kHost), "a.example");
  EXPECT_TRUE(copy.entries()[0].parsed);
  HeaderMap moved = std::move(copy);
  EXPECT_EQ(moved.value(Known::kHost), "a.example");
  EXPECT_EQ(*moved.get("x-b"), "2");
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from map is empty
  EXPECT_FALSE(copy.has(Known::kHost));
  copy.add("x-c", "3");  // and usable
  EXPECT_EQ(copy.toString(), "x-c: 3\n");
  copy = moved;
  EXPECT_EQ(copy, moved);
}

TEST(HeaderMapTest, ClearForgetsFieldsAndIndex) {
  HeaderMap h;
  h.add(":status", "200");
  h.add("content-length", "5");
  h.add("x-long-header-name-beyond-small-strings", std::string(100, 'v'));
  h.clear();
  size_t bytes = h.retainedBytes();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.byteSize(), 0u);
  EXPECT_FALSE(h.has(Known::kStatus));
  EXPECT_FALSE(h.has(Known::kContentLength));
  EXPECT_EQ(h.get("x-long-header-name-beyond-small-strings"), nullptr);
  h.add("content-length", "7");
  EXPECT_EQ(h.value(Known::kContentLength), "7");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.byteSize(), std::string_view("content-length7").size());
  // Filling it again with fields of the same sizes reuses the kept buffers.
  h.add(":status", "200");
  h.add("x-long-header-name-beyond-small-strings", std::string(100, 'v'));
  h.clear();
  EXPECT_EQ(h.retainedBytes(), bytes);
}

TEST(HeaderMapTest, ReleasedMapsComeBackEmpty) {
  HeaderMap* first;
  {
    HeaderMapPtr h = newHeaderMap();
    first = h.get();
    h->add(":method", "GET");
    h->addParsed("x-parsed", "yes");
  }
  HeaderMapPtr again = newHeaderMap();
  EXPECT_EQ(again.get(), first);  // recycled on this thread
  EXPECT_TRUE(again->empty());
  EXPECT_FALSE(again->has(Known::kMethod));
  again->add("x-added", "no");
  EXPECT_FALSE(again->entries()[0].parsed);  // no flag left over from the last user
  HeaderMapPtr other = newHeaderMap();
  EXPECT_NE(other.get(), again.get());
}

TEST(HeaderMapTest, OversizedMapsAreNotKept) {
  HeaderMap* big;
  {
    HeaderMapPtr h = newHeaderMap();
    big = h.get();
    h->add("x-big", std::string(64 * 1024, 'b'));
  }
  HeaderMapPtr next = newHeaderMap();
  EXPECT_LT(next->retainedBytes(), 64u * 1024);
  (void)big;
}

TEST(HeaderMapTest, ChangingAParsedValueDropsTheParsedMark) {
  HeaderMap h;
  h.addParsed("x-a", "1");
  h.addParsed("date", "then");
  EXPECT_TRUE(h.entries()[0].parsed);
  h.set("x-a", "2\r\nx-injected: 1");
  h.set(Known::kDate, "now");
  EXPECT_FALSE(h.entries()[0].parsed);
  EXPECT_FALSE(h.entries()[1].parsed);
}

}  // namespace
}  // namespace remora::http
