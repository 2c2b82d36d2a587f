// Existence oracles (issue 13): what a caller may not see must answer exactly as what does
// not exist, on every write path too. Each case sends the same request twice, once naming a
// resource or record that exists but is hidden from the caller and once its non-existent
// twin, and compares the two answers (status and OperationOutcome, with the twin's names
// put in place of the hidden ones). Also: older versions of a masked document follow the
// document's current labels.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";

// Replaces every occurrence of `from` by `to`.
std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// The part of an answer a caller can compare: status and the OperationOutcome's issues
// (severity, code, diagnostics, expression), without request ids or generated ids.
std::string Comparable(const HttpResult& r) {
  std::string out = std::to_string(r.status);
  auto json = ParseJson(r.body);
  if (!json.ok()) return out + " " + r.body;
  if (json->GetString("resourceType") != "OperationOutcome")
    return out + " " + json->GetString("resourceType");
  if (const JsonValue* issues = json->Find("issue"))
    for (const auto& i : issues->items()) {
      out += " | " + i.GetString("severity") + " " + i.GetString("code") + " " +
             i.GetString("diagnostics");
      if (const JsonValue* ex = i.Find("expression")) out += " " + WriteJson(*ex);
    }
  return out;
}

class ExistenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base_ins = 200000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "ex-p-" + run_;
    q_ = "ex-q-" + run_;
    p_ins_ = "2" + std::to_string(base_ins + 1);
    q_ins_ = "2" + std::to_string(base_ins + 2);
    uid_ = "1.2.250.1.999.78." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    for (auto [id, ins] : {std::pair{p_, p_ins_}, std::pair{q_, q_ins_}})
      Must(As(Operator(), "PUT", "/fhir/Patient/" + id, {kJson},
              R"({"resourceType":"Patient","id":")" + id + R"(","identifier":[{"system":")" +
                  kInsSystem + R"(","value":")" + ins + R"("}]})"),
           201, "record " + id);
    // The care team of P: the doctor (who will be blocked) and the reader.
    std::string members;
    for (const char* rpps : {"810000000201", "810000000202"})
      members += std::string(members.empty() ? "" : ",") +
                 R"({"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":")" +
                 rpps + R"("}}})";
    Must(As(Patient(p_ins_), "POST", "/fhir/CareTeam", {kJson},
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + p_ +
                R"("},"participant":[)" + members + "]}"),
         201, "care team of P");
    Must(As(Patient(p_ins_), "POST", "/fhir/Patient/" + p_ + "/$block", {kJson},
            R"({"resourceType":"Parameters","parameter":[{"name":"kind","valueString":"professional"},{"name":"actor","valueString":"810000000201"}]})"),
         200, "block the doctor");
    // Two documents of P deposited by lab-x, of the same type (both match type=...).
    docs_ = {Deposit("1"), Deposit("2")};
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-ex"}); }
  static std::string Lab() { return Token({"--actor", "system", "--id", "lab-x", "--client-id", "lab-x"}); }
  static std::string Patient(const std::string& ins) {
    return Token({"--actor", "patient", "--id", "pat-" + ins, "--patient", ins});
  }
  static std::string Reader() {  // a doctor of P's care team
    return Token({"--actor", "professional", "--id", "810000000202", "--profession", "10", "--org", "org-a"});
  }
  // The callers who may not see P's documents.
  static std::vector<std::pair<std::string, std::string>> Outsiders() {
    return {
        {"insurer", Token({"--actor", "insurer", "--id", "mutuelle-ex"})},
        {"optician", Token({"--actor", "professional", "--id", "810000000203", "--profession", "28",
                            "--org", "org-o"})},
        {"blocked doctor", Token({"--actor", "professional", "--id", "810000000201", "--profession",
                                  "10", "--org", "org-a"})},
        {"app of Q", Token({"--actor", "app", "--client-id", "app-ex", "--patient", q_ins_,
                            "--patient-id", q_, "--scope", "patient/*.cruds"})},
        {"patient Q", Patient(q_ins_)},
        {"other lab", Token({"--actor", "system", "--id", "lab-y", "--client-id", "lab-y"})},
    };
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       std::vector<std::string> headers = {}, const std::string& body = "") {
    headers.push_back(Auth(token));
    static HttpClient client;
    return client.Request(method, gateway_->base_url() + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  struct Doc {
    std::string id, binary_id, unique_id;
  };
  // Deposits a document of P by lab-x (POST, server ids): its Binary then its
  // DocumentReference.
  static Doc Deposit(const std::string& n) {
    Doc d;
    d.unique_id = uid_ + "." + n;
    std::string text = "Compte rendu " + n + " " + run_;
    auto binary = [&](const std::string& context) {
      return R"({"resourceType":"Binary",)" + (d.binary_id.empty() ? "" : R"("id":")" + d.binary_id + R"(",)") +
             R"("contentType":"text/plain","securityContext":{"reference":")" + context + R"("},"data":")" +
             Base64Encode(text) + R"("})";
    };
    auto bin = As(Lab(), "POST", "/fhir/Binary", {kJson}, binary("Patient/" + p_));
    EXPECT_EQ(bin.status, 201) << bin.body;
    d.binary_id = ParseJson(bin.body)->GetString("id");
    auto doc = As(Lab(), "POST", "/fhir/DocumentReference", {kJson}, DocumentBody(p_, d.unique_id, d.binary_id, text));
    EXPECT_EQ(doc.status, 201) << doc.body;
    d.id = ParseJson(doc.body)->GetString("id");
    // The content now names its document (read as the document is).
    auto attach = As(Lab(), "PUT", "/fhir/Binary/" + d.binary_id, {kJson}, binary("DocumentReference/" + d.id));
    EXPECT_EQ(attach.status, 200) << attach.body;
    return d;
  }
  static std::string DocumentBody(const std::string& patient, const std::string& unique_id,
                                  const std::string& binary_id, const std::string& text) {
    return R"({"resourceType":"DocumentReference",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + unique_id + R"("},
      "status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
      "subject":{"reference":"Patient/)" + patient + R"("},
      "author":[{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000299"}}],
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" + binary_id + R"(","size":)" +
           std::to_string(text.size()) + R"(,"hash":")" + Base64Sha1(text) + R"("},
        "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})";
  }
  static std::string Observation(const std::string& patient) {
    return R"({"resourceType":"Observation","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
      "subject":{"reference":"Patient/)" + patient + R"("},
      "valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})";
  }

  // Sends `hidden` and `missing` (the same request naming something hidden, then its
  // non-existent twin) and expects the same answer once `hidden_name` is read as
  // `missing_name`.
  static void ExpectAlike(const std::string& who, const HttpResult& hidden, const HttpResult& missing,
                          const std::string& hidden_name, const std::string& missing_name,
                          const std::string& what) {
    EXPECT_EQ(ReplaceAll(Comparable(hidden), hidden_name, missing_name), Comparable(missing))
        << who << ", " << what << "\nhidden:  " << hidden.body.substr(0, 600)
        << "\nmissing: " << missing.body.substr(0, 600);
    EXPECT_LT(hidden.status, 500) << who << ", " << what << ": " << hidden.body.substr(0, 400);
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_, q_, p_ins_, q_ins_, uid_;
  static std::vector<Doc> docs_;
};

GatewayProcess* ExistenceTest::gateway_ = nullptr;
std::string ExistenceTest::run_, ExistenceTest::p_, ExistenceTest::q_, ExistenceTest::p_ins_,
    ExistenceTest::q_ins_, ExistenceTest::uid_;
std::vector<ExistenceTest::Doc> ExistenceTest::docs_;

TEST_F(ExistenceTest, ConditionalCreateNeverNamesOrCountsHiddenDocuments) {
  // Twins name the same record and differ in criteria only; each body has a uniqueId of its
  // own (a deposit source that may write to P creates a document each time).
  int n = 100;
  auto body = [&] { return DocumentBody(p_, uid_ + "." + std::to_string(++n), docs_[0].binary_id, "x"); };
  for (const auto& [who, token] : Outsiders()) {
    // One hidden match (its id was answered before), and its twin.
    auto hidden = As(token, "POST", "/fhir/DocumentReference",
                     {kJson, "If-None-Exist: identifier=urn:oid:" + docs_[0].unique_id}, body());
    auto missing = As(token, "POST", "/fhir/DocumentReference",
                      {kJson, "If-None-Exist: identifier=urn:oid:" + uid_ + ".999"}, body());
    ExpectAlike(who, hidden, missing, "", "", "If-None-Exist, one hidden match");
    EXPECT_EQ(hidden.body.find(docs_[0].id), std::string::npos) << who << ": " << hidden.body;
    // Two hidden matches ("matches several" was answered before).
    auto several = As(token, "POST", "/fhir/DocumentReference",
                      {kJson, "If-None-Exist: identifier=urn:oid:" + docs_[0].unique_id + ",urn:oid:" +
                                  docs_[1].unique_id},
                      body());
    auto none = As(token, "POST", "/fhir/DocumentReference",
                   {kJson, "If-None-Exist: identifier=urn:oid:" + uid_ + ".990,urn:oid:" + uid_ + ".991"},
                   body());
    ExpectAlike(who, several, none, "", "", "If-None-Exist, two hidden matches");
    EXPECT_NE(several.status, 412) << who;
  }
}

TEST_F(ExistenceTest, ConditionalUpdateAndDeleteSeeOnlyWhatTheCallerSees) {
  std::string missing_uid = uid_ + ".998";
  std::string missing_patient = "ex-none-" + run_;
  for (const auto& [who, token] : Outsiders()) {
    auto hidden = As(token, "PUT", "/fhir/DocumentReference?identifier=urn:oid:" + docs_[0].unique_id, {kJson},
                     DocumentBody(p_, docs_[0].unique_id, docs_[0].binary_id, "x"));
    if (who == "other lab") {
      // A deposit source may write to P: it meets the uniqueness of uniqueIds, answered in
      // one fixed way that names no document, record or count.
      EXPECT_EQ(hidden.status, 409) << hidden.body;
      EXPECT_EQ(hidden.body.find(docs_[0].id), std::string::npos) << hidden.body;
      EXPECT_EQ(hidden.body.find(p_), std::string::npos) << hidden.body;
    } else {
      auto missing = As(token, "PUT", "/fhir/DocumentReference?identifier=urn:oid:" + missing_uid, {kJson},
                        DocumentBody(missing_patient, missing_uid, docs_[0].binary_id, "x"));
      ExpectAlike(who, hidden, missing, p_, missing_patient, "conditional update");
    }
    auto del_hidden = As(token, "DELETE", "/fhir/DocumentReference?identifier=urn:oid:" + docs_[0].unique_id);
    auto del_missing = As(token, "DELETE", "/fhir/DocumentReference?identifier=urn:oid:" + missing_uid);
    ExpectAlike(who, del_hidden, del_missing, docs_[0].unique_id, missing_uid, "conditional delete");
    auto del_several = As(token, "DELETE", "/fhir/DocumentReference?identifier=urn:oid:" + docs_[0].unique_id +
                                               ",urn:oid:" + docs_[1].unique_id);
    auto del_none = As(token, "DELETE", "/fhir/DocumentReference?identifier=urn:oid:" + uid_ +
                                            ".990,urn:oid:" + uid_ + ".991");
    ExpectAlike(who, del_several, del_none, "", "", "conditional delete, two hidden");
  }
  // Nothing was changed: both documents are still there, at version 1.
  for (const auto& d : docs_) {
    auto r = As(Lab(), "GET", "/fhir/DocumentReference/" + d.id);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(ParseJson(r.body)->Find("meta")->GetString("versionId"), "1");
  }
  // The depositor still matches its own document (200, unchanged) through If-None-Exist.
  auto own = As(Lab(), "POST", "/fhir/DocumentReference",
                {kJson, "If-None-Exist: identifier=urn:oid:" + docs_[0].unique_id},
                DocumentBody(p_, docs_[0].unique_id, docs_[0].binary_id, "x"));
  EXPECT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(ParseJson(own.body)->GetString("id"), docs_[0].id);
}

TEST_F(ExistenceTest, BatchIfNoneExistAnswersAlike) {
  int n = 200;
  auto batch = [&](const std::string& criteria_uid) {
    return R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":)" +
           DocumentBody(p_, uid_ + "." + std::to_string(++n), docs_[0].binary_id, "x") +
           R"(,"request":{"method":"POST","url":"DocumentReference","ifNoneExist":"identifier=urn:oid:)" +
           criteria_uid + R"("}}]})";
  };
  auto response = [](const HttpResult& r) {
    auto json = ParseJson(r.body);
    if (!json.ok() || !json->Find("entry")) return std::to_string(r.status) + " " + r.body;
    const JsonValue& e = json->Find("entry")->items()[0];
    std::string out = e.Find("response")->GetString("status");
    if (const JsonValue* o = e.Find("response")->Find("outcome")) {
      JsonValue outcome = *o;
      outcome.Remove("id");
      out += " " + WriteJson(outcome);
    }
    return out;
  };
  for (const auto& [who, token] : Outsiders()) {
    auto hidden = As(token, "POST", "/fhir", {kJson}, batch(docs_[0].unique_id));
    auto missing = As(token, "POST", "/fhir", {kJson}, batch(uid_ + ".997"));
    EXPECT_EQ(hidden.status, missing.status) << who << ": " << hidden.body;
    std::string a = response(hidden), b = response(missing);
    if (a.rfind("201", 0) == 0 && b.rfind("201", 0) == 0) continue;  // both created
    EXPECT_EQ(a, b) << who;
    EXPECT_EQ(hidden.body.find(docs_[0].id), std::string::npos) << who;
  }
}

TEST_F(ExistenceTest, WritesIntoAHiddenRecordAnswerAsAnUnknownRecord) {
  std::string missing_patient = "ex-none-" + run_;
  for (const auto& [who, token] : Outsiders()) {
    if (who == "other lab") continue;  // deposit sources may write to any open record
    auto hidden = As(token, "POST", "/fhir/Observation", {kJson}, Observation(p_));
    auto missing = As(token, "POST", "/fhir/Observation", {kJson}, Observation(missing_patient));
    ExpectAlike(who, hidden, missing, p_, missing_patient, "create in a hidden record");
  }
}

TEST_F(ExistenceTest, PatchAndPutOfAHiddenIdAnswerAsAnUnusedId) {
  std::string unused = "ex-unused-" + run_;
  std::string patch = R"([{"op":"replace","path":"/status","value":"entered-in-error"}])";
  for (const auto& [who, token] : Outsiders()) {
    auto hidden = As(token, "PATCH", "/fhir/DocumentReference/" + docs_[0].id,
                     {"Content-Type: application/json-patch+json"}, patch);
    auto missing = As(token, "PATCH", "/fhir/DocumentReference/" + unused,
                      {"Content-Type: application/json-patch+json"}, patch);
    ExpectAlike(who, hidden, missing, docs_[0].id, unused, "PATCH");
    std::string body_hidden = DocumentBody(p_, docs_[0].unique_id, docs_[0].binary_id, "x");
    body_hidden.insert(1, R"("id":")" + docs_[0].id + R"(",)");
    std::string body_missing = DocumentBody(p_, uid_ + ".996", docs_[0].binary_id, "x");
    body_missing.insert(1, R"("id":")" + unused + R"(",)");
    auto put_hidden = As(token, "PUT", "/fhir/DocumentReference/" + docs_[0].id, {kJson}, body_hidden);
    auto put_missing = As(token, "PUT", "/fhir/DocumentReference/" + unused, {kJson}, body_missing);
    ExpectAlike(who, put_hidden, put_missing, docs_[0].id, unused, "PUT");
    EXPECT_NE(put_missing.status, 201) << who << " created with a client-assigned id";
  }
  // The identity feed and the operator keep update as create.
  auto feed = As(Token({"--actor", "system", "--id", "feed-ex", "--client-id", "feed-ex", "--scope",
                        "system/Patient.cru"}),
                 "PUT", "/fhir/Patient/ex-feed-" + run_, {kJson},
                 R"({"resourceType":"Patient","id":"ex-feed-)" + run_ + R"("})");
  EXPECT_EQ(feed.status, 201) << feed.body;
}

TEST_F(ExistenceTest, InsurerIsRefusedBeforeAnyLookup) {
  std::string insurer = Token({"--actor", "insurer", "--id", "mutuelle-ex"});
  auto r = As(insurer, "POST", "/fhir/DocumentReference",
              {kJson, "If-None-Exist: identifier=urn:oid:" + docs_[0].unique_id},
              DocumentBody(p_, uid_ + ".60", docs_[0].binary_id, "x"));
  EXPECT_EQ(r.status, 403) << r.body;
  auto d = As(insurer, "DELETE", "/fhir/DocumentReference?identifier=urn:oid:" + docs_[0].unique_id);
  EXPECT_EQ(d.status, 403) << d.body;
}

TEST_F(ExistenceTest, OlderVersionsFollowTheDocumentsCurrentLabels) {
  Doc d = Deposit("3");
  std::string reader = Reader();
  std::string path = "/fhir/DocumentReference/" + d.id;
  Must(As(reader, "GET", path + "/_history/1"), 200, "v1 before masking");
  Must(As(Patient(p_ins_), "POST", path + "/$meta-add", {kJson},
          R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})"),
       200, "mask");
  auto current = As(reader, "GET", path);
  EXPECT_EQ(current.status, 404) << current.body;
  auto v1 = As(reader, "GET", path + "/_history/1");
  auto unknown = As(reader, "GET", "/fhir/DocumentReference/ex-unused-" + run_ + "/_history/1");
  ExpectAlike("care-team doctor", v1, unknown, d.id, "ex-unused-" + run_, "vread of a masked document");
  EXPECT_EQ(v1.status, 404);
  auto history = As(reader, "GET", path + "/_history");
  EXPECT_EQ(history.status, 404) << history.body;
  auto binary_v1 = As(reader, "GET", "/fhir/Binary/" + d.binary_id + "/_history/1");
  EXPECT_EQ(binary_v1.status, 404) << binary_v1.body;
  // The patient still reads every version.
  Must(As(Patient(p_ins_), "GET", path + "/_history/1"), 200, "patient reads v1");
  // Unmasking restores them.
  Must(As(Patient(p_ins_), "POST", path + "/$meta-delete", {kJson},
          R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})"),
       200, "unmask");
  Must(As(reader, "GET", path + "/_history/1"), 200, "v1 after unmasking");
  Must(As(reader, "GET", path + "/_history/2"), 200, "the masked version, now unmasked");
}

}  // namespace
}  // namespace carnet::testing

namespace carnet::testing {
namespace {

// The visibility codes move as the policy says, whichever road the request takes ($meta-add /
// $meta-delete or a JSON Patch of meta.security): the patient masks and unmasks (MASQUE_PS),
// nobody changes the author's invisibility codes afterwards, professionals and the author
// make no patient choice. Both roads answer alike for every actor.
TEST_F(ExistenceTest, VisibilityCodesMoveOnlyAsThePolicySaysOnBothRoads) {
  Doc d = Deposit("4");
  std::string path = "/fhir/DocumentReference/" + d.id;
  Must(As(Patient(p_ins_), "POST", "/fhir/Patient/" + p_ + "/$treating-physician", {kJson},
          R"({"resourceType":"Parameters","parameter":[{"name":"actor","valueString":"810000000204"}]})"),
       200, "treating physician");
  std::vector<std::pair<std::string, std::string>> actors = {
      {"patient", Patient(p_ins_)},
      {"care-team doctor", Reader()},
      {"author (depositor)", Lab()},
      {"treating physician", Token({"--actor", "professional", "--id", "810000000204", "--profession", "10",
                                    "--org", "org-a"})},
  };
  auto meta = [&](const std::string& token, bool add, const std::string& code) {
    return As(token, "POST", path + (add ? "/$meta-add" : "/$meta-delete"), {kJson},
              R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":")" +
                  code + R"("}]}}]})");
  };
  auto patch = [&](const std::string& token, bool add, const std::string& code) {
    std::string ops =
        add ? R"([{"op":"add","path":"/meta/security","value":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":")" +
                  code + R"("}]}])"
            : R"([{"op":"remove","path":"/meta/security"}])";
    return As(token, "PATCH", path, {"Content-Type: application/json-patch+json"}, ops);
  };
  for (const auto& [who, token] : actors) {
    bool patient = who == "patient";
    for (const char* code : {"INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX", "MASQUE_PS"}) {
      bool may = patient && std::string(code) == "MASQUE_PS";
      auto by_operation = meta(token, true, code);
      EXPECT_EQ(by_operation.status, may ? 200 : 403) << who << " $meta-add " << code << ": " << by_operation.body;
      if (may) Must(meta(token, false, code), 200, "unmask");
      auto by_patch = patch(token, true, code);
      EXPECT_EQ(by_patch.status, may ? 200 : 403) << who << " PATCH " << code << ": " << by_patch.body;
      if (may) Must(patch(token, false, code), 200, "unmask by patch");
      if (!may) {
        EXPECT_EQ(Comparable(by_operation), Comparable(by_patch))
            << who << ", " << code << ": the two roads differ";
      }
    }
  }
  // An outsider meets one answer for a hidden document and for an unused id.
  std::string optician = Token({"--actor", "professional", "--id", "810000000203", "--profession", "28", "--org", "org-o"});
  auto hidden = As(optician, "POST", path + "/$meta-add", {kJson},
                   R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"INVISIBLE_PATIENT"}]}}]})");
  auto unused = As(optician, "POST", "/fhir/DocumentReference/ex-unused-" + run_ + "/$meta-add", {kJson},
                   R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"INVISIBLE_PATIENT"}]}}]})");
  ExpectAlike("optician", hidden, unused, d.id, "ex-unused-" + run_, "$meta-add");
}

}  // namespace
}  // namespace carnet::testing
