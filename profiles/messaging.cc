#include "profiles/messaging.h"

#include <algorithm>

#include "base/strings.h"
#include "profiles/mail_address.h"
#include "profiles/notification.h"
#include "storage/outbox_store.h"

namespace carnet::profiles {
namespace {

bool NamesPatient(const JsonValue& ref, const RecordContext& record) {
  std::vector<std::string> ids;
  CollectIdentifierValues(ref.Find("identifier"), ids);
  for (const auto& id : ids)
    if (!record.ins.empty() && id == record.ins) return true;
  return !record.patient_id.empty() && ref.GetString("reference") == "Patient/" + record.patient_id;
}

bool NamesActor(const JsonValue& ref, const Actor& actor) {
  if (actor.kind != ActorKind::kProfessional || actor.national_id.empty()) return false;
  std::vector<std::string> ids;
  CollectIdentifierValues(ref.Find("identifier"), ids);
  for (const auto& id : ids)
    if (id == actor.national_id) return true;
  return false;
}

// The address extension already on `ref`, if any.
const JsonValue* AddressExtension(const JsonValue& ref) {
  const JsonValue* ext = ref.Find("extension");
  if (!ext || !ext->is_array()) return nullptr;
  for (const auto& e : ext->items())
    if (e.GetString("url") == kMailAddressExtension) return &e;
  return nullptr;
}

Status StampParty(JsonValue& ref, const Actor& actor, const RecordContext& record,
                  const std::string& where) {
  if (!ref.is_object()) return Status::Ok();
  if (const JsonValue* given = AddressExtension(ref)) {
    // The address scheme has none for a guardian (no INS of theirs in the child's record,
    // no profession): they are reached through carnet only, never by a mail leaving it.
    if (ref.GetString("reference").rfind("RelatedPerson/", 0) == 0)
      return Status(ErrorCode::kBadRequest,
                    where +
                        ": a guardian (RelatedPerson) has no secure-mail address; they are "
                        "reached through carnet only",
                    where);
    const JsonValue* cp = given->Find("valueContactPoint");
    std::string value = cp ? cp->GetString("value") : "";
    auto parsed = ParseMailAddress(value);
    if (!parsed.ok())
      return Status(ErrorCode::kBadRequest, where + ": " + parsed.status().message(), where);
    if (parsed->patient && NamesPatient(ref, record) && parsed->ins != record.ins)
      return Status(ErrorCode::kBadRequest,
                    where + ": the patient's address carries another INS than the record's", where);
    return Status::Ok();
  }
  std::string address;
  if (NamesPatient(ref, record) && !record.ins.empty()) {
    auto a = PatientMailAddress(record.ins, MailDomain());
    if (a.ok()) address = *a;
  } else if (NamesActor(ref, actor) && !actor.given_name.empty() && !actor.family_name.empty()) {
    auto a = ProfessionalMailAddress(actor.given_name, actor.family_name, actor.profession,
                                     MailDomain());
    if (a.ok()) address = *a;
  }
  if (address.empty()) return Status::Ok();
  JsonValue cp = JsonValue::Object();
  cp.Set("system", JsonValue::String("email"));
  cp.Set("value", JsonValue::String(address));
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(std::string(kMailAddressExtension)));
  ext.Set("valueContactPoint", std::move(cp));
  JsonValue* list = ref.Find("extension");
  if (!list || !list->is_array()) {
    ref.Set("extension", JsonValue::Array());
    list = ref.Find("extension");
  }
  list->Append(std::move(ext));
  return Status::Ok();
}

}  // namespace

namespace {

const JsonValue* ReadExtension(const JsonValue& ref) {
  const JsonValue* ext = ref.Find("extension");
  if (!ext || !ext->is_array()) return nullptr;
  for (const auto& e : ext->items())
    if (e.GetString("url") == kMessageReadExtension) return &e;
  return nullptr;
}

// Drops a reading the sender wrote: a message is unread when sent.
void DropReadExtension(JsonValue& ref) {
  JsonValue* ext = ref.Find("extension");
  if (!ext || !ext->is_array() || !ReadExtension(ref)) return;
  JsonValue kept = JsonValue::Array();
  for (const auto& e : ext->items())
    if (e.GetString("url") != kMessageReadExtension) kept.Append(e);
  if (kept.items().empty())
    ref.Remove("extension");
  else
    ref.Set("extension", std::move(kept));
}

}  // namespace

Status StampMessage(JsonValue& message, const Actor& actor, const RecordContext& record,
                    const std::string& now) {
  if (message.GetString("sent").empty()) message.Set("sent", JsonValue::String(now));
  if (JsonValue* sender = message.Find("sender"))
    CARNET_RETURN_IF_ERROR(StampParty(*sender, actor, record, "Communication.sender"));
  message.Remove("received");  // read by nobody yet
  if (JsonValue* to = message.Find("recipient"); to && to->is_array())
    for (size_t i = 0; i < to->items().size(); ++i) {
      DropReadExtension(to->items()[i]);
      CARNET_RETURN_IF_ERROR(StampParty(to->items()[i], actor, record,
                                        "Communication.recipient[" + std::to_string(i) + "]"));
    }
  return Status::Ok();
}

void SendAsGuardian(JsonValue& message, const Actor& actor, const RecordContext& record,
                    const std::string& party) {
  if (party.empty()) return;
  const JsonValue* sender = message.Find("sender");
  bool replace = !sender || !sender->is_object() || NamesPatient(*sender, record) ||
                 sender->GetString("reference") == party;
  if (!replace) return;
  std::string name = actor.given_name;
  if (!actor.family_name.empty()) name += (name.empty() ? "" : " ") + actor.family_name;
  JsonValue ref = JsonValue::Object();
  ref.Set("reference", JsonValue::String(party));
  ref.Set("display", JsonValue::String(name.empty() ? std::string("représentant légal")
                                                    : name + " (représentant légal)"));
  message.Set("sender", std::move(ref));
}

bool MarkReadBy(JsonValue& message, const std::vector<std::string>& me, const std::string& now) {
  JsonValue* to = message.Find("recipient");
  if (!to || !to->is_array()) return false;
  ResourceSummary summary = SummariseResource(message);
  bool changed = false, everyone = true;
  std::string last;
  for (size_t i = 0; i < to->items().size(); ++i) {
    JsonValue& ref = to->items()[i];
    if (!ref.is_object()) continue;
    bool mine = false;
    if (i < summary.message_recipients.size())
      for (const auto& id : summary.message_recipients[i])
        mine = mine || std::find(me.begin(), me.end(), id) != me.end();
    if (mine && !ReadExtension(ref)) {
      JsonValue ext = JsonValue::Object();
      ext.Set("url", JsonValue::String(std::string(kMessageReadExtension)));
      ext.Set("valueDateTime", JsonValue::String(now));
      JsonValue* list = ref.Find("extension");
      if (!list || !list->is_array()) {
        ref.Set("extension", JsonValue::Array());
        list = ref.Find("extension");
      }
      list->Append(std::move(ext));
      changed = true;
    }
    const JsonValue* read = ReadExtension(ref);
    if (!read) {
      everyone = false;
    } else if (std::string at = read->GetString("valueDateTime"); at > last) {
      last = at;
    }
  }
  if (changed && everyone && message.GetString("received").empty())
    message.Set("received", JsonValue::String(last));
  return changed;
}

bool MessageReachesPatient(const JsonValue& message, const RecordContext& record) {
  if (const JsonValue* sender = message.Find("sender"); sender && NamesPatient(*sender, record))
    return false;
  if (const JsonValue* to = message.Find("recipient"); to && to->is_array())
    for (const auto& ref : to->items())
      if (NamesPatient(ref, record)) return true;
  return false;
}

Status EnqueueMessageNotification(storage::Transaction& tx, long long patient_key,
                                  const std::string& reference, const std::string& from) {
  return EnqueueEventNotification(
      tx, patient_key, kEventMessage, "Nouveau message / New message",
      "Vous avez reçu un message de " + from + " dans votre messagerie de santé.\n" +
          "You received a message from " + from + " in your health mailbox.",
      reference);
}

namespace {

std::string RefAddress(const JsonValue& ref) {
  const JsonValue* ext = AddressExtension(ref);
  const JsonValue* cp = ext ? ext->Find("valueContactPoint") : nullptr;
  return cp ? cp->GetString("value") : "";
}

}  // namespace

bool HasOutboundRecipient(const JsonValue& message) {
  const JsonValue* sender = message.Find("sender");
  if (!sender || RefAddress(*sender).empty()) return false;
  const JsonValue* to = message.Find("recipient");
  if (!to || !to->is_array()) return false;
  for (const auto& ref : to->items()) {
    auto parsed = ParseMailAddress(RefAddress(ref));
    if (parsed.ok() && AsciiLower(parsed->domain) != MailDomain()) return true;
  }
  return false;
}

Status EnqueueOutboundMail(storage::Transaction& tx, long long patient_key,
                           const JsonValue& message, const std::string& reference) {
  const JsonValue* sender = message.Find("sender");
  std::string from = sender ? RefAddress(*sender) : "";
  if (from.empty()) return Status::Ok();
  const JsonValue* to = message.Find("recipient");
  if (!to || !to->is_array()) return Status::Ok();
  std::string subject;
  if (const JsonValue* topic = message.Find("topic")) subject = topic->GetString("text");
  if (subject.empty()) subject = "Message";
  std::string text;
  JsonValue attachments = JsonValue::Array();
  if (const JsonValue* payload = message.Find("payload"); payload && payload->is_array())
    for (const auto& p : payload->items()) {
      if (std::string s = p.GetString("contentString"); !s.empty())
        text += (text.empty() ? "" : "\n\n") + s;
      if (const JsonValue* a = p.Find("contentAttachment"); a && !a->GetString("data").empty()) {
        JsonValue att = JsonValue::Object();
        std::string type = a->GetString("contentType");
        att.Set("contentType", JsonValue::String(type.empty() ? "application/octet-stream" : type));
        att.Set("title", JsonValue::String(a->GetString("title")));
        att.Set("data", JsonValue::String(a->GetString("data")));
        attachments.Append(std::move(att));
      }
    }
  for (const auto& ref : to->items()) {
    std::string address = RefAddress(ref);
    auto parsed = ParseMailAddress(address);
    if (!parsed.ok() || AsciiLower(parsed->domain) == MailDomain()) continue;
    JsonValue body = JsonValue::Object();
    body.Set("from", JsonValue::String(from));
    body.Set("subject", JsonValue::String(subject));
    body.Set("text", JsonValue::String(text));
    body.Set("reference", JsonValue::String(reference));
    body.Set("attachments", attachments);
    CARNET_RETURN_IF_ERROR(storage::QueueOutboxRow(tx, patient_key, kChannelMailOut,
                                                   kChannelMailOut, address, WriteJson(body)));
  }
  return Status::Ok();
}

}  // namespace carnet::profiles
