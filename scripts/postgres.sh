#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests: its own data folder and port.
#   scripts/postgres.sh start [DIR] [PORT]   prints the URL to export as FLEETKEY_TEST_POSTGRES
#   scripts/postgres.sh stop  [DIR]
#   scripts/postgres.sh create-db [URL]      a new empty database on URL's server (default
#                                            $FLEETKEY_TEST_POSTGRES); prints its URL
#   scripts/postgres.sh drop-db DB_URL       drops a database create-db made
# Uses Debian's postgresql package (apt-get install postgresql). PostgreSQL refuses to run as
# root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:-/tmp/fleetkey-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
# create-db and drop-db need only the client: psql from PATH, else the server package's.
psql=$(command -v psql || echo "$bin/psql")
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

case "$cmd" in
  start)
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_pg "'$bin/initdb' -D '$dir/data' -U fleetkey --auth=trust -E UTF8 >'$dir/initdb.log' 2>&1"
    # Throwaway data, so no durability: without fsync every CREATE/DROP DATABASE (the tests make
    # hundreds) stops waiting for its checkpoint to reach the disk.
    as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null"
    as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U fleetkey fleetkey"
    echo "postgres://fleetkey@127.0.0.1:$port/fleetkey"
    ;;
  stop)
    as_pg "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  create-db)
    # For test suites that start `fleetkey serve --database`: each gets a database of its own, so
    # runs never see each other's things (or CA). psql is a client, so no as_pg here.
    url=${2:-${FLEETKEY_TEST_POSTGRES:?FLEETKEY_TEST_POSTGRES is not set (scripts/postgres.sh start prints it)}}
    case "$url" in postgres://*|postgresql://*) ;; *) echo "create-db needs a postgres:// URL, not '$url'" >&2; exit 2 ;; esac
    name=fk_test_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    "$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -c "CREATE DATABASE $name" >/dev/null
    base=${url%%\?*}
    echo "${base%/*}/$name${url#"$base"}"
    ;;
  drop-db)
    url=${2:?drop-db needs the URL create-db printed}
    base=${url%%\?*}
    name=${base##*/}
    # Only what create-db made: a typo must never drop a real database.
    [[ "$name" =~ ^fk_test_[0-9a-f]+$ ]] || { echo "drop-db: '$name' was not made by create-db" >&2; exit 2; }
    # Connected to the server's own database (the one FLEETKEY_TEST_POSTGRES names, else postgres), since
    # a database cannot be dropped from inside itself; FORCE ends a server's connections left behind.
    admin=${FLEETKEY_TEST_POSTGRES:-${base%/*}/postgres${url#"$base"}}
    "$psql" -X -q -v ON_ERROR_STOP=1 -d "$admin" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
    ;;
  *) echo "usage: $0 start|stop [DIR] [PORT] | create-db [URL] | drop-db DB_URL" >&2; exit 2 ;;
esac
