// The conformance suite (conformance/suites, FHIR TestScripts) against a freshly started
// carnet, through the TestScript engine of conformance/: every assert must pass. The tokens
// of the actors the scripts use are handed in as variables.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
      {"token_lab",
       Token({"--actor", "system", "--id", "lab-conformance", "--client-id", "lab-conformance"})},
      {"token_patient", Token({"--actor", "patient", "--id", "pat-conformance", "--patient", ins})},
      {"token_outsider", Token({"--actor", "professional", "--id", "810000000077", "--profession",
                                "10", "--org", "x"})},
      {"token_insurer", Token({"--actor", "insurer", "--id", "mutuelle-conformance"})},
  };
  auto results =
      conformance::RunSuite(std::string(CARNET_SOURCE_DIR) + "/conformance/suites", options);
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

// The runner must be able to fail: a TestScript and an XdsTestPlan whose expectations are
// wrong on purpose are reported failed, one failure per wrong expectation.
TEST(ConformanceSuiteTest, WrongExpectationsFail) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  std::string dir = "/tmp/carnet-conformance-" + RandomHex(6);
  std::filesystem::create_directories(dir + "/requests");
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  };
  write(
      dir + "/a.json",
      R"({"resourceType":"TestScript","name":"wrong","status":"active","test":[{"id":"t","action":[)"
      R"({"operation":{"type":{"code":"capabilities"},"resource":"CapabilityStatement","responseId":"cap"}},)"
      R"({"assert":{"label":"status","response":"notFound"}},)"
      R"({"assert":{"label":"kind","expression":"CapabilityStatement.kind","value":"capability"}},)"
      R"({"assert":{"label":"right","response":"okay"}},)"
      R"({"assert":{"label":"valid","validateProfileId":"cap"}},)"
      R"({"assert":{"label":"not a Patient","validateProfileId":"patient"}},)"
      R"({"assert":{"label":"unknown profile","validateProfileId":"other"}},)"
      R"({"assert":{"label":"invalid fixture","validateProfileId":"patient","sourceId":"bad"}}]}],)"
      R"("fixture":[{"id":"bad","autocreate":false,"autodelete":false,"resource":{"reference":"bad.json"}}],)"
      R"("profile":[{"id":"cap","reference":"http://hl7.org/fhir/StructureDefinition/CapabilityStatement"},)"
      R"({"id":"patient","reference":"http://hl7.org/fhir/StructureDefinition/Patient"},)"
      R"({"id":"other","reference":"https://example.org/StructureDefinition/NotKnown"}]})");
  write(dir + "/bad.json",
        R"({"resourceType":"Patient","gender":"robot","birthDate":"yesterday"})");
  write(
      dir + "/b.json",
      R"({"resourceType":"XdsTestPlan","name":"wrong-xds","steps":[)"
      R"({"name":"missing param","transaction":"ITI-18","request":"requests/q.xml","token":"${token_lab}",)"
      R"("expect":{"status":"Success","errors":["XDSUnknownPatientId"]}},)"
      R"({"name":"missing param right","transaction":"ITI-18","request":"requests/q.xml","token":"${token_lab}",)"
      R"("expect":{"status":"Failure","errors":["XDSStoredQueryMissingParam"]}}]})");
  write(
      dir + "/requests/q.xml",
      R"(<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" )"
      R"(xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption )"
      R"(returnComposedObjects="true" returnType="ObjectRef"/><rim:AdhocQuery )"
      R"(id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId">)"
      R"(<rim:ValueList><rim:Value>'2700000000001^^^&amp;1.2.250.1.213.1.4.10&amp;ISO'</rim:Value>)"
      R"(</rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>)");
  conformance::RunOptions options;
  options.base_url = gateway.base_url() + "/fhir";
  options.variables = {{"token_lab", Token({"--actor", "system", "--id", "lab-conformance",
                                            "--client-id", "lab-conformance"})}};
  auto results = conformance::RunSuite(dir, options);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 2u);
  for (const auto& r : *results) {
    EXPECT_EQ(r.report.GetString("result"), "fail") << r.name;
    EXPECT_GE(r.failed, 1) << r.name;
    EXPECT_GE(r.passed, 1) << r.name;
    for (const auto& f : r.failures)
      std::printf("[ expected ] %s: %s\n", r.name.c_str(), f.c_str());
  }
  // The TestScript: status, kind, not a Patient, unknown profile, invalid fixture fail; the
  // operation, right and valid pass.
  EXPECT_EQ((*results)[0].failed, 5);
  EXPECT_EQ((*results)[0].passed, 3);
}

}  // namespace
}  // namespace carnet::testing
