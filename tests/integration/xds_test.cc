// XDS.b against the live gateway: the sample ITI-41 MTOM message byte for byte, then the
// same document through FHIR, ITI-18 and ITI-43; and the other way round, a document created
// through FHIR found by ITI-18 and retrieved by ITI-43.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "mapping/document_entry.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"
#include "mapping/xds_metadata.h"
#include "xds/requests.h"
#include "xds/mtom.h"
#include <pugixml.hpp>

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
  // One audit event for the submission (issue 20): its Import names the document and its
  // content; neither has an event of its own (the refused read above is the check's own).
  {
    auto db = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto events = (*db)->RunDynamic(
        "SELECT content FROM audit_event WHERE strpos(content, $1) > 0 AND outcome = '0'",
        {storage::SqlParam::Text("DocumentReference/" + doc_id)});
    ASSERT_TRUE(events.ok()) << events.status().message();
    std::string all;
    for (int i = 0; i < events->rows(); ++i) all += events->GetString(i, 0) + "\n\n";
    ASSERT_EQ(events->rows(), 1) << all;
    std::string event = events->GetString(0, 0);
    EXPECT_NE(event.find("\"110107\""), std::string::npos) << event.substr(0, 1500);
    EXPECT_NE(event.find("\"Binary/"), std::string::npos) << event.substr(0, 1500);
  }

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
  // The retrieve's audit event names the DocumentReference, so that the patient's "who
  // accessed this document" (AuditEvent?entity=DocumentReference/...) finds it.
  {
    auto db = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto events = (*db)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE strpos(content, $1) > 0 AND "
        "strpos(content, '\"ITI-43\"') > 0",
        {storage::SqlParam::Text("\"DocumentReference/" + doc_id + "\"")});
    ASSERT_TRUE(events.ok()) << events.status().message();
    EXPECT_EQ(events->GetInt(0, 0), 1);
  }

  // The same submission again (a retry after a timeout): answered Success, nothing new
  // stored (issue 19; xds_resend_test.cc covers changed content and concurrent resends).
  auto again = client_.Request("POST", Url("/xds/repository"), {content_type}, body);
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("ResponseStatusType:Success"), std::string::npos) << again.body;
  auto q2 = client_.Request("POST", Url("/xds/registry"), {kSoap},
                            FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  size_t copies = 0;
  for (size_t at = q2.body.find("value=\"1.42.20101011223601.2\""); at != std::string::npos;
       at = q2.body.find("value=\"1.42.20101011223601.2\"", at + 1))
    ++copies;
  EXPECT_EQ(copies, 1u) << q2.body;
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

std::string SoapEnvelope(const std::string& action, const std::string& body) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">)" + action + R"(</a:Action>
  <a:MessageID>urn:uuid:)" + NewUuid() + R"(</a:MessageID></s:Header><s:Body>)" + body + "</s:Body></s:Envelope>";
}

// ITI-57: a new metadata version masks the document (French visibility code MASQUE_PS as an
// extra confidentialityCode); a stale PreviousVersion is refused; an availability status
// change deprecates it; ITI-62 removes it. Each step is visible through FHIR.
TEST_F(XdsTest, MetadataUpdateAndDelete) {
  std::string pid = SamplePatient();
  std::string uid = "1.2.250.1.999.8." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  auto dr = client_.Request("POST", Url("/fhir/DocumentReference"), {"Content-Type: application/fhir+json"},
                            XdsReadyDocumentReference(pid, uid));
  ASSERT_EQ(dr.status, 201) << dr.body;
  JsonValue doc = *ParseJson(dr.body);
  std::string id = doc.GetString("id");

  auto entry = mapping::EntryFromDocumentReference(doc, "11^^^&1.1&ISO");
  ASSERT_TRUE(entry.ok());
  auto update_with = [&](const std::string& previous_version, const std::string& lid = "") {
    xds::RegistryObjectList list;
    xds::DocumentEntry next = *entry;
    next.lid = "urn:uuid:" + (lid.empty() ? id : lid);
    next.id = "urn:uuid:" + NewUuid();
    next.status = std::string(xds::kStatusApproved);
    next.repository_unique_id = kRepositoryId;
    xds::Code masked;
    masked.code = "MASQUE_PS";
    masked.scheme = "1.2.250.1.213.1.1.4.13";
    masked.display = "Masque aux professionnels de sante";
    next.confidentiality_codes.push_back(masked);
    list.documents.push_back(next);
    xds::SubmissionSet set;
    set.id = "SubmissionSet01";
    set.unique_id = "1.2.250.1.999.9." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    set.patient_id = "11^^^&1.1&ISO";
    set.source_id = "1.2.250.1.999";
    set.submission_time = "20240601120000";
    set.content_type_code = {"11490-0", "2.16.840.1.113883.6.1", "Discharge", ""};
    xds::Author author;
    author.person = "^Martin^Paul^^^";
    set.authors.push_back(author);
    list.submission_sets.push_back(set);
    xds::Association member;
    member.id = "urn:uuid:" + NewUuid();
    member.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kHasMember));
    member.type = xds::AssociationType::kHasMember;
    member.source = "SubmissionSet01";
    member.target = next.id;
    member.submission_set_status = "Original";
    member.previous_version = previous_version;
    list.associations.push_back(member);
    return client_.Request("POST", Url("/xds/registry"), {kSoap},
                           SoapEnvelope("urn:ihe:iti:2010:UpdateDocumentSet", xds::WriteSubmitObjectsRequest(list)));
  };
  // Another deposit source may not change what it did not deposit, and may not tell it from a
  // document that does not exist (nor learn its version): nothing changes.
  client_.SetBearer(Token({"--actor", "system", "--id", "other-lab", "--client-id", "other-lab"}));
  auto foreign = update_with("1");
  auto foreign_stale = update_with("7");
  std::string nobody = NewUuid();
  auto unknown = update_with("1", nobody);
  std::string remove_hidden = R"(<lcm:RemoveObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
    xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:ObjectRefList><rim:ObjectRef id="urn:uuid:)" + id +
                              R"("/></rim:ObjectRefList></lcm:RemoveObjectsRequest>)";
  std::string remove_unknown = R"(<lcm:RemoveObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
    xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:ObjectRefList><rim:ObjectRef id="urn:uuid:)" + nobody +
                               R"("/></rim:ObjectRefList></lcm:RemoveObjectsRequest>)";
  auto removed_hidden = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                        SoapEnvelope("urn:ihe:iti:2010:DeleteDocumentSet", remove_hidden));
  auto removed_unknown = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                         SoapEnvelope("urn:ihe:iti:2010:DeleteDocumentSet", remove_unknown));
  client_.SetBearer(SuiteToken());
  ASSERT_EQ(foreign.status, 200) << foreign.body;
  // The same error code and text, the ids aside.
  auto codes = [](std::string body, const std::string& own_id) {
    for (size_t p = body.find(own_id); p != std::string::npos; p = body.find(own_id)) body.replace(p, own_id.size(), "ID");
    std::string out;
    for (size_t p = body.find("errorCode=\""); p != std::string::npos; p = body.find("errorCode=\"", p + 1))
      out += body.substr(p, body.find('"', p + 11) - p) + " ";
    for (size_t p = body.find("codeContext=\""); p != std::string::npos; p = body.find("codeContext=\"", p + 1))
      out += body.substr(p, body.find('"', p + 13) - p) + " ";
    return out;
  };
  EXPECT_NE(codes(foreign.body, id), "") << foreign.body;
  EXPECT_EQ(codes(foreign.body, id), codes(unknown.body, nobody)) << foreign.body << "\n" << unknown.body;
  EXPECT_EQ(codes(foreign_stale.body, id), codes(unknown.body, nobody)) << foreign_stale.body;
  EXPECT_EQ(foreign_stale.body.find("XDSMetadataVersionError"), std::string::npos) << foreign_stale.body;
  EXPECT_NE(codes(removed_hidden.body, id), "") << removed_hidden.body;
  EXPECT_EQ(codes(removed_hidden.body, id), codes(removed_unknown.body, nobody)) << removed_hidden.body;
  EXPECT_EQ(client_.Get(Url("/fhir/DocumentReference/" + id)).headers["etag"], "W/\"1\"");
  auto stale = update_with("7");
  ASSERT_EQ(stale.status, 200) << stale.body;
  EXPECT_NE(stale.body.find("XDSMetadataVersionError"), std::string::npos) << stale.body;
  auto masked = update_with("1");
  ASSERT_EQ(masked.status, 200) << masked.body;
  EXPECT_NE(masked.body.find("ResponseStatusType:Success"), std::string::npos) << masked.body;
  auto after = client_.Get(Url("/fhir/DocumentReference/" + id));
  EXPECT_NE(after.body.find("MASQUE_PS"), std::string::npos) << after.body;
  EXPECT_EQ(after.headers["etag"], "W/\"2\"");

  // Deprecate it (UpdateAvailabilityStatus), then remove it (ITI-62).
  std::string status_change = R"(<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
   xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
   <rim:RegistryPackage id="SubmissionSet01" objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage">
    <rim:Slot name="submissionTime"><rim:ValueList><rim:Value>20240601120000</rim:Value></rim:ValueList></rim:Slot>
    <rim:Classification id="c1" classificationScheme="urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d" classifiedObject="SubmissionSet01" nodeRepresentation="">
      <rim:Slot name="authorPerson"><rim:ValueList><rim:Value>^Martin^Paul^^^</rim:Value></rim:ValueList></rim:Slot></rim:Classification>
    <rim:Classification id="c2" classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" nodeRepresentation="11490-0">
      <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.840.1.113883.6.1</rim:Value></rim:ValueList></rim:Slot>
      <rim:Name><rim:LocalizedString value="Discharge"/></rim:Name></rim:Classification>
    <rim:ExternalIdentifier id="e1" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" registryObject="SubmissionSet01" value="1.2.250.1.999.10.)" +
                              std::to_string(std::stoll(RandomHex(5), nullptr, 16)) + R"(">
      <rim:Name><rim:LocalizedString value="XDSSubmissionSet.uniqueId"/></rim:Name></rim:ExternalIdentifier>
    <rim:ExternalIdentifier id="e2" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" registryObject="SubmissionSet01" value="1.2.250.1.999">
      <rim:Name><rim:LocalizedString value="XDSSubmissionSet.sourceId"/></rim:Name></rim:ExternalIdentifier>
    <rim:ExternalIdentifier id="e3" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet01" value="11^^^&amp;1.1&amp;ISO">
      <rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name></rim:ExternalIdentifier>
   </rim:RegistryPackage>
   <rim:Classification id="c3" classifiedObject="SubmissionSet01" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
   <rim:Association id="a1" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" sourceObject="SubmissionSet01" targetObject="urn:uuid:)" +
                              id + R"(">
    <rim:Slot name="OriginalStatus"><rim:ValueList><rim:Value>urn:oasis:names:tc:ebxml-regrep:StatusType:Approved</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="NewStatus"><rim:ValueList><rim:Value>urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated</rim:Value></rim:ValueList></rim:Slot>
   </rim:Association></rim:RegistryObjectList></lcm:SubmitObjectsRequest>)";
  auto deprecated = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                    SoapEnvelope("urn:ihe:iti:2010:UpdateDocumentSet", status_change));
  ASSERT_EQ(deprecated.status, 200);
  EXPECT_NE(deprecated.body.find("ResponseStatusType:Success"), std::string::npos) << deprecated.body;
  EXPECT_EQ(ParseJson(client_.Get(Url("/fhir/DocumentReference/" + id)).body)->GetString("status"), "superseded");

  std::string remove = R"(<lcm:RemoveObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
    xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:ObjectRefList><rim:ObjectRef id="urn:uuid:)" + id +
                       R"("/></rim:ObjectRefList></lcm:RemoveObjectsRequest>)";
  auto removed = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                 SoapEnvelope("urn:ihe:iti:2010:DeleteDocumentSet", remove));
  ASSERT_EQ(removed.status, 200);
  EXPECT_NE(removed.body.find("ResponseStatusType:Success"), std::string::npos) << removed.body;
  EXPECT_EQ(client_.Get(Url("/fhir/DocumentReference/" + id)).status, 410);
  auto again = client_.Request("POST", Url("/xds/registry"), {kSoap},
                               SoapEnvelope("urn:ihe:iti:2010:DeleteDocumentSet", remove));
  EXPECT_NE(again.body.find("UnresolvedReferenceException"), std::string::npos) << again.body;
}

std::string AdhocQuery(const std::string& id, const std::vector<std::pair<std::string, std::string>>& slots,
                       const std::string& return_type = "LeafClass") {
  std::string body = R"(<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
      xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType=")" +
                     return_type + R"("/><rim:AdhocQuery id=")" + id + R"(">)";
  for (const auto& [name, value] : slots)
    body += "<rim:Slot name=\"" + name + "\"><rim:ValueList><rim:Value>" + value + "</rim:Value></rim:ValueList></rim:Slot>";
  return SoapEnvelope("urn:ihe:iti:2007:RegistryStoredQuery", body + "</rim:AdhocQuery></query:AdhocQueryRequest>");
}

// An ITI-41 body built from the metadata of the pnr.xml sample, with fresh uniqueIds, for the
// sample patient, the document inline in base64, optionally replacing an existing entry.
std::string ProvideAndRegister(const std::string& content, const std::string& doc_uid, const std::string& set_uid,
                               const std::string& replaces = "") {
  pugi::xml_document doc;
  doc.load_string(Sample("pnr.xml").c_str());
  auto sub = xds::ReadSubmissionElement(doc.document_element(), nullptr);
  EXPECT_TRUE(sub.ok()) << sub.status().ToString();
  xds::RegistryObjectList m = sub->metadata;
  m.documents.resize(1);  // one document is enough here
  std::erase_if(m.associations, [&](const xds::Association& a) {
    return !m.Contains(a.source) || !m.Contains(a.target);
  });
  m.documents[0].unique_id = doc_uid;
  m.documents[0].patient_id = "11^^^&1.1&ISO";
  m.documents[0].hash.clear();
  m.documents[0].size.clear();
  m.submission_sets[0].unique_id = set_uid;
  m.submission_sets[0].patient_id = "11^^^&1.1&ISO";
  if (!replaces.empty()) {
    xds::Association rplc;
    rplc.id = "urn:uuid:" + NewUuid();
    rplc.type = xds::AssociationType::kReplace;
    rplc.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kReplace));
    rplc.source = m.documents[0].id;
    rplc.target = replaces;
    m.associations.push_back(rplc);
  }
  std::string body = R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
                     xds::WriteSubmitObjectsRequest(m) + "<xdsb:Document id=\"" + m.documents[0].id + "\">" +
                     Base64Encode(content) + "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
  return SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body);
}

// Submission sets, their contents, associations and replacement through the stored queries.
TEST_F(XdsTest, StoredQueriesOverSubmissionSetsAndAssociations) {
  SamplePatient();
  auto uid = [] { return "1.2.250.1.999.11." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  std::string doc1 = uid(), set1 = uid(), doc2 = uid(), set2 = uid();
  auto first = client_.Request("POST", Url("/xds/repository"), {kSoap}, ProvideAndRegister("version one", doc1, set1));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_NE(first.body.find("ResponseStatusType:Success"), std::string::npos) << first.body;
  auto found = client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + doc1));
  JsonValue bundle = *ParseJson(found.body);
  ASSERT_TRUE(bundle.Find("entry") && bundle.Find("entry")->items().size() == 1) << found.body;
  std::string uuid1 = "urn:uuid:" + bundle.Find("entry")->items()[0].Find("resource")->GetString("id");

  // The SubmissionSet is an MHD List in FHIR, and a registry object in XDS.
  auto lists = client_.Get(Url("/fhir/List?identifier=urn:oid:" + set1));
  EXPECT_NE(lists.body.find("submissionset"), std::string::npos) << lists.body;
  const std::string pid = "'11^^^&amp;1.1&amp;ISO'";
  const std::string approved = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
  auto sets = client_.Request("POST", Url("/xds/registry"), {kSoap},
                              AdhocQuery("urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9",
                                         {{"$XDSSubmissionSetPatientId", pid}, {"$XDSSubmissionSetStatus", approved}}));
  EXPECT_NE(sets.body.find(set1), std::string::npos) << sets.body;
  auto contents = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                  AdhocQuery("urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83",
                                             {{"$XDSSubmissionSetUniqueId", "'" + set1 + "'"}}));
  EXPECT_NE(contents.body.find(set1), std::string::npos) << contents.body;
  EXPECT_NE(contents.body.find(doc1), std::string::npos) << contents.body;
  EXPECT_NE(contents.body.find("AssociationType:HasMember"), std::string::npos) << contents.body;
  auto with_assocs = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                     AdhocQuery("urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a",
                                                {{"$XDSDocumentEntryUniqueId", "('" + doc1 + "')"}}));
  EXPECT_NE(with_assocs.body.find(doc1), std::string::npos) << "GetDocumentsAndAssociations: " << with_assocs.body.substr(0, 600);
  EXPECT_NE(with_assocs.body.find("AssociationType:HasMember"), std::string::npos) << with_assocs.body.substr(0, 600);
  auto refs = client_.Request("POST", Url("/xds/registry"), {kSoap},
                              AdhocQuery("urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a",
                                         {{"$XDSDocumentEntryUniqueId", "('" + doc1 + "')"}}, "ObjectRef"));
  EXPECT_NE(refs.body.find("ObjectRef"), std::string::npos) << refs.body.substr(0, 600);
  EXPECT_EQ(refs.body.find("ExtrinsicObject"), std::string::npos) << "ObjectRef answers hold references only";
  auto owning = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                AdhocQuery("urn:uuid:51224314-5390-4169-9b91-b1980040715a", {{"$uuid", "('" + uuid1 + "')"}}));
  EXPECT_NE(owning.body.find(set1), std::string::npos) << owning.body;

  // A replacement deprecates the first version and links both.
  auto second = client_.Request("POST", Url("/xds/repository"), {kSoap},
                                ProvideAndRegister("version two", doc2, set2, uuid1));
  ASSERT_NE(second.body.find("ResponseStatusType:Success"), std::string::npos) << second.body;
  auto related = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                 AdhocQuery("urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6",
                                            {{"$XDSDocumentEntryUniqueId", "'" + doc1 + "'"},
                                             {"$AssociationTypes", "('urn:ihe:iti:2007:AssociationType:RPLC')"}}));
  EXPECT_NE(related.body.find(doc2), std::string::npos) << related.body;
  EXPECT_NE(related.body.find("AssociationType:RPLC"), std::string::npos) << related.body;
  EXPECT_NE(related.body.find("StatusType:Deprecated"), std::string::npos) << related.body;
  auto all = client_.Request("POST", Url("/xds/registry"), {kSoap},
                             AdhocQuery("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3",
                                        {{"$patientId", pid},
                                         {"$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"}},
                                        "ObjectRef"));
  EXPECT_NE(all.body.find("ResponseStatusType:Success"), std::string::npos) << all.body;
  EXPECT_NE(all.body.find(uuid1), std::string::npos) << all.body;
  // The first version is superseded in FHIR too.
  EXPECT_EQ(ParseJson(client_.Get(Url("/fhir/DocumentReference/" + uuid1.substr(9))).body)->GetString("status"),
            "superseded");
  // An unknown stored query id.
  auto unknown = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                 AdhocQuery("urn:uuid:00000000-0000-0000-0000-000000000000", {}));
  EXPECT_NE(unknown.body.find("XDSUnknownStoredQuery"), std::string::npos) << unknown.body;
}

// ITI-41 over MTOM with two documents (1 byte and 10 MiB, sent chunked): both stored and
// retrievable; the same with a wrong hash on the second: nothing stored.
TEST_F(XdsTest, MtomSubmissionsAreAllOrNothing) {
  SamplePatient();
  auto uid = [] { return "1.2.250.1.999.12." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  auto build = [&](const std::string& doc1, const std::string& doc2, const std::string& set, bool bad_hash) {
    pugi::xml_document doc;
    doc.load_string(Sample("pnr.xml").c_str());
    auto sub = xds::ReadSubmissionElement(doc.document_element(), nullptr);
    xds::RegistryObjectList m = sub->metadata;
    m.documents[0].unique_id = doc1;
    m.documents[1].unique_id = doc2;
    for (auto& d : m.documents) {
      d.patient_id = "11^^^&1.1&ISO";
      d.hash.clear();
      d.size.clear();
    }
    m.documents[0].reference_id_list = {"ORDER-" + doc1 + "^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order"};
    if (bad_hash) m.documents[1].hash = "0000000000000000000000000000000000000000";
    m.submission_sets[0].unique_id = set;
    m.submission_sets[0].patient_id = "11^^^&1.1&ISO";
    std::string body = R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:xop="http://www.w3.org/2004/08/xop/include">)" +
                       xds::WriteSubmitObjectsRequest(m);
    body += "<xdsb:Document id=\"" + m.documents[0].id + "\"><xop:Include href=\"cid:doc1@carnet.test\"/></xdsb:Document>";
    body += "<xdsb:Document id=\"" + m.documents[1].id + "\"><xop:Include href=\"cid:doc2@carnet.test\"/></xdsb:Document>";
    body += "</xdsb:ProvideAndRegisterDocumentSetRequest>";
    std::string envelope = SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body);
    std::vector<xds::OutboundPart> parts = {{"doc1@carnet.test", "text/plain", "A"},
                                            {"doc2@carnet.test", "text/plain", std::string(10u << 20, 'z')}};
    return xds::WriteMtom(envelope, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", parts);
  };
  // A wrong hash on the second document: the whole submission fails, nothing is stored.
  std::string bad1 = uid(), bad2 = uid();
  auto bad = build(bad1, bad2, uid(), true);
  auto refused = client_.Request("POST", Url("/xds/repository"), {"Content-Type: " + bad.content_type}, bad.body, 60000);
  ASSERT_EQ(refused.status, 200) << refused.body.substr(0, 500);
  EXPECT_NE(refused.body.find("XDSRepositoryMetadataError"), std::string::npos) << refused.body.substr(0, 2000);
  EXPECT_NE(client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + bad1)).body.find("\"total\":0"),
            std::string::npos);

  std::string doc1 = uid(), doc2 = uid();
  auto good = build(doc1, doc2, uid(), false);
  // Sent chunked, as streaming SOAP stacks do: counted against the limit as it arrives, and
  // stored like any other.
  auto stored = client_.Request("POST", Url("/xds/repository"),
                                {"Content-Type: " + good.content_type, "Transfer-Encoding: chunked"},
                                good.body, 60000);
  ASSERT_EQ(stored.status, 200);
  EXPECT_NE(stored.body.find("ResponseStatusType:Success"), std::string::npos) << stored.body.substr(0, 2000);
  auto one = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest(kRepositoryId, doc1));
  EXPECT_NE(one.body.find("ResponseStatusType:Success"), std::string::npos);
  auto big = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest(kRepositoryId, doc2), 60000);
  EXPECT_NE(big.body.find(std::string(1u << 20, 'z')), std::string::npos);
  EXPECT_GT(big.body.size(), 10u << 20);
  // FindDocumentsByReferenceId finds the first document by its order reference.
  auto byref = client_.Request("POST", Url("/xds/registry"), {kSoap},
                               AdhocQuery("urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492",
                                          {{"$XDSDocumentEntryPatientId", "'11^^^&amp;1.1&amp;ISO'"},
                                           {"$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"},
                                           {"$XDSDocumentEntryReferenceIdList", "('ORDER-" + doc1 + "^^^&amp;1.2.3&amp;ISO^urn:ihe:iti:xds:2013:order')"}}));
  EXPECT_NE(byref.body.find(doc1), std::string::npos) << byref.body.substr(0, 3000);
  EXPECT_EQ(byref.body.find(doc2), std::string::npos);
}

// IHE MHD ITI-65: a transaction Bundle with a SubmissionSet List, a DocumentReference and its
// Binary is one registry submission: ITI-18 finds the set and its document, ITI-43 the bytes.
TEST_F(XdsTest, MhdProvideDocumentBundleIsAnXdsSubmission) {
  std::string pid = SamplePatient();
  std::string doc_uid = "1.2.250.1.999.13." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  std::string set_uid = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  std::string content = "MHD document " + RandomHex(4);
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction",
   "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]},
   "entry":[
    {"fullUrl":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000001","resource":{"resourceType":"List",
      "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"]},
      "identifier":[{"use":"usual","system":"urn:ietf:rfc:3986","value":"urn:oid:)" + set_uid + R"("}],
      "status":"current","mode":"working",
      "code":{"coding":[{"system":"https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes","code":"submissionset"}]},
      "subject":{"reference":"Patient/)" + pid + R"("},"date":"2024-06-01T10:00:00Z",
      "entry":[{"item":{"reference":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000002"}}]},
     "request":{"method":"POST","url":"List"}},
    {"fullUrl":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000002","resource":{"resourceType":"DocumentReference",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + doc_uid + R"("},
      "status":"current","type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "subject":{"reference":"Patient/)" + pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","url":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000003"}}]},
     "request":{"method":"POST","url":"DocumentReference"}},
    {"fullUrl":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000003","resource":{"resourceType":"Binary",
      "contentType":"text/plain","data":")" + Base64Encode(content) + R"("},
     "request":{"method":"POST","url":"Binary"}}]})";
  auto r = client_.Request("POST", Url("/fhir"), {"Content-Type: application/fhir+json"}, bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  auto contents = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                  AdhocQuery("urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83",
                                             {{"$XDSSubmissionSetUniqueId", "'" + set_uid + "'"}}));
  EXPECT_NE(contents.body.find(set_uid), std::string::npos) << contents.body;
  EXPECT_NE(contents.body.find(doc_uid), std::string::npos) << contents.body;
  EXPECT_NE(contents.body.find("AssociationType:HasMember"), std::string::npos) << contents.body;
  auto ret = client_.Request("POST", Url("/xds/repository"), {kSoap}, RetrieveRequest(kRepositoryId, doc_uid));
  EXPECT_NE(ret.body.find(content), std::string::npos) << ret.body.substr(0, 2000);

  // The MHD rules, each broken once: 422 naming the place, nothing written.
  auto broken = [&](const std::string& from, const std::string& to) {
    std::string b = bundle;
    size_t at = b.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) b.replace(at, from.size(), to);
    // A fresh uniqueId so that a duplicate is never what refuses it.
    std::string fresh = "1.2.250.1.999.16." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    for (size_t p = b.find(doc_uid); p != std::string::npos; p = b.find(doc_uid, p)) b.replace(p, doc_uid.size(), fresh);
    for (size_t p = b.find(set_uid); p != std::string::npos; p = b.find(set_uid, p)) b.replace(p, set_uid.size(), fresh + "1");
    auto res = client_.Request("POST", Url("/fhir"), {"Content-Type: application/fhir+json"}, b);
    EXPECT_EQ(res.status, 422) << res.body.substr(0, 600);
    EXPECT_NE(res.body.find(R"("text":"XDSRegistryMetadataError")"), std::string::npos) << res.body.substr(0, 600);
    EXPECT_EQ(client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + fresh)).body.find("\"entry\""),
              std::string::npos) << "nothing stored";
    return res.body;
  };
  std::string other_patient = SamplePatient() == pid ? "Patient/someone-else" : "Patient/x";
  EXPECT_NE(broken(R"("subject":{"reference":"Patient/)" + pid + R"("},
      "content")", R"("subject":{"reference":")" + other_patient + R"("},
      "content")").find("is not the SubmissionSet's"), std::string::npos);
  EXPECT_NE(broken(R"("masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + doc_uid + R"("},)", "")
                .find("masterIdentifier"), std::string::npos);
  EXPECT_NE(broken(R"("url":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000003")", R"("url":"urn:uuid:nowhere")")
                .find("names no Binary"), std::string::npos);
  EXPECT_NE(broken(R"("entry":[{"item":{"reference":"urn:uuid:a1a1a1a1-0000-4000-8000-000000000002"}}])", R"("entry":[])")
                .find("is not an entry of the SubmissionSet"), std::string::npos);
  EXPECT_NE(broken("IHE.MHD.Minimal.ProvideBundle", "IHE.MHD.Comprehensive.ProvideBundle").find("Comprehensive"),
            std::string::npos);
}

// MHD UnContained Comprehensive: the DocumentReference references its author (a
// PractitionerRole of the Bundle, with its Practitioner and Organization) and authenticator
// instead of containing them; the XDS view carries them as values (authorPerson,
// authorInstitution, authorRole, legalAuthenticator) and ITI-18 finds the document by author.
// The contained Comprehensive profile refuses such references.
TEST_F(XdsTest, MhdUnContainedAuthorsBecomeXdsAuthors) {
  std::string pid = SamplePatient();
  std::string doc_uid = "1.2.250.1.999.13." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  std::string set_uid = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  std::string family = "LILAS" + RandomHex(3);
  for (auto& c : family) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto bundle_for = [&](const std::string& profile) {
    return R"({"resourceType":"Bundle","type":"transaction",
   "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/)" + profile + R"("]},
   "entry":[
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000001","resource":{"resourceType":"List",
      "extension":[{"url":"https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId","valueIdentifier":{"value":"urn:oid:1.2.250.1.999"}},
                   {"url":"https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType","valueCodeableConcept":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}}],
      "identifier":[{"use":"usual","system":"urn:ietf:rfc:3986","value":"urn:oid:)" + set_uid + R"("}],
      "status":"current","mode":"working",
      "code":{"coding":[{"system":"https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes","code":"submissionset"}]},
      "subject":{"reference":"Patient/)" + pid + R"("},"date":"2024-06-01T10:00:00Z",
      "entry":[{"item":{"reference":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000002"}}]},
     "request":{"method":"POST","url":"List"}},
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000002","resource":{"resourceType":"DocumentReference",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + doc_uid + R"("},
      "status":"current","type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
      "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}],
      "subject":{"reference":"Patient/)" + pid + R"("},
      "author":[{"reference":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000006"}],
      "authenticator":{"reference":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000004"},
      "context":{"facilityType":{"coding":[{"system":"urn:oid:1.2.250.1.71.4.2.4","code":"SA07"}]},
                 "practiceSetting":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.9","code":"AMBULATOIRE"}]}},
      "content":[{"attachment":{"contentType":"text/plain","creation":"2024-06-01T09:00:00Z","url":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000003"},
                  "format":{"system":"urn:oid:1.3.6.1.4.1.19376.1.2.3","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]},
     "request":{"method":"POST","url":"DocumentReference"}},
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000003","resource":{"resourceType":"Binary",
      "contentType":"text/plain","data":")" + Base64Encode("UnContained " + doc_uid) + R"("},
     "request":{"method":"POST","url":"Binary"}},
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000004","resource":{"resourceType":"Practitioner",
      "identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810001234567"}],
      "name":[{"family":")" + family + R"(","given":["Jeanne"]}]},
     "request":{"method":"POST","url":"Practitioner"}},
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000005","resource":{"resourceType":"Organization",
      "identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.2","value":"330000001"}],"name":"Clinique des Lilas"},
     "request":{"method":"POST","url":"Organization"}},
    {"fullUrl":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000006","resource":{"resourceType":"PractitionerRole",
      "practitioner":{"reference":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000004"},
      "organization":{"reference":"urn:uuid:b2b2b2b2-0000-4000-8000-000000000005"},
      "code":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.6","code":"10","display":"Medecin"}]}],
      "specialty":[{"coding":[{"system":"urn:oid:1.2.250.1.71.4.2.5","code":"SM26","display":"Qualifie en medecine generale"}]}]},
     "request":{"method":"POST","url":"PractitionerRole"}}]})";
  };
  auto contained = client_.Request("POST", Url("/fhir"), {"Content-Type: application/fhir+json"},
                                   bundle_for("IHE.MHD.Comprehensive.ProvideBundle"));
  EXPECT_EQ(contained.status, 422) << contained.body.substr(0, 800);
  EXPECT_NE(contained.body.find("as a contained resource"), std::string::npos) << contained.body.substr(0, 800);
  EXPECT_NE(contained.body.find(".author[0]"), std::string::npos) << contained.body.substr(0, 800);

  auto r = client_.Request("POST", Url("/fhir"), {"Content-Type: application/fhir+json"},
                           bundle_for("IHE.MHD.UnContained.Comprehensive.ProvideBundle"));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 1500);
  auto got = client_.Request("POST", Url("/xds/registry"), {kSoap},
                             AdhocQuery("urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
                                        {{"$XDSDocumentEntryUniqueId", "('" + doc_uid + "')"}}));
  ASSERT_NE(got.body.find(doc_uid), std::string::npos) << got.body.substr(0, 1500);
  EXPECT_NE(got.body.find("810001234567^" + family + "^Jeanne"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find("Clinique des Lilas"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find("SM26^Qualifie en medecine generale^1.2.250.1.71.4.2.5"), std::string::npos);
  EXPECT_NE(got.body.find("\"legalAuthenticator\""), std::string::npos);
  // Found by author, as a document whose author was contained would be.
  auto found = client_.Request("POST", Url("/xds/registry"), {kSoap},
                               AdhocQuery("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
                                          {{"$XDSDocumentEntryPatientId", "'11^^^&1.1&ISO'"},
                                           {"$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"},
                                           {"$XDSDocumentEntryAuthorPerson", "('%" + family + "%')"}}));
  EXPECT_NE(found.body.find(doc_uid), std::string::npos) << found.body.substr(0, 1500);
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

namespace carnet::testing {
namespace {

// ITI-18 beyond the configured maximum answers XDSTooManyResults.
TEST(XdsLimitsTest, TooManyResults) {
  GatewayProcess gateway({"--xds-max-query-results", "1"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  auto p = client.Request("POST", gateway.base_url() + "/fhir/Patient",
                          {"Content-Type: application/fhir+json", "If-None-Exist: identifier=urn:oid:1.1|11"},
                          R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"11"}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  for (int i = 0; i < 2; ++i) {
    auto d = client.Request("POST", gateway.base_url() + "/fhir/DocumentReference", {"Content-Type: application/fhir+json"},
                            R"({"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/)" + pid +
                                R"("},"content":[{"attachment":{"contentType":"text/plain"}}]})");
    ASSERT_EQ(d.status, 201) << d.body;
  }
  auto q = client.Request("POST", gateway.base_url() + "/xds/registry", {kSoap}, FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  ASSERT_EQ(q.status, 200);
  EXPECT_NE(q.body.find("XDSTooManyResults"), std::string::npos) << q.body.substr(0, 1500);
  EXPECT_NE(q.body.find("ResponseStatusType:Failure"), std::string::npos);
}

}  // namespace
}  // namespace carnet::testing

namespace carnet::testing {
namespace {

// A CDA document is checked against its submitted metadata: another patient is refused.
TEST(XdsCdaTest, CdaHeaderMustAgreeWithTheMetadata) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  auto p = client.Request("POST", gateway.base_url() + "/fhir/Patient",
                          {"Content-Type: application/fhir+json",
                           "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
                          R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/BIO-CR-BIO_2024.01_TSH_1.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string cda = ss.str();
  std::string uid = "1.2.250.1.999.15." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  cda.replace(cda.find("1.2.250.1.213.1.1.1.55.2024.9.1"), 31, uid);
  auto submit = [&](const std::string& patient_cx) {
    pugi::xml_document doc;
    doc.load_string(Sample("pnr.xml").c_str());
    auto sub = xds::ReadSubmissionElement(doc.document_element(), nullptr);
    xds::RegistryObjectList m = sub->metadata;
    m.documents.resize(1);
    std::erase_if(m.associations, [&](const xds::Association& a) { return !m.Contains(a.source) || !m.Contains(a.target); });
    xds::DocumentEntry& e = m.documents[0];
    e.unique_id = uid;
    e.patient_id = patient_cx;
    e.mime_type = "text/xml";
    e.type_code = {"11502-2", "2.16.840.1.113883.6.1", "CR d'examens biologiques", e.type_code.classification_id};
    e.hash.clear();
    e.size.clear();
    // The sample's Connect-a-thon codes and times are not this document's: left out, they
    // are taken from its header (mapping/cda_check.h).
    e.class_code.code.clear();
    e.creation_time.clear();
    e.service_start_time.clear();
    e.service_stop_time.clear();
    e.event_codes.clear();
    e.confidentiality_codes.clear();
    e.healthcare_facility_type_code.code.clear();
    e.practice_setting_code.code.clear();
    e.language_code.clear();
    e.legal_authenticator.clear();
    e.authors.clear();
    m.submission_sets[0].unique_id = "1.2.250.1.999.16." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    m.submission_sets[0].patient_id = patient_cx;
    std::string body = R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
                       xds::WriteSubmitObjectsRequest(m) + "<xdsb:Document id=\"" + e.id + "\">" + Base64Encode(cda) +
                       "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
    return client.Request("POST", gateway.base_url() + "/xds/repository", {kSoap},
                          SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body));
  };
  auto wrong = submit("11^^^&1.1&ISO");
  EXPECT_NE(wrong.body.find("XDSPatientIdDoesNotMatch"), std::string::npos) << wrong.body.substr(0, 2000);
  auto right = submit("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH");
  EXPECT_NE(right.body.find("ResponseStatusType:Success"), std::string::npos) << right.body.substr(0, 2000);
}

}  // namespace
}  // namespace carnet::testing

namespace carnet::testing {
namespace {

// Folders: a submission creates a folder holding its document; a later one adds an existing
// document to it; the four folder queries and GetSubmissionSetAndContents / GetAll see them,
// and the folder is an MHD List (code folder) in FHIR.
TEST_F(XdsTest, FoldersAreCreatedFilledAndQueried) {
  SamplePatient();
  auto uid = [] { return "1.2.250.1.999.12." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  std::string doc1 = uid(), set1 = uid(), folder_uid = uid();
  pugi::xml_document sample;
  sample.load_string(Sample("pnr.xml").c_str());
  auto sub = xds::ReadSubmissionElement(sample.document_element(), nullptr);
  ASSERT_TRUE(sub.ok());
  xds::RegistryObjectList m = sub->metadata;
  m.documents.resize(1);
  std::erase_if(m.associations, [&](const xds::Association& a) { return !m.Contains(a.source) || !m.Contains(a.target); });
  m.documents[0].unique_id = doc1;
  m.documents[0].patient_id = "11^^^&1.1&ISO";
  m.documents[0].hash.clear();
  m.documents[0].size.clear();
  m.submission_sets[0].unique_id = set1;
  m.submission_sets[0].patient_id = "11^^^&1.1&ISO";
  xds::Folder folder;
  folder.id = "Folder01";
  folder.unique_id = folder_uid;
  folder.patient_id = "11^^^&1.1&ISO";
  folder.title = "Suivi grossesse";
  folder.codes.push_back({"GROSSESSE", "1.2.250.1.213.1.1.4.99", "Suivi de grossesse", ""});
  m.folders.push_back(folder);
  auto assoc = [](const std::string& id, const std::string& source, const std::string& target) {
    xds::Association a;
    a.id = id;
    a.type = xds::AssociationType::kHasMember;
    a.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kHasMember));
    a.source = source;
    a.target = target;
    return a;
  };
  xds::Association ss_folder = assoc("as-f", m.submission_sets[0].id, "Folder01");
  ss_folder.submission_set_status = "Original";
  m.associations.push_back(ss_folder);
  m.associations.push_back(assoc("as-fd", "Folder01", m.documents[0].id));
  xds::Association ss_fd = assoc("as-ss-fd", m.submission_sets[0].id, "as-fd");
  ss_fd.submission_set_status = "Original";
  m.associations.push_back(ss_fd);
  std::string body = R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
                     xds::WriteSubmitObjectsRequest(m) + "<xdsb:Document id=\"" + m.documents[0].id + "\">" +
                     Base64Encode("in a folder") + "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
  auto r = client_.Request("POST", Url("/xds/repository"), {kSoap},
                           SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;

  // The folder in FHIR.
  auto list = client_.Get(Url("/fhir/List?identifier=urn:oid:" + folder_uid));
  ASSERT_NE(list.body.find("\"folder\""), std::string::npos) << list.body;
  auto folder_json = ParseJson(list.body);
  std::string folder_uuid = "urn:uuid:" + folder_json->Find("entry")->items()[0].Find("resource")->GetString("id");

  const std::string pid = "'11^^^&amp;1.1&amp;ISO'";
  const std::string approved = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
  auto find = client_.Request("POST", Url("/xds/registry"), {kSoap},
                              AdhocQuery("urn:uuid:958f3006-baad-4929-a4de-ff1114824431",
                                         {{"$XDSFolderPatientId", pid}, {"$XDSFolderStatus", approved},
                                          {"$XDSFolderCodeList", "('GROSSESSE^^1.2.250.1.213.1.1.4.99')"}}));
  EXPECT_NE(find.body.find(folder_uid), std::string::npos) << "FindFolders: " << find.body.substr(0, 600);
  auto find_other = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                    AdhocQuery("urn:uuid:958f3006-baad-4929-a4de-ff1114824431",
                                               {{"$XDSFolderPatientId", pid}, {"$XDSFolderStatus", approved},
                                                {"$XDSFolderCodeList", "('OTHER^^1.2.250.1.213.1.1.4.99')"}}));
  EXPECT_EQ(find_other.body.find(folder_uid), std::string::npos) << "FindFolders by another code";
  auto get = client_.Request("POST", Url("/xds/registry"), {kSoap},
                             AdhocQuery("urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4",
                                        {{"$XDSFolderUniqueId", "('" + folder_uid + "')"}}));
  EXPECT_NE(get.body.find(folder_uid), std::string::npos) << "GetFolders: " << get.body.substr(0, 600);
  EXPECT_NE(get.body.find("Suivi grossesse"), std::string::npos);
  auto contents = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                  AdhocQuery("urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7",
                                             {{"$XDSFolderUniqueId", "'" + folder_uid + "'"}}));
  EXPECT_NE(contents.body.find(folder_uid), std::string::npos) << "GetFolderAndContents: " << contents.body.substr(0, 600);
  EXPECT_NE(contents.body.find(doc1), std::string::npos) << "GetFolderAndContents holds the document";
  auto for_doc = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                 AdhocQuery("urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578",
                                            {{"$XDSDocumentEntryUniqueId", "'" + doc1 + "'"}}));
  EXPECT_NE(for_doc.body.find(folder_uid), std::string::npos) << "GetFoldersForDocument: " << for_doc.body.substr(0, 600);
  EXPECT_EQ(for_doc.body.find(set1), std::string::npos) << "a SubmissionSet is not a folder";
  auto ss_contents = client_.Request("POST", Url("/xds/registry"), {kSoap},
                                     AdhocQuery("urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83",
                                                {{"$XDSSubmissionSetUniqueId", "'" + set1 + "'"}}));
  EXPECT_NE(ss_contents.body.find(folder_uid), std::string::npos) << "GetSubmissionSetAndContents holds the folder";

  // A second submission adds an existing document (a new one, then linked) to the folder.
  std::string doc2 = uid(), set2 = uid();
  auto second = client_.Request("POST", Url("/xds/repository"), {kSoap}, ProvideAndRegister("another", doc2, set2));
  ASSERT_NE(second.body.find("ResponseStatusType:Success"), std::string::npos) << second.body;
  auto doc2_json = ParseJson(client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + doc2)).body);
  std::string doc2_uuid = "urn:uuid:" + doc2_json->Find("entry")->items()[0].Find("resource")->GetString("id");
  xds::RegistryObjectList add;
  xds::SubmissionSet set = m.submission_sets[0];
  set.id = "SubmissionSet02";
  set.unique_id = uid();
  add.submission_sets.push_back(set);
  add.associations.push_back(assoc("as-add", folder_uuid, doc2_uuid));
  xds::Association ss_add = assoc("as-ss-add", "SubmissionSet02", "as-add");
  ss_add.submission_set_status = "Original";
  add.associations.push_back(ss_add);
  auto added = client_.Request("POST", Url("/xds/registry"), {kSoap},
                               SoapEnvelope("urn:ihe:iti:2007:RegisterDocumentSet-b", xds::WriteSubmitObjectsRequest(add)));
  ASSERT_NE(added.body.find("ResponseStatusType:Success"), std::string::npos) << added.body;
  auto after = client_.Request("POST", Url("/xds/registry"), {kSoap},
                               AdhocQuery("urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7",
                                          {{"$XDSFolderUniqueId", "'" + folder_uid + "'"}}));
  EXPECT_NE(after.body.find(doc1), std::string::npos);
  EXPECT_NE(after.body.find(doc2), std::string::npos) << "the added document is in the folder: " << after.body.substr(0, 800);
}

}  // namespace
}  // namespace carnet::testing

namespace carnet::testing {
namespace {

// The error codes of ITI TF-3 4.2 and ITI-18 that the other suites do not reach, each
// provoked end to end (spec/xds.md, "Error codes").
TEST_F(XdsTest, EveryListedErrorCodeIsAnswered) {
  SamplePatient();
  auto uid = [] { return "1.2.250.1.999.13." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  auto submit = [&](const std::string& body) {
    return client_.Request("POST", Url("/xds/repository"), {kSoap}, body);
  };
  auto expect = [&](const HttpResult& r, const std::string& code, const std::string& what) {
    EXPECT_EQ(r.status, 200) << what;
    EXPECT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << what << ": " << r.body.substr(0, 1200);
    EXPECT_NE(r.body.find("errorCode=\"" + code + "\""), std::string::npos) << what << ": " << r.body.substr(0, 1500);
  };

  // Two entries of one message with the same uniqueId.
  std::string twin = uid();
  {
    pugi::xml_document sample;
    sample.load_string(Sample("pnr.xml").c_str());
    auto sub = xds::ReadSubmissionElement(sample.document_element(), nullptr);
    ASSERT_TRUE(sub.ok());
    xds::RegistryObjectList m = sub->metadata;
    ASSERT_GE(m.documents.size(), 2u);
    m.documents.resize(2);
    for (auto& d : m.documents) {
      d.unique_id = twin;
      d.patient_id = "11^^^&1.1&ISO";
      d.hash.clear();
      d.size.clear();
    }
    m.submission_sets[0].unique_id = uid();
    m.submission_sets[0].patient_id = "11^^^&1.1&ISO";
    std::string body = R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
                       xds::WriteSubmitObjectsRequest(m);
    for (const auto& d : m.documents) body += "<xdsb:Document id=\"" + d.id + "\">" + Base64Encode("twin") + "</xdsb:Document>";
    body += "</xdsb:ProvideAndRegisterDocumentSetRequest>";
    expect(submit(SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body)),
           "XDSRegistryDuplicateUniqueIdInMessage", "same uniqueId twice in one message");
  }

  // A uniqueId already registered: with the same bytes, a duplicate; with others, another hash.
  std::string doc = uid();
  auto first = submit(ProvideAndRegister("first bytes", doc, uid()));
  ASSERT_NE(first.body.find("ResponseStatusType:Success"), std::string::npos) << first.body;
  expect(submit(ProvideAndRegister("first bytes", doc, uid())), "XDSDuplicateUniqueIdInRegistry", "same document again");
  expect(submit(ProvideAndRegister("other bytes", doc, uid())), "XDSNonIdenticalHash", "same uniqueId, other bytes");

  // Supplied hash and size that the bytes contradict.
  {
    std::string body = ProvideAndRegister("abc", uid(), uid());
    std::string with_hash = body;
    size_t at = with_hash.find("<rim:Slot name=\"creationTime\"");
    ASSERT_NE(at, std::string::npos);
    with_hash.insert(at, R"(<rim:Slot name="hash"><rim:ValueList><rim:Value>da39a3ee5e6b4b0d3255bfef95601890afd80709</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="size"><rim:ValueList><rim:Value>99</rim:Value></rim:ValueList></rim:Slot>)");
    auto r = submit(with_hash);
    expect(r, "XDSNonIdenticalHash", "hash contradicted");
    expect(r, "XDSNonIdenticalSize", "size contradicted");
    expect(r, "XDSRepositoryMetadataError", "the repository's own code");
  }

  // A submission for a patient the registry does not know.
  {
    std::string body = ProvideAndRegister("x", uid(), uid());
    for (size_t p = body.find("11^^^&amp;1.1&amp;ISO"); p != std::string::npos; p = body.find("11^^^&amp;1.1&amp;ISO", p))
      body.replace(p, 21, "99^^^&amp;1.1&amp;ISO");
    expect(submit(body), "XDSUnknownPatientId", "unknown patient");
  }

  // Appending to a Deprecated entry.
  std::string original = uid(), replacement = uid();
  ASSERT_NE(submit(ProvideAndRegister("v1", original, uid())).body.find("Success"), std::string::npos);
  auto orig_json = ParseJson(client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + original)).body);
  std::string orig_uuid = "urn:uuid:" + orig_json->Find("entry")->items()[0].Find("resource")->GetString("id");
  ASSERT_NE(submit(ProvideAndRegister("v2", replacement, uid(), orig_uuid)).body.find("Success"), std::string::npos);
  expect(submit(ProvideAndRegister("v3", uid(), uid(), orig_uuid)), "XDSRegistryDeprecatedDocumentError",
         "replacing a Deprecated entry");

  // Stored queries: an unknown query, a single-valued parameter given twice, results of two
  // patients for an object query.
  auto query = [&](const std::string& id, const std::vector<std::pair<std::string, std::string>>& slots) {
    return client_.Request("POST", Url("/xds/registry"), {kSoap}, AdhocQuery(id, slots));
  };
  expect(query("urn:uuid:00000000-1111-2222-3333-444444444444", {{"$XDSDocumentEntryUniqueId", "('" + doc + "')"}}),
         "XDSUnknownStoredQuery", "unknown query id");
  expect(query("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
               {{"$XDSDocumentEntryPatientId", "'11^^^&amp;1.1&amp;ISO'"},
                {"$XDSDocumentEntryPatientId", "'12^^^&amp;1.1&amp;ISO'"},
                {"$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}}),
         "XDSStoredQueryParamNumber", "a single-valued parameter twice");
  {
    // A second patient with a document of their own, then GetDocuments naming both.
    auto p2 = client_.Request("POST", Url("/fhir/Patient"),
                              {"Content-Type: application/fhir+json", "If-None-Exist: identifier=urn:oid:1.1|12"},
                              R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"12"}]})");
    ASSERT_TRUE(p2.status == 201 || p2.status == 200) << p2.body;
    std::string other = uid();
    std::string body = ProvideAndRegister("theirs", other, uid());
    for (size_t p = body.find("11^^^&amp;1.1&amp;ISO"); p != std::string::npos; p = body.find("11^^^&amp;1.1&amp;ISO", p))
      body.replace(p, 21, "12^^^&amp;1.1&amp;ISO");
    ASSERT_NE(submit(body).body.find("Success"), std::string::npos);
    expect(query("urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4", {{"$XDSDocumentEntryUniqueId", "('" + doc + "','" + other + "')"}}),
           "XDSResultNotSinglePatient", "two patients' documents in one object query");
  }

  // ITI-57 of an entry the registry does not have.
  {
    xds::RegistryObjectList list;
    pugi::xml_document sample;
    sample.load_string(Sample("pnr.xml").c_str());
    auto sub = xds::ReadSubmissionElement(sample.document_element(), nullptr);
    ASSERT_TRUE(sub.ok());
    xds::DocumentEntry e = sub->metadata.documents[0];
    e.id = "urn:uuid:" + NewUuid();
    e.lid = "urn:uuid:" + NewUuid();
    e.unique_id = uid();
    e.patient_id = "11^^^&1.1&ISO";
    e.repository_unique_id = kRepositoryId;
    e.hash = "a9993e364706816aba3e25717850c26c9cd0d89d";
    e.size = "3";
    list.documents.push_back(e);
    xds::SubmissionSet set = sub->metadata.submission_sets[0];
    set.id = "SubmissionSet01";
    set.unique_id = uid();
    set.patient_id = "11^^^&1.1&ISO";
    list.submission_sets.push_back(set);
    xds::Association member;
    member.id = "urn:uuid:" + NewUuid();
    member.type = xds::AssociationType::kHasMember;
    member.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kHasMember));
    member.source = "SubmissionSet01";
    member.target = e.id;
    member.submission_set_status = "Original";
    member.previous_version = "1";
    list.associations.push_back(member);
    expect(client_.Request("POST", Url("/xds/registry"), {kSoap},
                           SoapEnvelope("urn:ihe:iti:2010:UpdateDocumentSet", xds::WriteSubmitObjectsRequest(list))),
           "XDSMetadataUpdateError", "update of an unknown logicalID");
  }
}

}  // namespace
}  // namespace carnet::testing

namespace carnet::testing {
namespace {

// IHE MHD ITI-67 (Find Document References) on a document deposited by ITI-41: every MHD
// parameter finds it with a value it has, and misses it with one it has not; ITI-66 finds its
// SubmissionSet List; ITI-68 serves its bytes with their mime type.
TEST_F(XdsTest, MhdQueriesFindAnXdsDocument) {
  std::string pid = SamplePatient();
  auto uid = [] { return "1.2.250.1.999.15." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  std::string doc = uid(), set = uid();
  auto r = client_.Request("POST", Url("/xds/repository"), {kSoap}, ProvideAndRegister("mhd bytes", doc, set));
  ASSERT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;
  auto found = ParseJson(client_.Get(Url("/fhir/DocumentReference?identifier=urn:oid:" + doc)).body);
  ASSERT_TRUE(found->Find("entry"));
  const JsonValue dr = *found->Find("entry")->items()[0].Find("resource");
  std::string id = dr.GetString("id");
  auto first_code = [](const JsonValue* cc) {
    const JsonValue& c = cc->Find("coding")->items()[0];
    return c.GetString("system") + "|" + c.GetString("code");
  };
  const JsonValue& att = *dr.Find("content")->items()[0].Find("attachment");
  const JsonValue& ctx = *dr.Find("context");
  std::string creation_day = att.GetString("creation").substr(0, 10);
  std::string given = dr.Find("contained")->items()[0].Find("name")->items()[0].Find("given")->items()[0].text();
  std::string family = dr.Find("contained")->items()[0].Find("name")->items()[0].GetString("family");
  std::string label;
  for (const auto& l : dr.Find("securityLabel")->items()) label = first_code(&l);
  std::vector<std::pair<std::string, std::string>> hits = {
      {"patient", pid},
      {"patient.identifier", "urn:oid:1.1|11"},
      {"status", "current"},
      {"creation", "eq" + creation_day},
      {"author.given", given},
      {"author.family", family},
      {"category", first_code(&dr.Find("category")->items()[0])},
      {"type", first_code(dr.Find("type"))},
      {"setting", first_code(ctx.Find("practiceSetting"))},
      {"facility", first_code(ctx.Find("facilityType"))},
      {"security-label", label},
      {"format", dr.Find("content")->items()[0].Find("format")->GetString("system") + "|" +
                     dr.Find("content")->items()[0].Find("format")->GetString("code")},
      {"period", "ge" + ctx.Find("period")->GetString("start").substr(0, 4)},
  };
  if (const JsonValue* events = ctx.Find("event"); events && !events->items().empty())
    hits.emplace_back("event", first_code(&events->items()[0]));
  auto ids = [&](const std::string& query) {
    std::set<std::string> out;
    auto b = ParseJson(client_.Get(Url("/fhir/DocumentReference?" + query + "&_count=500")).body);
    if (b.ok() && b->Find("entry"))
      for (const auto& e : b->Find("entry")->items()) out.insert(e.Find("resource")->GetString("id"));
    return out;
  };
  for (const auto& [param, value] : hits) {
    std::string encoded;
    for (char c : value)
      encoded += c == '|' ? std::string("%7C") : c == ' ' ? std::string("%20") : c == '%' ? std::string("%25")
                 : c == '&' ? std::string("%26") : std::string(1, c);
    EXPECT_EQ(ids("patient=" + pid + "&" + param + "=" + encoded).count(id), 1u) << param << "=" << value;
  }
  for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
           {"status", "superseded"}, {"creation", "lt1900-01-01"}, {"author.family", "Nobody"},
           {"type", "http://loinc.org%7C00000-0"}, {"period", "lt1900"}})
    EXPECT_EQ(ids("patient=" + pid + "&" + param + "=" + value).count(id), 0u) << param << "=" << value;

  // ITI-66: the SubmissionSet as a List, found by its patient and code.
  auto lists = client_.Get(Url("/fhir/List?patient=" + pid + "&code=submissionset&identifier=urn:oid:" + set));
  EXPECT_NE(lists.body.find("\"submissionset\""), std::string::npos) << lists.body.substr(0, 500);
  // ITI-68: the attachment URL serves the document in its own type.
  auto bytes = client_.Get(Url("/fhir/" + att.GetString("url")));
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, "mhd bytes");
  EXPECT_EQ(bytes.headers["content-type"].substr(0, att.GetString("contentType").size()), att.GetString("contentType"));
}

}  // namespace
}  // namespace carnet::testing
