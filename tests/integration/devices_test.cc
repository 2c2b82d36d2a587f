// Connected devices (issue 17) against the live gateway and PostgreSQL: an app the patient
// authorised pushes a day of measurements (weight, blood pressure, heart rate, glucose, oxygen
// saturation, steps) with the Device that took them in one transaction, retries it without
// doubling anything (ifNoneExist by identifier); the patient and the care team see them, an
// outsider professional does not; a kind of measurement the patient did not let the app write
// is refused; a week of a glucometer every 5 minutes goes in one transaction and is searched
// by date range. One app gets its token through carnet's own SMART App Launch chain
// (harness SmartLaunch) and loses it when the patient revokes the approval.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";
const char* kKindSystem = "https://carnet.example.org/fhir/CodeSystem/measurement-kind";
const char* kMeasureSystem = "urn:carnet:test:devapp:measure";
const char* kSerialSystem = "urn:carnet:test:devapp:serial";

class DevicesTest : public SharedGatewayTest {
 protected:
  static void SetUpTestSuite() {
    SharedGatewayTest::SetUpTestSuite();
    if (HasFatalFailure()) return;
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "dev-p-" + run_;
    ins_ = "1" + std::to_string(base_ins + 7);
    long long r = 10000000 + std::stoll(RandomHex(5), nullptr, 16) % 8000000;
    doctor_ = "8200" + std::to_string(r);
    outsider_ = "8200" + std::to_string(r + 1);
    Must(As(Operator(), "PUT", "Patient/" + p_,
            R"({"resourceType":"Patient","id":")" + p_ + R"(",)" + kDiv +
                R"(,"identifier":[{"system":")" + kInsSystem + R"(","value":")" + ins_ +
                R"("}],"birthDate":"1958-03-02","gender":"male"})"),
         201, "record");
    Must(As(Patient(), "POST", "CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                p_ + R"("},"participant":[{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + doctor_ + R"("}}}]})"),
         201, "care team");
    // The tracker may write every kind; the scale only weights.
    Must(As(Patient(), "POST", "Consent", Consent(Tracker(), {})), 201, "tracker consent");
    Must(As(Patient(), "POST", "Consent", Consent(Scale(), {"weight"})), 201, "scale consent");
  }

  static std::string Tracker() { return "devapp-tracker-" + run_; }
  static std::string Scale() { return "devapp-scale-" + run_; }
  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string Patient() {
    return Token({"--actor", "patient", "--id", "pat-dev", "--patient", ins_});
  }
  static std::string Doctor(const std::string& rpps) {
    return Token(
        {"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "org-dev"});
  }
  static std::string App(const std::string& client) {
    return Token({"--actor", "app", "--client-id", client, "--patient", ins_, "--patient-id", p_,
                  "--scope", "patient/Observation.crs patient/Device.crs"});
  }
  // The patient's Consent letting `client` write measurements and devices; `kinds` the kinds
  // of measurement it may write (none listed: every kind).
  static std::string Consent(const std::string& client, const std::vector<std::string>& kinds) {
    std::string codes;
    for (const auto& k : kinds)
      codes += std::string(codes.empty() ? "" : ",") + R"({"coding":[{"system":")" + kKindSystem +
               R"(","code":")" + k + R"("}]})";
    return R"({"resourceType":"Consent",)" + std::string(kDiv) + R"(,
      "extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/smart-scopes","valueString":"patient/Observation.crs patient/Device.crs"}],
      "status":"active",
      "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
      "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
      "patient":{"reference":"Patient/)" +
           p_ + R"("},
      "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
      "provision":{"type":"permit",)" +
           (codes.empty() ? std::string() : R"("code":[)" + codes + "],") +
           R"("actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
        "reference":{"identifier":{"system":"urn:ietf:params:oauth:client-id","value":")" +
           client + R"("}}}]}})";
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "") {
    static HttpClient client;
    std::vector<std::string> headers = {"Authorization: Bearer " + token};
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir" + (path.empty() ? "" : "/") + path,
                          headers, body, 120000);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }
  static std::set<std::string> Matches(const HttpResult& r) {
    std::set<std::string> out;
    auto json = ParseJson(r.body);
    if (!json.ok()) return out;
    if (const JsonValue* entries = json->Find("entry"))
      for (const JsonValue& e : entries->items()) {
        const JsonValue* res = e.Find("resource");
        if (res && e.Find("search") && e.Find("search")->GetString("mode") != "include")
          out.insert(res->GetString("resourceType") + "/" + res->GetString("id"));
      }
    return out;
  }
  static long long Total(const HttpResult& r) {
    auto json = ParseJson(r.body);
    if (!json.ok() || !json->Find("total")) return -1;
    return std::stoll(json->Find("total")->text());
  }

  // One measurement: `kind_loinc` its LOINC code, `value` the value[x] (or component) members.
  struct Measure {
    std::string id;  // its identifier value, what makes a retry idempotent
    std::string loinc, display, category, when, value;
  };
  static std::string Quantity(double v, const std::string& unit) {
    char num[32];
    std::snprintf(num, sizeof num, "%g", v);
    return R"("valueQuantity":{"value":)" + std::string(num) + R"(,"unit":")" + unit +
           R"(","system":"http://unitsofmeasure.org","code":")" + unit + R"("})";
  }
  static std::string ObservationJson(const Measure& m, const std::string& device_url) {
    return R"({"resourceType":"Observation",)" + std::string(kDiv) +
           R"(,"identifier":[{"system":")" + kMeasureSystem + R"(","value":")" + m.id +
           R"("}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":")" +
           m.category + R"("}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
           m.loinc + R"(","display":")" + m.display + R"("}]},"subject":{"reference":"Patient/)" +
           p_ + R"("},"effectiveDateTime":")" + m.when + R"(","device":{"reference":")" +
           device_url + R"("},)" + m.value + "}";
  }
  // A transaction: the Device (created once: ifNoneExist by serial number) and the
  // measurements naming it by its urn:uuid (each created once: ifNoneExist by identifier).
  static std::string Transaction(const std::string& serial, const std::string& device_type,
                                 const std::vector<Measure>& measures) {
    std::string device_url = "urn:uuid:" + NewUuid();
    std::string out =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":")" + device_url +
        R"(","resource":{"resourceType":"Device",)" + std::string(kDiv) +
        R"(,"identifier":[{"system":")" + kSerialSystem + R"(","value":")" + serial +
        R"("}],"status":"active","manufacturer":"Exemple Santé","deviceName":[{"name":")" +
        device_type + R"(","type":"user-friendly-name"}],"patient":{"reference":"Patient/)" + p_ +
        R"("}},"request":{"method":"POST","url":"Device","ifNoneExist":"identifier=)" +
        kSerialSystem + "|" + serial + R"("}})";
    for (const auto& m : measures)
      out += R"(,{"fullUrl":"urn:uuid:)" + NewUuid() + R"(","resource":)" +
             ObservationJson(m, device_url) +
             R"(,"request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=)" +
             kMeasureSystem + "|" + m.id + R"("}})";
    return out + "]}";
  }
  // The statuses of a transaction-response's entries.
  static std::vector<std::string> Statuses(const HttpResult& r) {
    std::vector<std::string> out;
    auto json = ParseJson(r.body);
    if (!json.ok() || !json->Find("entry")) return out;
    for (const JsonValue& e : json->Find("entry")->items())
      out.push_back(e.Find("response") ? e.Find("response")->GetString("status") : "");
    return out;
  }
  static std::vector<Measure> ADay(const std::string& tag = "day") {
    std::vector<Measure> day;
    auto add = [&](const std::string& loinc, const std::string& display,
                   const std::string& category, const std::string& when, const std::string& value) {
      day.push_back({run_ + "-" + tag + "-" + std::to_string(day.size()), loinc, display, category,
                     "2026-11-20T" + when + ":00+01:00", value});
    };
    add("29463-7", "Poids", "vital-signs", "07:05", Quantity(82.4, "kg"));
    for (const char* t : {"07:10", "13:00", "21:30"})
      add("85354-9", "Tension artérielle", "vital-signs", t,
          R"("component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},)" +
              Quantity(128, "mm[Hg]") +
              R"(},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},)" +
              Quantity(82, "mm[Hg]") + "}]");
    for (const char* t : {"07:10", "13:00", "21:30"})
      add("8867-4", "Fréquence cardiaque", "vital-signs", t, Quantity(64, "/min"));
    for (const char* t : {"07:00", "12:30", "19:30", "23:00"})
      add("2339-0", "Glycémie", "vital-signs", t, Quantity(104, "mg/dL"));
    for (const char* t : {"07:10", "13:00", "21:30"})
      add("59408-5", "Saturation en oxygène", "vital-signs", t, Quantity(97, "%"));
    add("55423-8", "Nombre de pas", "activity", "23:55", Quantity(8412, "{steps}"));
    return day;
  }

  static std::string run_, p_, ins_, doctor_, outsider_;
};
std::string DevicesTest::run_, DevicesTest::p_, DevicesTest::ins_, DevicesTest::doctor_,
    DevicesTest::outsider_;

TEST_F(DevicesTest, ADayByTransactionRetriedNothingDoubledSeenPerTheirRights) {
  std::vector<Measure> day = ADay();
  std::string bundle = Transaction("SN-" + run_ + "-day", "Tensiomètre connecté", day);
  auto first = As(App(Tracker()), "POST", "", bundle);
  Must(first, 200, "the day's transaction");
  std::vector<std::string> statuses = Statuses(first);
  ASSERT_EQ(statuses.size(), day.size() + 1);
  for (const auto& s : statuses) EXPECT_EQ(s.substr(0, 3), "201") << first.body.substr(0, 400);

  // The retry (a lost answer, the app sends again): everything is found, nothing created.
  auto retry = As(App(Tracker()), "POST", "", bundle);
  Must(retry, 200, "the retry");
  for (const auto& s : Statuses(retry))
    EXPECT_EQ(s.substr(0, 3), "200") << retry.body.substr(0, 400);

  std::string device_query =
      "Device?patient=" + p_ + "&identifier=" + kSerialSystem + "|SN-" + run_ + "-day";
  auto devices = As(Patient(), "GET", device_query);
  Must(devices, 200, "the patient's devices");
  ASSERT_EQ(Matches(devices).size(), 1u) << devices.body.substr(0, 600);
  std::string device = *Matches(devices).begin();

  // The patient, the app and the care team's doctor see the day once; an outsider nothing.
  std::string day_query = "Observation?patient=" + p_ + "&device=" + device + "&_count=100";
  for (const auto& [who, token] :
       std::vector<std::pair<std::string, std::string>>{{"patient", Patient()},
                                                        {"app", App(Tracker())},
                                                        {"care team doctor", Doctor(doctor_)}}) {
    auto r = As(token, "GET", day_query);
    Must(r, 200, who);
    EXPECT_EQ(Matches(r).size(), day.size()) << who << ": " << r.body.substr(0, 400);
    EXPECT_EQ(Matches(As(token, "GET", device_query)).size(), 1u) << who;
  }
  // The next day, the same monitor (a new placeholder, ifNoneExist by its serial number):
  // the new reading names the Device found, not a new one.
  Measure next{run_ + "-next-day",          "29463-7",           "Poids", "vital-signs",
               "2026-11-21T07:05:00+01:00", Quantity(82.1, "kg")};
  auto next_day = As(App(Tracker()), "POST", "",
                     Transaction("SN-" + run_ + "-day", "Tensiomètre connecté", {next}));
  Must(next_day, 200, "the next day");
  std::vector<std::string> next_statuses = Statuses(next_day);
  ASSERT_EQ(next_statuses.size(), 2u);
  EXPECT_EQ(next_statuses[0].substr(0, 3), "200") << "the monitor found";
  EXPECT_EQ(next_statuses[1].substr(0, 3), "201") << next_day.body.substr(0, 400);
  auto with_next = As(Patient(), "GET", day_query);
  EXPECT_EQ(Matches(with_next).size(), day.size() + 1) << with_next.body.substr(0, 300);
  EXPECT_EQ(Matches(As(Patient(), "GET", device_query)).size(), 1u);

  auto outsider = As(Doctor(outsider_), "GET", day_query);
  EXPECT_TRUE(outsider.status == 404 || (outsider.status == 200 && Matches(outsider).empty()))
      << outsider.status << " " << outsider.body.substr(0, 400);
  auto first_json = Parse(first.body);
  std::string one = first_json.Find("entry")->items()[1].Find("response")->GetString("location");
  one = one.substr(0, one.find("/_history"));
  EXPECT_EQ(As(Doctor(outsider_), "GET", one).status, 404) << one;
  EXPECT_EQ(As(Doctor(outsider_), "GET", device).status, 404) << "the patient's own device";
  EXPECT_EQ(As(Doctor(doctor_), "GET", device).status, 200);

  // The profile's measurements, each from the device, through the app.
  auto profile = As(Patient(), "GET", "Patient/" + p_ + "/$profile");
  Must(profile, 200, "$profile");
  auto json = Parse(profile.body);
  bool found = false;
  for (const JsonValue& e : json.Find("entry")->items()) {
    const JsonValue& list = *e.Find("resource");
    if (list.GetString("resourceType") != "List" || list.GetString("id") != "profile-measurements")
      continue;
    for (const JsonValue& item : list.Find("entry")->items()) {
      if (item.Find("item")->GetString("reference") != one) continue;
      found = true;
      std::set<std::string> seen;
      for (const JsonValue& x : item.Find("extension")->items()) {
        std::string url = x.GetString("url");
        if (url.find("profile-entry-source") != std::string::npos)
          seen.insert("source=" + x.GetString("valueCode"));
        if (url.find("profile-entry-device") != std::string::npos)
          seen.insert("device=" + x.Find("valueReference")->GetString("reference"));
        if (url.find("profile-entry-app") != std::string::npos)
          seen.insert("app=" + x.GetString("valueString"));
      }
      EXPECT_EQ(seen,
                (std::set<std::string>{"source=device", "device=" + device, "app=" + Tracker()}));
    }
  }
  EXPECT_TRUE(found) << one << " in the profile's measurements";
}

// The same day pushed by an app that got its token through carnet's own SMART chain, not a
// development token: the catalogue app, the patient's approval on the authorize page (PKCE
// S256, state, the exact redirect URI), the code exchanged at the token endpoint for
// patient/Observation.c and patient/Device.c (with the reads the idempotent retry's
// ifNoneExist needs), offline_access. The retry doubles nothing; the patient and the care
// team's doctor see the day, an outsider nothing; the patient revokes the approval (its
// Consent): the app's next push and its refresh token are refused, nothing written.
TEST_F(DevicesTest, AppLaunchedThroughCarnetPushesADayThenIsRevoked) {
  SmartApp app;
  app.client_id = "devapp-smart-" + run_;
  app.name = "Carnet glycémie";
  app.redirect_uri = "http://127.0.0.1:" + std::to_string(FreePort()) + "/callback";
  app.catalogue_scope = "launch/patient patient/Observation.crs patient/Device.crs offline_access";
  ASSERT_EQ(RegisterSmartApp(gateway_->base_url(), Operator(), app), "");
  const std::string asked =
      "launch/patient patient/Observation.c patient/Device.c patient/Observation.rs "
      "patient/Device.rs offline_access";
  SmartLaunchResult launch = SmartLaunch(gateway_->base_url(), Patient(), app, asked);
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.patient, p_);
  for (const char* s : {"patient/Observation.c", "patient/Device.c", "offline_access"})
    EXPECT_NE((" " + launch.scope + " ").find(std::string(" ") + s + " "), std::string::npos)
        << launch.scope;
  ASSERT_FALSE(launch.refresh_token.empty());

  std::vector<Measure> day = ADay("smart");
  const std::string serial = "SN-" + run_ + "-smart";
  std::string bundle = Transaction(serial, "Glucomètre connecté", day);
  auto first = As(launch.access_token, "POST", "", bundle);
  Must(first, 200, "the day's transaction under the SMART token");
  std::vector<std::string> statuses = Statuses(first);
  ASSERT_EQ(statuses.size(), day.size() + 1);
  for (const auto& s : statuses) EXPECT_EQ(s.substr(0, 3), "201") << first.body.substr(0, 400);
  auto retry = As(launch.access_token, "POST", "", bundle);
  Must(retry, 200, "the retry");
  for (const auto& s : Statuses(retry))
    EXPECT_EQ(s.substr(0, 3), "200") << retry.body.substr(0, 400);

  auto devices =
      As(Patient(), "GET", "Device?patient=" + p_ + "&identifier=" + kSerialSystem + "|" + serial);
  Must(devices, 200, "the patient's devices");
  ASSERT_EQ(Matches(devices).size(), 1u) << devices.body.substr(0, 600);
  std::string device = *Matches(devices).begin();
  std::string day_query = "Observation?patient=" + p_ + "&device=" + device + "&_count=100";
  for (const auto& [who, token] : std::vector<std::pair<std::string, std::string>>{
           {"patient", Patient()}, {"care team doctor", Doctor(doctor_)}}) {
    auto r = As(token, "GET", day_query);
    Must(r, 200, who);
    EXPECT_EQ(Matches(r).size(), day.size()) << who << ": " << r.body.substr(0, 400);
  }
  auto outsider = As(Doctor(outsider_), "GET", day_query);
  EXPECT_TRUE(outsider.status == 404 || (outsider.status == 200 && Matches(outsider).empty()))
      << outsider.status << " " << outsider.body.substr(0, 400);

  // offline_access: the refresh token works while the approval stands.
  auto refreshed = SmartRefresh(gateway_->base_url(), app.client_id, launch.refresh_token);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  std::string access2 = Parse(refreshed.body).GetString("access_token");
  ASSERT_FALSE(access2.empty());

  // The patient revokes the app's approval: the Consent the authorize page wrote.
  auto consents = As(Patient(), "GET", "Consent?patient=" + p_ + "&_count=50");
  Must(consents, 200, "the patient's consents");
  std::string approval;
  for (const auto& ref : Matches(consents))
    if (As(Patient(), "GET", ref).body.find("\"" + app.client_id + "\"") != std::string::npos)
      approval = ref;
  ASSERT_FALSE(approval.empty()) << consents.body.substr(0, 800);
  Must(As(Patient(), "DELETE", approval), 204, "the patient revokes " + approval);

  Measure late{
      run_ + "-smart-late",  "2339-0", "Glycémie", "vital-signs", "2026-11-21T07:00:00+01:00",
      Quantity(101, "mg/dL")};
  auto refused = As(access2, "POST", "", Transaction(serial, "Glucomètre connecté", {late}));
  // Refused as for a record that does not exist (the app no longer sees it: the patient
  // reference does not resolve), or at the door; never written.
  EXPECT_TRUE(refused.status == 401 || refused.status == 403 || refused.status == 404 ||
              refused.status == 422)
      << refused.status << " " << refused.body.substr(0, 600);
  auto alone = As(access2, "POST", "Observation", ObservationJson(late, device));
  EXPECT_TRUE(alone.status == 401 || alone.status == 403 || alone.status == 404 ||
              alone.status == 422)
      << alone.status << " " << alone.body.substr(0, 600);
  auto nothing =
      As(Patient(), "GET", std::string("Observation?identifier=") + kMeasureSystem + "|" + late.id);
  Must(nothing, 200, "the late measurement searched");
  EXPECT_TRUE(Matches(nothing).empty()) << "a refused push left nothing";
  auto dead = SmartRefresh(gateway_->base_url(), app.client_id, launch.refresh_token);
  EXPECT_EQ(dead.status, 400) << dead.body;
  EXPECT_NE(dead.body.find("invalid_grant"), std::string::npos) << dead.body;
  // What was pushed before the revocation stays in the record.
  EXPECT_EQ(Matches(As(Patient(), "GET", day_query)).size(), day.size());
}

TEST_F(DevicesTest, AKindThePatientDidNotConsentIsRefused) {
  Measure weight{run_ + "-scale-w",      "29463-7",           "Poids", "vital-signs",
                 "2026-11-21T07:00:00Z", Quantity(81.9, "kg")};
  Measure glucose{run_ + "-scale-g",    "2339-0", "Glycémie", "vital-signs", "2026-11-21T07:01:00Z",
                  Quantity(99, "mg/dL")};
  // The scale may write weights, not glucose: the whole transaction is refused, nothing kept.
  auto mixed = As(App(Scale()), "POST", "",
                  Transaction("SN-" + run_ + "-scale", "Balance connectée", {weight, glucose}));
  EXPECT_EQ(mixed.status, 403) << mixed.body.substr(0, 600);
  EXPECT_NE(mixed.body.find("glucose"), std::string::npos) << mixed.body.substr(0, 600);
  auto none = As(Patient(), "GET",
                 std::string("Observation?identifier=") + kMeasureSystem + "|" + weight.id);
  EXPECT_TRUE(Matches(none).empty()) << "the refused transaction left nothing";
  auto alone = As(App(Scale()), "POST", "",
                  Transaction("SN-" + run_ + "-scale", "Balance connectée", {weight}));
  Must(alone, 200, "a weight alone");
  auto scales = As(Patient(), "GET",
                   "Device?identifier=" + std::string(kSerialSystem) + "|SN-" + run_ + "-scale");
  ASSERT_EQ(Matches(scales).size(), 1u) << scales.body.substr(0, 400);
  auto plain =
      As(App(Scale()), "POST", "Observation", ObservationJson(glucose, *Matches(scales).begin()));
  EXPECT_EQ(plain.status, 403) << plain.body.substr(0, 600);

  // The patient lets it write glucose too (the Consent updated): accepted.
  auto consents = As(Patient(), "GET", "Consent?patient=" + p_ + "&_count=50");
  std::string scale_consent;
  for (const auto& ref : Matches(consents)) {
    auto c = As(Patient(), "GET", ref);
    if (c.body.find(Scale()) != std::string::npos) scale_consent = ref;
  }
  ASSERT_FALSE(scale_consent.empty());
  std::string updated = Consent(Scale(), {"weight", "glucose"});
  updated.insert(1, R"("id":")" + scale_consent.substr(8) + R"(",)");
  Must(As(Patient(), "PUT", scale_consent, updated), 200, "consent with glucose");
  auto now_allowed = As(App(Scale()), "POST", "",
                        Transaction("SN-" + run_ + "-scale", "Balance connectée", {glucose}));
  Must(now_allowed, 200, "glucose once consented");

  // A kind the file does not know is refused with the known ones.
  auto unknown = As(Patient(), "POST", "Consent", Consent("devapp-x-" + run_, {"mood"}));
  EXPECT_EQ(unknown.status, 422) << unknown.body.substr(0, 600);
  EXPECT_NE(unknown.body.find("oxygen-saturation"), std::string::npos) << unknown.body;
  // A device that names no patient is the shared directory's: not an app's to write.
  auto shared = As(App(Tracker()), "POST", "Device",
                   R"({"resourceType":"Device",)" + std::string(kDiv) + R"(,"status":"active"})");
  EXPECT_EQ(shared.status, 403) << shared.body.substr(0, 400);
}

TEST_F(DevicesTest, AWeekOfGlucoseEveryFiveMinutesInOneTransactionThenByDate) {
  std::vector<Measure> week;
  // 2026-11-09T00:00:00Z, every 5 minutes for 7 days: 2016 readings.
  for (int i = 0; i < 7 * 24 * 12; ++i) {
    int day = 9 + i / 288, minute = (i % 288) * 5;
    char when[32];
    std::snprintf(when, sizeof when, "2026-11-%02dT%02d:%02d:00Z", day, minute / 60, minute % 60);
    week.push_back({run_ + "-cgm-" + std::to_string(i), "2339-0", "Glycémie", "vital-signs", when,
                    Quantity(90 + (i * 7) % 60, "mg/dL")});
  }
  std::string bundle = Transaction("SN-" + run_ + "-cgm", "Capteur de glucose", week);
  auto t0 = std::chrono::steady_clock::now();
  auto r = As(App(Tracker()), "POST", "", bundle);
  auto t1 = std::chrono::steady_clock::now();
  Must(r, 200, "the week in one transaction");
  EXPECT_EQ(Statuses(r).size(), week.size() + 1);
  auto search = As(Patient(), "GET",
                   "Observation?patient=" + p_ +
                       "&code=http://loinc.org|2339-0&date=ge2026-11-12T00:00:00Z"
                       "&date=lt2026-11-13T00:00:00Z&_count=500");
  auto t2 = std::chrono::steady_clock::now();
  Must(search, 200, "a day of the week");
  EXPECT_EQ(Matches(search).size(), 288u);
  auto count = As(Doctor(doctor_), "GET",
                  "Observation?patient=" + p_ +
                      "&code=http://loinc.org|2339-0&date=ge2026-11-09&date=lt2026-11-16"
                      "&_summary=count");
  auto t3 = std::chrono::steady_clock::now();
  Must(count, 200, "the week counted");
  EXPECT_EQ(Total(count), 2016);
  auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::printf(
      "[devices] week of glucose: %zu bytes, transaction of %zu entries %lld ms; a day by date "
      "range (288 rows) %lld ms; the week counted by the doctor %lld ms\n",
      bundle.size(), week.size() + 1, static_cast<long long>(ms(t0, t1)),
      static_cast<long long>(ms(t1, t2)), static_cast<long long>(ms(t2, t3)));
  EXPECT_LT(ms(t0, t1), 60000) << "the week's transaction";
  EXPECT_LT(ms(t1, t2), 5000) << "a day by date range";
}

}  // namespace
}  // namespace carnet::testing
