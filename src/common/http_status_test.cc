#include "common/http_status.h"

#include <gtest/gtest.h>

namespace remora {
namespace {

TEST(HttpStatusTest, ReasonPhrases) {
  EXPECT_EQ(httpReasonPhrase(200), "OK");
  EXPECT_EQ(httpReasonPhrase(409), "Conflict");
  EXPECT_EQ(httpReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(httpReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(httpReasonPhrase(599), "");
}

}  // namespace
}  // namespace remora
