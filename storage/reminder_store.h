// The rows behind the reminders sent through the outbox (reminder_sent, migration 0010): which
// records want them, and which reminder was queued already. What is due is prevention/'s;
// the message is profiles/notification.h's.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The records whose patient asked for reminders (an enabled preference of event kind
// "reminder" with an address), open records only: a closed or opposed record gets none.
Result<std::vector<long long>> RecordsWantingReminders(Transaction& tx);

// Records that `reminder` was queued for the record; false when it was already.
Result<bool> MarkReminderQueued(Transaction& tx, long long patient_key,
                                const std::string& reminder);

}  // namespace carnet::storage
