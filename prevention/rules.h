// The rules of prevention as data (issue 16): the French vaccination calendar, the organised
// screening programmes and prevention check-ups, and which antigens each vaccine code covers.
// Three tab-separated files of prevention/data/ (their headers describe the columns), compiled
// in and replaceable as a directory (--prevention-data-dir) without a code change: the engine
// (prevention/reminders.h) only reads these rows.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "prevention/dates.h"

namespace carnet::prevention {

// A row's condition: every one must hold for the row to apply to a person.
struct Condition {
  enum class Kind { kBornFrom, kBornBefore, kStartedBefore, kStartedFrom, kStartedWith, kRisk };
  Kind kind = Kind::kRisk;
  Date date;         // born_from, born_before
  Span age;          // started_before, started_from
  std::string name;  // started_with: an antigen; risk: a risk factor
};

// One dose of a vaccination series (or a yearly campaign) of vaccination_calendar.tsv.
struct CalendarRow {
  size_t line = 0;  // in its file: names the rule in messages and in the tests' coverage
  std::string series;
  int dose = 0;  // 0: a yearly campaign
  std::vector<std::string> antigens;
  std::string vaccine;  // WHO ATC code
  std::string disease;  // SNOMED CT code, or empty
  char sex = '*';       // 'F', 'M' or '*'
  std::optional<Span> from, to, until, interval_min, interval_max, every;
  // A campaign: the season runs from (start_month, start_day) to (end_month, end_day), the end
  // falling in the next year when it comes before the start.
  int start_month = 0, start_day = 0, end_month = 0, end_day = 0;
  std::vector<Condition> conditions;
  std::string label;     // English
  std::string label_fr;  // French: what the patient reads
  std::string source;
  int year = 0;

  bool campaign() const { return dose == 0; }
};

struct Code {
  std::string system, code;
};

// One programme (or age band) of screening_programmes.tsv.
struct ScreeningRow {
  size_t line = 0;
  std::string programme;
  char sex = '*';
  Span from, to;
  std::vector<Span> intervals;  // after the 1st result, the 2nd... (the last one repeats)
  bool once = false;            // one result in the band is enough
  std::optional<Span> grace;
  Code service;
  struct Result {
    Code code;
    std::optional<Span> interval;  // this result's own interval
  };
  std::vector<Result> results;
  std::string label;     // English
  std::string label_fr;  // French: what the patient reads
  std::string source;
  int year = 0;
};

class PreventionRules {
 public:
  // Parses the three tables; `origin` prefixes error messages ("dir/file:line: ..."). kInvalid on
  // any malformed row, unknown antigen, or series whose doses are not numbered 1, 2, ...
  static Result<PreventionRules> Parse(std::string_view calendar, std::string_view screening,
                                       std::string_view antigens, std::string_view origin = "");
  // vaccination_calendar.tsv, screening_programmes.tsv and vaccine_antigens.tsv of `dir`.
  static Result<PreventionRules> LoadDir(const std::string& dir);
  // The tables of prevention/data/ compiled into the binary.
  static const PreventionRules& Builtin();

  const std::vector<CalendarRow>& calendar() const { return calendar_; }
  const std::vector<ScreeningRow>& screenings() const { return screenings_; }
  // The antigens a vaccine code covers; nullptr when the code is not listed.
  const std::vector<std::string>* AntigensOf(std::string_view system, std::string_view code) const;

 private:
  std::vector<CalendarRow> calendar_;
  std::vector<ScreeningRow> screenings_;
  std::map<std::string, std::vector<std::string>, std::less<>> antigens_;  // "system|code"
};

}  // namespace carnet::prevention
