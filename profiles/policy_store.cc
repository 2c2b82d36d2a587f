#include "profiles/policy_store.h"

#include <algorithm>

#include "profiles/measurement_kinds.h"
#include "storage/record_context_store.h"

namespace carnet::profiles {
namespace {

const JsonValue* Contained(const JsonValue& resource, std::string_view reference) {
  if (reference.size() < 2 || reference[0] != '#') return nullptr;
  const JsonValue* contained = resource.Find("contained");
  if (!contained || !contained->is_array()) return nullptr;
  for (const auto& c : contained->items())
    if (c.GetString("id") == reference.substr(1)) return &c;
  return nullptr;
}

}  // namespace

namespace {

// What of a record `actor`'s decisions need (the rest is never read for them).
storage::RecordRowParts RecordPartsFor(const Actor& actor) {
  storage::RecordRowParts parts;
  parts.app_authorisations = actor.kind == ActorKind::kApp;
  if (actor.kind == ActorKind::kProfessional && actor.emergency)
    parts.emergency_window_of = actor.PrincipalId();
  parts.message_senders = actor.kind == ActorKind::kPatient || actor.kind == ActorKind::kGuardian;
  // Whom a message may reach besides the patient, and who a guardian is in the record.
  if (actor.kind == ActorKind::kProfessional || actor.kind == ActorKind::kGuardian)
    parts.guardian_system = kGuardianSystem;
  return parts;
}

RecordContext ContextFromRow(long long patient_key, storage::RecordRow& rec) {
  RecordContext r;
  r.patient_key = patient_key;
  r.patient_id = std::move(rec.patient_id);
  r.ins = std::move(rec.ins);
  r.status = ParseRecordStatus(rec.status);
  r.treating_physician = std::move(rec.treating_physician);
  r.emergency_opposed = rec.emergency_opposed;
  r.blocked_professionals = std::move(rec.blocked_professionals);
  r.blocked_organisations = std::move(rec.blocked_organisations);
  r.care_team = std::move(rec.care_team);
  for (const auto& app : rec.app_authorisations)
    r.authorised_apps.push_back(
        {app.client_id, ParseSmartScopes(app.scopes), true, app.measurement_kinds});
  r.emergency_started_at = rec.emergency_started_at;
  r.message_correspondents = std::move(rec.message_senders);
  for (auto& [id, subject] : rec.guardians)
    r.guardians.push_back({std::move(id), std::move(subject)});
  return r;
}

}  // namespace

Result<RecordContext> LoadRecordContext(storage::Transaction& tx, long long patient_key,
                                        const Actor& actor) {
  auto row = storage::ReadRecordRow(tx, patient_key, RecordPartsFor(actor));
  if (!row.ok()) return row.status();
  if (!row->has_value()) return NotFound("record " + std::to_string(patient_key) + " is not known");
  return ContextFromRow(patient_key, **row);
}

Result<std::optional<storage::StoredResource>> ReadCurrentWithContext(
    storage::Transaction& tx, const std::string& type, const std::string& id, const Actor& actor,
    std::optional<RecordContext>* context) {
  auto read = storage::ReadCurrentWithRecord(tx, type, id, RecordPartsFor(actor));
  if (!read.ok()) return read.status();
  if (!read->has_value()) return std::optional<storage::StoredResource>();
  storage::ResourceWithRecord& found = **read;
  if (found.record && found.resource.patient_key)
    *context = ContextFromRow(*found.resource.patient_key, *found.record);
  return std::optional<storage::StoredResource>(std::move(found.resource));
}

Result<std::vector<long long>> FindActorRecords(storage::Transaction& tx, const Actor& actor) {
  std::vector<std::string> ins = ActorRecordIns(actor);
  std::string patient_id = actor.kind == ActorKind::kApp ? actor.patient_id : "";
  if (ins.empty() && patient_id.empty()) return std::vector<long long>{};
  // INS are digits (and letters for Corsica): a quote or a backslash is dropped, not matched.
  for (std::string& v : ins) std::erase_if(v, [](char c) { return c == '"' || c == '\\'; });
  return storage::FindRecordKeys(tx, ins, patient_id);
}

Status RecordEmergencyAccess(storage::Transaction& tx, long long patient_key, const Actor& actor,
                             long long now) {
  return storage::UpsertEmergencyAccess(tx, patient_key, actor.PrincipalId(), now,
                                        actor.emergency_reason);
}

Status SyncCareTeam(storage::Transaction& tx, long long patient_key, const std::string& careteam_id,
                    const JsonValue& careteam) {
  // An inactive care team (or a deleted one) presumes no authorisation: no member is left.
  std::vector<std::string> members;
  std::string status = careteam.GetString("status");
  bool active = careteam.is_object() && status != "inactive" && status != "entered-in-error";
  const JsonValue* participants = active ? careteam.Find("participant") : nullptr;
  if (participants && participants->is_array()) {
    for (const auto& p : participants->items()) {
      const JsonValue* member = p.Find("member");
      if (!member) continue;
      CollectIdentifierValues(member->Find("identifier"), members);
      if (const JsonValue* c = Contained(careteam, member->GetString("reference"))) {
        CollectIdentifierValues(c->Find("identifier"), members);
        if (const JsonValue* pr = c->Find("practitioner")) {
          CollectIdentifierValues(pr->Find("identifier"), members);
          if (const JsonValue* cp = Contained(careteam, pr->GetString("reference")))
            CollectIdentifierValues(cp->Find("identifier"), members);
        }
      }
    }
  }
  return storage::ReplaceCareTeamMembers(tx, patient_key, careteam_id, members);
}

Status SetAppAuthorisation(storage::Transaction& tx, long long patient_key,
                           const std::string& client_id, const std::string& scopes,
                           const std::string& consent_id) {
  if (scopes.empty()) return storage::RevokeAppAuthorisation(tx, patient_key, client_id);
  return storage::GrantAppAuthorisation(tx, patient_key, client_id, scopes, consent_id);
}

Status SyncAppConsent(storage::Transaction& tx, long long patient_key,
                      const std::string& consent_id, const JsonValue* consent) {
  CARNET_RETURN_IF_ERROR(storage::RevokeAppAuthorisationsGrantedBy(tx, patient_key, consent_id));
  if (!consent || consent->GetString("status") != "active") return Status::Ok();
  std::string scopes;
  if (const JsonValue* ext = consent->Find("extension"); ext && ext->is_array())
    for (const auto& e : ext->items())
      if (e.GetString("url") == kSmartScopesExtension) scopes = e.GetString("valueString");
  const JsonValue* provision = consent->Find("provision");
  const JsonValue* actors = provision ? provision->Find("actor") : nullptr;
  if (scopes.empty() || !actors || !actors->is_array()) return Status::Ok();
  if (provision->GetString("type") == "deny") return Status::Ok();
  // The kinds of measurement the app may write, when the patient chose some.
  std::optional<std::vector<std::string>> kinds;
  if (const JsonValue* codes = provision->Find("code"); codes && codes->is_array())
    for (const auto& cc : codes->items())
      if (const JsonValue* codings = cc.Find("coding"); codings && codings->is_array())
        for (const auto& c : codings->items()) {
          if (c.GetString("system") != kMeasurementKindSystem) continue;
          std::string kind = c.GetString("code");
          if (!MeasurementKinds::Builtin().Knows(kind)) {
            std::string known;
            for (const auto& k : MeasurementKinds::Builtin().Kinds())
              known += (known.empty() ? "" : ", ") + k;
            return Invalid("Consent.provision.code: '" + kind + "' is not a kind of measurement (" +
                               known + ")",
                           "Consent.provision.code");
          }
          if (!kinds) kinds.emplace();
          kinds->push_back(kind);
        }
  for (const auto& a : actors->items()) {
    const JsonValue* ref = a.Find("reference");
    const JsonValue* ident = ref ? ref->Find("identifier") : nullptr;
    if (!ident || ident->GetString("system") != kClientIdSystem) continue;
    std::string client = ident->GetString("value");
    if (client.empty()) continue;
    CARNET_RETURN_IF_ERROR(
        storage::GrantAppAuthorisation(tx, patient_key, client, scopes, consent_id, kinds));
  }
  return Status::Ok();
}

Status SetRecordStatus(storage::Transaction& tx, long long patient_key, RecordStatus status) {
  const char* name = status == RecordStatus::kActive   ? "active"
                     : status == RecordStatus::kClosed ? "closed"
                                                       : "opposed";
  return storage::UpdateRecordStatus(tx, patient_key, name);
}

Status SetTreatingPhysician(storage::Transaction& tx, long long patient_key,
                            const std::string& national_id) {
  return storage::UpdateTreatingPhysician(tx, patient_key, national_id);
}

Status SetBlock(storage::Transaction& tx, long long patient_key, const std::string& kind,
                const std::string& actor_id, bool blocked) {
  return storage::UpdateBlock(tx, patient_key, kind, actor_id, blocked);
}

Status SetEmergencyOpposed(storage::Transaction& tx, long long patient_key, bool opposed) {
  return storage::UpdateEmergencyOpposed(tx, patient_key, opposed);
}

AuditEntry AuditEntryFor(const Actor& actor, const Decision& decision, AuditEntry base) {
  base.actor_kind = std::string(ActorKindName(actor.kind));
  base.actor_id = actor.PrincipalId();
  base.actor_subject = actor.subject;
  base.actor_issuer = actor.issuer;
  base.national_id = actor.national_id;
  base.profession = actor.profession;
  base.specialty = actor.specialty;
  base.organisation = actor.organisation;
  base.client_id = actor.client_id;
  // The actor's assertion is recorded even when it was not what granted access.
  base.emergency = decision.emergency || actor.emergency;
  base.emergency_reason = actor.emergency_reason;
  base.consent_asserted = actor.consent_asserted;
  if (!decision.allowed) {
    base.outcome = "4";
    if (actor.kind == ActorKind::kDenied && !actor.denied_role.empty())
      base.actor_kind += " (" + actor.denied_role + ")";
  }
  base.outcome_desc = decision.reason;
  base.reason_code = std::string(ReasonCode(decision.code));
  return base;
}

}  // namespace carnet::profiles
