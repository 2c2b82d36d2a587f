#include "fhir/interactions.h"

#include <algorithm>

#include "base/http.h"
#include "fhir/json_patch.h"
#include "fhir/operation_definitions.h"
#include "fhir/outcome.h"
#include "fhir/search.h"
#include "fhir/search_access.h"
#include "model/search_params.h"
#include "model/structure.h"
#include "model/validator.h"
#include "storage/advisory_lock.h"

namespace carnet::fhir {

using dossier::CheckWriteIntent;
using dossier::HiddenUnlessReadable;
using dossier::StoredJson;

// Every concrete R4 resource type of the definitions carnet loads: a type of the Patient
// compartment is filed in a patient's record and read through the policy, any other is shared
// directory or conformance content (dossier::Create says where; the policy who writes it).
const std::vector<std::string>& ServedTypes() {
  static const std::vector<std::string> kTypes = model::StructureRegistry::R4().ResourceTypes();
  return kTypes;
}

bool IsServedType(const std::string& type) {
  const auto& t = ServedTypes();
  return std::binary_search(t.begin(), t.end(), type);
}

bool IsReadOnlyType(const std::string& type) { return type == "AuditEvent"; }

std::optional<int> ParseETag(const std::string& etag) {
  std::string s = etag;
  s.erase(0, s.find_first_not_of(' '));
  s.erase(s.find_last_not_of(' ') + 1);
  if (s.rfind("W/", 0) == 0) s = s.substr(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoi(s);
}

Status Interactions::Validate(const std::string& type, const JsonValue& resource,
                              JsonValue* outcome, const std::vector<std::string>& profiles) const {
  std::vector<model::ValidationIssue> issues;
  // The posted profiles are read in a transaction of their own (read only, nothing written).
  Status st;
  Status db = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) {
    st = dossier::CheckResource(tx, type, resource, &issues, profiles);
    return st.http_status() >= 500 ? st : Status::Ok();
  });
  if (!db.ok()) return db;
  if (st.code() == ErrorCode::kBadRequest) return st;
  std::vector<OutcomeIssue> out;
  for (const auto& i : issues) out.push_back({i.severity, i.code, i.message, i.expression, ""});
  // The server's own rules on a SearchParameter that need nothing but the resource (a reserved
  // code, one it cannot index): told here as the write would tell them.
  if (type == "SearchParameter") {
    auto rows = model::SearchParamRowsOf(resource.GetString("id"), resource);
    if (!rows.ok()) {
      const Status& why = rows.status();
      out.push_back({"error", std::string(ErrorInfoFor(why.code()).fhir_code), why.message(),
                     why.location(), ""});
      if (st.ok()) st = why;
    }
  }
  if (outcome) *outcome = MakeOperationOutcome(out);
  return st;
}

// carnet's own OperationDefinitions (fhir/data/operation_definitions.json) are read-only to
// every client: a write to one of their ids is refused (403) and the refusal audited.
static Status RefuseOwnDefinition(profiles::AccessSession& session, const std::string& type,
                                  const std::string& id, const char* interaction, char action) {
  if (type != "OperationDefinition" || !IsOwnOperationDefinition(id)) return Status::Ok();
  profiles::AuditEntry audit = profiles::AuditEntry::Rest(interaction, action);
  return session.Refuse(audit,
                        profiles::Refusal(profiles::Reason::kActorKind,
                                          "OperationDefinition/" + id +
                                              " is carnet's own definition of an operation it "
                                              "serves: read-only",
                                          ErrorCode::kForbidden),
                        std::nullopt, type + "/" + id);
}

Result<WriteResult> Interactions::Create(storage::Transaction& tx, profiles::AccessSession& session,
                                         const std::string& type, JsonValue resource,
                                         const std::string& id, const std::string& method) {
  if (!id.empty()) CARNET_RETURN_IF_ERROR(RefuseOwnDefinition(session, type, id, "create", 'C'));
  return dossier::Create(tx, session, type, std::move(resource), id, method);
}

Result<WriteResult> Interactions::Update(storage::Transaction& tx, profiles::AccessSession& session,
                                         const std::string& type, const std::string& id,
                                         JsonValue resource, const Preconditions& pre) {
  // R4 3.1.0.4: the body of an update carries the id of the URL.
  std::string body_id = resource.GetString("id");
  if (body_id.empty())
    return BadRequest("an update must carry the resource id in the body (" + type + ".id)",
                      type + ".id");
  if (body_id != id)
    return BadRequest("the body's id " + body_id + " differs from the URL's id " + id,
                      type + ".id");
  CARNET_RETURN_IF_ERROR(RefuseOwnDefinition(session, type, id, "update", 'U'));
  return dossier::Update(tx, session, type, id, std::move(resource), pre.if_match);
}

Result<WriteResult> Interactions::Delete(storage::Transaction& tx, profiles::AccessSession& session,
                                         const std::string& type, const std::string& id,
                                         const Preconditions& pre) {
  CARNET_RETURN_IF_ERROR(RefuseOwnDefinition(session, type, id, "delete", 'D'));
  return dossier::Delete(tx, session, type, id, pre.if_match);
}

Result<WriteResult> Interactions::ChangeSecurity(storage::Transaction& tx,
                                                 profiles::AccessSession& session,
                                                 const std::string& type, const std::string& id,
                                                 const std::vector<JsonValue>& add,
                                                 const std::vector<JsonValue>& remove) {
  CARNET_RETURN_IF_ERROR(RefuseOwnDefinition(session, type, id, "operation", 'U'));
  return dossier::ChangeSecurity(tx, session, type, id, add, remove);
}

// Whether two versions of a resource differ in their security labels only (meta.security,
// securityLabel), versionId and lastUpdated aside.
static bool OnlySecurityDiffers(JsonValue a, JsonValue b) {
  for (JsonValue* r : {&a, &b}) {
    r->Remove("securityLabel");
    if (JsonValue* meta = r->Find("meta")) {
      meta->Remove("security");
      meta->Remove("versionId");
      meta->Remove("lastUpdated");
    }
  }
  return WriteJson(a) == WriteJson(b);
}

Result<WriteResult> Interactions::Patch(storage::Transaction& tx, profiles::AccessSession& session,
                                        const std::string& type, const std::string& id,
                                        const JsonValue& patch, const Preconditions& pre) {
  CARNET_RETURN_IF_ERROR(CheckWriteIntent(session, type, "u", "patch", 'U'));
  CARNET_RETURN_IF_ERROR(RefuseOwnDefinition(session, type, id, "patch", 'U'));
  auto current = storage::ReadCurrent(tx, type, id, /*lock=*/true);
  if (!current.ok()) return current.status();
  if (!*current) return NotFound(type + "/" + id + " is not known");
  CARNET_RETURN_IF_ERROR(HiddenUnlessReadable(tx, session, **current, "patch", 'U'));
  if ((*current)->deleted) return Status(ErrorCode::kGone, type + "/" + id + " was deleted");
  if (pre.if_match && (*current)->version != *pre.if_match)
    return Status(ErrorCode::kPreconditionFailed,
                  "If-Match does not match the current version W/\"" +
                      std::to_string((*current)->version) + "\"");
  auto doc = StoredJson(**current);
  if (!doc.ok()) return doc.status();
  JsonValue before = std::move(doc).value();
  JsonValue patched = before;
  CARNET_RETURN_IF_ERROR(ApplyJsonPatch(patch, &patched));
  if (patched.GetString("resourceType") != type || patched.GetString("id") != id)
    return Invalid("a patch may not change resourceType or id");
  // A patch that only changes the security labels is a change of visibility (the French
  // PDSm4DMP masks and unmasks a document by a JSON Patch of securityLabel), decided as the
  // patient's choice by the policy (Write: DecideLabelChange), as $meta-add/$meta-delete are.
  profiles::Action action = profiles::Action::kUpdate;
  if (type == "DocumentReference" && OnlySecurityDiffers(before, patched))
    action = profiles::Action::kChangeVisibility;
  return dossier::Revise(tx, session, **current, std::move(patched), "PATCH", action);
}

// Canonical form of search criteria (parameters sorted), so that the same conditions
// written in another order take the same lock.
static std::string CanonicalCriteria(const std::string& type, const std::string& criteria) {
  auto params = ParseQuery(criteria);
  std::sort(params.begin(), params.end());
  std::string out = type + "?";
  for (const auto& [k, v] : params) out += k + "=" + v + "&";
  return out;
}

Result<std::vector<std::string>> Interactions::LockedMatches(
    storage::Transaction& tx, profiles::AccessSession& session, const std::string& type,
    const std::string& criteria, std::string_view permissions, const std::string& request) {
  auto query = ParseQuery(criteria);
  if (query.empty()) return BadRequest("conditional " + type + " request without search criteria");
  CARNET_RETURN_IF_ERROR(CheckWriteIntent(session, type, permissions, "create", 'C'));
  CARNET_RETURN_IF_ERROR(storage::LockForTransaction(tx, storage::LockSpace::kConditionalCriteria,
                                                     CanonicalCriteria(type, criteria)));
  // The criteria match only what the actor may see: a hidden resource neither answers the
  // request nor counts among "several".
  auto scope = VisibleScope(tx, session, type, query);
  if (!scope.ok()) return scope.status();
  auto ids = FindMatchingIds(tx, type, criteria, 2, *scope);
  if (!ids.ok()) return ids.status();
  if (ids->size() > 1)
    return Status(ErrorCode::kPreconditionFailed,
                  request + " " + criteria + " matches several " + type + " resources");
  return ids;
}

Result<WriteResult> Interactions::CreateIfNoneExist(storage::Transaction& tx,
                                                    profiles::AccessSession& session,
                                                    const std::string& type, JsonValue resource,
                                                    const std::string& criteria,
                                                    const std::string& id,
                                                    const std::string& method) {
  auto ids = LockedMatches(tx, session, type, criteria, "c", "If-None-Exist");
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return Create(tx, session, type, std::move(resource), id, method);
  auto current = storage::ReadCurrent(tx, type, ids->front(), false);
  if (!current.ok()) return current.status();
  if (!*current) return Internal("matched resource vanished");
  // The match is answered as a read: only what the actor may read.
  CARNET_RETURN_IF_ERROR(HiddenUnlessReadable(tx, session, **current, "create", 'C'));
  WriteResult out;
  out.stored = **current;
  auto json = StoredJson(out.stored);
  if (!json.ok()) return json.status();
  out.resource = std::move(json).value();
  out.http_status = 200;
  return out;
}

Result<WriteResult> Interactions::ConditionalUpdate(storage::Transaction& tx,
                                                    profiles::AccessSession& session,
                                                    const std::string& type,
                                                    const std::string& criteria, JsonValue resource,
                                                    const Preconditions& pre) {
  auto ids = LockedMatches(tx, session, type, criteria, "cu", "conditional update");
  if (!ids.ok()) return ids.status();
  std::string body_id = resource.GetString("id");
  if (ids->empty()) {
    // No match, an id in the body: an update as create of that id (R4 3.1.0.4.3), under
    // the same rule as PUT [type]/[id].
    if (!body_id.empty()) return Update(tx, session, type, body_id, std::move(resource), pre);
    return Create(tx, session, type, std::move(resource), "", "POST");
  }
  if (!body_id.empty() && body_id != ids->front())
    return BadRequest("the body's id " + body_id + " differs from the matching resource " + type +
                          "/" + ids->front(),
                      type + ".id");
  resource.Set("id", JsonValue::String(ids->front()));
  return Update(tx, session, type, ids->front(), std::move(resource), pre);
}

Result<WriteResult> Interactions::ConditionalDelete(storage::Transaction& tx,
                                                    profiles::AccessSession& session,
                                                    const std::string& type,
                                                    const std::string& criteria,
                                                    const Preconditions& pre) {
  auto ids = LockedMatches(tx, session, type, criteria, "d", "conditional delete");
  if (!ids.ok()) return ids.status();
  if (ids->empty()) {
    WriteResult none;
    none.http_status = 204;
    return none;
  }
  return Delete(tx, session, type, ids->front(), pre);
}

Result<std::string> Interactions::ResolveConditionalReference(storage::Transaction& tx,
                                                              profiles::AccessSession& session,
                                                              const std::string& reference) {
  size_t q = reference.find('?');
  std::string type = reference.substr(0, q);
  if (!IsServedType(type))
    return Invalid("conditional reference " + reference + " names an unknown type");
  std::string criteria = q == std::string::npos ? std::string() : reference.substr(q + 1);
  auto scope = VisibleScope(tx, session, type, ParseQuery(criteria));
  if (!scope.ok()) return scope.status();
  auto ids = FindMatchingIds(tx, type, criteria, 2, *scope);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return NotFound("conditional reference " + reference + " matches nothing");
  if (ids->size() > 1)
    return Status(ErrorCode::kPreconditionFailed,
                  "conditional reference " + reference + " matches several resources");
  return type + "/" + ids->front();
}

}  // namespace carnet::fhir
