// Validation of a FHIR R4 resource in JSON form, driven only by the definition tables
// (model/structure.h): element names, cardinalities, primitive formats, choice types,
// primitive extensions (`_element`), required code bindings, reference formats, contained
// resources, and the invariants (ElementDefinition.constraint) of every element present,
// evaluated with the FHIRPath engine (focus: the element; %resource: its resource,
// %rootResource: the container of a contained resource):
//   - a broken invariant of severity error is an error (issue code "invariant"), of severity
//     warning a warning; the message starts with the key ("obs-6: ...") and the human text;
//   - ele-1 (every element has a value or children) and ext-1 (an extension has a value or
//     extensions, not both) are checked natively on every element;
//   - txt-1/txt-2 (htmlChecks()) are checked by model/narrative.h, naming the fault;
//   - an invariant that cannot be checked (not compiled, an evaluation error) is reported as
//     information "not checked", never passed silently; an empty result (the operands are
//     absent: ref-1 on a Reference with only a display) holds.
// Profiles other than the core definitions are checked by model/profile.h.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "model/structure.h"

namespace carnet::model {

struct ValidationIssue {
  std::string severity;  // "error" | "warning" | "information"
  // FHIR issue-type: structure, required, value, code-invalid, invariant, informational...
  std::string code;
  // FHIRPath-like location: Patient.name[0].given[1]; "resourceType" when the type is unknown.
  std::string expression;
  std::string message;   // a person can act on it
  std::string key = {};  // the invariant's key ("obs-6"): code invariant, or not checked
};

// Every problem found (not only the first); errors come before warnings, each group in
// document order. Empty when the resource is valid.
std::vector<ValidationIssue> ValidateResource(
    const carnet::JsonValue& resource, const StructureRegistry& registry = StructureRegistry::R4());

}  // namespace carnet::model
