// The paging cursor of search links (_cursor=...): an opaque, validated keyset position.
// It names the last (or, for `previous`, the first) row of a page by its sort key values
// and (type, id), and is bound to the query it came from, so that a cursor pasted onto
// another query is refused rather than silently mis-paging.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fhir/search_plan.h"

namespace carnet::fhir {

// `query` is the canonical form of the accepted parameters (the link's query without
// _cursor).
std::string EncodeCursor(const KeysetPosition& position, const std::string& query);

// kBadRequest when the cursor was not written by this server for `query` with
// `key_count` sort keys.
Result<KeysetPosition> DecodeCursor(const std::string& cursor, const std::string& query,
                                    size_t key_count);

}  // namespace carnet::fhir
