#include "server/smart.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "profiles/actor.h"
#include "profiles/policy_store.h"
#include "server/espace.h"
#include "storage/app_store.h"
#include "storage/transaction.h"

namespace carnet {
namespace {

void LogEvent(const std::string& event, const std::string& detail) {
  LogLine("{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) +
          "\",\"level\":\"warning\",\"event\":\"" + event + "\",\"detail\":\"" +
          JsonEscape(detail) + "\"}");
}

long long Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

JsonValue Str(std::string s) { return JsonValue::String(std::move(s)); }
JsonValue Num(long long n) { return JsonValue::Number(std::to_string(n)); }

HttpResponse JsonAnswer(int status, const JsonValue& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = WriteJson(body);
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

// RFC 6749 section 5.2 error answer.
// The access history's record of a step of the SMART authorisation (IHE BALP: DICOM
// 110114 User Authentication, subtype `step`: "oauth-code" when the patient's approval
// issues an authorization code, "oauth-token" when the token endpoint issues or refuses a
// token). On the patient's record when it is known, so the patient and the operators see it
// with the rest of the record's history; outcome 4 with the reason when refused.
profiles::AuditEntry OAuthAuditEntry(const HttpRequest& req, const std::string& step,
                                     const std::string& client_id,
                                     std::optional<long long> patient_key,
                                     const std::string& patient_id, const std::string& ins) {
  profiles::AuditEntry e = profiles::AuditEntry::Dicom("110114", "User Authentication", step, 'E');
  e.subtype_system = "https://carnet.example.org/fhir/CodeSystem/oauth-step";
  e.subtype_display = step == "oauth-code"     ? "Authorization code issued"
                      : step == "oauth-revoke" ? "Token revocation"
                                               : "Token request";
  e.client_id = client_id;
  e.network_address = req.peer;
  e.request_id = req.request_id;
  e.object_reference = req.method + " " + req.path;
  e.patient_key = patient_key;
  if (!patient_id.empty()) e.patient_reference = "Patient/" + patient_id;
  e.patient_ins = ins;
  return e;
}

HttpResponse OAuthError(int status, const std::string& error, const std::string& description) {
  JsonValue b = JsonValue::Object();
  b.Set("error", Str(error));
  b.Set("error_description", Str(description));
  HttpResponse r = JsonAnswer(status, b);
  if (status == 401) r.SetHeader("WWW-Authenticate", "Basic realm=\"carnet\"");
  // A refused client or grant is a refused authentication: the log line says which.
  if (status == 400 || status == 401) {
    using profiles::Reason;
    Reason why = error == "invalid_client"  ? Reason::kOAuthInvalidClient
                 : error == "invalid_grant" ? Reason::kOAuthInvalidGrant
                                            : Reason::kOAuthInvalidRequest;
    RequestNotes& notes = CurrentRequestNotes();
    notes.decision = "deny";
    notes.reason = std::string(profiles::ReasonCode(why));
  }
  return r;
}

// The catalogue's errors, as the FHIR side answers them.
HttpResponse Outcome(int status, const std::string& code, const std::string& text) {
  JsonValue issue = JsonValue::Object();
  issue.Set("severity", Str("error"));
  issue.Set("code", Str(code));
  issue.Set("diagnostics", Str(text));
  JsonValue issues = JsonValue::Array();
  issues.Append(std::move(issue));
  JsonValue oo = JsonValue::Object();
  oo.Set("resourceType", Str("OperationOutcome"));
  oo.Set("issue", std::move(issues));
  HttpResponse r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = WriteJson(oo);
  return r;
}

// The authorize page's text and attribute values.
std::string HtmlEscape(std::string_view in) { return XmlEscape(in); }

constexpr char kPageStyle[] =
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#1e1e1e}"
    "h1{font-size:1.4em}fieldset{margin:1em 0}label{display:block;margin:.4em 0}"
    "button{margin:.5em .5em 0 0;padding:.5em 1em}";

// The page of the authorize step: French, no external resource, a strict CSP (no script at
// all, the one style block by its hash, forms only to carnet itself, never framed).
HttpResponse Page(int status, const std::string& title, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>" +
           HtmlEscape(title) + "</title><style>" + kPageStyle + "</style></head><body><h1>" +
           HtmlEscape(title) + "</h1>" + body + "</body></html>\n";
  std::string style_hash = Base64Encode(profiles::Sha256Digest(kPageStyle));
  r.SetHeader("Content-Security-Policy", "default-src 'none'; style-src 'sha256-" + style_hash +
                                             "'; form-action 'self'; frame-ancestors 'none'; "
                                             "base-uri 'none'");
  r.SetHeader("X-Frame-Options", "DENY");
  r.SetHeader("Referrer-Policy", "no-referrer");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

HttpResponse ErrorPage(int status, const std::string& text) {
  return Page(status, "Autorisation impossible", "<p>" + HtmlEscape(text) + "</p>");
}

HttpResponse Redirect(const std::string& uri,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string target = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (v.empty() && k == "state") continue;
    target += sep + PercentEncode(k) + "=" + PercentEncode(v);
    sep = '&';
  }
  HttpResponse r;
  r.status = 302;
  r.SetHeader("Location", target);
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Referrer-Policy", "no-referrer");
  return r;
}

// The web space's page and its scripts ask for JSON (Accept: application/json): the authorize
// step then answers data instead of a page or a redirect, the navigation being the page's.
bool WantsJson(const HttpRequest& req) {
  const std::string* accept = req.Header("Accept");
  return accept && accept->find("application/json") != std::string::npos;
}

// An authorize answer (a page, or a redirect back to the app) as JSON: a redirect becomes
// {"redirect": URL} (200 for an approval or a denial the patient chose, `refusal_status` for
// an invalid request the app must be told of), a page {"error": ...} with its status.
HttpResponse AuthorizeAsJson(const HttpResponse& answer, int refusal_status) {
  JsonValue o = JsonValue::Object();
  int status = answer.status;
  if (answer.status == 302) {
    std::string location;
    for (const auto& [k, v] : answer.headers)
      if (HeaderNameEquals(k, "Location")) location = v;
    o.Set("redirect", JsonValue::String(location));
    if (refusal_status != 200) o.Set("error", JsonValue::String("invalid_request"));
    status = refusal_status;
  } else {
    o.Set("error", JsonValue::String(answer.status == 401   ? "login_required"
                                     : answer.status == 404 ? "no_record"
                                     : answer.status >= 500 ? "temporarily_unavailable"
                                                            : "invalid_request"));
  }
  HttpResponse r = JsonAnswer(status, o);
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The scopes an app may ask for: SMART resource scopes of the patient context, and the
// launch scopes of a standalone patient launch.
bool KnownScope(const std::string& s) {
  static const std::set<std::string> kContext = {"openid", "fhirUser", "launch/patient",
                                                 "offline_access", "online_access"};
  if (kContext.count(s)) return true;
  if (s.rfind("patient/", 0) != 0) return false;
  return profiles::ParseSmartScope(s).has_value();
}

// Whether the catalogue's scopes for an app (`allowed`) let it ask for `s`: the same scope, or
// a narrower resource scope (SMART 2 lets an app ask for less than it may): the same context,
// the same type (or any type when the catalogue says *), a subset of the letters, and the
// catalogue's query restriction kept (a scope restricted further is narrower still).
bool CatalogueAllows(const std::vector<std::string>& allowed, const std::string& s) {
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return true;
  auto asked = profiles::ParseSmartScope(s);
  if (!asked) return false;
  for (const auto& a : allowed) {
    auto may = profiles::ParseSmartScope(a);
    if (!may || may->context != asked->context) continue;
    if (may->resource_type != "*" && may->resource_type != asked->resource_type) continue;
    if ((asked->create && !may->create) || (asked->read && !may->read) ||
        (asked->update && !may->update) || (asked->remove && !may->remove) ||
        (asked->search && !may->search))
      continue;
    bool kept = true;
    for (const auto& c : may->restriction)
      kept = kept && std::find(asked->restriction.begin(), asked->restriction.end(), c) !=
                         asked->restriction.end();
    if (kept) return true;
  }
  return false;
}

// French words for a scope on the page.
std::string DescribeScope(const std::string& s) {
  if (s == "openid" || s == "fhirUser") return "connaître votre identité (" + s + ")";
  if (s == "launch/patient") return "savoir quel dossier est ouvert (launch/patient)";
  if (s == "offline_access")
    return "garder l'accès tant que vous ne le retirez pas (offline_access)";
  if (s == "online_access") return "garder l'accès pendant votre session (online_access)";
  std::string body = s.substr(8);
  size_t dot = body.find('.');
  std::string type = body.substr(0, dot);
  std::string rest = dot == std::string::npos ? "" : body.substr(dot + 1);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::vector<std::string> verbs;
  if (rest == "read" || rest == "*" || rest.find('r') != std::string::npos) verbs.push_back("lire");
  if (rest == "read" || rest == "*" || rest.find('s') != std::string::npos)
    verbs.push_back("rechercher");
  if (rest == "write" || rest == "*" || rest.find('c') != std::string::npos)
    verbs.push_back("ajouter");
  if (rest == "write" || rest == "*" || rest.find('u') != std::string::npos)
    verbs.push_back("modifier");
  if (rest == "write" || rest == "*" || rest.find('d') != std::string::npos)
    verbs.push_back("supprimer");
  std::string what = type == "*" ? "toutes les données de votre dossier" : "vos " + type;
  std::string out;
  for (size_t i = 0; i < verbs.size(); ++i)
    out += (i == 0 ? "" : i + 1 == verbs.size() ? " et " : ", ") + verbs[i];
  out += " " + what;
  if (!query.empty()) out += " (seulement " + query + ")";
  return out + " (" + s + ")";
}

bool ValidClientId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

// A redirect URI an app may register: absolute https, or http on the loopback (native
// apps, RFC 8252 section 7.3); no fragment.
bool ValidRedirectUri(const std::string& uri) {
  if (uri.size() > 2000 || uri.find('#') != std::string::npos) return false;
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>') return false;
  if (uri.rfind("https://", 0) == 0) return uri.size() > 8;
  return uri.rfind("http://127.0.0.1:", 0) == 0 || uri.rfind("http://127.0.0.1/", 0) == 0 ||
         uri.rfind("http://localhost:", 0) == 0 || uri.rfind("http://localhost/", 0) == 0 ||
         uri.rfind("http://[::1]", 0) == 0;
}

std::string HexSha256(std::string_view text) { return HexEncode(profiles::Sha256Digest(text)); }

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

JsonValue AppJson(const storage::AppRow& a) {
  JsonValue o = JsonValue::Object();
  o.Set("client_id", Str(a.client_id));
  o.Set("name", Str(a.name));
  o.Set("publisher", Str(a.publisher));
  o.Set("description", Str(a.description));
  o.Set("category", Str(a.category));
  if (!a.logo_uri.empty()) o.Set("logo_uri", Str(a.logo_uri));
  JsonValue uris = JsonValue::Array();
  for (const auto& u : a.redirect_uris) uris.Append(Str(u));
  o.Set("redirect_uris", std::move(uris));
  o.Set("scope", Str(a.scopes));
  o.Set("client_type", Str(a.client_type));
  o.Set("token_endpoint_auth_method", Str(a.client_type != "confidential" ? "none"
                                          : a.jwks.empty()                ? "client_secret_basic"
                                                                          : "private_key_jwt"));
  if (!a.jwks.empty())
    if (auto keys = ParseJson(a.jwks); keys.ok()) o.Set("jwks", std::move(keys).value());
  o.Set("updated", Str(a.updated_at));
  return o;
}

// The request parameters (query for GET, form body for POST), the last of each name.
std::map<std::string, std::string> Params(const HttpRequest& req, bool form) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : ParseQuery(form ? req.body : req.query)) out[k] = v;
  return out;
}

bool IsFormBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  return ct && AsciiLower(*ct).rfind("application/x-www-form-urlencoded", 0) == 0;
}

Result<std::optional<storage::AppRow>> LoadApp(storage::Pool& pool, const std::string& client_id) {
  std::optional<storage::AppRow> app;
  storage::TxOptions ro;
  ro.read_only = true;
  Status st = storage::RunInTransaction(pool, ro, [&](storage::Transaction& tx) -> Status {
    auto found = storage::FindApp(tx, client_id);
    if (!found.ok()) return found.status();
    app = std::move(found).value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return app;
}

// An authorization request, checked as RFC 6749 section 4.1.2.1 says: when the client or
// its redirect URI cannot be trusted, the answer is a page (never a redirect); otherwise
// errors go back to the app by its redirect URI.
struct AuthorizationRequest {
  storage::AppRow app;
  std::string redirect_uri;
  std::string state;
  std::string code_challenge;
  std::vector<std::string> scopes;  // requested and allowed by the catalogue
};

struct AuthorizeCheck {
  std::optional<AuthorizationRequest> request;
  std::optional<HttpResponse> answer;  // the refusal
};

AuthorizeCheck CheckAuthorization(storage::Pool& pool, const std::string& fhir_base,
                                  const std::map<std::string, std::string>& p) {
  AuthorizeCheck out;
  auto get = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  std::string client_id = get("client_id");
  auto app = LoadApp(pool, client_id);
  if (!app.ok()) {
    out.answer = ErrorPage(503, "Le service est momentanément indisponible.");
    return out;
  }
  if (client_id.empty() || !*app) {
    out.answer = ErrorPage(400, "Cette application n'est pas référencée au catalogue.");
    return out;
  }
  std::string redirect_uri = get("redirect_uri");
  if (!Contains((*app)->redirect_uris, redirect_uri)) {
    out.answer = ErrorPage(400,
                           "L'adresse de retour demandée n'est pas celle que l'application a "
                           "déclarée au catalogue (redirect_uri).");
    return out;
  }
  std::string state = get("state");
  auto back = [&](const std::string& error, const std::string& description) {
    out.answer = Redirect(redirect_uri,
                          {{"error", error}, {"error_description", description}, {"state", state}});
    return out;
  };
  if (get("response_type") != "code")
    return back("unsupported_response_type", "response_type must be code");
  std::string challenge = get("code_challenge");
  if (challenge.empty()) return back("invalid_request", "PKCE is required: code_challenge missing");
  if (get("code_challenge_method") != "S256")
    return back("invalid_request", "PKCE code_challenge_method must be S256");
  if (challenge.size() != 43 || !profiles::Base64UrlDecode(challenge))
    return back("invalid_request", "code_challenge is not a base64url SHA-256");
  if (std::string aud = get("aud"); !aud.empty() && aud != fhir_base)
    return back("invalid_request", "aud is not this FHIR server (" + fhir_base + ")");
  if (!get("launch").empty())
    return back("invalid_request", "only the standalone launch is served (no launch parameter)");
  std::vector<std::string> allowed = Words((*app)->scopes), scopes;
  for (const auto& s : Words(get("scope")))
    if (CatalogueAllows(allowed, s) && KnownScope(s) && !Contains(scopes, s)) scopes.push_back(s);
  bool any_resource = false;
  for (const auto& s : scopes) any_resource = any_resource || s.rfind("patient/", 0) == 0;
  if (!any_resource)
    return back("invalid_scope",
                "no patient/ scope requested that the catalogue allows this app to ask for");
  AuthorizationRequest r;
  r.app = std::move(**app);
  r.redirect_uri = redirect_uri;
  r.state = state;
  r.code_challenge = challenge;
  r.scopes = std::move(scopes);
  out.request = std::move(r);
  return out;
}

Status ClientAuthFailed(std::string message) {
  return Status(ErrorCode::kUnauthorized, std::move(message));
}

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// The iss of a compact JWS, read before its signature is checked: only to find the client
// whose keys must then verify it.
std::string UnverifiedIssuer(const std::string& jwt) {
  size_t a = jwt.find('.');
  size_t b = a == std::string::npos ? a : jwt.find('.', a + 1);
  if (b == std::string::npos || jwt.size() > 16 * 1024) return "";
  auto payload = profiles::Base64UrlDecode(jwt.substr(a + 1, b - a - 1));
  if (!payload) return "";
  auto claims = ParseJson(*payload);
  if (!claims.ok() || !claims->is_object()) return "";
  std::string iss = claims->GetString("iss");
  return ValidClientId(iss) ? iss : "";
}

// The origin (RFC 6454: scheme, host, port when not the default) of an absolute URI;
// empty when it has none.
std::string OriginOf(const std::string& uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return "";
  std::string scheme = AsciiLower(uri.substr(0, scheme_end));
  size_t start = scheme_end + 3;
  size_t end = uri.find_first_of("/?#", start);
  std::string authority =
      AsciiLower(uri.substr(start, end == std::string::npos ? end : end - start));
  if (authority.empty() || authority.find('@') != std::string::npos) return "";
  if (scheme == "https" && authority.size() > 4 &&
      authority.compare(authority.size() - 4, 4, ":443") == 0)
    authority.resize(authority.size() - 4);
  if (scheme == "http" && authority.size() > 3 &&
      authority.compare(authority.size() - 3, 3, ":80") == 0)
    authority.resize(authority.size() - 3);
  return scheme + "://" + authority;
}

}  // namespace

bool SmartServer::CorsPath(const std::string& path) {
  return path == "/fhir" || path.rfind("/fhir/", 0) == 0 ||
         path == "/.well-known/smart-configuration" || path == "/oauth/token" ||
         path == "/oauth/revoke" || path == "/oauth/jwks";
}

bool SmartServer::OriginAllowed(const std::string& origin) {
  std::lock_guard<std::mutex> lock(cors_mu_);
  auto now = std::chrono::steady_clock::now();
  if (cors_stale_ || now - cors_loaded_ > std::chrono::seconds(5)) {
    std::set<std::string> origins;
    storage::TxOptions ro;
    ro.read_only = true;
    Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
      auto apps = storage::ListApps(tx);
      if (!apps.ok()) return apps.status();
      for (const auto& a : *apps)
        for (const auto& u : a.redirect_uris)
          if (std::string o = OriginOf(u); !o.empty()) origins.insert(o);
      return Status::Ok();
    });
    if (!st.ok()) return false;  // the catalogue is away: no origin is trusted
    cors_origins_ = std::move(origins);
    cors_loaded_ = now;
    cors_stale_ = false;
  }
  return cors_origins_.count(origin) > 0;
}

HttpResponse SmartServer::Preflight(const HttpRequest& req, const std::string& origin) {
  HttpResponse r;
  r.SetHeader("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  if (!OriginAllowed(origin)) {
    r.status = 403;
    r.content_type = "application/json";
    r.body =
        "{\"error\":\"origin not allowed: it is the origin of no redirect URI of the app "
        "catalogue\"}";
    return r;
  }
  r.status = 204;
  const std::string& p = req.path;
  std::string methods = p == "/oauth/token" || p == "/oauth/revoke" ? "POST, OPTIONS"
                        : p.rfind("/fhir", 0) == 0 && p != "/fhir/.well-known/smart-configuration"
                            ? "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
                            : "GET, HEAD, OPTIONS";
  r.SetHeader("Access-Control-Allow-Origin", origin);
  r.SetHeader("Access-Control-Allow-Methods", methods);
  r.SetHeader("Access-Control-Allow-Headers",
              "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, "
              "If-None-Exist, If-Modified-Since, X-Request-Id");
  r.SetHeader("Access-Control-Max-Age", "600");
  return r;
}

void SmartServer::AddCorsHeaders(const std::string& origin, HttpResponse& r) {
  bool varied = false;
  for (auto& [k, v] : r.headers)
    if (HeaderNameEquals(k, "Vary")) {
      v += ", Origin";
      varied = true;
    }
  if (!varied) r.SetHeader("Vary", "Origin");
  if (!OriginAllowed(origin)) return;
  r.SetHeader("Access-Control-Allow-Origin", origin);
  r.SetHeader("Access-Control-Expose-Headers",
              "Location, Content-Location, ETag, Last-Modified, X-Request-Id, WWW-Authenticate");
}

SmartServer::SmartServer(const Config& config, storage::Pool& pool,
                         const profiles::AccessControl& access, fhir::FhirApi& fhir)
    : config_(config), pool_(pool), access_(access), fhir_(fhir) {
  issuer_ = config.FhirBaseUrl();
  origin_ = issuer_;
  if (origin_.size() >= 5 && origin_.compare(origin_.size() - 5, 5, "/fhir") == 0)
    origin_.resize(origin_.size() - 5);
  std::string espace = config.espace_dir.empty() ? DefaultEspaceDir() : config.espace_dir;
  std::error_code ec;
  espace_served_ = std::filesystem::exists(espace + "/index.html", ec);
  auto key = profiles::SigningKey::LoadOrCreateSmartKey(config.data_dir);
  if (key.ok())
    key_ = std::move(key).value();
  else
    LogEvent("smart_key_unavailable", key.status().ToString());
}

std::optional<HttpResponse> SmartServer::Handle(const HttpRequest& req) {
  const std::string& p = req.path;
  auto method_not_allowed = [&](const char* allow) {
    HttpResponse r = OAuthError(405, "invalid_request", "method not allowed here");
    r.SetHeader("Allow", allow);
    return r;
  };
  if (p == "/.well-known/smart-configuration" || p == "/fhir/.well-known/smart-configuration") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    return Configuration();
  }
  if (p == "/apps" || p.rfind("/apps/", 0) == 0) return Apps(req);
  if (p.rfind("/oauth/", 0) != 0) return std::nullopt;
  if (!key_) return OAuthError(503, "temporarily_unavailable", "the signing key is unavailable");
  if (p == "/oauth/jwks") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "application/json";
    r.body = key_->JwksJson();
    return r;
  }
  if (p == "/oauth/authorize") {
    if (req.method == "GET") return AuthorizePage(req);
    if (req.method == "POST") return AuthorizeDecision(req);
    return method_not_allowed("GET, POST");
  }
  if (p == "/oauth/token") return req.method == "POST" ? Token(req) : method_not_allowed("POST");
  if (p == "/oauth/revoke") return req.method == "POST" ? Revoke(req) : method_not_allowed("POST");
  return OAuthError(404, "invalid_request", "no such OAuth endpoint");
}

HttpResponse SmartServer::Configuration() const {
  JsonValue c = JsonValue::Object();
  c.Set("issuer", Str(issuer_));
  c.Set("jwks_uri", Str(origin_ + "/oauth/jwks"));
  c.Set("authorization_endpoint", Str(origin_ + "/oauth/authorize"));
  c.Set("token_endpoint", Str(origin_ + "/oauth/token"));
  c.Set("revocation_endpoint", Str(origin_ + "/oauth/revoke"));
  auto list = [](std::initializer_list<const char*> items) {
    JsonValue a = JsonValue::Array();
    for (const char* i : items) a.Append(Str(i));
    return a;
  };
  c.Set("token_endpoint_auth_methods_supported",
        list({"client_secret_basic", "private_key_jwt", "none"}));
  c.Set("token_endpoint_auth_signing_alg_values_supported", list({"RS256", "ES256"}));
  c.Set("grant_types_supported", list({"authorization_code", "refresh_token"}));
  c.Set("response_types_supported", list({"code"}));
  c.Set("code_challenge_methods_supported", list({"S256"}));
  c.Set("scopes_supported",
        list({"launch/patient", "offline_access", "online_access", "patient/*.cruds",
              "patient/*.rs", "patient/Observation.rs", "patient/DocumentReference.r"}));
  c.Set("capabilities",
        list({"launch-standalone", "client-public", "client-confidential-symmetric",
              "client-confidential-asymmetric", "context-standalone-patient", "permission-patient",
              "permission-v2", "permission-offline", "authorize-post"}));
  HttpResponse r = JsonAnswer(200, c);
  r.SetHeader("Cache-Control", "public, max-age=300");
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.first == "Pragma"; }),
                  r.headers.end());
  return r;
}

// --- the catalogue -----------------------------------------------------------------------

HttpResponse SmartServer::Apps(const HttpRequest& req) {
  std::string id = req.path.size() > 6 ? PercentDecode(req.path.substr(6), false) : "";
  if (req.method == "GET" || req.method == "HEAD") {
    JsonValue body;
    bool found = true;
    storage::TxOptions ro;
    ro.read_only = true;
    Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
      if (id.empty()) {
        auto apps = storage::ListApps(tx);
        if (!apps.ok()) return apps.status();
        JsonValue list = JsonValue::Array();
        for (const auto& a : *apps) list.Append(AppJson(a));
        body = JsonValue::Object();
        body.Set("apps", std::move(list));
        return Status::Ok();
      }
      auto app = storage::FindApp(tx, id);
      if (!app.ok()) return app.status();
      found = app->has_value();
      if (found) body = AppJson(**app);
      return Status::Ok();
    });
    if (!st.ok()) return Outcome(503, "transient", "the catalogue is unavailable");
    if (!found) return Outcome(404, "not-found", "no app '" + id + "' in the catalogue");
    HttpResponse r;
    r.content_type = "application/json";
    r.body = WriteJson(body);
    return r;
  }
  if (req.method != "POST" && req.method != "PUT" && req.method != "DELETE") {
    HttpResponse r = Outcome(405, "not-supported", "the catalogue is read with GET");
    r.SetHeader("Allow", "GET, POST, PUT, DELETE");
    return r;
  }
  // Writes: the operator only, decided and audited through the one door.
  auto actor = access_.Authenticate(req);
  if (!actor.ok()) {
    (void)access_.AuditFailedLogin(pool_, req, "apps", actor.status());
    HttpResponse r = Outcome(401, "login", "authentication required");
    r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  }
  profiles::AccessSession session(access_, *actor, {req.request_id, req.peer});
  profiles::Decision decision;
  decision.allowed = actor->kind == profiles::ActorKind::kOperator;
  decision.refusal = decision.allowed ? ErrorCode::kOk : ErrorCode::kForbidden;
  decision.code = decision.allowed ? profiles::Reason::kOperator : profiles::Reason::kActorKind;
  decision.reason = decision.allowed ? "operator: keeps the app catalogue"
                                     : "the app catalogue is kept by operators";
  profiles::AuditEntry entry;
  entry.subtype_code = req.method == "DELETE" ? "delete"
                       : req.method == "PUT"  ? "update"
                                              : "create";
  entry.action = req.method == "DELETE" ? 'D' : req.method == "PUT" ? 'U' : 'C';
  entry.network_address = req.peer;
  entry.request_id = req.request_id;
  entry.object_reference = "app-catalogue/" + id;
  if (!decision.allowed) {
    (void)session.Refuse(entry, decision, std::nullopt, "the app catalogue");
    if (!session.FlushRefusals(pool_).ok())
      return Outcome(503, "transient", "the access history is unavailable");
    return Outcome(403, "forbidden", "the app catalogue is kept by operators");
  }
  storage::AppRow row;
  if (req.method == "DELETE") {
    if (id.empty()) return Outcome(400, "invalid", "DELETE names the app: /apps/{client_id}");
  } else {
    auto json = ParseJson(req.body);
    if (!json.ok() || !json->is_object())
      return Outcome(400, "invalid", "the body is not a JSON object describing an app");
    const JsonValue& j = *json;
    row.client_id = j.GetString("client_id");
    if (req.method == "PUT") {
      if (id.empty()) return Outcome(400, "invalid", "PUT names the app: /apps/{client_id}");
      if (row.client_id.empty()) row.client_id = id;
      if (row.client_id != id)
        return Outcome(400, "invalid", "client_id differs from the one in the URL");
    } else if (!id.empty()) {
      return Outcome(405, "not-supported", "POST /apps creates; PUT /apps/{client_id} replaces");
    }
    if (!ValidClientId(row.client_id))
      return Outcome(400, "required",
                     "client_id: 1 to 64 letters, digits, '-', '_' or '.' is required");
    row.name = j.GetString("name");
    row.publisher = j.GetString("publisher");
    row.description = j.GetString("description");
    row.category = j.GetString("category");
    row.logo_uri = j.GetString("logo_uri");
    row.client_type = j.GetString("client_type");
    row.scopes = Join(Words(j.GetString("scope")));
    if (row.name.empty()) return Outcome(400, "required", "name is required");
    if (row.publisher.empty()) return Outcome(400, "required", "publisher is required");
    if (!row.logo_uri.empty() && row.logo_uri.rfind("https://", 0) != 0)
      return Outcome(400, "value", "logo_uri must be an https URL");
    const JsonValue* uris = j.Find("redirect_uris");
    if (!uris || !uris->is_array() || uris->items().empty())
      return Outcome(400, "required", "redirect_uris: a non-empty array of URIs is required");
    for (const auto& u : uris->items()) {
      if (!u.is_string() || !ValidRedirectUri(u.text()))
        return Outcome(400, "value",
                       "redirect_uris: each must be an absolute https URI, or http on the "
                       "loopback, without fragment");
      row.redirect_uris.push_back(u.text());
    }
    if (row.scopes.empty()) return Outcome(400, "required", "scope: the scopes the app may ask");
    for (const auto& s : Words(row.scopes))
      if (!KnownScope(s))
        return Outcome(400, "value",
                       "scope '" + s +
                           "' is not one carnet grants (patient/<Type|*>.<cruds>[?query], "
                           "launch/patient, openid, fhirUser, offline_access, online_access)");
    std::string method = j.GetString("token_endpoint_auth_method");
    if (row.client_type == "confidential") {
      std::string secret = j.GetString("client_secret");
      const JsonValue* jwks = j.Find("jwks");
      if (method.empty()) method = jwks ? "private_key_jwt" : "client_secret_basic";
      if (method == "private_key_jwt") {
        // RFC 7523 client assertions, signed with a key of this JWKS (RS256 or ES256, kid).
        if (!secret.empty())
          return Outcome(400, "value", "a private_key_jwt client has no client_secret");
        if (!jwks || !jwks->is_object())
          return Outcome(400, "required",
                         "a private_key_jwt client needs jwks: a JWK Set of its public keys");
        profiles::JwtVerifier check;
        Status usable = check.AddJwks(WriteJson(*jwks), {row.client_id});
        if (!usable.ok()) return Outcome(400, "value", "jwks: " + usable.message());
        if (const JsonValue* keys = jwks->Find("keys"); keys && keys->is_array())
          for (const auto& k : keys->items())
            if (k.Find("d") || k.Find("p") || k.Find("q"))
              return Outcome(400, "security",
                             "jwks: a private key was sent; send the public keys only");
        row.jwks = WriteJson(*jwks);
      } else if (method == "client_secret_basic") {
        if (jwks) return Outcome(400, "value", "a client_secret_basic client has no jwks");
        if (secret.size() < 32)
          return Outcome(400, "required",
                         "a confidential client needs a client_secret of 32 characters or more");
        row.secret_hash = HexSha256(secret);
      } else {
        return Outcome(400, "value",
                       "token_endpoint_auth_method of a confidential client: client_secret_basic "
                       "or private_key_jwt");
      }
    } else if (row.client_type == "public") {
      if (j.Find("client_secret") || j.Find("jwks"))
        return Outcome(400, "value",
                       "a public client has no client_secret nor jwks (it uses PKCE)");
      if (!method.empty() && method != "none")
        return Outcome(400, "value", "a public client's token_endpoint_auth_method is none");
    } else {
      return Outcome(400, "value", "client_type must be public or confidential");
    }
  }
  bool created = false, deleted = false;
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    session.BeginAttempt();
    if (req.method == "DELETE") {
      auto gone = storage::DeleteApp(tx, id);
      if (!gone.ok()) return gone.status();
      deleted = *gone;
    } else {
      CARNET_RETURN_IF_ERROR(storage::UpsertApp(tx, row, &created));
    }
    profiles::AuditEntry e = entry;
    e.object_reference = "app-catalogue/" + (id.empty() ? row.client_id : id);
    return session.Audit(tx, e, decision, std::nullopt);
  });
  if (!st.ok()) return Outcome(503, "transient", "the catalogue is unavailable");
  {
    std::lock_guard<std::mutex> lock(cors_mu_);
    cors_stale_ = true;  // the allowed origins follow the catalogue
  }
  if (req.method == "DELETE") {
    if (!deleted) return Outcome(404, "not-found", "no app '" + id + "' in the catalogue");
    HttpResponse r;
    r.status = 204;
    return r;
  }
  HttpResponse r;
  r.status = created ? 201 : 200;
  r.content_type = "application/json";
  storage::AppRow shown = row;
  r.body = WriteJson(AppJson(shown));
  if (created) r.SetHeader("Location", "/apps/" + PercentEncode(row.client_id));
  return r;
}

// --- the authorize step ------------------------------------------------------------------

HttpResponse SmartServer::AuthorizePage(const HttpRequest& req) {
  auto params = Params(req, false);
  AuthorizeCheck check = CheckAuthorization(pool_, issuer_, params);
  if (WantsJson(req)) {
    // What the web space's page shows: the app and the scopes it may be granted.
    if (check.answer) return AuthorizeAsJson(*check.answer, 400);
    const AuthorizationRequest& r = *check.request;
    JsonValue o = JsonValue::Object();
    o.Set("client_id", JsonValue::String(r.app.client_id));
    o.Set("name", JsonValue::String(r.app.name));
    o.Set("publisher", JsonValue::String(r.app.publisher));
    o.Set("description", JsonValue::String(r.app.description));
    o.Set("redirect_uri", JsonValue::String(r.redirect_uri));
    JsonValue scopes = JsonValue::Array();
    for (const auto& s : r.scopes) {
      JsonValue one = JsonValue::Object();
      one.Set("scope", JsonValue::String(s));
      one.Set("description", JsonValue::String(DescribeScope(s)));
      scopes.Append(std::move(one));
    }
    o.Set("scopes", std::move(scopes));
    HttpResponse a = JsonAnswer(200, o);
    a.SetHeader("Cache-Control", "no-store");
    return a;
  }
  if (check.answer) return *check.answer;
  const AuthorizationRequest& r = *check.request;
  bool has_login = req.Header("Authorization") != nullptr;
  // A browser without a login: the patient approves in their web space, where they are
  // signed in (its page reads this request back as JSON, and posts the approval with the
  // session's token). The request is checked above, and again when it is approved.
  if (!has_login && espace_served_) {
    HttpResponse to;
    to.status = 302;
    to.SetHeader("Location", "/espace/#/autoriser?" + req.query);
    to.SetHeader("Cache-Control", "no-store");
    to.SetHeader("Referrer-Policy", "no-referrer");
    return to;
  }
  std::string hidden;
  for (const char* k : {"response_type", "client_id", "redirect_uri", "state", "code_challenge",
                        "code_challenge_method", "aud", "patient"}) {
    auto it = params.find(k);
    if (it == params.end()) continue;
    hidden += "<input type=\"hidden\" name=\"" + std::string(k) + "\" value=\"" +
              HtmlEscape(it->second) + "\">";
  }
  std::string boxes;
  for (const auto& s : r.scopes)
    boxes += "<label><input type=\"checkbox\" name=\"scope\" value=\"" + HtmlEscape(s) +
             "\" checked> " + HtmlEscape(DescribeScope(s)) + "</label>";
  // The patient's national login token: the Authorization header when the front end sends
  // it, else typed here. No cookie is ever set, so no other site can act in their name.
  std::string login = has_login ? "<p>Vous êtes identifié(e) par votre connexion nationale.</p>"
                                : "<label>Jeton de connexion nationale <input type=\"password\" "
                                  "name=\"login_token\" autocomplete=\"off\" required></label>";
  std::string body =
      "<p>L'application <strong>" + HtmlEscape(r.app.name) + "</strong> (" +
      HtmlEscape(r.app.publisher) + ") demande l'accès à votre dossier.</p>" +
      (r.app.description.empty() ? "" : "<p>" + HtmlEscape(r.app.description) + "</p>") +
      "<form method=\"post\" action=\"/oauth/authorize\">" + hidden +
      "<fieldset><legend>Cochez ce que vous lui autorisez</legend>" + boxes + "</fieldset>" +
      login +
      "<p>Vous pourrez retirer cette autorisation à tout moment.</p>"
      "<button type=\"submit\" name=\"decision\" value=\"approve\">Autoriser</button>"
      "<button type=\"submit\" name=\"decision\" value=\"deny\">Refuser</button></form>";
  return Page(200, "Autoriser une application", body);
}

HttpResponse SmartServer::AuthorizeDecision(const HttpRequest& req) {
  HttpResponse answer = Decide(req);
  // The web space's page navigates itself (its CSP's form-action is 'self': a form could
  // not follow the redirect to the app's address).
  if (!WantsJson(req)) return answer;
  bool invalid = answer.status == 302 && [&] {
    for (const auto& [k, v] : answer.headers)
      if (HeaderNameEquals(k, "Location"))
        return (v.find("?error=") != std::string::npos || v.find("&error=") != std::string::npos) &&
               v.find("error=access_denied") == std::string::npos;
    return false;
  }();
  return AuthorizeAsJson(answer, invalid ? 400 : 200);
}

HttpResponse SmartServer::Decide(const HttpRequest& req) {
  if (!IsFormBody(req))
    return ErrorPage(415, "Le formulaire doit être envoyé en application/x-www-form-urlencoded.");
  auto all = ParseQuery(req.body);
  std::map<std::string, std::string> params;
  std::vector<std::string> chosen;
  for (const auto& [k, v] : all) {
    if (k == "scope") {
      for (const auto& w : Words(v)) chosen.push_back(w);
    } else {
      params[k] = v;
    }
  }
  // Everything the page carried is checked again: the form is the caller's, not ours.
  std::map<std::string, std::string> request = params;
  request["scope"] = Join(chosen);
  AuthorizeCheck check = CheckAuthorization(pool_, issuer_, request);
  const std::string decision = params["decision"];
  if (check.answer) {
    // A denial with nothing chosen is still a denial, not a scope error.
    if (decision == "deny" && params.count("redirect_uri") && check.answer->status == 302) {
      auto app = LoadApp(pool_, params["client_id"]);
      if (app.ok() && *app && Contains((**app).redirect_uris, params["redirect_uri"]))
        return Redirect(params["redirect_uri"], {{"error", "access_denied"},
                                                 {"error_description", "the patient refused"},
                                                 {"state", params["state"]}});
    }
    return *check.answer;
  }
  const AuthorizationRequest& r = *check.request;
  // The patient, by their national login token.
  HttpRequest login = req;
  if (!params["login_token"].empty()) {
    login.headers.erase(
        std::remove_if(login.headers.begin(), login.headers.end(),
                       [](const auto& h) { return HeaderNameEquals(h.first, "Authorization"); }),
        login.headers.end());
    login.headers.emplace_back("Authorization", "Bearer " + params["login_token"]);
  }
  auto actor = access_.Authenticate(login);
  if (!actor.ok() || (actor->kind != profiles::ActorKind::kPatient &&
                      actor->kind != profiles::ActorKind::kGuardian)) {
    if (!actor.ok()) (void)access_.AuditFailedLogin(pool_, login, "oauth", actor.status());
    return ErrorPage(401,
                     "Votre connexion nationale n'a pas pu être vérifiée : reconnectez-vous puis "
                     "recommencez.");
  }
  if (decision != "approve")
    return Redirect(r.redirect_uri, {{"error", "access_denied"},
                                     {"error_description", "the patient refused"},
                                     {"state", r.state}});
  // The record the app is let into: the patient's own, or for a guardian the represented
  // child's that `patient` names (its Patient id or INS; needed when they have several).
  // Which records the login covers is the policy's (FindActorRecords).
  const std::string wanted = params["patient"];
  long long patient_key = 0;
  std::string patient_id, patient_ins;
  std::optional<std::string> previous_consent;  // the app's live approval on that record
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    auto keys = profiles::FindActorRecords(tx, *actor);
    if (!keys.ok()) return keys.status();
    size_t matches = 0;
    for (long long key : *keys) {
      auto ctx = profiles::LoadRecordContext(tx, key, *actor);
      if (!ctx.ok()) return ctx.status();
      if (!wanted.empty() && wanted != ctx->patient_id && wanted != ctx->ins &&
          wanted != "Patient/" + ctx->patient_id)
        continue;
      ++matches;
      patient_key = ctx->patient_key;
      patient_id = ctx->patient_id;
      patient_ins = ctx->ins;
    }
    if (matches != 1) {
      patient_id.clear();
      return Status::Ok();
    }
    auto live = storage::LiveAppConsent(tx, patient_key, r.app.client_id);
    if (!live.ok()) return live.status();
    previous_consent = std::move(live).value();
    return Status::Ok();
  });
  if (!st.ok() || patient_id.empty())
    return ErrorPage(st.ok() || st.code() != ErrorCode::kUnavailable ? 404 : 503,
                     actor->kind == profiles::ActorKind::kGuardian && wanted.empty()
                         ? "Indiquez le dossier de l'enfant que vous représentez (paramètre "
                           "patient)."
                         : "Aucun dossier n'est ouvert à votre nom.");
  // The approval becomes the Consent carnet decides app access from, written as the patient
  // through the FHIR write path (policy decision, audit, app_authorisation).
  std::string scopes = Join(r.scopes);
  std::string consent =
      R"({"resourceType":"Consent","extension":[{"url":")" +
      std::string(profiles::kSmartScopesExtension) + R"(","valueString":")" + JsonEscape(scopes) +
      R"("}],"status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
      R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
      R"("patient":{"reference":"Patient/)" +
      JsonEscape(patient_id) + R"("},"dateTime":")" +
      FormatUtc(std::chrono::system_clock::now()).substr(0, 19) +
      R"(Z",)"
      R"("policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},)"
      R"("provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},)"
      R"("reference":{"identifier":{"system":")" +
      std::string(profiles::kClientIdSystem) + R"(","value":")" + JsonEscape(r.app.client_id) +
      R"("},"display":")" + JsonEscape(r.app.name) + R"("}}]}})";
  HttpRequest write;
  write.method = "POST";
  write.path = "/fhir/Consent";
  write.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  write.body = consent;
  write.peer = req.peer;
  write.request_id = req.request_id;
  write.received = req.received;
  profiles::AccessSession session(access_, *actor, {req.request_id, req.peer});
  HttpResponse written = fhir_.Handle(write, session);
  auto created = ParseJson(written.body);
  if (written.status != 201 || !created.ok() || created->GetString("id").empty()) {
    LogEvent("smart_consent_refused", std::to_string(written.status) + " " + written.body);
    return ErrorPage(written.status >= 500 ? 503 : 403,
                     "Votre autorisation n'a pas pu être enregistrée.");
  }
  // A new approval of the same app on the same record supersedes the previous one: its
  // Consent becomes inactive (written as the patient through the same path), rather than
  // staying "active" while granting nothing.
  if (previous_consent && *previous_consent != created->GetString("id"))
    SupersedeConsent(req, session, *previous_consent, r.app.client_id);
  storage::OAuthGrantRow grant;
  grant.client_id = r.app.client_id;
  grant.redirect_uri = r.redirect_uri;
  grant.code_challenge = r.code_challenge;
  grant.patient_key = patient_key;
  grant.patient_id = patient_id;
  grant.ins = patient_ins;
  grant.scopes = scopes;
  grant.consent_id = created->GetString("id");
  grant.expires_at = Now() + config_.smart_code_lifetime_s;
  std::string code = RandomHex(32);
  // The code and its audit record (the patient as actor, the app as client) go together.
  profiles::AuditEntry issued =
      OAuthAuditEntry(req, "oauth-code", r.app.client_id, patient_key, patient_id, grant.ins);
  issued.actor_kind = std::string(profiles::ActorKindName(actor->kind));
  issued.actor_id = actor->PrincipalId();
  issued.actor_subject = actor->subject;
  issued.actor_issuer = actor->issuer;
  issued.outcome_desc = "approved app " + r.app.client_id + " for: " + scopes;
  st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    Status inserted = storage::InsertCode(tx, profiles::Sha256Digest(code), grant);
    if (!inserted.ok()) return inserted;
    auto audited = profiles::AppendAuditEvent(tx, issued);
    return audited.ok() ? Status::Ok() : audited.status();
  });
  if (!st.ok()) return ErrorPage(503, "Le service est momentanément indisponible.");
  return Redirect(r.redirect_uri, {{"code", code}, {"state", r.state}});
}

void SmartServer::SupersedeConsent(const HttpRequest& req, profiles::AccessSession& session,
                                   const std::string& consent_id, const std::string& client_id) {
  auto call = [&](const std::string& method, const std::string& body) {
    HttpRequest q;
    q.method = method;
    q.path = "/fhir/Consent/" + consent_id;
    q.headers = {{"Accept", "application/fhir+json"}};
    if (!body.empty()) q.headers.emplace_back("Content-Type", "application/fhir+json");
    q.body = body;
    q.peer = req.peer;
    q.request_id = req.request_id;
    q.received = req.received;
    return fhir_.Handle(q, session);
  };
  HttpResponse old = call("GET", "");
  auto consent = ParseJson(old.body);
  if (old.status != 200 || !consent.ok() || consent->GetString("status") != "active") return;
  // Only a Consent that names this app alone: one naming other apps keeps granting them.
  const JsonValue* provision = consent->Find("provision");
  const JsonValue* actors = provision ? provision->Find("actor") : nullptr;
  if (!actors || !actors->is_array()) return;
  for (const auto& a : actors->items()) {
    const JsonValue* ref = a.Find("reference");
    const JsonValue* ident = ref ? ref->Find("identifier") : nullptr;
    if (!ident || ident->GetString("system") != profiles::kClientIdSystem ||
        ident->GetString("value") != client_id)
      return;
  }
  consent->Set("status", Str("inactive"));
  consent->Remove("meta");
  HttpResponse written = call("PUT", WriteJson(*consent));
  if (written.status != 200)
    LogEvent("smart_consent_not_superseded",
             "Consent/" + consent_id + ": " + std::to_string(written.status) + " " + written.body);
}

// --- the token endpoint ------------------------------------------------------------------

// RFC 7523 section 3 and SMART App Launch 2 (client-confidential-asymmetric): the assertion
// is signed (RS256 or ES256, kid) by a key of the app's JWKS, iss and sub are its client_id,
// aud the token endpoint, it expires within 5 minutes, and its jti is used only once.
Status SmartServer::VerifyClientAssertion(const storage::AppRow& app, const std::string& assertion,
                                          long long now) {
  profiles::JwtVerifierOptions options;
  options.audience = origin_ + "/oauth/token";
  options.clock_skew_s = static_cast<int>(config_.clock_skew_s);
  options.max_lifetime_s = 300;
  profiles::JwtVerifier verifier(options);
  Status keys = verifier.AddJwks(app.jwks, {app.client_id});
  if (!keys.ok())
    return ClientAuthFailed("the app's registered jwks is not usable: " + keys.message());
  auto claims = verifier.VerifyClaims(assertion, now);
  if (!claims.ok()) return ClientAuthFailed("client_assertion: " + claims.status().message());
  if (claims->GetString("sub") != app.client_id)
    return ClientAuthFailed("client_assertion: sub must be the client_id");
  std::string jti = claims->GetString("jti");
  if (jti.empty() || jti.size() > 256)
    return ClientAuthFailed("client_assertion: a jti of 1 to 256 characters is required");
  const JsonValue* exp = claims->Find("exp");
  long long expires = exp ? std::atoll(exp->text().c_str()) : now;
  bool fresh = false;
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    // Kept beyond exp by the clock skew the verifier allows, and a margin.
    auto used =
        storage::UseClientAssertion(tx, app.client_id, jti, expires + config_.clock_skew_s + 60);
    if (!used.ok()) return used.status();
    fresh = *used;
    return Status::Ok();
  });
  if (!st.ok()) return Status(ErrorCode::kUnavailable, "try again later");
  if (!fresh) return ClientAuthFailed("client_assertion: its jti was used already (a replay)");
  return Status::Ok();
}

HttpResponse SmartServer::Token(const HttpRequest& req) {
  TokenAttempt attempt;
  HttpResponse answer = IssueToken(req, attempt);
  if (answer.status >= 500) return answer;  // the store is away: no record can be written
  // Every answer but an outage leaves its record before it leaves: an issued token, or the
  // refusal with its reason (on the patient's record once a code or refresh token named it).
  profiles::AuditEntry e = OAuthAuditEntry(req, "oauth-token", attempt.client_id,
                                           attempt.patient_key, attempt.patient_id, attempt.ins);
  e.actor_kind = "app";
  e.actor_id = attempt.client_id;
  if (answer.status == 200) {
    e.outcome_desc = attempt.grant_type + ": token issued";
  } else {
    e.outcome = "4";
    auto refused = ParseJson(answer.body);
    e.outcome_desc =
        attempt.grant_type + ": " +
        (refused.ok() ? refused->GetString("error") + " " + refused->GetString("error_description")
                      : std::to_string(answer.status));
  }
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    auto r = profiles::AppendAuditEvent(tx, e);
    return r.ok() ? Status::Ok() : r.status();
  });
  if (!st.ok()) {
    LogEvent("smart_token_audit_failed", st.message());
    // A refusal goes out anyway; a token is not handed over unrecorded.
    if (answer.status == 200) return OAuthError(503, "temporarily_unavailable", "try again later");
  }
  return answer;
}

HttpResponse SmartServer::IssueToken(const HttpRequest& req, TokenAttempt& attempt) {
  if (!IsFormBody(req))
    return OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  auto p = Params(req, true);
  // Client authentication: client_secret_basic for confidential clients, the client_id
  // alone (with PKCE) for public ones.
  std::string client_id, secret;
  bool basic = false;
  if (const std::string* auth = req.Header("Authorization")) {
    if (AsciiLower(auth->substr(0, 6)) != "basic ")
      return OAuthError(401, "invalid_client", "client authentication is client_secret_basic");
    auto decoded = Base64Decode(auth->substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return OAuthError(401, "invalid_client", "malformed Basic credentials");
    client_id = PercentDecode(decoded->substr(0, colon), true);
    secret = PercentDecode(decoded->substr(colon + 1), true);
    basic = true;
    if (!p["client_id"].empty() && p["client_id"] != client_id)
      return OAuthError(400, "invalid_request", "client_id differs from the authenticated client");
  } else {
    client_id = p["client_id"];
  }
  // private_key_jwt (RFC 7523 section 2.2): the client names itself by the assertion's iss.
  const std::string assertion = p["client_assertion"];
  const bool jwt_auth = !assertion.empty() || !p["client_assertion_type"].empty();
  if (jwt_auth) {
    attempt.client_id = client_id;
    if (basic)
      return OAuthError(400, "invalid_request", "one client authentication method at a time");
    if (p["client_assertion_type"] != kJwtBearer)
      return OAuthError(401, "invalid_client",
                        std::string("client_assertion_type must be ") + kJwtBearer);
    std::string claimed = UnverifiedIssuer(assertion);
    if (claimed.empty())
      return OAuthError(401, "invalid_client", "client_assertion is not a JWT naming its iss");
    if (!client_id.empty() && client_id != claimed)
      return OAuthError(401, "invalid_client", "client_id differs from the assertion's iss");
    client_id = claimed;
  }
  const std::string grant_type = p["grant_type"];
  attempt.client_id = client_id;
  attempt.grant_type = grant_type;
  auto remember = [&attempt](const storage::OAuthGrantRow& g) {
    attempt.patient_key = g.patient_key;
    attempt.patient_id = g.patient_id;
    attempt.ins = g.ins;
  };
  long long now = Now();
  // A public client may refresh without naming itself (RFC 6749 section 6): the refresh
  // token says which client it was issued to.
  // The live grant the request's refresh token names (nullopt: unknown, expired or revoked).
  auto find_refresh = [&](const std::string& token) {
    std::optional<storage::OAuthGrantRow> found_grant;
    storage::TxOptions ro;
    ro.read_only = true;
    Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
      auto found = storage::FindLiveRefreshToken(tx, profiles::Sha256Digest(token), now);
      if (!found.ok()) return found.status();
      found_grant = std::move(found).value();
      return Status::Ok();
    });
    if (!st.ok()) return Result<std::optional<storage::OAuthGrantRow>>(st);
    if (found_grant) remember(*found_grant);
    return Result<std::optional<storage::OAuthGrantRow>>(std::move(found_grant));
  };
  std::optional<storage::OAuthGrantRow> refresh_grant;
  if (grant_type == "refresh_token" && !basic) {
    std::string token = p["refresh_token"];
    if (token.empty()) return OAuthError(400, "invalid_request", "refresh_token is required");
    auto found = find_refresh(token);
    if (!found.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
    refresh_grant = std::move(found).value();
    if (!refresh_grant || (!client_id.empty() && refresh_grant->client_id != client_id))
      return OAuthError(400, "invalid_grant",
                        "the refresh token is unknown, expired, or its authorisation was revoked");
    client_id = refresh_grant->client_id;
    attempt.client_id = client_id;
  }
  auto app = LoadApp(pool_, client_id);
  if (!app.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
  if (client_id.empty() || !*app) return OAuthError(401, "invalid_client", "unknown client");
  if ((*app)->client_type == "confidential" && !(*app)->jwks.empty()) {
    if (!jwt_auth)
      return OAuthError(401, "invalid_client",
                        "this client authenticates with private_key_jwt (client_assertion)");
    Status verified = VerifyClientAssertion(**app, assertion, now);
    if (!verified.ok()) {
      return OAuthError(
          verified.code() == ErrorCode::kUnavailable ? 503 : 401,
          verified.code() == ErrorCode::kUnavailable ? "temporarily_unavailable" : "invalid_client",
          verified.message());
    }
  } else if ((*app)->client_type == "confidential") {
    if (jwt_auth || !basic || !SameSecret(HexSha256(secret), (*app)->secret_hash))
      return OAuthError(401, "invalid_client", "client authentication failed");
  } else if (basic || jwt_auth) {
    return OAuthError(401, "invalid_client", "a public client does not authenticate");
  }
  std::optional<storage::OAuthGrantRow> grant = refresh_grant;
  if (grant_type == "authorization_code") {
    std::string code = p["code"], verifier = p["code_verifier"];
    if (code.empty()) return OAuthError(400, "invalid_request", "code is required");
    // Taken (marked used) in a transaction of its own that commits whatever follows: a code
    // is good for one attempt, a replay or a wrong verifier burns it.
    Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
      auto taken = storage::TakeCode(tx, profiles::Sha256Digest(code), now);
      if (!taken.ok()) return taken.status();
      grant = std::move(taken).value();
      return Status::Ok();
    });
    if (!st.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
    if (grant) remember(*grant);
    if (!grant || grant->client_id != client_id)
      return OAuthError(400, "invalid_grant", "the code is unknown, expired or already used");
    if (p["redirect_uri"] != grant->redirect_uri)
      return OAuthError(400, "invalid_grant", "redirect_uri differs from the authorization's");
    if (verifier.size() < 43 || verifier.size() > 128)
      return OAuthError(400, "invalid_grant", "code_verifier missing or not 43 to 128 characters");
    if (!SameSecret(profiles::Base64UrlEncode(profiles::Sha256Digest(verifier)),
                    grant->code_challenge))
      return OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
  } else if (grant_type == "refresh_token" && refresh_grant) {
    // Found above (a public client).
  } else if (grant_type == "refresh_token") {
    std::string token = p["refresh_token"];
    if (token.empty()) return OAuthError(400, "invalid_request", "refresh_token is required");
    auto found = find_refresh(token);
    if (!found.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
    grant = std::move(found).value();
    if (!grant || grant->client_id != client_id)
      return OAuthError(400, "invalid_grant",
                        "the refresh token is unknown, expired, or its authorisation was revoked");
  } else {
    return OAuthError(400, "unsupported_grant_type",
                      "grant_type must be authorization_code or refresh_token");
  }
  // The patient may have revoked the approval since: nothing is issued then.
  bool live = false;
  storage::TxOptions ro;
  ro.read_only = true;
  Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
    auto l = storage::AppAuthorisationLive(tx, grant->patient_key, client_id, grant->consent_id);
    if (!l.ok()) return l.status();
    live = *l;
    return Status::Ok();
  });
  if (!st.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
  if (!live) return OAuthError(400, "invalid_grant", "the patient revoked this authorisation");

  long long lifetime = config_.smart_access_token_lifetime_s;
  JsonValue claims = JsonValue::Object();
  claims.Set("iss", Str(issuer_));
  claims.Set("sub", Str(client_id));
  claims.Set("aud", Str(config_.audience));
  claims.Set("iat", Num(now));
  claims.Set("nbf", Num(now));
  claims.Set("exp", Num(now + lifetime));
  claims.Set("jti", Str(RandomHex(12)));
  claims.Set("actor", Str("app"));
  claims.Set("client_id", Str(client_id));
  claims.Set("patient", Str(grant->patient_id));
  claims.Set("ins", Str(grant->ins));
  claims.Set("scope", Str(grant->scopes));
  auto access_token = key_->Sign(claims);
  if (!access_token.ok()) return OAuthError(500, "server_error", "cannot sign the token");
  JsonValue body = JsonValue::Object();
  body.Set("access_token", Str(*access_token));
  body.Set("token_type", Str("Bearer"));
  body.Set("expires_in", Num(lifetime));
  body.Set("scope", Str(grant->scopes));
  body.Set("patient", Str(grant->patient_id));
  std::vector<std::string> scopes = Words(grant->scopes);
  if (grant_type == "authorization_code" && Contains(scopes, "offline_access")) {
    std::string refresh = RandomHex(32);
    storage::OAuthGrantRow row = *grant;
    row.expires_at = now + config_.smart_refresh_token_lifetime_s;
    st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) {
      return storage::InsertRefreshToken(tx, profiles::Sha256Digest(refresh), row);
    });
    if (!st.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
    body.Set("refresh_token", Str(refresh));
  }
  if (Contains(scopes, "openid")) {
    JsonValue id = JsonValue::Object();
    id.Set("iss", Str(issuer_));
    id.Set("sub", Str(grant->patient_id));
    id.Set("aud", Str(client_id));
    id.Set("iat", Num(now));
    id.Set("exp", Num(now + lifetime));
    if (Contains(scopes, "fhirUser"))
      id.Set("fhirUser", Str(issuer_ + "/Patient/" + grant->patient_id));
    auto id_token = key_->Sign(id);
    if (id_token.ok()) body.Set("id_token", Str(*id_token));
  }
  return JsonAnswer(200, body);
}

HttpResponse SmartServer::Revoke(const HttpRequest& req) {
  TokenAttempt attempt;
  attempt.grant_type = "revoke";
  bool revoked = false;
  HttpResponse answer = RevokeToken(req, attempt, revoked);
  if (answer.status >= 500) return answer;  // the store is away: no record can be written
  // Every answer but an outage leaves its record (IHE BALP, subtype oauth-revoke): on the
  // patient's record when the token was one of theirs, else for the operators.
  profiles::AuditEntry e = OAuthAuditEntry(req, "oauth-revoke", attempt.client_id,
                                           attempt.patient_key, attempt.patient_id, attempt.ins);
  e.actor_kind = "app";
  e.actor_id = attempt.client_id;
  e.action = 'D';
  if (answer.status == 200) {
    e.outcome_desc = revoked ? "refresh token revoked"
                             : "nothing revoked: the token is unknown, another client's or "
                               "revoked already";
  } else {
    e.outcome = "4";
    auto refused = ParseJson(answer.body);
    e.outcome_desc = "revoke: " + (refused.ok() ? refused->GetString("error") + " " +
                                                      refused->GetString("error_description")
                                                : std::to_string(answer.status));
  }
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    auto r = profiles::AppendAuditEvent(tx, e);
    return r.ok() ? Status::Ok() : r.status();
  });
  if (!st.ok()) {
    // The revocation itself is committed: it stands, but the client is told to try again
    // so that it is recorded (a second revocation of the same token answers 200 too).
    LogEvent("smart_revoke_audit_failed", st.message());
    return OAuthError(503, "temporarily_unavailable", "try again later");
  }
  return answer;
}

HttpResponse SmartServer::RevokeToken(const HttpRequest& req, TokenAttempt& attempt,
                                      bool& revoked) {
  if (!IsFormBody(req))
    return OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  auto p = Params(req, true);
  std::string client_id = p["client_id"], secret;
  bool basic = false;
  if (const std::string* auth = req.Header("Authorization")) {
    auto decoded = AsciiLower(auth->substr(0, 6)) == "basic " ? Base64Decode(auth->substr(6))
                                                              : std::optional<std::string>();
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return OAuthError(401, "invalid_client", "malformed Basic credentials");
    client_id = PercentDecode(decoded->substr(0, colon), true);
    secret = PercentDecode(decoded->substr(colon + 1), true);
    basic = true;
  }
  const std::string assertion = p["client_assertion"];
  const bool jwt_auth = !assertion.empty() || !p["client_assertion_type"].empty();
  if (jwt_auth) {
    std::string claimed = UnverifiedIssuer(assertion);
    if (basic || p["client_assertion_type"] != kJwtBearer || claimed.empty() ||
        (!client_id.empty() && client_id != claimed))
      return OAuthError(401, "invalid_client", "malformed client assertion");
    client_id = claimed;
  }
  attempt.client_id = client_id;
  auto app = LoadApp(pool_, client_id);
  if (!app.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
  if (client_id.empty() || !*app) return OAuthError(401, "invalid_client", "unknown client");
  if ((*app)->client_type == "confidential" && !(*app)->jwks.empty()) {
    // The same assertion as for the token endpoint (aud: the token endpoint).
    Status verified = jwt_auth ? VerifyClientAssertion(**app, assertion, Now())
                               : ClientAuthFailed(
                                     "this client authenticates with "
                                     "private_key_jwt (client_assertion)");
    if (!verified.ok())
      return verified.code() == ErrorCode::kUnavailable
                 ? OAuthError(503, "temporarily_unavailable", "try again later")
                 : OAuthError(401, "invalid_client", verified.message());
  } else if ((*app)->client_type == "confidential" &&
             (jwt_auth || !basic || !SameSecret(HexSha256(secret), (*app)->secret_hash))) {
    return OAuthError(401, "invalid_client", "client authentication failed");
  }
  std::string token = p["token"];
  if (token.empty()) return OAuthError(400, "invalid_request", "token is required");
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    auto done = storage::RevokeRefreshToken(tx, profiles::Sha256Digest(token), client_id);
    if (!done.ok()) return done.status();
    if (*done) {
      revoked = true;
      attempt.patient_key = (*done)->patient_key;
      attempt.patient_id = (*done)->patient_id;
      attempt.ins = (*done)->ins;
    }
    return Status::Ok();
  });
  if (!st.ok()) return OAuthError(503, "temporarily_unavailable", "try again later");
  // RFC 7009 section 2.2: 200 whether or not the token was known (an access token expires
  // by itself within minutes; the patient's revocation of the Consent stops it at once).
  HttpResponse r;
  r.status = 200;
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace carnet
