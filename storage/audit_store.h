// The access history's rows: appended to `audit_event` in the caller's transaction and
// chained per patient by SHA-256 so that any change, deletion or reordering is detectable
// (security.md, "Audit").
//
// The rule the callers keep: a change appends its event in the transaction of the change;
// a read appends its event (and commits it) before a byte of the answer leaves the
// gateway, and fails with kUnavailable (503) when that is impossible.
//
// This layer knows rows, not FHIR: the caller (profiles/audit_event.h) hands over the event
// already written (the BALP AuditEvent JSON) with the columns the chain hashes beside it;
// storage only appends, chains and verifies.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/audit_record.h"
#include "storage/connection.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct AppendedAudit {
  long long seq = 0;
  std::string event_id;
  std::string hash;  // raw SHA-256
};

// The row AppendAuditRecord inserts for `record`, given the raw hash of the chain's previous
// event ("" for the first): the recorded time cut to milliseconds and the chain hash. Exposed
// so that bulk loaders (bench/) write the chain a live append would write, without a round
// trip per event.
struct AuditRow {
  long long chain_key = 0;  // patient_key, 0 for events without a record
  std::string event_id;
  std::string recorded;  // RFC 3339, milliseconds
  std::string content;   // AuditRecord::content
  std::string hash;      // raw SHA-256
};
AuditRow ChainAuditRecord(const AuditRecord& record, const std::string& prev_hash);

// Appends `record` in `tx`, chained to its chain's previous event. Takes the chain head's
// row lock until the transaction ends: keep the audit append late in write transactions.
Result<AppendedAudit> AppendAuditRecord(Transaction& tx, const AuditRecord& record);

// Appends `records` in `tx`, in their order, each chained to its chain's previous event: the
// group commit's batch (storage/audit_group_commit.h). The heads of every chain the batch
// touches are locked in ascending key order, so that batches of several gateways on one
// database wait for each other instead of deadlocking, and each chain advances once per
// batch: one statement for the heads, one for the events and the new heads.
Status AppendAuditBatch(Transaction& tx, const std::vector<AuditRecord>& records);

// The chain hash: SHA-256(prev_hash || canonical row). Exposed for the verification and its
// tests; the canonical row is documented in audit_store.cc.
std::string AuditHash(const std::string& prev_hash, const std::string& canonical_row);

struct AuditBreak {
  long long chain_key = 0;  // patient_key, 0 for events without a record
  long long seq = 0;        // the first event whose link does not hold (0: the chain head)
  std::string problem;
};
struct AuditVerification {
  long long chains = 0;
  long long events = 0;
  std::optional<AuditBreak> first_break;
  bool ok() const { return !first_break.has_value(); }
};

// Recomputes the chain of one patient (`patient_key`; 0 for events without a record) or of
// every patient (nullopt), and reports the first broken link: a changed row (hash differs),
// a deleted or reordered row (prev_hash differs from the previous row's hash), or a
// chain whose head does not match its last row (rows deleted at the end).
Result<AuditVerification> VerifyAuditChains(Connection& conn, std::optional<long long> patient_key);

// The read side: a page of the events of some records, newest first (the access history a
// patient reads). Filters are text as the caller received them ("" for none), so that a
// malformed value fails in PostgreSQL as it always did.
struct AuditEventQuery {
  std::vector<long long> patient_keys;  // the records whose events are read
  std::string from, to;                 // recorded within [from, to], RFC 3339
  std::string actor_id;                 // the actor's identifier
  std::vector<std::string> entities;    // entity.what.reference, any of them ("Type/id")
  std::string before_seq;               // the keyset cursor: events older than this one
  int limit = 20;
};
struct StoredAuditEvent {
  long long seq = 0;
  std::string content;  // the event as appended (AuditRecord::content)
};
Result<std::vector<StoredAuditEvent>> ReadAuditEvents(Transaction& tx, const AuditEventQuery& q);

// The statement ReadAuditEvents runs for `q` and its values: the record's events, or, with
// `entities`, the events of those objects by the audit_event_entity index (migration 0017).
// Exposed for the plan test.
struct AccessHistoryStatement {
  Statement statement;
  SqlParams params;
};
AccessHistoryStatement RenderAccessHistory(const AuditEventQuery& q);

// The support view's read (issue 19): the events of one request, or of one actor over a time
// range, oldest first, by the indexed request_id / (actor_id, recorded) columns. Text filters
// as the caller checked them ("" for none; from and to RFC 3339).
struct AuditDecisionQuery {
  std::string request_id;   // either this...
  std::string actor_id;     // ...or this, with the range
  std::string from, to;     // recorded within [from, to)
  long long after_seq = 0;  // the keyset cursor: events after this one
  int limit = 50;
};
struct AuditDecisionRow {
  long long seq = 0;
  std::string recorded;  // RFC 3339, milliseconds, UTC
  std::string actor_id, actor_kind, outcome, reason_code, request_id;
  std::string content;  // the AuditEvent JSON: the caller takes out what it may show
};
Result<std::vector<AuditDecisionRow>> ReadAuditDecisions(Transaction& tx,
                                                         const AuditDecisionQuery& q);

}  // namespace carnet::storage
