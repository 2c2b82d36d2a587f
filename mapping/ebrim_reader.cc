// rim:RegistryObjectList -> RegistryObjectList (metadata.h).
#include <cctype>
#include <set>

#include "base/strings.h"
#include "mapping/ebrim_xml.h"
#include "mapping/xds_metadata.h"

namespace carnet::xds {
namespace {

constexpr std::string_view kMetadataError = "XDSRegistryMetadataError";

// ebRIM 3.0 RegistryObjectType content model (rim.xsd): Slot*, Name?, Description?,
// VersionInfo?, Classification*, ExternalIdentifier*, then the subtype's own elements.
int ElementRank(std::string_view local) {
  if (local == "Slot") return 0;
  if (local == "Name") return 1;
  if (local == "Description") return 2;
  if (local == "VersionInfo") return 3;
  if (local == "Classification") return 4;
  if (local == "ExternalIdentifier") return 5;
  if (local == "ContentVersionInfo" || local == "RegistryObjectList") return 6;
  return -1;
}

std::string LocalizedString(pugi::xml_node holder) {
  pugi::xml_node ls = Child(holder, kNsRim, "LocalizedString");
  return ls ? ls.attribute("value").value() : std::string();
}

class Reader {
 public:
  explicit Reader(std::vector<RegistryError>* problems) : problems_(problems) {}

  void Problem(const std::string& location, std::string context) {
    problems_->push_back({std::string(kMetadataError), std::move(context), location,
                          RegistryError::Severity::kError});
  }

  // Slots by name, in document order; a name given twice is a problem (ebRIM 3.0: slot names
  // are unique within their object).
  std::vector<Slot> ReadSlots(pugi::xml_node object, const std::string& where) {
    std::vector<Slot> slots;
    std::set<std::string> seen;
    for (pugi::xml_node c = object.first_child(); c; c = c.next_sibling()) {
      if (!Is(c, kNsRim, "Slot")) continue;
      Slot s;
      s.name = c.attribute("name").value();
      for (pugi::xml_node v = Child(Child(c, kNsRim, "ValueList"), kNsRim, "Value"); v;
           v = v.next_sibling()) {
        if (Is(v, kNsRim, "Value")) s.values.push_back(Trim(Text(v)));
      }
      if (!seen.insert(s.name).second) {
        Problem(where, where + ": Slot '" + s.name + "' is given twice");
        continue;
      }
      slots.push_back(std::move(s));
    }
    return slots;
  }

  // The one value of a single-valued slot.
  std::string Single(const Slot& s, const std::string& where) {
    if (s.values.size() != 1) {
      Problem(where, where + ": Slot '" + s.name + "' must have exactly one value, has " +
                         std::to_string(s.values.size()));
    }
    return s.values.empty() ? std::string() : s.values[0];
  }

  void CheckOrder(pugi::xml_node object, const std::string& where) {
    int rank = 0;
    std::set<std::string_view> once;
    for (pugi::xml_node c = object.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view local = LocalName(c);
      int r = NamespaceOf(c) == kNsRim ? ElementRank(local) : -1;
      if (r < 0) {
        Problem(where, where + ": unexpected element " + std::string(c.name()));
        continue;
      }
      if (r < rank) {
        Problem(where, where + ": element " + std::string(local) +
                           " out of the ebRIM 3.0 order (Slot, Name, Description, VersionInfo, "
                           "Classification, ExternalIdentifier)");
      }
      if ((r >= 1 && r <= 3) && !once.insert(local).second) {
        Problem(where, where + ": " + std::string(local) + " given twice");
      }
      rank = std::max(rank, r);
    }
  }

  void ReadCommon(pugi::xml_node el, RegistryObject* o) {
    o->id = el.attribute("id").value();
    o->lid = el.attribute("lid").value();
    o->status = el.attribute("status").value();
    o->home = el.attribute("home").value();
    o->title = LocalizedString(Child(el, kNsRim, "Name"));
    o->comments = LocalizedString(Child(el, kNsRim, "Description"));
    o->version = Child(el, kNsRim, "VersionInfo").attribute("versionName").value();
    if (o->id.empty()) Problem(std::string(el.name()), std::string(el.name()) + " without an id");
    CheckOrder(el, o->id);
  }

  Code ReadCode(pugi::xml_node cl, const std::string& where) {
    Code code;
    code.code = cl.attribute("nodeRepresentation").value();
    code.classification_id = cl.attribute("id").value();
    code.display = LocalizedString(Child(cl, kNsRim, "Name"));
    for (const Slot& s : ReadSlots(cl, where)) {
      if (s.name == "codingScheme") {
        code.scheme = Single(s, where);
      } else {
        Problem(where, where + ": code classification carries an unexpected Slot '" + s.name + "'");
      }
    }
    return code;
  }

  Author ReadAuthor(pugi::xml_node cl, const std::string& where) {
    Author a;
    a.classification_id = cl.attribute("id").value();
    for (Slot& s : ReadSlots(cl, where)) {
      if (s.name == "authorPerson") {
        a.person = Single(s, where);
      } else if (s.name == "authorInstitution") {
        a.institutions = std::move(s.values);
      } else if (s.name == "authorRole") {
        a.roles = std::move(s.values);
      } else if (s.name == "authorSpecialty") {
        a.specialties = std::move(s.values);
      } else if (s.name == "authorTelecommunication") {
        a.telecommunications = std::move(s.values);
      } else {
        Problem(where, where + ": author carries an unknown Slot '" + s.name + "'");
      }
    }
    return a;
  }

  // Checks the back-pointer of a nested Classification / ExternalIdentifier.
  void CheckParent(pugi::xml_node child, const char* attr, const std::string& parent_id) {
    std::string points_to = child.attribute(attr).value();
    if (!points_to.empty() && points_to != parent_id) {
      Problem(parent_id, std::string(LocalName(child)) + " " + child.attribute("id").value() +
                             " inside " + parent_id + " has " + attr + "=" + points_to +
                             " (it must name the object it is in)");
    }
  }

  // Applies one Classification to a DocumentEntry.
  void Classify(pugi::xml_node cl, DocumentEntry* de) {
    std::string scheme = cl.attribute("classificationScheme").value();
    std::string node = cl.attribute("classificationNode").value();
    const std::string where = "DocumentEntry " + de->id;
    if (node == uuids::kLimitedDocumentEntry) {
      de->limited_metadata = true;
      de->limited_metadata_ref = cl.attribute("id").value();
    } else if (scheme == uuids::kDeAuthor) {
      de->authors.push_back(ReadAuthor(cl, where));
    } else if (scheme == uuids::kDeConfidentialityCode) {
      de->confidentiality_codes.push_back(ReadCode(cl, where));
    } else if (scheme == uuids::kDeEventCodeList) {
      de->event_codes.push_back(ReadCode(cl, where));
    } else {
      struct {
        std::string_view scheme;
        Code* code;
        const char* name;
      } single[] = {
          {uuids::kDeClassCode, &de->class_code, "classCode"},
          {uuids::kDeTypeCode, &de->type_code, "typeCode"},
          {uuids::kDeFormatCode, &de->format_code, "formatCode"},
          {uuids::kDeHealthcareFacilityTypeCode, &de->healthcare_facility_type_code,
           "healthcareFacilityTypeCode"},
          {uuids::kDePracticeSettingCode, &de->practice_setting_code, "practiceSettingCode"}};
      for (auto& s : single) {
        if (scheme != s.scheme) continue;
        if (!s.code->classification_id.empty() || !s.code->code.empty()) {
          Problem(de->id, where + ": " + s.name + " given more than once");
        }
        *s.code = ReadCode(cl, where);
        return;
      }
      Problem(de->id, where + ": Classification " + cl.attribute("id").value() +
                          " has an unknown scheme/node '" + (scheme.empty() ? node : scheme) + "'");
    }
  }

  void Classify(pugi::xml_node cl, SubmissionSet* ss) {
    std::string scheme = cl.attribute("classificationScheme").value();
    std::string node = cl.attribute("classificationNode").value();
    const std::string where = "SubmissionSet " + ss->id;
    if (node == uuids::kSubmissionSetNode) {
      ss->classification_ref = cl.attribute("id").value();
    } else if (node == uuids::kLimitedSubmissionSet) {
      ss->limited_metadata = true;
      ss->limited_metadata_ref = cl.attribute("id").value();
    } else if (scheme == uuids::kSsAuthor) {
      ss->authors.push_back(ReadAuthor(cl, where));
    } else if (scheme == uuids::kSsContentTypeCode) {
      if (!ss->content_type_code.classification_id.empty() || !ss->content_type_code.code.empty())
        Problem(ss->id, where + ": contentTypeCode given more than once");
      ss->content_type_code = ReadCode(cl, where);
    } else {
      Problem(ss->id, where + ": Classification " + cl.attribute("id").value() +
                          " has an unknown scheme/node '" + (scheme.empty() ? node : scheme) + "'");
    }
  }

  void Classify(pugi::xml_node cl, Folder* f) {
    std::string scheme = cl.attribute("classificationScheme").value();
    std::string node = cl.attribute("classificationNode").value();
    const std::string where = "Folder " + f->id;
    if (node == uuids::kFolderNode) {
      f->classification_ref = cl.attribute("id").value();
    } else if (node == uuids::kLimitedFolder) {
      f->limited_metadata = true;
      f->limited_metadata_ref = cl.attribute("id").value();
    } else if (scheme == uuids::kFolderCodeList) {
      f->codes.push_back(ReadCode(cl, where));
    } else {
      Problem(f->id, where + ": Classification " + cl.attribute("id").value() +
                         " has an unknown scheme/node '" + (scheme.empty() ? node : scheme) + "'");
    }
  }

  // ExternalIdentifiers: patientId and uniqueId (and sourceId for a SubmissionSet).
  void Identify(pugi::xml_node el, RegistryObject* o, std::string_view patient_scheme,
                std::string_view unique_scheme, std::string* source_id, std::string* source_ref,
                const std::string& what) {
    for (pugi::xml_node ei = el.first_child(); ei; ei = ei.next_sibling()) {
      if (!Is(ei, kNsRim, "ExternalIdentifier")) continue;
      CheckParent(ei, "registryObject", o->id);
      std::string scheme = ei.attribute("identificationScheme").value();
      std::string value = ei.attribute("value").value();
      std::string id = ei.attribute("id").value();
      auto set = [&](std::string* field, std::string* ref, const char* name) {
        if (!field->empty() || !ref->empty()) {
          Problem(o->id, what + " " + o->id + ": " + name + " given more than once");
        }
        *field = value;
        *ref = id;
      };
      if (scheme == patient_scheme) {
        set(&o->patient_id, &o->patient_id_ref, "patientId");
      } else if (scheme == unique_scheme) {
        set(&o->unique_id, &o->unique_id_ref, "uniqueId");
      } else if (source_id && scheme == uuids::kSsSourceId) {
        set(source_id, source_ref, "sourceId");
      } else {
        Problem(o->id, what + " " + o->id + ": ExternalIdentifier " + id +
                           " has an unknown identificationScheme '" + scheme + "'");
      }
    }
  }

  DocumentEntry ReadDocumentEntry(pugi::xml_node el) {
    DocumentEntry de;
    ReadCommon(el, &de);
    de.object_type = el.attribute("objectType").value();
    de.mime_type = el.attribute("mimeType").value();
    const std::string where = "DocumentEntry " + de.id;
    for (Slot& s : ReadSlots(el, where)) {
      const std::string& n = s.name;
      if (n == "creationTime")
        de.creation_time = Single(s, where);
      else if (n == "serviceStartTime")
        de.service_start_time = Single(s, where);
      else if (n == "serviceStopTime")
        de.service_stop_time = Single(s, where);
      else if (n == "languageCode")
        de.language_code = Single(s, where);
      else if (n == "legalAuthenticator")
        de.legal_authenticator = Single(s, where);
      else if (n == "hash")
        de.hash = Single(s, where);
      else if (n == "size")
        de.size = Single(s, where);
      else if (n == "repositoryUniqueId")
        de.repository_unique_id = Single(s, where);
      else if (n == "sourcePatientId")
        de.source_patient_id = Single(s, where);
      else if (n == "sourcePatientInfo")
        de.source_patient_info = std::move(s.values);
      else if (n == "urn:ihe:iti:xds:2013:referenceIdList")
        de.reference_id_list = std::move(s.values);
      else if (n == "documentAvailability")
        de.document_availability = Single(s, where);
      else if (n == "URI" && s.values.size() == 1)
        de.uri = s.values[0];
      else
        de.other_slots.push_back(std::move(s));
    }
    for (pugi::xml_node cl = el.first_child(); cl; cl = cl.next_sibling()) {
      if (!Is(cl, kNsRim, "Classification")) continue;
      CheckParent(cl, "classifiedObject", de.id);
      Classify(cl, &de);
    }
    Identify(el, &de, uuids::kDePatientId, uuids::kDeUniqueId, nullptr, nullptr, "DocumentEntry");
    return de;
  }

  SubmissionSet ReadSubmissionSet(pugi::xml_node el) {
    SubmissionSet ss;
    ReadCommon(el, &ss);
    const std::string where = "SubmissionSet " + ss.id;
    for (Slot& s : ReadSlots(el, where)) {
      if (s.name == "submissionTime")
        ss.submission_time = Single(s, where);
      else if (s.name == "intendedRecipient")
        ss.intended_recipients = std::move(s.values);
      else
        ss.other_slots.push_back(std::move(s));
    }
    for (pugi::xml_node cl = el.first_child(); cl; cl = cl.next_sibling()) {
      if (!Is(cl, kNsRim, "Classification")) continue;
      CheckParent(cl, "classifiedObject", ss.id);
      Classify(cl, &ss);
    }
    Identify(el, &ss, uuids::kSsPatientId, uuids::kSsUniqueId, &ss.source_id, &ss.source_id_ref,
             "SubmissionSet");
    return ss;
  }

  Folder ReadFolder(pugi::xml_node el) {
    Folder f;
    ReadCommon(el, &f);
    const std::string where = "Folder " + f.id;
    for (Slot& s : ReadSlots(el, where)) {
      if (s.name == "lastUpdateTime")
        f.last_update_time = Single(s, where);
      else
        f.other_slots.push_back(std::move(s));
    }
    for (pugi::xml_node cl = el.first_child(); cl; cl = cl.next_sibling()) {
      if (!Is(cl, kNsRim, "Classification")) continue;
      CheckParent(cl, "classifiedObject", f.id);
      Classify(cl, &f);
    }
    Identify(el, &f, uuids::kFolderPatientId, uuids::kFolderUniqueId, nullptr, nullptr, "Folder");
    return f;
  }

  Association ReadAssociation(pugi::xml_node el) {
    Association a;
    a.id = el.attribute("id").value();
    a.type_uri = el.attribute("associationType").value();
    a.type = AssociationTypeFromUri(a.type_uri);
    a.source = el.attribute("sourceObject").value();
    a.target = el.attribute("targetObject").value();
    a.status = el.attribute("status").value();
    const std::string where = "Association " + a.id;
    CheckOrder(el, where);
    for (Slot& s : ReadSlots(el, where)) {
      if (s.name == "SubmissionSetStatus")
        a.submission_set_status = Single(s, where);
      else if (s.name == "PreviousVersion")
        a.previous_version = Single(s, where);
      else if (s.name == "OriginalStatus")
        a.original_status = Single(s, where);
      else if (s.name == "NewStatus")
        a.new_status = Single(s, where);
      else
        a.other_slots.push_back(std::move(s));
    }
    if (a.id.empty()) Problem("Association", "Association without an id");
    return a;
  }

 private:
  std::vector<RegistryError>* problems_;
};

std::string_view PackageKind(pugi::xml_node pkg, const std::vector<pugi::xml_node>& top_level) {
  std::string id = pkg.attribute("id").value();
  auto kind_of = [](pugi::xml_node cl) -> std::string_view {
    std::string_view node = cl.attribute("classificationNode").value();
    if (node == uuids::kSubmissionSetNode) return "SubmissionSet";
    if (node == uuids::kFolderNode) return "Folder";
    return {};
  };
  for (pugi::xml_node c = pkg.first_child(); c; c = c.next_sibling()) {
    if (Is(c, kNsRim, "Classification") && !kind_of(c).empty()) return kind_of(c);
  }
  for (pugi::xml_node c : top_level) {
    if (Is(c, kNsRim, "Classification") && c.attribute("classifiedObject").value() == id &&
        !kind_of(c).empty()) {
      return kind_of(c);
    }
  }
  return {};
}

}  // namespace

bool IsUuidUrn(std::string_view id) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  return id.substr(0, kPrefix.size()) == kPrefix && IsUuid(id.substr(kPrefix.size()));
}

AssociationType AssociationTypeFromUri(std::string_view uri) {
  if (uri == "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember")
    return AssociationType::kHasMember;
  if (uri == "urn:ihe:iti:2007:AssociationType:RPLC") return AssociationType::kReplace;
  if (uri == "urn:ihe:iti:2007:AssociationType:XFRM") return AssociationType::kTransform;
  if (uri == "urn:ihe:iti:2007:AssociationType:APND") return AssociationType::kAppend;
  if (uri == "urn:ihe:iti:2007:AssociationType:XFRM_RPLC")
    return AssociationType::kTransformAndReplace;
  if (uri == "urn:ihe:iti:2007:AssociationType:signs") return AssociationType::kSigns;
  if (uri == "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus")
    return AssociationType::kUpdateAvailabilityStatus;
  if (uri == "urn:ihe:iti:2010:AssociationType:SubmitAssociation")
    return AssociationType::kSubmitAssociation;
  if (uri == "urn:ihe:iti:2010:AssociationType:IsSnapshotOf") return AssociationType::kIsSnapshotOf;
  return AssociationType::kUnknown;
}

namespace {
struct DocumentRelation {
  AssociationType type;
  const char* code;
};
// The first row of a code is the type it maps back to.
constexpr DocumentRelation kDocumentRelations[] = {
    {AssociationType::kReplace, "replaces"},
    {AssociationType::kTransformAndReplace, "replaces"},
    {AssociationType::kTransform, "transforms"},
    {AssociationType::kAppend, "appends"},
    {AssociationType::kSigns, "signs"},
};
}  // namespace

const char* RelatesToCodeOf(AssociationType type) {
  for (const auto& r : kDocumentRelations)
    if (r.type == type) return r.code;
  return nullptr;
}

AssociationType AssociationTypeOfRelatesTo(std::string_view code) {
  for (const auto& r : kDocumentRelations)
    if (code == r.code) return r.type;
  return AssociationType::kUnknown;
}

std::string_view AssociationTypeUri(AssociationType type) {
  switch (type) {
    case AssociationType::kHasMember:
      return "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
    case AssociationType::kReplace:
      return "urn:ihe:iti:2007:AssociationType:RPLC";
    case AssociationType::kTransform:
      return "urn:ihe:iti:2007:AssociationType:XFRM";
    case AssociationType::kAppend:
      return "urn:ihe:iti:2007:AssociationType:APND";
    case AssociationType::kTransformAndReplace:
      return "urn:ihe:iti:2007:AssociationType:XFRM_RPLC";
    case AssociationType::kSigns:
      return "urn:ihe:iti:2007:AssociationType:signs";
    case AssociationType::kUpdateAvailabilityStatus:
      return "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus";
    case AssociationType::kSubmitAssociation:
      return "urn:ihe:iti:2010:AssociationType:SubmitAssociation";
    case AssociationType::kIsSnapshotOf:
      return "urn:ihe:iti:2010:AssociationType:IsSnapshotOf";
    case AssociationType::kUnknown:
      break;
  }
  return {};
}

const DocumentEntry* RegistryObjectList::FindDocument(std::string_view id) const {
  for (const DocumentEntry& d : documents)
    if (d.id == id) return &d;
  return nullptr;
}
const SubmissionSet* RegistryObjectList::FindSubmissionSet(std::string_view id) const {
  for (const SubmissionSet& s : submission_sets)
    if (s.id == id) return &s;
  return nullptr;
}
const Folder* RegistryObjectList::FindFolder(std::string_view id) const {
  for (const Folder& f : folders)
    if (f.id == id) return &f;
  return nullptr;
}
const Association* RegistryObjectList::FindAssociation(std::string_view id) const {
  for (const Association& a : associations)
    if (a.id == id) return &a;
  return nullptr;
}
bool RegistryObjectList::Contains(std::string_view id) const {
  if (FindDocument(id) || FindSubmissionSet(id) || FindFolder(id) || FindAssociation(id))
    return true;
  for (const ObjectRef& r : object_refs)
    if (r.id == id) return true;
  return false;
}

Result<RegistryObjectList> ReadRegistryObjectList(pugi::xml_node list,
                                                  std::vector<RegistryError>* problems) {
  if (!list) return Invalid("no rim:RegistryObjectList");
  if (!Is(list, kNsRim, "RegistryObjectList")) {
    std::string ns(NamespaceOf(list));
    if (ns.find("2.1") != std::string::npos || LocalName(list) == "LeafRegistryObjectList") {
      return Invalid("ebRIM 2.1 metadata (" + ns + ") is not accepted: XDS.b requires ebRIM 3.0 (" +
                     std::string(kNsRim) + ")");
    }
    return Invalid("expected {" + std::string(kNsRim) + "}RegistryObjectList, found {" + ns + "}" +
                   std::string(LocalName(list)));
  }
  Reader reader(problems);
  std::vector<pugi::xml_node> top;
  for (pugi::xml_node c = list.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) top.push_back(c);
  }
  RegistryObjectList out;
  // Top-level Classifications that are not the SubmissionSet/Folder markers: applied to their
  // object once every object is read.
  std::vector<pugi::xml_node> loose_classifications;
  for (pugi::xml_node c : top) {
    if (NamespaceOf(c) != kNsRim) {
      reader.Problem(c.name(), std::string("unexpected element ") + c.name() +
                                   " in RegistryObjectList (only ebRIM 3.0 objects)");
      continue;
    }
    std::string_view local = LocalName(c);
    if (local == "ExtrinsicObject") {
      out.documents.push_back(reader.ReadDocumentEntry(c));
    } else if (local == "RegistryPackage") {
      std::string_view kind = PackageKind(c, top);
      if (kind == "SubmissionSet") {
        out.submission_sets.push_back(reader.ReadSubmissionSet(c));
      } else if (kind == "Folder") {
        out.folders.push_back(reader.ReadFolder(c));
      } else {
        std::string id = c.attribute("id").value();
        reader.Problem(
            id, "RegistryPackage " + id + " is classified neither as SubmissionSet nor as Folder");
      }
    } else if (local == "Association") {
      out.associations.push_back(reader.ReadAssociation(c));
    } else if (local == "ObjectRef") {
      out.object_refs.push_back({c.attribute("id").value(), c.attribute("home").value()});
    } else if (local == "Classification") {
      loose_classifications.push_back(c);
    } else {
      reader.Problem(std::string(local), "unsupported RegistryObject " + std::string(local) +
                                             " in an XDS RegistryObjectList");
    }
  }
  for (pugi::xml_node cl : loose_classifications) {
    std::string target = cl.attribute("classifiedObject").value();
    std::string_view node = cl.attribute("classificationNode").value();
    bool marker = node == uuids::kSubmissionSetNode || node == uuids::kFolderNode;
    bool applied = false;
    for (SubmissionSet& ss : out.submission_sets) {
      if (ss.id == target) {
        reader.Classify(cl, &ss);
        applied = true;
      }
    }
    for (Folder& f : out.folders) {
      if (f.id == target) {
        reader.Classify(cl, &f);
        applied = true;
      }
    }
    for (DocumentEntry& d : out.documents) {
      if (d.id == target) {
        reader.Classify(cl, &d);
        applied = true;
      }
    }
    if (!applied && !marker) {
      reader.Problem(target, std::string("Classification ") + cl.attribute("id").value() +
                                 " classifies " + target + ", which is not in the message");
    }
  }
  return out;
}

}  // namespace carnet::xds
