# lib.sh — what the benchmark scripts share (sourced, not run).

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 2; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() { # pidfile: TERM, wait up to 10 s, then KILL
	local pid
	alive "$1" || { rm -f "$1"; return 0; }
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1"
}

wait_for() { # seconds description command...
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "$what did not come up in ${t}s"
}

to_ms() { # wrk duration (12.3us, 4.5ms, 1.2s, 2m) -> milliseconds
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.2f", n }'
}

# One run at a time per directory: a second one would stop the first one's stack. Uses fd 9;
# daemons started afterwards must get 9>&- so that they do not hold the lock.
bench_lock() { # dir
	exec 9>"$1/bench.lock"
	if ! flock -n 9; then
		say "another benchmark is running on $1: waiting for it (lock $1/bench.lock)"
		flock -w 1800 9 || die "gave up waiting for the other benchmark"
	fi
}

# Prints "<token>" of user NAME, creating it when missing (SIALI_CONFIG must be set).
bench_token() { # bin name
	local acct
	if ! acct=$("$1" user --username "$2" 2>/dev/null); then
		acct=$("$1" user --create --username "$2" --password "bench-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')")
	fi
	printf '%s' "$acct" | sed -n 's/.*"token" *: *"\([0-9a-fA-F]\{40\}\)".*/\1/p'
}

# --- for the scripts that measure against absolute targets (tasks.sh, import.sh) ---------------
# They set DIR (the stack), URL, AUTH ("Authorization: Token …") and OUT (prefix of raw outputs).

api() { # method path [body]
	curl -sS -f -X "$1" -H "$AUTH" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$URL$2"
}

workers_hwm() { # the largest VmHWM (kB) among the serve master's children
	local master max=0 v
	master=$(cat "$DIR/serve.pid")
	for p in $(pgrep -P "$master"); do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		[ "${v:-0}" -gt "$max" ] && max=$v
	done
	echo "$max"
}

pct() { to_ms "$(awk -v p="$2" '$1 == p { print $2 }' "$OUT.$1")"; }   # name percentile

# report what figure unit target le|ge: one line of the final table, the ratio >= 1 meeting the
# target (target / figure for "le", figure / target for "ge").
declare -a ROWS=()
report() {
	local ratio verdict
	if [ "$5" = le ]; then
		ratio=$(awk -v f="$2" -v t="$4" 'BEGIN { printf "%.2f", (f > 0 ? t / f : 99) }')
	else
		ratio=$(awk -v f="$2" -v t="$4" 'BEGIN { printf "%.2f", f / t }')
	fi
	if awk -v r="$ratio" 'BEGIN { exit !(r >= 1) }'; then verdict=PASS; else verdict=BELOW; fi
	ROWS+=("$(printf '%-52s %10s %-5s %8s %6s  %s' "$1" "$2" "$3" "$([ "$5" = le ] && echo "<=" || echo ">=")$4" "$ratio" "$verdict")")
}
