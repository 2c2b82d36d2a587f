// Patient/[id]/$agenda: the patient's appointments over a period, as a FHIR searchset or as
// an iCalendar feed (text/calendar, RFC 5545) a phone calendar can read. The appointments are
// found by the same search, under the same access filter and audit, as
// GET Patient/[id]/Appointment?date=ge..&date=le.. would find them; the operation only adds
// the period's defaults and bounds and the calendar form.
#include <algorithm>
#include <ctime>

#include "agenda/agenda_event.h"
#include "agenda/icalendar.h"
#include "base/strings.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/rest_impl.h"
#include "prevention/fhir_reminders.h"
#include "profiles/agenda_feed.h"

namespace carnet::fhir {
namespace {

constexpr long long kDay = 24 * 3600;
// Defaults: what a phone calendar wants to show (the last three months, the next year); a
// longer period than three years is refused rather than answered slowly.
constexpr long long kDefaultPast = 90 * kDay;
constexpr long long kDefaultAhead = 365 * kDay;
constexpr long long kLongestPeriod = 3 * 366 * kDay;

std::string DateOf(long long epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// A YYYY-MM-DD parameter as the epoch of its midnight UTC; nullopt when it is not one.
std::optional<long long> DateParam(const std::string& v) {
  if (v.size() != 10) return std::nullopt;
  return EpochSeconds(v + "T00:00:00Z");
}

}  // namespace

EntryResult PatientAgenda(const FhirContext& ctx, Call& call) {
  long long now = std::time(nullptr);
  std::optional<long long> start, end;
  bool calendar = WantsCalendar(call.req, call.query);
  for (const auto& [k, v] : call.query) {
    if (k == "start" || k == "end") {
      auto d = DateParam(v);
      if (!d)
        return FromError(
            BadRequest("$agenda " + k + " is a date (YYYY-MM-DD), not '" + v + "'", k));
      (k == "start" ? start : end) = d;
    } else if (k != "_format" && k != "_pretty") {
      return FromError(BadRequest("$agenda takes start and end (dates), not " + k, k));
    }
  }
  if (!start) start = (end ? *end - kDefaultPast - kDefaultAhead : now - kDefaultPast);
  if (!end) end = *start + kDefaultPast + kDefaultAhead;
  if (*end < *start) return FromError(BadRequest("$agenda end is before start", "end"));
  if (*end - *start > kLongestPeriod)
    return FromError(BadRequest("$agenda reads at most three years at a time", "end"));

  // The record first: one the caller may not see answers as one that does not exist, not as
  // an empty agenda.
  bool gone = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    auto patient = GuardedRead(tx, call.session, "Patient", call.id, "", "operation");
    if (!patient.ok()) return patient.status();
    gone = patient->deleted;
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  if (gone) return FromError(Status(ErrorCode::kGone, "Patient/" + call.id + " was deleted"));

  // The reminders (vaccinations, screenings) that fall in the period, from what of the record
  // the caller may see; a record without a full birth date has none.
  prevention::ReminderInput input;
  input.today = *prevention::ParseDate(DateOf(now));
  long long ahead = (*end - now) / kDay;
  input.horizon_days = static_cast<int>(std::clamp<long long>(ahead, 0, 9999));
  std::vector<prevention::Reminder> reminders;
  prevention::Date today = input.today;
  auto computed = ComputeRecordReminders(ctx, call.session, call.id, std::move(input), "$agenda");
  if (computed.ok())
    reminders = std::move(computed->reminders);
  else if (computed.status().code() != ErrorCode::kInvalid)
    return FromError(computed.status());
  prevention::Date first = *prevention::ParseDate(DateOf(*start));
  prevention::Date last = *prevention::ParseDate(DateOf(*end));
  std::vector<agenda::AgendaEvent> reminder_events;
  std::vector<prevention::Reminder> shown;
  for (const prevention::Reminder& r : reminders) {
    using prevention::ReminderStatus;
    if (r.status != ReminderStatus::kDue && r.status != ReminderStatus::kOverdue &&
        r.status != ReminderStatus::kUpcoming)
      continue;
    if (!r.due) continue;
    // What is due already is shown today: a calendar's past is not where one looks.
    prevention::Date day = *r.due < today ? today : *r.due;
    if (day < first || last < day) continue;
    agenda::AgendaEvent e;
    bool vaccination = r.kind == prevention::Reminder::Kind::kVaccination;
    e.uid = "reminder-" + r.series + "-" + (r.season.empty() ? std::to_string(r.dose) : r.season) +
            "-" + call.id + "@carnet";
    // The French label (prevention/data/*.tsv); a screening's says what it is ("Dépistage du
    // cancer...", "Bilan de prévention...").
    e.summary = vaccination ? "Vaccination : " + r.label_fr : r.label_fr;
    e.description = std::string("Rappel ") + prevention::StatusName(r.status) +
                    (r.overdue ? "; en retard à partir du " + prevention::FormatDate(*r.overdue)
                               : std::string()) +
                    " (calendrier des vaccinations et programmes de dépistage).";
    e.start = prevention::FormatDate(day);
    e.categories = {"Rappel", vaccination ? "Vaccination" : "Dépistage"};
    reminder_events.push_back(std::move(e));
    shown.push_back(r);
  }

  QueryParams search = {{"date", "ge" + DateOf(*start)},
                        {"date", "le" + DateOf(*end)},
                        {"_sort", "date"},
                        {"_count", std::to_string(ctx.options.max_count)}};
  EntryResult found =
      Search(ctx, call.session, call.req, "Appointment", search, call.id, "$agenda");
  if (!found.error.ok()) return found;
  if (!calendar) {
    // The reminders as the resources $reminders answers, after the appointments.
    JsonValue* entries = found.resource.Find("entry");
    if (!entries) entries = &found.resource.Set("entry", JsonValue::Array());
    auto include = [&](JsonValue resource) {
      JsonValue entry = JsonValue::Object();
      entry.Set("fullUrl", JsonValue::String("urn:uuid:" + NewUuid()));
      entry.Set("resource", std::move(resource));
      JsonValue mode = JsonValue::Object();
      mode.Set("mode", JsonValue::String("include"));
      entry.Set("search", std::move(mode));
      entries->Append(std::move(entry));
    };
    if (auto ir = prevention::ImmunizationRecommendationOf(call.id, today, shown))
      include(std::move(*ir));
    for (JsonValue& sr : prevention::ScreeningRequestsOf(call.id, today, shown))
      include(std::move(sr));
    if (entries->items().empty()) found.resource.Remove("entry");
    return found;
  }

  std::vector<agenda::AgendaEvent> events;
  if (const JsonValue* entries = found.resource.Find("entry"); entries && entries->is_array())
    for (const JsonValue& entry : entries->items()) {
      const JsonValue* resource = entry.Find("resource");
      if (!resource || resource->GetString("resourceType") != "Appointment") continue;
      if (auto e = agenda::EventFromAppointment(*resource)) events.push_back(std::move(*e));
    }
  for (agenda::AgendaEvent& e : reminder_events) events.push_back(std::move(e));
  agenda::CalendarInfo info;
  info.name = "Mon agenda santé";
  info.generated_at = FormatUtc(std::chrono::system_clock::now());
  auto text = agenda::WriteICalendar(events, info);
  if (!text.ok()) return FromError(text.status());
  EntryResult e;
  e.native_type = "text/calendar; charset=utf-8";
  e.native_body = std::move(text).value();
  return e;
}

// POST Patient/[id]/$agenda-link: the caller's calendar subscription link for the record
// (profiles/agenda_feed.h), or with `revoke` = true, the end of it.
EntryResult AgendaLink(const FhirContext& ctx, Call& call) {
  bool revoke = false;
  if (!call.req.body.empty()) {
    auto body = ParseResourceBody(call.req);
    if (!body.ok()) return FromError(body.status());
    if (body->GetString("resourceType") != "Parameters")
      return FromError(BadRequest("$agenda-link takes a Parameters resource"));
    if (const JsonValue* params = body->Find("parameter"); params && params->is_array())
      for (const JsonValue& p : params->items()) {
        if (p.GetString("name") != "revoke") continue;
        const JsonValue* v = p.Find("valueBoolean");
        if (!v || !v->is_bool())
          return FromError(BadRequest("$agenda-link revoke is a valueBoolean", "revoke"));
        revoke = v->as_bool();
      }
  }
  std::string secret;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    auto issued = profiles::IssueAgendaFeed(tx, call.session, call.id, revoke);
    if (!issued.ok()) return issued.status();
    secret = std::move(issued).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  if (revoke) return WithResource(OutcomeFromStatus(Status::Ok()));
  std::string root = ctx.options.base_url;
  if (root.size() >= 5 && root.compare(root.size() - 5, 5, "/fhir") == 0)
    root.resize(root.size() - 5);
  JsonValue url = JsonValue::Object();
  url.Set("name", JsonValue::String("url"));
  url.Set("valueUrl", JsonValue::String(root + "/agenda/" + secret + ".ics"));
  JsonValue params = JsonValue::Array();
  params.Append(std::move(url));
  JsonValue answer = JsonValue::Object();
  answer.Set("resourceType", JsonValue::String("Parameters"));
  answer.Set("parameter", std::move(params));
  return WithResource(std::move(answer));
}

}  // namespace carnet::fhir
