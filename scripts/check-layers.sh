#!/usr/bin/env bash
# The layering as a build-level check (run by ./carnet test as the ctest test `layers`):
# every #include "folder/..." of a layer folder names a folder the table below allows, so
# that dependencies point down (server -> fhir, xds, mail -> dossier -> mapping -> profiles, model,
# storage -> base; fhir -> agenda, prevention, summary -> model) and the two protocol faces, fhir/ and
# xds/, never include each other; only storage/ speaks to PostgreSQL (libpq-fe.h); and the
# folders already migrated hold no SQL (below). Prints each violation as file:line and exits 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# folder: the folders its files may include (besides its own).
declare -A allowed=(
  [base]=""
  [model]="base"
  [storage]="base"
  [profiles]="base storage"
  [mapping]="base storage profiles model"
  [dossier]="base storage profiles model mapping health_profile"
  [agenda]="base model"
  [health_profile]="base model"
  [prevention]="base model"
  [summary]="base profiles model"
  [fhir]="base storage profiles model mapping dossier agenda health_profile prevention summary"
  [xds]="base storage profiles model mapping dossier"
  [mail]="base storage profiles model mapping dossier health_profile"
  [conformance]="base profiles model"
  [server]="base storage profiles model mapping dossier agenda health_profile fhir xds mail conformance prevention summary"
  [bench]="base storage profiles model mapping dossier fhir xds"
)

bad=0
rules=""
for folder in "${!allowed[@]}"; do rules+="$folder=${allowed[$folder]};"; done
# One pass over every include line: "file:line:#include "folder/...".
grep -rnE '^#include "[a-z_]+/' "${!allowed[@]}" --include='*.h' --include='*.cc' |
  awk -v rules="$rules" '
    BEGIN {
      n = split(rules, rs, ";")
      for (i = 1; i <= n; i++) if (rs[i] != "") { split(rs[i], kv, "="); ok[kv[1]] = " " kv[2] " " }
    }
    {
      split($0, parts, ":"); file = parts[1]; line = parts[2]
      folder = file; sub(/\/.*/, "", folder)
      target = $0; sub(/.*#include "/, "", target); sub(/\/.*/, "", target)
      if (target == folder || index(ok[folder], " " target " ")) next
      print file ":" line ": " folder "/ may not include " target "/ (allowed:" ok[folder] ")"
      bad = 1
    }
    END { exit bad }' || bad=1

while IFS= read -r hit; do
  case "$hit" in
    storage/*) ;;
    *)
      echo "$hit: only storage/ includes libpq-fe.h"
      bad=1
      ;;
  esac
done < <(grep -rnE '#include <libpq-fe.h>' --include='*.h' --include='*.cc' \
           base model prevention summary agenda health_profile storage profiles mapping dossier fhir xds mail server conformance bench tests \
           || true)

# No SQL outside storage/ (issue 14): a file defines no storage::Statement and holds no SQL in a
# string literal: every layer but storage/ (bench/'s loaders are a tool, not a layer, and keep
# their bulk SQL). Uppercase keywords in the shapes only SQL has, so that words of prose
# ("select", an HTTP DELETE) do not count; comment lines are skipped.
sql_free=(profiles server model prevention summary dossier agenda health_profile fhir xds mapping mail)
sql='\bSELECT\b|\bINSERT INTO\b|\bUPDATE [a-z_]+ SET\b|\bDELETE FROM\b|\bON CONFLICT\b|'
sql+='\bFOR UPDATE\b|\b(CREATE|ALTER|DROP) (TABLE|INDEX)\b|\bTRUNCATE\b|\bpg_[a-z_]+\('
while IFS= read -r hit; do
  echo "$hit: SQL outside storage/ (move it behind a storage/ interface)"
  bad=1
done < <(grep -rnE "\bstorage::Statement\b|\bStatement[[:space:]]+k[A-Z]|\"[^\"]*($sql)" \
           --include='*.h' --include='*.cc' "${sql_free[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)

if [ "$bad" = 0 ]; then echo "layers: every include points down; no SQL in ${sql_free[*]}"; fi
exit "$bad"
