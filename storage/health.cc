#include "storage/health.h"

namespace carnet::storage {

Result<int> RecordedSchemaVersion(Transaction& tx) {
  static constexpr Statement kSchemaVersion{"ready_schema_version",
                                            "SELECT coalesce(max(version), 0) FROM schema_version"};
  auto r = tx.Run(kSchemaVersion);
  if (!r.ok()) return r.status();
  return static_cast<int>(r->GetInt(0, 0));
}

Status HoldConnection(Transaction& tx, const std::string& ms) {
  static constexpr Statement kSleep{"debug_sleep", "SELECT pg_sleep($1::double precision / 1000)"};
  auto r = tx.Run(kSleep, {SqlParam::Text(ms)});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace carnet::storage
