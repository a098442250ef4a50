#!/usr/bin/env bash
# fuzz.sh - `make fuzz`: builds every tests/fuzz/fuzz_*.c with libFuzzer,
# ASan and UBSan (clang-14) and runs each for SECONDS (default 60), starting
# from its checked-in seed corpus. New interesting inputs go to
# tests/fuzz/findings/<target>/ (ignored by git); a crash stops the run and
# leaves its reproducer there: copy it into tests/fuzz/corpus/<target>/
# once fixed so `make test` replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang-14 cmake -S . -B build-fuzz -DCC_FUZZ=ON -DCC_SANITIZE=ON -DCC_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
for src in tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    mkdir -p "tests/fuzz/findings/$t"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    echo "==> $t for ${secs}s"
    "build-fuzz/$t" -max_total_time="$secs" -artifact_prefix="tests/fuzz/findings/$t/" \
        "${dict[@]}" "tests/fuzz/findings/$t" "tests/fuzz/corpus/$t"
done
