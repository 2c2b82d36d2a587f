#include "prevention/reminders.h"

#include <algorithm>
#include <map>

namespace carnet::prevention {

const char* StatusName(ReminderStatus s) {
  switch (s) {
    case ReminderStatus::kComplete:
      return "complete";
    case ReminderStatus::kDue:
      return "due";
    case ReminderStatus::kOverdue:
      return "overdue";
    case ReminderStatus::kUpcoming:
      return "upcoming";
    case ReminderStatus::kLater:
      return "later";
    case ReminderStatus::kClosed:
      return "closed";
  }
  return "?";
}

namespace {

bool SexApplies(char row_sex, Sex sex) {
  return row_sex == '*' || sex == Sex::kUnknown || (row_sex == 'F' && sex == Sex::kFemale) ||
         (row_sex == 'M' && sex == Sex::kMale);
}

// The conditions that do not depend on the series' first dose.
bool PersonConditionsHold(const std::vector<Condition>& conditions, const ReminderInput& in) {
  for (const Condition& c : conditions) {
    switch (c.kind) {
      case Condition::Kind::kBornFrom:
        if (in.birth < c.date) return false;
        break;
      case Condition::Kind::kBornBefore:
        if (!(in.birth < c.date)) return false;
        break;
      case Condition::Kind::kRisk:
        if (!in.risks.count(c.name)) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

long Days(const Date& from, const Date& to) { return to.DayNumber() - from.DayNumber(); }

ReminderStatus OpenStatus(const ReminderInput& in, const Date& due,
                          const std::optional<Date>& overdue) {
  if (overdue && !(in.today < *overdue)) return ReminderStatus::kOverdue;
  if (!(in.today < due)) return ReminderStatus::kDue;
  return Days(in.today, due) <= in.horizon_days ? ReminderStatus::kUpcoming
                                                : ReminderStatus::kLater;
}

// The antigens a recorded vaccination covers (any of its codings).
std::set<std::string> Covered(const PreventionRules& rules, const RecordedEvent& e) {
  std::set<std::string> out;
  for (const Code& c : e.codes)
    if (const auto* antigens = rules.AntigensOf(c.system, c.code))
      out.insert(antigens->begin(), antigens->end());
  return out;
}

struct Dose {
  const CalendarRow* row = nullptr;
  int number = 0;
  bool repeat = false;  // one more of an `every:` row
  const RecordedEvent* given = nullptr;
  Reminder out;
};

std::optional<Date> Latest(const ReminderInput& in, const CalendarRow& row) {
  if (!row.until) return std::nullopt;
  return Add(in.birth, *row.until).AddDays(-1);
}

// How much before a dose's age a vaccine given still counts for it (a 2-month dose given at 8
// weeks); earlier, it counts for nothing (an infant's pneumococcal doses are not the one from 65
// years).
constexpr int kEarlyToleranceMonths = 1;

enum class Fit { kTakes, kTooEarly, kPassed };

// Whether a vaccine given on `day` satisfies dose `d`: not past its `until` nor long before its
// age; a dose that follows the previous one (no age of its own) once that one was given. kPassed:
// the dose can take no later vaccine either.
Fit FitOn(const ReminderInput& in, const Dose& d, const Dose* previous, const Date& day) {
  if (d.repeat || !d.row->from) return previous && previous->given ? Fit::kTakes : Fit::kPassed;
  auto latest = Latest(in, *d.row);
  if (latest && *latest < day) return Fit::kPassed;
  if (day < Add(Add(in.birth, *d.row->from), Span{0, -kEarlyToleranceMonths, 0}))
    return Fit::kTooEarly;
  return Fit::kTakes;
}

void VaccinationSeries(const PreventionRules& rules, const ReminderInput& in,
                       const std::string& series, const std::vector<const CalendarRow*>& rows,
                       std::vector<Reminder>* out) {
  const std::vector<std::string>& antigens = rows.front()->antigens;
  // The recorded doses of the series, in order, one a day.
  std::vector<std::pair<const RecordedEvent*, std::set<std::string>>> given;
  for (const RecordedEvent& e : in.vaccinations) {
    if (e.date < in.birth) continue;
    auto covered = Covered(rules, e);
    if (std::all_of(antigens.begin(), antigens.end(),
                    [&](const std::string& a) { return covered.count(a); }))
      given.emplace_back(&e, std::move(covered));
  }
  std::stable_sort(given.begin(), given.end(),
                   [](const auto& a, const auto& b) { return a.first->date < b.first->date; });
  given.erase(
      std::unique(given.begin(), given.end(),
                  [](const auto& a, const auto& b) { return a.first->date == b.first->date; }),
      given.end());

  // The first dose: recorded, or expected on its due day (today when that is past).
  std::optional<Date> first_day;
  const std::set<std::string>* first_antigens = nullptr;
  if (!given.empty()) {
    first_day = given.front().first->date;
    first_antigens = &given.front().second;
  } else {
    for (const CalendarRow* r : rows)
      if (r->dose == 1 && r->from) {
        Date due = Add(in.birth, *r->from);
        Date expected = std::max(due, in.today);
        if (!first_day || expected < *first_day) first_day = expected;
      }
  }
  auto started_holds = [&](const CalendarRow& r) {
    for (const Condition& c : r.conditions) {
      if (c.kind == Condition::Kind::kStartedBefore &&
          (!first_day || !(*first_day < Add(in.birth, c.age))))
        return false;
      if (c.kind == Condition::Kind::kStartedFrom &&
          (!first_day || *first_day < Add(in.birth, c.age)))
        return false;
      if (c.kind == Condition::Kind::kStartedWith &&
          (!first_antigens || !first_antigens->count(c.name)))
        return false;
    }
    return true;
  };
  // One row per dose number: of the rows that apply, the one due at the youngest age.
  std::vector<Dose> doses;
  for (int n = 1;; ++n) {
    const CalendarRow* chosen = nullptr;
    for (const CalendarRow* r : rows) {
      if (r->dose != n || !started_holds(*r)) continue;
      if (!chosen ||
          (r->from && (!chosen->from || Add(in.birth, *r->from) < Add(in.birth, *chosen->from))))
        chosen = r;
    }
    if (!chosen) break;
    Dose d;
    d.row = chosen;
    d.number = n;
    doses.push_back(d);
  }
  if (doses.empty()) return;
  int series_doses = static_cast<int>(doses.size());

  // Each recorded dose satisfies the earliest unsatisfied dose still open on its day.
  size_t next = 0;
  for (const auto& [event, covered] : given) {
    for (size_t k = next;; ++k) {
      if (k == doses.size()) {
        const Dose& last = doses.back();
        if (!last.row->every || !last.given) break;  // nothing left for it to satisfy
        Dose more;
        more.row = last.row;
        more.number = last.number + 1;
        more.repeat = true;
        doses.push_back(more);
      }
      Fit fit = FitOn(in, doses[k], k ? &doses[k - 1] : nullptr, event->date);
      if (fit == Fit::kTooEarly) break;  // counts for nothing
      if (fit == Fit::kTakes) {
        doses[k].given = event;
        next = k + 1;
        break;
      }
      next = k + 1;  // that dose is past for good
    }
  }
  if (doses.back().given && doses.back().row->every) {
    Dose more;
    more.row = doses.back().row;
    more.number = doses.back().number + 1;
    more.repeat = true;
    doses.push_back(more);
  }

  // The dates, dose after dose: an unsatisfied dose counts as given on its due day, or today.
  std::optional<Date> previous_day;
  bool chain_broken = false;  // the previous dose is no longer given
  for (Dose& d : doses) {
    const CalendarRow& row = *d.row;
    Reminder& r = d.out;
    r.kind = Reminder::Kind::kVaccination;
    r.dose_row = &row;
    r.series = series;
    r.dose = d.number;
    r.series_doses = series_doses;
    r.label = row.label;
    r.label_fr = row.label_fr;
    std::optional<Date> earliest;
    std::optional<long> window;  // days from due to overdue
    if (row.from && row.to) window = Days(Add(in.birth, *row.from), Add(in.birth, *row.to));
    if (d.repeat) {
      if (previous_day) earliest = Add(*previous_day, *row.every);
    } else {
      if (row.from) earliest = Add(in.birth, *row.from);
      if (row.interval_min && previous_day)
        earliest =
            std::max(earliest.value_or(*previous_day), Add(*previous_day, *row.interval_min));
    }
    bool waits = !row.from || d.repeat;  // no age of its own: follows the previous dose
    if (!earliest || (waits && chain_broken)) {
      earliest = earliest.value_or(in.today);
      r.status = ReminderStatus::kClosed;
    }
    r.earliest = r.due = earliest;
    if (!d.repeat && row.to)
      r.overdue = std::max(Add(in.birth, *row.to), earliest->AddDays(*window));
    if (d.repeat && window) r.overdue = earliest->AddDays(*window);
    if (row.interval_max && previous_day && !d.repeat) {
      Date by_interval = Add(*previous_day, *row.interval_max);
      r.overdue = r.overdue ? std::max(*r.overdue, by_interval) : by_interval;
    }
    if (!d.repeat) r.latest = Latest(in, row);
    if (d.given) {
      r.status = ReminderStatus::kComplete;
      r.supporting.push_back(d.given->reference);
      previous_day = d.given->date;
      chain_broken = false;
    } else if (r.status == ReminderStatus::kClosed ||
               (r.latest && (*r.latest < in.today || *r.latest < *r.due))) {
      r.status = ReminderStatus::kClosed;
      chain_broken = true;
      previous_day = std::nullopt;
    } else {
      r.status = OpenStatus(in, *r.due, r.overdue);
      previous_day = std::max(*r.due, in.today);
      chain_broken = false;
    }
    out->push_back(std::move(r));
  }
}

// The season of a campaign that holds `day` or, between seasons, the next one.
struct Season {
  Date start, end;
};
Season SeasonStarting(const CalendarRow& row, int year) {
  Season s;
  s.start = Date{year, row.start_month, row.start_day};
  bool next_year = row.end_month < row.start_month ||
                   (row.end_month == row.start_month && row.end_day < row.start_day);
  s.end = Date{year + (next_year ? 1 : 0), row.end_month, row.end_day};
  return s;
}
Season CurrentOrNextSeason(const CalendarRow& row, const Date& day) {
  Season previous = SeasonStarting(row, day.year - 1);
  if (!(previous.end < day)) return previous;
  Season current = SeasonStarting(row, day.year);
  if (!(current.end < day)) return current;
  return SeasonStarting(row, day.year + 1);
}

Reminder CampaignReminder(const PreventionRules& rules, const ReminderInput& in,
                          const CalendarRow& row, const Season& season) {
  Reminder r;
  r.kind = Reminder::Kind::kVaccination;
  r.dose_row = &row;
  r.series = row.series;
  r.label = row.label;
  r.label_fr = row.label_fr;
  r.season = season.start.year == season.end.year
                 ? std::to_string(season.start.year)
                 : std::to_string(season.start.year) + "-" + std::to_string(season.end.year);
  Date eligible = Add(in.birth, *row.from);
  r.earliest = r.due = std::max(season.start, eligible);
  r.latest = season.end;
  for (const RecordedEvent& e : in.vaccinations) {
    if (e.date < season.start || season.end < e.date) continue;
    auto covered = Covered(rules, e);
    if (std::all_of(row.antigens.begin(), row.antigens.end(),
                    [&](const std::string& a) { return covered.count(a); }))
      r.supporting.push_back(e.reference);
  }
  r.status =
      !r.supporting.empty() ? ReminderStatus::kComplete : OpenStatus(in, *r.due, std::nullopt);
  return r;
}

void Campaign(const PreventionRules& rules, const ReminderInput& in,
              const std::vector<const CalendarRow*>& rows, std::vector<Reminder>* out) {
  // Of the rows that apply, the one that starts at the youngest age.
  const CalendarRow* row = nullptr;
  for (const CalendarRow* r : rows)
    if (!row || Add(in.birth, *r->from) < Add(in.birth, *row->from)) row = r;
  Date eligible = Add(in.birth, *row->from);
  Season season = CurrentOrNextSeason(*row, std::max(in.today, eligible));
  while (season.end < eligible) season = SeasonStarting(*row, season.start.year + 1);
  Reminder current = CampaignReminder(rules, in, *row, season);
  bool done = current.status == ReminderStatus::kComplete;
  out->push_back(std::move(current));
  // Done for this season: the next autumn.
  if (done)
    out->push_back(CampaignReminder(rules, in, *row, SeasonStarting(*row, season.start.year + 1)));
}

bool Matches(const ScreeningRow::Result& wanted, const RecordedEvent& e) {
  for (const Code& c : e.codes)
    if (c.system == wanted.code.system && c.code == wanted.code.code) return true;
  return false;
}

Reminder Screening(const ReminderInput& in, const ScreeningRow& row) {
  Reminder r;
  r.kind = Reminder::Kind::kScreening;
  r.screening_row = &row;
  r.series = row.programme;
  r.label = row.label;
  r.label_fr = row.label_fr;
  Date band_start = Add(in.birth, row.from), band_end = Add(in.birth, row.to);
  r.latest = band_end.AddDays(-1);
  // The results that count, oldest first, each with its own interval if it has one.
  std::vector<std::pair<const RecordedEvent*, std::optional<Span>>> results;
  for (const RecordedEvent& e : in.screenings) {
    if (in.today < e.date || e.date < in.birth) continue;
    if (row.once && (e.date < band_start || !(e.date < band_end))) continue;
    for (const ScreeningRow::Result& wanted : row.results)
      if (Matches(wanted, e)) {
        results.emplace_back(&e, wanted.interval);
        break;
      }
  }
  std::stable_sort(results.begin(), results.end(),
                   [](const auto& a, const auto& b) { return a.first->date < b.first->date; });
  Date next = band_start;
  if (!results.empty()) {
    const auto& [last, own] = results.back();
    r.supporting.push_back(last->reference);
    if (row.once) {
      next = band_end;
    } else {
      Span interval =
          own ? *own : row.intervals[std::min(results.size(), row.intervals.size()) - 1];
      next = std::max(band_start, Add(last->date, interval));
    }
  }
  r.earliest = r.due = next;
  if (row.grace) r.overdue = Add(next, *row.grace);
  if (*r.latest < in.today) {
    r.status = ReminderStatus::kClosed;
  } else if (*r.latest < next) {
    r.status = ReminderStatus::kComplete;  // nothing more due in the band
    r.earliest = r.due = r.overdue = std::nullopt;
  } else {
    r.status = OpenStatus(in, next, r.overdue);
    // Done for now, the next one beyond the horizon (once the band has started).
    if (r.status == ReminderStatus::kLater && !results.empty() && !(in.today < band_start))
      r.status = ReminderStatus::kComplete;
  }
  return r;
}

}  // namespace

std::vector<Reminder> ComputeReminders(const PreventionRules& rules, const ReminderInput& in) {
  std::vector<Reminder> out;
  // The rows that apply to this person, by series, in table order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CalendarRow*>> doses, campaigns;
  for (const CalendarRow& row : rules.calendar()) {
    if (!SexApplies(row.sex, in.sex) || !PersonConditionsHold(row.conditions, in)) continue;
    auto& group = row.campaign() ? campaigns[row.series] : doses[row.series];
    if (group.empty()) order.push_back((row.campaign() ? "c:" : "d:") + row.series);
    group.push_back(&row);
  }
  for (const std::string& key : order) {
    std::string series = key.substr(2);
    if (key[0] == 'd')
      VaccinationSeries(rules, in, series, doses[series], &out);
    else
      Campaign(rules, in, campaigns[series], &out);
  }
  for (const ScreeningRow& row : rules.screenings())
    if (SexApplies(row.sex, in.sex)) out.push_back(Screening(in, row));
  return out;
}

}  // namespace carnet::prevention
