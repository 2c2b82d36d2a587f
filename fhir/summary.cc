// Patient/[id]/$summary: the patient summary (HL7 IPS document Bundle, summary/document.h) of
// the record as the caller may see it, in FHIR or, asked for with `Accept: application/pdf` or
// `_format=pdf`, as a PDF (summary/pdf.h). Read as $everything reads the record: the Patient
// through GuardedRead, the record through the session's decision on searching it, then every
// resource of the record decided one by one, so that a professional's summary holds what that
// professional may read and the patient's everything but what is hidden from the patient. A
// caller who may not see the record gets the answer of a record that does not exist; the
// operation is audited as $everything is (the Patient's read, then one event for the operation).
// The shared resources the record references (a Practitioner, a Medication) are read too, as
// far as the caller may read them, so that the Bundle's references resolve inside it.
#include <set>

#include "base/strings.h"
#include "fhir/rest_impl.h"
#include "model/structure.h"
#include "summary/document.h"
#include "summary/pdf.h"

namespace carnet::fhir {

using profiles::Action;
using storage::Transaction;

namespace {

// The record's resources are read in pages of this many rows.
constexpr int kPage = 500;
// At most this many shared resources referenced by the record are read for the Bundle.
constexpr size_t kMaxShared = 500;

}  // namespace

EntryResult PatientSummary(const FhirContext& ctx, Call& call) {
  Session& session = call.session;
  const std::string& id = call.id;
  bool pdf = AsksForPdf(call.req, call.query);
  summary::SummaryRequest request;
  request.base_url = ctx.options.base_url;
  request.requester = summary::RequesterDisplay(session.actor());
  bool gone = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    request.resources.clear();
    gone = false;
    auto patient = GuardedRead(tx, session, "Patient", id, "", "operation");
    if (!patient.ok()) return patient.status();
    if (patient->deleted) {
      gone = true;
      return Status::Ok();
    }
    auto patient_json = ParseJson(patient->content);
    if (!patient_json.ok()) return Internal("stored Patient/" + id + " is unreadable");
    request.patient = std::move(patient_json).value();
    if (!patient->patient_key) return Status::Ok();  // a Patient without a record: nothing else
    long long key = *patient->patient_key;
    auto d = session.DecideRecord(tx, key, Action::kSearch);
    if (!d.ok()) return d.status();
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("operation", 'E');
    audit.subtype_display = "$summary";
    audit.object_reference = "Patient/" + id + "/$summary";
    if (!d->allowed) return session.Refuse(audit, *d, key, "Patient/" + id);
    std::string after_type, after_id;
    while (true) {
      auto page = storage::ReadRecordResources(tx, key, after_type, after_id, kPage);
      if (!page.ok()) return page.status();
      for (const auto& row : *page) {
        after_type = row.type;
        after_id = row.id;
        if (row.type == "Patient") continue;  // the record's own Patient is read above
        auto res = ParseJson(row.content);
        if (!res.ok()) return Internal("stored " + row.type + "/" + row.id + " is unreadable");
        auto visible = session.DecideResource(tx, key, *res, Action::kRead);
        if (!visible.ok()) return visible.status();
        if (visible->allowed) request.resources.push_back(std::move(res).value());
      }
      if (static_cast<int>(page->size()) < kPage) break;
    }
    // The shared resources they reference (Practitioner, Medication, Organization...), as far
    // as the caller may read them; a reference into a record is never followed here (what the
    // caller may see of this record was read above).
    std::set<std::string> known = {"Patient/" + id};
    for (const JsonValue& r : request.resources)
      known.insert(r.GetString("resourceType") + "/" + r.GetString("id"));
    std::set<std::string> wanted;
    for (const JsonValue& r : request.resources)
      for (const std::string& target : summary::ReferencedResources(r, ctx.options.base_url))
        if (!known.count(target) && wanted.size() < kMaxShared) wanted.insert(target);
    request.shared.clear();
    for (const std::string& target : wanted) {
      std::string type = target.substr(0, target.find('/'));
      std::string ref_id = target.substr(target.find('/') + 1);
      if (!model::StructureRegistry::R4().IsResourceType(type) || !IsValidFhirId(ref_id)) continue;
      auto row = storage::ReadCurrent(tx, type, ref_id, false);
      if (!row.ok()) return row.status();
      if (!*row || (*row)->deleted || (*row)->patient_key) continue;
      auto visible = session.DecideStored(tx, **row, Action::kRead);
      if (!visible.ok()) return visible.status();
      if (!visible->allowed) continue;
      auto res = ParseJson((*row)->content);
      if (res.ok()) request.shared.push_back(std::move(res).value());
    }
    return session.Audit(tx, audit, *d, key);
  });
  if (!st.ok()) return FromError(st);
  if (gone) return FromError(Status(ErrorCode::kGone, "Patient/" + id + " was deleted"));
  auto built = summary::BuildSummary(request);
  if (!built.ok()) return FromError(built.status());
  if (!pdf) return WithResource(std::move(built->bundle));
  auto bytes = summary::RenderSummaryPdf(*built);
  if (!bytes.ok()) return FromError(bytes.status());
  EntryResult e;
  e.native_body = std::move(bytes).value();
  e.native_type = "application/pdf";
  e.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + summary::SummaryPdfFileName(*built) + "\"");
  return e;
}

}  // namespace carnet::fhir
