#include "storage/agenda_feed_store.h"

#include "base/strings.h"

namespace carnet::storage {
namespace {

constexpr Statement kRevoke{
    "agenda_feed_revoke",
    "UPDATE agenda_feed SET revoked_at = now() WHERE patient_key = $1::bigint "
    "AND principal_id = $2 AND revoked_at IS NULL"};
constexpr Statement kInsert{
    "agenda_feed_insert",
    "INSERT INTO agenda_feed (secret_hash, patient_key, patient_id, principal_id, claims) "
    "VALUES (decode($1, 'hex'), $2::bigint, $3, $4, $5)"};
constexpr Statement kFind{"agenda_feed_find",
                          "SELECT patient_key, patient_id, principal_id, claims FROM agenda_feed "
                          "WHERE secret_hash = decode($1, 'hex') AND revoked_at IS NULL"};

}  // namespace

Result<int> RevokeAgendaFeeds(Transaction& tx, long long patient_key,
                              const std::string& principal_id) {
  auto r =
      tx.Run(kRevoke, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(principal_id)});
  if (!r.ok()) return r.status();
  return static_cast<int>(r->affected());
}

Status InsertAgendaFeed(Transaction& tx, const AgendaFeedRow& row) {
  auto r = tx.Run(kInsert,
                  {SqlParam::Text(HexEncode(row.secret_hash)),
                   SqlParam::Text(std::to_string(row.patient_key)), SqlParam::Text(row.patient_id),
                   SqlParam::Text(row.principal_id), SqlParam::Text(row.claims)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<AgendaFeedRow>> FindAgendaFeed(Transaction& tx,
                                                    const std::string& secret_hash) {
  auto r = tx.Run(kFind, {SqlParam::Text(HexEncode(secret_hash))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<AgendaFeedRow>();
  AgendaFeedRow row;
  row.secret_hash = secret_hash;
  row.patient_key = std::stoll(r->GetString(0, 0));
  row.patient_id = r->GetString(0, 1);
  row.principal_id = r->GetString(0, 2);
  row.claims = r->GetString(0, 3);
  return std::optional<AgendaFeedRow>(std::move(row));
}

}  // namespace carnet::storage
