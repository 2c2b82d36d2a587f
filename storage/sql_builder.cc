#include "storage/sql_builder.h"

namespace carnet::storage {

std::string PgArrayLiteral(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += "\"";
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += "\\";
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string SqlBuilder::Param(std::string value) {
  params_.push_back(SqlParam::Text(std::move(value)));
  return "$" + std::to_string(params_.size());
}

std::string SqlBuilder::Null() {
  params_.push_back(SqlParam::Null());
  return "$" + std::to_string(params_.size());
}

std::string SqlBuilder::TextArray(const std::vector<std::string>& values) {
  std::vector<std::optional<std::string>> v(values.begin(), values.end());
  return TextArrayN(v);
}

std::string SqlBuilder::TextArrayN(const std::vector<std::optional<std::string>>& values) {
  return Param(PgArrayLiteral(values)) + "::text[]";
}

}  // namespace carnet::storage
