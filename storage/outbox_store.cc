#include "storage/outbox_store.h"

namespace carnet::storage {
namespace {

// The batch size in the SQL is kOutboxClaimBatch (20).
constexpr Statement kClaim{
    "outbox_claim",
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => "
    "$1::int) "
    "WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= now() "
    "AND attempts < $2::int AND channel = ANY($3::text[]) ORDER BY next_attempt_at, id LIMIT 20 "
    "FOR UPDATE SKIP LOCKED) "
    "RETURNING id, channel, destination, payload, attempts"};
static_assert(kOutboxClaimBatch == 20, "kClaim's LIMIT");
constexpr Statement kQueue{
    "outbox_queue",
    "INSERT INTO outbox (patient_key, channel, event_kind, destination, payload) "
    "VALUES ($1::bigint, $2, $3, $4, $5)"};
constexpr Statement kDelivered{
    "outbox_delivered",
    "UPDATE outbox SET delivered_at = now(), last_error = NULL WHERE id = $1::bigint"};
constexpr Statement kFailed{
    "outbox_failed",
    "UPDATE outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::int) "
    "WHERE id = $1::bigint"};

constexpr Statement kBacklog{
    "outbox_backlog",
    "SELECT channel, count(*) FILTER (WHERE attempts < $1::int), "
    "count(*) FILTER (WHERE attempts >= $1::int), "
    "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE attempts < $1::int)), 0) "
    "FROM outbox WHERE delivered_at IS NULL GROUP BY channel ORDER BY channel"};

}  // namespace

Result<std::vector<OutboxBacklog>> ReadOutboxBacklog(Transaction& tx, int max_attempts) {
  auto r = tx.Run(kBacklog, {SqlParam::Text(std::to_string(max_attempts))});
  if (!r.ok()) return r.status();
  std::vector<OutboxBacklog> out;
  for (int i = 0; i < r->rows(); ++i) {
    OutboxBacklog b;
    b.channel = r->GetString(i, 0);
    b.pending = r->GetInt(i, 1);
    b.given_up = r->GetInt(i, 2);
    b.oldest_pending_s = std::stod(r->GetString(i, 3));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<OutboxRow>> ClaimOutboxRows(Transaction& tx, int lease_s, int max_attempts,
                                               const std::vector<std::string>& channels) {
  auto r = tx.Run(kClaim, {SqlParam::Text(std::to_string(lease_s)),
                           SqlParam::Text(std::to_string(max_attempts)),
                           SqlParam::Text(TextArrayLiteral(channels))});
  if (!r.ok()) return r.status();
  std::vector<OutboxRow> rows;
  for (int i = 0; i < r->rows(); ++i)
    rows.push_back({r->GetString(i, 0), r->GetString(i, 1), r->GetString(i, 2), r->GetString(i, 3),
                    static_cast<int>(r->GetInt(i, 4))});
  return rows;
}

Status QueueOutboxRow(Transaction& tx, long long patient_key, const std::string& channel,
                      const std::string& event_kind, const std::string& destination,
                      const std::string& payload) {
  auto r = tx.Run(
      kQueue, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(channel),
               SqlParam::Text(event_kind), SqlParam::Text(destination), SqlParam::Text(payload)});
  return r.ok() ? Status::Ok() : r.status();
}

Status MarkOutboxDelivered(Transaction& tx, const std::string& id) {
  auto r = tx.Run(kDelivered, {SqlParam::Text(id)});
  return r.ok() ? Status::Ok() : r.status();
}

Status MarkOutboxFailed(Transaction& tx, const std::string& id, const std::string& error,
                        int retry_in_s) {
  auto r = tx.Run(kFailed, {SqlParam::Text(id), SqlParam::Text(error),
                            SqlParam::Text(std::to_string(retry_in_s))});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace carnet::storage
