// Reminders delivered through the notification outbox (issue 16): for every open record whose
// patient asked for them ($notification-preferences, event "reminder"), the vaccinations and
// screenings the prevention tables give (prevention/reminders.h) that fall due within
// `days_before` days (or are due or overdue already) are queued once each (storage
// reminder_sent, in the same transaction), so that a second run, or a restart, sends nothing
// twice. A guardian receives a child's reminders at the address they set on the child's
// record. The mail says what kind of reminder and when, not which vaccine: medical content
// is read in the record, not by e-mail.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "prevention/dates.h"
#include "prevention/rules.h"
#include "storage/pool.h"

namespace carnet {

// Queues the reminders due on `today` (within `days_before` days); the number queued.
Result<int> QueueDueReminders(storage::Pool& pool, const prevention::PreventionRules& rules,
                              const prevention::Date& today, int days_before);

// Runs QueueDueReminders for the current day every `interval_s` seconds, in the background.
class ReminderSender {
 public:
  ReminderSender(storage::Pool& pool, const prevention::PreventionRules& rules, int days_before,
                 int interval_s)
      : pool_(pool), rules_(rules), days_before_(days_before), interval_s_(interval_s) {}
  ~ReminderSender() { Stop(); }
  void Start();
  void Stop();

 private:
  void Run();
  storage::Pool& pool_;
  const prevention::PreventionRules& rules_;
  int days_before_;
  int interval_s_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace carnet
