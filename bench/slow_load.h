// The exact (slow) load: every write of the generated dossiers goes through carnet's own
// write path (fhir::Interactions, as a deposit source's PUT does: validation, policy,
// versions, search index, XDS registry, extraction, notifications, audit), every access
// through the FHIR API in-process (fhir::FhirApi::Handle: the read and search handlers with
// their policy decisions and audit records). It is the reference the bulk path
// (bench/fast_load.h) is checked against, and the way to load anything the bulk path does
// not cover. About 40 to 100 documents per second.
#pragma once

#include <string>

#include "base/status.h"
#include "bench/dossier.h"

namespace carnet::bench {

struct LoadReport {
  long long patients = 0;
  long long documents = 0;
  long long resources = 0;  // versions written (every write of every dossier)
  long long accesses = 0;   // access events (reads and searches) replayed
  long long rows = 0;       // database rows written (bulk path only)
  double seconds = 0;
  // VACUUM (ANALYZE) after the load: statistics and visibility map as a database in service
  // has them (autovacuum would get there minutes later; the scenarios start at once).
  double analyze_seconds = 0;
};

// Loads dossiers [first, last) of `generator` into the database `conninfo` (migrated first).
// `progress`: a line on stderr every so often.
Result<LoadReport> SlowLoad(const std::string& conninfo, const DossierGenerator& generator,
                            int first, int last, bool progress);

// The load's summary as one JSON line (counts, seconds, rates).
std::string ReportJson(const char* path, const LoadReport& r);

}  // namespace carnet::bench
