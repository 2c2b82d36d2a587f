// Structural validation of a FHIR R4 resource in JSON form, driven only by the definition
// tables (model/structure.h): element names, cardinalities, primitive formats, choice
// types, primitive extensions (`_element`), required code bindings, reference formats and
// contained resources. Invariants (FHIRPath constraints) and profiles are not checked here.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "model/structure.h"

namespace carnet::model {

struct ValidationIssue {
  std::string severity;  // "error" | "warning"
  // FHIR issue-type: structure, required, value, code-invalid, invalid...
  std::string code;
  // FHIRPath-like location: Patient.name[0].given[1]; "resourceType" when the type is unknown.
  std::string expression;
  std::string message;  // a person can act on it
};

// Every problem found (not only the first); errors come before warnings, each group in
// document order. Empty when the resource is valid.
std::vector<ValidationIssue> ValidateResource(
    const carnet::JsonValue& resource, const StructureRegistry& registry = StructureRegistry::R4());

}  // namespace carnet::model
