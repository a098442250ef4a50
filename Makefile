# CommandCenter - the two commands a new machine needs are `make run` and
# `make test`; everything else is for developers. Every target installs the
# Debian packages it needs first (scripts/deps.sh, quiet when all present).

MAKEFLAGS  += --no-print-directory

PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE_ARGS ?=

.PHONY: all build run test bench fuzz install clean deps

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target commandcenter

# Starts the Hub on embedded defaults (SQLite under ./var, no Docker needed).
run: build
	@scripts/deps.sh run
	@scripts/run.sh $(BUILD)/commandcenter

test:
	@scripts/deps.sh test
	@scripts/test.sh

bench:
	@scripts/deps.sh bench
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCC_TESTS=OFF >/dev/null
	@cmake --build build-bench -j$(JOBS) --target commandcenter
	@CC_BIN=$(CURDIR)/build-bench/commandcenter bench/run.sh

fuzz:
	@scripts/deps.sh fuzz
	@scripts/fuzz.sh $(FUZZ_SECONDS)

install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX) --strip

clean:
	rm -rf build build-* 
