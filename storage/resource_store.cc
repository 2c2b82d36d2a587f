#include "storage/resource_store.h"

#include "base/json.h"
#include "base/strings.h"
#include "storage/document_content.h"
#include "storage/record_context_sql.h"

namespace carnet::storage {
namespace {

// Timestamps leave PostgreSQL in the form FHIR's instant requires.
#define CARNET_INSTANT(col) \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// A record's Binary names its bytes by hash (content_sha256): the read joins them back, as the
// base64 the JSON `data` holds, with the hash itself (a hash without bytes is a broken store).
#define CARNET_CONTENT_COLUMNS \
  "translate(encode(dc.data, 'base64'), E'\\n', ''), encode(r.content_sha256, 'hex')"
#define CARNET_CONTENT_JOIN                                             \
  " LEFT JOIN document_content dc ON r.content_sha256 IS NOT NULL AND " \
  "dc.patient_key = r.patient_key AND dc.sha256 = r.content_sha256 "

const Statement kRead{
    "resource_read",
    "SELECT r.patient_key, r.version_id, " CARNET_INSTANT("r.last_updated") ", r.deleted, "
    "coalesce(r.content, ''), r.security, " CARNET_CONTENT_COLUMNS " FROM resource r"
    CARNET_CONTENT_JOIN "WHERE r.res_type = $1 AND r.res_id = $2"};

const Statement kReadLocked{
    "resource_read_locked",
    "SELECT r.patient_key, r.version_id, " CARNET_INSTANT("r.last_updated") ", r.deleted, "
    "coalesce(r.content, ''), r.security, " CARNET_CONTENT_COLUMNS " FROM resource r"
    CARNET_CONTENT_JOIN "WHERE r.res_type = $1 AND r.res_id = $2 FOR UPDATE OF r"};

const Statement kReadVersion{
    "resource_read_version",
    "SELECT r.patient_key, r.version_id, " CARNET_INSTANT("r.last_updated") ", r.deleted, "
    "coalesce(r.content, ''), r.method, " CARNET_CONTENT_COLUMNS " FROM resource_history r"
    CARNET_CONTENT_JOIN "WHERE r.res_type = $1 AND r.res_id = $2 AND r.version_id = $3::int"};

// One round trip: the history row first (its primary key catches a concurrent writer of
// the same version), then the current row.
const Statement kWrite{
    "resource_write",
    "WITH h AS (INSERT INTO resource_history (patient_key, res_type, res_id, version_id, "
    "last_updated, deleted, method, content, content_sha256) VALUES ($1::bigint, $2, $3, "
    "$4::int, $5::timestamptz, $6::boolean, $7, $8, decode(nullif($10, ''), 'hex')) "
    "RETURNING 1) "
    "INSERT INTO resource (patient_key, res_type, res_id, version_id, last_updated, deleted, "
    "security, content, content_sha256) SELECT $1::bigint, $2, $3, $4::int, $5::timestamptz, "
    "$6::boolean, $9::text[], $8, decode(nullif($10, ''), 'hex') FROM h "
    "ON CONFLICT (res_type, res_id) DO UPDATE SET patient_key = excluded.patient_key, "
    "version_id = excluded.version_id, last_updated = excluded.last_updated, "
    "deleted = excluded.deleted, security = excluded.security, content = excluded.content, "
    "content_sha256 = excluded.content_sha256 "
    "WHERE resource.version_id = excluded.version_id - 1"};

const Statement kFindPatient{"patient_by_resource",
                             "SELECT patient_key FROM patient WHERE resource_id = $1"};

const Statement kCreatePatient{
    "patient_create",
    "INSERT INTO patient (resource_id, ins, ins_system) VALUES ($1, nullif($2, ''), "
    "nullif($3, '')) RETURNING patient_key"};

// `data_col`: the base64 of the bytes, then their hash (CARNET_CONTENT_COLUMNS).
Result<StoredResource> FromRow(const PgResult& r, int row, const std::string& type,
                               const std::string& id, int data_col) {
  StoredResource s;
  if (!r.IsNull(row, 0)) s.patient_key = r.GetInt(row, 0);
  s.type = type;
  s.id = id;
  s.version = static_cast<int>(r.GetInt(row, 1));
  s.last_updated = r.GetString(row, 2);
  s.deleted = r.GetBool(row, 3);
  s.content = r.GetString(row, 4);
  if (!s.deleted && !r.IsNull(row, data_col + 1)) {
    s.content_sha256 = r.GetString(row, data_col + 1);
    if (r.IsNull(row, data_col))
      return Internal(type + "/" + id + ": its content (SHA-256 " + s.content_sha256 +
                      ") is missing from document_content");
    // The stored JSON is an object without `data`: the bytes go back in before its end.
    size_t end = s.content.rfind('}');
    if (end == std::string::npos) return Internal(type + "/" + id + " is unreadable");
    bool empty = s.content.find_first_not_of(" \t\r\n{", 0) == end;
    std::string_view data = r.Get(row, data_col);
    std::string joined;
    joined.reserve(s.content.size() + data.size() + 12);
    joined.append(s.content, 0, end);
    joined.append(empty ? "\"data\":\"" : ",\"data\":\"");
    joined.append(data);
    joined.append("\"}");
    s.content = std::move(joined);
  }
  return s;
}

// A record's Binary with inline bytes: the bytes go to document_content, `s.content` loses
// its `data` and gains their hash. Anything else is left as it is.
Status MoveBytesOut(Transaction& tx, StoredResource& s) {
  if (s.type != "Binary" || s.deleted || !s.patient_key ||
      s.content.find("\"data\"") == std::string::npos)
    return Status::Ok();
  auto json = ParseJson(s.content);
  if (!json.ok()) return Internal("Binary/" + s.id + " is not JSON");
  const JsonValue* data = json->Find("data");
  if (!data || !data->is_string()) return Status::Ok();
  auto bytes = Base64Decode(data->text());
  if (!bytes) return Invalid("Binary.data is not base64", "Binary.data");
  auto sha = PutDocumentContent(tx, *s.patient_key, *bytes, json->GetString("contentType"));
  if (!sha.ok()) return sha.status();
  json->Remove("data");
  s.content = WriteJson(*json);
  s.content_sha256 = *sha;
  return Status::Ok();
}

// Runs a single read statement on a pooled connection, retrying once on a connection that
// died while idle (nothing was done, so the retry is safe).
Result<PgResult> ReadOnce(Pool& pool, const Statement& stmt, const SqlParams& params) {
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    auto r = (*lease)->Run(stmt, params);
    if (r.ok() || !(*lease)->broken()) return r;
    last = r.status();
  }
  return last;
}

}  // namespace

Result<StoredResource> ResourceReader::Read(const std::string& type, const std::string& id) {
  auto r = ReadOnce(pool_, kRead, {SqlParam::Text(type), SqlParam::Text(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound(type + "/" + id + " is not known");
  return FromRow(*r, 0, type, id, 6);
}

Result<StoredResource> ResourceReader::ReadVersion(const std::string& type, const std::string& id,
                                                   int version) {
  auto r =
      ReadOnce(pool_, kReadVersion,
               {SqlParam::Text(type), SqlParam::Text(id), SqlParam::Text(std::to_string(version))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0)
    return NotFound(type + "/" + id + " has no version " + std::to_string(version));
  auto s = FromRow(*r, 0, type, id, 6);
  if (s.ok()) s->method = r->GetString(0, 5);
  return s;
}

Result<std::optional<StoredResource>> ReadCurrent(Transaction& tx, const std::string& type,
                                                  const std::string& id, bool lock) {
  auto r = tx.Run(lock ? kReadLocked : kRead, {SqlParam::Text(type), SqlParam::Text(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredResource>();
  auto s = FromRow(*r, 0, type, id, 6);
  if (!s.ok()) return s.status();
  return std::optional<StoredResource>(std::move(*s));
}

Result<std::optional<ResourceWithRecord>> ReadCurrentWithRecord(Transaction& tx,
                                                                const std::string& type,
                                                                const std::string& id,
                                                                const RecordRowParts& parts) {
  // The read of kRead and ReadRecordRow's columns for the resource's record, in one
  // statement: a read by id then costs one round trip where it cost two.
  static constexpr Statement kReadWithRecord{
      "resource_read_with_record",
      "SELECT r.patient_key, r.version_id, " CARNET_INSTANT("r.last_updated") ", r.deleted, "
      "coalesce(r.content, ''), r.security, " CARNET_CONTENT_COLUMNS ", p.patient_key IS NOT NULL, "
      CARNET_RECORD_CONTEXT_COLUMNS("$3", "$4", "$5", "$6", "$7") "FROM resource r" CARNET_CONTENT_JOIN
      "LEFT JOIN patient p ON p.patient_key = r.patient_key "
      "WHERE r.res_type = $1 AND r.res_id = $2"};
  SqlParams params = RecordRowPartParams(parts);
  params.insert(params.begin(), {SqlParam::Text(type), SqlParam::Text(id)});
  auto r = tx.Run(kReadWithRecord, params);
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<ResourceWithRecord>();
  auto s = FromRow(*r, 0, type, id, 6);
  if (!s.ok()) return s.status();
  ResourceWithRecord out;
  out.resource = std::move(*s);
  if (r->GetBool(0, 8)) out.record = RecordRowFrom(*r, 0, 9);
  return std::optional<ResourceWithRecord>(std::move(out));
}

Status WriteVersion(Transaction& tx, const StoredResource& written) {
  StoredResource moved;
  const StoredResource* stored = &written;
  // A Binary with inline bytes has them moved out here (the hash is then the content's own,
  // never one carried over from a read of an earlier version); a deletion names no bytes.
  // Without inline bytes, the caller stored them already and named them (dossier::Persist).
  if (written.type == "Binary" &&
      (written.deleted || written.content.find("\"data\"") != std::string::npos)) {
    moved = written;
    moved.content_sha256.clear();
    CARNET_RETURN_IF_ERROR(MoveBytesOut(tx, moved));
    stored = &moved;
  }
  const StoredResource& s = *stored;
  auto r = tx.Run(
      kWrite,
      {s.patient_key ? SqlParam::Text(std::to_string(*s.patient_key)) : SqlParam::Null(),
       SqlParam::Text(s.type), SqlParam::Text(s.id), SqlParam::Text(std::to_string(s.version)),
       SqlParam::Text(s.last_updated), SqlParam::Text(s.deleted ? "true" : "false"),
       SqlParam::Text(s.method), s.deleted ? SqlParam::Null() : SqlParam::Text(s.content),
       SqlParam::Text(TextArrayLiteral(s.security)), SqlParam::Text(s.content_sha256)});
  if (!r.ok()) {
    if (r.status().code() == ErrorCode::kDuplicate)
      return Conflict(s.type + "/" + s.id + " was changed concurrently (version " +
                      std::to_string(s.version) + " exists already)");
    return r.status();
  }
  if (r->affected() != 1)
    return Conflict(s.type + "/" + s.id + " was changed concurrently; read it again");
  return Status::Ok();
}

Result<std::optional<long long>> FindPatientKeyByResourceId(Transaction& tx,
                                                            const std::string& id) {
  auto r = tx.Run(kFindPatient, {SqlParam::Text(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<long long>();
  return std::optional<long long>(r->GetInt(0, 0));
}

Result<long long> CreatePatientRecord(Transaction& tx, const std::string& resource_id,
                                      const std::string& ins, const std::string& ins_system) {
  auto r = tx.Run(kCreatePatient,
                  {SqlParam::Text(resource_id), SqlParam::Text(ins), SqlParam::Text(ins_system)});
  if (!r.ok()) return r.status();
  return r->GetInt(0, 0);
}

Status UpdatePatientIdentity(Transaction& tx, long long patient_key, const std::string& ins,
                             const std::string& ins_system) {
  static const Statement kUpdateIdentity{
      "patient_update_identity",
      "UPDATE patient SET ins = nullif($2, ''), ins_system = nullif($3, '') "
      "WHERE patient_key = $1::bigint AND (ins IS DISTINCT FROM nullif($2, '') OR "
      "ins_system IS DISTINCT FROM nullif($3, ''))"};
  auto r = tx.Run(kUpdateIdentity, {SqlParam::Text(std::to_string(patient_key)),
                                    SqlParam::Text(ins), SqlParam::Text(ins_system)});
  if (!r.ok()) {
    if (r.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate,
                    "another record already holds the national identity " + ins);
    return r.status();
  }
  return Status::Ok();
}

Status ReplacePatientIdentifiers(Transaction& tx, long long patient_key,
                                 const std::vector<std::pair<std::string, std::string>>& ids) {
  // Two statements: a DELETE and an INSERT of the same key in one statement (a CTE) would
  // collide on the primary key, both seeing the same snapshot.
  static const Statement kClear{"patient_identifiers_clear",
                                "DELETE FROM patient_identifier WHERE patient_key = $1::bigint"};
  static const Statement kReplace{
      "patient_identifiers_replace",
      "INSERT INTO patient_identifier (patient_key, system, value) "
      "SELECT DISTINCT $1::bigint, s, v FROM unnest($2::text[], $3::text[]) AS u(s, v)"};
  auto cleared = tx.Run(kClear, {SqlParam::Text(std::to_string(patient_key))});
  if (!cleared.ok()) return cleared.status();
  std::vector<std::string> systems, values;
  for (const auto& [system, value] : ids) {
    if (system.empty() || value.empty()) continue;
    systems.push_back(system);
    values.push_back(value);
  }
  auto r = tx.Run(kReplace, {SqlParam::Text(std::to_string(patient_key)),
                             SqlParam::Text(TextArrayLiteral(systems)),
                             SqlParam::Text(TextArrayLiteral(values))});
  if (!r.ok()) {
    if (r.status().code() == ErrorCode::kDuplicate)
      return Status(ErrorCode::kDuplicate, "another record already holds one of these identifiers");
    return r.status();
  }
  return Status::Ok();
}

Result<std::optional<PatientRecordRef>> FindPatientByIdentifier(Transaction& tx,
                                                                const std::string& system,
                                                                const std::string& value) {
  static const Statement kFind{
      "patient_by_identifier",
      "SELECT p.patient_key, coalesce(p.resource_id, ''), p.status FROM patient p "
      "WHERE p.patient_key = (SELECT patient_key FROM patient_identifier "
      "WHERE system = $1 AND value = $2) "
      "OR (p.ins_system = regexp_replace($1, '^urn:oid:', '') AND p.ins = $2) LIMIT 1"};
  auto r = tx.Run(kFind, {SqlParam::Text(system), SqlParam::Text(value)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<PatientRecordRef>();
  PatientRecordRef ref;
  ref.patient_key = r->GetInt(0, 0);
  ref.resource_id = r->GetString(0, 1);
  ref.status = r->GetString(0, 2);
  return std::optional<PatientRecordRef>(ref);
}

Result<std::optional<StoredResource>> ReadVersion(Transaction& tx, const std::string& type,
                                                  const std::string& id, int version) {
  auto r = tx.Run(kReadVersion, {SqlParam::Text(type), SqlParam::Text(id),
                                 SqlParam::Text(std::to_string(version))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredResource>();
  auto s = FromRow(*r, 0, type, id, 6);
  if (!s.ok()) return s.status();
  s->method = r->GetString(0, 5);
  return std::optional<StoredResource>(std::move(*s));
}

Result<std::vector<StoredResource>> ReadHistory(Transaction& tx, const HistoryQuery& q) {
  // Fixed SQL with optional filters expressed as "$n = '' OR ...", so one prepared
  // statement serves instance, type and system history.
  static const Statement kHistory{
      "resource_history_page",
      "SELECT r.patient_key, r.version_id, " CARNET_INSTANT("r.last_updated") ", r.deleted, "
      "coalesce(r.content, ''), r.method, r.res_type, r.res_id, " CARNET_CONTENT_COLUMNS
      " FROM resource_history r" CARNET_CONTENT_JOIN
      "WHERE ($1 = '' OR r.res_type = $1) AND ($2 = '' OR r.res_id = $2) "
      "AND ($3 = '' OR r.last_updated >= $3::timestamptz) "
      "AND ($4 = '' OR r.last_updated <= $4::timestamptz) "
      "AND (NOT $5::boolean OR (r.last_updated, r.res_type, r.res_id, r.version_id) < "
      "($6::timestamptz, $7, $8, $9::int)) "
      "AND (NOT $11::boolean OR r.patient_key = ANY($12::bigint[]) "
      "OR ($13::boolean AND r.patient_key IS NULL)) "
      "ORDER BY r.last_updated DESC, r.res_type DESC, r.res_id DESC, r.version_id DESC "
      "LIMIT $10::int"};
  std::string keys = "{";
  if (q.patient_keys)
    for (size_t i = 0; i < q.patient_keys->size(); ++i)
      keys += (i ? "," : "") + std::to_string((*q.patient_keys)[i]);
  keys += "}";
  auto r =
      tx.Run(kHistory, {SqlParam::Text(q.type), SqlParam::Text(q.id), SqlParam::Text(q.since),
                        SqlParam::Text(q.at), SqlParam::Text(q.has_cursor ? "true" : "false"),
                        SqlParam::Text(q.has_cursor ? q.cursor_time : "1970-01-01T00:00:00Z"),
                        SqlParam::Text(q.cursor_type), SqlParam::Text(q.cursor_id),
                        SqlParam::Text(std::to_string(q.cursor_version)),
                        SqlParam::Text(std::to_string(q.count)),
                        SqlParam::Text(q.patient_keys ? "true" : "false"), SqlParam::Text(keys),
                        SqlParam::Text(q.include_shared ? "true" : "false")});
  if (!r.ok()) return r.status();
  std::vector<StoredResource> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto s = FromRow(*r, i, r->GetString(i, 6), r->GetString(i, 7), 8);
    if (!s.ok()) return s.status();
    s->method = r->GetString(i, 5);
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::vector<StoredResource>> ReadRecordResources(Transaction& tx, long long patient_key,
                                                        const std::string& after_type,
                                                        const std::string& after_id, int limit) {
  static const Statement kEverything{
      "patient_everything",
      "SELECT r.res_type, r.res_id, r.content, r.version_id FROM resource r "
      "WHERE r.patient_key = $1::bigint AND NOT r.deleted AND r.res_type <> 'Binary' "
      "AND (r.res_type, r.res_id) > ($2, $3) ORDER BY r.res_type, r.res_id LIMIT $4::int"};
  auto r =
      tx.Run(kEverything, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(after_type),
                           SqlParam::Text(after_id), SqlParam::Text(std::to_string(limit))});
  if (!r.ok()) return r.status();
  std::vector<StoredResource> out;
  for (int i = 0; i < r->rows(); ++i) {
    StoredResource s;
    s.type = r->GetString(i, 0);
    s.id = r->GetString(i, 1);
    s.content = r->GetString(i, 2);
    s.version = static_cast<int>(r->GetInt(i, 3));
    s.patient_key = patient_key;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace carnet::storage
