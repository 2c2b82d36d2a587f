#include "storage/app_store.h"

namespace carnet::storage {
namespace {

constexpr Statement kUpsertApp{
    "app_upsert",
    "INSERT INTO app_catalogue (client_id, name, publisher, description, category, logo_uri, "
    "redirect_uris, scopes, client_type, secret_hash, jwks) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7::text[], $8, $9, decode(nullif($10, ''), 'hex'), $11) ON CONFLICT (client_id) DO UPDATE "
    "SET name = excluded.name, "
    "publisher = excluded.publisher, description = excluded.description, category = "
    "excluded.category, logo_uri = excluded.logo_uri, redirect_uris = excluded.redirect_uris, "
    "scopes = excluded.scopes, client_type = excluded.client_type, secret_hash = "
    "excluded.secret_hash, jwks = excluded.jwks, updated_at = now() "
    "RETURNING (xmax = 0) AS inserted"};
constexpr Statement kListApps{
    "app_list",
    "SELECT client_id, name, publisher, description, category, logo_uri, redirect_uris, scopes, "
    "client_type, encode(secret_hash, 'hex'), jwks, to_char(updated_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM app_catalogue ORDER BY name, client_id"};
constexpr Statement kFindApp{
    "app_find",
    "SELECT client_id, name, publisher, description, category, logo_uri, redirect_uris, scopes, "
    "client_type, encode(secret_hash, 'hex'), jwks, to_char(updated_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM app_catalogue WHERE client_id = $1"};
constexpr Statement kDeleteApp{"app_delete", "DELETE FROM app_catalogue WHERE client_id = $1"};

constexpr Statement kInsertCode{
    "oauth_code_insert",
    "INSERT INTO oauth_code (code_hash, client_id, redirect_uri, code_challenge, patient_key, "
    "patient_id, ins, scopes, consent_id, expires_at) VALUES ($1, $2, $3, $4, $5::bigint, $6, "
    "$7, $8, $9, to_timestamp($10::bigint))"};
constexpr Statement kTakeCode{
    "oauth_code_take",
    "UPDATE oauth_code SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL AND "
    "expires_at > to_timestamp($2::bigint) RETURNING client_id, redirect_uri, code_challenge, "
    "patient_key, patient_id, ins, scopes, consent_id, extract(epoch FROM expires_at)::bigint"};
constexpr Statement kInsertRefresh{
    "oauth_refresh_insert",
    "INSERT INTO oauth_refresh_token (token_hash, client_id, patient_key, patient_id, ins, "
    "scopes, consent_id, expires_at) VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, "
    "to_timestamp($8::bigint))"};
constexpr Statement kFindRefresh{
    "oauth_refresh_find",
    "SELECT t.client_id, t.patient_key, t.patient_id, t.ins, t.scopes, t.consent_id, "
    "extract(epoch FROM t.expires_at)::bigint FROM oauth_refresh_token t JOIN app_authorisation a "
    "ON a.patient_key = t.patient_key AND a.client_id = t.client_id AND a.res_id = t.consent_id "
    "AND a.revoked_at IS NULL WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > "
    "to_timestamp($2::bigint)"};
constexpr Statement kRevokeRefresh{
    "oauth_refresh_revoke",
    "UPDATE oauth_refresh_token SET revoked_at = now() WHERE token_hash = $1 AND client_id = $2 "
    "AND revoked_at IS NULL RETURNING client_id, patient_key, patient_id, ins, scopes, consent_id"};
constexpr Statement kAuthorisationLive{
    "oauth_authorisation_live",
    "SELECT 1 FROM app_authorisation WHERE patient_key = $1::bigint AND client_id = $2 AND "
    "res_id = $3 AND revoked_at IS NULL"};

constexpr Statement kLiveConsent{
    "oauth_live_consent",
    "SELECT res_id FROM app_authorisation WHERE patient_key = $1::bigint AND client_id = $2 AND "
    "revoked_at IS NULL AND res_id IS NOT NULL"};

constexpr Statement kForgetAssertions{
    "oauth_assertion_forget", "DELETE FROM oauth_client_assertion WHERE expires_at < now()"};
constexpr Statement kUseAssertion{
    "oauth_assertion_use",
    "INSERT INTO oauth_client_assertion (client_id, jti, expires_at) VALUES ($1, $2, "
    "to_timestamp($3::bigint)) ON CONFLICT DO NOTHING"};

AppRow AppOf(const PgResult& r, int i) {
  AppRow a;
  a.client_id = r.GetString(i, 0);
  a.name = r.GetString(i, 1);
  a.publisher = r.GetString(i, 2);
  a.description = r.GetString(i, 3);
  a.category = r.GetString(i, 4);
  a.logo_uri = r.GetString(i, 5);
  a.redirect_uris = ParseTextArray(r.Get(i, 6));
  a.scopes = r.GetString(i, 7);
  a.client_type = r.GetString(i, 8);
  if (!r.IsNull(i, 9)) a.secret_hash = r.GetString(i, 9);
  a.jwks = r.GetString(i, 10);
  a.updated_at = r.GetString(i, 11);
  return a;
}

SqlParam Int(long long v) { return SqlParam::Text(std::to_string(v)); }

}  // namespace

Status UpsertApp(Transaction& tx, const AppRow& a, bool* created) {
  auto r = tx.Run(
      kUpsertApp,
      {SqlParam::Text(a.client_id), SqlParam::Text(a.name), SqlParam::Text(a.publisher),
       SqlParam::Text(a.description), SqlParam::Text(a.category), SqlParam::Text(a.logo_uri),
       SqlParam::Text(TextArrayLiteral(a.redirect_uris)), SqlParam::Text(a.scopes),
       SqlParam::Text(a.client_type), SqlParam::Text(a.secret_hash), SqlParam::Text(a.jwks)});
  if (!r.ok()) return r.status();
  if (created) *created = r->rows() > 0 && r->GetBool(0, 0);
  return Status::Ok();
}

Result<std::vector<AppRow>> ListApps(Transaction& tx) {
  auto r = tx.Run(kListApps, {});
  if (!r.ok()) return r.status();
  std::vector<AppRow> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(AppOf(*r, i));
  return out;
}

Result<std::optional<AppRow>> FindApp(Transaction& tx, const std::string& client_id) {
  auto r = tx.Run(kFindApp, {SqlParam::Text(client_id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<AppRow>();
  return std::optional<AppRow>(AppOf(*r, 0));
}

Result<bool> DeleteApp(Transaction& tx, const std::string& client_id) {
  auto r = tx.Run(kDeleteApp, {SqlParam::Text(client_id)});
  if (!r.ok()) return r.status();
  return r->affected() > 0;
}

Status InsertCode(Transaction& tx, const std::string& code_hash, const OAuthGrantRow& g) {
  auto r = tx.Run(kInsertCode,
                  {SqlParam::Bytes(code_hash), SqlParam::Text(g.client_id),
                   SqlParam::Text(g.redirect_uri), SqlParam::Text(g.code_challenge),
                   Int(g.patient_key), SqlParam::Text(g.patient_id), SqlParam::Text(g.ins),
                   SqlParam::Text(g.scopes), SqlParam::Text(g.consent_id), Int(g.expires_at)});
  return r.ok() ? Status::Ok() : r.status();
}

// The grant a refresh token row carries: client_id, patient_key, patient_id, ins, scopes,
// consent_id (the columns kFindRefresh and kRevokeRefresh return first, in that order).
static OAuthGrantRow RefreshGrantOf(const PgResult& r) {
  OAuthGrantRow g;
  g.client_id = r.GetString(0, 0);
  g.patient_key = r.GetInt(0, 1);
  g.patient_id = r.GetString(0, 2);
  g.ins = r.GetString(0, 3);
  g.scopes = r.GetString(0, 4);
  g.consent_id = r.GetString(0, 5);
  return g;
}

Result<std::optional<OAuthGrantRow>> TakeCode(Transaction& tx, const std::string& code_hash,
                                              long long now) {
  auto r = tx.Run(kTakeCode, {SqlParam::Bytes(code_hash), Int(now)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<OAuthGrantRow>();
  OAuthGrantRow g;
  g.client_id = r->GetString(0, 0);
  g.redirect_uri = r->GetString(0, 1);
  g.code_challenge = r->GetString(0, 2);
  g.patient_key = r->GetInt(0, 3);
  g.patient_id = r->GetString(0, 4);
  g.ins = r->GetString(0, 5);
  g.scopes = r->GetString(0, 6);
  g.consent_id = r->GetString(0, 7);
  g.expires_at = r->GetInt(0, 8);
  return std::optional<OAuthGrantRow>(std::move(g));
}

Status InsertRefreshToken(Transaction& tx, const std::string& token_hash, const OAuthGrantRow& g) {
  auto r = tx.Run(kInsertRefresh,
                  {SqlParam::Bytes(token_hash), SqlParam::Text(g.client_id), Int(g.patient_key),
                   SqlParam::Text(g.patient_id), SqlParam::Text(g.ins), SqlParam::Text(g.scopes),
                   SqlParam::Text(g.consent_id), Int(g.expires_at)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<OAuthGrantRow>> FindLiveRefreshToken(Transaction& tx,
                                                          const std::string& token_hash,
                                                          long long now) {
  auto r = tx.Run(kFindRefresh, {SqlParam::Bytes(token_hash), Int(now)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<OAuthGrantRow>();
  OAuthGrantRow g = RefreshGrantOf(*r);
  g.expires_at = r->GetInt(0, 6);
  return std::optional<OAuthGrantRow>(std::move(g));
}

Result<std::optional<OAuthGrantRow>> RevokeRefreshToken(Transaction& tx,
                                                        const std::string& token_hash,
                                                        const std::string& client_id) {
  auto r = tx.Run(kRevokeRefresh, {SqlParam::Bytes(token_hash), SqlParam::Text(client_id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<OAuthGrantRow>();
  return std::optional<OAuthGrantRow>(RefreshGrantOf(*r));
}

Result<bool> UseClientAssertion(Transaction& tx, const std::string& client_id,
                                const std::string& jti, long long expires_at) {
  auto forgot = tx.Run(kForgetAssertions, {});
  if (!forgot.ok()) return forgot.status();
  auto r = tx.Run(kUseAssertion, {SqlParam::Text(client_id), SqlParam::Text(jti), Int(expires_at)});
  if (!r.ok()) return r.status();
  return r->affected() > 0;
}

Result<std::optional<std::string>> LiveAppConsent(Transaction& tx, long long patient_key,
                                                  const std::string& client_id) {
  auto r = tx.Run(kLiveConsent, {Int(patient_key), SqlParam::Text(client_id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->GetString(0, 0));
}

Result<bool> AppAuthorisationLive(Transaction& tx, long long patient_key,
                                  const std::string& client_id, const std::string& consent_id) {
  auto r = tx.Run(kAuthorisationLive,
                  {Int(patient_key), SqlParam::Text(client_id), SqlParam::Text(consent_id)});
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

}  // namespace carnet::storage
