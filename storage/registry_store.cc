#include "storage/registry_store.h"

#include "storage/document_content.h"

namespace carnet::storage {
namespace {

SqlParam OrNull(const std::string& v) { return v.empty() ? SqlParam::Null() : SqlParam::Text(v); }

SqlParam Key(long long patient_key) { return SqlParam::Text(std::to_string(patient_key)); }

SqlParam Array(const std::vector<std::string>& values) {
  return SqlParam::Text(TextArrayLiteral(values));
}

Status Done(const Result<PgResult>& r) { return r.ok() ? Status::Ok() : r.status(); }

// The first column of the first row, as the INSERT ... RETURNING entry_uuid gives it.
Result<std::string> Returned(Result<PgResult> r) {
  if (!r.ok()) return r.status();
  return r->GetString(0, 0);
}

// The first row of `r` as `read` makes it, nullopt when there is none.
template <typename Row, typename Read>
Result<std::optional<Row>> FirstRow(Result<PgResult> r, Read read) {
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<Row>();
  return std::optional<Row>(read(*r));
}

// The first column of the first row.
Result<std::optional<std::string>> FirstText(Result<PgResult> r) {
  return FirstRow<std::string>(std::move(r), [](const PgResult& p) { return p.GetString(0, 0); });
}

constexpr Statement kDeleteAssociations{
    "registry_index_delete_assoc",
    "DELETE FROM association WHERE source_uuid IN (SELECT entry_uuid FROM registry_object "
    "WHERE res_type = $1 AND res_id = $2)"};

constexpr Statement kDelete{"registry_index_delete",
                            "DELETE FROM registry_object WHERE res_type = $1 AND res_id = $2"};

constexpr Statement kInsertEntry{
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

constexpr Statement kInsertSubmissionSet{
    "registry_index_insert_set",
    "INSERT INTO registry_object (patient_key, entry_uuid, object_type, res_type, res_id, "
    "unique_id, "
    "logical_id, availability_status, patient_id, content_type_code, content_type_scheme, "
    "submission_time, author_persons, source_id) VALUES ($1::bigint, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'SubmissionSet', $3, $4, $5, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Approved', $6, $7, $8, $9::timestamptz, "
    "$10::text[], $11) RETURNING entry_uuid"};

constexpr Statement kInsertFolder{
    "registry_index_insert_folder",
    "INSERT INTO registry_object (patient_key, entry_uuid, object_type, res_type, res_id, "
    "unique_id, "
    "logical_id, availability_status, patient_id, last_update_time) VALUES ($1::bigint, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Folder', $3, $4, $5, "
    "coalesce($2::uuid, md5($3 || '/' || $4)::uuid), 'Approved', $6, $7::timestamptz) RETURNING "
    "entry_uuid"};

constexpr Statement kInsertCodes{
    "registry_index_insert_codes",
    "INSERT INTO registry_code (patient_key, entry_uuid, scheme, code, code_system) "
    "SELECT $1::bigint, $2::uuid, s, c, cs FROM unnest($3::text[], $4::text[], $5::text[]) "
    "AS u(s, c, cs)"};

// Targets ("DocumentReference/id", "List/id") are found among registry objects.
constexpr Statement kInsertAssociations{
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

// The target must be an association of the same record: a List cannot name another record's.
constexpr Statement kInsertAssociationMembers{
    "registry_index_insert_assoc_members",
    "INSERT INTO association (patient_key, entry_uuid, association_type, source_uuid, target_uuid, "
    "submission_set_status) SELECT $1::bigint, t.id::uuid, "
    "'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', $2::uuid, m.entry_uuid, "
    "nullif(t.status, '') FROM unnest($3::text[], $4::text[], $5::text[]) AS t(id, target, status) "
    "JOIN association m ON m.entry_uuid = t.target::uuid AND m.patient_key = $1::bigint "
    "ON CONFLICT (entry_uuid) DO NOTHING"};

constexpr Statement kPatient{
    "registry_patient_cx",
    "SELECT coalesce(ins, ''), coalesce(ins_system, ''), coalesce(resource_id, '') "
    "FROM patient WHERE patient_key = $1::bigint"};

constexpr Statement kFolder{
    "xds_existing_folder",
    "SELECT res_id FROM registry_object WHERE object_type = 'Folder' AND entry_uuid = $1::uuid"};

constexpr Statement kKnownHash{
    "xds_known_hash",
    "SELECT coalesce(encode(hash_sha1, 'hex'), '') FROM registry_object WHERE unique_id = $1 "
    "AND object_type = 'DocumentEntry'"};

constexpr Statement kLockEntry{
    "xds_find_entry_key",
    "SELECT o.res_id, o.version, r.content, r.patient_key FROM registry_object o JOIN resource "
    "r ON r.res_type = o.res_type AND r.res_id = o.res_id AND NOT r.deleted "
    "WHERE o.object_type = 'DocumentEntry' AND (o.entry_uuid = $1::uuid OR o.logical_id = "
    "$1::uuid) "
    "FOR UPDATE OF r"};

constexpr Statement kObject{
    "xds_remove_object",
    "SELECT object_type, res_type, res_id, entry_uuid::text FROM registry_object "
    "WHERE entry_uuid = $1::uuid OR (object_type = 'DocumentEntry' AND logical_id = $1::uuid)"};

constexpr Statement kAssociation{
    "xds_remove_association",
    "SELECT a.association_type, a.source_uuid::text, a.target_uuid::text, "
    "coalesce(o.object_type, ''), "
    "coalesce(o.res_type, ''), coalesce(o.res_id, ''), coalesce(t.res_type || '/' || t.res_id, "
    "'') "
    "FROM association a LEFT JOIN registry_object o ON o.entry_uuid = a.source_uuid "
    "LEFT JOIN registry_object t ON t.entry_uuid = a.target_uuid WHERE a.entry_uuid = $1::uuid"};

constexpr Statement kTouching{"xds_remove_references",
                              "SELECT entry_uuid::text FROM association WHERE "
                              "source_uuid = $1::uuid OR target_uuid = $1::uuid"};

constexpr Statement kRetrieve{
    "xds_retrieve",
    "SELECT d.res_id, b.content, b.content_sha256 IS NOT NULL, c.data FROM registry_object o "
    "JOIN resource d ON d.res_type = o.res_type AND d.res_id = o.res_id AND NOT d.deleted "
    "LEFT JOIN resource b ON b.res_type = 'Binary' AND NOT b.deleted AND b.res_id = "
    "substring(d.content::jsonb #>> '{content,0,attachment,url}' from '^Binary/(.*)$') "
    "LEFT JOIN document_content c ON c.patient_key = b.patient_key AND c.sha256 = "
    "b.content_sha256 "
    "WHERE o.object_type = 'DocumentEntry' AND o.unique_id = $1"};

constexpr Statement kVersions{
    "xds_entry_versions",
    "SELECT res_id, content FROM resource_history WHERE res_type = 'DocumentReference' "
    "AND res_id = ANY($1::text[]) AND NOT deleted ORDER BY res_id, version_id DESC"};

}  // namespace

Status DeleteRegistryObject(Transaction& tx, const std::string& res_type,
                            const std::string& res_id) {
  CARNET_RETURN_IF_ERROR(
      Done(tx.Run(kDeleteAssociations, {SqlParam::Text(res_type), SqlParam::Text(res_id)})));
  return Done(tx.Run(kDelete, {SqlParam::Text(res_type), SqlParam::Text(res_id)}));
}

Result<std::string> InsertDocumentEntryRow(Transaction& tx, const DocumentEntryRows& rows) {
  return Returned(tx.Run(kInsertEntry, rows.entry));
}

Result<std::string> InsertSubmissionSetRow(Transaction& tx, const RegistryListRow& row) {
  return Returned(tx.Run(
      kInsertSubmissionSet,
      {Key(row.patient_key), OrNull(row.entry_uuid), SqlParam::Text(row.res_type),
       SqlParam::Text(row.res_id), SqlParam::Text(row.unique_id), SqlParam::Text(row.patient_id),
       OrNull(row.content_type_code), OrNull(row.content_type_scheme), OrNull(row.time),
       Array(row.author_persons), OrNull(row.source_id)}));
}

Result<std::string> InsertFolderRow(Transaction& tx, const RegistryListRow& row) {
  return Returned(tx.Run(
      kInsertFolder, {Key(row.patient_key), OrNull(row.entry_uuid), SqlParam::Text(row.res_type),
                      SqlParam::Text(row.res_id), SqlParam::Text(row.unique_id),
                      SqlParam::Text(row.patient_id), OrNull(row.time)}));
}

Status InsertRegistryCodes(Transaction& tx, long long patient_key, const std::string& entry_uuid,
                           const std::vector<std::string>& schemes,
                           const std::vector<std::string>& codes,
                           const std::vector<std::string>& systems) {
  if (schemes.empty()) return Status::Ok();
  return Done(tx.Run(kInsertCodes, {Key(patient_key), SqlParam::Text(entry_uuid), Array(schemes),
                                    Array(codes), Array(systems)}));
}

Status InsertAssociations(Transaction& tx, long long patient_key, const std::string& source_uuid,
                          const std::vector<std::string>& kinds,
                          const std::vector<std::string>& targets,
                          const std::vector<std::string>& ids) {
  if (kinds.empty()) return Status::Ok();
  return Done(tx.Run(kInsertAssociations, {Key(patient_key), SqlParam::Text(source_uuid),
                                           Array(kinds), Array(targets), Array(ids)}));
}

Status InsertAssociationMembers(Transaction& tx, long long patient_key,
                                const std::string& source_uuid, const std::vector<std::string>& ids,
                                const std::vector<std::string>& targets,
                                const std::vector<std::string>& statuses) {
  if (ids.empty()) return Status::Ok();
  return Done(tx.Run(kInsertAssociationMembers, {Key(patient_key), SqlParam::Text(source_uuid),
                                                 Array(ids), Array(targets), Array(statuses)}));
}

Result<std::optional<RegistryPatientRow>> ReadRegistryPatient(Transaction& tx,
                                                              long long patient_key) {
  return FirstRow<RegistryPatientRow>(tx.Run(kPatient, {Key(patient_key)}), [](const PgResult& r) {
    return RegistryPatientRow{r.GetString(0, 0), r.GetString(0, 1), r.GetString(0, 2)};
  });
}

Result<std::optional<std::string>> FindFolder(Transaction& tx, const std::string& uuid) {
  return FirstText(tx.Run(kFolder, {SqlParam::Text(uuid)}));
}

Result<std::optional<std::string>> RegisteredDocumentHash(Transaction& tx,
                                                          const std::string& unique_id) {
  return FirstText(tx.Run(kKnownHash, {SqlParam::Text(unique_id)}));
}

Result<std::optional<DocumentEntryVersionRow>> LockDocumentEntry(Transaction& tx,
                                                                 const std::string& uuid) {
  return FirstRow<DocumentEntryVersionRow>(tx.Run(kLockEntry, {SqlParam::Text(uuid)}),
                                           [](const PgResult& r) {
                                             DocumentEntryVersionRow row;
                                             row.res_id = r.GetString(0, 0);
                                             row.version = static_cast<int>(r.GetInt(0, 1));
                                             row.content = r.GetString(0, 2);
                                             if (!r.IsNull(0, 3)) row.patient_key = r.GetInt(0, 3);
                                             return row;
                                           });
}

Result<std::optional<RegistryObjectRef>> FindRegistryObject(Transaction& tx,
                                                            const std::string& uuid) {
  return FirstRow<RegistryObjectRef>(
      tx.Run(kObject, {SqlParam::Text(uuid)}), [](const PgResult& r) {
        return RegistryObjectRef{r.GetString(0, 0), r.GetString(0, 1), r.GetString(0, 2),
                                 r.GetString(0, 3)};
      });
}

Result<std::optional<AssociationEndsRow>> FindAssociation(Transaction& tx,
                                                          const std::string& uuid) {
  return FirstRow<AssociationEndsRow>(
      tx.Run(kAssociation, {SqlParam::Text(uuid)}), [](const PgResult& r) {
        return AssociationEndsRow{r.GetString(0, 0), r.GetString(0, 1), r.GetString(0, 2),
                                  r.GetString(0, 3), r.GetString(0, 4), r.GetString(0, 5),
                                  r.GetString(0, 6)};
      });
}

Result<std::vector<std::string>> AssociationsTouching(Transaction& tx, const std::string& uuid) {
  auto r = tx.Run(kTouching, {SqlParam::Text(uuid)});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->GetString(i, 0));
  return out;
}

Result<std::optional<RetrievableDocumentRow>> FindDocumentByUniqueId(Transaction& tx,
                                                                     const std::string& unique_id) {
  return FirstRow<RetrievableDocumentRow>(tx.Run(kRetrieve, {SqlParam::Text(unique_id)}),
                                          [](const PgResult& r) {
                                            RetrievableDocumentRow row;
                                            row.res_id = r.GetString(0, 0);
                                            if (!r.IsNull(0, 1))
                                              row.binary_content = r.GetString(0, 1);
                                            row.bytes_elsewhere = r.GetBool(0, 2);
                                            if (!r.IsNull(0, 3))
                                              row.bytes = ByteaFromText(r.Get(0, 3));
                                            return row;
                                          });
}

Result<std::vector<ResourceVersionRow>> DocumentReferenceVersions(
    Transaction& tx, const std::vector<std::string>& res_ids) {
  auto r = tx.Run(kVersions, {Array(res_ids)});
  if (!r.ok()) return r.status();
  std::vector<ResourceVersionRow> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->GetString(i, 0), r->GetString(i, 1)});
  return out;
}

}  // namespace carnet::storage
