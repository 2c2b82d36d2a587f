// The FHIR interactions on the dossier (create, update, patch, delete, conditional writes,
// $meta-add/$meta-delete, $validate), written once and used both by single HTTP requests and by
// the entries of batch and transaction Bundles. What is FHIR's stays here (preconditions from
// headers, JSON Patch, search criteria); every write goes down to the dossier's one write path
// (dossier/dossier.h), the same call an XDS.b submission makes.
// Writes run inside a storage::Transaction supplied by the caller, so that a transaction
// Bundle is one database transaction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "dossier/dossier.h"
#include "profiles/access.h"
#include "storage/pool.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::fhir {

// Resource types served at /fhir (FHIR issue: core interactions).
const std::vector<std::string>& ServedTypes();
bool IsServedType(const std::string& type);
// Types no client may write (carnet writes them itself).
bool IsReadOnlyType(const std::string& type);

// Preconditions carried by headers (or Bundle.entry.request fields).
struct Preconditions {
  std::optional<int> if_match;  // W/"n" -> n
  std::string if_none_exist;    // conditional create criteria (query string)
};

// Parses W/"3", "3" or W/3 into 3; nullopt when malformed.
std::optional<int> ParseETag(const std::string& etag);

// The dossier's result of a write (dossier/dossier.h).
using WriteResult = dossier::WriteResult;

class Interactions {
 public:
  explicit Interactions(storage::Pool& pool) : pool_(pool) {}

  // Creates a resource with a new server id, or with `id` when given (create-on-update
  // through PUT, or an id reserved in advance for a transaction Bundle entry).
  Result<WriteResult> Create(storage::Transaction& tx, profiles::AccessSession& session,
                             const std::string& type, JsonValue resource,
                             const std::string& id = "", const std::string& method = "POST");
  // Updates (or creates, with the client's id) a resource.
  Result<WriteResult> Update(storage::Transaction& tx, profiles::AccessSession& session,
                             const std::string& type, const std::string& id, JsonValue resource,
                             const Preconditions& pre);
  // Applies a JSON Patch to the current version, then updates.
  Result<WriteResult> Patch(storage::Transaction& tx, profiles::AccessSession& session,
                            const std::string& type, const std::string& id, const JsonValue& patch,
                            const Preconditions& pre);
  // Soft delete: a new version marked deleted. Deleting what is absent or already deleted
  // succeeds (idempotent), as the spec allows.
  Result<WriteResult> Delete(storage::Transaction& tx, profiles::AccessSession& session,
                             const std::string& type, const std::string& id,
                             const Preconditions& pre);

  // Conditional create (If-None-Exist): when exactly one current resource matches
  // `criteria`, it is returned unchanged (200); none: created (201); several: kPreconditionFailed.
  // Serialised per criteria with a transaction-scoped advisory lock, so that two concurrent
  // identical requests create one resource, not two.
  Result<WriteResult> CreateIfNoneExist(storage::Transaction& tx, profiles::AccessSession& session,
                                        const std::string& type, JsonValue resource,
                                        const std::string& criteria, const std::string& id = "",
                                        const std::string& method = "POST");
  // Conditional update (PUT [type]?criteria): one match -> updated; none -> created; several
  // -> kPreconditionFailed.
  Result<WriteResult> ConditionalUpdate(storage::Transaction& tx, profiles::AccessSession& session,
                                        const std::string& type, const std::string& criteria,
                                        JsonValue resource, const Preconditions& pre);
  // Conditional delete (DELETE [type]?criteria): one match -> deleted; none -> nothing (204);
  // several -> kPreconditionFailed.
  Result<WriteResult> ConditionalDelete(storage::Transaction& tx, profiles::AccessSession& session,
                                        const std::string& type, const std::string& criteria,
                                        const Preconditions& pre);
  // Changes the visibility of a document ($meta-add / $meta-delete of security labels):
  // adds the codes of `add` to meta.security and removes those of `remove` from
  // meta.security and securityLabel. A patient-side choice (profiles::Action::kChangeVisibility).
  Result<WriteResult> ChangeSecurity(storage::Transaction& tx, profiles::AccessSession& session,
                                     const std::string& type, const std::string& id,
                                     const std::vector<JsonValue>& add,
                                     const std::vector<JsonValue>& remove);
  // "Patient?identifier=..." -> "Patient/123" when exactly one resource matches; kNotFound
  // for none, kPreconditionFailed for several.
  // Matches only what the session's actor may see, as every conditional criterion.
  Result<std::string> ResolveConditionalReference(storage::Transaction& tx,
                                                  profiles::AccessSession& session,
                                                  const std::string& reference);

  // Checks a resource against the R4 definitions, the posted profiles it claims and
  // `profiles` (dossier::CheckResource, the write path's own check) and the URL: kBadRequest
  // when the resourceType differs from `type`, kInvalid with every problem otherwise. `outcome`
  // receives the OperationOutcome issues (for $validate).
  Status Validate(const std::string& type, const JsonValue& resource, JsonValue* outcome,
                  const std::vector<std::string>& profiles = {}) const;

  storage::Pool& pool() { return pool_; }

 private:
  // The current resource matching `criteria` that the actor may see (none or one), once the
  // actor's token was found able to write `type` with one of `permissions`; several answer
  // kPreconditionFailed, naming the request as `request` ("conditional update").
  Result<std::vector<std::string>> LockedMatches(
      storage::Transaction& tx, profiles::AccessSession& session, const std::string& type,
      const std::string& criteria, std::string_view permissions, const std::string& request);

  storage::Pool& pool_;
};

}  // namespace carnet::fhir
