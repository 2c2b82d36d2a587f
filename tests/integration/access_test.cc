// The access matrix against the live gateway (issue 5): every actor kind, every read path,
// every situation of tests/data/access/matrix.tsv. One record P holds five documents
// deposited by the laboratory system lab-1 (one masked by the patient, one invisible to the
// patient, one invisible to legal representatives, one of a type nurses may not read); a
// closed record Q holds one. Each row says which documents an actor sees; each path must
// show exactly those, and every request must leave an audit record.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRepositoryId = "1.3.6.1.4.1.21367.2017.2.5.84";

struct Document {
  std::string name;  // D1...
  std::string id;    // DocumentReference id
  std::string binary_id;
  std::string unique_id;
  std::string type;
  std::string type_system;
  std::string label;  // visibility code set at deposit, if any
  std::string text;   // the content
};

struct Record {
  std::string patient_id;
  std::string ins;
  std::vector<Document> documents;
  std::string has_type;  // the type code the _has check looks for
  std::string has_doc;   // the document that has it
};

struct MatrixRow {
  std::string actor;
  std::string record;
  std::set<std::string> visible;
  bool sees_patient = false;
  std::string situation;
  int line = 0;
};

std::vector<MatrixRow> ReadMatrix() {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/access/matrix.tsv");
  std::vector<MatrixRow> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    MatrixRow r;
    std::string visible, patient;
    fields >> r.actor >> r.record >> visible >> patient;
    std::getline(fields, r.situation);
    r.line = n;
    if (visible != "-") {
      std::stringstream list(visible);
      std::string item;
      while (std::getline(list, item, ',')) r.visible.insert(item);
    }
    r.sees_patient = patient == "y";
    rows.push_back(r);
  }
  return rows;
}

class AccessMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    std::string run = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_.patient_id = "acc-p-" + run;
    p_.ins = "1" + std::to_string(base_ins + 1);
    q_.patient_id = "acc-q-" + run;
    q_.ins = "1" + std::to_string(base_ins + 2);
    std::string uid_base = "1.2.250.1.999.77." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    auto doc = [&](const std::string& name, const std::string& type, const std::string& system,
                   const std::string& label, const std::string& uid_suffix) {
      Document d;
      d.name = name;
      d.id = "acc-" + run + "-" + name;
      d.binary_id = "acc-" + run + "-" + name + "-bin";
      d.unique_id = uid_base + "." + uid_suffix;
      d.type = type;
      d.type_system = system;
      d.label = label;
      d.text = "Document " + name + " of run " + run;
      return d;
    };
    const char* loinc = "http://loinc.org";
    const char* local = "urn:oid:1.2.250.1.213.1.1.4.12";
    p_.documents = {doc("D1", "11502-2", loinc, "", "101"), doc("D2", "11490-0", loinc, "", "102"),
                    doc("D3", "18842-5", loinc, "INVISIBLE_PATIENT", "103"),
                    doc("D4", "PSY_SYNTH", local, "", "104"),
                    doc("D5", "11490-0", loinc, "INVISIBLE_REPRESENTANTS_LEGAUX", "105")};
    p_.has_type = "PSY_SYNTH";
    p_.has_doc = "D4";
    q_.documents = {doc("Q1", "11502-2", loinc, "", "201")};
    q_.has_type = "11502-2";
    q_.has_doc = "Q1";
    BuildRecords();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static std::string Url(const std::string& path) { return gateway_->base_url() + path; }

  // The actors of the matrix: their tokens and any header they add.
  static std::map<std::string, std::pair<std::string, std::vector<std::string>>>& Actors() {
    static std::map<std::string, std::pair<std::string, std::vector<std::string>>> actors;
    if (!actors.empty()) return actors;
    auto pro = [](const std::string& rpps, const std::string& profession, const std::string& org) {
      return Token({"--actor", "professional", "--id", rpps, "--profession", profession, "--org", org});
    };
    actors["patient"] = {Token({"--actor", "patient", "--id", "pat-p", "--patient", p_.ins}), {}};
    actors["patient-q"] = {Token({"--actor", "patient", "--id", "pat-q", "--patient", q_.ins}), {}};
    actors["guardian"] = {Token({"--actor", "guardian", "--id", "guard-1", "--guardian-of", p_.ins}), {}};
    actors["doctor-careteam"] = {pro("810000000001", "10", "org-a"), {}};
    actors["nurse-careteam"] = {pro("810000000002", "60", "org-a"), {}};
    actors["doctor-blocked"] = {pro("810000000003", "10", "org-a"), {}};
    actors["doctor-blocked-org"] = {pro("810000000004", "10", "org-blocked"), {}};
    actors["treating-physician"] = {pro("810000000005", "10", "org-a"), {}};
    actors["doctor-outside"] = {pro("810000000006", "10", "org-a"), {}};
    actors["doctor-outside-consent"] = {pro("810000000006", "10", "org-a"), {"X-Patient-Consent: true"}};
    actors["pharmacist-consent"] = {pro("810000000010", "21", "org-c"), {"X-Patient-Consent: true"}};
    actors["optician-consent"] = {pro("810000000011", "28", "org-c"), {"X-Patient-Consent: true"}};
    actors["doctor-emergency"] = {Token({"--actor", "professional", "--id", "810000000007", "--profession",
                                         "10", "--org", "org-b", "--emergency", "Patient inconscient, urgences"}),
                                  {}};
    actors["doctor-emergency-noreason"] = {
        Token({"--actor", "professional", "--id", "810000000008", "--profession", "10", "--org", "org-b",
               "--emergency", ""}),
        {}};
    actors["app-authorised"] = {Token({"--actor", "app", "--client-id", "app-ok", "--patient", p_.ins,
                                       "--patient-id", p_.patient_id, "--scope", "patient/*.rs"}),
                                {}};
    actors["app-revoked"] = {Token({"--actor", "app", "--client-id", "app-revoked", "--patient", p_.ins,
                                    "--patient-id", p_.patient_id, "--scope", "patient/*.rs"}),
                             {}};
    actors["lab-1"] = {Token({"--actor", "system", "--id", "lab-1", "--client-id", "lab-1"}), {}};
    actors["lab-2"] = {Token({"--actor", "system", "--id", "lab-2", "--client-id", "lab-2"}), {}};
    // lab-1 as the hospital's identity feed too, which chooses the ids of what it deposits
    // (update as create is reserved to identity feeds and operators): seeds the record.
    actors["lab-1-feed"] = {Token({"--actor", "system", "--id", "lab-1", "--client-id", "lab-1", "--scope",
                                   "system/*.cruds"}),
                            {}};
    actors["operator"] = {Token({"--actor", "operator", "--id", "ops-1"}), {}};
    actors["insurer"] = {Token({"--actor", "insurer", "--id", "mutuelle-1"}), {}};
    return actors;
  }

  static HttpResult As(const std::string& actor, const std::string& method, const std::string& path,
                       std::vector<std::string> headers = {}, const std::string& body = "") {
    auto& a = Actors().at(actor);
    headers.push_back(Auth(a.first));
    for (const auto& h : a.second) headers.push_back(h);
    static HttpClient client;  // one keep-alive connection for the whole suite
    return client.Request(method, Url(path), headers, body);
  }

  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  static void BuildRecords() {
    for (Record* rec : {&p_, &q_}) {
      Must(As("operator", "PUT", "/fhir/Patient/" + rec->patient_id, {kJson},
              R"({"resourceType":"Patient","id":")" + rec->patient_id + R"(","identifier":[{"system":")" +
                  kInsSystem + R"(","value":")" + rec->ins + R"("}],"birthDate":"2012-04-01"})"),
           201, "operator creates the record");
    }
    // The care team, written by the patient (a profile entry of the record).
    std::string members;
    for (const char* rpps : {"810000000001", "810000000002", "810000000003", "810000000004"})
      members += std::string(members.empty() ? "" : ",") +
                 R"({"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":")" + rpps + R"("}}})";
    Must(As("patient", "POST", "/fhir/CareTeam", {kJson},
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + p_.patient_id +
                R"("},"participant":[)" + members + "]}"),
         201, "care team of P");
    Must(As("patient-q", "POST", "/fhir/CareTeam", {kJson},
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + q_.patient_id +
                R"("},"participant":[{"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000001"}}}]})"),
         201, "care team of Q");
    auto params = [](const std::vector<std::pair<std::string, std::string>>& values) {
      std::string out = R"({"resourceType":"Parameters","parameter":[)";
      for (size_t i = 0; i < values.size(); ++i)
        out += std::string(i ? "," : "") + R"({"name":")" + values[i].first + R"(","valueString":")" +
               values[i].second + R"("})";
      return out + "]}";
    };
    std::string p = "/fhir/Patient/" + p_.patient_id;
    Must(As("patient", "POST", p + "/$treating-physician", {kJson}, params({{"actor", "810000000005"}})), 200,
         "treating physician");
    Must(As("patient", "POST", p + "/$block", {kJson}, params({{"kind", "professional"}, {"actor", "810000000003"}})),
         200, "block a professional");
    Must(As("patient", "POST", p + "/$block", {kJson}, params({{"kind", "organisation"}, {"actor", "org-blocked"}})),
         200, "block an organisation");
    // The deposits.
    for (Record* rec : {&p_, &q_})
      for (const Document& d : rec->documents) Deposit(*rec, d);
    // The patient masks D2.
    Must(As("patient", "POST", "/fhir/DocumentReference/" + p_.documents[1].id + "/$meta-add", {kJson},
            R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})"),
         200, "mask D2");
    // Two apps authorised, one then revoked.
    // (The patient creates with POST: client-assigned ids are the identity feed's.)
    std::string revoked;
    for (const char* app : {"app-ok", "app-revoked"}) {
      auto r = As("patient", "POST", "/fhir/Consent", {kJson}, Consent("", app, "active"));
      Must(r, 201, "authorise " + std::string(app));
      revoked = ParseJson(r.body)->GetString("id");
    }
    Must(As("patient", "PUT", "/fhir/Consent/" + revoked, {kJson}, Consent(revoked, "app-revoked", "inactive")), 200,
         "revoke app-revoked");
    // Q is closed by the operator.
    Must(As("operator", "POST", "/fhir/Patient/" + q_.patient_id + "/$close", {kJson}, params({})), 200, "close Q");
  }

  static std::string Consent(const std::string& id, const std::string& app, const std::string& status) {
    return R"({"resourceType":"Consent",)" + (id.empty() ? std::string() : R"("id":")" + id + R"(",)") + R"(
      "extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/smart-scopes","valueString":"patient/*.rs"}],
      "status":")" + status + R"(",
      "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
      "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
      "patient":{"reference":"Patient/)" + p_.patient_id + R"("},
      "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
      "provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
        "reference":{"identifier":{"system":"urn:ietf:params:oauth:client-id","value":")" + app + R"("}}}]}})";
  }

  static void Deposit(const Record& rec, const Document& d) {
    Must(As("lab-1-feed", "PUT", "/fhir/Binary/" + d.binary_id, {kJson},
            R"({"resourceType":"Binary","id":")" + d.binary_id +
                R"(","contentType":"text/plain","securityContext":{"reference":"DocumentReference/)" + d.id +
                R"("},"data":")" + Base64Encode(d.text) + R"("})"),
         201, "content of " + d.name);
    std::string labels = R"([{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]})";
    if (!d.label.empty())
      labels += R"(,{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":")" + d.label + R"("}]})";
    labels += "]";
    Must(As("lab-1-feed", "PUT", "/fhir/DocumentReference/" + d.id, {kJson},
            R"({"resourceType":"DocumentReference","id":")" + d.id + R"(",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + d.unique_id + R"("},
      "status":"current",
      "type":{"coding":[{"system":")" + d.type_system + R"(","code":")" + d.type + R"("}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
      "subject":{"reference":"Patient/)" + rec.patient_id + R"("},
      "author":[{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000099"}}],
      "securityLabel":)" + labels + R"(,
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" + d.binary_id + R"(","size":)" +
                std::to_string(d.text.size()) + R"(,"hash":")" + Base64Sha1(d.text) +
                R"(","creation":"2026-11-01T10:00:00Z"},
                  "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})"),
         201, "deposit of " + d.name);
  }

  static long long AuditHead() {
    static std::unique_ptr<storage::Connection> conn;
    if (!conn) {
      auto opened = storage::Connection::Open(TestDbConninfo());
      if (!opened.ok()) return -1;
      conn = std::move(opened).value();
    }
    auto r = conn->RunDynamic("SELECT coalesce(max(seq), 0) FROM audit_event", {});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  static std::set<std::string> Ids(const std::string& body, const std::string& type, const std::string& mode) {
    std::set<std::string> out;
    auto json = ParseJson(body);
    if (!json.ok()) return out;
    if (const JsonValue* entries = json->Find("entry"))
      for (const auto& e : entries->items()) {
        const JsonValue* res = e.Find("resource");
        const JsonValue* search = e.Find("search");
        if (!res || res->GetString("resourceType") != type) continue;
        if (!mode.empty() && (!search || search->GetString("mode") != mode)) continue;
        out.insert(res->GetString("id"));
      }
    return out;
  }

  static GatewayProcess* gateway_;
  static Record p_, q_;
};

GatewayProcess* AccessMatrixTest::gateway_ = nullptr;
Record AccessMatrixTest::p_;
Record AccessMatrixTest::q_;

TEST_F(AccessMatrixTest, EveryActorSeesExactlyItsDocumentsOnEveryPath) {
  auto rows = ReadMatrix();
  ASSERT_GE(rows.size(), 19u);
  int requests = 0;
  for (const MatrixRow& row : rows) {
    SCOPED_TRACE("matrix.tsv line " + std::to_string(row.line) + ": " + row.actor + " on " + row.record + " —" +
                 row.situation);
    ASSERT_TRUE(Actors().count(row.actor)) << "unknown actor " << row.actor;
    const Record& rec = row.record == "P" ? p_ : q_;
    std::set<std::string> visible_ids, visible_uids;
    for (const Document& d : rec.documents)
      if (row.visible.count(d.name)) visible_ids.insert(d.id);
    std::set<std::string> none;
    std::set<std::string> through_patient = row.sees_patient ? visible_ids : none;

    // Each request must leave at least one audit record before its answer.
    auto ask = [&](const std::string& path_name, const std::string& method, const std::string& path,
                   std::vector<std::string> headers = {}, const std::string& body = "") {
      long long before = AuditHead();
      HttpResult r = As(row.actor, method, path, std::move(headers), body);
      ++requests;
      EXPECT_GT(AuditHead(), before) << path_name << ": " << method << " " << path << " left no audit record";
      return r;
    };
    std::string subject = "Patient/" + rec.patient_id;

    for (const Document& d : rec.documents) {
      bool sees = row.visible.count(d.name) > 0;
      long expected = sees ? 200 : 404;
      auto read = ask("read", "GET", "/fhir/DocumentReference/" + d.id);
      EXPECT_EQ(read.status, expected) << "read " << d.name << ": " << read.body.substr(0, 300);
      auto history = ask("_history", "GET", "/fhir/DocumentReference/" + d.id + "/_history");
      EXPECT_EQ(history.status, expected) << "_history " << d.name << ": " << history.body.substr(0, 300);
      if (sees) {
        EXPECT_EQ(Ids(history.body, "DocumentReference", "").count(d.id), 1u) << "_history " << d.name;
      }
      auto binary = ask("Binary", "GET", "/fhir/Binary/" + d.binary_id, {"Accept: application/fhir+json"});
      EXPECT_EQ(binary.status, expected) << "Binary of " << d.name << ": " << binary.body.substr(0, 300);
      auto tx = ask("transaction", "POST", "/fhir", {kJson},
                    R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"DocumentReference/)" +
                        d.id + R"("}}]})");
      EXPECT_EQ(tx.status, expected) << "transaction GET " << d.name << ": " << tx.body.substr(0, 300);
      auto retrieve = ask("ITI-43", "POST", "/xds/repository", {kSoap}, RetrieveRequest(kRepositoryId, d.unique_id));
      EXPECT_EQ(retrieve.status, 200);
      bool got = retrieve.body.find(d.text) != std::string::npos;
      EXPECT_EQ(got, sees) << "ITI-43 " << d.name << ": " << retrieve.body.substr(0, 600);
      if (!sees) {
        EXPECT_NE(retrieve.body.find("XDSDocumentUniqueIdError"), std::string::npos) << retrieve.body.substr(0, 600);
      }
    }

    auto search = ask("search", "GET", "/fhir/DocumentReference?patient=" + rec.patient_id);
    EXPECT_EQ(search.status, 200) << search.body.substr(0, 300);
    EXPECT_EQ(Ids(search.body, "DocumentReference", "match"), visible_ids) << "search";

    auto include = ask("_include", "GET",
                       "/fhir/DocumentReference?patient=" + rec.patient_id + "&_include=DocumentReference:subject");
    EXPECT_EQ(Ids(include.body, "DocumentReference", "match"), visible_ids) << "_include";
    bool patient_included = Ids(include.body, "Patient", "include").count(rec.patient_id) > 0;
    EXPECT_EQ(patient_included, row.sees_patient && !visible_ids.empty()) << "_include of the Patient";

    auto revinclude = ask("_revinclude", "GET",
                          "/fhir/Patient?_id=" + rec.patient_id + "&_revinclude=DocumentReference:subject");
    EXPECT_EQ(Ids(revinclude.body, "DocumentReference", "include"), through_patient) << "_revinclude";

    auto has = ask("_has", "GET",
                   "/fhir/Patient?_id=" + rec.patient_id + "&_has:DocumentReference:subject:type=" + rec.has_type);
    bool has_match = Ids(has.body, "Patient", "match").count(rec.patient_id) > 0;
    EXPECT_EQ(has_match, row.sees_patient && row.visible.count(rec.has_doc) > 0) << "_has: " << has.body.substr(0, 300);

    auto chained = ask("chained", "GET",
                       "/fhir/DocumentReference?subject:Patient.identifier=" + std::string(kInsSystem) + "%7C" + rec.ins);
    EXPECT_EQ(Ids(chained.body, "DocumentReference", "match"), through_patient) << "chained: " << chained.body.substr(0, 300);

    auto everything = ask("$everything", "GET", "/fhir/Patient/" + rec.patient_id + "/$everything?_count=100");
    EXPECT_EQ(everything.status, row.sees_patient ? 200 : 404) << "$everything: " << everything.body.substr(0, 300);
    if (row.sees_patient) {
      EXPECT_EQ(Ids(everything.body, "DocumentReference", ""), visible_ids) << "$everything";
    }

    auto query = ask("ITI-18", "POST", "/xds/registry", {kSoap},
                     FindDocumentsRequest(rec.ins + "^^^&amp;" + std::string(kInsSystem).substr(8) + "&amp;ISO"));
    EXPECT_EQ(query.status, 200);
    EXPECT_NE(query.body.find("ResponseStatusType:Success"), std::string::npos) << query.body.substr(0, 600);
    for (const Document& d : rec.documents)
      EXPECT_EQ(query.body.find(d.unique_id) != std::string::npos, row.visible.count(d.name) > 0)
          << "ITI-18 " << d.name;
  }
  EXPECT_GT(requests, 500);
}

// What the patient's choices must refuse, and how.
TEST_F(AccessMatrixTest, PatientChoicesHaveTheirLimits) {
  std::string p = "/fhir/Patient/" + p_.patient_id;
  // The treating physician cannot be blocked.
  auto block = As("patient", "POST", p + "/$block", {kJson},
                  R"({"resourceType":"Parameters","parameter":[{"name":"kind","valueString":"professional"},{"name":"actor","valueString":"810000000005"}]})");
  EXPECT_EQ(block.status, 409) << block.body;
  EXPECT_NE(block.body.find("treating physician"), std::string::npos) << block.body;
  // Only the patient side makes the patient's choices: a care team doctor cannot unmask.
  auto unmask = As("doctor-careteam", "POST", "/fhir/DocumentReference/" + p_.documents[0].id + "/$meta-delete",
                   {kJson},
                   R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"code":"MASQUE_PS"}]}}]})");
  EXPECT_EQ(unmask.status, 403) << unmask.body;
  // ...and a professional who cannot see the masked document cannot even learn it exists.
  auto unmask_hidden = As("doctor-careteam", "POST", "/fhir/DocumentReference/" + p_.documents[1].id + "/$meta-delete",
                          {kJson},
                          R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"code":"MASQUE_PS"}]}}]})");
  EXPECT_EQ(unmask_hidden.status, 404) << unmask_hidden.body;
  // Masking by JSON Patch of securityLabel (the French PDSm4DMP way) is the patient's choice too.
  const Document& d4 = p_.documents[3];
  const char* kPatch = "Content-Type: application/json-patch+json";
  auto mask = As("patient", "PATCH", "/fhir/DocumentReference/" + d4.id, {kPatch},
                 R"([{"op":"add","path":"/securityLabel/-","value":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}])");
  EXPECT_EQ(mask.status, 200) << mask.body;
  EXPECT_EQ(As("doctor-careteam", "GET", "/fhir/DocumentReference/" + d4.id).status, 404);
  EXPECT_EQ(As("treating-physician", "GET", "/fhir/DocumentReference/" + d4.id).status, 200);
  auto unmask_patch = As("patient", "PATCH", "/fhir/DocumentReference/" + d4.id, {kPatch},
                         R"([{"op":"remove","path":"/securityLabel/1"}])");
  EXPECT_EQ(unmask_patch.status, 200) << unmask_patch.body;
  EXPECT_EQ(As("doctor-careteam", "GET", "/fhir/DocumentReference/" + d4.id).status, 200);
  // The invisibility codes are the author's, and the rest of the document is not the patient's to change.
  EXPECT_EQ(As("patient", "PATCH", "/fhir/DocumentReference/" + d4.id, {kPatch},
               R"([{"op":"add","path":"/securityLabel/-","value":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"INVISIBLE_PATIENT"}]}}])")
                .status,
            403);
  EXPECT_EQ(As("patient", "PATCH", "/fhir/DocumentReference/" + d4.id, {kPatch},
               R"([{"op":"replace","path":"/status","value":"entered-in-error"}])")
                .status,
            403);
  // A closed record is read-only for its patient.
  auto add = As("patient-q", "POST", "/fhir/Observation", {kJson},
                R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/)" +
                    q_.patient_id + R"("},"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})");
  EXPECT_EQ(add.status, 403) << add.body;
  // An insurer's token is refused whatever it says, and its attempt is traced.
  auto insurer = As("insurer", "GET", "/fhir/Patient/" + p_.patient_id);
  EXPECT_EQ(insurer.status, 404) << insurer.body;
  // Operators manage records but read no medical content.
  auto op = As("operator", "GET", "/fhir/DocumentReference/" + p_.documents[0].id);
  EXPECT_EQ(op.status, 404);
}

// Masking a document from professionals (MASQUE_PS) is the patient's choice alone, whichever
// road asks for it: $meta-add / $meta-delete, or a JSON Patch of securityLabel (the French
// PDSm4DMP way). A professional of the care team, the document's author (the deposit source
// lab-1) and the treating physician all see D1 and all are refused (403, the reason told:
// they see the document), on both roads, masking and unmasking alike; the patient succeeds on
// both, and moves no other code on either. Issue 14: the rule used to be written twice, and
// the two copies disagreed.
TEST_F(AccessMatrixTest, OnlyThePatientMasksOnEveryRoad) {
  const Document& d1 = p_.documents[0];
  const std::string dr = "/fhir/DocumentReference/" + d1.id;
  const char* kPatch = "Content-Type: application/json-patch+json";
  const std::string kMeta =
      R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})";
  const std::string kAddLabel =
      R"([{"op":"add","path":"/securityLabel/-","value":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}])";
  auto masked = [&] { return As("doctor-careteam", "GET", dr).status == 404; };
  ASSERT_FALSE(masked()) << "D1 starts unmasked";
  for (const char* actor : {"doctor-careteam", "lab-1", "treating-physician"}) {
    SCOPED_TRACE(actor);
    ASSERT_EQ(As(actor, "GET", dr).status, 200) << "the actor sees D1";
    auto meta_add = As(actor, "POST", dr + "/$meta-add", {kJson}, kMeta);
    EXPECT_EQ(meta_add.status, 403) << meta_add.body.substr(0, 400);
    EXPECT_NE(meta_add.body.find("OperationOutcome"), std::string::npos);
    auto patch = As(actor, "PATCH", dr, {kPatch}, kAddLabel);
    EXPECT_EQ(patch.status, 403) << patch.body.substr(0, 400);
    EXPECT_FALSE(masked()) << "a refused mask left D1 masked";
  }
  // The invisibility codes are the author's, set at deposit: the patient moves none of them, and
  // both roads answer alike. On D3, which the patient does not see, both answer as for a
  // document that does not exist (the $meta-delete road used to refuse with 403 before any
  // lookup while the PATCH road answered 404).
  const std::string kInvisible =
      R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"INVISIBLE_PATIENT"}]}}]})";
  auto meta_invisible = As("patient", "POST", dr + "/$meta-add", {kJson}, kInvisible);
  auto patch_invisible =
      As("patient", "PATCH", dr, {kPatch},
         R"([{"op":"add","path":"/securityLabel/-","value":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"INVISIBLE_PATIENT"}]}}])");
  EXPECT_EQ(meta_invisible.status, 403) << meta_invisible.body.substr(0, 400);
  EXPECT_EQ(patch_invisible.status, 403) << patch_invisible.body.substr(0, 400);
  const std::string d3 = "/fhir/DocumentReference/" + p_.documents[2].id;
  const std::string none = "/fhir/DocumentReference/acc-no-such-document";
  for (const std::string& target : {d3, none}) {
    SCOPED_TRACE(target);
    auto unmask = As("patient", "POST", target + "/$meta-delete", {kJson}, kInvisible);
    EXPECT_EQ(unmask.status, 404) << unmask.body.substr(0, 400);
    auto unpatch = As("patient", "PATCH", target, {kPatch}, R"([{"op":"remove","path":"/securityLabel/1"}])");
    EXPECT_EQ(unpatch.status, 404) << unpatch.body.substr(0, 400);
  }
  // The patient masks by $meta-add, the others cannot unmask, the patient unmasks.
  ASSERT_EQ(As("patient", "POST", dr + "/$meta-add", {kJson}, kMeta).status, 200);
  EXPECT_TRUE(masked());
  for (const char* actor : {"lab-1", "treating-physician"}) {
    SCOPED_TRACE(actor);
    auto meta_delete = As(actor, "POST", dr + "/$meta-delete", {kJson}, kMeta);
    EXPECT_EQ(meta_delete.status, 403) << meta_delete.body.substr(0, 400);
  }
  EXPECT_TRUE(masked()) << "a refused unmask unmasked D1";
  ASSERT_EQ(As("patient", "POST", dr + "/$meta-delete", {kJson}, kMeta).status, 200);
  EXPECT_FALSE(masked());
  // The patient masks and unmasks by JSON Patch too.
  auto patch = As("patient", "PATCH", dr, {kPatch}, kAddLabel);
  ASSERT_EQ(patch.status, 200) << patch.body.substr(0, 400);
  EXPECT_TRUE(masked());
  auto unpatch = As("patient", "PATCH", dr, {kPatch}, R"([{"op":"remove","path":"/securityLabel/1"}])");
  ASSERT_EQ(unpatch.status, 200) << unpatch.body.substr(0, 400);
  EXPECT_FALSE(masked());
}

// The access history: the patient reads who accessed the record (emergency included),
// sorted by time, filtered by actor; professionals cannot read it.
// Clinical resources of the types the habilitation matrix files in a category are read as that
// category (profiles/data/habilitation_matrix.tsv, `resource` rows): a MedicationDispense is a
// dispensation, which a pharmacist reads and an optician does not, by read and by search alike;
// and a resource of the Patient compartment that names no record is refused, never stored as
// shared content (issue 15).
TEST_F(AccessMatrixTest, ClinicalResourcesFollowTheMatrixCategories) {
  std::string subject = R"("subject":{"reference":"Patient/)" + p_.patient_id + R"("})";
  std::string dispense = R"({"resourceType":"MedicationDispense","status":"completed",)"
                         R"("medicationCodeableConcept":{"text":"amoxicilline 1 g"},)" +
                         subject + "}";
  auto created = As("pharmacist-consent", "POST", "/fhir/MedicationDispense", {kJson}, dispense);
  ASSERT_EQ(created.status, 201) << created.body.substr(0, 500);
  std::string id = ParseJson(created.body)->GetString("id");
  std::string search = "/fhir/MedicationDispense?subject=Patient/" + p_.patient_id;
  auto found = [&](const std::string& actor) {
    auto r = As(actor, "GET", search);
    EXPECT_EQ(r.status, 200) << actor << ": " << r.body.substr(0, 300);
    return r.body.find("\"MedicationDispense/" + id) != std::string::npos ||
           r.body.find("\"id\":\"" + id + "\"") != std::string::npos;
  };
  EXPECT_EQ(As("pharmacist-consent", "GET", "/fhir/MedicationDispense/" + id).status, 200);
  EXPECT_TRUE(found("pharmacist-consent"));
  EXPECT_EQ(As("doctor-careteam", "GET", "/fhir/MedicationDispense/" + id).status, 200);
  EXPECT_TRUE(found("doctor-careteam"));
  EXPECT_EQ(As("patient", "GET", "/fhir/MedicationDispense/" + id).status, 200);
  // The optician: as if it did not exist, on read, search and count.
  auto hidden = As("optician-consent", "GET", "/fhir/MedicationDispense/" + id);
  auto missing = As("optician-consent", "GET", "/fhir/MedicationDispense/no-such-dispense");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.status, missing.status);
  EXPECT_FALSE(found("optician-consent"));
  auto count = As("optician-consent", "GET", search + "&_summary=count");
  EXPECT_NE(count.body.find("\"total\":0"), std::string::npos) << count.body.substr(0, 300);
  // ...and may not write one either, while an eyewear prescription is theirs to read.
  EXPECT_NE(As("optician-consent", "POST", "/fhir/MedicationDispense", {kJson}, dispense).status, 201);
  // A care plan: the physiotherapist reads it (care_plan r) but does not write one.
  std::string plan = R"({"resourceType":"CarePlan","status":"active","intent":"plan",)" + subject + "}";
  auto physio = Token({"--actor", "professional", "--id", "810000000012", "--profession", "70", "--org", "org-c"});
  HttpClient c;
  auto physio_write = c.Request("POST", Url("/fhir/CarePlan"),
                                {kJson, Auth(physio), "X-Patient-Consent: true"}, plan);
  EXPECT_EQ(physio_write.status, 403) << physio_write.body.substr(0, 300);
  auto plan_created = As("doctor-careteam", "POST", "/fhir/CarePlan", {kJson}, plan);
  ASSERT_EQ(plan_created.status, 201) << plan_created.body.substr(0, 300);
  std::string plan_id = ParseJson(plan_created.body)->GetString("id");
  EXPECT_EQ(c.Request("GET", Url("/fhir/CarePlan/" + plan_id), {Auth(physio), "X-Patient-Consent: true"})
                .status,
            200);
  // No record named: refused, whoever writes, and nothing stored.
  for (const std::string& orphan :
       {std::string(R"({"resourceType":"MedicationDispense","status":"completed",)"
                    R"("medicationCodeableConcept":{"text":"x"},"subject":{"display":"Jean Dupont"}})"),
        std::string(R"({"resourceType":"Observation","status":"final","code":{"text":"poids"},)"
                    R"("contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}})"),
        std::string(R"({"resourceType":"Procedure","status":"completed",)"
                    R"("subject":{"reference":"Group/g1"}})")}) {
    SCOPED_TRACE(orphan);
    for (const char* actor : {"pharmacist-consent", "lab-1-feed", "operator"}) {
      auto r = As(actor, "POST", "/fhir/" + ParseJson(orphan)->GetString("resourceType"), {kJson}, orphan);
      EXPECT_NE(r.status, 201) << actor;
      EXPECT_GE(r.status, 400) << actor;
    }
    auto r = As("lab-1-feed", "POST", "/fhir/" + ParseJson(orphan)->GetString("resourceType"), {kJson}, orphan);
    EXPECT_EQ(r.status, 422) << r.body.substr(0, 400);
    EXPECT_NE(r.body.find("names no Patient of this server"), std::string::npos) << r.body.substr(0, 400);
  }
}

TEST_F(AccessMatrixTest, PatientReadsTheAccessHistory) {
  ASSERT_EQ(As("doctor-emergency", "GET", "/fhir/DocumentReference/" + p_.documents[0].id).status, 200);
  auto history = As("patient", "GET", "/fhir/AuditEvent?patient=" + p_.patient_id + "&_count=500");
  ASSERT_EQ(history.status, 200) << history.body.substr(0, 300);
  auto json = ParseJson(history.body);
  ASSERT_TRUE(json.ok());
  const JsonValue* entries = json->Find("entry");
  ASSERT_NE(entries, nullptr);
  ASSERT_GT(entries->items().size(), 5u);
  std::string previous = "9999";
  bool saw_emergency = false;
  for (const auto& e : entries->items()) {
    const JsonValue* ev = e.Find("resource");
    std::string recorded = ev->GetString("recorded");
    EXPECT_LE(recorded, previous) << "newest first";
    previous = recorded;
    if (WriteJson(*ev).find("Patient inconscient") != std::string::npos) saw_emergency = true;
  }
  EXPECT_TRUE(saw_emergency) << "the emergency access and its reason are in the history";
  auto by_actor = As("patient", "GET", "/fhir/AuditEvent?patient=" + p_.patient_id + "&agent=810000000007");
  ASSERT_EQ(by_actor.status, 200);
  auto filtered = ParseJson(by_actor.body);
  ASSERT_TRUE(filtered.ok());
  ASSERT_NE(filtered->Find("entry"), nullptr);
  for (const auto& e : filtered->Find("entry")->items())
    EXPECT_NE(WriteJson(*e.Find("resource")).find("810000000007"), std::string::npos);
  auto future = As("patient", "GET", "/fhir/AuditEvent?patient=" + p_.patient_id + "&date=ge2999-01-01");
  ASSERT_EQ(future.status, 200);
  EXPECT_EQ(ParseJson(future.body)->Find("entry"), nullptr);
  // A professional, even the treating physician, gets nothing; another patient neither.
  for (const char* actor : {"treating-physician", "patient-q", "lab-1"}) {
    auto denied = As(actor, "GET", "/fhir/AuditEvent?patient=" + p_.patient_id);
    EXPECT_EQ(denied.status, 200) << actor;
    EXPECT_EQ(ParseJson(denied.body)->Find("entry"), nullptr) << actor << ": " << denied.body.substr(0, 300);
  }
  // Audit events cannot be written or deleted through the API.
  EXPECT_EQ(As("patient", "POST", "/fhir/AuditEvent", {kJson}, R"({"resourceType":"AuditEvent"})").status, 405);
}

}  // namespace
}  // namespace carnet::testing
