#!/usr/bin/env bash
# bench/create_latency.sh GATEWAY_BINARY N: N sequential Observation creates into one patient
# over one keep-alive connection, against GATEWAY_BINARY serving on a free port with the
# database of CARNET_TEST_DB; prints the statuses and microseconds per create (wall clock,
# commit and audit included). Compares two builds of the write path at the HTTP level, e.g.
#   bench/create_latency.sh /work/main/build/carnet-gateway 200
#   bench/create_latency.sh build/carnet-gateway 200
set -euo pipefail
BIN=$(realpath "$1")
N=${2:-200}
DB=${CARNET_TEST_DB:?set CARNET_TEST_DB}
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
GW=
cleanup() {
  [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
TOKEN=$("$BIN" token --data "$WORK" --actor system --id lab-1 --client-id lab-1 \
        --scope 'system/*.cruds' 2>/dev/null | tail -1)
"$BIN" serve --port "$PORT" --db "$DB" --data "$WORK" --trust-dev-key true >"$WORK/gateway.log" 2>&1 &
GW=$!
for _ in $(seq 50); do curl -sf "127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
DIV='"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Weight 70 kg</div>"}'
PID=bench-$RANDOM$RANDOM
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json' \
  "127.0.0.1:$PORT/fhir/Patient/$PID" \
  -d '{"resourceType":"Patient","id":"'"$PID"'",'"$DIV"',"name":[{"family":"Bench"}]}'
cat >"$WORK/obs.json" <<JSON
{"resourceType":"Observation",$DIV,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},"subject":{"reference":"Patient/$PID"},"effectivePeriod":{"start":"2024-05-01T10:00:00Z","end":"2024-05-01T10:05:00Z"},"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},"referenceRange":[{"low":{"value":40,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}]}
JSON
# One curl process, one connection: a config block per request, separated by `next`.
for i in $(seq "$N"); do
  [ "$i" -gt 1 ] && echo next
  printf 'url = "http://127.0.0.1:%s/fhir/Observation"\nrequest = POST\ndata = "@%s"\n' "$PORT" "$WORK/obs.json"
  printf 'output = /dev/null\nwrite-out = "%%{http_code}\\n"\nheader = "Authorization: Bearer %s"\n' "$TOKEN"
  printf 'header = "Content-Type: application/fhir+json"\n'
done >"$WORK/requests.cfg"
start=$(date +%s%N)
statuses=$(curl -s -K "$WORK/requests.cfg" | sort | uniq -c | tr -s ' \n' ' ')
end=$(date +%s%N)
echo "$BIN: $N creates (statuses:$statuses): $(( (end - start) / N / 1000 )) us per create"
