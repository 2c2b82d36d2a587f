// profiles/shared_content.h: who writes shared content, and which types of the Patient
// compartment may exist outside any record (profiles/data/shared_content.tsv).

#include "profiles/shared_content.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "model/structure.h"

namespace carnet::profiles {
namespace {

const SharedContentRules& R() { return SharedContentRules::Builtin(); }

TEST(SharedContentRulesTest, BuiltinIsTheRepositoryFileAndParses) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/profiles/data/shared_content.tsv");
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), SharedContentRules::BuiltinText());
  auto parsed = SharedContentRules::Parse(SharedContentRules::BuiltinText(), "builtin");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
}

TEST(SharedContentRulesTest, EveryTypeNamedIsAnR4ResourceType) {
  const auto& r4 = model::StructureRegistry::R4();
  std::istringstream in{std::string(SharedContentRules::BuiltinText())};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string kind, type;
    f >> kind >> type;
    if (type == "*") continue;
    EXPECT_TRUE(r4.IsResourceType(type)) << line;
    // A standalone row only means something for a type of the Patient compartment.
    if (kind == "standalone") {
      EXPECT_FALSE(r4.PatientCompartmentParams(type).empty()) << line;
    }
    // A filed row only for a type outside it.
    if (kind == "filed") {
      EXPECT_TRUE(r4.PatientCompartmentParams(type).empty()) << line;
    }
  }
}

TEST(SharedContentRulesTest, WritersByTypeWithOperatorsEverywhere) {
  EXPECT_TRUE(R().MayWrite("ValueSet", ActorKind::kOperator));
  EXPECT_FALSE(R().MayWrite("ValueSet", ActorKind::kSystem));
  EXPECT_FALSE(R().MayWrite("ValueSet", ActorKind::kProfessional));
  EXPECT_TRUE(R().MayWrite("Practitioner", ActorKind::kSystem));
  EXPECT_FALSE(R().MayWrite("Practitioner", ActorKind::kPatient));
  EXPECT_TRUE(R().MayWrite("Medication", ActorKind::kProfessional));
  EXPECT_FALSE(R().MayWrite("AuditEvent", ActorKind::kOperator));  // carnet's alone
  EXPECT_TRUE(R().WrittenByServer("AuditEvent"));
  EXPECT_TRUE(R().MayStandOutsideRecord("Group"));
  EXPECT_TRUE(R().MayWrite("Device", ActorKind::kSystem));
  EXPECT_FALSE(R().MayStandOutsideRecord("Observation"));
  EXPECT_EQ(R().FiledBy("Device"), "patient");
  EXPECT_EQ(R().FiledBy("Practitioner"), "");
}

TEST(SharedContentRulesTest, RefusesMalformedFiles) {
  auto bad = [](const std::string& text) {
    auto r = SharedContentRules::Parse(text, "bad.tsv");
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kBadRequest);
    }
  };
  bad("writers\tPractitioner\toperator\n");           // no default row
  bad("writers\t*\toperator,insurer\n");              // a denied party writes nothing
  bad("writers\t*\toperator\nwriters\tX\tnobody\n");  // unknown kind
  bad("writers\t*\toperator\nstandalone\n");
  bad("writers\t*\toperator\npermit everything\n");
  bad("writers\t*\toperator\nfiled\tDevice\n");  // which element
  EXPECT_TRUE(SharedContentRules::Parse("writers\t*\toperator\n", "ok.tsv").ok());
}

}  // namespace
}  // namespace carnet::profiles
