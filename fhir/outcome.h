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
  std::string details_text;        // issue.details.text, optional
};

JsonValue MakeOperationOutcome(const std::vector<OutcomeIssue>& issues);

// One issue from a Status, its code taken from the error table.
// With `xds_error_codes`, each issue also names the XDS RegistryError errorCode of the same
// failure in issue.details.text (IHE MHD: a Document Recipient reports what an XDS
// Registry would; the eHealth Suisse MHD examples carry it there too).
JsonValue OutcomeFromStatus(const Status& status, bool xds_error_codes = false);

}  // namespace carnet::fhir
