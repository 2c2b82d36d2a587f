// Extraction on write: the index rows of one resource, computed by evaluating every search
// parameter's expression of its type, and written to the idx_* tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "fhir/search_params.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::fhir {

struct IndexRows {
  struct String {
    std::string param, norm, exact;
  };
  struct Token {
    std::string param;
    std::optional<std::string> system, code, text_norm, type_system, type_code;
  };
  struct Reference {
    std::string param;
    std::optional<std::string> target_type, target_id, target_url, id_system, id_value;
  };
  struct Date {
    std::string param, low, high;
  };
  struct Quantity {
    // value as written; low/high set for ranges (Range), else derived from the precision
    std::string param, value;
    std::optional<std::string> low, high, system, code;
  };
  struct Uri {
    std::string param, uri;
  };
  std::vector<String> strings;
  std::vector<Token> tokens;
  std::vector<Reference> references;
  std::vector<Date> dates;
  std::vector<Quantity> quantities;
  std::vector<Uri> uris;
};

// The rows of `resource` (of `type`) for every indexable parameter of `params`.
IndexRows ExtractIndexRows(const SearchParamSet& params, const std::string& type,
                           const JsonValue& resource);

// The SELECT list that turns the text columns c0..c5 of a quantity row (param, value as
// written, low, high, system, code) into idx_quantity's (param, value, low, high, system,
// code): PostgreSQL computes the implicit precision range of the value. Shared with bulk
// loaders (bench/), which COPY the text columns and insert through the same expressions.
extern const char* const kQuantitySelect;

// Writes the rows in one prepared statement, replacing those of the resource's previous
// version (`first_version`: there is none, nothing to delete).
Status WriteIndexRows(storage::Transaction& tx, const storage::StoredResource& stored,
                      const IndexRows& rows, bool first_version = false);

// A reference as written, split: "Patient/1" -> type Patient, id 1; absolute URLs and
// canonicals -> url. Empty fields when not applicable.
struct ParsedReference {
  std::string type, id, url;
};
ParsedReference ParseReference(const std::string& ref);

}  // namespace carnet::fhir
