// `carnet-gateway backup`, `restore` and `migrate --dry-run`: what an operator needs to move a
// store to a new machine and to see what an upgrade will change (README "Operating carnet").
//
// A backup is a directory:
//   database.dump   pg_dump custom format of the whole database, one snapshot: resources,
//                   their history, the XDS registry, every document's bytes (document_content),
//                   the audit chain and its heads, the outbox
//   keys/           the files of DATA_DIR/keys (carnet's own signing keys: SMART, development)
//   etc/            the configuration file and the files it names (jwks_file,
//                   habilitation_matrix_file, client_organisations_file), when set; not
//                   restored automatically
//   INFO            format, creation time, schema version, carnet's newest migration
//   MANIFEST        "SHA256  path" of every other file (sha256sum -c MANIFEST checks it)
// carnet keeps no document content outside the database, so the dump is the whole store.
#pragma once

#include <ostream>
#include <string>

#include "base/status.h"
#include "server/config.h"

namespace carnet {

// Writes a backup to `out_dir`, which must not exist yet (it is written beside it under a
// temporary name and renamed when complete, so that a directory named out_dir is always a
// whole backup). Progress lines go to `log`.
Status BackupStore(const Config& config, const std::string& out_dir, std::ostream& log);

// Restores the backup in `from_dir` onto the database of `config` (which must hold no table:
// a new cluster or an empty database) and its data_dir/keys, after checking every file
// against MANIFEST and the schema version against this binary's migrations; then verifies the
// audit chains of the restored database. Nothing is written when a check fails first.
Status RestoreStore(const Config& config, const std::string& from_dir, std::ostream& log);

// Prints the migrations `migrate` would apply to the database of `config`, each with what it
// changes (its leading comment and the first line of each statement), and applies none.
Status MigrateDryRun(const Config& config, std::ostream& out);

}  // namespace carnet
