#!/usr/bin/env bash
# bench/access_history_http.sh GATEWAY_BINARY [EVENTS] [EVERY]: the patient's "who looked at
# this document" over HTTP (GET /fhir/AuditEvent?patient=&entity=DocumentReference/d1, a page
# of 20), against GATEWAY_BINARY serving a scratch database next to CARNET_TEST_DB's, one
# record holding EVENTS (50000) events of which one in EVERY (500) names d1 (seeded in SQL
# after the gateway migrated the database). Prints the median of 5 requests (curl's
# time_total) for d1, for a document never read, and without entity. Compares two builds:
#   bench/access_history_http.sh /tmp/carnet-gateway-before
#   bench/access_history_http.sh build/carnet-gateway
set -euo pipefail
BIN=$(realpath "$1")
N=${2:-50000}
EVERY=${3:-500}
DB=${CARNET_TEST_DB:?set CARNET_TEST_DB}
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
SCRATCH=carnet_access_http_$$
GW=
cleanup() {
  [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || true
  psql "$DB" -qc "DROP DATABASE IF EXISTS $SCRATCH" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql "$DB" -qc "CREATE DATABASE $SCRATCH"
SDB="$DB dbname=$SCRATCH"
OPS=$("$BIN" token --data "$WORK" --actor operator --id ops-1 2>/dev/null | tail -1)
"$BIN" serve --port "$PORT" --db "$SDB" --data "$WORK" --trust-dev-key true >"$WORK/gateway.log" 2>&1 &
GW=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
INS=2770675000042
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $OPS" -H 'Content-Type: application/fhir+json' \
  "127.0.0.1:$PORT/fhir/Patient/p1" \
  -d '{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"'$INS'"}]}'
PATIENT=$("$BIN" token --data "$WORK" --actor patient --id p-1 --patient $INS 2>/dev/null | tail -1)
# The events, as a professional's reads would have left them (the chain is not rebuilt:
# audit-verify would report this record, which the timing does not need).
psql "$SDB" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO audit_event (patient_key, recorded, action, outcome, actor_id, actor_kind, content, hash)
SELECT p.patient_key, now() - ($N - g) * interval '1 minute', 'R', '0', '81000000000' || (g % 7), 'professional',
  '{"resourceType":"AuditEvent","id":"' || gen_random_uuid() || '","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest"},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read"}],"action":"R","recorded":"2026-12-06T08:40:01.123Z","outcome":"0","agent":[{"who":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000001"}},"requestor":true,"network":{"address":"127.0.0.1","type":"2"}}],"source":{"observer":{"display":"carnet"}},"entity":[{"what":{"reference":"Patient/p1"},"type":{"code":"1"},"role":{"code":"1"}},{"what":{"reference":"'
  || CASE WHEN g % $EVERY = 0 THEN 'DocumentReference/d1' ELSE 'DocumentReference/o' || (g % 3000) END
  || '"},"type":{"code":"2"},"role":{"code":"4"}}]}', '\x00'
FROM generate_series(1, $N) g, patient p WHERE p.resource_id = 'p1';
SELECT 1 FROM pg_proc WHERE proname = 'audit_entity_refs';
SQL
# After migration 0017 the index rows go with the events (as the append writes them).
if [ "$(psql "$SDB" -Atc "SELECT count(*) FROM pg_class WHERE relname = 'audit_event_entity'")" = 1 ]; then
  psql "$SDB" -qc "INSERT INTO audit_event_entity (patient_key, reference, seq) SELECT a.patient_key, r.ref, a.seq FROM audit_event a, audit_entity_refs(a.content) AS r(ref) WHERE a.patient_key IS NOT NULL ON CONFLICT DO NOTHING"
fi
psql "$SDB" -qc "ANALYZE"
page() {
  for _ in 1 2 3 4 5 6; do
    curl -s -o "$WORK/page.json" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $PATIENT" \
      "127.0.0.1:$PORT/fhir/AuditEvent?patient=p1&_count=20$1"
  done | tail -5 | awk '{ if ($1 != 200) bad = 1; print $2 * 1000 } END { if (bad) print "non-200" > "/dev/stderr" }' |
    sort -n | sed -n 3p
}
entries() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("entry", [])))' "$WORK/page.json"; }
echo "$(basename "$BIN"): record of $N events, DocumentReference/d1 in one of $EVERY (median of 5)"
for q in '&entity=DocumentReference/d1' '&entity=DocumentReference/none' ''; do
  t=$(page "$q")
  label=${q#&}
  printf '  %-36s %8s ms  (%s entries)\n' "${label:-no entity}" "$t" "$(entries)"
done
