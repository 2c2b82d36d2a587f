// The outbox rows as the delivery worker (server/outbox_worker.h) claims and settles them.
// A claim pushes the row's next attempt one lease ahead in its own short transaction, so
// that delivery happens outside any transaction and a worker that dies mid-delivery only
// delays the row; FOR UPDATE SKIP LOCKED lets several gateways share one outbox.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// At most this many rows per claim: a full batch tells the worker to look again at once.
inline constexpr int kOutboxClaimBatch = 20;

struct OutboxRow {
  std::string id;  // outbox.id, as text
  std::string channel;
  std::string destination;
  std::string payload;
  int attempts = 0;  // counting this one
};

// The undelivered rows of one channel (GET /metrics).
struct OutboxBacklog {
  std::string channel;
  long long pending = 0;        // still to be attempted (fewer than max_attempts so far)
  long long given_up = 0;       // max_attempts reached: left for an operator
  double oldest_pending_s = 0;  // age of the oldest pending row (seconds)
};
Result<std::vector<OutboxBacklog>> ReadOutboxBacklog(Transaction& tx, int max_attempts);

// Claims the rows due, not delivered, below `max_attempts` and on one of `channels`, oldest
// due first: each attempt is counted now and its retry set `lease_s` seconds ahead.
Result<std::vector<OutboxRow>> ClaimOutboxRows(Transaction& tx, int lease_s, int max_attempts,
                                               const std::vector<std::string>& channels);
// Queues one row for the worker, in the caller's transaction (with the write that causes it).
Status QueueOutboxRow(Transaction& tx, long long patient_key, const std::string& channel,
                      const std::string& event_kind, const std::string& destination,
                      const std::string& payload);
// Marks the row delivered (clearing its last error).
Status MarkOutboxDelivered(Transaction& tx, const std::string& id);
// Records the failed attempt's error and schedules the next one `retry_in_s` seconds ahead.
Status MarkOutboxFailed(Transaction& tx, const std::string& id, const std::string& error,
                        int retry_in_s);

}  // namespace carnet::storage
