// The measurement rules (model/vital_signs.h) over the cases of
// tests/data/measurements/cases.tsv, through the validator every write and $validate use.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/json.h"
#include "base/tsv.h"
#include "model/validator.h"

namespace carnet::model {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

TEST(VitalSignsTest, EveryCaseOfTheTable) {
  std::string text =
      ReadFile(std::string(CARNET_SOURCE_DIR) + "/tests/data/measurements/cases.tsv");
  auto rows = ReadTsv(text);
  ASSERT_GE(rows.size(), 10u);
  for (const TsvRow& row : rows) {
    ASSERT_EQ(row.cells.size(), 4u) << "line " << row.line;
    const std::string& name = row.cells[0];
    SCOPED_TRACE(name);
    std::string json =
        R"({"resourceType":"Observation","status":"final","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">m</div>"},"code":{"coding":[{"system":"http://loinc.org","code":")" +
        row.cells[2] + R"("}]},)" + row.cells[1] + "}";
    auto resource = ParseJson(json);
    ASSERT_TRUE(resource.ok()) << json;
    auto issues = ValidateResource(*resource);
    std::vector<ValidationIssue> errors;
    for (const auto& i : issues)
      if (i.severity == "error") errors.push_back(i);
    if (row.cells[3] == "ok") {
      for (const auto& e : errors) ADD_FAILURE() << e.expression << ": " << e.message;
      continue;
    }
    auto expected = Split(row.cells[3], '|');
    ASSERT_EQ(expected.size(), 3u);
    ASSERT_EQ(errors.size(), 1u) << [&] {
      std::string all;
      for (const auto& e : errors) all += e.expression + ": " + e.message + "\n";
      return all;
    }();
    EXPECT_EQ(errors[0].code, expected[0]);
    EXPECT_EQ(errors[0].expression, expected[1]);
    EXPECT_NE(errors[0].message.find(expected[2]), std::string::npos) << errors[0].message;
  }
}

}  // namespace
}  // namespace carnet::model
