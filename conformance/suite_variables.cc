#include "conformance/suite_variables.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/json.h"
#include "conformance/test_script.h"

namespace carnet::conformance {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void CollectUses(const std::string& text, std::set<std::string>* uses) {
  for (size_t pos = text.find("${"); pos != std::string::npos; pos = text.find("${", pos + 2)) {
    size_t end = text.find('}', pos);
    if (end == std::string::npos) break;
    uses->insert(text.substr(pos + 2, end - pos - 2));
  }
}

}  // namespace

Result<std::vector<MissingVariable>> MissingVariables(
    const std::string& path, const std::map<std::string, std::string>& given) {
  auto files = SuiteFiles(path);
  if (!files.ok()) return files.status();
  std::map<std::string, MissingVariable> missing;
  for (const std::string& file : *files) {
    std::string text = ReadText(file);
    auto json = ParseJson(text);
    if (!json.ok()) return BadRequest(file + ": " + json.status().message());
    std::string type = json->GetString("resourceType");
    fs::path dir = fs::path(file).parent_path();
    std::set<std::string> uses, defined;
    CollectUses(text, &uses);
    if (type == "TestScript") {
      if (const JsonValue* fixtures = json->Find("fixture"); fixtures && fixtures->is_array())
        for (const auto& f : fixtures->items())
          if (const JsonValue* resource = f.Find("resource")) {
            std::string ref = resource->GetString("reference");
            if (!ref.empty() && ref[0] != '#') CollectUses(ReadText(dir / ref), &uses);
          }
      if (const JsonValue* variables = json->Find("variable"); variables && variables->is_array())
        for (const auto& v : variables->items())
          if (!v.GetString("defaultValue").empty() || !v.GetString("expression").empty() ||
              !v.GetString("headerField").empty() || !v.GetString("path").empty())
            defined.insert(v.GetString("name"));
    } else if (type == "XdsTestPlan") {
      defined = {"uuid", "oid"};
      if (const JsonValue* steps = json->Find("steps"); steps && steps->is_array())
        for (const auto& step : steps->items()) {
          std::string request = step.GetString("request");
          if (!request.empty()) CollectUses(ReadText(dir / request), &uses);
          if (const JsonValue* capture = step.Find("capture"); capture && capture->is_object())
            for (const auto& [name, expression] : capture->members()) defined.insert(name);
        }
    } else {
      continue;
    }
    for (const std::string& name : uses) {
      if (defined.count(name) || given.count(name)) continue;
      missing[name].name = name;
      missing[name].suites.push_back(fs::path(file).filename().string());
    }
  }
  std::vector<MissingVariable> out;
  for (auto& [name, m] : missing) out.push_back(std::move(m));
  return out;
}

}  // namespace carnet::conformance
