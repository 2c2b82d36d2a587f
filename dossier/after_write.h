// What follows a write in its transaction, as a table of rules in the manner of HAPI FHIR's
// storage pointcuts: each rule names the resource type it watches and runs after every
// stored version (or deletion) of that type, before the write's audit record and inside its
// transaction, so that a rule that fails undoes the write. A new rule is a row of the table
// in after_write.cc, not a branch of the write path.
#pragma once

#include <optional>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/access.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::dossier {

// One stored version as the rules see it.
struct WrittenVersion {
  const storage::StoredResource& stored;  // as stored (a deletion: the tombstone version)
  const JsonValue* resource;              // its content; null for a deletion
  const std::optional<storage::StoredResource>& previous;  // the version it follows, if any

  // A new resource, or one brought back after a deletion.
  bool created() const { return resource && (!previous || previous->deleted); }
};

using AfterWriteRule = Status (*)(storage::Transaction& tx, profiles::AccessSession& session,
                                  const WrittenVersion& written);

struct AfterWriteHook {
  const char* type;  // the resource type the rule watches; "*" for every type
  const char* what;  // what it keeps in step, for readers and logs
  AfterWriteRule rule;
};

// The rules, in the order they run.
const std::vector<AfterWriteHook>& AfterWriteHooks();

// Runs the rules watching `written.stored.type`, in order; stops at the first failure.
Status RunAfterWriteHooks(storage::Transaction& tx, profiles::AccessSession& session,
                          const WrittenVersion& written);

}  // namespace carnet::dossier
