// The dossier's FHIR resources in PostgreSQL: current versions in `resource`, every version
// in `resource_history`. Narrow by design (Orthanc's IDatabaseWrapper is the model): the
// REST layer decides what to write, this layer only knows how.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/pool.h"
#include "storage/record_context_store.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct StoredResource {
  std::optional<long long> patient_key;  // owning compartment
  std::string type;
  std::string id;
  int version = 0;
  std::string last_updated;  // RFC 3339 as stored in meta.lastUpdated
  bool deleted = false;
  std::string content;                // resource JSON text (empty when deleted)
  std::string method;                 // history only: POST PUT PATCH DELETE
  std::vector<std::string> security;  // security label codes, for policy filters
  // A record's Binary: the SHA-256 (hex) of its bytes in document_content, which reads put
  // back into `content` as `data`; empty for every other resource, and for Binaries stored
  // before bytes moved out (their `data` is still inline).
  std::string content_sha256;
};

// Reads outside a transaction: one round trip each.
class ResourceReader {
 public:
  explicit ResourceReader(Pool& pool) : pool_(pool) {}
  // Current version; kNotFound when it never existed. A deleted resource comes back with
  // deleted = true (the caller answers 410).
  Result<StoredResource> Read(const std::string& type, const std::string& id);
  Result<StoredResource> ReadVersion(const std::string& type, const std::string& id, int version);

 private:
  Pool& pool_;
};

// Current row, locked for update when `lock` (the version check of an update then holds
// until commit). nullopt when the resource never existed.
Result<std::optional<StoredResource>> ReadCurrent(Transaction& tx, const std::string& type,
                                                  const std::string& id, bool lock);

// The current row (as ReadCurrent, unlocked) and, read by the same statement, the row of its
// record (as ReadRecordRow with `parts`): nullopt record for a resource outside any record.
struct ResourceWithRecord {
  StoredResource resource;
  std::optional<RecordRow> record;
};
Result<std::optional<ResourceWithRecord>> ReadCurrentWithRecord(Transaction& tx,
                                                                const std::string& type,
                                                                const std::string& id,
                                                                const RecordRowParts& parts);

// Writes `r` as the new current version and appends it to the history (deleted versions
// too). A record's Binary leaves its `data` in document_content, once per record and hash, in
// the same transaction: the versioned JSON keeps the metadata and the hash only. A caller that
// stored them already (PutDocumentContent) passes the JSON without `data` and their hash.
// `r.version` must be the previous version + 1 (1 for a new resource); a concurrent writer that got
// there first makes this fail with kConflict (unique violation on the history key), never silently
// overwrite.
Status WriteVersion(Transaction& tx, const StoredResource& r);

// Patient records.
// The record whose Patient resource has this logical id, or nullopt.
Result<std::optional<long long>> FindPatientKeyByResourceId(Transaction& tx, const std::string& id);
// Creates the record row for a new Patient resource; returns its key.
Result<long long> CreatePatientRecord(Transaction& tx, const std::string& resource_id,
                                      const std::string& ins, const std::string& ins_system);

// Keeps the record's national identity in step with its Patient resource.
Status UpdatePatientIdentity(Transaction& tx, long long patient_key, const std::string& ins,
                             const std::string& ins_system);

// Replaces the record's identifiers (system, value) with those of its Patient resource.
// kDuplicate when another record holds one of them.
Status ReplacePatientIdentifiers(Transaction& tx, long long patient_key,
                                 const std::vector<std::pair<std::string, std::string>>& ids);

// The record identified by an identifier (system as in FHIR, e.g. urn:oid:1.2.3), or by its
// national identity; nullopt when none.
struct PatientRecordRef {
  long long patient_key = 0;
  std::string resource_id;  // the Patient resource
  std::string status;       // active, opposed, closed
};
Result<std::optional<PatientRecordRef>> FindPatientByIdentifier(Transaction& tx,
                                                                const std::string& system,
                                                                const std::string& value);

// History, newest first, keyset-paged: entries strictly older than (before_time,
// before_type, before_id, before_version) when `after_cursor` is set.
struct HistoryQuery {
  std::string type;   // empty: all types
  std::string id;     // empty: all ids of the type
  std::string since;  // RFC 3339, inclusive; empty: none
  std::string at;     // RFC 3339: versions current at that instant; empty: none
  int count = 20;
  // Keyset cursor (exclusive): the last entry of the previous page.
  bool has_cursor = false;
  std::string cursor_time;
  std::string cursor_type;
  std::string cursor_id;
  int cursor_version = 0;
  // Access filter: only versions of these records (nullopt: any), and shared resources
  // (no record) only when include_shared.
  std::optional<std::vector<long long>> patient_keys;
  bool include_shared = true;
};
Result<std::vector<StoredResource>> ReadHistory(Transaction& tx, const HistoryQuery& q);

// One version of a resource; nullopt when it has no such version.
Result<std::optional<StoredResource>> ReadVersion(Transaction& tx, const std::string& type,
                                                  const std::string& id, int version);

// A page of one record's current resources (Patient/[id]/$everything), Binary content left
// out (it is read through its document), in (type, id) order strictly after (after_type,
// after_id) ("", "" for the first page), at most `limit`. Only type, id, content and version
// are filled.
Result<std::vector<StoredResource>> ReadRecordResources(Transaction& tx, long long patient_key,
                                                        const std::string& after_type,
                                                        const std::string& after_id, int limit);

}  // namespace carnet::storage
