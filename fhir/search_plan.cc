#include "fhir/search_plan.h"

#include "model/search_dates.h"
#include "dossier/search_index.h"
#include "model/search_text.h"

namespace carnet::fhir {
namespace {

const char* TableOf(const std::string& param_type) {
  if (param_type == "string") return "idx_string";
  if (param_type == "token") return "idx_token";
  if (param_type == "reference") return "idx_reference";
  if (param_type == "date") return "idx_date";
  if (param_type == "number" || param_type == "quantity") return "idx_quantity";
  if (param_type == "uri") return "idx_uri";
  return nullptr;
}

std::string OrJoin(const std::vector<std::string>& parts) {
  if (parts.empty()) return "FALSE";
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " OR " : "") + parts[i];
  return out + ")";
}

// Date comparison of a stored range [lo, hi] with the search range of `value`.
std::string DatePredicate(const std::string& value, const std::string& lo, const std::string& hi,
                          storage::SqlBuilder& b) {
  auto [prefix, rest] = SplitPrefix(value);
  auto range = model::ParseDateRange(rest);
  if (!range) return "FALSE";  // checked by the parser
  // Only the bounds the prefix uses become parameters (an unused one has no type).
  bool need_low = prefix != "gt" && prefix != "le" && prefix != "sa";
  bool need_high = prefix != "lt" && prefix != "ge" && prefix != "eb";
  std::string sl = need_low ? b.Param(range->low) + "::timestamptz" : "";
  std::string sh = need_high ? b.Param(range->high) + "::timestamptz" : "";
  if (prefix == "eq") return "(" + lo + " >= " + sl + " AND " + hi + " <= " + sh + ")";
  if (prefix == "ne") return "NOT (" + lo + " >= " + sl + " AND " + hi + " <= " + sh + ")";
  if (prefix == "gt") return hi + " > " + sh;
  if (prefix == "lt") return lo + " < " + sl;
  if (prefix == "ge") return hi + " >= " + sl;
  if (prefix == "le") return lo + " <= " + sh;
  if (prefix == "sa") return lo + " > " + sh;
  if (prefix == "eb") return hi + " < " + sl;
  // ap: the search range widened by 10% of its distance from now (at least a day).
  std::string gap =
      "(greatest(abs(extract(epoch FROM now() - " + sl + ")) * 0.1, 86400) * interval '1 second')";
  return "(" + lo + " <= " + sh + " + " + gap + " AND " + hi + " >= " + sl + " - " + gap + ")";
}

// Number comparison of a stored value with the search value (and its implicit precision).
std::string NumberPredicate(const std::string& prefix, const std::string& number,
                            const std::string& col, storage::SqlBuilder& b) {
  std::string v = b.Param(number) + "::numeric";
  std::string half = "0.5 * power(10::numeric, -scale(" + v + "))";
  if (prefix == "eq")
    return "(" + col + " >= " + v + " - " + half + " AND " + col + " < " + v + " + " + half + ")";
  if (prefix == "ne")
    return "NOT (" + col + " >= " + v + " - " + half + " AND " + col + " < " + v + " + " + half +
           ")";
  if (prefix == "gt" || prefix == "sa") return col + " > " + v;
  if (prefix == "lt" || prefix == "eb") return col + " < " + v;
  if (prefix == "ge") return col + " >= " + v;
  if (prefix == "le") return col + " <= " + v;
  return "(" + col + " >= " + v + " - abs(" + v + ") * 0.1 AND " + col + " <= " + v + " + abs(" +
         v + ") * 0.1)";
}

class Planner {
 public:
  Planner(const storage::AccessFilter& scope, const std::string& base_url, storage::SqlBuilder& b)
      : scope_(scope), base_url_(base_url), b_(b) {}

  std::string All(const std::vector<Criterion>& criteria, const std::string& alias) {
    std::string out;
    for (const Criterion& c : criteria) out += " AND " + One(c, alias);
    return out;
  }

  std::string One(const Criterion& c, const std::string& r) {
    if (c.code == "_has") return Has(c, r);
    if (c.chained) return Chain(c, r);
    if (c.param_type == "_id") {
      if (c.modifier == "missing") return c.values[0] == "true" ? "FALSE" : "TRUE";
      std::vector<std::string> ids;
      for (const auto& v : c.values) ids.push_back(UnescapeSearch(v));
      std::string p = r + ".res_id = ANY(" + b_.TextArray(ids) + ")";
      return c.modifier == "not" ? "NOT " + p : p;
    }
    if (c.param_type == "_lastUpdated") {
      if (c.modifier == "missing") return c.values[0] == "true" ? "FALSE" : "TRUE";
      std::vector<std::string> parts;
      for (const auto& v : c.values)
        parts.push_back(DatePredicate(v, r + ".last_updated", r + ".last_updated", b_));
      return OrJoin(parts);
    }
    const char* table = TableOf(c.param_type);
    if (!table) return "FALSE";
    std::string i = NewAlias("i");
    std::string head = "EXISTS (SELECT 1 FROM " + std::string(table) + " " + i + " WHERE " + i +
                       ".res_type = " + r + ".res_type AND " + i + ".res_id = " + r +
                       ".res_id AND " + i + ".param = " + b_.Param(c.code);
    if (c.modifier == "missing") {
      // true: no index row for the parameter; false: at least one.
      return std::string(c.values[0] == "true" ? "NOT " : "") + head + ")";
    }
    if (c.param_type == "token" && c.modifier == "not") {
      Criterion plain = c;
      plain.modifier.clear();
      return "NOT " + head + " AND " + Values(plain, i) + ")";
    }
    return head + " AND " + Values(c, i) + ")";
  }

 private:
  std::string NewAlias(const char* prefix) { return prefix + std::to_string(++alias_); }

  std::string Values(const Criterion& c, const std::string& i) {
    std::vector<std::string> parts;
    if (c.param_type == "string") {
      for (const auto& v : c.values) {
        std::string u = UnescapeSearch(v);
        if (c.modifier == "exact") {
          parts.push_back(i + ".value_exact = " + b_.Param(u));
        } else if (c.modifier == "contains") {
          parts.push_back(i + ".value_norm LIKE " +
                          b_.Param("%" + model::EscapeLike(model::NormalizeSearchText(u)) + "%"));
        } else {
          parts.push_back(i + ".value_norm LIKE " +
                          b_.Param(model::EscapeLike(model::NormalizeSearchText(u)) + "%"));
        }
      }
      return OrJoin(parts);
    }
    if (c.param_type == "token") return TokenValues(c, i);
    if (c.param_type == "reference") return ReferenceValues(c, i);
    if (c.param_type == "date") {
      for (const auto& v : c.values) parts.push_back(DatePredicate(v, i + ".low", i + ".high", b_));
      return OrJoin(parts);
    }
    if (c.param_type == "number" || c.param_type == "quantity") {
      for (const auto& v : c.values) {
        auto [prefix, rest] = SplitPrefix(v);
        auto pieces = SplitUnescaped(rest, '|');
        std::string p = NumberPredicate(prefix, pieces[0], i + ".value", b_);
        if (pieces.size() >= 2 && !pieces[1].empty())
          p += " AND " + i + ".system = " + b_.Param(UnescapeSearch(pieces[1]));
        if (pieces.size() >= 3 && !pieces[2].empty())
          p += " AND " + i + ".code = " + b_.Param(UnescapeSearch(pieces[2]));
        parts.push_back("(" + p + ")");
      }
      return OrJoin(parts);
    }
    if (c.param_type == "uri") {
      std::vector<std::string> exact;
      for (const auto& v : c.values) {
        std::string u = UnescapeSearch(v);
        if (c.modifier == "below") {
          parts.push_back(i + ".uri LIKE " + b_.Param(model::EscapeLike(u) + "%"));
        } else if (c.modifier == "above") {
          // Every prefix of the value ending at a '/' (and the value itself).
          std::vector<std::string> prefixes;
          for (size_t k = 0; k < u.size(); ++k)
            if (u[k] == '/' && k > 0 && u[k - 1] != '/' && u[k - 1] != ':')
              prefixes.push_back(u.substr(0, k));
          prefixes.push_back(u);
          parts.push_back(i + ".uri = ANY(" + b_.TextArray(prefixes) + ")");
        } else {
          exact.push_back(u);
        }
      }
      if (!exact.empty()) parts.push_back(i + ".uri = ANY(" + b_.TextArray(exact) + ")");
      return OrJoin(parts);
    }
    return "FALSE";
  }

  std::string TokenValues(const Criterion& c, const std::string& i) {
    std::vector<std::string> parts;
    std::vector<std::string> codes, no_system_codes, systems, pair_systems, pair_codes;
    for (const auto& v : c.values) {
      if (c.modifier == "text") {
        parts.push_back(i + ".text_norm LIKE " +
                        b_.Param(model::EscapeLike(model::NormalizeSearchText(UnescapeSearch(v))) + "%"));
        continue;
      }
      auto pieces = SplitUnescaped(v, '|');
      if (c.modifier == "of-type") {
        parts.push_back("(" + i + ".type_system = " + b_.Param(UnescapeSearch(pieces[0])) +
                        " AND " + i + ".type_code = " + b_.Param(UnescapeSearch(pieces[1])) +
                        " AND " + i + ".code = " + b_.Param(UnescapeSearch(pieces[2])) + ")");
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
    if (!codes.empty()) parts.push_back(i + ".code = ANY(" + b_.TextArray(codes) + ")");
    if (!no_system_codes.empty())
      parts.push_back("(" + i + ".system IS NULL AND " + i + ".code = ANY(" +
                      b_.TextArray(no_system_codes) + "))");
    if (!systems.empty()) parts.push_back(i + ".system = ANY(" + b_.TextArray(systems) + ")");
    if (pair_codes.size() == 1) {
      // One system|code, written plainly so that the planner can use the column statistics
      // (the array form below hides them and the planner then starts from the token).
      parts.push_back("(" + i + ".system = " + b_.Param(pair_systems[0]) + " AND " + i +
                      ".code = " + b_.Param(pair_codes[0]) + ")");
    } else if (!pair_codes.empty()) {
      std::string cs = b_.TextArray(pair_codes);
      std::string ss = b_.TextArray(pair_systems);
      parts.push_back("(" + i + ".code = ANY(" + cs + ") AND (" + i + ".system, " + i +
                      ".code) IN (SELECT * FROM unnest(" + ss + ", " + cs + ")))");
    }
    return OrJoin(parts);
  }

  std::string ReferenceValues(const Criterion& c, const std::string& i) {
    std::vector<std::string> parts;
    std::vector<std::string> ids, type_ids_t, type_ids_i, urls;
    for (const auto& v : c.values) {
      std::string u = UnescapeSearch(v);
      if (c.modifier == "identifier") {
        auto pieces = SplitUnescaped(v, '|');
        if (pieces.size() == 1) {
          parts.push_back(i + ".identifier_value = " + b_.Param(UnescapeSearch(pieces[0])));
        } else {
          std::string p = i + ".identifier_value = " + b_.Param(UnescapeSearch(pieces[1]));
          if (!pieces[0].empty())
            p += " AND " + i + ".identifier_system = " + b_.Param(UnescapeSearch(pieces[0]));
          parts.push_back("(" + p + ")");
        }
        continue;
      }
      if (!base_url_.empty() && u.rfind(base_url_ + "/", 0) == 0)
        u = u.substr(base_url_.size() + 1);
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
      std::string p = "(" + i + ".target_id = ANY(" + b_.TextArray(ids) + ")";
      if (typed) p += " AND " + i + ".target_type = " + b_.Param(c.modifier);
      parts.push_back(p + ")");
    }
    if (!type_ids_i.empty()) {
      std::string is = b_.TextArray(type_ids_i);
      std::string p = "(" + i + ".target_id = ANY(" + is + ") AND (" + i + ".target_type, " + i +
                      ".target_id) IN (SELECT * FROM unnest(" + b_.TextArray(type_ids_t) + ", " +
                      is + "))";
      if (typed) p += " AND " + i + ".target_type = " + b_.Param(c.modifier);
      parts.push_back(p + ")");
    }
    if (!urls.empty()) parts.push_back(i + ".target_url = ANY(" + b_.TextArray(urls) + ")");
    return OrJoin(parts);
  }

  // subject:Patient.name=x: a reference row whose target matches the chained criterion.
  std::string Chain(const Criterion& c, const std::string& r) {
    std::string i = NewAlias("i");
    std::string t = NewAlias("t");
    std::string sql = "EXISTS (SELECT 1 FROM idx_reference " + i + " JOIN resource " + t + " ON " +
                      t + ".res_type = " + i + ".target_type AND " + t + ".res_id = " + i +
                      ".target_id WHERE " + i + ".res_type = " + r + ".res_type AND " + i +
                      ".res_id = " + r + ".res_id AND " + i + ".param = " + b_.Param(c.code) +
                      " AND " + i + ".target_type = ANY(" + b_.TextArray(c.chain_types) +
                      ") AND NOT " + t + ".deleted AND " + storage::AccessPredicate(scope_, t, b_) +
                      " AND " + One(*c.chained, t) + ")";
    return sql;
  }

  // _has:Observation:patient:code=x: a resource of that type referring to this one through
  // that parameter and matching the inner criterion.
  std::string Has(const Criterion& c, const std::string& r) {
    std::string i = NewAlias("i");
    std::string t = NewAlias("t");
    return "EXISTS (SELECT 1 FROM idx_reference " + i + " JOIN resource " + t + " ON " + t +
           ".res_type = " + i + ".res_type AND " + t + ".res_id = " + i + ".res_id WHERE " + i +
           ".target_type = " + r + ".res_type AND " + i + ".target_id = " + r + ".res_id AND " + i +
           ".res_type = " + b_.Param(c.has_type) + " AND " + i +
           ".param = " + b_.Param(c.has_param) + " AND NOT " + t + ".deleted AND " +
           storage::AccessPredicate(scope_, t, b_) + " AND " + One(*c.chained, t) + ")";
  }

  const storage::AccessFilter& scope_;
  const std::string& base_url_;
  storage::SqlBuilder& b_;
  int alias_ = 0;
};

// Sort key expression for resource alias r, and the SQL type its text form casts back to.
std::pair<std::string, std::string> SortExpr(const SortKey& k, const std::string& r,
                                             storage::SqlBuilder& b) {
  if (k.param_type == "_id") return {r + ".res_id", "text"};
  if (k.param_type == "_lastUpdated") return {r + ".last_updated", "timestamptz"};
  const char* table = TableOf(k.param_type);
  std::string agg = k.descending ? "max" : "min";
  std::string col, type = "text";
  if (k.param_type == "string")
    col = "value_norm";
  else if (k.param_type == "token")
    col = "code";
  else if (k.param_type == "reference")
    col = "coalesce(s.target_type || '/' || s.target_id, s.target_url)";
  else if (k.param_type == "date") {
    col = k.descending ? "high" : "low";
    type = "timestamptz";
  } else if (k.param_type == "number" || k.param_type == "quantity") {
    col = "value";
    type = "numeric";
  } else
    col = "uri";
  if (col.find('.') == std::string::npos && col.find('(') == std::string::npos) col = "s." + col;
  return {"(SELECT " + agg + "(" + col + ") FROM " + table + " s WHERE s.res_type = " + r +
              ".res_type AND s.res_id = " + r + ".res_id AND s.param = " + b.Param(k.code) + ")",
          type};
}

}  // namespace

std::string CriteriaSql(const std::vector<Criterion>& criteria, const std::string& alias,
                        const storage::AccessFilter& scope, const std::string& base_url,
                        storage::SqlBuilder& b) {
  Planner p(scope, base_url, b);
  return storage::AccessPredicate(scope, alias, b) + p.All(criteria, alias);
}

PlannedQuery PlanSearch(const PlanInput& in) {
  const ParsedSearch& s = *in.search;
  storage::SqlBuilder b;
  std::string filter;
  if (s.types.size() == 1) {
    filter = "r.res_type = " + b.Param(s.types[0]);
  } else {
    filter = "r.res_type = ANY(" + b.TextArray(s.types) + ")";
  }
  filter += " AND NOT r.deleted";
  if (!in.compartment_patient.empty()) {
    std::string pid = b.Param(in.compartment_patient);
    filter += " AND (r.patient_key = (SELECT patient_key FROM patient WHERE resource_id = " + pid +
              ") OR (r.res_type = 'Patient' AND r.res_id = " + pid + "))";
  }
  filter += " AND " + CriteriaSql(s.criteria, "r", *in.scope, in.base_url, b);

  PlannedQuery out;
  std::string page;
  if (in.with_rows) {
    std::vector<std::pair<std::string, std::string>> keys;  // expr, sql type
    for (const SortKey& k : s.sort) keys.push_back(SortExpr(k, "r", b));
    out.key_count = static_cast<int>(keys.size());
    std::string inner = "SELECT r.res_type, r.res_id, r.content";
    for (size_t k = 0; k < keys.size(); ++k)
      inner += ", " + keys[k].first + " AS k" + std::to_string(k);
    inner += " FROM resource r WHERE " + filter;
    bool before = in.position && in.position->before;
    // Keyset: rows strictly after (or, for `previous`, before) the position in the order
    // (k0 missing last, k0, ..., res_type, res_id).
    std::string keyset;
    if (in.position) {
      const KeysetPosition& pos = *in.position;
      std::vector<std::string> ors;
      std::string eq_prefix;
      for (size_t k = 0; k < keys.size(); ++k) {
        std::string col = "m.k" + std::to_string(k);
        bool desc = s.sort[k].descending != before;
        const auto& v = k < pos.keys.size() ? pos.keys[k] : std::nullopt;
        if (v) {
          std::string cv = b.Param(*v) + "::" + keys[k].second;
          // after a present value: a further value, or a missing one (missing sorts last)
          std::string further = col + (desc ? " < " : " > ") + cv;
          if (!before) further = "(" + further + " OR " + col + " IS NULL)";
          ors.push_back("(" + eq_prefix + further + ")");
          eq_prefix += col + " = " + cv + " AND ";
        } else {
          // position among the missing ones: only for `previous` are present values further
          if (before) ors.push_back("(" + eq_prefix + col + " IS NOT NULL)");
          eq_prefix += col + " IS NULL AND ";
        }
      }
      std::string tt = b.Param(pos.res_type), ti = b.Param(pos.res_id);
      ors.push_back("(" + eq_prefix + "(m.res_type, m.res_id) " + (before ? "<" : ">") + " (" + tt +
                    ", " + ti + "))");
      keyset = " WHERE " + OrJoin(ors);
    }
    std::string order;
    for (size_t k = 0; k < keys.size(); ++k) {
      std::string col = "m.k" + std::to_string(k);
      bool desc = s.sort[k].descending != before;
      order +=
          col + (before ? " IS NOT NULL, " : " IS NULL, ") + col + (desc ? " DESC, " : " ASC, ");
    }
    order += before ? "m.res_type DESC, m.res_id DESC" : "m.res_type, m.res_id";
    std::string select = "SELECT m.res_type, m.res_id, m.content";
    for (size_t k = 0; k < keys.size(); ++k) select += ", m.k" + std::to_string(k) + "::text";
    page = select + " FROM (" + inner + ") m" + keyset + " ORDER BY " + order + " LIMIT " +
           b.Param(std::to_string(in.limit)) + "::int";
  }
  if (in.with_total) {
    std::string count = "SELECT count(*) AS total FROM resource r WHERE " + filter;
    if (!in.with_rows) {
      out.sql = count;
    } else {
      std::string cols = "p.res_type, p.res_id, p.content";
      for (int k = 0; k < out.key_count; ++k) cols += ", p.k" + std::to_string(k);
      out.sql = "SELECT " + cols + ", c.total FROM (" + count + ") c LEFT JOIN LATERAL (" + page +
                ") p ON TRUE";
    }
  } else {
    out.sql = page;
  }
  out.params = std::move(b.params());
  return out;
}

PlannedQuery PlanIncludes(const std::vector<IncludeSpec>& includes,
                          const std::vector<std::pair<std::string, std::string>>& from,
                          const storage::AccessFilter& scope) {
  storage::SqlBuilder b;
  std::vector<std::string> types, ids;
  for (const auto& [t, i] : from) {
    types.push_back(t);
    ids.push_back(i);
  }
  std::string ft = b.TextArray(types), fi = b.TextArray(ids);
  std::vector<std::string> branches;
  for (const IncludeSpec& inc : includes) {
    std::string cond;
    if (inc.source_type != "*") cond += " AND x.res_type = " + b.Param(inc.source_type);
    if (inc.param != "*") cond += " AND x.param = " + b.Param(inc.param);
    if (!inc.target_type.empty()) cond += " AND x.target_type = " + b.Param(inc.target_type);
    if (!inc.reverse) {
      branches.push_back(
          "SELECT r.res_type, r.res_id, r.content FROM idx_reference x JOIN resource r ON "
          "r.res_type = "
          "x.target_type AND r.res_id = x.target_id WHERE (x.res_type, x.res_id) IN (SELECT * FROM "
          "unnest(" +
          ft + ", " + fi + ")) AND x.res_id = ANY(" + fi + ")" + cond + " AND NOT r.deleted AND " +
          storage::AccessPredicate(scope, "r", b));
    } else {
      branches.push_back(
          "SELECT r.res_type, r.res_id, r.content FROM idx_reference x JOIN resource r ON "
          "r.res_type = "
          "x.res_type AND r.res_id = x.res_id WHERE (x.target_type, x.target_id) IN (SELECT * FROM "
          "unnest(" +
          ft + ", " + fi + ")) AND x.target_id = ANY(" + fi + ")" + cond +
          " AND NOT r.deleted AND " + storage::AccessPredicate(scope, "r", b));
    }
  }
  PlannedQuery out;
  for (size_t i = 0; i < branches.size(); ++i) out.sql += (i ? " UNION " : "") + branches[i];
  out.params = std::move(b.params());
  return out;
}

}  // namespace carnet::fhir
