// GET Patient/[id]/$reminders (issue 16): the vaccinations and screenings the French calendar
// and programmes recommend for this patient (prevention/), from what of the record the caller
// may see. Read and audited as $everything is: the Patient through the caller's session, the
// record decided as a whole, each Immunization and screening result decided one by one, one
// audit record for the operation; a record the caller may not see answers as one that does
// not exist.
#include <chrono>

#include "base/strings.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"
#include "prevention/fhir_reminders.h"

namespace carnet::fhir {

using profiles::Action;
using storage::Transaction;

namespace {

// How many Immunizations, and results of each type, are read: far more than a record holds (a
// record beyond it would be answered from the first ones found).
constexpr int kMaxRecordedEvents = 2000;

prevention::Date Today() {
  std::string now = FormatUtc(std::chrono::system_clock::now());
  return prevention::ParseDate(now.substr(0, 10)).value_or(prevention::Date{});
}

prevention::Sex SexOf(const JsonValue& patient) {
  std::string gender = patient.GetString("gender");
  if (gender == "female") return prevention::Sex::kFemale;
  if (gender == "male") return prevention::Sex::kMale;
  return prevention::Sex::kUnknown;
}

}  // namespace

Result<RecordReminders> ComputeRecordReminders(const FhirContext& ctx, Session& session,
                                               const std::string& id,
                                               prevention::ReminderInput input,
                                               const std::string& operation) {
  const prevention::PreventionRules& rules = ctx.options.prevention_rules
                                                 ? *ctx.options.prevention_rules
                                                 : prevention::PreventionRules::Builtin();
  std::string result_codes;
  for (const std::string& code : prevention::ScreeningResultCodes(rules))
    result_codes += (result_codes.empty() ? "" : ",") + PercentEncode(code);

  JsonValue patient_json;
  bool gone = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    input.vaccinations.clear();
    input.screenings.clear();
    gone = false;
    auto patient = GuardedRead(tx, session, "Patient", id, "", "operation");
    if (!patient.ok()) return patient.status();
    if (patient->deleted || !patient->patient_key) {
      gone = true;
      return Status::Ok();
    }
    long long key = *patient->patient_key;
    auto d = session.DecideRecord(tx, key, Action::kSearch);
    if (!d.ok()) return d.status();
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("operation", 'E');
    audit.subtype_display = operation;
    audit.object_reference = "Patient/" + id + "/" + operation;
    if (!d->allowed) return session.Refuse(audit, *d, key, "Patient/" + id);
    auto parsed = ParseJson(patient->content);
    if (!parsed.ok()) return Internal("stored Patient/" + id + " is unreadable");
    patient_json = std::move(parsed).value();
    // What the record holds and the caller may see, each decided as a read of it.
    auto read = [&](const std::string& type, const std::string& query, auto&& use) -> Status {
      auto ids = FindMatchingIds(tx, type, query, kMaxRecordedEvents);
      if (!ids.ok()) return ids.status();
      for (const std::string& rid : *ids) {
        auto row = storage::ReadCurrent(tx, type, rid, false);
        if (!row.ok()) return row.status();
        if (!*row || (*row)->deleted) continue;
        auto visible = session.DecideStored(tx, **row, Action::kRead);
        if (!visible.ok()) return visible.status();
        if (!visible->allowed) continue;
        auto res = ParseJson((*row)->content);
        if (!res.ok()) return Internal("stored " + type + "/" + rid + " is unreadable");
        use(*res);
      }
      return Status::Ok();
    };
    std::string patient_ref = "patient=Patient/" + id;
    CARNET_RETURN_IF_ERROR(read("Immunization", patient_ref, [&](const JsonValue& r) {
      if (auto e = prevention::VaccinationOf(r)) input.vaccinations.push_back(std::move(*e));
    }));
    for (const char* type : {"Observation", "Procedure", "DiagnosticReport"})
      CARNET_RETURN_IF_ERROR(
          read(type, patient_ref + "&code=" + result_codes, [&](const JsonValue& r) {
            if (auto e = prevention::ScreeningResultOf(r))
              input.screenings.push_back(std::move(*e));
          }));
    return session.Audit(tx, audit, *d, key);
  });
  if (!st.ok()) return st;
  if (gone) return Status(ErrorCode::kGone, "Patient/" + id + " was deleted");
  auto birth = prevention::ParseDate(patient_json.GetString("birthDate"));
  if (!birth || patient_json.GetString("birthDate").size() != 10)
    return Invalid("Patient/" + id +
                   " has no full birthDate (YYYY-MM-DD): reminders are computed from it");
  input.birth = *birth;
  input.sex = SexOf(patient_json);
  RecordReminders out;
  out.today = input.today;
  out.reminders = prevention::ComputeReminders(rules, input);
  return out;
}

EntryResult PatientReminders(const FhirContext& ctx, Call& call) {
  const std::string& id = call.id;
  prevention::ReminderInput input;
  input.today = Today();
  for (const auto& [k, v] : call.query) {
    if (k == "date") {
      auto d = prevention::ParseDate(v);
      if (!d || v.size() != 10)
        return FromError(BadRequest("date '" + v + "' is not a date (YYYY-MM-DD)"));
      input.today = *d;
    } else if (k == "horizon") {
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos)
        return FromError(BadRequest("horizon '" + v + "' is not a number of days (0 to 9999)"));
      input.horizon_days = std::stoi(v);
    }
  }
  auto computed = ComputeRecordReminders(ctx, call.session, id, std::move(input), "$reminders");
  if (!computed.ok()) return FromError(computed.status());
  const std::vector<prevention::Reminder>& reminders = computed->reminders;
  JsonValue bundle = NewBundle("collection");
  JsonValue entries = JsonValue::Array();
  auto add = [&](JsonValue resource) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String("urn:uuid:" + NewUuid()));
    entry.Set("resource", std::move(resource));
    entries.Append(std::move(entry));
  };
  if (auto ir = prevention::ImmunizationRecommendationOf(id, computed->today, reminders))
    add(std::move(*ir));
  for (JsonValue& sr : prevention::ScreeningRequestsOf(id, computed->today, reminders))
    add(std::move(sr));
  return BundleAnswer(std::move(bundle), std::move(entries));
}

}  // namespace carnet::fhir
