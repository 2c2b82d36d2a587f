// The patient record as the access policy reads and changes it: the patient row (status,
// treating physician, emergency opposition), its blocks, its care team, the apps it
// authorised and the emergency windows opened on it. Rows in, rows out: what a Consent or a
// CareTeam means, and who may do what, is decided above (profiles/policy_store.h).
// Every function runs in the caller's transaction (the one that serves the request).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// An app authorisation as stored: the client id and its space-separated scopes.
struct AppAuthorisationRow {
  std::string client_id;
  std::string scopes;
  // The measurement kinds the patient lets it write; nullopt: every kind.
  std::optional<std::vector<std::string>> measurement_kinds;
};

// What the policy reads of one record, in one round trip (it runs on every request).
struct RecordRow {
  std::string patient_id;  // patient.resource_id, "" when none
  std::string ins;
  std::string status;  // patient.status as stored
  std::string treating_physician;
  bool emergency_opposed = false;
  std::vector<std::string> blocked_professionals;       // patient_block kind 'professional'
  std::vector<std::string> blocked_organisations;       // patient_block kind 'organisation'
  std::vector<std::string> care_team;                   // distinct care_team_member ids
  std::vector<AppAuthorisationRow> app_authorisations;  // not revoked, by client id
  std::optional<long long> emergency_started_at;        // epoch seconds
  // Identifier values of the senders of the record's messages (Communication.sender).
  std::vector<std::string> message_senders;
  // The RelatedPersons of the record (not deleted) that bear an identifier of
  // RecordRowParts::guardian_system: {resource id, identifier value}.
  std::vector<std::pair<std::string, std::string>> guardians;
};

// Which of the optional parts ReadRecordRow reads: the app authorisations only for an app,
// the emergency window only for a professional who asserts an emergency (the others never
// need them, and this runs on every request).
struct RecordRowParts {
  bool app_authorisations = false;
  std::optional<std::string> emergency_window_of;  // emergency_access.actor_id
  bool message_senders = false;                    // the patient side answers them
  std::string guardian_system;                     // "": no guardians read
};

// The row of record `patient_key`; nullopt when there is no such record.
Result<std::optional<RecordRow>> ReadRecordRow(Transaction& tx, long long patient_key,
                                               const RecordRowParts& parts);

// The keys of the records whose INS is one of `ins`, or whose resource id is `patient_id`
// (when not empty), in key order.
Result<std::vector<long long>> FindRecordKeys(Transaction& tx, const std::vector<std::string>& ins,
                                              const std::string& patient_id);

// Opens (or reopens, replacing an expired one) the emergency window of `actor_id`.
Status UpsertEmergencyAccess(Transaction& tx, long long patient_key, const std::string& actor_id,
                             long long started_at, const std::string& reason);

// Replaces the members listed by care team resource `res_id` with `members` (none: the
// care team no longer authorises anyone).
Status ReplaceCareTeamMembers(Transaction& tx, long long patient_key, const std::string& res_id,
                              const std::vector<std::string>& members);

// Grants (or replaces, un-revoking) an app authorisation; `res_id` is the resource that
// granted it ("" for none); `measurement_kinds` the kinds it may write (nullopt: every kind).
Status GrantAppAuthorisation(
    Transaction& tx, long long patient_key, const std::string& client_id, const std::string& scopes,
    const std::string& res_id,
    const std::optional<std::vector<std::string>>& measurement_kinds = std::nullopt);
// Revokes the app's authorisation now (nothing when none is in force).
Status RevokeAppAuthorisation(Transaction& tx, long long patient_key, const std::string& client_id);
// Revokes now every authorisation granted by resource `res_id`.
Status RevokeAppAuthorisationsGrantedBy(Transaction& tx, long long patient_key,
                                        const std::string& res_id);

// Sets patient.status (active, opposed, closed) with the time of the change, and the time
// of the opposition or closure it records.
Status UpdateRecordStatus(Transaction& tx, long long patient_key, const std::string& status);
// Sets (or, with an empty id, clears) the treating physician.
Status UpdateTreatingPhysician(Transaction& tx, long long patient_key,
                               const std::string& national_id);
// Adds (`blocked`) or removes a patient_block row of `kind` for `actor_id`.
Status UpdateBlock(Transaction& tx, long long patient_key, const std::string& kind,
                   const std::string& actor_id, bool blocked);
Status UpdateEmergencyOpposed(Transaction& tx, long long patient_key, bool opposed);

}  // namespace carnet::storage
