#include "profiles/policy_store.h"

#include <algorithm>

namespace carnet::profiles {
namespace {

using storage::SqlParam;
using storage::Statement;



const JsonValue* Contained(const JsonValue& resource, std::string_view reference) {
  if (reference.size() < 2 || reference[0] != '#') return nullptr;
  const JsonValue* contained = resource.Find("contained");
  if (!contained || !contained->is_array()) return nullptr;
  for (const auto& c : contained->items())
    if (c.GetString("id") == reference.substr(1)) return &c;
  return nullptr;
}

}  // namespace

Result<RecordContext> LoadRecordContext(storage::Transaction& tx, long long patient_key,
                                        const Actor& actor) {
  // One round trip: the record and, as arrays, its blocks, its care team, the apps it
  // authorised and this professional's emergency window (this runs on every request).
  static constexpr Statement kContext{
      "policy_record_context",
      "SELECT coalesce(p.resource_id, ''), coalesce(p.ins, ''), p.status, "
      "coalesce(p.treating_physician, ''), p.emergency_opposed, "
      "coalesce((SELECT array_agg(b.actor_id ORDER BY b.actor_id) FROM patient_block b "
      "WHERE b.patient_key = p.patient_key AND b.kind = 'professional'), '{}'), "
      "coalesce((SELECT array_agg(b.actor_id ORDER BY b.actor_id) FROM patient_block b "
      "WHERE b.patient_key = p.patient_key AND b.kind = 'organisation'), '{}'), "
      "coalesce((SELECT array_agg(DISTINCT c.member_id) FROM care_team_member c "
      "WHERE c.patient_key = p.patient_key), '{}'), "
      "CASE WHEN $2::boolean THEN coalesce((SELECT array_agg(a.client_id || ' ' || a.scopes ORDER BY a.client_id) "
      "FROM app_authorisation a WHERE a.patient_key = p.patient_key AND a.revoked_at IS NULL), '{}') "
      "ELSE '{}' END, "
      "(SELECT extract(epoch FROM e.started_at)::bigint FROM emergency_access e "
      "WHERE e.patient_key = p.patient_key AND e.actor_id = $3 AND $4::boolean) "
      "FROM patient p WHERE p.patient_key = $1::bigint"};
  std::string key = std::to_string(patient_key);
  bool apps = actor.kind == ActorKind::kApp;
  bool emergency = actor.kind == ActorKind::kProfessional && actor.emergency;
  auto rec = tx.Run(kContext, {SqlParam::Text(key), SqlParam::Text(apps ? "true" : "false"),
                               SqlParam::Text(actor.PrincipalId()), SqlParam::Text(emergency ? "true" : "false")});
  if (!rec.ok()) return rec.status();
  if (rec->rows() == 0) return NotFound("record " + key + " is not known");
  RecordContext r;
  r.patient_key = patient_key;
  r.patient_id = rec->GetString(0, 0);
  r.ins = rec->GetString(0, 1);
  r.status = ParseRecordStatus(rec->Get(0, 2));
  r.treating_physician = rec->GetString(0, 3);
  r.emergency_opposed = rec->GetBool(0, 4);
  r.blocked_professionals = storage::ParseTextArray(rec->GetString(0, 5));
  r.blocked_organisations = storage::ParseTextArray(rec->GetString(0, 6));
  r.care_team = storage::ParseTextArray(rec->GetString(0, 7));
  for (const std::string& app : storage::ParseTextArray(rec->GetString(0, 8))) {
    size_t space = app.find(' ');
    r.authorised_apps.push_back({app.substr(0, space), ParseSmartScopes(space == std::string::npos ? "" : app.substr(space + 1)), true});
  }
  if (!rec->IsNull(0, 9)) r.emergency_started_at = rec->GetInt(0, 9);
  return r;
}

Result<std::vector<long long>> FindActorRecords(storage::Transaction& tx, const Actor& actor) {
  static constexpr Statement kByIns{
      "policy_records_by_ins",
      "SELECT patient_key FROM patient WHERE ins = ANY($1::text[]) OR "
      "($2 <> '' AND resource_id = $2) ORDER BY patient_key"};
  std::vector<std::string> ins = ActorRecordIns(actor);
  std::string patient_id = actor.kind == ActorKind::kApp ? actor.patient_id : "";
  if (ins.empty() && patient_id.empty()) return std::vector<long long>{};
  // A text[] literal; INS are digits (and letters for Corsica), quoted regardless.
  std::string array = "{";
  for (size_t i = 0; i < ins.size(); ++i) {
    std::string v;
    for (char c : ins[i])
      if (c != '"' && c != '\\') v.push_back(c);
    array += (i ? ",\"" : "\"") + v + "\"";
  }
  array += "}";
  auto r = tx.Run(kByIns, {SqlParam::Text(array), SqlParam::Text(patient_id)});
  if (!r.ok()) return r.status();
  std::vector<long long> keys;
  for (int i = 0; i < r->rows(); ++i) keys.push_back(r->GetInt(i, 0));
  return keys;
}

Status RecordEmergencyAccess(storage::Transaction& tx, long long patient_key, const Actor& actor,
                             long long now) {
  static constexpr Statement kUpsert{
      "policy_emergency_upsert",
      "INSERT INTO emergency_access (patient_key, actor_id, started_at, reason) "
      "VALUES ($1::bigint, $2, to_timestamp($3::bigint), $4) ON CONFLICT (patient_key, actor_id) "
      "DO UPDATE SET started_at = excluded.started_at, reason = excluded.reason"};
  auto r = tx.Run(kUpsert,
                  {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(actor.PrincipalId()),
                   SqlParam::Text(std::to_string(now)), SqlParam::Text(actor.emergency_reason)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SyncCareTeam(storage::Transaction& tx, long long patient_key, const std::string& careteam_id,
                    const JsonValue& careteam) {
  static constexpr Statement kClear{
      "policy_care_team_clear",
      "DELETE FROM care_team_member WHERE patient_key = $1::bigint AND res_id = $2"};
  static constexpr Statement kAdd{
      "policy_care_team_add",
      "INSERT INTO care_team_member (patient_key, member_id, res_id) VALUES ($1::bigint, $2, $3) "
      "ON CONFLICT DO NOTHING"};
  std::string key = std::to_string(patient_key);
  auto cleared = tx.Run(kClear, {SqlParam::Text(key), SqlParam::Text(careteam_id)});
  if (!cleared.ok()) return cleared.status();
  // An inactive care team presumes no authorisation.
  std::string status = careteam.GetString("status");
  if (!careteam.is_object() || status == "inactive" || status == "entered-in-error")
    return Status::Ok();
  std::vector<std::string> members;
  if (const JsonValue* participants = careteam.Find("participant");
      participants && participants->is_array()) {
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
  for (const auto& m : members) {
    auto r = tx.Run(kAdd, {SqlParam::Text(key), SqlParam::Text(m), SqlParam::Text(careteam_id)});
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

Status SetAppAuthorisation(storage::Transaction& tx, long long patient_key,
                           const std::string& client_id, const std::string& scopes,
                           const std::string& consent_id) {
  static constexpr Statement kGrant{
      "policy_app_grant",
      "INSERT INTO app_authorisation (patient_key, client_id, scopes, res_id) "
      "VALUES ($1::bigint, $2, $3, nullif($4, '')) ON CONFLICT (patient_key, client_id) DO UPDATE "
      "SET scopes = excluded.scopes, res_id = excluded.res_id, granted_at = now(), revoked_at = "
      "NULL"};
  static constexpr Statement kRevoke{
      "policy_app_revoke",
      "UPDATE app_authorisation SET revoked_at = now() WHERE patient_key = $1::bigint "
      "AND client_id = $2 AND revoked_at IS NULL"};
  std::string key = std::to_string(patient_key);
  auto r = scopes.empty() ? tx.Run(kRevoke, {SqlParam::Text(key), SqlParam::Text(client_id)})
                          : tx.Run(kGrant, {SqlParam::Text(key), SqlParam::Text(client_id),
                                            SqlParam::Text(scopes), SqlParam::Text(consent_id)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SyncAppConsent(storage::Transaction& tx, long long patient_key,
                      const std::string& consent_id, const JsonValue* consent) {
  static constexpr Statement kRevokeByConsent{
      "policy_app_revoke_consent",
      "UPDATE app_authorisation SET revoked_at = now() WHERE patient_key = $1::bigint "
      "AND res_id = $2 AND revoked_at IS NULL"};
  std::string key = std::to_string(patient_key);
  auto revoked = tx.Run(kRevokeByConsent, {SqlParam::Text(key), SqlParam::Text(consent_id)});
  if (!revoked.ok()) return revoked.status();
  if (!consent || consent->GetString("status") != "active") return Status::Ok();
  std::string scopes;
  if (const JsonValue* ext = consent->Find("extension"); ext && ext->is_array())
    for (const auto& e : ext->items())
      if (e.GetString("url") == kSmartScopesExtension) scopes = e.GetString("valueString");
  const JsonValue* provision = consent->Find("provision");
  const JsonValue* actors = provision ? provision->Find("actor") : nullptr;
  if (scopes.empty() || !actors || !actors->is_array()) return Status::Ok();
  if (provision->GetString("type") == "deny") return Status::Ok();
  for (const auto& a : actors->items()) {
    const JsonValue* ref = a.Find("reference");
    const JsonValue* ident = ref ? ref->Find("identifier") : nullptr;
    if (!ident || ident->GetString("system") != kClientIdSystem) continue;
    std::string client = ident->GetString("value");
    if (client.empty()) continue;
    CARNET_RETURN_IF_ERROR(SetAppAuthorisation(tx, patient_key, client, scopes, consent_id));
  }
  return Status::Ok();
}

Status SetRecordStatus(storage::Transaction& tx, long long patient_key, RecordStatus status) {
  static constexpr Statement kSet{
      "policy_record_status",
      "UPDATE patient SET status = $2, status_changed_at = now(), "
      "opposed_at = CASE WHEN $2 = 'opposed' THEN now() ELSE opposed_at END, "
      "closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END "
      "WHERE patient_key = $1::bigint"};
  const char* name = status == RecordStatus::kActive   ? "active"
                     : status == RecordStatus::kClosed ? "closed"
                                                       : "opposed";
  auto r = tx.Run(kSet, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(name)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SetTreatingPhysician(storage::Transaction& tx, long long patient_key,
                            const std::string& national_id) {
  static constexpr Statement kSet{
      "policy_treating_physician",
      "UPDATE patient SET treating_physician = nullif($2, '') WHERE patient_key = $1::bigint"};
  auto r = tx.Run(kSet, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(national_id)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SetBlock(storage::Transaction& tx, long long patient_key, const std::string& kind,
                const std::string& actor_id, bool blocked) {
  static constexpr Statement kAdd{
      "policy_block_add",
      "INSERT INTO patient_block (patient_key, kind, actor_id) VALUES ($1::bigint, $2, $3) "
      "ON CONFLICT DO NOTHING"};
  static constexpr Statement kRemove{
      "policy_block_remove",
      "DELETE FROM patient_block WHERE patient_key = $1::bigint AND kind = $2 AND actor_id = $3"};
  auto r = tx.Run(blocked ? kAdd : kRemove, {SqlParam::Text(std::to_string(patient_key)),
                                             SqlParam::Text(kind), SqlParam::Text(actor_id)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SetEmergencyOpposed(storage::Transaction& tx, long long patient_key, bool opposed) {
  static constexpr Statement kSet{
      "policy_emergency_opposed",
      "UPDATE patient SET emergency_opposed = $2::boolean WHERE patient_key = $1::bigint"};
  auto r = tx.Run(kSet, {SqlParam::Text(std::to_string(patient_key)),
                         SqlParam::Text(opposed ? "true" : "false")});
  return r.ok() ? Status::Ok() : r.status();
}

storage::AuditEntry AuditEntryFor(const Actor& actor, const Decision& decision,
                                  storage::AuditEntry base) {
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
  return base;
}

}  // namespace carnet::profiles
