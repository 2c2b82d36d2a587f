// RegistryObjectList (metadata.h) -> rim:RegistryObjectList, in the ebRIM 3.0 element order.
#include "base/strings.h"
#include "mapping/xds_metadata.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

constexpr std::string_view kObjectTypeClassification =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification";
constexpr std::string_view kObjectTypeExternalIdentifier =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier";
constexpr std::string_view kObjectTypeRegistryPackage =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage";
constexpr std::string_view kObjectTypeAssociation =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association";

class Writer {
 public:
  std::string out;

  void Attr(std::string_view name, std::string_view value) {
    out += ' ';
    out += name;
    out += "=\"";
    out += XmlEscape(value);
    out += '"';
  }
  void OptAttr(std::string_view name, std::string_view value) {
    if (!value.empty()) Attr(name, value);
  }

  void SlotValues(std::string_view name, const std::vector<std::string>& values) {
    if (values.empty()) return;
    out += "<rim:Slot";
    Attr("name", name);
    out += "><rim:ValueList>";
    for (const std::string& v : values) out += "<rim:Value>" + XmlEscape(v) + "</rim:Value>";
    out += "</rim:ValueList></rim:Slot>";
  }
  void SlotValue(std::string_view name, const std::string& value) {
    if (!value.empty()) SlotValues(name, {value});
  }

  void Localized(std::string_view element, const std::string& value) {
    if (value.empty()) return;
    out += "<rim:" + std::string(element) + "><rim:LocalizedString";
    Attr("value", value);
    out += "/></rim:" + std::string(element) + ">";
  }

  // Name, Description, VersionInfo: in that order, after the Slots.
  void NameDescriptionVersion(const RegistryObject& o) {
    Localized("Name", o.title);
    Localized("Description", o.comments);
    if (!o.version.empty()) {
      out += "<rim:VersionInfo";
      Attr("versionName", o.version);
      out += "/>";
    }
  }

  static std::string IdOr(const std::string& id) {
    return id.empty() ? "urn:uuid:" + NewUuid() : id;
  }

  void CodeClassification(std::string_view scheme, const std::string& object, const Code& c) {
    if (c.code.empty() && c.scheme.empty() && c.classification_id.empty()) return;
    out += "<rim:Classification";
    Attr("classificationScheme", scheme);
    Attr("classifiedObject", object);
    Attr("nodeRepresentation", c.code);
    Attr("objectType", kObjectTypeClassification);
    Attr("id", IdOr(c.classification_id));
    out += ">";
    SlotValue("codingScheme", c.scheme);
    Localized("Name", c.display);
    out += "</rim:Classification>";
  }

  void NodeClassification(std::string_view node, const std::string& object, const std::string& id) {
    out += "<rim:Classification";
    Attr("classificationNode", node);
    Attr("classifiedObject", object);
    Attr("objectType", kObjectTypeClassification);
    Attr("id", IdOr(id));
    out += "/>";
  }

  void AuthorClassification(std::string_view scheme, const std::string& object, const Author& a) {
    out += "<rim:Classification";
    Attr("classificationScheme", scheme);
    Attr("classifiedObject", object);
    Attr("nodeRepresentation", "");
    Attr("objectType", kObjectTypeClassification);
    Attr("id", IdOr(a.classification_id));
    out += ">";
    SlotValue("authorPerson", a.person);
    SlotValues("authorInstitution", a.institutions);
    SlotValues("authorRole", a.roles);
    SlotValues("authorSpecialty", a.specialties);
    SlotValues("authorTelecommunication", a.telecommunications);
    out += "</rim:Classification>";
  }

  void Identifier(std::string_view scheme, const std::string& object, const std::string& value,
                  const std::string& id, std::string_view name) {
    if (value.empty() && id.empty()) return;
    out += "<rim:ExternalIdentifier";
    Attr("identificationScheme", scheme);
    Attr("value", value);
    Attr("objectType", kObjectTypeExternalIdentifier);
    Attr("id", IdOr(id));
    Attr("registryObject", object);
    out += ">";
    Localized("Name", std::string(name));
    out += "</rim:ExternalIdentifier>";
  }

  void OtherSlots(const std::vector<Slot>& slots) {
    for (const Slot& s : slots) {
      out += "<rim:Slot";
      Attr("name", s.name);
      out += "><rim:ValueList>";
      for (const std::string& v : s.values) out += "<rim:Value>" + XmlEscape(v) + "</rim:Value>";
      out += "</rim:ValueList></rim:Slot>";
    }
  }

  void Document(const DocumentEntry& d) {
    out += "<rim:ExtrinsicObject";
    Attr("id", d.id);
    OptAttr("lid", d.lid);
    OptAttr("status", d.status);
    OptAttr("home", d.home);
    Attr("mimeType", d.mime_type);
    Attr("objectType", d.object_type);
    out += ">";
    SlotValue("creationTime", d.creation_time);
    SlotValue("documentAvailability", d.document_availability);
    SlotValue("hash", d.hash);
    SlotValue("languageCode", d.language_code);
    SlotValue("legalAuthenticator", d.legal_authenticator);
    SlotValue("repositoryUniqueId", d.repository_unique_id);
    SlotValue("serviceStartTime", d.service_start_time);
    SlotValue("serviceStopTime", d.service_stop_time);
    SlotValue("size", d.size);
    SlotValue("sourcePatientId", d.source_patient_id);
    SlotValues("sourcePatientInfo", d.source_patient_info);
    SlotValue("URI", d.uri);
    SlotValues("urn:ihe:iti:xds:2013:referenceIdList", d.reference_id_list);
    OtherSlots(d.other_slots);
    NameDescriptionVersion(d);
    if (d.limited_metadata) NodeClassification(uuids::kLimitedDocumentEntry, d.id, d.limited_metadata_ref);
    for (const Author& a : d.authors) AuthorClassification(uuids::kDeAuthor, d.id, a);
    CodeClassification(uuids::kDeClassCode, d.id, d.class_code);
    for (const Code& c : d.confidentiality_codes) CodeClassification(uuids::kDeConfidentialityCode, d.id, c);
    for (const Code& c : d.event_codes) CodeClassification(uuids::kDeEventCodeList, d.id, c);
    CodeClassification(uuids::kDeFormatCode, d.id, d.format_code);
    CodeClassification(uuids::kDeHealthcareFacilityTypeCode, d.id, d.healthcare_facility_type_code);
    CodeClassification(uuids::kDePracticeSettingCode, d.id, d.practice_setting_code);
    CodeClassification(uuids::kDeTypeCode, d.id, d.type_code);
    Identifier(uuids::kDePatientId, d.id, d.patient_id, d.patient_id_ref, "XDSDocumentEntry.patientId");
    Identifier(uuids::kDeUniqueId, d.id, d.unique_id, d.unique_id_ref, "XDSDocumentEntry.uniqueId");
    out += "</rim:ExtrinsicObject>";
  }

  void Package(const RegistryObject& o) {
    out += "<rim:RegistryPackage";
    Attr("id", o.id);
    OptAttr("lid", o.lid);
    OptAttr("status", o.status);
    OptAttr("home", o.home);
    Attr("objectType", kObjectTypeRegistryPackage);
    out += ">";
  }

  void Set(const SubmissionSet& s) {
    Package(s);
    SlotValues("intendedRecipient", s.intended_recipients);
    SlotValue("submissionTime", s.submission_time);
    OtherSlots(s.other_slots);
    NameDescriptionVersion(s);
    NodeClassification(uuids::kSubmissionSetNode, s.id, s.classification_ref);
    if (s.limited_metadata) NodeClassification(uuids::kLimitedSubmissionSet, s.id, s.limited_metadata_ref);
    for (const Author& a : s.authors) AuthorClassification(uuids::kSsAuthor, s.id, a);
    CodeClassification(uuids::kSsContentTypeCode, s.id, s.content_type_code);
    Identifier(uuids::kSsPatientId, s.id, s.patient_id, s.patient_id_ref, "XDSSubmissionSet.patientId");
    Identifier(uuids::kSsSourceId, s.id, s.source_id, s.source_id_ref, "XDSSubmissionSet.sourceId");
    Identifier(uuids::kSsUniqueId, s.id, s.unique_id, s.unique_id_ref, "XDSSubmissionSet.uniqueId");
    out += "</rim:RegistryPackage>";
  }

  void FolderPackage(const Folder& f) {
    Package(f);
    SlotValue("lastUpdateTime", f.last_update_time);
    OtherSlots(f.other_slots);
    NameDescriptionVersion(f);
    NodeClassification(uuids::kFolderNode, f.id, f.classification_ref);
    if (f.limited_metadata) NodeClassification(uuids::kLimitedFolder, f.id, f.limited_metadata_ref);
    for (const Code& c : f.codes) CodeClassification(uuids::kFolderCodeList, f.id, c);
    Identifier(uuids::kFolderPatientId, f.id, f.patient_id, f.patient_id_ref, "XDSFolder.patientId");
    Identifier(uuids::kFolderUniqueId, f.id, f.unique_id, f.unique_id_ref, "XDSFolder.uniqueId");
    out += "</rim:RegistryPackage>";
  }

  void Assoc(const Association& a) {
    out += "<rim:Association";
    Attr("associationType", a.type_uri.empty() ? AssociationTypeUri(a.type) : a.type_uri);
    Attr("sourceObject", a.source);
    Attr("targetObject", a.target);
    Attr("id", a.id);
    OptAttr("status", a.status);
    Attr("objectType", kObjectTypeAssociation);
    out += ">";
    SlotValue("SubmissionSetStatus", a.submission_set_status);
    SlotValue("PreviousVersion", a.previous_version);
    SlotValue("OriginalStatus", a.original_status);
    SlotValue("NewStatus", a.new_status);
    OtherSlots(a.other_slots);
    out += "</rim:Association>";
  }

  void Ref(const std::string& id, const std::string& home) {
    out += "<rim:ObjectRef";
    Attr("id", id);
    OptAttr("home", home);
    out += "/>";
  }
};

}  // namespace

std::string WriteRegistryObjectList(const RegistryObjectList& list, ReturnType type) {
  Writer w;
  w.out += "<rim:RegistryObjectList xmlns:rim=\"" + std::string(kNsRim) + "\">";
  if (type == ReturnType::kObjectRef) {
    for (const DocumentEntry& d : list.documents) w.Ref(d.id, d.home);
    for (const SubmissionSet& s : list.submission_sets) w.Ref(s.id, s.home);
    for (const Folder& f : list.folders) w.Ref(f.id, f.home);
    for (const Association& a : list.associations) w.Ref(a.id, "");
    for (const ObjectRef& r : list.object_refs) w.Ref(r.id, r.home);
  } else {
    for (const ObjectRef& r : list.object_refs) w.Ref(r.id, r.home);
    for (const DocumentEntry& d : list.documents) w.Document(d);
    for (const SubmissionSet& s : list.submission_sets) w.Set(s);
    for (const Folder& f : list.folders) w.FolderPackage(f);
    for (const Association& a : list.associations) w.Assoc(a);
  }
  w.out += "</rim:RegistryObjectList>";
  return std::move(w.out);
}

std::string WriteSubmitObjectsRequest(const RegistryObjectList& list) {
  return "<lcm:SubmitObjectsRequest xmlns:lcm=\"" + std::string(kNsLcm) + "\">" +
         WriteRegistryObjectList(list) + "</lcm:SubmitObjectsRequest>";
}

std::map<std::string, std::string> AssignUuidsToSymbolicIds(RegistryObjectList* list) {
  std::map<std::string, std::string> mapping;
  auto assign = [&](std::string* id) {
    if (id->empty() || IsUuidUrn(*id)) return;
    auto [it, fresh] = mapping.emplace(*id, "");
    if (fresh) it->second = "urn:uuid:" + NewUuid();
    *id = it->second;
  };
  // Only rewrite a reference when the symbol was defined in the message: an unknown symbolic
  // reference stays as written, for the validator to report.
  auto follow = [&](std::string* ref) {
    auto it = mapping.find(*ref);
    if (it != mapping.end()) *ref = it->second;
  };
  auto common = [&](RegistryObject* o) {
    assign(&o->id);
    assign(&o->unique_id_ref);
    assign(&o->patient_id_ref);
    assign(&o->limited_metadata_ref);
  };
  auto code = [&](Code* c) { assign(&c->classification_id); };
  for (DocumentEntry& d : list->documents) {
    common(&d);
    for (Author& a : d.authors) assign(&a.classification_id);
    for (Code* c : {&d.class_code, &d.type_code, &d.format_code, &d.healthcare_facility_type_code,
                    &d.practice_setting_code})
      code(c);
    for (Code& c : d.confidentiality_codes) code(&c);
    for (Code& c : d.event_codes) code(&c);
  }
  for (SubmissionSet& s : list->submission_sets) {
    common(&s);
    assign(&s.source_id_ref);
    assign(&s.classification_ref);
    for (Author& a : s.authors) assign(&a.classification_id);
    code(&s.content_type_code);
  }
  for (Folder& f : list->folders) {
    common(&f);
    assign(&f.classification_ref);
    for (Code& c : f.codes) code(&c);
  }
  for (Association& a : list->associations) assign(&a.id);
  for (Association& a : list->associations) {
    follow(&a.source);
    follow(&a.target);
  }
  for (DocumentEntry& d : list->documents) follow(&d.lid);
  return mapping;
}

}  // namespace carnet::xds
