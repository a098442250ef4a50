#!/usr/bin/env bash
# build.sh - the local test images, made with `docker import` (no registry
# is reachable from the test machines):
#
#   cc-test/busybox:1   busybox-static with /etc/passwd (root, app uid 1000)
#   cc-test/redis:1     Debian's redis binary (redis-tools) and the libraries
#                       ldd lists, on the busybox base; runs as redis (999)
#   cc-test/postgres:15 Debian's PostgreSQL 15 (postgres, initdb, pg_ctl,
#                       pg_isready, psql), their libraries and share files, on
#                       the busybox base; runs as postgres (999). Its
#                       entrypoint initdb's PGDATA when empty (superuser and
#                       database `commandcenter`, trust auth: test use only)
#                       and runs postgres listening on every address.
#
#   DOCKER_HOST=unix:///path tests/images/build.sh [--force]
#
# An image already present is kept unless --force. Needs busybox-static and
# redis-tools (scripts/deps.sh test).
set -euo pipefail

force=0
[ "${1:-}" = "--force" ] && force=1
: "${DOCKER_HOST:?set DOCKER_HOST to the engine to build on (scripts/dockerd.sh start DIR prints it)}"
export DOCKER_HOST

have() { [ "$force" -eq 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

busybox_bin=""
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox_bin=$b; break; fi
done
[ -n "$busybox_bin" ] || { echo "build.sh: a static busybox is needed: apt-get install busybox-static" >&2; exit 1; }

base_rootfs() { # base_rootfs DIR : busybox, users, the usual directories
    local r=$1
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,run,var/run,var/tmp,data,proc,sys,dev}
    cp "$busybox_bin" "$r/bin/busybox"
    # The applets as symlinks (busybox --install needs /proc in the target).
    for applet in $("$busybox_bin" --list); do
        [ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
    done
    cat > "$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
redis:x:999:999:redis:/data:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat > "$r/etc/group" <<'EOF'
root:x:0:
redis:x:999:
app:x:1000:
nogroup:x:65534:
EOF
    chmod 1777 "$r/tmp" "$r/var/tmp"
    chown 1000:1000 "$r/home/app"
    chown 999:999 "$r/data"
}

import() { # import DIR TAG CHANGES...
    local r=$1 tag=$2; shift 2
    local args=()
    for c in "$@"; do args+=(--change "$c"); done
    tar -C "$r" --numeric-owner -cf - . | docker import "${args[@]}" - "$tag" >/dev/null
    echo "built $tag"
}

if have cc-test/busybox:1; then
    echo "kept cc-test/busybox:1"
else
    r=$work/busybox
    base_rootfs "$r"
    import "$r" cc-test/busybox:1 'CMD ["/bin/sh"]' 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin'
fi

if have cc-test/redis:1; then
    echo "kept cc-test/redis:1"
else
    # redis-check-rdb is the server binary: redis behaves by the name it is
    # run under, so it is installed as redis-server.
    server=/usr/bin/redis-check-rdb
    [ -x "$server" ] && [ -x /usr/bin/redis-cli ] ||
        { echo "build.sh: Debian's redis binaries are needed: apt-get install redis-tools" >&2; exit 1; }
    r=$work/redis
    base_rootfs "$r"
    cp "$server" "$r/usr/bin/redis-server"
    cp /usr/bin/redis-cli "$r/usr/bin/redis-cli"
    for lib in $( (ldd "$server"; ldd /usr/bin/redis-cli) | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
    done
    # The loader is looked up as /lib64/ld-linux-x86-64.so.2 on amd64.
    if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$r/lib64/ld-linux-x86-64.so.2" ]; then
        mkdir -p "$r/lib64"
        cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
    fi
    import "$r" cc-test/redis:1 'USER 999:999' 'WORKDIR /data' 'EXPOSE 6379' \
        'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
        'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", ""]'
fi

copy_libs() { # copy_libs ROOT BIN... : the shared libraries ldd lists, and the loader
    local r=$1; shift
    for lib in $(for b in "$@"; do ldd "$b"; done | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
        mkdir -p "$r$(dirname "$lib")"
        [ -e "$r$lib" ] || cp -L "$lib" "$r$lib"
    done
    # The loader is looked up as /lib64/ld-linux-x86-64.so.2 on amd64.
    if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$r/lib64/ld-linux-x86-64.so.2" ]; then
        mkdir -p "$r/lib64"
        cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
    fi
}

if have cc-test/postgres:15; then
    echo "kept cc-test/postgres:15"
else
    pgbin=/usr/lib/postgresql/15/bin
    pglib=/usr/lib/postgresql/15/lib
    pgshare=/usr/share/postgresql/15
    [ -x "$pgbin/postgres" ] && [ -x "$pgbin/psql" ] && [ -d "$pgshare" ] ||
        { echo "build.sh: Debian's PostgreSQL 15 is needed: apt-get install postgresql-15" >&2; exit 1; }
    r=$work/postgres
    base_rootfs "$r"
    sed -i 's|^redis:x:999:999:redis:/data:|postgres:x:999:999:postgres:/var/lib/postgresql:|' "$r/etc/passwd"
    sed -i 's|^redis:x:999:|postgres:x:999:|' "$r/etc/group"
    mkdir -p "$r$pgbin" "$r$pglib" "$r/usr/share/postgresql" "$r/usr/share/zoneinfo/Etc" \
             "$r/var/lib/postgresql/data" "$r/var/run/postgresql"
    bins=()
    for b in postgres initdb pg_ctl pg_isready psql; do
        cp "$pgbin/$b" "$r$pgbin/$b"
        ln -s "$pgbin/$b" "$r/usr/bin/$b"
        bins+=("$pgbin/$b")
    done
    # initdb loads plpgsql and the snowball dictionaries; nothing else is needed.
    cp "$pglib/plpgsql.so" "$pglib/dict_snowball.so" "$r$pglib/"
    copy_libs "$r" "${bins[@]}" "$pglib/plpgsql.so" "$pglib/dict_snowball.so"
    cp -r "$pgshare" "$r/usr/share/postgresql/15"
    # Debian builds with the system time zone data: UTC is all the tests use.
    for z in UTC Etc/UTC GMT; do cp -L /usr/share/zoneinfo/UTC "$r/usr/share/zoneinfo/$z"; done
    cat > "$r/usr/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# cc-test/postgres:15 entrypoint: initdb PGDATA when it is empty, then run
# postgres as PID 1 (SIGTERM from a stop is its smart shutdown).
set -e
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    initdb -D "$PGDATA" -U commandcenter --auth=trust --encoding=UTF8 --locale=C \
        --no-sync >/dev/null
    # A test image: every address may connect without a password.
    echo "host all all 0.0.0.0/0 trust" >> "$PGDATA/pg_hba.conf"
    echo "CREATE DATABASE commandcenter;" |
        postgres --single -D "$PGDATA" -c fsync=off postgres >/dev/null
    echo "initdb: $PGDATA ready"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
ENTRYPOINT
    chmod 0755 "$r/usr/bin/docker-entrypoint.sh"
    chown -R 999:999 "$r/var/lib/postgresql"
    chmod 0700 "$r/var/lib/postgresql/data"
    # NOTES.md: postgres as 999 needs its socket directory owned by 999.
    chown 999:999 "$r/var/run/postgresql"
    chmod 0775 "$r/var/run/postgresql"
    import "$r" cc-test/postgres:15 'USER 999:999' 'EXPOSE 5432' \
        'ENV PATH=/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        'ENV PGDATA=/var/lib/postgresql/data' 'ENV TZ=UTC' \
        'ENTRYPOINT ["/usr/bin/docker-entrypoint.sh"]'
fi

# A smoke test of each image, so a broken image fails here and not later.
docker run --rm --network none cc-test/busybox:1 id app >/dev/null
docker run --rm --network none cc-test/redis:1 redis-server --version >/dev/null
docker run --rm --network none --entrypoint pg_isready cc-test/postgres:15 --version >/dev/null
echo "images ready"
