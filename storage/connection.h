// One PostgreSQL connection (libpq), with lazily prepared named statements.
//
// Not thread-safe: a Connection is used by one thread at a time, through a Pool lease.
// SQL is never built from user input: values always travel as parameters.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"

namespace carnet::storage {

// A statement parameter: text (or bytea in binary form), or SQL NULL.
struct SqlParam {
  std::optional<std::string> value;
  bool binary = false;

  static SqlParam Null() { return {}; }
  static SqlParam Text(std::string v) { return {std::move(v), false}; }
  static SqlParam Bytes(std::string v) { return {std::move(v), true}; }
};
using SqlParams = std::vector<SqlParam>;

// A PostgreSQL text[] literal ({"a","b"}) holding `items`, for passing a list as one
// parameter (`= ANY($1::text[])`).
std::string TextArrayLiteral(const std::vector<std::string>& items);
// The elements of a one-dimensional text[] as PostgreSQL writes it ({a,"b c",NULL}); NULL
// elements are left out.
std::vector<std::string> ParseTextArray(std::string_view text);

// A statement with a stable name: prepared once per connection, then executed by name.
struct Statement {
  const char* name;
  const char* sql;
};

// Owns a PGresult. Values are read as text (the default result format).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view Get(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string GetString(int row, int col) const { return std::string(Get(row, col)); }
  long long GetInt(int row, int col) const;
  bool GetBool(int row, int col) const { return Get(row, col) == "t"; }
  // Number of rows touched by INSERT/UPDATE/DELETE.
  long long affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

class Connection {
 public:
  // Connects with `conninfo` (libpq keyword/value string). Unavailable when the server
  // cannot be reached.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL commands without parameters (DDL, BEGIN/COMMIT).
  Result<PgResult> Exec(std::string_view sql);

  // Opens a transaction with `begin_statements` (BEGIN ..., then any SET LOCAL) sent together
  // with the next statement
  // (libpq pipeline mode: one round trip for both, where a BEGIN of its own costs one more
  // per transaction). A COMMIT or ROLLBACK before any statement sends nothing: the
  // transaction never started. A failure of the BEGIN itself is reported by that statement,
  // with begin_failed() true: nothing happened, so retrying on a fresh connection is safe.
  void BeginWithNextStatement(std::vector<std::string> begin_statements);
  bool begin_failed() const { return begin_failed_; }
  // Forgets a BEGIN not sent yet (the connection goes back to the pool).
  void DiscardPendingBegin() { pending_begin_.clear(); }
  // Runs a named statement, preparing it on this connection the first time.
  Result<PgResult> Run(const Statement& stmt, const SqlParams& params = {});
  // Runs a statement with parameters without keeping it prepared (dynamic SQL made of
  // fixed fragments, e.g. search queries).
  Result<PgResult> RunDynamic(const std::string& sql, const SqlParams& params = {});
  // The same, declaring every parameter as text: for statements built from fragments where
  // some parameters may go unreferenced (PostgreSQL cannot infer their type) and every
  // non-text use carries an explicit cast.
  Result<PgResult> RunDynamicText(const std::string& sql, const SqlParams& params);
  // Dynamic SQL run as a prepared statement: one SQL text (a search or registry query of
  // one shape: the same parameters, modifiers, sort and includes, whatever their values) is
  // prepared once on this connection under a name derived from a hash of the text, then
  // executed by name with the values, so PostgreSQL parses and analyses it once per
  // connection (and, under plan_cache_mode auto, may reuse a generic plan). The statements
  // are kept in a least-recently-used cache of kShapeCacheSize per connection; the one
  // evicted is deallocated. `all_text` declares every parameter text, as RunDynamicText.
  Result<PgResult> RunShaped(const std::string& sql, const SqlParams& params,
                             bool all_text = false);
  static constexpr size_t kShapeCacheSize = 256;
  // Statements RunShaped prepared and executed by name on this connection (tests, bench).
  long long shaped_prepares() const { return shaped_prepares_; }
  long long shaped_runs() const { return shaped_runs_; }

  // True once the connection was lost; the pool then closes and replaces it.
  bool broken() const;
  // SQLSTATE of the last failed command ("40001"...), empty after a success.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // True when the last failure may succeed if the whole transaction is retried
  // (serialization failure, deadlock).
  bool last_failure_retryable() const;
  // Transaction status as libpq sees it (idle, in transaction, in error...).
  PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_); }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Result<PgResult> Check(PGresult* r, std::string_view what);
  // Sends the pending BEGIN, `prepare` (when not null) and the statement `send` sends, in one
  // pipeline; the statement's result, or the first failure.
  Result<PgResult> PipelinedWithBegin(std::string_view what, const Statement* prepare,
                                      const std::function<int()>& send);

  PGconn* conn_;
  std::unordered_set<std::string> prepared_;
  // RunShaped's cache: the key is the SQL text (with a mark for all-text parameters), most
  // recently used first; the map points into the list.
  struct Shaped {
    std::string key, name;
  };
  std::list<Shaped> shaped_;
  std::unordered_map<std::string, std::list<Shaped>::iterator> shaped_by_key_;
  std::unordered_set<std::string> shaped_names_;
  long long shaped_prepares_ = 0, shaped_runs_ = 0;
  std::string last_sqlstate_;
  bool lost_ = false;
  std::vector<std::string> pending_begin_;  // BEGIN and its SET LOCALs, not yet sent
  bool begin_failed_ = false;
};

}  // namespace carnet::storage
