#include "fhir/xml_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "model/structure.h"

namespace carnet::fhir {
namespace {

namespace fs = std::filesystem;

const fs::path kExamples = fs::path(CARNET_SOURCE_DIR "/../shared/testdata/fhir/r4-examples");
const fs::path kFhirPath = fs::path(CARNET_SOURCE_DIR "/../shared/testdata/fhir/fhirpath");

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

JsonValue Json(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : JsonValue();
}

// XML -> JSON, failing the test with the status when it does not convert.
JsonValue FromXml(std::string_view xml, const std::string& what) {
  auto v = ResourceXmlToJson(xml);
  EXPECT_TRUE(v.ok()) << what << ": " << v.status().ToString() << " at " << v.status().location();
  return v.ok() ? *v : JsonValue();
}

std::string ToXml(const JsonValue& json, bool pretty, const std::string& what) {
  auto x = ResourceJsonToXml(json, pretty);
  EXPECT_TRUE(x.ok()) << what << ": " << x.status().ToString() << " at " << x.status().location();
  return x.ok() ? *x : std::string();
}

// JSON -> XML -> JSON, in both layouts.
void ExpectJsonRoundTrip(const JsonValue& original, const std::string& what) {
  for (bool pretty : {false, true}) {
    std::string xml = ToXml(original, pretty, what);
    if (xml.empty()) return;
    JsonValue back = FromXml(xml, what);
    EXPECT_EQ(back, original) << what << (pretty ? " (pretty)" : "") << "\nXML:\n"
                              << xml << "\nback:\n"
                              << WriteJson(back, true);
  }
}

// XML -> JSON -> XML -> JSON gives the same JSON.
JsonValue ExpectXmlStable(const std::string& xml, const std::string& what) {
  JsonValue first = FromXml(xml, what);
  if (first.is_null()) return first;
  std::string again = ToXml(first, true, what);
  JsonValue second = FromXml(again, what);
  EXPECT_EQ(first, second) << what << "\nfirst:\n"
                           << WriteJson(first, true) << "\nsecond:\n"
                           << WriteJson(second, true);
  // The XML written from JSON is a fixed point, text and all.
  EXPECT_EQ(ToXml(second, true, what), again) << what;
  return first;
}

std::vector<fs::path> Files(const fs::path& dir, std::string_view ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(XmlFormatTest, EveryJsonExampleRoundTrips) {
  const auto& r4 = model::StructureRegistry::R4();
  int converted = 0;
  for (const fs::path& p : Files(kExamples, ".json")) {
    auto json = ParseJson(ReadFile(p));
    ASSERT_TRUE(json.ok()) << p << ": " << json.status().ToString();
    if (!json->is_object() || !r4.IsResourceType(json->GetString("resourceType"))) continue;
    ExpectJsonRoundTrip(*json, p.filename().string());
    ++converted;
  }
  std::printf("%d JSON examples round-tripped through XML\n", converted);
  EXPECT_GE(converted, 70);
}

// Replaces every occurrence of `from` in the string.
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

TEST(XmlFormatTest, EveryXmlExampleIsStable) {
  int stable = 0;
  for (const fs::path& p : Files(kExamples, ".xml")) {
    JsonValue json = ExpectXmlStable(ReadFile(p), p.filename().string());
    EXPECT_TRUE(json.is_object()) << p;
    ++stable;
  }
  std::printf("%d XML examples stable through XML -> JSON -> XML -> JSON\n", stable);
  EXPECT_GE(stable, 10);
  for (const char* name : {"condition-example.xml", "medicationdispenseexample8.xml"})
    EXPECT_TRUE(fs::exists(kExamples / name)) << name;
}

TEST(XmlFormatTest, XmlExamplesMatchTheirJsonTwins) {
  auto twin = [](const char* stem) {
    return std::pair(FromXml(ReadFile(kExamples / (std::string(stem) + ".xml")), stem),
                     Json(ReadFile(kExamples / (std::string(stem) + ".json"))));
  };
  for (const char* stem : {"condition-example", "organization-1", "patient-example"}) {
    auto [from_xml, json] = twin(stem);
    EXPECT_EQ(from_xml, json) << stem << "\nfrom XML:\n" << WriteJson(from_xml, true);
  }

  // The other two pairs differ in the test-case files themselves, not in the conversion:
  // observation-decimal.xml spells its decimals otherwise than its JSON twin (1.0e0 vs 1.0,
  // 0.0000000000000000000001 vs 1E-22...). Faithful conversion keeps the XML spelling; once
  // those are set to the JSON spelling, the rest is equal.
  {
    auto [from_xml, json] = twin("observation-decimal");
    const std::vector<std::string> xml_spelling = {"1.0",
                                                   "1.00",
                                                   "1.0e0",
                                                   "0.0000000000000000000001",
                                                   "1000000000000000000",
                                                   "1.000000000000000000e-245",
                                                   "-1.000000000000000000e245"};
    JsonValue* components = from_xml.Find("component");
    const JsonValue* expected = json.Find("component");
    ASSERT_TRUE(components && expected);
    ASSERT_EQ(components->items().size(), xml_spelling.size());
    for (size_t i = 0; i < xml_spelling.size(); ++i) {
      JsonValue* q = components->items()[i].Find("valueQuantity");
      ASSERT_TRUE(q && q->Find("value"));
      EXPECT_EQ(q->Find("value")->text(), xml_spelling[i]);
      q->Set("value", *expected->items()[i].Find("valueQuantity")->Find("value"));
    }
    EXPECT_EQ(from_xml, json);
  }
  // observation-example.xml carries an extension (patient-age) that its JSON twin lacks, and
  // its narrative writes apostrophes as &#39; where the JSON has them literally.
  {
    auto [from_xml, json] = twin("observation-example");
    EXPECT_TRUE(from_xml.Remove("extension"));
    JsonValue* text = from_xml.Find("text");
    ASSERT_TRUE(text);
    std::string div = text->GetString("div");
    EXPECT_NE(div.find("&#39;"), std::string::npos);  // kept as written
    text->Set("div", JsonValue::String(ReplaceAll(div, "&#39;", "'")));
    EXPECT_EQ(from_xml, json);
  }
}

TEST(XmlFormatTest, FhirPathTestResourcesRoundTrip) {
  for (const char* name : {"patient-example.xml", "observation-example.xml",
                           "questionnaire-example.xml", "valueset-example-expansion.xml",
                           "parameters-example-types.xml", "patient-example-xds.xml"}) {
    JsonValue json = ExpectXmlStable(ReadFile(kFhirPath / name), name);
    ASSERT_TRUE(json.is_object()) << name;
    ExpectJsonRoundTrip(json, name);
  }
}

TEST(XmlFormatTest, PrimitivesExtensionsAndOrder) {
  // Members deliberately out of definition order; the XML must come out in order.
  JsonValue patient = Json(R"({
    "resourceType": "Patient",
    "birthDate": "1974-12-25",
    "_birthDate": {"id": "bd", "extension": [{"url": "http://example.org/t",
                   "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
    "name": [{"given": ["Peter", null, "James"],
              "_given": [null, {"extension": [{"url": "http://example.org/x",
                                               "valueBoolean": true}]}, {"id": "g3"}],
              "family": "Chalmers", "id": "n1"}],
    "active": true,
    "multipleBirthInteger": 2,
    "id": "example"
  })");
  std::string xml = ToXml(patient, false, "patient");
  EXPECT_EQ(xml, R"(<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir">)"
                 R"(<id value="example"/><active value="true"/>)"
                 R"(<name id="n1"><family value="Chalmers"/><given value="Peter"/>)"
                 R"(<given><extension url="http://example.org/x"><valueBoolean value="true"/>)"
                 R"(</extension></given><given value="James" id="g3"/></name>)"
                 R"(<birthDate value="1974-12-25" id="bd"><extension url="http://example.org/t">)"
                 R"(<valueDateTime value="1974-12-25T14:35:45-05:00"/></extension></birthDate>)"
                 R"(<multipleBirthInteger value="2"/></Patient>)");
  auto back = ResourceXmlToJson(xml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, patient);
  // JSON member order follows the XML: resourceType, id, active, name...
  ASSERT_GE(back->members().size(), 4u);
  EXPECT_EQ(back->members()[0].first, "resourceType");
  EXPECT_EQ(back->members()[1].first, "id");
  EXPECT_EQ(back->members()[2].first, "active");
  EXPECT_EQ(back->members()[3].first, "name");
  EXPECT_TRUE(back->Find("active")->is_bool());
  EXPECT_TRUE(back->Find("multipleBirthInteger")->is_number());

  // A single primitive with extensions and no value: only `_birthDate` in JSON.
  auto ext_only = ResourceXmlToJson(
      R"(<Patient xmlns="http://hl7.org/fhir"><birthDate id="b"><extension url="http://x">)"
      R"(<valueString value="unknown"/></extension></birthDate></Patient>)");
  ASSERT_TRUE(ext_only.ok()) << ext_only.status().ToString();
  EXPECT_EQ(WriteJson(*ext_only),
            R"({"resourceType":"Patient","_birthDate":{"id":"b","extension":[{"url":"http://x",)"
            R"("valueString":"unknown"}]}})");
  EXPECT_EQ(FromXml(ToXml(*ext_only, false, "ext only"), "ext only"), *ext_only);

  // Whitespace in values survives both ways (character references in the XML).
  JsonValue spaced = Json(R"({"resourceType":"Patient","name":[{"text":" a\tb\r\nc "}]})");
  std::string spaced_xml = ToXml(spaced, false, "spaced");
  EXPECT_NE(spaced_xml.find(R"(<text value=" a&#9;b&#13;&#10;c "/>)"), std::string::npos)
      << spaced_xml;
  EXPECT_EQ(FromXml(spaced_xml, "spaced"), spaced);
}

TEST(XmlFormatTest, DecimalsKeepTheirSpelling) {
  JsonValue obs = Json(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"},
    "component":[{"code":{"text":"a"},"valueQuantity":{"value":1e3}},
                 {"code":{"text":"b"},"valueQuantity":{"value":-0.000100}}]})");
  std::string xml = ToXml(obs, true, "obs");
  EXPECT_NE(xml.find(R"(<value value="1.50"/>)"), std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(<value value="1e3"/>)"), std::string::npos) << xml;
  auto back = ResourceXmlToJson(xml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, obs);
  EXPECT_EQ(back->Find("valueQuantity")->Find("value")->text(), "1.50");
  EXPECT_EQ(back->Find("component")->items()[0].Find("valueQuantity")->Find("value")->text(),
            "1e3");

  // From XML: kept as written; not a number -> kInvalid with the path.
  auto ok = ResourceXmlToJson(
      R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/>)"
      R"(</code><valueQuantity><value value="100.000"/></valueQuantity></Observation>)");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(WriteJson(*ok->Find("valueQuantity")), R"({"value":100.000})");
  auto bad = ResourceXmlToJson(
      R"(<Observation xmlns="http://hl7.org/fhir"><valueQuantity><value value="1,5"/>)"
      R"(</valueQuantity></Observation>)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalid);
  EXPECT_EQ(bad.status().location(), "Observation.valueQuantity.value");
  auto bad_int = ResourceXmlToJson(
      R"(<Patient xmlns="http://hl7.org/fhir"><multipleBirthInteger value="2.0"/></Patient>)");
  EXPECT_EQ(bad_int.status().code(), ErrorCode::kInvalid);
  auto bad_bool =
      ResourceXmlToJson(R"(<Patient xmlns="http://hl7.org/fhir"><active value="1"/></Patient>)");
  EXPECT_EQ(bad_bool.status().code(), ErrorCode::kInvalid);
}

TEST(XmlFormatTest, NarrativeIsCarriedVerbatim) {
  const std::string div =
      R"(<div xmlns="http://www.w3.org/1999/xhtml"><p class='a'>Tom &amp; Jerry &#160;<br/>)"
      R"(<b>x</b></p><!-- note --></div>)";
  JsonValue p = JsonValue::Object();
  p.Set("resourceType", JsonValue::String("Patient"));
  JsonValue text = JsonValue::Object();
  text.Set("status", JsonValue::String("generated"));
  text.Set("div", JsonValue::String(div));
  p.Set("text", std::move(text));
  std::string xml = ToXml(p, true, "narrative");
  EXPECT_NE(xml.find(div), std::string::npos) << xml;
  auto back = ResourceXmlToJson(xml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Find("text")->GetString("div"), div);

  // A prefixed narrative gets the default-namespace form in JSON, declared once.
  auto prefixed = ResourceXmlToJson(
      R"(<Patient xmlns="http://hl7.org/fhir" xmlns:h="http://www.w3.org/1999/xhtml"><text>)"
      R"(<status value="generated"/><h:div><h:p>hi &lt;there&gt;</h:p></h:div></text></Patient>)");
  ASSERT_TRUE(prefixed.ok()) << prefixed.status().ToString();
  EXPECT_EQ(prefixed->Find("text")->GetString("div"),
            R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>hi &lt;there&gt;</p></div>)");

  // JSON div without xmlns gets it; a div that is not one element is refused.
  text = JsonValue::Object();
  text.Set("status", JsonValue::String("generated"));
  text.Set("div", JsonValue::String("<div><p>x</p></div>"));
  p.Set("text", text);
  std::string fixed = ToXml(p, false, "no xmlns");
  EXPECT_NE(fixed.find(R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>)"),
            std::string::npos)
      << fixed;
  for (const char* evil : {R"(<div xmlns="http://www.w3.org/1999/xhtml">x</div><evil/>)",
                           R"(<div xmlns="http://www.w3.org/1999/xhtml">&xxe;</div>)",
                           R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>)", "plain text",
                           R"(<div xmlns="http://example.org/">x</div>)"}) {
    text.Set("div", JsonValue::String(evil));
    p.Set("text", text);
    auto r = ResourceJsonToXml(p, false);
    ASSERT_FALSE(r.ok()) << evil;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalid) << evil;
    EXPECT_EQ(r.status().location(), "Patient.text.div") << evil;
  }
  // An undeclared prefix inside the narrative is not namespace-well-formed.
  auto unbound = ResourceXmlToJson(
      R"(<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>)"
      R"(<div xmlns="http://www.w3.org/1999/xhtml"><a:br/></div></text></Patient>)");
  EXPECT_EQ(unbound.status().code(), ErrorCode::kInvalid);
  EXPECT_EQ(unbound.status().location(), "Patient.text.div");
  // In XML, the div must be in the XHTML namespace.
  auto wrong =
      ResourceXmlToJson(R"(<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>)"
                        R"(<div>x</div></text></Patient>)");
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalid);
}

TEST(XmlFormatTest, ContainedAndBundledResources) {
  JsonValue bundle = Json(R"({"resourceType":"Bundle","type":"transaction-response",
    "entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p",
      "contained":[{"resourceType":"Organization","id":"o","name":"Org"}],
      "managingOrganization":{"reference":"#o"}}},
     {"response":{"status":"400","outcome":{"resourceType":"OperationOutcome",
      "issue":[{"severity":"error","code":"invalid"}]}}}]})");
  std::string xml = ToXml(bundle, false, "bundle");
  EXPECT_NE(xml.find("<resource><Patient><id value=\"p\"/><contained><Organization>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<outcome><OperationOutcome>"), std::string::npos) << xml;
  auto back = ResourceXmlToJson(xml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, bundle);

  auto two = ResourceXmlToJson(
      R"(<Patient xmlns="http://hl7.org/fhir"><contained><Organization/><Practitioner/>)"
      R"(</contained></Patient>)");
  EXPECT_EQ(two.status().code(), ErrorCode::kInvalid);
  auto json_no_type =
      ResourceJsonToXml(Json(R"({"resourceType":"Patient","contained":[{"id":"x"}]})"), false);
  EXPECT_EQ(json_no_type.status().code(), ErrorCode::kInvalid);
  EXPECT_EQ(json_no_type.status().location(), "Patient.contained[0]");
}

TEST(XmlFormatTest, RefusesContentOutsideTheDefinitions) {
  struct Case {
    const char* xml;
    const char* location;
  };
  for (
      const Case& c : std::vector<Case>{
          {R"(<Patient xmlns="http://hl7.org/fhir"><name><foo value="x"/></name></Patient>)",
           "Patient.name[0].foo"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><name>text</name></Patient>)",
           "Patient.name[0]"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><name colour="red"/></Patient>)",
           "Patient.name[0]"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><gender value="female"/></Patient>)",
           "Patient.gender"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><gender/></Patient>)", "Patient.gender"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><id>x</id></Patient>)", "Patient.id"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><name><x:family xmlns:x="urn:x" value="a"/></name></Patient>)",
           "Patient.name[0].family"},
          {R"(<Patient xmlns="http://hl7.org/fhir"><deceasedBoolean value="true"/><deceasedDateTime value="2020"/></Patient>)",
           "Patient.deceasedDateTime"},
          {R"(<Unknown xmlns="http://hl7.org/fhir"/>)", ""},
      }) {
    auto r = ResourceXmlToJson(c.xml);
    ASSERT_FALSE(r.ok()) << c.xml;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalid) << c.xml << " " << r.status().ToString();
    EXPECT_EQ(r.status().location(), c.location) << c.xml;
  }
  // JSON that does not fit: unknown member, wrong JSON type, extension on an attribute.
  auto deep_unknown = ResourceJsonToXml(
      Json(R"({"resourceType":"Patient","name":[{"given":["a"],"nick":"x"}]})"), false);
  EXPECT_EQ(deep_unknown.status().code(), ErrorCode::kInvalid);
  EXPECT_EQ(deep_unknown.status().location(), "Patient.name[0].nick");
  for (const char* json :
       {R"({"resourceType":"Patient","nickname":"x"})",
        R"({"resourceType":"Patient","active":"true"})",
        R"({"resourceType":"Patient","name":{"family":"x"}})",
        R"({"resourceType":"Patient","name":[{"_id":{"extension":[]}}]})",
        R"({"resourceType":"Patient","name":[]})", R"({"resourceType":"Nothing"})"}) {
    auto r = ResourceJsonToXml(Json(json), false);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalid) << json;
  }
  // Comments, a BOM and schema hints are fine.
  auto ok = ResourceXmlToJson(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c --><Patient "
      "xmlns=\"http://hl7.org/fhir\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:schemaLocation=\"http://hl7.org/fhir patient.xsd\"><!-- c --><id value=\"a\"/>"
      "<name><given value=\"line&#10;two &amp; &lt;3\"/></name></Patient>");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(WriteJson(*ok),
            R"({"resourceType":"Patient","id":"a","name":[{"given":["line\ntwo & <3"]}]})");
  // ...and the line break survives the way back as a character reference.
  std::string xml = ToXml(*ok, false, "newline");
  EXPECT_NE(xml.find(R"(<given value="line&#10;two &amp; &lt;3"/>)"), std::string::npos) << xml;
}

TEST(XmlFormatTest, RefusesHostileXml) {
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&lol3;\"/></Patient>";
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&xxe;\"/></Patient>";
  const std::string undeclared =
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&xxe;\"/></Patient>";
  const std::string bad_char_ref =
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&#0;\"/></Patient>";
  std::string deep_text = "<Patient xmlns=\"http://hl7.org/fhir\">";
  for (int i = 0; i < 100000; ++i) deep_text += "<extension>";
  for (int i = 0; i < 100000; ++i) deep_text += "</extension>";
  deep_text += "</Patient>";
  const std::string deep = deep_text;
  const std::string wrong_ns =
      "<Patient xmlns=\"http://hl7.org/fhir/x\"><id value=\"a\"/></Patient>";
  const std::string no_ns = "<Patient><id value=\"a\"/></Patient>";
  const std::string bad_utf8 =
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"\xC3\x28\"/></Patient>";
  const std::string overlong =
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"\xC0\xBC\"/></Patient>";
  const std::string nul =
      std::string("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a") + '\0' + "\"/></Patient>";
  const std::string latin1 =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Patient xmlns=\"http://hl7.org/fhir\"/>";
  const std::string unclosed = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a\"/>";
  const std::string two_roots =
      "<Patient xmlns=\"http://hl7.org/fhir\"/><Patient xmlns=\"http://hl7.org/fhir\"/>";
  for (const std::string* x : {&laughs, &xxe, &undeclared, &bad_char_ref, &deep, &wrong_ns, &no_ns,
                               &bad_utf8, &overlong, &nul, &latin1, &unclosed, &two_roots}) {
    auto r = ResourceXmlToJson(*x);
    ASSERT_FALSE(r.ok()) << x->substr(0, 120);
    EXPECT_EQ(r.status().code(), ErrorCode::kBadRequest)
        << x->substr(0, 120) << " -> " << r.status().ToString();
  }
  EXPECT_NE(ResourceXmlToJson(deep).status().message().find("deeper"), std::string::npos);
  // Namespace declarations are bounded per element (each lookup walks those in scope).
  std::string decls = "<Patient xmlns=\"http://hl7.org/fhir\"";
  for (int i = 0; i < 1000; ++i) decls += " xmlns:p" + std::to_string(i) + " = 'urn:x'";
  decls += "/>";
  EXPECT_EQ(ResourceXmlToJson(decls).status().code(), ErrorCode::kBadRequest);
  // Nesting up to the bound is fine (Questionnaire items nest).
  std::string q = "<Questionnaire xmlns=\"http://hl7.org/fhir\"><status value=\"draft\"/>";
  for (int i = 0; i < 50; ++i) q += "<item><linkId value=\"" + std::to_string(i) + "\"/>";
  q += "<type value=\"display\"/>";
  for (int i = 0; i < 50; ++i) q += "</item>";
  q += "</Questionnaire>";
  auto nested = ResourceXmlToJson(q);
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ(*nested, FromXml(ToXml(*nested, true, "q"), "q"));
}

}  // namespace
}  // namespace carnet::fhir
