// carnet's FHIR operations as data: one OperationDefinition per operation in
// fhir/data/operation_definitions.json (compiled in), served at GET
// /fhir/OperationDefinition/[id], found by search, and declared in the CapabilityStatement
// (fhir/capabilities.cc) from the same list. Adding an operation: its route (fhir/routes.cc)
// and an entry in the file; the unit test fails when a `$` route has no definition.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::fhir {

// Parses and checks a definitions file: an object whose "operations" is an array of
// OperationDefinitions, each with id, code, name, kind operation, resource, system/type/
// instance, comment (who may call it) and parameters with name, use, min, max, type and
// documentation; ids unique. `origin` names the file in error messages.
Result<std::vector<JsonValue>> ParseOperationDefinitions(std::string_view text,
                                                         std::string_view origin);

// The compiled-in definitions (without `url`); empty should the file ever be broken (the unit
// test checks it is not).
const std::vector<JsonValue>& OperationDefinitions();

// The compiled-in definition of `id`, or nullptr.
const JsonValue* FindOperationDefinition(std::string_view id);

// Whether an OperationDefinition of that id is carnet's own (read-only to every client).
bool IsOwnOperationDefinition(std::string_view id);

// [base_url]/OperationDefinition/[id]: the canonical URL the CapabilityStatement declares.
std::string OperationDefinitionUrl(const std::string& base_url, std::string_view id);

// `definition` as served: `url` set after `id`.
JsonValue ServedOperationDefinition(const JsonValue& definition, const std::string& base_url);

// Whether `definition` applies to resource `type` ("Resource" applies to every type).
bool AppliesTo(const JsonValue& definition, std::string_view type);

}  // namespace carnet::fhir
