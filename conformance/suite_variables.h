// The variables a conformance suite needs from outside (`carnet conformance --var name=value`):
// every "${name}" its TestScripts, XdsTestPlans, fixtures and request files use that nothing
// in the suite gives a value. A TestScript variable with an expression, a headerField or a
// path takes its value from a response; one with a non-empty defaultValue has it; an
// XdsTestPlan's captures come from earlier steps; ${uuid} and ${oid} are fresh in XDS request
// files. What is left must be given, or the suite runs with empty values and fails everywhere.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace carnet::conformance {

struct MissingVariable {
  std::string name;
  std::vector<std::string> suites;  // the suite files (names) that need it, in name order
};

// The variables the suites under `path` (a directory or one file, as RunSuite takes) need and
// `given` does not hold, by name.
Result<std::vector<MissingVariable>> MissingVariables(
    const std::string& path, const std::map<std::string, std::string>& given);

}  // namespace carnet::conformance
