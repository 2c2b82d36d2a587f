// SOAP 1.2 messages the integration tests send to the XDS.b endpoints (ITI-18 FindDocuments,
// ITI-43 RetrieveDocumentSet, ITI-41 of one document), shared by the XDS, deposit and
// access-policy suites.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "base/strings.h"
#include "mapping/xds_metadata.h"

namespace carnet::testing {

inline const char* kSoap = "Content-Type: application/soap+xml; charset=UTF-8";

inline std::string FindDocumentsRequest(const std::string& patient_cx) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>
  <a:MessageID>urn:uuid:6e1b3f3e-1c57-4e4b-8f53-0a2b2c0d9e11</a:MessageID></s:Header>
 <s:Body>
  <query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
      xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
   <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
   <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>')" +
         patient_cx +
         R"('</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList>
      <rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
   </rim:AdhocQuery>
  </query:AdhocQueryRequest>
 </s:Body>
</s:Envelope>)";
}

inline std::string RetrieveRequest(const std::string& repository, const std::string& unique_id) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RetrieveDocumentSet</a:Action>
  <a:MessageID>urn:uuid:0fbfdced-6c01-4d09-a110-2201afedaa02</a:MessageID></s:Header>
 <s:Body><RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest>
  <RepositoryUniqueId>)" +
         repository + R"(</RepositoryUniqueId>
  <DocumentUniqueId>)" +
         unique_id + R"(</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest></s:Body>
</s:Envelope>)";
}

// A DocumentReference of record `pid` with every value an XDS DocumentEntry needs (a
// discharge letter, masterIdentifier urn:oid:`uid`, the source patient id 11^^^&1.1&ISO).
inline std::string XdsReadyDocumentReference(const std::string& pid, const std::string& uid) {
  return R"({"resourceType":"DocumentReference","masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
         uid + R"("},
      "extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/xds-source-patient-id","valueString":"11^^^&1.1&ISO"}],
      "status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":"11490-0","display":"Lettre de liaison"}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10","display":"Compte rendu"}]}],
      "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N","display":"Normal"}]}],
      "subject":{"reference":"Patient/)" +
         pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","language":"fr-FR","size":3,
                                "hash":"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=","creation":"2024-05-02T08:00:00Z"},
                  "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient","display":"Format"}}],
      "context":{"facilityType":{"coding":[{"system":"urn:oid:1.2.250.1.71.4.2.4","code":"SA01","display":"Centre hospitalier"}]},
                 "practiceSetting":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.9","code":"ETABLISSEMENT","display":"Etablissement de sante"}]}}})";
}

// A SubmissionSet of one DocumentEntry `e` (its patient; content type the document's class,
// author its first) and the HasMember association, PreviousVersion `previous_version` when
// given (an ITI-57 update).
inline xds::RegistryObjectList OneDocumentSubmission(const xds::DocumentEntry& e,
                                                     const std::string& previous_version = "") {
  xds::RegistryObjectList m;
  m.documents.push_back(e);
  xds::SubmissionSet set;
  set.id = "SubmissionSet01";
  set.unique_id = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  set.patient_id = e.patient_id;
  set.source_id = "1.2.250.1.999";
  set.submission_time = "20240102030405";
  set.content_type_code = e.class_code;
  if (!e.authors.empty()) set.authors.push_back(e.authors[0]);
  m.submission_sets.push_back(set);
  xds::Association member;
  member.id = "urn:uuid:" + NewUuid();
  member.type = xds::AssociationType::kHasMember;
  member.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kHasMember));
  member.source = "SubmissionSet01";
  member.target = e.id;
  member.submission_set_status = "Original";
  member.previous_version = previous_version;
  m.associations.push_back(member);
  return m;
}

// The SOAP 1.2 envelope of `body` for WS-Addressing action `action`.
inline std::string SoapMessage(const std::string& action, const std::string& body) {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>" +
         action + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() +
         "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
}

// ITI-41 of document `e` (id and repository as given) with `bytes` as its content, in a
// SubmissionSet of the same patient: content type the document's class, author its first.
inline std::string ProvideAndRegisterRequest(const xds::DocumentEntry& e,
                                             const std::string& bytes) {
  std::string pnr =
      R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
      xds::WriteSubmitObjectsRequest(OneDocumentSubmission(e)) + "<xdsb:Document id=\"" + e.id +
      "\">" + Base64Encode(bytes) + "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
  return SoapMessage("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", pnr);
}

// ITI-57 Update Document Set: `next` (a new entryUUID, logicalID the entry's, every other
// value as the new metadata version should have it) replacing version `previous_version`.
inline std::string MetadataUpdateRequest(const xds::DocumentEntry& next,
                                         const std::string& previous_version) {
  return SoapMessage("urn:ihe:iti:2010:UpdateDocumentSet",
                     xds::WriteSubmitObjectsRequest(OneDocumentSubmission(next, previous_version)));
}

// Every `from` in `s` replaced by `to`.
inline void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

// The IHE sample MTOM ITI-41 (shared/testdata/xds/messages/http-mtom-pnr.txt) with its own
// document and submission set uniqueIds (1.2.250.1.999.`branch`.1.N and .2.N) and entry
// UUIDs, so that it is a new submission each time; `bytes` is its document part as sent (the
// bytes between that part's headers and the closing boundary). Empty when the file is missing.
struct MtomSubmission {
  std::string content_type;
  std::string body;
  std::string document_unique_id;
  std::string set_unique_id;
  std::string bytes;
};
inline MtomSubmission FreshSampleMtom(const std::string& branch) {
  std::ifstream in(
      std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/http-mtom-pnr.txt",
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw = ss.str();
  MtomSubmission m;
  size_t head_end = raw.find("\n\n");
  if (head_end == std::string::npos) return m;
  std::istringstream lines(raw.substr(0, head_end));
  m.body = raw.substr(head_end + 2);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("Content-Type:", 0) == 0) m.content_type = line;
  while (!m.content_type.empty() && (m.content_type.back() == ' ' || m.content_type.back() == '\r'))
    m.content_type.pop_back();
  size_t part = m.body.find("Content-ID: <1.urn:uuid:");
  size_t start = part == std::string::npos ? part : m.body.find("\n\n", part);
  size_t end = m.body.rfind("\n--MIMEBoundary");
  if (start != std::string::npos && end != std::string::npos && end > start + 2)
    m.bytes = m.body.substr(start + 2, end - start - 2);
  auto number = [] { return std::to_string(std::stoll(RandomHex(5), nullptr, 16)); };
  m.document_unique_id = "1.2.250.1.999." + branch + ".1." + number();
  m.set_unique_id = "1.2.250.1.999." + branch + ".2." + number();
  ReplaceAll(m.body, "1.42.20101011223601.2", m.document_unique_id);
  ReplaceAll(m.body, "1.42.20101011223601.3", m.set_unique_id);
  for (const char* uuid :
       {"102439f8-5881-4b36-8b42-ef73ae560c04", "47863814-16fd-4188-b055-bd4df7e43265",
        "b9383f1a-dc32-40cf-b1e4-a5af6f7967a5"})
    ReplaceAll(m.body, uuid, NewUuid());
  return m;
}

}  // namespace carnet::testing
