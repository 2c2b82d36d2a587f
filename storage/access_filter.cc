#include "storage/access_filter.h"

namespace carnet::storage {

AccessFilter AccessFilter::Everything() {
  AccessFilter f;
  f.any_record = true;
  f.reason = "carnet's own lookup";
  return f;
}

std::string AccessPredicate(const AccessFilter& filter, const std::string& alias, SqlBuilder& b) {
  std::vector<std::string> parts;
  if (!filter.any_record) {
    std::string shared = alias + ".patient_key IS NULL";
    if (filter.patient_keys.empty()) {
      parts.push_back(filter.include_shared ? shared : "FALSE");
    } else {
      std::vector<std::string> keys;
      for (long long k : filter.patient_keys) keys.push_back(std::to_string(k));
      std::string p = alias + ".patient_key = ANY(" + b.TextArray(keys) + "::bigint[])";
      parts.push_back(filter.include_shared ? "(" + p + " OR " + shared + ")" : p);
    }
  } else if (!filter.include_shared) {
    parts.push_back(alias + ".patient_key IS NOT NULL");
  }
  // A condition on the records' rows; shared rows pass it when the filter spares them.
  auto on_records = [&](std::string condition) {
    return filter.record_rules_spare_shared && filter.include_shared
               ? "(" + alias + ".patient_key IS NULL OR " + condition + ")"
               : condition;
  };
  if (filter.resource_types)
    parts.push_back(
        on_records(alias + ".res_type = ANY(" + b.TextArray(*filter.resource_types) + ")"));
  if (!filter.excluded_types.empty())
    parts.push_back(alias + ".res_type <> ALL(" + b.TextArray(filter.excluded_types) + ")");
  for (const auto& r : filter.restrictions) {
    std::vector<std::string> alts;
    for (const auto& a : r.alternatives) {
      std::vector<std::string> conds;
      if (!a.type.empty()) conds.push_back(alias + ".res_type = " + b.Param(a.type));
      for (const auto& c : a.conditions)
        conds.push_back("EXISTS (SELECT 1 FROM idx_token sct WHERE sct.res_type = " + alias +
                        ".res_type AND sct.res_id = " + alias + ".res_id AND sct.param = " +
                        b.Param(c.param) + " AND sct.code = " + b.Param(c.code) +
                        (c.any_system ? "" : " AND sct.system = " + b.Param(c.system)) + ")");
      std::string all;
      for (size_t i = 0; i < conds.size(); ++i) all += (i ? " AND " : "") + conds[i];
      alts.push_back(conds.empty() ? "TRUE" : "(" + all + ")");
    }
    std::string any = "FALSE";
    if (!alts.empty()) {
      any.clear();
      for (size_t i = 0; i < alts.size(); ++i) any += (i ? " OR " : "") + alts[i];
    }
    parts.push_back(r.type == "*"
                        ? "(" + any + ")"
                        : "(" + alias + ".res_type <> " + b.Param(r.type) + " OR " + any + ")");
  }
  if (filter.sources)
    parts.push_back(on_records("EXISTS (SELECT 1 FROM idx_uri su WHERE su.res_type = " + alias +
                               ".res_type AND su.res_id = " + alias +
                               ".res_id AND su.param = '_source' AND su.uri = ANY(" +
                               b.TextArray(*filter.sources) + "))"));
  if (filter.message_parties)
    parts.push_back(
        "(" + alias + ".res_type <> 'Communication' OR EXISTS (SELECT 1 FROM " +
        "idx_reference mp WHERE mp.res_type = 'Communication' AND mp.res_id = " + alias +
        ".res_id AND mp.param IN ('sender', 'recipient') AND " + "(mp.identifier_value = ANY(" +
        b.TextArray(*filter.message_parties) + ") OR mp.target_type || '/' || mp.target_id = ANY(" +
        b.TextArray(*filter.message_parties) + "))))");
  // What an author may see of their own documents even when labels or the document type
  // would hide them.
  std::vector<std::string> restricted;
  if (!filter.excluded_security.empty())
    restricted.push_back("NOT (" + alias + ".security && " + b.TextArray(filter.excluded_security) +
                         ")");
  if (filter.document_types) {
    std::string type_ok = "dt.code = ANY(" + b.TextArray(*filter.document_types) + ")";
    if (!filter.shared_document_types.empty() && !filter.shared_label.empty())
      type_ok = "(" + type_ok + " OR (" + alias + ".security && " +
                b.TextArray({filter.shared_label}) + " AND dt.code = ANY(" +
                b.TextArray(filter.shared_document_types) + ")))";
    restricted.push_back("(" + alias +
                         ".res_type NOT IN ('DocumentReference', 'Composition') OR EXISTS "
                         "(SELECT 1 FROM idx_token dt WHERE dt.res_type = " +
                         alias + ".res_type AND dt.res_id = " + alias +
                         ".res_id AND dt.param = 'type' AND " + type_ok + "))");
  }
  if (!restricted.empty()) {
    std::string allowed;
    for (size_t i = 0; i < restricted.size(); ++i) allowed += (i ? " AND " : "") + restricted[i];
    if (!filter.author_exempt_ids.empty()) {
      std::string ids = b.TextArray(filter.author_exempt_ids);
      allowed = "((" + allowed +
                ") OR EXISTS (SELECT 1 FROM idx_reference au WHERE au.res_type = " + alias +
                ".res_type AND au.res_id = " + alias +
                ".res_id AND au.param = 'author' AND "
                "(au.identifier_value = ANY(" +
                ids +
                ") OR EXISTS (SELECT 1 FROM idx_token ai WHERE "
                "ai.res_type = au.target_type AND ai.res_id = au.target_id AND ai.param = "
                "'identifier' AND "
                "ai.code = ANY(" +
                ids + ")))))";
    }
    parts.push_back(allowed);
  }
  if (parts.empty()) return "TRUE";
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " AND " : "") + parts[i];
  return out;
}

}  // namespace carnet::storage
