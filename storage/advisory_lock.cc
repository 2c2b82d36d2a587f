#include "storage/advisory_lock.h"

namespace carnet::storage {

Status LockForTransaction(Transaction& tx, LockSpace space, const std::string& name) {
  static const Statement kLock{"advisory_xact_lock",
                               "SELECT pg_advisory_xact_lock(hashtextextended($1, $2::bigint))"};
  auto r = tx.Run(kLock, {SqlParam::Text(name),
                          SqlParam::Text(std::to_string(static_cast<int>(space)))});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace carnet::storage
