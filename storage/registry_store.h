// The XDS registry tables as rows: registry_object (one row per DocumentEntry, SubmissionSet
// and Folder, beside the resource it is derived from), registry_code (their multi-valued
// codes) and association. Rows in, rows out: what a DocumentReference or an MHD List means
// in XDS terms is mapping/'s (mapping/registry_index.h), what a transaction does with the
// rows is xds/'s. Every function runs in the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// ---- Writing the rows of one resource (mapping/registry_index.cc) ----

// Removes the registry row derived from resource res_type/res_id and the associations whose
// source it is (before its rows are written again, or when it is deleted).
Status DeleteRegistryObject(Transaction& tx, const std::string& res_type,
                            const std::string& res_id);

// The rows of one DocumentEntry: `entry` holds the 30 values of its registry_object row in
// column order (patient_key, entryUUID or NULL, res_type, res_id, unique_id, logical_id or
// NULL, version, availability_status, entry_type, repository_unique_id, patient_id,
// source_patient_id, class, type, format, hcft and practice_setting code and scheme,
// creation_time, service_start_time, service_stop_time, mime_type, size, hash (hex),
// author_persons (text[] literal), home_community_id); a NULL entryUUID is derived as
// md5(res_type || '/' || res_id), a NULL logical_id is the entryUUID. Then its multi-valued
// codes (registry_code) and the associations it is the source of (targets as
// "DocumentReference/id"; ids "" when derived). Bulk loaders (bench/) copy the same values.
struct DocumentEntryRows {
  SqlParams entry;
  std::vector<std::string> code_schemes, codes, code_systems;
  std::vector<std::string> assoc_kinds, assoc_targets, assoc_ids;
  std::string unique_id;
};

// Inserts `rows.entry`; returns the row's entryUUID. A taken uniqueId fails with kDuplicate.
Result<std::string> InsertDocumentEntryRow(Transaction& tx, const DocumentEntryRows& rows);

// A SubmissionSet's or a Folder's registry_object row. entry_uuid "" is derived as for a
// DocumentEntry; `time` is the submission time of a set, the last update time of a folder
// (timestamptz text, "" for NULL). Sets only: content type, authors, source id.
struct RegistryListRow {
  long long patient_key = 0;
  std::string entry_uuid, res_type, res_id, unique_id, patient_id, time;
  std::string content_type_code, content_type_scheme;
  std::vector<std::string> author_persons;
  std::string source_id;
};
// Inserts the row; returns its entryUUID. A taken uniqueId fails with kDuplicate.
Result<std::string> InsertSubmissionSetRow(Transaction& tx, const RegistryListRow& row);
Result<std::string> InsertFolderRow(Transaction& tx, const RegistryListRow& row);

// registry_code rows of object `entry_uuid`: (scheme, code, code system) triples.
Status InsertRegistryCodes(Transaction& tx, long long patient_key, const std::string& entry_uuid,
                           const std::vector<std::string>& schemes,
                           const std::vector<std::string>& codes,
                           const std::vector<std::string>& systems);

// Association rows from object `source_uuid` to the registry objects of the resources
// `targets` names ("DocumentReference/id", "List/id"; a target with no registry row gives no
// association), of types `kinds`, with entryUUIDs `ids` ("" derived from source, type and
// target). HasMembers are 'Original'. An entryUUID already taken is left as it is.
Status InsertAssociations(Transaction& tx, long long patient_key, const std::string& source_uuid,
                          const std::vector<std::string>& kinds,
                          const std::vector<std::string>& targets,
                          const std::vector<std::string>& ids);

// HasMember rows from `source_uuid` whose targets are associations of the same record
// (`targets` their entryUUIDs), with entryUUIDs `ids` and submission set statuses `statuses`
// ("" for none).
Status InsertAssociationMembers(Transaction& tx, long long patient_key,
                                const std::string& source_uuid, const std::vector<std::string>& ids,
                                const std::vector<std::string>& targets,
                                const std::vector<std::string>& statuses);

// The columns of a record's patient row that its XDS patient id is composed from.
struct RegistryPatientRow {
  std::string ins, ins_system, resource_id;
};
Result<std::optional<RegistryPatientRow>> ReadRegistryPatient(Transaction& tx,
                                                              long long patient_key);

// ---- Lookups of the XDS transactions (xds/) ----

// res_id of the Folder whose entryUUID is `uuid` (a UUID, lower case), or nullopt.
Result<std::optional<std::string>> FindFolder(Transaction& tx, const std::string& uuid);

// The hash (hex, "" when none was recorded) of the DocumentEntry registered under uniqueId
// `unique_id`, or nullopt when there is none.
Result<std::optional<std::string>> RegisteredDocumentHash(Transaction& tx,
                                                          const std::string& unique_id);

// The current DocumentEntry whose entryUUID or logicalID is `uuid` (a UUID, lower case): its
// resource id, registry version, resource JSON and record, the resource row locked for update.
struct DocumentEntryVersionRow {
  std::string res_id;
  int version = 0;
  std::string content;
  std::optional<long long> patient_key;
};
Result<std::optional<DocumentEntryVersionRow>> LockDocumentEntry(Transaction& tx,
                                                                 const std::string& uuid);

// The registry object whose entryUUID is `uuid`, or the DocumentEntry whose logicalID it is.
struct RegistryObjectRef {
  std::string object_type, res_type, res_id, entry_uuid;
};
Result<std::optional<RegistryObjectRef>> FindRegistryObject(Transaction& tx,
                                                            const std::string& uuid);

// The association whose entryUUID is `uuid`, with the object at its source (type, resource;
// "" when it is none) and the resource at its target ("type/id", "" when none).
struct AssociationEndsRow {
  std::string association_type, source_uuid, target_uuid;
  std::string source_object_type, source_res_type, source_res_id, target_ref;
};
Result<std::optional<AssociationEndsRow>> FindAssociation(Transaction& tx, const std::string& uuid);

// The entryUUIDs of the associations whose source or target is `uuid`.
Result<std::vector<std::string>> AssociationsTouching(Transaction& tx, const std::string& uuid);

// The current DocumentEntry registered under uniqueId `unique_id`: its DocumentReference id
// and the JSON of the current Binary its content URL names (nullopt when none), with the
// bytes straight from document_content when the Binary names them there (bytes_elsewhere;
// else they are the JSON's `data`, as stored before migration 0016).
struct RetrievableDocumentRow {
  std::string res_id;
  std::optional<std::string> binary_content;
  bool bytes_elsewhere = false;
  std::optional<std::string> bytes;
};
Result<std::optional<RetrievableDocumentRow>> FindDocumentByUniqueId(Transaction& tx,
                                                                     const std::string& unique_id);

// Every version (JSON) of the DocumentReferences `res_ids` that is no deletion, newest first
// within each resource.
struct ResourceVersionRow {
  std::string res_id, content;
};
Result<std::vector<ResourceVersionRow>> DocumentReferenceVersions(
    Transaction& tx, const std::vector<std::string>& res_ids);

}  // namespace carnet::storage
