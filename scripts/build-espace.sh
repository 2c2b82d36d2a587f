#!/usr/bin/env bash
# Builds the patient's web space (espace/: Preact + TypeScript, bundled by Vite) into OUT
# (default build/espace), which the gateway serves under /espace/. The npm packages come from
# espace/package-lock.json (npm ci, only when the lock file is newer than what is installed).
# Run by the CMake target `espace` (part of ALL).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/build/espace}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT/espace"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.package-lock.json
fi
node_modules/.bin/tsc --noEmit
ESPACE_OUT_DIR="$OUT" node_modules/.bin/vite build --logLevel warn
