#include "ctl/tab_writer.h"

#include <gtest/gtest.h>

namespace remora::ctl {
namespace {

TEST(TabWriterTest, PadsEachColumnToItsWidestCellPlusFive) {
  EXPECT_EQ(formatTable({{"A", "PORT", "X"}, {"longer", "9080", "y"}}),
            "A          PORT     X\n"
            "longer     9080     y\n");
}

TEST(TabWriterTest, LastCellIsNotPaddedButAnEmptyLastCellLeavesThePadding) {
  // istioctl's routes table ends in VIRTUAL SERVICE, often empty: Go prints
  // the padded MATCH cell and nothing after it.
  EXPECT_EQ(formatTable({{"NAME", "MATCH", "VIRTUAL SERVICE"}, {"9080", "/*", ""}}),
            "NAME     MATCH     VIRTUAL SERVICE\n"
            "9080     /*        \n");
}

TEST(TabWriterTest, ALineWithFewerCellsEndsTheColumnBlock) {
  // Go sizes a column per block of consecutive lines that have it: the
  // single-cell line in the middle splits column 0 in two blocks.
  EXPECT_EQ(formatTable({{"a", "b", "c"}, {"x"}, {"long", "d"}}),
            "a     b     c\n"
            "x\n"
            "long     d\n");
}

TEST(TabWriterTest, InnerColumnBlocksAreSizedSeparately) {
  // Column 1 exists only in lines 0 and 2, so lines 0 and 2 form two blocks
  // for it while column 0 spans all three lines.
  EXPECT_EQ(formatTable({{"a", "bbbbbb", "c"}, {"aa", "z"}, {"a", "b", "c"}}),
            "a      bbbbbb     c\n"
            "aa     z\n"
            "a      b     c\n");
}

TEST(TabWriterTest, WidthsCountCodePointsNotBytes) {
  EXPECT_EQ(formatTable({{"\xC3\xA9", "x"}, {"ab", "y"}}),
            "\xC3\xA9      x\n"
            "ab     y\n");
}

TEST(TabWriterTest, MinWidthAndPaddingAreHonoured) {
  TabWriterOptions o;
  o.min_width = 6;
  o.padding = 1;
  EXPECT_EQ(formatTable({{"a", "b"}, {"abcdefg", "c"}}, o),
            "a       b\n"
            "abcdefg c\n");
  EXPECT_EQ(formatTable({{"a", "b"}}, o), "a     b\n");
}

}  // namespace
}  // namespace remora::ctl
