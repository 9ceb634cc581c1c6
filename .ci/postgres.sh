#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests and export FEEDS_TEST_PG_URL.
#
# Source it from .ci/run (`. .ci/postgres.sh`), or run it by hand and eval its last line.
# Idempotent: a server already answering on the port is reused. Debian's packages, an
# initdb into a temporary folder (as the postgres user when run as root: initdb refuses
# root), a non-default port so a developer's own server is left alone, and durability
# off (fsync, synchronous_commit, full_page_writes): the data is thrown away anyway, and
# on slow disks every commit's fsync dominates the queue tests.
# `feeds_pg_stop` stops the server and removes its folder (for a trap in .ci/run).

FEEDS_PG_PORT="${FEEDS_PG_PORT:-54329}"
FEEDS_PG_DIR="${FEEDS_PG_DIR:-${TMPDIR:-/tmp}/feeds-ci-pg}"

feeds_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

feeds_pg_as() {  # run a command as the server's owner
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

feeds_pg_start() {
    local bin
    bin="$(feeds_pg_bin)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        bin="$(feeds_pg_bin)"
    fi
    if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$FEEDS_PG_PORT"; then
        rm -rf "$FEEDS_PG_DIR"
        mkdir -p "$FEEDS_PG_DIR"
        [ "$(id -u)" = 0 ] && chown postgres "$FEEDS_PG_DIR"
        feeds_pg_as "'$bin/initdb' -D '$FEEDS_PG_DIR/data' -A trust -U postgres --no-sync -E UTF8 >'$FEEDS_PG_DIR/initdb.log'"
        feeds_pg_as "'$bin/pg_ctl' -D '$FEEDS_PG_DIR/data' -l '$FEEDS_PG_DIR/server.log' -w -o \"-p $FEEDS_PG_PORT -k '$FEEDS_PG_DIR' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start >/dev/null"
    fi
    "$bin/psql" -q -h 127.0.0.1 -p "$FEEDS_PG_PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'feeds_test'" | grep -q 1 \
        || "$bin/createdb" -h 127.0.0.1 -p "$FEEDS_PG_PORT" -U postgres feeds_test
    export FEEDS_TEST_PG_URL="postgresql://postgres@127.0.0.1:$FEEDS_PG_PORT/feeds_test"
    echo "== postgresql: $("$bin/postgres" --version) on $FEEDS_TEST_PG_URL"
}

feeds_pg_stop() {
    local bin
    bin="$(feeds_pg_bin)"
    if [ -n "$bin" ] && [ -d "$FEEDS_PG_DIR/data" ]; then
        feeds_pg_as "'$bin/pg_ctl' -D '$FEEDS_PG_DIR/data' -m fast -w stop >/dev/null" || true
    fi
    rm -rf "$FEEDS_PG_DIR"
}

feeds_pg_start
if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # run, not sourced: print what to export
    echo "export FEEDS_TEST_PG_URL=$FEEDS_TEST_PG_URL"
fi
