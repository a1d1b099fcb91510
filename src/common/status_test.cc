#include "common/status.h"

#include <gtest/gtest.h>

namespace remora {
namespace {

StatusOr<int> parsePositive(int v) {
  if (v <= 0) return invalidArgumentError("not positive: " + std::to_string(v));
  return v;
}

Status doubled(int v, int* out) {
  REMORA_ASSIGN_OR_RETURN(int x, parsePositive(v));
  *out = 2 * x;
  return Status::okStatus();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status().ok());
  Status s = invalidArgumentError("bad");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.toString(), "INVALID_ARGUMENT: bad");
  EXPECT_EQ(s.withPrefix("file.yaml").message(), "file.yaml: bad");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(doubled(4, &out).ok());
  EXPECT_EQ(out, 8);
  Status s = doubled(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "not positive: -1");
}

}  // namespace
}  // namespace remora
