#include "mail/inbound.h"

#include <algorithm>

#include "base/strings.h"
#include "profiles/mail_address.h"
#include "storage/resource_store.h"

namespace carnet::mail {

JsonValue CommunicationFromMail(const MailMessage& message, const profiles::Actor& relay,
                                const std::string& patient_id, const std::string& address,
                                const std::vector<std::string>& binary_ids) {
  auto ref = [](const std::string& reference) {
    JsonValue r = JsonValue::Object();
    r.Set("reference", JsonValue::String(reference));
    return r;
  };
  JsonValue sender = JsonValue::Object();
  JsonValue identifier = JsonValue::Object();
  identifier.Set("value", JsonValue::String(relay.PrincipalId()));
  sender.Set("identifier", std::move(identifier));
  sender.Set("display", JsonValue::String(message.from));

  JsonValue recipient = ref("Patient/" + patient_id);
  JsonValue contact = JsonValue::Object();
  contact.Set("system", JsonValue::String("email"));
  contact.Set("value", JsonValue::String(address));
  JsonValue extension = JsonValue::Object();
  extension.Set("url", JsonValue::String(std::string(profiles::kMailAddressExtension)));
  extension.Set("valueContactPoint", std::move(contact));
  JsonValue extensions = JsonValue::Array();
  extensions.Append(std::move(extension));
  recipient.Set("extension", std::move(extensions));

  JsonValue c = JsonValue::Object();
  c.Set("resourceType", JsonValue::String("Communication"));
  c.Set("status", JsonValue::String("completed"));
  c.Set("subject", ref("Patient/" + patient_id));
  c.Set("sender", std::move(sender));
  JsonValue recipients = JsonValue::Array();
  recipients.Append(std::move(recipient));
  c.Set("recipient", std::move(recipients));
  if (!message.subject.empty()) {
    JsonValue topic = JsonValue::Object();
    topic.Set("text", JsonValue::String(message.subject));
    c.Set("topic", std::move(topic));
  }
  JsonValue payload = JsonValue::Array();
  if (!message.text.empty()) {
    JsonValue text = JsonValue::Object();
    text.Set("contentString", JsonValue::String(message.text));
    payload.Append(std::move(text));
  }
  for (size_t i = 0; i < message.attachments.size(); ++i) {
    const MailAttachment& a = message.attachments[i];
    JsonValue attachment = JsonValue::Object();
    attachment.Set("contentType", JsonValue::String(a.content_type));
    if (i < binary_ids.size())
      attachment.Set("url", JsonValue::String("Binary/" + binary_ids[i]));
    else
      attachment.Set("data", JsonValue::String(Base64Encode(a.bytes)));
    attachment.Set("size", JsonValue::Number(std::to_string(a.bytes.size())));
    if (!a.filename.empty()) attachment.Set("title", JsonValue::String(a.filename));
    JsonValue part = JsonValue::Object();
    part.Set("contentAttachment", std::move(attachment));
    payload.Append(std::move(part));
  }
  if (!payload.items().empty()) c.Set("payload", std::move(payload));
  return c;
}

Result<std::vector<dossier::WriteResult>> FileInboundMail(storage::Transaction& tx,
                                                          profiles::AccessSession& session,
                                                          const MailMessage& message) {
  const std::string& domain = profiles::MailDomain();
  std::vector<dossier::WriteResult> filed;
  std::vector<std::string> done;
  for (const std::string& to : message.to) {
    auto address = profiles::ParseMailAddress(to);
    if (!address.ok() || !address->patient || address->domain != domain) continue;
    if (std::find(done.begin(), done.end(), address->ins) != done.end()) continue;
    done.push_back(address->ins);
    auto patient = storage::FindPatientByIdentifier(tx, kInsSystem, address->ins);
    if (!patient.ok()) return patient.status();
    if (!*patient || (*patient)->status != "active")
      return Status(ErrorCode::kUnknownPatient,
                    "unknown recipient " + to + ": no active record for this address");
    // The message first (its attachments name their Binaries by url), then each attachment
    // as a Binary of the record whose securityContext is the message: read as the message is.
    std::string id = NewUuid();
    std::vector<std::string> binary_ids;
    for (size_t i = 0; i < message.attachments.size(); ++i) binary_ids.push_back(NewUuid());
    auto written = dossier::Create(
        tx, session, "Communication",
        CommunicationFromMail(message, session.actor(), (*patient)->resource_id, to, binary_ids),
        id);
    if (!written.ok()) return written.status();
    for (size_t i = 0; i < message.attachments.size(); ++i) {
      const MailAttachment& a = message.attachments[i];
      JsonValue binary = JsonValue::Object();
      binary.Set("resourceType", JsonValue::String("Binary"));
      binary.Set("contentType", JsonValue::String(a.content_type));
      JsonValue context = JsonValue::Object();
      context.Set("reference", JsonValue::String("Communication/" + written->stored.id));
      binary.Set("securityContext", std::move(context));
      binary.Set("data", JsonValue::String(Base64Encode(a.bytes)));
      auto b = dossier::Create(tx, session, "Binary", std::move(binary), binary_ids[i]);
      if (!b.ok()) return b.status();
    }
    filed.push_back(std::move(written).value());
  }
  if (filed.empty())
    return Status(ErrorCode::kUnknownPatient,
                  "unknown recipient: no recipient of the message is a patient address "
                  "<INS>@patient." +
                      domain);
  return filed;
}

int SysexitsCode(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kUnknownPatient:
    case ErrorCode::kNotFound:
      return 67;
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      return 75;
    case ErrorCode::kForbidden:
    case ErrorCode::kUnauthorized:
      return 77;
    case ErrorCode::kBadRequest:
    case ErrorCode::kInvalid:
    case ErrorCode::kInvariant:
    case ErrorCode::kNotSupported:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kUnsupportedMediaType:
      return 65;
    default:
      return 70;
  }
}

}  // namespace carnet::mail
