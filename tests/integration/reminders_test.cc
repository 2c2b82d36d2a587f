// Patient/[id]/$reminders against the live gateway and PostgreSQL (issue 16): Immunizations and
// a screening result recorded through FHIR become due / overdue / complete reminders; the
// patient, a guardian for a child, and a professional the policy lets in read them; a
// professional who may not see the record gets the answer of a record that does not exist; each
// call leaves an audit record.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";

class RemindersTest : public SharedGatewayTest {
 protected:
  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "", std::vector<std::string> headers = {kJson}) {
    client_.SetBearer(token);
    return client_.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }

  // A record with a national identity, a birth date and a gender; its Patient id.
  std::string NewRecord(const std::string& ins, const std::string& birth,
                        const std::string& gender) {
    auto r = As(operator_, "POST", "Patient",
                R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kInsSystem) +
                    R"(","value":")" + ins + R"("}],"birthDate":")" + birth + R"(","gender":")" +
                    gender + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto json = ParseJson(r.body);
    return json.ok() ? json->GetString("id") : "";
  }

  // Records an Immunization (by the hospital's system); its id.
  std::string Vaccinate(const std::string& pid, const std::string& system, const std::string& code,
                        const std::string& date, const std::string& status = "completed") {
    auto r = As(SuiteToken(), "POST", "Immunization",
                R"({"resourceType":"Immunization","status":")" + status + R"(",)" +
                    std::string(kDiv) + R"(,"vaccineCode":{"coding":[{"system":")" + system +
                    R"(","code":")" + code + R"("}]},)" + R"("patient":{"reference":"Patient/)" +
                    pid + R"("},"occurrenceDateTime":")" + date + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto json = ParseJson(r.body);
    return json.ok() ? json->GetString("id") : "";
  }

  // What $reminders answers, by "series dose" (the season for a campaign, "-" for a screening):
  // the status, and the supporting references.
  struct Answer {
    std::string status;
    std::vector<std::string> supporting;
    std::map<std::string, std::string> dates;  // LOINC -> date
  };
  static std::map<std::string, Answer> Reminders(const HttpResult& r) {
    std::map<std::string, Answer> out;
    JsonValue bundle = Parse(r.body);
    EXPECT_EQ(bundle.GetString("type"), "collection") << r.body.substr(0, 300);
    const JsonValue* entries = bundle.Find("entry");
    if (!entries) return out;
    for (const JsonValue& e : entries->items()) {
      const JsonValue* res = e.Find("resource");
      if (!res) continue;
      if (res->GetString("resourceType") == "ImmunizationRecommendation") {
        for (const JsonValue& rec : res->Find("recommendation")->items()) {
          std::string dose = rec.Find("doseNumberPositiveInt")
                                 ? rec.Find("doseNumberPositiveInt")->text()
                                 : rec.GetString("doseNumberString");
          Answer a;
          a.status = rec.Find("forecastStatus")->Find("coding")->items()[0].GetString("code");
          if (const JsonValue* s = rec.Find("supportingImmunization"))
            for (const JsonValue& ref : s->items())
              a.supporting.push_back(ref.GetString("reference"));
          if (const JsonValue* dc = rec.Find("dateCriterion"))
            for (const JsonValue& c : dc->items())
              a.dates[c.Find("code")->Find("coding")->items()[0].GetString("code")] =
                  c.GetString("value");
          out[rec.GetString("series") + " " + dose] = a;
        }
      } else if (res->GetString("resourceType") == "ServiceRequest") {
        Answer a;
        a.status = res->Find("extension")->items()[0].GetString("valueCode");
        if (const JsonValue* s = res->Find("supportingInfo"))
          for (const JsonValue& ref : s->items())
            a.supporting.push_back(ref.GetString("reference"));
        EXPECT_EQ(res->GetString("intent"), "proposal");
        std::string code = res->Find("code")->Find("coding")->items()[0].GetString("code");
        out[code + " -"] = a;
      }
    }
    return out;
  }

  long long AuditCount(const std::string& actor_id, const std::string& outcome) {
    auto conn = storage::Connection::Open(TestDbConninfo());
    if (!conn.ok()) return -1;
    auto r = (*conn)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND outcome = $2 AND content LIKE "
        "'%$reminders%'",
        {storage::SqlParam::Text(actor_id), storage::SqlParam::Text(outcome)});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  long long RefusalCount(const std::string& actor_id) {
    auto conn = storage::Connection::Open(TestDbConninfo());
    if (!conn.ok()) return -1;
    auto r = (*conn)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND outcome = '4'",
        {storage::SqlParam::Text(actor_id)});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  std::string NewIns() {
    return "2" + std::to_string(600000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10);
  }

  HttpClient client_;
  std::string operator_ = Token({"--actor", "operator", "--id", "ops-rem"});
  std::string run_ = RandomHex(4);
};

TEST_F(RemindersTest, ThePatientSeesDueOverdueAndComplete) {
  std::string ins = NewIns();
  std::string pid = NewRecord(ins, "1961-09-15", "male");
  std::string dtp45 = Vaccinate(pid, "http://www.whocc.no/atc", "J07CA01", "2006-10-01");
  std::string flu =
      Vaccinate(pid, "http://hl7.org/fhir/sid/cvx", "141", "2026-10-20T10:30:00+02:00");
  Vaccinate(pid, "http://www.whocc.no/atc", "J07AL02", "2026-10-20", "not-done");  // ignored
  auto fit = As(SuiteToken(), "POST", "Observation",
                R"({"resourceType":"Observation","status":"final",)" + std::string(kDiv) +
                    R"(,"code":{"coding":[{"system":"http://loinc.org","code":"29771-3"}]},)"
                    R"("subject":{"reference":"Patient/)" +
                    pid +
                    R"("},"effectiveDateTime":"2024-01-10",)"
                    R"("valueCodeableConcept":{"text":"negative"}})");
  ASSERT_EQ(fit.status, 201) << fit.body;
  std::string fit_id = Parse(fit.body).GetString("id");

  std::string patient = Token({"--actor", "patient", "--id", "pat-rem-" + run_, "--patient", ins});
  auto r = As(patient, "GET", "Patient/" + pid + "/$reminders?date=2026-12-05");
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = Reminders(r);
  EXPECT_EQ(got["dTP 7"].status, "complete");
  EXPECT_EQ(got["dTP 7"].supporting, std::vector<std::string>{"Immunization/" + dtp45});
  EXPECT_EQ(got["dTP 8"].status, "due");
  EXPECT_EQ(got["dTP 8"].dates["30980-7"], "2026-09-15");  // the 65th birthday
  EXPECT_EQ(got["dTP 8"].dates["59778-1"], "2027-09-15");
  EXPECT_EQ(got["influenza 2026-2027 season"].status, "complete");
  EXPECT_EQ(got["influenza 2026-2027 season"].supporting,
            std::vector<std::string>{"Immunization/" + flu});
  EXPECT_EQ(got["pneumococcal_adult 1"].status, "due");  // the not-done one does not count
  EXPECT_EQ(got["29771-3 -"].status, "overdue");         // the stool test, 2 years and 6 months on
  EXPECT_EQ(got["29771-3 -"].supporting, std::vector<std::string>{"Observation/" + fit_id});
  EXPECT_EQ(got.count("24606-6 -"), 0u);  // no breast screening for him
  EXPECT_EQ(AuditCount("pat-rem-" + run_, "0"), 1);
  // The whole answer is valid R4 (the server's own $validate: definitions and invariants).
  auto valid = As(operator_, "POST", "Bundle/$validate", r.body);
  ASSERT_EQ(valid.status, 200) << valid.body;
  for (const JsonValue& issue : Parse(valid.body).Find("issue")->items())
    EXPECT_NE(issue.GetString("severity"), "error") << issue.GetString("diagnostics");

  // The horizon: with a year, the next influenza season is upcoming.
  auto wide = As(patient, "GET", "Patient/" + pid + "/$reminders?date=2026-12-05&horizon=365");
  ASSERT_EQ(wide.status, 200);
  EXPECT_EQ(Reminders(wide)["influenza 2027-2028 season"].status, "upcoming");
  EXPECT_EQ(As(patient, "GET", "Patient/" + pid + "/$reminders?date=05/12/2026").status, 400);
}

TEST_F(RemindersTest, AGuardianSeesTheChildsReminders) {
  std::string ins = NewIns();
  std::string pid = NewRecord(ins, "2026-08-01", "female");
  std::string hexa1 = Vaccinate(pid, "http://hl7.org/fhir/sid/cvx", "146", "2026-10-01");
  std::string guardian =
      Token({"--actor", "guardian", "--id", "parent-rem-" + run_, "--guardian-of", ins});
  auto r = As(guardian, "GET", "Patient/" + pid + "/$reminders?date=2026-12-05");
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = Reminders(r);
  EXPECT_EQ(got["dTP 1"].status, "complete");
  EXPECT_EQ(got["hepatitis_B 1"].supporting, std::vector<std::string>{"Immunization/" + hexa1});
  EXPECT_EQ(got["dTP 2"].status, "due");
  EXPECT_EQ(got["meningococcal_B 1"].status, "overdue");  // 3 months, given by 4
  EXPECT_EQ(got["meningococcal_ACWY 1"].status, "upcoming");
  EXPECT_EQ(AuditCount("parent-rem-" + run_, "0"), 1);
}

TEST_F(RemindersTest, AProfessionalWithoutAccessFindsNoRecord) {
  std::string ins = NewIns();
  std::string pid = NewRecord(ins, "1976-08-20", "female");
  Vaccinate(pid, "http://www.whocc.no/atc", "J07CA01", "2021-09-01");
  std::string rpps = "8100000" + std::to_string(10000 + std::stoi(RandomHex(3), nullptr, 16));
  std::string doctor =
      Token({"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "org-rem"});
  auto hidden = As(doctor, "GET", "Patient/" + pid + "/$reminders?date=2026-12-05");
  auto missing = As(doctor, "GET", "Patient/no-such-" + run_ + "/$reminders?date=2026-12-05");
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(missing.status, 404) << missing.body;
  auto text = [](const HttpResult& r, const std::string& id) {
    std::string body = r.body;
    for (size_t at = body.find(id); at != std::string::npos; at = body.find(id))
      body.replace(at, id.size(), "ID");
    return body;
  };
  EXPECT_EQ(text(hidden, pid), text(missing, "no-such-" + run_));
  EXPECT_EQ(AuditCount(rpps, "0"), 0);
  EXPECT_GE(RefusalCount(rpps), 2);  // both refusals are in the access history
  // The same doctor with the patient's consent sees them.
  auto consented = As(doctor, "GET", "Patient/" + pid + "/$reminders?date=2026-12-05", "",
                      {"X-Patient-Consent: true"});
  ASSERT_EQ(consented.status, 200) << consented.body;
  EXPECT_EQ(Reminders(consented)["24606-6 -"].status, "due");
  EXPECT_EQ(AuditCount(rpps, "0"), 1);
}

TEST_F(RemindersTest, TheOperationIsDeclared) {
  auto r = As(operator_, "GET", "metadata");
  ASSERT_EQ(r.status, 200);
  JsonValue cs = Parse(r.body);
  bool declared = false;
  const std::string kPath = "/fhir/OperationDefinition/Patient-reminders";
  for (const JsonValue& res : cs.Find("rest")->items()[0].Find("resource")->items())
    if (res.GetString("type") == "Patient")
      for (const JsonValue& op : res.Find("operation")->items()) {
        std::string def = op.GetString("definition");
        declared = declared || (op.GetString("name") == "reminders" && def.size() > kPath.size() &&
                                def.substr(def.size() - kPath.size()) == kPath);
      }
  EXPECT_TRUE(declared);
  auto od = As(operator_, "GET", "OperationDefinition/Patient-reminders");
  ASSERT_EQ(od.status, 200) << od.body;
  JsonValue defined = Parse(od.body);
  EXPECT_EQ(defined.GetString("code"), "reminders");
  EXPECT_EQ(defined.GetString("resourceType"), "OperationDefinition");
}

// The tables are data: a gateway started with --prevention-data-dir answers from that directory
// (here a calendar whose influenza campaign starts at 50), and refuses to start on a broken one.
TEST(RemindersTablesTest, ADirectoryOfTablesReplacesTheBuiltInOnes) {
  std::string dir = ::testing::TempDir() + "prevention-" + RandomHex(4);
  std::filesystem::create_directories(dir);
  std::string source = std::string(CARNET_SOURCE_DIR) + "/prevention/data/";
  for (const char* f : {"screening_programmes.tsv", "vaccine_antigens.tsv"})
    std::filesystem::copy_file(source + f, dir + "/" + f);
  std::ofstream(dir + "/vaccination_calendar.tsv")
      << "influenza\tcampaign\tinfluenza\tJ07BB02\t6142004\t*\t50y\t-\t-\t-\tcampaign:10-01/"
         "02-28\t-\t"
         "Influenza from 50 (a test calendar)\tGrippe dès 50 ans (calendrier de "
         "test)\ttest\t2026\n";
  GatewayProcess gateway({"--prevention-data-dir", dir});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  auto created =
      client.Request("POST", gateway.base_url() + "/fhir/Patient", {kJson},
                     R"({"resourceType":"Patient","birthDate":"1971-01-01","gender":"male"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string pid = Parse(created.body).GetString("id");
  auto r = client.Request(
      "GET", gateway.base_url() + "/fhir/Patient/" + pid + "/$reminders?date=2026-12-05");
  ASSERT_EQ(r.status, 200) << r.body;
  // The recommendation says the row's French label (label_fr), the one the patient reads.
  EXPECT_NE(r.body.find("Grippe dès 50 ans (calendrier de test)"), std::string::npos)
      << r.body.substr(0, 600);
  EXPECT_EQ(r.body.find("J07CA01"), std::string::npos);  // no dT-IPV row in that calendar

  std::ofstream(dir + "/vaccination_calendar.tsv") << "influenza\tcampaign\tnot-an-antigen\n";
  GatewayProcess broken({"--prevention-data-dir", dir});
  EXPECT_FALSE(broken.WaitHealthy(std::chrono::seconds(5)));
  EXPECT_NE(broken.Log().find("vaccination_calendar.tsv:1"), std::string::npos) << broken.Log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carnet::testing
