#include "storage/audit_group_commit.h"

#include <chrono>

#include "base/metrics.h"
#include "storage/pool.h"
#include "storage/transaction.h"

namespace carnet::storage {

AuditGroupCommit::AuditGroupCommit(Pool& pool, size_t max_batch)
    : pool_(pool), max_batch_(max_batch) {}

Status AuditGroupCommit::Append(std::vector<AuditRecord> records) {
  static auto& waited = Metrics()
                            .Histogram("carnet_audit_group_commit_seconds",
                                       "time from handing a request's audit events to the group "
                                       "commit to their batch being durable",
                                       {}, LatencyBuckets())
                            .Get();
  if (records.empty()) return Status::Ok();
  auto started = std::chrono::steady_clock::now();
  Waiter me;
  me.records = std::move(records);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leading_) {
      cv_.wait(lock);
      continue;
    }
    // Lead: take what waits (whole requests, up to max_batch_ events; at least one request).
    leading_ = true;
    std::vector<Waiter*> batch;
    size_t events = 0;
    while (!queue_.empty() &&
           (batch.empty() || events + queue_.front()->records.size() <= max_batch_)) {
      events += queue_.front()->records.size();
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    Status st = Commit(batch);
    lock.lock();
    for (Waiter* w : batch) {
      w->result = st;
      w->done = true;
    }
    leading_ = false;
    cv_.notify_all();
  }
  waited.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return me.result;
}

Status AuditGroupCommit::Commit(const std::vector<Waiter*>& batch) {
  std::vector<AuditRecord> all;
  for (const Waiter* w : batch) all.insert(all.end(), w->records.begin(), w->records.end());
  // Deadlocks (with a single-event writer that locked heads in another order) and
  // serialization failures are retried whole by the runner: nothing of the batch is kept.
  Status st = RunInTransaction(pool_, [&](Transaction& tx) { return AppendAuditBatch(tx, all); });
  if (!st.ok())
    return Status(ErrorCode::kUnavailable,
                  "the access history cannot be written; nothing was returned: " + st.message());
  return st;
}

}  // namespace carnet::storage
