#include "model/search_params.h"

#include <chrono>

#include "model/structure.h"

namespace carnet::model {
namespace {

long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::map<std::string, const SearchParamDef*>& EmptyParams() {
  static const std::map<std::string, const SearchParamDef*> kEmpty;
  return kEmpty;
}

// A parameter with its expressions parsed, or nullptr when one of them is outside the
// supported subset (the parameter is then not offered).
std::shared_ptr<SearchParamDef> MakeDef(std::string code, std::string type, std::string expression,
                                        std::vector<std::string> targets,
                                        const std::vector<std::string>& components) {
  auto path = SearchPath::Parse(expression);
  if (!path.ok()) return nullptr;
  auto d = std::make_shared<SearchParamDef>();
  d->code = std::move(code);
  d->type = std::move(type);
  d->expression = std::move(expression);
  d->targets = std::move(targets);
  d->path = std::make_shared<SearchPath>(std::move(path).value());
  for (size_t i = 0; i + 2 < components.size(); i += 3) {
    auto cpath = SearchPath::Parse(components[i + 2]);
    if (!cpath.ok() || !IsComponentParamType(components[i + 1])) return nullptr;
    d->components.push_back({components[i], components[i + 1], components[i + 2],
                             std::make_shared<SearchPath>(std::move(cpath).value())});
  }
  if ((d->type == "composite" || d->type == "special") && d->components.size() < 2) return nullptr;
  return d;
}

}  // namespace

bool IsComponentParamType(const std::string& type) {
  return type == "number" || type == "date" || type == "string" || type == "token" ||
         type == "reference" || type == "quantity" || type == "uri";
}

bool IsIndexedParamType(const std::string& type) {
  return IsComponentParamType(type) || type == "composite";
}

const SearchParamDef* SearchParamSet::Find(const std::string& type, const std::string& code) const {
  auto t = by_type_.find(type);
  if (t == by_type_.end()) return nullptr;
  auto p = t->second.find(code);
  return p == t->second.end() ? nullptr : p->second;
}

const std::map<std::string, const SearchParamDef*>& SearchParamSet::ForType(
    const std::string& type) const {
  auto t = by_type_.find(type);
  return t == by_type_.end() ? EmptyParams() : t->second;
}

SearchParamRegistry& SearchParamRegistry::Instance() {
  static SearchParamRegistry* r = new SearchParamRegistry();
  return *r;
}

std::shared_ptr<const SearchParamSet> SearchParamRegistry::BuildOfficial() {
  const auto& registry = StructureRegistry::R4();
  auto set = std::make_shared<SearchParamSet>();
  // One parsed expression per distinct text: the Resource-level ones repeat for every type.
  std::map<std::string, std::shared_ptr<const SearchParamDef>> by_key;
  for (const std::string& type : registry.ResourceTypes()) {
    for (const auto* sp : registry.SearchParams(type)) {
      if (!IsIndexedParamType(sp->type) || sp->expression.empty()) continue;
      std::vector<std::string> components;
      for (const auto& c : sp->components)
        components.insert(components.end(), {c.code, c.type, c.expression});
      std::string key = sp->code + "\n" + sp->type + "\n" + sp->expression;
      for (const std::string& c : components) key += "\n" + c;
      auto& def = by_key[key];
      if (!def) {
        def = MakeDef(sp->code, sp->type, sp->expression, sp->targets, components);
        if (!def) continue;  // outside the supported subset: not offered
        set->owned_.push_back(def);
      }
      set->by_type_[type][sp->code] = def.get();
    }
  }
  // The IHE MHD search parameters that are not in R4 itself (ITI-67 creation, author.given,
  // author.family), carried as
  // data beside the official ones: code, type, base, expression.
  struct Extra {
    const char* type;
    const char* code;
    const char* param_type;
    const char* expression;
  };
  static const Extra kMhd[] = {
      {"DocumentReference", "creation", "date", "DocumentReference.content.attachment.creation"},
      // The authors as XDS gives them: contained Practitioners (and PractitionerRoles').
      {"DocumentReference", "author.given", "string",
       "DocumentReference.contained.ofType(Practitioner).name.given"},
      {"DocumentReference", "author.family", "string",
       "DocumentReference.contained.ofType(Practitioner).name.family"},
  };
  // R4's one special parameter, Location's near (latitude|longitude|distance|units): its
  // coordinates are indexed as a composite of two numbers of the same position, and searched
  // by great-circle distance (fhir/search_plan.cc).
  if (auto near = MakeDef("near", "special", "Location.position", {},
                          {"latitude", "number", "latitude", "longitude", "number", "longitude"})) {
    set->owned_.push_back(near);
    set->by_type_["Location"]["near"] = near.get();
  }
  for (const Extra& x : kMhd) {
    if (set->by_type_[x.type].count(x.code)) continue;
    auto path = SearchPath::Parse(x.expression);
    if (!path.ok()) continue;
    auto d = std::make_shared<SearchParamDef>();
    d->code = x.code;
    d->type = x.param_type;
    d->expression = x.expression;
    d->path = std::make_shared<SearchPath>(std::move(path).value());
    set->owned_.push_back(d);
    set->by_type_[x.type][x.code] = d.get();
  }
  return set;
}

std::shared_ptr<const SearchParamSet> SearchParamRegistry::Official() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!official_) official_ = BuildOfficial();
  return official_;
}

Result<std::shared_ptr<const SearchParamSet>> SearchParamRegistry::Current(
    CustomSearchParamStore& store) {
  std::shared_ptr<const SearchParamSet> official = Official();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ && NowMs() - checked_at_ms_ < 1000) return current_;
  }
  auto generation = store.Generation();
  if (!generation.ok()) return generation.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ && *generation == generation_) {
      checked_at_ms_ = NowMs();
      return current_;
    }
  }
  auto rows = store.LoadAll();
  if (!rows.ok()) return rows.status();
  auto set = std::make_shared<SearchParamSet>(*official);
  for (CustomSearchParam& row : *rows) {
    auto d = MakeDef(std::move(row.code), std::move(row.param_type), std::move(row.expression),
                     std::move(row.targets), row.components);
    if (!d) continue;
    d->custom = true;
    set->by_type_[row.base_type][d->code] = d.get();
    set->owned_.push_back(d);
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_ = set;
  generation_ = *generation;
  checked_at_ms_ = NowMs();
  return std::shared_ptr<const SearchParamSet>(set);
}

namespace {

// The components of a composite SearchParameter, resolved: code, type, expression of each.
Result<std::vector<std::string>> CompositeComponents(const JsonValue& resource,
                                                     const std::vector<CustomSearchParam>* custom) {
  const JsonValue* list = resource.Find("component");
  if (!list || !list->is_array() || list->items().size() < 2)
    return Invalid("a composite SearchParameter needs two components or more",
                   "SearchParameter.component");
  std::vector<std::string> out;
  for (size_t i = 0; i < list->items().size(); ++i) {
    const JsonValue& c = list->items()[i];
    std::string where = "SearchParameter.component[" + std::to_string(i) + "]";
    std::string definition = c.GetString("definition");
    std::string expression = c.GetString("expression");
    if (definition.empty())
      return Invalid(where + ".definition is required", where + ".definition");
    if (expression.empty())
      return Invalid(where + ".expression is required", where + ".expression");
    auto path = SearchPath::Parse(expression);
    if (!path.ok()) return Invalid(path.status().message(), where + ".expression");
    std::string code, type;
    if (const auto* official = StructureRegistry::R4().FindSearchParamByUrl(definition)) {
      code = official->code;
      type = official->type;
    } else if (custom != nullptr) {
      for (const CustomSearchParam& row : *custom)
        if (row.url == definition) {
          code = row.code;
          type = row.param_type;
          break;
        }
      if (type.empty())
        return Invalid(where + ".definition '" + definition +
                           "' names no search parameter known to this server (an official R4 "
                           "one, or a SearchParameter posted here, by its url)",
                       where + ".definition");
    } else {
      continue;  // judged by the write, which knows the posted ones
    }
    if (!IsComponentParamType(type))
      return Invalid(where + ".definition '" + definition + "' is a " + type +
                         " parameter; a component must be a number, date, string, token, "
                         "reference, quantity or uri parameter",
                     where + ".definition");
    out.insert(out.end(), {code, type, expression});
  }
  return out;
}

}  // namespace

Result<std::vector<CustomSearchParam>> SearchParamRowsOf(
    const std::string& id, const JsonValue& resource,
    const std::vector<CustomSearchParam>* custom) {
  std::vector<CustomSearchParam> rows;
  if (resource.GetString("status") == "retired") return rows;
  std::string code = resource.GetString("code");
  std::string type = resource.GetString("type");
  std::string expression = resource.GetString("expression");
  // The codes that start with '_' are the ones FHIR reserves for all resources (_id,
  // _lastUpdated, _text...): a definition of its own for one of them is not taken.
  if (!code.empty() && code[0] == '_')
    return Status(ErrorCode::kNotSupported,
                  "SearchParameter.code '" + code +
                      "' is reserved by FHIR for every resource type; this server keeps its own "
                      "definition and does not take another",
                  "SearchParameter.code");
  if (code.empty() || code.find_first_of(" ,:.|$&=?") != std::string::npos)
    return Invalid("SearchParameter.code '" + code + "' cannot be used as a parameter name",
                   "SearchParameter.code");
  if (!IsIndexedParamType(type))
    return Invalid("SearchParameter.type '" + type + "' is not supported by this server",
                   "SearchParameter.type");
  if (expression.empty())
    return Invalid("SearchParameter.expression is required", "SearchParameter.expression");
  auto path = SearchPath::Parse(expression);
  if (!path.ok()) return Invalid(path.status().message(), "SearchParameter.expression");
  std::vector<std::string> components;
  if (type == "composite") {
    auto resolved = CompositeComponents(resource, custom);
    if (!resolved.ok()) return resolved.status();
    components = std::move(resolved).value();
  }
  std::vector<std::string> targets;
  if (const JsonValue* t = resource.Find("target"); t && t->is_array())
    for (const auto& v : t->items())
      if (v.is_string()) targets.push_back(v.text());
  const JsonValue* bases = resource.Find("base");
  if (!bases || !bases->is_array() || bases->items().empty())
    return Invalid("SearchParameter.base is required", "SearchParameter.base");
  for (const auto& b : bases->items()) {
    if (!b.is_string() || !StructureRegistry::R4().IsResourceType(b.text()))
      return Invalid("SearchParameter.base names an unknown resource type", "SearchParameter.base");
    rows.push_back(
        {id, b.text(), code, type, expression, targets, resource.GetString("url"), components});
  }
  return rows;
}

Status SearchParamRegistry::OnSearchParameterWrite(CustomSearchParamStore& store,
                                                   const std::string& id,
                                                   const JsonValue* resource) {
  std::vector<CustomSearchParam> rows;
  if (resource != nullptr) {
    auto known = store.LoadAll();  // what a composite's components may name
    if (!known.ok()) return known.status();
    std::vector<CustomSearchParam> others;
    for (CustomSearchParam& row : *known)
      if (row.sp_id != id) others.push_back(std::move(row));
    auto defined = SearchParamRowsOf(id, *resource, &others);
    if (!defined.ok()) return defined.status();
    rows = std::move(defined).value();
  }
  CARNET_RETURN_IF_ERROR(store.Remove(id));
  for (const CustomSearchParam& r : rows) {
    Status added = store.Add(r);
    if (!added.ok()) {
      if (added.code() == ErrorCode::kDuplicate || added.code() == ErrorCode::kConflict)
        return Invalid("another SearchParameter already defines " + r.base_type + "." + r.code,
                       "SearchParameter.code");
      return added;
    }
  }
  CARNET_RETURN_IF_ERROR(store.BumpGeneration());
  std::lock_guard<std::mutex> lock(mu_);
  checked_at_ms_ = 0;  // our own change: look again on the next use
  return Status::Ok();
}

}  // namespace carnet::model
