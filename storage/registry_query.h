// The registry queries (what IHE ITI-18's stored queries read) as SQL over the registry tables
// (storage/registry_store.h): a RegistryQuery names a shape (which object rows and which
// association rows are returned, and how they hang together) and the conditions on the
// columns of each object type; RegistryQueryPlan turns it into statements whose every value
// is a parameter, and reads only what the caller may see: the one AccessFilter FHIR search
// uses (storage/access_filter.h), per record, ANDed into each statement, so that what is
// counted against the limit is only what is returned.
//
// Which stored-query parameter fills which column, with which comparison, is data
// (xds/data/query_parameters.tsv, read by xds/stored_query.h); this file knows columns only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/access_filter.h"
#include "storage/sql_builder.h"
#include "storage/transaction.h"

namespace carnet::storage {

// registry_object.object_type.
enum class RegistryObjectType { kDocumentEntry, kSubmissionSet, kFolder };

// Which rows a query returns (ITI TF-2a 3.18.4.1.2.3.7 names the stored query of each).
enum class RegistryQueryShape {
  kPatientDocuments,          // FindDocuments, FindDocumentsByReferenceId
  kPatientSubmissionSets,     // FindSubmissionSets
  kPatientFolders,            // FindFolders
  kPatientAll,                // GetAll: the record's objects and associations
  kDocuments,                 // GetDocuments: named (entryUUID, uniqueId, logicalID)
  kDocumentsAndAssociations,  // GetDocumentsAndAssociations
  kAssociations,              // GetAssociations: the associations touching `uuids`
  kSubmissionSetsOf,          // GetSubmissionSets: the sets whose HasMember reaches `uuids`
  kSubmissionSetAndContents,  // GetSubmissionSetAndContents
  kRelatedDocuments,          // GetRelatedDocuments: `association_types` between entries
  kFolders,                   // GetFolders: named (entryUUID, uniqueId, logicalID)
  kFolderAndContents,         // GetFolderAndContents
  kFoldersOfDocument,         // GetFoldersForDocument
};

// How a condition compares a column with its values.
enum class RegistryMatch {
  kCode,       // column_code || '^^' || column_scheme is one of "code^^scheme" (per group)
  kCodeList,   // a registry_code row of scheme `column` whose code^^system is one (per group)
  kCodeValue,  // a registry_code row of scheme `column` whose code is one of the values
  kFrom,       // column (timestamptz) >= the value
  kBefore,     // column (timestamptz) < the value
  kAnyOf,      // column = one of the values
  kLikeAny,    // an element of the text[] column is LIKE one of the values
};

// One condition: groups are ANDed, the values of a group ORed (one group but for kCode and
// kCodeList); kFrom and kBefore take one value, an RFC 3339 instant.
struct RegistryCondition {
  std::string column;
  RegistryMatch match = RegistryMatch::kAnyOf;
  std::vector<std::vector<std::string>> groups;
};

// The conditions on the rows of one object type.
struct RegistrySelection {
  // availability_status is one of these (the patient shapes).
  std::vector<std::string> statuses;
  // The objects named (the named shapes): entryUUIDs and logicalIDs (UUIDs, lower case) and
  // uniqueIds; an object is named by any of them.
  std::vector<std::string> entry_uuids, unique_ids, logical_ids;
  std::vector<RegistryCondition> conditions;  // ANDed
};

struct RegistryQuery {
  RegistryQueryShape shape = RegistryQueryShape::kPatientDocuments;
  // The patient of the patient shapes: an identifier system ("urn:oid:...") and value.
  std::string patient_system, patient_value;
  RegistrySelection documents, submission_sets, folders;
  std::vector<std::string> uuids;              // kAssociations, kSubmissionSetsOf (UUIDs)
  std::vector<std::string> association_types;  // kRelatedDocuments
  int limit = 1;                               // the most rows each statement returns
};

// A registry object row as read: the resource JSON, its record, its patient id (CX).
struct RegistryObjectRow {
  std::string content;
  std::optional<long long> patient_key;
  std::string patient_id;
};

struct RegistryAssociationRow {
  std::string entry_uuid, association_type, source_uuid, target_uuid;
  std::string submission_set_status;  // "" when none
  std::optional<long long> patient_key;
};

class RegistryQueryPlan {
 public:
  explicit RegistryQueryPlan(const RegistryQuery& query);

  bool Selects(RegistryObjectType type) const;
  bool SelectsAssociations() const { return assocs_ != "false"; }

  // The records the query reaches before any access filter: the patient a patient shape
  // names, else the records of the objects it names and of the ends of its associations. The
  // policy's filter is per record, so the caller asks it for each of these.
  Result<std::vector<long long>> Records(Transaction& tx) const;

  // The rows of `type` (ordered by their time column, then entryUUID), or the associations
  // (in creation order), that pass `filters` (record -> what the caller may see of it; rows
  // of any other record are not shown). An association is shown when every object at its
  // ends, and at the ends of the association it targets, is. At most query.limit rows.
  Result<std::vector<RegistryObjectRow>> Objects(
      Transaction& tx, RegistryObjectType type,
      const std::map<long long, AccessFilter>& filters) const;
  Result<std::vector<RegistryAssociationRow>> Associations(
      Transaction& tx, const std::map<long long, AccessFilter>& filters) const;

  // The statements Objects and Associations run, rendered and not run (EXPLAIN in
  // tests/unit/plan_stability_test.cc).
  struct Rendered {
    std::string sql;
    SqlParams params;
  };
  Rendered RenderObjects(RegistryObjectType type,
                         const std::map<long long, AccessFilter>& filters) const;
  Rendered RenderAssociations(const std::map<long long, AccessFilter>& filters) const;

 private:
  std::string Predicate(RegistryObjectType type) const;

  SqlBuilder b_;  // the query's parameters
  // The predicate of each object type over registry_object `o`, and of the associations over
  // association `a` (with `m` the association it targets); "false" for none.
  std::string docs_ = "false", sets_ = "false", folders_ = "false", assocs_ = "false";
  std::string named_patient_;  // the patient_key expression of a patient shape
  std::string limit_;
};

}  // namespace carnet::storage
