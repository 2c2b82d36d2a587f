// Group commit of the access history: the audit events of reads, appended by one
// transaction for every request that finished its read while the previous batch was
// committing (issue 20).
//
// Why: a read used to commit its own audit event, paying a transaction, a chain-head lock and
// a WAL flush per read. Here the first request to arrive while no batch is in flight leads:
// it takes every waiting event, appends them in one transaction (storage::AppendAuditBatch)
// and releases each waiting request when that commit is durable; requests arriving in the
// meantime wait for the next batch, which one of them leads. No background thread: the
// leader is a request's own worker, so a lone read costs one hand-off less than a queue
// drained by a dedicated appender would.
//
// The promise is unchanged: a request's answer leaves only after its events are durable,
// and a batch that fails fails every request in it (kUnavailable, a 503), none answered.
//
// Chains, with several gateways on one database: each batch locks the heads of the chains it
// touches, in ascending key order, and chains its events under those locks (the first option
// the issue offers: per-patient chains, kept because `audit-verify`, the access history and
// the backup's verification already read them, and a batch of one is exactly the event a
// lone append writes; a transparency log of batch roots would add a second structure to
// verify for no gain in what one can prove). Batches of two gateways touching one chain
// queue on its head's row lock; ordered locking keeps them from deadlocking.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "storage/audit_store.h"

namespace carnet::storage {

class Pool;

class AuditGroupCommit {
 public:
  // `max_batch`: events per transaction at most (a batch's statement carries 14 parameters an
  // event, and PostgreSQL takes 65535 at most).
  explicit AuditGroupCommit(Pool& pool, size_t max_batch = 1000);

  // Appends `records` (kept together and in order) and returns once they are durable, or
  // with the batch's failure. Called outside any transaction: it waits for other requests.
  Status Append(std::vector<AuditRecord> records);

 private:
  struct Waiter {
    std::vector<AuditRecord> records;
    Status result;
    bool done = false;
  };
  Status Commit(const std::vector<Waiter*>& batch);

  Pool& pool_;
  const size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter*> queue_;  // guarded by mu_
  bool leading_ = false;       // a batch is being committed; guarded by mu_
};

}  // namespace carnet::storage
