#!/usr/bin/env bash
# dockerd.sh - a private Docker engine for the tests, beside any other.
#
#   scripts/dockerd.sh start DIR   starts it (state in DIR), waits until /_ping
#                                  answers, prints its DOCKER_HOST
#   scripts/dockerd.sh stop DIR    stops it and removes its runtime files
#   scripts/dockerd.sh host DIR    prints the DOCKER_HOST of a running one
#
# The engine keeps its images and containers in DIR/data; its socket and
# exec-root (containerd's sockets live there) go to a short directory under
# /tmp because a unix socket path must fit in 108 bytes. It has no default
# bridge (--bridge=none: the tests create their own networks, which cannot
# clash with a docker0 of another engine) and its own address pool. It keeps
# iptables on: the isolation of `internal` networks is made of iptables
# rules, so without them the internal-network test would pass for nothing.
set -euo pipefail

usage() { echo "usage: $0 start|stop|host DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

run_dir() { cat "$dir/run.path" 2>/dev/null || true; }

ping_ok() { # ping_ok SOCK
    [ -S "$1" ] || return 1
    /usr/bin/python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
line = data.split(b"\r\n", 1)[0].split()
sys.exit(0 if len(line) >= 2 and line[0].startswith(b"HTTP/1.") and line[1] == b"200" else 1)
EOF
}

case "$cmd" in
start)
    command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd not found; install docker.io (scripts/deps.sh test)" >&2; exit 1; }
    [ "$(id -u)" -eq 0 ] || { echo "dockerd.sh: a private dockerd needs root" >&2; exit 1; }
    run=$(run_dir)
    if [ -n "$run" ] && [ -f "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null &&
       ping_ok "$run/docker.sock"; then
        echo "unix://$run/docker.sock"
        exit 0
    fi
    run=$(mktemp -d /tmp/ccd.XXXXXX)
    echo "$run" > "$dir/run.path"
    mkdir -p "$dir/data"
    # The address pool is picked from the pid so that two private engines
    # started at once (two checkouts) do not hand out the same subnets.
    octet=$(( 100 + $$ % 100 ))
    setsid dockerd --host "unix://$run/docker.sock" --data-root "$dir/data" \
        --exec-root "$run/exec" --pidfile "$dir/docker.pid" \
        --bridge=none --default-address-pool "base=10.$octet.0.0/16,size=24" \
        --userland-proxy=true --log-level=warn \
        >"$dir/dockerd.log" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 1 150); do
        if ping_ok "$run/docker.sock"; then
            echo "unix://$run/docker.sock"
            exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "dockerd.sh: dockerd exited; the end of $dir/dockerd.log:" >&2
            tail -n 20 "$dir/dockerd.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "dockerd.sh: dockerd did not answer /_ping within 30 s; see $dir/dockerd.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
    ;;
stop)
    run=$(run_dir)
    if [ -f "$dir/docker.pid" ]; then
        pid=$(cat "$dir/docker.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        rm -f "$dir/docker.pid"
    fi
    if [ -n "$run" ] && [ -d "$run" ]; then
        # dockerd's own containerd (its socket is under the run dir, so its
        # command line names it) may outlive dockerd for a moment.
        for _ in $(seq 1 50); do
            pids=$(pgrep -f -- "$run/" || true)
            [ -z "$pids" ] && break
            sleep 0.1
        done
        for p in $(pgrep -f -- "$run/" || true); do kill -KILL "$p" 2>/dev/null || true; done
        # containerd shims may leave mounts under exec-root behind.
        for m in $(grep -o " $run/[^ ]*" /proc/mounts 2>/dev/null | sort -r || true); do
            umount -l "$m" 2>/dev/null || true
        done
        rm -rf "$run" 2>/dev/null || { sleep 1; rm -rf "$run"; }
    fi
    rm -f "$dir/run.path"
    ;;
host)
    run=$(run_dir)
    [ -n "$run" ] && ping_ok "$run/docker.sock" || { echo "dockerd.sh: no engine running for $dir" >&2; exit 1; }
    echo "unix://$run/docker.sock"
    ;;
*) usage ;;
esac
