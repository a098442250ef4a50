#!/usr/bin/env bash
# bench/run.sh - runs every benchmark in bench/ (each bench/*.sh but this one)
# with the binary in CC_BIN; `make bench` builds a Release binary and calls it.
# Each benchmark writes its figures to bench/results/. Exit status: non-zero
# if a benchmark could not run; a missed target is reported in its results.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CC_BIN:=$here/../build/commandcenter}"
export CC_BIN
failed=()
for b in "$here"/*.sh; do
    [ "$(basename "$b")" = run.sh ] && continue
    echo "== $(basename "$b")"
    if ! bash "$b"; then
        failed+=("$(basename "$b")")
    fi
    echo
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: could not run: ${failed[*]}" >&2
    exit 1
fi
