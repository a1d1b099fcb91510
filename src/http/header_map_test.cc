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

}  // namespace
}  // namespace remora::http
