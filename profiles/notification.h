// What the patient is told, and when: notifications written to the outbox in the same
// transaction as the event that causes them (a new or replaced document, a professional's
// first access to the record, every emergency access), according to the patient's stored
// preferences (patient_preference: per channel and per event kind; e-mail is opt-in, as in
// the public service). Delivery is the outbox worker's job (server/outbox_worker.h): the
// request never waits for it, and a restart loses nothing.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/audit_event.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// Event kinds of patient_preference.event_kind and outbox.event_kind.
inline constexpr const char* kEventDocument = "document";
inline constexpr const char* kEventAccess = "access";
inline constexpr const char* kEventEmergency = "emergency";
inline constexpr const char* kEventReminder = "reminder";  // a vaccination or screening due
// "messages": a new secure message (profiles/messaging.h, kEventMessage).

// Whether `actor_id` was granted access to record `patient_key` before (a successful audit
// event under that actor id).
Result<bool> HasAccessedBefore(storage::Transaction& tx, long long patient_key,
                               const std::string& actor_id);

// Queues the notification of an access (kEventAccess or kEventEmergency) described by the
// audit entry `entry`, appended as AuditEvent `event_id`.
Status EnqueueAccessNotification(storage::Transaction& tx, long long patient_key,
                                 const std::string& kind, const AuditEntry& entry,
                                 const std::string& event_id);

// Queues the notification of a document added to (or replacing one in) the record.
// `reference` is "DocumentReference/[id]"; `title` what the patient reads (the type).
Status EnqueueDocumentNotification(storage::Transaction& tx, long long patient_key,
                                   const std::string& reference, const std::string& title,
                                   bool replaces);

// Queues, once ever for the record, the reminder `reminder` (its key: what is due and when):
// false when it was queued before (by an earlier run, before a restart), or when the patient
// asked for no reminder.
Result<bool> EnqueueReminderOnce(storage::Transaction& tx, long long patient_key,
                                 const std::string& reminder, const std::string& patient_reference,
                                 const std::string& subject, const std::string& text);

// Queues a notification of `kind` (the payload's words and the FHIR focus it points at):
// the shared door of the event kinds defined elsewhere (messaging.h's "messages").
Status EnqueueEventNotification(storage::Transaction& tx, long long patient_key,
                                const std::string& kind, const std::string& subject,
                                const std::string& text, const std::string& focus);

// One notification preference: `channel` "email" or "webhook", `event_kind` one of the
// kinds above, `address` an e-mail address or an http(s) URL.
struct NotificationPreference {
  std::string channel;
  std::string event_kind;
  bool enabled = false;
  std::string address;
};
// Checks a preference's shape (kBadRequest naming what is wrong), and that a webhook address
// is a destination the process's WebhookPolicy allows (kInvalid).
Status CheckPreference(const NotificationPreference& p);
Status SetPreference(storage::Transaction& tx, long long patient_key,
                     const NotificationPreference& p);
Result<std::vector<NotificationPreference>> ReadPreferences(storage::Transaction& tx,
                                                            long long patient_key);

}  // namespace carnet::profiles
