// Issue 19: a deposit of a document type no profession may ever read under the habilitation
// matrix (here CERT_RESIDENCE, which the built-in matrix lists and closes to every profession)
// is refused with the type named, or accepted with a warning (deposit_unreadable_type = warn),
// the same way through every door: FHIR create, a FHIR transaction, MHD ITI-65 and XDS ITI-41
// (real SOAP and MTOM bytes). A refused deposit leaves nothing behind.
#include <gtest/gtest.h>

#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "mapping/xds_metadata.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"
#include "xds/mtom.h"
#include "xds/requests.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kClosedType = "CERT_RESIDENCE";  // listed; no profession reads it
const char* kClosedSystem = "urn:oid:1.2.250.1.213.1.1.4.12";
const char* kWarning = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

std::string Uid(const char* branch) {
  return std::string("1.2.250.1.999.") + branch + "." +
         std::to_string(std::stoll(RandomHex(5), nullptr, 16));
}

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DepositTypeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    refusing_ = new GatewayProcess();  // the defaults: refuse (listed), accept (unlisted)
    warning_ = new GatewayProcess(
        {"--deposit-unreadable-type", "warn", "--deposit-unlisted-type", "refuse"});
    ASSERT_TRUE(refusing_->WaitHealthy()) << refusing_->Log();
    ASSERT_TRUE(warning_->WaitHealthy()) << warning_->Log();
  }
  static void TearDownTestSuite() {
    delete refusing_;
    delete warning_;
    refusing_ = warning_ = nullptr;
  }

  // The record the deposits go to (patient 11^^^&1.1&ISO, as the XDS samples).
  std::string Patient(GatewayProcess* g) {
    auto r = client_.Request(
        "POST", g->base_url() + "/fhir/Patient",
        {kJson, "If-None-Exist: identifier=urn:oid:1.1|11"},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"11"}]})");
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return ParseJson(r.body)->GetString("id");
  }
  // How many resources of `type` carry identifier `uid` (masterIdentifier for documents).
  long Count(GatewayProcess* g, const std::string& type, const std::string& uid) {
    auto r = client_.Get(g->base_url() + "/fhir/" + type + "?identifier=urn:oid:" + uid +
                         "&_summary=count");
    EXPECT_EQ(r.status, 200) << r.body;
    auto bundle = ParseJson(r.body);
    const JsonValue* total = bundle.ok() ? bundle->Find("total") : nullptr;
    return total ? std::stol(total->text()) : -1;
  }
  static std::string DocumentReference(const std::string& pid, const std::string& uid,
                                       const std::string& code, const std::string& system) {
    return R"({"resourceType":"DocumentReference","status":"current",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
           uid + R"("},"type":{"coding":[{"system":")" + system + R"(","code":")" + code +
           R"("}]},"subject":{"reference":"Patient/)" + pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","data":")" +
           Base64Encode("certificate " + uid) + R"("}}]})";
  }
  // An MHD ITI-65 Provide Document Bundle of one document of type `code`.
  static std::string MhdBundle(const std::string& pid, const std::string& doc_uid,
                               const std::string& set_uid, const std::string& code,
                               const std::string& system) {
    return R"({"resourceType":"Bundle","type":"transaction",
   "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]},
   "entry":[
    {"fullUrl":"urn:uuid:b1b1b1b1-0000-4000-8000-000000000001","resource":{"resourceType":"List",
      "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"]},
      "identifier":[{"use":"usual","system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
           set_uid + R"("}],
      "status":"current","mode":"working",
      "code":{"coding":[{"system":"https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes","code":"submissionset"}]},
      "subject":{"reference":"Patient/)" +
           pid + R"("},"date":"2024-06-01T10:00:00Z",
      "entry":[{"item":{"reference":"urn:uuid:b1b1b1b1-0000-4000-8000-000000000002"}}]},
     "request":{"method":"POST","url":"List"}},
    {"fullUrl":"urn:uuid:b1b1b1b1-0000-4000-8000-000000000002","resource":{"resourceType":"DocumentReference",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
           doc_uid + R"("},
      "status":"current","type":{"coding":[{"system":")" +
           system + R"(","code":")" + code + R"("}]},
      "subject":{"reference":"Patient/)" +
           pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","url":"urn:uuid:b1b1b1b1-0000-4000-8000-000000000003"}}]},
     "request":{"method":"POST","url":"DocumentReference"}},
    {"fullUrl":"urn:uuid:b1b1b1b1-0000-4000-8000-000000000003","resource":{"resourceType":"Binary",
      "contentType":"text/plain","data":")" +
           Base64Encode("MHD " + doc_uid) + R"("},
     "request":{"method":"POST","url":"Binary"}}]})";
  }
  // An ITI-41 over MTOM (the document an xop:Include of a binary part), built from the IHE
  // sample's first DocumentEntry with the type `code` (scheme `scheme`).
  static xds::MtomMessage Iti41(const std::string& doc_uid, const std::string& set_uid,
                                const std::string& code, const std::string& scheme) {
    pugi::xml_document doc;
    doc.load_string(ReadSample("pnr.xml").c_str());
    auto sub = xds::ReadSubmissionElement(doc.document_element(), nullptr);
    xds::RegistryObjectList m = sub->metadata;
    m.documents.resize(1);
    std::vector<xds::Association> kept;
    for (const auto& a : m.associations)
      if (a.target == m.documents[0].id || a.source == m.documents[0].id) kept.push_back(a);
    m.associations = kept;
    m.folders.clear();
    auto& e = m.documents[0];
    e.unique_id = doc_uid;
    e.patient_id = "11^^^&1.1&ISO";
    e.hash.clear();
    e.size.clear();
    e.type_code.code = code;
    e.type_code.scheme = scheme;
    m.submission_sets[0].unique_id = set_uid;
    m.submission_sets[0].patient_id = "11^^^&1.1&ISO";
    std::string body =
        R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:xop="http://www.w3.org/2004/08/xop/include">)" +
        xds::WriteSubmitObjectsRequest(m) + "<xdsb:Document id=\"" + e.id +
        "\"><xop:Include href=\"cid:doc1@carnet.test\"/></xdsb:Document>"
        "</xdsb:ProvideAndRegisterDocumentSetRequest>";
    std::string envelope =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
        "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>urn:ihe:iti:2007:"
        "ProvideAndRegisterDocumentSet-b</a:Action><a:MessageID>urn:uuid:" +
        NewUuid() + "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
    std::vector<xds::OutboundPart> parts = {
        {"doc1@carnet.test", "text/plain", "certificate of residence " + doc_uid}};
    return xds::WriteMtom(envelope, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", parts);
  }
  HttpResult PostIti41(GatewayProcess* g, const xds::MtomMessage& m) {
    return client_.Request("POST", g->base_url() + "/xds/repository",
                           {"Content-Type: " + m.content_type}, m.body);
  }

  static GatewayProcess* refusing_;
  static GatewayProcess* warning_;
  HttpClient client_;
};
GatewayProcess* DepositTypeTest::refusing_ = nullptr;
GatewayProcess* DepositTypeTest::warning_ = nullptr;

TEST_F(DepositTypeTest, FhirCreateOfAClosedTypeIsRefusedNamingTheType) {
  std::string pid = Patient(refusing_);
  std::string uid = Uid("41");
  auto r = client_.Request("POST", refusing_->base_url() + "/fhir/DocumentReference", {kJson},
                           DocumentReference(pid, uid, kClosedType, kClosedSystem));
  EXPECT_EQ(r.status, 422) << r.body;
  auto outcome = ParseJson(r.body);
  ASSERT_TRUE(outcome.ok()) << r.body;
  EXPECT_EQ(outcome->GetString("resourceType"), "OperationOutcome");
  const JsonValue& issue = outcome->Find("issue")->items()[0];
  EXPECT_EQ(issue.GetString("severity"), "error");
  EXPECT_EQ(issue.GetString("code"), "business-rule");
  EXPECT_NE(issue.GetString("diagnostics").find(kClosedType), std::string::npos) << r.body;
  EXPECT_NE(issue.GetString("diagnostics").find(kClosedSystem), std::string::npos) << r.body;
  EXPECT_EQ(Count(refusing_, "DocumentReference", uid), 0);
  // A type some profession reads, and by default a type the matrix does not list (the IHE
  // sample's), are stored as before.
  std::string readable = Uid("41");
  EXPECT_EQ(client_
                .Request("POST", refusing_->base_url() + "/fhir/DocumentReference", {kJson},
                         DocumentReference(pid, readable, "11502-2", "http://loinc.org"))
                .status,
            201);
  std::string unlisted = Uid("41");
  auto sample = client_.Request("POST", refusing_->base_url() + "/fhir/DocumentReference",
                                {kJson, "Prefer: return=OperationOutcome"},
                                DocumentReference(pid, unlisted, "34108-1", "http://loinc.org"));
  EXPECT_EQ(sample.status, 201) << sample.body;
  EXPECT_EQ(sample.body.find("\"warning\""), std::string::npos) << sample.body;
  EXPECT_EQ(Count(refusing_, "DocumentReference", readable), 1);
  EXPECT_EQ(Count(refusing_, "DocumentReference", unlisted), 1);
}

TEST_F(DepositTypeTest, FhirCreateOfAClosedTypeIsAcceptedWithAWarning) {
  std::string pid = Patient(warning_);
  std::string uid = Uid("42");
  auto r = client_.Request("POST", warning_->base_url() + "/fhir/DocumentReference",
                           {kJson, "Prefer: return=OperationOutcome"},
                           DocumentReference(pid, uid, kClosedType, kClosedSystem));
  ASSERT_EQ(r.status, 201) << r.body;
  auto outcome = ParseJson(r.body);
  ASSERT_TRUE(outcome.ok()) << r.body;
  EXPECT_EQ(outcome->GetString("resourceType"), "OperationOutcome");
  const JsonValue& issue = outcome->Find("issue")->items()[0];
  EXPECT_EQ(issue.GetString("severity"), "warning") << r.body;
  EXPECT_EQ(issue.GetString("code"), "business-rule");
  EXPECT_NE(issue.GetString("diagnostics").find(kClosedType), std::string::npos) << r.body;
  EXPECT_EQ(Count(warning_, "DocumentReference", uid), 1);
  // A readable type: the outcome carries no warning.
  auto fine = client_.Request("POST", warning_->base_url() + "/fhir/DocumentReference",
                              {kJson, "Prefer: return=OperationOutcome"},
                              DocumentReference(pid, Uid("42"), "11502-2", "http://loinc.org"));
  EXPECT_EQ(fine.status, 201) << fine.body;
  EXPECT_EQ(fine.body.find("\"warning\""), std::string::npos) << fine.body;
  // deposit_unlisted_type = refuse: the IHE sample type, which the matrix does not list.
  std::string unlisted = Uid("42");
  auto sample = client_.Request("POST", warning_->base_url() + "/fhir/DocumentReference", {kJson},
                                DocumentReference(pid, unlisted, "34108-1", "http://loinc.org"));
  EXPECT_EQ(sample.status, 422) << sample.body;
  EXPECT_NE(sample.body.find("34108-1 (http://loinc.org) is not listed"), std::string::npos)
      << sample.body;
  EXPECT_EQ(Count(warning_, "DocumentReference", unlisted), 0);
}

TEST_F(DepositTypeTest, FhirTransactionEntryCarriesTheWarningOrFailsWhole) {
  for (GatewayProcess* g : {refusing_, warning_}) {
    std::string pid = Patient(g);
    std::string closed = Uid("43"), readable = Uid("43");
    std::string bundle =
        R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":)" +
        DocumentReference(pid, readable, "11502-2", "http://loinc.org") +
        R"(,"request":{"method":"POST","url":"DocumentReference"}},
      {"resource":)" +
        DocumentReference(pid, closed, kClosedType, kClosedSystem) +
        R"(,"request":{"method":"POST","url":"DocumentReference"}}]})";
    auto r = client_.Request("POST", g->base_url() + "/fhir", {kJson}, bundle);
    if (g == refusing_) {
      EXPECT_EQ(r.status, 422) << r.body;
      EXPECT_NE(r.body.find("business-rule"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
      EXPECT_NE(r.body.find("Bundle.entry[1]"), std::string::npos) << r.body;
      // All or nothing: the readable document of the same transaction is not stored either.
      EXPECT_EQ(Count(g, "DocumentReference", closed), 0);
      EXPECT_EQ(Count(g, "DocumentReference", readable), 0);
      continue;
    }
    ASSERT_EQ(r.status, 200) << r.body;
    auto response = ParseJson(r.body);
    ASSERT_TRUE(response.ok());
    const auto& entries = response->Find("entry")->items();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].Find("response")->Find("outcome"), nullptr) << r.body;
    const JsonValue* outcome = entries[1].Find("response")->Find("outcome");
    ASSERT_NE(outcome, nullptr) << r.body;
    const JsonValue& issue = outcome->Find("issue")->items()[0];
    EXPECT_EQ(issue.GetString("severity"), "warning");
    EXPECT_NE(issue.GetString("diagnostics").find(kClosedType), std::string::npos);
    EXPECT_EQ(Count(g, "DocumentReference", closed), 1);
    EXPECT_EQ(Count(g, "DocumentReference", readable), 1);
  }
}

TEST_F(DepositTypeTest, MhdProvideBundleOfAClosedTypeIsRefusedOrWarned) {
  for (GatewayProcess* g : {refusing_, warning_}) {
    std::string pid = Patient(g);
    std::string doc_uid = Uid("44"), set_uid = Uid("45");
    auto r = client_.Request("POST", g->base_url() + "/fhir", {kJson},
                             MhdBundle(pid, doc_uid, set_uid, kClosedType, kClosedSystem));
    if (g == refusing_) {
      EXPECT_EQ(r.status, 422) << r.body;
      EXPECT_NE(r.body.find("business-rule"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
      // MHD: the XDS errorCode a registry would have given.
      EXPECT_NE(r.body.find(R"("text":"XDSRegistryMetadataError")"), std::string::npos) << r.body;
      EXPECT_EQ(Count(g, "DocumentReference", doc_uid), 0);
      EXPECT_EQ(Count(g, "List", set_uid), 0) << "the SubmissionSet is not stored either";
      continue;
    }
    ASSERT_EQ(r.status, 200) << r.body;
    auto response = ParseJson(r.body);
    ASSERT_TRUE(response.ok());
    int warned = 0;
    for (const auto& e : response->Find("entry")->items())
      if (const JsonValue* o = e.Find("response")->Find("outcome")) {
        EXPECT_EQ(o->Find("issue")->items()[0].GetString("severity"), "warning");
        EXPECT_NE(o->Find("issue")->items()[0].GetString("diagnostics").find(kClosedType),
                  std::string::npos);
        ++warned;
      }
    EXPECT_EQ(warned, 1) << r.body;
    EXPECT_EQ(Count(g, "DocumentReference", doc_uid), 1);
    EXPECT_EQ(Count(g, "List", set_uid), 1);
  }
}

TEST_F(DepositTypeTest, Iti41OfAClosedTypeIsAFailureOrASuccessWithAWarning) {
  for (GatewayProcess* g : {refusing_, warning_}) {
    Patient(g);
    std::string doc_uid = Uid("46"), set_uid = Uid("47");
    auto r = PostIti41(g, Iti41(doc_uid, set_uid, kClosedType, "1.2.250.1.213.1.1.4.12"));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
    if (g == refusing_) {
      EXPECT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find("XDSRegistryMetadataError"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find(kWarning), std::string::npos) << r.body;
      EXPECT_EQ(Count(g, "DocumentReference", doc_uid), 0);
      EXPECT_EQ(Count(g, "List", set_uid), 0) << "nothing stored";
      continue;
    }
    EXPECT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("severity=\"" + std::string(kWarning) + "\""), std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("errorCode=\"XDSRegistryMetadataError\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
    EXPECT_EQ(Count(g, "DocumentReference", doc_uid), 1);
    EXPECT_EQ(Count(g, "List", set_uid), 1);
  }
  // A readable type through the same door: Success without any RegistryError.
  std::string doc_uid = Uid("46");
  auto fine = PostIti41(warning_, Iti41(doc_uid, Uid("47"), "11502-2", "2.16.840.1.113883.6.1"));
  EXPECT_NE(fine.body.find("ResponseStatusType:Success"), std::string::npos) << fine.body;
  EXPECT_EQ(fine.body.find("RegistryError "), std::string::npos) << fine.body;
  EXPECT_EQ(Count(warning_, "DocumentReference", doc_uid), 1);
}

// ITI-57: a new metadata version that gives a document a type nobody may read is refused
// (Failure, the type named, the entry unchanged) or accepted with a Warning beside Success.
TEST_F(DepositTypeTest, Iti57ToAClosedTypeIsAFailureOrASuccessWithAWarning) {
  for (GatewayProcess* g : {refusing_, warning_}) {
    std::string pid = Patient(g);
    std::string uid = Uid("48");
    // Every value an XDS DocumentEntry needs, so that the update is judged on its type only.
    auto created = client_.Request("POST", g->base_url() + "/fhir/DocumentReference", {kJson},
                                   XdsReadyDocumentReference(pid, uid));
    ASSERT_EQ(created.status, 201) << created.body;
    JsonValue doc = *ParseJson(created.body);
    auto entry = mapping::EntryFromDocumentReference(doc, "11^^^&1.1&ISO");
    ASSERT_TRUE(entry.ok()) << entry.status().message();
    xds::DocumentEntry next = *entry;
    next.lid = "urn:uuid:" + doc.GetString("id");
    next.id = "urn:uuid:" + NewUuid();
    next.status = std::string(xds::kStatusApproved);
    next.repository_unique_id = mapping::kRepositoryUniqueId;
    next.type_code.code = kClosedType;
    next.type_code.scheme = "1.2.250.1.213.1.1.4.12";
    auto r = client_.Request("POST", g->base_url() + "/xds/registry", {kSoap},
                             MetadataUpdateRequest(next, "1"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto now = client_.Get(g->base_url() + "/fhir/DocumentReference/" + doc.GetString("id"));
    ASSERT_EQ(now.status, 200) << now.body;
    if (g == refusing_) {
      EXPECT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find(kWarning), std::string::npos) << r.body;
      EXPECT_EQ(now.body.find(kClosedType), std::string::npos) << "unchanged: " << now.body;
      continue;
    }
    EXPECT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("severity=\"" + std::string(kWarning) + "\""), std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find(kClosedType), std::string::npos) << r.body;
    EXPECT_NE(now.body.find(kClosedType), std::string::npos) << "updated: " << now.body;
  }
}

TEST(DepositTypeSettingTest, UnknownRuleIsRefusedAtStart) {
  auto bad =
      RunCommand(std::string(CARNET_GATEWAY_BINARY) + " serve --deposit-unreadable-type maybe");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("expected one of refuse, warn, accept"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace carnet::testing
