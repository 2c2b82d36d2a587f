#!/usr/bin/env bash
# The patient's web space in a real browser (ctest `espace`, run by ./carnet test): starts the
# gateway built in BUILD on the test PostgreSQL (CARNET_TEST_PG_DIR, CARNET_TEST_DB), seeds a
# record through the FHIR API, and drives Debian's chromium (headless) with playwright-core
# through every page, axe-core on each. Screenshots: BUILD/test-output/espace/.
#   tests/espace/run.sh BUILD
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BUILD=$(cd "$BUILD" && pwd)
: "${CARNET_TEST_DB:?CARNET_TEST_DB names the test database (./carnet test sets it)}"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "espace: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -f "$BUILD/espace/index.html" ] || { echo "espace: the page is not built (cmake --build build --target espace)" >&2; exit 1; }
# playwright-core and @axe-core/playwright come with the page's own packages (espace/package-lock.json).
[ -d "$ROOT/espace/node_modules/playwright-core" ] || "$ROOT/scripts/build-espace.sh" "$BUILD/espace"
export NODE_PATH="$ROOT/espace/node_modules"
export CARNET_BUILD_DIR="$BUILD" CARNET_SOURCE_DIR="$ROOT"
exec node "$ROOT/tests/espace/espace.test.cjs"
