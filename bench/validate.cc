// carnet-validate-bench [rounds] [examples dir]: the cost of validating a resource (the check
// every create/update and $validate runs, model::ValidateResource), over the official R4
// examples of ../shared/testdata/fhir/r4-examples, in one thread, no I/O in the timed part.
// Prints the examples, the rounds, microseconds per validation and issues per round.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "model/structure.h"
#include "model/validator.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  std::string dir = argc > 2 ? argv[2] : CARNET_SOURCE_DIR "/../shared/testdata/fhir/r4-examples";
  const auto& registry = carnet::model::StructureRegistry::R4();  // loaded outside the timing
  std::vector<carnet::JsonValue> resources;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = carnet::ParseJson(text.str());
    if (!parsed.ok() || !registry.IsResourceType(parsed->GetString("resourceType"))) continue;
    resources.push_back(std::move(*parsed));
  }
  size_t issues = 0;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& resource : resources)
      issues += carnet::model::ValidateResource(resource).size();
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu examples x %d rounds: %.1f us per validation (%zu issues per round)\n",
              resources.size(), rounds, us / (static_cast<double>(resources.size()) * rounds),
              issues / static_cast<size_t>(rounds ? rounds : 1));
  return 0;
}
