#include "fhir/search_query.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "base/strings.h"
#include "model/search_dates.h"
#include "model/structure.h"

namespace carnet::fhir {
namespace {

bool IsDecimal(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac;
    if (frac == 0) return false;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0 || exp > 3) return false;
  }
  return i == s.size() && s.size() <= 40;
}

bool ModifierAllowed(const std::string& type, const std::string& modifier) {
  if (modifier.empty() || modifier == "missing") return true;
  if (type == "composite" || type == "special") return false;
  if (type == "string") return modifier == "exact" || modifier == "contains";
  if (type == "token") return modifier == "text" || modifier == "not" || modifier == "of-type";
  if (type == "uri") return modifier == "below" || modifier == "above";
  if (type == "reference")
    return modifier == "identifier" || model::StructureRegistry::R4().IsResourceType(modifier);
  return false;
}

// The search type of `code` common to every type, or "" when one of them lacks it.
std::string CommonParamType(const model::SearchParamSet& params,
                            const std::vector<std::string>& types, const std::string& code) {
  std::string common;
  for (const auto& t : types) {
    const model::SearchParamDef* def = params.Find(t, code);
    if (!def) return "";
    if (!common.empty() && common != def->type) return "";
    common = def->type;
  }
  return common;
}

// Checks the values of a criterion of a known type; the message names the problem.
Status CheckValues(const Criterion& c) {
  auto bad = [&](const std::string& v, const std::string& why) {
    return BadRequest("parameter " + c.name + ": '" + v + "' " + why, c.name);
  };
  for (const std::string& v : c.values) {
    if (c.modifier == "missing") {
      if (v != "true" && v != "false") return bad(v, "is not true or false");
      continue;
    }
    if (c.param_type == "special") {
      if (!ParseNear(v))
        return bad(v,
                   "is not latitude|longitude|distance|units (decimal degrees, latitude within "
                   "-90..90 and longitude within -180..180, a distance of 0 or more in km, m, "
                   "[mi_i] or [nmi_i])");
      continue;
    }
    if (c.param_type == "composite") {
      // Each part by its own component's rules (a token system|code, a quantity with its
      // prefix and units, a date with its prefix...).
      auto parts = SplitUnescaped(v, '$');
      if (parts.size() != c.component_types.size())
        return bad(v, "has " + std::to_string(parts.size()) + " part" +
                          (parts.size() == 1 ? "" : "s") + ", a composite of " +
                          std::to_string(c.component_types.size()) + " components separated by $");
      for (size_t i = 0; i < parts.size(); ++i) {
        if (UnescapeSearch(parts[i]).empty()) return bad(v, "has an empty component");
        Criterion part;
        part.name = c.name;
        part.param_type = c.component_types[i];
        part.values = {parts[i]};
        CARNET_RETURN_IF_ERROR(CheckValues(part));
      }
      continue;
    }
    if (c.param_type == "date") {
      auto [prefix, rest] = SplitPrefix(v);
      if (!model::ParseDateRange(rest))
        return bad(v,
                   "is not a date (YYYY[-MM[-DD[Thh:mm[:ss]]]] with an optional prefix eq ne lt gt "
                   "le ge sa eb ap)");
    } else if (c.param_type == "number") {
      auto [prefix, rest] = SplitPrefix(v);
      if (!IsDecimal(rest)) return bad(v, "is not a number");
    } else if (c.param_type == "quantity") {
      auto [prefix, rest] = SplitPrefix(v);
      auto parts = SplitUnescaped(rest, '|');
      if (parts.empty() || !IsDecimal(parts[0]) || parts.size() > 3)
        return bad(v, "is not a quantity (number[|system|code])");
    } else if (c.param_type == "token" && c.modifier == "of-type") {
      if (SplitUnescaped(v, '|').size() != 3) return bad(v, "is not type-system|type-code|value");
    } else if (c.param_type == "_lastUpdated") {
      auto [prefix, rest] = SplitPrefix(v);
      if (!model::ParseDateRange(rest)) return bad(v, "is not a date");
    }
  }
  return Status::Ok();
}

// The request-wide limits (SearchLimits), and the characters no parameter may hold, checked
// before anything is built: a search over the limits is refused whole, whatever its
// parameters are (known or not, strict or lenient handling).
Status CheckLimits(const std::vector<std::pair<std::string, std::string>>& query,
                   const SearchLimits& limits) {
  int count = 0, includes = 0;
  for (const auto& [name, value] : query) {
    if (name == "_format" || name == "_pretty") continue;
    ++count;
    if (name.rfind("_include", 0) == 0 || name.rfind("_revinclude", 0) == 0) ++includes;
    if (FindControlCharacter(name) != std::string::npos ||
        FindControlCharacter(value) != std::string::npos)
      return BadRequest("parameter " + JsonEscape(name) +
                            ": search parameters may not hold control characters (U+0000 to "
                            "U+001F but tab, CR and LF)",
                        JsonEscape(name));
    // Result parameters take lists too (_sort, _elements), bounded all the same.
    size_t values = SplitUnescaped(value, ',').size();
    if (values > static_cast<size_t>(limits.max_or_values))
      return BadRequest("parameter " + name + ": " + std::to_string(values) +
                            " values, more than the " + std::to_string(limits.max_or_values) +
                            " one parameter may take (search_max_or_values)",
                        name);
  }
  if (count > limits.max_params)
    return BadRequest("the search has " + std::to_string(count) + " parameters, more than the " +
                      std::to_string(limits.max_params) +
                      " one request may take (search_max_params)");
  if (includes > limits.max_includes)
    return BadRequest("the search has " + std::to_string(includes) +
                      " _include and _revinclude parameters, more than the " +
                      std::to_string(limits.max_includes) + " allowed (search_max_includes)");
  return Status::Ok();
}

struct Context {
  const model::SearchParamSet& params;
  const ParseOptions& options;
  ParsedSearch& out;

  // Strict: the error; lenient: noted, and the parameter is left out.
  Status Unknown(const std::string& name, const std::string& why) {
    if (options.strict) return BadRequest("parameter " + name + ": " + why, name);
    out.ignored.push_back(name + ": " + why);
    return Status::Ok();
  }
};

// Builds the criterion `name=value` for resources of `types`; `*ok` false when the
// parameter is not known (reported by the caller).
// The refusal of a chain or _has nested deeper than the limit allows.
// (ParseSearch names the parameter as the request wrote it.)
Status ChainTooDeep(int max_depth) {
  return BadRequest("chains and _has are limited to " + std::to_string(max_depth) + " link" +
                    (max_depth == 1 ? "" : "s") + " (search_max_chain_depth)");
}

Result<Criterion> MakeCriterion(const model::SearchParamSet& params,
                                const std::vector<std::string>& types, const std::string& name,
                                const std::string& value, std::string* why, int depth,
                                int max_depth) {
  Criterion c;
  c.name = name;
  c.types = types;
  c.values = SplitUnescaped(value, ',');
  if (name.rfind("_has:", 0) == 0) {
    if (depth >= max_depth) return ChainTooDeep(max_depth);
    // _has:Type:param:rest
    std::vector<std::string> parts;
    size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      size_t colon = name.find(':', start);
      if (colon == std::string::npos) break;
      parts.push_back(name.substr(start, colon - start));
      start = colon + 1;
    }
    if (parts.size() != 3 || start >= name.size()) {
      *why = "_has takes _has:Type:reference-parameter:parameter";
      return c;
    }
    c.code = "_has";
    c.param_type = "_has";
    c.has_type = parts[1];
    c.has_param = parts[2];
    const model::SearchParamDef* ref = params.Find(c.has_type, c.has_param);
    if (!ref || ref->type != "reference") {
      *why = c.has_type + " has no reference parameter " + c.has_param;
      return c;
    }
    auto inner =
        MakeCriterion(params, {c.has_type}, name.substr(start), value, why, depth + 1, max_depth);
    if (!inner.ok()) return inner.status();
    if (!why->empty()) return c;
    c.chained = std::make_shared<Criterion>(std::move(inner).value());
    return c;
  }
  std::string head = name, rest;
  size_t dot = name.find('.');
  // A parameter whose code holds a dot (IHE MHD's author.given) is itself, not a chain.
  std::string whole = name.substr(0, name.find(':'));
  if (dot != std::string::npos &&
      !(whole.find('.') != std::string::npos && !CommonParamType(params, types, whole).empty())) {
    head = name.substr(0, dot);
    rest = name.substr(dot + 1);
  }
  size_t colon = head.find(':');
  c.code = head.substr(0, colon);
  if (colon != std::string::npos) c.modifier = head.substr(colon + 1);
  if (c.code == "_id") {
    c.param_type = "_id";
    if (!c.modifier.empty() && c.modifier != "not" && c.modifier != "missing") {
      *why = "modifier :" + c.modifier + " is not supported on _id";
    }
    if (!rest.empty()) *why = "_id cannot be chained";
    return c;
  }
  if (c.code == "_lastUpdated") {
    c.param_type = "_lastUpdated";
    // Every version has a lastUpdated: :missing=true matches nothing, :missing=false everything.
    if (!c.modifier.empty() && c.modifier != "missing")
      *why = "modifier :" + c.modifier + " is not supported on _lastUpdated";
    if (!rest.empty()) *why = "_lastUpdated cannot be chained";
    return c;
  }
  c.param_type = CommonParamType(params, types, c.code);
  if (c.param_type.empty()) {
    *why = "unknown search parameter for " +
           (types.size() == 1 ? types[0] : std::string("these types"));
    return c;
  }
  if (!ModifierAllowed(c.param_type, c.modifier)) {
    *why = "modifier :" + c.modifier + " is not supported on " + c.param_type + " parameters";
    return c;
  }
  if (c.param_type == "composite" || c.param_type == "special") {
    // The components' types, the same for every type searched (a system search over several).
    for (size_t i = 0; i < types.size(); ++i) {
      std::vector<std::string> component_types;
      for (const auto& component : params.Find(types[i], c.code)->components)
        component_types.push_back(component.type);
      if (i == 0) {
        c.component_types = std::move(component_types);
      } else if (component_types != c.component_types) {
        *why = "the composite " + c.code + " differs between the types searched";
        return c;
      }
    }
    if (c.param_type == "special" && c.code != "near") {
      *why = "special parameter " + c.code + " is not supported";
      return c;
    }
  }
  if (!rest.empty()) {
    if (c.param_type != "reference") {
      *why = "only reference parameters chain";
      return c;
    }
    if (depth >= max_depth) return ChainTooDeep(max_depth);
    if (!c.modifier.empty() && c.modifier != "identifier" && c.modifier != "missing") {
      c.chain_types = {c.modifier};
    } else if (!c.modifier.empty()) {
      *why = "a chain cannot use :" + c.modifier;
      return c;
    } else {
      // Every target type of the parameter that has the chained parameter.
      std::string chained_code = rest.substr(0, rest.find(':'));
      for (const auto& t : types) {
        const model::SearchParamDef* def = params.Find(t, c.code);
        std::vector<std::string> targets = def->targets;
        if (targets.empty()) targets = model::StructureRegistry::R4().ResourceTypes();
        for (const auto& target : targets)
          if ((chained_code == "_id" || chained_code == "_lastUpdated" ||
               params.Find(target, chained_code)) &&
              std::find(c.chain_types.begin(), c.chain_types.end(), target) == c.chain_types.end())
            c.chain_types.push_back(target);
      }
      if (c.chain_types.empty()) {
        *why = "no target of " + c.code + " has a parameter " + chained_code;
        return c;
      }
    }
    c.modifier.clear();
    auto inner = MakeCriterion(params, c.chain_types, rest, value, why, depth + 1, max_depth);
    if (!inner.ok()) return inner.status();
    if (!why->empty()) return c;
    c.chained = std::make_shared<Criterion>(std::move(inner).value());
    return c;
  }
  return c;
}

}  // namespace

std::vector<std::string> SplitUnescaped(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      cur.push_back(s[i]);
      cur.push_back(s[++i]);
    } else if (s[i] == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(s[i]);
    }
  }
  out.push_back(cur);
  return out;
}

std::string UnescapeSearch(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

std::optional<NearValue> ParseNear(const std::string& value) {
  auto parts = SplitUnescaped(value, '|');
  if (parts.size() < 2 || parts.size() > 4) return std::nullopt;
  for (const auto& p : parts)
    if (p.find('\\') != std::string::npos) return std::nullopt;
  if (!IsDecimal(parts[0]) || !IsDecimal(parts[1])) return std::nullopt;
  NearValue near;
  near.latitude = std::strtod(parts[0].c_str(), nullptr);
  near.longitude = std::strtod(parts[1].c_str(), nullptr);
  if (near.latitude < -90 || near.latitude > 90 || near.longitude < -180 || near.longitude > 180)
    return std::nullopt;
  // R4 leaves a missing distance to the server: 10 km.
  double distance = 10;
  if (parts.size() >= 3 && !parts[2].empty()) {
    if (!IsDecimal(parts[2])) return std::nullopt;
    distance = std::strtod(parts[2].c_str(), nullptr);
    if (distance < 0 || distance > 1e6) return std::nullopt;
  }
  std::string units = parts.size() == 4 ? parts[3] : "km";
  static const std::pair<const char*, double> kUnits[] = {
      {"km", 1}, {"m", 0.001}, {"[mi_i]", 1.609344}, {"[nmi_i]", 1.852}};
  double factor = 0;
  for (const auto& [code, km] : kUnits)
    if (units == code) factor = km;
  if (factor == 0) return std::nullopt;
  near.distance_km = distance * factor;
  return near;
}

std::pair<std::string, std::string> SplitPrefix(const std::string& value) {
  static const char* const kPrefixes[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"};
  if (value.size() > 2)
    for (const char* p : kPrefixes)
      if (value.compare(0, 2, p) == 0) return {p, value.substr(2)};
  return {"eq", value};
}

Result<ParsedSearch> ParseSearch(const model::SearchParamSet& params,
                                 const std::vector<std::pair<std::string, std::string>>& query,
                                 const ParseOptions& options) {
  ParsedSearch out;
  out.types = options.types;
  out.count = options.default_count;
  Context ctx{params, options, out};
  const auto& registry = model::StructureRegistry::R4();
  CARNET_RETURN_IF_ERROR(CheckLimits(query, options.limits));
  for (const auto& [name, value] : query) {
    if (name == "_format" || name == "_pretty") continue;
    bool result_param = !name.empty() && name[0] == '_' && name.rfind("_has:", 0) != 0 &&
                        name != "_id" && name != "_lastUpdated" && name.rfind("_id:", 0) != 0 &&
                        name.rfind("_lastUpdated:", 0) != 0 &&
                        params.Find(out.types.empty() ? "" : out.types[0], name) == nullptr;
    if (result_param && name != "_type" && !options.allow_result_params) {
      CARNET_RETURN_IF_ERROR(ctx.Unknown(name, "not allowed in a conditional operation"));
      continue;
    }
    if (name == "_type") {
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_count") {
      if (value.empty() || value.size() > 7 ||
          value.find_first_not_of("0123456789") != std::string::npos)
        return BadRequest("parameter _count: '" + value + "' is not a whole number", "_count");
      out.count = std::min(std::stoi(value), options.max_count);
      continue;
    }
    if (name == "_cursor") {
      out.cursor = value;
      continue;
    }
    if (name == "_total") {
      if (value != "none" && value != "estimate" && value != "accurate")
        return BadRequest("parameter _total: '" + value + "' is not none, estimate or accurate",
                          "_total");
      out.total = value;
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_summary") {
      if (value != "true" && value != "text" && value != "data" && value != "count" &&
          value != "false")
        return BadRequest(
            "parameter _summary: '" + value + "' is not true, text, data, count or false",
            "_summary");
      out.summary = value;
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_elements") {
      for (const auto& e : SplitUnescaped(value, ','))
        if (!e.empty()) out.elements.push_back(e);
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_sort") {
      std::vector<SortKey> keys;
      std::string why;
      for (std::string k : SplitUnescaped(value, ',')) {
        SortKey key;
        if (!k.empty() && k[0] == '-') {
          key.descending = true;
          k = k.substr(1);
        }
        key.code = k;
        if (k == "_id" || k == "_lastUpdated") {
          key.param_type = k;
        } else {
          key.param_type = CommonParamType(params, out.types, k);
          if (key.param_type.empty()) why = "cannot sort on unknown parameter '" + k + "'";
          if (key.param_type == "composite" || key.param_type == "special")
            why = "cannot sort on " + key.param_type + " parameter '" + k + "'";
        }
        keys.push_back(key);
      }
      if (!why.empty()) {
        CARNET_RETURN_IF_ERROR(ctx.Unknown(name, why));
        continue;
      }
      out.sort = std::move(keys);
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_include" || name == "_revinclude" || name == "_include:iterate" ||
        name == "_revinclude:iterate" || name == "_include:recurse" ||
        name == "_revinclude:recurse") {
      IncludeSpec inc;
      inc.reverse = name.rfind("_revinclude", 0) == 0;
      inc.iterate = name.find(':') != std::string::npos;
      std::vector<std::string> parts = SplitUnescaped(value, ':');
      std::string why;
      if (value == "*") {
        inc.source_type = "*";
        inc.param = "*";
      } else if (parts.size() < 2 || parts.size() > 3 || !registry.IsResourceType(parts[0])) {
        why = "'" + value + "' is not Type:parameter[:targetType]";
      } else {
        inc.source_type = parts[0];
        inc.param = parts[1];
        if (parts.size() == 3) inc.target_type = parts[2];
        const model::SearchParamDef* def = params.Find(inc.source_type, inc.param);
        if (inc.param != "*" && (!def || def->type != "reference"))
          why = inc.source_type + " has no reference parameter " + inc.param;
        if (!inc.target_type.empty() && !registry.IsResourceType(inc.target_type))
          why = "'" + inc.target_type + "' is not a resource type";
      }
      if (!why.empty()) {
        CARNET_RETURN_IF_ERROR(ctx.Unknown(name, why));
        continue;
      }
      out.includes.push_back(inc);
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_text" || name == "_content") {
      // Full-text search (idx_text): each value is a web-search query (words all present,
      // "a phrase", or, -excluded); values separated by commas are alternatives, as for any
      // parameter, and repeated parameters must all match.
      Criterion c;
      c.name = name;
      c.code = name;
      c.param_type = "text";
      c.types = out.types;
      for (std::string& v : SplitUnescaped(value, ','))
        if (!UnescapeSearch(v).empty()) c.values.push_back(std::move(v));
      if (c.values.empty()) {
        CARNET_RETURN_IF_ERROR(ctx.Unknown(name, "empty value"));
        continue;
      }
      out.criteria.push_back(std::move(c));
      out.link_params.emplace_back(name, value);
      continue;
    }
    if (name == "_contained" || name == "_containedType" || name == "_list" || name == "_query" ||
        name == "_filter") {
      CARNET_RETURN_IF_ERROR(ctx.Unknown(name, "not supported by this server"));
      continue;
    }
    if (value.empty()) {
      CARNET_RETURN_IF_ERROR(ctx.Unknown(name, "empty value"));
      continue;
    }
    std::string why;
    auto c = MakeCriterion(params, out.types, name, value, &why, 0, options.limits.max_chain_depth);
    if (!c.ok()) return BadRequest("parameter " + name + ": " + c.status().message(), name);
    if (!why.empty()) {
      CARNET_RETURN_IF_ERROR(ctx.Unknown(name, why));
      continue;
    }
    // The innermost criterion carries the values to check.
    const Criterion* leaf = &*c;
    while (leaf->chained) leaf = leaf->chained.get();
    Status st = CheckValues(*leaf);
    if (!st.ok()) {
      // A position that cannot be read is refused whatever the handling: ignored, near would
      // return every Location as near.
      if (options.strict || leaf->param_type == "special")
        return Status(st.code(), st.message(), name);
      out.ignored.push_back(st.message());
      continue;
    }
    out.criteria.push_back(std::move(c).value());
    out.link_params.emplace_back(name, value);
  }
  return out;
}

}  // namespace carnet::fhir
