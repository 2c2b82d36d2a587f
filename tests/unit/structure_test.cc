#include "model/structure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace carnet::model {
namespace {

const StructureRegistry& R4() { return StructureRegistry::R4(); }

std::vector<std::string> Names(const std::vector<const ElementDef*>& elements) {
  std::vector<std::string> out;
  for (const ElementDef* e : elements) out.push_back(e->name);
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(StructureRegistryTest, LoadsTheEmbeddedTables) {
  auto start = std::chrono::steady_clock::now();
  const StructureRegistry& r4 = R4();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::vector<std::string> types = r4.ResourceTypes();
  RecordProperty("load_ms", std::to_string(ms));
  std::printf("R4 tables loaded in %lld ms, %zu resource types\n", static_cast<long long>(ms),
              types.size());
  EXPECT_EQ(types.size(), 146u);  // the concrete resource types of the 4.0.1 definitions
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(Contains(types, "Patient"));
  EXPECT_FALSE(Contains(types, "DomainResource"));
  EXPECT_FALSE(Contains(types, "SubscriptionStatus"));  // R4B, shipped by Medplum
  EXPECT_TRUE(r4.IsResourceType("Observation"));
  EXPECT_FALSE(r4.IsResourceType("Resource"));
  EXPECT_FALSE(r4.IsResourceType("HumanName"));
  EXPECT_TRUE(r4.IsPrimitiveType("dateTime"));
  EXPECT_FALSE(r4.IsPrimitiveType("Quantity"));
  ASSERT_NE(r4.Find("DomainResource"), nullptr);
  EXPECT_TRUE(r4.Find("DomainResource")->is_abstract);
  EXPECT_EQ(r4.Find("Patient")->base, "DomainResource");
  EXPECT_EQ(r4.Find("Patient")->kind, TypeKind::kResource);
  EXPECT_EQ(r4.Find("HumanName")->kind, TypeKind::kComplex);
  EXPECT_EQ(r4.Find("NoSuchType"), nullptr);
}

TEST(StructureRegistryTest, PatientElementsInDefinitionOrder) {
  const TypeDef* patient = R4().Find("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(Names(patient->ChildrenOf("Patient")), (std::vector<std::string>{"id",
                                                                             "meta",
                                                                             "implicitRules",
                                                                             "language",
                                                                             "text",
                                                                             "contained",
                                                                             "extension",
                                                                             "modifierExtension",
                                                                             "identifier",
                                                                             "active",
                                                                             "name",
                                                                             "telecom",
                                                                             "gender",
                                                                             "birthDate",
                                                                             "deceased[x]",
                                                                             "address",
                                                                             "maritalStatus",
                                                                             "multipleBirth[x]",
                                                                             "photo",
                                                                             "contact",
                                                                             "communication",
                                                                             "generalPractitioner",
                                                                             "managingOrganization",
                                                                             "link"}));
  EXPECT_EQ(
      Names(patient->ChildrenOf("Patient.contact")),
      (std::vector<std::string>{"id", "extension", "modifierExtension", "relationship", "name",
                                "telecom", "address", "gender", "organization", "period"}));
  const ElementDef* id = patient->Element("Patient.id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->types, std::vector<std::string>{"id"});
  const ElementDef* name = patient->Element("Patient.name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->min, 0);
  EXPECT_EQ(name->max, -1);
  EXPECT_TRUE(name->is_array());
  const ElementDef* gp = patient->Element("Patient.generalPractitioner");
  EXPECT_EQ(gp->target_types,
            (std::vector<std::string>{"Organization", "Practitioner", "PractitionerRole"}));
  const ElementDef* link_other = patient->Element("Patient.link.other");
  ASSERT_NE(link_other, nullptr);
  EXPECT_EQ(link_other->min, 1);
  EXPECT_FALSE(link_other->is_array());
  EXPECT_TRUE(patient->Element("Patient.contact.id")->xml_attribute);
  EXPECT_EQ(R4().Find("Extension")->Element("Extension.url")->types,
            std::vector<std::string>{"uri"});
  EXPECT_TRUE(R4().Find("Extension")->Element("Extension.url")->xml_attribute);
  EXPECT_TRUE(R4().Find("Narrative")->Element("Narrative.div")->is_xhtml());
}

TEST(StructureRegistryTest, MedplumSnapshotChangesAreUndone) {
  // Medplum's snapshots add its own Meta elements and R5 backports; carnet speaks 4.0.1.
  const TypeDef* meta = R4().Find("Meta");
  EXPECT_EQ(meta->Element("Meta.project"), nullptr);
  EXPECT_EQ(meta->Element("Meta.compartment"), nullptr);
  EXPECT_NE(meta->Element("Meta.lastUpdated"), nullptr);
  EXPECT_EQ(R4().Find("DeviceDefinition")->Element("DeviceDefinition.classification"), nullptr);
  const TypeDef* ev = R4().Find("EvidenceVariable");
  const ElementDef* def = ev->Element("EvidenceVariable.characteristic.definition[x]");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->min, 1);
  EXPECT_EQ(Names(ev->ChildrenOf("EvidenceVariable.characteristic")).front(), "id");
  const ElementDef* observer = R4().Find("AuditEvent")->Element("AuditEvent.source.observer");
  EXPECT_FALSE(Contains(observer->target_types, "Bot"));
}

TEST(StructureRegistryTest, ResolvesChoiceTypes) {
  const StructureRegistry& r4 = R4();
  const TypeDef& obs = *r4.Find("Observation");
  auto q = r4.ResolveChild(obs, "Observation", "valueQuantity");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->def->path, "Observation.value[x]");
  EXPECT_EQ(q->type, "Quantity");
  auto s = r4.ResolveChild(obs, "Observation", "valueString");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->type, "string");
  auto dt = r4.ResolveChild(obs, "Observation", "effectiveDateTime");
  ASSERT_TRUE(dt.has_value());
  EXPECT_EQ(dt->type, "dateTime");
  EXPECT_EQ(dt->def->name, "effective[x]");
  auto comp = r4.ResolveChild(obs, "Observation.component", "valueCodeableConcept");
  ASSERT_TRUE(comp.has_value());
  EXPECT_EQ(comp->def->path, "Observation.component.value[x]");
  EXPECT_FALSE(r4.ResolveChild(obs, "Observation", "valueHumanName").has_value());
  EXPECT_FALSE(r4.ResolveChild(obs, "Observation", "value").has_value());
  EXPECT_FALSE(r4.ResolveChild(obs, "Observation", "value[x]").has_value());
  EXPECT_FALSE(r4.ResolveChild(obs, "Observation", "valuequantity").has_value());
  EXPECT_FALSE(r4.ResolveChild(obs, "Observation", "_status").has_value());
  auto status = r4.ResolveChild(obs, "Observation", "status");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->type, "code");
  const TypeDef& ext = *r4.Find("Extension");
  auto b64 = r4.ResolveChild(ext, "Extension", "valueBase64Binary");
  ASSERT_TRUE(b64.has_value());
  EXPECT_EQ(b64->type, "base64Binary");
}

TEST(StructureRegistryTest, FollowsContentReference) {
  const StructureRegistry& r4 = R4();
  const TypeDef& q = *r4.Find("Questionnaire");
  auto item = r4.ResolveChild(q, "Questionnaire.item", "item");
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->def->path, "Questionnaire.item.item");
  EXPECT_EQ(item->def->content_reference, "Questionnaire.item");
  EXPECT_EQ(item->type, "BackboneElement");
  auto scope = r4.ChildScope(q, *item->def, item->type);
  EXPECT_EQ(scope.first, &q);
  EXPECT_EQ(scope.second, "Questionnaire.item");
  // Children of a nested item are those of Questionnaire.item, at any depth.
  auto link_id = r4.ResolveChild(q, "Questionnaire.item.item", "linkId");
  ASSERT_TRUE(link_id.has_value());
  EXPECT_EQ(link_id->def->path, "Questionnaire.item.linkId");
  auto answer = r4.ResolveChild(q, "Questionnaire.item", "answerValueSet");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->type, "canonical");
}

TEST(StructureRegistryTest, ChildScopes) {
  const StructureRegistry& r4 = R4();
  const TypeDef& patient = *r4.Find("Patient");
  const ElementDef& contact = *patient.Element("Patient.contact");
  auto inline_scope = r4.ChildScope(patient, contact, "BackboneElement");
  EXPECT_EQ(inline_scope.first, &patient);
  EXPECT_EQ(inline_scope.second, "Patient.contact");
  const ElementDef& name = *patient.Element("Patient.name");
  auto datatype = r4.ChildScope(patient, name, "HumanName");
  EXPECT_EQ(datatype.first, r4.Find("HumanName"));
  EXPECT_EQ(datatype.second, "HumanName");
  const ElementDef& birth = *patient.Element("Patient.birthDate");
  EXPECT_EQ(r4.ChildScope(patient, birth, "date").first, nullptr);
  const TypeDef& timing = *r4.Find("Timing");
  auto repeat = r4.ChildScope(timing, *timing.Element("Timing.repeat"), "Element");
  EXPECT_EQ(repeat.first, &timing);
  EXPECT_EQ(repeat.second, "Timing.repeat");
}

TEST(StructureRegistryTest, RequiredBindings) {
  const StructureRegistry& r4 = R4();
  const ElementDef* gender = r4.Find("Patient")->Element("Patient.gender");
  ASSERT_NE(gender, nullptr);
  EXPECT_EQ(gender->required_valueset, "http://hl7.org/fhir/ValueSet/administrative-gender");
  EXPECT_EQ(gender->required_codes,
            (std::vector<std::string>{"male", "female", "other", "unknown"}));
  const auto* codes = r4.ValueSetCodes("http://hl7.org/fhir/ValueSet/administrative-gender");
  ASSERT_NE(codes, nullptr);
  EXPECT_EQ(codes->size(), 4u);
  EXPECT_TRUE(r4.ValueSetContains("http://hl7.org/fhir/ValueSet/administrative-gender",
                                  "http://hl7.org/fhir/administrative-gender", "female"));
  EXPECT_FALSE(r4.ValueSetContains("http://hl7.org/fhir/ValueSet/administrative-gender",
                                   "http://hl7.org/fhir/administrative-gender", "F"));
  EXPECT_TRUE(r4.ValueSetIncludesSystem("http://hl7.org/fhir/ValueSet/administrative-gender",
                                        "http://hl7.org/fhir/administrative-gender"));
  // Value sets drawing on external code systems are not expanded: no codes, no check.
  const ElementDef* content_type = r4.Find("Binary")->Element("Binary.contentType");
  EXPECT_EQ(content_type->required_valueset, "http://hl7.org/fhir/ValueSet/mimetypes");
  EXPECT_TRUE(content_type->required_codes.empty());
  EXPECT_EQ(r4.ValueSetCodes("http://hl7.org/fhir/ValueSet/mimetypes"), nullptr);
  // Nested concepts of a code system are part of the expansion.
  const auto* status = r4.ValueSetCodes("http://hl7.org/fhir/ValueSet/observation-status");
  ASSERT_NE(status, nullptr);
  EXPECT_NE(std::find(status->begin(), status->end(), "corrected"), status->end());
}

TEST(StructureRegistryTest, ObservationSearchParameters) {
  const StructureRegistry& r4 = R4();
  const auto* code = r4.FindSearchParam("Observation", "code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->type, "token");
  EXPECT_EQ(code->expression, "Observation.code");  // narrowed from the shared expression
  const auto* patient = r4.FindSearchParam("Observation", "patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->type, "reference");
  EXPECT_EQ(patient->expression, "Observation.subject.where(resolve() is Patient)");
  EXPECT_EQ(patient->targets, std::vector<std::string>{"Patient"});
  const auto* value_quantity = r4.FindSearchParam("Observation", "value-quantity");
  ASSERT_NE(value_quantity, nullptr);
  EXPECT_EQ(value_quantity->type, "quantity");
  EXPECT_NE(value_quantity->expression.find("Observation.value"), std::string::npos);
  const auto* id = r4.FindSearchParam("Observation", "_id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->expression, "Resource.id");
  const auto* updated = r4.FindSearchParam("Observation", "_lastUpdated");
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ(updated->type, "date");
  EXPECT_EQ(updated->expression, "Resource.meta.lastUpdated");
  EXPECT_NE(r4.FindSearchParam("Observation", "_text"), nullptr);  // from DomainResource
  EXPECT_EQ(r4.FindSearchParam("Bundle", "_text"), nullptr);       // Bundle is no DomainResource
  EXPECT_NE(r4.FindSearchParam("Bundle", "_id"), nullptr);
  EXPECT_EQ(r4.FindSearchParam("Observation", "birthdate"), nullptr);
  auto all = r4.SearchParams("Observation");
  EXPECT_GT(all.size(), 30u);
  for (const auto* p : all) {
    if (p->expression.empty()) continue;
    EXPECT_TRUE(p->expression.rfind("Observation", 0) == 0 ||
                p->expression.rfind("(Observation", 0) == 0 ||
                p->expression.rfind("Resource", 0) == 0)
        << p->code << ": " << p->expression;
  }
  EXPECT_EQ(r4.FindSearchParam("Patient", "birthdate")->expression, "Patient.birthDate");
  EXPECT_TRUE(r4.SearchParams("NoSuchType").empty());
}

TEST(StructureRegistryTest, PatientCompartment) {
  const StructureRegistry& r4 = R4();
  EXPECT_EQ(r4.PatientCompartmentParams("Observation"),
            (std::vector<std::string>{"subject", "performer"}));
  EXPECT_TRUE(Contains(r4.PatientCompartmentParams("Patient"), "{def}"));
  EXPECT_TRUE(r4.PatientCompartmentParams("Organization").empty());
  EXPECT_TRUE(r4.PatientCompartmentParams("NoSuchType").empty());
}

TEST(StructureRegistryTest, FromJsonReportsMalformedTables) {
  std::string error;
  EXPECT_EQ(StructureRegistry::FromJson("{", &error), nullptr);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(StructureRegistry::FromJson(R"({"types":[{"name":"X","kind":"alien","elements":[]}]})",
                                        &error),
            nullptr);
  auto tiny = StructureRegistry::FromJson(
      R"({"types":[{"name":"Thing","kind":"resource","abstract":false,"base":"",
           "elements":[["id",0,1,["id"]],["part",0,-1,["BackboneElement"]],
                       ["part.size",1,1,["integer"]]]}]})",
      &error);
  ASSERT_NE(tiny, nullptr) << error;
  EXPECT_EQ(tiny->ResourceTypes(), std::vector<std::string>{"Thing"});
  auto size = tiny->ResolveChild(*tiny->Find("Thing"), "Thing.part", "size");
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->def->min, 1);
}

}  // namespace
}  // namespace carnet::model

namespace carnet::model {
namespace {

TEST(StructureSummaryTest, IsSummaryComesFromTheDefinitions) {
  const auto& r = StructureRegistry::R4();
  const TypeDef* patient = r.Find("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_TRUE(patient->Element("Patient.name")->is_summary);
  EXPECT_TRUE(patient->Element("Patient.birthDate")->is_summary);
  EXPECT_FALSE(patient->Element("Patient.contact")->is_summary);
  EXPECT_FALSE(patient->Element("Patient.photo")->is_summary);
  EXPECT_TRUE(r.Find("Observation")->Element("Observation.value[x]")->is_summary);
}

}  // namespace
}  // namespace carnet::model
