#!/bin/bash
# bench.sh — siali against its ceiling, with wrk (issue 2). Run from anywhere; `make bench`
# builds build/siali first and calls it.
#
# Starts a siali stack under var/bench (tests/stack.sh: MariaDB, siali serve, siali worker, nginx
# on 127.0.0.1:28080), a libfcgi hello-world pool (tests/bench/hello.c) with the same number of
# workers behind a second nginx on 127.0.0.1:28081 built from the same nginx/dev.conf.in, warms
# every target up, then measures
#
#   hello  GET /health                      the ceiling: nginx + libfcgi + nothing
#   siali  GET /health                      target >= 0.8 x ceiling
#   siali  GET /api/current-user/whoami     target >= 0.5 x ceiling (legacy token, one MariaDB read)
#
# and tears everything down on exit. Environment:
#
#   SIALI_WORKERS=N       FastCGI workers of both pools (default: siali's `workers`, 0 = 2 x cores);
#                         every other SIALI_<NAME> override reaches siali too
#   BENCH_DURATION=10s    wrk run per target          BENCH_WARMUP=3s   warm-up per target (0: none)
#   BENCH_CONNECTIONS=64  wrk connections             BENCH_THREADS=2   wrk threads
#   BENCH_ROUNDS=1        rounds over the 3 targets; the best run of each target is reported
#   BENCH_DIR=var/bench (from the repo root)   BENCH_PORT=28080   BENCH_HELLO_PORT=28081
#   SIALI_BIN=build/siali the binary to measure
#   BENCH_KEEP=1          leave both stacks running at the end (stop: tests/stack.sh stop var/bench,
#                         then kill the pids in var/bench/hello.pid and var/bench/hello-nginx/nginx.pid)
#
# Exit status: 0 when every run was clean (even below target: the table says BELOW), 1 when any
# run saw non-2xx answers or socket errors, 2 when the setup failed.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath -m "${SIALI_BIN:-$SRC/build/siali}")
cd "$SRC"

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-1}
PORT=${BENCH_PORT:-28080}
HPORT=${BENCH_HELLO_PORT:-28081}
mkdir -p "${BENCH_DIR:-var/bench}" build/bench
DIR=$(cd "${BENCH_DIR:-var/bench}" && pwd)
HN=$DIR/hello-nginx
HSOCK=$DIR/hello.sock
HELLO=$SRC/build/bench/hello
OUT=$DIR/wrk
CONF=$DIR/siali.conf

. "$SRC/tests/bench/lib.sh"
bench_lock "$DIR"

for tool in wrk nginx curl cc mariadbd flock; do
	command -v "$tool" >/dev/null || die "$tool is missing: run \`make deps\`"
done
[ -x "$BIN" ] || die "$BIN is not built: run \`make build\` (or \`make bench\`)"

teardown() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "BENCH_KEEP: siali on http://127.0.0.1:$PORT, hello on http://127.0.0.1:$HPORT are left running"
		exit "$rc"
	fi
	say "tearing down"
	stop_pidfile "$HN/nginx.pid"
	stop_pidfile "$DIR/hello.pid"
	tests/stack.sh stop "$DIR" || true
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# --- siali --------------------------------------------------------------------------------------

# A fresh start, so SIALI_WORKERS and other overrides of this run apply (start is idempotent and
# would leave a serve from an interrupted run alone).
stop_pidfile "$HN/nginx.pid"
stop_pidfile "$DIR/hello.pid"
tests/stack.sh stop "$DIR"
# Only this run's results and logs (siali logs a line per request: tens of MB per run).
rm -f "$OUT".*
for f in "$DIR/serve.log" "$DIR/worker.log" "$DIR/nginx/access.log" "$DIR/nginx/error.log" \
	"$HN/access.log" "$HN/error.log"; do
	if [ -e "$f" ]; then : >"$f"; fi
done
say "starting the siali stack under $DIR (port $PORT)"
tests/stack.sh start "$DIR" "$PORT" "$BIN" 9>&-
export SIALI_CONFIG=$CONF
WORKERS=$("$BIN" check-config -v 2>/dev/null | sed -n 's/^workers *= *//p')
[[ "$WORKERS" =~ ^[0-9]+$ ]] && [ "$WORKERS" -gt 0 ] || die "cannot read siali's worker count"
TOKEN=$(bench_token "$BIN" bench)
[ -n "$TOKEN" ] || die "no token from \`siali user\`"

# --- the ceiling: hello-world pool + an nginx from the same config --------------------------------

cc -O2 -Wall -Wextra -Werror -o "$HELLO" tests/bench/hello.c -lfcgi || die "cannot build hello.c"
setsid "$HELLO" "$HSOCK" "$WORKERS" </dev/null >"$DIR/hello.log" 2>&1 9>&- &
echo $! >"$DIR/hello.pid"
wait_for 10 "the hello-world pool" test -S "$HSOCK"

# As tests/stack.sh's start_nginx does, with the hello socket, its own port and prefix.
mkdir -p "$HN/tmp"
body=$("$BIN" check-config -v 2>/dev/null | sed -n 's/^max_body_size *= *//p')
[ -n "$body" ] || body=250M
nuser=""
if [ "$(id -u)" -eq 0 ]; then nuser="user root root;"; fi
sed -e "s|@DIR@/nginx|$HN|g" -e "s|@DIR@|$DIR|g" -e "s|@SRC@|$SRC|g" -e "s|@PORT@|$HPORT|g" \
	-e "s|@SOCKET@|$HSOCK|g" -e "s|@MAX_BODY@|$(echo "$body" | tr 'A-Z' 'a-z')|g" \
	-e "s|@USER@|$nuser|g" nginx/dev.conf.in >"$HN/nginx.conf"
# Same config but for the socket, the port and the paths of its own files.
if ! diff <(sed -e '/^#/d' -e "s|$HN|PREFIX|g" -e "s|$HSOCK|SOCKET|g" -e "s|:$HPORT;|:PORT;|" "$HN/nginx.conf") \
	<(sed -e '/^#/d' -e "s|$DIR/nginx|PREFIX|g" -e "s|$DIR/siali.sock|SOCKET|g" -e "s|:$PORT;|:PORT;|" "$DIR/nginx/nginx.conf") >&2; then
	die "the two nginx configs differ beyond socket, port and prefix"
fi
nginx -p "$HN" -c "$HN/nginx.conf" -e "$HN/error.log" -t -q || die "hello nginx: config test failed"
nginx -p "$HN" -c "$HN/nginx.conf" -e "$HN/error.log" 9>&-
wait_for 10 "the hello nginx" curl -fsS "http://127.0.0.1:$HPORT/health"

# --- the targets ----------------------------------------------------------------------------------

NAMES=(ceiling health whoami)
declare -A LABEL=(
	[ceiling]="hello GET /health (ceiling)"
	[health]="siali GET /health"
	[whoami]="siali GET /api/current-user/whoami"
)
declare -A URL=(
	[ceiling]="http://127.0.0.1:$HPORT/health"
	[health]="http://127.0.0.1:$PORT/health"
	[whoami]="http://127.0.0.1:$PORT/api/current-user/whoami"
)
declare -A TARGET=([ceiling]="" [health]=0.8 [whoami]=0.5)
AUTH="Authorization: Token $TOKEN"

wrk_args() { # name
	if [ "$1" = whoami ]; then printf '%s\n' -H "$AUTH"; fi
	printf '%s\n' "${URL[$1]}"
}

# Each target must answer 200 with the right body before it is worth measuring.
for n in "${NAMES[@]}"; do
	mapfile -t args < <(wrk_args "$n")
	got=$(curl -sS -o "$OUT.check" -w '%{http_code}' "${args[@]}") || die "${LABEL[$n]}: curl failed"
	case $n in
	whoami) want='"username": *"bench"' ;;
	*) want='"status": *"UP"' ;;
	esac
	if [ "$got" != 200 ] || ! grep -Eq "$want" "$OUT.check"; then
		die "${LABEL[$n]} answers $got: $(head -c 300 "$OUT.check")"
	fi
done

# The stacks are idle now: whatever CPU is in use belongs to someone else and skews the figures.
cpu_busy() { # percent of CPU time not idle over one second
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; printf "%d", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0 }'
}
busy=$(cpu_busy)
if [ "$busy" -gt 15 ]; then
	say ""
	say "WARNING: ${busy}% of the CPU is busy before the benchmark starts: other work is running, the"
	say "figures will be low and noisy (BENCH_ROUNDS=3 keeps the best of three runs of each target)"
fi

cat >&2 <<EOF

workers: $WORKERS per pool ($(nproc) cores)   wrk: $THREADS threads, $CONNS connections, $DURATION per run, $ROUNDS round(s)
EOF
if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
	say "warming up ($WARMUP per target)"
	for n in "${NAMES[@]}"; do
		mapfile -t args < <(wrk_args "$n")
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${args[@]}" >/dev/null
	done
fi

declare -A RPS P50 P99 NON2XX SOCKERR
errors=0
for round in $(seq "$ROUNDS"); do
	for n in "${NAMES[@]}"; do
		mapfile -t args < <(wrk_args "$n")
		say "round $round/$ROUNDS: ${LABEL[$n]}"
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}" >"$OUT.$n.$round"
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$OUT.$n.$round")
		bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$OUT.$n.$round")
		sock=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$OUT.$n.$round")
		bad=${bad:-0} sock=${sock:-0}
		[ -n "$rps" ] || die "no Requests/sec in the wrk output ($OUT.$n.$round)"
		if [ "$bad" != 0 ] || [ "$sock" != 0 ]; then
			errors=1
			say ""
			say "!!!!!!!!!! ${LABEL[$n]}: $bad non-2xx answers and $sock socket errors in round $round !!!!!!!!!!"
			grep -E 'Non-2xx|Socket errors' "$OUT.$n.$round" >&2 || true
			say "(full output: $OUT.$n.$round; logs: $DIR/serve.log, $DIR/nginx/error.log, $HN/error.log)"
			say ""
		fi
		NON2XX[$n]=$((${NON2XX[$n]:-0} + bad))
		SOCKERR[$n]=$((${SOCKERR[$n]:-0} + sock))
		if [ -z "${RPS[$n]:-}" ] || awk -v a="$rps" -v b="${RPS[$n]}" 'BEGIN { exit !(a > b) }'; then
			RPS[$n]=$rps
			P50[$n]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$OUT.$n.$round")")
			P99[$n]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$OUT.$n.$round")")
		fi
	done
done

# --- the report -----------------------------------------------------------------------------------

echo
printf '%-36s %10s %9s %9s %7s %8s  %s\n' endpoint req/s "p50 ms" "p99 ms" ratio target verdict
for n in "${NAMES[@]}"; do
	ratio=$(awk -v a="${RPS[$n]}" -v b="${RPS[ceiling]}" 'BEGIN { printf "%.2f", a / b }')
	if [ -z "${TARGET[$n]}" ]; then
		target=- verdict=-
	else
		target=">=${TARGET[$n]}"
		if awk -v r="$ratio" -v t="${TARGET[$n]}" 'BEGIN { exit !(r >= t) }'; then verdict=PASS; else verdict=BELOW; fi
	fi
	if [ "${NON2XX[$n]}" != 0 ] || [ "${SOCKERR[$n]}" != 0 ]; then
		verdict="INVALID: ${NON2XX[$n]} non-2xx, ${SOCKERR[$n]} socket errors"
	fi
	printf '%-36s %10.0f %9s %9s %7s %8s  %s\n' "${LABEL[$n]}" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" \
		"$ratio" "$target" "$verdict"
done
echo "($WORKERS workers per pool, $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION; raw output in $OUT.*)"
if [ "$errors" != 0 ]; then
	say ""
	say "!!!!!!!!!! SOME RUNS HAD NON-2XX ANSWERS OR SOCKET ERRORS: the figures above are not valid !!!!!!!!!!"
	exit 1
fi
