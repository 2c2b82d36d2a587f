// The patient's choices on their record and the operator's record management, as one
// decided change: $block / $unblock (kind, actor), $treating-physician (actor; empty
// withdraws), $emergency-access (opposed), $notification-preferences (channel, event,
// enabled, address), $profile-visibility (section, visible: the health profile's section hidden
// from professionals or shown), $close and $reactivate (the patient, a guardian for their child,
// or an operator; the patient side confirms a closure with confirm=true), and the operator's
// $oppose. Each is one policy
// decision (the session's), one change of the record's policy tables, one audit record, in
// the caller's transaction. The protocols only read their parameters and render the answer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "profiles/access.h"
#include "profiles/notification.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// The record choices above, without '$' (each served at POST Patient/[id]/$[choice]).
const std::vector<std::string>& RecordChoices();
// Whether `op` (without '$') is one of them.
bool IsRecordChoice(const std::string& op);

// Applies choice `op` to the record whose Patient resource is `patient_id`; `param` gives a
// parameter's value by name ("" when absent). A record the actor may not see answers as one
// that does not exist (kNotFound "Patient/[id] is not known"); a refused choice on a visible
// record, kForbidden; a bad parameter, kBadRequest; the treating physician blocked, kConflict.
Status ApplyRecordChoice(storage::Transaction& tx, AccessSession& session,
                         const std::string& patient_id, const std::string& op,
                         const std::function<std::string(const std::string&)>& param);

// What a closure means, told to a patient who asks for one without confirm=true (422).
extern const char* const kCloseConsequences;

// The record's settings as they stand: what the choices above set.
struct RecordSettings {
  std::string status;  // active | closed (an opposed record is seen by operators only)
  std::string treating_physician;
  std::vector<std::string> blocked_professionals;
  std::vector<std::string> blocked_organisations;
  bool emergency_opposed = false;
  std::vector<NotificationPreference> preferences;
  std::vector<std::string> hidden_profile_sections;
};

// Reads the settings of the record whose Patient resource is `patient_id`: decided
// (Action::kReadRecordChoices: the patient, a guardian, an operator) and audited as a read.
// A record the actor may not see answers as one that does not exist; one it sees but may
// not read the settings of, kForbidden.
Result<RecordSettings> ReadRecordSettings(storage::Transaction& tx, AccessSession& session,
                                          const std::string& patient_id);

}  // namespace carnet::profiles
