// The R4 invariants on the live gateway and PostgreSQL: a write breaking an invariant of
// severity error is refused (422, issue code "invariant", the key and its text), one of
// severity warning is stored; $validate answers 200 with an OperationOutcome that reports
// both (R4 $validate: the outcome is the answer, whatever it holds).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

// The issues of an OperationOutcome whose diagnostics start with "<key>: ".
std::vector<JsonValue> IssuesOf(const JsonValue& oo, const std::string& key) {
  std::vector<JsonValue> out;
  if (const JsonValue* issues = oo.Find("issue"))
    for (const JsonValue& i : issues->items())
      if (i.GetString("diagnostics").rfind(key + ": ", 0) == 0) out.push_back(i);
  return out;
}

class InvariantsTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + "/fhir/" + path; }
  HttpResult Post(const std::string& path, const std::string& body) {
    return client_.Request("POST", Url(path), {kJson}, body);
  }
  HttpResult Put(const std::string& path, const std::string& body) {
    return client_.Request("PUT", Url(path), {kJson}, body);
  }
  std::string NewPatient() {
    std::string id = "inv-" + RandomHex(6);
    auto r = Put("Patient/" + id, R"({"resourceType":"Patient","id":")" + id + R"(",)" + kDiv +
                                      R"(,"name":[{"family":"Durand"}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return id;
  }
  // An Observation of `patient` with `members` added.
  static std::string Observation(const std::string& patient, const std::string& members) {
    return std::string(R"({"resourceType":"Observation",)") + kDiv +
           R"(,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},)"
           R"("subject":{"reference":"Patient/)" +
           patient + R"("})" + (members.empty() ? "" : "," + members) + "}";
  }

  HttpClient client_;
};

constexpr char kObs6[] =
    R"("valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},"dataAbsentReason":{"text":"not asked"})";

TEST_F(InvariantsTest, CreateBreakingAnErrorInvariantIsRefusedWithItsKey) {
  std::string patient = NewPatient();
  auto refused = Post("Observation", Observation(patient, kObs6));
  ASSERT_EQ(refused.status, 422) << refused.body;
  JsonValue oo = Parse(refused.body);
  ASSERT_EQ(oo.GetString("resourceType"), "OperationOutcome");
  auto obs6 = IssuesOf(oo, "obs-6");
  ASSERT_EQ(obs6.size(), 1u) << refused.body;
  EXPECT_EQ(obs6[0].GetString("severity"), "error");
  EXPECT_EQ(obs6[0].GetString("code"), "invariant");
  EXPECT_EQ(obs6[0].GetString("diagnostics"),
            "obs-6: dataAbsentReason SHALL only be present if Observation.value[x] is not present");
  EXPECT_EQ(obs6[0].Find("expression")->items()[0].text(), "Observation");

  // per-1 on an update, pat-1 on a Patient: the same refusal.
  auto period =
      Post("Observation", Observation(patient, R"("effectivePeriod":{)"
                                               R"("start":"2024-05-02","end":"2024-05-01"})"));
  ASSERT_EQ(period.status, 422) << period.body;
  auto per1 = IssuesOf(Parse(period.body), "per-1");
  ASSERT_EQ(per1.size(), 1u) << period.body;
  EXPECT_EQ(per1[0].GetString("code"), "invariant");
  EXPECT_EQ(per1[0].Find("expression")->items()[0].text(), "Observation.effectivePeriod");
  auto contact =
      Put("Patient/" + patient, R"({"resourceType":"Patient","id":")" + patient + R"(",)" + kDiv +
                                    R"(,"contact":[{"gender":"female"}]})");
  ASSERT_EQ(contact.status, 422) << contact.body;
  EXPECT_EQ(IssuesOf(Parse(contact.body), "pat-1").size(), 1u) << contact.body;

  // The conforming twins are stored.
  auto stored = Post("Observation", Observation(patient, R"("dataAbsentReason":{"text":"n"})"));
  EXPECT_EQ(stored.status, 201) << stored.body;
  auto search = client_.Get(Url("Observation?subject=Patient/" + patient));
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(Parse(search.body).Find("entry")->items().size(), 1u) << search.body;
}

TEST_F(InvariantsTest, AWarningInvariantNeverBlocksAWrite) {
  // dom-6 (a resource should have a narrative) is a warning.
  std::string patient = NewPatient();
  auto created =
      Post("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"w"},)"
                          R"("subject":{"reference":"Patient/)" +
                              patient + R"("}})");
  EXPECT_EQ(created.status, 201) << created.body;
}

TEST_F(InvariantsTest, ValidateReportsErrorsAndWarnings) {
  std::string patient = NewPatient();
  // obs-6 broken (error) and no narrative (dom-6, warning): 200 with both issues.
  std::string body = R"({"resourceType":"Observation","status":"final","code":{"text":"w"},)"
                     R"("subject":{"reference":"Patient/)" +
                     patient + R"("},)" + kObs6 + "}";
  auto r = Post("Observation/$validate", body);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue oo = Parse(r.body);
  ASSERT_EQ(oo.GetString("resourceType"), "OperationOutcome");
  auto obs6 = IssuesOf(oo, "obs-6");
  ASSERT_EQ(obs6.size(), 1u) << r.body;
  EXPECT_EQ(obs6[0].GetString("severity"), "error");
  EXPECT_EQ(obs6[0].GetString("code"), "invariant");
  auto dom6 = IssuesOf(oo, "dom-6");
  ASSERT_EQ(dom6.size(), 1u) << r.body;
  EXPECT_EQ(dom6[0].GetString("severity"), "warning");
  EXPECT_EQ(dom6[0].GetString("code"), "invariant");

  // As a Parameters, a conforming resource: no error, no warning.
  std::string good = Observation(
      patient,
      R"("valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})");
  auto ok = Post(
      "Observation/$validate",
      R"({"resourceType":"Parameters","parameter":[{"name":"resource","resource":)" + good + "}]}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  for (const JsonValue& i : Parse(ok.body).Find("issue")->items()) {
    EXPECT_NE(i.GetString("severity"), "error") << ok.body;
    EXPECT_NE(i.GetString("severity"), "warning") << ok.body;
  }
}

TEST_F(InvariantsTest, NarrativeRulesAreInvariants) {
  std::string patient = NewPatient();
  auto r = Put("Patient/" + patient,
               R"({"resourceType":"Patient","id":")" + patient +
                   R"(","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/)"
                   R"(xhtml\"><p onclick=\"steal()\">Durand</p></div>"}})");
  ASSERT_EQ(r.status, 422) << r.body;
  auto txt1 = IssuesOf(Parse(r.body), "txt-1");
  ASSERT_EQ(txt1.size(), 1u) << r.body;
  EXPECT_EQ(txt1[0].GetString("code"), "invariant");
  EXPECT_NE(txt1[0].GetString("diagnostics").find("onclick"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace carnet::testing
