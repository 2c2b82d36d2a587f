#include "storage/search_index_store.h"

#include "storage/sql_builder.h"

namespace carnet::storage {

// The implicit range of a value as written: 1.50 stands for [1.495, 1.505].
#define CARNET_QUANTITY_SELECT                                                           \
  "c0, c1::numeric, "                                                                    \
  "COALESCE(c2::numeric, c1::numeric - 0.5 * power(10::numeric, -scale(c1::numeric))), " \
  "COALESCE(c3::numeric, c1::numeric + 0.5 * power(10::numeric, -scale(c1::numeric))), c4, c5"
const char* const kQuantitySelect = CARNET_QUANTITY_SELECT;
// French stems the text as written, English the text folded without accents (migration 0006).
#define CARNET_TEXT_SELECT "c0, to_tsvector('french', c1) || to_tsvector('english', c2)"
const char* const kTextSelect = CARNET_TEXT_SELECT;

namespace {

// The index writes as two fixed statements, prepared once per connection (a statement built
// per write was planned on every write: 2-4 ms under load). Each table gets its rows as
// parallel arrays (an empty array inserts nothing). The DELETEs see the rows of the previous
// version only (the snapshot is taken before the statement), so the INSERTs of the same
// statement are not removed; a first version has no previous rows and skips them.
// Parameters: $1-$3 the resource; then per table its columns' arrays, the group last
// (idx_string $4-$7, idx_token $8-$14, idx_reference $15-$21, idx_date $22-$25, idx_quantity
// $26-$32, idx_uri $33-$35, idx_text $36-$38).
#define CARNET_INDEX_INSERTS                                                                       \
  "i0 AS (INSERT INTO idx_string (patient_key, res_type, res_id, param, value_norm, value_exact, " \
  "grp) SELECT $1::bigint, $2, $3, c0, c1, c2, c3::int FROM unnest($4::text[], $5::text[], "       \
  "$6::text[], $7::text[]) AS u(c0, c1, c2, c3)), "                                                \
  "i1 AS (INSERT INTO idx_token (patient_key, res_type, res_id, param, system, code, text_norm, "  \
  "type_system, type_code, grp) SELECT $1::bigint, $2, $3, c0, c1, c2, c3, c4, c5, c6::int FROM "  \
  "unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], "            \
  "$14::text[]) AS u(c0, c1, c2, c3, c4, c5, c6)), "                                               \
  "i2 AS (INSERT INTO idx_reference (patient_key, res_type, res_id, param, target_type, "          \
  "target_id, target_url, identifier_system, identifier_value, grp) SELECT $1::bigint, $2, $3, "   \
  "c0, c1, c2, c3, c4, c5, c6::int FROM unnest($15::text[], $16::text[], $17::text[], "            \
  "$18::text[], $19::text[], $20::text[], $21::text[]) AS u(c0, c1, c2, c3, c4, c5, c6)), "        \
  "i3 AS (INSERT INTO idx_date (patient_key, res_type, res_id, param, low, high, grp) SELECT "     \
  "$1::bigint, $2, $3, c0, c1::timestamptz, c2::timestamptz, c3::int FROM unnest($22::text[], "    \
  "$23::text[], $24::text[], $25::text[]) AS u(c0, c1, c2, c3)), "                                 \
  "i4 AS (INSERT INTO idx_quantity (patient_key, res_type, res_id, param, value, low, high, "      \
  "system, code, grp) SELECT $1::bigint, $2, $3, " CARNET_QUANTITY_SELECT                          \
  ", c6::int FROM unnest($26::text[], $27::text[], $28::text[], $29::text[], $30::text[], "        \
  "$31::text[], $32::text[]) AS u(c0, c1, c2, c3, c4, c5, c6)), "                                  \
  "i5 AS (INSERT INTO idx_uri (patient_key, res_type, res_id, param, uri, grp) SELECT "            \
  "$1::bigint, $2, $3, c0, c1, c2::int FROM unnest($33::text[], $34::text[], $35::text[]) AS "     \
  "u(c0, c1, c2)), "                                                                               \
  "i6 AS (INSERT INTO idx_text (patient_key, res_type, res_id, param, tsv) SELECT $1::bigint, "    \
  "$2, $3, " CARNET_TEXT_SELECT                                                                    \
  " FROM unnest($36::text[], $37::text[], $38::text[]) AS "                                        \
  "u(c0, c1, c2)) SELECT 1"

const Statement kIndexReplace{
    "index_replace",
    "WITH d0 AS (DELETE FROM idx_string WHERE res_type = $2 AND res_id = $3), "
    "d1 AS (DELETE FROM idx_token WHERE res_type = $2 AND res_id = $3), "
    "d2 AS (DELETE FROM idx_reference WHERE res_type = $2 AND res_id = $3), "
    "d3 AS (DELETE FROM idx_date WHERE res_type = $2 AND res_id = $3), "
    "d4 AS (DELETE FROM idx_quantity WHERE res_type = $2 AND res_id = $3), "
    "d5 AS (DELETE FROM idx_uri WHERE res_type = $2 AND res_id = $3), "
    "d6 AS (DELETE FROM idx_text WHERE res_type = $2 AND res_id = $3), " CARNET_INDEX_INSERTS};
const Statement kIndexFirst{"index_first", "WITH " CARNET_INDEX_INSERTS};
#undef CARNET_INDEX_INSERTS
#undef CARNET_QUANTITY_SELECT
#undef CARNET_TEXT_SELECT

std::optional<std::string> Group(const std::optional<int>& group) {
  if (!group) return std::nullopt;
  return std::to_string(*group);
}

}  // namespace

Status WriteIndexRows(Transaction& tx, const StoredResource& stored, const IndexRows& rows,
                      bool first_version) {
  using Col = std::vector<std::optional<std::string>>;
  SqlParams params;
  params.push_back(stored.patient_key ? SqlParam::Text(std::to_string(*stored.patient_key))
                                      : SqlParam::Null());
  params.push_back(SqlParam::Text(stored.type));
  params.push_back(SqlParam::Text(stored.id));
  auto add = [&](const std::vector<Col>& cols) {
    for (const auto& c : cols) params.push_back(SqlParam::Text(PgArrayLiteral(c)));
  };
  {
    Col p, norm, exact, grp;
    for (const auto& r : rows.strings) {
      p.push_back(r.param);
      norm.push_back(r.norm);
      exact.push_back(r.exact);
      grp.push_back(Group(r.group));
    }
    add({p, norm, exact, grp});
  }
  {
    Col p, sys, code, text, tsys, tcode, grp;
    for (const auto& r : rows.tokens) {
      p.push_back(r.param);
      sys.push_back(r.system);
      code.push_back(r.code);
      text.push_back(r.text_norm);
      tsys.push_back(r.type_system);
      tcode.push_back(r.type_code);
      grp.push_back(Group(r.group));
    }
    add({p, sys, code, text, tsys, tcode, grp});
  }
  {
    Col p, tt, ti, tu, is, iv, grp;
    for (const auto& r : rows.references) {
      p.push_back(r.param);
      tt.push_back(r.target_type);
      ti.push_back(r.target_id);
      tu.push_back(r.target_url);
      is.push_back(r.id_system);
      iv.push_back(r.id_value);
      grp.push_back(Group(r.group));
    }
    add({p, tt, ti, tu, is, iv, grp});
  }
  {
    Col p, lo, hi, grp;
    for (const auto& r : rows.dates) {
      p.push_back(r.param);
      lo.push_back(r.low);
      hi.push_back(r.high);
      grp.push_back(Group(r.group));
    }
    add({p, lo, hi, grp});
  }
  {
    // The implicit range of a value as written: 1.50 stands for [1.495, 1.505].
    Col p, v, lo, hi, sys, code, grp;
    for (const auto& r : rows.quantities) {
      p.push_back(r.param);
      v.push_back(r.value);
      lo.push_back(r.low);
      hi.push_back(r.high);
      sys.push_back(r.system);
      code.push_back(r.code);
      grp.push_back(Group(r.group));
    }
    add({p, v, lo, hi, sys, code, grp});
  }
  {
    Col p, u, grp;
    for (const auto& r : rows.uris) {
      p.push_back(r.param);
      u.push_back(r.uri);
      grp.push_back(Group(r.group));
    }
    add({p, u, grp});
  }
  {
    Col p, text, folded;
    for (const auto& r : rows.texts) {
      p.push_back(r.param);
      text.push_back(r.text);
      folded.push_back(r.folded);
    }
    add({p, text, folded});
  }
  auto r = tx.Run(first_version ? kIndexFirst : kIndexReplace, params);
  if (!r.ok()) return r.status();
  return Status::Ok();
}

Result<std::vector<StoredResource>> ResourcesToReindex(Transaction& tx, const std::string& type,
                                                       const std::string& after_type,
                                                       const std::string& after_id, int limit) {
  SqlBuilder b;
  std::string sql =
      "SELECT patient_key, res_type, res_id, content FROM resource WHERE NOT deleted AND "
      "(res_type, res_id) > (" +
      b.Param(after_type) + ", " + b.Param(after_id) + ")";
  if (!type.empty()) sql += " AND res_type = " + b.Param(type);
  sql += " ORDER BY res_type, res_id LIMIT " + std::to_string(limit);
  auto r = tx.RunDynamic(sql, b.params());
  if (!r.ok()) return r.status();
  std::vector<StoredResource> out;
  for (int i = 0; i < r->rows(); ++i) {
    StoredResource s;
    if (!r->IsNull(i, 0)) s.patient_key = r->GetInt(i, 0);
    s.type = r->GetString(i, 1);
    s.id = r->GetString(i, 2);
    s.content = r->GetString(i, 3);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace carnet::storage
