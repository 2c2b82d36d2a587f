#include "storage/transaction.h"

#include <chrono>
#include <random>
#include <thread>

namespace carnet::storage {
namespace {

const char* BeginSql(const TxOptions& o) {
  switch (o.isolation) {
    case Isolation::kSerializable:
      return o.read_only ? "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
                         : "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case Isolation::kRepeatableRead:
      return o.read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                         : "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case Isolation::kReadCommitted:
    default:
      return o.read_only ? "BEGIN READ ONLY" : "BEGIN";
  }
}

void Backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  int base_ms = 2 << std::min(attempt, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(base_ms + rng() % base_ms));
}

}  // namespace

Status RunInTransaction(Pool& pool, const TxOptions& options,
                        const std::function<Status(Transaction&)>& body) {
  Status last;
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    auto lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    Connection& conn = **lease;

    auto begin = conn.Exec(BeginSql(options));
    if (!begin.ok()) {
      last = begin.status();
      if (conn.broken()) continue;  // died while idle: nothing happened, try a fresh one
      return last;
    }

    Transaction tx(conn);
    Status st = body(tx);
    if (!st.ok()) {
      bool retry = conn.last_failure_retryable();
      if (!conn.broken()) (void)conn.Exec("ROLLBACK");
      if (!retry) return st;
      last = st;
      Backoff(attempt);
      continue;
    }
    auto commit = conn.Exec("COMMIT");
    if (commit.ok()) return Status::Ok();
    last = commit.status();
    if (!conn.last_failure_retryable()) return last;
    Backoff(attempt);
  }
  if (last.code() == ErrorCode::kConflict)
    return Unavailable("transaction kept conflicting; try again: " + last.message());
  return last;
}

}  // namespace carnet::storage
