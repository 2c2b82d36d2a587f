#include "model/validator.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/strings.h"
#include "model/fhirpath.h"
#include "model/narrative.h"
#include "model/vital_signs.h"

namespace carnet::model {
namespace {

// ---------------------------------------------------------------------------------------------
// Primitive formats: the regular expressions of the R4 datatypes page, as small hand-written
// scanners (no backtracking regex engine on untrusted input).
// ---------------------------------------------------------------------------------------------

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The decimals carnet accepts. R4 (datatypes.html, decimal) gives only the lexical form,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, unbounded, and a 100,000-digit literal or
// 1e-99999999 overflows PostgreSQL's numeric, where the search index keeps every decimal with
// its implicit precision. The FHIR build after R4 bounds the form in the decimal
// StructureDefinition's regex, -?(0|[1-9][0-9]{0,17})(\.[0-9]{1,17})?([eE][+-]?[0-9]{1,9})?,
// but that 18 + 17 digits would refuse R4's own example observation-decimal
// (0.0000000000000000000001 and 1.000000000000000000E-245: 23 and 19 digits), and its 9-digit
// exponent still overflows. So: at most 40 digits as written (the search side's bound on a number
// too), and an exponent within what an IEEE double reaches, where most clients read decimals
// anyway.
constexpr size_t kMaxDecimalDigits = 40;
constexpr int kMaxDecimalExponent = 308;

// True when the JSON number literal `s` is within those bounds.
bool IsBoundedDecimal(std::string_view s) {
  size_t i = 0, digits = 0;
  if (i < s.size() && s[i] == '-') ++i;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits > kMaxDecimalDigits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    while (i + 1 < s.size() && s[i] == '0') ++i;  // 1e-0005 is 1e-5
    size_t start = i;
    int exponent = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 4)
      exponent = exponent * 10 + (s[i++] - '0');
    if (i < s.size() || exponent > kMaxDecimalExponent) return false;
  }
  return i == s.size();
}

// `n` digits at `s[*i]`, their value in `*value`.
bool Digits(std::string_view s, size_t* i, int n, int* value) {
  int v = 0;
  for (int k = 0; k < n; ++k) {
    if (*i >= s.size() || !IsDigit(s[*i])) return false;
    v = v * 10 + (s[(*i)++] - '0');
  }
  *value = v;
  return true;
}

// YYYY(-MM(-DD)?)? ; `parts` receives how many of the three were present.
bool ScanDate(std::string_view s, size_t* i, int* parts) {
  int year, month, day;
  if (!Digits(s, i, 4, &year) || year == 0) return false;  // 0001..9999
  *parts = 1;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!Digits(s, i, 2, &month) || month < 1 || month > 12) return false;
  *parts = 2;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!Digits(s, i, 2, &day) || day < 1 || day > 31) return false;
  *parts = 3;
  return true;
}

// hh:mm:ss(.fraction)?
bool ScanTime(std::string_view s, size_t* i) {
  int h, m, sec;
  if (!Digits(s, i, 2, &h) || h > 23) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!Digits(s, i, 2, &m) || m > 59) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!Digits(s, i, 2, &sec) || sec > 60) return false;  // 60: leap second
  if (*i < s.size() && s[*i] == '.') {
    ++*i;
    size_t start = *i;
    while (*i < s.size() && IsDigit(s[*i])) ++*i;
    if (*i == start) return false;
  }
  return true;
}

// Z | (+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)
bool ScanZone(std::string_view s, size_t* i) {
  if (*i < s.size() && s[*i] == 'Z') {
    ++*i;
    return true;
  }
  if (*i >= s.size() || (s[*i] != '+' && s[*i] != '-')) return false;
  ++*i;
  int h, m;
  if (!Digits(s, i, 2, &h)) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!Digits(s, i, 2, &m) || m > 59) return false;
  return h < 14 || (h == 14 && m == 0);
}

bool IsDate(std::string_view s) {
  size_t i = 0;
  int parts;
  return ScanDate(s, &i, &parts) && i == s.size();
}

bool IsDateTime(std::string_view s, bool instant) {
  size_t i = 0;
  int parts;
  if (!ScanDate(s, &i, &parts)) return false;
  if (i == s.size()) return !instant;
  // A time needs a full date and a zone.
  if (parts != 3 || s[i++] != 'T') return false;
  return ScanTime(s, &i) && ScanZone(s, &i) && i == s.size();
}

bool IsTime(std::string_view s) {
  size_t i = 0;
  return ScanTime(s, &i) && i == s.size();
}

// [A-Za-z0-9\-\.]{1,64}
bool IsId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
  });
}

// [^\s]+(\s[^\s]+)*
bool IsCode(std::string_view s) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsSpace(s[i]) && IsSpace(s[i - 1])) return false;
  }
  return true;
}

// \S*
bool HasNoWhitespace(std::string_view s) { return std::none_of(s.begin(), s.end(), IsSpace); }

// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
bool IsOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.') return false;
  size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
    ++arcs;
  }
  return arcs >= 1;
}

// urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
bool IsUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !(IsDigit(s[i]) || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

// (\s*([0-9a-zA-Z\+/=]){4}\s*)+ : groups of four, whitespace only between groups.
bool IsBase64(std::string_view s) {
  size_t in_group = 0, groups = 0;
  for (char c : s) {
    if (IsSpace(c)) {
      if (in_group != 0) return false;
      continue;
    }
    bool ok = IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
              c == '/' || c == '=';
    if (!ok) return false;
    if (++in_group == 4) {
      in_group = 0;
      ++groups;
    }
  }
  return in_group == 0 && groups > 0;
}

// -?([0]|([1-9][0-9]*)) within 32 bits; `min` is the smallest value allowed.
bool IsInteger(std::string_view s, int64_t min) {
  size_t i = 0;
  bool negative = !s.empty() && s[0] == '-';
  if (negative) ++i;
  if (i >= s.size() || (s[i] == '0' && s.size() > i + 1)) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
    if (v > 2147483648LL) return false;
  }
  if (negative) v = -v;
  return v >= min && v <= 2147483647LL;
}

// 'text', built by appending: GCC 12 reports a false -Wrestrict on "'" + std::string.
std::string Quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

bool IsAbsoluteHttpUrl(std::string_view s) {
  return (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0) && s.size() > 8 &&
         HasNoWhitespace(s);
}

// ---------------------------------------------------------------------------------------------

struct ResourceContext {
  std::set<std::string> contained_ids;  // targets of "#id" references
};

class Validator {
 public:
  Validator(const StructureRegistry& registry, std::vector<ValidationIssue>* issues)
      : registry_(registry), issues_(issues) {}

  // `expr` is where the resource sits ("" at the top); `in_contained` forbids nesting.
  void Resource(const JsonValue& resource, const std::string& expr, bool in_contained) {
    std::string here = expr.empty() ? "resourceType" : expr;
    if (!resource.is_object()) {
      Error("structure", here, "a resource must be a JSON object");
      return;
    }
    const JsonValue* rt = resource.Find("resourceType");
    if (rt == nullptr || !rt->is_string()) {
      Error("required", here, "the resource has no resourceType");
      return;
    }
    const TypeDef* type = registry_.Find(rt->text());
    if (type == nullptr || type->kind != TypeKind::kResource) {
      Error("value", here, Quoted(rt->text()) + " is not a FHIR R4 resource type");
      return;
    }
    if (type->is_abstract) {
      Error("value", here, rt->text() + " is abstract; use one of the concrete resource types");
      return;
    }
    if (in_contained && resource.Find("contained") != nullptr) {
      Error("structure", (expr.empty() ? type->name : expr) + ".contained",
            "a contained resource cannot itself contain resources");
    }
    ResourceContext context;
    ResourceContext* saved = context_;
    // References inside contained resources point at their siblings: keep the container's.
    if (!in_contained) {
      if (const JsonValue* contained = resource.Find("contained"); contained) {
        for (const JsonValue& c : contained->items()) {
          std::string id = c.GetString("id");
          if (!id.empty()) context.contained_ids.insert(id);
        }
      }
      context_ = &context;
    }
    // %resource is this resource; %rootResource its container when it is contained.
    const JsonValue* saved_resource = resource_;
    const JsonValue* saved_root = root_resource_;
    resource_ = &resource;
    if (!in_contained || root_resource_ == nullptr) root_resource_ = &resource;
    std::string here_expr = expr.empty() ? type->name : expr;
    Object(resource, *type, type->name, here_expr, /*resource_root=*/true);
    FhirPathNode focus = FhirPathNode::Element(&resource, type->name);
    focus.scope = type;
    focus.scope_path = type->name;
    TypeInvariants(type, focus, here_expr);
    resource_ = saved_resource;
    root_resource_ = saved_root;
    context_ = saved;
  }

 private:
  void Error(const char* code, std::string expression, std::string message) {
    issues_->push_back({"error", code, std::move(expression), std::move(message)});
  }

  // ---- invariants ----

  // The invariants of `type` and of its ancestors (DomainResource's dom-*, Quantity's qty-3
  // for an Age), on `focus`, an instance of `type`.
  void TypeInvariants(const TypeDef* type, const FhirPathNode& focus, const std::string& expr) {
    for (const TypeDef* t = type; t != nullptr;
         t = t->base.empty() ? nullptr : registry_.Find(t->base))
      Invariants(t->invariants, focus, expr);
  }

  void Invariants(const std::vector<Invariant>& list, const FhirPathNode& focus,
                  const std::string& expr) {
    for (const Invariant& inv : list) {
      if (!inv.compiled) {
        NotChecked(inv, expr, inv.not_checked);
        continue;
      }
      if (inv.expression == "htmlChecks()") {
        Narrative(inv, focus, expr);
        continue;
      }
      FhirPathEnvironment env;
      env.registry = &registry_;
      env.resource = resource_;
      env.root_resource = root_resource_;
      auto result = inv.compiled->Evaluate(FhirPathCollection{focus}, env);
      if (!result.ok()) {
        NotChecked(inv, expr, result.status().message());
        continue;
      }
      // FHIRPath singleton evaluation: one boolean is its value, any other single item true.
      // An empty result holds: the invariant's operands are absent (ref-1 on a Reference with
      // only a display gives {} or {}).
      if (result->empty()) continue;
      if (result->size() > 1) {
        NotChecked(inv, expr, "its expression gave several results here");
        continue;
      }
      const FhirPathNode& r = (*result)[0];
      bool holds = r.kind != FhirPathNode::Kind::kBoolean || r.boolean;
      if (!holds) Broken(inv, expr, "");
    }
  }

  // txt-1 and txt-2 name what breaks them (model/narrative.h).
  void Narrative(const Invariant& inv, const FhirPathNode& focus, const std::string& expr) {
    if (focus.json == nullptr || !focus.json->is_string()) return;  // reported as structure
    for (const NarrativeProblem& p : CheckNarrative(focus.json->text()))
      if (p.key == inv.key) Broken(inv, expr, p.message);
  }

  void Broken(const Invariant& inv, const std::string& expr, const std::string& why) {
    std::string message = inv.key + ": " + inv.human;
    if (!why.empty()) message += " (" + why + ")";
    issues_->push_back({inv.severity, "invariant", expr, std::move(message), inv.key});
  }

  void NotChecked(const Invariant& inv, const std::string& expr, const std::string& why) {
    issues_->push_back({"information", "informational", expr,
                        inv.key + " not checked: " + why + " (" + inv.human + ")", inv.key});
  }

  // ele-1 and ext-1, which hold on every element, natively.
  void Ele1(const JsonValue& obj, const std::string& expr) {
    for (const auto& [key, value] : obj.members())
      if (key != "id") return;
    issues_->push_back({"error", "invariant", expr,
                        "ele-1: All FHIR elements must have a @value or children (this one has "
                        "only an id)",
                        "ele-1"});
  }

  void Ext1(const JsonValue& extension, const std::string& expr) {
    bool has_extensions = extension.Find("extension") != nullptr;
    bool has_value = false;
    for (const auto& [key, value] : extension.members())
      if (key.rfind("value", 0) == 0 || key.rfind("_value", 0) == 0) has_value = true;
    if (has_extensions == has_value)
      issues_->push_back({"error", "invariant", expr,
                          std::string("ext-1: Must have either extensions or value[x], not both") +
                              (has_value ? " (this one has both)" : " (this one has neither)"),
                          "ext-1"});
  }

  // The members of `obj`, an instance of the element at `scope` in `owner`.
  void Object(const JsonValue& obj, const TypeDef& owner, const std::string& scope,
              const std::string& expr, bool resource_root = false) {
    if (obj.members().empty()) {
      Error("structure", expr, "empty objects are not allowed; omit the element instead");
      return;
    }
    // Which elements are present, and under which JSON names (one per choice element).
    std::vector<std::pair<const ElementDef*, std::string>> present;
    for (const auto& [key, value] : obj.members()) {
      if (resource_root && key == "resourceType") continue;
      bool extension_part = !key.empty() && key[0] == '_';
      std::string_view name = extension_part ? std::string_view(key).substr(1) : key;
      std::optional<ResolvedChild> child = registry_.ResolveChild(owner, scope, name);
      std::string child_expr = expr + "." + std::string(name);
      if (!child) {
        UnknownElement(owner, scope, name, child_expr);
        continue;
      }
      bool primitive = registry_.IsPrimitiveType(child->type);
      if (extension_part) {
        if (!primitive) {
          Error("structure", expr + "." + key,
                Quoted(key) + " is only allowed for primitive elements; " + std::string(name) +
                    " is a " + child->type);
          continue;
        }
        // Checked with the value itself (arrays align), or alone when there is no value.
        if (obj.Find(name) == nullptr) PrimitiveExtensions(value, nullptr, *child, child_expr);
      } else {
        std::string companion(1, '_');  // (not "_" + ...: GCC 12 warns wrongly)
        companion.append(name);
        Value(value, obj.Find(companion), owner, *child, child_expr);
      }
      auto same = std::find_if(present.begin(), present.end(),
                               [&](const auto& p) { return p.first == child->def; });
      if (same == present.end()) {
        present.emplace_back(child->def, std::string(name));
      } else if (same->second != name) {
        Error("structure", child_expr,
              "only one type is allowed for " + child->def->path + ": both " + same->second +
                  " and " + std::string(name) + " are given");
      }
    }
    // Required elements.
    std::string children_scope = scope;
    if (const ElementDef* self = owner.Element(scope); self && !self->content_reference.empty()) {
      children_scope = self->content_reference;
    }
    for (const ElementDef* def : owner.ChildrenOf(children_scope)) {
      if (def->min < 1) continue;
      bool found = std::any_of(present.begin(), present.end(),
                               [&](const auto& p) { return p.first == def; });
      if (!found) {
        std::string shown =
            def->is_choice() ? def->name.substr(0, def->name.size() - 3) + "[x]" : def->name;
        Error("required", expr + "." + shown,
              "missing required element '" + shown + "' (" + def->path + " has min " +
                  std::to_string(def->min) + ")");
      }
    }
  }

  void UnknownElement(const TypeDef& owner, const std::string& scope, std::string_view name,
                      const std::string& expr) {
    // A wrong type suffix on a choice element deserves a precise message.
    std::string children_scope = scope;
    if (const ElementDef* self = owner.Element(scope); self && !self->content_reference.empty()) {
      children_scope = self->content_reference;
    }
    for (const ElementDef* def : owner.ChildrenOf(children_scope)) {
      if (!def->is_choice()) continue;
      std::string stem = def->name.substr(0, def->name.size() - 3);
      if (name.size() > stem.size() && name.substr(0, stem.size()) == stem &&
          name[stem.size()] >= 'A' && name[stem.size()] <= 'Z') {
        std::string allowed;
        for (const std::string& t : def->types) {
          if (!allowed.empty()) allowed += ", ";
          allowed += stem + static_cast<char>(std::toupper(static_cast<unsigned char>(t[0]))) +
                     t.substr(1);
        }
        Error("structure", expr,
              Quoted(std::string(name)) + " is not a valid type for " + def->path +
                  "; use one of: " + allowed);
        return;
      }
    }
    Error("structure", expr, "unknown element '" + std::string(name) + "' in " + scope);
  }

  // The JSON value of element `child` (with its `_name` companion when present).
  void Value(const JsonValue& value, const JsonValue* extension_part, const TypeDef& owner,
             const ResolvedChild& child, const std::string& expr) {
    const ElementDef& def = *child.def;
    bool primitive = registry_.IsPrimitiveType(child.type);
    if (def.is_array()) {
      if (!value.is_array()) {
        Error("structure", expr,
              def.path + " repeats (max " + MaxText(def) +
                  "): in JSON it must be an array, even with one item");
        return;
      }
      if (value.items().empty()) {
        Error("structure", expr, "empty arrays are not allowed; omit the element instead");
        return;
      }
      if (primitive) {
        PrimitiveExtensions(*(extension_part ? extension_part : &kNull), &value, child, expr);
      }
      const auto& items = value.items();
      for (size_t i = 0; i < items.size(); ++i) {
        std::string item_expr = expr + "[" + std::to_string(i) + "]";
        if (items[i].is_null()) {
          // Allowed only where the `_name` array carries the item's extensions.
          bool covered = primitive && extension_part && extension_part->is_array() &&
                         i < extension_part->items().size() &&
                         !extension_part->items()[i].is_null();
          if (!covered) Error("structure", item_expr, "null items are not allowed here");
          continue;
        }
        Item(items[i], owner, child, item_expr);
      }
      return;
    }
    if (value.is_array()) {
      Error("structure", expr, def.path + " has max 1: in JSON it must not be an array");
      return;
    }
    if (primitive && extension_part) PrimitiveExtensions(*extension_part, &value, child, expr);
    if (value.is_null()) {
      Error("structure", expr, "null is not allowed; omit the element instead");
      return;
    }
    Item(value, owner, child, expr);
  }

  // One occurrence of `child` (an array item or the single value).
  void Item(const JsonValue& v, const TypeDef& owner, const ResolvedChild& child,
            const std::string& expr) {
    const ElementDef& def = *child.def;
    const std::string& type = child.type;
    if (def.is_xhtml() || type == "xhtml") {
      if (!v.is_string() || v.text().rfind("<div", 0) != 0) {
        Error("value", expr, "the narrative must be an XHTML string starting with <div");
      } else if (NoControlCharacter(v.text(), "narrative", expr)) {
        Invariants(def.invariants, FhirPathNode::Element(&v, "xhtml"), expr);  // txt-1, txt-2
      }
      return;
    }
    if (registry_.IsPrimitiveType(type)) {
      // A malformed code is reported once, not also as outside the value set.
      if (!Primitive(v, type, expr)) return;
      if (!def.invariants.empty()) {
        FhirPathNode focus = FhirPathNode::Element(&v, type);
        Invariants(def.invariants, focus, expr);
      }
      if (type == "code" && v.is_string() && !def.required_codes.empty() &&
          std::find(def.required_codes.begin(), def.required_codes.end(), v.text()) ==
              def.required_codes.end()) {
        Error("code-invalid", expr, CodeMessage(v.text(), def));
      }
      return;
    }
    if (!v.is_object()) {
      Error("structure", expr, def.path + " is a " + type + ": in JSON it must be an object");
      return;
    }
    if (type == "Resource") {
      Resource(v, expr, /*in_contained=*/def.name == "contained");
      return;
    }
    auto [scope_type, scope_path] = registry_.ChildScope(owner, def, type);
    if (scope_type == nullptr) {
      Error("structure", expr, "no definition for type " + type);
      return;
    }
    Object(v, *scope_type, scope_path, expr);
    if (!v.members().empty()) {
      Ele1(v, expr);
      if (type == "Extension") Ext1(v, expr);
      FhirPathNode focus = FhirPathNode::Element(&v, type);
      focus.scope = scope_type;
      focus.scope_path = scope_path;
      Invariants(def.invariants, focus, expr);
      // A datatype's own invariants (Period: per-1), not a backbone element's.
      if (scope_path == type) TypeInvariants(scope_type, focus, expr);
    }
    if (type == "Reference") Reference(v, def, expr);
    if (!def.required_valueset.empty()) {
      if (type == "Coding") Coding(v, def, expr);
      if (type == "CodeableConcept") {
        if (const JsonValue* codings = v.Find("coding"); codings && codings->is_array()) {
          for (size_t i = 0; i < codings->items().size(); ++i) {
            Coding(codings->items()[i], def, expr + ".coding[" + std::to_string(i) + "]");
          }
        }
      }
    }
  }

  void Coding(const JsonValue& coding, const ElementDef& def, const std::string& expr) {
    if (!coding.is_object()) return;
    std::string system = coding.GetString("system");
    std::string code = coding.GetString("code");
    if (system.empty() || code.empty()) return;
    // Only codings from a system the value set draws on are judged.
    if (!registry_.ValueSetIncludesSystem(def.required_valueset, system)) return;
    if (!registry_.ValueSetContains(def.required_valueset, system, code)) {
      Error("code-invalid", expr + ".code", CodeMessage(code, def));
    }
  }

  std::string CodeMessage(const std::string& code, const ElementDef& def) {
    std::string message =
        Quoted(code) + " is not in the required value set " + def.required_valueset;
    if (def.required_codes.size() <= 12) {
      message += " (";
      for (size_t i = 0; i < def.required_codes.size(); ++i) {
        message += (i ? ", " : "") + def.required_codes[i];
      }
      message += ")";
    }
    return message;
  }

  void Reference(const JsonValue& ref, const ElementDef& def, const std::string& expr) {
    const JsonValue* r = ref.Find("reference");
    if (r == nullptr || !r->is_string() || r->text().empty()) return;  // format checked
    const std::string& s = r->text();
    std::string here = expr + ".reference";
    if (s[0] == '#') {
      // "#" alone is the container itself (from inside a contained resource).
      if (s.size() > 1 &&
          (context_ == nullptr || context_->contained_ids.count(s.substr(1)) == 0)) {
        Error("value", here, Quoted(s) + " points at no contained resource with id " + s.substr(1));
      }
      return;
    }
    if (s.rfind("urn:uuid:", 0) == 0) {
      if (!IsUuid(s)) Error("value", here, Quoted(s) + " is not a valid urn:uuid: (lower case)");
      return;
    }
    if (s.rfind("urn:oid:", 0) == 0) {
      if (!IsOid(s)) Error("value", here, Quoted(s) + " is not a valid urn:oid:");
      return;
    }
    if (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0) {
      if (!IsAbsoluteHttpUrl(s)) Error("value", here, Quoted(s) + " is not a valid URL");
      return;
    }
    // Type/id(/_history/version)?
    size_t slash = s.find('/');
    std::string type = s.substr(0, slash);
    std::string_view rest = slash == std::string::npos ? "" : std::string_view(s).substr(slash + 1);
    std::string_view id = rest.substr(0, rest.find('/'));
    std::string_view history = rest.size() > id.size() ? rest.substr(id.size()) : "";
    bool ok = slash != std::string::npos && IsId(id);
    if (ok && !history.empty()) {
      ok = history.rfind("/_history/", 0) == 0 && IsId(history.substr(10));
    }
    if (!ok) {
      Error("value", here,
            Quoted(s) +
                " is not a valid reference: use Type/id, Type/id/_history/version, #contained, "
                "an absolute http(s) URL, urn:uuid: or urn:oid:");
      return;
    }
    if (!registry_.IsResourceType(type)) {
      Error("value", here, Quoted(type) + " in " + Quoted(s) + " is not a FHIR R4 resource type");
      return;
    }
    if (!def.target_types.empty() && std::find(def.target_types.begin(), def.target_types.end(),
                                               type) == def.target_types.end()) {
      std::string allowed;
      for (const std::string& t : def.target_types) allowed += (allowed.empty() ? "" : ", ") + t;
      // A warning: the official examples themselves point at other types now and then
      // (DeviceMetric.parent -> DeviceDefinition), and the reference may be for display only.
      issues_->push_back({"warning", "value", here,
                          def.path + " should refer to one of " + allowed + ", not a " + type});
    }
  }

  // The `_name` companion of a primitive: an object (or, for a repeating element, an array of
  // objects and nulls aligned with the values) holding only id and extension.
  void PrimitiveExtensions(const JsonValue& ext, const JsonValue* value, const ResolvedChild& child,
                           const std::string& expr) {
    if (ext.is_null() && value != nullptr) return;  // no companion (kNull placeholder)
    const TypeDef* primitive = registry_.Find(child.type);
    if (primitive == nullptr) return;
    if (child.def->is_array()) {
      if (!ext.is_array()) {
        Error("structure", expr,
              "_" + child.def->name + " must be an array aligned with the values");
        return;
      }
      if (ext.items().empty()) {
        Error("structure", expr, "empty arrays are not allowed; omit the element instead");
        return;
      }
      if (value != nullptr && value->is_array() && value->items().size() != ext.items().size()) {
        Error("structure", expr,
              "_" + child.def->name + " has " + std::to_string(ext.items().size()) + " items but " +
                  child.def->name + " has " + std::to_string(value->items().size()) +
                  ": they must align (use null)");
      }
      for (size_t i = 0; i < ext.items().size(); ++i) {
        const JsonValue& item = ext.items()[i];
        std::string item_expr = expr + "[" + std::to_string(i) + "]";
        if (item.is_null()) {
          if (value == nullptr) Error("structure", item_expr, "null items are not allowed here");
          continue;
        }
        bool value_present = value != nullptr && value->is_array() && i < value->items().size() &&
                             !value->items()[i].is_null();
        ExtensionObject(item, *primitive, item_expr, value_present);
      }
      return;
    }
    if (ext.is_array()) {
      Error("structure", expr,
            child.def->path + " has max 1: _" + child.def->name + " must not be an array");
      return;
    }
    ExtensionObject(ext, *primitive, expr, value != nullptr && !value->is_null());
  }

  // `value_present`: the primitive has a value beside this object (ele-1 then holds).
  void ExtensionObject(const JsonValue& obj, const TypeDef& primitive, const std::string& expr,
                       bool value_present) {
    if (!obj.is_object()) {
      Error("structure", expr, "the extensions of a primitive are given as an object");
      return;
    }
    Object(obj, primitive, primitive.name, expr);
    if (!value_present && !obj.members().empty()) Ele1(obj, expr);
  }

  // False (after reporting) when `v` is not a valid `type`.
  bool Primitive(const JsonValue& v, const std::string& type, const std::string& expr) {
    if (type == "boolean") {
      if (v.is_bool()) return true;
      Error("value", expr, "a boolean must be JSON true or false");
      return false;
    }
    bool integer = type == "integer" || type == "unsignedInt" || type == "positiveInt";
    if (integer || type == "decimal") {
      if (!v.is_number()) {
        Error("value", expr, "a " + type + " must be a JSON number, not " + KindName(v));
        return false;
      }
      int64_t min = type == "integer" ? -2147483648LL : type == "unsignedInt" ? 0 : 1;
      if (integer && !IsInteger(v.text(), min)) {
        Error("value", expr, Quoted(Shown(v.text())) + " is not a valid " + type);
        return false;
      }
      if (!integer && !IsBoundedDecimal(v.text())) {
        Error("value", expr,
              Quoted(Shown(v.text())) + " is not a decimal this server accepts (at most " +
                  std::to_string(kMaxDecimalDigits) + " digits, exponent within +-" +
                  std::to_string(kMaxDecimalExponent) + ")");
        return false;
      }
      return true;  // any other JSON number literal is a valid decimal
    }
    if (!v.is_string()) {
      Error("value", expr, "a " + type + " must be a JSON string, not " + KindName(v));
      return false;
    }
    const std::string& s = v.text();
    if (s.empty()) {
      Error("value", expr, "empty strings are not allowed; omit the element instead");
      return false;
    }
    if (!NoControlCharacter(s, type, expr)) return false;
    bool ok = true;
    if (type == "id") {
      ok = IsId(s);
    } else if (type == "code") {
      ok = IsCode(s);
    } else if (type == "uri" || type == "url" || type == "canonical") {
      ok = HasNoWhitespace(s);
    } else if (type == "oid") {
      ok = IsOid(s);
    } else if (type == "uuid") {
      ok = IsUuid(s);
    } else if (type == "date") {
      ok = IsDate(s);
    } else if (type == "dateTime") {
      ok = IsDateTime(s, false);
    } else if (type == "instant") {
      ok = IsDateTime(s, true);
    } else if (type == "time") {
      ok = IsTime(s);
    } else if (type == "base64Binary") {
      ok = IsBase64(s);
    } else if (type == "string" || type == "markdown") {
      ok = s.size() <= 1024 * 1024;  // "strings SHALL NOT exceed 1MB"
    }
    if (!ok) Error("value", expr, Quoted(Shown(s)) + " is not a valid " + type + FormatHint(type));
    return ok;
  }

  // R4 datatypes, string: strings SHOULD not contain Unicode character points below 32 but
  // horizontal tab, carriage return and line feed. carnet
  // makes it a rule for every string-like primitive: XML 1.0 cannot carry those characters
  // (the resource could not be served as XML) and PostgreSQL cannot store U+0000.
  bool NoControlCharacter(const std::string& s, const std::string& type, const std::string& expr) {
    size_t at = FindControlCharacter(s);
    if (at == std::string::npos) return true;
    char code[8];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned char>(s[at]));
    Error("value", expr,
          "a " + type + " may not hold the control character " + code + " (at byte " +
              std::to_string(at) + "); only tab, CR and LF are allowed below U+0020");
    return false;
  }

  static std::string FormatHint(const std::string& type) {
    if (type == "id") return " (1 to 64 of A-Z a-z 0-9 - .)";
    if (type == "code") return " (no leading, trailing or repeated whitespace)";
    if (type == "date") return " (YYYY, YYYY-MM or YYYY-MM-DD)";
    if (type == "dateTime") return " (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)";
    if (type == "instant") return " (YYYY-MM-DDThh:mm:ss(.sss)Z or with an offset)";
    if (type == "time") return " (hh:mm:ss)";
    if (type == "oid") return " (urn:oid:1.2.3)";
    if (type == "uuid") return " (urn:uuid: and lower-case hex)";
    if (type == "uri" || type == "url" || type == "canonical") return " (no whitespace)";
    if (type == "string" || type == "markdown") return " (longer than 1 MB)";
    return "";
  }

  static std::string Shown(const std::string& s) {
    return s.size() <= 80 ? s : s.substr(0, 77) + "...";
  }

  static std::string KindName(const JsonValue& v) {
    switch (v.kind()) {
      case JsonValue::Kind::kNull:
        return "null";
      case JsonValue::Kind::kBool:
        return "a boolean";
      case JsonValue::Kind::kNumber:
        return "a number";
      case JsonValue::Kind::kString:
        return "a string";
      case JsonValue::Kind::kArray:
        return "an array";
      case JsonValue::Kind::kObject:
        return "an object";
    }
    return "?";
  }

  static std::string MaxText(const ElementDef& def) {
    return def.max < 0 ? "*" : std::to_string(def.max);
  }

  static const JsonValue kNull;
  const StructureRegistry& registry_;
  std::vector<ValidationIssue>* issues_;
  ResourceContext* context_ = nullptr;
  const JsonValue* resource_ = nullptr;       // %resource
  const JsonValue* root_resource_ = nullptr;  // %rootResource
};

const JsonValue Validator::kNull;

}  // namespace

std::vector<ValidationIssue> ValidateResource(const carnet::JsonValue& resource,
                                              const StructureRegistry& registry) {
  std::vector<ValidationIssue> issues;
  Validator(registry, &issues).Resource(resource, "", /*in_contained=*/false);
  CheckMeasurements(resource, &issues);
  std::stable_partition(issues.begin(), issues.end(),
                        [](const ValidationIssue& i) { return i.severity == "error"; });
  return issues;
}

}  // namespace carnet::model
