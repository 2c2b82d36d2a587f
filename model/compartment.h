// The Patient compartment (official R4 CompartmentDefinition): which patients a resource
// belongs to. carnet files every resource under the first patient found, in the order of
// the CompartmentDefinition's parameters (subject before performer...).
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "model/structure.h"

namespace carnet::model {

// Logical ids of the Patient resources that `resource` references through its Patient
// compartment parameters, first-found first, without duplicates. For a Patient, its own id.
std::vector<std::string> PatientCompartmentIds(
    const JsonValue& resource, const StructureRegistry& registry = StructureRegistry::R4());

}  // namespace carnet::model
