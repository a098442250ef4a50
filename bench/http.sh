#!/usr/bin/env bash
# bench/http.sh - HTTP throughput, latency and memory of `commandcenter serve`
# against two peers measured in the same run on the same machine:
#   - FastAPI + uvicorn (2 workers), the original Python design's stack;
#   - nginx (2 workers) serving a small static file, the practical ceiling.
#
# Each target gets `wrk -t2 -c64 -d10s --latency`; the daemon is also measured
# on GET /metrics, on GET /health while 1,000 idle connections are held open,
# and under a flood of wrong bearer tokens (401s/s, each counted in
# cc_http_auth_failures_total); its RSS is read from /proc idle and (sampled)
# under load.
# Results: bench/results/http.json plus a readable summary on stdout. Missing a
# target is reported there, not by the exit status: this script exits non-zero
# only when the benchmark itself could not run.
#
# Builds nothing. Environment:
#   CC_BIN             daemon binary (default: <repo>/build/commandcenter)
#   BENCH_DURATION     wrk duration per run (default 10s)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_LOG_LEVEL    daemon log level during the run (default warn: no access
#                      log, like nginx's access_log off below)
#   BENCH_ONLY         all | peers | daemon (default all)
#   BENCH_OUT          result file (default bench/results/http.json)
#   BENCH_KEEP=1       keep the temporary directory (logs, configs) for a look
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CC_BIN=${CC_BIN:-$ROOT/build/commandcenter}
PY=${BENCH_PYTHON:-/usr/bin/python3}
NGINX=${BENCH_NGINX:-/usr/sbin/nginx}
WRK=${BENCH_WRK:-wrk}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
ONLY=${BENCH_ONLY:-all}
OUT=${BENCH_OUT:-$ROOT/bench/results/http.json}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

case $ONLY in all|peers|daemon) ;; *) die "BENCH_ONLY must be all, peers or daemon (got '$ONLY')" ;; esac

WORK=$(mktemp -d /tmp/cc-bench.XXXXXX)
chmod 755 "$WORK"          # nginx workers run as nobody when we are root
PIDS=()                    # every background process we started (each its own group)
SAMPLER=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SAMPLER" ]; then kill "$SAMPLER" 2>/dev/null || true; fi
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 30); do
            is_running "$p" || break
            sleep 0.1
        done
        kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# True while pid exists and is not a zombie.
is_running() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_bg LOGFILE CMD... : runs CMD in its own session; sets BG_PID.
start_bg() {
    local logfile=$1; shift
    setsid "$@" >"$logfile" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# http_ok URL: true when GET URL answers 2xx within a second.
http_ok() {
    "$PY" -c 'import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except Exception:
    sys.exit(1)' "$1" 2>/dev/null
}

# wait_http URL PID SECONDS LOGFILE
wait_http() {
    local url=$1 pid=$2 secs=$3 logfile=$4 i
    for i in $(seq 1 $((secs * 10))); do
        if http_ok "$url"; then return 0; fi
        if ! is_running "$pid"; then
            log "process $pid exited before $url answered; its log:"
            tail -n 30 "$logfile" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    log "$url did not answer within ${secs}s; log:"
    tail -n 30 "$logfile" >&2 || true
    return 1
}

# stop_proc PID SECONDS: SIGTERM, wait; sets STOP_RC to the exit status
# (KILL after SECONDS). Not for $(...): wait only works in this shell.
stop_proc() {
    local pid=$1 secs=$2 rc=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 $((secs * 10))); do
        is_running "$pid" || break
        sleep 0.1
    done
    if is_running "$pid"; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    STOP_RC=$rc
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Samples the RSS of PID every 100 ms into $WORK/rss_peak_kb until killed.
start_rss_sampler() {
    local pid=$1
    (
        set +e
        peak=0
        while is_running "$pid"; do
            v=$(rss_kb "$pid")
            if [ "${v:-0}" -gt "$peak" ]; then peak=$v; echo "$peak" >"$WORK/rss_peak_kb"; fi
            sleep 0.1
        done
    ) &
    SAMPLER=$!
}

# run_wrk NAME URL [WRK ARGS...]: one wrk run; figures to $WORK/wrk-NAME.json, text
# appended to the raw log.
run_wrk() {
    local name=$1 url=$2
    shift 2
    log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $* $url"
    if ! "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" \
            -s "$ROOT/bench/wrk_report.lua" "$url" >"$WORK/wrk-$name.txt" 2>&1; then
        cat "$WORK/wrk-$name.txt" >&2
        die "wrk failed against $url"
    fi
    { echo "### $name: $url"; cat "$WORK/wrk-$name.txt"; echo; } >>"$WORK/wrk-raw.txt"
    grep '^WRK_JSON ' "$WORK/wrk-$name.txt" | sed 's/^WRK_JSON //' >"$WORK/wrk-$name.json" \
        || die "no figures in the wrk output for $name"
}

# ---------------------------------------------------------------- preflight
command -v "$WRK" >/dev/null || die "wrk not found (apt-get install wrk)"
[ -x "$PY" ] || die "$PY not found"
if [ "$ONLY" != daemon ]; then
    "$PY" -c 'import fastapi, uvicorn' 2>/dev/null \
        || die "FastAPI peer needs python3-fastapi and python3-uvicorn (apt-get install python3-fastapi python3-uvicorn)"
    [ -x "$NGINX" ] || die "nginx not found at $NGINX (apt-get install nginx)"
fi
if [ "$ONLY" != peers ]; then
    [ -x "$CC_BIN" ] || die "daemon binary $CC_BIN not found: build it first or set CC_BIN"
fi
mkdir -p "$(dirname "$OUT")"
: >"$WORK/wrk-raw.txt"
T0=$(date +%s)
LOADAVG_BEFORE=$(cut -d' ' -f1 /proc/loadavg)   # others' load skews every figure

# ---------------------------------------------------------------- the daemon
D_VERSION="" D_RSS_IDLE_KB="" D_RSS_PEAK_KB="" D_EXIT=""
if [ "$ONLY" != peers ]; then
    D_PORT=$(free_port)
    mkdir -p "$WORK/cc-data"
    D_VERSION=$("$CC_BIN" version 2>/dev/null | head -n 1 || true)
    start_bg "$WORK/daemon.log" env -i PATH="$PATH" HOME="$WORK" \
        CC_DATA_DIR="$WORK/cc-data" CC_HTTP_LISTEN="127.0.0.1:$D_PORT" \
        CC_LOG_FORMAT=json CC_LOG_LEVEL="$LOG_LEVEL" CC_HTTP_RATE_LIMIT_RPS=0 \
        CC_AUTH_FAILURE_RATE=0 "$CC_BIN" serve
    D_PID=$BG_PID
    log "daemon pid $D_PID on 127.0.0.1:$D_PORT"
    wait_http "http://127.0.0.1:$D_PORT/health" "$D_PID" 10 "$WORK/daemon.log" \
        || die "the daemon did not start"
    sleep 1
    D_RSS_IDLE_KB=$(rss_kb "$D_PID")
    echo "$D_RSS_IDLE_KB" >"$WORK/rss_peak_kb"
    start_rss_sampler "$D_PID"
    run_wrk daemon-health "http://127.0.0.1:$D_PORT/health"
    run_wrk daemon-metrics "http://127.0.0.1:$D_PORT/metrics"
    # GET /health again while 1,000 idle connections are held open (5 loopback
    # source addresses x 200, under the per-address limit), as slowloris would.
    start_bg "$WORK/idle.log" "$PY" -c '
import resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (2 + i // 200), 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")   # an unfinished head
    held.append(s)
open(sys.argv[3], "w").write("%d\n" % len(held))
time.sleep(3600)' "$D_PORT" 1000 "$WORK/idle.ready"
    IDLE_PID=$BG_PID
    for _ in $(seq 1 300); do [ -s "$WORK/idle.ready" ] && break; sleep 0.1; done
    [ -s "$WORK/idle.ready" ] || die "could not open 1,000 idle connections; see $WORK/idle.log"
    run_wrk daemon-health-idle "http://127.0.0.1:$D_PORT/health"
    stop_proc "$IDLE_PID" 5
    # A flood of wrong tokens (the failed-authentication guard is off here, so
    # every answer is a 401; with it on they turn into 429 after 20).
    run_wrk daemon-wrong-token "http://127.0.0.1:$D_PORT/api/v1/status" \
        -H "Authorization: Bearer cc_wrongwrongwrongwrongwrongwrongwrongwrongwro"
    "$PY" -c 'import sys, urllib.request
for ln in urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().splitlines():
    if ln.startswith("cc_http_auth_failures_total{result=\"rejected\"}"):
        print(int(float(ln.split()[-1])))' "http://127.0.0.1:$D_PORT/metrics" >"$WORK/auth-failures" \
        || true
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    SAMPLER=""
    D_RSS_PEAK_KB=$(cat "$WORK/rss_peak_kb")
    cur=$(rss_kb "$D_PID")
    [ "${cur:-0}" -gt "$D_RSS_PEAK_KB" ] && D_RSS_PEAK_KB=$cur
    stop_proc "$D_PID" 30
    D_EXIT=$STOP_RC
    log "daemon exited with status $D_EXIT after SIGTERM"
fi

# ---------------------------------------------------------------- FastAPI
if [ "$ONLY" != daemon ]; then
    F_PORT=$(free_port)
    start_bg "$WORK/fastapi.log" "$PY" -m uvicorn --app-dir "$ROOT/bench/peers" \
        fastapi_app:app --host 127.0.0.1 --port "$F_PORT" --workers 2 --log-level warning
    F_PID=$BG_PID
    log "fastapi (uvicorn, 2 workers) pid $F_PID on 127.0.0.1:$F_PORT"
    wait_http "http://127.0.0.1:$F_PORT/health" "$F_PID" 30 "$WORK/fastapi.log" \
        || die "the FastAPI peer did not start"
    sleep 1                                   # let both workers come up
    run_wrk fastapi-health "http://127.0.0.1:$F_PORT/health"
    stop_proc "$F_PID" 10

    # ------------------------------------------------------------ nginx
    N_PORT=$(free_port)
    N=$WORK/nginx
    mkdir -p "$N/www" "$N/tmp" "$N/logs"
    printf '{"status":"ok"}' >"$N/www/health"
    cat >"$N/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    server {
        listen 127.0.0.1:$N_PORT;
        root $N/www;
        location = /health { }
    }
}
EOF
    chmod -R a+rX "$N"
    "$NGINX" -t -p "$N/" -c "$N/nginx.conf" -e "$N/logs/error.log" >"$WORK/nginx-t.log" 2>&1 \
        || { cat "$WORK/nginx-t.log" >&2; die "generated nginx config is invalid"; }
    start_bg "$WORK/nginx.log" "$NGINX" -p "$N/" -c "$N/nginx.conf" -e "$N/logs/error.log"
    N_PID=$BG_PID
    log "nginx pid $N_PID on 127.0.0.1:$N_PORT"
    wait_http "http://127.0.0.1:$N_PORT/health" "$N_PID" 10 "$WORK/nginx.log" \
        || die "nginx did not start"
    run_wrk nginx-static "http://127.0.0.1:$N_PORT/health"
    stop_proc "$N_PID" 10
fi

# ---------------------------------------------------------------- results
cp "$WORK/wrk-raw.txt" "${OUT%.json}-wrk.txt"
ELAPSED=$(( $(date +%s) - T0 ))
export B_THREADS="$THREADS" B_CONNECTIONS="$CONNECTIONS" B_DURATION="$DURATION" B_LOG_LEVEL="$LOG_LEVEL" \
    B_ONLY="$ONLY" B_ELAPSED="$ELAPSED" B_CC_BIN="$CC_BIN" B_D_VERSION="$D_VERSION" \
    B_RSS_IDLE_KB="$D_RSS_IDLE_KB" B_RSS_PEAK_KB="$D_RSS_PEAK_KB" B_D_EXIT="$D_EXIT" \
    B_LOADAVG_BEFORE="$LOADAVG_BEFORE" \
    B_AUTH_FAILURES="$(cat "$WORK/auth-failures" 2>/dev/null || true)"
"$PY" - "$WORK" "$OUT" <<'EOF' || die "could not write the results"
import json, os, platform, sys, time
work, out = sys.argv[1], sys.argv[2]
E = os.environ

def wrk(name):
    p = os.path.join(work, "wrk-%s.json" % name)
    if not os.path.exists(p):
        return None
    j = json.load(open(p))
    e = j["errors"]
    secs = j["duration_us"] / 1e6
    lat = j["latency_us"]
    return {
        "requests": j["requests"],
        "seconds": round(secs, 3),
        "requests_per_s": round(j["requests"] / secs, 1) if secs else 0.0,
        "latency_ms": {k: round(lat[k] / 1000.0, 3) for k in ("mean", "p50", "p90", "p99", "max")},
        "errors": e["connect"] + e["read"] + e["write"] + e["timeout"] + e["status"],
        "errors_detail": {"non_2xx_3xx": e["status"], "connect": e["connect"], "read": e["read"],
                          "write": e["write"], "timeout": e["timeout"]},
    }

def kb(v):
    return int(v) * 1024 if v not in ("", None) else None

d_health, d_metrics = wrk("daemon-health"), wrk("daemon-metrics")
d_idle, d_flood = wrk("daemon-health-idle"), wrk("daemon-wrong-token")
auth_counted = int(E["B_AUTH_FAILURES"]) if E.get("B_AUTH_FAILURES") else None
f_health, n_static = wrk("fastapi-health"), wrk("nginx-static")
rss_idle, rss_peak = kb(E["B_RSS_IDLE_KB"]), kb(E["B_RSS_PEAK_KB"])

def ratio(a, b):
    if not a or not b or not b["requests_per_s"]:
        return None
    return round(a["requests_per_s"] / b["requests_per_s"], 3)

r_fastapi, r_nginx = ratio(d_health, f_health), ratio(d_health, n_static)
IDLE_RSS_MAX = 10 * 1000 * 1000          # 10 MB
d_errors = None if d_health is None else d_health["errors"] + (d_metrics or {}).get("errors", 0)

def target(desc, value, met):
    return {"target": desc, "value": value, "met": met}

targets = {
    "throughput_vs_fastapi": target(">= 20x FastAPI requests/s on GET /health", r_fastapi,
                                    None if r_fastapi is None else r_fastapi >= 20.0),
    "throughput_vs_nginx": target(">= 0.5x nginx static-file requests/s", r_nginx,
                                  None if r_nginx is None else r_nginx >= 0.5),
    "zero_errors": target("0 errors (non-2xx/3xx + socket errors) in the daemon's runs",
                          d_errors, None if d_errors is None else d_errors == 0),
    "idle_rss": target("idle RSS <= 10 MB (10,000,000 bytes)", rss_idle,
                       None if rss_idle is None else rss_idle <= IDLE_RSS_MAX),
    "health_with_1000_idle": target(
        "GET /health requests/s and p99 with 1,000 idle connections within 20% of without",
        None if not (d_idle and d_health) else
        {"rps_ratio": ratio(d_idle, d_health),
         "p99_ratio": round(d_idle["latency_ms"]["p99"] / d_health["latency_ms"]["p99"], 3)
         if d_health["latency_ms"]["p99"] else None},
        None if not (d_idle and d_health) else
        (ratio(d_idle, d_health) >= 0.8 and d_idle["errors"] == 0 and
         d_idle["latency_ms"]["p99"] <= 1.2 * d_health["latency_ms"]["p99"])),
    "wrong_token_flood_counted": target(
        "every 401 of a wrong-token flood counted in cc_http_auth_failures_total, no socket errors",
        None if d_flood is None else {"answers": d_flood["requests"], "counted": auth_counted},
        None if d_flood is None or auth_counted is None else
        (auth_counted >= d_flood["requests"] and d_flood["errors"] == d_flood["errors_detail"]["non_2xx_3xx"])),
}
checked = [t["met"] for t in targets.values() if t["met"] is not None]
doc = {
    "benchmark": "http",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                "loadavg_1m_before": float(E["B_LOADAVG_BEFORE"])},
    "settings": {"tool": "wrk", "threads": int(E["B_THREADS"]), "connections": int(E["B_CONNECTIONS"]),
                 "duration": E["B_DURATION"], "daemon_log_level": E["B_LOG_LEVEL"],
                 "daemon_rate_limit_rps": 0, "only": E["B_ONLY"], "elapsed_s": int(E["B_ELAPSED"])},
    "daemon": None if d_health is None else {
        "binary": E["B_CC_BIN"], "version": E["B_D_VERSION"],
        "health": d_health, "metrics": d_metrics,
        "health_with_1000_idle_connections": d_idle,
        "wrong_token_flood_401": d_flood, "auth_failures_counted": auth_counted,
        "rss_idle_bytes": rss_idle, "rss_peak_loaded_bytes": rss_peak,
        "exit_status_after_sigterm": int(E["B_D_EXIT"]) if E["B_D_EXIT"] else None,
    },
    "fastapi": None if f_health is None else {"server": "uvicorn --workers 2", "health": f_health},
    "nginx": None if n_static is None else {"server": "nginx worker_processes 2, static file",
                                           "static": n_static},
    "ratios": {"daemon_vs_fastapi": r_fastapi, "daemon_vs_nginx": r_nginx},
    "targets": targets,
    "all_targets_met": (all(checked) if len(checked) == len(targets) else None),
}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, out)

def row(name, r):
    if r is None:
        return "  %-22s %s" % (name, "(not run)")
    l = r["latency_ms"]
    return "  %-22s %12.0f %9.2f %9.2f %9.2f %8d" % (name, r["requests_per_s"], l["p50"], l["p90"],
                                                   l["p99"], r["errors"])
print("HTTP benchmark (wrk -t%s -c%s -d%s), %s CPUs" % (E["B_THREADS"], E["B_CONNECTIONS"], E["B_DURATION"], os.cpu_count()))
print("  %-22s %12s %9s %9s %9s %8s" % ("target", "requests/s", "p50 ms", "p90 ms", "p99 ms", "errors"))
print(row("daemon GET /health", d_health))
print(row("daemon GET /metrics", d_metrics))
print(row("daemon /health 1k idle", d_idle))
print(row("daemon wrong token 401", d_flood))
print(row("fastapi GET /health", f_health))
print(row("nginx static file", n_static))
if rss_idle is not None:
    print("  daemon RSS: idle %.1f MB, peak under load %.1f MB; exit after SIGTERM: %s"
          % (rss_idle / 1e6, (rss_peak or 0) / 1e6, doc["daemon"]["exit_status_after_sigterm"]))
for k, t in targets.items():
    state = {True: "MET", False: "MISSED", None: "not measured"}[t["met"]]
    print("  %-8s %-24s %s (value: %s)" % (state, k, t["target"], t["value"]))
if float(E["B_LOADAVG_BEFORE"]) > 0.5 * (os.cpu_count() or 1):
    print("  note: load average was %s before the run: other work on this machine skews the figures"
          % E["B_LOADAVG_BEFORE"])
print("results: %s" % out)
EOF
log "done in ${ELAPSED}s"
