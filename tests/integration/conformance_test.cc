// The conformance suite (conformance/suites, FHIR TestScripts) against a freshly started
// carnet, through the TestScript engine of conformance/: every assert must pass. The tokens
// of the actors the scripts use are handed in as variables.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "conformance/suite_variables.h"
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
      {"lab_source", "lab-conformance"},  // carnet's meta.source: token_lab's client id
  };
  // Everything the suites need from outside is given (the command would refuse to start).
  auto missing = conformance::MissingVariables(
      std::string(CARNET_SOURCE_DIR) + "/conformance/suites", options.variables);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  for (const auto& m : *missing) ADD_FAILURE() << "variable not given: " << m.name;
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

// `carnet conformance` against a server without the suites' variables names what is missing,
// and which suites need it, and stops (exit 2) before sending a request: no test result is
// printed. Given all but one, it names that one.
TEST(ConformanceSuiteTest, MissingVariablesAreNamedBeforeAnyRequest) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  auto run = [&](const std::string& vars, int* status) {
    std::string line = std::string(CARNET_GATEWAY_BINARY) + " conformance --base " +
                       gateway.base_url() + "/fhir " + vars + " 2>&1";
    FILE* pipe = popen(line.c_str(), "r");
    std::string out;
    char buffer[4096];
    for (size_t n; pipe && (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    int rc = pipe ? pclose(pipe) : -1;
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
  };
  int status = 0;
  std::string none = run("", &status);
  EXPECT_EQ(status, 2) << none;
  for (const char* expected : {"--var name=value", "token_operator", "token_lab", "token_patient",
                               "lab_source  (02-document-lifecycle.json)", "ins  (05-xds.json)"})
    EXPECT_NE(none.find(expected), std::string::npos) << expected << " in:\n" << none;
  EXPECT_EQ(none.find("passed"), std::string::npos) << "nothing may run:\n" << none;
  EXPECT_EQ(none.find("FAIL"), std::string::npos) << none;

  std::string all_but_source =
      run("--var ins=2700000000001 --var token_operator=a --var token_lab=b --var token_patient=c "
          "--var token_outsider=d --var token_insurer=e",
          &status);
  EXPECT_EQ(status, 2) << all_but_source;
  EXPECT_NE(all_but_source.find("need 1 variable(s)"), std::string::npos) << all_but_source;
  EXPECT_NE(all_but_source.find("lab_source"), std::string::npos) << all_but_source;
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

// The suites cover what carnet declares: every search parameter of every resource type in the
// CapabilityStatement is used by some search operation of conformance/suites (regenerate
// 06-search-parameters.json with conformance/gen_search_suite.py when this fails), and every
// declared interaction is exercised.
TEST(ConformanceSuiteTest, TheSuitesCoverEveryDeclaredInteractionAndSearchParameter) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  auto cs = ParseJson(client.Get(gateway.base_url() + "/fhir/metadata").body);
  ASSERT_TRUE(cs.ok());
  // (type, params) of every search operation, and every operation type code, of every suite.
  std::vector<std::pair<std::string, std::string>> searches;
  std::set<std::string> operations;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CARNET_SOURCE_DIR) +
                                                               "/conformance/suites")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto script = ParseJson(ss.str());
    ASSERT_TRUE(script.ok()) << entry.path();
    std::function<void(const JsonValue&)> walk = [&](const JsonValue& v) {
      if (v.is_array()) {
        for (const auto& x : v.items()) walk(x);
      } else if (v.is_object()) {
        if (const JsonValue* op = v.Find("operation")) {
          std::string code = op->Find("type") ? op->Find("type")->GetString("code") : "";
          operations.insert(code);
          if (code == "search")
            searches.emplace_back(op->GetString("resource"), op->GetString("params"));
        }
        for (const auto& [k, x] : v.members()) walk(x);
      }
    };
    walk(*script);
  }
  auto used = [&](const std::string& type, const std::string& name) {
    for (const auto& [t, params] : searches) {
      if (t != type) continue;
      for (size_t at = params.find(name); at != std::string::npos; at = params.find(name, at + 1)) {
        char before = at == 0 ? '?' : params[at - 1];
        char after = at + name.size() < params.size() ? params[at + name.size()] : '\0';
        if ((before == '?' || before == '&') && (after == '=' || after == ':' || after == '.'))
          return true;
      }
    }
    return false;
  };
  int declared = 0;
  std::set<std::string> interactions;
  for (const auto& r : cs->Find("rest")->items()[0].Find("resource")->items()) {
    std::string type = r.GetString("type");
    if (const JsonValue* sp = r.Find("searchParam"))
      for (const auto& p : sp->items()) {
        ++declared;
        EXPECT_TRUE(used(type, p.GetString("name")))
            << type << "?" << p.GetString("name") << " is declared, never searched";
      }
    for (const auto& i : r.Find("interaction")->items()) interactions.insert(i.GetString("code"));
  }
  for (const auto& i : cs->Find("rest")->items()[0].Find("interaction")->items())
    interactions.insert(i.GetString("code"));
  EXPECT_GT(declared, 500);
  // Declared interaction -> the TestScript operation that exercises it.
  const std::map<std::string, std::string> op_of = {{"read", "read"},
                                                    {"vread", "vread"},
                                                    {"update", "update"},
                                                    {"patch", "patch"},
                                                    {"delete", "delete"},
                                                    {"create", "create"},
                                                    {"search-type", "search"},
                                                    {"history-instance", "history"},
                                                    {"history-type", "history"},
                                                    {"history-system", "history"},
                                                    {"transaction", "transaction"},
                                                    {"batch", "batch"}};
  for (const auto& i : interactions) {
    auto it = op_of.find(i);
    ASSERT_NE(it, op_of.end()) << "interaction " << i << " has no TestScript operation to map to";
    EXPECT_TRUE(operations.count(it->second))
        << "interaction " << i << " is declared, never exercised";
  }
  EXPECT_TRUE(operations.count("capabilities"));
}

}  // namespace
}  // namespace carnet::testing
