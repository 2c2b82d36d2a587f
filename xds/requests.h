// The request bodies of ITI-41, ITI-42/57, ITI-43 and ITI-62, read from a parsed SoapRequest
// (soap.h). Stored queries (ITI-18) are in stored_query.h.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <vector>

#include "base/status.h"
#include "mapping/xds_metadata.h"
#include "xds/metadata_validation.h"
#include "xds/soap.h"

namespace carnet::xds {

// ITI-41 / ITI-42 / ITI-57: the metadata and, for ITI-41, the documents.
struct SubmissionRequest {
  RegistryObjectList metadata;
  // Problems found while reading (for ValidateSubmission's reader_problems).
  std::vector<RegistryError> read_problems;
  struct Document {
    std::string id;     // xds:Document@id = the DocumentEntry id
    std::string bytes;  // resolved from xop:Include or inline base64
  };
  std::vector<Document> documents;

  // A ValidationContext for this request (document ids filled in for ITI-41).
  ValidationContext Context(SubmissionKind kind) const;
};

// Reads xds:ProvideAndRegisterDocumentSetRequest (ITI-41) or lcm:SubmitObjectsRequest
// (ITI-42/57) from request.body_element. A document that cannot be decoded (bad base64,
// unresolvable xop:Include) is a Status error; metadata problems go to read_problems.
Result<SubmissionRequest> ReadSubmissionRequest(const SoapRequest& request);
// The same on a bare element (tests, or a caller holding the XML without envelope); documents
// must then be inline base64.
Result<SubmissionRequest> ReadSubmissionElement(pugi::xml_node element, const SoapRequest* request);

// ITI-43.
struct DocumentRequest {
  std::string home_community_id;  // optional
  std::string repository_unique_id;
  std::string document_unique_id;
  bool operator==(const DocumentRequest&) const = default;
};
// Reads xds:RetrieveDocumentSetRequest; element order per XDS.b_DocumentRepository.xsd
// (HomeCommunityId?, RepositoryUniqueId, DocumentUniqueId), at least one DocumentRequest.
Result<std::vector<DocumentRequest>> ReadRetrieveDocumentSetRequest(pugi::xml_node element);

// ITI-62: lcm:RemoveObjectsRequest/rim:ObjectRefList -> the ids to remove (urn:uuid only).
Result<std::vector<std::string>> ReadRemoveObjectsRequest(pugi::xml_node element);

}  // namespace carnet::xds
