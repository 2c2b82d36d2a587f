#include "fhir/search_plan.h"

#include <cstdio>

#include "dossier/search_index.h"
#include "model/search_dates.h"
#include "model/search_text.h"

namespace carnet::fhir {
namespace {

using storage::ColumnTest;
using storage::IndexTable;
using storage::ResourceCondition;
using storage::RowMatch;
using Op = storage::ColumnTest::Op;

// The index table of a parameter type; nullopt for the types not indexed.
std::optional<IndexTable> TableOf(const std::string& param_type) {
  if (param_type == "string") return IndexTable::kString;
  if (param_type == "token") return IndexTable::kToken;
  if (param_type == "reference") return IndexTable::kReference;
  if (param_type == "date") return IndexTable::kDate;
  if (param_type == "number" || param_type == "quantity") return IndexTable::kQuantity;
  if (param_type == "uri") return IndexTable::kUri;
  if (param_type == "text") return IndexTable::kText;  // _text, _content
  return std::nullopt;
}

// A comparison of one column with one value (none for kIsNull).
ColumnTest On(Op op, std::string column, std::string value = {}) {
  ColumnTest t;
  t.op = op;
  t.column = std::move(column);
  t.value = std::move(value);
  return t;
}

ColumnTest Eq(std::string column, std::string value) {
  return On(Op::kEquals, std::move(column), std::move(value));
}

ColumnTest AnyOf(std::string column, std::vector<std::string> values) {
  ColumnTest t = On(Op::kAnyOf, std::move(column));
  t.values = std::move(values);
  return t;
}

// (first, second) one of the pairs (firsts[i], seconds[i]).
ColumnTest PairIn(std::string first, std::string second, std::vector<std::string> firsts,
                  std::vector<std::string> seconds) {
  ColumnTest t;
  t.op = Op::kPairIn;
  t.column = std::move(first);
  t.column2 = std::move(second);
  t.values = std::move(firsts);
  t.values2 = std::move(seconds);
  return t;
}

// A date value (prefix and partial date) against the stored range [lo, hi]; nullopt for a
// value that is not a date (refused by the parser before).
std::optional<ColumnTest> DateTest(const std::string& value, std::string lo, std::string hi) {
  auto [prefix, rest] = SplitPrefix(value);
  auto range = model::ParseDateRange(rest);
  if (!range) return std::nullopt;
  ColumnTest t;
  t.op = Op::kDateRange;
  t.prefix = prefix;
  t.column = std::move(lo);
  t.column2 = std::move(hi);
  t.value = range->low;
  t.value2 = range->high;
  return t;
}

std::vector<RowMatch> DateMatches(const Criterion& c, const std::string& lo,
                                  const std::string& hi) {
  std::vector<RowMatch> any;
  for (const auto& v : c.values)
    if (auto t = DateTest(v, lo, hi)) any.push_back({*t});
  return any;
}

std::vector<RowMatch> TokenMatches(const Criterion& c) {
  std::vector<RowMatch> any;
  std::vector<std::string> codes, no_system_codes, systems, pair_systems, pair_codes;
  for (const auto& v : c.values) {
    if (c.modifier == "text") {
      any.push_back(
          {On(Op::kStartsWith, "text_norm", model::NormalizeSearchText(UnescapeSearch(v)))});
      continue;
    }
    auto pieces = SplitUnescaped(v, '|');
    if (c.modifier == "of-type") {
      any.push_back({Eq("type_system", UnescapeSearch(pieces[0])),
                     Eq("type_code", UnescapeSearch(pieces[1])),
                     Eq("code", UnescapeSearch(pieces[2]))});
      continue;
    }
    if (pieces.size() == 1) {
      codes.push_back(UnescapeSearch(pieces[0]));
    } else {
      std::string system = UnescapeSearch(pieces[0]);
      std::string code = UnescapeSearch(pieces[1]);
      if (system.empty())
        no_system_codes.push_back(code);
      else if (code.empty())
        systems.push_back(system);
      else {
        pair_systems.push_back(system);
        pair_codes.push_back(code);
      }
    }
  }
  // Whole OR-lists travel as arrays: one = ANY() whatever their length.
  if (!codes.empty()) any.push_back({AnyOf("code", codes)});
  if (!no_system_codes.empty())
    any.push_back({On(Op::kIsNull, "system"), AnyOf("code", no_system_codes)});
  if (!systems.empty()) any.push_back({AnyOf("system", systems)});
  if (pair_codes.size() == 1) {
    // One system|code, written plainly so that the planner can use the column statistics
    // (the array form below hides them and the planner then starts from the token).
    any.push_back({Eq("system", pair_systems[0]), Eq("code", pair_codes[0])});
  } else if (!pair_codes.empty()) {
    any.push_back({PairIn("system", "code", pair_systems, pair_codes)});
  }
  return any;
}

std::vector<RowMatch> ReferenceMatches(const Criterion& c, const std::string& base_url) {
  std::vector<RowMatch> any;
  std::vector<std::string> ids, type_ids_t, type_ids_i, urls;
  for (const auto& v : c.values) {
    std::string u = UnescapeSearch(v);
    if (c.modifier == "identifier") {
      auto pieces = SplitUnescaped(v, '|');
      if (pieces.size() == 1) {
        any.push_back({Eq("identifier_value", UnescapeSearch(pieces[0]))});
      } else {
        RowMatch m{Eq("identifier_value", UnescapeSearch(pieces[1]))};
        if (!pieces[0].empty()) m.push_back(Eq("identifier_system", UnescapeSearch(pieces[0])));
        any.push_back(std::move(m));
      }
      continue;
    }
    if (!base_url.empty() && u.rfind(base_url + "/", 0) == 0) u = u.substr(base_url.size() + 1);
    dossier::ParsedReference p = dossier::ParseReference(u);
    if (!p.url.empty() && p.type.empty()) {
      if (u.find('/') == std::string::npos) {
        ids.push_back(u);  // a bare id
      } else {
        urls.push_back(p.url);
      }
    } else if (!p.type.empty()) {
      type_ids_t.push_back(p.type);
      type_ids_i.push_back(p.id);
    } else if (!u.empty()) {
      ids.push_back(u);
    }
  }
  bool typed = !c.modifier.empty() && c.modifier != "identifier";
  if (!ids.empty()) {
    RowMatch m{AnyOf("target_id", ids)};
    if (typed) m.push_back(Eq("target_type", c.modifier));
    any.push_back(std::move(m));
  }
  if (!type_ids_i.empty()) {
    RowMatch m{PairIn("target_type", "target_id", type_ids_t, type_ids_i)};
    if (typed) m.push_back(Eq("target_type", c.modifier));
    any.push_back(std::move(m));
  }
  if (!urls.empty()) any.push_back({AnyOf("target_url", urls)});
  return any;
}

std::vector<RowMatch> ValueMatches(const Criterion& c, const std::string& base_url) {
  std::vector<RowMatch> any;
  if (c.param_type == "string") {
    for (const auto& v : c.values) {
      std::string u = UnescapeSearch(v);
      if (c.modifier == "exact") {
        any.push_back({Eq("value_exact", u)});
      } else if (c.modifier == "contains") {
        any.push_back({On(Op::kContains, "value_norm", model::NormalizeSearchText(u))});
      } else {
        any.push_back({On(Op::kStartsWith, "value_norm", model::NormalizeSearchText(u))});
      }
    }
    return any;
  }
  if (c.param_type == "text") {
    // As written for the French configuration, folded for the English one (migration 0006).
    for (const auto& v : c.values) {
      std::string u = UnescapeSearch(v);
      ColumnTest t = On(Op::kTextMatch, "tsv", u);
      t.value2 = model::NormalizeSearchText(u);
      any.push_back({t});
    }
    return any;
  }
  if (c.param_type == "token") return TokenMatches(c);
  if (c.param_type == "reference") return ReferenceMatches(c, base_url);
  if (c.param_type == "date") return DateMatches(c, "low", "high");
  if (c.param_type == "number" || c.param_type == "quantity") {
    for (const auto& v : c.values) {
      auto [prefix, rest] = SplitPrefix(v);
      auto pieces = SplitUnescaped(rest, '|');
      ColumnTest number;
      number.op = Op::kNumber;
      number.prefix = prefix;
      number.column = "value";
      number.value = pieces[0];
      RowMatch m{number};
      if (pieces.size() >= 2 && !pieces[1].empty())
        m.push_back(Eq("system", UnescapeSearch(pieces[1])));
      if (pieces.size() >= 3 && !pieces[2].empty())
        m.push_back(Eq("code", UnescapeSearch(pieces[2])));
      any.push_back(std::move(m));
    }
    return any;
  }
  if (c.param_type == "uri") {
    std::vector<std::string> exact;
    for (const auto& v : c.values) {
      std::string u = UnescapeSearch(v);
      if (c.modifier == "below") {
        any.push_back({On(Op::kStartsWith, "uri", u)});
      } else if (c.modifier == "above") {
        // Every prefix of the value ending at a '/' (and the value itself).
        std::vector<std::string> prefixes;
        for (size_t k = 0; k < u.size(); ++k)
          if (u[k] == '/' && k > 0 && u[k - 1] != '/' && u[k - 1] != ':')
            prefixes.push_back(u.substr(0, k));
        prefixes.push_back(u);
        any.push_back({AnyOf("uri", prefixes)});
      } else {
        exact.push_back(u);
      }
    }
    if (!exact.empty()) any.push_back({AnyOf("uri", exact)});
    return any;
  }
  return any;
}

ResourceCondition Constant(bool value) {
  ResourceCondition out;
  out.kind = value ? ResourceCondition::Kind::kTrue : ResourceCondition::Kind::kFalse;
  return out;
}

// A composite: each `$`-separated part of a value is planned as a value of its component's
// own type, on that component's rows ("<code>$<position>", dossier/search_index.h), and the
// rows must share their group (one repeating element). near: the latitude and longitude rows
// of one position, within the distance.
ResourceCondition PlanGrouped(const Criterion& c, const std::string& base_url) {
  ResourceCondition out;
  bool near = c.param_type == "special";
  out.kind = near ? ResourceCondition::Kind::kNear : ResourceCondition::Kind::kComposite;
  for (size_t i = 0; i < c.component_types.size(); ++i) {
    auto table = TableOf(c.component_types[i]);
    if (!table) return Constant(false);
    out.components.push_back({*table, c.code + "$" + std::to_string(i)});
  }
  if (c.modifier == "missing") {
    out.presence_only = true;
    out.negate = c.values[0] == "true";
    return out;
  }
  for (const auto& v : c.values) {
    if (near) {
      auto text = [](double d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.12g", d);
        return std::string(buf);
      };
      if (auto point = ParseNear(v))
        out.near.push_back(
            {text(point->latitude), text(point->longitude), text(point->distance_km)});
      continue;
    }
    auto parts = SplitUnescaped(v, '$');
    if (parts.size() != c.component_types.size()) continue;  // refused by the parser
    std::vector<std::vector<RowMatch>> alternative;
    for (size_t i = 0; i < parts.size(); ++i) {
      Criterion part;
      part.code = c.code;
      part.param_type = c.component_types[i];
      part.values = {parts[i]};
      alternative.push_back(ValueMatches(part, base_url));
    }
    out.alternatives.push_back(std::move(alternative));
  }
  return out;
}

ResourceCondition PlanCriterion(const Criterion& c, const std::string& base_url) {
  ResourceCondition out;
  if (c.code == "_has" || c.chained) {
    // _has:Observation:patient:code=x: a resource of that type referring to this one through
    // that parameter and matching the inner criterion; subject:Patient.name=x: a reference
    // row whose target matches the chained criterion.
    bool has = c.code == "_has";
    out.kind = has ? ResourceCondition::Kind::kHas : ResourceCondition::Kind::kChain;
    out.param = has ? c.has_param : c.code;
    out.types = has ? std::vector<std::string>{c.has_type} : c.chain_types;
    out.inner = std::make_shared<ResourceCondition>(PlanCriterion(*c.chained, base_url));
    return out;
  }
  if (c.param_type == "_id") {
    if (c.modifier == "missing") return Constant(c.values[0] != "true");
    out.kind = ResourceCondition::Kind::kIdIn;
    for (const auto& v : c.values) out.values.push_back(UnescapeSearch(v));
    out.negate = c.modifier == "not";
    return out;
  }
  if (c.param_type == "_lastUpdated") {
    // Every version has a lastUpdated: :missing=true matches nothing, :missing=false all.
    if (c.modifier == "missing") return Constant(c.values[0] != "true");
    out.kind = ResourceCondition::Kind::kLastUpdated;
    out.any = DateMatches(c, "last_updated", "last_updated");
    return out;
  }
  if (c.param_type == "composite" || c.param_type == "special") return PlanGrouped(c, base_url);
  auto table = TableOf(c.param_type);
  if (!table) return Constant(false);
  out.kind = ResourceCondition::Kind::kIndex;
  out.table = *table;
  out.param = c.code;
  if (c.modifier == "missing") {
    // true: no index row for the parameter; false: at least one.
    out.presence_only = true;
    out.negate = c.values[0] == "true";
    return out;
  }
  if (c.param_type == "token" && c.modifier == "not") {
    // No row with one of the values (a resource without the parameter matches).
    Criterion plain = c;
    plain.modifier.clear();
    out.negate = true;
    out.any = ValueMatches(plain, base_url);
    return out;
  }
  out.any = ValueMatches(c, base_url);
  return out;
}

}  // namespace

std::vector<ResourceCondition> PlanCriteria(const std::vector<Criterion>& criteria,
                                            const std::string& base_url) {
  std::vector<ResourceCondition> out;
  for (const Criterion& c : criteria) out.push_back(PlanCriterion(c, base_url));
  return out;
}

storage::IndexQuery PlanSearch(const PlanInput& in) {
  const ParsedSearch& s = *in.search;
  storage::IndexQuery q;
  q.types = s.types;
  q.compartment_patient = in.compartment_patient;
  q.conditions = PlanCriteria(s.criteria, in.base_url);
  q.access = in.scope;
  for (const SortKey& k : s.sort) {
    storage::IndexSortKey key;
    key.descending = k.descending;
    key.param = k.code;
    if (k.param_type == "_id") {
      key.kind = storage::IndexSortKey::Kind::kId;
    } else if (k.param_type == "_lastUpdated") {
      key.kind = storage::IndexSortKey::Kind::kLastUpdated;
    } else {
      key.kind = storage::IndexSortKey::Kind::kIndex;
      key.table = TableOf(k.param_type).value_or(IndexTable::kUri);
    }
    q.sort.push_back(std::move(key));
  }
  q.position = in.position;
  q.with_total = in.with_total;
  q.with_rows = in.with_rows;
  q.limit = in.limit;
  return q;
}

storage::IncludeQuery PlanIncludes(const std::vector<IncludeSpec>& includes,
                                   const std::vector<std::pair<std::string, std::string>>& from,
                                   const storage::AccessFilter& scope) {
  storage::IncludeQuery q;
  for (const IncludeSpec& inc : includes)
    q.branches.push_back({inc.reverse, inc.source_type, inc.param, inc.target_type});
  q.from = from;
  q.access = &scope;
  return q;
}

}  // namespace carnet::fhir
