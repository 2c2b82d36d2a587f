// SOAP 1.2 messages the integration tests send to the XDS.b endpoints (ITI-18 FindDocuments,
// ITI-43 RetrieveDocumentSet, ITI-41 of one document), shared by the XDS, deposit and
// access-policy suites.
#pragma once

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

// ITI-41 of document `e` (id and repository as given) with `bytes` as its content, in a
// SubmissionSet of the same patient: content type the document's class, author its first.
inline std::string ProvideAndRegisterRequest(const xds::DocumentEntry& e,
                                             const std::string& bytes) {
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
  m.associations.push_back(member);
  std::string pnr =
      R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
      xds::WriteSubmitObjectsRequest(m) + "<xdsb:Document id=\"" + e.id + "\">" +
      Base64Encode(bytes) + "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>urn:ihe:iti:2007:"
         "ProvideAndRegisterDocumentSet-b</a:Action><a:MessageID>urn:uuid:" +
         NewUuid() + "</a:MessageID></s:Header><s:Body>" + pnr + "</s:Body></s:Envelope>";
}

// ITI-57 Update Document Set: `next` (a new entryUUID, logicalID the entry's, every other
// value as the new metadata version should have it) replacing version `previous_version`.
inline std::string MetadataUpdateRequest(const xds::DocumentEntry& next,
                                         const std::string& previous_version) {
  xds::RegistryObjectList m;
  m.documents.push_back(next);
  xds::SubmissionSet set;
  set.id = "SubmissionSet01";
  set.unique_id = "1.2.250.1.999.15." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  set.patient_id = next.patient_id;
  set.source_id = "1.2.250.1.999";
  set.submission_time = "20240601120000";
  set.content_type_code = next.class_code;
  if (!next.authors.empty()) set.authors.push_back(next.authors[0]);
  m.submission_sets.push_back(set);
  xds::Association member;
  member.id = "urn:uuid:" + NewUuid();
  member.type = xds::AssociationType::kHasMember;
  member.type_uri = std::string(xds::AssociationTypeUri(xds::AssociationType::kHasMember));
  member.source = "SubmissionSet01";
  member.target = next.id;
  member.submission_set_status = "Original";
  member.previous_version = previous_version;
  m.associations.push_back(member);
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>urn:ihe:iti:2010:"
         "UpdateDocumentSet</a:Action><a:MessageID>urn:uuid:" +
         NewUuid() + "</a:MessageID></s:Header><s:Body>" + xds::WriteSubmitObjectsRequest(m) +
         "</s:Body></s:Envelope>";
}

}  // namespace carnet::testing
