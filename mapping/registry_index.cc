#include "mapping/registry_index.h"

#include <cctype>

#include "mapping/document_entry.h"

namespace carnet::mapping {
namespace {

using storage::SqlParam;

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

SqlParam OrNull(const std::string& v) { return v.empty() ? SqlParam::Null() : SqlParam::Text(v); }

// DTM -> timestamptz text (UTC); NULL when absent or malformed.
SqlParam Timestamp(const std::string& dtm) {
  std::string fhir = FhirDateTimeFromDtm(dtm);
  if (fhir.empty()) return SqlParam::Null();
  if (fhir.size() == 4) fhir += "-01-01";
  if (fhir.size() == 7) fhir += "-01";
  return SqlParam::Text(fhir);
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

const storage::Statement kDelete{
    "registry_index_delete",
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
    if (std::isxdigit(static_cast<unsigned char>(c))) digits.push_back(std::stoi(std::string(1, c), nullptr, 16));
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

Result<std::string> PatientCxOf(storage::Transaction& tx, long long patient_key) {
  auto r = tx.Run(kPatientCx, {SqlParam::Text(std::to_string(patient_key))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("no record " + std::to_string(patient_key));
  std::string ins = r->GetString(0, 0), system = r->GetString(0, 1), id = r->GetString(0, 2);
  if (!ins.empty() && !system.empty()) return ins + "^^^&" + system + "&ISO";
  return id + "^^^&" + std::string(kLocalPatientIdAuthority) + "&ISO";
}

Status UpdateRegistryIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                           const JsonValue* resource) {
  if (stored.type != "DocumentReference") return Status::Ok();
  auto del = tx.Run(kDelete, {SqlParam::Text(stored.type), SqlParam::Text(stored.id)});
  if (!del.ok()) return del.status();
  // Deleted, or not in a patient's record (the registry is per patient): nothing to index.
  if (!resource || !stored.patient_key) return Status::Ok();
  auto cx = PatientCxOf(tx, *stored.patient_key);
  if (!cx.ok()) return cx.status();
  auto entry = EntryFromDocumentReference(*resource, *cx);
  if (!entry.ok()) return entry.status();
  const xds::DocumentEntry& e = *entry;
  std::string entry_uuid;
  for (const auto& ident : resource->Find("identifier") ? resource->Find("identifier")->items()
                                                         : std::vector<JsonValue>{}) {
    std::string v = ident.GetString("value");
    if (v.rfind("urn:uuid:", 0) == 0 && IsUuid(v.substr(9))) entry_uuid = v.substr(9);
  }
  if (entry_uuid.empty() && IsUuid(stored.id)) entry_uuid = stored.id;
  std::string unique_id = e.unique_id;
  if (unique_id.empty()) unique_id = OidFromUuid(entry_uuid.empty() ? stored.id : entry_uuid);
  std::string lid = e.lid.rfind("urn:uuid:", 0) == 0 ? e.lid.substr(9) : "";
  std::vector<std::string> authors;
  for (const auto& a : e.authors)
    if (!a.person.empty()) authors.push_back(a.person);
  std::string status = e.status == xds::kStatusDeprecated ? "Deprecated" : "Approved";
  auto ins = tx.Run(kInsertEntry,
                    {SqlParam::Text(std::to_string(*stored.patient_key)), OrNull(entry_uuid),
                     SqlParam::Text(stored.type), SqlParam::Text(stored.id), SqlParam::Text(unique_id),
                     OrNull(lid), SqlParam::Text(e.version.empty() ? "1" : e.version),
                     SqlParam::Text(status), SqlParam::Text(e.object_type),
                     SqlParam::Text(e.repository_unique_id.empty() ? kRepositoryUniqueId
                                                                   : e.repository_unique_id),
                     SqlParam::Text(e.patient_id), OrNull(e.source_patient_id),
                     OrNull(e.class_code.code), OrNull(e.class_code.scheme),
                     OrNull(e.type_code.code), OrNull(e.type_code.scheme),
                     OrNull(e.format_code.code), OrNull(e.format_code.scheme),
                     OrNull(e.healthcare_facility_type_code.code),
                     OrNull(e.healthcare_facility_type_code.scheme),
                     OrNull(e.practice_setting_code.code), OrNull(e.practice_setting_code.scheme),
                     Timestamp(e.creation_time), Timestamp(e.service_start_time),
                     Timestamp(e.service_stop_time), OrNull(e.mime_type),
                     e.size.empty() ? SqlParam::Null() : SqlParam::Text(e.size),
                     e.hash.size() == 40 ? SqlParam::Text(e.hash) : SqlParam::Null(),
                     SqlParam::Text(TextArray(authors)), OrNull(e.home)});
  if (!ins.ok()) {
    if (ins.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate,
                    "a document with uniqueId " + unique_id + " is already registered",
                    "DocumentReference.masterIdentifier");
    return ins.status();
  }
  std::string uuid = ins->GetString(0, 0);
  std::vector<std::string> schemes, codes, systems;
  for (const auto& c : e.event_codes) {
    schemes.push_back("eventCode");
    codes.push_back(c.code);
    systems.push_back(c.scheme);
  }
  for (const auto& c : e.confidentiality_codes) {
    schemes.push_back("confidentialityCode");
    codes.push_back(c.code);
    systems.push_back(c.scheme);
  }
  if (schemes.empty()) return Status::Ok();
  auto codes_r = tx.Run(kInsertCodes, {SqlParam::Text(std::to_string(*stored.patient_key)),
                                       SqlParam::Text(uuid), SqlParam::Text(TextArray(schemes)),
                                       SqlParam::Text(TextArray(codes)),
                                       SqlParam::Text(TextArray(systems))});
  return codes_r.ok() ? Status::Ok() : codes_r.status();
}

}  // namespace carnet::mapping
