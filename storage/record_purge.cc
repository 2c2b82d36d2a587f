#include "storage/record_purge.h"

#include <string>

#include "storage/transaction.h"

namespace carnet::storage {
namespace {

constexpr Statement kDue{
    "purge_due",
    "SELECT patient_key FROM patient WHERE status = 'closed' AND closed_at IS NOT NULL "
    "AND closed_at < now() - make_interval(days => $1::int) ORDER BY patient_key"};

// Content filed before its document (a Binary whose securityContext names a document of the
// record) carries no record key: found through that reference.
constexpr const char* kOrphanContent =
    "SELECT res_id FROM resource WHERE res_type = 'Binary' AND patient_key IS NULL AND "
    "content::jsonb #>> '{securityContext,reference}' IN (SELECT 'DocumentReference/' || res_id "
    "FROM resource WHERE patient_key = $1::bigint AND res_type = 'DocumentReference')";

// Children first; every table that holds a patient_key but the access history.
const char* const kTables[] = {"idx_string",        "idx_token",          "idx_reference",
                               "idx_date",          "idx_quantity",       "idx_uri",
                               "registry_code",     "association",        "registry_object",
                               "document_content",  "care_team_member",   "app_authorisation",
                               "emergency_access",  "patient_block",      "patient_preference",
                               "patient_identifier", "outbox",            "resource_history",
                               "resource"};
const char* const kIndexTables[] = {"idx_string", "idx_token", "idx_reference",
                                    "idx_date",   "idx_quantity", "idx_uri"};

}  // namespace

Result<std::vector<long long>> PurgeClosedRecords(Pool& pool, int retention_days) {
  std::vector<long long> due;
  Status st = RunInTransaction(pool, [&](Transaction& tx) -> Status {
    due.clear();
    auto r = tx.Run(kDue, {SqlParam::Text(std::to_string(retention_days))});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) due.push_back(r->GetInt(i, 0));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::vector<long long> purged;
  for (long long key : due) {
    std::string k = std::to_string(key);
    bool erased = false;
    Status done = RunInTransaction(pool, [&](Transaction& tx) -> Status {
      // Still closed and still due (a record reopened since is left alone).
      auto still = tx.RunDynamic(
          "SELECT 1 FROM patient WHERE patient_key = $1::bigint AND status = 'closed' AND "
          "closed_at < now() - make_interval(days => $2::int) FOR UPDATE",
          {SqlParam::Text(k), SqlParam::Text(std::to_string(retention_days))});
      if (!still.ok()) return still.status();
      erased = false;
      if (still->rows() == 0) return Status::Ok();
      auto orphans = tx.RunDynamic(kOrphanContent, {SqlParam::Text(k)});
      if (!orphans.ok()) return orphans.status();
      std::vector<std::string> ids;
      for (int i = 0; i < orphans->rows(); ++i) ids.push_back(orphans->GetString(i, 0));
      if (!ids.empty()) {
        std::string array = TextArrayLiteral(ids);
        for (const char* t : kIndexTables) {
          auto r = tx.RunDynamic(std::string("DELETE FROM ") + t +
                                     " WHERE res_type = 'Binary' AND res_id = ANY($1::text[])",
                                 {SqlParam::Text(array)});
          if (!r.ok()) return r.status();
        }
        for (const char* t : {"resource_history", "resource"}) {
          auto r = tx.RunDynamic(std::string("DELETE FROM ") + t +
                                     " WHERE res_type = 'Binary' AND res_id = ANY($1::text[])",
                                 {SqlParam::Text(array)});
          if (!r.ok()) return r.status();
        }
      }
      for (const char* t : kTables) {
        auto r = tx.RunDynamic(std::string("DELETE FROM ") + t + " WHERE patient_key = $1::bigint",
                               {SqlParam::Text(k)});
        if (!r.ok()) return r.status();
      }
      auto r = tx.RunDynamic("DELETE FROM patient WHERE patient_key = $1::bigint", {SqlParam::Text(k)});
      if (!r.ok()) return r.status();
      erased = true;
      return Status::Ok();
    });
    if (!done.ok()) return done;
    if (erased) purged.push_back(key);
  }
  return purged;
}

}  // namespace carnet::storage
