#include "dossier/after_write.h"

#include <string>

#include "dossier/document_extraction.h"
#include "dossier/dossier.h"
#include "dossier/messages.h"
#include "profiles/messaging.h"
#include "profiles/notification.h"
#include "profiles/policy_store.h"

namespace carnet::dossier {
namespace {

// Structured content follows its document (dossier/document_extraction.h): extracted once the
// document and its content are both stored, whichever came first.
Status ExtractOnContent(storage::Transaction& tx, profiles::AccessSession& session,
                        const WrittenVersion& w) {
  if (!w.resource) return Status::Ok();
  const JsonValue* ctx = w.resource->Find("securityContext");
  std::string ref = ctx ? ctx->GetString("reference") : "";
  if (ref.rfind("DocumentReference/", 0) != 0) return Status::Ok();
  return ExtractDocumentContent(tx, session, ref.substr(18));
}

// A new document that replaces another (relatesTo replaces) supersedes it.
Status SupersedeReplaced(storage::Transaction& tx, profiles::AccessSession& session,
                         const WrittenVersion& w) {
  if (!w.created()) return Status::Ok();
  if (const JsonValue* rel = w.resource->Find("relatesTo"); rel && rel->is_array())
    for (const auto& r : rel->items()) {
      std::string target = r.Find("target") ? r.Find("target")->GetString("reference") : "";
      if (r.GetString("code") == "replaces" && target.rfind("DocumentReference/", 0) == 0)
        CARNET_RETURN_IF_ERROR(SupersedeReplacedDocument(tx, session, w.stored, target.substr(18)));
    }
  return Status::Ok();
}

// A new document is extracted (when its content is there); a deleted one takes what was
// extracted from it along.
Status ExtractOrRemove(storage::Transaction& tx, profiles::AccessSession& session,
                       const WrittenVersion& w) {
  if (!w.resource) return RemoveExtractedContent(tx, session, w.stored.id);
  if (!w.created()) return Status::Ok();
  return ExtractDocumentContent(tx, session, w.stored.id);
}

// The patient hears of a new document, or of one replacing another; not of every metadata
// change.
Status NotifyNewDocument(storage::Transaction& tx, profiles::AccessSession&,
                         const WrittenVersion& w) {
  if (!w.stored.patient_key || !w.created()) return Status::Ok();
  const JsonValue& dr = *w.resource;
  if (dr.GetString("status") == "entered-in-error") return Status::Ok();
  bool replaces = false;
  if (const JsonValue* rel = dr.Find("relatesTo"); rel && rel->is_array())
    for (const auto& r : rel->items())
      if (r.GetString("code") == "replaces") replaces = true;
  std::string title = "document";
  if (const JsonValue* t = dr.Find("type")) {
    title = t->GetString("text");
    if (const JsonValue* c = t->Find("coding");
        title.empty() && c && c->is_array() && !c->items().empty())
      title = c->items()[0].GetString("display");
    if (title.empty()) title = "document";
  }
  return profiles::EnqueueDocumentNotification(tx, *w.stored.patient_key,
                                               "DocumentReference/" + w.stored.id, title, replaces);
}

// "Copy to the patient" asked on the document itself (a FHIR create or an MHD ITI-65
// transaction): the extension kCopyToPatientExtension with valueBoolean true. The message
// carries the attachment as given: its inline data, or else its url (the Binary of the same
// transaction, which may be written after the document).
Status CopyToPatient(storage::Transaction& tx, profiles::AccessSession& session,
                     const WrittenVersion& w) {
  if (!w.created()) return Status::Ok();
  const JsonValue& dr = *w.resource;
  bool copy = false;
  if (const JsonValue* ext = dr.Find("extension"); ext && ext->is_array())
    for (const auto& x : ext->items())
      if (x.GetString("url") == kCopyToPatientExtension) {
        const JsonValue* v = x.Find("valueBoolean");
        if (!v || !v->is_bool())
          return Invalid("the copy-to-patient extension takes a valueBoolean",
                         "DocumentReference.extension");
        copy = v->as_bool();
      }
  if (!copy) return Status::Ok();
  std::string patient = dr.Find("subject") ? dr.Find("subject")->GetString("reference") : "";
  if (patient.rfind("Patient/", 0) != 0)
    return Invalid("a copy to the patient needs the document's subject Patient",
                   "DocumentReference.subject");
  const JsonValue* content = dr.Find("content");
  const JsonValue* attachment = content && content->is_array() && !content->items().empty()
                                    ? content->items()[0].Find("attachment")
                                    : nullptr;
  if (!attachment ||
      (attachment->GetString("data").empty() && attachment->GetString("url").empty()))
    return Invalid("a copy to the patient needs the document's content (data or url)",
                   "DocumentReference.content[0].attachment");
  JsonValue copied = JsonValue::Object();
  for (const char* key : {"contentType", "language", "data", "url", "title"})
    if (!attachment->GetString(key).empty())
      copied.Set(key, JsonValue::String(attachment->GetString(key)));
  if (!copied.GetString("data").empty()) copied.Remove("url");
  std::string title = dr.GetString("description");
  if (const JsonValue* t = dr.Find("type"); title.empty() && t) title = t->GetString("text");
  auto c =
      CopyDocumentToPatient(tx, session, patient.substr(8), w.stored.id, std::move(copied), title);
  return c.ok() ? Status::Ok() : c.status();
}

// The patient hears of a new message addressed to them (not of one they sent).
Status NotifyNewMessage(storage::Transaction& tx, profiles::AccessSession& session,
                        const WrittenVersion& w) {
  if (!w.stored.patient_key || !w.created()) return Status::Ok();
  auto record = session.Record(tx, *w.stored.patient_key);
  if (!record.ok()) return record.status();
  if (!profiles::MessageReachesPatient(*w.resource, **record)) return Status::Ok();
  std::string from;
  if (const JsonValue* sender = w.resource->Find("sender")) from = sender->GetString("display");
  if (from.empty()) from = session.actor().PrincipalId();
  return profiles::EnqueueMessageNotification(tx, *w.stored.patient_key,
                                              "Communication/" + w.stored.id, from);
}

// A new message to an address outside carnet's mail domain goes out by SMTP (the outbox).
// Its attachments given by url go along, read as the sender reads them: one they may not read
// refuses the whole send (the write is undone, nothing is queued).
Status SendOutboundMail(storage::Transaction& tx, profiles::AccessSession& session,
                        const WrittenVersion& w) {
  if (!w.stored.patient_key || !w.created()) return Status::Ok();
  if (!profiles::HasOutboundRecipient(*w.resource)) return Status::Ok();
  auto mail = InlineMessageAttachments(tx, session, *w.stored.patient_key, *w.resource);
  if (!mail.ok()) return mail.status();
  return profiles::EnqueueOutboundMail(tx, *w.stored.patient_key, *mail,
                                       "Communication/" + w.stored.id);
}

// The members of a CareTeam of the record see it as the care team does (policy tables).
Status SyncCareTeam(storage::Transaction& tx, profiles::AccessSession&, const WrittenVersion& w) {
  if (!w.stored.patient_key) return Status::Ok();
  return profiles::SyncCareTeam(tx, *w.stored.patient_key, w.stored.id,
                                w.resource ? *w.resource : JsonValue());
}

// A Consent of the patient authorising an app (policy tables).
Status SyncAppConsent(storage::Transaction& tx, profiles::AccessSession&, const WrittenVersion& w) {
  if (!w.stored.patient_key) return Status::Ok();
  return profiles::SyncAppConsent(tx, *w.stored.patient_key, w.stored.id, w.resource);
}

// A rest-hook Subscription of the patient becomes their webhook channel: criteria on
// DocumentReference -> new documents; on AuditEvent -> accesses and emergency accesses. Ended
// (status off or error, or deleted): the channel is disabled.
Status SyncSubscription(storage::Transaction& tx, profiles::AccessSession&,
                        const WrittenVersion& w) {
  if (!w.stored.patient_key) return Status::Ok();
  JsonValue before;
  if (!w.resource && w.previous && !w.previous->content.empty()) {
    auto parsed = ParseJson(w.previous->content);
    if (parsed.ok()) before = std::move(parsed).value();
  }
  const JsonValue& sub = w.resource ? *w.resource : before;
  if (!sub.is_object()) return Status::Ok();
  const JsonValue* channel = sub.Find("channel");
  if (!channel || channel->GetString("type") != "rest-hook") return Status::Ok();
  std::string criteria = sub.GetString("criteria");
  std::vector<const char*> kinds;
  if (criteria.rfind("DocumentReference", 0) == 0) kinds = {profiles::kEventDocument};
  if (criteria.rfind("AuditEvent", 0) == 0)
    kinds = {profiles::kEventAccess, profiles::kEventEmergency};
  std::string status = sub.GetString("status");
  bool enabled = w.resource && (status == "requested" || status == "active");
  for (const char* kind : kinds) {
    profiles::NotificationPreference p;
    p.channel = "webhook";
    p.event_kind = kind;
    p.enabled = enabled;
    p.address = channel->GetString("endpoint");
    Status st = profiles::SetPreference(tx, *w.stored.patient_key, p);
    if (!st.ok()) return Invalid(st.message(), "Subscription.channel.endpoint");
  }
  return Status::Ok();
}

// Health-profile entries: the types a patient keeps in their profile (issue 16). One the
// patient's side writes (the patient, or a guardian for a child) gets a Provenance naming
// them, so that a declared entry stays distinguishable from what a professional or a deposit
// wrote: the summary and the profile show its source, and the policy already keeps the
// patient from altering what they did not write.
constexpr const char* kProfileEntryTypes[] = {
    "Condition",    "AllergyIntolerance", "MedicationStatement", "FamilyMemberHistory",
    "Immunization", "Observation",        "Procedure",           "RelatedPerson",
    "Consent",      "Encounter"};

bool IsProfileEntryType(const std::string& type) {
  for (const char* t : kProfileEntryTypes)
    if (type == t) return true;
  return false;
}

JsonValue Coding(const char* system, const char* code) {
  JsonValue c = JsonValue::Object();
  c.Set("system", JsonValue::String(system));
  c.Set("code", JsonValue::String(code));
  JsonValue list = JsonValue::Array();
  list.Append(std::move(c));
  JsonValue concept_json = JsonValue::Object();
  concept_json.Set("coding", std::move(list));
  return concept_json;
}

JsonValue Reference(const std::string& reference) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(reference));
  return r;
}

Status ProvenanceOfDeclaredEntry(storage::Transaction& tx, profiles::AccessSession& session,
                                 const WrittenVersion& w) {
  const profiles::Actor& actor = session.actor();
  bool patient_side =
      actor.kind == profiles::ActorKind::kPatient || actor.kind == profiles::ActorKind::kGuardian;
  if (!w.resource || !patient_side || session.extracting() || !w.stored.patient_key ||
      !IsProfileEntryType(w.stored.type))
    return Status::Ok();
  auto record = session.Record(tx, *w.stored.patient_key);
  if (!record.ok()) return record.status();
  std::string patient = "Patient/" + (*record)->patient_id;
  JsonValue prov = JsonValue::Object();
  prov.Set("resourceType", JsonValue::String("Provenance"));
  JsonValue targets = JsonValue::Array();
  targets.Append(Reference(w.stored.type + "/" + w.stored.id + "/_history/" +
                           std::to_string(w.stored.version)));
  prov.Set("target", std::move(targets));
  prov.Set("recorded", JsonValue::String(w.stored.last_updated));
  prov.Set("activity", Coding("http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                              w.created() ? "CREATE" : "UPDATE"));
  JsonValue agent = JsonValue::Object();
  agent.Set("type",
            Coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author"));
  if (actor.kind == profiles::ActorKind::kPatient) {
    agent.Set("who", Reference(patient));
  } else {
    // A guardian has no resource of their own here: named by display, for the child.
    JsonValue who = JsonValue::Object();
    who.Set("display", JsonValue::String("représentant légal (" + actor.PrincipalId() + ")"));
    agent.Set("who", std::move(who));
    agent.Set("onBehalfOf", Reference(patient));
  }
  JsonValue agents = JsonValue::Array();
  agents.Append(std::move(agent));
  prov.Set("agent", std::move(agents));
  auto p = Create(tx, session, "Provenance", std::move(prov));
  return p.ok() ? Status::Ok() : p.status();
}

}  // namespace

const std::vector<AfterWriteHook>& AfterWriteHooks() {
  static const std::vector<AfterWriteHook> kHooks = {
      {"Binary", "a document's content arrives: its structured entries are extracted",
       ExtractOnContent},
      {"DocumentReference", "a replacing document supersedes the one it replaces",
       SupersedeReplaced},
      {"DocumentReference", "a new document is extracted; a deleted one takes its entries along",
       ExtractOrRemove},
      {"DocumentReference", "the patient is told of a new document", NotifyNewDocument},
      {"DocumentReference", "a copy to the patient asked on the document is sent", CopyToPatient},
      {"Communication", "the patient is told of a new message", NotifyNewMessage},
      {"Communication", "a message to an outside address goes out by SMTP", SendOutboundMail},
      {"CareTeam", "the care team's members (policy tables)", SyncCareTeam},
      {"Consent", "the apps the patient authorises (policy tables)", SyncAppConsent},
      {"Subscription", "the patient's webhook channel (notification preferences)",
       SyncSubscription},
      {"*", "a health-profile entry the patient's side declared gets a Provenance naming them",
       ProvenanceOfDeclaredEntry},
  };
  return kHooks;
}

Status RunAfterWriteHooks(storage::Transaction& tx, profiles::AccessSession& session,
                          const WrittenVersion& written) {
  for (const AfterWriteHook& hook : AfterWriteHooks())
    if (written.stored.type == hook.type || std::string(hook.type) == "*")
      CARNET_RETURN_IF_ERROR(hook.rule(tx, session, written));
  return Status::Ok();
}

}  // namespace carnet::dossier
