#!/usr/bin/env bash
# postgres.sh - a throw-away PostgreSQL 15 server for tests and benchmarks.
#
#   scripts/postgres.sh start DIR   initdb in DIR/data, start the server
#                                   listening only on a unix socket in DIR,
#                                   create database "cc"; prints
#                                   CC_TEST_PG_DSN=<dsn> (eval-able) and
#                                   writes the DSN to DIR/dsn
#   scripts/postgres.sh stop DIR    stop it (fast shutdown) and remove DIR/data
#
# The server runs as an unprivileged user: as root it switches to the
# `postgres` system user (runuser), which then owns DIR. It never listens on
# TCP (listen_addresses = ''), so nothing outside this machine can reach it;
# the socket is in DIR, mode 0700. Debian's binaries in
# /usr/lib/postgresql/15/bin (package postgresql-15) are used.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
die() { echo "postgres.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: postgres.sh start|stop DIR"
cmd=$1
dir=$2
[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] ||
    die "no PostgreSQL 15 in $PGBIN (install postgresql-15: scripts/deps.sh test)"

as_user=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user"
    as_user=(runuser -u postgres --)
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 0700 "$dir"
    [ ${#as_user[@]} -eq 0 ] || chown postgres: "$dir"
    data=$dir/data
    if [ -f "$data/postmaster.pid" ]; then
        die "a server already runs in $data (scripts/postgres.sh stop $dir)"
    fi
    rm -rf "$data"
    "${as_user[@]}" "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
EOF
    "${as_user[@]}" "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
        >/dev/null 2>&1 || die "server did not start: $(tail -n 5 "$dir/server.log")"
    "${as_user[@]}" "$PGBIN/psql" -h "$dir" -U postgres -d postgres -qAt \
        -c "CREATE DATABASE cc" >/dev/null 2>"$dir/createdb.log" ||
        die "CREATE DATABASE failed: $(cat "$dir/createdb.log")"
    dsn="host=$dir user=postgres dbname=cc"
    echo "$dsn" >"$dir/dsn"
    chmod 0644 "$dir/dsn"
    echo "CC_TEST_PG_DSN='$dsn'"
    ;;
stop)
    [ -d "$dir/data" ] || exit 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_user[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            die "pg_ctl stop failed (server log: $dir/server.log)"
    fi
    rm -rf "$dir/data"
    ;;
*)
    die "unknown command '$cmd' (use start or stop)"
    ;;
esac
