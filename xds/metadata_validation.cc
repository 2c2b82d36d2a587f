#include "xds/metadata_validation.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace carnet::xds {
namespace {

constexpr std::string_view kMetadataError = "XDSRegistryMetadataError";
constexpr std::string_view kRepositoryMetadataError = "XDSRepositoryMetadataError";

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsHex40(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

class Validator {
 public:
  Validator(const RegistryObjectList& m, const ValidationContext& c, ValidationResult* r)
      : m_(m), c_(c), r_(r) {}

  void Error(std::string_view code, const std::string& location, std::string context) {
    r_->errors.push_back({std::string(code), std::move(context), location,
                          RegistryError::Severity::kError});
  }
  // An object submitted by this message (an ObjectRef only names an existing one).
  bool New(std::string_view id) const {
    return m_.FindDocument(id) || m_.FindSubmissionSet(id) || m_.FindFolder(id) || m_.FindAssociation(id);
  }

  void Meta(const std::string& location, std::string context) {
    Error(kMetadataError, location, std::move(context));
  }

  void Run() {
    Ids();
    if (m_.submission_sets.size() != 1) {
      Meta("SubmissionSet", "a submission must contain exactly one SubmissionSet, found " +
                                std::to_string(m_.submission_sets.size()));
    }
    for (const SubmissionSet& s : m_.submission_sets) CheckSubmissionSet(s);
    for (const DocumentEntry& d : m_.documents) CheckDocument(d);
    for (const Folder& f : m_.folders) CheckFolder(f);
    PatientIds();
    UniqueIds();
    if (c_.kind == SubmissionKind::kProvideAndRegister) Documents();
    for (const Association& a : m_.associations) CheckAssociation(a);
    Membership();
  }

 private:
  // ---- identity ----
  void Ids() {
    std::map<std::string, int> seen;
    auto note = [&](const std::string& id) {
      if (!id.empty() && ++seen[id] == 2) Meta(id, "id " + id + " is used by more than one object");
    };
    for (const auto& d : m_.documents) note(d.id);
    for (const auto& s : m_.submission_sets) note(s.id);
    for (const auto& f : m_.folders) note(f.id);
    for (const auto& a : m_.associations) note(a.id);
  }

  void Required(const std::string& value, const std::string& what, const std::string& id,
                const char* attribute) {
    if (value.empty()) Meta(id, what + ": " + attribute + " is required");
  }

  void CheckCode(const Code& code, const std::string& what, const std::string& id,
                 const char* attribute) {
    // ITI TF-3 4.2: a coded attribute is a triple: code, codingScheme, display name.
    if (code.code.empty()) Meta(id, what + ": " + attribute + " has no code (nodeRepresentation)");
    if (code.scheme.empty()) Meta(id, what + ": " + attribute + " " + code.code + " has no codingScheme");
    if (code.display.empty()) Meta(id, what + ": " + attribute + " " + code.code + " has no display Name");
  }

  void RequiredCode(const Code& code, const std::string& what, const std::string& id,
                    const char* attribute, bool required) {
    bool present = !code.code.empty() || !code.classification_id.empty() || !code.scheme.empty();
    if (!present) {
      if (required) Meta(id, what + ": " + attribute + " is required");
      return;
    }
    CheckCode(code, what, id, attribute);
  }

  void Time(const std::string& value, const std::string& what, const std::string& id,
            const char* attribute) {
    if (!value.empty() && !IsValidDtm(value)) {
      Meta(id, what + ": " + attribute + " '" + value +
                   "' is not a UTC DTM (YYYY[MM[DD[hh[mm[ss]]]]])");
    }
  }

  void Authors(const std::vector<Author>& authors, const std::string& what, const std::string& id) {
    for (const Author& a : authors) {
      if (a.person.empty() && a.institutions.empty() && a.telecommunications.empty()) {
        Meta(id, what + ": an author needs authorPerson, authorInstitution or "
                        "authorTelecommunication");
      }
    }
  }

  bool Limited(const RegistryObject& o, const std::string& what) {
    if (!o.limited_metadata) return false;
    if (!c_.accept_limited_metadata) {
      Meta(o.id, what + " is flagged as Limited Metadata, which an XDS registry does not accept");
    }
    return true;
  }

  void PatientIdFormat(const std::string& pid, const std::string& what, const std::string& id) {
    if (!pid.empty() && !IsValidCxPatientId(pid)) {
      Meta(id, what + ": patientId '" + pid + "' is not in CX form id^^^&OID&ISO");
    }
  }

  void CheckSubmissionSet(const SubmissionSet& s) {
    const std::string what = "SubmissionSet " + s.id;
    bool limited = Limited(s, what);
    if (!limited) {
      Required(s.patient_id, what, s.id, "patientId");
      RequiredCode(s.content_type_code, what, s.id, "contentTypeCode", true);
    } else {
      RequiredCode(s.content_type_code, what, s.id, "contentTypeCode", false);
    }
    PatientIdFormat(s.patient_id, what, s.id);
    Required(s.unique_id, what, s.id, "uniqueId");
    if (!s.unique_id.empty() && !IsValidOid(s.unique_id)) {
      Meta(s.id, what + ": uniqueId '" + s.unique_id + "' must be an OID of at most 64 characters");
    }
    Required(s.source_id, what, s.id, "sourceId");
    // sourceId only names the source: the conformance data of the IHE community uses roots
    // outside the ISO arcs (NIST's 129.6...), so any dotted number is taken.
    if (!s.source_id.empty() && !IsDottedNumber(s.source_id)) {
      Meta(s.id, what + ": sourceId '" + s.source_id + "' must be an OID of at most 64 characters");
    }
    Required(s.submission_time, what, s.id, "submissionTime");
    Time(s.submission_time, what, s.id, "submissionTime");
    Authors(s.authors, what, s.id);
  }

  void CheckDocument(const DocumentEntry& d) {
    const std::string what = "DocumentEntry " + d.id;
    if (d.object_type != uuids::kDocumentEntryStable && d.object_type != uuids::kDocumentEntryOnDemand) {
      Meta(d.id, what + ": objectType '" + d.object_type +
                     "' is neither the stable nor the on-demand DocumentEntry type");
    }
    if (d.OnDemand() && c_.kind == SubmissionKind::kProvideAndRegister) {
      Meta(d.id, what + ": an On-Demand DocumentEntry cannot be submitted with a document (ITI-41)");
    }
    bool limited = Limited(d, what);
    Required(d.mime_type, what, d.id, "mimeType");
    if (!d.mime_type.empty() && d.mime_type.find('/') == std::string::npos) {
      Meta(d.id, what + ": mimeType '" + d.mime_type + "' is not a MIME type");
    }
    Required(d.unique_id, what, d.id, "uniqueId");
    if (!d.unique_id.empty() && !IsValidDocumentUniqueId(d.unique_id)) {
      Meta(d.id, what + ": uniqueId '" + d.unique_id +
                     "' must be an OID (max 64 characters) or OID^extension (extension max 16)");
    }
    if (!limited) {
      Required(d.patient_id, what, d.id, "patientId");
      Required(d.creation_time, what, d.id, "creationTime");
      Required(d.language_code, what, d.id, "languageCode");
      Required(d.source_patient_id, what, d.id, "sourcePatientId");
      if (d.confidentiality_codes.empty()) Meta(d.id, what + ": confidentialityCode is required");
    }
    RequiredCode(d.class_code, what, d.id, "classCode", !limited);
    RequiredCode(d.type_code, what, d.id, "typeCode", !limited);
    RequiredCode(d.format_code, what, d.id, "formatCode", !limited);
    RequiredCode(d.healthcare_facility_type_code, what, d.id, "healthcareFacilityTypeCode", !limited);
    RequiredCode(d.practice_setting_code, what, d.id, "practiceSettingCode", !limited);
    for (const Code& c : d.confidentiality_codes) CheckCode(c, what, d.id, "confidentialityCode");
    for (const Code& c : d.event_codes) CheckCode(c, what, d.id, "eventCodeList");
    PatientIdFormat(d.patient_id, what, d.id);
    if (!d.source_patient_id.empty() && d.source_patient_id.find("^^^") == std::string::npos) {
      Meta(d.id, what + ": sourcePatientId '" + d.source_patient_id + "' is not in CX form");
    }
    Time(d.creation_time, what, d.id, "creationTime");
    Time(d.service_start_time, what, d.id, "serviceStartTime");
    Time(d.service_stop_time, what, d.id, "serviceStopTime");
    if (IsValidDtm(d.service_start_time) && IsValidDtm(d.service_stop_time)) {
      size_t n = std::min(d.service_start_time.size(), d.service_stop_time.size());
      if (d.service_start_time.compare(0, n, d.service_stop_time, 0, n) > 0) {
        Meta(d.id, what + ": serviceStartTime is after serviceStopTime");
      }
    }
    // The Repository computes hash, size and repositoryUniqueId: a Document Source may omit
    // them (ITI-41), a Repository registering (ITI-42) must send them.
    bool from_repository = c_.kind != SubmissionKind::kProvideAndRegister && !d.OnDemand();
    if (from_repository && !limited) {
      Required(d.hash, what, d.id, "hash");
      Required(d.size, what, d.id, "size");
      Required(d.repository_unique_id, what, d.id, "repositoryUniqueId");
    }
    if (d.OnDemand()) Required(d.repository_unique_id, what, d.id, "repositoryUniqueId");
    if (!d.hash.empty() && !IsHex40(d.hash)) {
      // In ITI-41 the Repository checks the Document Source's hash (ITI TF-2b 3.41.4.1.3).
      Error(c_.kind == SubmissionKind::kProvideAndRegister ? "XDSRepositoryMetadataError" : kMetadataError, d.id,
            what + ": hash must be the SHA-1 of the document in 40 hexadecimal digits");
    }
    if (!d.size.empty() && !AllDigits(d.size)) Meta(d.id, what + ": size must be a decimal integer");
    if (!d.repository_unique_id.empty() && !IsValidOid(d.repository_unique_id)) {
      Meta(d.id, what + ": repositoryUniqueId '" + d.repository_unique_id + "' is not an OID");
    }
    Authors(d.authors, what, d.id);
  }

  void CheckFolder(const Folder& f) {
    const std::string what = "Folder " + f.id;
    bool limited = Limited(f, what);
    if (!limited) {
      Required(f.patient_id, what, f.id, "patientId");
      Required(f.title, what, f.id, "title");
      if (f.codes.empty()) Meta(f.id, what + ": codeList needs at least one code");
    }
    for (const Code& c : f.codes) CheckCode(c, what, f.id, "codeList");
    PatientIdFormat(f.patient_id, what, f.id);
    Required(f.unique_id, what, f.id, "uniqueId");
    if (!f.unique_id.empty() && !IsValidOid(f.unique_id)) {
      Meta(f.id, what + ": uniqueId '" + f.unique_id + "' must be an OID of at most 64 characters");
    }
    Time(f.last_update_time, what, f.id, "lastUpdateTime");
  }

  // The SubmissionSet's patient is the submission's patient: every entry and folder in it must
  // carry the identical CX value (spec/xds.md; XDSPatientIdDoesNotMatch).
  void PatientIds() {
    if (m_.submission_sets.empty()) return;
    const std::string& pid = m_.submission_sets[0].patient_id;
    if (pid.empty()) return;
    for (const DocumentEntry& d : m_.documents) {
      if (!d.patient_id.empty() && d.patient_id != pid) {
        Error("XDSPatientIdDoesNotMatch", d.id,
              "DocumentEntry " + d.id + ": patientId " + d.patient_id +
                  " differs from the SubmissionSet's " + pid);
      }
    }
    for (const Folder& f : m_.folders) {
      if (!f.patient_id.empty() && f.patient_id != pid) {
        Error("XDSPatientIdDoesNotMatch", f.id,
              "Folder " + f.id + ": patientId " + f.patient_id + " differs from the SubmissionSet's " + pid);
      }
    }
  }

  void UniqueIds() {
    std::map<std::string, std::string> first;
    auto note = [&](const std::string& uid, const std::string& id) {
      if (uid.empty()) return;
      auto [it, fresh] = first.emplace(uid, id);
      if (!fresh) {
        Error("XDSRegistryDuplicateUniqueIdInMessage", id,
              "uniqueId " + uid + " of " + id + " is also the uniqueId of " + it->second);
      }
    };
    for (const auto& d : m_.documents) note(d.unique_id, d.id);
    for (const auto& s : m_.submission_sets) note(s.unique_id, s.id);
    for (const auto& f : m_.folders) note(f.unique_id, f.id);
  }

  // ITI-41: documents and DocumentEntries pair up by id.
  void Documents() {
    std::map<std::string, int> docs;
    for (const std::string& id : c_.document_ids) {
      if (++docs[id] == 2) {
        Error(kRepositoryMetadataError, id, "xds:Document id " + id + " is given more than once");
      }
    }
    for (const DocumentEntry& d : m_.documents) {
      if (d.OnDemand()) continue;
      if (!docs.count(d.id)) {
        Error("XDSMissingDocument", d.id,
              "DocumentEntry " + d.id + " has no xds:Document in the message");
      }
    }
    for (const auto& [id, n] : docs) {
      const DocumentEntry* d = m_.FindDocument(id);
      if (!d || d->OnDemand()) {
        Error("XDSMissingDocumentMetadata", id,
              "xds:Document " + id + " has no DocumentEntry (ExtrinsicObject) in the metadata");
      }
    }
  }

  // A reference from an association: an object of the message, or an existing object named by
  // its UUID (recorded for the caller), or an error.
  bool Resolve(const Association& a, const std::string& ref, const char* end) {
    const std::string what = "Association " + a.id;
    if (ref.empty()) {
      Meta(a.id, what + ": " + end + " is required");
      return false;
    }
    if (ref == a.id) {
      Meta(a.id, what + ": " + end + " points at the association itself");
      return false;
    }
    if (m_.Contains(ref)) return true;
    if (IsUuidUrn(ref)) {
      r_->external_references.insert(ref);
      return true;
    }
    Error("UnresolvedReferenceException", a.id,
          what + ": " + end + " '" + ref +
              "' is neither an object of this message nor a urn:uuid of an existing one");
    return false;
  }

  bool InMessageDocument(const std::string& id) const { return m_.FindDocument(id) != nullptr; }

  void CheckAssociation(const Association& a) {
    const std::string what = "Association " + a.id;
    if (a.id.empty()) return;  // reported by the reader
    bool source_ok = Resolve(a, a.source, "sourceObject");
    bool target_ok = Resolve(a, a.target, "targetObject");
    if (a.type == AssociationType::kUnknown) {
      Meta(a.id, what + ": unknown associationType '" + a.type_uri + "'");
      return;
    }
    if (!source_ok || !target_ok) return;
    if (a.source == a.target) Meta(a.id, what + ": source and target are the same object");
    const bool update = c_.kind == SubmissionKind::kUpdate;
    switch (a.type) {
      case AssociationType::kHasMember: HasMember(a); break;
      case AssociationType::kReplace:
      case AssociationType::kTransform:
      case AssociationType::kAppend:
      case AssociationType::kTransformAndReplace: {
        // ITI TF-3 4.2.2: the new DocumentEntry is in the submission, the original is an
        // existing registry entry.
        if (!InMessageDocument(a.source)) {
          Meta(a.id, what + ": the sourceObject of " + a.type_uri +
                         " must be a DocumentEntry of this submission");
        }
        if (New(a.target)) {
          Meta(a.id, what + ": the targetObject of " + a.type_uri +
                         " must be an existing DocumentEntry (urn:uuid), not one of this submission");
        }
        break;
      }
      case AssociationType::kSigns:
        if (!InMessageDocument(a.source)) {
          Meta(a.id, what + ": the sourceObject of signs must be a DocumentEntry of this submission");
        }
        break;
      case AssociationType::kUpdateAvailabilityStatus:
        if (!update) Meta(a.id, what + ": UpdateAvailabilityStatus belongs to ITI-57 only");
        if (!m_.FindSubmissionSet(a.source)) {
          Meta(a.id, what + ": the sourceObject of UpdateAvailabilityStatus must be the SubmissionSet");
        }
        if (New(a.target)) {
          Meta(a.id, what + ": UpdateAvailabilityStatus must target an existing object (urn:uuid)");
        }
        for (const auto& [slot, value] : {std::pair<const char*, const std::string*>{"OriginalStatus", &a.original_status},
                                          {"NewStatus", &a.new_status}}) {
          if (value->empty()) {
            Meta(a.id, what + ": Slot " + slot + " is required");
          } else if (*value != kStatusApproved && *value != kStatusDeprecated) {
            Meta(a.id, what + ": Slot " + slot + " '" + *value + "' is not an availabilityStatus");
          }
        }
        break;
      case AssociationType::kSubmitAssociation:
        if (!update) Meta(a.id, what + ": SubmitAssociation belongs to ITI-57 only");
        if (!m_.FindSubmissionSet(a.source) || !m_.FindAssociation(a.target)) {
          Meta(a.id, what + ": SubmitAssociation links the SubmissionSet to an Association of this submission");
        }
        break;
      case AssociationType::kIsSnapshotOf:
        if (!InMessageDocument(a.source)) {
          Meta(a.id, what + ": the sourceObject of IsSnapshotOf must be a DocumentEntry of this submission");
        }
        break;
      case AssociationType::kUnknown: break;
    }
  }

  void HasMember(const Association& a) {
    const std::string what = "Association " + a.id;
    const SubmissionSet* ss = m_.FindSubmissionSet(a.source);
    if (ss) {
      bool in_message = New(a.target);
      const std::string& st = a.submission_set_status;
      // ITI TF-3 4.2.2.1.1: the slot is required on a SubmissionSet -> DocumentEntry HasMember
      // (a new entry, or an existing one named by urn:uuid, which can only be a DocumentEntry
      // here) and optional on SubmissionSet -> Folder and SubmissionSet -> Association.
      bool to_document = m_.FindDocument(a.target) != nullptr || !in_message;
      if (st.empty()) {
        if (to_document)
          Meta(a.id, what + ": HasMember from the SubmissionSet needs Slot SubmissionSetStatus");
      } else if (st != "Original" && st != "Reference") {
        Meta(a.id, what + ": SubmissionSetStatus '" + st + "' is neither Original nor Reference");
      } else if (in_message && st != "Original" && !m_.FindAssociation(a.target)) {
        Meta(a.id, what + ": an object submitted in this message is a member with status Original");
      }
      if (m_.FindSubmissionSet(a.target)) {
        Meta(a.id, what + ": a SubmissionSet cannot be a member of a SubmissionSet");
      }
      const DocumentEntry* d = m_.FindDocument(a.target);
      if (c_.kind == SubmissionKind::kUpdate && d && a.previous_version.empty()) {
        Meta(a.id, what + ": an updated DocumentEntry needs Slot PreviousVersion (ITI-57)");
      }
      return;
    }
    if (m_.FindFolder(a.source) || (!New(a.source) && IsUuidUrn(a.source))) {
      // Folder membership: Folder (new or existing) -> DocumentEntry (new or existing).
      if (New(a.target) && !m_.FindDocument(a.target)) {
        Meta(a.id, what + ": a Folder's members are DocumentEntries");
      }
      return;
    }
    Meta(a.id, what + ": the sourceObject of HasMember must be the SubmissionSet or a Folder");
  }

  // Every DocumentEntry and Folder of the message belongs to the SubmissionSet, and so does
  // every Folder->DocumentEntry HasMember association.
  void Membership() {
    if (m_.submission_sets.size() != 1) return;
    const std::string& ss = m_.submission_sets[0].id;
    std::set<std::string> members;
    for (const Association& a : m_.associations) {
      if (a.type == AssociationType::kHasMember && a.source == ss) members.insert(a.target);
    }
    for (const DocumentEntry& d : m_.documents) {
      if (!members.count(d.id)) {
        Meta(d.id, "DocumentEntry " + d.id + " is not a member (HasMember) of SubmissionSet " + ss);
      }
    }
    for (const Folder& f : m_.folders) {
      if (!members.count(f.id)) {
        Meta(f.id, "Folder " + f.id + " is not a member (HasMember) of SubmissionSet " + ss);
      }
    }
    for (const Association& a : m_.associations) {
      if (a.type == AssociationType::kHasMember && a.source != ss && m_.FindFolder(a.source) &&
          !members.count(a.id)) {
        Meta(a.id, "Association " + a.id + " (Folder membership) is not a member of SubmissionSet " + ss);
      }
    }
  }

  const RegistryObjectList& m_;
  const ValidationContext& c_;
  ValidationResult* r_;
};

}  // namespace

bool ValidationResult::ok() const {
  return std::none_of(errors.begin(), errors.end(), [](const RegistryError& e) {
    return e.severity == RegistryError::Severity::kError;
  });
}

ValidationResult ValidateSubmission(const RegistryObjectList& metadata,
                                    const ValidationContext& context,
                                    const std::vector<RegistryError>& reader_problems) {
  ValidationResult result;
  result.errors = reader_problems;
  Validator(metadata, context, &result).Run();
  return result;
}

// Digits and dots, at least two arcs, no empty arc, at most 64 characters.
bool IsDottedNumber(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.front() == '.' || text.back() == '.') return false;
  int arcs = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      if (text[i - 1] == '.') return false;
      ++arcs;
    } else if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return arcs >= 2;
}

bool IsValidOid(std::string_view oid) {
  if (oid.empty() || oid.size() > 64) return false;
  size_t start = 0;
  int arcs = 0;
  while (true) {
    size_t dot = oid.find('.', start);
    std::string_view arc = oid.substr(start, dot == std::string_view::npos ? oid.npos : dot - start);
    if (!AllDigits(arc) || (arc.size() > 1 && arc[0] == '0')) return false;
    if (arcs == 0 && (arc.size() != 1 || arc[0] > '2')) return false;
    ++arcs;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return arcs >= 2;
}

bool IsValidDocumentUniqueId(std::string_view uid) {
  size_t caret = uid.find('^');
  if (caret == std::string_view::npos) return IsValidOid(uid);
  std::string_view ext = uid.substr(caret + 1);
  if (ext.empty() || ext.size() > 16 || ext.find('^') != std::string_view::npos) return false;
  return IsValidOid(uid.substr(0, caret));
}

bool IsValidCxPatientId(std::string_view cx) {
  // id ^ ^ ^ &OID&ISO [ ^ type ]
  size_t c1 = cx.find('^');
  if (c1 == 0 || c1 == std::string_view::npos) return false;
  std::string_view id = cx.substr(0, c1);
  if (id.find('&') != std::string_view::npos) return false;
  if (cx.substr(c1, 4) != "^^^&") return false;
  std::string_view rest = cx.substr(c1 + 4);
  size_t amp = rest.find('&');
  if (amp == std::string_view::npos) return false;
  if (!IsValidOid(rest.substr(0, amp))) return false;
  rest = rest.substr(amp + 1);
  if (rest.substr(0, 3) != "ISO") return false;
  rest = rest.substr(3);
  if (rest.empty()) return true;
  if (rest[0] != '^' || rest.size() < 2) return false;
  rest = rest.substr(1);
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

bool IsValidDtm(std::string_view dtm) {
  if (!AllDigits(dtm)) return false;
  switch (dtm.size()) {
    case 4: case 6: case 8: case 10: case 12: case 14: break;
    default: return false;
  }
  auto part = [&](size_t at) { return (dtm[at] - '0') * 10 + (dtm[at + 1] - '0'); };
  if (dtm.size() >= 6 && (part(4) < 1 || part(4) > 12)) return false;
  if (dtm.size() >= 8) {
    int year = std::stoi(std::string(dtm.substr(0, 4)));
    int month = part(4);
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max_day = kDays[month - 1];
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) max_day = 29;
    if (part(6) < 1 || part(6) > max_day) return false;
  }
  if (dtm.size() >= 10 && part(8) > 23) return false;
  if (dtm.size() >= 12 && part(10) > 59) return false;
  if (dtm.size() >= 14 && part(12) > 59) return false;
  return true;
}

}  // namespace carnet::xds
