#!/usr/bin/env bash
# bench/orchestration.sh - orchestration of `commandcenter serve` (the docker
# driver) against the Docker tools measured in the same run, on the same
# private engine, with the same compose file and images:
#
#   (a) up: a four-service stack shaped like the seeds' (database and cache
#       on redis, or postgres when cc-test/postgres:15 exists; backend and
#       frontend on busybox httpd; 1 s healthchecks; service_healthy gates
#       database+cache -> backend -> frontend). Time from `up` to every
#       service healthy, BENCH_RUNS (5) times each, the stack brought down
#       between runs: docker-compose 1.29 (`up -d`, then the engine's health
#       of every container polled every 50 ms), CommandCenter's CLI
#       (`commandcenter up P --wait`) and its API (POST up, GET health every
#       50 ms). CommandCenter runs its own probes from the file's
#       `healthcheck:`; docker-compose leaves them to the engine. Target: the
#       CLI's median <= 0.8x docker-compose's.
#   (b) logs: `--tail 100` of a service whose json-file log holds
#       BENCH_LOG_BYTES (1 GiB): `docker logs --tail 100` against
#       `commandcenter logs P S --tail 100` and GET .../logs/S?tail=100 (curl),
#       with hyperfine when installed. The Engine API call itself (curl on the
#       socket) is measured as a floor. Target: medians <= 1.2x docker logs.
#   (c) supervision: BENCH_IDLE_SERVICES (20) busybox services probed every
#       2 s, watched for BENCH_IDLE_SECONDS (60) once healthy: the daemon's CPU
#       (utime+stime delta from /proc/PID/stat, % of one core) and RSS (VmRSS
#       sampled every 500 ms: peak and end). With exec probes (the
#       healthcheck, through the exec API) and with HTTP probes
#       (x-commandcenter.probe), each on a fresh daemon; also the process
#       driver with HTTP probes (no target; its shims are reported apart).
#       Target: < 1 % of a core and < 20 MB.
#
# The engine is a private dockerd (scripts/dockerd.sh, state in
# BENCH_DOCKER_DIR, no default bridge): the bench touches no network but
# loopback and the bridges its projects create. Its containers are removed at
# the start and the end; it is stopped on exit.
#
# Results: bench/results/orchestration.json plus a summary on stdout. A missed
# target is reported there; this script exits non-zero only when the benchmark
# itself could not run. About 6-8 minutes on 2 cores. Needs root (dockerd).
#
# Builds nothing but the test images (tests/images/build.sh). Environment:
#   CC_BIN               daemon binary (default: <repo>/build/commandcenter)
#   BENCH_ONLY           all | peers (docker-compose, docker logs: no daemon) |
#                        daemon (CommandCenter only) (default all)
#   BENCH_PARTS          which parts, any of "up logs idle" (default all three)
#   BENCH_RUNS           timed ups per tool (default 5)
#   BENCH_LOG_BYTES      size of the log for (b) (default 1073741824)
#   BENCH_IDLE_SERVICES  services for (c) (default 20)
#   BENCH_IDLE_SECONDS   measuring window for (c) (default 60)
#   BENCH_IDLE_MODES     any of "docker-exec docker-http process-http"
#                        (default all three)
#   BENCH_DOCKER_DIR     the private engine's state (default build-bench/dockerd)
#   BENCH_DB_IMAGE       image of the database tier (default cc-test/postgres:15
#                        when it exists, else cc-test/redis:1)
#   BENCH_LOG_LEVEL      daemon log level (default warn)
#   BENCH_OUT            result file (default bench/results/orchestration.json)
#   BENCH_KEEP=1         keep the temporary directory (compose files, logs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CC_BIN=${CC_BIN:-$ROOT/build/commandcenter}
PY=${BENCH_PYTHON:-/usr/bin/python3}
OUT=${BENCH_OUT:-$ROOT/bench/results/orchestration.json}
DOCKER_DIR=${BENCH_DOCKER_DIR:-$ROOT/build-bench/dockerd}
export BENCH_ONLY=${BENCH_ONLY:-all}
export BENCH_PARTS=${BENCH_PARTS:-up logs idle}
export BENCH_RUNS=${BENCH_RUNS:-5}
export BENCH_LOG_BYTES=${BENCH_LOG_BYTES:-1073741824}
export BENCH_IDLE_SERVICES=${BENCH_IDLE_SERVICES:-20}
export BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
export BENCH_IDLE_MODES=${BENCH_IDLE_MODES:-docker-exec docker-http process-http}
export BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

case $BENCH_ONLY in all|peers|daemon) ;; *) die "BENCH_ONLY must be all, peers or daemon (got '$BENCH_ONLY')" ;; esac
for p in $BENCH_PARTS; do
    case $p in up|logs|idle) ;; *) die "BENCH_PARTS takes up, logs and idle (got '$p')" ;; esac
done
for m in $BENCH_IDLE_MODES; do
    case $m in docker-exec|docker-http|process-http) ;;
    *) die "BENCH_IDLE_MODES takes docker-exec, docker-http and process-http (got '$m')" ;; esac
done
case $BENCH_RUNS in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number" ;; esac

WORK=$(mktemp -d /tmp/cc-bench-orch.XXXXXX)
chmod 755 "$WORK"
ENGINE_STARTED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # The driver kills its daemons itself; this catches what an abrupt end left.
    if [ -f "$WORK/pids" ]; then
        while read -r p; do
            kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
        done <"$WORK/pids"
        sleep 1
        while read -r p; do kill -KILL -- "-$p" 2>/dev/null || true; done <"$WORK/pids"
    fi
    if [ "$ENGINE_STARTED" = 1 ]; then
        remove_all_containers
        "$ROOT/scripts/dockerd.sh" stop "$DOCKER_DIR" >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The private engine is the bench's alone: what is in it is left over from an
# earlier run.
remove_all_containers() {
    local ids
    ids=$(docker ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
    docker network prune -f >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- preflight
[ -x "$PY" ] || die "$PY not found"
[ "$(id -u)" -eq 0 ] || die "the private Docker engine needs root"
command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
command -v docker >/dev/null || die "docker (the CLI) not found (apt-get install docker.io)"
command -v curl >/dev/null || die "curl not found (apt-get install curl)"
if [ "$BENCH_ONLY" != daemon ]; then
    command -v docker-compose >/dev/null || die "docker-compose not found (apt-get install docker-compose)"
fi
if [ "$BENCH_ONLY" != peers ]; then
    [ -x "$CC_BIN" ] || die "daemon binary $CC_BIN not found: build it first or set CC_BIN"
fi
command -v hyperfine >/dev/null || log "hyperfine not found: timing the log commands with a loop instead"
mkdir -p "$(dirname "$OUT")"
export LOADAVG_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
T0=$(date +%s)

# ---------------------------------------------------------------- the engine
log "private engine in $DOCKER_DIR"
DOCKER_HOST=$("$ROOT/scripts/dockerd.sh" start "$DOCKER_DIR") || die "the private Docker engine did not start"
export DOCKER_HOST
ENGINE_STARTED=1
remove_all_containers
DOCKER_HOST="$DOCKER_HOST" "$ROOT/tests/images/build.sh" >"$WORK/images.log" 2>&1 \
    || { cat "$WORK/images.log" >&2; die "could not build the test images"; }
if [ -z "${BENCH_DB_IMAGE:-}" ]; then
    if docker image inspect cc-test/postgres:15 >/dev/null 2>&1; then
        BENCH_DB_IMAGE=cc-test/postgres:15
    else
        BENCH_DB_IMAGE=cc-test/redis:1
    fi
fi
export BENCH_DB_IMAGE
export DOCKERD_PID=$(cat "$DOCKER_DIR/docker.pid" 2>/dev/null || echo 0)
export WORK CC_BIN ROOT OUT PY

"$PY" "$ROOT/bench/orchestration.py" || die "the measurement failed"
log "done in $(( $(date +%s) - T0 ))s"
