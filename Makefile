# Siali Label — the two commands: `make up` (run it locally) and `make test` (run every test).
#
#   make up      install missing Debian packages, build, start MariaDB + siali + nginx under var/up,
#                create the admin user, print the URL and the token (idempotent)
#   make down    stop what `make up` started
#   make test    sanitizer build, throwaway stack under var/test on other ports, every test
#   make bench   the server against its ceiling (tests/bench/bench.sh, release build, ~1 min)
#   make bench-tasks  the task API over 1M tasks (tests/bench/tasks.sh; the first run loads them)
#   make deps    only install the dependencies: the Debian packages, then the storage emulators
#                the tests run against (tests/emulators: s3rver and azurite from npm, `npm ci`
#                from the committed lock; skipped while node_modules matches the lock)
#   make clean   remove the build directories (var/ keeps its data; `make distclean` removes it)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

SIALI_PORT      ?= 8080
SIALI_TEST_PORT ?= 18080
SIALI_USERNAME  ?= admin
JOBS            ?= $(shell nproc)

UP_DIR   := $(CURDIR)/var/up
TEST_DIR := $(CURDIR)/var/test

# Everything the build, the tests and the local stack need; all from Debian 12.
PACKAGES := build-essential cmake pkg-config clang git curl ca-certificates procps \
            libfcgi-dev libjson-c-dev libmariadb-dev libcurl4-openssl-dev libsodium-dev libssl-dev \
            libxml2-dev libcsv-dev libzip-dev libcriterion-dev mariadb-server mariadb-client nginx-light wrk python3 python3-cryptography unzip \
            redis-server libhiredis-dev libpcre2-dev

CMAKE_FLAGS := -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

# npm packages for the tests (s3rver, azurite), pinned by tests/emulators/package-lock.json.
# Node.js and npm are not in PACKAGES: Debian 12's npm conflicts with (and its nodejs 18 would
# replace) the NodeSource node 20 the machines carry, so npm must already be on the PATH.
EMU_DIR   := tests/emulators
EMU_STAMP := $(EMU_DIR)/node_modules/.siali-installed

.PHONY: all deps deps-debian build build-test up down test bench bench-tasks clean distclean

all: build

deps: deps-debian $(EMU_STAMP)

# Re-run only when node_modules is missing or the manifest/lock changed. --ignore-scripts: no
# package runs an install script (nothing fetched from anywhere but the npm registry).
$(EMU_STAMP): $(EMU_DIR)/package.json $(EMU_DIR)/package-lock.json | deps-debian
	@command -v npm >/dev/null 2>&1 || { echo "make deps: npm is not installed; the tests need Node.js (>= 20) with npm to install the storage emulators in $(EMU_DIR) (e.g. NodeSource's nodejs package)" >&2; exit 1; }
	@echo "installing the storage emulators (npm ci --prefix $(EMU_DIR))"
	@rm -f $@
	@npm ci --prefix $(EMU_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

deps-debian:
	@missing=""; for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" -ne 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	    systemctl disable --now mariadb nginx redis-server >/dev/null 2>&1 || true; \
	    service mariadb stop >/dev/null 2>&1 || true; service nginx stop >/dev/null 2>&1 || true; \
	    service redis-server stop >/dev/null 2>&1 || true; \
	fi

# Release build for `make up`: the binary's default config is var/up/siali.conf, so
# ./build/siali works from the repo root with no extra environment.
build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIALI_DEFAULT_CONFIG=$(UP_DIR)/siali.conf $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j $(JOBS) -- --no-print-directory

# Sanitizer build for `make test`.
build-test: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON -DSIALI_DEFAULT_CONFIG=$(TEST_DIR)/siali.conf $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j $(JOBS) -- --no-print-directory

up: build
	@tests/stack.sh start $(UP_DIR) $(SIALI_PORT) $(CURDIR)/build/siali
	@tests/stack.sh admin $(UP_DIR) $(SIALI_PORT) "$(SIALI_USERNAME)"

down:
	@tests/stack.sh stop $(UP_DIR)

test: build-test
	@tests/run-tests.sh $(CURDIR)/build-asan $(TEST_DIR) $(SIALI_TEST_PORT)

bench: build
	@tests/bench/bench.sh

bench-tasks: build
	@tests/bench/tasks.sh

clean:
	rm -rf build build-asan

distclean: down clean
	@tests/stack.sh stop $(TEST_DIR) || true
	rm -rf var
