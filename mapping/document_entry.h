// IHE MHD mapping between an XDS DocumentEntry and a FHIR DocumentReference (see
// spec/mhd-and-cda.md, "DocumentReference <-> DocumentEntry").
//
// One document has one canonical record in the dossier, its DocumentReference; the XDS
// DocumentEntry is computed from it whenever XDS asks. What XDS carries and FHIR has no
// element for (raw author and patient strings, DTM precision, the repository, unmapped
// slots) travels in carnet extensions, so that XDS -> FHIR -> XDS gives back what went in.
#pragma once

#include <functional>
#include <string>

#include "base/json.h"
#include "base/status.h"
#include "mapping/xds_metadata.h"

namespace carnet::mapping {

// Extension URLs carnet defines for the XDS attributes FHIR has no element for.
inline constexpr const char* kExtensionBase = "https://carnet.example.org/fhir/StructureDefinition/";

// A DocumentEntry as a DocumentReference. `patient_reference` is the record the entry's
// patientId resolved to ("Patient/123"); `content_url` where its bytes are served
// ("Binary/abc"). The resource id is the entryUUID without its urn:uuid: prefix.
JsonValue DocumentReferenceFromEntry(const xds::DocumentEntry& entry,
                                     const std::string& patient_reference,
                                     const std::string& content_url);

// Finds what a reference ("Practitioner/1") names, null when it cannot.
using ReferenceResolver = std::function<JsonValue(const std::string& reference)>;

// A DocumentReference as a DocumentEntry. `patient_cx` is the record's patient id in CX form
// (the caller knows the record); the entryUUID comes from the resource id. Authors and the
// legal authenticator come from carnet's XDS extensions when the document came through XDS,
// else from the resources author and authenticator name: contained ones, and, through
// `resolve` (MHD UnContained Comprehensive), referenced ones.
Result<xds::DocumentEntry> EntryFromDocumentReference(const JsonValue& document_reference,
                                                      const std::string& patient_cx,
                                                      const ReferenceResolver& resolve = nullptr);

// The XDS author a referenced FHIR author stands for (MHD UnContained Comprehensive, where
// authors are references rather than contained resources): a Practitioner is the authorPerson,
// an Organization an authorInstitution, a PractitionerRole its practitioner and organization
// (looked up through `resolve`, which returns null for what it cannot find) with its code as
// authorRole and specialty as authorSpecialty. Empty when the resource is none of these.
xds::Author AuthorFromResource(const JsonValue& resource, const ReferenceResolver& resolve);
// A Practitioner (or a PractitionerRole's practitioner) as an XCN: id^family^given^^^^^^&oid&ISO.
std::string XcnFromPractitioner(const JsonValue& practitioner);

// XDS codingScheme <-> FHIR Coding.system (LOINC, SNOMED CT, HL7 confidentiality by URL;
// other OIDs as urn:oid:; anything else kept reversibly).
std::string SystemFromScheme(const std::string& scheme);
std::string SchemeFromSystem(const std::string& system);

// XDS DTM (YYYY[MM[DD[hh[mm[ss]]]]], UTC) <-> FHIR date/dateTime.
std::string FhirDateTimeFromDtm(const std::string& dtm);
std::string DtmFromFhirDateTime(const std::string& date_time);
// XDS DTM as a PostgreSQL timestamptz literal (a partial date stands for its first instant:
// "2024" -> "2024-01-01"); empty when malformed.
std::string TimestampFromDtm(const std::string& dtm);

// SHA-1 hex (XDS) <-> base64 of the same bytes (FHIR attachment.hash); empty on bad input.
std::string Base64FromHex(const std::string& hex);
std::string HexFromBase64(const std::string& b64);

}  // namespace carnet::mapping

namespace carnet::mapping {

// A SubmissionSet as an MHD List (code submissionset): identifier -> entryUUID and uniqueId,
// date -> submissionTime, source -> author (carnet extension keeps the raw author),
// designationType extension -> contentTypeCode, sourceId extension, entries -> the
// DocumentReferences it holds (HasMember).
JsonValue ListFromSubmissionSet(const xds::SubmissionSet& set, const std::string& patient_reference,
                                const std::vector<std::string>& member_references);

}  // namespace carnet::mapping

namespace carnet::mapping {

// The reverse of ListFromSubmissionSet.
xds::SubmissionSet SubmissionSetFromList(const JsonValue& list, const std::string& patient_cx);

// A Folder as an MHD List (code folder): identifier -> entryUUID and uniqueId, date ->
// lastUpdateTime, designationType extensions -> codeList, entries -> its DocumentReferences.
JsonValue ListFromFolder(const xds::Folder& folder, const std::string& patient_reference,
                         const std::vector<std::string>& member_references);
// The reverse of ListFromFolder.
xds::Folder FolderFromList(const JsonValue& list, const std::string& patient_cx);
// "submissionset", "folder", or "" for a List that is neither.
std::string MhdListType(const JsonValue& list);

}  // namespace carnet::mapping
