// The statements of search: EXISTS semi-joins over the idx_* tables that PostgreSQL drives
// from their B-trees, one statement for a page (with its count when asked) and one per
// include level.
#include "storage/index_query.h"

#include "storage/sql_builder.h"

namespace carnet::storage {
namespace {

const char* TableName(IndexTable t) {
  switch (t) {
    case IndexTable::kString:
      return "idx_string";
    case IndexTable::kToken:
      return "idx_token";
    case IndexTable::kReference:
      return "idx_reference";
    case IndexTable::kDate:
      return "idx_date";
    case IndexTable::kQuantity:
      return "idx_quantity";
    case IndexTable::kUri:
      return "idx_uri";
    case IndexTable::kText:
      return "idx_text";
  }
  return "idx_string";
}

std::string OrJoin(const std::vector<std::string>& parts) {
  if (parts.empty()) return "FALSE";
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " OR " : "") + parts[i];
  return out + ")";
}

// Date comparison of a stored range [lo, hi] with the search range [low, high].
std::string DatePredicate(const std::string& prefix, const std::string& low,
                          const std::string& high, const std::string& lo, const std::string& hi,
                          SqlBuilder& b) {
  // Only the bounds the prefix uses become parameters (an unused one has no type).
  bool need_low = prefix != "gt" && prefix != "le" && prefix != "sa";
  bool need_high = prefix != "lt" && prefix != "ge" && prefix != "eb";
  std::string sl = need_low ? b.Param(low) + "::timestamptz" : "";
  std::string sh = need_high ? b.Param(high) + "::timestamptz" : "";
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
                            const std::string& col, SqlBuilder& b) {
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

std::string Test(const ColumnTest& t, const std::string& a, SqlBuilder& b) {
  std::string col = a + "." + t.column;
  std::string col2 = a + "." + t.column2;
  switch (t.op) {
    case ColumnTest::Op::kEquals:
      return col + " = " + b.Param(t.value);
    case ColumnTest::Op::kAnyOf:
      return col + " = ANY(" + b.TextArray(t.values) + ")";
    case ColumnTest::Op::kStartsWith:
      return col + " LIKE " + b.Param(EscapeLike(t.value) + "%");
    case ColumnTest::Op::kContains:
      return col + " LIKE " + b.Param("%" + EscapeLike(t.value) + "%");
    case ColumnTest::Op::kIsNull:
      return col + " IS NULL";
    case ColumnTest::Op::kPairIn: {
      std::string second = b.TextArray(t.values2);
      std::string first = b.TextArray(t.values);
      return "(" + col2 + " = ANY(" + second + ") AND (" + col + ", " + col2 +
             ") IN (SELECT * FROM unnest(" + first + ", " + second + ")))";
    }
    case ColumnTest::Op::kDateRange:
      return DatePredicate(t.prefix, t.value, t.value2, col, col2, b);
    case ColumnTest::Op::kNumber:
      return NumberPredicate(t.prefix, t.value, col, b);
    case ColumnTest::Op::kTextMatch:
      return col + " @@ (websearch_to_tsquery('french', " + b.Param(t.value) +
             ") || websearch_to_tsquery('english', " + b.Param(t.value2) + "))";
  }
  return "FALSE";
}

std::string Match(const RowMatch& m, const std::string& a, SqlBuilder& b) {
  if (m.size() == 1) return Test(m[0], a, b);
  std::string out = "(";
  for (size_t k = 0; k < m.size(); ++k) out += (k ? " AND " : "") + Test(m[k], a, b);
  return out + ")";
}

std::string AnyMatch(const std::vector<RowMatch>& any, const std::string& a, SqlBuilder& b) {
  std::vector<std::string> parts;
  for (const RowMatch& m : any) parts.push_back(Match(m, a, b));
  return OrJoin(parts);
}

class Renderer {
 public:
  Renderer(const AccessFilter& access, SqlBuilder& b) : access_(access), b_(b) {}

  // " AND c1 AND c2 ..." over resource alias r.
  std::string All(const std::vector<ResourceCondition>& conditions, const std::string& r) {
    std::string out;
    for (const ResourceCondition& c : conditions) out += " AND " + One(c, r);
    return out;
  }

  std::string One(const ResourceCondition& c, const std::string& r) {
    switch (c.kind) {
      case ResourceCondition::Kind::kTrue:
        return "TRUE";
      case ResourceCondition::Kind::kFalse:
        return "FALSE";
      case ResourceCondition::Kind::kIdIn: {
        std::string p = r + ".res_id = ANY(" + b_.TextArray(c.values) + ")";
        return c.negate ? "NOT " + p : p;
      }
      case ResourceCondition::Kind::kLastUpdated:
        return AnyMatch(c.any, r, b_);
      case ResourceCondition::Kind::kIndex:
        return Index(c, r);
      case ResourceCondition::Kind::kChain:
      case ResourceCondition::Kind::kHas:
        return Linked(c, r);
      case ResourceCondition::Kind::kComposite:
      case ResourceCondition::Kind::kNear:
        return Grouped(c, r);
    }
    return "FALSE";
  }

 private:
  std::string NewAlias(const char* prefix) { return prefix + std::to_string(++alias_); }

  // A composite (or near): the first component's row of r, joined to the other components'
  // rows of the same resource and group; the tests apply to each component's own row.
  std::string Grouped(const ResourceCondition& c, const std::string& r) {
    if (c.components.empty()) return "FALSE";
    std::string g = NewAlias("g");
    std::vector<std::string> aliases;
    for (size_t k = 0; k < c.components.size(); ++k) aliases.push_back(g + "_" + std::to_string(k));
    const std::string& first = aliases[0];
    std::string from = std::string(TableName(c.components[0].table)) + " " + first;
    for (size_t k = 1; k < c.components.size(); ++k) {
      const std::string& a = aliases[k];
      from += " JOIN " + std::string(TableName(c.components[k].table)) + " " + a + " ON " + a +
              ".res_type = " + first + ".res_type AND " + a + ".res_id = " + first +
              ".res_id AND " + a + ".param = " + b_.Param(c.components[k].param) + " AND " + a +
              ".grp = " + first + ".grp";
    }
    std::string sql =
        std::string(c.negate ? "NOT " : "") + "EXISTS (SELECT 1 FROM " + from + " WHERE " + first +
        ".res_type = " + r + ".res_type AND " + first + ".res_id = " + r + ".res_id AND " + first +
        ".param = " + b_.Param(c.components[0].param) + " AND " + first + ".grp IS NOT NULL";
    if (c.presence_only) return sql + ")";
    std::vector<std::string> ors;
    if (c.kind == ResourceCondition::Kind::kNear) {
      if (aliases.size() < 2) return "FALSE";
      for (const auto& p : c.near) ors.push_back(Near(p, aliases[0], aliases[1]));
    } else {
      for (const auto& alternative : c.alternatives) {
        std::string all;
        for (size_t k = 0; k < alternative.size() && k < aliases.size(); ++k)
          all += (k ? " AND " : "") + AnyMatch(alternative[k], aliases[k], b_);
        ors.push_back(alternative.size() == 1 ? all : "(" + all + ")");
      }
    }
    return sql + " AND " + OrJoin(ors) + ")";
  }

  // Within the great-circle distance (haversine, mean Earth radius 6371.0088 km) of a point;
  // the latitude first bounded by the distance (1 degree of latitude is 111.195 km), which
  // the B-tree on (res_type, param, value) can use.
  std::string Near(const ResourceCondition::NearPoint& p, const std::string& lat,
                   const std::string& lon) {
    std::string plat = b_.Param(p.latitude) + "::float8";
    std::string plon = b_.Param(p.longitude) + "::float8";
    std::string d = b_.Param(p.distance_km) + "::float8";
    std::string rlat = lat + ".value::float8", rlon = lon + ".value::float8";
    std::string box = lat + ".value BETWEEN (" + plat + " - " + d + " / 111.19)::numeric AND (" +
                      plat + " + " + d + " / 111.19)::numeric";
    std::string haversine = "2 * 6371.0088 * asin(least(1, sqrt(power(sin(radians(" + rlat + " - " +
                            plat + ") / 2), 2) + cos(radians(" + plat + ")) * cos(radians(" + rlat +
                            ")) * power(sin(radians(" + rlon + " - " + plon + ") / 2), 2))))";
    return "(" + box + " AND " + haversine + " <= " + d + ")";
  }

  std::string Index(const ResourceCondition& c, const std::string& r) {
    std::string i = NewAlias("i");
    std::string head = "EXISTS (SELECT 1 FROM " + std::string(TableName(c.table)) + " " + i +
                       " WHERE " + i + ".res_type = " + r + ".res_type AND " + i +
                       ".res_id = " + r + ".res_id AND " + i + ".param = " + b_.Param(c.param);
    std::string out = (c.negate ? "NOT " : "") + head;
    if (!c.presence_only) out += " AND " + AnyMatch(c.any, i, b_);
    return out + ")";
  }

  // A chain follows the reference rows of r to their targets t; _has follows the reference
  // rows of the resources t that point to r. Either way t is current and passes the filter.
  std::string Linked(const ResourceCondition& c, const std::string& r) {
    bool chain = c.kind == ResourceCondition::Kind::kChain;
    std::string i = NewAlias("i");
    std::string t = NewAlias("t");
    std::string near = chain ? ".res" : ".target", far = chain ? ".target" : ".res";
    std::string sql = "EXISTS (SELECT 1 FROM idx_reference " + i + " JOIN resource " + t + " ON " +
                      t + ".res_type = " + i + far + "_type AND " + t + ".res_id = " + i + far +
                      "_id WHERE " + i + near + "_type = " + r + ".res_type AND " + i + near +
                      "_id = " + r + ".res_id";
    if (chain) {
      sql += " AND " + i + ".param = " + b_.Param(c.param);
      sql += " AND " + i + ".target_type = ANY(" + b_.TextArray(c.types) + ")";
    } else {
      sql += " AND " + i + ".res_type = " + b_.Param(c.types.empty() ? "" : c.types[0]);
      sql += " AND " + i + ".param = " + b_.Param(c.param);
    }
    sql += " AND NOT " + t + ".deleted AND ";
    sql += AccessPredicate(access_, t, b_);
    return sql + " AND " + One(*c.inner, t) + ")";
  }

  const AccessFilter& access_;
  SqlBuilder& b_;
  int alias_ = 0;
};

// Sort key expression for resource alias r, and the SQL type its text form casts back to.
std::pair<std::string, std::string> SortExpr(const IndexSortKey& k, const std::string& r,
                                             SqlBuilder& b) {
  if (k.kind == IndexSortKey::Kind::kId) return {r + ".res_id", "text"};
  if (k.kind == IndexSortKey::Kind::kLastUpdated) return {r + ".last_updated", "timestamptz"};
  std::string agg = k.descending ? "max" : "min";
  std::string col, type = "text";
  switch (k.table) {
    case IndexTable::kString:
      col = "s.value_norm";
      break;
    case IndexTable::kToken:
      col = "s.code";
      break;
    case IndexTable::kReference:
      col = "coalesce(s.target_type || '/' || s.target_id, s.target_url)";
      break;
    case IndexTable::kDate:
      col = k.descending ? "s.high" : "s.low";
      type = "timestamptz";
      break;
    case IndexTable::kQuantity:
      col = "s.value";
      type = "numeric";
      break;
    case IndexTable::kUri:
      col = "s.uri";
      break;
    case IndexTable::kText:
      col = "NULL::text";  // words have no order: the planner never sorts by _text/_content
      break;
  }
  return {"(SELECT " + agg + "(" + col + ") FROM " + TableName(k.table) +
              " s WHERE s.res_type = " + r + ".res_type AND s.res_id = " + r +
              ".res_id AND s.param = " + b.Param(k.param) + ")",
          type};
}

std::optional<std::string> OptText(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return r.GetString(row, col);
}

}  // namespace

RenderedQuery RenderIndexQuery(const IndexQuery& q) {
  SqlBuilder b;
  std::string filter;
  if (q.types.size() == 1) {
    filter = "r.res_type = " + b.Param(q.types[0]);
  } else {
    filter = "r.res_type = ANY(" + b.TextArray(q.types) + ")";
  }
  filter += " AND NOT r.deleted";
  if (!q.compartment_patient.empty()) {
    std::string pid = b.Param(q.compartment_patient);
    filter += " AND (r.patient_key = (SELECT patient_key FROM patient WHERE resource_id = " + pid +
              ") OR (r.res_type = 'Patient' AND r.res_id = " + pid + "))";
  }
  const AccessFilter& access = q.access ? *q.access : AccessFilter();
  filter += " AND " + AccessPredicate(access, "r", b);
  filter += Renderer(access, b).All(q.conditions, "r");

  RenderedQuery out;
  std::string page;
  if (q.with_rows) {
    std::vector<std::pair<std::string, std::string>> keys;  // expr, sql type
    for (const IndexSortKey& k : q.sort) keys.push_back(SortExpr(k, "r", b));
    out.key_count = static_cast<int>(keys.size());
    std::string inner = "SELECT r.res_type, r.res_id, r.content";
    for (size_t k = 0; k < keys.size(); ++k)
      inner += ", " + keys[k].first + " AS k" + std::to_string(k);
    inner += " FROM resource r WHERE " + filter;
    bool before = q.position && q.position->before;
    // Keyset: rows strictly after (or, for `previous`, before) the position in the order
    // (k0 missing last, k0, ..., res_type, res_id).
    std::string keyset;
    if (q.position) {
      const KeysetPosition& pos = *q.position;
      std::vector<std::string> ors;
      std::string eq_prefix;
      for (size_t k = 0; k < keys.size(); ++k) {
        std::string col = "m.k" + std::to_string(k);
        bool desc = q.sort[k].descending != before;
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
      bool desc = q.sort[k].descending != before;
      order +=
          col + (before ? " IS NOT NULL, " : " IS NULL, ") + col + (desc ? " DESC, " : " ASC, ");
    }
    order += before ? "m.res_type DESC, m.res_id DESC" : "m.res_type, m.res_id";
    std::string select = "SELECT m.res_type, m.res_id, m.content";
    for (size_t k = 0; k < keys.size(); ++k) select += ", m.k" + std::to_string(k) + "::text";
    page = select + " FROM (" + inner + ") m" + keyset + " ORDER BY " + order + " LIMIT " +
           b.Param(std::to_string(q.limit)) + "::int";
  }
  if (q.with_total) {
    std::string count = "SELECT count(*) AS total FROM resource r WHERE " + filter;
    if (!q.with_rows) {
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

RenderedQuery RenderIncludeQuery(const IncludeQuery& q) {
  SqlBuilder b;
  const AccessFilter& access = q.access ? *q.access : AccessFilter();
  std::vector<std::string> types, ids;
  for (const auto& [t, i] : q.from) {
    types.push_back(t);
    ids.push_back(i);
  }
  std::string ft = b.TextArray(types), fi = b.TextArray(ids);
  std::vector<std::string> branches;
  for (const IncludeBranch& inc : q.branches) {
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
          AccessPredicate(access, "r", b));
    } else {
      branches.push_back(
          "SELECT r.res_type, r.res_id, r.content FROM idx_reference x JOIN resource r ON "
          "r.res_type = "
          "x.res_type AND r.res_id = x.res_id WHERE (x.target_type, x.target_id) IN (SELECT * FROM "
          "unnest(" +
          ft + ", " + fi + ")) AND x.target_id = ANY(" + fi + ")" + cond +
          " AND NOT r.deleted AND " + AccessPredicate(access, "r", b));
    }
  }
  RenderedQuery out;
  for (size_t i = 0; i < branches.size(); ++i) out.sql += (i ? " UNION " : "") + branches[i];
  out.params = std::move(b.params());
  return out;
}

RenderedQuery RenderMatchingIds(const std::string& type,
                                const std::vector<ResourceCondition>& conditions,
                                const AccessFilter& access, int limit) {
  SqlBuilder b;
  RenderedQuery out;
  // The criteria narrow first (an identifier, through its index, finds one row or none), the
  // access filter then judges what they found: asked in one WHERE with the ORDER BY ... LIMIT,
  // the planner walked every resource of the type in id order, testing the criteria on each,
  // which made a transaction of many conditional creates (a week of a glucometer's readings,
  // each `ifNoneExist` by identifier) quadratic. The CTE is materialised, so it stays first.
  out.sql =
      "WITH matching AS MATERIALIZED (SELECT r.res_type, r.res_id, r.patient_key, "
      "r.security FROM resource r WHERE r.res_type = " +
      b.Param(type) + " AND NOT r.deleted";
  out.sql += Renderer(access, b).All(conditions, "r");
  out.sql += ") SELECT r.res_id FROM matching r WHERE ";
  out.sql += AccessPredicate(access, "r", b);
  out.sql += " ORDER BY r.res_id LIMIT " + b.Param(std::to_string(limit)) + "::int";
  out.params = std::move(b.params());
  return out;
}

Result<IndexPage> RunIndexQuery(Transaction& tx, const IndexQuery& q) {
  RenderedQuery rq = RenderIndexQuery(q);
  auto result = tx.RunShaped(rq.sql, rq.params);
  if (!result.ok()) return result.status();
  IndexPage page;
  int total_col = q.with_rows ? 3 + rq.key_count : 0;
  for (int i = 0; i < result->rows(); ++i) {
    if (q.with_total && !result->IsNull(i, total_col)) page.total = result->GetInt(i, total_col);
    if (!q.with_rows || result->IsNull(i, 0)) continue;
    IndexRow row{result->GetString(i, 0), result->GetString(i, 1), result->GetString(i, 2), {}};
    for (int k = 0; k < rq.key_count; ++k) row.keys.push_back(OptText(*result, i, 3 + k));
    page.rows.push_back(std::move(row));
  }
  return page;
}

Result<std::vector<IndexRow>> RunIncludeQuery(Transaction& tx, const IncludeQuery& q) {
  RenderedQuery rq = RenderIncludeQuery(q);
  auto result = tx.RunShaped(rq.sql, rq.params);
  if (!result.ok()) return result.status();
  std::vector<IndexRow> rows;
  for (int i = 0; i < result->rows(); ++i)
    rows.push_back({result->GetString(i, 0), result->GetString(i, 1), result->GetString(i, 2), {}});
  return rows;
}

Result<std::vector<std::string>> FindMatchingIds(Transaction& tx, const std::string& type,
                                                 const std::vector<ResourceCondition>& conditions,
                                                 const AccessFilter& access, int limit) {
  RenderedQuery rq = RenderMatchingIds(type, conditions, access, limit);
  auto r = tx.RunShaped(rq.sql, rq.params);
  if (!r.ok()) return r.status();
  std::vector<std::string> ids;
  for (int i = 0; i < r->rows(); ++i) ids.push_back(r->GetString(i, 0));
  return ids;
}

}  // namespace carnet::storage
