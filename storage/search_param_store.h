// The custom search parameters as rows: table search_param (one row per SearchParameter and
// base type) and its generation counter (search_param_generation, moved by every change so
// that every process notices). Rows in, rows out; what a row means is model/search_params.h.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct SearchParamRow {
  std::string sp_id;
  std::string base_type, code, param_type, expression;
  std::vector<std::string> targets;
  std::string url;                      // may be empty
  std::vector<std::string> components;  // a composite's, as the registry flattens them
};

// The generation counter (0 before any change).
Result<long long> SearchParamGeneration(Transaction& tx);
Result<std::vector<SearchParamRow>> LoadSearchParams(Transaction& tx);
// Removes every row of the SearchParameter `sp_id`.
Status DeleteSearchParams(Transaction& tx, const std::string& sp_id);
// kDuplicate (or kConflict) when another SearchParameter holds (base_type, code).
Status InsertSearchParam(Transaction& tx, const SearchParamRow& row);
Status BumpSearchParamGeneration(Transaction& tx);

}  // namespace carnet::storage
