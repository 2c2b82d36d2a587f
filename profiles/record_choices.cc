#include "profiles/record_choices.h"

#include <algorithm>

#include "profiles/notification.h"
#include "profiles/policy_store.h"
#include "storage/profile_choice_store.h"
#include "storage/resource_store.h"

namespace carnet::profiles {

const std::vector<std::string>& RecordChoices() {
  static const std::vector<std::string> kChoices = {"close",
                                                    "oppose",
                                                    "reactivate",
                                                    "block",
                                                    "unblock",
                                                    "treating-physician",
                                                    "emergency-access",
                                                    "notification-preferences",
                                                    "profile-visibility"};
  return kChoices;
}

const char* const kCloseConsequences =
    "closing the record needs confirm=true: once closed, no professional may read or add to "
    "it (not even in an emergency) and no document is deposited; the patient (and a guardian) "
    "still read it as an archive; it is kept 10 years after its closure, then deleted, the "
    "access history excepted; $reactivate reopens it until then";

bool IsRecordChoice(const std::string& op) {
  const auto& all = RecordChoices();
  return std::find(all.begin(), all.end(), op) != all.end();
}

Status ApplyRecordChoice(storage::Transaction& tx, AccessSession& session,
                         const std::string& patient_id, const std::string& op,
                         const std::function<std::string(const std::string&)>& param) {
  if (!IsRecordChoice(op)) return BadRequest("$" + op + " is not a choice on a record");
  Action action = op == "block" || op == "unblock"      ? Action::kManageBlocks
                  : op == "treating-physician"          ? Action::kDeclareTreatingPhysician
                  : op == "close" || op == "reactivate" ? Action::kCloseRecord
                  : op == "oppose"                      ? Action::kManageRecord
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
    // The patient side closes only on an explicit confirmation, told what it means.
    bool patient_side =
        session.actor().kind == ActorKind::kPatient || session.actor().kind == ActorKind::kGuardian;
    if (op == "close" && patient_side && param("confirm") != "true")
      return Invalid(kCloseConsequences, "Parameters.parameter.where(name='confirm').value");
    RecordStatus status = op == "close"    ? RecordStatus::kClosed
                          : op == "oppose" ? RecordStatus::kOpposed
                                           : RecordStatus::kActive;
    CARNET_RETURN_IF_ERROR(SetRecordStatus(tx, **key, status));
  }
  return session.Audit(tx, audit, *d, **key);
}

Result<RecordSettings> ReadRecordSettings(storage::Transaction& tx, AccessSession& session,
                                          const std::string& patient_id) {
  auto key = storage::FindPatientKeyByResourceId(tx, patient_id);
  if (!key.ok()) return key.status();
  AuditEntry audit = AuditEntry::Rest("operation", 'R');
  audit.subtype_display = "$record-settings";
  audit.object_reference = "Patient/" + patient_id + "/$record-settings";
  if (!*key)
    return session.Refuse(audit, Refusal(Reason::kNotFound, "no such record"), std::nullopt,
                          "Patient/" + patient_id);
  auto visible = session.DecideRecord(tx, **key, Action::kSearch);
  if (!visible.ok()) return visible.status();
  auto d = session.DecideRecord(tx, **key, Action::kReadRecordChoices);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    Decision shown = *d;
    if (!visible->allowed) shown.refusal = ErrorCode::kNotFound;
    return session.Refuse(audit, shown, **key, "Patient/" + patient_id);
  }
  auto record = session.Record(tx, **key);
  if (!record.ok()) return record.status();
  const RecordContext& r = **record;
  RecordSettings out;
  out.status = r.status == RecordStatus::kActive   ? "active"
               : r.status == RecordStatus::kClosed ? "closed"
                                                   : "opposed";
  out.treating_physician = r.treating_physician;
  out.blocked_professionals = r.blocked_professionals;
  out.blocked_organisations = r.blocked_organisations;
  out.emergency_opposed = r.emergency_opposed;
  auto prefs = ReadPreferences(tx, **key);
  if (!prefs.ok()) return prefs.status();
  out.preferences = std::move(prefs).value();
  auto hidden = storage::HiddenProfileSections(tx, **key);
  if (!hidden.ok()) return hidden.status();
  out.hidden_profile_sections = std::move(hidden).value();
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, **key));
  return out;
}

}  // namespace carnet::profiles
