#include "profiles/notification.h"

#include "base/strings.h"
#include "profiles/webhook_destination.h"
#include "storage/notification_store.h"
#include "storage/reminder_store.h"

namespace carnet::profiles {
namespace {

// The outbox payload: what each channel sends. E-mail carries words only (no medical
// content leaves by mail: the patient reads the record in the app); the webhook carries an
// id-only notification Bundle (the R4 Subscriptions backport's shape) pointing at the
// event's focus.
std::string Payload(const std::string& kind, const std::string& subject, const std::string& text,
                    const std::string& focus) {
  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", JsonValue::String("Bundle"));
  bundle.Set("id", JsonValue::String(NewUuid()));
  bundle.Set("type", JsonValue::String("history"));
  bundle.Set("timestamp", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
  JsonValue status = JsonValue::Object();
  status.Set("resourceType", JsonValue::String("Parameters"));
  JsonValue params = JsonValue::Array();
  auto param = [&](const char* name, const char* value_key, const std::string& value) {
    JsonValue p = JsonValue::Object();
    p.Set("name", JsonValue::String(name));
    p.Set(value_key, JsonValue::String(value));
    params.Append(std::move(p));
  };
  param("topic", "valueCanonical", "https://carnet.example.org/fhir/SubscriptionTopic/" + kind);
  param("status", "valueCode", "active");
  param("type", "valueCode", "event-notification");
  JsonValue event = JsonValue::Object();
  event.Set("name", JsonValue::String("notification-event"));
  JsonValue parts = JsonValue::Array();
  JsonValue focus_part = JsonValue::Object();
  focus_part.Set("name", JsonValue::String("focus"));
  JsonValue ref = JsonValue::Object();
  ref.Set("reference", JsonValue::String(focus));
  focus_part.Set("valueReference", std::move(ref));
  parts.Append(std::move(focus_part));
  event.Set("part", std::move(parts));
  params.Append(std::move(event));
  status.Set("parameter", std::move(params));
  JsonValue entries = JsonValue::Array();
  JsonValue entry = JsonValue::Object();
  entry.Set("resource", std::move(status));
  entries.Append(std::move(entry));
  bundle.Set("entry", std::move(entries));

  JsonValue payload = JsonValue::Object();
  payload.Set("subject", JsonValue::String(subject));
  payload.Set("text", JsonValue::String(text));
  payload.Set("bundle", std::move(bundle));
  return WriteJson(payload);
}

}  // namespace

Result<bool> HasAccessedBefore(storage::Transaction& tx, long long patient_key,
                               const std::string& actor_id) {
  return storage::HasGrantedAccessBefore(tx, patient_key, actor_id);
}

Status EnqueueAccessNotification(storage::Transaction& tx, long long patient_key,
                                 const std::string& kind, const AuditEntry& entry,
                                 const std::string& event_id) {
  std::string who = entry.actor_id;
  if (!entry.profession.empty()) who += " (profession " + entry.profession + ")";
  if (!entry.organisation.empty()) who += ", organisation " + entry.organisation;
  std::string subject, text;
  if (kind == kEventEmergency) {
    subject = "Accès en urgence à votre dossier / Emergency access to your record";
    text = "Le professionnel " + who +
           " a accédé à votre dossier en mode urgence. Motif : " + entry.emergency_reason +
           "\nProfessional " + who +
           " accessed your record in emergency mode. Reason: " + entry.emergency_reason;
  } else {
    subject = "Premier accès à votre dossier / First access to your record";
    text = "Le professionnel " + who + " a consulté votre dossier pour la première fois.\n" +
           "Professional " + who + " accessed your record for the first time.";
  }
  return storage::QueueNotifications(tx, patient_key, kind,
                                     Payload(kind, subject, text, "AuditEvent/" + event_id));
}

Status EnqueueDocumentNotification(storage::Transaction& tx, long long patient_key,
                                   const std::string& reference, const std::string& title,
                                   bool replaces) {
  std::string subject = replaces ? "Document remplacé dans votre dossier / Document replaced"
                                 : "Nouveau document dans votre dossier / New document";
  std::string text = (replaces ? "Un document a été remplacé : " : "Un nouveau document : ") +
                     title + "\n" + (replaces ? "A document was replaced: " : "A new document: ") +
                     title;
  return storage::QueueNotifications(tx, patient_key, kEventDocument,
                                     Payload(kEventDocument, subject, text, reference));
}

Status EnqueueEventNotification(storage::Transaction& tx, long long patient_key,
                                const std::string& kind, const std::string& subject,
                                const std::string& text, const std::string& focus) {
  return storage::QueueNotifications(tx, patient_key, kind, Payload(kind, subject, text, focus));
}

Result<bool> EnqueueReminderOnce(storage::Transaction& tx, long long patient_key,
                                 const std::string& reminder, const std::string& patient_reference,
                                 const std::string& subject, const std::string& text) {
  auto first = storage::MarkReminderQueued(tx, patient_key, reminder);
  if (!first.ok() || !*first) return first;
  CARNET_RETURN_IF_ERROR(storage::QueueNotifications(
      tx, patient_key, kEventReminder, Payload(kEventReminder, subject, text, patient_reference)));
  return true;
}

Status CheckPreference(const NotificationPreference& p) {
  if (p.channel != "email" && p.channel != "webhook")
    return BadRequest("channel must be email or webhook, not '" + p.channel + "'");
  if (p.event_kind != kEventDocument && p.event_kind != kEventAccess &&
      p.event_kind != kEventEmergency && p.event_kind != kEventReminder &&
      p.event_kind != std::string_view("messages"))
    return BadRequest("event must be document, access, emergency, reminder or messages, not '" +
                      p.event_kind + "'");
  if (p.enabled && p.address.empty()) return BadRequest("an enabled preference needs an address");
  if (p.address.size() > 512) return BadRequest("address too long");
  for (char c : p.address)
    if (static_cast<unsigned char>(c) < 0x21 || c == '<' || c == '>' || c == '"' || c == '\\')
      return BadRequest("address holds a character it may not hold");
  if (p.channel == "email" && !p.address.empty()) {
    size_t at = p.address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= p.address.size() ||
        p.address.find('@', at + 1) != std::string::npos)
      return BadRequest("'" + p.address + "' is not an e-mail address");
  }
  // Where the gateway will send requests: not into its own network (kInvalid).
  if (p.channel == "webhook" && !p.address.empty())
    return ProcessWebhookPolicy().CheckUrl(p.address);
  return Status::Ok();
}

Status SetPreference(storage::Transaction& tx, long long patient_key,
                     const NotificationPreference& p) {
  CARNET_RETURN_IF_ERROR(CheckPreference(p));
  return storage::UpsertPreferenceRow(tx, patient_key,
                                      {p.channel, p.event_kind, p.enabled, p.address});
}

Result<std::vector<NotificationPreference>> ReadPreferences(storage::Transaction& tx,
                                                            long long patient_key) {
  auto rows = storage::ReadPreferenceRows(tx, patient_key);
  if (!rows.ok()) return rows.status();
  std::vector<NotificationPreference> out;
  for (auto& r : *rows)
    out.push_back({std::move(r.channel), std::move(r.event_kind), r.enabled, std::move(r.address)});
  return out;
}

}  // namespace carnet::profiles
