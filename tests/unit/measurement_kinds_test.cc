// profiles/measurement_kinds.h: the kinds of measurement a patient lets an app write
// (profiles/data/measurement_kinds.tsv).

#include "profiles/measurement_kinds.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace carnet::profiles {
namespace {

TEST(MeasurementKindsTest, BuiltinIsTheRepositoryFileAndParses) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/profiles/data/measurement_kinds.tsv");
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), MeasurementKinds::BuiltinText());
  auto parsed = MeasurementKinds::Parse(MeasurementKinds::BuiltinText(), "builtin");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Kinds(), (std::vector<std::string>{"weight", "blood-pressure", "heart-rate",
                                                       "glucose", "oxygen-saturation", "steps"}));
}

TEST(MeasurementKindsTest, KindOfAnObservationByItsLoincCodes) {
  const MeasurementKinds& k = MeasurementKinds::Builtin();
  EXPECT_EQ(k.KindOfCodes({"29463-7"}), "weight");
  EXPECT_EQ(k.KindOfCodes({"85354-9"}), "blood-pressure");
  EXPECT_EQ(k.KindOfCodes({"9999-9", "2339-0"}), "glucose");
  EXPECT_EQ(k.KindOfCodes({"55423-8"}), "steps");
  EXPECT_EQ(k.KindOfCodes({"1234-5"}), "");
  EXPECT_EQ(k.KindOfCodes({}), "");
  EXPECT_TRUE(k.Knows("oxygen-saturation"));
  EXPECT_FALSE(k.Knows("mood"));
  auto obs = ParseJson(
      R"({"resourceType":"Observation","code":{"coding":[{"system":"http://snomed.info/sct","code":"27113001"},{"system":"http://loinc.org","code":"29463-7"}]}})");
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(LoincCodes(*obs), (std::vector<std::string>{"29463-7"}));
}

TEST(MeasurementKindsTest, RefusesMalformedFiles) {
  auto bad = [](const std::string& text) {
    auto r = MeasurementKinds::Parse(text, "bad.tsv");
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kBadRequest);
    }
  };
  bad("kind\tweight\t29463-7\n");                                   // no display
  bad("kinds\tweight\t29463-7\tPoids\n");                           // unknown row
  bad("kind\tweight\t29463-7\tPoids\nkind\tweight\t3141-9\tP\n");   // kind twice
  bad("kind\tweight\t29463-7\tPoids\nkind\tw2\t29463-7\tPoids\n");  // code in two kinds
  bad("kind\tweight\t29463-7,,3141-9\tPoids\n");                    // empty code
  EXPECT_TRUE(MeasurementKinds::Parse("kind\tweight\t29463-7\tPoids\n", "ok.tsv").ok());
}

}  // namespace
}  // namespace carnet::profiles
