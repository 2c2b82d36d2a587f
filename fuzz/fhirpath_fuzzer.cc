// profiles/fhirpath: an expression from outside (a custom SearchParameter, a conformance
// TestScript, $validate of a profile's invariants) parsed, then evaluated against a fixed
// Observation with the R4 type information.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "base/json.h"
#include "model/fhirpath.h"
#include "model/structure.h"

using namespace carnet;
using namespace carnet::model;

namespace {
const JsonValue& Resource() {
  static const JsonValue* resource = [] {
    std::ifstream in(CARNET_SOURCE_DIR "/tests/data/fhirpath/observation-example.json");
    std::stringstream text;
    text << in.rdbuf();
    auto json = ParseJson(text.str());
    if (!json.ok()) std::abort();
    return new JsonValue(std::move(*json));
  }();
  return *resource;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expression = FhirPathExpression::Parse(text);
  if (!expression.ok()) return 0;
  FhirPathEnvironment env;
  env.registry = &StructureRegistry::R4();
  env.max_items = 10000;
  auto result = expression->Evaluate(Resource(), env);
  if (result.ok())
    for (const FhirPathNode& node : *result) (void)FhirPathToString(node);
  (void)expression->EvaluateBoolean(Resource(), FhirPathEnvironment{});
  return 0;
}
