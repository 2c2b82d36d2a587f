// Reading the tab-separated data files the layers keep beside their sources (and compile in
// with cmake/embed_text.cmake): one row a line, cells split on tabs, '#' lines and blank lines
// skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace carnet {

struct TsvRow {
  size_t line = 0;                 // 1-based line number in the text, for error messages
  std::vector<std::string> cells;  // as written, a trailing CR dropped
};

// The rows of `text`, in order.
std::vector<TsvRow> ReadTsv(std::string_view text);

}  // namespace carnet
