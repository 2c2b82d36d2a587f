// FHIRPath (http://hl7.org/fhirpath, N1 as used by FHIR R4) over carnet::JsonValue: the
// subset that search parameter extraction, invariants and conformance tests need.
//
// An expression is parsed once into an immutable AST and evaluated many times; evaluation is
// const and keeps its state on the stack, so one FhirPathExpression may be shared by threads.
// Parsing is bounded (expression length, AST depth), so hostile input cannot exhaust the
// stack either when parsing, evaluating or destroying the AST; descendants()/repeat() and
// every intermediate collection are bounded by FhirPathEnvironment::max_items.
//
// Type information (choice types such as Observation.value[x], is/as/ofType on complex
// elements, FHIR primitive types) comes from a model::StructureRegistry when the caller
// passes one; without it the evaluator still works on arbitrary JSON, inferring what it can
// (resourceType members, choice suffixes naming a FHIR data type).
//
// Deliberate deviations, for what FHIR R4 definitions and the official tests expect:
//   - the 'as' operator filters a collection like ofType() (R4 search parameters such as
//     "(ActivityDefinition.useContext.value as CodeableConcept)" apply it to collections);
//     the as() function stays singleton-only;
//   - is() follows type derivation (code is a string, Age is a Quantity); as()/ofType() too,
//     except between FHIR primitive types (Patient.gender.as(string) is empty);
//   - a leading type name ("Patient.name") filters the context by type;
//   - comparisons of a string of unknown type (untyped JSON) with a date literal read the
//     string as a date.
//
// Not supported (Parse refuses them with IsUnsupportedFeature() true): matches(),
// replaceMatches() (no regular expression engine that is safe on untrusted patterns is
// linked; std::regex backtracks without bound), except in expressions of the FHIR definitions
// themselves (FhirPathParseOptions::definitions: invariants, whose patterns are fixed and
// reviewed; the subject string is bounded), aggregate(), sort(), type(), conformsTo(),
// memberOf(), precision(), low/highBoundary(), encode/decode/escape/unescape(), and date
// arithmetic with quantities. Quantities compare only when their units are the same (no UCUM
// conversion): otherwise the comparison is empty.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::model {

class StructureRegistry;
struct TypeDef;

// One item of a FHIRPath collection.
//
// Ownership: a kElement node *borrows* pointers into the JSON being evaluated (json,
// element) and into the registry (scope); results stay valid as long as that JSON document
// is neither modified nor destroyed. Every other kind owns its value.
struct FhirPathNode {
  enum class Kind {
    kElement,    // a value inside the evaluated JSON
    kReference,  // resolve() of a reference to a resource that is not at hand: type only
    kBoolean,
    kString,
    kInteger,
    kDecimal,
    kDate,
    kDateTime,
    kTime,
    kQuantity,
  };
  Kind kind = Kind::kElement;

  // kElement: the JSON value (object, string, number, boolean). nullptr for a primitive that
  // only has its "_name" part (extensions without a value).
  const JsonValue* json = nullptr;
  // kElement, primitives: the "_name" sibling object (id, extension), or nullptr.
  const JsonValue* element = nullptr;
  // kElement: the FHIR type ("HumanName", "code", "Patient"), empty when unknown;
  // kReference: the target resource type.
  std::string type;
  // kElement: where the children of this element are defined (registry navigation);
  // nullptr when unknown.
  const TypeDef* scope = nullptr;
  std::string scope_path;

  // Owned values.
  bool boolean = false;  // kBoolean
  int64_t integer = 0;   // kInteger
  double decimal = 0;    // kDecimal, kQuantity (the value)
  // kString: the string; kDecimal/kQuantity: the value as written; kDate/kDateTime/kTime:
  // the literal without '@' ("2014-05-06", "2014-05-06T10:00:00Z", "T10:00"); kReference:
  // the reference text.
  std::string text;
  std::string unit;  // kQuantity: UCUM code, or a calendar unit ("year", "day")

  static FhirPathNode Element(const JsonValue* json, std::string type = {});
  static FhirPathNode Boolean(bool b);
  static FhirPathNode String(std::string s);
  static FhirPathNode Integer(int64_t i);
  // `text` must be a decimal literal ("1.50").
  static FhirPathNode Decimal(std::string text);

  bool is_primitive_element() const {
    return kind == Kind::kElement && (json == nullptr || !json->is_object());
  }
};

using FhirPathCollection = std::vector<FhirPathNode>;

// The string form of an item, as FHIRPath toString() gives it: "Peter", "true", "1.50",
// "2014-05-06", "185 'lbs'". Complex elements give their compact JSON.
std::string FhirPathToString(const FhirPathNode& node);

struct FhirPathEnvironment {
  // Type information; nullptr: untyped evaluation (see the header comment).
  // Usually &StructureRegistry::R4().
  const StructureRegistry* registry = nullptr;
  // %resource and %rootResource; when null, the resource passed to Evaluate(). resolve()
  // looks up "#id" among %resource.contained and absolute/relative references among the
  // entries of %rootResource when it is a Bundle. It never fetches anything.
  const JsonValue* resource = nullptr;
  const JsonValue* root_resource = nullptr;
  // Further %name constants (%ucum, %sct, %loinc are predefined).
  std::map<std::string, FhirPathCollection, std::less<>> variables;
  // Bound on any collection built during evaluation (descendants() of a large resource).
  size_t max_items = 100000;
};

struct FhirPathParseOptions {
  // The expression comes from the FHIR R4 definitions compiled into carnet (an invariant), not
  // from a client or a test script: matches() and replaceMatches() are allowed with a string
  // literal as pattern (compiled once, here, as an ECMAScript regular expression; matches() is
  // a whole-string match, as the R4 reference validator evaluates it), and a backslash before
  // a character FHIRPath does not escape is kept (the definitions write regexes as '\s', '\.'),
  // and the as() function filters a collection like ofType() (dom-3 applies it to one).
  bool definitions = false;
};

class FhirPathExpression {
 public:
  // kBadRequest on a syntax error, an unknown function, a function called with the wrong
  // number of arguments, or an expression beyond the bounds (length, depth); the status
  // location is the expression text.
  static Result<FhirPathExpression> Parse(std::string_view text);
  static Result<FhirPathExpression> Parse(std::string_view text,
                                          const FhirPathParseOptions& options);

  // True when `status` came from Parse() refusing a FHIRPath feature carnet does not
  // implement (as opposed to an invalid expression).
  static bool IsUnsupportedFeature(const Status& status);

  // Evaluates with `resource` as the context ($this, %context, and %resource unless set in
  // env). The result borrows from `resource` (see FhirPathNode).
  // Errors (kInvalid): a singleton expected but several items found, incompatible operand
  // types, a collection growing beyond env.max_items.
  Result<FhirPathCollection> Evaluate(const JsonValue& resource,
                                      const FhirPathEnvironment& env = {}) const;
  // Evaluates with an explicit context collection.
  Result<FhirPathCollection> Evaluate(const FhirPathCollection& context,
                                      const FhirPathEnvironment& env) const;

  // For invariants: the result as a boolean per FHIRPath singleton evaluation; an empty
  // result is false.
  Result<bool> EvaluateBoolean(const JsonValue& resource,
                               const FhirPathEnvironment& env = {}) const;

  const std::string& text() const { return text_; }

  struct Ast;

 private:
  std::string text_;
  std::shared_ptr<const Ast> root_;  // immutable, shared by copies
};

}  // namespace carnet::model
