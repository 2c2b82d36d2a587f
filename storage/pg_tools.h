// PostgreSQL's own client programs (pg_dump, pg_restore) run against the gateway's database:
// the database half of `carnet-gateway backup` and `restore` (server/backup.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/connection.h"

namespace carnet::storage {

// Writes a consistent dump of the database at `conninfo` (one snapshot: pg_dump runs in a
// repeatable-read transaction, so the audit chain, the resources and the document bytes it
// holds belong to the same instant) in pg_dump's custom format to `out_file`, running
// BIN_DIR/pg_dump. Unavailable when the program cannot be run, Internal with pg_dump's own
// message when it fails.
Status DumpDatabase(const std::string& bin_dir, const std::string& conninfo,
                    const std::string& out_file);

// Restores a dump made by DumpDatabase into the (empty) database at `conninfo`, in one
// transaction (nothing is left behind when it fails), owned by the connecting role: the
// original role names and grants are not carried over (--no-owner --no-privileges).
Status RestoreDatabase(const std::string& bin_dir, const std::string& conninfo,
                       const std::string& dump_file);

// The tables of the current schema (a fresh database has none).
Result<std::vector<std::string>> UserTables(Connection& conn);

// Runs `argv` (argv[0] a path) without a shell and waits; ok when it exits 0, else a status
// holding the tail of what it wrote on standard error. For PostgreSQL's programs.
Status RunProgram(const std::vector<std::string>& argv);

}  // namespace carnet::storage
