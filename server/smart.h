// carnet as a SMART App Launch 2 authorization server for the apps of its catalogue
// (issue 17), and the catalogue itself.
//
//   GET  /.well-known/smart-configuration (also under /fhir): discovery;
//   GET  /apps, GET /apps/{client_id}: the catalogue, public (no secret is ever shown);
//   POST /apps, PUT /apps/{client_id}, DELETE /apps/{client_id}: the operator keeps it;
//   GET  /oauth/authorize: the request checked, then a browser is sent to the web space's page
//        /espace/#/autoriser?... (when the web space is served), where the signed-in patient
//        approves a subset of what the app asks (standalone launch, PKCE S256); with an
//        Authorization header, or no web space, carnet's own page (the login token typed);
//        Accept: application/json answers the app and its scopes for the web space's page;
//   POST /oauth/authorize: the approval, which becomes a Consent of the record written
//        through the FHIR write path as the patient (policy, audit, app_authorisation);
//        Accept: application/json answers {"redirect": URL} for the page to follow;
//   POST /oauth/token: authorization_code and refresh_token (with offline_access);
//   POST /oauth/revoke: RFC 7009 for refresh tokens;
//   GET  /oauth/jwks: the public key carnet signs its tokens with (DATA_DIR/keys).
// The access tokens are JWTs of issuer Config::FhirBaseUrl(), verified by the same
// AccessControl as every other issuer's; revoking the Consent stops them and the refresh
// tokens at once (the policy reads app_authorisation on every request).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/http.h"
#include "fhir/rest.h"
#include "profiles/access.h"
#include "profiles/jwt.h"
#include "server/config.h"
#include "storage/app_store.h"
#include "storage/pool.h"

namespace carnet {

class SmartServer {
 public:
  SmartServer(const Config& config, storage::Pool& pool, const profiles::AccessControl& access,
              fhir::FhirApi& fhir);
  // The answer when `req` is for one of the paths above; nullopt otherwise.
  std::optional<HttpResponse> Handle(const HttpRequest& req);

  // CORS for browser apps (the Fetch standard): the paths an app calls from a page
  // (/fhir/..., the discovery documents, /oauth/token, /oauth/revoke, /oauth/jwks; not the
  // authorize page, a navigation). An origin is allowed when it is the origin of a redirect
  // URI of an app of the catalogue.
  static bool CorsPath(const std::string& path);
  // The answer to a preflight (OPTIONS with Access-Control-Request-Method) from `origin`:
  // 204 with the allowed methods and headers, or 403 without them for another origin.
  HttpResponse Preflight(const HttpRequest& req, const std::string& origin);
  // Adds Access-Control-Allow-Origin (and Vary, the exposed headers) to an answer to an
  // allowed origin; only Vary otherwise.
  void AddCorsHeaders(const std::string& origin, HttpResponse& r);

 private:
  HttpResponse Configuration() const;
  HttpResponse Apps(const HttpRequest& req);
  HttpResponse AuthorizePage(const HttpRequest& req);
  HttpResponse AuthorizeDecision(const HttpRequest& req);
  HttpResponse Decide(const HttpRequest& req);  // the approval or denial, as a page or redirect
  // Sets Consent `consent_id` (an earlier approval of `client_id`) inactive, as the session's
  // patient, when it is active and names that app alone.
  void SupersedeConsent(const HttpRequest& req, profiles::AccessSession& session,
                        const std::string& consent_id, const std::string& client_id);
  // What the token endpoint learnt of an attempt, for its audit record.
  struct TokenAttempt {
    std::string client_id;
    std::string grant_type;
    std::optional<long long> patient_key;  // once a code or refresh token names a record
    std::string patient_id;
    std::string ins;
  };
  HttpResponse Token(const HttpRequest& req);
  HttpResponse IssueToken(const HttpRequest& req, TokenAttempt& attempt);
  // private_key_jwt: `assertion` authenticates `app` (signature, claims, jti once).
  Status VerifyClientAssertion(const storage::AppRow& app, const std::string& assertion,
                               long long now);
  HttpResponse Revoke(const HttpRequest& req);
  HttpResponse RevokeToken(const HttpRequest& req, TokenAttempt& attempt, bool& revoked);

  bool OriginAllowed(const std::string& origin);

  const Config& config_;
  storage::Pool& pool_;
  const profiles::AccessControl& access_;
  fhir::FhirApi& fhir_;
  std::optional<profiles::SigningKey> key_;
  std::string issuer_;  // the FHIR base URL
  std::string origin_;  // the server's URL without /fhir
  // The origins of the catalogue's redirect URIs, read again after a write of the
  // catalogue or every few seconds (another process may have changed it).
  std::mutex cors_mu_;
  std::set<std::string> cors_origins_;
  std::chrono::steady_clock::time_point cors_loaded_{};
  bool cors_stale_ = true;
  bool espace_served_ = false;  // the web space is built: the patient approves there
};

}  // namespace carnet
