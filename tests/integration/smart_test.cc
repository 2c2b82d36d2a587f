// The app catalogue and carnet as a SMART App Launch 2 authorization server (issue 17),
// against the live gateway: SMART's own JavaScript client (npm fhirclient, Node mode)
// completes a standalone launch with PKCE and reads the patient's Observations; then the
// refusals (wrong redirect URI, missing or wrong PKCE verifier, replayed code, revoked
// consent, expired token) and query-restricted scopes narrowing the search; the audit
// records of the authorisation steps; a confidential client (client_secret_basic), token
// revocation (RFC 7009) and the id_token.
#include <unistd.h>

#include <cstdio>
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

// The value of query parameter `name` in the Location of a redirect.
std::string LocationParam(const HttpResult& r, const std::string& name) {
  auto it = r.headers.find("location");
  if (it == r.headers.end()) return "";
  auto q = it->second.find('?');
  if (q == std::string::npos) return "";
  for (const auto& [k, v] : ParseQuery(it->second.substr(q + 1)))
    if (k == name) return v;
  return "";
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
    auto r = Raw("POST", "/oauth/authorize", {"Authorization: Bearer " + PatientToken(), kForm},
                 Query(form));
    EXPECT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(LocationParam(r, "state"), "st-" + run_);
    return LocationParam(r, "code");
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
  EXPECT_EQ(listed.body.find("secret"), std::string::npos);
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
  EXPECT_EQ(LocationParam(no_pkce, "error"), "invalid_request");
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

}  // namespace
}  // namespace carnet::testing
