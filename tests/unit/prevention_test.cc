// The reminders engine (prevention/) against the cases of tests/data/prevention/cases.tsv: for
// each birth date, sex, day and history, every reminder answered (complete, due, overdue,
// upcoming) with its dates, as written out in the file; every row of the calendar and of the
// screening programmes must be answered by at least one case. CARNET_PREVENTION_REWRITE=1
// rewrites the expected rows from what the engine answers (then read the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/tsv.h"
#include "model/validator.h"
#include "prevention/fhir_reminders.h"
#include "prevention/reminders.h"

namespace carnet::prevention {
namespace {

const char* kCasesFile = CARNET_SOURCE_DIR "/tests/data/prevention/cases.tsv";

struct Case {
  std::string name;
  size_t line = 0;
  ReminderInput input;
  std::vector<std::string> expected;  // the expect rows, as "cell\tcell..."
};

std::string Opt(const std::optional<Date>& d) { return d ? FormatDate(*d) : "-"; }

// A reminder as an expect row: series, dose (or season, or '-'), status, due, overdue, latest,
// supporting.
std::string Row(const Reminder& r) {
  std::string dose = r.kind == Reminder::Kind::kScreening ? "-"
                     : r.dose                             ? std::to_string(r.dose)
                                                          : r.season;
  std::string supporting;
  for (const std::string& s : r.supporting) supporting += (supporting.empty() ? "" : ",") + s;
  return r.series + "\t" + dose + "\t" + StatusName(r.status) + "\t" + Opt(r.due) + "\t" +
         Opt(r.overdue) + "\t" + Opt(r.latest) + "\t" + (supporting.empty() ? "-" : supporting);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Date MustDate(const std::string& s) {
  auto d = ParseDate(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or(Date{});
}

std::vector<Case> ReadCases(const std::string& text) {
  std::vector<Case> cases;
  for (const TsvRow& row : ReadTsv(text)) {
    const auto& c = row.cells;
    std::string where = "cases.tsv:" + std::to_string(row.line);
    if (c[0] == "case") {
      EXPECT_GE(c.size(), 5u) << where;
      if (c.size() < 5) continue;
      Case k;
      k.name = c[1];
      k.line = row.line;
      k.input.birth = MustDate(c[2]);
      k.input.sex = c[3] == "F" ? Sex::kFemale : c[3] == "M" ? Sex::kMale : Sex::kUnknown;
      k.input.today = MustDate(c[4]);
      for (size_t i = 5; i < c.size(); ++i)
        if (c[i].rfind("risk=", 0) == 0) k.input.risks.insert(c[i].substr(5));
      cases.push_back(std::move(k));
    } else if (c[0] == "vaccination" || c[0] == "result") {
      EXPECT_TRUE(!cases.empty() && c.size() == 4) << where;
      if (cases.empty() || c.size() != 4) continue;
      RecordedEvent e;
      e.reference = c[1];
      size_t bar = c[2].rfind('|');
      e.codes.push_back({c[2].substr(0, bar), c[2].substr(bar + 1)});
      e.date = MustDate(c[3]);
      (c[0] == "vaccination" ? cases.back().input.vaccinations : cases.back().input.screenings)
          .push_back(e);
    } else if (c[0] == "expect") {
      EXPECT_TRUE(!cases.empty() && c.size() == 8) << where;
      if (cases.empty()) continue;
      std::string joined;
      for (size_t i = 1; i < c.size(); ++i) joined += (i > 1 ? "\t" : "") + c[i];
      cases.back().expected.push_back(joined);
    } else {
      ADD_FAILURE() << where << ": unknown row kind " << c[0];
    }
  }
  return cases;
}

std::vector<std::string> Answered(const std::vector<Reminder>& reminders) {
  std::vector<std::string> out;
  for (const Reminder& r : reminders)
    if (prevention::Answered(r.status)) out.push_back(Row(r));
  return out;
}

TEST(PreventionRulesTest, TheTablesCompiledInParse) {
  const PreventionRules& rules = PreventionRules::Builtin();
  EXPECT_GE(rules.calendar().size(), 50u);
  EXPECT_EQ(rules.screenings().size(), 8u);
  for (const CalendarRow& row : rules.calendar()) {
    EXPECT_FALSE(row.source.empty()) << row.line;
    EXPECT_EQ(row.year, 2025) << row.line;
  }
  const auto* hexavalent = rules.AntigensOf("http://hl7.org/fhir/sid/cvx", "146");
  ASSERT_NE(hexavalent, nullptr);
  EXPECT_EQ(std::set<std::string>(hexavalent->begin(), hexavalent->end()),
            (std::set<std::string>{"diphtheria", "tetanus", "poliomyelitis", "pertussis", "hib",
                                   "hepatitis_b"}));
}

TEST(PreventionRulesTest, ABrokenRowIsNamed) {
  std::string antigens = "s\tc\tflu\tx\n";
  auto row = [](const std::string& cells) {
    return "flu\t1\tflu\tJ07BB02\t-\t*\t" + cells + "\t-\tlabel\tétiquette\tsource\t2025\n";
  };
  auto parse = [&](const std::string& calendar) {
    return PreventionRules::Parse(calendar, "", antigens, "t");
  };
  EXPECT_TRUE(parse(row("65y\t-\t-\t-\t-")).ok());
  auto bad_age = parse(row("65 years\t-\t-\t-\t-"));
  ASSERT_FALSE(bad_age.ok());
  EXPECT_NE(bad_age.status().message().find("t/vaccination_calendar.tsv:1: from '65 years'"),
            std::string::npos)
      << bad_age.status().message();
  auto unknown = PreventionRules::Parse(
      "x\t1\tmeasles\tJ07BD52\t-\t*\t1y\t-\t-\t-\t-\t-\tl\tl\ts\t2025\n", "", antigens);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("antigen measles"), std::string::npos);
  auto gap = parse(row("65y\t-\t-\t-\t-") +
                   "flu\t3\tflu\tJ07BB02\t-\t*\t70y\t-\t-\t-\t-\t-\tl\t-\ts\t2025\n");
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("dose 3 of flu follows dose 1"), std::string::npos);
  auto bad_screening =
      PreventionRules::Parse("", "p\tF\t50y\t75y\t2y\t6m\tnocode\ts|c\tl\tl\ts\t2025\n", antigens);
  ASSERT_FALSE(bad_screening.ok());
  EXPECT_NE(bad_screening.status().message().find("screening_programmes.tsv:1: service"),
            std::string::npos);
}

TEST(PreventionDatesTest, BirthdaysOnCalendars) {
  EXPECT_EQ(FormatDate(Add(MustDate("2024-01-31"), Span{0, 1, 0})), "2024-02-29");
  EXPECT_EQ(FormatDate(Add(MustDate("2024-02-29"), Span{1, 0, 0})), "2025-02-28");
  EXPECT_EQ(FormatDate(Add(MustDate("2026-11-20"), Span{0, 0, 42})), "2027-01-01");
  EXPECT_EQ(FormatDate(Add(MustDate("2026-12-05"), Span{0, -1, 0})), "2026-11-05");
  EXPECT_EQ(FormatDate(*ParseDate("1975")), "1975-01-01");
  EXPECT_EQ(FormatDate(*ParseDate("2009-09-28T08:49:14Z")), "2009-09-28");
  EXPECT_FALSE(ParseDate("2026-02-30").has_value());
  EXPECT_EQ(ParseSpan("6w"), (Span{0, 0, 42}));
  EXPECT_FALSE(ParseSpan("y").has_value());
}

TEST(PreventionCasesTest, EveryCaseAnswersItsExpectedReminders) {
  std::string text = ReadAll(kCasesFile);
  std::vector<Case> cases = ReadCases(text);
  ASSERT_GE(cases.size(), 15u);
  const PreventionRules& rules = PreventionRules::Builtin();
  std::set<size_t> calendar_answered, screening_answered;
  std::map<std::string, std::vector<std::string>> actual_by_case;
  for (const Case& k : cases) {
    SCOPED_TRACE("case " + k.name + " (cases.tsv:" + std::to_string(k.line) + ")");
    std::vector<Reminder> reminders = ComputeReminders(rules, k.input);
    for (const Reminder& r : reminders) {
      if (!prevention::Answered(r.status)) continue;
      if (r.dose_row) calendar_answered.insert(r.dose_row->line);
      if (r.screening_row) screening_answered.insert(r.screening_row->line);
    }
    std::vector<std::string> actual = Answered(reminders);
    actual_by_case[k.name] = actual;
    std::string a, e;
    for (const auto& s : actual) a += s + "\n";
    for (const auto& s : k.expected) e += s + "\n";
    EXPECT_EQ(a, e);
  }
  for (const CalendarRow& row : rules.calendar())
    EXPECT_TRUE(calendar_answered.count(row.line))
        << "vaccination_calendar.tsv:" << row.line << " (" << row.label
        << ") is answered by no case";
  for (const ScreeningRow& row : rules.screenings())
    EXPECT_TRUE(screening_answered.count(row.line))
        << "screening_programmes.tsv:" << row.line << " (" << row.label
        << ") is answered by no case";
  // Every reminder has its French label, the one the patient reads (the agenda, the page).
  for (const CalendarRow& row : rules.calendar())
    EXPECT_TRUE(!row.label_fr.empty() && row.label_fr != row.label)
        << "vaccination_calendar.tsv:" << row.line << " has no French label";
  for (const ScreeningRow& row : rules.screenings())
    EXPECT_TRUE(!row.label_fr.empty() && row.label_fr != row.label)
        << "screening_programmes.tsv:" << row.line << " has no French label";

  if (std::getenv("CARNET_PREVENTION_REWRITE")) {
    std::string out;
    std::string current;
    std::istringstream lines(text);
    std::string line;
    auto flush = [&]() {
      if (current.empty()) return;
      for (const auto& s : actual_by_case[current]) out += "expect\t" + s + "\n";
      current.clear();
    };
    while (std::getline(lines, line)) {
      if (line.rfind("expect\t", 0) == 0) continue;
      if (line.rfind("case\t", 0) == 0) {
        flush();
        current = line.substr(5, line.find('\t', 5) - 5);
      } else if ((line.empty() || line[0] == '#') && !current.empty()) {
        flush();
      }
      out += line + "\n";
    }
    flush();
    std::ofstream(kCasesFile) << out;
  }
}

// What $reminders answers passes the R4 validator (no error; warnings such as a missing
// narrative would not block, but there are none to fix either).
TEST(PreventionFhirTest, TheRecommendationAndTheRequestsAreValidR4) {
  ReminderInput in;
  in.birth = MustDate("1960-03-15");
  in.sex = Sex::kFemale;
  in.today = MustDate("2026-12-05");
  in.vaccinations.push_back(
      {"Immunization/flu", {{"http://hl7.org/fhir/sid/cvx", "141"}}, MustDate("2026-10-20")});
  in.vaccinations.push_back(
      {"Immunization/dtp", {{"http://www.whocc.no/atc", "J07CA01"}}, MustDate("2005-06-01")});
  in.screenings.push_back(
      {"Observation/mammo", {{"http://loinc.org", "24606-6"}}, MustDate("2025-02-01")});
  std::vector<Reminder> reminders = ComputeReminders(PreventionRules::Builtin(), in);
  auto ir = ImmunizationRecommendationOf("p1", in.today, reminders);
  ASSERT_TRUE(ir.has_value());
  std::vector<JsonValue> resources = {*ir};
  for (JsonValue& sr : ScreeningRequestsOf("p1", in.today, reminders))
    resources.push_back(std::move(sr));
  ASSERT_GE(resources.size(), 3u);
  for (const JsonValue& r : resources) {
    for (const model::ValidationIssue& i : model::ValidateResource(r))
      EXPECT_NE(i.severity, "error")
          << r.GetString("resourceType") << " " << i.expression << ": " << i.message;
  }
  // The dose at 45 years was given: complete, citing its Immunization.
  bool cited = false;
  for (const JsonValue& rec : ir->Find("recommendation")->items())
    if (const JsonValue* s = rec.Find("supportingImmunization"))
      cited = cited || s->items()[0].GetString("reference") == "Immunization/dtp";
  EXPECT_TRUE(cited);
}

TEST(PreventionFhirTest, RecordedResourcesBecomeEvents) {
  auto imm = ParseJson(R"({"resourceType":"Immunization","id":"i1","status":"completed",
    "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},
    "occurrenceDateTime":"2026-02-03T10:00:00+01:00","patient":{"reference":"Patient/p"}})");
  ASSERT_TRUE(imm.ok());
  auto e = VaccinationOf(*imm);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->reference, "Immunization/i1");
  EXPECT_EQ(FormatDate(e->date), "2026-02-03");
  auto not_done = ParseJson(R"({"resourceType":"Immunization","id":"i2","status":"not-done",
    "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},
    "occurrenceDateTime":"2026-02-03","patient":{"reference":"Patient/p"}})");
  EXPECT_FALSE(VaccinationOf(*not_done).has_value());
  auto proc = ParseJson(R"({"resourceType":"Procedure","id":"c1","status":"completed",
    "code":{"coding":[{"system":"http://snomed.info/sct","code":"73761001"}]},
    "performedPeriod":{"start":"2024-05-06"},"subject":{"reference":"Patient/p"}})");
  auto r = ScreeningResultOf(*proc);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(FormatDate(r->date), "2024-05-06");
  auto preliminary = ParseJson(R"({"resourceType":"Observation","id":"o1","status":"preliminary",
    "code":{"coding":[{"system":"http://loinc.org","code":"24606-6"}]},"effectiveDateTime":"2024-05-06"})");
  EXPECT_FALSE(ScreeningResultOf(*preliminary).has_value());
}

}  // namespace
}  // namespace carnet::prevention
