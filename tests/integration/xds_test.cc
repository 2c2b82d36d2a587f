// XDS.b against the live gateway: the sample ITI-41 MTOM message byte for byte, then the
// same document through FHIR, ITI-18 and ITI-43; and the other way round, a document created
// through FHIR found by ITI-18 and retrieved by ITI-43.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kRepositoryId = "1.3.6.1.4.1.21367.2017.2.5.84";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sample(const std::string& name) {
  return ReadFile(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/" + name);
}

std::string FindDocumentsRequest(const std::string& patient_cx) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>
  <a:MessageID>urn:uuid:6e1b3f3e-1c57-4e4b-8f53-0a2b2c0d9e11</a:MessageID></s:Header>
 <s:Body>
  <query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
      xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
   <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
   <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>')" + patient_cx +
         R"('</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList>
      <rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
   </rim:AdhocQuery>
  </query:AdhocQueryRequest>
 </s:Body>
</s:Envelope>)";
}

std::string RetrieveRequest(const std::string& repository, const std::string& unique_id) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RetrieveDocumentSet</a:Action>
  <a:MessageID>urn:uuid:0fbfdced-6c01-4d09-a110-2201afedaa02</a:MessageID></s:Header>
 <s:Body><RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest>
  <RepositoryUniqueId>)" + repository + R"(</RepositoryUniqueId>
  <DocumentUniqueId>)" + unique_id + R"(</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest></s:Body>
</s:Envelope>)";
}

const char* kSoap = "Content-Type: application/soap+xml; charset=UTF-8";

class XdsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  std::string Url(const std::string& path) { return gateway_->base_url() + path; }
  // Creates (once) the record the sample messages deposit into: patient 11^^^&1.1&ISO.
  std::string SamplePatient() {
    auto r = client_.Request("POST", Url("/fhir/Patient"),
                             {"Content-Type: application/fhir+json", "If-None-Exist: identifier=urn:oid:1.1|11"},
                             R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"11"}]})");
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return ParseJson(r.body)->GetString("id");
  }
  static GatewayProcess* gateway_;
  HttpClient client_;
};
GatewayProcess* XdsTest::gateway_ = nullptr;

TEST_F(XdsTest, SampleMtomSubmissionIsOneDossierDocument) {
  std::string pid = SamplePatient();
  const std::string doc_id = "102439f8-5881-4b36-8b42-ef73ae560c04";
  if (client_.Get(Url("/fhir/DocumentReference/" + doc_id)).status != 404)
    GTEST_SKIP() << "this database already holds the sample document (an earlier run): use a fresh "
                    "cluster, as ./carnet test does";
  // The raw HTTP request of the sample, sent byte for byte: its Content-Type, its body.
  std::string raw = Sample("http-mtom-pnr.txt");
  size_t head_end = raw.find("\n\n");
  ASSERT_NE(head_end, std::string::npos);
  std::string head = raw.substr(0, head_end), body = raw.substr(head_end + 2);
  std::string content_type;
  std::istringstream lines(head);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("Content-Type:", 0) == 0) content_type = line;
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\r'))
    content_type.pop_back();
  auto r = client_.Request("POST", Url("/xds/repository"), {content_type}, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"), std::string::npos);

  // The same document through FHIR.
  auto dr = client_.Get(Url("/fhir/DocumentReference/" + doc_id));
  ASSERT_EQ(dr.status, 200) << dr.body;
  JsonValue doc = *ParseJson(dr.body);
  EXPECT_EQ(doc.Find("masterIdentifier")->GetString("value"), "urn:oid:1.42.20101011223601.2");
  EXPECT_EQ(doc.Find("subject")->GetString("reference"), "Patient/" + pid);
  std::string url = doc.Find("content")->items()[0].Find("attachment")->GetString("url");
  ASSERT_EQ(url.rfind("Binary/", 0), 0u) << url;
  auto bytes = client_.Get(Url("/fhir/" + url));
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body.rfind("Four score and seven years ago", 0), 0u);
  EXPECT_EQ(bytes.headers["content-type"], "text/plain");

  // ITI-18 finds it; ITI-43 returns its bytes.
  auto q = client_.Request("POST", Url("/xds/registry"), {kSoap}, FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_NE(q.body.find("ResponseStatusType:Success"), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("1.42.20101011223601.2"), std::string::npos) << q.body;
  auto ret = client_.Request("POST", Url("/xds/repository"), {kSoap},
                             RetrieveRequest(kRepositoryId, "1.42.20101011223601.2"));
  ASSERT_EQ(ret.status, 200) << ret.body;
  EXPECT_NE(ret.headers["content-type"].find("multipart/related"), std::string::npos);
  EXPECT_NE(ret.body.find("Four score and seven years ago"), std::string::npos);

  // The same submission again: refused, nothing new stored.
  auto again = client_.Request("POST", Url("/xds/repository"), {content_type}, body);
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("ResponseStatusType:Failure"), std::string::npos) << again.body;
}

TEST_F(XdsTest, FhirDocumentIsFoundAndRetrievedThroughXds) {
  std::string pid = SamplePatient();
  std::string content = "Compte rendu de biologie " + RandomHex(4);
  auto bin = client_.Request("POST", Url("/fhir/Binary"), {"Content-Type: text/plain"}, content);
  ASSERT_EQ(bin.status, 201);
  std::string bin_id = ParseJson(bin.body)->GetString("id");
  std::string uid = "1.2.250.1.999.7." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  auto dr = client_.Request("POST", Url("/fhir/DocumentReference"), {"Content-Type: application/fhir+json"},
                            R"({"resourceType":"DocumentReference","masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
                                uid + R"("},"status":"current","type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "subject":{"reference":"Patient/)" + pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" + bin_id + R"(","creation":"2024-05-02T08:00:00Z"}}]})");
  ASSERT_EQ(dr.status, 201) << dr.body;
  auto q = client_.Request("POST", Url("/xds/registry"), {kSoap}, FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  ASSERT_EQ(q.status, 200);
  EXPECT_NE(q.body.find(uid), std::string::npos) << q.body;
  auto ret = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest(kRepositoryId, uid));
  ASSERT_EQ(ret.status, 200);
  EXPECT_NE(ret.body.find(content), std::string::npos) << ret.body.substr(0, 2000);
  // An unknown document and a foreign repository.
  auto missing = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest(kRepositoryId, "1.2.3.4.5"));
  EXPECT_NE(missing.body.find("XDSDocumentUniqueIdError"), std::string::npos);
  auto foreign = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest("1.9.9", uid));
  EXPECT_NE(foreign.body.find("XDSUnknownRepositoryId"), std::string::npos);
}

TEST_F(XdsTest, MalformedMessagesGetSoapFaults) {
  auto not_xml = client_.Request("POST", Url("/xds/registry"), {kSoap}, "this is not xml");
  EXPECT_EQ(not_xml.status, 400);
  EXPECT_NE(not_xml.body.find("Fault"), std::string::npos);
  auto doctype = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                 R"(<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>)");
  EXPECT_EQ(doctype.status, 400);
  EXPECT_EQ(doctype.body.find("root:"), std::string::npos);
  // ITI-18 sent to the repository is refused.
  auto wrong = client_.Request("POST", Url("/xds/repository"), {kSoap}, FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  EXPECT_NE(wrong.body.find("Fault"), std::string::npos);
  // Unknown patient for a submission.
  std::string pnr = Sample("soap-pnr.xml");
  auto unknown = client_.Request("POST", Url("/xds/repository"), {kSoap}, pnr);
  ASSERT_EQ(unknown.status, 200) << unknown.body;
  EXPECT_NE(unknown.body.find("ResponseStatusType:Failure"), std::string::npos) << unknown.body;
}

}  // namespace
}  // namespace carnet::testing
