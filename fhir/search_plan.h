// SQL planning: a parsed search becomes one statement over `resource` and the idx_* tables
// (EXISTS semi-joins that PostgreSQL drives from the index tables' B-trees), plus one
// statement per include level. Values always travel as parameters.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fhir/search_query.h"
#include "storage/access_filter.h"
#include "storage/sql_builder.h"

namespace carnet::fhir {

// A keyset position: the sort key values (text as PostgreSQL prints them, nullopt when the
// resource has no value) and the tie-break of the row.
struct KeysetPosition {
  std::vector<std::optional<std::string>> keys;
  std::string res_type, res_id;
  bool before = false;  // true: the page before this position (a `previous` link)
};

struct PlanInput {
  const ParsedSearch* search = nullptr;
  const storage::AccessFilter* scope = nullptr;
  std::string base_url;             // absolute references to this server are local
  std::string compartment_patient;  // Patient/[id]/[type]
  std::optional<KeysetPosition> position;
  bool with_total = false;
  bool with_rows = true;  // false: count only
  int limit = 20;         // rows to fetch (page size + 1 tells whether there is more)
};

// Columns of the statement: res_type, res_id, content, k0..kn (text), total (when asked;
// NULL-filled row when the page is empty).
struct PlannedQuery {
  std::string sql;
  storage::SqlParams params;
  int key_count = 0;
};

PlannedQuery PlanSearch(const PlanInput& in);

// The predicate "resource `alias` matches every criterion", for conditional operations and
// tests.
std::string CriteriaSql(const std::vector<Criterion>& criteria, const std::string& alias,
                        const storage::AccessFilter& scope, const std::string& base_url,
                        storage::SqlBuilder& b);

// Includes of one level: resources referenced by (or, reverse, referring to) `from`.
// Columns: res_type, res_id, content.
PlannedQuery PlanIncludes(const std::vector<IncludeSpec>& includes,
                          const std::vector<std::pair<std::string, std::string>>& from,
                          const storage::AccessFilter& scope);

}  // namespace carnet::fhir
