// carnet's OperationDefinitions (fhir/data/operation_definitions.json): the file parses, each
// definition is a valid R4 OperationDefinition, and every `$` route of the route table (and
// every record choice) has one, at the right level, as every definition has its route.
#include "fhir/operation_definitions.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "fhir/routes.h"
#include "model/validator.h"
#include "profiles/record_choices.h"

namespace carnet::fhir {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Segments(std::string_view pattern) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : pattern) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A definition of `code` for `type` at the instance level (`instance`) or the type level.
bool Defined(const std::string& code, const std::string& type, bool instance) {
  for (const JsonValue& od : OperationDefinitions())
    if (od.GetString("code") == code && AppliesTo(od, type) &&
        od.Find(instance ? "instance" : "type")->as_bool())
      return true;
  return false;
}

TEST(OperationDefinitionsTest, TheCompiledInFileParses) {
  std::string text =
      ReadFile(std::string(CARNET_SOURCE_DIR) + "/fhir/data/operation_definitions.json");
  auto parsed = ParseOperationDefinitions(text, "operation_definitions.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), OperationDefinitions().size());
  EXPECT_GE(OperationDefinitions().size(), 21u);
}

TEST(OperationDefinitionsTest, EachIsAValidR4OperationDefinition) {
  for (const JsonValue& od : OperationDefinitions()) {
    JsonValue served = ServedOperationDefinition(od, "https://carnet.test/fhir");
    EXPECT_EQ(served.GetString("url"),
              "https://carnet.test/fhir/OperationDefinition/" + od.GetString("id"));
    for (const model::ValidationIssue& i : model::ValidateResource(served))
      EXPECT_NE(i.severity, "error")
          << od.GetString("id") << ": " << i.expression << ": " << i.message;
    EXPECT_NE(od.GetString("comment").find("Who may call it"), std::string::npos)
        << od.GetString("id");
  }
}

// The guard of issue 19: a `$` route served without an OperationDefinition fails here.
TEST(OperationDefinitionsTest, EveryServedOperationHasADefinition) {
  int operations = 0;
  std::set<std::string> served_codes;
  for (const Route& route : Routes()) {
    std::vector<std::string> segs = Segments(route.pattern);
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].empty() || segs[i][0] != '$') continue;
      ++operations;
      std::string code = segs[i].substr(1);
      served_codes.insert(code);
      if (i == 0) {  // /$op: the system level
        bool system = false;
        for (const JsonValue& od : OperationDefinitions())
          if (od.GetString("code") == code && od.Find("system")->as_bool()) system = true;
        EXPECT_TRUE(system) << route.method << " " << route.pattern
                            << " has no system-level OperationDefinition";
        continue;
      }
      std::string type = segs[0][0] == '{' ? "Resource" : segs[0];
      bool instance = i == 2;  // /[type]/[id]/$op
      EXPECT_TRUE(Defined(code, type, instance))
          << route.method << " " << route.pattern << " has no OperationDefinition (add one to "
          << "fhir/data/operation_definitions.json)";
    }
    if (route.pattern.find("{choice}") != std::string_view::npos)
      for (const std::string& choice : profiles::RecordChoices()) {
        ++operations;
        served_codes.insert(choice);
        EXPECT_TRUE(Defined(choice, "Patient", true))
            << "POST Patient/[id]/$" << choice << " has no OperationDefinition";
      }
  }
  EXPECT_GE(operations, 20);
  // And the other way: no definition of an operation nobody serves.
  for (const JsonValue& od : OperationDefinitions())
    EXPECT_TRUE(served_codes.count(od.GetString("code")))
        << od.GetString("id") << " defines $" << od.GetString("code") << ", which no route serves";
}

TEST(OperationDefinitionsTest, AnIncompleteDefinitionIsRefused) {
  const char* no_doc = R"({"operations":[{"resourceType":"OperationDefinition","id":"Patient-x",
    "name":"X","status":"active","kind":"operation","description":"d","comment":"Who may call it: all",
    "code":"x","resource":["Patient"],"system":false,"type":false,"instance":true,
    "parameter":[{"name":"a","use":"in","min":0,"max":"1","type":"string"}]}]})";
  auto r = ParseOperationDefinitions(no_doc, "test.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("parameter 'a': no documentation"), std::string::npos)
      << r.status().message();
  std::string twice =
      R"({"operations":[)" + std::string(R"({"resourceType":"OperationDefinition","id":"Patient-x",
    "name":"X","status":"active","kind":"operation","description":"d","comment":"c",
    "code":"x","resource":["Patient"],"system":false,"type":false,"instance":true,"parameter":[]})");
  twice += "," + twice.substr(15) + "]}";
  r = ParseOperationDefinitions(twice, "test.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("id used twice"), std::string::npos) << r.status().message();
  r = ParseOperationDefinitions(R"({"operations":[{"resourceType":"OperationDefinition",
    "id":"Patient-y","url":"http://x","name":"Y","status":"active","kind":"operation",
    "description":"d","comment":"c","code":"y","resource":["Patient"],"system":false,
    "type":false,"instance":true,"parameter":[]}]})",
                                "test.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("url is set by the server"), std::string::npos);
}

}  // namespace
}  // namespace carnet::fhir
