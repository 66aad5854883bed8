#!/bin/bash
# stack.sh — a self-contained local stack under one directory: MariaDB (own datadir, unix socket
# only, no system service), siali serve, siali worker and nginx on 127.0.0.1:PORT.
# Used by `make up` (var/up), `make test` (var/test) and the benchmarks.
# With SIALI_EMULATORS=1 (set by run-tests.sh) and the emulators installed (`make deps`), start
# also runs the storage emulators: s3rver on 127.0.0.1:PORT+20 and azurite-blob on PORT+21,
# their endpoints written to DIR/s3.endpoint and DIR/azure.endpoint; and the GCS test double
# (tests/gcs_double) on PORT+22, its endpoint in DIR/gcs.endpoint.
#
#   stack.sh start DIR PORT BIN    start everything (idempotent: running parts are left alone)
#   stack.sh stop DIR              stop everything started under DIR
#   stack.sh admin DIR PORT NAME   create the admin user (once) and print the URL and token
#   stack.sh start-db DIR | stop-db DIR | restart-db DIR
#   stack.sh status DIR
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { sed -n '2,13p' "$0" >&2; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

DB_SOCK=$DIR/mysql.sock
CONF=$DIR/siali.conf
ME=$(id -un)

say() { printf '%s\n' "$*" >&2; }
die() { say "stack.sh: $*"; exit 1; }

alive() { # pidfile
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() { # seconds description command...
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "$what did not come up in ${t}s (logs in $DIR)"
}

stop_pid() { # pidfile seconds
	local pf=$1 t=${2:-30} pid
	alive "$pf" || { rm -f "$pf"; return 0; }
	pid=$(cat "$pf")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq $((t * 10))); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$pf"; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pf"
}

sql() { # as the database superuser, over the socket
	mariadb --no-defaults --protocol=socket -S "$DB_SOCK" -u"$ME" "$@"
}

start_db() {
	local data=$DIR/mysql
	if alive "$DIR/mysql.pid"; then return 0; fi
	if [ ! -d "$data/mysql" ]; then
		mkdir -p "$data"
		mariadb-install-db --no-defaults --datadir="$data" --user="$ME" \
			--auth-root-authentication-method=socket --skip-test-db >"$DIR/mysql-install.log" 2>&1 ||
			die "mariadb-install-db failed (see $DIR/mysql-install.log)"
	fi
	# --no-defaults: nothing from /etc/mysql; no TCP port, so stacks never collide.
	setsid mariadbd --no-defaults --datadir="$data" --socket="$DB_SOCK" --skip-networking \
		--pid-file="$DIR/mysql.pid" --log-error="$DIR/mysql.log" --user="$ME" \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
		--max-connections=500 </dev/null >/dev/null 2>&1 &
	wait_for 60 MariaDB mariadb-admin --no-defaults -S "$DB_SOCK" -u"$ME" ping
	wait_for 10 "MariaDB pid file" test -s "$DIR/mysql.pid"
}

stop_db() {
	if alive "$DIR/mysql.pid"; then
		mariadb-admin --no-defaults -S "$DB_SOCK" -u"$ME" shutdown >/dev/null 2>&1 || true
		stop_pid "$DIR/mysql.pid" 60
	fi
}

write_config() {
	local pw
	if [ ! -s "$DIR/db_password" ]; then
		(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/db_password")
	fi
	pw=$(cat "$DIR/db_password")
	sql -e "CREATE DATABASE IF NOT EXISTS siali CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS 'siali'@'localhost' IDENTIFIED BY '$pw';
		ALTER USER 'siali'@'localhost' IDENTIFIED BY '$pw';
		GRANT ALL ON siali.* TO 'siali'@'localhost';"
	if [ ! -s "$CONF" ]; then
		(umask 077 && cat >"$CONF" <<EOF
# Written by tests/stack.sh for the local stack under $DIR. Settings: \`siali check-config -v\`.
socket = $DIR/siali.sock
socket_mode = 0666
pidfile = $DIR/serve.pid
db_socket = $DB_SOCK
db_user = siali
db_password = $pw
db_name = siali
secret_key_file = $DIR/secret_key
media_root = $DIR/media
max_body_size = ${SIALI_MAX_BODY_SIZE:-250M}
outbound_allow_hosts = ${SIALI_OUTBOUND_ALLOW_HOSTS:-}
local_files_root = ${SIALI_LOCAL_FILES_ROOT:-}
EOF
		)
	fi
}

start_nginx() {
	local port=$1 body user=""
	mkdir -p "$DIR/nginx/tmp"
	body=$(SIALI_CONFIG=$CONF "$BIN" check-config -v 2>/dev/null | sed -n 's/^max_body_size *= *//p')
	[ -n "$body" ] || body=250M
	# nginx started by root hands its workers to nobody, who must reach the socket and temp dirs.
	if [ "$(id -u)" -eq 0 ]; then
		user="user root root;"
	fi
	sed -e "s|@DIR@|$DIR|g" -e "s|@SRC@|$SRC|g" -e "s|@PORT@|$port|g" \
		-e "s|@SOCKET@|$DIR/siali.sock|g" -e "s|@MAX_BODY@|$(echo "$body" | tr 'A-Z' 'a-z')|g" \
		-e "s|@USER@|$user|g" "$SRC/nginx/dev.conf.in" >"$DIR/nginx/nginx.conf"
	if alive "$DIR/nginx/nginx.pid"; then
		nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" -s reload
		return 0
	fi
	nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" -t -q ||
		die "nginx config test failed"
	nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log"
	wait_for 10 nginx curl -fsS "http://127.0.0.1:$port/health"
}

# The storage emulators from tests/emulators (npm): only when asked for and installed.
EMU_BIN=$SRC/tests/emulators/node_modules/.bin

start_emulators() {
	local port=$1 s3port=$(($1 + 20)) azport=$(($1 + 21))
	rm -f "$DIR/s3.endpoint" "$DIR/azure.endpoint" "$DIR/gcs.endpoint" "$DIR/redis.port"
	[ "${SIALI_EMULATORS:-}" = 1 ] || return 0
	# A redis-server (Debian) for the Redis storages on PORT+23, no persistence.
	if command -v redis-server >/dev/null; then
		if ! alive "$DIR/redis.pid"; then
			mkdir -p "$DIR/redis"
			setsid redis-server --bind 127.0.0.1 --port $(($1 + 23)) --save '' --appendonly no \
				--dir "$DIR/redis" </dev/null >>"$DIR/redis.log" 2>&1 &
			echo $! >"$DIR/redis.pid"
		fi
		wait_for 20 redis-server redis-cli -p $(($1 + 23)) ping
		echo $(($1 + 23)) >"$DIR/redis.port"
	fi
	# The GCS test double (Python, tests/gcs_double) on PORT+22: needs python3-cryptography only.
	if python3 -c 'import cryptography' 2>/dev/null; then
		if ! alive "$DIR/gcs.pid"; then
			setsid python3 "$SRC/tests/gcs_double/gcs_double.py" --host 127.0.0.1 --port $(($1 + 22)) \
				</dev/null >>"$DIR/gcs.log" 2>&1 &
			echo $! >"$DIR/gcs.pid"
		fi
		wait_for 30 gcs-double curl -sS -o /dev/null "http://127.0.0.1:$(($1 + 22))/storage/v1/b/x/o"
		echo "http://127.0.0.1:$(($1 + 22))" >"$DIR/gcs.endpoint"
	else
		say "stack.sh: python3-cryptography not installed (run \`make deps\`); no GCS double"
	fi
	if [ ! -x "$EMU_BIN/s3rver" ] || [ ! -x "$EMU_BIN/azurite-blob" ]; then
		say "stack.sh: storage emulators not installed (run \`make deps\`); not starting them"
		return 0
	fi
	command -v node >/dev/null || die "node is not installed (needed by the storage emulators)"
	if ! alive "$DIR/s3rver.pid"; then
		mkdir -p "$DIR/s3rver"
		# Its ListObjectsV2 continuation tokens are DES-encrypted: OpenSSL 3 has DES only in
		# the legacy provider.
		NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider" \
			setsid "$EMU_BIN/s3rver" --directory "$DIR/s3rver" --address 127.0.0.1 --port "$s3port" \
			--silent </dev/null >>"$DIR/s3rver.log" 2>&1 &
		echo $! >"$DIR/s3rver.pid"
	fi
	if ! alive "$DIR/azurite.pid"; then
		mkdir -p "$DIR/azurite"
		setsid "$EMU_BIN/azurite-blob" --blobHost 127.0.0.1 --blobPort "$azport" \
			--location "$DIR/azurite" --silent --skipApiVersionCheck --disableTelemetry \
			--disableProductStyleUrl </dev/null >>"$DIR/azurite.log" 2>&1 &
		echo $! >"$DIR/azurite.pid"
	fi
	# Any HTTP answer will do (both refuse an unsigned request).
	wait_for 30 s3rver curl -sS -o /dev/null "http://127.0.0.1:$s3port/"
	wait_for 30 azurite curl -sS -o /dev/null "http://127.0.0.1:$azport/devstoreaccount1?comp=list"
	echo "http://127.0.0.1:$s3port" >"$DIR/s3.endpoint"
	echo "http://127.0.0.1:$azport/devstoreaccount1" >"$DIR/azure.endpoint"
}

stop_emulators() {
	local pf
	for pf in "$DIR/s3rver.pid" "$DIR/azurite.pid"; do # both at once: each takes a second or two
		if alive "$pf"; then kill -TERM "$(cat "$pf")" 2>/dev/null || true; fi
	done
	stop_pid "$DIR/s3rver.pid" 10
	stop_pid "$DIR/azurite.pid" 10
	stop_pid "$DIR/gcs.pid" 10
	stop_pid "$DIR/redis.pid" 10
	rm -f "$DIR/s3.endpoint" "$DIR/azure.endpoint" "$DIR/gcs.endpoint" "$DIR/redis.port"
}

start() {
	local port=$1
	BIN=$(realpath "$2")
	[ -x "$BIN" ] || die "$BIN is not built"
	start_db
	write_config
	export SIALI_CONFIG=$CONF
	"$BIN" migrate >/dev/null
	if ! alive "$DIR/serve.pid"; then
		setsid "$BIN" serve </dev/null >>"$DIR/serve.log" 2>&1 &
		wait_for 20 "siali serve" test -S "$DIR/siali.sock"
	fi
	if ! alive "$DIR/worker.pid"; then
		setsid "$BIN" worker </dev/null >>"$DIR/worker.log" 2>&1 &
		echo $! >"$DIR/worker.pid"
	fi
	echo "$BIN" >"$DIR/bin"
	start_nginx "$port"
	start_emulators "$port"
	echo "$port" >"$DIR/port"
}

stop() {
	if [ -s "$DIR/nginx/nginx.pid" ]; then stop_pid "$DIR/nginx/nginx.pid" 10; fi
	stop_pid "$DIR/worker.pid" 30
	stop_pid "$DIR/serve.pid" 40
	stop_db
	stop_emulators
}

admin() {
	local port=$1 name=$2 bin out pw=${SIALI_PASSWORD:-} created=""
	bin=$(cat "$DIR/bin")
	export SIALI_CONFIG=$CONF
	if ! out=$("$bin" user --username "$name" 2>/dev/null); then
		if [ -z "$pw" ]; then
			pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
			created=generated
		fi
		out=$("$bin" user --create --username "$name" --password "$pw")
		[ -n "$created" ] || created=given
	fi
	token=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
	echo
	echo "Siali Label is up:  http://127.0.0.1:$port/"
	echo "  user:      $name"
	case $created in
	generated) echo "  password:  $pw   (generated; set SIALI_PASSWORD to choose one)" ;;
	given) echo "  password:  (from SIALI_PASSWORD)" ;;
	*) echo "  password:  (unchanged; the user already existed)" ;;
	esac
	echo "  token:     $token"
	echo
	echo "  curl -H 'Authorization: Token $token' http://127.0.0.1:$port/api/current-user/whoami"
	echo "  ./build/siali user --username $name     # the user and token again"
	echo "  make down                               # stop it all"
}

status() {
	for p in mysql.pid serve.pid worker.pid nginx/nginx.pid s3rver.pid azurite.pid gcs.pid redis.pid; do
		if alive "$DIR/$p"; then echo "$p: running ($(cat "$DIR/$p"))"; else echo "$p: stopped"; fi
	done
}

case $cmd in
start) start "${3:?port}" "${4:?binary}" ;;
stop) stop ;;
admin) admin "${3:?port}" "${4:?username}" ;;
start-db) start_db ;;
stop-db) stop_db ;;
restart-db) stop_db && start_db ;;
status) status ;;
*) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
