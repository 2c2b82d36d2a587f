#include "storage/registry_query.h"

#include <utility>

namespace carnet::storage {
namespace {

using Shape = RegistryQueryShape;

// Each object type's registry_object.object_type, and the column its rows are ordered by.
struct ObjectTypeColumns {
  RegistryObjectType type;
  const char* name;
  const char* order;
};
constexpr ObjectTypeColumns kObjectTypes[] = {
    {RegistryObjectType::kDocumentEntry, "DocumentEntry", "o.creation_time"},
    {RegistryObjectType::kSubmissionSet, "SubmissionSet", "o.submission_time"},
    {RegistryObjectType::kFolder, "Folder", "o.last_update_time"},
};

const ObjectTypeColumns& ColumnsOf(RegistryObjectType type) {
  for (const auto& t : kObjectTypes)
    if (t.type == type) return t;
  return kObjectTypes[0];
}

// Builds the predicates of one query; every value goes through `b`.
class Builder {
 public:
  Builder(const RegistryQuery& q, SqlBuilder& b) : q_(q), b_(b) {}

  // The patient_key of the record the query's patient identifier names: its identifier
  // (system "urn:oid:X") or its INS (stored as system "X"). Built once per query.
  const std::string& PatientKey() {
    if (!patient_key_.empty()) return patient_key_;
    const std::string& system = q_.patient_system;
    const std::string& value = q_.patient_value;
    patient_key_ =
        "(SELECT p.patient_key FROM patient p WHERE p.patient_key = (SELECT patient_key FROM "
        "patient_identifier WHERE system = " +
        b_.Param(system) + " AND value = " + b_.Param(value) +
        ") OR (p.ins_system = " + b_.Param(system.size() > 8 ? system.substr(8) : "") +
        " AND p.ins = " + b_.Param(value) + ") LIMIT 1)";
    return patient_key_;
  }

  // UUIDs as a uuid[]: the registry's uuid columns compared as uuids, which their indexes
  // answer (compared as text, every query read the whole registry).
  std::string Uuids(const std::vector<std::string>& uuids) {
    return b_.TextArray(uuids) + "::uuid[]";
  }

  // The objects of the patient, of the statuses asked for, meeting the selection's conditions.
  std::string OfPatient(const RegistrySelection& s) {
    std::string where = "o.patient_key = " + PatientKey() + " AND o.availability_status = ANY(" +
                        b_.TextArray(s.statuses) + ")";
    Conditions(s, where);
    return where;
  }

  // The selection's conditions, ANDed to `where`.
  void Conditions(const RegistrySelection& s, std::string& where) {
    auto add = [&](const std::string& p) { where += " AND " + p; };
    for (const auto& c : s.conditions) {
      switch (c.match) {
        case RegistryMatch::kCode:
          for (const auto& group : c.groups)
            add("(o." + c.column + "_code || '^^' || coalesce(o." + c.column +
                "_scheme, '')) = ANY(" + b_.TextArray(group) + ")");
          break;
        case RegistryMatch::kCodeList:
          for (const auto& group : c.groups)
            add("EXISTS (SELECT 1 FROM registry_code c WHERE c.entry_uuid = o.entry_uuid AND "
                "c.scheme = " +
                b_.Param(c.column) + " AND (c.code || '^^' || c.code_system) = ANY(" +
                b_.TextArray(group) + "))");
          break;
        case RegistryMatch::kCodeValue:
          add("EXISTS (SELECT 1 FROM registry_code c WHERE c.entry_uuid = o.entry_uuid AND "
              "c.scheme = " +
              b_.Param(c.column) + " AND c.code = ANY(" + b_.TextArray(Values(c)) + "))");
          break;
        case RegistryMatch::kFrom:
        case RegistryMatch::kBefore:
          for (const auto& v : Values(c))
            add("o." + c.column + (c.match == RegistryMatch::kFrom ? " >= " : " < ") + b_.Param(v) +
                "::timestamptz");
          break;
        case RegistryMatch::kAnyOf:
          add("o." + c.column + " = ANY(" + b_.TextArray(Values(c)) + ")");
          break;
        case RegistryMatch::kLikeAny:
          add("EXISTS (SELECT 1 FROM unnest(o." + c.column + ") a WHERE a LIKE ANY(" +
              b_.TextArray(Values(c)) + "))");
          break;
      }
    }
  }

  // An object named by entryUUID, uniqueId (or logicalID, `with_logical_id`).
  std::string Named(const RegistrySelection& s, bool with_logical_id) {
    std::string pred = "(o.entry_uuid = ANY(" + Uuids(s.entry_uuids) + ") OR o.unique_id = ANY(" +
                       b_.TextArray(s.unique_ids) + ")";
    if (with_logical_id) pred += " OR o.logical_id = ANY(" + Uuids(s.logical_ids) + ")";
    return pred + ")";
  }

  // With document conditions (format, confidentiality, entry type) the associations that
  // reach a DocumentEntry left out go with it: directly, or through the membership
  // association they hold (ITI TF-2a 3.18.4.1.2.3.7.11 / .12 return the associations
  // between returned objects). "" when there is no document condition.
  std::string WithoutLeftOutDocuments() {
    std::string kept = "true";
    Conditions(q_.documents, kept);
    if (kept == "true") return "";
    return " AND NOT EXISTS (SELECT 1 FROM registry_object o WHERE o.object_type = "
           "'DocumentEntry' AND o.entry_uuid IN (a.target_uuid, (SELECT m.target_uuid FROM "
           "association m WHERE m.entry_uuid = a.target_uuid)) AND NOT coalesce(" +
           kept + ", false))";
  }

  static std::string AssociationsTouching(const std::string& objects) {
    return "(a.source_uuid IN (SELECT entry_uuid FROM registry_object o WHERE " + objects +
           ") OR a.target_uuid IN (SELECT entry_uuid FROM registry_object o WHERE " + objects +
           "))";
  }

  bool named_patient() const { return !patient_key_.empty(); }
  const std::string& patient_key() const { return patient_key_; }

 private:
  // Every value of a condition's groups.
  static std::vector<std::string> Values(const RegistryCondition& c) {
    std::vector<std::string> out;
    for (const auto& group : c.groups) out.insert(out.end(), group.begin(), group.end());
    return out;
  }

  const RegistryQuery& q_;
  SqlBuilder& b_;
  std::string patient_key_;
};

}  // namespace

RegistryQueryPlan::RegistryQueryPlan(const RegistryQuery& q) {
  Builder w(q, b_);
  std::string& docs = docs_;
  std::string& sets = sets_;
  std::string& folders = folders_;
  std::string& assocs = assocs_;
  switch (q.shape) {
    case Shape::kPatientDocuments:
      docs = w.OfPatient(q.documents);
      break;
    case Shape::kPatientSubmissionSets:
      sets = w.OfPatient(q.submission_sets);
      break;
    case Shape::kPatientFolders:
      folders = w.OfPatient(q.folders);
      break;
    case Shape::kPatientAll:
      docs = w.OfPatient(q.documents);
      sets = w.OfPatient(q.submission_sets);
      folders = w.OfPatient(q.folders);
      assocs = "a.patient_key = " + w.PatientKey();
      break;
    case Shape::kDocuments:
      docs = w.Named(q.documents, true);
      break;
    case Shape::kDocumentsAndAssociations:
      docs = w.Named(q.documents, false);
      assocs = Builder::AssociationsTouching(docs);
      break;
    case Shape::kAssociations: {
      std::string u = w.Uuids(q.uuids);
      assocs = "(a.source_uuid = ANY(" + u + ") OR a.target_uuid = ANY(" + u + "))";
      break;
    }
    case Shape::kSubmissionSetsOf: {
      std::string u = w.Uuids(q.uuids);
      // ITI TF-2a 3.18.4.1.2.3.7.10: the SubmissionSets' HasMembers, not a Folder's.
      assocs = "(a.association_type LIKE '%:HasMember' AND a.target_uuid = ANY(" + u +
               ") AND EXISTS (SELECT 1 FROM registry_object s WHERE s.entry_uuid = a.source_uuid "
               "AND s.object_type = 'SubmissionSet'))";
      sets = "o.entry_uuid IN (SELECT a.source_uuid FROM association a WHERE " + assocs + ")";
      break;
    }
    case Shape::kSubmissionSetAndContents: {
      // ITI TF-2a 3.18.4.1.2.3.7.11: the set, its members, and the HasMembers among them: the
      // set's own (to entries, folders and folder memberships), and its folders' memberships
      // that the set holds (as a member association, or whose both ends it holds).
      sets = w.Named(q.submission_sets, false);
      std::string set_uuids =
          "(SELECT entry_uuid FROM registry_object o WHERE o.object_type = 'SubmissionSet' AND " +
          sets + ")";
      std::string member_uuids =
          "SELECT m.target_uuid FROM association m WHERE m.association_type LIKE '%:HasMember' "
          "AND m.source_uuid IN " +
          set_uuids;
      std::string members = "(" + member_uuids + ")";
      // One IN over the associations' primary key (a union of index lookups), not an OR of
      // subqueries, which would read the whole association table.
      assocs =
          "(a.association_type LIKE '%:HasMember' AND a.entry_uuid IN (SELECT s.entry_uuid "
          "FROM association s WHERE s.source_uuid IN " +
          set_uuids + " UNION ALL " + member_uuids +
          " UNION ALL SELECT f.entry_uuid FROM association f WHERE f.source_uuid IN " + members +
          " AND f.target_uuid IN " + members + "))";
      docs = "o.entry_uuid IN " + members;
      folders = docs;
      w.Conditions(q.documents, docs);
      assocs += w.WithoutLeftOutDocuments();
      break;
    }
    case Shape::kRelatedDocuments: {
      // ITI TF-2a 3.18.4.1.2.3.7.13: the associations of the types asked for between the given
      // DocumentEntry and other DocumentEntries (a SubmissionSet's or Folder's HasMember relates
      // no documents), and the documents at their ends: nothing when there is none, not the
      // given document alone.
      std::string self =
          "(SELECT entry_uuid FROM registry_object o WHERE o.object_type = "
          "'DocumentEntry' AND " +
          w.Named(q.documents, false) + ")";
      auto entry = [](const char* end) {
        return std::string("EXISTS (SELECT 1 FROM registry_object e WHERE e.entry_uuid = a.") +
               end + " AND e.object_type = 'DocumentEntry')";
      };
      std::string types = b_.TextArray(q.association_types);
      assocs = "(a.entry_uuid IN (SELECT r.entry_uuid FROM association r WHERE r.source_uuid IN " +
               self + " UNION ALL SELECT r.entry_uuid FROM association r WHERE r.target_uuid IN " +
               self + ") AND a.association_type = ANY(" + types + ") AND " + entry("source_uuid") +
               " AND " + entry("target_uuid") + ")";
      docs =
          "o.entry_uuid IN (SELECT unnest(ARRAY[a.source_uuid, a.target_uuid]) FROM "
          "association a WHERE " +
          assocs + ")";
      break;
    }
    case Shape::kFolders:
      folders = w.Named(q.folders, true);
      break;
    case Shape::kFolderAndContents: {
      folders = w.Named(q.folders, false);
      assocs =
          "(a.association_type LIKE '%:HasMember' AND a.source_uuid IN (SELECT entry_uuid FROM "
          "registry_object o WHERE o.object_type = 'Folder' AND " +
          folders + "))";
      docs = "o.entry_uuid IN (SELECT a.target_uuid FROM association a WHERE " + assocs + ")";
      w.Conditions(q.documents, docs);
      assocs += w.WithoutLeftOutDocuments();
      break;
    }
    case Shape::kFoldersOfDocument: {
      std::string doc = w.Named(q.documents, false);
      folders =
          "o.entry_uuid IN (SELECT a.source_uuid FROM association a WHERE a.association_type LIKE "
          "'%:HasMember' AND a.target_uuid IN (SELECT entry_uuid FROM registry_object o WHERE "
          "o.object_type = 'DocumentEntry' AND " +
          doc + "))";
      break;
    }
  }
  named_patient_ = w.patient_key();
  limit_ = b_.Param(std::to_string(q.limit)) + "::int";
}

std::string RegistryQueryPlan::Predicate(RegistryObjectType type) const {
  switch (type) {
    case RegistryObjectType::kDocumentEntry:
      return docs_;
    case RegistryObjectType::kSubmissionSet:
      return sets_;
    case RegistryObjectType::kFolder:
      return folders_;
  }
  return "false";
}

bool RegistryQueryPlan::Selects(RegistryObjectType type) const {
  return Predicate(type) != "false";
}

Result<std::vector<long long>> RegistryQueryPlan::Records(Transaction& tx) const {
  std::string sql;
  if (!named_patient_.empty()) {
    sql = "SELECT " + named_patient_;
  } else {
    for (auto type : {RegistryObjectType::kDocumentEntry, RegistryObjectType::kSubmissionSet,
                      RegistryObjectType::kFolder})
      if (Selects(type))
        sql += std::string(sql.empty() ? "" : " UNION ") +
               "SELECT o.patient_key FROM registry_object o WHERE o.object_type = '" +
               ColumnsOf(type).name + "' AND " + Predicate(type);
    if (SelectsAssociations())
      sql += std::string(sql.empty() ? "" : " UNION ") +
             "SELECT e.patient_key FROM registry_object e WHERE e.entry_uuid IN (SELECT "
             "unnest(ARRAY[a.source_uuid, a.target_uuid, m.source_uuid, m.target_uuid]) FROM "
             "association a LEFT JOIN association m ON m.entry_uuid = a.target_uuid WHERE " +
             assocs_ + ")";
  }
  std::vector<long long> out;
  if (sql.empty()) return out;
  auto rows = tx.RunShaped(sql, b_.params(), true);
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->rows(); ++i)
    if (!rows->IsNull(i, 0)) out.push_back(rows->GetInt(i, 0));
  return out;
}

namespace {

// "The resource row `alias` is visible": one of the records' filters lets it through.
std::string Shown(const std::map<long long, AccessFilter>& filters, const std::string& alias,
                  SqlBuilder& b) {
  std::string out;
  for (const auto& [key, f] : filters)
    out += (out.empty() ? "(" : " OR ") + AccessPredicate(f, alias, b);
  return out.empty() ? std::string("FALSE") : out + ")";
}

}  // namespace

RegistryQueryPlan::Rendered RegistryQueryPlan::RenderObjects(
    RegistryObjectType type, const std::map<long long, AccessFilter>& filters) const {
  SqlBuilder b = b_;  // the query's parameters, then the filters'
  std::string sql = std::string(
                        "SELECT r.content, r.patient_key, o.patient_id FROM registry_object o JOIN "
                        "resource r ON r.res_type = o.res_type AND r.res_id = o.res_id AND NOT "
                        "r.deleted WHERE o.object_type = '") +
                    ColumnsOf(type).name + "' AND " + Predicate(type) + " AND " +
                    Shown(filters, "r", b) + " ORDER BY " + ColumnsOf(type).order +
                    " NULLS LAST, o.entry_uuid LIMIT " + limit_;
  return {std::move(sql), std::move(b.params())};
}

Result<std::vector<RegistryObjectRow>> RegistryQueryPlan::Objects(
    Transaction& tx, RegistryObjectType type,
    const std::map<long long, AccessFilter>& filters) const {
  Rendered q = RenderObjects(type, filters);
  auto rows = tx.RunShaped(q.sql, q.params, true);
  if (!rows.ok()) return rows.status();
  std::vector<RegistryObjectRow> out;
  for (int i = 0; i < rows->rows(); ++i) {
    RegistryObjectRow row;
    row.content = rows->GetString(i, 0);
    if (!rows->IsNull(i, 1)) row.patient_key = rows->GetInt(i, 1);
    row.patient_id = rows->GetString(i, 2);
    out.push_back(std::move(row));
  }
  return out;
}

RegistryQueryPlan::Rendered RegistryQueryPlan::RenderAssociations(
    const std::map<long long, AccessFilter>& filters) const {
  SqlBuilder b = b_;
  std::string sql =
      "SELECT a.entry_uuid::text, a.association_type, a.source_uuid::text, "
      "a.target_uuid::text, coalesce(a.submission_set_status, ''), a.patient_key FROM "
      "association a LEFT JOIN association m ON m.entry_uuid = a.target_uuid WHERE " +
      assocs_ +
      " AND NOT EXISTS (SELECT 1 FROM registry_object e JOIN resource er ON "
      "er.res_type = e.res_type AND er.res_id = e.res_id AND NOT er.deleted WHERE "
      "e.entry_uuid IN (a.source_uuid, a.target_uuid, m.source_uuid, m.target_uuid) "
      "AND NOT coalesce(" +
      Shown(filters, "er", b) + ", false)) ORDER BY a.created_at, a.entry_uuid LIMIT " + limit_;
  return {std::move(sql), std::move(b.params())};
}

Result<std::vector<RegistryAssociationRow>> RegistryQueryPlan::Associations(
    Transaction& tx, const std::map<long long, AccessFilter>& filters) const {
  Rendered q = RenderAssociations(filters);
  auto rows = tx.RunShaped(q.sql, q.params, true);
  if (!rows.ok()) return rows.status();
  std::vector<RegistryAssociationRow> out;
  for (int i = 0; i < rows->rows(); ++i) {
    RegistryAssociationRow a;
    a.entry_uuid = rows->GetString(i, 0);
    a.association_type = rows->GetString(i, 1);
    a.source_uuid = rows->GetString(i, 2);
    a.target_uuid = rows->GetString(i, 3);
    a.submission_set_status = rows->GetString(i, 4);
    if (!rows->IsNull(i, 5)) a.patient_key = rows->GetInt(i, 5);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace carnet::storage
