// Search planning: a parsed search becomes a description of the query over `resource` and
// the search index (storage/index_query.h: which table, parameter and column comparisons,
// the order, the keyset position, the access filter), which storage renders as one statement
// for the page plus one per include level. The FHIR meaning of a parameter (its prefixes,
// modifiers, escapes, reference forms) is decided here; the SQL is storage's.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fhir/search_query.h"
#include "storage/access_filter.h"
#include "storage/index_query.h"

namespace carnet::fhir {

// A paging position (the cursor of a link): storage's keyset position.
using KeysetPosition = storage::KeysetPosition;

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

storage::IndexQuery PlanSearch(const PlanInput& in);

// The conditions "the resource matches every criterion", for conditional operations.
std::vector<storage::ResourceCondition> PlanCriteria(const std::vector<Criterion>& criteria,
                                                     const std::string& base_url);

// Includes of one level: resources referenced by (or, reverse, referring to) `from`.
storage::IncludeQuery PlanIncludes(const std::vector<IncludeSpec>& includes,
                                   const std::vector<std::pair<std::string, std::string>>& from,
                                   const storage::AccessFilter& scope);

}  // namespace carnet::fhir
