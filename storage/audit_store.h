// The access history: AuditEvent resources following IHE BALP (Basic Audit Log Patterns),
// appended to `audit_event` in the caller's transaction and chained per patient by SHA-256
// so that any change, deletion or reordering is detectable (security.md, "Audit").
//
// The rule the callers keep: a change appends its event in the transaction of the change;
// a read appends its event (and commits it) before a byte of the answer leaves the
// gateway, and fails with kUnavailable (503) when that is impossible.
//
// This layer knows no Actor (profiles/ is above): the caller fills an AuditEntry with
// plain strings (profiles/policy.h has no dependency on it; the wiring code copies the
// Actor's fields).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/connection.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct AuditEntry {
  // --- what happened
  // Event type and subtype. Use Rest("read") for FHIR interactions, Dicom(...) for XDS.b
  // (110112 Query for ITI-18, 110106 Export for ITI-43, 110107 Import for ITI-41...).
  std::string type_system = "http://terminology.hl7.org/CodeSystem/audit-event-type";
  std::string type_code = "rest";
  std::string type_display = "Restful Operation";
  std::string subtype_system = "http://hl7.org/fhir/restful-interaction";
  std::string subtype_code;  // read, vread, search-type, create, update, delete... / ITI-18
  std::string subtype_display;
  char action = 'R';          // C R U D E
  std::string outcome = "0";  // 0 success, 4 minor failure (denied, not found), 8 serious, 12 major
  std::string outcome_desc;   // the policy decision's reason, or the error

  // --- who (the requesting agent)
  std::string actor_kind;       // profiles::ActorKindName
  std::string actor_id;         // the principal id (national id, client id, subject)
  std::string actor_subject;    // sub
  std::string actor_issuer;     // iss
  std::string national_id;      // RPPS/ADELI (urn:oid:1.2.250.1.71.4.2.1)
  std::string profession;       // TRE_G15 code
  std::string specialty;        // TRE_R38 code
  std::string organisation;     // organisation id
  std::string client_id;        // app or system client id
  std::string network_address;  // client IP address
  bool emergency = false;
  std::string emergency_reason;
  bool consent_asserted = false;

  // --- which patient, which object
  std::optional<long long> patient_key;
  std::string patient_reference;  // "Patient/123"
  std::string patient_ins;
  std::string object_reference;  // "DocumentReference/abc" (or the XDS uniqueId)
  std::string query;             // search: the query string (base64 in entity.query)
  std::string request_id;        // X-Request-Id
  std::string observer = "carnet";

  std::chrono::system_clock::time_point recorded = std::chrono::system_clock::now();

  static AuditEntry Rest(std::string interaction, char action);
  static AuditEntry Dicom(std::string event_code, std::string event_display,
                          std::string transaction, char action);
};

// The FHIR R4 AuditEvent JSON (BALP shape) of `entry`, with id `event_id`.
std::string BuildAuditEventJson(const AuditEntry& entry, const std::string& event_id);

struct AppendedAudit {
  long long seq = 0;
  std::string event_id;
  std::string hash;  // raw SHA-256
};

// The row AppendAuditEvent inserts for `entry`, given its event id and the raw hash of the
// chain's previous event ("" for the first): the recorded time cut to milliseconds, the
// AuditEvent JSON and the chain hash. Exposed so that bulk loaders (bench/) write the chain a
// live append would write, without a round trip per event.
struct AuditRow {
  long long chain_key = 0;  // patient_key, 0 for events without a record
  std::string event_id;
  std::string recorded;  // RFC 3339, milliseconds
  std::string content;   // the AuditEvent resource JSON
  std::string hash;      // raw SHA-256
};
AuditRow ComputeAuditRow(const AuditEntry& entry, const std::string& event_id,
                         const std::string& prev_hash);

// Appends `entry` in `tx`, chained to the patient's previous event. Takes the chain head's
// row lock until the transaction ends: keep the audit append late in write transactions.
Result<AppendedAudit> AppendAuditEvent(Transaction& tx, const AuditEntry& entry);

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

}  // namespace carnet::storage
