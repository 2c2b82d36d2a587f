// $validate with mode=create|update|delete and profile (R4 Resource-validate, issue 15) on the
// live gateway and PostgreSQL: for the same caller and payload, $validate's verdict is the write's
// (both accept, or both refuse with the same issue code), nothing is written by $validate, and a
// resource the caller may not see is told as one that does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The first issue of severity error or fatal ("" when there is none).
std::string FirstErrorCode(const JsonValue& oo) {
  if (const JsonValue* issues = oo.Find("issue"))
    for (const JsonValue& i : issues->items())
      if (i.GetString("severity") == "error" || i.GetString("severity") == "fatal")
        return i.GetString("code");
  return "";
}

std::string FirstErrorText(const JsonValue& oo) {
  if (const JsonValue* issues = oo.Find("issue"))
    for (const JsonValue& i : issues->items())
      if (i.GetString("severity") == "error" || i.GetString("severity") == "fatal")
        return i.GetString("diagnostics");
  return "";
}

// One caller: a bearer token and the headers it sends with every request.
struct Caller {
  std::string name;
  std::string token;
  std::vector<std::string> headers;
};

class ValidateModesTest : public SharedGatewayTest {
 protected:
  void SetUp() override {
    patient_ = "vm-" + RandomHex(6);
    ins_ = "1" + std::to_string(200000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10);
    auto r = Send(Suite(), "PUT", "Patient/" + patient_,
                  R"({"resourceType":"Patient","id":")" + patient_ + R"(",)" + kDiv +
                      R"(,"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":")" + ins_ +
                      R"("}],"name":[{"family":"Valide"}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static Caller Suite() { return {"deposit source", SuiteToken(), {}}; }
  static Caller Operator() {
    return {"operator", Token({"--actor", "operator", "--id", "ops-vm"}), {}};
  }
  static Caller OtherLab() {
    return {"another deposit source",
            Token({"--actor", "system", "--id", "lab-vm", "--client-id", "lab-vm"}),
            {}};
  }
  static Caller Pro(const std::string& name, const std::string& rpps,
                    const std::string& profession) {
    return {name,
            Token({"--actor", "professional", "--id", rpps, "--profession", profession, "--org",
                   "org-vm"}),
            {"X-Patient-Consent: true"}};
  }

  HttpResult Send(const Caller& c, const std::string& method, const std::string& path,
                  const std::string& body = "") {
    HttpClient client;
    client.SetBearer(c.token);
    std::vector<std::string> headers = c.headers;
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }

  // $validate's answer: always 200 with an OperationOutcome when validation ran.
  JsonValue Validate(const Caller& c, const std::string& path, const std::string& body = "") {
    auto r = Send(c, "POST", path, body);
    EXPECT_EQ(r.status, 200) << c.name << " " << path << ": " << r.body.substr(0, 600);
    JsonValue oo = Parse(r.body);
    EXPECT_EQ(oo.GetString("resourceType"), "OperationOutcome") << r.body.substr(0, 300);
    return oo;
  }

  // $validate of `mode` then the write itself: the same verdict, and the same issue code when
  // refused. Returns the write's answer.
  HttpResult ExpectSameVerdict(const Caller& c, const std::string& validate_path,
                               const std::string& method, const std::string& write_path,
                               const std::string& body, const std::string& what) {
    JsonValue oo = Validate(c, validate_path, body);
    std::string validate_code = FirstErrorCode(oo);
    auto w = Send(c, method, write_path, body);
    EXPECT_LT(w.status, 500) << what << ": " << w.body.substr(0, 400);
    bool written = w.status < 300;
    EXPECT_EQ(validate_code.empty(), written)
        << what << " (" << c.name << "): $validate said " << WriteJson(oo).substr(0, 600)
        << "\nthe write answered " << w.status << " " << w.body.substr(0, 600);
    if (!written) {
      JsonValue write_oo = Parse(w.body);
      EXPECT_EQ(validate_code, FirstErrorCode(write_oo))
          << what << ": $validate " << FirstErrorText(oo) << "\nwrite " << FirstErrorText(write_oo);
    }
    return w;
  }

  std::string Observation(const std::string& members = "") const {
    return std::string(R"({"resourceType":"Observation",)") + kDiv +
           R"(,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},)"
           R"("subject":{"reference":"Patient/)" +
           patient_ + R"("})" + (members.empty() ? "" : "," + members) + "}";
  }
  std::string Dispense() const {
    return R"({"resourceType":"MedicationDispense","status":"completed",)"
           R"("medicationCodeableConcept":{"text":"amoxicilline 1 g"},)"
           R"("subject":{"reference":"Patient/)" +
           patient_ + R"("}})";
  }

  std::string patient_;
  std::string ins_;
};

// mode=create: for each caller and payload, $validate answers what POST then answers.
TEST_F(ValidateModesTest, CreateVerdictIsTheWritesVerdict) {
  struct Case {
    Caller caller;
    std::string type;
    std::string body;
    bool accepted;
    std::string code;  // the refusal's issue code
    std::string what;
  };
  std::string sp_code = "_vm" + RandomHex(4);
  std::vector<Case> cases = {
      {Suite(), "Observation",
       Observation(
           R"("valueQuantity":{"value":72,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})"),
       true, "", "a valid Observation"},
      {Suite(), "AuditEvent",
       R"({"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2026-01-01T00:00:00Z",)"
       R"("agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}})",
       false, "not-supported", "a read-only type"},
      {Operator(), "SearchParameter",
       R"({"resourceType":"SearchParameter","url":"http://example.org/sp/)" + sp_code +
           R"(","name":"vm","status":"active","description":"x","code":")" + sp_code +
           R"(","base":["Observation"],"type":"token","expression":"Observation.status"})",
       false, "not-supported", "a reserved SearchParameter code"},
      {Suite(), "Observation",
       std::string(R"({"resourceType":"Observation",)") + kDiv +
           R"(,"status":"final","code":{"text":"poids"},"subject":{"display":"M. Dupont"}})",
       false, "invalid", "an orphan Observation (display-only subject)"},
      {Suite(), "Observation",
       Observation(R"("valueQuantity":{"value":72},"dataAbsentReason":{"text":"unknown"})"), false,
       "invariant", "obs-6 broken"},
      {Pro("optician", "810000000311", "28"), "MedicationDispense", Dispense(), false, "",
       "an optician writes a dispensation"},
      {Pro("pharmacist", "810000000310", "21"), "MedicationDispense", Dispense(), true, "",
       "a pharmacist writes a dispensation"},
  };
  for (const Case& c : cases) {
    JsonValue oo = Validate(c.caller, c.type + "/$validate?mode=create", c.body);
    EXPECT_EQ(FirstErrorCode(oo).empty(), c.accepted)
        << c.what << ": " << WriteJson(oo).substr(0, 600);
    if (!c.code.empty()) {
      EXPECT_EQ(FirstErrorCode(oo), c.code) << c.what;
    }
    ExpectSameVerdict(c.caller, c.type + "/$validate?mode=create", "POST", c.type, c.body, c.what);
  }
  // The orphan's refusal names the placement rule.
  JsonValue orphan = Validate(Suite(), "Observation/$validate?mode=create", cases[3].body);
  EXPECT_NE(FirstErrorText(orphan).find("names no Patient"), std::string::npos)
      << WriteJson(orphan);
}

// A SearchParameter code already defined for the type is told by $validate mode=create as by
// the write (the store's own rule, met inside the rolled-back dry run).
TEST_F(ValidateModesTest, DuplicateSearchParameterCode) {
  std::string code = "vm" + RandomHex(5);
  auto sp = [&](const std::string& n) {
    return R"({"resourceType":"SearchParameter","url":"http://example.org/sp/)" + code + n +
           R"(","name":"vm","status":"active","description":"x","code":")" + code +
           R"(","base":["Observation"],"type":"token","expression":"Observation.status"})";
  };
  JsonValue first = Validate(Operator(), "SearchParameter/$validate?mode=create", sp("a"));
  EXPECT_EQ(FirstErrorCode(first), "") << WriteJson(first);
  ASSERT_EQ(Send(Operator(), "POST", "SearchParameter", sp("a")).status, 201);
  JsonValue second = Validate(Operator(), "SearchParameter/$validate?mode=create", sp("b"));
  EXPECT_NE(FirstErrorText(second).find("already defines Observation." + code), std::string::npos)
      << WriteJson(second);
  ExpectSameVerdict(Operator(), "SearchParameter/$validate?mode=create", "POST", "SearchParameter",
                    sp("b"), "a duplicate SearchParameter code");
  // Without a mode nothing about stored state is said: the definition itself is fine.
  JsonValue general = Validate(Operator(), "SearchParameter/$validate", sp("b"));
  EXPECT_EQ(FirstErrorCode(general), "") << WriteJson(general);
}

// Without a mode, the server's rules that need nothing but the resource are told too (a reserved
// SearchParameter code), while a read-only type is only refused when a write is named.
TEST_F(ValidateModesTest, NoModeTellsTheTargetFreeServerRules) {
  JsonValue sp = Validate(
      Suite(), "SearchParameter/$validate",
      R"({"resourceType":"SearchParameter","url":"http://example.org/sp/x","name":"x",)"
      R"("status":"active","description":"x","code":"_lastUpdated","base":["Observation"],)"
      R"("type":"date","expression":"Observation.meta.lastUpdated"})");
  EXPECT_EQ(FirstErrorCode(sp), "not-supported") << WriteJson(sp);
  EXPECT_NE(FirstErrorText(sp).find("reserved"), std::string::npos) << WriteJson(sp);
  JsonValue fine = Validate(Suite(), "Observation/$validate", Observation());
  EXPECT_EQ(FirstErrorCode(fine), "") << WriteJson(fine);
}

// mode=create in a Parameters body, with a profile: the core definition of the type is known,
// any other profile is an error, never a silent pass; $validate writes nothing.
TEST_F(ValidateModesTest, ParametersBodyAndProfile) {
  auto params = [&](const std::string& mode, const std::string& profile) {
    return R"({"resourceType":"Parameters","parameter":[{"name":"resource","resource":)" +
           Observation(R"("identifier":[{"system":"urn:vm","value":")" + patient_ + R"("}])") +
           R"(},{"name":"mode","valueCode":")" + mode + R"("},{"name":"profile","valueUri":")" +
           profile + R"("}]})";
  };
  JsonValue core =
      Validate(Suite(), "Observation/$validate",
               params("create", "http://hl7.org/fhir/StructureDefinition/Observation"));
  EXPECT_EQ(FirstErrorCode(core), "") << WriteJson(core);
  JsonValue unknown =
      Validate(Suite(), "Observation/$validate",
               params("create", "http://example.org/fhir/StructureDefinition/unheard-of"));
  EXPECT_NE(FirstErrorText(unknown).find("profile not known"), std::string::npos)
      << WriteJson(unknown);
  JsonValue other = Validate(Suite(),
                             "Observation/$validate?profile=" +
                                 std::string("http://hl7.org/fhir/StructureDefinition/Patient"),
                             Observation());
  EXPECT_EQ(FirstErrorCode(other), "invalid") << WriteJson(other);
  // Nothing was stored by the three dry runs.
  auto search =
      Send(Suite(), "GET", "Observation?identifier=urn:vm|" + patient_ + "&_summary=count");
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(Parse(search.body).Find("total")->text(), "0") << search.body;
  // The control: the same Observation written for real is found by that search.
  auto written =
      Send(Suite(), "POST", "Observation",
           Observation(R"("identifier":[{"system":"urn:vm","value":")" + patient_ + R"("}])"));
  ASSERT_EQ(written.status, 201) << written.body;
  search = Send(Suite(), "GET", "Observation?identifier=urn:vm|" + patient_ + "&_summary=count");
  EXPECT_EQ(Parse(search.body).Find("total")->text(), "1") << search.body;
  // A request that is itself wrong is a 4xx.
  EXPECT_EQ(Send(Suite(), "POST", "Observation/$validate?mode=merge", Observation()).status, 400);
  EXPECT_EQ(Send(Suite(), "POST", "Observation/$validate?mode=update", Observation()).status, 400);
}

// mode=update and mode=delete at [type]/[id]/$validate: the verdict of PUT and DELETE for the
// same caller; $validate mode=delete deletes nothing, and a resource the caller may not see
// answers as one that does not exist.
TEST_F(ValidateModesTest, UpdateAndDeleteVerdicts) {
  auto created = Send(Suite(), "POST", "Observation", Observation());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Parse(created.body).GetString("id");
  std::string changed = ReplaceAll(
      Observation(
          R"("valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})"),
      R"({"resourceType":"Observation",)",
      R"({"resourceType":"Observation","id":")" + id + R"(",)");
  // Accepted: the depositor revises its own Observation.
  JsonValue ok = Validate(Suite(), "Observation/" + id + "/$validate?mode=update", changed);
  EXPECT_EQ(FirstErrorCode(ok), "") << WriteJson(ok);
  // Refused: another deposit source does not see it; as an unused id would answer.
  std::string missing = "vm-missing-" + RandomHex(6);
  std::string changed_missing = ReplaceAll(changed, id, missing);
  JsonValue hidden_u =
      Validate(OtherLab(), "Observation/" + id + "/$validate?mode=update", changed);
  JsonValue missing_u =
      Validate(OtherLab(), "Observation/" + missing + "/$validate?mode=update", changed_missing);
  EXPECT_NE(FirstErrorCode(hidden_u), "") << WriteJson(hidden_u);
  EXPECT_EQ(ReplaceAll(WriteJson(hidden_u), id, missing), WriteJson(missing_u));
  ExpectSameVerdict(OtherLab(), "Observation/" + id + "/$validate?mode=update", "PUT",
                    "Observation/" + id, changed, "update by another deposit source");
  ExpectSameVerdict(Suite(), "Observation/" + id + "/$validate?mode=update", "PUT",
                    "Observation/" + id, changed, "update by the depositor");

  // Delete: a hidden resource and an unused id answer alike, on $validate as on DELETE.
  JsonValue hidden_d = Validate(OtherLab(), "Observation/" + id + "/$validate?mode=delete");
  JsonValue missing_d = Validate(OtherLab(), "Observation/" + missing + "/$validate?mode=delete");
  EXPECT_EQ(ReplaceAll(WriteJson(hidden_d), id, missing), WriteJson(missing_d));
  auto del_hidden = Send(OtherLab(), "DELETE", "Observation/" + id);
  auto del_missing = Send(OtherLab(), "DELETE", "Observation/" + missing);
  EXPECT_EQ(del_hidden.status, del_missing.status) << del_hidden.body << "\n" << del_missing.body;
  // The depositor may delete it; $validate says so and leaves it in place.
  JsonValue may = Validate(Suite(), "Observation/" + id + "/$validate?mode=delete");
  EXPECT_EQ(FirstErrorCode(may), "") << WriteJson(may);
  EXPECT_EQ(Send(Suite(), "GET", "Observation/" + id).status, 200);
  // A patient may not delete clinical content: refused by $validate as by DELETE.
  Caller patient{"patient", Token({"--actor", "patient", "--id", "pat-vm", "--patient", ins_}), {}};
  JsonValue refused = Validate(patient, "Observation/" + id + "/$validate?mode=delete");
  EXPECT_NE(FirstErrorCode(refused), "") << WriteJson(refused);
  ExpectSameVerdict(patient, "Observation/" + id + "/$validate?mode=delete", "DELETE",
                    "Observation/" + id, "", "delete by the patient");
  ExpectSameVerdict(Suite(), "Observation/" + id + "/$validate?mode=delete", "DELETE",
                    "Observation/" + id, "", "delete by the depositor");
}

// The CapabilityStatement declares $validate by an OperationDefinition naming its parameters.
TEST_F(ValidateModesTest, CapabilityStatementDeclaresTheModes) {
  auto r = Send(Suite(), "GET", "metadata");
  ASSERT_EQ(r.status, 200);
  JsonValue cs = Parse(r.body);
  std::string definition;
  for (const JsonValue& res : cs.Find("rest")->items()[0].Find("resource")->items())
    if (res.GetString("type") == "Observation")
      for (const JsonValue& op : res.Find("operation")->items())
        if (op.GetString("name") == "validate") definition = op.GetString("definition");
  const std::string kTail = "/OperationDefinition/Resource-validate";
  ASSERT_GT(definition.size(), kTail.size()) << r.body.substr(0, 300);
  EXPECT_EQ(definition.substr(definition.size() - kTail.size()), kTail);
  auto read = Send(Suite(), "GET", "OperationDefinition/Resource-validate");
  ASSERT_EQ(read.status, 200) << read.body;
  JsonValue od = Parse(read.body);
  EXPECT_EQ(od.GetString("url"), definition);
  std::vector<std::string> names;
  for (const JsonValue& p : od.Find("parameter")->items()) names.push_back(p.GetString("name"));
  for (const char* n : {"resource", "mode", "profile", "return"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace carnet::testing
