#!/bin/bash
# run-tests.sh BUILD_DIR STACK_DIR PORT — what `make test` runs: the unit tests, the fuzz corpora
# replayed through their targets, then a throwaway stack (MariaDB + siali + nginx) under
# STACK_DIR on 127.0.0.1:PORT for the end-to-end tests, torn down at the end. Exits non-zero on
# any failure, including a sanitizer report in a server log.
#
# Environment: TESTS="unit_jwt e2e_auth ..." runs only those; KEEP_STACK=1 leaves the stack up.
set -uo pipefail

BUILD=${1:?build dir}
STACK=${2:?stack dir}
PORT=${3:?port}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/siali
passed=0
failed=0
failures=()

want() { [ -z "${TESTS:-}" ] || [[ " $TESTS " == *" $1 "* ]]; }

run() { # name command...
	local name=$1 log
	shift
	want "$name" || return 0
	log=$(mktemp)
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS  %s\n' "$name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL  %s\n' "$name"
		sed 's/^/      /' "$log" | tail -60
	fi
	rm -f "$log"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit"
for t in "$BUILD"/tests/unit_*; do
	run "$(basename "$t")" "$t" --jobs 2
done

echo "== fuzz corpora"
for t in "$BUILD"/tests/fuzz_*; do
	name=$(basename "$t")
	run "$name" "$t" "$SRC/tests/fuzz/corpus/${name#fuzz_}"
done

e2e=("$BUILD"/tests/e2e_*)
if [ -e "${e2e[0]}" ]; then
	echo "== end to end (stack under $STACK, http://127.0.0.1:$PORT)"
	"$SRC/tests/stack.sh" stop "$STACK" >/dev/null 2>&1
	rm -rf "$STACK"
	# A small body limit, so the oversized-body tests need not send 250 MB. Loopback ports let
	# through the SSRF guard: one for the tests that fetch from a server of their own, and the
	# storage emulators' (s3rver on PORT+20, azurite on PORT+21, the GCS double on PORT+22;
	# stack.sh starts them with SIALI_EMULATORS=1 when `make deps` installed them; redis-server on
	# PORT+23). Local-files storages may use directories under $STACK/local-files.
	export SIALI_TEST_FETCH_PORT=$((PORT + 19))
	allow=127.0.0.1:$SIALI_TEST_FETCH_PORT,127.0.0.1:$((PORT + 20)),127.0.0.1:$((PORT + 21)),127.0.0.1:$((PORT + 22))
	allow=$allow,127.0.0.1:$((PORT + 23))
	export SIALI_TEST_LOCAL_FILES=$STACK/local-files
	if ! SIALI_MAX_BODY_SIZE=2M SIALI_OUTBOUND_ALLOW_HOSTS=$allow SIALI_EMULATORS=1 \
		SIALI_LOCAL_FILES_ROOT=$SIALI_TEST_LOCAL_FILES \
		"$SRC/tests/stack.sh" start "$STACK" "$PORT" "$BIN"; then
		echo "FAIL  stack: could not start (logs under $STACK)"
		tail -20 "$STACK"/*.log 2>/dev/null
		exit 1
	fi
	export SIALI_TEST_URL=http://127.0.0.1:$PORT SIALI_STACK_DIR=$STACK SIALI_BIN=$BIN SIALI_SRC=$SRC
	export SIALI_CONFIG=$STACK/siali.conf
	# The emulators' endpoints, empty when they are not installed (their tests then say so).
	SIALI_TEST_S3_URL=$(cat "$STACK/s3.endpoint" 2>/dev/null || true)
	SIALI_TEST_AZURE_URL=$(cat "$STACK/azure.endpoint" 2>/dev/null || true)
	SIALI_TEST_GCS_URL=$(cat "$STACK/gcs.endpoint" 2>/dev/null || true)
	SIALI_TEST_REDIS_PORT=$(cat "$STACK/redis.port" 2>/dev/null || true)
	export SIALI_TEST_S3_URL SIALI_TEST_AZURE_URL SIALI_TEST_GCS_URL SIALI_TEST_REDIS_PORT
	mkdir -p "$SIALI_TEST_LOCAL_FILES"
	for t in "${e2e[@]}"; do
		# One test at a time: some of them kill workers or restart MariaDB.
		# The clients leak on a failed assertion by design; leaks that matter are the servers'.
		ASAN_OPTIONS=detect_leaks=0 run "$(basename "$t")" "$t" --jobs 1
	done
	[ -n "${KEEP_STACK:-}" ] || "$SRC/tests/stack.sh" stop "$STACK"
	# A sanitizer report in a server process fails the run even if every client check passed.
	if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$STACK"/*.log >/dev/null 2>&1; then
		failed=$((failed + 1))
		failures+=("sanitizer report in server logs")
		echo "FAIL  sanitizers: see $(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$STACK"/*.log | tr '\n' ' ')"
		grep -hE -A15 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$STACK"/*.log | head -60
	fi
fi

echo
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
	printf '  failed: %s\n' "${failures[@]}"
	exit 1
fi
