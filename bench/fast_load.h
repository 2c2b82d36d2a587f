// The bulk (fast) load: the rows the exact load (bench/slow_load.h) would leave, computed in
// process with carnet's own functions and written with COPY, a chunk of dossiers per
// transaction.
//
// For every write of a dossier, what fhir::Interactions::Write does for a new resource:
//   - the stored version: dossier::StampVersion (meta.source, versionId, lastUpdated),
//     dossier::SecurityCodes, the content as WriteJson writes it -> resource, resource_history
//     (method PUT, as a deposit source's PUT of a new id); a Binary's bytes once per record
//     and SHA-256 -> document_content, its JSON without `data` and their hash on its rows;
//   - the record of a Patient: dossier::NationalIdentityOf -> patient, patient_identifier;
//   - the search index: dossier::ExtractIndexRows over the parameters in force (official and
//     custom, SearchParamRegistry) -> idx_string, idx_token, idx_reference, idx_date,
//     idx_uri, idx_quantity through storage::kQuantitySelect (PostgreSQL computes the
//     precision range, as on the live path), and idx_text through storage::kTextSelect (the
//     tsvector; the generated documents are PDFs, whose bytes give no words on the live path
//     either);
//   - the XDS registry of a DocumentReference: mapping::DocumentEntryRowsOf ->
//     registry_object, registry_code;
//   - the policy decision (profiles::DecideNewRecord, profiles::Decide on the record's
//     context) and the audit event (profiles::AuditEntryFor, profiles::AuditRecordOf: the
//     BALP JSON; storage::ChainAuditRecord: the per-patient SHA-256 chain) -> audit_event,
//     audit_chain_head.
// For every access, what the FHIR read and search handlers decide and audit (the decisions
// of profiles::Decide and profiles::FilterFor, the same audit events).
//
// What the live path would also do and the generated dossiers never need is refused rather
// than approximated: associations (relatesTo), CDA content (level-3 extraction), emergency
// access windows; notifications (outbox) are none because new records have no preferences.
// Patient keys and audit sequence numbers are taken from their sequences (nextval), as the
// live INSERTs take them. bench/slow_load.h and tests/unit/bench_load_test.cc hold the
// proof: the same dossiers loaded both ways leave the same rows (timestamps and random event
// ids aside) and answer searches alike.
#pragma once

#include <string>

#include "base/status.h"
#include "bench/dossier.h"
#include "bench/slow_load.h"

namespace carnet::bench {

struct FastLoadOptions {
  int chunk_patients = 250;   // dossiers per transaction
  bool validate_all = false;  // validate every resource (else the first chunk's only)
  bool progress = true;       // a line on stderr per chunk
};

// Loads dossiers [first, last) of `generator` into the database `conninfo` (migrated first).
// The database must not hold these dossiers yet.
Result<LoadReport> FastLoad(const std::string& conninfo, const DossierGenerator& generator,
                            int first, int last, const FastLoadOptions& options);

}  // namespace carnet::bench
