#include "storage/notification_store.h"

namespace carnet::storage {
namespace {

constexpr Statement kSeen{
    "notify_seen",
    "SELECT 1 FROM audit_event WHERE patient_key = $1::bigint AND actor_id = $2 "
    "AND outcome = '0' LIMIT 1"};
constexpr Statement kPreferences{
    "notify_preferences",
    "SELECT channel, event_kind, enabled, coalesce(address, '') FROM patient_preference "
    "WHERE patient_key = $1::bigint ORDER BY channel, event_kind"};
constexpr Statement kEnqueue{
    "notify_enqueue",
    "INSERT INTO outbox (patient_key, channel, event_kind, destination, payload) "
    "SELECT $1::bigint, channel, event_kind, address, $3 FROM patient_preference "
    "WHERE patient_key = $1::bigint AND event_kind = $2 AND enabled AND address IS NOT NULL "
    "AND address <> ''"};
constexpr Statement kUpsert{
    "notify_set_preference",
    "INSERT INTO patient_preference (patient_key, channel, event_kind, enabled, address) "
    "VALUES ($1::bigint, $2, $3, $4::boolean, nullif($5, '')) "
    "ON CONFLICT (patient_key, channel, event_kind) DO UPDATE SET enabled = excluded.enabled, "
    "address = excluded.address"};

}  // namespace

Result<std::vector<PreferenceRow>> ReadPreferenceRows(Transaction& tx, long long patient_key) {
  auto r = tx.Run(kPreferences, {SqlParam::Text(std::to_string(patient_key))});
  if (!r.ok()) return r.status();
  std::vector<PreferenceRow> out;
  for (int i = 0; i < r->rows(); ++i)
    out.push_back({r->GetString(i, 0), r->GetString(i, 1), r->GetBool(i, 2), r->GetString(i, 3)});
  return out;
}

Status UpsertPreferenceRow(Transaction& tx, long long patient_key, const PreferenceRow& row) {
  auto r = tx.Run(kUpsert,
                  {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(row.channel),
                   SqlParam::Text(row.event_kind), SqlParam::Text(row.enabled ? "true" : "false"),
                   SqlParam::Text(row.address)});
  return r.ok() ? Status::Ok() : r.status();
}

Status QueueNotifications(Transaction& tx, long long patient_key, const std::string& event_kind,
                          const std::string& payload) {
  auto r = tx.Run(kEnqueue, {SqlParam::Text(std::to_string(patient_key)),
                             SqlParam::Text(event_kind), SqlParam::Text(payload)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<bool> HasGrantedAccessBefore(Transaction& tx, long long patient_key,
                                    const std::string& actor_id) {
  auto r = tx.Run(kSeen, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(actor_id)});
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

}  // namespace carnet::storage
