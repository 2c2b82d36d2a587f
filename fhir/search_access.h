// What a caller may see when a request names resources by search criteria: the records the
// criteria name and the policy filter over them, as the AccessFilter every statement of the
// search planner ANDs in. Used by search itself and by everything that resolves criteria on
// a caller's behalf (conditional create, update and delete, conditional references), so that
// criteria never match what the caller may not see (issue 13: existence oracles).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "fhir/format.h"
#include "profiles/access.h"
#include "storage/access_filter.h"
#include "storage/transaction.h"

namespace carnet::fhir {

// The records a search names (compartment, patient/subject parameters, a Patient's _id or
// identifier): the policy filters a search over these.
Result<std::vector<long long>> NamedRecords(storage::Transaction& tx, const std::string& type,
                                            const QueryParams& query,
                                            const std::string& compartment);

// The scope of criteria `query` on `type` for the session's actor: its filter over the
// records the criteria name.
Result<storage::AccessFilter> VisibleScope(storage::Transaction& tx,
                                           profiles::AccessSession& session,
                                           const std::string& type, const QueryParams& query);

}  // namespace carnet::fhir
