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

#include <optional>

#include "base/http.h"
#include "fhir/rest.h"
#include "profiles/access.h"
#include "profiles/jwt.h"
#include "server/config.h"
#include "storage/pool.h"

namespace carnet {

class SmartServer {
 public:
  SmartServer(const Config& config, storage::Pool& pool, const profiles::AccessControl& access,
              fhir::FhirApi& fhir);
  // The answer when `req` is for one of the paths above; nullopt otherwise.
  std::optional<HttpResponse> Handle(const HttpRequest& req);

 private:
  HttpResponse Configuration() const;
  HttpResponse Apps(const HttpRequest& req);
  HttpResponse AuthorizePage(const HttpRequest& req);
  HttpResponse AuthorizeDecision(const HttpRequest& req);
  HttpResponse Decide(const HttpRequest& req);  // the approval or denial, as a page or redirect
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
  HttpResponse Revoke(const HttpRequest& req);

  const Config& config_;
  storage::Pool& pool_;
  const profiles::AccessControl& access_;
  fhir::FhirApi& fhir_;
  std::optional<profiles::SigningKey> key_;
  std::string issuer_;          // the FHIR base URL
  std::string origin_;          // the server's URL without /fhir
  bool espace_served_ = false;  // the web space is built: the patient approves there
};

}  // namespace carnet
