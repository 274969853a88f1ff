#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests: its own data folder and port.
#   scripts/postgres.sh start [DIR] [PORT]   prints the URL to export as FLEETKEY_TEST_POSTGRES
#   scripts/postgres.sh stop  [DIR]
# Uses Debian's postgresql package (apt-get install postgresql). PostgreSQL refuses to run as
# root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:-/tmp/fleetkey-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

case "$cmd" in
  start)
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_pg "'$bin/initdb' -D '$dir/data' -U fleetkey --auth=trust -E UTF8 >'$dir/initdb.log' 2>&1"
    as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1\" start >/dev/null"
    as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U fleetkey fleetkey"
    echo "postgres://fleetkey@127.0.0.1:$port/fleetkey"
    ;;
  stop)
    as_pg "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
