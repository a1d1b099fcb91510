// Tables laid out exactly as Go's text/tabwriter lays out istioctl's, so that
// `remoractl proxy-config` output can be compared with istioctl's character
// for character (../shared/reference/istio-facts.md 2.13).
#pragma once

#include <string>
#include <vector>

namespace remora::ctl {

// Go's tabwriter.Writer settings. istioctl uses {0, 8, 5} everywhere.
struct TabWriterOptions {
  int min_width = 0;
  int tab_width = 8;  // only used when padding with tabs, which we never do
  int padding = 5;
};

// One table line: every cell but the last ends in a (virtual) tab and belongs
// to a column; the last cell is the text before the newline and is never
// padded, so a line ending in an empty cell keeps the previous cell's padding
// as trailing spaces, as Go prints it.
using TableRow = std::vector<std::string>;

// Go's algorithm: a column block is a run of consecutive lines that all have
// a cell in that column; every cell of the block is padded with spaces to the
// widest cell of the block plus `padding`. Widths count UTF-8 code points.
// Every line, the last included, ends in '\n'.
std::string formatTable(const std::vector<TableRow>& rows, const TabWriterOptions& options = {});

}  // namespace remora::ctl
