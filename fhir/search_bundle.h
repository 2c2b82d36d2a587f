// The parts of a searchset (and of the other Bundles the API answers): links, entries, and
// the shaping of resources that _summary and _elements ask for.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::fhir {

// A Bundle.link: {relation, url}.
JsonValue BundleLink(const std::string& relation, const std::string& url);

// A searchset entry: the resource at base_url/type/id, found as `mode` ("match", "include").
JsonValue SearchsetEntry(const std::string& base_url, const std::string& type,
                         const std::string& id, JsonValue resource, const char* mode);

// `resource` reduced as _summary (true, text, data; "" and false keep everything) and
// _elements ask, tagged SUBSETTED when something was left out.
//
// _summary=true keeps id, meta, implicitRules, the mandatory elements and the elements
// FHIR commonly flags as summary (identifier, status, code, subject...): the generated
// structure tables carry no isSummary flag yet, so this is an approximation by name.
JsonValue ShapeResource(JsonValue resource, const std::string& summary,
                        const std::vector<std::string>& elements);

}  // namespace carnet::fhir
