// Running work in one database transaction, retried on serialization failure and deadlock.
#pragma once

#include <functional>
#include <vector>

#include "base/status.h"
#include "storage/audit_record.h"
#include "storage/connection.h"
#include "storage/pool.h"

namespace carnet::storage {

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct TxOptions {
  Isolation isolation = Isolation::kReadCommitted;
  bool read_only = false;
  // Attempts in all, for serialization failures, deadlocks and connections found dead at
  // BEGIN (where nothing has happened yet, so a retry is always safe).
  int max_attempts = 5;
  // Plans made for the values of each execution (SET LOCAL plan_cache_mode =
  // force_custom_plan, sent with the BEGIN: no round trip of its own), for statements
  // prepared per shape (Connection::RunShaped) whose generic plan was measured worse than
  // their custom one; the shape stays prepared, so parsing and analysis are still saved.
  bool custom_plans = false;
};

// The body's view of the open transaction.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Result<PgResult> Run(const Statement& stmt, const SqlParams& params = {}) {
    return conn_.Run(stmt, params);
  }
  Result<PgResult> RunDynamic(const std::string& sql, const SqlParams& params = {}) {
    return conn_.RunDynamic(sql, params);
  }
  Result<PgResult> RunDynamicText(const std::string& sql, const SqlParams& params) {
    return conn_.RunDynamicText(sql, params);
  }
  Result<PgResult> RunShaped(const std::string& sql, const SqlParams& params,
                             bool all_text = false) {
    return conn_.RunShaped(sql, params, all_text);
  }
  Result<PgResult> Exec(std::string_view sql) { return conn_.Exec(sql); }
  Connection& connection() { return conn_; }

  // A read's audit event, appended when the transaction ends: by the group commit after
  // COMMIT (storage/audit_group_commit.h) when the transaction appended no event of its own,
  // otherwise within it, before COMMIT (a write already pays for its commit; its events and
  // this one stay in one transaction). Either way RunInTransaction returns only once the
  // event is durable, and fails (kUnavailable) when it cannot be, so the caller's answer,
  // built after RunInTransaction returns, never leaves untraced. Only reads defer: an event
  // that must be in the chain before something else of the transaction happens (a
  // notification naming it) is appended at once with AppendAuditRecord.
  void DeferAudit(AuditRecord record) { deferred_audit_.push_back(std::move(record)); }
  // What DeferAudit collected; RunInTransaction takes it.
  std::vector<AuditRecord>& deferred_audit() { return deferred_audit_; }

 private:
  Connection& conn_;
  std::vector<AuditRecord> deferred_audit_;
};

// Runs `body` between BEGIN and COMMIT on a pooled connection. A non-OK Status from the body
// rolls back and is returned as is, unless it came from a retryable conflict, in which case
// the whole body runs again (up to max_attempts, with a short growing pause). The body must
// therefore have no effect outside the transaction. A failure during COMMIT on a lost
// connection is reported as Unavailable: the outcome is unknown and is not retried.
Status RunInTransaction(Pool& pool, const TxOptions& options,
                        const std::function<Status(Transaction&)>& body);

inline Status RunInTransaction(Pool& pool, const std::function<Status(Transaction&)>& body) {
  return RunInTransaction(pool, TxOptions{}, body);
}

}  // namespace carnet::storage
