#include "ctl/tab_writer.h"

#include <algorithm>

namespace remora::ctl {
namespace {

size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

class Formatter {
 public:
  Formatter(const std::vector<TableRow>& rows, const TabWriterOptions& options)
      : rows_(rows), options_(options) {}

  std::string run() {
    format(0, rows_.size());
    return std::move(out_);
  }

 private:
  // Cells of `row` that belong to a column (all but the last).
  static size_t columnCells(const TableRow& row) { return row.empty() ? 0 : row.size() - 1; }

  // A transcription of Go's (*Writer).format: find the blocks of column
  // widths_.size() in [line0, line1), fix each block's width and recurse for
  // the columns to its right.
  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t line = line0; line < line1; ++line) {
      if (column >= columnCells(rows_[line])) continue;
      writeLines(line0, line);
      line0 = line;
      size_t width = static_cast<size_t>(std::max(options_.min_width, 0));
      for (; line < line1 && column < columnCells(rows_[line]); ++line) {
        width = std::max(width, codePoints(rows_[line][column]) + options_.padding);
      }
      widths_.push_back(width);
      format(line0, line);
      widths_.pop_back();
      line0 = line;
      // The loop's ++line steps past the line that ended the block, as Go's
      // does: it has no cell in this column, and writeLines prints it later.
    }
    writeLines(line0, line1);
  }

  void writeLines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const TableRow& row = rows_[i];
      for (size_t j = 0; j < row.size(); ++j) {
        out_ += row[j];
        if (j < widths_.size()) {
          size_t w = codePoints(row[j]);
          if (widths_[j] > w) out_.append(widths_[j] - w, ' ');
        }
      }
      out_ += '\n';
    }
  }

  const std::vector<TableRow>& rows_;
  const TabWriterOptions& options_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string formatTable(const std::vector<TableRow>& rows, const TabWriterOptions& options) {
  return Formatter(rows, options).run();
}

}  // namespace remora::ctl
