// ITI-57 Update Document Set and ITI-62 Delete Document Set: the registry's metadata changed
// or removed after the fact, through the dossier's write path.
#include <optional>
#include <set>

#include "base/strings.h"
#include "dossier/dossier.h"
#include "mapping/document_entry.h"
#include "mapping/xds_metadata.h"
#include "storage/registry_store.h"
#include "storage/resource_store.h"
#include "xds/metadata_validation.h"
#include "xds/requests.h"
#include "xds/transactions.h"

namespace carnet::xds {
namespace {

using profiles::Action;
using profiles::Decision;

// The transaction's own audit record (DICOM 110110 Patient Record, as IHE ITI-57 and ITI-62
// ask), one per record touched, beside the record of each resource written.
Status AuditTransaction(Tx& tx, Session& session, const char* iti, char action,
                        const std::set<std::optional<long long>>& keys) {
  Decision granted;
  granted.allowed = true;
  granted.code = profiles::Reason::kPermitted;
  granted.reason = std::string(iti) + " applied";
  for (const auto& key : keys) {
    profiles::AuditEntry audit =
        profiles::AuditEntry::Dicom("110110", "Patient Record", iti, action);
    CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, granted, key));
  }
  return Status::Ok();
}

}  // namespace

// ITI-57: a new version of a DocumentEntry's metadata (same logicalID, PreviousVersion =
// the current version; this is how a French source masks or unmasks a document, through its
// confidentialityCodes), or an availability status change.
HttpResponse UpdateDocumentSet(const XdsContext& xds, Session& session, const SoapRequest& req) {
  auto submission = ReadSubmissionRequest(req);
  if (!submission.ok()) return RegistryAnswer(req, {RegistryErrorFromStatus(submission.status())});
  SubmissionRequest& sub = *submission;
  ValidationResult validation =
      ValidateSubmission(sub.metadata, sub.Context(SubmissionKind::kUpdate), sub.read_problems);
  if (!validation.ok()) return RegistryAnswer(req, validation.errors);
  AssignUuidsToSymbolicIds(&sub.metadata);
  std::vector<RegistryError> errors;
  // As for ITI-42: a new type no profession may read, accepted with
  // deposit_unreadable_type = warn, is a RegistryError of severity Warning beside Success.
  std::vector<RegistryError> warnings;
  Status st = storage::RunInTransaction(xds.pool, [&](Tx& tx) -> Status {
    errors.clear();
    warnings.clear();
    (void)session.TakeWarnings();  // a previous attempt's
    std::set<std::optional<long long>> keys;
    // New metadata versions.
    for (const auto& e : sub.metadata.documents) {
      const Association* member = nullptr;
      for (const auto& a : sub.metadata.associations)
        if (a.type == AssociationType::kHasMember && a.target == e.id) member = &a;
      if (e.lid.empty() || !member || member->previous_version.empty()) {
        errors.push_back(Error("XDSMetadataUpdateError",
                               "an updated DocumentEntry needs its logicalID and a PreviousVersion",
                               e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      auto current = FindEntry(tx, session, e.lid);
      if (!current.ok()) return current.status();
      if (!*current) {
        errors.push_back(
            Error("XDSMetadataUpdateError", "no DocumentEntry with logicalID " + e.lid, e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      if (member->previous_version != std::to_string((*current)->version)) {
        errors.push_back(Error("XDSMetadataVersionError",
                               "PreviousVersion " + member->previous_version +
                                   " is not the current version " +
                                   std::to_string((*current)->version) + " of " + e.lid,
                               e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      // The document itself cannot change: keep its content (url, hash, size, mime type).
      // The new entryUUID, the logicalID and the next version number travel in the mapped
      // DocumentReference (identifier and carnet extensions).
      xds::DocumentEntry next = e;
      next.version = std::to_string((*current)->version + 1);
      const JsonValue& old = (*current)->resource;
      JsonValue dr = mapping::DocumentReferenceFromEntry(
          next, old.Find("subject") ? old.Find("subject")->GetString("reference") : "", "");
      if (const JsonValue* content = old.Find("content")) dr.Set("content", *content);
      dr.Set("id", JsonValue::String((*current)->res_id));
      auto upd = dossier::Update(tx, session, "DocumentReference", (*current)->res_id, dr);
      for (auto& w : session.TakeWarnings()) {
        RegistryError warning =
            Error("XDSRegistryMetadataError", "DocumentEntry " + e.id + ": " + w.message, e.id);
        warning.severity = RegistryError::Severity::kWarning;
        warnings.push_back(std::move(warning));
      }
      if (!upd.ok()) return PolicyError(upd.status(), e.id, errors);
      keys.insert(upd->stored.patient_key);
    }
    // Availability status changes.
    for (const auto& a : sub.metadata.associations) {
      if (a.type != AssociationType::kUpdateAvailabilityStatus) continue;
      auto current = FindEntry(tx, session, a.target);
      if (!current.ok()) return current.status();
      if (!*current) {
        errors.push_back(
            Error("UnresolvedReferenceException", "no DocumentEntry " + a.target, a.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      JsonValue dr = (*current)->resource;
      std::string from = dr.GetString("status") == "superseded" ? std::string(kStatusDeprecated)
                                                                : std::string(kStatusApproved);
      if (from != a.original_status) {
        errors.push_back(Error("XDSMetadataUpdateOperationError",
                               "OriginalStatus does not match the entry's status", a.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      dr.Set("status",
             JsonValue::String(a.new_status == kStatusDeprecated ? "superseded" : "current"));
      auto upd = dossier::Update(tx, session, "DocumentReference", (*current)->res_id, dr);
      if (!upd.ok()) return PolicyError(upd.status(), a.id, errors);
      keys.insert(upd->stored.patient_key);
    }
    return AuditTransaction(tx, session, "ITI-57", 'U', keys);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  if (st.ok()) errors.insert(errors.end(), warnings.begin(), warnings.end());
  return RegistryAnswer(req, errors);
}

// ITI-62: removal of DocumentEntries (their metadata; every version stays in the history).
HttpResponse DeleteDocumentSet(const XdsContext& xds, Session& session, const SoapRequest& req) {
  auto ids = ReadRemoveObjectsRequest(req.body_element);
  if (!ids.ok()) return RegistryAnswer(req, {RegistryErrorFromStatus(ids.status())});
  struct Object {
    std::string type, res_type, res_id, uuid;
  };
  struct Link {
    std::string uuid, type, source, target, source_type, source_res_type, source_res_id, target_ref;
  };
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(xds.pool, [&](Tx& tx) -> Status {
    errors.clear();
    std::vector<Object> objects;
    std::vector<Link> links;
    std::set<std::string> removing;
    // An object the caller may not see is answered as one that does not exist.
    auto visible = [&](const std::string& res_type, const std::string& res_id) -> Result<bool> {
      if (res_type.empty() || res_id.empty()) return true;
      auto current = storage::ReadCurrent(tx, res_type, res_id, false);
      if (!current.ok()) return current.status();
      if (!*current) return true;
      auto d = session.DecideStored(tx, **current, Action::kRead);
      if (!d.ok()) return d.status();
      if (!d->allowed)
        (void)session.Refuse(profiles::AuditEntry::Rest("read", 'R'), *d, (*current)->patient_key,
                             res_type + "/" + res_id);
      return d->allowed;
    };
    for (const auto& id : *ids) {
      std::string uuid = Uuid(id);
      if (!IsUuid(uuid)) {
        errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
        continue;
      }
      auto o = storage::FindRegistryObject(tx, uuid);
      if (!o.ok()) return o.status();
      if (*o) {
        auto seen = visible((*o)->res_type, (*o)->res_id);
        if (!seen.ok()) return seen.status();
        if (!*seen) {
          errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
          continue;
        }
        objects.push_back({(*o)->object_type, (*o)->res_type, (*o)->res_id, (*o)->entry_uuid});
        removing.insert((*o)->entry_uuid);
        continue;
      }
      auto a = storage::FindAssociation(tx, uuid);
      if (!a.ok()) return a.status();
      if (*a) {
        const storage::AssociationEndsRow& row = **a;
        size_t slash = row.target_ref.find('/');
        auto source_seen = visible(row.source_res_type, row.source_res_id);
        if (!source_seen.ok()) return source_seen.status();
        auto target_seen = slash == std::string::npos ? Result<bool>(true)
                                                      : visible(row.target_ref.substr(0, slash),
                                                                row.target_ref.substr(slash + 1));
        if (!target_seen.ok()) return target_seen.status();
        if (!*source_seen || !*target_seen) {
          errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
          continue;
        }
        links.push_back({uuid, row.association_type, row.source_uuid, row.target_uuid,
                         row.source_object_type, row.source_res_type, row.source_res_id,
                         row.target_ref});
        removing.insert(uuid);
        continue;
      }
      errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
    }
    if (!errors.empty()) return Status(ErrorCode::kInvalid, "delete");
    // ITI TF-2b 3.62.4.1.3: an object still referenced by an association that stays cannot go
    // (ReferencesExistException), nor can a Folder membership that a SubmissionSet's HasMember
    // still holds; a membership cannot go while its SubmissionSet stays
    // (XDSUnreferencedObjectException).
    std::vector<std::pair<std::string, std::string>> referenced;  // (what, uuid)
    for (const auto& o : objects) referenced.emplace_back(o.type, o.uuid);
    for (const auto& l : links) referenced.emplace_back("Association", l.uuid);
    for (const auto& [what, uuid] : referenced) {
      auto refs = storage::AssociationsTouching(tx, uuid);
      if (!refs.ok()) return refs.status();
      for (const auto& ref : *refs)
        if (ref != uuid && !removing.count(ref))
          errors.push_back(Error("ReferencesExistException",
                                 what + " urn:uuid:" + uuid +
                                     " is referenced by association urn:uuid:" + ref +
                                     ", which is not removed",
                                 "urn:uuid:" + uuid));
    }
    for (const auto& l : links)
      if (l.source_type == "SubmissionSet" && !removing.count(l.source))
        errors.push_back(Error("XDSUnreferencedObjectException",
                               "association urn:uuid:" + l.uuid +
                                   " is a member of SubmissionSet urn:uuid:" + l.source +
                                   ", which is not removed",
                               "urn:uuid:" + l.uuid));
    if (!errors.empty()) return Status(ErrorCode::kInvalid, "delete");
    std::set<std::optional<long long>> keys;
    // Associations whose source stays: the membership or relation leaves that source.
    for (const auto& l : links) {
      if (removing.count(l.source) || l.source_res_id.empty()) continue;
      auto current = storage::ReadCurrent(tx, l.source_res_type, l.source_res_id, true);
      if (!current.ok()) return current.status();
      if (!*current || (*current)->deleted) continue;
      auto json = ParseJson((*current)->content);
      if (!json.ok()) return json.status();
      JsonValue resource = std::move(json).value();
      const char* field = l.source_res_type == "List" ? "entry" : "relatesTo";
      const char* ref_field = l.source_res_type == "List" ? "item" : "target";
      if (JsonValue* list = resource.Find(field); list && list->is_array()) {
        JsonValue kept = JsonValue::Array();
        for (const auto& e : list->items()) {
          const JsonValue* r = e.Find(ref_field);
          if (r && r->GetString("reference") == l.target_ref) continue;
          kept.Append(e);
        }
        if (kept.items().empty())
          resource.Remove(field);
        else
          resource.Set(field, std::move(kept));
      }
      auto upd = dossier::Update(tx, session, l.source_res_type, l.source_res_id, resource);
      if (!upd.ok()) return PolicyError(upd.status(), "urn:uuid:" + l.uuid, errors);
      keys.insert(upd->stored.patient_key);
    }
    for (const auto& o : objects) {
      auto current = storage::ReadCurrent(tx, o.res_type, o.res_id, false);
      if (!current.ok()) return current.status();
      if (*current) keys.insert((*current)->patient_key);
      auto removed = dossier::Delete(tx, session, o.res_type, o.res_id);
      if (!removed.ok()) return PolicyError(removed.status(), "urn:uuid:" + o.uuid, errors);
    }
    return AuditTransaction(tx, session, "ITI-62", 'D', keys);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  return RegistryAnswer(req, errors);
}

}  // namespace carnet::xds
