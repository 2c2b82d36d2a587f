#include "base/tsv.h"

namespace carnet {

std::vector<TsvRow> ReadTsv(std::string_view text) {
  std::vector<TsvRow> rows;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    TsvRow row;
    row.line = line_no;
    size_t s = 0;
    while (true) {
      size_t tab = line.find('\t', s);
      row.cells.emplace_back(
          line.substr(s, tab == std::string_view::npos ? std::string_view::npos : tab - s));
      if (tab == std::string_view::npos) break;
      s = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace carnet
