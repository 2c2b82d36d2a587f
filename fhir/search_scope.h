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

  // --- Added for the access policy (issue 5): profiles::AccessFilter (profiles/policy.h)
  // maps onto these field by field. The defaults leave the behaviour above unchanged.
  // A resource carrying an excluded_security code, or of a document type outside
  // document_types, stays visible when one of its authors is one of these ids (matched
  // on the `author` reference's identifier value, or the identifier of the Practitioner /
  // PractitionerRole it references): the author always sees their document.
  std::vector<std::string> author_exempt_ids;
  // Only resources of these types (nullopt: any type; empty: nothing).
  std::optional<std::vector<std::string>> resource_types;
  // DocumentReference and Composition only when their `type` token code is one of these
  // (nullopt: any); resources of other types are not affected.
  std::optional<std::vector<std::string>> document_types;
  // Only resources whose meta.source (the `_source` parameter) is one of these (nullopt:
  // any): a deposit source reads back only what it deposited.
  std::optional<std::vector<std::string>> sources;
  // Resources of these types are never returned (Binary: content is read by id, through
  // the decision on the document that points at it, never searched).
  std::vector<std::string> excluded_types;
};

}  // namespace carnet::fhir
