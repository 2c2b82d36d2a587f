// A search request parsed against the parameter registry: criteria (AND of OR-lists),
// result parameters (_sort, _count, _include...), and what was ignored (lenient handling).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/search_params.h"

namespace carnet::fhir {

// One occurrence of a filtering parameter: its values are OR-ed; occurrences are AND-ed.
struct Criterion {
  std::string name;                 // as written, with its modifier: "subject:Patient.name"
  std::string code;                 // "subject", "_id", "_lastUpdated", "_has"
  std::string modifier;             // "exact", "not", "missing", "Patient"...
  std::string param_type;           // the parameter's search type
  std::vector<std::string> values;  // split at unescaped commas, still escaped otherwise
  // Chained parameter (subject:Patient.name=x): the target types and the criterion that
  // applies to the targets.
  std::vector<std::string> chain_types;
  std::shared_ptr<Criterion> chained;
  // Reverse chaining (_has:Observation:patient:code=x): the referring type, its reference
  // parameter, and the criterion on the referring resources.
  std::string has_type, has_param;
  std::vector<std::string> types;  // the resource types this criterion applies to
  // A composite (param_type "composite") or near ("special"): the type of each component, in
  // the order of the value's `$`-separated parts (near: latitude and longitude, numbers).
  std::vector<std::string> component_types;
};

struct SortKey {
  std::string code;
  bool descending = false;
  std::string param_type;  // string token reference date number quantity uri; "_id"...
};

struct IncludeSpec {
  bool reverse = false;  // _revinclude
  bool iterate = false;
  std::string source_type;  // the referring type
  std::string param;        // its reference parameter; "*": every reference parameter
  std::string target_type;  // empty: any
};

struct ParsedSearch {
  std::vector<std::string> types;  // one, or several for a system search
  std::vector<Criterion> criteria;
  std::vector<SortKey> sort;
  int count = 20;
  std::string total;    // "", none, estimate, accurate
  std::string summary;  // "", true, text, data, count, false
  std::vector<std::string> elements;
  std::vector<IncludeSpec> includes;
  std::string cursor;  // _cursor as received
  // The accepted parameters, in order, as they go into the self/next/previous links.
  std::vector<std::pair<std::string, std::string>> link_params;
  // Lenient handling: "name: why" of every parameter ignored.
  std::vector<std::string> ignored;
};

// What one search may ask, so that no request builds a statement PostgreSQL cannot plan or
// runs for minutes (server/config.h: search_max_*). Beyond: kBadRequest naming the limit.
struct SearchLimits {
  int max_params = 50;      // parameters of the request (_format and _pretty aside)
  int max_or_values = 100;  // comma-separated values of one parameter
  int max_chain_depth = 1;  // links of a chain or _has; deeper ones are not served anyway
  int max_includes = 10;    // _include and _revinclude together
};

struct ParseOptions {
  std::vector<std::string> types;  // resolved by the caller (type, or _type, or all served)
  bool strict = false;
  int default_count = 20;
  int max_count = 1000;
  bool allow_result_params = true;  // false for conditional operations (criteria only)
  SearchLimits limits;
};

// kBadRequest naming the parameter for malformed values and, when strict, for unknown or
// unsupported parameters.
Result<ParsedSearch> ParseSearch(const model::SearchParamSet& params,
                                 const std::vector<std::pair<std::string, std::string>>& query,
                                 const ParseOptions& options);

// Splits at `sep` not preceded by a backslash; the pieces keep their escapes.
std::vector<std::string> SplitUnescaped(const std::string& s, char sep);
// Removes the FHIR search escapes (\, \| \$ \\).
std::string UnescapeSearch(const std::string& s);

// Location's near: latitude|longitude[|distance[|units]] (decimal degrees; the distance in
// km, m, [mi_i] or [nmi_i], UCUM codes; km when no units are given, 10 km when no distance).
struct NearValue {
  double latitude = 0, longitude = 0, distance_km = 0;
};
std::optional<NearValue> ParseNear(const std::string& value);

// A value prefix of number/date/quantity parameters: "ge2024" -> {"ge", "2024"}; "eq" when
// none is written.
std::pair<std::string, std::string> SplitPrefix(const std::string& value);

}  // namespace carnet::fhir
