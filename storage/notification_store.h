// The rows behind the patient's notifications: the stored preferences (patient_preference,
// per channel and event kind), the outbox rows queued for them, and whether an actor was
// granted access to a record before (its first access is what the patient is told about).
// What to say and to whom is decided above (profiles/notification.h); delivery is the
// outbox worker's (storage/outbox_store.h). Every function runs in the caller's transaction,
// so that a notification is queued with the event that causes it or not at all.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// One patient_preference row; an empty address is stored as NULL.
struct PreferenceRow {
  std::string channel;
  std::string event_kind;
  bool enabled = false;
  std::string address;
};

// The record's preferences, by channel then event kind.
Result<std::vector<PreferenceRow>> ReadPreferenceRows(Transaction& tx, long long patient_key);
// Inserts or replaces the preference of (`row.channel`, `row.event_kind`).
Status UpsertPreferenceRow(Transaction& tx, long long patient_key, const PreferenceRow& row);

// Queues `payload` once per enabled preference of `event_kind` that has an address (none
// when the patient asked for nothing).
Status QueueNotifications(Transaction& tx, long long patient_key, const std::string& event_kind,
                          const std::string& payload);

// Whether the access history holds a successful event (outcome 0) of `actor_id` on the
// record.
Result<bool> HasGrantedAccessBefore(Transaction& tx, long long patient_key,
                                    const std::string& actor_id);

}  // namespace carnet::storage
