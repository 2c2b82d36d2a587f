// The patient summary's builder (summary/document.h) and PDF (summary/pdf.h) on a record given
// in memory: the IPS rules of the Bundle (R4 validator with the invariants, the IPS guide's own
// constraints evaluated by carnet's FHIRPath engine), the section table against the IPS
// Composition profile (tests/data/ips/), narratives that escape what the record holds, the
// patient's declarations, and a PDF that cairo writes.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/json.h"
#include "model/fhirpath.h"
#include "model/narrative.h"
#include "model/structure.h"
#include "model/validator.h"
#include "summary/document.h"
#include "summary/pdf.h"
#include "summary/sections.h"

namespace carnet::summary {
namespace {

JsonValue J(const std::string& text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? std::move(v).value() : JsonValue();
}

JsonValue ReadJsonFile(const std::string& relative) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return J(ss.str());
}

SummaryRequest Record() {
  SummaryRequest r;
  r.base_url = "https://carnet.example.org/fhir";
  r.requester = "le patient";
  r.patient =
      J(R"({"resourceType":"Patient","id":"p1","name":[{"family":"Dupré","given":["Anaïs"]}],
    "birthDate":"1971-07-04","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"271079912345678"}]})");
  const char* subject = R"("subject":{"reference":"Patient/p1"})";
  r.resources = {
      J(std::string(
            R"({"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"code":"active"}]},
        "code":{"text":"Asthme <script>alert(1)</script> & co"},"onsetDateTime":"2001-09-15",)") +
        subject + R"(,"recorder":{"reference":"Patient/p1"}})"),
      J(std::string(
            R"({"resourceType":"Condition","id":"c2","clinicalStatus":{"coding":[{"code":"resolved"}]},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"195967001","display":"Asthma"}]},
        "recorder":{"reference":"https://carnet.example.org/fhir/Practitioner/pr1"},)") +
        subject + "}"),
      J(std::string(R"({"resourceType":"Observation","id":"o1","status":"final",
        "category":[{"coding":[{"code":"vital-signs"}]}],"code":{"text":"Poids"},
        "valueQuantity":{"value":61.5,"unit":"kg"},"effectiveDateTime":"2026-11-02T08:00:00+01:00",)") +
        subject + "}"),
      J(R"({"resourceType":"Provenance","id":"pr1","target":[{"reference":"Observation/o1/_history/1"}],
        "recorded":"2026-11-02T08:00:00Z","agent":[{"who":{"reference":"Patient/p1"}}]})"),
      J(R"({"resourceType":"Immunization","id":"i1","status":"completed","vaccineCode":{"text":"ROR"},
        "occurrenceDateTime":"1973-01-10","patient":{"reference":"Patient/p1"}})"),
      J(R"({"resourceType":"Provenance","id":"pr2","target":[{"reference":"Immunization/i1"}],
        "recorded":"2026-11-02T08:00:00Z","agent":[{"who":{"display":"représentant légal g1"},
        "onBehalfOf":{"reference":"Patient/p1"}}]})"),
      J(R"({"resourceType":"Consent","id":"app","status":"active","scope":{"coding":[{"code":"patient-privacy"}]},
        "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p1"}})"),
  };
  r.shared = {
      J(R"({"resourceType":"Practitioner","id":"pr1","name":[{"prefix":["Dr"],"given":["Louise"],"family":"Bernard"}]})"),
      J(R"({"resourceType":"Organization","id":"org1","name":"Clinique du Parc"})"),
  };
  return r;
}

const JsonValue& CompositionOf(const JsonValue& bundle) {
  return *bundle.Find("entry")->items()[0].Find("resource");
}

std::string SectionCode(const JsonValue& s) {
  return s.Find("code")->Find("coding")->items()[0].GetString("code");
}

TEST(SummarySections, TheTableParsesAndKeepsItsOrder) {
  const SectionTable& t = IpsSections();
  ASSERT_EQ(t.sections.size(), 11u);
  EXPECT_EQ(t.sections[0].code, "11450-4");
  EXPECT_EQ(t.sections[0].conformance, Conformance::kRequired);
  EXPECT_EQ(t.labels.at("resolved"), "résolu");
  EXPECT_FALSE(ParseSectionTable("section\t1\tsometimes\tx\ty\n").ok());
  EXPECT_FALSE(ParseSectionTable("entry\t1\tCondition\n").ok())
      << "an entry of an undeclared section";
  EXPECT_FALSE(
      ParseSectionTable("section\t1\trequired\tx\ty\nentry\t1\tCondition\tcode.where(\n").ok());
}

// The published rule: the IPS Composition profile's section slices.
TEST(SummarySections, TheTableIsTheIpsGuides) {
  JsonValue sd =
      ReadJsonFile("tests/data/ips/StructureDefinition-Composition-uv-ips.differential.json");
  ASSERT_EQ(sd.GetString("url"),
            "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips");
  std::map<std::string, std::string> slice_code;  // slice name -> LOINC
  std::map<std::string, int> slice_min;
  std::map<std::string, std::set<std::string>> slice_types;  // LOINC -> resource types
  for (const auto& e : sd.Find("differential")->Find("element")->items()) {
    std::string id = e.GetString("id"), path = e.GetString("path");
    if (path == "Composition.section" && !e.GetString("sliceName").empty())
      slice_min[e.GetString("sliceName")] = std::stoi(e.Find("min")->text());
    auto colon = id.find("section:");
    if (colon == std::string::npos) continue;
    std::string slice = id.substr(colon + 8, id.find('.', colon) - colon - 8);
    if (path == "Composition.section.code")
      if (const JsonValue* p = e.Find("patternCodeableConcept"))
        slice_code[slice] = p->Find("coding")->items()[0].GetString("code");
    if (path == "Composition.section.entry")
      if (const JsonValue* types = e.Find("type"))
        for (const auto& t : types->items())
          if (const JsonValue* targets = t.Find("targetProfile"))
            for (const auto& target : targets->items()) {
              std::string name = target.text().substr(target.text().rfind('/') + 1);
              std::string type =
                  name == "vitalsigns" ? "Observation" : name.substr(0, name.find('-'));
              slice_types[slice].insert(type);
            }
  }
  ASSERT_GE(slice_code.size(), 16u);
  std::map<std::string, std::string> slice_of;  // LOINC -> slice
  for (const auto& [slice, code] : slice_code) slice_of[code] = slice;
  std::set<std::string> required_by_ips, required_here;
  for (const auto& [slice, min] : slice_min)
    if (min >= 1) required_by_ips.insert(slice_code[slice]);
  for (const SectionRule& s : IpsSections().sections) {
    SCOPED_TRACE(s.code);
    ASSERT_TRUE(slice_of.count(s.code)) << "not an IPS section";
    if (s.conformance == Conformance::kRequired) required_here.insert(s.code);
    for (const auto& e : s.entries) {
      // The guide lists Consent for advance directives; its slicing is open, and the French
      // record keeps them as documents too (DocumentReference of type 42348-3).
      if (s.code == "42348-3" && e.resource_type == "DocumentReference") continue;
      EXPECT_TRUE(slice_types[slice_of[s.code]].count(e.resource_type)) << e.resource_type;
    }
  }
  EXPECT_EQ(required_here, required_by_ips);
  EXPECT_EQ(required_here, (std::set<std::string>{"11450-4", "48765-2", "10160-0"}));
}

TEST(SummaryDocument, TheBundleKeepsTheRulesOfR4AndOfTheIps) {
  auto s = BuildSummary(Record());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const JsonValue& bundle = s->bundle;
  // The R4 definitions and invariants (bdl-*, cmp-1, cmp-2, txt-1, txt-2...): no error, and
  // every invariant checked.
  for (const auto& i : model::ValidateResource(bundle)) {
    EXPECT_NE(i.severity, "error") << i.expression << ": " << i.message;
    EXPECT_NE(i.code, "informational") << i.expression << ": " << i.message;
  }
  // The guide's own constraints, by carnet's FHIRPath engine.
  JsonValue bsd =
      ReadJsonFile("tests/data/ips/StructureDefinition-Bundle-uv-ips.differential.json");
  JsonValue csd =
      ReadJsonFile("tests/data/ips/StructureDefinition-Composition-uv-ips.differential.json");
  model::FhirPathEnvironment env;
  env.registry = &model::StructureRegistry::R4();
  int checked = 0;
  for (const auto& e : bsd.Find("differential")->Find("element")->items())
    if (const JsonValue* cs = e.Find("constraint"))
      for (const auto& c : cs->items()) {
        auto expr = model::FhirPathExpression::Parse(c.GetString("expression"));
        ASSERT_TRUE(expr.ok()) << c.GetString("expression");
        auto holds = expr->EvaluateBoolean(bundle, env);
        ASSERT_TRUE(holds.ok());
        EXPECT_TRUE(*holds) << c.GetString("key");
        ++checked;
      }
  const JsonValue& composition = CompositionOf(bundle);
  for (const auto& e : csd.Find("differential")->Find("element")->items())
    if (const JsonValue* cs = e.Find("constraint"))
      for (const auto& c : cs->items()) {
        // ips-comp-1 sits on each required section slice: the section of that slice's code.
        std::string slice = e.GetString("id").substr(e.GetString("id").find(':') + 1);
        std::string code;
        for (const auto& other : csd.Find("differential")->Find("element")->items())
          if (other.GetString("id") == "Composition.section:" + slice + ".code")
            code =
                other.Find("patternCodeableConcept")->Find("coding")->items()[0].GetString("code");
        auto expr = model::FhirPathExpression::Parse(c.GetString("expression"));
        ASSERT_TRUE(expr.ok()) << c.GetString("expression");
        bool found = false;
        for (const auto& section : composition.Find("section")->items())
          if (SectionCode(section) == code) {
            found = true;
            auto holds = expr->Evaluate(
                model::FhirPathCollection{model::FhirPathNode::Element(&section)}, env);
            ASSERT_TRUE(holds.ok());
            EXPECT_TRUE(holds->size() == 1 && holds->front().boolean)
                << c.GetString("key") << " on " << code;
            ++checked;
          }
        EXPECT_TRUE(found) << "required section " << code;
      }
  EXPECT_EQ(checked, 4) << "bdl-ips-1 and ips-comp-1 on the three required sections";

  // What the record gave: the current problem, the past one, the vital sign; the app's
  // authorisation (a Consent) is not an advance directive; empty required sections say why.
  std::vector<std::string> codes;
  for (const auto& section : composition.Find("section")->items())
    codes.push_back(SectionCode(section));
  EXPECT_EQ(codes, (std::vector<std::string>{"11450-4", "48765-2", "10160-0", "11369-6", "8716-3",
                                             "11348-0"}));
  std::vector<std::string> urls;
  for (const auto& e : bundle.Find("entry")->items()) urls.push_back(e.GetString("fullUrl"));
  ASSERT_EQ(urls.size(), 8u)
      << "Composition, Patient, Device, c1, i1, o1, c2, and the Practitioner c2 names";
  EXPECT_EQ(urls[7], "https://carnet.example.org/fhir/Practitioner/pr1");
  EXPECT_EQ(ReferencedResources(CompositionOf(bundle), "https://carnet.example.org/fhir"),
            (std::vector<std::string>{"Patient/p1", "Condition/c1", "Immunization/i1",
                                      "Observation/o1", "Condition/c2"}))
      << "the Device is a urn:uuid";
}

TEST(SummaryDocument, NarrativesAreEscapedAndSayWhoDeclared) {
  auto s = BuildSummary(Record());
  ASSERT_TRUE(s.ok());
  for (const auto& section : CompositionOf(s->bundle).Find("section")->items()) {
    std::string div = section.Find("text")->GetString("div");
    EXPECT_TRUE(model::CheckNarrative(div).empty()) << div;
    EXPECT_EQ(div.find("<script"), std::string::npos) << div;
  }
  ASSERT_EQ(s->sections.size(), 6u);
  EXPECT_TRUE(s->sections[3].rows.at(0).patient_declared) << "a guardian, on the patient's behalf";
  const SummaryRow& asthma = s->sections[0].rows.at(0);
  EXPECT_TRUE(asthma.patient_declared) << "recorder: the Patient";
  EXPECT_EQ(asthma.cells,
            (std::vector<std::string>{"Asthme <script>alert(1)</script> & co", "actif",
                                      "15/09/2001", "déclaré par le patient"}));
  const SummaryRow& weight = s->sections[4].rows.at(0);
  EXPECT_TRUE(weight.patient_declared) << "a Provenance whose agent is the Patient";
  EXPECT_EQ(weight.cells[1], "61.5 kg");
  EXPECT_EQ(weight.cells[2], "02/11/2026");
  EXPECT_FALSE(s->sections[5].rows.at(0).patient_declared);
  EXPECT_EQ(s->sections[5].rows.at(0).cells[0], "Asthma");
  EXPECT_EQ(s->sections[5].rows.at(0).cells[4], "Dr Louise Bernard") << "the recorder, by its name";
  EXPECT_EQ(s->sections[1].rows.size(), 0u) << "no allergy: an empty required section";
  EXPECT_EQ(s->patient.name, "Anaïs DUPRÉ") << "the family name in capitals, accents too";
  EXPECT_EQ(s->patient.birth_date, "04/07/1971");
  EXPECT_EQ(s->patient.identifiers, std::vector<std::string>{"INS : 271079912345678"});
}

TEST(SummaryDocument, DatesReadAsAFrenchReaderReadsThem) {
  EXPECT_EQ(ReadableDate("2024-03-12"), "12/03/2024");
  EXPECT_EQ(ReadableDate("2024-03-12T10:00:00+01:00"), "12/03/2024");
  EXPECT_EQ(ReadableDate("2024-03"), "03/2024");
  EXPECT_EQ(ReadableDate("2024"), "2024");
  EXPECT_EQ(ReadableDate("soon"), "soon");
  EXPECT_EQ(XhtmlEscape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
}

TEST(SummaryPdf, CairoWritesAnA4Pdf) {
  auto s = BuildSummary(Record());
  ASSERT_TRUE(s.ok());
  auto pdf = RenderSummaryPdf(*s);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf->find("/MediaBox [ 0 0 595.28 841.89 ]"), std::string::npos);
  EXPECT_EQ(SummaryPdfFileName(*s), "synthese-medicale-p1.pdf");
}

}  // namespace
}  // namespace carnet::summary
