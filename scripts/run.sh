#!/usr/bin/env bash
# run.sh - `make run`: the daemon on embedded defaults with its data in ./var.
set -euo pipefail
bin=${1:-build/commandcenter}
export CC_DATA_DIR=${CC_DATA_DIR:-$PWD/var}
export CC_HTTP_LISTEN=${CC_HTTP_LISTEN:-127.0.0.1:8470}
mkdir -p "$CC_DATA_DIR"
cat <<MSG

  CommandCenter Hub:  http://${CC_HTTP_LISTEN}/
  Admin token file:   $CC_DATA_DIR/admin.token   (created on first start)
  CLI:                export CC_TOKEN_FILE=$CC_DATA_DIR/admin.token
                      $bin status
  Stop:               Ctrl-C

MSG
exec "$bin" serve "$@"
