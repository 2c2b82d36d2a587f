// The patient's agenda (issue 16) against the live gateway and PostgreSQL:
// Patient/[id]/$agenda as a searchset and as an iCalendar feed, parsed back with libical; the
// period and its bounds; the same access filter and audit as a search; a record the caller
// may not see answering as one that does not exist.
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <map>
#include <set>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";

struct ParsedEvent {
  std::string summary, description, location, status, start, end;
};

// The VEVENTs of an iCalendar text, by UID, read with libical (the reader a calendar app
// would use); fails the test when the text is not a VCALENDAR.
std::map<std::string, ParsedEvent> ParseCalendar(const std::string& text) {
  std::map<std::string, ParsedEvent> out;
  icalcomponent* cal = icalparser_parse_string(text.c_str());
  EXPECT_TRUE(cal && icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT) << text;
  if (!cal) return out;
  for (icalcomponent* e = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); e;
       e = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    ParsedEvent p;
    auto text_of = [&](const char* s) { return std::string(s ? s : ""); };
    p.summary = text_of(icalcomponent_get_summary(e));
    p.description = text_of(icalcomponent_get_description(e));
    p.location = text_of(icalcomponent_get_location(e));
    p.status = text_of(icalproperty_status_to_string(icalcomponent_get_status(e)));
    p.start = text_of(icaltime_as_ical_string(icalcomponent_get_dtstart(e)));
    p.end = text_of(icaltime_as_ical_string(icalcomponent_get_dtend(e)));
    out[text_of(icalcomponent_get_uid(e))] = p;
  }
  icalcomponent_free(cal);
  return out;
}

class AgendaTest : public SharedGatewayTest {
 protected:
  static void SetUpTestSuite() {
    SharedGatewayTest::SetUpTestSuite();
    if (HasFatalFailure()) return;
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "ag-p-" + run_;
    q_ = "ag-q-" + run_;
    p_ins_ = "1" + std::to_string(base_ins + 3);
    q_ins_ = "2" + std::to_string(base_ins + 4);
    rpps_ = "8100" + std::to_string(10000000 + std::stoll(RandomHex(5), nullptr, 16) % 9000000);
    for (auto [id, ins] : {std::pair{p_, p_ins_}, std::pair{q_, q_ins_}})
      Must(As(Operator(), "PUT", "Patient/" + id,
              R"({"resourceType":"Patient","id":")" + id + R"(",)" + kDiv +
                  R"(,"identifier":[{"system":")" + kInsSystem + R"(","value":")" + ins +
                  R"("}],"birthDate":"1958-03-02"})"),
           201, "record " + id);
    // The doctor follows P, not Q.
    Must(As(PatientP(), "POST", "CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                p_ + R"("},"participant":[{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + rpps_ + R"("}}}]})"),
         201, "care team of P");
    Must(As(Operator(), "PUT", "Location/cab-" + run_,
            R"({"resourceType":"Location","id":"cab-)" + run_ +
                R"(","name":"Cabinet du Dr Lefèvre, Lyon"})"),
         201, "location");
    // The patient records three appointments; the doctor books one; Q has one of their own.
    Appointment(PatientP(), p_, "cardio", "booked", "2027-01-12T09:30:00+01:00",
                "2027-01-12T10:00:00+01:00",
                // What a hostile or careless text would do to a hand-written feed: commas,
                // semicolons, a line break followed by what looks like a new event.
                "Contrôle tension, bilan; à jeun\r\nBEGIN:VEVENT\r\nSUMMARY:faux",
                R"({"actor":{"reference":"Location/cab-)" + run_ +
                    R"(","display":"Cabinet du Dr Lefèvre, Lyon"},"status":"accepted"},
                    {"actor":{"display":"Dr Lefèvre"},"status":"accepted"})");
    Appointment(PatientP(), p_, "dentist", "cancelled", "2027-02-03T14:00:00Z",
                "2027-02-03T14:30:00Z", "Dentiste", "");
    Appointment(PatientP(), p_, "far", "booked", "2029-06-01T08:00:00Z", "2029-06-01T08:30:00Z",
                "Bien plus tard", "");
    Appointment(Doctor(), p_, "booked-by-doctor", "proposed", "2027-01-20T16:00:00Z",
                "2027-01-20T16:20:00Z", "Consultation de suivi", "");
    Appointment(PatientQ(), q_, "q", "booked", "2027-01-15T10:00:00Z", "2027-01-15T10:30:00Z",
                "Rendez-vous de Q", "");
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string PatientP() {
    return Token({"--actor", "patient", "--id", "pat-ag", "--patient", p_ins_});
  }
  static std::string PatientQ() {
    return Token({"--actor", "patient", "--id", "pat-ag-q", "--patient", q_ins_});
  }
  static std::string Doctor() {
    return Token(
        {"--actor", "professional", "--id", rpps_, "--profession", "10", "--org", "org-ag"});
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "", std::vector<std::string> headers = {}) {
    static HttpClient client;
    headers.push_back("Authorization: Bearer " + token);
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  // The server's id of the appointment created as `name`.
  static std::string Id(const std::string& name) { return ids_[name]; }

  static void Appointment(const std::string& token, const std::string& patient,
                          const std::string& name, const std::string& status,
                          const std::string& start, const std::string& end,
                          const std::string& description, const std::string& participants) {
    JsonValue a = JsonValue::Object();
    a.Set("resourceType", JsonValue::String("Appointment"));
    a.Set("status", JsonValue::String(status));
    a.Set("description", JsonValue::String(description));
    a.Set("start", JsonValue::String(start));
    a.Set("end", JsonValue::String(end));
    std::string json = WriteJson(a);
    json.pop_back();
    json += R"(,"participant":[{"actor":{"reference":"Patient/)" + patient +
            R"("},"status":"accepted"})" + (participants.empty() ? "" : "," + participants) + "]}";
    auto r = As(token, "POST", "Appointment", json);
    Must(r, 201, "appointment " + name);
    std::string location = r.headers["location"];
    size_t at = location.find("Appointment/");
    ASSERT_NE(at, std::string::npos) << location;
    ids_[name] = location.substr(at + 12, location.find('/', at + 12) - at - 12);
  }

  static std::set<std::string> Ids(const HttpResult& r) {
    std::set<std::string> out;
    auto json = ParseJson(r.body);
    EXPECT_TRUE(json.ok()) << r.body.substr(0, 300);
    if (!json.ok()) return out;
    if (const JsonValue* entries = json->Find("entry"))
      for (const JsonValue& e : entries->items())
        if (e.Find("resource")->GetString("resourceType") == "Appointment")
          out.insert(e.Find("resource")->GetString("id"));
    return out;
  }

  static std::string run_, p_, q_, p_ins_, q_ins_, rpps_;
  static std::map<std::string, std::string> ids_;
};
std::map<std::string, std::string> AgendaTest::ids_;
std::string AgendaTest::run_, AgendaTest::p_, AgendaTest::q_, AgendaTest::p_ins_,
    AgendaTest::q_ins_, AgendaTest::rpps_;

TEST_F(AgendaTest, ThePeriodsAppointmentsAsASearchset) {
  auto r = As(PatientP(), "GET", "Patient/" + p_ + "/$agenda?start=2027-01-01&end=2027-03-31");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(Ids(r), (std::set<std::string>{Id("cardio"), Id("dentist"), Id("booked-by-doctor")}));
  // The doctor of P's care team sees the same; the period's bounds hold.
  auto doctor = As(Doctor(), "GET", "Patient/" + p_ + "/$agenda?start=2027-01-13&end=2029-12-31");
  ASSERT_EQ(doctor.status, 200) << doctor.body.substr(0, 500);
  EXPECT_EQ(Ids(doctor), (std::set<std::string>{Id("dentist"), Id("booked-by-doctor"), Id("far")}));
}

TEST_F(AgendaTest, TheFeedIsICalendarThatLibicalReadsBack) {
  for (auto [query, headers] :
       {std::pair<std::string, std::vector<std::string>>{"&_format=ics", {}},
        {"", {"Accept: text/calendar, application/fhir+json;q=0.5"}}}) {
    auto r = As(PatientP(), "GET",
                "Patient/" + p_ + "/$agenda?start=2027-01-01&end=2027-03-31" + query, "", headers);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    EXPECT_EQ(r.headers["content-type"], "text/calendar; charset=utf-8");
    auto events = ParseCalendar(r.body);
    std::erase_if(events, [](const auto& e) { return e.first.rfind("Appointment-", 0) != 0; });
    ASSERT_EQ(events.size(), 3u) << r.body;
    const ParsedEvent& cardio = events["Appointment-" + Id("cardio") + "@carnet"];
    // The text comes back (a line break is "\n" in iCalendar text), and the would-be event
    // inside it stayed text.
    EXPECT_EQ(cardio.summary, "Contrôle tension, bilan; à jeun\nBEGIN:VEVENT\nSUMMARY:faux")
        << r.body;
    EXPECT_EQ(cardio.location, "Cabinet du Dr Lefèvre, Lyon");
    EXPECT_NE(cardio.description.find("Dr Lefèvre"), std::string::npos) << cardio.description;
    EXPECT_EQ(cardio.start, "20270112T083000Z");  // 09:30 in Paris in winter, in UTC
    EXPECT_EQ(cardio.end, "20270112T090000Z");
    EXPECT_EQ(cardio.status, "CONFIRMED");
    EXPECT_EQ(events["Appointment-" + Id("dentist") + "@carnet"].status, "CANCELLED");
    EXPECT_EQ(events["Appointment-" + Id("booked-by-doctor") + "@carnet"].status, "TENTATIVE");
    EXPECT_EQ(events.count("Appointment-" + Id("far") + "@carnet"), 0u);
  }
}

TEST_F(AgendaTest, ARecordOneMayNotSeeAnswersAsOneThatDoesNotExist) {
  auto missing = As(PatientP(), "GET", "Patient/ag-none-" + run_ + "/$agenda?_format=ics");
  EXPECT_EQ(missing.status, 404) << missing.body.substr(0, 300);
  for (const auto& [who, token] :
       {std::pair<std::string, std::string>{"patient P", PatientP()}, {"P's doctor", Doctor()}}) {
    for (const char* form : {"", "?_format=ics"}) {
      auto r = As(token, "GET", "Patient/" + q_ + "/$agenda" + form);
      EXPECT_EQ(r.status, 404) << who << form << ": " << r.body.substr(0, 300);
      EXPECT_EQ(r.body.find("Rendez-vous de Q"), std::string::npos) << who;
      std::string expected = missing.body;
      size_t at = expected.find("ag-none-" + run_);
      ASSERT_NE(at, std::string::npos) << missing.body;
      expected.replace(at, ("ag-none-" + run_).size(), q_);
      EXPECT_EQ(r.body, expected) << who;
    }
  }
  // Q reads their own.
  auto own = As(PatientQ(), "GET", "Patient/" + q_ + "/$agenda?start=2027-01-01&end=2027-01-31");
  EXPECT_EQ(Ids(own), std::set<std::string>{Id("q")});
}

TEST_F(AgendaTest, ThePeriodIsCheckedAndTheReadAudited) {
  struct Bad {
    std::string query, words;
  };
  for (const Bad& b :
       {Bad{"start=2027-13-01", "date"}, Bad{"start=demain", "date"},
        Bad{"start=2027-02-01&end=2027-01-01", "before start"},
        Bad{"start=2027-01-01&end=2031-01-01", "three years"}, Bad{"patient=x", "start and end"}}) {
    auto r = As(PatientP(), "GET", "Patient/" + p_ + "/$agenda?" + b.query);
    EXPECT_EQ(r.status, 400) << b.query << ": " << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << b.query;
    EXPECT_NE(r.body.find(b.words), std::string::npos) << b.query << ": " << r.body;
  }
  Must(As(Doctor(), "GET", "Patient/" + p_ + "/$agenda?start=2027-01-01&end=2027-01-31"), 200,
       "doctor's agenda read");
  auto history = As(PatientP(), "GET", "AuditEvent?patient=" + p_ + "&agent=" + rpps_);
  ASSERT_EQ(history.status, 200) << history.body.substr(0, 300);
  EXPECT_NE(history.body.find("$agenda"), std::string::npos) << history.body.substr(0, 2000);
}

// A phone calendar cannot send a Bearer token: the patient asks for a link whose secret is the
// credential. It reads the agenda only, as the patient, audited; a new link or a revocation
// ends the previous one; the secret never reaches the log.
TEST_F(AgendaTest, ACalendarLinkReadsTheAgendaUntilRevoked) {
  auto issue = [&](const std::string& token, const std::string& patient) {
    return As(token, "POST", "Patient/" + patient + "/$agenda-link");
  };
  auto link_of = [&](const HttpResult& r) {
    auto json = ParseJson(r.body);
    EXPECT_TRUE(json.ok()) << r.body;
    return json.ok() ? json->Find("parameter")->items()[0].GetString("valueUrl") : std::string();
  };
  auto first = issue(PatientP(), p_);
  ASSERT_EQ(first.status, 200) << first.body;
  std::string url = link_of(first);
  ASSERT_EQ(url.rfind(gateway_->base_url() + "/agenda/", 0), 0u) << url;
  std::string secret = url.substr(url.rfind('/') + 1);
  secret.resize(secret.size() - 4);
  EXPECT_EQ(secret.size(), 43u) << url;

  HttpClient calendar;  // no Authorization header at all
  calendar.SetBearer("");
  auto feed = calendar.Get(url);
  ASSERT_EQ(feed.status, 200) << feed.body.substr(0, 300);
  EXPECT_EQ(feed.headers["content-type"], "text/calendar; charset=utf-8");
  auto events = ParseCalendar(feed.body);
  EXPECT_EQ(events.count("Appointment-" + Id("cardio") + "@carnet"), 1u) << feed.body;
  EXPECT_EQ(calendar.Request("POST", url).status, 405);
  EXPECT_EQ(calendar.Get(gateway_->base_url() + "/agenda/" + std::string(43, 'A') + ".ics").status,
            404);
  // Audited in the patient's access history, and never written to the log.
  auto history = As(PatientP(), "GET", "AuditEvent?patient=" + p_ + "&_count=5");
  EXPECT_NE(history.body.find("$agenda"), std::string::npos);
  EXPECT_EQ(gateway_->Log().find(secret), std::string::npos);

  // A second link ends the first; a revocation ends the second.
  std::string second = link_of(issue(PatientP(), p_));
  EXPECT_NE(second, url);
  EXPECT_EQ(calendar.Get(url).status, 404);
  EXPECT_EQ(calendar.Get(second).status, 200);
  auto revoke =
      As(PatientP(), "POST", "Patient/" + p_ + "/$agenda-link",
         R"({"resourceType":"Parameters","parameter":[{"name":"revoke","valueBoolean":true}]})");
  EXPECT_EQ(revoke.status, 200) << revoke.body;
  EXPECT_EQ(calendar.Get(second).status, 404);

  // Only the patient's side asks for one; a record one may not see answers as a missing one.
  EXPECT_EQ(issue(Doctor(), p_).status, 403);
  auto hidden = issue(PatientP(), q_);
  auto missing = issue(PatientP(), "ag-none-" + run_);
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(missing.status, 404) << missing.body;
  auto bad =
      As(PatientP(), "POST", "Patient/" + p_ + "/$agenda-link",
         R"({"resourceType":"Parameters","parameter":[{"name":"revoke","valueString":"yes"}]})");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// The reminders the French calendars give the patient (born in 1958: the 65-year boosters,
// the influenza campaign, colorectal screening...) are in the agenda: in the feed as all-day
// events, in the searchset as the resources $reminders answers.
TEST_F(AgendaTest, TheRemindersAreInTheAgenda) {
  auto feed = As(PatientP(), "GET", "Patient/" + p_ + "/$agenda?_format=ics");
  ASSERT_EQ(feed.status, 200) << feed.body.substr(0, 300);
  int vaccinations = 0, screenings = 0;
  for (const auto& [uid, e] : ParseCalendar(feed.body)) {
    if (uid.rfind("reminder-", 0) != 0) continue;
    if (e.summary.rfind("Vaccination : ", 0) == 0) ++vaccinations;
    // In French (prevention/data/*.tsv label_fr): a screening's label says what it is.
    if (e.summary.rfind("Dépistage du cancer", 0) == 0) ++screenings;
    for (const char* english : {"screening", "booster", "dose at", "every autumn"})
      EXPECT_EQ(e.summary.find(english), std::string::npos) << uid << ": " << e.summary;
    EXPECT_EQ(e.start.size(), 8u) << uid << ": an all-day event (DATE), not " << e.start;
  }
  EXPECT_GT(vaccinations, 0) << feed.body;
  EXPECT_GT(screenings, 0) << feed.body;
  auto json = As(PatientP(), "GET", "Patient/" + p_ + "/$agenda");
  ASSERT_EQ(json.status, 200);
  EXPECT_NE(json.body.find(R"("resourceType":"ImmunizationRecommendation")"), std::string::npos);
  EXPECT_NE(json.body.find(R"("mode":"include")"), std::string::npos);
}

TEST_F(AgendaTest, TheCapabilityStatementDeclaresTheOperation) {
  auto r = As(PatientP(), "GET", "metadata");
  ASSERT_EQ(r.status, 200);
  auto cs = ParseJson(r.body);
  ASSERT_TRUE(cs.ok());
  bool declared = false;
  const std::string kPath = "/fhir/OperationDefinition/Patient-agenda";
  for (const JsonValue& res : cs->Find("rest")->items()[0].Find("resource")->items())
    if (res.GetString("type") == "Patient")
      for (const JsonValue& op : res.Find("operation")->items()) {
        std::string def = op.GetString("definition");
        if (op.GetString("name") == "agenda" && def.size() > kPath.size() &&
            def.substr(def.size() - kPath.size()) == kPath)
          declared = true;
      }
  EXPECT_TRUE(declared);
  auto od = As(PatientP(), "GET", "OperationDefinition/Patient-agenda");
  ASSERT_EQ(od.status, 200) << od.body;
  auto parsed = ParseJson(od.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->GetString("code"), "agenda");
}

}  // namespace
}  // namespace carnet::testing
