// What a caller may see, as plain data, and the SQL predicate that says it on a `resource` row.
//
// The policy (profiles/policy.h: FilterFor) fills an AccessFilter from its decision on a record;
// every reader ANDs AccessPredicate into its statements, so that what it counts and returns is
// already only what the caller may see: FHIR search (matches, includes, chains, _has, totals)
// and the XDS stored queries (rows, XDSTooManyResults) alike. No row is decided after the fact.
//
// Storage knows rows, not FHIR: the predicate reads the resource row (patient_key, res_type,
// security) and the rows the search index keeps for it (its meta.source, document type code
// and authors), by the index's parameter names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/sql_builder.h"

namespace carnet::storage {

struct AccessFilter {
  // Records searched; empty: none at all (shared resources only, if include_shared)...
  std::vector<long long> patient_keys;
  // ...unless any_record: rules that do not depend on the record (deposit sources,
  // operators, carnet's own lookups) apply across all records.
  bool any_record = false;
  // Whether shared resources (patient_key NULL: Practitioner, Organization...) are visible.
  bool include_shared = true;
  // Whether resource_types and sources below narrow the records' rows only, shared rows
  // passing on include_shared alone: the across-records filter of operators and deposit
  // sources, whose rules (Patient resources; what they deposited) are about records, while
  // shared directory and conformance content (a StructureDefinition carnet publishes) is
  // what every signed-in party reads, found by a search as it is read by id.
  bool record_rules_spare_shared = false;
  // Resources carrying any of these security label codes are left out...
  std::vector<std::string> excluded_security;
  // ...as are DocumentReferences and Compositions of a type outside document_types, unless
  // one of their authors is one of these ids (matched on the `author` reference's identifier
  // value, or the identifier of the Practitioner / PractitionerRole it references): the
  // author always sees their document.
  std::vector<std::string> author_exempt_ids;
  // Only resources of these types (nullopt: any; empty: nothing).
  std::optional<std::vector<std::string>> resource_types;
  // DocumentReference and Composition only when their `type` code is one of these (nullopt:
  // any); resources of other types are not affected.
  std::optional<std::vector<std::string>> document_types;
  // ...or when their type is one of these and they carry shared_label: the one document of
  // a shareable category (an administrative paper) the patient chose to share.
  std::vector<std::string> shared_document_types;
  std::string shared_label;
  // Only resources whose meta.source is one of these (nullopt: any): a deposit source reads
  // back what it deposited.
  std::optional<std::vector<std::string>> sources;
  // Query-restricted SMART scopes (issue 17): each restriction must hold. A restriction
  // concerns the rows of `type` ("*": every row); such a row passes when one of the
  // alternatives matches it: its type is the alternative's (when it names one) and every
  // token condition holds on the search index (idx_token, param and code, and system when
  // given). No alternative: nothing of that type passes.
  struct TokenCondition {
    std::string param;
    bool any_system = true;
    std::string system;
    std::string code;
    bool operator==(const TokenCondition&) const = default;
  };
  struct Alternative {
    std::string type;  // empty: any
    std::vector<TokenCondition> conditions;
    bool operator==(const Alternative&) const = default;
  };
  struct TypeRestriction {
    std::string type;
    std::vector<Alternative> alternatives;
    bool operator==(const TypeRestriction&) const = default;
  };
  std::vector<TypeRestriction> restrictions;
  // Resources of these types are never returned (Binary: its content is read by id, through
  // the decision on the document that points at it, never searched).
  std::vector<std::string> excluded_types;
  // Secure messages (Communication) only when one of their `sender` or `recipient`
  // references names one of these (its identifier value, or "Type/id" of its target);
  // nullopt: messages are not restricted (carnet's own lookups). Resources of other types
  // are not affected.
  std::optional<std::vector<std::string>> message_parties;

  // Why the filter is what it is, for the audit of the read it governs (not used in SQL):
  // the policy's reason, and whether access is granted through emergency mode or asserted
  // consent, or opens an emergency window.
  std::string reason;
  // The reason code of that decision (profiles/reason_codes.def: "care-team", "blocked"...).
  std::string reason_code;
  bool emergency = false;
  bool consent = false;
  bool opens_emergency_window = false;

  // The filter of carnet's own lookups (not on a caller's behalf): every resource. A
  // default-constructed filter shows no record's content.
  static AccessFilter Everything();
};

// The predicate "resource row `alias` passes `filter`" ("TRUE" when it lets everything
// through); values travel as parameters of `b`.
std::string AccessPredicate(const AccessFilter& filter, const std::string& alias, SqlBuilder& b);

}  // namespace carnet::storage
