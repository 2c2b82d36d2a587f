#include "dossier/messages.h"

#include "base/strings.h"

namespace carnet::dossier {

Result<WriteResult> CopyDocumentToPatient(storage::Transaction& tx,
                                          profiles::AccessSession& session,
                                          const std::string& patient_id,
                                          const std::string& document_id,
                                          const std::string& content_type, const std::string& bytes,
                                          const std::string& title) {
  JsonValue attachment = JsonValue::Object();
  attachment.Set("contentType", JsonValue::String(content_type));
  attachment.Set("data", JsonValue::String(Base64Encode(bytes)));
  return CopyDocumentToPatient(tx, session, patient_id, document_id, std::move(attachment), title);
}

Result<WriteResult> CopyDocumentToPatient(storage::Transaction& tx,
                                          profiles::AccessSession& session,
                                          const std::string& patient_id,
                                          const std::string& document_id, JsonValue attachment,
                                          const std::string& title) {
  const profiles::Actor& actor = session.actor();
  auto ref = [](const std::string& reference) {
    JsonValue r = JsonValue::Object();
    r.Set("reference", JsonValue::String(reference));
    return r;
  };
  JsonValue sender = JsonValue::Object();
  JsonValue identifier = JsonValue::Object();
  if (actor.kind == profiles::ActorKind::kProfessional)
    identifier.Set("system", JsonValue::String("urn:oid:1.2.250.1.71.4.2.1"));
  identifier.Set("value", JsonValue::String(actor.PrincipalId()));
  sender.Set("identifier", std::move(identifier));
  sender.Set("display", JsonValue::String(actor.PrincipalId()));

  JsonValue message = JsonValue::Object();
  message.Set("resourceType", JsonValue::String("Communication"));
  message.Set("status", JsonValue::String("completed"));
  message.Set("subject", ref("Patient/" + patient_id));
  JsonValue about = JsonValue::Array();
  about.Append(ref("DocumentReference/" + document_id));
  message.Set("about", std::move(about));
  message.Set("sender", std::move(sender));
  JsonValue recipients = JsonValue::Array();
  recipients.Append(ref("Patient/" + patient_id));
  message.Set("recipient", std::move(recipients));
  JsonValue topic = JsonValue::Object();
  topic.Set("text", JsonValue::String("Copie d'un document / Copy of a document: " +
                                      (title.empty() ? std::string("document") : title)));
  message.Set("topic", std::move(topic));
  if (!title.empty() && !attachment.Find("title"))
    attachment.Set("title", JsonValue::String(title));
  JsonValue part = JsonValue::Object();
  part.Set("contentAttachment", std::move(attachment));
  JsonValue link = JsonValue::Object();
  link.Set("contentReference", ref("DocumentReference/" + document_id));
  JsonValue payload = JsonValue::Array();
  payload.Append(std::move(part));
  payload.Append(std::move(link));
  message.Set("payload", std::move(payload));
  return Create(tx, session, "Communication", std::move(message));
}

}  // namespace carnet::dossier
