// Narrow lookups in the search index tables for the dossier's own rules, where a full FHIR
// search (fhir/search.h) would be both a layering inversion and a slower plan.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The current resources of `type` whose token parameter `param` has code `code` (any system),
// at most `limit`, in id order.
Result<std::vector<std::string>> FindByTokenCode(Transaction& tx, const std::string& type,
                                                 const std::string& param, const std::string& code,
                                                 int limit);

// The current `source_type` resources whose reference parameter `param` points at
// target_type/target_id and that carry the tag system|code (index param _tag), at most
// `limit`, each id once, in id order. From the index alone: no join with the resource table,
// whose id order let the planner walk every Provenance of the store when statistics were
// stale (600 ms per deposit on the 1M-document bench store).
Result<std::vector<std::string>> FindTaggedReferrers(
    Transaction& tx, const std::string& source_type, const std::string& param,
    const std::string& target_type, const std::string& target_id, const std::string& tag_system,
    const std::string& tag_code, int limit);

// A current (not deleted) conformance resource (StructureDefinition, ValueSet, CodeSystem) found
// by its canonical url.
struct CanonicalRow {
  std::string id;
  int version = 0;                // the stored version (versionId)
  std::string last_updated;       // as PostgreSQL prints it
  std::string canonical_version;  // its `version` element, "" when none
};
// The current resources of `type` whose `url` search parameter is `url`, most recently written
// first, at most 50.
Result<std::vector<CanonicalRow>> FindByCanonicalUrl(Transaction& tx, const std::string& type,
                                                     const std::string& url);

}  // namespace carnet::storage
