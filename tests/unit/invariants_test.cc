// The R4 invariants (ElementDefinition.constraint) as the validator applies them: for each core
// invariant of the list in issue 15, a resource that breaks it and one that conforms.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/json.h"
#include "model/fhirpath.h"
#include "model/narrative.h"
#include "model/structure.h"
#include "model/validator.h"

namespace carnet::model {
namespace {

std::vector<ValidationIssue> Validate(const std::string& json) {
  Result<JsonValue> parsed = ParseJson(json);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok()) return {};
  return ValidateResource(*parsed);
}

std::string Describe(const std::vector<ValidationIssue>& issues) {
  std::string out;
  for (const auto& i : issues)
    out += "  " + i.severity + " " + i.code + " [" + i.key + "] @ " + i.expression + ": " +
           i.message + "\n";
  return out;
}

// The issues of code "invariant" with `key`.
std::vector<ValidationIssue> Broken(const std::vector<ValidationIssue>& issues,
                                    const std::string& key) {
  std::vector<ValidationIssue> out;
  for (const auto& i : issues)
    if (i.code == "invariant" && i.key == key) out.push_back(i);
  return out;
}

struct Case {
  const char* key;
  const char* severity;    // of the invariant
  const char* expression;  // where it is reported
  std::string breaking;
  std::string conforming;
  // Nothing else is wrong with the breaking resource (dom-2's nested resource cannot avoid
  // ref-1 and a structure error).
  bool alone = true;
};

constexpr char kDiv[] =
    R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">A</div>"})";

std::string Observation(const std::string& members) {
  return std::string(R"({"resourceType":"Observation",)") + kDiv +
         R"(,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]})" +
         (members.empty() ? "" : "," + members) + "}";
}

std::string Patient(const std::string& members) {
  return std::string(R"({"resourceType":"Patient",)") + kDiv +
         (members.empty() ? "" : "," + members) + "}";
}

std::string PatientWithDiv(const std::string& div) {
  return R"({"resourceType":"Patient","text":{"status":"generated","div":")" + div + R"("}})";
}

// A StructureDefinition named `name`, with or without its baseDefinition (sdf-4).
std::string StructureDefinition(const std::string& name, bool with_base) {
  return R"({"resourceType":"StructureDefinition",)" + std::string(kDiv) +
         R"(,"url":"http://example.org/sd","name":")" + name +
         R"(","status":"draft","kind":"resource","abstract":false,"type":"Patient",)" +
         (with_base ? R"("baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",)"
                    : "") +
         R"("derivation":"constraint","differential":{"element":[{"id":"Patient","path":"Patient"}]}})";
}

std::vector<Case> Cases() {
  return {
      {"obs-6", "error", "Observation",
       Observation(R"("valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},)"
                   R"("dataAbsentReason":{"text":"not asked"})"),
       Observation(R"("dataAbsentReason":{"text":"not asked"})")},
      {"obs-7", "error", "Observation",
       Observation(R"("valueString":"x","component":[{"code":{"coding":[{"system":)"
                   R"("http://loinc.org","code":"29463-7"}]},"valueString":"y"}])"),
       Observation(R"("component":[{"code":{"coding":[{"system":"http://loinc.org",)"
                   R"("code":"29463-7"}]},"valueString":"y"}])")},
      {"per-1", "error", "Observation.effectivePeriod",
       Observation(R"("effectivePeriod":{"start":"2024-05-02","end":"2024-05-01"})"),
       Observation(R"("effectivePeriod":{"start":"2024-05-01","end":"2024-05-02"})")},
      {"pat-1", "error", "Patient.contact[0]", Patient(R"("contact":[{"gender":"female"}])"),
       Patient(R"("contact":[{"gender":"female","name":{"family":"Martin"}}])")},
      {"dom-2", "error", "Patient",
       Patient(
           R"("contained":[{"resourceType":"Organization","id":"o","name":"x",)"
           R"("partOf":{"reference":"#p"},"contained":[{"resourceType":"Organization","id":"p",)"
           R"("name":"y"}]}],)"
           R"("managingOrganization":{"reference":"#o"})"),
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x"}],)"
               R"("managingOrganization":{"reference":"#o"})"),
       false},
      {"dom-3", "error", "Patient",
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x"}])"),
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x"}],)"
               R"("managingOrganization":{"reference":"#o"})")},
      {"dom-4", "error", "Patient",
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x",)"
               R"("meta":{"versionId":"2"}}],"managingOrganization":{"reference":"#o"})"),
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x",)"
               R"("meta":{"profile":["http://example.org/p"]}}],)"
               R"("managingOrganization":{"reference":"#o"})")},
      {"dom-5", "error", "Patient",
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x",)"
               R"("meta":{"security":[{"code":"R"}]}}],)"
               R"("managingOrganization":{"reference":"#o"})"),
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x"}],)"
               R"("managingOrganization":{"reference":"#o"})")},
      {"dom-6", "warning", "Patient", R"({"resourceType":"Patient","active":true})",
       Patient(R"("active":true)")},
      {"ref-1", "error", "Patient.managingOrganization",
       Patient(R"("managingOrganization":{"reference":"#nowhere"})"),
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x"}],)"
               R"("managingOrganization":{"reference":"#o"})"),
       false},  // the reference check of the structure reports it too
      {"txt-1", "error", "Patient.text.div",
       PatientWithDiv(
           R"(<div xmlns=\"http://www.w3.org/1999/xhtml\">hi<script>alert(1)</script></div>)"),
       PatientWithDiv(
           R"(<div xmlns=\"http://www.w3.org/1999/xhtml\"><p class=\"x\">hi</p></div>)")},
      {"txt-2", "error", "Patient.text.div",
       PatientWithDiv(R"(<div xmlns=\"http://www.w3.org/1999/xhtml\">  <p> </p></div>)"),
       PatientWithDiv(R"(<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>text</p></div>)")},
      {"sdf-4", "error", "StructureDefinition", StructureDefinition("Sd", false),
       StructureDefinition("Sd", true)},
      {"sdf-0", "warning", "StructureDefinition", StructureDefinition("my sd", true),
       StructureDefinition("MySd", true)},
      {"ele-1", "error", "Patient.name[0]", Patient(R"("name":[{"id":"n1"}])"),
       Patient(R"("name":[{"id":"n1","family":"Martin"}])")},
      {"ext-1", "error", "Patient.extension[0]",
       Patient(R"("extension":[{"url":"http://example.org/x","valueString":"a",)"
               R"("extension":[{"url":"y","valueString":"b"}]}])"),
       Patient(R"("extension":[{"url":"http://example.org/x","valueString":"a"}])")},
  };
}

TEST(InvariantsTest, EachCoreInvariantBreaksAndHolds) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.key);
    auto breaking = Validate(c.breaking);
    auto broken = Broken(breaking, c.key);
    ASSERT_EQ(broken.size(), 1u) << c.breaking << "\n" << Describe(breaking);
    EXPECT_EQ(broken[0].severity, c.severity) << Describe(breaking);
    EXPECT_EQ(broken[0].expression, c.expression) << Describe(breaking);
    // The key and the official human text lead the message.
    EXPECT_EQ(broken[0].message.rfind(std::string(c.key) + ": ", 0), 0u) << broken[0].message;
    // Nothing else is wrong: the case tests this invariant only.
    for (const auto& i : breaking) {
      if (c.alone && i.severity == "error") {
        EXPECT_EQ(i.key, c.key) << Describe(breaking);
      }
    }

    auto conforming = Validate(c.conforming);
    for (const auto& i : conforming) {
      EXPECT_NE(i.severity, "error") << c.conforming << "\n" << Describe(conforming);
    }
    EXPECT_TRUE(Broken(conforming, c.key).empty()) << Describe(conforming);
  }
}

TEST(InvariantsTest, HumanTextComesFromTheDefinitions) {
  auto issues = Validate(Observation(R"("valueString":"x","dataAbsentReason":{"text":"n"})"));
  auto broken = Broken(issues, "obs-6");
  ASSERT_EQ(broken.size(), 1u) << Describe(issues);
  EXPECT_EQ(broken[0].message,
            "obs-6: dataAbsentReason SHALL only be present if Observation.value[x] is not present");
}

TEST(InvariantsTest, ContainedResourcesAndDatatypesInsideThemAreChecked) {
  // per-1 inside a contained resource's element, ref-1 seen from the container.
  auto issues = Validate(
      Patient(R"("contained":[{"resourceType":"Organization","id":"o","name":"x","contact":[{)"
              R"("name":{"text":"a","period":{"start":"2024-02-01","end":"2024-01-01"}}}]}],)"
              R"("managingOrganization":{"reference":"#o"})"));
  auto broken = Broken(issues, "per-1");
  ASSERT_EQ(broken.size(), 1u) << Describe(issues);
  EXPECT_EQ(broken[0].expression, "Patient.contained[0].contact[0].name.period");
}

TEST(InvariantsTest, EveryInvariantIsCompiledOrListedAsNotChecked) {
  const auto& summary = StructureRegistry::R4().Invariants();
  EXPECT_GT(summary.total, 200);
  EXPECT_EQ(summary.compiled + static_cast<int>(summary.not_checked.size()), summary.total);
  for (const Invariant* inv : summary.not_checked) {
    EXPECT_FALSE(inv->not_checked.empty()) << inv->key;
    EXPECT_EQ(inv->compiled, nullptr) << inv->key;
  }
  // The functions the core invariants use are all supported: matches() (eld-20, sdf-0...),
  // replaceMatches() (sdf-8a), htmlChecks() (txt-1, txt-2), resolve() (ctm-1).
  std::string listed;
  for (const Invariant* inv : summary.not_checked)
    listed += inv->key + " (" + inv->not_checked + ") ";
  EXPECT_TRUE(summary.not_checked.empty()) << listed;
}

TEST(InvariantsTest, AnInvariantThatCannotBeCheckedIsReportedNotPassed) {
  // A registry whose only invariant uses a function the engine does not have.
  std::string error;
  auto registry = StructureRegistry::FromJson(
      R"json({"types":[
{"name":"id","kind":"primitive","abstract":false,"base":"","elements":[]},
{"name":"Basic","kind":"resource","abstract":false,"base":"","elements":[["id",0,1,["id"]]],
 "constraints":[["","zz-1","error","Needs memberOf","id.memberOf('http://x')"]]}
]})json",
      &error);
  ASSERT_NE(registry, nullptr) << error;
  ASSERT_EQ(registry->Invariants().not_checked.size(), 1u);
  auto parsed = ParseJson(R"({"resourceType":"Basic","id":"a"})");
  auto issues = ValidateResource(*parsed, *registry);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].severity, "information");
  EXPECT_EQ(issues[0].key, "zz-1");
  EXPECT_NE(issues[0].message.find("not checked"), std::string::npos) << issues[0].message;
}

TEST(InvariantsTest, RegexFunctionsOnlyInTheDefinitionsDialect) {
  // A client's expression (search parameter, test script) may not run a regex...
  auto client = FhirPathExpression::Parse("name.matches('[A-Z].*')");
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(FhirPathExpression::IsUnsupportedFeature(client.status()));
  // ...the definitions' may, with a whole-string match and the backslashes kept.
  FhirPathParseOptions definitions;
  definitions.definitions = true;
  auto e = FhirPathExpression::Parse(R"(name.matches('[A-Z]\\w*\.?'))", definitions);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto yes = ParseJson(R"({"name":"Abc."})");
  auto no = ParseJson(R"({"name":"aAbc"})");
  EXPECT_TRUE(*e->EvaluateBoolean(*yes));
  EXPECT_FALSE(*e->EvaluateBoolean(*no));
  // A computed pattern is not accepted: patterns are reviewed, not data.
  auto computed = FhirPathExpression::Parse("name.matches(name)", definitions);
  EXPECT_TRUE(FhirPathExpression::IsUnsupportedFeature(computed.status()));
  // The subject is bounded: a longer string is an evaluation error (then "not checked").
  auto huge = ParseJson(R"({"name":")" + std::string(5000, 'A') + R"("})");
  EXPECT_FALSE(e->EvaluateBoolean(*huge).ok());
}

TEST(InvariantsTest, NarrativeRules) {
  const std::string ns = R"( xmlns="http://www.w3.org/1999/xhtml")";
  auto keys = [](const std::string& div) {
    std::string out;
    for (const auto& p : CheckNarrative(div)) out += p.key + " ";
    return out;
  };
  EXPECT_EQ(keys("<div" + ns + "><p>ok <b>bold</b> <a href=\"#x\">x</a></p></div>"), "");
  EXPECT_EQ(keys("<div" + ns + "><img src=\"#pic\" alt=\"\"/></div>"), "");
  EXPECT_EQ(keys("<div>no namespace</div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + "><p onclick=\"x()\">a</p></div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + "><form>a</form></div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + "><a href=\"javascript:x()\">a</a></div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + "><iframe src=\"http://x\"/>a</div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + "><p>unclosed</div>"), "txt-1 ");
  EXPECT_EQ(keys("<div" + ns + ">   </div>"), "txt-2 ");
  // Deep nesting is walked without recursion.
  std::string deep = "<div" + ns + ">";
  for (int i = 0; i < 20000; ++i) deep += "<span>";
  deep += "x";
  for (int i = 0; i < 20000; ++i) deep += "</span>";
  EXPECT_EQ(keys(deep + "</div>"), "");
}

}  // namespace
}  // namespace carnet::model
