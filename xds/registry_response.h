// The XDS.b response bodies (spec/xds.md, "Response status"): rs:RegistryResponse (ITI-41,
// 42, 57, 62), query:AdhocQueryResponse (ITI-18) and xds:RetrieveDocumentSetResponse (ITI-43,
// documents as MTOM parts).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mapping/xds_metadata.h"
#include "xds/mtom.h"

namespace carnet::xds {

enum class ResponseStatus { kSuccess, kPartialSuccess, kFailure };
std::string_view ResponseStatusUri(ResponseStatus status);

// Failure when any error has severity Error, else Success (warnings ride along).
// PartialSuccess is for ITI-43/ITI-18 when some documents/communities answered.
ResponseStatus StatusFor(const std::vector<RegistryError>& errors);

// A Status from a lower layer as one RegistryError, with the XDS errorCode of its row in
// base/error_codes.def.
RegistryError RegistryErrorFromStatus(const Status& status);

// <rs:RegistryErrorList> (empty string when there are no errors).
std::string WriteRegistryErrorList(const std::vector<RegistryError>& errors);

// <rs:RegistryResponse status=...> with the error list.
std::string WriteRegistryResponse(ResponseStatus status, const std::vector<RegistryError>& errors);

// <query:AdhocQueryResponse status=...> with the error list and the objects (LeafClass or
// ObjectRef). On Failure the object list is empty but present, as ebRS requires it.
std::string WriteAdhocQueryResponse(ResponseStatus status, const RegistryObjectList& objects,
                                    ReturnType type, const std::vector<RegistryError>& errors = {});

// ---- ITI-43 ----
struct RetrievedDocument {
  std::string home_community_id;  // optional
  std::string repository_unique_id;
  std::string document_unique_id;
  std::string mime_type;
  std::string content;  // bytes
};

// The whole ITI-43 HTTP response: the SOAP envelope (Action RetrieveDocumentSetResponse,
// RelatesTo) with one DocumentResponse per document whose Document element is an
// xop:Include of a binary MIME part holding the bytes untouched.
MtomMessage WriteRetrieveDocumentSetResponse(ResponseStatus status,
                                             const std::vector<RetrievedDocument>& documents,
                                             const std::vector<RegistryError>& errors,
                                             std::string_view relates_to);

// A parsed rs:RegistryResponse (for tests, and for a repository forwarding ITI-42).
struct ParsedRegistryResponse {
  std::string status;  // the URI
  std::vector<RegistryError> errors;
};
Result<ParsedRegistryResponse> ReadRegistryResponse(std::string_view xml);

}  // namespace carnet::xds
