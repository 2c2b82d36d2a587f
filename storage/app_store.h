// The rows of the app catalogue and of carnet's SMART App Launch authorization server
// (migration 0012): referenced apps, authorization codes and refresh tokens. Codes and
// tokens are looked up by their SHA-256 (raw bytes), never stored in clear. What the rows
// mean (who may write the catalogue, what a code grants) is decided in server/smart.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct AppRow {
  std::string client_id;
  std::string name;
  std::string publisher;
  std::string description;
  std::string category;
  std::string logo_uri;
  std::vector<std::string> redirect_uris;
  std::string scopes;       // space-separated
  std::string client_type;  // "public" or "confidential"
  std::string secret_hash;  // hex SHA-256 of the client secret (confidential); empty: none
  std::string jwks;         // public keys (JWKS) of a private_key_jwt client; empty: none
  std::string updated_at;
};

// Inserts or replaces the app `row.client_id`. `created` tells which.
Status UpsertApp(Transaction& tx, const AppRow& row, bool* created);
// Every app, by name.
Result<std::vector<AppRow>> ListApps(Transaction& tx);
Result<std::optional<AppRow>> FindApp(Transaction& tx, const std::string& client_id);
// Removes an app from the catalogue; false when there was none.
Result<bool> DeleteApp(Transaction& tx, const std::string& client_id);

struct OAuthGrantRow {
  std::string client_id;
  std::string redirect_uri;    // codes only
  std::string code_challenge;  // codes only
  long long patient_key = 0;
  std::string patient_id;
  std::string ins;
  std::string scopes;
  std::string consent_id;
  long long expires_at = 0;  // seconds since the epoch
};

Status InsertCode(Transaction& tx, const std::string& code_hash, const OAuthGrantRow& row);
// The code, marked used by this very statement: nullopt when unknown, expired or used
// already (a replay). `now` in seconds since the epoch.
Result<std::optional<OAuthGrantRow>> TakeCode(Transaction& tx, const std::string& code_hash,
                                              long long now);

Status InsertRefreshToken(Transaction& tx, const std::string& token_hash, const OAuthGrantRow& row);
// A refresh token neither revoked nor expired, whose Consent still authorises the app
// (app_authorisation granted by that Consent and not revoked); nullopt otherwise.
Result<std::optional<OAuthGrantRow>> FindLiveRefreshToken(Transaction& tx,
                                                          const std::string& token_hash,
                                                          long long now);
// Revokes one refresh token (RFC 7009), for `client_id` only: the grant it carried, nullopt
// when there was none (unknown, another client's, or revoked already).
Result<std::optional<OAuthGrantRow>> RevokeRefreshToken(Transaction& tx,
                                                        const std::string& token_hash,
                                                        const std::string& client_id);
// Records the use of client assertion `jti` of `client_id` (valid until `expires_at`,
// seconds since the epoch), forgetting the expired ones: false when it was used already.
Result<bool> UseClientAssertion(Transaction& tx, const std::string& client_id,
                                const std::string& jti, long long expires_at);
// The Consent (its id) through which `client_id` is authorised on the record, if it is.
Result<std::optional<std::string>> LiveAppConsent(Transaction& tx, long long patient_key,
                                                  const std::string& client_id);
// Whether app_authorisation still holds the grant of Consent `consent_id` for `client_id`.
Result<bool> AppAuthorisationLive(Transaction& tx, long long patient_key,
                                  const std::string& client_id, const std::string& consent_id);

}  // namespace carnet::storage
