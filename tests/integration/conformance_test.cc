// The conformance suite (conformance/suites, FHIR TestScripts) against a freshly started
// carnet, through the TestScript engine of conformance/: every assert must pass. The tokens
// of the actors the scripts use are handed in as variables.
#include <gtest/gtest.h>

#include "base/strings.h"
#include "conformance/test_script.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

TEST(ConformanceSuiteTest, EveryTestScriptPasses) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  std::string ins = "2" + std::to_string(700000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  conformance::RunOptions options;
  options.base_url = gateway.base_url() + "/fhir";
  options.variables = {
      {"ins", ins},
      {"token_operator", Token({"--actor", "operator", "--id", "ops-conformance"})},
      {"token_lab", Token({"--actor", "system", "--id", "lab-conformance", "--client-id", "lab-conformance"})},
      {"token_patient", Token({"--actor", "patient", "--id", "pat-conformance", "--patient", ins})},
      {"token_outsider", Token({"--actor", "professional", "--id", "810000000077", "--profession", "10", "--org", "x"})},
      {"token_insurer", Token({"--actor", "insurer", "--id", "mutuelle-conformance"})},
  };
  auto results = conformance::RunSuite(std::string(CARNET_SOURCE_DIR) + "/conformance/suites", options);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_GE(results->size(), 1u);
  int passed = 0, failed = 0;
  for (const auto& r : *results) {
    passed += r.passed;
    failed += r.failed;
    for (const auto& f : r.failures) ADD_FAILURE() << r.name << ": " << f;
    EXPECT_EQ(r.report.GetString("resourceType"), "TestReport");
    EXPECT_EQ(r.report.GetString("result"), r.failed == 0 ? "pass" : "fail");
  }
  std::printf("[ conform  ] %d passed, %d failed\n", passed, failed);
  EXPECT_EQ(failed, 0);
  EXPECT_GT(passed, 20);
}

}  // namespace
}  // namespace carnet::testing
