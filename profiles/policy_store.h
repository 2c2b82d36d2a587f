// What the policy decision point needs from the database, and what it asks the caller to
// record: the SQL side of profiles/policy.h, kept apart so that the decisions stay pure.
// Every function runs in the caller's transaction (the one that serves the request).
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/policy.h"
#include "storage/audit_store.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// The RecordContext of record `patient_key` as `actor` sees it: status, treating physician,
// blocks, care team (care_team_member), the apps authorised (app_authorisation, not
// revoked) and, for a professional, when their emergency window opened
// (emergency_access). kNotFound when there is no such record.
Result<RecordContext> LoadRecordContext(storage::Transaction& tx, long long patient_key,
                                        const Actor& actor);

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

// An AuditEntry with the actor's identifiers, the decision's outcome (0, or 4 when refused)
// and reason, emergency and consent flags; the caller adds the event type, the patient and
// object references, the query, the client address and the request id.
storage::AuditEntry AuditEntryFor(const Actor& actor, const Decision& decision,
                                  storage::AuditEntry base = {});

}  // namespace carnet::profiles
