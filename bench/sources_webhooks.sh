#!/usr/bin/env bash
# bench/sources_webhooks.sh - signed GitHub push deliveries accepted per second
# by `commandcenter serve` (issue 9, "Benchmarks"; docs/WEBHOOKS.md).
#
# A webhook source follows acme/bench (options.github) with the global secret
# (webhooks.github_secret_file). wrk (-t2 -c64, BENCH_DURATION) posts one
# realistic push body (3 commits, 12 paths), signed once beforehand with
# HMAC-SHA256 - the signature covers the body only, so wrk's Lua needs no HMAC -
# and gives every request its own X-GitHub-Delivery id (thread and counter), so
# every request is a distinct delivery the daemon verifies, records and turns
# into a source.run job (one store transaction each) while the job workers run
# those jobs. A second run repeats 100 delivery ids of the first: all
# duplicates (verified, looked up, nothing queued). Both figures come from the
# daemon's own counter cc_webhook_deliveries_total{provider="github",result}
# (accepted / duplicate) divided by wrk's duration; wrk's status errors and the
# p50/p99 latency are kept too. Target: at least 5,000 accepted deliveries/s.
# GET /health on the same daemon (3 s) and the load average are recorded beside
# them, to tell a slow daemon from a busy machine.
#
# Results: the key "webhooks" of bench/results/sources.json (read, modified,
# written: other sources benchmarks keep their keys), and a summary on stdout.
# A missed target is reported there; the exit status is non-zero only when the
# benchmark itself could not run. Everything on 127.0.0.1.
#
# Builds nothing. Environment:
#   CC_BIN             daemon binary (default: <repo>/build/commandcenter)
#   BENCH_DURATION     wrk duration per run (default 10s)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_LOG_LEVEL    daemon log level (default warn)
#   BENCH_OUT          result file (default bench/results/sources.json)
#   BENCH_KEEP=1       keep the temporary directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CC_BIN=${CC_BIN:-$ROOT/build/commandcenter}
PY=${BENCH_PYTHON:-/usr/bin/python3}
WRK=${BENCH_WRK:-wrk}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
OUT=${BENCH_OUT:-$ROOT/bench/results/sources.json}
TARGET=5000

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

command -v "$WRK" >/dev/null || die "wrk is not installed (scripts/deps.sh bench)"
[ -x "$CC_BIN" ] || die "daemon binary $CC_BIN not found: build it first or set CC_BIN"

WORK=$(mktemp -d /tmp/cc-bench-webhooks.XXXXXX)
D_PID=""

is_running() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$D_PID" ] && is_running "$D_PID"; then
        kill -TERM -- "-$D_PID" 2>/dev/null || kill -TERM "$D_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do is_running "$D_PID" || break; sleep 0.1; done
        kill -KILL -- "-$D_PID" 2>/dev/null || kill -KILL "$D_PID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT INT TERM

# ---------------------------------------------------------------- the body
SECRET="bench webhook secret $$"
printf '%s\n' "$SECRET" >"$WORK/github.secret"
chmod 600 "$WORK/github.secret"
export WORK SECRET
"$PY" - <<'EOF'
import hashlib, hmac, json, os
work, secret = os.environ["WORK"], os.environ["SECRET"]
commits = [{"id": "%040x" % (i + 1), "message": "docs: update %d" % i,
            "timestamp": "2026-12-07T20:00:0%dZ" % i,
            "author": {"name": "Bench", "email": "bench@example.test"},
            "added": ["docs/new-%d.md" % i], "modified": ["docs/guide-%d.md" % i,
                                                           "docs/index.md", "src/main.c"],
            "removed": ["docs/old-%d.md" % i]} for i in range(3)]
body = {"ref": "refs/heads/main", "before": "0" * 40, "after": "%040x" % 3,
        "created": False, "deleted": False, "forced": False,
        "repository": {"id": 1, "name": "bench", "full_name": "acme/bench",
                       "default_branch": "main", "private": False},
        "pusher": {"name": "bench"}, "sender": {"login": "bench"},
        "commits": commits, "head_commit": commits[-1]}
raw = json.dumps(body, separators=(",", ":")).encode()
sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
with open(os.path.join(work, "body.json"), "wb") as f:
    f.write(raw)
lua_body = raw.decode().replace("\\", "\\\\").replace('"', '\\"')
script = r'''
-- distinct (or, with DUP, 100 repeated) X-GitHub-Delivery ids over one signed body
local body = "%s"
local sig = "%s"
local dup = %s
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local id
  if dup then id = "dup-" .. (counter %% 100) else id = "t" .. tid .. "-" .. counter end
  return wrk.format("POST", "/api/v1/webhooks/github", {
    ["Content-Type"] = "application/json", ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = id, ["X-Hub-Signature-256"] = sig}, body)
end
'''
for name, d in (("new.lua", "false"), ("dup.lua", "true")):
    with open(os.path.join(work, name), "w") as f:
        f.write(script % (lua_body, sig, d))
EOF
for f in new dup; do cat "$ROOT/bench/wrk_report.lua" >>"$WORK/$f.lua"; done

# ---------------------------------------------------------------- the daemon
D_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
D_DATA=$WORK/cc-data
mkdir -p "$D_DATA"
D_VERSION=$("$CC_BIN" version 2>/dev/null | head -n 1 || true)
setsid env -i PATH="$PATH" HOME="$WORK" \
    CC_DATA_DIR="$D_DATA" CC_HTTP_LISTEN="127.0.0.1:$D_PORT" \
    CC_LOG_FORMAT=json CC_LOG_LEVEL="$LOG_LEVEL" CC_HTTP_RATE_LIMIT_RPS=0 \
    CC_JOBS_QUEUE_PER_SOURCE=10000000 \
    CC_WEBHOOKS_GITHUB_SECRET_FILE="$WORK/github.secret" \
    "$CC_BIN" serve >"$WORK/daemon.log" 2>&1 &
D_PID=$!
log "daemon pid $D_PID on 127.0.0.1:$D_PORT"
for _ in $(seq 1 100); do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1).read()' \
            "http://127.0.0.1:$D_PORT/health" 2>/dev/null; then
        break
    fi
    is_running "$D_PID" || { tail -n 30 "$WORK/daemon.log" >&2; die "the daemon exited at start"; }
    sleep 0.1
done
[ -s "$D_DATA/admin.token" ] || { tail -n 30 "$WORK/daemon.log" >&2; die "the daemon did not start"; }
export D_URL="http://127.0.0.1:$D_PORT" D_DATA ROOT OUT CC_BIN DURATION CONNECTIONS THREADS TARGET \
    D_VERSION WRK

"$PY" - <<'EOF' || { tail -n 30 "$WORK/daemon.log" >&2; die "the measurement failed"; }
import json, os, re, subprocess, sys, time, urllib.request

E = os.environ
url = E["D_URL"]
token = open(os.path.join(E["D_DATA"], "admin.token")).read().strip()

def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")

def counter(result):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    for ln in text.splitlines():
        if ln.startswith("cc_webhook_deliveries_total{") and 'provider="github"' in ln \
                and 'result="%s"' % result in ln:
            return float(ln.rsplit(" ", 1)[1])
    return 0.0

def wrk(script):
    out = subprocess.run([E["WRK"], "-t" + E["THREADS"], "-c" + E["CONNECTIONS"],
                          "-d" + E["DURATION"], "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=600)
    m = re.search(r"^WRK_JSON (.*)$", out.stdout, re.M)
    if not m:
        sys.exit("wrk gave no figures:\n" + out.stdout + out.stderr)
    return json.loads(m.group(1))

call("POST", "/api/v1/sources", {"name": "bench", "type": "webhook",
                                 "options": {"github": {"repository": "acme/bench",
                                                        "path_prefix": "docs/"}}})
# the same daemon's GET /health in the same run: what this machine gives at the
# moment (bench/results/http.json has the figure on a quiet machine)
loadavg_before = open("/proc/loadavg").read().split()[0]
out = subprocess.run([E["WRK"], "-t" + E["THREADS"], "-c" + E["CONNECTIONS"], "-d3s",
                      url + "/health"], capture_output=True, text=True, timeout=120)
m = re.search(r"Requests/sec:\s+([0-9.]+)", out.stdout)
health_rps = float(m.group(1)) if m else None
runs = {}
for name, result in (("distinct", "accepted"), ("duplicate", "duplicate")):
    before = counter(result)
    w = wrk(os.path.join(E["WORK"], "new.lua" if name == "distinct" else "dup.lua"))
    n = counter(result) - before
    secs = w["duration_us"] / 1e6
    runs[name] = {"result_counted": result, "deliveries": int(n),
                  "per_second": round(n / secs, 1), "requests": w["requests"],
                  "requests_per_second": round(w["requests"] / secs, 1),
                  "status_errors": w["errors"]["status"],
                  "socket_errors": {k: v for k, v in w["errors"].items() if k != "status"},
                  "latency_ms": {k: round(w["latency_us"][k] / 1000.0, 2)
                                 for k in ("p50", "p90", "p99", "max")}}
    print("bench: %s deliveries: %.0f/s (%d counted, %d requests, %d errors), p50 %.2f ms, "
          "p99 %.2f ms" % (name, runs[name]["per_second"], n, w["requests"],
                           w["errors"]["status"], runs[name]["latency_ms"]["p50"],
                           runs[name]["latency_ms"]["p99"]), file=sys.stderr)
    if name == "distinct":
        # let the job workers catch up before the duplicate run, so it measures
        # lookups rather than the backlog
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            c = call("GET", "/api/v1/jobs?limit=1")["counts"]
            if c["queued"] + c["running"] == 0:
                break
            time.sleep(0.5)
        runs[name]["jobs_after"] = call("GET", "/api/v1/jobs?limit=1")["counts"]

target = int(E["TARGET"])
res = {
    "what": "signed GitHub push deliveries to POST /api/v1/webhooks/github, wrk -t%s -c%s -d%s; "
            "each distinct delivery is verified (HMAC-SHA256), recorded and queues a source.run "
            "in one SQLite transaction while 2 job workers run those jobs"
            % (E["THREADS"], E["CONNECTIONS"], E["DURATION"]),
    "daemon": {"binary": E["CC_BIN"] if "CC_BIN" in E else "", "version": E.get("D_VERSION", "")},
    "distinct": runs["distinct"], "duplicate": runs["duplicate"],
    "target_per_second": target,
    "target_met": runs["distinct"]["per_second"] >= target,
    "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "health_requests_per_second_same_run": health_rps,
    "loadavg_before": loadavg_before,
    "loadavg_after": open("/proc/loadavg").read().split()[0],
}
path = E["OUT"]
try:
    with open(path) as f:
        whole = json.load(f)
except (OSError, ValueError):
    whole = {}
whole["webhooks"] = res
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(whole, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
print("webhooks: %.0f distinct deliveries/s accepted (target %d: %s), %.0f duplicates/s; "
      "GET /health %s requests/s in the same run, load average %s"
      % (runs["distinct"]["per_second"], target, "met" if res["target_met"] else "MISSED",
         runs["duplicate"]["per_second"], health_rps, loadavg_before))
EOF

kill -TERM "$D_PID" 2>/dev/null || true
for _ in $(seq 1 300); do is_running "$D_PID" || break; sleep 0.1; done
wait "$D_PID" 2>/dev/null || log "daemon exited with status $?"
D_PID=""
