#!/usr/bin/env bash
# A private PostgreSQL 15 cluster under a directory of ours: no system service, no TCP port.
#   scripts/pg.sh init DIR    create the cluster in DIR/pg (once) and the carnet database
#   scripts/pg.sh start DIR   start it (unix socket in DIR/run), waiting until it accepts
#   scripts/pg.sh stop DIR    stop it (fast shutdown: sessions rolled back, data kept)
#   scripts/pg.sh status DIR
# initdb and postgres refuse to run as root, so they run as the `postgres` system user that
# Debian's postgresql package creates. The gateway connects as root over the socket, which
# only root and postgres can reach (DIR/run is 0700).
set -euo pipefail

PGBIN=${CARNET_PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh init|start|stop|status DIR}
dir=${2:?usage: pg.sh init|start|stop|status DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/pg"
run="$dir/run"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postgres user must be able to walk down to DIR: grant the execute (traverse) bit on
# any parent that denies it (for example a checkout under a 0700 home directory).
ensure_reachable() {
  [ "$(id -u)" = 0 ] || return 0
  local p="$dir"
  while [ "$p" != "/" ]; do
    if ! runuser -u postgres -- test -x "$p" 2>/dev/null; then
      chmod o+x "$p"
      echo "pg.sh: granted traverse permission on $p so that postgres can reach $dir" >&2
    fi
    p=$(dirname "$p")
  done
}

ctl() { as_postgres "$PGBIN/pg_ctl" -D "$data" "$@"; }

case "$cmd" in
  init)
    ensure_reachable
    mkdir -p "$data" "$run"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$data" "$run"; fi
    chmod 700 "$data" "$run"
    if [ ! -f "$data/PG_VERSION" ]; then
      as_postgres "$PGBIN/initdb" -D "$data" -U carnet --auth-local=trust --auth-host=reject \
        -E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
      cat >>"$data/postgresql.conf" <<CONF
# carnet: unix socket only, never a network interface
listen_addresses = ''
unix_socket_directories = '$run'
max_connections = 200
shared_buffers = 256MB
logging_collector = off
CONF
    fi
    ;;
  start)
    ensure_reachable
    if ctl status >/dev/null 2>&1; then exit 0; fi
    ctl -l "$data/server.log" -w -t 60 start >/dev/null ||
      { tail -20 "$data/server.log" >&2; exit 1; }
    if ! as_postgres "$PGBIN/psql" -h "$run" -U carnet -d postgres -tAc \
         "SELECT 1 FROM pg_database WHERE datname = 'carnet'" | grep -q 1; then
      as_postgres "$PGBIN/createdb" -h "$run" -U carnet carnet
    fi
    ;;
  stop)
    if ctl status >/dev/null 2>&1; then ctl -m fast -w -t 60 stop >/dev/null; fi
    ;;
  status)
    ctl status
    ;;
  *)
    echo "pg.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
