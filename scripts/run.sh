#!/usr/bin/env bash
# run.sh - `make run`: the daemon on embedded defaults with its data in ./var,
# plus the demo: the project's own docs/ folder as a file source, so search
# answers out of the box (`commandcenter search "rate limit"`), and the demo
# stack (deploy/demo/compose.yaml: redis-server and busybox httpd on the
# process driver, no Docker needed) brought up healthy.
set -euo pipefail
bin=${1:-build/commandcenter}
root=$(cd "$(dirname "$0")/.." && pwd)
export CC_DATA_DIR=${CC_DATA_DIR:-$root/var}
export CC_HTTP_LISTEN=${CC_HTTP_LISTEN:-127.0.0.1:8470}
export CC_SERVER=http://$CC_HTTP_LISTEN
export CC_TOKEN_FILE=$CC_DATA_DIR/admin.token
mkdir -p "$CC_DATA_DIR"

# The daemon runs in a session of its own, so a Ctrl-C at the terminal
# reaches only this script: it stops the demo stack through the daemon
# first, then the daemon (had the daemon seen the Ctrl-C too, it would exit
# before `down` and leave the demo's processes running).
setsid "$bin" serve "${@:2}" &
daemon=$!
# Ctrl-C: like an attached `docker compose up`, the demo stack stops too
# (a daemon stopped any other way leaves services running and re-adopts them).
stop() {
    trap - INT TERM HUP
    echo "run.sh: stopping the demo stack, then the daemon" >&2
    "$bin" down demo >/dev/null 2>&1 || true
    kill -TERM $daemon 2>/dev/null
    wait $daemon
    exit $?
}
trap stop INT TERM HUP

for _ in $(seq 1 100); do
    "$bin" status >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || { wait $daemon; exit $?; }
    sleep 0.1
done

if ! "$bin" sources show demo-docs >/dev/null 2>&1; then
    "$bin" sources add demo-docs --type file --path "$root/docs" --schedule @hourly \
        --priority 7 >/dev/null
fi
"$bin" sources run demo-docs >/dev/null

# The demo stack runs from a copy under the data dir (its www/ and logs stay
# out of the source tree); registered once, brought up on every start.
demo=$CC_DATA_DIR/demo
mkdir -p "$demo"
cp -R "$root/deploy/demo/." "$demo/"
if ! "$bin" projects show demo >/dev/null 2>&1; then
    "$bin" projects add "$demo/compose.yaml" >/dev/null
fi
if ! "$bin" up "$demo/compose.yaml" --wait --wait-timeout 60s; then
    echo "run.sh: the demo stack did not come up; the daemon keeps running" >&2
    echo "        (see: $bin health demo; $bin logs demo)" >&2
fi

cat <<MSG

  CommandCenter Hub:  http://${CC_HTTP_LISTEN}/
  Admin token file:   $CC_TOKEN_FILE   (paste its contents at the Hub's login)
  CLI:                export CC_TOKEN_FILE=$CC_TOKEN_FILE
                      $bin status
                      $bin search "rate limit"      (the demo source indexes docs/)
                      $bin ps demo; $bin health demo; $bin logs demo -f
                      (the demo stack: redis-server + busybox httpd, supervised)
  Stop:               Ctrl-C (stops the demo stack, then the daemon)

MSG
wait $daemon
