// RegistryResponse, AdhocQueryResponse and the MTOM RetrieveDocumentSetResponse writers.
#include "xds/registry_response.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "xds/soap.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(XdsResponse, RegistryResponseSuccessAndFailure) {
  Result<ParsedRegistryResponse> ok = ReadRegistryResponse(WriteRegistryResponse(ResponseStatus::kSuccess, {}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success");
  EXPECT_TRUE(ok->errors.empty());

  std::vector<RegistryError> errors = {
      {"XDSPatientIdDoesNotMatch", "DocumentEntry Document01: patientId \"x\" & <y>", "Document01",
       RegistryError::Severity::kError},
      {"XDSRegistryError", "a warning", "", RegistryError::Severity::kWarning}};
  EXPECT_EQ(StatusFor(errors), ResponseStatus::kFailure);
  EXPECT_EQ(StatusFor({errors[1]}), ResponseStatus::kSuccess);
  Result<ParsedRegistryResponse> failed = ReadRegistryResponse(WriteRegistryResponse(ResponseStatus::kFailure, errors));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure");
  EXPECT_EQ(failed->errors, errors);
  EXPECT_EQ(ResponseStatusUri(ResponseStatus::kPartialSuccess), "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess");
}

TEST(XdsResponse, NistRegistryResponseSamplesRead) {
  Result<ParsedRegistryResponse> r = ReadRegistryResponse(ReadSample("regresp-suc-err.xml"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].error_code, "XDSUnknownPatientId");
  r = ReadRegistryResponse(ReadSample("regresp-fail-noerr.xml"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->errors.empty());
}

TEST(XdsResponse, StatusErrorsMapThroughTheErrorTable) {
  RegistryError e = RegistryErrorFromStatus(Status(ErrorCode::kPatientIdMismatch, "mismatch", "Document01"));
  EXPECT_EQ(e.error_code, "XDSPatientIdDoesNotMatch");
  EXPECT_EQ(e.location, "Document01");
  EXPECT_EQ(RegistryErrorFromStatus(Internal("boom")).error_code, "XDSRegistryError");
}

TEST(XdsResponse, AdhocQueryResponse) {
  RegistryObjectList objects;
  objects.object_refs.push_back({"urn:uuid:22c85315-12cd-4d52-97a9-8d827f03ddc5", ""});
  DocumentEntry d;
  d.id = "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001";
  d.mime_type = "text/plain";
  d.object_type = std::string(uuids::kDocumentEntryStable);
  objects.documents.push_back(d);
  std::string xml = WriteAdhocQueryResponse(ResponseStatus::kSuccess, objects, ReturnType::kLeafClass);
  auto doc = ParseXml(xml);
  ASSERT_TRUE(doc.ok());
  pugi::xml_node root = (*doc)->document_element();
  EXPECT_TRUE(Is(root, kNsQuery, "AdhocQueryResponse"));
  EXPECT_STREQ(root.attribute("status").value(), "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success");
  std::vector<RegistryError> problems;
  Result<RegistryObjectList> back = ReadRegistryObjectList(Child(root, kNsRim, "RegistryObjectList"), &problems);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == objects);

  // Failure: errors, and an empty object list.
  xml = WriteAdhocQueryResponse(ResponseStatus::kFailure, objects, ReturnType::kObjectRef,
                                {{"XDSStoredQueryMissingParam", "missing", "$XDSDocumentEntryStatus",
                                  RegistryError::Severity::kError}});
  doc = ParseXml(xml);
  ASSERT_TRUE(doc.ok());
  root = (*doc)->document_element();
  EXPECT_TRUE(Child(Child(root, kNsRs, "RegistryErrorList"), kNsRs, "RegistryError"));
  EXPECT_FALSE(FirstElement(Child(root, kNsRim, "RegistryObjectList")));
}

TEST(XdsResponse, RetrieveDocumentSetResponseIsMtomWithUntouchedBytes) {
  std::string binary(70000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 31);
  std::vector<RetrievedDocument> docs = {{"", "1.2.3", "1.2.3.1", "application/pdf", binary},
                                         {"urn:oid:1.2", "1.2.3", "1.2.3.2", "text/plain", "x"}};
  MtomMessage m = WriteRetrieveDocumentSetResponse(ResponseStatus::kSuccess, docs, {}, "urn:uuid:req");
  EXPECT_NE(m.content_type.find("multipart/related"), std::string::npos);
  EXPECT_NE(m.content_type.find("application/xop+xml"), std::string::npos);
  Result<InboundMessage> in = ReadInboundMessage(m.content_type, m.body);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->attachments.size(), 2u);
  auto env = ParseXml(in->soap_xml);
  ASSERT_TRUE(env.ok());
  pugi::xml_node root = (*env)->document_element();
  pugi::xml_node header = Child(root, kNsSoap12, "Header");
  EXPECT_EQ(Text(Child(header, kNsWsa, "Action")), "urn:ihe:iti:2007:RetrieveDocumentSetResponse");
  EXPECT_EQ(Text(Child(header, kNsWsa, "RelatesTo")), "urn:uuid:req");
  pugi::xml_node resp = Child(Child(root, kNsSoap12, "Body"), kNsXds, "RetrieveDocumentSetResponse");
  ASSERT_TRUE(resp);
  EXPECT_TRUE(Child(resp, kNsRs, "RegistryResponse"));
  size_t i = 0;
  for (pugi::xml_node dr = Child(resp, kNsXds, "DocumentResponse"); dr; dr = dr.next_sibling(), ++i) {
    ASSERT_LT(i, docs.size());
    EXPECT_EQ(Text(Child(dr, kNsXds, "DocumentUniqueId")), docs[i].document_unique_id);
    EXPECT_EQ(Text(Child(dr, kNsXds, "mimeType")), docs[i].mime_type);
    Result<std::string> cid =
        ContentIdFromHref(Child(Child(dr, kNsXds, "Document"), kNsXop, "Include").attribute("href").value());
    ASSERT_TRUE(cid.ok());
    EXPECT_TRUE(in->attachments.at(*cid).body == docs[i].content);
  }
  EXPECT_EQ(i, 2u);
  EXPECT_EQ(Text(Child(Child(resp, kNsXds, "DocumentResponse").next_sibling(), kNsXds, "HomeCommunityId")),
            "urn:oid:1.2");
}

}  // namespace
}  // namespace carnet::xds
