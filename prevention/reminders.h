// Personalised reminders (issue 16): from a person's birth date, sex and recorded vaccinations
// and screening results, what the prevention tables (prevention/rules.h) recommend on a given
// day, each dose and programme with its status and dates. A plain list of structs, for the FHIR
// operation (Patient/[id]/$reminders), and for what comes later (the agenda, its iCalendar feed,
// the reminders sent through the outbox).
//
// The rules, all driven by the table rows:
//  - a row applies when its sex and conditions hold (born_from..., started_before: the age at the
//    series' first dose, recorded or expected; risk: one of the person's risk factors);
//  - a recorded dose (a vaccine covering every antigen of the series, on or after the birth date)
//    satisfies the earliest unsatisfied dose of its series still open on the day it was given (not
//    past its `until`, and from a month before its age: an infant's doses are not the one from 65
//    years); a second dose of the same series on the same day counts once;
//  - a risk:NAME row applies only to a person given that risk factor (the FHIR operation gives
//    none yet: which coded conditions make a person at risk is not tabled);
//  - a dose is due from max(birth + from, previous dose + interval min), overdue from
//    max(birth + to, due + (to - from), previous dose + interval max), and no longer given after
//    birth + until; a previous dose not yet given counts as given on its due day (or today, when
//    that is past);
//  - a dose with no age of its own (2nd HPV dose...) waits for the previous one: when that one
//    is no longer given, neither is it;
//  - `every:10y`: once the dose is given, one more every 10 years;
//  - a campaign: one reminder for the current season (due, or complete when a dose was given
//    since it started, followed then by the next season's) or, between seasons, for the next one;
//  - a screening result (any of the programme's codes) sets the next date to result + interval;
//    without one, the programme is due from the start of its age band.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "prevention/dates.h"
#include "prevention/rules.h"

namespace carnet::prevention {

enum class Sex { kFemale, kMale, kUnknown };  // kUnknown: the sex-specific programmes apply

// Something recorded in the person's record: a vaccination (an Immunization) or a screening
// result (an Observation, Procedure or DiagnosticReport).
struct RecordedEvent {
  std::string reference;    // "Immunization/abc": what the reminder cites as satisfying it
  std::vector<Code> codes;  // its vaccineCode or code codings
  Date date;
};

struct ReminderInput {
  Date birth;
  Sex sex = Sex::kUnknown;
  std::set<std::string> risks;  // risk factors of the table's risk:NAME conditions
  Date today;
  int horizon_days = 90;  // how far ahead a dose or screening is "upcoming"
  std::vector<RecordedEvent> vaccinations;
  std::vector<RecordedEvent> screenings;
};

enum class ReminderStatus {
  kComplete,  // given / done (a campaign: for this season; a screening: next one beyond the
              // horizon)
  kDue,       // may be given now
  kOverdue,   // past the recommended window, still to give
  kUpcoming,  // due within the horizon
  kLater,     // due beyond the horizon
  kClosed,    // never given and no longer recommended (window over)
};
const char* StatusName(ReminderStatus s);  // "complete", "due"...

struct Reminder {
  enum class Kind { kVaccination, kScreening };
  Kind kind = Kind::kVaccination;
  const CalendarRow* dose_row = nullptr;        // kVaccination
  const ScreeningRow* screening_row = nullptr;  // kScreening
  std::string series;                           // the series or programme name
  int dose = 0;                                 // vaccination: dose number (0 for a campaign)
  int series_doses = 0;                         // vaccination: doses of the series for this person
  std::string season;                           // campaign: "2025-2026"
  ReminderStatus status = ReminderStatus::kDue;
  // Earliest day to give / do, the day it is due, overdue from, last day it is given (each
  // when it applies; a complete one keeps the dates it had).
  std::optional<Date> earliest, due, overdue, latest;
  std::vector<std::string> supporting;  // references of the recorded events that satisfy it
  std::string label;                    // English
  std::string label_fr;  // French, as the patient reads it (the agenda, the web space)
};

// Every reminder the rules give this person on `input.today`, in table order: each dose of
// each series that applies, each campaign, each screening row that applies.
std::vector<Reminder> ComputeReminders(const PreventionRules& rules, const ReminderInput& input);

}  // namespace carnet::prevention
