#include "storage/reminder_store.h"

namespace carnet::storage {
namespace {

constexpr Statement kWanting{
    "reminders_wanting",
    "SELECT DISTINCT p.patient_key FROM patient p JOIN patient_preference pp "
    "ON pp.patient_key = p.patient_key WHERE p.status = 'active' AND pp.event_kind = 'reminder' "
    "AND pp.enabled AND coalesce(pp.address, '') <> '' ORDER BY p.patient_key"};
constexpr Statement kMark{
    "reminders_mark",
    "INSERT INTO reminder_sent (patient_key, reminder) VALUES ($1::bigint, $2) "
    "ON CONFLICT DO NOTHING"};

}  // namespace

Result<std::vector<long long>> RecordsWantingReminders(Transaction& tx) {
  auto r = tx.Run(kWanting);
  if (!r.ok()) return r.status();
  std::vector<long long> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(std::stoll(r->GetString(i, 0)));
  return out;
}

Result<bool> MarkReminderQueued(Transaction& tx, long long patient_key,
                                const std::string& reminder) {
  auto r = tx.Run(kMark, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(reminder)});
  if (!r.ok()) return r.status();
  return r->affected() == 1;
}

}  // namespace carnet::storage
