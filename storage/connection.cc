#include "storage/connection.h"

#include <cstdlib>

namespace carnet::storage {

long long PgResult::GetInt(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

long long PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

std::vector<std::string> ParseTextArray(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  size_t i = 1, end = text.size() - 1;
  while (i < end) {
    std::string item;
    bool quoted = text[i] == '"';
    if (quoted) {
      ++i;
      while (i < end && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < end) ++i;
        item.push_back(text[i++]);
      }
      ++i;  // closing quote
    } else {
      while (i < end && text[i] != ',') item.push_back(text[i++]);
    }
    if (quoted || item != "NULL") out.push_back(std::move(item));
    if (i < end && text[i] == ',') ++i;
  }
  return out;
}

std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Unavailable("out of memory connecting to PostgreSQL");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  // Diagnostics go through our own results, not libpq's stderr notice printer.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return lost_ || PQstatus(conn_) != CONNECTION_OK; }

bool Connection::last_failure_retryable() const {
  return last_sqlstate_ == "40001" || last_sqlstate_ == "40P01";
}

Result<PgResult> Connection::Check(PGresult* raw, std::string_view what) {
  PgResult r(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    last_sqlstate_.clear();
    return r;
  }
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string msg = raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  // Class 08 (connection exception), 57P01..03 (shutdown) or a dead socket: the session is
  // gone, whatever the server managed to say.
  if (PQstatus(conn_) != CONNECTION_OK || last_sqlstate_.rfind("08", 0) == 0 ||
      last_sqlstate_.rfind("57P", 0) == 0 || state == nullptr) {
    lost_ = true;
    return Unavailable("database unavailable during " + std::string(what) + ": " + msg);
  }
  if (last_sqlstate_ == "23505") return Status(ErrorCode::kDuplicate, msg);
  if (last_failure_retryable()) return Conflict("transaction conflict: " + msg);
  // query_canceled: statement_timeout fired (or an operator cancelled the statement).
  if (last_sqlstate_ == "57014") return Status(ErrorCode::kTimeout, std::string(what) + ": " + msg);
  return Internal(std::string(what) + " failed: " + msg);
}

Result<PgResult> Connection::Exec(std::string_view sql) {
  begin_failed_ = false;
  if (!pending_begin_.empty()) {
    std::vector<std::string> begin = std::move(pending_begin_);
    pending_begin_.clear();
    // Nothing ran in the transaction: there is nothing to commit or roll back.
    if (sql == "COMMIT" || sql == "ROLLBACK") {
      last_sqlstate_.clear();
      return PgResult();
    }
    for (const std::string& step : begin) {
      auto begun = Check(PQexec(conn_, step.c_str()), "BEGIN");
      if (!begun.ok()) {
        begin_failed_ = true;
        return begun.status();
      }
    }
  }
  return Check(PQexec(conn_, std::string(sql).c_str()), "query");
}

void Connection::BeginWithNextStatement(std::vector<std::string> begin_statements) {
  pending_begin_ = std::move(begin_statements);
  begin_failed_ = false;
}

Result<PgResult> Connection::PipelinedWithBegin(std::string_view what, const Statement* prepare,
                                                const std::function<int()>& send) {
  std::vector<std::string> begin = std::move(pending_begin_);
  pending_begin_.clear();
  const size_t expected = begin.size() + (prepare ? 2 : 1);
  auto lost = [&](const char* step) -> Status {
    lost_ = true;
    begin_failed_ = true;
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Unavailable(std::string("database unavailable during ") + step + ": " + msg);
  };
  if (!PQenterPipelineMode(conn_)) return lost("BEGIN");
  bool sent = true;
  for (const std::string& step : begin)
    sent = sent && PQsendQueryParams(conn_, step.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
  sent = sent && (!prepare || PQsendPrepare(conn_, prepare->name, prepare->sql, 0, nullptr)) &&
         send() && PQpipelineSync(conn_);
  if (!sent) return lost("BEGIN");
  // One result (then a null) per command sent, then the sync's.
  std::vector<PGresult*> results;
  for (size_t i = 0; i < expected; ++i) {
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    results.push_back(r);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  PGresult* sync = PQgetResult(conn_);
  bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync) PQclear(sync);
  bool exited = PQexitPipelineMode(conn_);
  if (!synced || !exited || results.size() != expected) {
    for (PGresult* r : results) PQclear(r);
    return lost("BEGIN");
  }
  for (size_t i = 0; i < begin.size(); ++i) {
    auto begun = Check(results[i], "BEGIN");
    if (!begun.ok()) {
      begin_failed_ = true;
      for (size_t j = i + 1; j < results.size(); ++j) PQclear(results[j]);
      return begun.status();
    }
  }
  if (prepare) {
    auto prepared = Check(results[begin.size()], prepare->name);
    if (!prepared.ok()) {
      PQclear(results.back());
      return prepared.status();
    }
    prepared_.insert(prepare->name);
  }
  return Check(results.back(), what);
}

namespace {
struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  explicit ParamArrays(const SqlParams& params) {
    for (const auto& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
  }
};
}  // namespace

Result<PgResult> Connection::Run(const Statement& stmt, const SqlParams& params) {
  begin_failed_ = false;
  if (!pending_begin_.empty()) {
    ParamArrays a(params);
    return PipelinedWithBegin(stmt.name, prepared_.count(stmt.name) ? nullptr : &stmt, [&] {
      return PQsendQueryPrepared(conn_, stmt.name, static_cast<int>(params.size()), a.values.data(),
                                 a.lengths.data(), a.formats.data(), 0);
    });
  }
  if (!prepared_.count(stmt.name)) {
    auto prep = Check(PQprepare(conn_, stmt.name, stmt.sql, 0, nullptr), stmt.name);
    if (!prep.ok()) return prep.status();
    prepared_.insert(stmt.name);
  }
  ParamArrays a(params);
  return Check(PQexecPrepared(conn_, stmt.name, static_cast<int>(params.size()), a.values.data(),
                              a.lengths.data(), a.formats.data(), 0),
               stmt.name);
}

Result<PgResult> Connection::RunDynamic(const std::string& sql, const SqlParams& params) {
  begin_failed_ = false;
  ParamArrays a(params);
  if (!pending_begin_.empty())
    return PipelinedWithBegin("query", nullptr, [&] {
      return PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               a.values.data(), a.lengths.data(), a.formats.data(), 0);
    });
  return Check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            a.values.data(), a.lengths.data(), a.formats.data(), 0),
               "query");
}

namespace {
// FNV-1a, 64 bits: a stable name for a SQL text (std::hash may differ between builds, and a
// name read in pg_prepared_statements should say the same thing on every gateway).
std::string ShapeName(const std::string& key) {
  unsigned long long h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static const char* hex = "0123456789abcdef";
  std::string name = "shape_";
  for (int i = 60; i >= 0; i -= 4) name += hex[(h >> i) & 0xf];
  return name;
}
}  // namespace

Result<PgResult> Connection::RunShaped(const std::string& sql, const SqlParams& params,
                                       bool all_text) {
  // A text with its declared parameters: a builder may give one text more values than it
  // uses (declared as text, they are bound and ignored), and a statement prepared for six
  // cannot be bound with eight.
  std::vector<Oid> types;
  if (all_text)
    for (const auto& p : params) types.push_back(p.binary ? 17 : 25);  // bytea or text
  std::string key = (all_text ? "T" : "I") + std::to_string(params.size()) + ":";
  for (Oid t : types) key += t == 17 ? 'b' : 't';
  key += ":" + sql;
  std::string name;
  auto found = shaped_by_key_.find(key);
  if (found != shaped_by_key_.end()) {
    shaped_.splice(shaped_.begin(), shaped_, found->second);  // most recently used
    name = found->second->name;
  } else {
    name = ShapeName(key);
    // Two texts of one hash (never seen, but possible): the second runs unprepared.
    if (shaped_names_.count(name))
      return all_text ? RunDynamicText(sql, params) : RunDynamic(sql, params);
    if (shaped_.size() >= kShapeCacheSize) {
      Shaped& old = shaped_.back();
      auto gone = Exec("DEALLOCATE " + old.name);
      if (!gone.ok()) return gone.status();
      shaped_names_.erase(old.name);
      shaped_by_key_.erase(old.key);
      shaped_.pop_back();
    }
    auto prep = Check(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                                types.empty() ? nullptr : types.data()),
                      "query");
    if (!prep.ok()) return prep.status();
    ++shaped_prepares_;
    shaped_.push_front({key, name});
    shaped_by_key_[key] = shaped_.begin();
    shaped_names_.insert(name);
  }
  ++shaped_runs_;
  ParamArrays a(params);
  begin_failed_ = false;
  // The shape was prepared above (a PREPARE is not part of the transaction); its execution
  // goes with the pending BEGIN, as any other first statement does.
  if (!pending_begin_.empty())
    return PipelinedWithBegin("query", nullptr, [&] {
      return PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                 a.values.data(), a.lengths.data(), a.formats.data(), 0);
    });
  return Check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), a.values.data(),
                              a.lengths.data(), a.formats.data(), 0),
               "query");
}

Result<PgResult> Connection::RunDynamicText(const std::string& sql, const SqlParams& params) {
  ParamArrays a(params);
  std::vector<Oid> types(params.size(), 25);  // text
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].binary) types[i] = 17;  // bytea
  begin_failed_ = false;
  if (!pending_begin_.empty())
    return PipelinedWithBegin("query", nullptr, [&] {
      return PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), types.data(),
                               a.values.data(), a.lengths.data(), a.formats.data(), 0);
    });
  return Check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), types.data(),
                            a.values.data(), a.lengths.data(), a.formats.data(), 0),
               "query");
}

}  // namespace carnet::storage
