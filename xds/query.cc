// ITI-18 Registry Stored Query: the parsed query (xds/stored_query.h) becomes a registry query
// (storage/registry_query.h) read under the caller's access filter, and its rows the ebRIM
// objects of the answer.
#include <functional>
#include <map>
#include <set>

#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "mapping/xds_metadata.h"
#include "storage/registry_query.h"
#include "storage/registry_store.h"
#include "xds/stored_query.h"
#include "xds/transactions.h"

namespace carnet::xds {
namespace {

using profiles::AccessFilter;
using profiles::Decision;
using storage::RegistryObjectType;

// A query that names objects rather than a patient must not mix patients (ITI TF-2a
// 3.18.4.1.2.3.7: XDSResultNotSinglePatient).
bool IsPatientQuery(StoredQueryKind kind) {
  return kind == StoredQueryKind::kFindDocuments || kind == StoredQueryKind::kFindSubmissionSets ||
         kind == StoredQueryKind::kFindFolders || kind == StoredQueryKind::kGetAll ||
         kind == StoredQueryKind::kFindDocumentsByReferenceId;
}

}  // namespace

HttpResponse Query(const XdsContext& xds, Session& session, const SoapRequest& req) {
  StoredQueryParse parse = ParseAdhocQueryRequest(req.body_element);
  auto answer = [&](ResponseStatus status, const RegistryObjectList& list, ReturnType type,
                    const std::vector<RegistryError>& errors) {
    return SoapResponse(200,
                        WriteSoapResponse(req.transaction->response_action, req.message_id,
                                          WriteAdhocQueryResponse(status, list, type, errors)));
  };
  if (!parse.query)
    return answer(ResponseStatus::kFailure, {}, ReturnType::kObjectRef, parse.errors);
  const StoredQuery& q = *parse.query;
  const int max = xds.options.max_query_results;
  // One more than the maximum, so that going over it is seen.
  const storage::RegistryQuery registry_query = RegistryQueryOf(q, max + 1);
  const storage::RegistryQueryPlan plan(registry_query);

  bool all_versions = q.kind == StoredQueryKind::kGetDocuments &&
                      (q.Has("$XDSDocumentEntryUniqueId") || q.Has("$XDSDocumentEntryLogicalID"));
  RegistryObjectList list;
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(
      xds.pool, storage::TxOptions{storage::Isolation::kRepeatableRead, false, 3},
      [&](Tx& tx) -> Status {
        list = RegistryObjectList{};
        errors.clear();
        // A patient id under an assigning authority nobody uses: said, with the OID (a
        // patient unknown under a known one is an empty answer, as a hidden one is).
        if (!registry_query.patient_system.empty() || !registry_query.patient_value.empty()) {
          std::string cx;
          for (const auto& [name, groups] : q.parameters) {
            (void)groups;
            if (name.find("PatientId") != std::string::npos || name == "$patientId")
              if (const QueryValue* v = q.Single(name)) cx = v->text;
          }
          auto authority = UnknownAssigningAuthority(tx, cx, registry_query.patient_system, "");
          if (!authority.ok()) return authority.status();
          if (*authority) {
            errors.push_back(**authority);
            return Status::Ok();
          }
        }
        // What the caller may see of each record the query reaches, as the one AccessFilter
        // FHIR search uses, ANDed into every statement of the plan: the rows counted against
        // the maximum and returned are only the visible ones (an object one may not see is not
        // returned, nor counted, nor any association that touches it). The policy's filter is
        // per record (a professional may be in one patient's care team and not another's).
        std::map<long long, AccessFilter> filters;
        auto records = plan.Records(tx);
        if (!records.ok()) return records.status();
        for (long long key : *records) {
          auto f = session.SearchFilter(tx, {key});
          if (!f.ok()) return f.status();
          filters.emplace(key, std::move(f).value());
        }
        std::map<long long, Decision> reached;  // one audit record per record reached
        auto reach = [&](const std::optional<long long>& key) {
          if (!key) return;
          if (auto f = filters.find(*key); f != filters.end())
            reached.emplace(*key, profiles::SearchDecision(f->second));
        };
        // Compares the VISIBLE rows with the maximum: a caller learns nothing of what it may
        // not see.
        auto too_many = [&](size_t rows) {
          if (rows <= static_cast<size_t>(max)) return false;
          errors.push_back(Error("XDSTooManyResults", "the query matches more than " +
                                                          std::to_string(max) + " objects"));
          return true;
        };
        std::map<long long, std::string> cx_of_record;  // one lookup per record, not per object
        auto cx_of = [&](const std::optional<long long>& key) -> std::string {
          if (!key) return "";
          if (auto it = cx_of_record.find(*key); it != cx_of_record.end()) return it->second;
          auto c = mapping::PatientCxOf(tx, *key);
          return cx_of_record[*key] = c.ok() ? *c : "";
        };
        // The visible objects of one type, each handed to `take` (its JSON and row). True when
        // they are more than the maximum.
        auto each_object =
            [&](RegistryObjectType type,
                const std::function<Status(const JsonValue&, const storage::RegistryObjectRow&)>&
                    take) -> Result<bool> {
          if (!plan.Selects(type)) return false;
          auto rows = plan.Objects(tx, type, filters);
          if (!rows.ok()) return rows.status();
          if (too_many(rows->size())) return true;
          for (const auto& row : *rows) {
            auto json = ParseJson(row.content);
            if (!json.ok()) return json.status();
            reach(row.patient_key);
            CARNET_RETURN_IF_ERROR(take(*json, row));
          }
          return false;
        };
        std::map<std::string, std::string> versions_of;  // res_id -> patient CX
        std::set<std::string> seen_versions;
        auto over =
            each_object(RegistryObjectType::kDocumentEntry,
                        [&](const JsonValue& dr, const storage::RegistryObjectRow& row) -> Status {
                          auto entry = mapping::EntryFromDocumentReference(
                              dr, cx_of(row.patient_key), mapping::AuthorResolver(tx));
                          if (!entry.ok()) return entry.status();
                          if (entry->repository_unique_id.empty())
                            entry->repository_unique_id = mapping::kRepositoryUniqueId;
                          std::string res_id = dr.GetString("id");
                          std::string current_uuid = entry->id;
                          std::string cx = entry->patient_id;
                          list.documents.push_back(std::move(entry).value());
                          if (all_versions) {
                            versions_of[res_id] = cx;
                            seen_versions.insert(current_uuid);
                          }
                          return Status::Ok();
                        });
        if (!over.ok()) return over.status();
        if (*over) return Status::Ok();
        // Asked by uniqueId or logicalID, GetDocuments returns every metadata version (ITI-57:
        // the versions share both), the earlier ones Deprecated; one round trip for all.
        if (!versions_of.empty()) {
          std::vector<std::string> ids;
          for (const auto& [id, cx] : versions_of) ids.push_back(id);
          auto older = storage::DocumentReferenceVersions(tx, ids);
          if (!older.ok()) return older.status();
          for (const auto& v : *older) {
            auto json = ParseJson(v.content);
            if (!json.ok()) continue;
            auto version = mapping::EntryFromDocumentReference(*json, versions_of[v.res_id],
                                                               mapping::AuthorResolver(tx));
            if (!version.ok() || !seen_versions.insert(version->id).second) continue;
            version->status = std::string(kStatusDeprecated);
            if (version->repository_unique_id.empty())
              version->repository_unique_id = mapping::kRepositoryUniqueId;
            list.documents.push_back(std::move(version).value());
          }
        }
        over = each_object(
            RegistryObjectType::kSubmissionSet,
            [&](const JsonValue& json, const storage::RegistryObjectRow& row) {
              list.submission_sets.push_back(mapping::SubmissionSetFromList(json, row.patient_id));
              return Status::Ok();
            });
        if (!over.ok()) return over.status();
        if (*over) return Status::Ok();
        over = each_object(RegistryObjectType::kFolder,
                           [&](const JsonValue& json, const storage::RegistryObjectRow& row) {
                             list.folders.push_back(mapping::FolderFromList(json, row.patient_id));
                             return Status::Ok();
                           });
        if (!over.ok()) return over.status();
        if (*over) return Status::Ok();
        if (plan.SelectsAssociations()) {
          auto rows = plan.Associations(tx, filters);
          if (!rows.ok()) return rows.status();
          if (too_many(rows->size())) return Status::Ok();
          for (const auto& row : *rows) {
            Association a;
            a.id = "urn:uuid:" + row.entry_uuid;
            a.type_uri = row.association_type;
            a.type = AssociationTypeFromUri(a.type_uri);
            a.source = "urn:uuid:" + row.source_uuid;
            a.target = "urn:uuid:" + row.target_uuid;
            a.status = std::string(kStatusApproved);
            a.submission_set_status = row.submission_set_status;
            reach(row.patient_key);
            list.associations.push_back(std::move(a));
          }
        }
        // A document whose relations one may not see is related to nothing one sees.
        if (q.kind == StoredQueryKind::kGetRelatedDocuments && list.associations.empty())
          list.documents.clear();
        if (!IsPatientQuery(q.kind) && reached.size() > 1) {
          list = RegistryObjectList{};
          errors.push_back(Error("XDSResultNotSinglePatient",
                                 "the objects asked for belong to more than one patient"));
        }
        profiles::AuditEntry audit = profiles::AuditEntry::Dicom("110112", "Query", "ITI-18", 'E');
        // The query as asked (entity.query): every parameter and its values.
        for (const auto& [name, groups] : q.parameters)
          for (const auto& group : groups)
            for (const auto& v : group)
              audit.query += (audit.query.empty() ? "" : "&") + name + "=" + v.text;
        if (reached.empty()) {
          Decision none;
          none.allowed = true;
          none.code = profiles::Reason::kPermitted;
          none.reason = "stored query: nothing visible matched";
          // Nothing visible because a record of the query was closed to the caller: that
          // record's reason (blocked, not-in-care-team...) is why, for the log and the audit.
          for (const auto& [key, f] : filters) {
            Decision d = profiles::SearchDecision(f);
            if (profiles::SideOf(d.code) == profiles::ReasonSide::kDeny) {
              none.code = d.code;
              none.reason += " (" + d.reason + ")";
              break;
            }
          }
          return session.Audit(tx, audit, none, std::nullopt);
        }
        for (const auto& [key, d] : reached)
          CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, d, key));
        return Status::Ok();
      });
  if (!st.ok())
    return answer(ResponseStatus::kFailure, {}, q.return_type, {RegistryErrorFromStatus(st)});
  if (!errors.empty()) return answer(ResponseStatus::kFailure, {}, q.return_type, errors);
  return answer(ResponseStatus::kSuccess, list, q.return_type, parse.errors);
}

}  // namespace carnet::xds
