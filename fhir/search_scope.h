// The policy hook of search: what the caller may see.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace carnet::fhir {

// What the caller may see, ANDed into every statement the planner writes (matches,
// includes, chains, _has and counts). The default allows everything; the access-policy
// work fills it from the actor's decision.
struct SearchScope {
  // Only resources of these records (patient_key); nullopt: any record.
  std::optional<std::vector<long long>> patient_keys;
  // Whether shared resources (patient_key NULL: Practitioner, Organization...) are visible.
  bool include_shared = true;
  // Resources carrying any of these security label codes are never returned.
  std::vector<std::string> excluded_security;
};

}  // namespace carnet::fhir
