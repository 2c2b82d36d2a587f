// Refusals a helpdesk can explain (issue 19): the request log line of a refused request
// carries the actor (kind and pseudonym), the decision and its reason code, never medical
// content nor the document's id; the caller's answer is unchanged (a hidden document answers
// as a missing one); the access history keeps the code; the support view
// (GET /fhir/$access-decisions) shows it to support staff and operators, and to nobody else.
//
// One record P (care team: doctor 820000000001, nurse 820000000002, doctor 820000000003
// blocked, doctor 820000000004 of a blocked organisation) holds D1 (laboratory report), D2 (a
// psychiatric synthesis nurses may not read), D3 (masked by the patient); a closed record Q.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/dev_token.h"
#include "profiles/jwt.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRepositoryId = "1.3.6.1.4.1.21367.2017.2.5.84";

std::string Pro(const std::string& rpps, const std::string& profession, const std::string& org) {
  return Token({"--actor", "professional", "--id", rpps, "--profession", profession, "--org", org});
}

struct Doc {
  std::string id, binary_id, unique_id, type, system, text;
};

class RefusalReasonsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base = 300000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "why-p-" + run_;
    p_ins_ = "1" + std::to_string(base + 1);
    q_ = "why-q-" + run_;
    q_ins_ = "1" + std::to_string(base + 2);
    std::string uid = "1.2.250.1.999.78." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    docs_ = {{"why-" + run_ + "-d1", "why-" + run_ + "-b1", uid + ".1", "11502-2", "http://loinc.org",
              "Hemoglobine 13.2 run " + run_},
             {"why-" + run_ + "-d2", "why-" + run_ + "-b2", uid + ".2", "PSY_SYNTH",
              "urn:oid:1.2.250.1.213.1.1.4.12", "Synthese psychiatrique run " + run_},
             {"why-" + run_ + "-d3", "why-" + run_ + "-b3", uid + ".3", "11490-0", "http://loinc.org",
              "Lettre de sortie run " + run_}};
    q_doc_ = {"why-" + run_ + "-q1", "why-" + run_ + "-qb1", uid + ".4", "11502-2", "http://loinc.org",
              "Resultat Q run " + run_};
    std::string op = Token({"--actor", "operator", "--id", "ops-why"});
    for (auto [id, ins] : {std::pair{p_, p_ins_}, std::pair{q_, q_ins_}})
      Must(Ask(op, "PUT", "/fhir/Patient/" + id, {kJson},
               R"({"resourceType":"Patient","id":")" + id + R"(","identifier":[{"system":")" + kInsSystem +
                   R"(","value":")" + ins + R"("}],"birthDate":"1970-04-01"})"),
           201, "record " + id);
    std::string patient = Token({"--actor", "patient", "--id", "pat-why", "--patient", p_ins_});
    std::string members;
    for (const char* rpps : {"820000000001", "820000000002", "820000000003", "820000000004"})
      members += std::string(members.empty() ? "" : ",") +
                 R"({"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":")" + rpps + R"("}}})";
    Must(Ask(patient, "POST", "/fhir/CareTeam", {kJson},
             R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + p_ +
                 R"("},"participant":[)" + members + "]}"),
         201, "care team");
    std::string q_patient = Token({"--actor", "patient", "--id", "pat-why-q", "--patient", q_ins_});
    Must(Ask(q_patient, "POST", "/fhir/CareTeam", {kJson},
             R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + q_ +
                 R"("},"participant":[{"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"820000000001"}}}]})"),
         201, "care team of Q");
    auto params = [](const std::string& kind, const std::string& actor) {
      return R"({"resourceType":"Parameters","parameter":[{"name":"kind","valueString":")" + kind +
             R"("},{"name":"actor","valueString":")" + actor + R"("}]})";
    };
    Must(Ask(patient, "POST", "/fhir/Patient/" + p_ + "/$block", {kJson}, params("professional", "820000000003")),
         200, "block a professional");
    Must(Ask(patient, "POST", "/fhir/Patient/" + p_ + "/$block", {kJson}, params("organisation", "org-why-blocked")),
         200, "block an organisation");
    for (const Doc& d : docs_) Deposit(p_, d);
    Deposit(q_, q_doc_);
    Must(Ask(patient, "POST", "/fhir/DocumentReference/" + docs_[2].id + "/$meta-add", {kJson},
             R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})"),
         200, "mask D3");
    Must(Ask(op, "POST", "/fhir/Patient/" + q_ + "/$close", {kJson}, R"({"resourceType":"Parameters"})"), 200,
         "close Q");
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static HttpResult Ask(const std::string& token, const std::string& method, const std::string& path,
                        std::vector<std::string> headers = {}, const std::string& body = "") {
    static HttpClient client;
    static bool anonymous = (client.SetBearer(""), true);  // no token unless given one
    (void)anonymous;
    if (!token.empty()) headers.push_back(Auth(token));
    return client.Request(method, gateway_->base_url() + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }
  static void Deposit(const std::string& patient_id, const Doc& d) {
    std::string feed = Token({"--actor", "system", "--id", "lab-why", "--client-id", "lab-why", "--scope",
                              "system/*.cruds"});
    Must(Ask(feed, "PUT", "/fhir/Binary/" + d.binary_id, {kJson},
             R"({"resourceType":"Binary","id":")" + d.binary_id +
                 R"(","contentType":"text/plain","securityContext":{"reference":"DocumentReference/)" + d.id +
                 R"("},"data":")" + Base64Encode(d.text) + R"("})"),
         201, "content " + d.id);
    Must(Ask(feed, "PUT", "/fhir/DocumentReference/" + d.id, {kJson},
             R"({"resourceType":"DocumentReference","id":")" + d.id + R"(",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + d.unique_id + R"("},
      "status":"current",
      "type":{"coding":[{"system":")" + d.system + R"(","code":")" + d.type + R"("}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
      "subject":{"reference":"Patient/)" + patient_id + R"("},
      "author":[{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"820000000099"}}],
      "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}],
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" + d.binary_id + R"(","size":)" +
                 std::to_string(d.text.size()) + R"(,"hash":")" + Base64Sha1(d.text) +
                 R"(","creation":"2026-11-01T10:00:00Z"},
                  "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})"),
         201, "deposit " + d.id);
  }

  // The request log line of request `id` (written after the answer: waits a little for it).
  static std::string LogLineOf(const std::string& id) {
    std::string needle = "\"request_id\":\"" + id + "\",\"method\"";
    for (int i = 0; i < 100; ++i) {
      std::string log = gateway_->Log();
      auto pos = log.find(needle);
      if (pos != std::string::npos) {
        size_t start = log.rfind('\n', pos);
        start = start == std::string::npos ? 0 : start + 1;
        return log.substr(start, log.find('\n', pos) - start);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no log line for request " << id;
    return "";
  }

  static std::string NewId(const std::string& what) { return "why-" + what + "-" + RandomHex(6); }

  // Asks as `token` with a request id of ours; checks the status, and that the log line says
  // `decision` for `reason` without the document's id or content. Returns the request id.
  static std::string Expect(const std::string& what, const std::string& token, const std::string& method,
                            const std::string& path, long status, const std::string& decision,
                            const std::string& reason, std::vector<std::string> headers = {},
                            const std::string& body = "", const Doc* doc = nullptr) {
    std::string id = NewId(what);
    headers.push_back("X-Request-Id: " + id);
    HttpResult r = Ask(token, method, path, headers, body);
    EXPECT_EQ(r.status, status) << what << ": " << r.body.substr(0, 500);
    std::string line = LogLineOf(id);
    EXPECT_NE(line.find("\"decision\":\"" + decision + "\""), std::string::npos) << what << ": " << line;
    EXPECT_NE(line.find("\"reason\":\"" + reason + "\""), std::string::npos) << what << ": " << line;
    if (doc) {
      // The notes never name the document (the path of a FHIR read does, as it always did).
      std::string notes = line.substr(line.find("\"peer\""));
      EXPECT_EQ(notes.find(doc->id), std::string::npos) << what << ": " << line;
      EXPECT_EQ(notes.find(doc->unique_id), std::string::npos) << what << ": " << line;
      EXPECT_EQ(line.find(doc->type), std::string::npos) << what << ": " << line;
      EXPECT_EQ(line.find(doc->text), std::string::npos) << what << ": " << line;
    }
    return id;
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_, p_ins_, q_, q_ins_;
  static std::vector<Doc> docs_;
  static Doc q_doc_;
};

GatewayProcess* RefusalReasonsTest::gateway_ = nullptr;
std::string RefusalReasonsTest::run_, RefusalReasonsTest::p_, RefusalReasonsTest::p_ins_, RefusalReasonsTest::q_,
    RefusalReasonsTest::q_ins_;
std::vector<Doc> RefusalReasonsTest::docs_;
Doc RefusalReasonsTest::q_doc_;

TEST_F(RefusalReasonsTest, RefusedReadsLogTheirReasonAndAnswerAsMissing) {
  const Doc& d1 = docs_[0];
  const Doc& d2 = docs_[1];
  const Doc& d3 = docs_[2];
  std::string read1 = "/fhir/DocumentReference/" + d1.id;
  // The answer a missing document gets: the refusals below must answer the same.
  auto missing = Ask(Pro("820000000001", "10", "org-why"), "GET", "/fhir/DocumentReference/why-none-" + run_);
  ASSERT_EQ(missing.status, 404);

  Expect("permit", Pro("820000000001", "10", "org-why"), "GET", read1, 200, "permit", "care-team");
  Expect("outside", Pro("820000000006", "10", "org-why"), "GET", read1, 404, "deny", "not-in-care-team", {}, "",
         &d1);
  Expect("consent", Pro("820000000006", "10", "org-why"), "GET", read1, 200, "permit", "consent",
         {"X-Patient-Consent: true"});
  Expect("blocked", Pro("820000000003", "10", "org-why"), "GET", read1, 404, "deny", "blocked", {}, "", &d1);
  Expect("org-blocked", Pro("820000000004", "10", "org-why-blocked"), "GET", read1, 404, "deny",
         "organisation-blocked", {}, "", &d1);
  Expect("matrix", Pro("820000000002", "60", "org-why"), "GET", "/fhir/DocumentReference/" + d2.id, 404, "deny",
         "matrix", {}, "", &d2);
  Expect("masked", Pro("820000000001", "10", "org-why"), "GET", "/fhir/DocumentReference/" + d3.id, 404, "deny",
         "masked", {}, "", &d3);
  Expect("closed", Pro("820000000001", "10", "org-why"), "GET", "/fhir/DocumentReference/" + q_doc_.id, 404,
         "deny", "closed-record", {}, "", &q_doc_);
  Expect("emergency-no-reason",
         Token({"--actor", "professional", "--id", "820000000008", "--profession", "10", "--org", "org-why",
                "--emergency", ""}),
         "GET", read1, 404, "deny", "emergency-no-reason", {}, "", &d1);
  Expect("app", Token({"--actor", "app", "--client-id", "app-why-none", "--patient", p_ins_, "--patient-id", p_,
                       "--scope", "patient/*.rs"}),
         "GET", read1, 404, "deny", "no-consent", {}, "", &d1);
  Expect("not-found", Pro("820000000001", "10", "org-why"), "GET", "/fhir/DocumentReference/why-none-" + run_, 404,
         "deny", "not-found");
  // A search of a record the professional may not open is a refusal too (with an empty page).
  Expect("search", Pro("820000000006", "10", "org-why"), "GET", "/fhir/DocumentReference?patient=" + p_, 200, "deny",
         "not-in-care-team");
  // Binary content is refused as its document is.
  Expect("binary", Pro("820000000003", "10", "org-why"), "GET", "/fhir/Binary/" + d1.binary_id, 404, "deny",
         "blocked", {"Accept: application/fhir+json"}, "", &d1);

  // The log line names the actor by kind and pseudonym, never by its id; the pseudonym is
  // stable across requests.
  std::string a = LogLineOf(Expect("pseudo-1", Pro("820000000006", "10", "org-why"), "GET", read1, 404, "deny",
                                   "not-in-care-team"));
  std::string b = LogLineOf(Expect("pseudo-2", Pro("820000000006", "10", "org-why"), "GET", read1, 404, "deny",
                                   "not-in-care-team"));
  EXPECT_NE(a.find("\"actor_kind\":\"professional\""), std::string::npos) << a;
  EXPECT_EQ(a.find("820000000006"), std::string::npos) << a;
  auto pseudonym = [](const std::string& line) {
    auto at = line.find("\"actor\":\"");
    return at == std::string::npos ? std::string() : line.substr(at + 9, 32);
  };
  EXPECT_EQ(pseudonym(a).size(), 32u) << a;
  EXPECT_EQ(pseudonym(a), pseudonym(b));
}

TEST_F(RefusalReasonsTest, XdsRefusalsLogTheirReason) {
  const Doc& d1 = docs_[0];
  std::string blocked = Pro("820000000003", "10", "org-why");
  Expect("iti43", blocked, "POST", "/xds/repository", 200, "deny", "blocked", {kSoap},
         RetrieveRequest(kRepositoryId, d1.unique_id), &d1);
  std::string cx = p_ins_ + "^^^&1.2.250.1.213.1.4.10&ISO^NH";
  Expect("iti18", Pro("820000000006", "10", "org-why"), "POST", "/xds/registry", 200, "deny", "not-in-care-team",
         {kSoap}, FindDocumentsRequest(cx), &d1);
  Expect("iti43-masked", Pro("820000000001", "10", "org-why"), "POST", "/xds/repository", 200, "deny", "masked",
         {kSoap}, RetrieveRequest(kRepositoryId, docs_[2].unique_id), &docs_[2]);
}

TEST_F(RefusalReasonsTest, TokenRefusalsLogTheirReason) {
  std::string read1 = "/fhir/DocumentReference/" + docs_[0].id;
  auto request = profiles::ParseDevTokenArgs({"--actor", "professional", "--id", "820000000001", "--profession",
                                              "10", "--org", "org-why"});
  ASSERT_TRUE(request.ok());
  auto key = profiles::SigningKey::LoadOrCreateDevKey(TestKeysDir());
  ASSERT_TRUE(key.ok());
  long long now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  // Expired.
  profiles::DevTokenRequest old = *request;
  old.now = now - 7200;
  auto expired = profiles::MintDevToken(TestKeysDir(), old);
  ASSERT_TRUE(expired.ok());
  Expect("expired", *expired, "GET", read1, 401, "deny", "token-expired");
  // Another issuer with the trusted key.
  JsonValue claims = profiles::DevTokenClaims(*request);
  claims.Set("iss", JsonValue::String("https://elsewhere.example"));
  auto wrong_issuer = key->Sign(claims);
  ASSERT_TRUE(wrong_issuer.ok());
  Expect("issuer", *wrong_issuer, "GET", read1, 401, "deny", "token-wrong-issuer");
  // A key nobody trusts.
  auto stranger = profiles::SigningKey::GenerateEc();
  ASSERT_TRUE(stranger.ok());
  auto unknown = stranger->Sign(profiles::DevTokenClaims(*request));
  ASSERT_TRUE(unknown.ok());
  Expect("unknown-key", *unknown, "GET", read1, 401, "deny", "token-unknown-key");
  // A signature that does not verify (the token's own, with its claims changed).
  std::string good = Pro("820000000001", "10", "org-why");
  JsonValue forged_claims = profiles::DevTokenClaims(*request);
  forged_claims.Set("preferred_username", JsonValue::String("820000000777"));
  std::string forged = good.substr(0, good.find('.')) + "." + profiles::Base64UrlEncode(WriteJson(forged_claims)) +
                       good.substr(good.rfind('.'));
  Expect("bad-signature", forged, "GET", read1, 401, "deny", "token-bad-signature");
  Expect("no-credential", "", "GET", read1, 401, "deny", "no-credential");
  Expect("xds-expired", *expired, "POST", "/xds/repository", 401, "deny", "token-expired", {kSoap},
         RetrieveRequest(kRepositoryId, docs_[0].unique_id));
  // carnet's SMART authorization server: an unknown client.
  Expect("oauth", "", "POST", "/oauth/token", 401, "deny", "oauth-invalid-client",
         {"Content-Type: application/x-www-form-urlencoded"},
         "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&client_id=why-nobody");
}

TEST_F(RefusalReasonsTest, SupportViewShowsWhyWithoutContent) {
  const Doc& d1 = docs_[0];
  Expect("for-support-0", Pro("820000000006", "10", "org-why"), "GET", "/fhir/DocumentReference/" + docs_[1].id,
         404, "deny", "not-in-care-team");
  std::string refused = Expect("for-support", Pro("820000000006", "10", "org-why"), "GET",
                               "/fhir/DocumentReference/" + d1.id, 404, "deny", "not-in-care-team");
  std::string support = Token({"--actor", "support", "--id", "helpdesk-1"});
  auto view = Ask(support, "GET", "/fhir/$access-decisions?request-id=" + refused);
  ASSERT_EQ(view.status, 200) << view.body;
  JsonValue answer = Parse(view.body);
  EXPECT_EQ(answer.GetString("resourceType"), "Parameters");
  bool found = false;
  if (const JsonValue* params = answer.Find("parameter"))
    for (const auto& p : params->items()) {
      if (p.GetString("name") != "decision") continue;
      std::map<std::string, std::string> parts;
      for (const auto& part : p.Find("part")->items())
        for (const char* k : {"valueString", "valueCode", "valueInstant"})
          if (!part.GetString(k).empty()) parts[part.GetString("name")] = part.GetString(k);
      EXPECT_EQ(parts["request-id"], refused);
      if (parts["reason"] == "not-in-care-team" && parts["decision"] == "deny" &&
          parts["actor"] == "820000000006" && parts["actor-kind"] == "professional")
        found = true;
    }
  EXPECT_TRUE(found) << view.body;
  // Nothing of the document: not its id, type, content.
  EXPECT_EQ(view.body.find(d1.id), std::string::npos) << view.body;
  EXPECT_EQ(view.body.find(d1.type), std::string::npos) << view.body;
  EXPECT_EQ(view.body.find(d1.text), std::string::npos) << view.body;
  EXPECT_EQ(view.body.find("Hemoglobine"), std::string::npos) << view.body;

  // By professional and time range, paged.
  std::string today = FormatUtc(std::chrono::system_clock::now()).substr(0, 10);
  auto by_agent = Ask(support, "GET",
                      "/fhir/$access-decisions?agent=820000000006&start=" + today + "&end=2999-01-01&_count=1");
  ASSERT_EQ(by_agent.status, 200) << by_agent.body;
  EXPECT_NE(by_agent.body.find("not-in-care-team"), std::string::npos) << by_agent.body;
  EXPECT_NE(by_agent.body.find("\"next\""), std::string::npos) << by_agent.body;
  // The operator reads it too; a professional, a patient are refused.
  EXPECT_EQ(Ask(Token({"--actor", "operator", "--id", "ops-why"}), "GET",
                "/fhir/$access-decisions?request-id=" + refused)
                .status,
            200);
  std::string doctor_asks = Expect("doctor-support", Pro("820000000001", "10", "org-why"), "GET",
                                   "/fhir/$access-decisions?request-id=" + refused, 403, "deny", "actor-kind");
  auto by_patient = Ask(Token({"--actor", "patient", "--id", "pat-why", "--patient", p_ins_}), "GET",
                        "/fhir/$access-decisions?request-id=" + refused);
  EXPECT_EQ(by_patient.status, 403);
  EXPECT_EQ(by_patient.body.find("not-in-care-team"), std::string::npos);
  // Bad input is a clear 400.
  EXPECT_EQ(Ask(support, "GET", "/fhir/$access-decisions").status, 400);
  EXPECT_EQ(Ask(support, "GET", "/fhir/$access-decisions?agent=x&start=yesterday").status, 400);
  // The support view is itself audited: the refused doctor's attempt is found.
  auto audited = Ask(support, "GET", "/fhir/$access-decisions?request-id=" + doctor_asks);
  ASSERT_EQ(audited.status, 200);
  EXPECT_NE(audited.body.find("\"valueCode\":\"actor-kind\""), std::string::npos) << audited.body;
  // Declared in the CapabilityStatement with its OperationDefinition.
  auto cs = Ask("", "GET", "/fhir/metadata");
  ASSERT_EQ(cs.status, 200);
  EXPECT_NE(cs.body.find("OperationDefinition/access-decisions"), std::string::npos);
}

}  // namespace
}  // namespace carnet::testing
