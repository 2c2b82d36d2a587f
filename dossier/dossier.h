// The dossier's one write path.
//
// Every resource, whatever road it came by (a FHIR create, update, patch or delete, an XDS.b
// ITI-41 submission, an ITI-57 metadata update, an MHD or CDA deposit, the extraction of a
// deposited document), is decided by the policy, stamped with its version, validated, filed
// under its patient's record, indexed for search and for the XDS registry, followed by the
// after-write rules (dossier/after_write.h) and audited: here, once, in the caller's
// transaction. fhir/ and xds/ both call these functions; neither writes a row itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "model/validator.h"
#include "profiles/access.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::dossier {

struct WriteResult {
  storage::StoredResource stored;
  JsonValue resource;     // as stored (with id and meta); null for deletes
  int http_status = 200;  // 200, 201 (created) or 204 (deleted): the protocols' answer
};

// Creates a resource with a new id, or with `id` when given (an update as create, an id
// reserved in advance by a transaction Bundle, an XDS entryUUID). `method` is the audit's.
Result<WriteResult> Create(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, JsonValue resource, const std::string& id = "",
                           const std::string& method = "POST");

// Replaces the current version of type/id (creates it, for the actors who may choose ids,
// when there is none). `if_match`: the version the writer last saw (optimistic locking).
Result<WriteResult> Update(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, const std::string& id, JsonValue resource,
                           std::optional<int> if_match = std::nullopt);

// A new version of `current` (read with its row lock) computed by the caller from it, e.g.
// by a JSON Patch; `action` says what kind of change it is for the policy (an update, or a
// change of visibility when only the security labels differ).
Result<WriteResult> Revise(storage::Transaction& tx, profiles::AccessSession& session,
                           const storage::StoredResource& current, JsonValue resource,
                           const std::string& method, profiles::Action action);

// Soft delete: a new version marked deleted (history kept). Deleting what is absent or
// already deleted succeeds (idempotent), as FHIR allows; so does, without effect, deleting what
// the actor may not read (answered as absent, the refusal audited).
Result<WriteResult> Delete(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, const std::string& id,
                           std::optional<int> if_match = std::nullopt);

// Changes the visibility of a document ($meta-add / $meta-delete of security labels): adds
// the codes of `add` to meta.security and removes those of `remove` from meta.security and
// securityLabel. Who may move which code is the policy's (profiles::DecideLabelChange).
Result<WriteResult> ChangeSecurity(storage::Transaction& tx, profiles::AccessSession& session,
                                   const std::string& type, const std::string& id,
                                   const std::vector<JsonValue>& add,
                                   const std::vector<JsonValue>& remove);

// Refuses, before any lookup, a write the actor's token can never make (a party that writes
// nothing, an app without the scope): the answer cannot depend on what exists.
// `permissions`: the SMART letters any of which allows the write ("c", "cu", "d").
Status CheckWriteIntent(profiles::AccessSession& session, const std::string& type,
                        std::string_view permissions, const char* interaction, char action);

// Refuses (as a missing resource would be refused) when the actor may not even read
// `current`: preconditions and "already deleted" answers must not tell what exists.
Status HiddenUnlessReadable(storage::Transaction& tx, profiles::AccessSession& session,
                            const storage::StoredResource& current, const std::string& interaction,
                            char action);

// Checks a resource against the R4 definitions and against the posted profiles it claims in
// meta.profile and those in `profiles` ($validate's profile parameter), read in `tx`
// (model/profile.h): kBadRequest when its resourceType is not `type`, kInvalid (kInvariant) with
// every problem (the first leads, the others as details) otherwise. `issues` (when given)
// receives every issue, warnings included, for $validate. A resource that claims no posted
// profile costs no database access.
Status CheckResource(storage::Transaction& tx, const std::string& type, const JsonValue& resource,
                     std::vector<model::ValidationIssue>* issues = nullptr,
                     const std::vector<std::string>& profiles = {});

// What the write path derives from a resource before storing it, exposed so that bulk
// loaders (bench/) store exactly what a live write stores:
// - the version as stored: meta.source set to `source` (the depositor), then id and meta
//   (versionId, lastUpdated; other meta members kept) put right after resourceType;
JsonValue StampVersion(JsonValue resource, const std::string& id, int version,
                       const std::string& last_updated, const std::string& source);
// - the security label codes kept in resource.security for the policy filters;
std::vector<std::string> SecurityCodes(const JsonValue& resource);
// - a Patient's national identity (INS value, its OID without urn:oid:) for its record row.
std::pair<std::string, std::string> NationalIdentityOf(const JsonValue& patient);

// The JSON of a stored resource, with id and meta as stored.
Result<JsonValue> StoredJson(const storage::StoredResource& r);

}  // namespace carnet::dossier
