// Patient/[id]/$profile: the patient's health profile, the record's entries grouped in the
// public service's sections (health_profile/sections.h), duplicates merged with their
// sources. Computed for the caller: the resources are those the session may read, decided one
// by one as $everything decides them, and the operation is audited as one read of them all.
#include "fhir/rest_impl.h"
#include "health_profile/sections.h"

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
  return WithResource(health_profile::BuildProfile(*resources, call.id, ctx.options.base_url));
}

}  // namespace carnet::fhir
