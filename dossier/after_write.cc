#include "dossier/after_write.h"

#include <string>

#include "dossier/document_extraction.h"
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

// The members of a CareTeam of the record see it as the care team does (policy tables).
Status SyncCareTeam(storage::Transaction& tx, profiles::AccessSession&, const WrittenVersion& w) {
  if (!w.stored.patient_key) return Status::Ok();
  return profiles::SyncCareTeam(tx, *w.stored.patient_key, w.stored.id,
                                w.resource ? *w.resource : JsonValue());
}

// A Consent of the patient authorising an app (policy tables).
Status SyncAppConsent(storage::Transaction& tx, profiles::AccessSession&,
                      const WrittenVersion& w) {
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
      {"CareTeam", "the care team's members (policy tables)", SyncCareTeam},
      {"Consent", "the apps the patient authorises (policy tables)", SyncAppConsent},
      {"Subscription", "the patient's webhook channel (notification preferences)",
       SyncSubscription},
  };
  return kHooks;
}

Status RunAfterWriteHooks(storage::Transaction& tx, profiles::AccessSession& session,
                          const WrittenVersion& written) {
  for (const AfterWriteHook& hook : AfterWriteHooks())
    if (written.stored.type == hook.type)
      CARNET_RETURN_IF_ERROR(hook.rule(tx, session, written));
  return Status::Ok();
}

}  // namespace carnet::dossier
