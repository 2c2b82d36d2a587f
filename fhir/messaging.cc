// Secure messaging (issue 17): the operations on a message, a Communication filed in the
// patient's record. Who may do what is the policy's (profiles/policy.h, DecideMessage); the
// writes go through the one write path (dossier/dossier.h), which decides and audits them.
//   POST Communication/[id]/$mark-read        a recipient records that they read it (their own
//                                             receipt; `received` once all have read it)
//   POST Communication/[id]/$file-attachment  the patient files an attachment into the record
//                                             (inline data, or a url naming a Binary)
#include "profiles/messaging.h"

#include "base/strings.h"
#include "dossier/dossier.h"
#include "dossier/messages.h"
#include "fhir/format.h"
#include "fhir/rest_impl.h"

namespace carnet::fhir {

std::string ParamValue(const JsonValue& params, const std::string& name);

namespace {

using storage::Transaction;

Result<JsonValue> OptionalParameters(const HttpRequest& req, const std::string& op) {
  if (req.body.empty()) return JsonValue::Object();
  auto body = ParseResourceBody(req);
  if (!body.ok()) return body.status();
  if (body->GetString("resourceType") != "Parameters")
    return BadRequest("$" + op + " takes a Parameters resource (or no body)");
  return std::move(body).value();
}

}  // namespace

EntryResult MessageMarkRead(const FhirContext& ctx, Call& call) {
  WriteResult written;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    call.session.BeginAttempt();
    std::string what = "Communication/" + call.id;
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("update", 'U');
    audit.object_reference = what;
    auto row = storage::ReadCurrent(tx, "Communication", call.id, /*lock=*/true);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->deleted)
      return call.session.Refuse(audit,
                                 profiles::Refusal(profiles::Reason::kNotFound, "no such message"),
                                 std::nullopt, what);
    auto d = call.session.DecideStored(tx, **row, profiles::Action::kMarkRead);
    if (!d.ok()) return d.status();
    if (!d->allowed) return call.session.Refuse(audit, *d, (*row)->patient_key, what);
    auto json = dossier::StoredJson(**row);
    if (!json.ok()) return json.status();
    if (!(*row)->patient_key) return NotFound(what + " is not known");
    auto record = call.session.Record(tx, *(*row)->patient_key);
    if (!record.ok()) return record.status();
    // Per recipient: the caller's own reading (profiles/messaging.h, kMessageReadExtension).
    if (!profiles::MarkReadBy(*json, profiles::MessagePartyIds(call.session.actor(), **record),
                              FormatUtc(std::chrono::system_clock::now()))) {
      // Read before: nothing changes (the first reading time stays), the read is audited.
      CARNET_RETURN_IF_ERROR(call.session.Audit(tx, audit, *d, (*row)->patient_key));
      written.stored = **row;
      written.resource = std::move(json).value();
      return Status::Ok();
    }
    auto r = dossier::Revise(tx, call.session, **row, std::move(json).value(), "POST",
                             profiles::Action::kMarkRead);
    if (!r.ok()) return r.status();
    written = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  written.http_status = 200;
  return FromWrite(written);
}

EntryResult MessageFileAttachment(const FhirContext& ctx, Call& call) {
  auto params = OptionalParameters(call.req, "file-attachment");
  if (!params.ok()) return FromError(params.status());
  // valueInteger (a JSON number) or a string of digits.
  std::string index_text = ParamValue(*params, "attachment");
  if (const JsonValue* list = params->Find("parameter"); list && list->is_array())
    for (const auto& p : list->items())
      if (const JsonValue* v = p.Find("valueInteger");
          v && v->is_number() && p.GetString("name") == "attachment")
        index_text = v->text();
  size_t index = 0;
  if (!index_text.empty()) {
    if (index_text.size() > 4 || index_text.find_first_not_of("0123456789") != std::string::npos)
      return FromError(BadRequest("attachment is the position of the attachment (0, 1, ...)",
                                  "Parameters.parameter.attachment"));
    index = std::stoul(index_text);
  }
  std::string type = ParamValue(*params, "type");
  // By default a document deposited by the patient (the matrix's patient_deposited category).
  if (type.empty()) type = "DOC_PATIENT";
  if (type.size() > 64 ||
      type.find_first_not_of("0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos)
    return FromError(BadRequest("type is a document type code (LOINC, or a DMP local code)",
                                "Parameters.parameter.type"));
  bool loinc = type.find_first_not_of("0123456789-") == std::string::npos;
  WriteResult created;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    call.session.BeginAttempt();
    auto row = GuardedRead(tx, call.session, "Communication", call.id, "", "read");
    if (!row.ok()) return row.status();
    if (row->deleted || !row->patient_key)
      return NotFound("Communication/" + call.id + " is not known");
    const profiles::Actor& actor = call.session.actor();
    if (actor.kind != profiles::ActorKind::kPatient && actor.kind != profiles::ActorKind::kGuardian)
      return Status(ErrorCode::kForbidden,
                    "an attachment is filed into the record by the patient (or a guardian)");
    auto message = dossier::StoredJson(*row);
    if (!message.ok()) return message.status();
    std::vector<const JsonValue*> attachments;
    if (const JsonValue* payload = message->Find("payload"); payload && payload->is_array())
      for (const auto& p : payload->items())
        if (const JsonValue* a = p.Find("contentAttachment")) attachments.push_back(a);
    if (index >= attachments.size())
      return Invalid(
          "Communication/" + call.id + " has no attachment at position " + std::to_string(index),
          "Parameters.parameter.attachment");
    const JsonValue& attachment = *attachments[index];
    std::string data = attachment.GetString("data");
    std::string content_type = attachment.GetString("contentType");
    if (data.empty() && !attachment.GetString("url").empty()) {
      // Content held by a Binary of the record (a mail received, a copied document): read as
      // the caller reads it, then filed as a copy owned by the new document.
      auto content = dossier::ReadAttachmentBinary(
          tx, call.session, *row->patient_key, attachment.GetString("url"),
          "Communication.payload.contentAttachment[" + std::to_string(index) + "].url");
      if (!content.ok()) return content.status();
      data = content->data;
      if (content_type.empty()) content_type = content->content_type;
    }
    if (data.empty() || content_type.empty())
      return Invalid(
          "the attachment carries no content (data, or a url naming a Binary, and contentType)",
          "Communication.payload.contentAttachment");
    auto record = call.session.Record(tx, *row->patient_key);
    if (!record.ok()) return record.status();
    std::string patient = "Patient/" + (*record)->patient_id;
    std::string id = NewUuid(), binary_id = NewUuid();
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String(content_type));
    JsonValue context = JsonValue::Object();
    context.Set("reference", JsonValue::String("DocumentReference/" + id));
    binary.Set("securityContext", std::move(context));
    binary.Set("data", JsonValue::String(data));

    JsonValue dr = JsonValue::Object();
    dr.Set("resourceType", JsonValue::String("DocumentReference"));
    dr.Set("status", JsonValue::String("current"));
    JsonValue coding = JsonValue::Object();
    coding.Set("system",
               JsonValue::String(loinc ? "http://loinc.org" : "urn:oid:1.2.250.1.213.1.1.4.12"));
    coding.Set("code", JsonValue::String(type));
    JsonValue codings = JsonValue::Array();
    codings.Append(std::move(coding));
    JsonValue type_cc = JsonValue::Object();
    type_cc.Set("coding", std::move(codings));
    dr.Set("type", std::move(type_cc));
    JsonValue subject = JsonValue::Object();
    subject.Set("reference", JsonValue::String(patient));
    dr.Set("subject", std::move(subject));
    dr.Set("date", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
    // Deposited by the patient: the record's own entry, as a patient's upload is.
    JsonValue author = JsonValue::Object();
    author.Set("reference", JsonValue::String(patient));
    JsonValue authors = JsonValue::Array();
    authors.Append(std::move(author));
    dr.Set("author", std::move(authors));
    std::string title = attachment.GetString("title");
    if (!title.empty()) dr.Set("description", JsonValue::String(title));
    JsonValue att = JsonValue::Object();
    att.Set("contentType", JsonValue::String(content_type));
    att.Set("url", JsonValue::String("Binary/" + binary_id));
    if (!title.empty()) att.Set("title", JsonValue::String(title));
    JsonValue content = JsonValue::Object();
    content.Set("attachment", std::move(att));
    JsonValue contents = JsonValue::Array();
    contents.Append(std::move(content));
    dr.Set("content", std::move(contents));
    // The message it came with.
    JsonValue related = JsonValue::Object();
    related.Set("reference", JsonValue::String("Communication/" + call.id));
    JsonValue related_list = JsonValue::Array();
    related_list.Append(std::move(related));
    JsonValue doc_context = JsonValue::Object();
    doc_context.Set("related", std::move(related_list));
    dr.Set("context", std::move(doc_context));

    auto r = ctx.interactions.Create(tx, call.session, "DocumentReference", dr, id);
    if (!r.ok()) return r.status();
    created = std::move(r).value();
    auto b = ctx.interactions.Create(tx, call.session, "Binary", binary, binary_id);
    if (!b.ok()) return b.status();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return FromWrite(created);
}

}  // namespace carnet::fhir
