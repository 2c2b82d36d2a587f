#include "profiles/rows.h"

namespace carnet::profiles {

std::vector<std::string> RowFields(std::string_view line, size_t max_fields) {
  std::vector<std::string> out;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i >= line.size()) break;
    if (out.size() + 1 == max_fields) {
      std::string rest(line.substr(i));
      while (!rest.empty() && blank(rest.back())) rest.pop_back();
      out.push_back(rest);
      break;
    }
    size_t j = i;
    while (j < line.size() && !blank(line[j])) ++j;
    out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

Status ForEachRow(
    std::string_view text, std::string_view origin,
    const std::function<Status(std::string_view line, const std::string& where)>& row) {
  size_t line_no = 0, start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (RowFields(line).empty()) continue;
    CARNET_RETURN_IF_ERROR(row(line, std::string(origin) + ":" + std::to_string(line_no)));
  }
  return Status::Ok();
}

}  // namespace carnet::profiles
