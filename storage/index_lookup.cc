#include "storage/index_lookup.h"

#include <set>

namespace carnet::storage {

Result<std::vector<std::string>> FindByTokenCode(Transaction& tx, const std::string& type,
                                                 const std::string& param, const std::string& code,
                                                 int limit) {
  static const Statement kByCode{
      "index_by_token_code",
      "SELECT DISTINCT res_id FROM idx_token WHERE res_type = $1 AND param = $2 AND code = $3 "
      "ORDER BY res_id LIMIT $4::int"};
  auto r = tx.Run(kByCode, {SqlParam::Text(type), SqlParam::Text(param), SqlParam::Text(code),
                            SqlParam::Text(std::to_string(limit))});
  if (!r.ok()) return r.status();
  std::vector<std::string> ids;
  for (int i = 0; i < r->rows(); ++i) ids.push_back(r->GetString(i, 0));
  return ids;
}

Result<std::vector<std::string>> FindTaggedReferrers(
    Transaction& tx, const std::string& source_type, const std::string& param,
    const std::string& target_type, const std::string& target_id, const std::string& tag_system,
    const std::string& tag_code, int limit) {
  static const Statement kReferrers{
      "index_tagged_referrers",
      "SELECT i.res_id FROM idx_reference i JOIN idx_token t ON t.res_type = i.res_type AND "
      "t.res_id = i.res_id AND t.param = '_tag' AND t.system = $6 AND t.code = $7 "
      "WHERE i.target_type = $3 AND i.target_id = $4 AND i.res_type = $1 AND i.param = $2 "
      "LIMIT $5::int"};
  auto r = tx.Run(kReferrers,
                  {SqlParam::Text(source_type), SqlParam::Text(param), SqlParam::Text(target_type),
                   SqlParam::Text(target_id), SqlParam::Text(std::to_string(limit)),
                   SqlParam::Text(tag_system), SqlParam::Text(tag_code)});
  if (!r.ok()) return r.status();
  // A resource naming the target twice has two rows: each id once, in order. No ORDER BY or
  // DISTINCT in the statement, which would let the planner walk the index in id order.
  std::set<std::string> ids;
  for (int i = 0; i < r->rows(); ++i) ids.insert(r->GetString(i, 0));
  return std::vector<std::string>(ids.begin(), ids.end());
}

Result<std::vector<CanonicalRow>> FindByCanonicalUrl(Transaction& tx, const std::string& type,
                                                     const std::string& url) {
  static const Statement kByUrl{
      "index_by_canonical_url",
      "SELECT r.res_id, r.version_id, r.last_updated::text, "
      "COALESCE((SELECT t.code FROM idx_token t WHERE t.res_type = r.res_type AND "
      "t.res_id = r.res_id AND t.param = 'version' LIMIT 1), '') "
      "FROM idx_uri i JOIN resource r ON r.res_type = i.res_type AND r.res_id = i.res_id "
      "WHERE i.res_type = $1 AND i.param = 'url' AND i.uri = $2 AND NOT r.deleted "
      "ORDER BY r.last_updated DESC, r.res_id LIMIT 50"};
  auto r = tx.Run(kByUrl, {SqlParam::Text(type), SqlParam::Text(url)});
  if (!r.ok()) return r.status();
  std::vector<CanonicalRow> rows;
  for (int i = 0; i < r->rows(); ++i)
    rows.push_back({r->GetString(i, 0), static_cast<int>(r->GetInt(i, 1)), r->GetString(i, 2),
                    r->GetString(i, 3)});
  return rows;
}

}  // namespace carnet::storage
