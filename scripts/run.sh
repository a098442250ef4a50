#!/usr/bin/env bash
# run.sh - `make run`: the daemon on embedded defaults with its data in ./var,
# plus the demo: the project's own docs/ folder as a file source, so search
# answers out of the box (`commandcenter search "rate limit"`).
set -euo pipefail
bin=${1:-build/commandcenter}
root=$(cd "$(dirname "$0")/.." && pwd)
export CC_DATA_DIR=${CC_DATA_DIR:-$root/var}
export CC_HTTP_LISTEN=${CC_HTTP_LISTEN:-127.0.0.1:8470}
export CC_SERVER=http://$CC_HTTP_LISTEN
export CC_TOKEN_FILE=$CC_DATA_DIR/admin.token
mkdir -p "$CC_DATA_DIR"

"$bin" serve "${@:2}" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon; exit $?' INT TERM

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

cat <<MSG

  CommandCenter Hub:  http://${CC_HTTP_LISTEN}/
  Admin token file:   $CC_TOKEN_FILE   (paste its contents at the Hub's login)
  CLI:                export CC_TOKEN_FILE=$CC_TOKEN_FILE
                      $bin status
                      $bin search "rate limit"      (the demo source indexes docs/)
  Stop:               Ctrl-C

MSG
wait $daemon
