#include "prevention/fhir_reminders.h"

#include <set>

namespace carnet::prevention {
namespace {

JsonValue Str(std::string s) { return JsonValue::String(std::move(s)); }

JsonValue Coding(const std::string& system, const std::string& code,
                 const std::string& display = "") {
  JsonValue c = JsonValue::Object();
  c.Set("system", Str(system));
  c.Set("code", Str(code));
  if (!display.empty()) c.Set("display", Str(display));
  return c;
}

JsonValue Concept(JsonValue coding, const std::string& text = "") {
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  JsonValue cc = JsonValue::Object();
  cc.Set("coding", std::move(codings));
  if (!text.empty()) cc.Set("text", Str(text));
  return cc;
}

JsonValue Ref(const std::string& reference) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", Str(reference));
  return r;
}

std::vector<Code> CodesOf(const JsonValue* cc) {
  std::vector<Code> out;
  if (!cc) return out;
  if (const JsonValue* codings = cc->Find("coding"))
    for (const JsonValue& c : codings->items())
      if (!c.GetString("system").empty() && !c.GetString("code").empty())
        out.push_back({c.GetString("system"), c.GetString("code")});
  return out;
}

std::string ReferenceOf(const JsonValue& resource) {
  return resource.GetString("resourceType") + "/" + resource.GetString("id");
}

// The first of these that holds a date: "effectiveDateTime", "effectivePeriod" (its start)...
std::optional<Date> FirstDate(const JsonValue& r, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const JsonValue* v = r.Find(name);
    if (!v) continue;
    std::string text = v->is_object() ? v->GetString("start") : v->is_string() ? v->text() : "";
    if (auto d = ParseDate(text)) return d;
  }
  return std::nullopt;
}

JsonValue Narrative(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '<')
      escaped += "&lt;";
    else if (c == '>')
      escaped += "&gt;";
    else if (c == '&')
      escaped += "&amp;";
    else
      escaped += c;
  }
  JsonValue n = JsonValue::Object();
  n.Set("status", Str("generated"));
  n.Set("div", Str("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + escaped + "</div>"));
  return n;
}

JsonValue ForecastStatus(ReminderStatus s) {
  if (s == ReminderStatus::kUpcoming)
    return Concept(Coding(kReminderStatusSystem, "upcoming", "Upcoming"), "upcoming");
  static const char* kSystem =
      "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status";
  switch (s) {
    case ReminderStatus::kOverdue:
      return Concept(Coding(kSystem, "overdue", "Overdue"), "overdue");
    case ReminderStatus::kComplete:
      return Concept(Coding(kSystem, "complete", "Complete"), "complete");
    default:
      return Concept(Coding(kSystem, "due", "Due"), "due");
  }
}

JsonValue DateCriterion(const char* loinc, const char* display, const Date& d) {
  JsonValue c = JsonValue::Object();
  c.Set("code", Concept(Coding("http://loinc.org", loinc, display)));
  c.Set("value", Str(FormatDate(d)));
  return c;
}

}  // namespace

std::optional<RecordedEvent> VaccinationOf(const JsonValue& immunization) {
  if (immunization.GetString("resourceType") != "Immunization") return std::nullopt;
  if (immunization.GetString("status") != "completed") return std::nullopt;
  RecordedEvent e;
  e.reference = ReferenceOf(immunization);
  e.codes = CodesOf(immunization.Find("vaccineCode"));
  auto date = ParseDate(immunization.GetString("occurrenceDateTime"));
  if (e.codes.empty() || !date) return std::nullopt;
  e.date = *date;
  return e;
}

std::optional<RecordedEvent> ScreeningResultOf(const JsonValue& resource) {
  static const std::set<std::string> kHappened = {"final", "amended", "corrected", "appended",
                                                  "completed"};
  std::string type = resource.GetString("resourceType");
  if (type != "Observation" && type != "Procedure" && type != "DiagnosticReport")
    return std::nullopt;
  if (!kHappened.count(resource.GetString("status"))) return std::nullopt;
  RecordedEvent e;
  e.reference = ReferenceOf(resource);
  e.codes = CodesOf(resource.Find("code"));
  std::optional<Date> date = type == "Procedure"
                                 ? FirstDate(resource, {"performedDateTime", "performedPeriod"})
                                 : FirstDate(resource, {"effectiveDateTime", "effectivePeriod",
                                                        "effectiveInstant", "issued"});
  if (e.codes.empty() || !date) return std::nullopt;
  e.date = *date;
  return e;
}

std::vector<std::string> ScreeningResultCodes(const PreventionRules& rules) {
  std::set<std::string> codes;
  for (const ScreeningRow& row : rules.screenings())
    for (const ScreeningRow::Result& r : row.results)
      codes.insert(r.code.system + "|" + r.code.code);
  return {codes.begin(), codes.end()};
}

bool Answered(ReminderStatus s) {
  return s == ReminderStatus::kComplete || s == ReminderStatus::kDue ||
         s == ReminderStatus::kOverdue || s == ReminderStatus::kUpcoming;
}

std::optional<JsonValue> ImmunizationRecommendationOf(const std::string& patient_id,
                                                      const Date& today,
                                                      const std::vector<Reminder>& reminders) {
  JsonValue recommendations = JsonValue::Array();
  int due = 0, overdue = 0, upcoming = 0;
  for (const Reminder& r : reminders) {
    if (r.kind != Reminder::Kind::kVaccination || !Answered(r.status)) continue;
    const CalendarRow& row = *r.dose_row;
    due += r.status == ReminderStatus::kDue;
    overdue += r.status == ReminderStatus::kOverdue;
    upcoming += r.status == ReminderStatus::kUpcoming;
    JsonValue rec = JsonValue::Object();
    JsonValue vaccines = JsonValue::Array();
    vaccines.Append(Concept(Coding("http://www.whocc.no/atc", row.vaccine)));
    rec.Set("vaccineCode", std::move(vaccines));
    if (!row.disease.empty())
      rec.Set("targetDisease", Concept(Coding("http://snomed.info/sct", row.disease)));
    rec.Set("forecastStatus", ForecastStatus(r.status));
    if (r.status != ReminderStatus::kComplete) {
      JsonValue criteria = JsonValue::Array();
      if (r.earliest)
        criteria.Append(DateCriterion("30981-5", "Earliest date to give", *r.earliest));
      if (r.due) criteria.Append(DateCriterion("30980-7", "Date vaccine due", *r.due));
      if (r.overdue)
        criteria.Append(DateCriterion("59778-1", "Date when overdue for immunization", *r.overdue));
      if (r.latest)
        criteria.Append(DateCriterion("59777-3", "Latest date to give immunization", *r.latest));
      rec.Set("dateCriterion", std::move(criteria));
    }
    rec.Set("description",
            Str(row.label_fr + " (" + row.source + ", " + std::to_string(row.year) + ")"));
    rec.Set("series", Str(r.series));
    if (row.campaign()) {
      rec.Set("doseNumberString", Str(r.season + " season"));
    } else {
      rec.Set("doseNumberPositiveInt", JsonValue::Number(std::to_string(r.dose)));
      if (!row.every)
        rec.Set("seriesDosesPositiveInt", JsonValue::Number(std::to_string(r.series_doses)));
    }
    if (!r.supporting.empty()) {
      JsonValue refs = JsonValue::Array();
      for (const std::string& s : r.supporting) refs.Append(Ref(s));
      rec.Set("supportingImmunization", std::move(refs));
    }
    recommendations.Append(std::move(rec));
  }
  if (recommendations.items().empty()) return std::nullopt;
  JsonValue ir = JsonValue::Object();
  ir.Set("resourceType", Str("ImmunizationRecommendation"));
  ir.Set("text", Narrative("Vaccinations on " + FormatDate(today) + ": " + std::to_string(overdue) +
                           " overdue, " + std::to_string(due) + " due, " +
                           std::to_string(upcoming) + " upcoming (French vaccination calendar)."));
  ir.Set("patient", Ref("Patient/" + patient_id));
  ir.Set("date", Str(FormatDate(today)));
  ir.Set("recommendation", std::move(recommendations));
  return ir;
}

std::vector<JsonValue> ScreeningRequestsOf(const std::string& patient_id, const Date& today,
                                           const std::vector<Reminder>& reminders) {
  std::vector<JsonValue> out;
  for (const Reminder& r : reminders) {
    if (r.kind != Reminder::Kind::kScreening || !Answered(r.status)) continue;
    const ScreeningRow& row = *r.screening_row;
    JsonValue sr = JsonValue::Object();
    sr.Set("resourceType", Str("ServiceRequest"));
    sr.Set("text", Narrative(row.label + ": " + StatusName(r.status) +
                             (r.due ? " (from " + FormatDate(*r.due) + ")" : std::string())));
    JsonValue ext = JsonValue::Object();
    ext.Set("url", Str(kReminderStatusExtension));
    ext.Set("valueCode", Str(StatusName(r.status)));
    JsonValue exts = JsonValue::Array();
    exts.Append(std::move(ext));
    sr.Set("extension", std::move(exts));
    sr.Set("status", Str(r.status == ReminderStatus::kComplete   ? "completed"
                         : r.status == ReminderStatus::kUpcoming ? "draft"
                                                                 : "active"));
    sr.Set("intent", Str("proposal"));
    sr.Set("code", Concept(Coding(row.service.system, row.service.code), row.label_fr));
    sr.Set("subject", Ref("Patient/" + patient_id));
    if (r.due) {
      JsonValue period = JsonValue::Object();
      period.Set("start", Str(FormatDate(*r.due)));
      if (r.overdue || r.latest)
        period.Set("end", Str(FormatDate(r.overdue ? *r.overdue : *r.latest)));
      sr.Set("occurrencePeriod", std::move(period));
    }
    sr.Set("authoredOn", Str(FormatDate(today)));
    if (!r.supporting.empty()) {
      JsonValue refs = JsonValue::Array();
      for (const std::string& s : r.supporting) refs.Append(Ref(s));
      sr.Set("supportingInfo", std::move(refs));
    }
    JsonValue note = JsonValue::Object();
    note.Set("text", Str(row.source + ", " + std::to_string(row.year)));
    JsonValue notes = JsonValue::Array();
    notes.Append(std::move(note));
    sr.Set("note", std::move(notes));
    out.push_back(std::move(sr));
  }
  return out;
}

}  // namespace carnet::prevention
