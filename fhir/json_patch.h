// JSON Patch (RFC 6902) over carnet::JsonValue, for FHIR's PATCH interaction with
// Content-Type application/json-patch+json.
//
// Error codes (what the REST layer turns into HTTP statuses):
//   - kBadRequest (400): the patch document itself is malformed: not an array, an operation
//     that is not an object, an unknown "op", a missing or non-string "path"/"from", a
//     missing "value", a pointer that is not RFC 6901 syntax ("a/b", "/~2").
//   - kInvalid (422 Unprocessable Entity): the patch is well formed but cannot be applied to
//     this document: a pointer that does not resolve (missing member, array index out of
//     range, index with leading zeros, "-" where an existing element is needed), a failing
//     "test", a move of a value into one of its own children, removing the root.
//     FHIR (http.html#patch) asks for 422 when a patch cannot be applied; 409 Conflict is
//     kept for version conflicts (If-Match), which the caller checks before patching.
//
// All or nothing: the operations are applied to a copy, and the document is replaced only
// when every operation succeeded. Member order is kept; "add" of a new member appends it.
//
// Numbers in "test" compare by value (RFC 6902 section 4.6: 1, 1.0 and 10E-1 are equal), not
// by the literal text JsonValue::operator== uses; the document keeps each number as written.
#pragma once

#include "base/json.h"
#include "base/status.h"

namespace carnet::fhir {

// Applies `patch` (a JSON array of operations) to `*document`. On error `*document` is left
// unchanged and the status names the failing operation's index in its location
// ("/2" for the third operation).
Status ApplyJsonPatch(const JsonValue& patch, JsonValue* document);

// JSON equality as RFC 6902 "test" defines it: like JsonValue::operator== but numbers compare
// by numeric value, exactly (no floating point).
bool JsonPatchEquals(const JsonValue& a, const JsonValue& b);

}  // namespace carnet::fhir
