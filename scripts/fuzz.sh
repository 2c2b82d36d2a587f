#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan, in build-fuzz/) and runs them.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     (default: all, 60 s each)
# One line per target; exit 1 when any target found a crash, a leak, UB or a timeout, whose
# input stays in build-fuzz/findings/TARGET/. The corpus grows in build-fuzz/corpus/TARGET/
# (kept across runs), seeded from the repository's test data (fuzz/seeds.py) and fuzz/corpus/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${CARNET_FUZZ_BUILD:-$ROOT/build-fuzz}
TARGETS=(json http_head jwt fhirpath cda_header cda_entries fhir_xml json_patch search soap mtom ebrim mail)

target=${1:-all}
seconds=${2:-60}
if [ "$target" = all ]; then
  selected=("${TARGETS[@]}")
elif [[ " ${TARGETS[*]} " == *" $target "* ]]; then
  selected=("$target")
else
  echo "carnet fuzz: unknown target '$target' (one of: ${TARGETS[*]}, all)" >&2
  exit 2
fi
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "carnet fuzz: seconds must be a number" >&2; exit 2; }

dict_for() {
  case "$1" in
    json | json_patch | jwt) echo json ;;
    fhirpath) echo fhirpath ;;
    http_head | search) echo http ;;
    mail) echo mail ;;
    *) echo xml ;;
  esac
}

# Build (the libraries the targets link, and the targets; never the server or the tests).
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$OUT" -DCARNET_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
build_targets=()
for t in "${selected[@]}"; do build_targets+=(--target "${t}_fuzzer"); done
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$OUT"
rc=0
cmake --build "$OUT" -j"$jobs" "${build_targets[@]}" >"$OUT/last-build.log" 2>&1 || rc=$?
grep -aE 'error|Error' "$OUT/last-build.log" || true
[ "$rc" -eq 0 ] || { echo "carnet fuzz: build failed ($OUT/last-build.log)" >&2; exit 1; }

python3 "$ROOT/fuzz/seeds.py" "$OUT/seeds"

failed=0
for t in "${selected[@]}"; do
  corpus="$OUT/corpus/$t"
  findings="$OUT/findings/$t"
  mkdir -p "$corpus" "$findings" "$OUT/seeds/$t" "$ROOT/fuzz/corpus/$t"
  log="$OUT/logs/$t.log"
  mkdir -p "$OUT/logs"
  rc=0
  # The first directory receives what the run finds; the others are read-only seeds.
  # Leaks are findings (ASan's leak check at exit of each input that allocated); -timeout
  # makes a pathologically slow input one too.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$OUT/${t}_fuzzer" "$corpus" "$OUT/seeds/$t" "$ROOT/fuzz/corpus/$t" \
    -dict="$ROOT/fuzz/$(dict_for "$t").dict" -max_total_time="$seconds" -timeout=25 \
    -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -ao '[0-9]*$' | tail -1 || true)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | grep -ao '[0-9]*' || true)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    printf '%-12s ok     %4ss %10s execs  cov %6s  corpus %5s\n' "$t" "$seconds" "${execs:-?}" \
      "${cov:-?}" "$units"
  else
    failed=1
    artifact=$(grep -ao "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
    kind=$(grep -a -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z -]+|runtime error: .*' "$log" | head -c 100)
    printf '%-12s FAILED %s  input %s  log %s\n' "$t" "${kind:-exit $rc}" "${artifact:-?}" "$log"
  fi
done
exit "$failed"
