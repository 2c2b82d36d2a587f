#include "storage/record_context_store.h"

#include "storage/record_context_sql.h"

namespace carnet::storage {
namespace {

Status Done(const Result<PgResult>& r) { return r.ok() ? Status::Ok() : r.status(); }

SqlParam Key(long long patient_key) { return SqlParam::Text(std::to_string(patient_key)); }

SqlParam Bool(bool b) { return SqlParam::Text(b ? "true" : "false"); }

}  // namespace

SqlParams RecordRowPartParams(const RecordRowParts& parts) {
  return {Bool(parts.app_authorisations), SqlParam::Text(parts.emergency_window_of.value_or("")),
          Bool(parts.emergency_window_of.has_value()), Bool(parts.message_senders),
          SqlParam::Text(parts.guardian_system)};
}

RecordRow RecordRowFrom(const PgResult& rec, int row, int first) {
  RecordRow r;
  r.patient_id = rec.GetString(row, first + 0);
  r.ins = rec.GetString(row, first + 1);
  r.status = rec.GetString(row, first + 2);
  r.treating_physician = rec.GetString(row, first + 3);
  r.emergency_opposed = rec.GetBool(row, first + 4);
  r.blocked_professionals = ParseTextArray(rec.GetString(row, first + 5));
  r.blocked_organisations = ParseTextArray(rec.GetString(row, first + 6));
  r.care_team = ParseTextArray(rec.GetString(row, first + 7));
  // "client kinds scopes": a client id holds no space, the kinds are '*' (every kind) or
  // comma-separated.
  for (const std::string& app : ParseTextArray(rec.GetString(row, first + 8))) {
    size_t space = app.find(' ');
    size_t second = space == std::string::npos ? space : app.find(' ', space + 1);
    AppAuthorisationRow a;
    a.client_id = app.substr(0, space);
    std::string kinds =
        space == std::string::npos ? "*" : app.substr(space + 1, second - space - 1);
    a.scopes = second == std::string::npos ? "" : app.substr(second + 1);
    if (kinds != "*") {
      a.measurement_kinds.emplace();
      size_t start = 0;
      while (start < kinds.size()) {
        size_t comma = kinds.find(',', start);
        if (comma == std::string::npos) comma = kinds.size();
        if (comma > start) a.measurement_kinds->push_back(kinds.substr(start, comma - start));
        start = comma + 1;
      }
    }
    r.app_authorisations.push_back(std::move(a));
  }
  if (!rec.IsNull(row, first + 9)) r.emergency_started_at = rec.GetInt(row, first + 9);
  r.message_senders = ParseTextArray(rec.GetString(row, first + 10));
  // "id value": a FHIR id holds no space.
  for (const std::string& g : ParseTextArray(rec.GetString(row, first + 11))) {
    size_t space = g.find(' ');
    if (space != std::string::npos)
      r.guardians.emplace_back(g.substr(0, space), g.substr(space + 1));
  }
  return r;
}

Result<std::optional<RecordRow>> ReadRecordRow(Transaction& tx, long long patient_key,
                                               const RecordRowParts& parts) {
  // The record and, as arrays, its blocks, its care team, the apps it authorised and one
  // professional's emergency window.
  static constexpr Statement kContext{
      "policy_record_context",
      "SELECT " CARNET_RECORD_CONTEXT_COLUMNS(
          "$2", "$3", "$4", "$5", "$6") "FROM patient p WHERE p.patient_key = $1::bigint"};
  SqlParams params = RecordRowPartParams(parts);
  params.insert(params.begin(), Key(patient_key));
  auto rec = tx.Run(kContext, params);
  if (!rec.ok()) return rec.status();
  if (rec->rows() == 0) return std::optional<RecordRow>();
  return std::optional<RecordRow>(RecordRowFrom(*rec, 0, 0));
}

Result<std::vector<long long>> FindRecordKeys(Transaction& tx, const std::vector<std::string>& ins,
                                              const std::string& patient_id) {
  static constexpr Statement kByIns{
      "policy_records_by_ins",
      "SELECT patient_key FROM patient WHERE ins = ANY($1::text[]) OR "
      "($2 <> '' AND resource_id = $2) ORDER BY patient_key"};
  auto r = tx.Run(kByIns, {SqlParam::Text(TextArrayLiteral(ins)), SqlParam::Text(patient_id)});
  if (!r.ok()) return r.status();
  std::vector<long long> keys;
  for (int i = 0; i < r->rows(); ++i) keys.push_back(r->GetInt(i, 0));
  return keys;
}

Status UpsertEmergencyAccess(Transaction& tx, long long patient_key, const std::string& actor_id,
                             long long started_at, const std::string& reason) {
  static constexpr Statement kUpsert{
      "policy_emergency_upsert",
      "INSERT INTO emergency_access (patient_key, actor_id, started_at, reason) "
      "VALUES ($1::bigint, $2, to_timestamp($3::bigint), $4) ON CONFLICT (patient_key, actor_id) "
      "DO UPDATE SET started_at = excluded.started_at, reason = excluded.reason"};
  return Done(
      tx.Run(kUpsert, {Key(patient_key), SqlParam::Text(actor_id),
                       SqlParam::Text(std::to_string(started_at)), SqlParam::Text(reason)}));
}

Status ReplaceCareTeamMembers(Transaction& tx, long long patient_key, const std::string& res_id,
                              const std::vector<std::string>& members) {
  static constexpr Statement kClear{
      "policy_care_team_clear",
      "DELETE FROM care_team_member WHERE patient_key = $1::bigint AND res_id = $2"};
  static constexpr Statement kAdd{
      "policy_care_team_add",
      "INSERT INTO care_team_member (patient_key, member_id, res_id) VALUES ($1::bigint, $2, $3) "
      "ON CONFLICT DO NOTHING"};
  CARNET_RETURN_IF_ERROR(Done(tx.Run(kClear, {Key(patient_key), SqlParam::Text(res_id)})));
  for (const auto& m : members)
    CARNET_RETURN_IF_ERROR(
        Done(tx.Run(kAdd, {Key(patient_key), SqlParam::Text(m), SqlParam::Text(res_id)})));
  return Status::Ok();
}

Status GrantAppAuthorisation(Transaction& tx, long long patient_key, const std::string& client_id,
                             const std::string& scopes, const std::string& res_id,
                             const std::optional<std::vector<std::string>>& measurement_kinds) {
  static constexpr Statement kGrant{
      "policy_app_grant",
      "INSERT INTO app_authorisation (patient_key, client_id, scopes, res_id, measurement_kinds) "
      "VALUES ($1::bigint, $2, $3, nullif($4, ''), CASE WHEN $6::boolean THEN $5 END) "
      "ON CONFLICT (patient_key, client_id) DO UPDATE "
      "SET scopes = excluded.scopes, res_id = excluded.res_id, "
      "measurement_kinds = excluded.measurement_kinds, granted_at = now(), revoked_at = NULL"};
  std::string kinds;
  if (measurement_kinds)
    for (const auto& k : *measurement_kinds) kinds += (kinds.empty() ? "" : ",") + k;
  return Done(tx.Run(kGrant, {Key(patient_key), SqlParam::Text(client_id), SqlParam::Text(scopes),
                              SqlParam::Text(res_id), SqlParam::Text(kinds),
                              Bool(measurement_kinds.has_value())}));
}

Status RevokeAppAuthorisation(Transaction& tx, long long patient_key,
                              const std::string& client_id) {
  static constexpr Statement kRevoke{
      "policy_app_revoke",
      "UPDATE app_authorisation SET revoked_at = now() WHERE patient_key = $1::bigint "
      "AND client_id = $2 AND revoked_at IS NULL"};
  return Done(tx.Run(kRevoke, {Key(patient_key), SqlParam::Text(client_id)}));
}

Status RevokeAppAuthorisationsGrantedBy(Transaction& tx, long long patient_key,
                                        const std::string& res_id) {
  static constexpr Statement kRevokeByResource{
      "policy_app_revoke_consent",
      "UPDATE app_authorisation SET revoked_at = now() WHERE patient_key = $1::bigint "
      "AND res_id = $2 AND revoked_at IS NULL"};
  return Done(tx.Run(kRevokeByResource, {Key(patient_key), SqlParam::Text(res_id)}));
}

Status UpdateRecordStatus(Transaction& tx, long long patient_key, const std::string& status) {
  static constexpr Statement kSet{
      "policy_record_status",
      "UPDATE patient SET status = $2, status_changed_at = now(), "
      "opposed_at = CASE WHEN $2 = 'opposed' THEN now() ELSE opposed_at END, "
      "closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END "
      "WHERE patient_key = $1::bigint"};
  return Done(tx.Run(kSet, {Key(patient_key), SqlParam::Text(status)}));
}

Status UpdateTreatingPhysician(Transaction& tx, long long patient_key,
                               const std::string& national_id) {
  static constexpr Statement kSet{
      "policy_treating_physician",
      "UPDATE patient SET treating_physician = nullif($2, '') WHERE patient_key = $1::bigint"};
  return Done(tx.Run(kSet, {Key(patient_key), SqlParam::Text(national_id)}));
}

Status UpdateBlock(Transaction& tx, long long patient_key, const std::string& kind,
                   const std::string& actor_id, bool blocked) {
  static constexpr Statement kAdd{
      "policy_block_add",
      "INSERT INTO patient_block (patient_key, kind, actor_id) VALUES ($1::bigint, $2, $3) "
      "ON CONFLICT DO NOTHING"};
  static constexpr Statement kRemove{
      "policy_block_remove",
      "DELETE FROM patient_block WHERE patient_key = $1::bigint AND kind = $2 AND actor_id = $3"};
  return Done(tx.Run(blocked ? kAdd : kRemove,
                     {Key(patient_key), SqlParam::Text(kind), SqlParam::Text(actor_id)}));
}

Status UpdateEmergencyOpposed(Transaction& tx, long long patient_key, bool opposed) {
  static constexpr Statement kSet{
      "policy_emergency_opposed",
      "UPDATE patient SET emergency_opposed = $2::boolean WHERE patient_key = $1::bigint"};
  return Done(tx.Run(kSet, {Key(patient_key), Bool(opposed)}));
}

}  // namespace carnet::storage
