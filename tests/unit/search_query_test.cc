// Search pieces that need no database: text normalisation, date ranges, the expression
// evaluator, extraction, parameter parsing, planning and cursors.
#include "fhir/search_query.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include "base/json.h"
#include "dossier/search_index.h"
#include "fhir/search_cursor.h"
#include "fhir/search_plan.h"
#include "model/search_dates.h"
#include "model/search_params.h"
#include "model/search_path.h"
#include "model/search_text.h"
#include "storage/sql_builder.h"

namespace carnet::fhir {
namespace {

// The pieces below fhir/ that search is built on: the model's parameters, paths, dates and
// text forms, and the dossier's extraction.
using dossier::ExtractIndexRows;
using dossier::IndexRows;
using model::NormalizeSearchText;
using model::ParseDateRange;
using model::SearchParamRegistry;
using model::SearchPath;

JsonValue Json(const std::string& s) {
  auto r = ParseJson(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : JsonValue();
}

TEST(SearchTextTest, NormalizesCaseAndAccents) {
  EXPECT_EQ(NormalizeSearchText("Éloïse DÜRAND-Çœur"), "eloise durand-coeur");
  EXPECT_EQ(NormalizeSearchText("Straße"), "strasse");
  EXPECT_EQ(storage::EscapeLike("50%_a\\b"), "50\\%\\_a\\\\b");
}

TEST(SearchDatesTest, PartialDatesAreRanges) {
  auto y = ParseDateRange("2024");
  ASSERT_TRUE(y);
  EXPECT_EQ(y->low, "2024-01-01T00:00:00Z");
  EXPECT_EQ(y->high, "2024-12-31T23:59:59.999Z");
  EXPECT_EQ(ParseDateRange("2024-02")->high, "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(ParseDateRange("2023-02")->high, "2023-02-28T23:59:59.999Z");
  auto t = ParseDateRange("2024-03-05T10:00+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->low, "2024-03-05T10:00:00+01:00");
  EXPECT_EQ(t->high, "2024-03-05T10:00:59.999+01:00");
  EXPECT_FALSE(ParseDateRange("2024-13"));
  EXPECT_FALSE(ParseDateRange("2024-02-30"));
  EXPECT_FALSE(ParseDateRange("yesterday"));
}

TEST(SearchPathTest, EvaluatesTheSearchSubset) {
  JsonValue obs = Json(R"({"resourceType":"Observation","subject":{"reference":"Patient/1"},
    "performer":[{"reference":"Practitioner/2"},{"reference":"Patient/3"}],
    "valueQuantity":{"value":1.5,"code":"kg"}})");
  auto p =
      SearchPath::Parse("Observation.performer.where(resolve() is Patient) | Observation.subject");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto v = p->Evaluate(obs);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].json->GetString("reference"), "Patient/3");
  auto q = SearchPath::Parse(
      "(Observation.value.ofType(Quantity)) | (Observation.value.ofType(SampledData))");
  ASSERT_TRUE(q.ok());
  auto qv = q->Evaluate(obs);
  ASSERT_EQ(qv.size(), 1u);
  EXPECT_EQ(qv[0].type, "Quantity");
  EXPECT_FALSE(SearchPath::Parse("Patient.name.matches('x')").ok());
}

TEST(SearchIndexTest, ExtractsEveryParameterTypeFromTheRegistry) {
  auto params = SearchParamRegistry::Instance().Official();
  JsonValue patient = Json(R"({"resourceType":"Patient","id":"p","birthDate":"1980",
    "name":[{"family":"Dürand","given":["Zoé"]}],
    "identifier":[{"system":"urn:s","value":"1","type":{"coding":[{"system":"urn:t","code":"MR"}]}}],
    "telecom":[{"system":"email","value":"a@b.c"}],"generalPractitioner":[{"reference":"Practitioner/9"}]})");
  IndexRows rows = ExtractIndexRows(*params, "Patient", patient);
  bool family = false, identifier = false, email = false, gp = false, birth = false;
  for (const auto& s : rows.strings) family = family || (s.param == "family" && s.norm == "durand");
  for (const auto& t : rows.tokens) {
    identifier = identifier || (t.param == "identifier" && t.code == "1" && t.type_code == "MR");
    email = email || (t.param == "email" && t.code == "a@b.c");
  }
  for (const auto& r : rows.references)
    gp = gp || (r.param == "general-practitioner" && r.target_type == "Practitioner" &&
                r.target_id == "9");
  for (const auto& d : rows.dates)
    birth = birth || (d.param == "birthdate" && d.low == "1980-01-01T00:00:00Z");
  EXPECT_TRUE(family && identifier && email && gp && birth);
}

TEST(SearchQueryTest, ParsesModifiersChainsAndResultParameters) {
  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Observation"};
  auto s = ParseSearch(*params,
                       {{"subject:Patient.name", "x"},
                        {"code", "a,b\\,c"},
                        {"_sort", "-date,_id"},
                        {"_count", "5000"},
                        {"_include:iterate", "Observation:subject"},
                        {"bogus", "1"}},
                       o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->criteria.size(), 2u);
  EXPECT_EQ(s->criteria[0].chain_types, std::vector<std::string>{"Patient"});
  ASSERT_TRUE(s->criteria[0].chained);
  EXPECT_EQ(s->criteria[0].chained->param_type, "string");
  EXPECT_EQ(s->criteria[1].values.size(), 2u);
  EXPECT_TRUE(s->sort[0].descending);
  EXPECT_EQ(s->count, 1000);
  EXPECT_TRUE(s->includes[0].iterate);
  EXPECT_EQ(s->ignored.size(), 1u);
  o.strict = true;
  auto strict = ParseSearch(*params, {{"bogus", "1"}}, o);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().location(), "bogus");
  EXPECT_FALSE(ParseSearch(*params, {{"date", "ge20x4"}}, o).ok());
}

TEST(SearchPlanTest, TokenOrListIsOneArrayParameter) {
  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Observation"};
  std::string codes;
  for (int i = 0; i < 100; ++i) codes += (i ? "," : "") + std::to_string(i);
  auto s = ParseSearch(*params, {{"code", codes}}, o);
  ASSERT_TRUE(s.ok());
  storage::AccessFilter scope = storage::AccessFilter::Everything();
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  storage::RenderedQuery q = storage::RenderIndexQuery(PlanSearch(in));
  EXPECT_EQ(q.sql.find(" OR "), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("= ANY("), std::string::npos);
  EXPECT_LT(q.params.size(), 6u);
  EXPECT_EQ(q.sql.find('\''), std::string::npos) << q.sql;  // no literal: values are parameters
}

// The planner says what to find (a name starting with the normalised text, as written);
// storage alone knows LIKE and escapes its wildcards, so that "50%_" matches itself only.
TEST(SearchPlanTest, PlanIsADescriptionAndStorageEscapesLikePatterns) {
  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Patient"};
  auto s = ParseSearch(*params, {{"name", "50%_É"}, {"name:contains", "a\\_b"}}, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  storage::AccessFilter scope = storage::AccessFilter::Everything();
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  storage::IndexQuery planned = PlanSearch(in);
  ASSERT_EQ(planned.conditions.size(), 2u);
  const storage::ResourceCondition& name = planned.conditions[0];
  EXPECT_EQ(name.kind, storage::ResourceCondition::Kind::kIndex);
  EXPECT_EQ(name.table, storage::IndexTable::kString);
  EXPECT_EQ(name.param, "name");
  ASSERT_EQ(name.any.size(), 1u);
  ASSERT_EQ(name.any[0].size(), 1u);
  EXPECT_EQ(name.any[0][0].op, storage::ColumnTest::Op::kStartsWith);
  EXPECT_EQ(name.any[0][0].column, "value_norm");
  EXPECT_EQ(name.any[0][0].value, "50%_e");
  EXPECT_EQ(planned.conditions[1].any[0][0].op, storage::ColumnTest::Op::kContains);

  storage::RenderedQuery q = storage::RenderIndexQuery(planned);
  std::vector<std::string> values;
  for (const auto& p : q.params)
    if (p.value) values.push_back(*p.value);
  EXPECT_NE(std::find(values.begin(), values.end(), "50\\%\\_e%"), values.end()) << q.sql;
  EXPECT_NE(std::find(values.begin(), values.end(), "%a\\_b%"), values.end()) << q.sql;
  EXPECT_NE(q.sql.find("value_norm LIKE $"), std::string::npos) << q.sql;
}

// _text/_content: the narrative's words without markup, every string of the resource but ids,
// references and base64; a query is the text as written (French) and folded (English), each a
// parameter, under the same scope as any condition.
TEST(SearchPlanTest, FullTextIsTheNarrativeAndTheContent) {
  auto params = SearchParamRegistry::Instance().Official();
  JsonValue obs = Json(R"({"resourceType":"Observation","id":"o","status":"final",
    "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Douleur<b>thoracique</b> &amp; fi&#xE8;vre</p></div>"},
    "code":{"text":"Température"},"subject":{"reference":"Patient/secret-id"},
    "note":[{"text":"à recontrôler"}]})");
  IndexRows rows = ExtractIndexRows(*params, "Observation", obs);
  std::string text, content;
  for (const auto& t : rows.texts) (t.param == "_text" ? text : content) = t.text;
  EXPECT_NE(text.find("Douleur thoracique"), std::string::npos) << text;  // tags are spaces
  EXPECT_NE(text.find("& fièvre"), std::string::npos) << text;
  EXPECT_EQ(text.find("<"), std::string::npos) << text;
  EXPECT_NE(content.find("Température"), std::string::npos) << content;
  EXPECT_NE(content.find("à recontrôler"), std::string::npos) << content;
  EXPECT_NE(content.find("fièvre"), std::string::npos) << content;  // the narrative too
  EXPECT_EQ(content.find("secret-id"), std::string::npos) << content;

  ParseOptions o;
  o.types = {"Observation"};
  auto s =
      ParseSearch(*params, {{"_content", "Fièvre \"douleur thoracique\",toux"}, {"_text", "x"}}, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->criteria.size(), 2u);
  EXPECT_EQ(s->criteria[0].values.size(), 2u);  // comma: alternatives
  storage::AccessFilter scope;
  scope.patient_keys = {7};
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  storage::IndexQuery planned = PlanSearch(in);
  const storage::ResourceCondition& c = planned.conditions[0];
  EXPECT_EQ(c.table, storage::IndexTable::kText);
  EXPECT_EQ(c.param, "_content");
  ASSERT_EQ(c.any.size(), 2u);
  EXPECT_EQ(c.any[0][0].op, storage::ColumnTest::Op::kTextMatch);
  EXPECT_EQ(c.any[0][0].value, "Fièvre \"douleur thoracique\"");
  EXPECT_EQ(c.any[0][0].value2, "fievre \"douleur thoracique\"");
  storage::RenderedQuery q = storage::RenderIndexQuery(planned);
  EXPECT_NE(q.sql.find("tsv @@ (websearch_to_tsquery('french', $"), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("websearch_to_tsquery('english', $"), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("patient_key"), std::string::npos) << q.sql;  // the scope still applies
}

TEST(SearchPlanTest, ScopeIsAndedIntoChains) {
  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Observation"};
  auto s = ParseSearch(
      *params, {{"subject.name", "x"}, {"_has:Provenance:target:agent", "Practitioner/1"}}, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  storage::AccessFilter scope;
  scope.patient_keys = {7};
  scope.excluded_security = {"V"};
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  in.with_total = true;
  storage::RenderedQuery q = storage::RenderIndexQuery(PlanSearch(in));
  size_t n = 0;
  for (size_t pos = q.sql.find("security &&"); pos != std::string::npos;
       pos = q.sql.find("security &&", pos + 1))
    ++n;
  EXPECT_EQ(n, 6u) << q.sql;  // (match + chain + _has) in the page and in the count
}

// Composite parameters (issue 15): the official R4 ones are in the registry with their
// components; extraction writes each component's rows under "<code>$<position>" with the group
// of the repeating element they come from, so that a blood-pressure panel's systolic code is
// never tied to its diastolic value.
TEST(SearchCompositeTest, ExtractionTiesTheComponentsOfOneElement) {
  auto params = SearchParamRegistry::Instance().Official();
  const model::SearchParamDef* cvq = params->Find("Observation", "component-code-value-quantity");
  ASSERT_NE(cvq, nullptr);
  EXPECT_EQ(cvq->type, "composite");
  ASSERT_EQ(cvq->components.size(), 2u);
  EXPECT_EQ(cvq->components[0].type, "token");
  EXPECT_EQ(cvq->components[1].type, "quantity");
  for (const char* code :
       {"code-value-quantity", "code-value-concept", "code-value-date", "code-value-string",
        "combo-code-value-quantity", "combo-code-value-concept", "component-code-value-concept"})
    EXPECT_NE(params->Find("Observation", code), nullptr) << code;
  EXPECT_NE(params->Find("Group", "characteristic-value"), nullptr);
  EXPECT_NE(params->Find("ValueSet", "context-type-value"), nullptr);
  // R4's relationship pairs each definition with the other's expression: corrected.
  const model::SearchParamDef* rel = params->Find("DocumentReference", "relationship");
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->components[0].type, "token");
  EXPECT_EQ(rel->components[0].expression, "code");
  EXPECT_EQ(rel->components[1].type, "reference");
  const model::SearchParamDef* near = params->Find("Location", "near");
  ASSERT_NE(near, nullptr);
  EXPECT_EQ(near->type, "special");

  JsonValue panel = Json(R"({"resourceType":"Observation","id":"bp","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
    "component":[
      {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
       "valueQuantity":{"value":135,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
       "valueQuantity":{"value":85,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
      {"code":{"text":"no value"}}]})");
  IndexRows rows = ExtractIndexRows(*params, "Observation", panel);
  std::map<std::string, std::optional<int>> code_group, value_group;
  for (const auto& t : rows.tokens)
    if (t.param == "component-code-value-quantity$0" && t.code) code_group[*t.code] = t.group;
  for (const auto& q : rows.quantities)
    if (q.param == "component-code-value-quantity$1") value_group[q.value] = q.group;
  ASSERT_TRUE(code_group["8480-6"] && code_group["8462-4"]);
  EXPECT_EQ(code_group["8480-6"], value_group["135"]);
  EXPECT_EQ(code_group["8462-4"], value_group["85"]);
  EXPECT_NE(code_group["8480-6"], code_group["8462-4"]);
  // The component without a value gives no rows; plain parameters' rows have no group.
  size_t component_codes = 0;
  for (const auto& t : rows.tokens) {
    if (t.param == "component-code-value-quantity$0") ++component_codes;
    if (t.param == "code" || t.param == "component-code") {
      EXPECT_FALSE(t.group);
    }
  }
  EXPECT_EQ(component_codes, 2u);

  JsonValue paris = Json(R"({"resourceType":"Location","id":"paris",
    "position":{"latitude":48.8566,"longitude":2.3522}})");
  IndexRows where = ExtractIndexRows(*params, "Location", paris);
  std::map<std::string, std::string> position;
  for (const auto& q : where.quantities)
    if (q.param.rfind("near$", 0) == 0 && q.group == 0) position[q.param] = q.value;
  EXPECT_EQ(position["near$0"], "48.8566");
  EXPECT_EQ(position["near$1"], "2.3522");
}

// A value is split at unescaped '$'; each part is read by its component's own rules, and the
// SQL ties the components' rows by their group.
TEST(SearchCompositeTest, ValuesAreSplitAndPlannedPerComponent) {
  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Observation"};
  o.strict = true;
  auto s = ParseSearch(*params,
                       {{"code-value-quantity",
                         "http://loinc.org|8480-6$gt140,http://loinc.org|8462-4$le90|http://"
                         "unitsofmeasure.org|mm[Hg]"},
                        {"code-value-string", "http://loinc.org|x$a\\$b"}},
                       o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->criteria.size(), 2u);
  EXPECT_EQ(s->criteria[0].param_type, "composite");
  EXPECT_EQ(s->criteria[0].component_types, (std::vector<std::string>{"token", "quantity"}));
  storage::AccessFilter scope;
  scope.patient_keys = {7};
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  storage::IndexQuery planned = PlanSearch(in);
  const storage::ResourceCondition& c = planned.conditions[0];
  EXPECT_EQ(c.kind, storage::ResourceCondition::Kind::kComposite);
  ASSERT_EQ(c.components.size(), 2u);
  EXPECT_EQ(c.components[0].table, storage::IndexTable::kToken);
  EXPECT_EQ(c.components[0].param, "code-value-quantity$0");
  EXPECT_EQ(c.components[1].table, storage::IndexTable::kQuantity);
  ASSERT_EQ(c.alternatives.size(), 2u);  // comma: OR
  ASSERT_EQ(c.alternatives[1].size(), 2u);
  const storage::RowMatch& quantity = c.alternatives[1][1][0];
  EXPECT_EQ(quantity[0].op, storage::ColumnTest::Op::kNumber);
  EXPECT_EQ(quantity[0].prefix, "le");
  EXPECT_EQ(quantity[0].value, "90");
  EXPECT_EQ(quantity[2].value, "mm[Hg]");
  // An escaped '$' stays in its part.
  EXPECT_EQ(planned.conditions[1].alternatives[0][1][0][0].value, "a$b");
  storage::RenderedQuery q = storage::RenderIndexQuery(planned);
  EXPECT_NE(q.sql.find("FROM idx_token g1_0 JOIN idx_quantity g1_1 ON"), std::string::npos)
      << q.sql;
  EXPECT_NE(q.sql.find("g1_1.grp = g1_0.grp"), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("patient_key"), std::string::npos) << q.sql;  // under the scope
  EXPECT_EQ(q.sql.find('\''), std::string::npos) << q.sql;           // values are parameters

  // Malformed: a part missing, a component by its own type's rules, a modifier.
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"code-value-quantity", "http://loinc.org|8480-6"},
           {"code-value-quantity", "http://loinc.org|8480-6$high"},
           {"code-value-date", "http://loinc.org|x$ge2024-13"},
           {"code-value-quantity", "a$1$2"},
           {"code-value-quantity:exact", "a$1"}}) {
    auto bad = ParseSearch(*params, {{name, value}}, o);
    EXPECT_FALSE(bad.ok()) << name << "=" << value;
    if (!bad.ok()) {
      EXPECT_EQ(bad.status().location(), name) << bad.status().ToString();
    }
  }
  auto missing = ParseSearch(*params, {{"code-value-quantity:missing", "false"}}, o);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(ParseSearch(*params, {{"_sort", "code-value-quantity"}}, o).ok());
}

TEST(SearchNearTest, ParsesUnitsAndRendersTheGreatCircle) {
  auto paris = ParseNear("48.8566|2.3522|10|km");
  ASSERT_TRUE(paris);
  EXPECT_DOUBLE_EQ(paris->latitude, 48.8566);
  EXPECT_DOUBLE_EQ(paris->distance_km, 10);
  EXPECT_DOUBLE_EQ(ParseNear("48.8566|2.3522|500")->distance_km, 500);  // km by default
  EXPECT_DOUBLE_EQ(ParseNear("48.8566|2.3522|2000|m")->distance_km, 2);
  EXPECT_NEAR(ParseNear("48.8566|2.3522|10|[mi_i]")->distance_km, 16.09344, 1e-9);
  EXPECT_DOUBLE_EQ(ParseNear("48.8566|2.3522")->distance_km, 10);
  for (const char* bad : {"48.8566", "paris|2|10|km", "91|2|10|km", "48|181|10|km", "48|2|-1|km",
                          "48|2|10|miles", "48|2|10|km|x", "48|2|ten|km"})
    EXPECT_FALSE(ParseNear(bad)) << bad;

  auto params = SearchParamRegistry::Instance().Official();
  ParseOptions o;
  o.types = {"Location"};
  auto s = ParseSearch(*params, {{"near", "48.8566|2.3522|10|km"}}, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  storage::AccessFilter scope = storage::AccessFilter::Everything();
  PlanInput in;
  in.search = &*s;
  in.scope = &scope;
  storage::IndexQuery planned = PlanSearch(in);
  ASSERT_EQ(planned.conditions[0].kind, storage::ResourceCondition::Kind::kNear);
  ASSERT_EQ(planned.conditions[0].near.size(), 1u);
  EXPECT_EQ(planned.conditions[0].near[0].distance_km, "10");
  storage::RenderedQuery q = storage::RenderIndexQuery(planned);
  EXPECT_NE(q.sql.find("asin("), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("g1_0.value BETWEEN"), std::string::npos) << q.sql;
  // A position that cannot be read is refused, even under lenient handling.
  auto bad = ParseSearch(*params, {{"near", "48.8566,2.3522"}}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.status().location(), "near");
}

TEST(SearchCursorTest, RoundTripsAndIsBoundToItsQuery) {
  KeysetPosition p;
  p.keys = {std::string("2024-01-01 00:00:00+00"), std::nullopt};
  p.res_type = "Observation";
  p.res_id = "o1";
  std::string c = EncodeCursor(p, "a=1&_count=20");
  auto back = DecodeCursor(c, "a=1&_count=20", 2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->res_id, "o1");
  EXPECT_FALSE(back->keys[1]);
  EXPECT_FALSE(DecodeCursor(c, "a=2&_count=20", 2).ok());
  EXPECT_FALSE(DecodeCursor(c, "a=1&_count=20", 1).ok());
  EXPECT_FALSE(DecodeCursor("%%%", "a=1&_count=20", 2).ok());
}

}  // namespace
}  // namespace carnet::fhir
