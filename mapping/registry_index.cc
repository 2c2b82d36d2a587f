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

const storage::Statement kDelete{"registry_index_delete",
                                 "DELETE FROM registry_object WHERE res_type = $1 AND res_id = $2"};

const storage::Statement kInsertEntry{
    "registry_index_insert_entry",
    "INSERT INTO registry_object (patient_key, entry_uuid, object_type, res_type, res_id, "
    "unique_id, logical_id, version, availability_status, entry_type, repository_unique_id, "
    "patient_id, source_patient_id, class_code, class_scheme, type_code, type_scheme, "
    "format_code, format_scheme, hcft_code, hcft_scheme, practice_setting_code, "
    "practice_setting_scheme, creation_time, service_start_time, service_stop_time, mime_type, "
    "size, hash_sha1, author_persons, home_community_id) VALUES ($1::bigint, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'DocumentEntry', $3, $4, $5, "
    "coalesce($6::uuid, $2::uuid, md5($3 || '/' || $4)::uuid), $7::int, $8, $9, $10, $11, $12, "
    "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23::timestamptz, $24::timestamptz, "
    "$25::timestamptz, $26, $27::bigint, decode($28, 'hex'), $29::text[], $30) "
    "RETURNING entry_uuid"};

const storage::Statement kInsertCodes{
    "registry_index_insert_codes",
    "INSERT INTO registry_code (patient_key, entry_uuid, scheme, code, code_system) "
    "SELECT $1::bigint, $2::uuid, s, c, cs FROM unnest($3::text[], $4::text[], $5::text[]) "
    "AS u(s, c, cs)"};

const storage::Statement kPatientCx{
    "registry_patient_cx",
    "SELECT coalesce(ins, ''), coalesce(ins_system, ''), coalesce(resource_id, '') "
    "FROM patient WHERE patient_key = $1::bigint"};

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

Result<std::string> PatientCxOf(storage::Transaction& tx, long long patient_key) {
  auto r = tx.Run(kPatientCx, {SqlParam::Text(std::to_string(patient_key))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("no record " + std::to_string(patient_key));
  return PatientCx(r->GetString(0, 0), r->GetString(0, 1), r->GetString(0, 2));
}

namespace {

const storage::Statement kDeleteAssociations{
    "registry_index_delete_assoc",
    "DELETE FROM association WHERE source_uuid IN (SELECT entry_uuid FROM registry_object "
    "WHERE res_type = $1 AND res_id = $2)"};

// Association rows from this object to the resources it references: HasMember for the
// entries of a SubmissionSet or Folder List, RPLC/XFRM/APND/signs for a DocumentReference's
// relatesTo. Targets ("DocumentReference/id", "List/id") are found among registry objects.
const storage::Statement kInsertAssociations{
    "registry_index_insert_assoc",
    "INSERT INTO association (patient_key, entry_uuid, association_type, source_uuid, target_uuid, "
    "submission_set_status) SELECT $1::bigint, "
    "coalesce(nullif(t.assoc_id, '')::uuid, md5($2 || t.kind || o.entry_uuid::text)::uuid), "
    "t.kind, "
    "$2::uuid, o.entry_uuid, CASE WHEN t.kind LIKE '%:HasMember' THEN 'Original' END "
    "FROM unnest($3::text[], $4::text[], $5::text[]) AS t(kind, ref, assoc_id) "
    "JOIN registry_object o ON o.res_type IN ('DocumentReference', 'List') "
    "AND strpos(t.ref, '/') > 0 AND o.res_type = split_part(t.ref, '/', 1) "
    "AND o.res_id = substr(t.ref, strpos(t.ref, '/') + 1) "
    "ON CONFLICT (entry_uuid) DO NOTHING"};

const storage::Statement kInsertSubmissionSet{
    "registry_index_insert_set",
    "INSERT INTO registry_object (patient_key, entry_uuid, object_type, res_type, res_id, "
    "unique_id, "
    "logical_id, availability_status, patient_id, content_type_code, content_type_scheme, "
    "submission_time, author_persons, source_id) VALUES ($1::bigint, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'SubmissionSet', $3, $4, $5, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Approved', $6, $7, $8, $9::timestamptz, "
    "$10::text[], $11) RETURNING entry_uuid"};

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

// The SubmissionSet's HasMembers of associations (AssociationMember): a row each, whose target
// is an association of the same record (a List cannot name another record's association).
const storage::Statement kInsertAssociationMembers{
    "registry_index_insert_assoc_members",
    "INSERT INTO association (patient_key, entry_uuid, association_type, source_uuid, target_uuid, "
    "submission_set_status) SELECT $1::bigint, t.id::uuid, "
    "'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', $2::uuid, m.entry_uuid, "
    "nullif(t.status, '') FROM unnest($3::text[], $4::text[], $5::text[]) AS t(id, target, status) "
    "JOIN association m ON m.entry_uuid = t.target::uuid AND m.patient_key = $1::bigint "
    "ON CONFLICT (entry_uuid) DO NOTHING"};

std::string MemberExtensionUrl() { return std::string(kExtensionBase) + "xds-association-member"; }

std::string BareUuid(const std::string& v) {
  return v.rfind("urn:uuid:", 0) == 0 ? v.substr(9) : v;
}

const storage::Statement kInsertFolder{
    "registry_index_insert_folder",
    "INSERT INTO registry_object (patient_key, entry_uuid, object_type, res_type, res_id, "
    "unique_id, "
    "logical_id, availability_status, patient_id, last_update_time) VALUES ($1::bigint, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Folder', $3, $4, $5, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Approved', $6, $7::timestamptz) RETURNING "
    "entry_uuid"};

// A Folder List: its registry row, its codeList (registry_code, scheme folderCode) and the
// HasMember associations to its documents.
Status IndexFolder(storage::Transaction& tx, const storage::StoredResource& stored,
                   const JsonValue& resource) {
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  xds::Folder folder = FolderFromList(resource, *cx);
  std::string entry_uuid = folder.id.rfind("urn:uuid:", 0) == 0 ? folder.id.substr(9) : "";
  if (!IsUuid(entry_uuid)) entry_uuid.clear();
  std::string unique_id = folder.unique_id.empty()
                              ? OidFromUuid(entry_uuid.empty() ? stored.id : entry_uuid)
                              : folder.unique_id;
  std::string date = resource.GetString("date");
  std::string key = std::to_string(*stored.patient_key);
  auto ins = tx.Run(kInsertFolder,
                    {SqlParam::Text(key), OrNull(entry_uuid), SqlParam::Text(stored.type),
                     SqlParam::Text(stored.id), SqlParam::Text(unique_id), SqlParam::Text(*cx),
                     date.empty() ? SqlParam::Null() : SqlParam::Text(date)});
  if (!ins.ok()) {
    if (ins.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate,
                    "a folder with uniqueId " + unique_id + " is already registered");
    return ins.status();
  }
  std::string uuid = ins->GetString(0, 0);
  std::vector<std::string> schemes, codes, systems;
  for (const auto& c : folder.codes) {
    schemes.push_back("folderCode");
    codes.push_back(c.code);
    systems.push_back(c.scheme);
  }
  if (!schemes.empty()) {
    auto r = tx.Run(kInsertCodes, {SqlParam::Text(key), SqlParam::Text(uuid),
                                   SqlParam::Text(storage::TextArrayLiteral(schemes)),
                                   SqlParam::Text(storage::TextArrayLiteral(codes)),
                                   SqlParam::Text(storage::TextArrayLiteral(systems))});
    if (!r.ok()) return r.status();
  }
  std::vector<std::string> kinds, targets, ids;
  MemberTargets(resource, kinds, targets, ids);
  if (kinds.empty()) return Status::Ok();
  auto assoc = tx.Run(kInsertAssociations, {SqlParam::Text(key), SqlParam::Text(uuid),
                                            SqlParam::Text(storage::TextArrayLiteral(kinds)),
                                            SqlParam::Text(storage::TextArrayLiteral(targets)),
                                            SqlParam::Text(storage::TextArrayLiteral(ids))});
  return assoc.ok() ? Status::Ok() : assoc.status();
}

}  // namespace

Status UpdateRegistryIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                           const JsonValue* resource) {
  if (stored.type == "List") {
    auto del_assoc =
        tx.Run(kDeleteAssociations, {SqlParam::Text(stored.type), SqlParam::Text(stored.id)});
    if (!del_assoc.ok()) return del_assoc.status();
    auto del = tx.Run(kDelete, {SqlParam::Text(stored.type), SqlParam::Text(stored.id)});
    if (!del.ok()) return del.status();
    if (!resource || !stored.patient_key) return Status::Ok();
    // Only MHD SubmissionSet and Folder Lists are registry objects.
    std::string list_type = MhdListType(*resource);
    if (list_type.empty()) return Status::Ok();
    if (list_type == "folder") return IndexFolder(tx, stored, *resource);
    auto cx = PatientCxOf(tx, *stored.patient_key);
    if (!cx.ok()) return cx.status();
    std::string entry_uuid, unique_id;
    if (const JsonValue* ids = resource->Find("identifier"); ids && ids->is_array())
      for (const auto& ident : ids->items()) {
        std::string v = ident.GetString("value");
        if (ident.GetString("use") == "official" && v.rfind("urn:uuid:", 0) == 0 &&
            IsUuid(v.substr(9)))
          entry_uuid = v.substr(9);
        else if (ident.GetString("use") == "usual")
          unique_id = v.rfind("urn:oid:", 0) == 0 ? v.substr(8) : v;
      }
    if (unique_id.empty()) unique_id = OidFromUuid(entry_uuid.empty() ? stored.id : entry_uuid);
    xds::Code content_type;
    std::vector<std::string> authors;
    std::string source_id;
    if (const JsonValue* exts = resource->Find("extension"); exts && exts->is_array())
      for (const auto& x : exts->items()) {
        std::string url = x.GetString("url");
        if (url.find("ihe-designationType") != std::string::npos) {
          if (const JsonValue* cc = x.Find("valueCodeableConcept");
              cc && cc->Find("coding") && !cc->Find("coding")->items().empty()) {
            const JsonValue& c = cc->Find("coding")->items()[0];
            content_type.code = c.GetString("code");
            content_type.scheme = SchemeFromSystem(c.GetString("system"));
          }
        } else if (url.find("ihe-sourceId") != std::string::npos) {
          source_id = x.GetString("valueString");
          if (source_id.rfind("urn:oid:", 0) == 0) source_id = source_id.substr(8);
        } else if (url == std::string(kExtensionBase) + "xds-author") {
          if (const JsonValue* sub = x.Find("extension"))
            for (const auto& y : sub->items())
              if (y.GetString("url") == "person") authors.push_back(y.GetString("valueString"));
        }
      }
    std::string date = resource->GetString("date");
    auto ins =
        tx.Run(kInsertSubmissionSet,
               {SqlParam::Text(std::to_string(*stored.patient_key)), OrNull(entry_uuid),
                SqlParam::Text(stored.type), SqlParam::Text(stored.id), SqlParam::Text(unique_id),
                SqlParam::Text(*cx), OrNull(content_type.code), OrNull(content_type.scheme),
                date.empty() ? SqlParam::Null() : SqlParam::Text(date),
                SqlParam::Text(storage::TextArrayLiteral(authors)), OrNull(source_id)});
    if (!ins.ok()) {
      if (ins.status().code() == ErrorCode::kDuplicate)
        return Status(ErrorCode::kDuplicate,
                      "a submission set with uniqueId " + unique_id + " is already registered");
      return ins.status();
    }
    std::vector<std::string> kinds, targets, ids;
    MemberTargets(*resource, kinds, targets, ids);
    if (!kinds.empty()) {
      auto assoc = tx.Run(kInsertAssociations, {SqlParam::Text(std::to_string(*stored.patient_key)),
                                                SqlParam::Text(ins->GetString(0, 0)),
                                                SqlParam::Text(storage::TextArrayLiteral(kinds)),
                                                SqlParam::Text(storage::TextArrayLiteral(targets)),
                                                SqlParam::Text(storage::TextArrayLiteral(ids))});
      if (!assoc.ok()) return assoc.status();
    }
    std::vector<std::string> member_ids, member_targets, statuses;
    for (const auto& m : AssociationMembersOf(*resource)) {
      member_ids.push_back(BareUuid(m.id));
      member_targets.push_back(BareUuid(m.target));
      statuses.push_back(m.submission_set_status);
    }
    if (member_ids.empty()) return Status::Ok();
    auto members = tx.Run(
        kInsertAssociationMembers,
        {SqlParam::Text(std::to_string(*stored.patient_key)), SqlParam::Text(ins->GetString(0, 0)),
         SqlParam::Text(storage::TextArrayLiteral(member_ids)),
         SqlParam::Text(storage::TextArrayLiteral(member_targets)),
         SqlParam::Text(storage::TextArrayLiteral(statuses))});
    return members.ok() ? Status::Ok() : members.status();
  }
  if (stored.type != "DocumentReference") return Status::Ok();
  auto del_assoc =
      tx.Run(kDeleteAssociations, {SqlParam::Text(stored.type), SqlParam::Text(stored.id)});
  if (!del_assoc.ok()) return del_assoc.status();
  auto del = tx.Run(kDelete, {SqlParam::Text(stored.type), SqlParam::Text(stored.id)});
  if (!del.ok()) return del.status();
  // Deleted, or not in a patient's record (the registry is per patient): nothing to index.
  if (!resource || !stored.patient_key) return Status::Ok();
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  auto rows = DocumentEntryRowsOf(stored, *resource, *cx, AuthorResolver(tx));
  if (!rows.ok()) return rows.status();
  auto ins = tx.Run(kInsertEntry, rows->entry);
  if (!ins.ok()) {
    if (ins.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate,
                    "a document with uniqueId " + rows->unique_id + " is already registered",
                    "DocumentReference.masterIdentifier");
    return ins.status();
  }
  std::string uuid = ins->GetString(0, 0);
  std::string key = std::to_string(*stored.patient_key);
  if (!rows->code_schemes.empty()) {
    auto codes_r =
        tx.Run(kInsertCodes, {SqlParam::Text(key), SqlParam::Text(uuid),
                              SqlParam::Text(storage::TextArrayLiteral(rows->code_schemes)),
                              SqlParam::Text(storage::TextArrayLiteral(rows->codes)),
                              SqlParam::Text(storage::TextArrayLiteral(rows->code_systems))});
    if (!codes_r.ok()) return codes_r.status();
  }
  if (rows->assoc_kinds.empty()) return Status::Ok();
  auto assoc =
      tx.Run(kInsertAssociations, {SqlParam::Text(key), SqlParam::Text(uuid),
                                   SqlParam::Text(storage::TextArrayLiteral(rows->assoc_kinds)),
                                   SqlParam::Text(storage::TextArrayLiteral(rows->assoc_targets)),
                                   SqlParam::Text(storage::TextArrayLiteral(rows->assoc_ids))});
  return assoc.ok() ? Status::Ok() : assoc.status();
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
