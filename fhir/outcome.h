// OperationOutcome: how every FHIR error (and some successes) is told to the client.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::fhir {

struct OutcomeIssue {
  std::string severity = "error";  // fatal | error | warning | information
  std::string code;                // http://hl7.org/fhir/issue-type
  std::string diagnostics;         // what a person can act on
  std::string expression;          // FHIRPath location, optional
};

JsonValue MakeOperationOutcome(const std::vector<OutcomeIssue>& issues);

// One issue from a Status, its code taken from the error table.
JsonValue OutcomeFromStatus(const Status& status);

}  // namespace carnet::fhir
