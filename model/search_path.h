// Evaluation of search parameter expressions (the FHIRPath subset that the R4
// SearchParameter definitions and typical custom SearchParameters use: paths, choice types,
// `|`, where(), ofType(), as/is, resolve() is T, exists(), extension(url), = != and or not()).
//
// The expressions run on carnet's one FHIRPath engine, model::FhirPathExpression (parsed
// once per parameter, evaluated with the R4 StructureRegistry); this interface only shapes the
// results for extraction. Element types come from the registry, so extraction knows a Coding
// from an Identifier without guessing from the JSON shape.
//
// Immutable after Parse: shared by threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::model {

struct TypeDef;

// One value selected by an expression. Borrows from the evaluated JSON.
struct PathValue {
  enum class Kind { kElement, kBoolean, kString };
  Kind kind = Kind::kElement;
  const JsonValue* json = nullptr;  // kElement
  std::string type;                 // kElement: FHIR type ("CodeableConcept", "dateTime")
  bool boolean = false;             // kBoolean
  std::string text;                 // kString
  // Where the children of a kElement are defined (nullptr: unknown, untyped navigation).
  const TypeDef* scope = nullptr;
  std::string scope_path;
};

class SearchPath {
 public:
  // kBadRequest (location = the expression) for syntax errors and functions outside the
  // subset.
  static Result<SearchPath> Parse(std::string_view text);

  // The values of `resource` selected by the expression; bounded (an expression cannot
  // build more than 10000 values).
  std::vector<PathValue> Evaluate(const JsonValue& resource) const;
  // The values selected from `focus`, an element of `resource` (a value of another
  // expression, as a composite's components are evaluated on each value of the composite's
  // expression); %resource is `resource`.
  std::vector<PathValue> Evaluate(const PathValue& focus, const JsonValue& resource) const;

  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace carnet::model
