#!/usr/bin/env bash
# build.sh - the local test images, made with `docker import` (no registry
# is reachable from the test machines):
#
#   cc-test/busybox:1   busybox-static with /etc/passwd (root, app uid 1000)
#   cc-test/redis:1     Debian's redis binary (redis-tools) and the libraries
#                       ldd lists, on the busybox base; runs as redis (999)
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

# A smoke test of each image, so a broken image fails here and not later.
docker run --rm --network none cc-test/busybox:1 id app >/dev/null
docker run --rm --network none cc-test/redis:1 redis-server --version >/dev/null
echo "images ready"
