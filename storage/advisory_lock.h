// Transaction-scoped advisory locks: serialise writers on something that has no row yet to
// lock (a new id, a conditional write's criteria). Released at commit or rollback.
#pragma once

#include <string>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// What the lock is taken for: each space hashes names apart, so that a name in one never
// waits on the same name in another.
enum class LockSpace { kConditionalCriteria = 0, kNewId = 1 };

// Waits until no other transaction holds the lock on `name` in `space`, then holds it.
Status LockForTransaction(Transaction& tx, LockSpace space, const std::string& name);

}  // namespace carnet::storage
