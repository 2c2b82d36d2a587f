#!/usr/bin/env bash
# bench/access_history_timing.sh [EVENTS] [EVERY]: the access history of one document
# (AuditEvent?patient=&entity=, storage::ReadAuditEvents) on one record of EVENTS (50000)
# events, one in EVERY (500) naming DocumentReference/d1, before and after migration 0017
# (issue 20), in a scratch database next to CARNET_TEST_DB's. Applies the migrations' SQL
# with psql up to 0016, seeds, times the statement as it was (a filter over every event of
# the record), applies 0017 (timed: the backfill), and times the statement of
# storage/audit_store.cc over audit_event_entity. Prints the median of 5 runs (a page of 20
# and the look-ahead), in ms. E.g.
#   CARNET_TEST_DB="host=$T/run dbname=carnet user=carnet" bench/access_history_timing.sh
set -euo pipefail
DB=${CARNET_TEST_DB:?set CARNET_TEST_DB}
N=${1:-50000}
EVERY=${2:-500}
cd "$(dirname "$0")/.."
SCRATCH=carnet_access_history_$$
psql "$DB" -qc "CREATE DATABASE $SCRATCH"
trap 'psql "$DB" -qc "DROP DATABASE IF EXISTS $SCRATCH"' EXIT
P=(psql "$DB dbname=$SCRATCH" -q -v ON_ERROR_STOP=1)
for f in storage/migrations/00*.sql; do
  case "$f" in *0017_*) break ;; esac
  "${P[@]}" -f "$f" >/dev/null
done
"${P[@]}" >/dev/null <<SQL
INSERT INTO patient (resource_id, ins, ins_system) VALUES ('p1', '1770675000001', '1.2.250.1.213.1.4.8');
INSERT INTO audit_event (patient_key, recorded, action, outcome, actor_id, actor_kind, content, hash)
SELECT 1, now() - ($N - g) * interval '1 minute', 'R', '0', '81000000000' || (g % 7), 'professional',
  '{"resourceType":"AuditEvent","id":"' || gen_random_uuid() || '","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest"},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read"}],"action":"R","recorded":"2026-12-06T08:40:01.123Z","outcome":"0","agent":[{"who":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000001"}},"requestor":true,"network":{"address":"127.0.0.1","type":"2"}}],"source":{"observer":{"display":"carnet"}},"entity":[{"what":{"reference":"Patient/p1","identifier":{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1770675000001"}},"type":{"code":"1"},"role":{"code":"1"}},{"what":{"reference":"'
  || CASE WHEN g % $EVERY = 0 THEN 'DocumentReference/d1' || CASE WHEN g % (2 * $EVERY) = 0 THEN '/_history/2' ELSE '' END
          ELSE 'DocumentReference/o' || (g % 3000) END
  || '"},"type":{"code":"2"},"role":{"code":"4"}},{"what":{"identifier":{"value":"req-' || g || '"}},"type":{"code":"XrequestId"}}]}',
  '\x00'
FROM generate_series(1, $N) g;
ANALYZE;
SQL
# The median of 5 timed runs of EXECUTE $1 (after one to warm up).
time_page() {
  local stmt=$1 prepare=$2
  { echo "$prepare"; echo "EXECUTE $stmt;"; echo '\timing on';
    for _ in 1 2 3 4 5; do echo "EXECUTE $stmt;"; done; } |
    "${P[@]}" -o /dev/null | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | sed -n 3p
}
OLD="PREPARE page(text,text,text,text,text,text,text) AS SELECT seq, content FROM audit_event
WHERE patient_key = ANY(\$1::bigint[]) AND (\$2 = '' OR recorded >= \$2::timestamptz)
AND (\$3 = '' OR recorded <= \$3::timestamptz) AND (\$4 = '' OR actor_id = \$4)
AND (\$5 = '' OR seq < \$5::bigint) AND (\$7 = '{}' OR EXISTS (SELECT 1 FROM jsonb_array_elements(
coalesce(content::jsonb -> 'entity', '[]'::jsonb)) e WHERE regexp_replace(e -> 'what' ->> 'reference',
'/_history/[^/]*\$', '') = ANY(\$7::text[]))) ORDER BY seq DESC LIMIT \$6::int;"
NEW="PREPARE page(text,text,text,text,text,text,text) AS SELECT a.seq, a.content FROM audit_event a
WHERE a.seq IN (SELECT m.seq FROM unnest(\$1::bigint[]) AS k(key) CROSS JOIN unnest(\$7::text[]) AS r(ref)
CROSS JOIN LATERAL (SELECT x.seq FROM audit_event_entity x JOIN audit_event e ON e.seq = x.seq
WHERE x.patient_key = k.key AND x.reference = r.ref
AND x.seq < coalesce(nullif(\$5::text, '')::bigint, 9223372036854775807)
AND (\$2 = '' OR e.recorded >= \$2::timestamptz) AND (\$3 = '' OR e.recorded <= \$3::timestamptz)
AND (\$4 = '' OR e.actor_id = \$4) ORDER BY x.seq DESC LIMIT \$6::int) AS m)
ORDER BY a.seq DESC LIMIT \$6::int;"
NOENTITY="PREPARE page(text,text,text,text,text,text) AS SELECT seq, content FROM audit_event
WHERE patient_key = ANY(\$1::bigint[]) AND (\$2 = '' OR recorded >= \$2::timestamptz)
AND (\$3 = '' OR recorded <= \$3::timestamptz) AND (\$4 = '' OR actor_id = \$4)
AND (\$5 = '' OR seq < \$5::bigint) ORDER BY seq DESC LIMIT \$6::int;"
echo "record of $N events, DocumentReference/d1 in one of $EVERY"
printf '%-44s %10s\n' "before (0016), entity=DocumentReference/d1" \
  "$(time_page "page('{1}','','','','','21','{DocumentReference/d1}')" "$OLD") ms"
printf '%-44s %10s\n' "before (0016), entity= a document never read" \
  "$(time_page "page('{1}','','','','','21','{DocumentReference/none}')" "$OLD") ms"
printf '%-44s %10s\n' "before (0016), no entity" \
  "$(time_page "page('{1}','','','','','21','{}')" "$OLD") ms"
start=$(date +%s%N)
"${P[@]}" -f storage/migrations/0017_audit_entity.sql >/dev/null
printf '%-44s %10s\n' "migration 0017 (backfill)" "$(( ($(date +%s%N) - start) / 1000000 )) ms"
printf '%-44s %10s\n' "after (0017), entity=DocumentReference/d1" \
  "$(time_page "page('{1}','','','','','21','{DocumentReference/d1}')" "$NEW") ms"
printf '%-44s %10s\n' "after (0017), entity= a document never read" \
  "$(time_page "page('{1}','','','','','21','{DocumentReference/none}')" "$NEW") ms"
last=$("${P[@]}" -Atc "SELECT min(seq) FROM (SELECT seq FROM audit_event_entity WHERE reference = 'DocumentReference/d1' ORDER BY seq DESC LIMIT 80) s")
printf '%-44s %10s\n' "after (0017), d1, the 5th page (_cursor)" \
  "$(time_page "page('{1}','','','','$last','21','{DocumentReference/d1}')" "$NEW") ms"
printf '%-44s %10s\n' "after (0017), no entity" \
  "$(time_page "page('{1}','','','','','21')" "$NOENTITY") ms"
