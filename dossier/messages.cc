#include "dossier/messages.h"

#include "base/strings.h"
#include "profiles/access.h"
#include "profiles/policy_store.h"
#include "storage/advisory_lock.h"
#include "storage/resource_store.h"

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

Result<AttachmentContent> ReadAttachmentBinary(storage::Transaction& tx,
                                               profiles::AccessSession& session,
                                               long long patient_key, const std::string& url,
                                               const std::string& where) {
  // "Binary/[id]", relative or at the end of an absolute URL of this server.
  std::string id;
  size_t at = url.rfind("Binary/");
  if (at != std::string::npos && (at == 0 || url[at - 1] == '/')) id = url.substr(at + 7);
  if (id.empty() || id.size() > 64 ||
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") !=
          std::string::npos)
    return Invalid(where + ": an attachment's url names a Binary of the record (Binary/[id])",
                   where);
  std::string what = "Binary/" + id;
  // One answer for missing, deleted, elsewhere and hidden alike.
  Status unknown = Status(ErrorCode::kNotFound, where + ": " + what + " is not known", where);
  profiles::AuditEntry audit = profiles::AuditEntry::Rest("read", 'R');
  audit.object_reference = what;
  auto row = storage::ReadCurrent(tx, "Binary", id, false);
  if (!row.ok()) return row.status();
  if (!*row || (*row)->deleted || (*row)->patient_key != patient_key) {
    (void)session.Refuse(audit, profiles::Refusal(profiles::Reason::kNotFound, "no such resource"),
                         std::nullopt, what);
    return unknown;
  }
  auto d = session.DecideStored(tx, **row, profiles::Action::kRead);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    (void)session.Refuse(audit, *d, (*row)->patient_key, what);
    return unknown;
  }
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, (*row)->patient_key));
  auto json = StoredJson(**row);
  if (!json.ok()) return json.status();
  AttachmentContent out;
  out.binary_id = id;
  out.content_type = json->GetString("contentType");
  out.data = json->GetString("data");
  if (out.data.empty()) return Invalid(where + ": " + what + " holds no content", where);
  return out;
}

Result<JsonValue> InlineMessageAttachments(storage::Transaction& tx,
                                           profiles::AccessSession& session, long long patient_key,
                                           JsonValue message) {
  JsonValue* payload = message.Find("payload");
  if (!payload || !payload->is_array()) return message;
  for (size_t i = 0; i < payload->items().size(); ++i) {
    JsonValue* a = payload->items()[i].Find("contentAttachment");
    if (!a || !a->GetString("data").empty() || a->GetString("url").empty()) continue;
    std::string where = "Communication.payload[" + std::to_string(i) + "].contentAttachment.url";
    auto content = ReadAttachmentBinary(tx, session, patient_key, a->GetString("url"), where);
    if (!content.ok()) return content.status();
    a->Set("data", JsonValue::String(content->data));
    if (a->GetString("contentType").empty())
      a->Set("contentType", JsonValue::String(content->content_type));
    if (a->GetString("title").empty()) a->Set("title", JsonValue::String(content->binary_id));
  }
  return message;
}

Status CheckMessageThread(storage::Transaction& tx, profiles::AccessSession& session,
                          long long patient_key, const JsonValue& message) {
  for (const char* element : {"inResponseTo", "partOf"}) {
    const JsonValue* list = message.Find(element);
    if (!list || !list->is_array()) continue;
    bool reply = std::string(element) == "inResponseTo";
    for (size_t i = 0; i < list->items().size(); ++i) {
      std::string ref = list->items()[i].GetString("reference");
      std::string where = std::string("Communication.") + element + "[" + std::to_string(i) + "]";
      if (ref.rfind("Communication/", 0) != 0) {
        if (!reply) continue;  // partOf may name something else than a message
        return Status(
            ErrorCode::kNotFound,
            where + ": " + (ref.empty() ? std::string("(no reference)") : ref) + " is not known",
            where);
      }
      std::string id = ref.substr(14);
      Status unknown = Status(ErrorCode::kNotFound, where + ": " + ref + " is not known", where);
      profiles::AuditEntry audit = profiles::AuditEntry::Rest("read", 'R');
      audit.object_reference = ref;
      auto row = id.empty() || id.find('/') != std::string::npos
                     ? Result<std::optional<storage::StoredResource>>(std::nullopt)
                     : storage::ReadCurrent(tx, "Communication", id, false);
      if (!row.ok()) return row.status();
      if (!*row || (*row)->deleted || (*row)->patient_key != patient_key) {
        (void)session.Refuse(audit,
                             profiles::Refusal(profiles::Reason::kNotFound, "no such message"),
                             std::nullopt, ref);
        return unknown;
      }
      auto d = session.DecideStored(tx, **row, profiles::Action::kRead);
      if (!d.ok()) return d.status();
      if (!d->allowed) {
        (void)session.Refuse(audit, *d, (*row)->patient_key, ref);
        return unknown;
      }
    }
  }
  return Status::Ok();
}

Result<std::string> EnsureGuardianParty(storage::Transaction& tx, profiles::AccessSession& session,
                                        long long patient_key) {
  const profiles::Actor& actor = session.actor();
  if (actor.kind != profiles::ActorKind::kGuardian || actor.subject.empty()) return std::string();
  auto record = session.Record(tx, patient_key);
  if (!record.ok()) return record.status();
  if (!profiles::ActorCoversRecord(actor, **record) ||
      (*record)->status != profiles::RecordStatus::kActive)
    return std::string();
  if (std::string own = profiles::GuardianPartyOf(actor, **record); !own.empty()) return own;
  std::string patient_id = (*record)->patient_id;
  // Two first messages at once: the second waits here, then finds the first one's.
  CARNET_RETURN_IF_ERROR(storage::LockForTransaction(
      tx, storage::LockSpace::kNewId,
      "guardian-party/" + std::to_string(patient_key) + "/" + actor.subject));
  auto fresh = profiles::LoadRecordContext(tx, patient_key, actor);
  if (!fresh.ok()) return fresh.status();
  if (std::string own = profiles::GuardianPartyOf(actor, *fresh); !own.empty()) {
    session.AddGuardianParty(patient_key, {own.substr(14), actor.subject});
    return own;
  }
  auto coding = [](const char* system, const char* code, const char* display) {
    JsonValue c = JsonValue::Object();
    c.Set("system", JsonValue::String(system));
    c.Set("code", JsonValue::String(code));
    c.Set("display", JsonValue::String(display));
    JsonValue codings = JsonValue::Array();
    codings.Append(std::move(c));
    JsonValue cc = JsonValue::Object();
    cc.Set("coding", std::move(codings));
    return cc;
  };
  JsonValue rp = JsonValue::Object();
  rp.Set("resourceType", JsonValue::String("RelatedPerson"));
  JsonValue identifier = JsonValue::Object();
  identifier.Set("system", JsonValue::String(profiles::kGuardianSystem));
  identifier.Set("value", JsonValue::String(actor.subject));
  JsonValue identifiers = JsonValue::Array();
  identifiers.Append(std::move(identifier));
  rp.Set("identifier", std::move(identifiers));
  rp.Set("active", JsonValue::Bool(true));
  JsonValue patient = JsonValue::Object();
  patient.Set("reference", JsonValue::String("Patient/" + patient_id));
  rp.Set("patient", std::move(patient));
  JsonValue relationships = JsonValue::Array();
  relationships.Append(
      coding("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "GUARD", "guardian"));
  rp.Set("relationship", std::move(relationships));
  if (!actor.given_name.empty() || !actor.family_name.empty()) {
    JsonValue name = JsonValue::Object();
    if (!actor.family_name.empty()) name.Set("family", JsonValue::String(actor.family_name));
    if (!actor.given_name.empty()) {
      JsonValue given = JsonValue::Array();
      given.Append(JsonValue::String(actor.given_name));
      name.Set("given", std::move(given));
    }
    JsonValue names = JsonValue::Array();
    names.Append(std::move(name));
    rp.Set("name", std::move(names));
  }
  profiles::AccessSession::CarnetWriteScope carnet(session);
  auto written = Create(tx, session, "RelatedPerson", std::move(rp));
  if (!written.ok()) return written.status();
  session.AddGuardianParty(patient_key, {written->stored.id, actor.subject});
  return "RelatedPerson/" + written->stored.id;
}

}  // namespace carnet::dossier
