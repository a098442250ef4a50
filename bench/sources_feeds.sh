#!/usr/bin/env bash
# bench/sources_feeds.sh - feed parsing: `commandcenter feed parse` against
# Python's feedparser (Debian python3-feedparser) on the same generated
# corpus, in the same run. Figures go under "feeds" in
# bench/results/sources.json (other keys of that file are kept).
# See bench/README.md, "sources_feeds.sh".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CC_BIN:=$here/../build/commandcenter}"
if ! /usr/bin/python3 -c 'import feedparser' 2>/dev/null; then
    echo "sources_feeds: python3-feedparser is missing (scripts/deps.sh bench installs it)" >&2
    exit 1
fi
# The in-process harness (bench/feed_bench.c) is built beside CC_BIN.
bdir=$(cd "$(dirname "$CC_BIN")" && pwd)
if [ ! -f "$bdir/CMakeCache.txt" ]; then
    echo "sources_feeds: $bdir is not a CMake build directory (needed for bench_feed)" >&2
    exit 1
fi
cmake --build "$bdir" --target bench_feed >/dev/null
exec /usr/bin/python3 "$here/sources_feeds.py" "$CC_BIN" "$bdir/bench_feed" \
    "$here/results/sources.json"
