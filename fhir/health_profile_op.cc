// Patient/[id]/$profile: the patient's health profile, the record's entries grouped in the
// public service's sections (health_profile/sections.h), duplicates merged with their
// sources. Computed for the caller: the resources are those the session may read, decided one
// by one as $everything decides them, and the operation is audited as one read of them all.
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/rest_impl.h"
#include "health_profile/sections.h"
#include "profiles/policy.h"
#include "profiles/record_choices.h"
#include "storage/profile_choice_store.h"

namespace carnet::fhir {
namespace {

// A record holds a few thousand entries at most; beyond, the profile refuses rather than
// answering slowly or partially.
constexpr size_t kMostEntries = 20000;
constexpr int kChunk = 500;

}  // namespace

Result<std::vector<JsonValue>> ReadVisibleRecord(const FhirContext& ctx, Session& session,
                                                 const std::string& id,
                                                 const std::string& operation) {
  std::vector<JsonValue> out;
  bool gone = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    out.clear();
    gone = false;
    auto patient = GuardedRead(tx, session, "Patient", id, "", "operation");
    if (!patient.ok()) return patient.status();
    if (patient->deleted || !patient->patient_key) {
      gone = true;
      return Status::Ok();
    }
    long long key = *patient->patient_key;
    auto d = session.DecideRecord(tx, key, profiles::Action::kSearch);
    if (!d.ok()) return d.status();
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("operation", 'E');
    audit.subtype_display = operation;
    audit.object_reference = "Patient/" + id + "/" + operation;
    if (!d->allowed) return session.Refuse(audit, *d, key, "Patient/" + id);
    std::string at, ai;
    size_t read = 0;
    while (true) {
      auto page = storage::ReadRecordResources(tx, key, at, ai, kChunk);
      if (!page.ok()) return page.status();
      for (const storage::StoredResource& row : *page) {
        at = row.type;
        ai = row.id;
        if (++read > kMostEntries)
          return Status(ErrorCode::kTooManyResults,
                        "the record holds more than " + std::to_string(kMostEntries) + " entries");
        auto res = ParseJson(row.content);
        if (!res.ok()) return Internal("stored " + at + "/" + ai + " is unreadable");
        auto visible = session.DecideResource(tx, key, *res, profiles::Action::kRead);
        if (!visible.ok()) return visible.status();
        if (visible->allowed) out.push_back(std::move(res).value());
      }
      if (static_cast<int>(page->size()) < kChunk) break;
    }
    return session.Audit(tx, audit, *d, key);
  });
  if (!st.ok()) return st;
  if (gone) return Status(ErrorCode::kGone, "Patient/" + id + " was deleted");
  return out;
}

EntryResult PatientProfile(const FhirContext& ctx, Call& call) {
  for (const auto& [k, v] : call.query)
    if (k != "_format" && k != "_pretty")
      return FromError(BadRequest("$profile takes no parameter (" + k + ")", k));
  auto resources = ReadVisibleRecord(ctx, call.session, call.id, "$profile");
  if (!resources.ok()) return FromError(resources.status());
  // The sections the patient hid, told to whoever may change that choice (the patient's
  // side) and to no one else: a professional cannot tell a hidden section from an empty one.
  std::vector<std::string> hidden;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    hidden.clear();
    auto key = storage::FindPatientKeyByResourceId(tx, call.id);
    if (!key.ok()) return key.status();
    if (!*key) return Status::Ok();
    auto may = call.session.DecideRecord(tx, **key, profiles::Action::kManageBlocks);
    if (!may.ok()) return may.status();
    if (!may->allowed) return Status::Ok();
    auto sections = storage::HiddenProfileSections(tx, **key);
    if (!sections.ok()) return sections.status();
    hidden = std::move(sections).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return WithResource(
      health_profile::BuildProfile(*resources, call.id, ctx.options.base_url, hidden));
}

// POST Patient/[id]/$profile-visibility: the patient's choice to hide a section of their
// profile from professionals (or show it again). The choice is kept (entries written into the
// section later are hidden too: dossier.cc) and applied at once to the entries already there,
// each change decided and audited as the patient's $meta-add / $meta-delete of MASQUE_PS.
EntryResult ProfileVisibility(const FhirContext& ctx, Call& call) {
  auto body = ParseResourceBody(call.req);
  if (!body.ok()) return FromError(body.status());
  if (body->GetString("resourceType") != "Parameters")
    return FromError(BadRequest("$profile-visibility takes a Parameters resource"));
  std::string section = ParamValue(*body, "section");
  std::string names;
  bool known = false;
  for (const health_profile::Section& s : health_profile::Sections()) {
    names += (names.empty() ? "" : ", ") + s.name;
    known = known || s.name == section;
  }
  if (!known)
    return FromError(BadRequest(
        "$profile-visibility section is one of " + names + ", not '" + section + "'", "section"));
  bool hide = ParamValue(*body, "visible") == "false";
  JsonValue mask = JsonValue::Object();
  mask.Set("system", JsonValue::String("urn:oid:1.2.250.1.213.1.1.4.13"));
  mask.Set("code", JsonValue::String(std::string(profiles::kMasquePs)));
  int changed = 0;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    changed = 0;
    CARNET_RETURN_IF_ERROR(profiles::ApplyRecordChoice(
        tx, call.session, call.id, "profile-visibility",
        [&](const std::string& name) { return ParamValue(*body, name); }));
    auto key = storage::FindPatientKeyByResourceId(tx, call.id);
    if (!key.ok()) return key.status();
    if (!*key) return Internal("the record vanished during its choice");
    std::vector<std::pair<std::string, std::string>> entries;
    std::string at, ai;
    while (true) {
      auto page = storage::ReadRecordResources(tx, **key, at, ai, kChunk);
      if (!page.ok()) return page.status();
      for (const storage::StoredResource& row : *page) {
        at = row.type;
        ai = row.id;
        auto res = ParseJson(row.content);
        if (!res.ok()) return Internal("stored " + at + "/" + ai + " is unreadable");
        if (health_profile::SectionOf(*res) != section) continue;
        bool masked = false;
        if (const JsonValue* meta = res->Find("meta"))
          if (const JsonValue* security = meta->Find("security"); security && security->is_array())
            for (const JsonValue& c : security->items())
              masked = masked || c.GetString("code") == profiles::kMasquePs;
        if (masked != hide) entries.emplace_back(row.type, row.id);
      }
      if (static_cast<int>(page->size()) < kChunk) break;
    }
    for (const auto& [type, id] : entries) {
      auto r = ctx.interactions.ChangeSecurity(
          tx, call.session, type, id,
          hide ? std::vector<JsonValue>{mask} : std::vector<JsonValue>{},
          hide ? std::vector<JsonValue>{} : std::vector<JsonValue>{mask});
      if (!r.ok()) return r.status();
      ++changed;
    }
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  JsonValue count = JsonValue::Object();
  count.Set("name", JsonValue::String("changed"));
  count.Set("valueInteger", JsonValue::Number(std::to_string(changed)));
  JsonValue params = JsonValue::Array();
  params.Append(std::move(count));
  JsonValue answer = JsonValue::Object();
  answer.Set("resourceType", JsonValue::String("Parameters"));
  answer.Set("parameter", std::move(params));
  return WithResource(std::move(answer));
}

}  // namespace carnet::fhir
