#!/usr/bin/env bash
# Installs what carnet needs from Debian's packages (only what is missing, quietly when
# nothing is), then builds it (Release) into build/. Sourced by ./carnet.
set -euo pipefail

CARNET_PACKAGES=(
  g++ cmake make pkg-config git ca-certificates
  libpistache-dev rapidjson-dev libpugixml-dev libcurl4-openssl-dev libssl-dev libpq-dev
  libgtest-dev postgresql-15 postgresql-client-15
  python3-aiosmtpd  # the local SMTP server the notification tests deliver to
  libical-dev       # the agenda's iCalendar feed (RFC 5545), written by agenda/icalendar.h
  libgmime-3.0-dev  # the MIME parser of mail received by carnet (mail/mime.h, issue 17)
  # The patient summary's PDF (summary/pdf.cc): Cairo's PDF surface and Pango's text layout
  # (UTF-8 shaping, line breaking), with a font that has every French letter.
  libcairo2-dev libpango1.0-dev fonts-dejavu-core
  poppler-utils  # pdftotext, pdfinfo, pdftoppm: the summary tests read the PDF back
  chromium       # the patient's web space is tested in it (tests/espace/run.sh, headless)
)
# The fuzz build (`./carnet fuzz`, and briefly in `./carnet test`): clang with libFuzzer and
# the sanitizer runtimes; python3 selects the seed corpora.
CARNET_FUZZ_PACKAGES=(clang libclang-rt-dev python3)
# What the operations tests need (`./carnet test`: ctest package and nginx): dpkg-shlibdeps for
# the Debian package's dependencies (scripts/package.sh), Debian's nginx with its stream module
# for the reverse-proxy example (deploy/nginx). On a machine running systemd, Debian's nginx
# package starts its default site on port 80: `systemctl disable --now nginx` if unwanted.
CARNET_OPS_PACKAGES=(dpkg-dev nginx libnginx-mod-stream)

# Extra package names (CARNET_FUZZ_PACKAGES) may be given as arguments.
carnet_install_packages() {
  local missing=()
  # Node.js drives the ecosystem FHIR client in the tests and builds the patient's web space
  # (npm ci + Vite, scripts/build-espace.sh); the machine image usually has it.
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  for p in "${CARNET_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "carnet: missing packages (${missing[*]}); run as root or install them" >&2
    return 1
  fi
  echo "carnet: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

carnet_build() {
  local root=$1
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  if [ ! -f "$root/build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  # The build's own status decides (a status read after `|| true` would be true's).
  local rc=0
  cmake --build "$root/build" -j"$jobs" >"$root/build/last-build.log" 2>&1 || rc=$?
  grep -vE '^\[ *[0-9]+%\]|^Consolidate|^-- ' "$root/build/last-build.log" || true
  [ "$rc" -eq 0 ] || { echo "carnet: build failed (build/last-build.log)" >&2; return 1; }
}

# The test clients from the npm registry (pinned by their package-lock.json).
carnet_install_test_clients() {
  local root=$1
  local dir pkg pair
  for pair in fhir-kit:fhir-kit-client fhirclient:fhirclient; do
    dir="$root/tests/clients/${pair%%:*}"
    pkg="${pair#*:}"
    if [ ! -d "$dir/node_modules/$pkg" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null) ||
        { echo "carnet: npm ci failed in $dir" >&2; return 1; }
    fi
  done
}
