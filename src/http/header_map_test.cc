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
