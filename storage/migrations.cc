#include "storage/migrations.h"

#include <algorithm>

namespace carnet::storage {
namespace {

// Any fixed number: the advisory lock that serialises migrators.
constexpr const char* kLockSql = "SELECT pg_advisory_xact_lock(7206318421)";

constexpr const char* kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

const Statement kReadVersion{"schema_version_read",
                             "SELECT coalesce(max(version), 0) FROM schema_version"};
const Statement kRecordVersion{"schema_version_record",
                               "INSERT INTO schema_version (version, name) VALUES ($1, $2)"};

}  // namespace

int LatestVersion(const std::vector<Migration>& migrations) {
  int v = 0;
  for (const auto& m : migrations) v = std::max(v, m.version);
  return v;
}

Result<int> CurrentSchemaVersion(Connection& conn) {
  auto exists = conn.Exec("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (!exists->GetBool(0, 0)) return 0;
  auto r = conn.Run(kReadVersion);
  if (!r.ok()) return r.status();
  return static_cast<int>(r->GetInt(0, 0));
}

Status ApplyMigrations(Connection& conn, const std::vector<Migration>& migrations) {
  auto fail = [&](Status st) {
    if (!conn.broken()) (void)conn.Exec("ROLLBACK");
    return st;
  };
  auto begin = conn.Exec("BEGIN");
  if (!begin.ok()) return begin.status();
  for (const char* sql : {kLockSql, kCreateVersionTable}) {
    auto r = conn.Exec(sql);
    if (!r.ok()) return fail(r.status());
  }
  auto current = CurrentSchemaVersion(conn);
  if (!current.ok()) return fail(current.status());
  int latest = LatestVersion(migrations);
  if (*current > latest) {
    return fail(Conflict("database schema version " + std::to_string(*current) +
                         " is newer than this carnet (knows up to " + std::to_string(latest) +
                         "); refusing to start"));
  }
  std::vector<const Migration*> todo;
  for (const auto& m : migrations)
    if (m.version > *current) todo.push_back(&m);
  std::sort(todo.begin(), todo.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  for (const Migration* m : todo) {
    auto r = conn.Exec(m->sql);
    if (!r.ok()) {
      return fail(Internal("migration " + std::to_string(m->version) + " (" + m->name +
                           ") failed: " + r.status().message()));
    }
    auto rec = conn.Run(kRecordVersion, {SqlParam::Text(std::to_string(m->version)),
                                         SqlParam::Text(m->name)});
    if (!rec.ok()) return fail(rec.status());
  }
  auto commit = conn.Exec("COMMIT");
  if (!commit.ok()) return commit.status();
  return Status::Ok();
}

Result<std::vector<const Migration*>> PendingMigrations(Connection& conn,
                                                        const std::vector<Migration>& migrations) {
  auto current = CurrentSchemaVersion(conn);
  if (!current.ok()) return current.status();
  int latest = LatestVersion(migrations);
  if (*current > latest)
    return Conflict("database schema version " + std::to_string(*current) +
                    " is newer than this carnet (knows up to " + std::to_string(latest) + ")");
  std::vector<const Migration*> todo;
  for (const auto& m : migrations)
    if (m.version > *current) todo.push_back(&m);
  std::sort(todo.begin(), todo.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  return todo;
}

}  // namespace carnet::storage
