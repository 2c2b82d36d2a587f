// What the gateway's own endpoints ask the database: the readiness probe's schema version
// and the debug route that holds a connection (server/gateway.h).
#pragma once

#include <string>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The newest version recorded in schema_version (0 when the table is empty). Unlike
// CurrentSchemaVersion (storage/migrations.h) it fails when the table is missing: the probe
// reports that database as unavailable rather than as merely unmigrated.
Result<int> RecordedSchemaVersion(Transaction& tx);

// Keeps the transaction's connection busy in the server for `ms` milliseconds (pg_sleep), so
// that tests can observe a request in flight. `ms` is the caller's text, passed as is: the
// server parses it (and fails the statement when it is no number).
Status HoldConnection(Transaction& tx, const std::string& ms);

}  // namespace carnet::storage
