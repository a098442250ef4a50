#!/usr/bin/env bash
# deps.sh - installs the Debian packages CommandCenter needs, and only those
# that are missing. Idempotent and quiet when everything is present.
#
#   scripts/deps.sh [build|run|test|bench|fuzz|all]...   (default: build)
#
# Every make target calls this first, so a fresh Debian 12 machine needs
# nothing but `make run` or `make test`.
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config git
            libmicrohttpd-dev libjansson-dev libfyaml-dev libsqlite3-dev
            libxml2-dev libzip-dev libpq-dev poppler-utils tzdata
            nettle-dev libmd4c-dev libcurl4-openssl-dev zlib1g-dev)
test_pkgs=(libcmocka-dev python3 python3-pytest prometheus sqlite3
           clang-14 libfuzzer-14-dev libclang-rt-14-dev chromium
           docker.io busybox-static redis-tools postgresql-15 util-linux
           docker-compose python3-yaml systemd groff-base man-db)
bench_pkgs=(wrk nginx-light python3-fastapi python3-uvicorn procps postgresql-15
            util-linux docker.io docker-compose hyperfine busybox-static redis-tools curl)
fuzz_pkgs=(clang-14 libfuzzer-14-dev libclang-rt-14-dev)
# `make run`'s demo stack runs Debian's redis-server and busybox httpd.
run_pkgs=(redis-server busybox-static)
# The feed parser is compared with feedparser (tests/integration/test_feed_cli.py,
# bench/sources_feeds.sh).
test_pkgs+=(python3-feedparser)
bench_pkgs+=(python3-feedparser)

want=()
[ $# -eq 0 ] && set -- build
for profile in "$@"; do
    case "$profile" in
        build) want+=("${build_pkgs[@]}") ;;
        run)   want+=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
        test)  want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${run_pkgs[@]}") ;;
        bench) want+=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
        fuzz)  want+=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
        all)   want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${run_pkgs[@]}") ;;
        *) echo "deps.sh: unknown profile '$profile' (use build, run, test, bench, fuzz or all)" >&2
           exit 2 ;;
    esac
done

# The Hub's browser test drives Debian's chromium with playwright-core from
# npm (no browser download). Node itself may come with the machine image or
# from Debian.
hub_tests() {
    local dir
    dir=$(cd "$(dirname "$0")/.." && pwd)/tests/hub
    [ -d "$dir/node_modules/playwright-core" ] && return 0
    echo "deps.sh: npm install in tests/hub" >&2
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
}

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
for profile in "$@"; do
    case "$profile" in test|all) command -v npm >/dev/null 2>&1 || missing+=(nodejs npm) ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
    for profile in "$@"; do case "$profile" in test|all) hub_tests ;; esac; done
    exit 0
fi

echo "deps.sh: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "deps.sh: these Debian packages are missing and I am not root:" >&2
        echo "  apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for profile in "$@"; do case "$profile" in test|all) hub_tests ;; esac; done
