// Shaping the resources of a searchset: _summary and _elements.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::fhir {

// `resource` reduced as _summary (true, text, data; "" and false keep everything) and
// _elements ask, tagged SUBSETTED when something was left out.
//
// _summary=true keeps id, meta, implicitRules, the mandatory elements and the elements
// FHIR commonly flags as summary (identifier, status, code, subject...): the generated
// structure tables carry no isSummary flag yet, so this is an approximation by name.
JsonValue ShapeResource(JsonValue resource, const std::string& summary,
                        const std::vector<std::string>& elements);

}  // namespace carnet::fhir
