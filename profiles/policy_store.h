// What the policy decision point needs from the database, and what it asks the caller to
// record: the side of profiles/policy.h that reads and writes the record's rows (through
// storage/record_context_store.h), kept apart so that the decisions stay pure. Here live the
// meanings (what a CareTeam or a Consent authorises); the rows live in storage/.
// Every function runs in the caller's transaction (the one that serves the request).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/audit_event.h"
#include "profiles/policy.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// The RecordContext of record `patient_key` as `actor` sees it: status, treating physician,
// blocks, care team (care_team_member), the apps authorised (app_authorisation, not
// revoked) and, for a professional, when their emergency window opened
// (emergency_access). kNotFound when there is no such record.
Result<RecordContext> LoadRecordContext(storage::Transaction& tx, long long patient_key,
                                        const Actor& actor);

// The current version of type/id (nullopt when it never existed) and, read by the same
// statement, its record's context as LoadRecordContext gives it (left empty for a resource
// outside any record): the read by id's one round trip.
Result<std::optional<storage::StoredResource>> ReadCurrentWithContext(
    storage::Transaction& tx, const std::string& type, const std::string& id, const Actor& actor,
    std::optional<RecordContext>* context);

// The keys of the records the actor's identity points at (ActorRecordIns: the patient's
// own INS, a guardian's minors, an app's launch patient; an app's Patient id too), in key
// order; records whatever their status (the policy decides).
Result<std::vector<long long>> FindActorRecords(storage::Transaction& tx, const Actor& actor);

// Records the start of an emergency window (Decision::opens_emergency_window), replacing an
// expired one.
Status RecordEmergencyAccess(storage::Transaction& tx, long long patient_key, const Actor& actor,
                             long long now);

// Rewrites the care team members listed by CareTeam `careteam_id` (participant.member:
// Reference.identifier.value, or the identifier of a contained Practitioner /
// PractitionerRole it points at). Call in the transaction that writes the CareTeam; pass a
// null JSON value when it is deleted.
Status SyncCareTeam(storage::Transaction& tx, long long patient_key, const std::string& careteam_id,
                    const JsonValue& careteam);

// Grants (or replaces) an app authorisation; revokes it when `scopes` is empty.
Status SetAppAuthorisation(storage::Transaction& tx, long long patient_key,
                           const std::string& client_id, const std::string& scopes,
                           const std::string& consent_id);

// Keeps app_authorisation in step with Consent `consent_id` of the record (null when
// deleted): an active Consent whose provision.actor names an app by client id
// (identifier system kClientIdSystem) authorises it for the SMART scopes listed in the
// extension kSmartScopesExtension (valueString, space-separated); any other status, or
// deletion, revokes it at once.
inline constexpr const char* kClientIdSystem = "urn:ietf:params:oauth:client-id";
inline constexpr const char* kSmartScopesExtension =
    "https://carnet.example.org/fhir/StructureDefinition/smart-scopes";
Status SyncAppConsent(storage::Transaction& tx, long long patient_key,
                      const std::string& consent_id, const JsonValue* consent);

// Sets the record's status (active, opposed, closed), with the time of the change.
Status SetRecordStatus(storage::Transaction& tx, long long patient_key, RecordStatus status);
// Declares (or, with an empty id, withdraws) the treating physician.
Status SetTreatingPhysician(storage::Transaction& tx, long long patient_key,
                            const std::string& national_id);
// Adds or removes a block ("professional" or "organisation").
Status SetBlock(storage::Transaction& tx, long long patient_key, const std::string& kind,
                const std::string& actor_id, bool blocked);
// Opposes emergency access to the record (or withdraws the opposition).
Status SetEmergencyOpposed(storage::Transaction& tx, long long patient_key, bool opposed);

// An AuditEntry with the actor's identifiers, the decision's outcome (0, or 4 when refused)
// and reason, emergency and consent flags; the caller adds the event type, the patient and
// object references, the query, the client address and the request id.
AuditEntry AuditEntryFor(const Actor& actor, const Decision& decision, AuditEntry base = {});

}  // namespace carnet::profiles
