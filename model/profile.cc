#include "model/profile.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "model/fhirpath.h"

namespace carnet::model {

namespace {

constexpr std::string_view kCoreProfiles = "http://hl7.org/fhir/StructureDefinition/";
// A profile deriving from a posted profile by differential enforces its base too; a chain this
// long is a loop or a mistake.
constexpr int kMaxChain = 8;
// Value sets importing value sets.
constexpr int kMaxImports = 8;

std::pair<std::string, std::string> SplitCanonical(const std::string& canonical) {
  size_t bar = canonical.find('|');
  if (bar == std::string::npos) return {canonical, ""};
  return {canonical.substr(0, bar), canonical.substr(bar + 1)};
}

std::string WithoutVersion(const std::string& canonical) { return SplitCanonical(canonical).first; }

std::string Capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

bool EndsWithChoice(const std::string& name) {
  return name.size() > 3 && name.compare(name.size() - 3, 3, "[x]") == 0;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, start)) {
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

// The member of `e` named prefix + Type ("fixedCode", "patternCodeableConcept"), or nullptr.
const JsonValue* TypedMember(const JsonValue& e, std::string_view prefix) {
  for (const auto& [key, value] : e.members())
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
        std::isupper(static_cast<unsigned char>(key[prefix.size()])))
      return &value;
  return nullptr;
}

// What an instance shows of a value in a message: a primitive's text, a short JSON otherwise.
std::string Shown(const JsonValue& v) {
  std::string s = v.is_string() ? "'" + v.text() + "'" : WriteJson(v);
  return s.size() <= 200 ? s : s.substr(0, 197) + "...";
}

// pattern[x]: the instance holds at least the pattern's content (an array item of the pattern
// matches some item of the instance's).
bool ContainsPattern(const JsonValue& instance, const JsonValue& pattern) {
  if (pattern.is_object()) {
    if (!instance.is_object()) return false;
    for (const auto& [key, value] : pattern.members()) {
      const JsonValue* found = instance.Find(key);
      if (found == nullptr || !ContainsPattern(*found, value)) return false;
    }
    return true;
  }
  if (pattern.is_array()) {
    for (const JsonValue& want : pattern.items()) {
      bool matched = false;
      if (instance.is_array()) {
        for (const JsonValue& have : instance.items())
          if (ContainsPattern(have, want)) matched = true;
      } else {
        matched = ContainsPattern(instance, want);
      }
      if (!matched) return false;
    }
    return true;
  }
  return instance == pattern;
}

// The values at `segments` under `v` (arrays flattened), as a discriminator path reads them.
void ValuesAt(const JsonValue& v, const std::vector<std::string>& segments, size_t i,
              std::vector<const JsonValue*>* out) {
  if (v.is_array()) {
    for (const JsonValue& item : v.items()) ValuesAt(item, segments, i, out);
    return;
  }
  if (i == segments.size()) {
    out->push_back(&v);
    return;
  }
  if (!v.is_object()) return;
  if (const JsonValue* next = v.Find(segments[i])) ValuesAt(*next, segments, i + 1, out);
}

}  // namespace

// One element of a profile (or one slice of it) and what the profile says of it. The tree
// follows the element ids: Observation.category:VSCat.coding.code is the child `code` of the
// child `coding` of the slice VSCat of the child `category` of the root.
struct ProfileRule {
  std::string name;        // JSON name: "subject", "value[x]", "valueQuantity"
  std::string path;        // for messages: "Observation.subject"
  std::string slice_name;  // for a slice
  bool check_min = false;
  int min = 0;
  bool check_max = false;
  int max = -1;
  std::vector<std::string> types;  // the types a choice element may take; empty: unrestricted
  bool has_fixed = false;
  JsonValue fixed;
  bool has_pattern = false;
  JsonValue pattern;
  std::string binding;  // required binding: the value set's canonical
  std::vector<Invariant> constraints;
  // Slicing of this (repeated) element.
  struct Discriminator {
    std::string type;  // value | pattern | type | profile | exists
    std::string path;  // "coding.code", "$this"
  };
  bool sliced = false;
  bool closed = false;
  std::vector<Discriminator> discriminators;
  std::string slicing_not_checked;  // why the slices cannot be told apart; empty when they can
  // A slice: per discriminator, the values an item of the slice carries there (any of them),
  // and whether they must be equal (fixed) or contained (pattern).
  std::vector<std::pair<std::vector<JsonValue>, bool>> expected;
  std::string type_profile;  // an extension slice: the extension's url (type.profile)
  std::vector<std::unique_ptr<ProfileRule>> children, slices;
  // Where the core definition of this element is, to tell what the profile adds.
  const TypeDef* owner = nullptr;
  const ElementDef* core = nullptr;
  std::string type;  // its one concrete type, when known
  const TypeDef* scope = nullptr;
  std::string scope_path;

  void SetType(const StructureRegistry& registry, std::string t) {
    type = std::move(t);
    scope = nullptr;
    scope_path.clear();
    if (core == nullptr || owner == nullptr || type.empty()) return;
    auto [s, p] = registry.ChildScope(*owner, *core, type);
    scope = s;
    scope_path = p;
  }

  ProfileRule* Child(const std::string& child_name, const StructureRegistry& registry) {
    for (auto& c : children)
      if (c->name == child_name) return c.get();
    auto c = std::make_unique<ProfileRule>();
    c->name = child_name;
    c->path = path + "." + child_name;
    if (scope != nullptr) {
      c->owner = scope;
      std::string concrete;
      if (EndsWithChoice(child_name)) {
        c->core = scope->Element(scope_path + "." + child_name);
        if (c->core != nullptr && c->core->types.size() == 1) concrete = c->core->types[0];
      } else if (auto r = registry.ResolveChild(*scope, scope_path, child_name)) {
        c->core = r->def;
        concrete = r->type;
      }
      c->SetType(registry, concrete);
    }
    children.push_back(std::move(c));
    return children.back().get();
  }

  ProfileRule* Slice(const std::string& slice) {
    for (auto& s : slices)
      if (s->slice_name == slice) return s.get();
    auto s = std::make_unique<ProfileRule>();
    s->name = name;
    s->path = path + ":" + slice;
    s->slice_name = slice;
    s->owner = owner;
    s->core = core;
    s->type = type;
    s->scope = scope;
    s->scope_path = scope_path;
    slices.push_back(std::move(s));
    return slices.back().get();
  }

  const ProfileRule* FindChild(const std::string& child_name) const {
    for (const auto& c : children)
      if (c->name == child_name) return c.get();
    return nullptr;
  }
};

struct CompiledProfile {
  std::string url;
  std::string type;
  std::string base;  // baseDefinition
  bool from_snapshot = false;
  std::string unusable;  // why it cannot be enforced (not a profile of a resource type)
  std::unique_ptr<ProfileRule> root;
};

struct CompiledValueSet {
  std::string url;
  bool has_expansion = false;
  std::set<std::pair<std::string, std::string>> expansion;  // (system, code)
  struct Clause {
    std::string system;
    std::set<std::string> concepts;  // empty: the whole system (or only value sets)
    std::vector<std::string> value_sets;
    bool filtered = false;
  };
  std::vector<Clause> include, exclude;
};

struct CompiledCodeSystem {
  std::string url;
  bool complete = false;  // content = complete: a code not listed is not in the system
  std::set<std::string> codes;
};

namespace {

// ---- compiling ----

int ReadMax(const JsonValue& e) {
  const JsonValue* max = e.Find("max");
  if (max == nullptr || !max->is_string() || max->text() == "*") return -1;
  return std::atoi(max->text().c_str());
}

void ApplyElement(const JsonValue& e, ProfileRule* node, const StructureRegistry& registry,
                  bool is_slice) {
  if (const JsonValue* min = e.Find("min"); min && min->is_number()) {
    node->min = std::atoi(min->text().c_str());
    int core_min = node->core != nullptr ? node->core->min : 0;
    node->check_min = node->min > 0 && (is_slice || node->min > core_min);
  }
  if (const JsonValue* max = e.Find("max"); max && max->is_string()) {
    node->max = ReadMax(e);
    bool narrower = node->max >= 0;
    if (!is_slice && node->core != nullptr && node->core->max >= 0)
      narrower = node->max >= 0 && node->max < node->core->max;
    node->check_max = narrower;
  }
  std::vector<std::string> types;
  if (const JsonValue* type = e.Find("type"); type && type->is_array()) {
    for (const JsonValue& t : type->items()) {
      std::string code = t.GetString("code");
      if (!code.empty()) types.push_back(code);
      if (const JsonValue* profiles = t.Find("profile"); profiles && profiles->is_array() &&
                                                         !profiles->items().empty() &&
                                                         profiles->items()[0].is_string())
        node->type_profile = profiles->items()[0].text();
    }
  }
  if (!types.empty() && EndsWithChoice(node->name) && node->core != nullptr &&
      types.size() < node->core->types.size()) {
    node->types = types;
    if (types.size() == 1) node->SetType(registry, types[0]);
  }
  if (const JsonValue* fixed = TypedMember(e, "fixed")) {
    node->has_fixed = true;
    node->fixed = *fixed;
  }
  if (const JsonValue* pattern = TypedMember(e, "pattern")) {
    node->has_pattern = true;
    node->pattern = *pattern;
  }
  if (const JsonValue* binding = e.Find("binding"); binding && binding->is_object()) {
    std::string vs = binding->GetString("valueSet");
    // The core's own required binding is the core validator's.
    bool core_same = node->core != nullptr && !node->core->required_valueset.empty() &&
                     WithoutVersion(node->core->required_valueset) == WithoutVersion(vs);
    if (binding->GetString("strength") == "required" && !vs.empty() && !core_same)
      node->binding = vs;
  }
  if (const JsonValue* constraints = e.Find("constraint"); constraints && constraints->is_array()) {
    for (const JsonValue& c : constraints->items()) {
      Invariant inv;
      inv.key = c.GetString("key");
      // The core invariants (ele-1, obs-6, dom-*) repeated by a snapshot are the core
      // validator's.
      if (inv.key.empty() || registry.IsInvariantKey(inv.key)) continue;
      inv.severity = c.GetString("severity") == "warning" ? "warning" : "error";
      inv.human = c.GetString("human");
      inv.expression = c.GetString("expression");
      // An operator's expression, not one of the definitions compiled in: matches() and its
      // regular expressions are not allowed (FhirPathParseOptions), and such a constraint is
      // told as not checked.
      auto parsed = FhirPathExpression::Parse(inv.expression);
      if (parsed.ok())
        inv.compiled = std::make_shared<const FhirPathExpression>(std::move(*parsed));
      else
        inv.not_checked = parsed.status().message();
      node->constraints.push_back(std::move(inv));
    }
  }
  if (const JsonValue* slicing = e.Find("slicing"); slicing && slicing->is_object()) {
    node->sliced = true;
    node->closed = slicing->GetString("rules") == "closed";
    if (const JsonValue* ds = slicing->Find("discriminator"); ds && ds->is_array())
      for (const JsonValue& d : ds->items())
        node->discriminators.push_back({d.GetString("type"), d.GetString("path")});
  }
}

// The values an item of `slice` carries at discriminator `path` (segments[i..]): the fixed or
// pattern value of the slice's element there (looking into the slices of the elements on the way:
// the bp profile's SystolicBP slice fixes code.coding:SBPCode.code), or, for a pattern on an
// element above it (a patternCodeableConcept on the slice, discriminated by coding.code), what
// the value holds at the rest of the path. False when the slice says nothing there.
bool CollectExpected(const ProfileRule& node, const std::vector<std::string>& segments, size_t i,
                     std::pair<std::vector<JsonValue>, bool>* out) {
  if (node.has_fixed || node.has_pattern) {
    const JsonValue& value = node.has_fixed ? node.fixed : node.pattern;
    std::vector<std::string> rest(segments.begin() + static_cast<long>(i), segments.end());
    std::vector<const JsonValue*> found;
    ValuesAt(value, rest, 0, &found);
    if (!found.empty()) {
      for (const JsonValue* f : found) out->first.push_back(*f);
      out->second = out->second && node.has_fixed;
      return true;
    }
  }
  if (i == segments.size()) return false;
  bool any = false;
  std::vector<const ProfileRule*> candidates = {&node};
  for (const auto& s : node.slices) candidates.push_back(s.get());
  for (const ProfileRule* c : candidates) {
    if (const ProfileRule* next = c->FindChild(segments[i]))
      any = CollectExpected(*next, segments, i + 1, out) || any;
  }
  // An extension slice's url is the extension profile it names.
  if (!any && i + 1 == segments.size() && segments[i] == "url" && !node.type_profile.empty()) {
    out->first.push_back(JsonValue::String(node.type_profile));
    return true;
  }
  return any;
}

bool ExpectedAt(const ProfileRule& slice, const std::string& path,
                std::pair<std::vector<JsonValue>, bool>* out) {
  std::vector<std::string> segments;
  if (path != "$this" && !path.empty()) segments = Split(path, '.');
  for (const std::string& s : segments)
    if (s.empty() || s.find('(') != std::string::npos) return false;  // resolve(), ofType()...
  out->second = true;  // exact unless a pattern gives a value
  return CollectExpected(slice, segments, 0, out);
}

void PrepareSlicing(ProfileRule* node) {
  for (auto& c : node->children) PrepareSlicing(c.get());
  for (auto& s : node->slices) PrepareSlicing(s.get());
  if (!node->sliced) return;
  // value[x] sliced by type: its slices are the typed names (valueQuantity), children already.
  bool by_type = !node->discriminators.empty();
  for (const auto& d : node->discriminators) by_type = by_type && d.type == "type";
  if (EndsWithChoice(node->name) && (by_type || node->slices.empty())) {
    node->sliced = false;
    return;
  }
  if (node->discriminators.empty()) {
    node->slicing_not_checked = "no discriminator";
    return;
  }
  for (const auto& d : node->discriminators)
    if (d.type != "value" && d.type != "pattern") {
      node->slicing_not_checked = "discriminator of type " + d.type + " at " + d.path;
      return;
    }
  for (auto& s : node->slices) {
    for (const auto& d : node->discriminators) {
      std::pair<std::vector<JsonValue>, bool> expected;
      if (!ExpectedAt(*s, d.path, &expected)) {
        node->slicing_not_checked =
            "slice " + s->slice_name + " has no fixed or pattern value at " + d.path;
        return;
      }
      s->expected.push_back(std::move(expected));
    }
  }
}

std::shared_ptr<const CompiledProfile> CompileProfile(const JsonValue& sd,
                                                      const StructureRegistry& registry) {
  auto p = std::make_shared<CompiledProfile>();
  p->url = sd.GetString("url");
  p->type = sd.GetString("type");
  p->base = sd.GetString("baseDefinition");
  const TypeDef* type = registry.Find(p->type);
  std::string derivation = sd.GetString("derivation");
  if (derivation != "constraint") {
    p->unusable = "its derivation is '" + derivation + "', not constraint: it is not a profile";
    return p;
  }
  if (type == nullptr || type->kind != TypeKind::kResource) {
    p->unusable = "it constrains " + p->type + ", which is not a resource type";
    return p;
  }
  p->root = std::make_unique<ProfileRule>();
  ProfileRule* root = p->root.get();
  root->name = root->path = type->name;
  root->owner = type;
  root->type = type->name;
  root->scope = type;
  root->scope_path = type->name;
  const JsonValue* elements = nullptr;
  for (const char* part : {"snapshot", "differential"}) {
    const JsonValue* holder = sd.Find(part);
    const JsonValue* list = holder ? holder->Find("element") : nullptr;
    if (list && list->is_array() && !list->items().empty()) {
      elements = list;
      p->from_snapshot = std::string(part) == "snapshot";
      break;
    }
  }
  if (elements == nullptr) return p;
  for (const JsonValue& e : elements->items()) {
    if (!e.is_object()) continue;
    std::string id = e.GetString("id");
    if (id.empty()) id = e.GetString("path");
    std::vector<std::string> segments = Split(id, '.');
    if (segments.empty() || segments[0].substr(0, segments[0].find(':')) != type->name) continue;
    ProfileRule* node = root;
    bool in_slice = false;
    for (size_t i = 1; i < segments.size(); ++i) {
      std::string name = segments[i].substr(0, segments[i].find(':'));
      std::string slice =
          name.size() < segments[i].size() ? segments[i].substr(name.size() + 1) : "";
      if (EndsWithChoice(name) && !slice.empty()) {
        // value[x]:valueQuantity is the element valueQuantity.
        std::string stem = name.substr(0, name.size() - 3);
        if (slice.size() > stem.size() && slice.compare(0, stem.size(), stem) == 0) {
          name = slice;
          slice.clear();
        }
      }
      node = node->Child(name, registry);
      if (!slice.empty()) {
        node = node->Slice(slice);
        in_slice = i + 1 == segments.size();
      } else {
        in_slice = false;
      }
    }
    ApplyElement(e, node, registry, in_slice);
  }
  PrepareSlicing(root);
  return p;
}

void CollectConcepts(const JsonValue* concepts, std::set<std::string>* out) {
  if (concepts == nullptr || !concepts->is_array()) return;
  for (const JsonValue& c : concepts->items()) {
    std::string code = c.GetString("code");
    if (!code.empty()) out->insert(code);
    CollectConcepts(c.Find("concept"), out);  // a CodeSystem's hierarchy
  }
}

void CollectContains(const JsonValue* contains,
                     std::set<std::pair<std::string, std::string>>* out) {
  if (contains == nullptr || !contains->is_array()) return;
  for (const JsonValue& c : contains->items()) {
    std::string code = c.GetString("code");
    if (!code.empty()) out->insert({c.GetString("system"), code});
    CollectContains(c.Find("contains"), out);
  }
}

std::shared_ptr<const CompiledValueSet> CompileValueSet(const JsonValue& vs,
                                                        const StructureRegistry&) {
  auto out = std::make_shared<CompiledValueSet>();
  out->url = vs.GetString("url");
  if (const JsonValue* expansion = vs.Find("expansion"); expansion && expansion->is_object()) {
    out->has_expansion = true;
    CollectContains(expansion->Find("contains"), &out->expansion);
  }
  const JsonValue* compose = vs.Find("compose");
  for (const char* part : {"include", "exclude"}) {
    const JsonValue* list = compose ? compose->Find(part) : nullptr;
    if (list == nullptr || !list->is_array()) continue;
    for (const JsonValue& inc : list->items()) {
      CompiledValueSet::Clause clause;
      clause.system = inc.GetString("system");
      CollectConcepts(inc.Find("concept"), &clause.concepts);
      if (const JsonValue* vss = inc.Find("valueSet"); vss && vss->is_array())
        for (const JsonValue& v : vss->items())
          if (v.is_string()) clause.value_sets.push_back(v.text());
      const JsonValue* filters = inc.Find("filter");
      clause.filtered = filters && filters->is_array() && !filters->items().empty();
      (std::string(part) == "include" ? out->include : out->exclude).push_back(std::move(clause));
    }
  }
  return out;
}

std::shared_ptr<const CompiledCodeSystem> CompileCodeSystem(const JsonValue& cs,
                                                            const StructureRegistry&) {
  auto out = std::make_shared<CompiledCodeSystem>();
  out->url = cs.GetString("url");
  out->complete = cs.GetString("content") == "complete";
  CollectConcepts(cs.Find("concept"), &out->codes);
  return out;
}

std::shared_ptr<const void> Compile(const std::string& type, const JsonValue& resource,
                                    const StructureRegistry& registry) {
  if (type == "StructureDefinition") return CompileProfile(resource, registry);
  if (type == "ValueSet") return CompileValueSet(resource, registry);
  return CompileCodeSystem(resource, registry);
}

}  // namespace

// ---- the cache and one validation's view ----

ConformanceCache& ConformanceCache::Process() {
  static ConformanceCache* const kCache = new ConformanceCache();
  return *kCache;
}

std::shared_ptr<const void> ConformanceCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void ConformanceCache::Put(const std::string& key, std::shared_ptr<const void> value) {
  std::lock_guard<std::mutex> lock(mu_);
  // Entries of versions since replaced are never asked for again: bounded by starting over.
  if (entries_.size() >= 512) entries_.clear();
  entries_[key] = std::move(value);
}

template <typename T>
Result<std::shared_ptr<const T>> Conformance::Find(const std::string& type,
                                                   const std::string& canonical) {
  std::string memo_key = type + " " + canonical;
  if (auto it = seen_.find(memo_key); it != seen_.end())
    return std::static_pointer_cast<const T>(it->second);
  auto [url, version] = SplitCanonical(canonical);
  std::shared_ptr<const void> compiled;
  if (!url.empty()) {
    auto handle = source_.Locate(type, url, version);
    if (!handle.ok()) return handle.status();
    if (*handle) {
      // The tag changes with every stored version: a cached entry is never stale.
      std::string cache_key = type + " " + (*handle)->tag;
      compiled = cache_.Get(cache_key);
      if (compiled == nullptr) {
        auto content = source_.Load(type, **handle);
        if (!content.ok()) return content.status();
        compiled = Compile(type, *content, registry_);
        cache_.Put(cache_key, compiled);
      }
    }
  }
  seen_[memo_key] = compiled;
  return std::static_pointer_cast<const T>(compiled);
}

Result<std::shared_ptr<const CompiledProfile>> Conformance::Profile(const std::string& canonical) {
  return Find<CompiledProfile>("StructureDefinition", canonical);
}
Result<std::shared_ptr<const CompiledValueSet>> Conformance::ValueSet(
    const std::string& canonical) {
  return Find<CompiledValueSet>("ValueSet", canonical);
}
Result<std::shared_ptr<const CompiledCodeSystem>> Conformance::CodeSystem(
    const std::string& canonical) {
  return Find<CompiledCodeSystem>("CodeSystem", canonical);
}

// ---- enforcing ----

namespace {

// An element of the instance.
struct InstanceNode {
  const JsonValue* json = nullptr;
  std::string expr;  // Observation.component[1].code
  std::string type;
  const TypeDef* scope = nullptr;
  std::string scope_path;
};

enum class Membership { kIn, kOut, kUnknown };

class ProfileChecker {
 public:
  ProfileChecker(const CompiledProfile& profile, const std::string& claimed,
                 Conformance& conformance, const JsonValue& resource,
                 std::vector<ValidationIssue>* issues)
      : profile_(profile),
        claimed_(claimed),
        conformance_(conformance),
        registry_(conformance.registry()),
        resource_(resource),
        issues_(issues) {}

  Status Run() {
    const ProfileRule& root = *profile_.root;
    InstanceNode node{&resource_, root.name, root.name, root.scope, root.scope_path};
    return Values(root, {node}, root.name);
  }

 private:
  void Add(const char* severity, const char* code, const std::string& expr,
           const std::string& message, const std::string& key = "") {
    std::string text = message + " (profile " + claimed_ + ")";
    for (const ValidationIssue& i : *issues_)
      if (i.message == text && i.expression == expr) return;
    issues_->push_back({severity, code, expr, std::move(text), key});
  }

  // The values of `rule` under `parent`.
  std::vector<InstanceNode> Navigate(const ProfileRule& rule, const InstanceNode& parent) {
    std::vector<InstanceNode> out;
    if (parent.json == nullptr || !parent.json->is_object()) return out;
    auto add = [&](const std::string& key, const JsonValue& value, const std::string& type) {
      auto node_for = [&](const JsonValue* v, std::string expr) {
        InstanceNode n{v, std::move(expr), type, nullptr, ""};
        if (rule.core != nullptr && rule.owner != nullptr && !type.empty()) {
          auto [s, p] = registry_.ChildScope(*rule.owner, *rule.core, type);
          n.scope = s;
          n.scope_path = p;
        }
        return n;
      };
      std::string base = parent.expr + "." + key;
      if (value.is_array()) {
        for (size_t i = 0; i < value.items().size(); ++i)
          if (!value.items()[i].is_null())
            out.push_back(node_for(&value.items()[i], base + "[" + std::to_string(i) + "]"));
      } else if (!value.is_null()) {
        out.push_back(node_for(&value, base));
      }
    };
    if (EndsWithChoice(rule.name)) {
      std::string stem = rule.name.substr(0, rule.name.size() - 3);
      for (const auto& [key, value] : parent.json->members()) {
        if (key.size() <= stem.size() || key.compare(0, stem.size(), stem) != 0 ||
            !std::isupper(static_cast<unsigned char>(key[stem.size()])))
          continue;
        std::string suffix = key.substr(stem.size());
        std::string type;
        if (rule.core != nullptr)
          for (const std::string& t : rule.core->types)
            if (Capitalized(t) == suffix) type = t;
        if (type.empty()) {
          type = suffix;
          if (registry_.Find(type) == nullptr) type[0] = static_cast<char>(std::tolower(type[0]));
        }
        add(key, value, type);
      }
      return out;
    }
    if (const JsonValue* value = parent.json->Find(rule.name)) add(rule.name, *value, rule.type);
    return out;
  }

  // `values`: every occurrence of `rule` under one parent; `where` names them as a whole.
  Status Values(const ProfileRule& rule, const std::vector<InstanceNode>& values,
                const std::string& where) {
    int n = static_cast<int>(values.size());
    const std::string& what = rule.path;
    std::string slice = rule.slice_name.empty() ? "" : " in slice " + rule.slice_name;
    if (rule.check_min && n < rule.min)
      Add("error", "required", where,
          what + ": minimum required = " + std::to_string(rule.min) + slice + ", but only found " +
              std::to_string(n));
    if (rule.check_max && rule.max >= 0 && n > rule.max) {
      if (rule.max == 0)
        Add("error", "structure", where, what + ": not allowed (max 0)" + slice);
      else
        Add("error", "structure", where,
            what + ": maximum allowed = " + std::to_string(rule.max) + slice + ", but found " +
                std::to_string(n));
    }
    for (const InstanceNode& v : values) CARNET_RETURN_IF_ERROR(Value(rule, v));
    CARNET_RETURN_IF_ERROR(Slices(rule, values, where));
    for (const auto& child : rule.children)
      for (const InstanceNode& v : values)
        CARNET_RETURN_IF_ERROR(Values(*child, Navigate(*child, v), v.expr + "." + child->name));
    return Status::Ok();
  }

  Status Slices(const ProfileRule& rule, const std::vector<InstanceNode>& values,
                const std::string& where) {
    if (!rule.sliced || rule.slices.empty()) return Status::Ok();
    if (!rule.slicing_not_checked.empty()) {
      Add("information", "informational", where,
          rule.path + ": slicing not checked (" + rule.slicing_not_checked +
              "); the rules of its slices are not applied");
      return Status::Ok();
    }
    std::vector<std::vector<InstanceNode>> members(rule.slices.size());
    for (const InstanceNode& v : values) {
      bool placed = false;
      for (size_t s = 0; s < rule.slices.size() && !placed; ++s) {
        if (InSlice(rule, *rule.slices[s], *v.json)) {
          members[s].push_back(v);
          placed = true;
        }
      }
      if (!placed && rule.closed)
        Add("error", "structure", v.expr,
            rule.path + ": this item matches none of the slices, and the slicing is closed");
    }
    for (size_t s = 0; s < rule.slices.size(); ++s)
      CARNET_RETURN_IF_ERROR(Values(*rule.slices[s], members[s], where));
    return Status::Ok();
  }

  static bool InSlice(const ProfileRule& rule, const ProfileRule& slice, const JsonValue& item) {
    for (size_t d = 0; d < rule.discriminators.size() && d < slice.expected.size(); ++d) {
      const std::string& path = rule.discriminators[d].path;
      std::vector<std::string> segments;
      if (path != "$this" && !path.empty()) segments = Split(path, '.');
      std::vector<const JsonValue*> found;
      ValuesAt(item, segments, 0, &found);
      const auto& [wanted, exact] = slice.expected[d];
      bool any = false;
      for (const JsonValue* have : found)
        for (const JsonValue& want : wanted)
          if (exact ? *have == want : ContainsPattern(*have, want)) any = true;
      if (!any) return false;
    }
    return true;
  }

  Status Value(const ProfileRule& rule, const InstanceNode& v) {
    if (!rule.types.empty() &&
        std::find(rule.types.begin(), rule.types.end(), v.type) == rule.types.end()) {
      std::string allowed;
      for (const std::string& t : rule.types) allowed += (allowed.empty() ? "" : ", ") + t;
      Add("error", "structure", v.expr,
          rule.path + ": type " + v.type + " is not allowed; the profile allows only " + allowed);
      return Status::Ok();
    }
    if (rule.has_fixed && !(*v.json == rule.fixed))
      Add("error", "value", v.expr,
          rule.path + ": the value must be " + Shown(rule.fixed) + " (fixed value), not " +
              Shown(*v.json));
    if (rule.has_pattern && !ContainsPattern(*v.json, rule.pattern))
      Add("error", "value", v.expr,
          rule.path + ": the value must match the pattern " + Shown(rule.pattern) + ", found " +
              Shown(*v.json));
    if (!rule.binding.empty()) CARNET_RETURN_IF_ERROR(Binding(rule, v));
    for (const Invariant& inv : rule.constraints) Constraint(inv, v);
    return Status::Ok();
  }

  void Constraint(const Invariant& inv, const InstanceNode& v) {
    std::string what = inv.key + ": " + inv.human;
    if (!inv.compiled) {
      Add("information", "informational", v.expr,
          inv.key + " not checked: " + inv.not_checked + " (" + inv.human + ")", inv.key);
      return;
    }
    FhirPathNode focus = FhirPathNode::Element(v.json, v.type);
    focus.scope = v.scope;
    focus.scope_path = v.scope_path;
    FhirPathEnvironment env;
    env.registry = &registry_;
    env.resource = &resource_;
    env.root_resource = &resource_;
    auto result = inv.compiled->Evaluate(FhirPathCollection{focus}, env);
    if (!result.ok()) {
      Add("information", "informational", v.expr,
          inv.key + " not checked: " + result.status().message() + " (" + inv.human + ")", inv.key);
      return;
    }
    if (result->empty()) return;  // its operands are absent: holds
    if (result->size() > 1) {
      Add("information", "informational", v.expr,
          inv.key + " not checked: its expression gave several results here (" + inv.human + ")",
          inv.key);
      return;
    }
    const FhirPathNode& r = (*result)[0];
    if (r.kind == FhirPathNode::Kind::kBoolean && !r.boolean)
      Add(inv.severity == "warning" ? "warning" : "error", "invariant", v.expr, what, inv.key);
  }

  // ---- required bindings ----

  Status Binding(const ProfileRule& rule, const InstanceNode& v) {
    const std::string& vs = rule.binding;
    std::vector<std::pair<std::string, std::string>> codes;  // (system, code)
    bool concept_value = false;
    if (v.json->is_string()) {
      codes.push_back({"", v.json->text()});
    } else if (v.json->is_object() && (v.type == "CodeableConcept" || v.json->Find("coding"))) {
      concept_value = true;
      if (const JsonValue* codings = v.json->Find("coding"); codings && codings->is_array())
        for (const JsonValue& c : codings->items())
          if (!c.GetString("code").empty())
            codes.push_back({c.GetString("system"), c.GetString("code")});
    } else if (v.json->is_object()) {
      if (v.json->GetString("code").empty()) return Status::Ok();  // a Quantity without a unit code
      codes.push_back({v.json->GetString("system"), v.json->GetString("code")});
    }
    if (codes.empty()) {
      Add("error", "code-invalid", v.expr,
          rule.path + ": no code, but the profile binds it (required) to the value set " + vs);
      return Status::Ok();
    }
    std::string listed, unknown_reason;
    bool any_in = false, any_unknown = false;
    for (const auto& [system, code] : codes) {
      std::string why;
      auto m = Contains(vs, system, code, 0, &why);
      if (!m.ok()) return m.status();
      listed += (listed.empty() ? "" : ", ") + (system.empty() ? code : system + "|" + code);
      if (*m == Membership::kIn) any_in = true;
      if (*m == Membership::kUnknown) {
        any_unknown = true;
        unknown_reason = why;
      }
      if (!concept_value && *m == Membership::kOut)
        Add("error", "code-invalid", v.expr,
            rule.path + ": the code '" + code + "' is not in the value set " + vs +
                " (required binding)");
    }
    if (concept_value && !any_in) {
      if (any_unknown)
        Add("information", "informational", v.expr,
            rule.path + ": binding to " + vs + " not checked: " + unknown_reason);
      else
        Add("error", "code-invalid", v.expr,
            rule.path + ": none of the codes " + listed + " is in the value set " + vs +
                " (required binding)");
    } else if (!concept_value && any_unknown) {
      Add("information", "informational", v.expr,
          rule.path + ": binding to " + vs + " not checked: " + unknown_reason);
    }
    return Status::Ok();
  }

  // Whether system|code (system empty for a code element) is in the value set `canonical`:
  // a posted one first, else one of the R4 core value sets.
  Result<Membership> Contains(const std::string& canonical, const std::string& system,
                              const std::string& code, int depth, std::string* why) {
    if (depth > kMaxImports) {
      *why = "value sets import each other too deeply (" + canonical + ")";
      return Membership::kUnknown;
    }
    auto posted = conformance_.ValueSet(canonical);
    if (!posted.ok()) return posted.status();
    if (*posted == nullptr) {
      std::string url = WithoutVersion(canonical);
      const std::vector<std::string>* core = registry_.ValueSetCodes(url);
      if (core == nullptr) {
        *why = "the value set " + canonical + " is not known to this server";
        return Membership::kUnknown;
      }
      bool in = system.empty() ? std::find(core->begin(), core->end(), code) != core->end()
                               : registry_.ValueSetContains(url, system, code);
      return in ? Membership::kIn : Membership::kOut;
    }
    const CompiledValueSet& vs = **posted;
    if (vs.has_expansion) {
      for (const auto& [s, c] : vs.expansion)
        if (c == code && (system.empty() || s == system)) return Membership::kIn;
      return Membership::kOut;
    }
    Membership result = Membership::kOut;
    for (const auto& clause : vs.include) {
      auto m = InClause(clause, system, code, depth, why);
      if (!m.ok()) return m.status();
      if (*m == Membership::kIn) {
        result = Membership::kIn;
        break;
      }
      if (*m == Membership::kUnknown) result = Membership::kUnknown;
    }
    if (result != Membership::kIn) return result;
    for (const auto& clause : vs.exclude) {
      std::string ignored;
      auto m = InClause(clause, system, code, depth, &ignored);
      if (!m.ok()) return m.status();
      if (*m == Membership::kIn) return Membership::kOut;
    }
    return Membership::kIn;
  }

  Result<Membership> InClause(const CompiledValueSet::Clause& clause, const std::string& system,
                              const std::string& code, int depth, std::string* why) {
    Membership result = Membership::kIn;
    if (clause.system.empty() && clause.value_sets.empty()) return Membership::kOut;
    if (!clause.system.empty()) {
      if (!system.empty() && system != clause.system) return Membership::kOut;
      if (clause.filtered) {
        *why = "the value set selects codes of " + clause.system + " by filter";
        result = Membership::kUnknown;
      } else if (!clause.concepts.empty()) {
        if (clause.concepts.count(code) == 0) return Membership::kOut;
      } else {
        // The whole system: its concepts, when the system was posted in full.
        auto cs = conformance_.CodeSystem(clause.system);
        if (!cs.ok()) return cs.status();
        if (*cs != nullptr && (*cs)->codes.count(code) != 0) {
          // in
        } else if (*cs != nullptr && (*cs)->complete) {
          return Membership::kOut;
        } else {
          *why = "the value set includes all of " + clause.system +
                 ", a code system not known in full to this server";
          result = Membership::kUnknown;
        }
      }
    }
    for (const std::string& imported : clause.value_sets) {
      auto m = Contains(imported, system, code, depth + 1, why);
      if (!m.ok()) return m.status();
      if (*m == Membership::kOut) return Membership::kOut;
      if (*m == Membership::kUnknown) result = Membership::kUnknown;
    }
    return result;
  }

  const CompiledProfile& profile_;
  std::string claimed_;
  Conformance& conformance_;
  const StructureRegistry& registry_;
  const JsonValue& resource_;
  std::vector<ValidationIssue>* issues_;
};

}  // namespace

Result<std::vector<ValidationIssue>> ValidateProfiles(const JsonValue& resource,
                                                      const std::vector<std::string>& asked,
                                                      Conformance& conformance) {
  std::vector<ValidationIssue> issues;
  std::string type = resource.GetString("resourceType");
  // (canonical, asked, where it is claimed)
  std::vector<std::tuple<std::string, bool, std::string>> wanted;
  if (const JsonValue* meta = resource.Find("meta"); meta && meta->is_object())
    if (const JsonValue* claimed = meta->Find("profile"); claimed && claimed->is_array())
      for (size_t i = 0; i < claimed->items().size(); ++i)
        if (claimed->items()[i].is_string() && !claimed->items()[i].text().empty())
          wanted.emplace_back(claimed->items()[i].text(), false,
                              type + ".meta.profile[" + std::to_string(i) + "]");
  for (const std::string& a : asked)
    if (!a.empty()) wanted.emplace_back(a, true, type);
  std::set<std::string> done;
  for (const auto& [canonical, is_asked, where] : wanted) {
    std::string url = WithoutVersion(canonical);
    // The core definition of a resource type is the core validation (that of another type is
    // the caller's to tell: fhir/writes.cc).
    if (url.compare(0, kCoreProfiles.size(), kCoreProfiles) == 0 &&
        conformance.registry().IsResourceType(url.substr(kCoreProfiles.size())))
      continue;
    if (!done.insert(canonical).second) continue;
    auto profile = conformance.Profile(canonical);
    if (!profile.ok()) return profile.status();
    if (*profile == nullptr) {
      if (is_asked)
        issues.push_back({"error", "not-supported", where,
                          "profile not known: " + canonical +
                              " (this server validates against the core R4 definitions and "
                              "the StructureDefinitions posted to it)"});
      else
        issues.push_back({"warning", "informational", where,
                          "profile not known to this server, not checked: " + canonical});
      continue;
    }
    // The profile, then, when it gives only a differential, the posted profiles it derives
    // from (a snapshot already holds what they say).
    std::shared_ptr<const CompiledProfile> p = *profile;
    for (int hop = 0; p != nullptr && hop < kMaxChain; ++hop) {
      if (!p->unusable.empty()) {
        issues.push_back({"error", "not-supported", where,
                          "profile " + p->url + " cannot be enforced: " + p->unusable});
        break;
      }
      if (p->type != type) {
        issues.push_back({"error", "invalid", where,
                          "the resource is a " + type + ", but the profile " + p->url +
                              " constrains " + p->type});
        break;
      }
      // Issues name the profile claimed (or asked for), and the base profile they come from.
      std::string named = hop == 0 ? canonical : canonical + ", through its base " + p->url;
      ProfileChecker checker(*p, named, conformance, resource, &issues);
      CARNET_RETURN_IF_ERROR(checker.Run());
      if (p->from_snapshot || p->base.empty()) break;
      std::string base_url = WithoutVersion(p->base);
      if (base_url.compare(0, kCoreProfiles.size(), kCoreProfiles) == 0 &&
          conformance.registry().IsResourceType(base_url.substr(kCoreProfiles.size())))
        break;
      auto base = conformance.Profile(p->base);
      if (!base.ok()) return base.status();
      if (*base == nullptr) {
        issues.push_back({"warning", "informational", where,
                          "profile " + p->url + " derives from " + p->base +
                              ", not known to this server: the rules of that one are not "
                              "checked"});
      }
      p = *base;
    }
  }
  return issues;
}

}  // namespace carnet::model
