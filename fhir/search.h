// FHIR search on the dossier: the query side over the search index that dossier/search_index.h
// writes with every resource version (GET [type]?..., POST [type]/_search, compartment and system
// searches, conditional operations). Search parameters come from the official R4 SearchParameter
// definitions (model::StructureRegistry) plus custom SearchParameter resources, as data:
// no per-parameter code.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "fhir/search_query.h"
#include "storage/access_filter.h"
#include "storage/index_query.h"
#include "storage/pool.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::fhir {

struct SearchRequest {
  std::string type;  // empty: system-level search (_type selects the types)
  std::vector<std::pair<std::string, std::string>> params;  // decoded, in order, repeats kept
  std::string compartment_patient;  // Patient/[id]/[type] searches: the patient's id
  bool strict = false;              // Prefer: handling=strict
  std::string base_url;             // for fullUrl and paging links
  int default_count = 20;
  int max_count = 1000;
  SearchLimits limits;
  // Policy filter ANDed into every statement of the search (matches, includes, chains,
  // _has, counts); the default shows no record's content (AccessFilter::Everything() for
  // carnet's own searches).
  storage::AccessFilter scope;
  // When set, computes `scope` at the start of the search's own transaction (the policy's
  // decision and the statements it filters then read one snapshot, and a search costs one
  // transaction, not two: a BEGIN and a COMMIT round trip fewer). Must not write.
  std::function<Result<storage::AccessFilter>(storage::Transaction&)> resolve_scope;
};

// Runs a search and returns the searchset Bundle. kBadRequest for malformed parameters (and,
// when strict, unknown ones), naming the parameter.
Result<JsonValue> RunSearch(storage::Pool& pool, const SearchRequest& request);

// The page statement RunSearch would run for `request` (first page, no cursor), rendered
// and not run: its SQL and parameters, for EXPLAIN (tests/unit/plan_stability_test.cc)
// and for looking at a search's plan by hand. `request.scope` is used as is.
Result<storage::RenderedQuery> RenderSearch(storage::Transaction& tx, const SearchRequest& request);

// Logical ids of the current resources of `type` matching `query` (a query string, as in
// If-None-Exist or a conditional URL), at most `limit`. For conditional create, update and
// delete, and for conditional references in transactions. `scope` limits the matches to what
// a caller may see (search_access.h: VisibleScope); the default sees everything, for carnet's
// own lookups.
Result<std::vector<std::string>> FindMatchingIds(
    storage::Transaction& tx, const std::string& type, const std::string& query, int limit,
    const storage::AccessFilter& scope = storage::AccessFilter::Everything());

// Search parameter codes supported for a type (for the CapabilityStatement), with their
// FHIR search types.
std::vector<std::pair<std::string, std::string>> SupportedSearchParams(const std::string& type);

// How a composite or special parameter of `type` is written, for the CapabilityStatement
// ("code (token) $ value-quantity (quantity), of one Observation"); empty for the others.
std::string GroupedParamDocumentation(const std::string& type, const std::string& code);

}  // namespace carnet::fhir
