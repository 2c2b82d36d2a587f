#include "storage/search_param_store.h"

#include <optional>
#include <string_view>

#include "storage/sql_builder.h"

namespace carnet::storage {
namespace {

// Parses a text[] value as PostgreSQL prints it ({a,"b c"}); enough for type names.
std::vector<std::string> ParsePgTextArray(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() < 2) return out;
  s = s.substr(1, s.size() - 2);
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur.push_back(s[++i]);
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty() || !out.empty()) out.push_back(cur);
  return out;
}

const Statement kGeneration{"search_param_generation",
                            "SELECT generation FROM search_param_generation"};
const Statement kLoad{"search_param_load",
                      "SELECT base_type, code, param_type, expression, targets, sp_id, "
                      "coalesce(url, ''), components FROM search_param"};
const Statement kDelete{"search_param_delete", "DELETE FROM search_param WHERE sp_id = $1"};
const Statement kInsert{
    "search_param_insert",
    "INSERT INTO search_param (sp_id, base_type, code, param_type, expression, targets, url, "
    "components) VALUES ($1, $2, $3, $4, $5, $6::text[], nullif($7, ''), $8::text[])"};
const Statement kBump{"search_param_bump",
                      "UPDATE search_param_generation SET generation = generation + 1"};

}  // namespace

Result<long long> SearchParamGeneration(Transaction& tx) {
  auto gen = tx.Run(kGeneration);
  if (!gen.ok()) return gen.status();
  return gen->rows() ? gen->GetInt(0, 0) : 0LL;
}

Result<std::vector<SearchParamRow>> LoadSearchParams(Transaction& tx) {
  auto rows = tx.Run(kLoad);
  if (!rows.ok()) return rows.status();
  std::vector<SearchParamRow> out;
  out.reserve(rows->rows());
  for (int i = 0; i < rows->rows(); ++i)
    out.push_back({rows->GetString(i, 5), rows->GetString(i, 0), rows->GetString(i, 1),
                   rows->GetString(i, 2), rows->GetString(i, 3), ParsePgTextArray(rows->Get(i, 4)),
                   rows->GetString(i, 6), ParsePgTextArray(rows->Get(i, 7))});
  return out;
}

Status DeleteSearchParams(Transaction& tx, const std::string& sp_id) {
  auto d = tx.Run(kDelete, {SqlParam::Text(sp_id)});
  return d.ok() ? Status::Ok() : d.status();
}

Status InsertSearchParam(Transaction& tx, const SearchParamRow& row) {
  std::vector<std::optional<std::string>> targets(row.targets.begin(), row.targets.end());
  std::vector<std::optional<std::string>> components(row.components.begin(), row.components.end());
  auto ins =
      tx.Run(kInsert, {SqlParam::Text(row.sp_id), SqlParam::Text(row.base_type),
                       SqlParam::Text(row.code), SqlParam::Text(row.param_type),
                       SqlParam::Text(row.expression), SqlParam::Text(PgArrayLiteral(targets)),
                       SqlParam::Text(row.url), SqlParam::Text(PgArrayLiteral(components))});
  return ins.ok() ? Status::Ok() : ins.status();
}

Status BumpSearchParamGeneration(Transaction& tx) {
  auto bump = tx.Run(kBump);
  return bump.ok() ? Status::Ok() : bump.status();
}

}  // namespace carnet::storage
