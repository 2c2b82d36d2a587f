// The access history's events as FHIR R4 AuditEvent resources following IHE BALP (Basic
// Audit Log Patterns): what happened, who did it, on which record and object. This is where
// the event's shape lives; storage/audit_store.h stores the resulting row, chains it per
// patient and verifies the chains, knowing nothing of FHIR.
//
// The rule the callers keep: a change appends its event in the transaction of the change;
// a read appends its event (and commits it) before a byte of the answer leaves the
// gateway, and fails with kUnavailable (503) when that is impossible.
//
// An AuditEntry holds plain strings: the access layer (profiles/access.h, AuditEntryFor in
// profiles/policy_store.h) copies the Actor's fields and the decision into it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/audit_store.h"
#include "storage/transaction.h"

namespace carnet::profiles {

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
  // The decision's reason code (profiles/reason_codes.def), permits and refusals alike:
  // entity detail "reason-code" of the request entity, and a column the support view reads.
  std::string reason_code;

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
  // Further objects of the same event: what a deposit wrote besides its main object (the
  // resources extracted from a document, an ITI-41's entries), one entity each.
  std::vector<std::string> listed;
  std::string query;       // search: the query string (base64 in entity.query)
  std::string request_id;  // X-Request-Id
  std::string observer = "carnet";

  std::chrono::system_clock::time_point recorded = std::chrono::system_clock::now();

  static AuditEntry Rest(std::string interaction, char action);
  static AuditEntry Dicom(std::string event_code, std::string event_display,
                          std::string transaction, char action);
};

// The FHIR R4 AuditEvent JSON (BALP shape) of `entry`, with id `event_id`; the recorded
// time is cut to milliseconds.
std::string BuildAuditEventJson(const AuditEntry& entry, const std::string& event_id);

// The row the access history stores for `entry` as event `event_id`: the AuditEvent JSON
// and the columns the chain hashes.
storage::AuditRecord AuditRecordOf(const AuditEntry& entry, const std::string& event_id);

// Appends `entry` in `tx` as a new event (a fresh UUID), chained to its patient's previous
// event (storage::AppendAuditRecord: the chain head stays locked until the transaction ends).
Result<storage::AppendedAudit> AppendAuditEvent(storage::Transaction& tx, const AuditEntry& entry);

}  // namespace carnet::profiles
