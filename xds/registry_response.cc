#include "xds/registry_response.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "xds/soap.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

constexpr std::string_view kSeverityError = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";
constexpr std::string_view kSeverityWarning =
    "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

// The request log line carries the answer's status and error codes (issue 19): an XDS
// Failure travels in a 200 response, and is only visible as such here.
void NoteOutcome(ResponseStatus status, const std::vector<RegistryError>& errors) {
  RequestNotes& notes = CurrentRequestNotes();
  switch (status) {
    case ResponseStatus::kSuccess:
      notes.xds_status = "Success";
      break;
    case ResponseStatus::kPartialSuccess:
      notes.xds_status = "PartialSuccess";
      break;
    case ResponseStatus::kFailure:
      notes.xds_status = "Failure";
      break;
  }
  std::string codes;
  for (const RegistryError& e : errors) {
    std::string code = e.error_code;
    if (e.severity == RegistryError::Severity::kWarning) code += "(warning)";
    if (("," + codes + ",").find("," + code + ",") != std::string::npos) continue;
    codes += (codes.empty() ? "" : ",") + code;
  }
  notes.xds_errors = codes;
}

}  // namespace

std::string_view ResponseStatusUri(ResponseStatus status) {
  switch (status) {
    case ResponseStatus::kSuccess: return "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
    case ResponseStatus::kPartialSuccess: return "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
    case ResponseStatus::kFailure: break;
  }
  return "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
}

ResponseStatus StatusFor(const std::vector<RegistryError>& errors) {
  bool failed = std::any_of(errors.begin(), errors.end(), [](const RegistryError& e) {
    return e.severity == RegistryError::Severity::kError;
  });
  return failed ? ResponseStatus::kFailure : ResponseStatus::kSuccess;
}

RegistryError RegistryErrorFromStatus(const Status& status) {
  RegistryError e;
  std::string_view code = ErrorInfoFor(status.code()).xds_code;
  e.error_code = code.empty() ? "XDSRegistryError" : std::string(code);
  e.code_context = PublicMessage(status);  // a server error's detail goes to the log only
  e.location = status.location();
  return e;
}

std::string WriteRegistryErrorList(const std::vector<RegistryError>& errors) {
  if (errors.empty()) return {};
  std::string out = "<rs:RegistryErrorList";
  // highestSeverity is optional; given so a client can branch without scanning the list.
  bool any_error = std::any_of(errors.begin(), errors.end(), [](const RegistryError& e) {
    return e.severity == RegistryError::Severity::kError;
  });
  out += " highestSeverity=\"";
  out += any_error ? kSeverityError : kSeverityWarning;
  out += "\">";
  for (const RegistryError& e : errors) {
    out += "<rs:RegistryError codeContext=\"" + XmlEscape(e.code_context) + "\" errorCode=\"" +
           XmlEscape(e.error_code) + "\" severity=\"";
    out += e.severity == RegistryError::Severity::kError ? kSeverityError : kSeverityWarning;
    out += "\"";
    if (!e.location.empty()) out += " location=\"" + XmlEscape(e.location) + "\"";
    out += "/>";
  }
  out += "</rs:RegistryErrorList>";
  return out;
}

std::string WriteRegistryResponse(ResponseStatus status, const std::vector<RegistryError>& errors) {
  NoteOutcome(status, errors);
  std::string out = "<rs:RegistryResponse xmlns:rs=\"" + std::string(kNsRs) + "\" status=\"" +
                    std::string(ResponseStatusUri(status)) + "\"";
  if (errors.empty()) return out + "/>";
  return out + ">" + WriteRegistryErrorList(errors) + "</rs:RegistryResponse>";
}

std::string WriteAdhocQueryResponse(ResponseStatus status, const RegistryObjectList& objects,
                                    ReturnType type, const std::vector<RegistryError>& errors) {
  NoteOutcome(status, errors);
  std::string out = "<query:AdhocQueryResponse xmlns:query=\"" + std::string(kNsQuery) +
                    "\" xmlns:rs=\"" + std::string(kNsRs) + "\" status=\"" +
                    std::string(ResponseStatusUri(status)) + "\">";
  out += WriteRegistryErrorList(errors);
  out += status == ResponseStatus::kFailure ? WriteRegistryObjectList({}, type)
                                            : WriteRegistryObjectList(objects, type);
  out += "</query:AdhocQueryResponse>";
  return out;
}

MtomMessage WriteRetrieveDocumentSetResponse(ResponseStatus status,
                                             const std::vector<RetrievedDocument>& documents,
                                             const std::vector<RegistryError>& errors,
                                             std::string_view relates_to) {
  NoteOutcome(status, errors);
  std::vector<OutboundPart> parts;
  std::string body = "<xds:RetrieveDocumentSetResponse xmlns:xds=\"" + std::string(kNsXds) +
                     "\" xmlns:xop=\"" + std::string(kNsXop) + "\">";
  body += WriteRegistryResponse(status, errors);
  const std::string salt = RandomHex(6);
  for (size_t i = 0; i < documents.size(); ++i) {
    const RetrievedDocument& d = documents[i];
    OutboundPart part;
    part.content_id = "doc" + std::to_string(i) + "." + salt + "@carnet";
    part.content_type = d.mime_type.empty() ? "application/octet-stream" : d.mime_type;
    part.body = d.content;
    // xds.xsd DocumentResponse order: HomeCommunityId?, RepositoryUniqueId, DocumentUniqueId,
    // NewRepositoryUniqueId?, NewDocumentUniqueId?, mimeType, Document.
    body += "<xds:DocumentResponse>";
    if (!d.home_community_id.empty()) {
      body += "<xds:HomeCommunityId>" + XmlEscape(d.home_community_id) + "</xds:HomeCommunityId>";
    }
    body += "<xds:RepositoryUniqueId>" + XmlEscape(d.repository_unique_id) +
            "</xds:RepositoryUniqueId><xds:DocumentUniqueId>" + XmlEscape(d.document_unique_id) +
            "</xds:DocumentUniqueId><xds:mimeType>" + XmlEscape(part.content_type) +
            "</xds:mimeType><xds:Document><xop:Include href=\"cid:" + part.content_id +
            "\"/></xds:Document></xds:DocumentResponse>";
    parts.push_back(std::move(part));
  }
  body += "</xds:RetrieveDocumentSetResponse>";
  const TransactionInfo& info = InfoFor(Transaction::kRetrieve);
  return WriteMtom(WriteSoapResponse(info.response_action, relates_to, body), info.response_action,
                   parts);
}

Result<ParsedRegistryResponse> ReadRegistryResponse(std::string_view xml) {
  Result<std::unique_ptr<pugi::xml_document>> doc = ParseXml(xml);
  if (!doc.ok()) return doc.status();
  pugi::xml_node root = (*doc)->document_element();
  if (!Is(root, kNsRs, "RegistryResponse")) return BadRequest("not an rs:RegistryResponse");
  ParsedRegistryResponse r;
  r.status = root.attribute("status").value();
  for (pugi::xml_node e = Child(Child(root, kNsRs, "RegistryErrorList"), kNsRs, "RegistryError"); e;
       e = e.next_sibling()) {
    if (!Is(e, kNsRs, "RegistryError")) continue;
    RegistryError err;
    err.error_code = e.attribute("errorCode").value();
    err.code_context = e.attribute("codeContext").value();
    err.location = Trim(e.attribute("location").value());
    err.severity = std::string_view(e.attribute("severity").value()) == kSeverityWarning
                       ? RegistryError::Severity::kWarning
                       : RegistryError::Severity::kError;
    r.errors.push_back(std::move(err));
  }
  return r;
}

}  // namespace carnet::xds
