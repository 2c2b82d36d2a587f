// The check that the bulk load (bench/fast_load.h) leaves what the exact load
// (bench/slow_load.h) leaves: two databases loaded with the same dossiers, compared table by
// table and query by query. Used by tests/unit/bench_load_test.cc and `carnet-bench compare`.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "bench/dossier.h"

namespace carnet::bench {

// One table of both databases: its rows, the columns that differ by nature left out
// (timestamps of the load, random audit event ids, hence the chain hashes; the audit
// events are compared by their rank in their chain instead of their sequence number).
struct TableComparison {
  std::string table;
  long long rows_a = 0, rows_b = 0;
  bool same = false;
  std::string difference;  // the first differing row of each side, when not the same
};
Result<std::vector<TableComparison>> CompareTables(const std::string& conninfo_a,
                                                   const std::string& conninfo_b);

// One query asked of both databases through carnet's own front ends (FHIR search through
// fhir::FhirApi, ITI-18 FindDocuments through xds::XdsService), in-process: the ids found.
struct QueryComparison {
  std::string query;
  std::vector<std::string> ids_a, ids_b;
  bool same() const { return ids_a == ids_b; }
};
// Searches on a few dossiers of `generator` (the first, the last, some between): documents by
// type and date, lab results by code and value, immunizations, treatments, allergies, the
// Patient by INS, and ITI-18. Leaves read audit events in both databases.
Result<std::vector<QueryComparison>> CompareQueries(const std::string& conninfo_a,
                                                    const std::string& conninfo_b,
                                                    const DossierGenerator& generator);

// Recomputes every audit chain of the database (storage::VerifyAuditChains).
Status VerifyAudit(const std::string& conninfo);

}  // namespace carnet::bench
