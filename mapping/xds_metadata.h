// The XDS metadata model (ITI TF-3 4.1/4.2): DocumentEntry, SubmissionSet, Folder and
// Association, read from and written to ebRIM 3.0. It lives in mapping/ (namespace
// carnet::xds, the standard's own vocabulary) because both the XDS.b front end and the
// mapping onto the dossier (document_entry.h) work on it, and fhir/ and xds/ must not
// depend on each other (spec/xds.md, "Identification and
// classification schemes").
//
// Every attribute of the digest has a field here. Values are kept as written (strings): the
// validator (metadata_validation.h) says what is wrong with them, the reader only says what
// could not be mapped at all. Ids of the Classification and ExternalIdentifier elements are
// kept so that a written object reads back identical.
#pragma once

#include <pugixml.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::xds {

// ---- scheme and type URIs (spec/xds.md) ----
namespace uuids {
inline constexpr std::string_view kDocumentEntryStable = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
inline constexpr std::string_view kDocumentEntryOnDemand = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
inline constexpr std::string_view kDeClassCode = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
inline constexpr std::string_view kDeTypeCode = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
inline constexpr std::string_view kDeFormatCode = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
inline constexpr std::string_view kDeConfidentialityCode = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
inline constexpr std::string_view kDeHealthcareFacilityTypeCode = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
inline constexpr std::string_view kDePracticeSettingCode = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
inline constexpr std::string_view kDeEventCodeList = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
inline constexpr std::string_view kDeAuthor = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
inline constexpr std::string_view kDePatientId = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
inline constexpr std::string_view kDeUniqueId = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
inline constexpr std::string_view kSubmissionSetNode = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
inline constexpr std::string_view kSsUniqueId = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
inline constexpr std::string_view kSsSourceId = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
inline constexpr std::string_view kSsPatientId = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
inline constexpr std::string_view kSsAuthor = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
inline constexpr std::string_view kSsContentTypeCode = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
inline constexpr std::string_view kFolderNode = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";
inline constexpr std::string_view kFolderCodeList = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5";
inline constexpr std::string_view kFolderPatientId = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a";
inline constexpr std::string_view kFolderUniqueId = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";
inline constexpr std::string_view kAssociationDocumentation = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3";
inline constexpr std::string_view kLimitedSubmissionSet = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707";
inline constexpr std::string_view kLimitedDocumentEntry = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85";
inline constexpr std::string_view kLimitedFolder = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03";
}  // namespace uuids

inline constexpr std::string_view kStatusApproved = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
inline constexpr std::string_view kStatusDeprecated = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";

// True for "urn:uuid:" followed by a well-formed 8-4-4-4-12 UUID. Anything else used as an id
// in a submission is a symbolic id, to be replaced by the registry.
bool IsUuidUrn(std::string_view id);

// A coded value: Classification nodeRepresentation + codingScheme slot + Name.
struct Code {
  std::string code;
  std::string scheme;
  std::string display;
  std::string classification_id;  // the Classification element's id
  bool operator==(const Code&) const = default;
};

struct Author {
  std::string person;                        // XCN; at most one
  std::vector<std::string> institutions;     // XON
  std::vector<std::string> roles;
  std::vector<std::string> specialties;
  std::vector<std::string> telecommunications;  // XTN
  std::string classification_id;
  bool operator==(const Author&) const = default;
};

// A Slot carnet does not map to an attribute, kept so nothing is lost.
struct Slot {
  std::string name;
  std::vector<std::string> values;
  bool operator==(const Slot&) const = default;
};

// What DocumentEntry, SubmissionSet and Folder share.
struct RegistryObject {
  std::string id;              // entryUUID, or a symbolic id in a submission
  std::string lid;             // logicalID (ITI-57); empty = same as id
  std::string version;         // VersionInfo versionName
  std::string status;          // availabilityStatus URN; empty when not given
  std::string home;            // homeCommunityId
  std::string title;           // Name/LocalizedString
  std::string comments;        // Description/LocalizedString
  std::string unique_id;
  std::string unique_id_ref;   // ExternalIdentifier id of uniqueId
  std::string patient_id;      // CX
  std::string patient_id_ref;  // ExternalIdentifier id of patientId
  bool limited_metadata = false;
  std::string limited_metadata_ref;  // its Classification id
  std::vector<Slot> other_slots;
  bool operator==(const RegistryObject&) const = default;
};

struct DocumentEntry : RegistryObject {
  std::string object_type;  // stable or on-demand uuid
  std::string mime_type;
  Code class_code, type_code, format_code, healthcare_facility_type_code, practice_setting_code;
  std::vector<Code> confidentiality_codes;
  std::vector<Code> event_codes;
  std::vector<Author> authors;
  std::string legal_authenticator;
  std::string creation_time, service_start_time, service_stop_time;
  std::string language_code;
  std::string hash;  // SHA-1 hex
  std::string size;  // decimal, as written
  std::string repository_unique_id;
  std::string source_patient_id;
  std::vector<std::string> source_patient_info;
  std::vector<std::string> reference_id_list;
  std::string uri;
  std::string document_availability;  // on-demand: Online/Offline
  bool operator==(const DocumentEntry&) const = default;

  bool OnDemand() const { return object_type == uuids::kDocumentEntryOnDemand; }
};

struct SubmissionSet : RegistryObject {
  std::string submission_time;
  std::string source_id;
  std::string source_id_ref;
  Code content_type_code;
  std::vector<Author> authors;
  std::vector<std::string> intended_recipients;
  std::string classification_ref;  // the Classification with node kSubmissionSetNode
  bool operator==(const SubmissionSet&) const = default;
};

struct Folder : RegistryObject {
  std::vector<Code> codes;  // codeList
  std::string last_update_time;
  std::string classification_ref;
  bool operator==(const Folder&) const = default;
};

enum class AssociationType {
  kHasMember,
  kReplace,             // RPLC
  kTransform,           // XFRM
  kAppend,              // APND
  kTransformAndReplace, // XFRM_RPLC
  kSigns,
  kUpdateAvailabilityStatus,
  kSubmitAssociation,
  kIsSnapshotOf,
  kUnknown,
};
AssociationType AssociationTypeFromUri(std::string_view uri);
std::string_view AssociationTypeUri(AssociationType type);
// The document relations and their FHIR DocumentReference.relatesTo codes (IHE MHD):
// RPLC and XFRM_RPLC -> "replaces" (XFRM_RPLC kept in an extension beside it), XFRM ->
// "transforms", APND -> "appends", signs -> "signs"; nullptr for any other type.
const char* RelatesToCodeOf(AssociationType type);
// The other way: "replaces" -> kReplace...; kUnknown for a code that is no document relation.
AssociationType AssociationTypeOfRelatesTo(std::string_view code);

struct Association {
  std::string id;
  std::string type_uri;  // as written
  AssociationType type = AssociationType::kUnknown;
  std::string source;
  std::string target;
  std::string status;
  std::string submission_set_status;  // HasMember from a SubmissionSet: Original | Reference
  std::string previous_version;       // ITI-57 HasMember
  std::string original_status, new_status;  // UpdateAvailabilityStatus
  std::vector<Slot> other_slots;
  bool operator==(const Association&) const = default;
};

struct ObjectRef {
  std::string id;
  std::string home;
  bool operator==(const ObjectRef&) const = default;
};

// The content of a rim:RegistryObjectList, sorted by kind (document order kept within a kind).
struct RegistryObjectList {
  std::vector<DocumentEntry> documents;
  std::vector<SubmissionSet> submission_sets;
  std::vector<Folder> folders;
  std::vector<Association> associations;
  std::vector<ObjectRef> object_refs;
  bool operator==(const RegistryObjectList&) const = default;

  const DocumentEntry* FindDocument(std::string_view id) const;
  const SubmissionSet* FindSubmissionSet(std::string_view id) const;
  const Folder* FindFolder(std::string_view id) const;
  const Association* FindAssociation(std::string_view id) const;
  // True when some object of the list has this id.
  bool Contains(std::string_view id) const;
};

// One problem, in the shape of rs:RegistryError (spec/xds.md, "Response status").
struct RegistryError {
  enum class Severity { kError, kWarning };
  std::string error_code;    // "XDSRegistryMetadataError"...
  std::string code_context;  // names the object and the rule
  std::string location;      // the object id, the parameter...
  Severity severity = Severity::kError;
  bool operator==(const RegistryError&) const = default;
};

// Reads rim:RegistryObjectList. Problems that keep an element from mapping to the model (a
// RegistryPackage neither SubmissionSet nor Folder, a Classification pointing at another
// object, an unknown classification scheme, ebRIM element order) are appended to *problems as
// XDSRegistryMetadataError; the rest of the list is still read, so that every problem can be
// reported at once. A list in the ebRIM 2.1 namespace (or anything but rim 3.0) is a Status
// error: XDS.b is 3.0 only.
Result<RegistryObjectList> ReadRegistryObjectList(pugi::xml_node list,
                                                  std::vector<RegistryError>* problems);

enum class ReturnType { kLeafClass, kObjectRef };

// Writes `list` as <rim:RegistryObjectList> (declaring xmlns:rim). LeafClass writes every
// object in full; ObjectRef writes only <rim:ObjectRef id=...> for each object.
std::string WriteRegistryObjectList(const RegistryObjectList& list,
                                    ReturnType type = ReturnType::kLeafClass);
// <lcm:SubmitObjectsRequest> around the list: what a Document Source or a test sends.
std::string WriteSubmitObjectsRequest(const RegistryObjectList& list);

// Replaces every id that is not a urn:uuid (objects, Associations, Classifications and
// ExternalIdentifiers, and the references to them) with a new urn:uuid. Returns the mapping
// old -> new, so that xds:Document@id and the caller's records follow.
std::map<std::string, std::string> AssignUuidsToSymbolicIds(RegistryObjectList* list);

}  // namespace carnet::xds
