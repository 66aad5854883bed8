/* The pool under trouble: a worker killed mid-load, MariaDB restarted, reload (SIGHUP) and drain
 * (SIGTERM) while requests run; inherited sockets (spawn-fcgi's fd 0, systemd's LISTEN_FDS); the
 * refusals of serve and check-config; the job runner. Runs last-to-first safe: every test leaves
 * the stack as it found it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char auth[256];

static void
setup(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	strcpy(auth, e2e_user("resilience", NULL, NULL));
	cr_assert(auth[0]);
}

TestSuite(resilience, .init = setup, .timeout = 120);

static const char *
src(const char *rel)
{
	static char p[1024];
	const char *s = getenv("SIALI_SRC");

	snprintf(p, sizeof(p), "%s/%s", s != NULL ? s : ".", rel);
	return p;
}

static long
master_pid(void)
{
	char *s = e2e_out("cat '%s' 2>/dev/null", e2e_stack_path("serve.pid"));
	long pid = atol(s);

	free(s);
	return pid;
}

/* The master's children, sorted, space separated (malloc'd). */
static char *
workers(void)
{
	return e2e_out("pgrep -P %ld | sort -n | tr '\\n' ' '", master_pid());
}

static int
count_words(const char *s)
{
	int n = 0;

	for (const char *p = s; *p; p++)
		if (*p != ' ' && (p == s || p[-1] == ' '))
			n++;
	return n;
}

static long
whoami_status(void)
{
	struct resp *r = http("GET", "/api/current-user/whoami", auth, NULL, NULL);
	long s = r->status;

	resp_free(r);
	return s;
}

/* Background load: threads calling whoami until told to stop; counts non-200 answers. */
struct load {
	volatile int stop;
	int ok, bad;
	long bad_status[16];
	pthread_mutex_t mu;
	pthread_t th[4];
};

static void *
load_thread(void *arg)
{
	struct load *l = arg;

	while (!l->stop) {
		long s = whoami_status();
		pthread_mutex_lock(&l->mu);
		if (s == 200) {
			l->ok++;
		} else {
			if (l->bad < 16)
				l->bad_status[l->bad] = s;
			l->bad++;
		}
		pthread_mutex_unlock(&l->mu);
	}
	return NULL;
}

static void
load_start(struct load *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&l->th[i], NULL, load_thread, l);
}

static void
load_stop(struct load *l)
{
	l->stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(l->th[i], NULL);
}

/* Waits up to secs for the pool to have want workers, none of them in the list gone. */
static char *
wait_workers(int want, const char *gone, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		char *w = workers();
		int clean = 1;

		if (gone != NULL) {
			char *copy = strdup(gone), *save = NULL;
			for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
				char pat[32];
				snprintf(pat, sizeof(pat), " %s ", t);
				char *padded = malloc(strlen(w) + 3);
				sprintf(padded, " %s ", w);
				if (strstr(padded, pat) != NULL)
					clean = 0;
				free(padded);
			}
			free(copy);
		}
		if (count_words(w) == want && clean)
			return w;
		free(w);
		usleep(100000);
	}
	return NULL;
}

Test(resilience, sigkill_worker_mid_load_is_replaced)
{
	char *before = workers(), victim[32];
	int n = count_words(before);
	struct load l;

	cr_assert(n >= 2, "workers: '%s'", before);
	sscanf(before, "%31s", victim);
	load_start(&l);
	usleep(500000);
	cr_assert_eq(e2e_sh("kill -KILL %s", victim), 0);
	usleep(1500000);
	load_stop(&l);
	/* Only a request the killed worker held can fail; every other one succeeded. */
	cr_assert(l.ok > 50, "only %d requests went through", l.ok);
	cr_assert(l.bad <= 1, "%d requests failed (first status %ld) out of %d", l.bad, l.bad_status[0], l.ok + l.bad);
	char *after = wait_workers(n, victim, 10);
	cr_assert_not_null(after, "the pool was not restored to %d workers", n);
	cr_assert_eq(whoami_status(), 200);
	free(after);
	free(before);
}

Test(resilience, mariadb_restart_503_then_recovers)
{
	char *before = workers(), *after;
	struct resp *r;
	int ok = 0;

	cr_assert_eq(e2e_sh("'%s' stop-db '%s' >/dev/null 2>&1", src("tests/stack.sh"), e2e_stack_path("")), 0);
	r = http("GET", "/api/current-user/whoami", auth, NULL, NULL);
	cr_assert_eq(r->status, 503, "%ld %s", r->status, r->body);
	cr_assert_eq(jint(r->json, "status_code"), 503);
	cr_assert(strstr(r->body, "mysql") == NULL && strstr(r->body, "MariaDB") == NULL &&
	    strstr(r->body, "socket") == NULL, "internals leaked: %s", r->body);
	resp_free(r);
	r = http("GET", "/health", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "health must not need the database");
	resp_free(r);
	cr_assert_eq(e2e_sh("'%s' start-db '%s' >/dev/null 2>&1", src("tests/stack.sh"), e2e_stack_path("")), 0);
	for (int i = 0; i < 100 && !ok; i++) {
		ok = whoami_status() == 200;
		if (!ok)
			usleep(100000);
	}
	cr_assert(ok, "requests did not recover after MariaDB came back");
	/* Nobody crashed: the same workers serve on. */
	after = workers();
	cr_assert_str_eq(after, before);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(whoami_status(), 200);
	free(after);
	free(before);
}

Test(resilience, sighup_replaces_every_worker_without_failures)
{
	char *before = workers(), *after;
	int n = count_words(before);
	struct load l;

	load_start(&l);
	usleep(300000);
	cr_assert_eq(kill((pid_t)master_pid(), SIGHUP), 0);
	after = wait_workers(n, before, 30);
	usleep(300000);
	load_stop(&l);
	cr_assert_not_null(after, "old workers still running after reload");
	cr_assert_eq(l.bad, 0, "%d requests failed during reload (first %ld)", l.bad, l.bad_status[0]);
	cr_assert(l.ok > 20);
	free(after);
	free(before);
}

struct slow {
	long status;
};

static void *
slow_request(void *arg)
{
	struct slow *s = arg;

	s->status = whoami_status();
	return NULL;
}

Test(resilience, sigterm_drains_in_flight_requests)
{
	struct slow s = { 0 };
	pthread_t th;
	long pid = master_pid();
	char *port = e2e_out("cat '%s'", e2e_stack_path("port"));

	/* Hold the users table so the request is still in its worker when SIGTERM comes. */
	cr_assert_eq(e2e_sh("mariadb --no-defaults -S '%s' -u\"$(id -un)\" siali -e "
	    "'LOCK TABLES users WRITE; DO SLEEP(3); UNLOCK TABLES;' >/dev/null 2>&1 &",
	    e2e_stack_path("mysql.sock")), 0);
	usleep(500000);
	pthread_create(&th, NULL, slow_request, &s);
	usleep(700000);
	cr_assert_eq(kill((pid_t)pid, SIGTERM), 0);
	pthread_join(th, NULL);
	cr_assert_eq(s.status, 200, "the in-flight request got %ld", s.status);
	/* The master exits once drained; bring the pool back for the other tests. */
	for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
		usleep(100000);
	cr_assert_neq(kill((pid_t)pid, 0), 0, "serve did not exit after draining");
	cr_assert_eq(e2e_sh("'%s' start '%s' %ld '%s' >/dev/null 2>&1", src("tests/stack.sh"),
	    e2e_stack_path(""), atol(port), e2e_bin()), 0);
	cr_assert_eq(whoami_status(), 200);
	free(port);
}

/* Starts `siali serve` with one worker on a socket it inherits; mode "fd0" or "systemd". */
static long
inherited_serve(const char *mode, const char *sock)
{
	char *out;
	long pid;

	unlink(sock);
	out = e2e_out("SIALI_WORKERS=1 SIALI_PIDFILE= SIALI_SOCKET=/nonexistent/unused.sock python3 -c '"
	    "import os, socket, sys\n"
	    "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[2]); s.listen(64)\n"
	    "pid = os.fork()\n"
	    "if pid: print(pid); sys.exit(0)\n"
	    "os.setsid()\n"
	    "if sys.argv[1] == \"systemd\":\n"
	    "    os.dup2(s.fileno(), 3); os.environ[\"LISTEN_FDS\"] = \"1\"; os.environ[\"LISTEN_PID\"] = str(os.getpid())\n"
	    "    os.set_inheritable(3, True)\n"
	    "else:\n"
	    "    os.dup2(s.fileno(), 0); os.set_inheritable(0, True)\n"
	    "log = os.open(sys.argv[4], os.O_WRONLY | os.O_CREAT | os.O_APPEND); os.dup2(log, 2); os.dup2(log, 1)\n"
	    "os.execv(sys.argv[3], [sys.argv[3], \"serve\"])\n"
	    "' %s '%s' '%s' '%s'", mode, sock, e2e_bin(), e2e_stack_path("inherited.log"));
	pid = atol(out);
	free(out);
	return pid;
}

static void
check_inherited(const char *mode)
{
	char sock[512], body[4096];
	const char *token = strstr(auth, "Token ");
	long pid, st = -1;

	snprintf(sock, sizeof(sock), "%s", e2e_stack_path(mode));
	pid = inherited_serve(mode, sock);
	cr_assert(pid > 0);
	for (int i = 0; i < 100 && st != 200; i++) {
		st = fcgi_get(sock, "/health", NULL, body, sizeof(body));
		if (st != 200)
			usleep(100000);
	}
	cr_assert_eq(st, 200, "%s: /health over the inherited socket: %ld", mode, st);
	cr_assert(strstr(body, "\"UP\"") != NULL, "%s", body);
	st = fcgi_get(sock, "/api/current-user/whoami/", token, body, sizeof(body));
	cr_assert_eq(st, 200, "%s: whoami %ld %s", mode, st, body);
	st = fcgi_get(sock, "/api/current-user/whoami/", NULL, body, sizeof(body));
	cr_assert_eq(st, 401);
	kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
		usleep(100000);
	cr_assert_neq(kill((pid_t)pid, 0), 0, "serve did not stop");
	unlink(sock);
}

Test(resilience, inherits_spawn_fcgi_socket_on_fd0)
{
	check_inherited("fd0");
}

Test(resilience, inherits_systemd_socket)
{
	check_inherited("systemd");
}

Test(resilience, serve_refuses_unmigrated_schema)
{
	char *out;

	cr_assert_eq(e2e_sql("CREATE DATABASE IF NOT EXISTS siali_unmigrated; "
	    "GRANT ALL ON siali_unmigrated.* TO 'siali'@'localhost'"), 0);
	out = e2e_out("SIALI_DB_NAME=siali_unmigrated SIALI_PIDFILE= SIALI_SOCKET='%s' timeout 20 '%s' serve 2>&1; echo \"rc=$?\"",
	    e2e_stack_path("unmigrated.sock"), e2e_bin());
	cr_assert(strstr(out, "rc=0") == NULL && strstr(out, "rc=124") == NULL, "%s", out);
	cr_assert(strstr(out, "siali migrate") != NULL, "the message must say what to run: %s", out);
	free(out);
	out = e2e_out("SIALI_DB_NAME=siali_unmigrated '%s' check-config 2>&1; echo \"rc=$?\"", e2e_bin());
	cr_assert(strstr(out, "rc=1") != NULL && strstr(out, "siali migrate") != NULL, "%s", out);
	free(out);
}

Test(resilience, serve_refuses_without_a_private_secret)
{
	char *out;

	out = e2e_out("SIALI_SECRET_KEY_FILE='%s' SIALI_PIDFILE= SIALI_SOCKET='%s' timeout 20 '%s' serve 2>&1; echo \"rc=$?\"",
	    e2e_stack_path("no-such-secret"), e2e_stack_path("nosecret.sock"), e2e_bin());
	cr_assert(strstr(out, "rc=0") == NULL && strstr(out, "rc=124") == NULL, "%s", out);
	cr_assert(strstr(out, "secret") != NULL, "%s", out);
	free(out);
	e2e_sh("printf '%%s' 0123456789abcdef0123456789abcdef0123 > '%s' && chmod 644 '%s'",
	    e2e_stack_path("open-secret"), e2e_stack_path("open-secret"));
	out = e2e_out("SIALI_SECRET_KEY_FILE='%s' SIALI_PIDFILE= SIALI_SOCKET='%s' timeout 20 '%s' serve 2>&1; echo \"rc=$?\"",
	    e2e_stack_path("open-secret"), e2e_stack_path("nosecret.sock"), e2e_bin());
	cr_assert(strstr(out, "rc=0") == NULL && strstr(out, "chmod 600") != NULL, "%s", out);
	free(out);
}

Test(resilience, check_config_reports_every_problem)
{
	char *out = e2e_out("SIALI_WORKERS=lots SIALI_DB_PORT=0 SIALI_MAX_BODY_SIZE=huge SIALI_LOG_REQUESTS=maybe "
	    "'%s' check-config 2>&1; echo \"rc=$?\"", e2e_bin());

	cr_assert(strstr(out, "rc=1") != NULL, "%s", out);
	cr_assert(strstr(out, "workers") && strstr(out, "db_port") && strstr(out, "max_body_size") &&
	    strstr(out, "log_requests"), "not every problem reported: %s", out);
	free(out);
	out = e2e_out("'%s' check-config 2>&1; echo \"rc=$?\"", e2e_bin());
	cr_assert(strstr(out, "rc=0") != NULL && strstr(out, "configuration OK") != NULL, "%s", out);
	free(out);
	out = e2e_out("'%s' check-config -v 2>&1", e2e_bin());
	cr_assert(strstr(out, "db_password = (set)") != NULL, "secrets are never printed: %s", out);
	free(out);
}

Test(resilience, worker_runs_noop_jobs_and_retries_failures)
{
	char *out = NULL;
	int done = 0;

	cr_assert_eq(e2e_sql("INSERT INTO jobs (type, payload) VALUES ('noop', '{\\\"tag\\\":\\\"%s\\\"}'), "
	    "('noop', '{\\\"tag\\\":\\\"%s\\\",\\\"fail\\\":\\\"boom %s\\\"}')", e2e_unique(), e2e_unique(), e2e_unique()), 0);
	for (int i = 0; i < 150 && !done; i++) {
		free(out);
		out = e2e_sql_out("SELECT state, attempts, IFNULL(error, '-') FROM jobs WHERE payload LIKE '%%%s%%' ORDER BY id",
		    e2e_unique());
		done = strncmp(out, "done\t1\t-\n", 9) == 0 && strstr(out, "queued\t1\tboom") != NULL;
		if (!done)
			usleep(100000);
	}
	cr_assert(done, "jobs did not reach done / queued-for-retry: %s", out);
	free(out);
	/* The failed one waits for its backoff before the next attempt. */
	out = e2e_sql_out("SELECT run_after > NOW(6) + INTERVAL 30 SECOND FROM jobs WHERE payload LIKE '%%boom %s%%'", e2e_unique());
	cr_assert_str_eq(out, "1\n");
	free(out);
	e2e_sql("DELETE FROM jobs WHERE payload LIKE '%%%s%%'", e2e_unique());
}
