// Composite search parameters and Location's near against the live gateway and PostgreSQL
// (issue 15). Record P (the doctor is in its care team) holds blood pressures: single
// systolic and diastolic Observations and panels whose components tie each code to its own
// value; record Q, outside the doctor's care, holds a systolic that matches too: the doctor
// neither finds nor counts it. A composite on another type (ValueSet's context-type-value), a
// composite SearchParameter posted by the operator, reindexing, and near over two Locations.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";
const char* kLoinc = "http://loinc.org";

// A query string value, percent-encoded but for letters, digits and "-._,".
std::string Q(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80 && (isalnum(c) || c == '-' || c == '.' || c == '_' || c == ',')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Coding(const std::string& system, const std::string& code) {
  return R"({"coding":[{"system":")" + system + R"(","code":")" + code + R"("}]})";
}

std::string MmHg(int value) {
  return R"({"value":)" + std::to_string(value) +
         R"(,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"})";
}

class CompositeSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "cs-p-" + run_;
    q_ = "cs-q-" + run_;
    p_ins_ = "2" + std::to_string(base_ins + 3);
    q_ins_ = "2" + std::to_string(base_ins + 4);
    rpps_ = "8100" + std::to_string(10000000 + std::stoll(RandomHex(5), nullptr, 16) % 9000000);
    Build();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string Lab() {
    return Token({"--actor", "system", "--id", "lab-1", "--client-id", "lab-1", "--scope",
                  "system/*.cruds"});
  }
  static std::string Doctor() {
    return Token(
        {"--actor", "professional", "--id", rpps_, "--profession", "10", "--org", "org-cs"});
  }
  static std::string PatientP() {
    return Token({"--actor", "patient", "--id", "pat-cs", "--patient", p_ins_});
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "") {
    static HttpClient client;
    std::vector<std::string> headers = {Auth(token)};
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  static std::string Id(const std::string& name) { return "cs-" + run_ + "-" + name; }

  // An Observation of `patient`: its code, and either a value ("valueQuantity":...) or
  // components, as JSON members.
  static void Obs(const std::string& patient, const std::string& name, const std::string& code,
                  const std::string& members) {
    std::string body = R"({"resourceType":"Observation","id":")" + Id(name) +
                       R"(","status":"final","code":)" + Coding(kLoinc, code) +
                       R"(,"subject":{"reference":"Patient/)" + patient + R"("},)" + members + "}";
    Must(As(Lab(), "PUT", "Observation/" + Id(name), body), 201, name);
  }
  static std::string Component(const std::string& code, int value) {
    return R"({"code":)" + Coding(kLoinc, code) + R"(,"valueQuantity":)" + MmHg(value) + "}";
  }

  static void Build() {
    for (auto [id, ins] : {std::pair<std::string, std::string>{p_, p_ins_}, {q_, q_ins_}})
      Must(As(Operator(), "PUT", "Patient/" + id,
              R"({"resourceType":"Patient","id":")" + id + R"(","identifier":[{"system":")" +
                  kInsSystem + R"(","value":")" + ins + R"("}],"birthDate":"1958-02-11"})"),
           201, "record " + id);
    Must(As(PatientP(), "POST", "CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                p_ + R"("},"participant":[{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + rpps_ + R"("}}}]})"),
         201, "care team of P");
    Obs(p_, "sys150", "8480-6", R"("valueQuantity":)" + MmHg(150));
    Obs(p_, "sys130", "8480-6", R"("valueQuantity":)" + MmHg(130));
    Obs(p_, "dia150", "8462-4", R"("valueQuantity":)" + MmHg(150));
    // The ties matter: panel-low's systolic 130 is above 100, but its diastolic (85) is not.
    // (A panel whose systolic is below its diastolic is refused as no possible measurement.)
    Obs(p_, "panel-low", "85354-9",
        R"("component":[)" + Component("8480-6", 130) + "," + Component("8462-4", 85) + "]");
    Obs(p_, "panel-high", "85354-9",
        R"("component":[)" + Component("8480-6", 160) + "," + Component("8462-4", 105) + "]");
    // Coded values: a negative and a positive SARS-CoV-2 test.
    Obs(p_, "covid-neg", "94500-6",
        R"("valueCodeableConcept":)" + Coding("http://snomed.info/sct", "260385009"));
    Obs(p_, "covid-pos", "94500-6",
        R"("valueCodeableConcept":)" + Coding("http://snomed.info/sct", "10828004"));
    Obs(q_, "sys155", "8480-6", R"("valueQuantity":)" + MmHg(155));
  }

  // The ids (without the run prefix) the search returns as matches, and its total.
  static std::set<std::string> Found(const std::string& token, const std::string& query,
                                     long long* total = nullptr) {
    auto r = As(token, "GET", query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body.substr(0, 500);
    std::set<std::string> out;
    auto json = ParseJson(r.body);
    if (!json.ok()) return out;
    if (total) *total = json->Find("total") ? std::stoll(json->Find("total")->text()) : -1;
    std::string prefix = "cs-" + run_ + "-";
    if (const JsonValue* entries = json->Find("entry"))
      for (const auto& e : entries->items()) {
        const JsonValue* s = e.Find("search");
        if (!s || s->GetString("mode") != "match") continue;
        std::string id = e.Find("resource")->GetString("id");
        out.insert(id.rfind(prefix, 0) == 0 ? id.substr(prefix.size()) : id);
      }
    return out;
  }
  static std::string InP(const std::string& param, const std::string& value) {
    return "Observation?patient=" + p_ + "&" + param + "=" + Q(value);
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_, q_, p_ins_, q_ins_, rpps_;
};

GatewayProcess* CompositeSearchTest::gateway_ = nullptr;
std::string CompositeSearchTest::run_, CompositeSearchTest::p_, CompositeSearchTest::q_,
    CompositeSearchTest::p_ins_, CompositeSearchTest::q_ins_, CompositeSearchTest::rpps_;

using Ids = std::set<std::string>;

TEST_F(CompositeSearchTest, CodeValueQuantityTiesTheCodeToItsValue) {
  // A systolic above 140: not the systolic 130, not the diastolic 150.
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity", "http://loinc.org|8480-6$gt140")),
            Ids({"sys150"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity", "8480-6$le130")), Ids({"sys130"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity",
                                "http://loinc.org|8462-4$150|http://unitsofmeasure.org|mm[Hg]")),
            Ids({"dia150"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity", "http://loinc.org|8462-4$150||kg")), Ids());
  // Comma: OR of whole pairs; repeated parameters: AND.
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity",
                                "http://loinc.org|8480-6$gt140,http://loinc.org|8462-4$ge150")),
            Ids({"sys150", "dia150"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-quantity", "http://loinc.org|8480-6$gt100") +
                                "&code-value-quantity=" + Q("http://loinc.org|8480-6$lt140")),
            Ids({"sys130"}));
}

TEST_F(CompositeSearchTest, ComponentsOfAPanelAreNotMixed) {
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity", "http://loinc.org|8480-6$gt140")),
            Ids({"panel-high"}));
  // panel-low has a component above 100 (its systolic 130), but its diastolic is 85; and a
  // component below 90 (its diastolic 85), but its systolic is 130.
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity", "http://loinc.org|8462-4$gt100")),
            Ids({"panel-high"}));
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity", "http://loinc.org|8480-6$lt90")),
            Ids());
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity", "http://loinc.org|8462-4$lt90")),
            Ids({"panel-low"}));
  // combo: the Observation's own code and value, or a component's.
  EXPECT_EQ(Found(Doctor(), InP("combo-code-value-quantity", "http://loinc.org|8480-6$gt140")),
            Ids({"sys150", "panel-high"}));
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity:missing", "false")),
            Ids({"panel-low", "panel-high"}));
}

TEST_F(CompositeSearchTest, CodeValueConcept) {
  EXPECT_EQ(Found(Doctor(), InP("code-value-concept",
                                "http://loinc.org|94500-6$http://snomed.info/sct|10828004")),
            Ids({"covid-pos"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-concept", "94500-6$260385009,94500-6$10828004")),
            Ids({"covid-neg", "covid-pos"}));
  EXPECT_EQ(Found(Doctor(), InP("code-value-concept", "http://loinc.org|8480-6$10828004")), Ids());
}

TEST_F(CompositeSearchTest, MalformedValueIsRefusedUnderStrictHandling) {
  HttpClient client;
  auto r = client.Request("GET",
                          gateway_->base_url() + "/fhir/Observation?patient=" + p_ +
                              "&code-value-quantity=" + Q("http://loinc.org|8480-6$high"),
                          {Auth(Doctor()), "Prefer: handling=strict"});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("code-value-quantity"), std::string::npos) << r.body;
}

TEST_F(CompositeSearchTest, HiddenRecordIsNeitherFoundNorCounted) {
  // Q's systolic 155 matches, but Q is outside the doctor's care.
  long long total = -1;
  auto found = Found(Doctor(),
                     "Observation?patient=" + q_ + "&code-value-quantity=" +
                         Q("http://loinc.org|8480-6$gt140") + "&_total=accurate",
                     &total);
  EXPECT_EQ(found, Ids());
  EXPECT_EQ(total, 0);
  // Patient P, searching every record she may see: her own systolic, not Q's, counted alike.
  EXPECT_EQ(Found(PatientP(),
                  "Observation?code-value-quantity=" + Q("http://loinc.org|8480-6$gt140") +
                      "&_id=" + Id("sys150") + "," + Id("sys155") + "&_total=accurate",
                  &total),
            Ids({"sys150"}));
  EXPECT_EQ(total, 1);
  // The laboratory that wrote both finds both.
  EXPECT_EQ(Found(Lab(), "Observation?code-value-quantity=" + Q("http://loinc.org|8480-6$gt140") +
                             "&_id=" + Id("sys150") + "," + Id("sys155")),
            Ids({"sys150", "sys155"}));
}

TEST_F(CompositeSearchTest, CompositeOfAnotherType) {
  // ValueSet.useContext: the focus's value, not the venue's.
  std::string id = Id("vs");
  Must(As(Operator(), "PUT", "ValueSet/" + id,
          R"({"resourceType":"ValueSet","id":")" + id + R"(","url":"urn:x:)" + id +
              R"(","status":"active","useContext":[
             {"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type","code":"focus"},
              "valueCodeableConcept":)" +
              Coding("http://snomed.info/sct", "38341003") + R"(},
             {"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type","code":"venue"},
              "valueCodeableConcept":)" +
              Coding("http://snomed.info/sct", "440655000") + "}]}"),
       201, "value set");
  std::string base = "ValueSet?_id=" + id + "&context-type-value=";
  // Shared content, searched by any professional (an operator's searches reach Patients only).
  EXPECT_EQ(Found(Doctor(), base + Q("focus$http://snomed.info/sct|38341003")), Ids({"vs"}));
  EXPECT_EQ(Found(Doctor(), base + Q("venue$440655000")), Ids({"vs"}));
  EXPECT_EQ(Found(Doctor(), base + Q("focus$440655000")), Ids());

  // A cohort (a Group listing no patient): each characteristic's code with its own value.
  std::string group = Id("cohort");
  Must(As(Operator(), "PUT", "Group/" + group,
          R"({"resourceType":"Group","id":")" + group +
              R"(","type":"person","actual":false,"characteristic":[
             {"code":)" +
              Coding(kLoinc, "46240-8") + R"(,"valueCodeableConcept":)" +
              Coding("http://snomed.info/sct", "73211009") +
              R"(,"exclude":false},
             {"code":)" +
              Coding(kLoinc, "72166-2") + R"(,"valueCodeableConcept":)" +
              Coding("http://snomed.info/sct", "77176002") + R"(,"exclude":false}]})"),
       201, "group");
  std::string groups = "Group?_id=" + group + "&characteristic-value=";
  EXPECT_EQ(Found(Doctor(), groups + Q("http://loinc.org|46240-8$73211009")), Ids({"cohort"}));
  EXPECT_EQ(Found(Doctor(), groups + Q("http://loinc.org|46240-8$77176002")), Ids());
}

TEST_F(CompositeSearchTest, PostedCompositeSearchParameter) {
  // A composite of Observation's method and value-quantity, by their official definitions.
  std::string code = "method-value-" + run_;
  std::string sp = R"({"resourceType":"SearchParameter","url":"urn:carnet:test:)" + code +
                   R"(","name":"MethodValue","status":"active","description":"method and value",
    "code":")" + code +
                   R"js(","base":["Observation"],"type":"composite","expression":"Observation",
    "component":[
      {"definition":"http://hl7.org/fhir/SearchParameter/Observation-method","expression":"method"},
      {"definition":"http://hl7.org/fhir/SearchParameter/Observation-value-quantity",
       "expression":"value.ofType(Quantity)"}]})js";
  // Written before the parameter exists: found after reindexing.
  Obs(p_, "cuff-before", "8478-0",
      R"("method":)" + Coding("http://snomed.info/sct", "37931006") + R"(,"valueQuantity":)" +
          MmHg(145));
  Must(As(Operator(), "POST", "SearchParameter", sp), 201, "composite SearchParameter");
  Obs(p_, "cuff-after", "8478-0",
      R"("method":)" + Coding("http://snomed.info/sct", "37931006") + R"(,"valueQuantity":)" +
          MmHg(135));
  EXPECT_EQ(Found(Doctor(), InP(code, "http://snomed.info/sct|37931006$gt130")),
            Ids({"cuff-after"}));
  std::string cmd = std::string(CARNET_GATEWAY_BINARY) + " reindex --type Observation --db '" +
                    TestDbConninfo() + "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Found(Doctor(), InP(code, "http://snomed.info/sct|37931006$gt130")),
            Ids({"cuff-before", "cuff-after"}));
  EXPECT_EQ(Found(Doctor(), InP(code, "37931006$gt140")), Ids({"cuff-before"}));

  // A component naming no known parameter: 422, the component named.
  std::string unknown = R"({"resourceType":"SearchParameter","url":"urn:carnet:test:bad-)" + run_ +
                        R"(","name":"Bad","status":"active","description":"x","code":"bad-)" +
                        run_ + R"(","base":["Observation"],"type":"composite",
    "expression":"Observation","component":[
      {"definition":"http://hl7.org/fhir/SearchParameter/clinical-code","expression":"code"},
      {"definition":"https://example.org/SearchParameter/nothing","expression":"value"}]})";
  auto r = As(Operator(), "POST", "SearchParameter", unknown);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("component[1].definition"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("https://example.org/SearchParameter/nothing"), std::string::npos)
      << r.body;
}

TEST_F(CompositeSearchTest, ReindexRebuildsTheCompositeRows) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  for (const char* table : {"idx_token", "idx_quantity"})
    ASSERT_TRUE((*conn)
                    ->RunDynamic(std::string("DELETE FROM ") + table +
                                     " WHERE grp IS NOT NULL AND res_id LIKE $1",
                                 {storage::SqlParam::Text("cs-" + run_ + "-%")})
                    .ok());
  std::string query = InP("code-value-quantity", "http://loinc.org|8480-6$gt140");
  EXPECT_EQ(Found(Doctor(), query), Ids());
  std::string cmd = std::string(CARNET_GATEWAY_BINARY) + " reindex --type Observation --db '" +
                    TestDbConninfo() + "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Found(Doctor(), query), Ids({"sys150"}));
  EXPECT_EQ(Found(Doctor(), InP("component-code-value-quantity", "http://loinc.org|8480-6$gt140")),
            Ids({"panel-high"}));
}

TEST_F(CompositeSearchTest, NearFindsLocationsWithinTheDistance) {
  for (auto [name, lat, lon] :
       {std::tuple<std::string, std::string, std::string>{"paris", "48.8566", "2.3522"},
        {"lyon", "45.7640", "4.8357"}})
    Must(As(Operator(), "PUT", "Location/" + Id(name),
            R"({"resourceType":"Location","id":")" + Id(name) + R"(","name":")" + name +
                R"(","position":{"latitude":)" + lat + R"(,"longitude":)" + lon + "}}"),
         201, name);
  // Shared content, searched by any professional (an operator's searches reach Patients only).
  std::string ids = "&_id=" + Id("paris") + "," + Id("lyon");
  // Paris to Lyon: about 392 km.
  EXPECT_EQ(Found(Doctor(), "Location?near=" + Q("48.8566|2.3522|10|km") + ids), Ids({"paris"}));
  EXPECT_EQ(Found(Doctor(), "Location?near=" + Q("48.8566|2.3522|500|km") + ids),
            Ids({"paris", "lyon"}));
  EXPECT_EQ(Found(Doctor(), "Location?near=" + Q("48.8566|2.3522|380|km") + ids), Ids({"paris"}));
  EXPECT_EQ(Found(Doctor(), "Location?near=" + Q("45.76|4.84|300|[mi_i]") + ids),
            Ids({"paris", "lyon"}));
  EXPECT_EQ(Found(Doctor(), "Location?near=" + Q("45.76|4.84|2000|m") + ids), Ids({"lyon"}));
  // Bad syntax: 400 naming the parameter, under lenient handling too.
  for (const char* bad : {"48.8566", "paris|2|10|km", "48.8566|2.3522|10|miles", "95|2|10|km"}) {
    auto r = As(Doctor(), "GET", "Location?near=" + Q(bad));
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("near"), std::string::npos) << r.body;
  }
}

TEST_F(CompositeSearchTest, CapabilityStatementDeclaresThem) {
  auto r = As(Operator(), "GET", "metadata");
  ASSERT_EQ(r.status, 200);
  auto cs = ParseJson(r.body);
  ASSERT_TRUE(cs.ok());
  std::map<std::string, std::string> declared;
  for (const auto& res : cs->Find("rest")->items()[0].Find("resource")->items())
    if (const JsonValue* params = res.Find("searchParam"))
      for (const auto& p : params->items())
        declared[res.GetString("type") + "." + p.GetString("name")] = p.GetString("type");
  EXPECT_EQ(declared["Observation.code-value-quantity"], "composite");
  EXPECT_EQ(declared["Observation.component-code-value-concept"], "composite");
  EXPECT_EQ(declared["DocumentReference.relationship"], "composite");
  EXPECT_EQ(declared["Group.characteristic-value"], "composite");
  EXPECT_EQ(declared["Location.near"], "special");
}

}  // namespace
}  // namespace carnet::testing
