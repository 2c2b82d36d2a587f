#include "model/search_path.h"

#include "model/fhirpath.h"
#include "model/structure.h"

namespace carnet::model {

// The expression is carnet's one FHIRPath engine (model/fhirpath.h), shared with the
// conformance engine; this file only adapts its results to what extraction needs.
struct SearchPath::Node {
  FhirPathExpression expression;
};

Result<SearchPath> SearchPath::Parse(std::string_view text) {
  auto parsed = FhirPathExpression::Parse(text);
  if (!parsed.ok()) return parsed.status();
  SearchPath p;
  p.text_ = std::string(text);
  p.root_ = std::make_shared<const Node>(Node{std::move(parsed).value()});
  return p;
}

namespace {

std::vector<PathValue> ToPathValues(const Result<FhirPathCollection>& result) {
  std::vector<PathValue> out;
  // An expression that fails on one resource (a singleton expected, say) indexes nothing
  // for it rather than refusing the write.
  if (!result.ok()) return out;
  for (const auto& n : *result) {
    PathValue v;
    switch (n.kind) {
      case FhirPathNode::Kind::kElement:
        if (!n.json) continue;  // an extension-only primitive has no value to index
        v.kind = PathValue::Kind::kElement;
        v.json = n.json;
        v.type = n.type;
        v.scope = n.scope;
        v.scope_path = n.scope_path;
        break;
      case FhirPathNode::Kind::kBoolean:
        v.kind = PathValue::Kind::kBoolean;
        v.boolean = n.boolean;
        break;
      case FhirPathNode::Kind::kReference:
        continue;  // a type-only resolve() result: nothing to index
      default:
        v.kind = PathValue::Kind::kString;
        v.text = FhirPathToString(n);
        break;
    }
    out.push_back(std::move(v));
    if (out.size() >= 10000) break;
  }
  return out;
}

}  // namespace

std::vector<PathValue> SearchPath::Evaluate(const JsonValue& resource) const {
  if (!root_) return {};
  FhirPathEnvironment env;
  env.registry = &StructureRegistry::R4();
  env.max_items = 10000;
  return ToPathValues(root_->expression.Evaluate(resource, env));
}

std::vector<PathValue> SearchPath::Evaluate(const PathValue& focus,
                                            const JsonValue& resource) const {
  if (!root_ || focus.kind != PathValue::Kind::kElement || !focus.json) return {};
  FhirPathEnvironment env;
  env.registry = &StructureRegistry::R4();
  env.resource = &resource;
  env.max_items = 10000;
  FhirPathNode node = FhirPathNode::Element(focus.json, focus.type);
  node.scope = focus.scope;
  node.scope_path = focus.scope_path;
  return ToPathValues(root_->expression.Evaluate(FhirPathCollection{node}, env));
}

}  // namespace carnet::model
