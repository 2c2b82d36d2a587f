#include "profiles/record_choices.h"

#include "profiles/notification.h"
#include "profiles/policy_store.h"
#include "storage/profile_choice_store.h"
#include "storage/resource_store.h"

namespace carnet::profiles {

bool IsRecordChoice(const std::string& op) {
  return op == "close" || op == "oppose" || op == "reactivate" || op == "block" ||
         op == "unblock" || op == "treating-physician" || op == "emergency-access" ||
         op == "notification-preferences" || op == "profile-visibility";
}

Status ApplyRecordChoice(storage::Transaction& tx, AccessSession& session,
                         const std::string& patient_id, const std::string& op,
                         const std::function<std::string(const std::string&)>& param) {
  if (!IsRecordChoice(op)) return BadRequest("$" + op + " is not a choice on a record");
  Action action = op == "block" || op == "unblock" ? Action::kManageBlocks
                  : op == "treating-physician"     ? Action::kDeclareTreatingPhysician
                  : op == "close" || op == "oppose" || op == "reactivate"
                      ? Action::kManageRecord
                      : Action::kChangeVisibility;
  // Choices that are the patient's own but not "visibility": emergency opposition and
  // notification preferences are record-level patient choices (decided as blocks are).
  if (op == "emergency-access" || op == "notification-preferences" || op == "profile-visibility")
    action = Action::kManageBlocks;
  auto key = storage::FindPatientKeyByResourceId(tx, patient_id);
  if (!key.ok()) return key.status();
  AuditEntry audit = AuditEntry::Rest("operation", 'U');
  audit.subtype_display = "$" + op;
  audit.object_reference = "Patient/" + patient_id + "/$" + op;
  if (!*key)
    return session.Refuse(audit, Refusal(Reason::kNotFound, "no such record"), std::nullopt,
                          "Patient/" + patient_id);
  // One must see the record to learn anything about it.
  auto visible = session.DecideRecord(tx, **key, Action::kSearch);
  if (!visible.ok()) return visible.status();
  auto d = session.DecideRecord(tx, **key, action);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    Decision shown = *d;
    if (!visible->allowed) shown.refusal = ErrorCode::kNotFound;
    return session.Refuse(audit, shown, **key, "Patient/" + patient_id);
  }
  if (op == "block" || op == "unblock") {
    std::string kind = param("kind"), who = param("actor");
    if (op == "block") {
      auto record = session.Record(tx, **key);
      if (!record.ok()) return record.status();
      CARNET_RETURN_IF_ERROR(CheckBlockRequest(**record, kind, who));
    } else if (who.empty() || (kind != "professional" && kind != "organisation")) {
      return BadRequest("$unblock names a kind (professional or organisation) and an actor");
    }
    CARNET_RETURN_IF_ERROR(SetBlock(tx, **key, kind, who, op == "block"));
  } else if (op == "treating-physician") {
    std::string who = param("actor");
    CARNET_RETURN_IF_ERROR(SetTreatingPhysician(tx, **key, who));
    // The treating physician cannot stay blocked.
    if (!who.empty()) CARNET_RETURN_IF_ERROR(SetBlock(tx, **key, "professional", who, false));
  } else if (op == "emergency-access") {
    std::string opposed = param("opposed");
    if (opposed != "true" && opposed != "false")
      return BadRequest("$emergency-access takes opposed (valueBoolean)");
    CARNET_RETURN_IF_ERROR(SetEmergencyOpposed(tx, **key, opposed == "true"));
  } else if (op == "profile-visibility") {
    // The section's name is checked by the caller (health_profile/sections.h is above this
    // layer); the entries already in it are masked or shown by the caller too.
    std::string visible = param("visible");
    if (param("section").empty() || (visible != "true" && visible != "false"))
      return BadRequest("$profile-visibility takes section (valueCode) and visible (valueBoolean)");
    CARNET_RETURN_IF_ERROR(
        storage::SetProfileSectionHidden(tx, **key, param("section"), visible == "false"));
  } else if (op == "notification-preferences") {
    NotificationPreference p;
    p.channel = param("channel");
    p.event_kind = param("event");
    p.enabled = param("enabled") == "true";
    p.address = param("address");
    Status set = SetPreference(tx, **key, p);
    if (set.code() == ErrorCode::kInvalid)
      return Invalid(set.message(), "Parameters.parameter.where(name='address').value");
    CARNET_RETURN_IF_ERROR(set);
  } else {
    RecordStatus status = op == "close"    ? RecordStatus::kClosed
                          : op == "oppose" ? RecordStatus::kOpposed
                                           : RecordStatus::kActive;
    CARNET_RETURN_IF_ERROR(SetRecordStatus(tx, **key, status));
  }
  return session.Audit(tx, audit, *d, **key);
}

}  // namespace carnet::profiles
