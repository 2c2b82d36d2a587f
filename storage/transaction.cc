#include "storage/transaction.h"

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "base/metrics.h"
#include "storage/audit_batch.h"
#include "storage/audit_group_commit.h"
#include "storage/audit_store.h"

namespace carnet::storage {
namespace {

// Audit events appended by the transaction this thread runs (NoteAuditAppend).
thread_local int audit_appends = 0;
// Transactions this thread is running, one inside another's body (on other connections).
thread_local int tx_depth = 0;

CounterFamily& Retries() {
  static auto& c = Metrics().Counter(
      "carnet_db_transaction_retries_total",
      "transactions run again after a serialization failure, deadlock or lost connection, by "
      "what failed (body or commit)",
      {"stage"});
  return c;
}

CounterFamily& Transactions() {
  static auto& c =
      Metrics().Counter("carnet_db_transactions_total",
                        "transactions finished, by outcome (commit, error)", {"outcome"});
  return c;
}

HistogramSeries& AuditBatch() {
  static auto& h = Metrics()
                       .Histogram("carnet_audit_batch_size",
                                  "audit events appended by one committed transaction (those "
                                  "that append any)",
                                  {}, {1, 2, 3, 5, 10, 20, 50, 100, 500})
                       .Get();
  return h;
}

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

void NoteAuditAppend() { ++audit_appends; }

namespace {
// `deferred`: the read events the committed transaction left to the group commit.
Status RunInTransactionAttempts(Pool& pool, const TxOptions& options,
                                const std::function<Status(Transaction&)>& body,
                                std::vector<AuditRecord>& deferred) {
  static auto& body_retries = Retries().With({"body"});
  static auto& commit_retries = Retries().With({"commit"});
  Status last;
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    auto lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    Connection& conn = **lease;

    // Sent with the body's first statement (one round trip less per transaction).
    std::vector<std::string> begin{BeginSql(options)};
    if (options.custom_plans) begin.push_back("SET LOCAL plan_cache_mode = force_custom_plan");
    conn.BeginWithNextStatement(std::move(begin));

    Transaction tx(conn);
    // A transaction run inside another one's body (on another connection) keeps its own count.
    int outer_appends = audit_appends;
    audit_appends = 0;
    ++tx_depth;
    Status st = body(tx);
    --tx_depth;
    std::vector<AuditRecord>& reads = tx.deferred_audit();
    // The read events go with the transaction's own when it has any (its commit is paid
    // for), or when this transaction runs inside another's body: waiting for a batch there
    // could wait on a chain head the outer transaction holds, a deadlock no server sees.
    // A READ ONLY transaction cannot write them: they always go to the group commit.
    if (st.ok() && !reads.empty() && !options.read_only && (audit_appends > 0 || tx_depth > 0)) {
      st = AppendAuditBatch(tx, reads);
      reads.clear();
    }
    int appended = audit_appends;
    audit_appends = outer_appends;
    if (!st.ok() && conn.begin_failed()) {
      // The BEGIN itself failed: nothing happened. A connection that died while idle is
      // replaced and the body runs again on a fresh one.
      last = st;
      if (conn.broken()) continue;
      return last;
    }
    if (!st.ok()) {
      bool retry = conn.last_failure_retryable();
      if (!conn.broken()) (void)conn.Exec("ROLLBACK");
      if (!retry) return st;
      last = st;
      if (attempt + 1 < options.max_attempts) body_retries.Inc();
      Backoff(attempt);
      continue;
    }
    auto commit = conn.Exec("COMMIT");
    if (commit.ok()) {
      if (appended > 0) AuditBatch().Observe(appended);
      deferred = std::move(reads);
      return Status::Ok();
    }
    last = commit.status();
    if (!conn.last_failure_retryable()) return last;
    if (attempt + 1 < options.max_attempts) commit_retries.Inc();
    Backoff(attempt);
  }
  if (last.code() == ErrorCode::kConflict)
    return Unavailable("transaction kept conflicting; try again: " + last.message());
  return last;
}
}  // namespace

Status RunInTransaction(Pool& pool, const TxOptions& options,
                        const std::function<Status(Transaction&)>& body) {
  std::vector<AuditRecord> deferred;
  Status st = RunInTransactionAttempts(pool, options, body, deferred);
  static auto& committed = Transactions().With({"commit"});
  static auto& failed = Transactions().With({"error"});
  (st.ok() ? committed : failed).Inc();
  // After the connection went back to the pool: the batch's leader needs one.
  if (st.ok() && !deferred.empty()) return pool.audit_group().Append(std::move(deferred));
  return st;
}

}  // namespace carnet::storage
