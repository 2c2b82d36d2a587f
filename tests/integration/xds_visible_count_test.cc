// ITI-18 counts only what the caller may see (issue 14): the stored queries AND the policy's
// access filter into their SQL, so XDSTooManyResults compares the VISIBLE matches with
// --xds-max-query-results. Before, the rows were counted before the filter: a caller whose
// query matched more hidden documents than the maximum got XDSTooManyResults, and so learnt
// that documents it may not see exist.
//
// Live gateway (maximum 3), real SOAP. Record P: five documents of a type doctors read, four
// masked by the patient (MASQUE_PS); record Q: four documents, all masked. A doctor of both
// care teams sees one document of P and none of Q.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";

class XdsVisibleCountTest : public ::testing::Test {
 protected:
  static constexpr int kMaxResults = 3;

  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess({"--xds-max-query-results", std::to_string(kMaxResults)});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ins_ = "2" + std::to_string(base_ins + 1);
    q_ins_ = "2" + std::to_string(base_ins + 2);
    doctor_ = Token({"--actor", "professional", "--id", "810000000021", "--profession", "10",
                     "--org", "org-a"});
    outsider_ = Token({"--actor", "professional", "--id", "810000000022", "--profession", "10",
                       "--org", "org-a"});
    BuildRecord("P", p_ins_, 5, 4);
    BuildRecord("Q", q_ins_, 4, 4);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static HttpResult Send(const std::string& token, const std::string& method,
                         const std::string& path, const std::string& body = "",
                         std::vector<std::string> headers = {kJson}) {
    headers.push_back(Auth(token));
    static HttpClient client;
    return client.Request(method, gateway_->base_url() + path, headers, body);
  }

  // Record `name` (INS `ins`) with the doctor in its care team and `documents` lab reports
  // (LOINC 11502-2, which doctors read) deposited by a laboratory, the first `masked` of
  // which the patient masks from professionals.
  static void BuildRecord(const std::string& name, const std::string& ins, int documents,
                          int masked) {
    std::string patient_id = "xvc-" + name + "-" + run_;
    std::string op = Token({"--actor", "operator", "--id", "ops-1"});
    auto created =
        Send(op, "PUT", "/fhir/Patient/" + patient_id,
             R"({"resourceType":"Patient","id":")" + patient_id + R"(","identifier":[{"system":")" +
                 kInsSystem + R"(","value":")" + ins + R"("}]})");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string patient = Token({"--actor", "patient", "--id", "pat-" + name, "--patient", ins});
    auto team = Send(
        patient, "POST", "/fhir/CareTeam",
        R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
            patient_id +
            R"("},"participant":[{"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000021"}}}]})");
    ASSERT_EQ(team.status, 201) << team.body;
    std::string lab = Token({"--actor", "system", "--id", "lab-xvc", "--client-id", "lab-xvc",
                             "--scope", "system/*.cruds"});
    for (int i = 0; i < documents; ++i) {
      std::string id = patient_id + "-d" + std::to_string(i);
      std::string uid = "1.2.250.1.999.78." + std::to_string(std::stoll(run_, nullptr, 16)) +
                        (name == "P" ? ".1" : ".2") + std::to_string(i);
      auto doc = Send(lab, "PUT", "/fhir/DocumentReference/" + id,
                      R"({"resourceType":"DocumentReference","id":")" + id + R"(",
            "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
                          uid + R"("},
            "status":"current",
            "type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
            "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
            "subject":{"reference":"Patient/)" +
                          patient_id + R"("},
            "author":[{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000099"}}],
            "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}],
            "content":[{"attachment":{"contentType":"text/plain","creation":"2026-11-01T10:00:00Z"},
              "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})");
      ASSERT_EQ(doc.status, 201) << doc.body;
      if (i < masked) {
        auto mask = Send(
            patient, "POST", "/fhir/DocumentReference/" + id + "/$meta-add",
            R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})");
        ASSERT_EQ(mask.status, 200) << mask.body;
      } else {
        visible_[name].insert(uid);
      }
      all_.insert(uid);
    }
  }

  static std::string Cx(const std::string& ins) {
    return ins + "^^^&amp;" + std::string(kInsSystem).substr(8) + "&amp;ISO";
  }

  // The uniqueIds of the DocumentEntries of the answer (among those this suite deposited).
  static std::set<std::string> Found(const std::string& body) {
    std::set<std::string> out;
    for (const auto& uid : all_)
      if (body.find(uid) != std::string::npos) out.insert(uid);
    return out;
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_ins_, q_ins_, doctor_, outsider_;
  static std::map<std::string, std::set<std::string>> visible_;  // by record, for the doctor
  static std::set<std::string> all_;
};

GatewayProcess* XdsVisibleCountTest::gateway_ = nullptr;
std::string XdsVisibleCountTest::run_, XdsVisibleCountTest::p_ins_, XdsVisibleCountTest::q_ins_,
    XdsVisibleCountTest::doctor_, XdsVisibleCountTest::outsider_;
std::map<std::string, std::set<std::string>> XdsVisibleCountTest::visible_;
std::set<std::string> XdsVisibleCountTest::all_;

// Five documents match, more than the maximum (3), but the doctor may see one: Success with
// that one, not XDSTooManyResults.
TEST_F(XdsVisibleCountTest, HiddenMatchesDoNotCountAgainstTheMaximum) {
  auto q = Send(doctor_, "POST", "/xds/registry", FindDocumentsRequest(Cx(p_ins_)), {kSoap});
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.body.find("XDSTooManyResults"), std::string::npos) << q.body.substr(0, 1500);
  EXPECT_NE(q.body.find("ResponseStatusType:Success"), std::string::npos) << q.body.substr(0, 1500);
  ASSERT_EQ(visible_["P"].size(), 1u);
  EXPECT_EQ(Found(q.body), visible_["P"]) << q.body.substr(0, 1500);
}

// Only hidden documents match, more of them than the maximum: an empty Success, never
// XDSTooManyResults (which would tell the caller they exist).
TEST_F(XdsVisibleCountTest, OnlyHiddenMatchesAnswerNothing) {
  auto q = Send(doctor_, "POST", "/xds/registry", FindDocumentsRequest(Cx(q_ins_)), {kSoap});
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.body.find("XDSTooManyResults"), std::string::npos) << q.body.substr(0, 1500);
  EXPECT_NE(q.body.find("ResponseStatusType:Success"), std::string::npos) << q.body.substr(0, 1500);
  EXPECT_EQ(q.body.find("ExtrinsicObject"), std::string::npos) << q.body.substr(0, 1500);
  // A doctor outside the care team, without consent, sees none of P's five either.
  auto outside =
      Send(outsider_, "POST", "/xds/registry", FindDocumentsRequest(Cx(p_ins_)), {kSoap});
  ASSERT_EQ(outside.status, 200) << outside.body;
  EXPECT_EQ(outside.body.find("XDSTooManyResults"), std::string::npos)
      << outside.body.substr(0, 1500);
  EXPECT_NE(outside.body.find("ResponseStatusType:Success"), std::string::npos)
      << outside.body.substr(0, 1500);
  EXPECT_EQ(outside.body.find("ExtrinsicObject"), std::string::npos)
      << outside.body.substr(0, 1500);
}

// The visible matches still count: the patient sees all five of P, more than the maximum.
TEST_F(XdsVisibleCountTest, VisibleMatchesBeyondTheMaximumStillFail) {
  std::string patient = Token({"--actor", "patient", "--id", "pat-P", "--patient", p_ins_});
  auto q = Send(patient, "POST", "/xds/registry", FindDocumentsRequest(Cx(p_ins_)), {kSoap});
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_NE(q.body.find("XDSTooManyResults"), std::string::npos) << q.body.substr(0, 1500);
  EXPECT_NE(q.body.find("ResponseStatusType:Failure"), std::string::npos);
}

}  // namespace
}  // namespace carnet::testing
