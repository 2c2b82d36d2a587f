#!/usr/bin/env bash
# The ctest `nginx`: deploy/nginx/carnet.conf and carnet-mtls-stream.conf as written (only the
# addresses, ports and certificate paths changed) in Debian's nginx, on loopback, in front of
# two gateways on the test database: HTTPS requests are answered and reach both gateways,
# plain HTTP redirects, and mutual-TLS callers pass through to the gateways' own mTLS
# listeners (a client certificate from the CA gets in, none does not).
#   tests/nginx/run.sh BUILD_DIR      (CARNET_TEST_DB names the test database)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
: "${CARNET_TEST_DB:?CARNET_TEST_DB names the test database (./carnet test sets it)}"
command -v nginx >/dev/null || { echo "nginx test: nginx is not installed (scripts/setup.sh)"; exit 1; }

tmp=$(mktemp -d /tmp/carnet-nginx.XXXXXX)
pids=()
fail() { echo "nginx test: FAIL: $*" >&2; for f in "$tmp"/gw*.log "$tmp"/error.log; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; } >&2; done; exit 1; }
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Certificates: a CA, the proxy's server certificate, the gateways' mTLS server certificate,
# a hospital system's client certificate.
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout "$tmp/ca.key" -out "$tmp/ca.pem"
for c in proxy:127.0.0.1 gateway:127.0.0.1 chu:chu-lyon-dpi; do
  name=${c%%:*} cn=${c#*:}
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n' >"$tmp/$name.ext"
  ssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$tmp/$name.key" -out "$tmp/$name.csr"
  ssl x509 -req -days 2 -in "$tmp/$name.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -extfile "$tmp/$name.ext" -out "$tmp/$name.pem"
done
printf 'chu-lyon-dpi\t690781810\n' >"$tmp/organisations.tsv"

# Two gateways on the same database.
gw=() tls=()
for i in 1 2; do
  gw[$i]=$(free_port) tls[$i]=$(free_port)
  "$BUILD/carnet-gateway" serve --port "${gw[$i]}" --db "$CARNET_TEST_DB" --data "$tmp/data" \
    --trust-dev-key true --tls-port "${tls[$i]}" --tls-cert-file "$tmp/gateway.pem" \
    --tls-key-file "$tmp/gateway.key" --tls-client-ca-file "$tmp/ca.pem" \
    --client-organisations-file "$tmp/organisations.tsv" >"$tmp/gw$i.log" 2>&1 &
  pids+=($!)
done

# nginx with the example files.
https=$(free_port) http=$(free_port) mtls=$(free_port)
sed -e "s|127.0.0.1:8081|127.0.0.1:${gw[1]}|; s|127.0.0.1:8082|127.0.0.1:${gw[2]}|" \
  -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https ssl http2;|; s|listen 80;|listen 127.0.0.1:$http;|" \
  -e '/listen \[::\]/d' \
  -e "s|/etc/ssl/carnet/fullchain.pem|$tmp/proxy.pem|; s|/etc/ssl/carnet/privkey.pem|$tmp/proxy.key|" \
  "$ROOT/deploy/nginx/carnet.conf" >"$tmp/carnet.conf"
sed -e "s|127.0.0.1:8441|127.0.0.1:${tls[1]}|; s|127.0.0.1:8442|127.0.0.1:${tls[2]}|" \
  -e "s|listen 8443;|listen 127.0.0.1:$mtls;|" -e '/listen \[::\]/d' \
  "$ROOT/deploy/nginx/carnet-mtls-stream.conf" >"$tmp/carnet-mtls-stream.conf"
# What is tested is the example: the files differ only in addresses, ports and certificates.
strip() { grep -v -e listen -e ssl_certificate "$1" | sed -E 's/127\.0\.0\.1:[0-9]+//g'; }
for f in carnet.conf carnet-mtls-stream.conf; do
  diff <(strip "$ROOT/deploy/nginx/$f") <(strip "$tmp/$f") >/dev/null ||
    fail "the tested $f differs from deploy/nginx/$f beyond addresses and paths"
done
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 256; }
include $tmp/carnet-mtls-stream.conf;
http {
  access_log $tmp/access.log;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  include $tmp/carnet.conf;
}
CONF
nginx -t -c "$tmp/nginx.conf" -p "$tmp/nginx/" >"$tmp/nginx-t.log" 2>&1 || { cat "$tmp/nginx-t.log"; fail "nginx -t"; }
nginx -c "$tmp/nginx.conf" -p "$tmp/nginx/" -g 'daemon off;' >"$tmp/nginx.log" 2>&1 &
pids+=($!)

wait_200() {
  for _ in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$@")" = 200 ] && return 0
    sleep 0.2
  done
  return 1
}
for i in 1 2; do wait_200 "http://127.0.0.1:${gw[$i]}/readyz" || fail "gateway $i not ready"; done
wait_200 --cacert "$tmp/ca.pem" "https://127.0.0.1:$https/readyz" || fail "no /readyz through nginx"

# HTTPS, terminated by nginx, spread over both gateways.
count() { grep -c "\"path\":\"/fhir/metadata\"" "$tmp/gw$1.log" || true; }
before1=$(count 1) before2=$(count 2)
for _ in $(seq 1 20); do
  code=$(curl -s -o "$tmp/meta.json" -w '%{http_code}' --cacert "$tmp/ca.pem" "https://127.0.0.1:$https/fhir/metadata")
  [ "$code" = 200 ] || fail "GET /fhir/metadata through nginx: $code"
done
grep -q '"CapabilityStatement"' "$tmp/meta.json" || fail "not a CapabilityStatement"
n1=$(( $(count 1) - before1 )) n2=$(( $(count 2) - before2 ))
echo "nginx test: 20 HTTPS requests: gateway 1 served $n1, gateway 2 served $n2"
[ "$n1" -ge 1 ] && [ "$n2" -ge 1 ] && [ $((n1 + n2)) -eq 20 ] || fail "requests did not reach both gateways"
# An identity passes through: the bearer token reaches the gateway.
token=$("$BUILD/carnet-gateway" token --data "$tmp/data" --actor operator --id ops-1 | tail -1)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/ca.pem" -H "Authorization: Bearer $token" \
  "https://127.0.0.1:$https/fhir/Patient?_count=1")
[ "$code" = 200 ] || fail "an authorised search through nginx: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/ca.pem" "https://127.0.0.1:$https/fhir/Patient")
[ "$code" = 401 ] || fail "no token through nginx: $code"
# Plain HTTP redirects to HTTPS.
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http/fhir/metadata")
case "$loc" in "301 https://127.0.0.1/fhir/metadata") ;; *) fail "HTTP redirect: $loc" ;; esac

# Mutual TLS passed through to the gateways: the hospital's certificate gets in, on both.
before1=$(count 1) before2=$(count 2)
for _ in $(seq 1 6); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/ca.pem" --cert "$tmp/chu.pem" \
    --key "$tmp/chu.key" "https://127.0.0.1:$mtls/fhir/metadata")
  [ "$code" = 200 ] || fail "mTLS through nginx: $code"
done
n1=$(( $(count 1) - before1 )) n2=$(( $(count 2) - before2 ))
echo "nginx test: 6 mTLS connections: gateway 1 served $n1, gateway 2 served $n2"
[ "$n1" -ge 1 ] && [ "$n2" -ge 1 ] || fail "mTLS connections did not reach both gateways"
if curl -s -o /dev/null --cacert "$tmp/ca.pem" "https://127.0.0.1:$mtls/fhir/metadata"; then
  fail "a caller without a client certificate got through the mTLS port"
fi
echo "nginx test: passed"
