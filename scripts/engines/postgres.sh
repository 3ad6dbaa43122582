#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for tests and benchmarks: nothing is downloaded,
# the server binaries are Debian's (scripts/setup.sh installs them).
#
#   postgres.sh start DIR PORT [WATCH_PID]   prints the cluster's URL (user callproof, trust auth)
#   postgres.sh stop DIR                     stops it (by its process id) and removes DIR
#
# With WATCH_PID, the cluster stops by itself once that process is gone (a test binary that
# started it), so a killed test run leaves no server behind.
set -euo pipefail

bin=${CALLPROOF_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)}
if [ ! -x "${bin:-/nonexistent}/initdb" ]; then
    echo "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin; set CALLPROOF_PG_BIN to their folder): scripts/setup.sh installs Debian's postgresql package" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
    local dir=$1 pid
    pid=$(cat "$dir/pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -INT "$pid" 2>/dev/null || true # fast shutdown
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
}

case ${1:-} in
start)
    dir=$2 port=$3 watch=${4:-}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U callproof --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a test cluster is thrown away, and the suite should not wait on the disk.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    head -1 "$dir/data/postmaster.pid" >"$dir/pid"
    if [ -n "$watch" ]; then
        (
            while kill -0 "$watch" 2>/dev/null; do sleep 1; done
            "$0" stop "$dir"
        ) </dev/null >/dev/null 2>&1 &
        disown
    fi
    echo "postgres://callproof@127.0.0.1:$port/postgres"
    ;;
stop)
    stop "$2"
    ;;
*)
    echo "usage: $0 start DIR PORT [WATCH_PID] | stop DIR" >&2
    exit 2
    ;;
esac
