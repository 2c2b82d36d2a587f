#include "prevention/rules.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "base/tsv.h"

namespace carnet::prevention {

// Defined in the files generated from prevention/data/ by cmake/embed_text.cmake.
const char* EmbeddedVaccinationCalendar();
const char* EmbeddedScreeningProgrammes();
const char* EmbeddedVaccineAntigens();

namespace {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.emplace_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

// Reads one table's cells, naming the place of any problem.
class RowReader {
 public:
  RowReader(std::string where, const TsvRow& row) : where_(std::move(where)), row_(row) {}
  const std::string& where() const { return where_; }
  Status Error(const std::string& what) const { return Invalid(where_ + ": " + what); }

  std::optional<Span> OptionalSpan(size_t i, const char* column, Status* st) const {
    const std::string& v = row_.cells[i];
    if (v == "-") return std::nullopt;
    auto s = ParseSpan(v);
    if (!s && st->ok())
      *st = Error(std::string(column) + " '" + v + "' is not an age (6w, 2m, 25y)");
    return s;
  }
  Span RequiredSpan(size_t i, const char* column, Status* st) const {
    auto s = OptionalSpan(i, column, st);
    if (!s && st->ok()) *st = Error(std::string(column) + " is required");
    return s.value_or(Span{});
  }
  char Sex(size_t i, Status* st) const {
    const std::string& v = row_.cells[i];
    if (v != "F" && v != "M" && v != "*" && st->ok()) *st = Error("sex is F, M or *");
    return v.empty() ? '*' : v[0];
  }
  int Year(size_t i, Status* st) const {
    const std::string& v = row_.cells[i];
    if (v.size() != 4 || v.find_first_not_of("0123456789") != std::string::npos) {
      if (st->ok()) *st = Error("year '" + v + "' is not a year");
      return 0;
    }
    return std::stoi(v);
  }

 private:
  std::string where_;
  const TsvRow& row_;
};

std::optional<Code> ParseCode(std::string_view text) {
  size_t bar = text.rfind('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 == text.size()) return std::nullopt;
  return Code{std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

Status ParseConditions(const RowReader& r, const std::string& cell,
                       const std::set<std::string>& antigens, std::vector<Condition>* out) {
  if (cell == "-") return Status::Ok();
  for (const std::string& item : Split(cell, ',')) {
    size_t colon = item.find(':');
    std::string kind = item.substr(0, colon),
                value = colon == std::string::npos ? "" : item.substr(colon + 1);
    Condition c;
    if (kind == "born_from" || kind == "born_before") {
      auto d = ParseDate(value);
      if (!d || value.size() != 10)
        return r.Error("condition " + item + ": expected a date YYYY-MM-DD");
      c.kind = kind == "born_from" ? Condition::Kind::kBornFrom : Condition::Kind::kBornBefore;
      c.date = *d;
    } else if (kind == "started_before" || kind == "started_from") {
      auto s = ParseSpan(value);
      if (!s) return r.Error("condition " + item + ": expected an age");
      c.kind = kind == "started_before" ? Condition::Kind::kStartedBefore
                                        : Condition::Kind::kStartedFrom;
      c.age = *s;
    } else if (kind == "started_with") {
      if (!antigens.count(value))
        return r.Error("condition " + item + ": unknown antigen " + value);
      c.kind = Condition::Kind::kStartedWith;
      c.name = value;
    } else if (kind == "risk" && !value.empty()) {
      c.kind = Condition::Kind::kRisk;
      c.name = value;
    } else {
      return r.Error("unknown condition " + item +
                     " (born_from, born_before, started_before, started_from, started_with, risk)");
    }
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

bool MonthDay(std::string_view s, int* month, int* day) {
  auto d = ParseDate("2000-" + std::string(s));
  if (!d || s.size() != 5) return false;
  *month = d->month;
  *day = d->day;
  return true;
}

Status ParseCalendarRow(const RowReader& r, const TsvRow& row,
                        const std::set<std::string>& antigens, CalendarRow* out) {
  const auto& c = row.cells;
  if (c.size() != 16) return r.Error("expected 16 columns, found " + std::to_string(c.size()));
  Status st;
  out->line = row.line;
  out->series = c[0];
  if (c[1] == "campaign") {
    out->dose = 0;
  } else if (c[1].find_first_not_of("0123456789") == std::string::npos && !c[1].empty() &&
             c[1] != "0") {
    out->dose = std::stoi(c[1]);
  } else {
    return r.Error("dose is a number from 1, or 'campaign'");
  }
  out->antigens = Split(c[2], ',');
  for (const std::string& a : out->antigens)
    if (!antigens.count(a))
      return r.Error("antigen " + a + " is covered by no vaccine of vaccine_antigens.tsv");
  out->vaccine = c[3];
  if (c[3] == "-") return r.Error("a vaccine (ATC code) is required");
  out->disease = c[4] == "-" ? "" : c[4];
  out->sex = r.Sex(5, &st);
  out->from = r.OptionalSpan(6, "from", &st);
  out->to = r.OptionalSpan(7, "to", &st);
  out->until = r.OptionalSpan(8, "until", &st);
  if (!st.ok()) return st;
  if (c[9] != "-") {
    auto parts = Split(c[9], '-');
    if (parts.size() > 2) return r.Error("interval is MIN or MIN-MAX");
    out->interval_min = ParseSpan(parts[0]);
    if (parts.size() == 2) out->interval_max = ParseSpan(parts[1]);
    if (!out->interval_min || (parts.size() == 2 && !out->interval_max))
      return r.Error("interval '" + c[9] + "' is not MIN or MIN-MAX (2m-6m)");
  }
  if (c[10].rfind("every:", 0) == 0) {
    out->every = ParseSpan(c[10].substr(6));
    if (!out->every) return r.Error("repeat every:SPAN (every:10y)");
  } else if (c[10].rfind("campaign:", 0) == 0) {
    auto parts = Split(c[10].substr(9), '/');
    if (parts.size() != 2 || !MonthDay(parts[0], &out->start_month, &out->start_day) ||
        !MonthDay(parts[1], &out->end_month, &out->end_day))
      return r.Error("repeat campaign:MM-DD/MM-DD");
  } else if (c[10] != "-") {
    return r.Error("repeat is every:SPAN, campaign:MM-DD/MM-DD or -");
  }
  if (out->campaign() != (out->start_month != 0))
    return r.Error("a campaign row has dose 'campaign' and repeat campaign:MM-DD/MM-DD");
  if (out->campaign() && !out->from) return r.Error("a campaign needs the age it starts from");
  if (!out->from && !out->interval_min) return r.Error("a dose needs an age (from) or an interval");
  CARNET_RETURN_IF_ERROR(ParseConditions(r, c[11], antigens, &out->conditions));
  out->label = c[12];
  out->label_fr = c[13] == "-" ? c[12] : c[13];
  out->source = c[14];
  out->year = r.Year(15, &st);
  return st;
}

Status ParseScreeningRow(const RowReader& r, const TsvRow& row, ScreeningRow* out) {
  const auto& c = row.cells;
  if (c.size() != 12) return r.Error("expected 12 columns, found " + std::to_string(c.size()));
  Status st;
  out->line = row.line;
  out->programme = c[0];
  out->sex = r.Sex(1, &st);
  out->from = r.RequiredSpan(2, "from", &st);
  out->to = r.RequiredSpan(3, "to", &st);
  if (c[4] == "once") {
    out->once = true;
  } else {
    for (const std::string& part : Split(c[4], ',')) {
      auto s = ParseSpan(part);
      if (!s) return r.Error("interval '" + c[4] + "' is SPAN[,SPAN...] or once");
      out->intervals.push_back(*s);
    }
  }
  out->grace = r.OptionalSpan(5, "grace", &st);
  auto service = ParseCode(c[6]);
  if (!service) return r.Error("service is system|code");
  out->service = *service;
  for (const std::string& item : Split(c[7], ',')) {
    ScreeningRow::Result res;
    std::string code = item;
    size_t at = item.rfind('@');
    if (at != std::string::npos) {
      res.interval = ParseSpan(item.substr(at + 1));
      if (!res.interval) return r.Error("result " + item + ": @interval is not a span");
      code = item.substr(0, at);
    }
    auto parsed = ParseCode(code);
    if (!parsed) return r.Error("result " + item + " is system|code[@interval]");
    res.code = *parsed;
    out->results.push_back(std::move(res));
  }
  out->label = c[8];
  out->label_fr = c[9] == "-" ? c[8] : c[9];
  out->source = c[10];
  out->year = r.Year(11, &st);
  return st;
}

std::string ReadFile(const std::string& path, Status* st) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (st->ok()) *st = Invalid("cannot read " + path);
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<PreventionRules> PreventionRules::Parse(std::string_view calendar,
                                               std::string_view screening,
                                               std::string_view antigens, std::string_view origin) {
  PreventionRules rules;
  std::string prefix = origin.empty() ? "" : std::string(origin) + "/";
  std::set<std::string> known_antigens;
  for (const TsvRow& row : ReadTsv(antigens)) {
    RowReader r(prefix + "vaccine_antigens.tsv:" + std::to_string(row.line), row);
    if (row.cells.size() != 4)
      return r.Error("expected 4 columns: system, code, antigens, display");
    if (row.cells[0].empty() || row.cells[1].empty())
      return r.Error("system and code are required");
    std::string key = row.cells[0] + "|" + row.cells[1];
    if (rules.antigens_.count(key)) return r.Error(key + " listed twice");
    auto list = Split(row.cells[2], ',');
    for (const std::string& a : list) {
      if (a.empty()) return r.Error("an empty antigen");
      known_antigens.insert(a);
    }
    rules.antigens_[key] = std::move(list);
  }
  for (const TsvRow& row : ReadTsv(calendar)) {
    RowReader r(prefix + "vaccination_calendar.tsv:" + std::to_string(row.line), row);
    CalendarRow parsed;
    CARNET_RETURN_IF_ERROR(ParseCalendarRow(r, row, known_antigens, &parsed));
    rules.calendar_.push_back(std::move(parsed));
  }
  // Each series numbers its doses 1, 2, ... (several rows may share a number when their
  // conditions differ), and keeps one set of antigens.
  std::map<std::string, std::pair<int, const CalendarRow*>> seen;
  for (const CalendarRow& row : rules.calendar_) {
    if (row.campaign()) continue;
    auto& [max_dose, first] = seen[row.series];
    if (first && first->antigens != row.antigens)
      return Invalid(prefix + "vaccination_calendar.tsv:" + std::to_string(row.line) + ": series " +
                     row.series + " covers other antigens than on line " +
                     std::to_string(first->line));
    if (row.dose > max_dose + 1)
      return Invalid(prefix + "vaccination_calendar.tsv:" + std::to_string(row.line) + ": dose " +
                     std::to_string(row.dose) + " of " + row.series + " follows dose " +
                     std::to_string(max_dose));
    if (!first) first = &row;
    max_dose = std::max(max_dose, row.dose);
  }
  for (const TsvRow& row : ReadTsv(screening)) {
    RowReader r(prefix + "screening_programmes.tsv:" + std::to_string(row.line), row);
    ScreeningRow parsed;
    CARNET_RETURN_IF_ERROR(ParseScreeningRow(r, row, &parsed));
    rules.screenings_.push_back(std::move(parsed));
  }
  return rules;
}

Result<PreventionRules> PreventionRules::LoadDir(const std::string& dir) {
  Status st;
  std::string calendar = ReadFile(dir + "/vaccination_calendar.tsv", &st);
  std::string screening = ReadFile(dir + "/screening_programmes.tsv", &st);
  std::string antigens = ReadFile(dir + "/vaccine_antigens.tsv", &st);
  if (!st.ok()) return st;
  return Parse(calendar, screening, antigens, dir);
}

const PreventionRules& PreventionRules::Builtin() {
  static const PreventionRules* rules = [] {
    auto parsed = Parse(EmbeddedVaccinationCalendar(), EmbeddedScreeningProgrammes(),
                        EmbeddedVaccineAntigens(), "prevention/data");
    // The tables compiled in are checked by the unit tests; a broken one is a build defect.
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
      std::abort();
    }
    return new PreventionRules(std::move(parsed).value());
  }();
  return *rules;
}

const std::vector<std::string>* PreventionRules::AntigensOf(std::string_view system,
                                                            std::string_view code) const {
  auto it = antigens_.find(std::string(system) + "|" + std::string(code));
  return it == antigens_.end() ? nullptr : &it->second;
}

}  // namespace carnet::prevention
