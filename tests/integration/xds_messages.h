// SOAP 1.2 messages the integration tests send to the XDS.b endpoints (ITI-18 FindDocuments,
// ITI-43 RetrieveDocumentSet), shared by the XDS and access-policy suites.
#pragma once

#include <string>

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
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>')" + patient_cx +
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
  <RepositoryUniqueId>)" + repository + R"(</RepositoryUniqueId>
  <DocumentUniqueId>)" + unique_id + R"(</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest></s:Body>
</s:Envelope>)";
}

}  // namespace carnet::testing
