#!/usr/bin/env bash
# test.sh - `make test`: builds and runs every test, then prints one closing
# line "N passed, N failed" over all of them.
#
# Stages (each counted):
#   1. gcc build with -Werror; unit tests and fuzz-corpus replays (ctest)
#   2. integration tests (pytest) against that binary
#   3. the same unit and integration suites under ASan + UBSan
#   4. clang-14 build with -Werror, and the libFuzzer targets (build only)
# A stage that cannot run (a build that fails) counts as a failure: nothing
# is skipped silently.
#
# A throw-away PostgreSQL 15 (scripts/postgres.sh) is started once before the
# stages and stopped at the end; CC_TEST_PG_DSN points the PostgreSQL store
# tests (ctest and pytest) at it. A server that cannot start is one counted
# failure, with the reason, and those tests then fail on their own.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
PY=/usr/bin/python3
passed=0
failed=0
log_dir=$root/build-logs
mkdir -p "$log_dir"

say() { printf '\n==> %s\n' "$*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

build() { # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DCC_WERROR=ON "$@" >"$log_dir/$(basename "$dir").cmake.log" 2>&1 &&
        cmake --build "$dir" -j"$jobs" >"$log_dir/$(basename "$dir").build.log" 2>&1
}

run_ctest() { # run_ctest DIR LABEL
    local dir=$1 label=$2 out
    out=$(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 300 2>&1)
    printf '%s\n' "$out" | tail -n 40
    local line total fails
    line=$(printf '%s\n' "$out" | grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' | tail -1)
    if [ -z "$line" ]; then
        echo "$label: ctest printed no summary" >&2
        count 0 1
        return
    fi
    fails=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    count $((total - fails)) "$fails"
}

run_pytest() { # run_pytest BIN LABEL
    local bin=$1 label=$2 out rc
    out=$(CC_BIN=$bin $PY -m pytest -q -p no:cacheprovider tests/integration 2>&1)
    rc=$?
    printf '%s\n' "$out" | tail -n 60
    local summary p f e
    summary=$(printf '%s\n' "$out" | grep -E '^(=+ )?[0-9]+ (passed|failed|error)' | tail -1)
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || true)
    f=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || true)
    e=$(grep -oE '[0-9]+ errors?' <<<"$summary" | grep -oE '[0-9]+' || true)
    p=${p:-0}; f=${f:-0}; e=${e:-0}
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ]; then
        echo "$label: pytest ran no test (exit $rc)" >&2
        count 0 1
        return
    fi
    count "$p" $((f + e))
}

check() { # check LABEL COMMAND... : one counted pass/fail
    local label=$1; shift
    if "$@"; then
        echo "ok: $label"
        count 1 0
    else
        echo "FAILED: $label (logs in $log_dir)"
        count 0 1
    fi
}

# The docker driver's tests and the orchestration integration tests run
# against a private engine (scripts/dockerd.sh) with local images
# (tests/images/build.sh); it is started once here and stopped at the end.
# An engine that cannot start, or images that cannot be built, is a counted
# failure saying why; the tests that need it then fail too, never skip.
docker_dir=$root/build/dockerd
pg_dir=$(mktemp -d /tmp/cc-test-pg.XXXXXX)
stop_engine() { scripts/dockerd.sh stop "$docker_dir" >/dev/null 2>&1 || true; }
stop_pg() { scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1; rm -rf "$pg_dir"; }
cleanup() { stop_engine; stop_pg; }
trap cleanup EXIT
say "private Docker engine and test images"
mkdir -p "$root/build"
if host=$(scripts/dockerd.sh start "$docker_dir" 2>"$log_dir/dockerd.log"); then
    export CC_TEST_DOCKER_HOST=$host
    echo "engine at $host"
    check "test images (tests/images/build.sh)" \
        bash -c "DOCKER_HOST='$host' tests/images/build.sh >'$log_dir/images.log' 2>&1 || { tail -20 '$log_dir/images.log'; false; }"
else
    echo "FAILED: the private Docker engine did not start:"; cat "$log_dir/dockerd.log"
    echo "  (scripts/dockerd.sh start $docker_dir; needs root and docker.io: scripts/deps.sh test)"
    count 0 1
fi

say "PostgreSQL for the store tests"
if pg_out=$(scripts/postgres.sh start "$pg_dir" 2>&1); then
    CC_TEST_PG_DSN=$(cat "$pg_dir/dsn")
    export CC_TEST_PG_DSN
    echo "ok: PostgreSQL at $CC_TEST_PG_DSN"
    count 1 0
else
    echo "FAILED: PostgreSQL did not start: $pg_out"
    unset CC_TEST_PG_DSN
    count 0 1
fi

say "gcc build (-Werror)"
if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
    count 1 0
    say "unit tests and fuzz corpus replay"
    run_ctest build "unit"
    say "integration tests"
    run_pytest "$root/build/commandcenter" "integration"
else
    echo "FAILED: gcc build; see $log_dir/build.build.log"; tail -30 "$log_dir/build.build.log"
    count 0 1
fi

say "ASan + UBSan build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build build-asan -DCMAKE_BUILD_TYPE=Debug -DCC_SANITIZE=ON; then
    count 1 0
    say "unit tests and fuzz corpus replay under sanitizers"
    run_ctest build-asan "unit-asan"
    say "integration tests under sanitizers"
    run_pytest "$root/build-asan/commandcenter" "integration-asan"
else
    echo "FAILED: sanitizer build; see $log_dir/build-asan.build.log"
    tail -30 "$log_dir/build-asan.build.log"
    count 0 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

say "clang-14 build (-Werror) and libFuzzer targets"
check "clang-14 build" env CC=clang-14 bash -c "$(declare -f build); log_dir=$log_dir jobs=$jobs build build-clang -DCMAKE_BUILD_TYPE=Debug"
check "libFuzzer targets build" env CC=clang-14 bash -c "$(declare -f build); log_dir=$log_dir jobs=$jobs build build-fuzz -DCC_FUZZ=ON -DCC_SANITIZE=ON -DCC_TESTS=OFF"

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
