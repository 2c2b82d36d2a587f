// Numbered SQL migrations of the dossier schema.
//
// Files storage/migrations/NNNN_name.sql are compiled into the binary. At start-up
// ApplyMigrations brings the database to the newest version in one transaction, recorded
// in schema_version; a database newer than this code is refused rather than used.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/connection.h"

namespace carnet::storage {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& BuiltinMigrations();

// Highest version in `migrations` (0 if empty).
int LatestVersion(const std::vector<Migration>& migrations);

// Version recorded in the database; 0 for an empty database.
Result<int> CurrentSchemaVersion(Connection& conn);

// Applies every migration newer than the database's version, all in one transaction, under
// an advisory lock so that two gateways starting together do not race. Fails with
// kConflict when the database is newer than the newest migration known here.
Status ApplyMigrations(Connection& conn, const std::vector<Migration>& migrations);

// What ApplyMigrations would apply, in order, without changing anything (`carnet-gateway
// migrate --dry-run`): the migrations newer than the database's version. kConflict when the
// database is newer than the newest migration known here.
Result<std::vector<const Migration*>> PendingMigrations(Connection& conn,
                                                        const std::vector<Migration>& migrations);

}  // namespace carnet::storage
