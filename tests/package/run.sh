#!/usr/bin/env bash
# The ctest `package`: builds the Debian package (scripts/package.sh), installs it on this
# machine with dpkg, points its configuration at a PostgreSQL server reached over TCP (a
# throwaway cluster standing for the site's existing server), starts the service as its unit
# says (systemd when it runs here, else the unit's ExecStart as its User), checks /readyz,
# then purges the package and checks nothing of it is left. Needs root.
#   tests/package/run.sh BUILD_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
[ "$(id -u)" = 0 ] || { echo "package test: needs root (dpkg -i)"; exit 1; }
if dpkg-query -W -f='${Status}' carnet 2>/dev/null | grep -q "ok installed"; then
  echo "package test: a carnet package is installed already; not touching it"; exit 1
fi

tmp=$(mktemp -d /tmp/carnet-package.XXXXXX)
chmod 755 "$tmp"
gw=
fail() { echo "package test: FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
  [ -n "$gw" ] && kill "$gw" 2>/dev/null && wait "$gw" 2>/dev/null || true
  dpkg --purge carnet >/dev/null 2>&1 || true
  "$ROOT/scripts/pg.sh" stop "$tmp" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The package, by the one command.
deb=$("$ROOT/scripts/package.sh" "$BUILD" | tail -1)
[ -f "$deb" ] || fail "scripts/package.sh made no .deb"
# Read whole first: `grep -q` stops at its match, and under pipefail the writer's SIGPIPE (141)
# would fail the check whenever dpkg-deb had more to write.
info=$(dpkg-deb --info "$deb")
grep -q "Depends: .*libpq5" <<<"$info" || fail "Depends lacks libpq5"
echo "package test: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. The site's PostgreSQL: a cluster listening on loopback TCP, role and database carnet.
pgport=$(free_port)
"$ROOT/scripts/pg.sh" init "$tmp" >/dev/null
cat >>"$tmp/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
CONF
sed -i '1i host carnet carnet 127.0.0.1/32 trust' "$tmp/pg/pg_hba.conf"
PGPORT=$pgport "$ROOT/scripts/pg.sh" start "$tmp" >/dev/null  # its socket is named by the port

# 3. Install: the user, the directories, the unit, the configuration.
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
getent passwd carnet >/dev/null || fail "no system user carnet"
[ "$(getent passwd carnet | cut -d: -f3)" -lt 1000 ] || fail "carnet is not a system user"
[ "$(stat -c %U:%a /var/lib/carnet)" = carnet:750 ] || fail "/var/lib/carnet: $(stat -c %U:%a /var/lib/carnet)"
[ "$(stat -c %U:%G:%a /etc/carnet/carnet.conf)" = root:carnet:640 ] || fail "carnet.conf permissions"
unit=/lib/systemd/system/carnet.service
[ -f "$unit" ] || fail "no systemd unit"
[ -x /usr/bin/carnet-gateway ] || fail "no /usr/bin/carnet-gateway"
dpkg-query -W -f='${Conffiles}' carnet | grep -q /etc/carnet/carnet.conf || fail "carnet.conf is not a conffile"

# 4. The operator's step: the configuration names the database server and a port.
port=$(free_port)
sed -i "s|^db = .*|db = host=127.0.0.1 port=$pgport dbname=carnet user=carnet connect_timeout=3|; s|^port = .*|port = $port|" \
  /etc/carnet/carnet.conf

# 5. Start it as the unit says.
user=$(sed -n 's/^User=//p' "$unit")
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$user" = carnet ] || fail "unit runs as '$user'"
if [ -d /run/systemd/system ]; then
  systemctl start carnet.service
else
  # No systemd here (a container): the unit's command, as its user, in its working directory.
  (cd "$(sed -n 's/^WorkingDirectory=//p' "$unit")" &&
    exec setpriv --reuid="$user" --regid="$user" --init-groups -- $exec_start) \
    >"$tmp/gateway.log" 2>&1 &
  gw=$!
fi
ready=
for _ in $(seq 1 150); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
    ready=1; break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { cat "$tmp/gateway.log" 2>/dev/null; fail "/readyz never answered 200"; }
echo "package test: /readyz 200 on port $port, database on 127.0.0.1:$pgport"
if [ -n "$gw" ]; then
  [ "$(ps -o user= -p "$gw" | tr -d ' ')" = carnet ] || fail "gateway not running as carnet"
fi
metadata=$(curl -s "http://127.0.0.1:$port/fhir/metadata")
grep -q '"CapabilityStatement"' <<<"$metadata" || fail "metadata"
# What it keeps goes to its data directory, owned by it.
[ -z "$(find /var/lib/carnet -not -user carnet)" ] || fail "files in /var/lib/carnet not owned by carnet"

# 6. Stop (SIGTERM drains, exit 0), purge: nothing of it left but the system user.
if [ -n "$gw" ]; then
  kill -TERM "$gw"; rc=0; wait "$gw" || rc=$?; gw=
  [ "$rc" = 0 ] || { cat "$tmp/gateway.log"; fail "exit status $rc after SIGTERM"; }
else
  systemctl stop carnet.service
fi
dpkg --purge carnet >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg --purge"; }
for p in /usr/bin/carnet-gateway /etc/carnet /var/lib/carnet "$unit"; do
  [ ! -e "$p" ] || fail "$p left after purge"
done
echo "package test: installed, served /readyz as user carnet, purged"
