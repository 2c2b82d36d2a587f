#include "mapping/registry_index.h"

#include <cctype>

#include "base/strings.h"
#include "mapping/document_entry.h"

namespace carnet::mapping {
namespace {

using storage::SqlParam;

SqlParam OrNull(const std::string& v) { return v.empty() ? SqlParam::Null() : SqlParam::Text(v); }

// DTM -> timestamptz text (UTC); NULL when absent or malformed.
SqlParam Timestamp(const std::string& dtm) {
  std::string ts = TimestampFromDtm(dtm);
  return ts.empty() ? SqlParam::Null() : SqlParam::Text(ts);
}

}  // namespace

std::string OidFromUuid(const std::string& uuid) {
  // 128-bit hex -> decimal by repeated division of the digit string.
  std::vector<int> digits;  // base 16, most significant first
  for (char c : uuid)
    if (std::isxdigit(static_cast<unsigned char>(c)))
      digits.push_back(std::stoi(std::string(1, c), nullptr, 16));
  std::string dec;
  while (!digits.empty()) {
    std::vector<int> quotient;
    int rem = 0;
    for (int d : digits) {
      int cur = rem * 16 + d;
      int q = cur / 10;
      rem = cur % 10;
      if (!quotient.empty() || q != 0) quotient.push_back(q);
    }
    dec.insert(dec.begin(), static_cast<char>('0' + rem));
    digits = std::move(quotient);
  }
  return "2.25." + (dec.empty() ? std::string("0") : dec);
}

std::string PatientCx(const std::string& ins, const std::string& ins_system,
                      const std::string& resource_id) {
  if (!ins.empty() && !ins_system.empty()) return ins + "^^^&" + ins_system + "&ISO";
  return resource_id + "^^^&" + std::string(kLocalPatientIdAuthority) + "&ISO";
}

std::pair<std::string, std::string> PatientIdentifierOfCx(const std::string& cx) {
  size_t caret = cx.find("^^^&");
  if (caret == std::string::npos) return {};
  std::string id = cx.substr(0, caret);
  std::string rest = cx.substr(caret + 4);
  size_t amp = rest.find('&');
  if (amp == std::string::npos) return {};
  return {"urn:oid:" + rest.substr(0, amp), id};
}

Result<std::string> PatientCxOf(storage::Transaction& tx, long long patient_key) {
  auto r = storage::ReadRegistryPatient(tx, patient_key);
  if (!r.ok()) return r.status();
  if (!*r) return NotFound("no record " + std::to_string(patient_key));
  return PatientCx((*r)->ins, (*r)->ins_system, (*r)->resource_id);
}

namespace {

std::string RefId(const std::string& ref, const std::string& type) {
  return ref.rfind(type + "/", 0) == 0 ? ref.substr(type.size() + 1) : "";
}

// HasMember targets of a List's entries: DocumentReferences and (for a SubmissionSet) the
// Folders it holds.
// The entryUUID an association was submitted with (extension xds-association-id on a List
// entry or a relatesTo), or "" (then derived).
std::string AssociationId(const JsonValue& element) {
  if (const JsonValue* exts = element.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items())
      if (x.GetString("url") == std::string(kExtensionBase) + "xds-association-id") {
        std::string v = x.GetString("valueUri");
        v = v.rfind("urn:uuid:", 0) == 0 ? v.substr(9) : v;
        return IsUuid(v) ? v : "";
      }
  return "";
}

void MemberTargets(const JsonValue& list, std::vector<std::string>& kinds,
                   std::vector<std::string>& targets, std::vector<std::string>& ids) {
  if (const JsonValue* entries = list.Find("entry"); entries && entries->is_array())
    for (const auto& e : entries->items()) {
      std::string ref = e.Find("item") ? e.Find("item")->GetString("reference") : "";
      if (RefId(ref, "DocumentReference").empty() && RefId(ref, "List").empty()) continue;
      kinds.push_back("urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember");
      targets.push_back(ref);
      ids.push_back(AssociationId(e));
    }
}

std::string MemberExtensionUrl() { return std::string(kExtensionBase) + "xds-association-member"; }

std::string BareUuid(const std::string& v) {
  return v.rfind("urn:uuid:", 0) == 0 ? v.substr(9) : v;
}

// The registry row of a SubmissionSet or Folder List, a taken uniqueId said in `what`'s words.
Result<std::string> InsertListRow(storage::Transaction& tx, const storage::RegistryListRow& row,
                                  const char* what) {
  auto ins = what == std::string_view("folder") ? storage::InsertFolderRow(tx, row)
                                                : storage::InsertSubmissionSetRow(tx, row);
  if (!ins.ok() && ins.status().code() == ErrorCode::kDuplicate)
    return Status(ErrorCode::kDuplicate, std::string("a ") + what + " with uniqueId " +
                                             row.unique_id + " is already registered");
  return ins;
}

// The HasMember associations from a List (its row `uuid`) to its entries.
Status IndexMembers(storage::Transaction& tx, long long patient_key, const std::string& uuid,
                    const JsonValue& list) {
  std::vector<std::string> kinds, targets, ids;
  MemberTargets(list, kinds, targets, ids);
  return storage::InsertAssociations(tx, patient_key, uuid, kinds, targets, ids);
}

// A Folder List: its registry row, its codeList (registry_code, scheme folderCode) and the
// HasMember associations to its documents.
Status IndexFolder(storage::Transaction& tx, const storage::StoredResource& stored,
                   const JsonValue& resource) {
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  xds::Folder folder = FolderFromList(resource, *cx);
  storage::RegistryListRow row;
  row.patient_key = *stored.patient_key;
  row.entry_uuid = folder.id.rfind("urn:uuid:", 0) == 0 ? folder.id.substr(9) : "";
  if (!IsUuid(row.entry_uuid)) row.entry_uuid.clear();
  row.res_type = stored.type;
  row.res_id = stored.id;
  row.unique_id = folder.unique_id.empty()
                      ? OidFromUuid(row.entry_uuid.empty() ? stored.id : row.entry_uuid)
                      : folder.unique_id;
  row.patient_id = *cx;
  row.time = resource.GetString("date");
  auto uuid = InsertListRow(tx, row, "folder");
  if (!uuid.ok()) return uuid.status();
  std::vector<std::string> schemes, codes, systems;
  for (const auto& c : folder.codes) {
    schemes.push_back("folderCode");
    codes.push_back(c.code);
    systems.push_back(c.scheme);
  }
  CARNET_RETURN_IF_ERROR(
      storage::InsertRegistryCodes(tx, row.patient_key, *uuid, schemes, codes, systems));
  return IndexMembers(tx, row.patient_key, *uuid, resource);
}

// A SubmissionSet List: its registry row, the HasMembers to its entries and those of the
// associations it holds (AssociationMember).
Status IndexSubmissionSet(storage::Transaction& tx, const storage::StoredResource& stored,
                          const JsonValue& resource) {
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  storage::RegistryListRow row;
  row.patient_key = *stored.patient_key;
  row.res_type = stored.type;
  row.res_id = stored.id;
  row.patient_id = *cx;
  if (const JsonValue* ids = resource.Find("identifier"); ids && ids->is_array())
    for (const auto& ident : ids->items()) {
      std::string v = ident.GetString("value");
      if (ident.GetString("use") == "official" && v.rfind("urn:uuid:", 0) == 0 &&
          IsUuid(v.substr(9)))
        row.entry_uuid = v.substr(9);
      else if (ident.GetString("use") == "usual")
        row.unique_id = v.rfind("urn:oid:", 0) == 0 ? v.substr(8) : v;
    }
  if (row.unique_id.empty())
    row.unique_id = OidFromUuid(row.entry_uuid.empty() ? stored.id : row.entry_uuid);
  if (const JsonValue* exts = resource.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items()) {
      std::string url = x.GetString("url");
      if (url.find("ihe-designationType") != std::string::npos) {
        if (const JsonValue* cc = x.Find("valueCodeableConcept");
            cc && cc->Find("coding") && !cc->Find("coding")->items().empty()) {
          const JsonValue& c = cc->Find("coding")->items()[0];
          row.content_type_code = c.GetString("code");
          row.content_type_scheme = SchemeFromSystem(c.GetString("system"));
        }
      } else if (url.find("ihe-sourceId") != std::string::npos) {
        row.source_id = x.GetString("valueString");
        if (row.source_id.rfind("urn:oid:", 0) == 0) row.source_id = row.source_id.substr(8);
      } else if (url == std::string(kExtensionBase) + "xds-author") {
        if (const JsonValue* sub = x.Find("extension"))
          for (const auto& y : sub->items())
            if (y.GetString("url") == "person")
              row.author_persons.push_back(y.GetString("valueString"));
      }
    }
  row.time = resource.GetString("date");
  auto uuid = InsertListRow(tx, row, "submission set");
  if (!uuid.ok()) return uuid.status();
  CARNET_RETURN_IF_ERROR(IndexMembers(tx, row.patient_key, *uuid, resource));
  std::vector<std::string> member_ids, member_targets, statuses;
  for (const auto& m : AssociationMembersOf(resource)) {
    member_ids.push_back(BareUuid(m.id));
    member_targets.push_back(BareUuid(m.target));
    statuses.push_back(m.submission_set_status);
  }
  return storage::InsertAssociationMembers(tx, row.patient_key, *uuid, member_ids, member_targets,
                                           statuses);
}

}  // namespace

Status UpdateRegistryIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                           const JsonValue* resource) {
  if (stored.type != "List" && stored.type != "DocumentReference") return Status::Ok();
  CARNET_RETURN_IF_ERROR(storage::DeleteRegistryObject(tx, stored.type, stored.id));
  // Deleted, or not in a patient's record (the registry is per patient): nothing to index.
  if (!resource || !stored.patient_key) return Status::Ok();
  if (stored.type == "List") {
    // Only MHD SubmissionSet and Folder Lists are registry objects.
    std::string list_type = MhdListType(*resource);
    if (list_type.empty()) return Status::Ok();
    if (list_type == "folder") return IndexFolder(tx, stored, *resource);
    return IndexSubmissionSet(tx, stored, *resource);
  }
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  auto rows = DocumentEntryRowsOf(stored, *resource, *cx, AuthorResolver(tx));
  if (!rows.ok()) return rows.status();
  auto uuid = storage::InsertDocumentEntryRow(tx, *rows);
  if (!uuid.ok()) {
    if (uuid.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate,
                    "a document with uniqueId " + rows->unique_id + " is already registered",
                    "DocumentReference.masterIdentifier");
    return uuid.status();
  }
  CARNET_RETURN_IF_ERROR(storage::InsertRegistryCodes(
      tx, *stored.patient_key, *uuid, rows->code_schemes, rows->codes, rows->code_systems));
  return storage::InsertAssociations(tx, *stored.patient_key, *uuid, rows->assoc_kinds,
                                     rows->assoc_targets, rows->assoc_ids);
}

JsonValue AssociationIdExtension(const std::string& id) {
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(std::string(kExtensionBase) + "xds-association-id"));
  ext.Set("valueUri", JsonValue::String(id.rfind("urn:uuid:", 0) == 0 ? id : "urn:uuid:" + id));
  return ext;
}

JsonValue RelatesToOf(const xds::Association& a, const std::string& target_res_id) {
  JsonValue rel = JsonValue::Object();
  JsonValue exts = JsonValue::Array();
  exts.Append(AssociationIdExtension(a.id));
  if (a.type == xds::AssociationType::kTransformAndReplace) {
    JsonValue ext = JsonValue::Object();
    ext.Set("url", JsonValue::String(std::string(kExtensionBase) + "xds-association-type"));
    ext.Set("valueUri", JsonValue::String(a.type_uri));
    exts.Append(std::move(ext));
  }
  rel.Set("extension", std::move(exts));
  const char* code = xds::RelatesToCodeOf(a.type);
  rel.Set("code", JsonValue::String(code ? code : ""));
  JsonValue ref = JsonValue::Object();
  ref.Set("reference", JsonValue::String("DocumentReference/" + target_res_id));
  rel.Set("target", std::move(ref));
  return rel;
}

JsonValue AssociationMemberExtension(const AssociationMember& member) {
  auto part = [](const char* url, const char* type, const std::string& value) {
    JsonValue x = JsonValue::Object();
    x.Set("url", JsonValue::String(url));
    x.Set(type, JsonValue::String(value));
    return x;
  };
  JsonValue parts = JsonValue::Array();
  parts.Append(part("id", "valueUri", "urn:uuid:" + BareUuid(member.id)));
  parts.Append(part("target", "valueUri", "urn:uuid:" + BareUuid(member.target)));
  if (!member.submission_set_status.empty())
    parts.Append(part("submissionSetStatus", "valueCode", member.submission_set_status));
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(MemberExtensionUrl()));
  ext.Set("extension", std::move(parts));
  return ext;
}

std::vector<AssociationMember> AssociationMembersOf(const JsonValue& list) {
  std::vector<AssociationMember> out;
  const JsonValue* exts = list.Find("extension");
  if (!exts || !exts->is_array()) return out;
  for (const auto& x : exts->items()) {
    if (x.GetString("url") != MemberExtensionUrl()) continue;
    AssociationMember m;
    if (const JsonValue* parts = x.Find("extension"); parts && parts->is_array())
      for (const auto& p : parts->items()) {
        std::string url = p.GetString("url");
        if (url == "id") m.id = p.GetString("valueUri");
        if (url == "target") m.target = p.GetString("valueUri");
        if (url == "submissionSetStatus") m.submission_set_status = p.GetString("valueCode");
      }
    // Both ends must be UUIDs: anything else names no association.
    if (IsUuid(BareUuid(m.id)) && IsUuid(BareUuid(m.target))) out.push_back(std::move(m));
  }
  return out;
}

Result<DocumentEntryRows> DocumentEntryRowsOf(const storage::StoredResource& stored,
                                              const JsonValue& resource,
                                              const std::string& patient_cx,
                                              const AuthorLookup& resolve) {
  auto entry = EntryFromDocumentReference(resource, patient_cx, resolve);
  if (!entry.ok()) return entry.status();
  const xds::DocumentEntry& e = *entry;
  std::string entry_uuid;
  for (const auto& ident : resource.Find("identifier") ? resource.Find("identifier")->items()
                                                       : std::vector<JsonValue>{}) {
    std::string v = ident.GetString("value");
    if (v.rfind("urn:uuid:", 0) == 0 && IsUuid(v.substr(9))) entry_uuid = v.substr(9);
  }
  if (entry_uuid.empty() && IsUuid(stored.id)) entry_uuid = stored.id;
  DocumentEntryRows rows;
  rows.unique_id = e.unique_id;
  if (rows.unique_id.empty())
    rows.unique_id = OidFromUuid(entry_uuid.empty() ? stored.id : entry_uuid);
  std::string lid = e.lid.rfind("urn:uuid:", 0) == 0 ? e.lid.substr(9) : "";
  std::vector<std::string> authors;
  for (const auto& a : e.authors)
    if (!a.person.empty()) authors.push_back(a.person);
  std::string status = e.status == xds::kStatusDeprecated ? "Deprecated" : "Approved";
  rows.entry = {
      SqlParam::Text(std::to_string(*stored.patient_key)),
      OrNull(entry_uuid),
      SqlParam::Text(stored.type),
      SqlParam::Text(stored.id),
      SqlParam::Text(rows.unique_id),
      OrNull(lid),
      SqlParam::Text(e.version.empty() ? "1" : e.version),
      SqlParam::Text(status),
      SqlParam::Text(e.object_type),
      SqlParam::Text(e.repository_unique_id.empty() ? kRepositoryUniqueId : e.repository_unique_id),
      SqlParam::Text(e.patient_id),
      OrNull(e.source_patient_id),
      OrNull(e.class_code.code),
      OrNull(e.class_code.scheme),
      OrNull(e.type_code.code),
      OrNull(e.type_code.scheme),
      OrNull(e.format_code.code),
      OrNull(e.format_code.scheme),
      OrNull(e.healthcare_facility_type_code.code),
      OrNull(e.healthcare_facility_type_code.scheme),
      OrNull(e.practice_setting_code.code),
      OrNull(e.practice_setting_code.scheme),
      Timestamp(e.creation_time),
      Timestamp(e.service_start_time),
      Timestamp(e.service_stop_time),
      OrNull(e.mime_type),
      e.size.empty() ? SqlParam::Null() : SqlParam::Text(e.size),
      e.hash.size() == 40 ? SqlParam::Text(e.hash) : SqlParam::Null(),
      SqlParam::Text(storage::TextArrayLiteral(authors)),
      OrNull(e.home)};
  auto code = [&](const char* scheme, const std::string& c, const std::string& system) {
    rows.code_schemes.push_back(scheme);
    rows.codes.push_back(c);
    rows.code_systems.push_back(system);
  };
  for (const auto& c : e.event_codes) code("eventCode", c.code, c.scheme);
  for (const auto& c : e.confidentiality_codes) code("confidentialityCode", c.code, c.scheme);
  // referenceIdList values (CXi), for FindDocumentsByReferenceId.
  for (const auto& ref : e.reference_id_list) code("referenceId", ref, "");
  // relatesTo -> RPLC / XFRM / APND / signs associations (IHE MHD).
  if (const JsonValue* rel = resource.Find("relatesTo"); rel && rel->is_array())
    for (const auto& r : rel->items()) {
      std::string c = r.GetString("code");
      xds::AssociationType type = xds::AssociationTypeOfRelatesTo(c);
      std::string kind = type == xds::AssociationType::kUnknown
                             ? std::string()
                             : std::string(xds::AssociationTypeUri(type));
      if (const JsonValue* exts = r.Find("extension"); exts && exts->is_array())
        for (const auto& x : exts->items())
          if (x.GetString("url") == std::string(kExtensionBase) + "xds-association-type" &&
              !kind.empty())
            kind = x.GetString("valueUri");
      std::string id = RefId(r.Find("target") ? r.Find("target")->GetString("reference") : "",
                             "DocumentReference");
      if (kind.empty() || id.empty()) continue;
      rows.assoc_kinds.push_back(kind);
      rows.assoc_targets.push_back("DocumentReference/" + id);
      rows.assoc_ids.push_back(AssociationId(r));
    }
  return rows;
}

std::function<JsonValue(const std::string&)> AuthorResolver(storage::Transaction& tx) {
  return [&tx](const std::string& ref) -> JsonValue {
    size_t slash = ref.find('/');
    if (slash == std::string::npos || ref.find('/', slash + 1) != std::string::npos)
      return JsonValue();
    std::string type = ref.substr(0, slash);
    if (type != "Practitioner" && type != "PractitionerRole" && type != "Organization")
      return JsonValue();
    auto stored = storage::ReadCurrent(tx, type, ref.substr(slash + 1), false);
    if (!stored.ok() || !*stored || (*stored)->deleted) return JsonValue();
    auto json = ParseJson((*stored)->content);
    return json.ok() ? std::move(json).value() : JsonValue();
  };
}

}  // namespace carnet::mapping
