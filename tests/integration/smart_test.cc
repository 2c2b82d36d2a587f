// The app catalogue and carnet as a SMART App Launch 2 authorization server (issue 17),
// against the live gateway: SMART's own JavaScript client (npm fhirclient, Node mode)
// completes a standalone launch with PKCE and reads the patient's Observations; then the
// refusals (wrong redirect URI, missing or wrong PKCE verifier, replayed code, revoked
// consent, expired token) and query-restricted scopes narrowing the search; the audit
// records of the authorisation steps; a confidential client (client_secret_basic), token
// revocation (RFC 7009) and the id_token.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/http.h"
#include "base/json.h"
#include "base/strings.h"
#include "profiles/jwt.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kForm = "Content-Type: application/x-www-form-urlencoded";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
constexpr int kLifetime = 4;  // --smart-access-token-lifetime-s of this suite's gateway

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params)
    q += (q.empty() ? "" : "&") + PercentEncode(k) + "=" + PercentEncode(v);
  return q;
}

std::string Challenge(const std::string& verifier) {
  return profiles::Base64UrlEncode(profiles::Sha256Digest(verifier));
}

class SmartTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess(
        {"--smart-access-token-lifetime-s", std::to_string(kLifetime), "--clock-skew-s", "0"});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    patient_id_ = "smart-p-" + run_;
    ins_ = "1" + std::to_string(200000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10 + 7);
    client_id_ = "suivi-tension-" + run_;
    redirect_port_ = FreePort();
    redirect_uri_ = "http://127.0.0.1:" + std::to_string(redirect_port_) + "/callback";
    Must(Fhir(Operator(), "PUT", "Patient/" + patient_id_,
              R"({"resourceType":"Patient","id":")" + patient_id_ + R"(",)" + kDiv +
                  R"(,"identifier":[{"system":")" + kInsSystem + R"(","value":")" + ins_ +
                  R"("}],"birthDate":"1961-05-04"})"),
         201, "record");
    for (auto [id, category, code, unit] : {std::tuple{"vs", "vital-signs", "29463-7", "kg"},
                                            std::tuple{"lab", "laboratory", "2339-0", "mmol/L"}})
      Must(
          Fhir(
              Lab(), "PUT", "Observation/smart-" + std::string(id) + "-" + run_,
              R"({"resourceType":"Observation","id":"smart-)" + std::string(id) + "-" + run_ +
                  R"(",)" + kDiv +
                  R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":")" +
                  category + R"("}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
                  code + R"("}]},"subject":{"reference":"Patient/)" + patient_id_ +
                  R"("},"effectiveDateTime":"2026-11-01","valueQuantity":{"value":5,"unit":")" +
                  unit + R"(","system":"http://unitsofmeasure.org","code":")" + unit + R"("}})"),
          201, std::string("observation ") + id);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string Lab() {
    return Token({"--actor", "system", "--id", "lab-1", "--client-id", "lab-1", "--scope",
                  "system/*.cruds"});
  }
  static std::string PatientToken() {
    return Token({"--actor", "patient", "--id", "pat-smart", "--patient", ins_});
  }
  static HttpResult Raw(const std::string& method, const std::string& path,
                        std::vector<std::string> headers = {}, const std::string& body = "") {
    static HttpClient client;
    client.SetBearer("");
    return client.Request(method, gateway_->base_url() + path, headers, body);
  }
  static HttpResult Fhir(const std::string& token, const std::string& method,
                         const std::string& path, const std::string& body = "") {
    std::vector<std::string> h = {"Authorization: Bearer " + token};
    if (!body.empty()) h.push_back(kJson);
    return Raw(method, "/fhir/" + path, h, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  static std::string AppJson(const std::string& client_id, const std::string& scope) {
    return R"({"client_id":")" + client_id +
           R"(","name":"Suivi tension","publisher":"Éditeur Santé SAS","description":"Vos mesures de tension","category":"suivi des maladies chroniques","redirect_uris":[")" +
           redirect_uri_ + R"("],"scope":")" + scope + R"(","client_type":"public"})";
  }

  // Registers the app (operator), once.
  static void Register(const std::string& client_id, const std::string& scope) {
    auto r = Raw("POST", "/apps",
                 {"Authorization: Bearer " + Operator(), "Content-Type: application/json"},
                 AppJson(client_id, scope));
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }

  // The authorize step done by hand, approving `scopes`: the code.
  static std::string Approve(const std::string& client_id, const std::string& challenge,
                             const std::string& scopes) {
    auto r = Authorize(PatientToken(), client_id, challenge, scopes, {});
    EXPECT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(LocationQueryParam(r, "state"), "st-" + run_);
    return LocationQueryParam(r, "code");
  }
  // The approval posted with `login` (a patient's or a guardian's token) and `extra` fields.
  static HttpResult Authorize(const std::string& login, const std::string& client_id,
                              const std::string& challenge, const std::string& scopes,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"response_type", "code"},
        {"client_id", client_id},
        {"redirect_uri", redirect_uri_},
        {"state", "st-" + run_},
        {"code_challenge", challenge},
        {"code_challenge_method", "S256"},
        {"aud", gateway_->base_url() + "/fhir"},
        {"decision", "approve"}};
    for (const auto& s : SplitWords(scopes)) form.push_back({"scope", s});
    for (const auto& e : extra) form.push_back(e);
    return Raw("POST", "/oauth/authorize", {"Authorization: Bearer " + login, kForm}, Query(form));
  }
  static std::vector<std::string> SplitWords(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }
  static HttpResult Exchange(const std::string& client_id, const std::string& code,
                             const std::string& verifier) {
    std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "authorization_code"},
                                                             {"code", code},
                                                             {"redirect_uri", redirect_uri_},
                                                             {"client_id", client_id}};
    if (!verifier.empty()) form.push_back({"code_verifier", verifier});
    return Raw("POST", "/oauth/token", {kForm}, Query(form));
  }
  static HttpResult Refresh(const std::string& client_id, const std::string& refresh) {
    return Raw("POST", "/oauth/token", {kForm},
               Query({{"grant_type", "refresh_token"},
                      {"refresh_token", refresh},
                      {"client_id", client_id}}));
  }
  static std::string Basic(const std::string& client_id, const std::string& secret) {
    return "Authorization: Basic " + Base64Encode(client_id + ":" + secret);
  }
  // The code exchange of a confidential client, authenticated by client_secret_basic.
  static HttpResult ExchangeBasic(const std::string& client_id, const std::string& secret,
                                  const std::string& code, const std::string& verifier) {
    return Raw("POST", "/oauth/token", {kForm, Basic(client_id, secret)},
               Query({{"grant_type", "authorization_code"},
                      {"code", code},
                      {"redirect_uri", redirect_uri_},
                      {"code_verifier", verifier}}));
  }
  // The access history's events of the SMART steps of `client_id` that concern no record.
  static long long RecordlessOAuthEvents(const std::string& client_id) {
    auto conn = storage::Connection::Open(TestDbConninfo());
    if (!conn.ok()) return -1;
    auto r = (*conn)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE patient_key IS NULL AND actor_kind = 'app' "
        "AND actor_id = $1 AND outcome = '4' AND content LIKE '%oauth-token%'",
        {storage::SqlParam::Text(client_id)});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }
  static void RevokeAllConsents() {
    auto list = Fhir(PatientToken(), "GET", "Consent?patient=" + patient_id_);
    ASSERT_EQ(list.status, 200) << list.body;
    JsonValue b = Parse(list.body);
    const JsonValue* entries = b.Find("entry");
    ASSERT_TRUE(entries && entries->is_array()) << list.body;
    for (const auto& e : entries->items()) {
      std::string id = e.Find("resource")->GetString("id");
      Must(Fhir(PatientToken(), "DELETE", "Consent/" + id), 204, "revoke consent " + id);
    }
  }

  static GatewayProcess* gateway_;
  static std::string run_, patient_id_, ins_, client_id_, redirect_uri_;
  static int redirect_port_;
};
GatewayProcess* SmartTest::gateway_ = nullptr;
std::string SmartTest::run_, SmartTest::patient_id_, SmartTest::ins_, SmartTest::client_id_,
    SmartTest::redirect_uri_;
int SmartTest::redirect_port_ = 0;

TEST_F(SmartTest, CatalogueKeptByOperatorsListedToAll) {
  std::string id = "cat-" + run_;
  auto anonymous = Raw("POST", "/apps", {"Content-Type: application/json"},
                       AppJson(id, "patient/Observation.rs"));
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  auto patient = Raw("POST", "/apps",
                     {"Authorization: Bearer " + PatientToken(), "Content-Type: application/json"},
                     AppJson(id, "patient/Observation.rs"));
  EXPECT_EQ(patient.status, 403) << patient.body;
  // An unsupported restriction is refused at registration (it would grant nothing).
  auto odd = Raw("POST", "/apps",
                 {"Authorization: Bearer " + Operator(), "Content-Type: application/json"},
                 AppJson(id, "patient/Observation.rs?value-quantity=gt10"));
  EXPECT_EQ(odd.status, 400) << odd.body;
  EXPECT_NE(odd.body.find("OperationOutcome"), std::string::npos);
  auto made = Raw("POST", "/apps",
                  {"Authorization: Bearer " + Operator(), "Content-Type: application/json"},
                  AppJson(id, "launch/patient patient/Observation.rs"));
  EXPECT_EQ(made.status, 201) << made.body;
  auto listed = Raw("GET", "/apps");
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("\"client_id\":\"" + id + "\""), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("\"client_secret\""), std::string::npos);
  auto gone = Raw("DELETE", "/apps/" + id, {"Authorization: Bearer " + Operator()});
  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(Raw("GET", "/apps/" + id).status, 404);
}

TEST_F(SmartTest, DiscoveryAndCapabilityStatement) {
  for (const char* path :
       {"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"}) {
    auto r = Raw("GET", path);
    ASSERT_EQ(r.status, 200) << path;
    JsonValue c = Parse(r.body);
    EXPECT_EQ(c.GetString("authorization_endpoint"), gateway_->base_url() + "/oauth/authorize");
    EXPECT_EQ(c.GetString("token_endpoint"), gateway_->base_url() + "/oauth/token");
    EXPECT_NE(r.body.find("\"S256\""), std::string::npos);
  }
  auto jwks = Raw("GET", "/oauth/jwks");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_NE(jwks.body.find("\"keys\""), std::string::npos);
  auto meta = Raw("GET", "/fhir/metadata");
  ASSERT_EQ(meta.status, 200);
  EXPECT_NE(meta.body.find("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"),
            std::string::npos);
}

TEST_F(SmartTest, FhirclientStandaloneLaunchThenRefusals) {
  Register(client_id_, "launch/patient patient/Observation.rs patient/Patient.r offline_access");
  std::string dir = std::string(CARNET_SOURCE_DIR) + "/tests/clients/fhirclient";
  std::string out = ::testing::TempDir() + "/fhirclient-" + run_ + ".out";
  std::string cmd = "node '" + dir + "/smart_launch.js' '" + gateway_->base_url() + "/fhir' '" +
                    client_id_ + "' " + std::to_string(redirect_port_) + " '" + PatientToken() +
                    "' > '" + out + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(out);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << log;
  ASSERT_NE(log.find(" passed, 0 failed"), std::string::npos) << log;
  std::string access, refresh;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ACCESS_TOKEN ", 0) == 0) access = line.substr(13);
    if (line.rfind("REFRESH_TOKEN ", 0) == 0) refresh = line.substr(14);
  }
  ASSERT_FALSE(access.empty()) << log;
  ASSERT_FALSE(refresh.empty()) << log;
  // The token is verified by the same door as the others: it reads Observations, not what
  // the patient left unticked (Patient.r).
  auto obs = Fhir(access, "GET", "Observation?patient=" + patient_id_);
  EXPECT_EQ(obs.status, 200) << obs.body;
  EXPECT_EQ(Fhir(access, "GET", "Patient/" + patient_id_).status, 404);
  // offline_access: the refresh token gives a new access token.
  auto refreshed = Refresh(client_id_, refresh);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  std::string access2 = Parse(refreshed.body).GetString("access_token");
  EXPECT_EQ(Fhir(access2, "GET", "Observation?patient=" + patient_id_).status, 200);

  // The patient revokes the approval (the Consent): the app's next request and its refresh
  // token are refused at once.
  RevokeAllConsents();
  auto after = Fhir(access2, "GET", "Observation?patient=" + patient_id_);
  EXPECT_TRUE(after.status == 404 || after.status == 403 ||
              (after.status == 200 && after.body.find("\"entry\"") == std::string::npos))
      << after.status << " " << after.body;
  auto dead = Refresh(client_id_, refresh);
  EXPECT_EQ(dead.status, 400) << dead.body;
  EXPECT_NE(dead.body.find("invalid_grant"), std::string::npos);

  // Wrong redirect URI: a page, never a redirect to the unregistered address.
  std::string verifier = RandomHex(32);
  std::vector<std::pair<std::string, std::string>> ask = {
      {"response_type", "code"},
      {"client_id", client_id_},
      {"redirect_uri", "http://127.0.0.1:1/evil"},
      {"state", "s"},
      {"scope", "launch/patient patient/Observation.rs"},
      {"code_challenge", Challenge(verifier)},
      {"code_challenge_method", "S256"}};
  auto wrong = Raw("GET", "/oauth/authorize?" + Query(ask));
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_EQ(wrong.headers.count("location"), 0u);
  // No PKCE: refused back to the app.
  ask[2].second = redirect_uri_;
  ask.resize(5);
  auto no_pkce = Raw("GET", "/oauth/authorize?" + Query(ask));
  EXPECT_EQ(no_pkce.status, 302);
  EXPECT_EQ(LocationQueryParam(no_pkce, "error"), "invalid_request");
  // The page itself.
  ask.push_back({"code_challenge", Challenge(verifier)});
  ask.push_back({"code_challenge_method", "S256"});
  // A browser (no Authorization header) is sent to the web space's page when it is served;
  // with the login header, or no web space, carnet's own page.
  auto browser = Raw("GET", "/oauth/authorize?" + Query(ask));
  if (browser.status == 302) {
    auto at = browser.headers.find("location");
    ASSERT_NE(at, browser.headers.end());
    EXPECT_EQ(at->second, "/espace/#/autoriser?" + Query(ask));
  } else {
    EXPECT_EQ(browser.status, 200) << browser.body;
  }
  auto page =
      Raw("GET", "/oauth/authorize?" + Query(ask), {"Authorization: Bearer " + PatientToken()});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("lang=\"fr\""), std::string::npos);
  EXPECT_EQ(page.body.find("http"), page.body.find("http://127.0.0.1"));  // no external resource
  // The web space's page reads the request back as JSON: the app and the scopes it may get.
  auto described = Raw("GET", "/oauth/authorize?" + Query(ask), {"Accept: application/json"});
  ASSERT_EQ(described.status, 200) << described.body;
  JsonValue d = Parse(described.body);
  EXPECT_EQ(d.GetString("client_id"), client_id_);
  ASSERT_NE(d.Find("scopes"), nullptr);
  EXPECT_EQ(d.Find("scopes")->items().size(), 2u) << described.body;
  // An invalid request read as JSON: an error and where to tell the app.
  auto bad_json = Raw("GET", "/oauth/authorize?" + Query({ask[0], ask[1], ask[2], ask[3], ask[4]}),
                      {"Accept: application/json"});
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  EXPECT_NE(Parse(bad_json.body).GetString("redirect").find("error=invalid_request"),
            std::string::npos);
  // The approval posted by the page with the session's token, as JSON: where to go.
  {
    std::vector<std::pair<std::string, std::string>> form(ask.begin(), ask.end());
    form.push_back({"decision", "approve"});
    auto approved =
        Raw("POST", "/oauth/authorize",
            {"Authorization: Bearer " + PatientToken(), kForm, "Accept: application/json"},
            Query(form));
    ASSERT_EQ(approved.status, 200) << approved.body;
    std::string to = Parse(approved.body).GetString("redirect");
    EXPECT_EQ(to.rfind(redirect_uri_ + "?code=", 0), 0u) << to;
    form.back().second = "deny";
    auto denied =
        Raw("POST", "/oauth/authorize",
            {"Authorization: Bearer " + PatientToken(), kForm, "Accept: application/json"},
            Query(form));
    ASSERT_EQ(denied.status, 200) << denied.body;
    EXPECT_NE(Parse(denied.body).GetString("redirect").find("error=access_denied"),
              std::string::npos);
  }

  // Missing verifier, then a wrong one: refused (and the code is burnt).
  std::string code =
      Approve(client_id_, Challenge(verifier), "launch/patient patient/Observation.rs");
  auto missing = Exchange(client_id_, code, "");
  EXPECT_EQ(missing.status, 400) << missing.body;
  code = Approve(client_id_, Challenge(verifier), "launch/patient patient/Observation.rs");
  auto wrong_verifier = Exchange(client_id_, code, RandomHex(32));
  EXPECT_EQ(wrong_verifier.status, 400) << wrong_verifier.body;
  EXPECT_NE(wrong_verifier.body.find("invalid_grant"), std::string::npos);
  // Replayed code: once only.
  code = Approve(client_id_, Challenge(verifier), "launch/patient patient/Observation.rs");
  auto first = Exchange(client_id_, code, verifier);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Parse(first.body).GetString("patient"), patient_id_);
  EXPECT_EQ(Parse(first.body).GetString("refresh_token"), "");  // no offline_access asked
  auto replay = Exchange(client_id_, code, verifier);
  EXPECT_EQ(replay.status, 400) << replay.body;
  // Expired token: refused once its short lifetime is over.
  std::string short_lived = Parse(first.body).GetString("access_token");
  EXPECT_EQ(Fhir(short_lived, "GET", "Observation?patient=" + patient_id_).status, 200);
  std::this_thread::sleep_for(std::chrono::seconds(kLifetime + 2));
  EXPECT_EQ(Fhir(short_lived, "GET", "Observation?patient=" + patient_id_).status, 401);
}

TEST_F(SmartTest, QueryRestrictedScopeNarrowsTheSearch) {
  std::string id = "vitals-" + run_;
  Register(id, "launch/patient patient/Observation.rs?category=vital-signs");
  std::string verifier = RandomHex(32);
  std::string code = Approve(id, Challenge(verifier),
                             "launch/patient patient/Observation.rs?category=vital-signs");
  auto token = Exchange(id, code, verifier);
  ASSERT_EQ(token.status, 200) << token.body;
  std::string access = Parse(token.body).GetString("access_token");
  auto found = Fhir(access, "GET", "Observation?patient=" + patient_id_ + "&_total=accurate");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_NE(found.body.find("smart-vs-" + run_), std::string::npos) << found.body;
  EXPECT_EQ(found.body.find("smart-lab-" + run_), std::string::npos) << found.body;
  EXPECT_EQ(Fhir(access, "GET", "Observation/smart-vs-" + run_).status, 200);
  EXPECT_EQ(Fhir(access, "GET", "Observation/smart-lab-" + run_).status, 404);
}

// The catalogue's scopes bound what an app may ask; it may ask for less (SMART 2): fewer
// letters, one type of a wildcard, a restriction added. Broader asks are dropped: more
// letters, the catalogue's restriction lifted, a type it does not list.
TEST_F(SmartTest, AnAppMayAskForLessThanTheCatalogueAllows) {
  SmartApp app;
  app.client_id = "less-" + run_;
  app.redirect_uri = redirect_uri_;
  app.catalogue_scope =
      "launch/patient patient/Observation.rs?category=vital-signs patient/Device.crs "
      "patient/*.r";
  ASSERT_EQ(RegisterSmartApp(gateway_->base_url(), Operator(), app), "");
  SmartLaunchResult launch =
      SmartLaunch(gateway_->base_url(), PatientToken(), app,
                  "launch/patient patient/Observation.s?category=vital-signs&status=final "
                  "patient/Observation.rs patient/Device.c patient/Device.cruds patient/Patient.r "
                  "patient/Condition.rs");
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.scope,
            "launch/patient patient/Observation.s?category=vital-signs&status=final "
            "patient/Device.c patient/Patient.r");
}

// The patient's approval and the token endpoint leave records of their own in the access
// history: the code issued, the token issued, a refused exchange with its reason, on the
// patient's record and read back by the patient (no one else); a refusal that names no
// record is kept too, without a record, for the operators.
TEST_F(SmartTest, AuthorisationStepsAreInTheAccessHistory) {
  std::string id = "audit-" + run_;
  Register(id, "launch/patient patient/Observation.rs");
  std::string verifier = RandomHex(32);
  std::string code = Approve(id, Challenge(verifier), "launch/patient patient/Observation.rs");
  ASSERT_FALSE(code.empty());
  auto token = Exchange(id, code, verifier);
  ASSERT_EQ(token.status, 200) << token.body;
  code = Approve(id, Challenge(verifier), "launch/patient patient/Observation.rs");
  auto wrong = Exchange(id, code, RandomHex(32));
  ASSERT_EQ(wrong.status, 400) << wrong.body;
  long long recordless = RecordlessOAuthEvents(id);
  ASSERT_GE(recordless, 0);
  auto unknown = Exchange(id, "no-such-code-" + run_, verifier);
  ASSERT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(RecordlessOAuthEvents(id), recordless + 1);

  auto history = Fhir(PatientToken(), "GET", "AuditEvent?patient=" + patient_id_ + "&_count=500");
  ASSERT_EQ(history.status, 200) << history.body.substr(0, 400);
  JsonValue b = Parse(history.body);
  const JsonValue* entries = b.Find("entry");
  ASSERT_TRUE(entries && entries->is_array()) << history.body.substr(0, 400);
  int codes = 0, issued = 0, refused = 0;
  for (const auto& e : entries->items()) {
    const JsonValue* ev = e.Find("resource");
    std::string text = WriteJson(*ev);
    if (text.find("\"" + id + "\"") == std::string::npos) continue;
    if (text.find("\"oauth-code\"") != std::string::npos) {
      ++codes;
      EXPECT_EQ(ev->GetString("outcome"), "0") << text;
      EXPECT_NE(ev->GetString("outcomeDesc").find("patient/Observation.rs"), std::string::npos);
    } else if (text.find("\"oauth-token\"") != std::string::npos) {
      if (ev->GetString("outcome") == "0") ++issued;
      if (ev->GetString("outcome") == "4") {
        ++refused;
        EXPECT_NE(ev->GetString("outcomeDesc").find("invalid_grant"), std::string::npos) << text;
      }
    }
  }
  EXPECT_EQ(codes, 2);
  EXPECT_EQ(issued, 1);
  EXPECT_EQ(refused, 1);
  // The access history is the patient's: a laboratory reading it gets nothing.
  auto lab = Fhir(Lab(), "GET", "AuditEvent?patient=" + patient_id_);
  EXPECT_EQ(lab.status, 200);
  EXPECT_EQ(Parse(lab.body).Find("entry"), nullptr) << lab.body.substr(0, 400);
}

// A confidential client authenticates with client_secret_basic: the wrong secret (or none)
// is 401 invalid_client and does not burn the code; the right one gets the tokens. The
// id_token (openid granted) verifies with /oauth/jwks, for the client (aud) and the patient
// (sub, fhirUser). A revoked refresh token is refused afterwards; revoking an unknown token
// answers 200 (RFC 7009 section 2.2).
TEST_F(SmartTest, ConfidentialClientIdTokenAndRevocation) {
  std::string id = "conf-" + run_, secret = RandomHex(20);
  const std::string scopes = "launch/patient openid fhirUser offline_access patient/Observation.rs";
  std::string app = AppJson(id, scopes);
  app.replace(app.find(R"("client_type":"public")"), 22,
              R"("client_type":"confidential","client_secret":")" + secret + "\"");
  auto made = Raw("POST", "/apps",
                  {"Authorization: Bearer " + Operator(), "Content-Type: application/json"}, app);
  ASSERT_EQ(made.status, 201) << made.body;
  std::string verifier = RandomHex(32);
  std::string code = Approve(id, Challenge(verifier), scopes);
  ASSERT_FALSE(code.empty());
  auto wrong = ExchangeBasic(id, "not-the-secret-" + RandomHex(16), code, verifier);
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(Parse(wrong.body).GetString("error"), "invalid_client") << wrong.body;
  auto none = Exchange(id, code, verifier);  // client_id alone, as a public client would
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(Parse(none.body).GetString("error"), "invalid_client") << none.body;
  auto good = ExchangeBasic(id, secret, code, verifier);
  ASSERT_EQ(good.status, 200) << good.body;
  JsonValue answer = Parse(good.body);
  EXPECT_EQ(answer.GetString("patient"), patient_id_);
  std::string refresh = answer.GetString("refresh_token");
  ASSERT_FALSE(refresh.empty()) << good.body;

  // The id_token.
  std::string id_token = answer.GetString("id_token");
  ASSERT_FALSE(id_token.empty()) << good.body;
  auto jwks = Raw("GET", "/oauth/jwks");
  ASSERT_EQ(jwks.status, 200);
  const std::string issuer = gateway_->base_url() + "/fhir";
  profiles::JwtVerifierOptions options;
  options.audience = id;
  profiles::JwtVerifier verifier_for_client(options);
  ASSERT_TRUE(verifier_for_client.AddJwks(jwks.body, {issuer}).ok()) << jwks.body;
  auto claims = verifier_for_client.VerifyClaims(id_token, std::time(nullptr));
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->GetString("iss"), issuer);
  EXPECT_EQ(claims->GetString("sub"), patient_id_);
  EXPECT_EQ(claims->GetString("fhirUser"), issuer + "/Patient/" + patient_id_);
  // Meant for this client only: a verifier expecting another audience refuses it, and a
  // tampered signature does not verify.
  profiles::JwtVerifierOptions other;
  other.audience = "someone-else";
  profiles::JwtVerifier verifier_for_other(other);
  ASSERT_TRUE(verifier_for_other.AddJwks(jwks.body, {issuer}).ok());
  EXPECT_FALSE(verifier_for_other.VerifyClaims(id_token, std::time(nullptr)).ok());
  std::string tampered = id_token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifier_for_client.VerifyClaims(tampered, std::time(nullptr)).ok());

  // The refresh token works once authenticated, then is revoked and refused.
  auto refresh_form = Query({{"grant_type", "refresh_token"}, {"refresh_token", refresh}});
  auto refreshed = Raw("POST", "/oauth/token", {kForm, Basic(id, secret)}, refresh_form);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  auto bad_revoke = Raw("POST", "/oauth/revoke", {kForm, Basic(id, "wrong-" + RandomHex(16))},
                        Query({{"token", refresh}}));
  EXPECT_EQ(bad_revoke.status, 401) << bad_revoke.body;
  auto revoked = Raw("POST", "/oauth/revoke", {kForm, Basic(id, secret)},
                     Query({{"token", refresh}, {"token_type_hint", "refresh_token"}}));
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  auto after = Raw("POST", "/oauth/token", {kForm, Basic(id, secret)}, refresh_form);
  EXPECT_EQ(after.status, 400) << after.body;
  EXPECT_EQ(Parse(after.body).GetString("error"), "invalid_grant") << after.body;
  auto unknown = Raw("POST", "/oauth/revoke", {kForm, Basic(id, secret)},
                     Query({{"token", "never-issued-" + RandomHex(16)}}));
  EXPECT_EQ(unknown.status, 200) << unknown.body;
  // Revoking twice is still 200.
  EXPECT_EQ(
      Raw("POST", "/oauth/revoke", {kForm, Basic(id, secret)}, Query({{"token", refresh}})).status,
      200);
}

// RFC 7009 revocation leaves its record in the access history (IHE BALP, subtype
// oauth-revoke of https://carnet.example.org/fhir/CodeSystem/oauth-step): on the patient's
// record when a refresh token of theirs is revoked (read back by the patient), for the
// operators when the token is unknown, and the refusal of an unknown client with its reason.
TEST_F(SmartTest, RevocationIsAudited) {
  std::string id = "revoke-" + run_;
  Register(id, "launch/patient patient/Observation.rs offline_access");
  std::string verifier = RandomHex(32);
  std::string code =
      Approve(id, Challenge(verifier), "launch/patient patient/Observation.rs offline_access");
  auto token = Exchange(id, code, verifier);
  ASSERT_EQ(token.status, 200) << token.body;
  std::string refresh = Parse(token.body).GetString("refresh_token");
  ASSERT_FALSE(refresh.empty()) << token.body;
  auto count = [](const std::string& where) -> long long {
    auto conn = storage::Connection::Open(TestDbConninfo());
    if (!conn.ok()) return -1;
    auto r = (*conn)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE content LIKE '%\"oauth-revoke\"%' AND " + where,
        {});
    return r.ok() ? r->GetInt(0, 0) : -1;
  };
  const std::string mine = "actor_id = '" + id + "'";
  long long recordless = count(mine + " AND patient_key IS NULL");
  ASSERT_EQ(recordless, 0);
  auto revoked =
      Raw("POST", "/oauth/revoke", {kForm}, Query({{"token", refresh}, {"client_id", id}}));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  auto again =
      Raw("POST", "/oauth/revoke", {kForm}, Query({{"token", refresh}, {"client_id", id}}));
  ASSERT_EQ(again.status, 200) << again.body;  // nothing left to revoke: kept for operators
  auto stranger = Raw("POST", "/oauth/revoke", {kForm},
                      Query({{"token", refresh}, {"client_id", "no-such-app-" + run_}}));
  EXPECT_EQ(stranger.status, 401) << stranger.body;
  EXPECT_EQ(count(mine + " AND patient_key IS NULL AND outcome = '0'"), 1);
  EXPECT_EQ(count("actor_id = 'no-such-app-" + run_ + "' AND outcome = '4' AND content LIKE " +
                  "'%invalid_client%'"),
            1);
  // The patient reads the revocation of their app's token in their access history.
  auto history = Fhir(PatientToken(), "GET", "AuditEvent?patient=" + patient_id_ + "&_count=500");
  ASSERT_EQ(history.status, 200) << history.body.substr(0, 400);
  int seen = 0;
  JsonValue listed = Parse(history.body);
  const JsonValue* entries = listed.Find("entry");
  ASSERT_TRUE(entries && entries->is_array());
  for (const auto& e : entries->items()) {
    std::string text = WriteJson(*e.Find("resource"));
    if (text.find("\"" + id + "\"") == std::string::npos ||
        text.find("\"oauth-revoke\"") == std::string::npos)
      continue;
    ++seen;
    EXPECT_EQ(e.Find("resource")->GetString("outcome"), "0") << text;
    EXPECT_NE(text.find("Token revocation"), std::string::npos) << text;
    EXPECT_NE(text.find("refresh token revoked"), std::string::npos) << text;
  }
  EXPECT_EQ(seen, 1);
}

// A guardian approves an app for the child they represent (`patient` names the child's
// record): the Consent is filed in the child's record, the token's `patient` is the child and
// the app reads the child's Observations; a record the guardian does not represent (their
// own patient's, here) is refused with a page, never a code.
TEST_F(SmartTest, GuardianApprovesAnAppForTheirChild) {
  std::string child = "smart-child-" + run_;
  std::string child_ins =
      "2" + std::to_string(100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10 + 3);
  Must(Fhir(Operator(), "PUT", "Patient/" + child,
            R"({"resourceType":"Patient","id":")" + child + R"(",)" + kDiv +
                R"(,"identifier":[{"system":")" + kInsSystem + R"(","value":")" + child_ins +
                R"("}],"birthDate":"2016-03-02"})"),
       201, "child's record");
  Must(
      Fhir(
          Lab(), "PUT", "Observation/smart-child-obs-" + run_,
          R"({"resourceType":"Observation","id":"smart-child-obs-)" + run_ + R"(",)" + kDiv +
              R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/)" +
              child +
              R"("},"effectiveDateTime":"2026-11-02","valueQuantity":{"value":31,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})"),
      201, "child's observation");
  std::string guardian =
      Token({"--actor", "guardian", "--id", "guard-smart-" + run_, "--guardian-of", child_ins});
  std::string id = "child-app-" + run_;
  Register(id, "launch/patient patient/Observation.rs");
  std::string verifier = RandomHex(32);
  // The page carries the child's record through the form.
  auto page = Raw("GET",
                  "/oauth/authorize?" + Query({{"response_type", "code"},
                                               {"client_id", id},
                                               {"redirect_uri", redirect_uri_},
                                               {"state", "s"},
                                               {"scope", "launch/patient patient/Observation.rs"},
                                               {"code_challenge", Challenge(verifier)},
                                               {"code_challenge_method", "S256"},
                                               {"patient", child}}),
                  {"Authorization: Bearer " + guardian});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("name=\"patient\" value=\"" + child + "\""), std::string::npos);
  // Not a record the guardian represents: a page, no code.
  auto other = Authorize(guardian, id, Challenge(verifier), "launch/patient patient/Observation.rs",
                         {{"patient", patient_id_}});
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(other.headers.count("location"), 0u);
  // The child's record.
  auto approved = Authorize(guardian, id, Challenge(verifier),
                            "launch/patient patient/Observation.rs", {{"patient", child}});
  ASSERT_EQ(approved.status, 302) << approved.body;
  std::string code = LocationQueryParam(approved, "code");
  ASSERT_FALSE(code.empty());
  auto token = Exchange(id, code, verifier);
  ASSERT_EQ(token.status, 200) << token.body;
  EXPECT_EQ(Parse(token.body).GetString("patient"), child);
  std::string access = Parse(token.body).GetString("access_token");
  auto obs = Fhir(access, "GET", "Observation?patient=" + child + "&_total=accurate");
  ASSERT_EQ(obs.status, 200) << obs.body;
  EXPECT_NE(obs.body.find("smart-child-obs-" + run_), std::string::npos) << obs.body;
  // Only the child's: the app was not let into the guardian's other patient's record.
  EXPECT_EQ(Fhir(access, "GET", "Observation/smart-vs-" + run_).status, 404);
  // The approval is a Consent of the child's record, which the guardian reads.
  auto consents = Fhir(guardian, "GET", "Consent?patient=" + child);
  ASSERT_EQ(consents.status, 200) << consents.body;
  EXPECT_NE(consents.body.find("\"" + id + "\""), std::string::npos) << consents.body;
}

// A second approval of the same app by the same patient supersedes the first: the older
// Consent becomes inactive (not left "active" granting nothing), the newer one is the only
// active one and its token works.
TEST_F(SmartTest, ASecondApprovalSupersedesTheFirst) {
  std::string id = "twice-" + run_;
  Register(id, "launch/patient patient/Observation.rs offline_access");
  auto consents_of_app = [&]() {
    std::vector<std::pair<std::string, std::string>> out;  // id, status
    auto list = Fhir(PatientToken(), "GET", "Consent?patient=" + patient_id_ + "&_count=200");
    EXPECT_EQ(list.status, 200) << list.body;
    JsonValue listed = Parse(list.body);
    const JsonValue* entries = listed.Find("entry");
    if (!entries || !entries->is_array()) return out;
    for (const auto& e : entries->items()) {
      const JsonValue* c = e.Find("resource");
      if (WriteJson(*c).find("\"" + id + "\"") == std::string::npos) continue;
      out.emplace_back(c->GetString("id"), c->GetString("status"));
    }
    return out;
  };
  std::string v1 = RandomHex(32);
  std::string code1 =
      Approve(id, Challenge(v1), "launch/patient patient/Observation.rs offline_access");
  auto t1 = Exchange(id, code1, v1);
  ASSERT_EQ(t1.status, 200) << t1.body;
  auto first = consents_of_app();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].second, "active");
  std::string v2 = RandomHex(32);
  std::string code2 = Approve(id, Challenge(v2), "launch/patient patient/Observation.rs");
  auto t2 = Exchange(id, code2, v2);
  ASSERT_EQ(t2.status, 200) << t2.body;
  auto both = consents_of_app();
  ASSERT_EQ(both.size(), 2u);
  int active = 0;
  for (const auto& [cid, status] : both) {
    if (cid == first[0].first) {
      EXPECT_EQ(status, "inactive") << cid;
    }
    if (status == "active") ++active;
  }
  EXPECT_EQ(active, 1);
  // The newer approval's token reads; the older one's refresh token is refused.
  EXPECT_EQ(
      Fhir(Parse(t2.body).GetString("access_token"), "GET", "Observation/smart-vs-" + run_).status,
      200);
  auto stale = Refresh(id, Parse(t1.body).GetString("refresh_token"));
  EXPECT_EQ(stale.status, 400) << stale.body;
}

// CORS for browser apps: real preflight requests (OPTIONS with Origin and
// Access-Control-Request-Method) to the token endpoint, the discovery document and /fhir are
// answered 204 with Access-Control-Allow-Origin for the origin of a catalogue app's redirect
// URI, 403 without it for any other origin; the answers themselves carry the header only for
// the allowed origin; the CapabilityStatement says cors.
TEST_F(SmartTest, CorsForTheOriginsOfTheCatalogue) {
  std::string id = "cors-" + run_;
  Register(id, "launch/patient patient/Observation.rs");
  const std::string allowed = "http://127.0.0.1:" + std::to_string(redirect_port_);
  const std::string other = "https://evil.example";
  auto preflight = [&](const std::string& path, const std::string& origin,
                       const std::string& method) {
    return Raw("OPTIONS", path,
               {"Origin: " + origin, "Access-Control-Request-Method: " + method,
                "Access-Control-Request-Headers: authorization, content-type"});
  };
  for (auto [path, method] : {std::pair{"/oauth/token", "POST"}, std::pair{"/oauth/revoke", "POST"},
                              std::pair{"/.well-known/smart-configuration", "GET"},
                              std::pair{"/fhir/Observation", "GET"}, std::pair{"/fhir", "POST"}}) {
    auto ok = preflight(path, allowed, method);
    EXPECT_EQ(ok.status, 204) << path << " " << ok.body;
    EXPECT_EQ(ok.headers["access-control-allow-origin"], allowed) << path;
    EXPECT_NE(ok.headers["access-control-allow-methods"].find(method), std::string::npos) << path;
    EXPECT_NE(AsciiLower(ok.headers["access-control-allow-headers"]).find("authorization"),
              std::string::npos)
        << path;
    auto refused = preflight(path, other, method);
    EXPECT_EQ(refused.status, 403) << path;
    EXPECT_EQ(refused.headers.count("access-control-allow-origin"), 0u) << path;
  }
  // The answers: the header for the allowed origin only.
  auto config = Raw("GET", "/.well-known/smart-configuration", {"Origin: " + allowed});
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.headers["access-control-allow-origin"], allowed);
  EXPECT_NE(config.headers["vary"].find("Origin"), std::string::npos);
  auto stranger = Raw("GET", "/.well-known/smart-configuration", {"Origin: " + other});
  EXPECT_EQ(stranger.headers.count("access-control-allow-origin"), 0u);
  auto token_error = Raw("POST", "/oauth/token", {kForm, "Origin: " + allowed},
                         Query({{"grant_type", "authorization_code"}, {"code", "x"}}));
  EXPECT_EQ(token_error.headers["access-control-allow-origin"], allowed);
  auto fhir = Raw("GET", "/fhir/Observation?patient=" + patient_id_,
                  {"Origin: " + allowed, "Authorization: Bearer " + PatientToken()});
  EXPECT_EQ(fhir.status, 200);
  EXPECT_EQ(fhir.headers["access-control-allow-origin"], allowed);
  // The authorize page is a navigation, not a CORS resource.
  auto page = preflight("/oauth/authorize", allowed, "POST");
  EXPECT_EQ(page.headers.count("access-control-allow-origin"), 0u);
  auto meta = Raw("GET", "/fhir/metadata");
  EXPECT_NE(meta.body.find("\"cors\":true"), std::string::npos);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A confidential client authenticating with private_key_jwt (RFC 7523): its keys are made
// here by the openssl command (RSA 2048 and EC P-256), registered as a JWKS of public keys;
// a client assertion signed by the openssl command (RS256) gets the tokens, the same
// assertion a second time (its jti) is refused, an ES256 assertion works, and a wrong
// audience, an unregistered key, an expired assertion or no assertion are refused 401
// invalid_client. The discovery document advertises the method.
TEST_F(SmartTest, PrivateKeyJwtClient) {
  auto config = Raw("GET", "/.well-known/smart-configuration");
  ASSERT_EQ(config.status, 200);
  EXPECT_NE(config.body.find("\"private_key_jwt\""), std::string::npos) << config.body;
  EXPECT_NE(config.body.find("\"client-confidential-asymmetric\""), std::string::npos);

  std::string dir = ::testing::TempDir() + "/pkjwt-" + run_;
  std::filesystem::create_directories(dir);
  ASSERT_EQ(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" +
                         dir + "/rsa.pem' 2>/dev/null && openssl genpkey -algorithm EC -pkeyopt " +
                         "ec_paramgen_curve:P-256 -out '" + dir + "/ec.pem' 2>/dev/null && " +
                         "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" +
                         dir + "/stranger.pem' 2>/dev/null")
                            .c_str()),
            0);
  auto rsa = profiles::SigningKey::FromPem(ReadFile(dir + "/rsa.pem"));
  auto ec = profiles::SigningKey::FromPem(ReadFile(dir + "/ec.pem"));
  auto stranger = profiles::SigningKey::FromPem(ReadFile(dir + "/stranger.pem"));
  ASSERT_TRUE(rsa.ok() && ec.ok() && stranger.ok());
  JsonValue rsa_jwk = Parse(rsa->JwksJson()).Find("keys")->items()[0];
  JsonValue ec_jwk = Parse(ec->JwksJson()).Find("keys")->items()[0];
  std::string rsa_kid = rsa_jwk.GetString("kid");
  JsonValue keys = JsonValue::Array();
  keys.Append(rsa_jwk);
  keys.Append(ec_jwk);
  JsonValue jwks = JsonValue::Object();
  jwks.Set("keys", std::move(keys));

  std::string id = "pkjwt-" + run_;
  const std::string scopes = "launch/patient offline_access patient/Observation.rs";
  std::string app = AppJson(id, scopes);
  std::string confidential =
      R"("client_type":"confidential","token_endpoint_auth_method":"private_key_jwt","jwks":)" +
      WriteJson(jwks);
  app.replace(app.find(R"("client_type":"public")"), 22, confidential);
  // A JWKS holding a private key is refused.
  std::string leaked = app;
  leaked.replace(leaked.find(R"("kty":"EC")"), 10, R"("kty":"EC","d":"c2VjcmV0")");
  auto refused =
      Raw("POST", "/apps",
          {"Authorization: Bearer " + Operator(), "Content-Type: application/json"}, leaked);
  EXPECT_EQ(refused.status, 400) << refused.body;
  auto made = Raw("POST", "/apps",
                  {"Authorization: Bearer " + Operator(), "Content-Type: application/json"}, app);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_NE(made.body.find("\"token_endpoint_auth_method\":\"private_key_jwt\""),
            std::string::npos);

  const std::string aud = gateway_->base_url() + "/oauth/token";
  auto claims = [&](const std::string& audience, long long exp_in) {
    JsonValue c = JsonValue::Object();
    long long now = std::time(nullptr);
    c.Set("iss", JsonValue::String(id));
    c.Set("sub", JsonValue::String(id));
    c.Set("aud", JsonValue::String(audience));
    c.Set("iat", JsonValue::Number(std::to_string(now)));
    c.Set("exp", JsonValue::Number(std::to_string(now + exp_in)));
    c.Set("jti", JsonValue::String(RandomHex(16)));
    return c;
  };
  // RS256 signed by the openssl command itself.
  auto openssl_rs256 = [&](const JsonValue& c) {
    std::string input =
        profiles::Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","kid":")" + rsa_kid + R"("})") +
        "." + profiles::Base64UrlEncode(WriteJson(c));
    std::ofstream(dir + "/input") << input;
    EXPECT_EQ(std::system(("openssl dgst -sha256 -sign '" + dir + "/rsa.pem' -out '" + dir +
                           "/sig' '" + dir + "/input'")
                              .c_str()),
              0);
    return input + "." + profiles::Base64UrlEncode(ReadFile(dir + "/sig"));
  };
  auto with_assertion = [&](std::vector<std::pair<std::string, std::string>> form,
                            const std::string& assertion) {
    form.push_back(
        {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"});
    form.push_back({"client_assertion", assertion});
    return Raw("POST", "/oauth/token", {kForm}, Query(form));
  };
  std::string verifier = RandomHex(32);
  std::string code = Approve(id, Challenge(verifier), scopes);
  ASSERT_FALSE(code.empty());
  std::vector<std::pair<std::string, std::string>> exchange = {{"grant_type", "authorization_code"},
                                                               {"code", code},
                                                               {"redirect_uri", redirect_uri_},
                                                               {"code_verifier", verifier}};
  // No assertion (the client_id alone): refused, the code not burnt.
  auto bare = Raw("POST", "/oauth/token", {kForm},
                  Query({{"grant_type", "authorization_code"},
                         {"code", code},
                         {"redirect_uri", redirect_uri_},
                         {"client_id", id},
                         {"code_verifier", verifier}}));
  EXPECT_EQ(bare.status, 401) << bare.body;
  auto wrong_aud = with_assertion(exchange, openssl_rs256(claims("https://elsewhere/token", 120)));
  EXPECT_EQ(wrong_aud.status, 401) << wrong_aud.body;
  auto other_key = stranger->Sign(claims(aud, 120));
  ASSERT_TRUE(other_key.ok());
  auto unregistered = with_assertion(exchange, *other_key);
  EXPECT_EQ(unregistered.status, 401) << unregistered.body;
  EXPECT_EQ(Parse(unregistered.body).GetString("error"), "invalid_client");
  auto expired = with_assertion(exchange, openssl_rs256(claims(aud, -600)));
  EXPECT_EQ(expired.status, 401) << expired.body;
  auto too_long = with_assertion(exchange, openssl_rs256(claims(aud, 3600)));
  EXPECT_EQ(too_long.status, 401) << too_long.body;

  std::string assertion = openssl_rs256(claims(aud, 120));
  auto good = with_assertion(exchange, assertion);
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(Parse(good.body).GetString("patient"), patient_id_);
  std::string refresh = Parse(good.body).GetString("refresh_token");
  ASSERT_FALSE(refresh.empty()) << good.body;
  EXPECT_EQ(Fhir(Parse(good.body).GetString("access_token"), "GET", "Observation/smart-vs-" + run_)
                .status,
            200);
  std::vector<std::pair<std::string, std::string>> refresh_form = {{"grant_type", "refresh_token"},
                                                                   {"refresh_token", refresh}};
  // The same assertion again (its jti): a replay.
  auto replay = with_assertion(refresh_form, assertion);
  EXPECT_EQ(replay.status, 401) << replay.body;
  EXPECT_NE(replay.body.find("jti"), std::string::npos) << replay.body;
  // ES256, a new jti.
  auto es256 = ec->Sign(claims(aud, 120));
  ASSERT_TRUE(es256.ok());
  auto refreshed = with_assertion(refresh_form, *es256);
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  // Revocation authenticates the same way.
  auto revoke = Raw(
      "POST", "/oauth/revoke", {kForm},
      Query({{"token", refresh},
             {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
             {"client_assertion", openssl_rs256(claims(aud, 120))}}));
  EXPECT_EQ(revoke.status, 200) << revoke.body;
  auto dead = with_assertion(refresh_form, openssl_rs256(claims(aud, 120)));
  EXPECT_EQ(dead.status, 400) << dead.body;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carnet::testing
