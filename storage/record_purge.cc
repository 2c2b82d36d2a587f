#include "storage/record_purge.h"

#include <string>

#include "storage/transaction.h"

namespace carnet::storage {
namespace {

constexpr Statement kDue{
    "purge_due",
    "SELECT patient_key FROM patient WHERE status = 'closed' AND closed_at IS NOT NULL "
    "AND closed_at < now() - make_interval(days => $1::int) ORDER BY patient_key"};

// UnkeyedRows: found through the link their content holds to one of the record's rows.
constexpr const char* kUnkeyed =
    "SELECT res_id FROM resource WHERE res_type = $2 AND patient_key IS NULL AND "
    "content::jsonb #>> $3::text[] IN (SELECT $4::text || res_id "
    "FROM resource WHERE patient_key = $1::bigint AND res_type = $5)";

// Children first; every table that holds a patient_key but the access history.
const char* const kTables[] = {"idx_string",
                               "idx_token",
                               "idx_reference",
                               "idx_date",
                               "idx_quantity",
                               "idx_uri",
                               "idx_text",
                               "registry_code",
                               "association",
                               "registry_object",
                               "document_content",
                               "care_team_member",
                               "app_authorisation",
                               "emergency_access",
                               "patient_block",
                               "patient_preference",
                               "agenda_feed",
                               "profile_section_choice",
                               "reminder_sent",
                               "xds_submission",
                               "patient_identifier",
                               "outbox",
                               "resource_history",
                               "resource"};
// Where a resource's rows are, by type and id: its index rows, then its history and itself.
const char* const kUnkeyedTables[] = {"idx_string", "idx_token",        "idx_reference",
                                      "idx_date",   "idx_quantity",     "idx_uri",
                                      "idx_text",   "resource_history", "resource"};

}  // namespace

Result<std::vector<long long>> PurgeClosedRecords(Pool& pool, int retention_days,
                                                  const UnkeyedRows& unkeyed) {
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
      auto orphans = tx.RunDynamic(
          kUnkeyed, {SqlParam::Text(k), SqlParam::Text(unkeyed.res_type),
                     SqlParam::Text(TextArrayLiteral(unkeyed.link_path)),
                     SqlParam::Text(unkeyed.owner_prefix), SqlParam::Text(unkeyed.owner_type)});
      if (!orphans.ok()) return orphans.status();
      std::vector<std::string> ids;
      for (int i = 0; i < orphans->rows(); ++i) ids.push_back(orphans->GetString(i, 0));
      if (!ids.empty()) {
        std::string array = TextArrayLiteral(ids);
        for (const char* t : kUnkeyedTables) {
          auto r = tx.RunDynamic(
              std::string("DELETE FROM ") + t + " WHERE res_type = $2 AND res_id = ANY($1::text[])",
              {SqlParam::Text(array), SqlParam::Text(unkeyed.res_type)});
          if (!r.ok()) return r.status();
        }
      }
      for (const char* t : kTables) {
        auto r = tx.RunDynamic(std::string("DELETE FROM ") + t + " WHERE patient_key = $1::bigint",
                               {SqlParam::Text(k)});
        if (!r.ok()) return r.status();
      }
      auto r =
          tx.RunDynamic("DELETE FROM patient WHERE patient_key = $1::bigint", {SqlParam::Text(k)});
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
