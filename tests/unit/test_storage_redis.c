/* The "redis" connector (app/storage/redis.c) against a real redis-server that each test starts
 * on a free loopback port (no persistence, killed at the end), plus a socket that accepts and
 * never answers (command timeout) and a port nobody listens on (connection refused).
 * The test is skipped, not failed, when redis-server is not installed (`make deps` installs it). */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "storage.h"

#define PREFIX "siali:tasks:"
#define NKEYS 2500

static pid_t server = -1;
static int port;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A loopback port that was free a moment ago; when listening, the socket is returned too. */
static int
free_port(int keep_listening, int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	p = ntohs(a.sin_port);
	if (keep_listening) {
		cr_assert_eq(listen(fd, 16), 0);
		*fd_out = fd;
	} else
		close(fd);
	return p;
}

static void
start_server(const char *password)
{
	char portstr[16];

	if (access("/usr/bin/redis-server", X_OK) != 0)
		cr_skip_test("redis-server is not installed (make deps)");
	port = free_port(0, NULL);
	snprintf(portstr, sizeof(portstr), "%d", port);
	server = fork();
	cr_assert_geq(server, 0);
	if (server == 0) {
		const char *argv[16] = { "redis-server", "--port", portstr, "--bind", "127.0.0.1",
		    "--save", "", "--appendonly", "no", "--loglevel", "warning" };
		int n = 11;

		if (password != NULL) {
			argv[n++] = "--requirepass";
			argv[n++] = password;
		}
		argv[n] = NULL;
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		execv("/usr/bin/redis-server", (char *const *)argv);
		_exit(127);
	}
	/* Wait until it answers (up to 5 s). */
	for (int i = 0; i < 500; i++) {
		struct timeval tv = { 0, 200000 };
		redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
		int up = c != NULL && !c->err;

		if (c != NULL)
			redisFree(c);
		if (up)
			return;
		cr_assert_eq(waitpid(server, NULL, WNOHANG), 0, "redis-server exited");
		usleep(10000);
	}
	cr_assert_fail("redis-server did not come up on port %d", port);
}

static void
stop_server(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
}

static void
setup_plain(void)
{
	start_server(NULL);
}

TestSuite(storage_redis, .init = setup_plain, .fini = stop_server);
TestSuite(storage_redis_auth, .fini = stop_server);
TestSuite(storage_redis_down);

static struct storage *
open_redis(int p, const char *password, const char *path, int db, int timeout_ms, char *err,
    size_t errsz)
{
	struct json_object *cfg = json_object_new_object();
	struct storage *s;

	json_object_object_add(cfg, "host", json_object_new_string("127.0.0.1"));
	json_object_object_add(cfg, "port", json_object_new_int(p));
	json_object_object_add(cfg, "db", json_object_new_int(db));
	if (password != NULL)
		json_object_object_add(cfg, "password", json_object_new_string(password));
	json_object_object_add(cfg, "path", json_object_new_string(path));
	if (timeout_ms > 0)
		json_object_object_add(cfg, "timeout_ms", json_object_new_int(timeout_ms));
	s = storage_open("redis", cfg, err, errsz);
	json_object_put(cfg);
	return s;
}

/* Raw writes next to the connector, so the test does not trust what it tests. */
static redisContext *
raw(void)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	cr_assert(c != NULL && !c->err);
	return c;
}

static void
fill(redisContext *c)
{
	for (int i = 0; i < NKEYS; i++)
		redisAppendCommand(c, "SET " PREFIX "%d {\"data\":{\"n\":%d}}", i, i);
	for (int i = 0; i < 700; i++)
		redisAppendCommand(c, "SET other:%d x", i);
	/* Glob characters in a key right next to the prefix must not widen the match. */
	redisAppendCommand(c, "SET siali:tasksX x");
	redisAppendCommand(c, "SET siali:tasks x");
	for (int i = 0; i < NKEYS + 700 + 2; i++) {
		redisReply *r;

		cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
}

struct seen {
	unsigned char *count;   /* per prefixed key index */
	size_t objects, outside;
	int stop_after;
};

static int
on_key(void *ctx, const struct storage_object *o)
{
	struct seen *sn = ctx;
	char *end;
	long n;

	sn->objects++;
	cr_assert_eq(o->size, -1);
	if (strncmp(o->key, PREFIX, strlen(PREFIX)) != 0) {
		sn->outside++;
		return 0;
	}
	n = strtol(o->key + strlen(PREFIX), &end, 10);
	cr_assert(*end == '\0' && n >= 0 && n < NKEYS, "odd key %s", o->key);
	if (sn->count[n] < 255)
		sn->count[n]++;
	return sn->stop_after > 0 && (int)sn->objects == sn->stop_after;
}

/* Pages of 100 keys, each from a fresh connection with only the cursor carried over (a sync
 * resumed after a crash): every prefixed key at least once, nothing outside the prefix. */
Test(storage_redis, scan_paging_covers_prefix_only)
{
	redisContext *c = raw();
	struct seen sn = { .count = calloc(NKEYS, 1) };
	char err[256] = "", *cursor = NULL;
	size_t pages = 0, dup = 0;

	fill(c);
	redisFree(c);
	do {
		struct storage *s = open_redis(port, NULL, PREFIX, 0, 0, err, sizeof(err));
		char *next = NULL;

		cr_assert_not_null(s, "%s", err);
		cr_assert_eq(storage_list(s, "", 1, cursor, 100, on_key, &sn, &next, err,
		    sizeof(err)), STORAGE_OK, "%s", err);
		storage_close(s);
		free(cursor);
		cursor = next;
		cr_assert_lt(++pages, 2000, "the scan must end");
	} while (cursor != NULL);
	cr_assert_eq(sn.outside, 0, "keys outside the prefix were listed");
	for (int i = 0; i < NKEYS; i++) {
		cr_assert_geq(sn.count[i], 1, "key %d never listed", i);
		dup += sn.count[i] - 1u;
	}
	cr_assert_eq(sn.objects, NKEYS + dup);
	cr_assert_gt(pages, 5, "2,500 keys in pages of about 100");
	free(sn.count);
}

Test(storage_redis, list_sub_prefix_and_bad_cursor)
{
	redisContext *c = raw();
	struct seen sn = { .count = calloc(NKEYS, 1) };
	char err[256] = "", *next = NULL;
	struct storage *s;
	size_t total = 0;

	fill(c);
	redisFree(c);
	s = open_redis(port, NULL, PREFIX, 0, 0, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	/* "12" under the path: 12, 120-129, 1200-1299 = 111 keys. */
	do {
		char *cur = next;

		cr_assert_eq(storage_list(s, "12", 0, cur, 1000, on_key, &sn, &next, err,
		    sizeof(err)), STORAGE_OK, "%s", err);
		free(cur);
	} while (next != NULL);
	for (int i = 0; i < NKEYS; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", i);
		if (strncmp(k, "12", 2) == 0)
			cr_assert_geq(sn.count[i], 1, "%d", i);
		else
			cr_assert_eq(sn.count[i], 0, "%d", i);
		total += sn.count[i] ? 1 : 0;
	}
	cr_assert_eq(total, 111);
	cr_assert_eq(storage_list(s, "", 1, "12; FLUSHALL", 10, on_key, &sn, &next, err,
	    sizeof(err)), STORAGE_REFUSED);
	cr_assert_str_eq(err, "The listing cursor is not valid.");
	sn.stop_after = (int)sn.objects + 1;
	cr_assert_eq(storage_list(s, "", 1, NULL, 500, on_key, &sn, &next, err, sizeof(err)),
	    STORAGE_ABORTED);
	cr_assert_null(next);
	storage_close(s);
	free(sn.count);
}

struct buf {
	char *p;
	size_t n;
};

static int
sink(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;

	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

Test(storage_redis, get_put_del)
{
	char err[256] = "", *url = (char *)"x";
	struct storage *s = open_redis(port, NULL, PREFIX, 3, 0, err, sizeof(err));
	struct buf b = { 0 };
	static const char bin[] = { 'a', 0, 'b', (char)0xff };
	redisContext *c;
	redisReply *r;

	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(storage_put(s, PREFIX "1", "{\"data\":{\"text\":\"hi\"}}", 22, "application/json",
	    err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_eq(storage_get(s, PREFIX "1", sink, &b, err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_str_eq(b.p, "{\"data\":{\"text\":\"hi\"}}");
	free(b.p);
	b = (struct buf){ 0 };
	/* Binary-safe both ways. */
	cr_assert_eq(storage_put(s, PREFIX "bin", bin, sizeof(bin), NULL, err, sizeof(err)),
	    STORAGE_OK);
	cr_assert_eq(storage_get(s, PREFIX "bin", sink, &b, err, sizeof(err)), STORAGE_OK);
	cr_assert_eq(b.n, sizeof(bin));
	cr_assert_eq(memcmp(b.p, bin, sizeof(bin)), 0);
	free(b.p);
	b = (struct buf){ 0 };
	/* The db setting was applied: db 3 has it, db 0 does not. */
	c = raw();
	r = redisCommand(c, "EXISTS " PREFIX "1");
	cr_assert_eq(r->integer, 0);
	freeReplyObject(r);
	r = redisCommand(c, "SELECT 3");
	freeReplyObject(r);
	r = redisCommand(c, "EXISTS " PREFIX "1");
	cr_assert_eq(r->integer, 1);
	freeReplyObject(r);
	r = redisCommand(c, "HSET " PREFIX "hash f v");
	freeReplyObject(r);
	r = redisCommand(c, "SET other:key secret");
	freeReplyObject(r);
	redisFree(c);

	cr_assert_eq(storage_get(s, PREFIX "hash", sink, &b, err, sizeof(err)), STORAGE_REFUSED);
	cr_assert_str_eq(err, "The key does not hold a string value.");
	cr_assert_eq(storage_get(s, PREFIX "none", sink, &b, err, sizeof(err)), STORAGE_NOT_FOUND);
	/* Keys outside the storage's path are refused, whichever the operation. */
	cr_assert_eq(storage_get(s, "other:key", sink, &b, err, sizeof(err)), STORAGE_REFUSED);
	cr_assert_str_eq(err, "The key is outside this storage's path.");
	cr_assert_eq(storage_put(s, "other:key", "x", 1, NULL, err, sizeof(err)), STORAGE_REFUSED);
	cr_assert_eq(storage_del(s, "other:key", err, sizeof(err)), STORAGE_REFUSED);
	cr_assert_null(b.p);

	cr_assert_eq(storage_del(s, PREFIX "1", err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_eq(storage_del(s, PREFIX "1", err, sizeof(err)), STORAGE_NOT_FOUND);
	cr_assert_eq(storage_get(s, PREFIX "1", sink, &b, err, sizeof(err)), STORAGE_NOT_FOUND);
	cr_assert_eq(storage_presign(s, PREFIX "bin", 60, &url, err, sizeof(err)),
	    STORAGE_UNSUPPORTED);
	cr_assert_null(url);
	storage_close(s);
}

/* The server restarts under an open storage: the next call reconnects by itself; while it is
 * down, calls fail fast with our message. */
Test(storage_redis, reconnects_after_restart_and_fails_fast_when_down)
{
	char err[256] = "";
	struct storage *s = open_redis(port, NULL, "", 0, 1000, err, sizeof(err));
	struct buf b = { 0 };
	double t0;

	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(storage_put(s, "k", "v", 1, NULL, err, sizeof(err)), STORAGE_OK, "%s", err);
	stop_server();
	t0 = now();
	cr_assert_eq(storage_get(s, "k", sink, &b, err, sizeof(err)), STORAGE_FAILED);
	cr_assert_lt(now() - t0, 2.0);
	cr_assert(strstr(err, "Could not connect to Redis at 127.0.0.1:"), "%s", err);
	cr_assert_null(b.p);
	/* A new server (no persistence): a fresh storage works against it. */
	start_server(NULL);
	storage_close(s);
	s = open_redis(port, NULL, "", 0, 1000, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(storage_put(s, "k", "v2", 2, NULL, err, sizeof(err)), STORAGE_OK, "%s", err);
	{
		/* Kill the connection from the server side: the connector reopens it. */
		redisContext *c = raw();
		redisReply *r = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");

		freeReplyObject(r);
		redisFree(c);
	}
	cr_assert_eq(storage_get(s, "k", sink, &b, err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_str_eq(b.p, "v2");
	free(b.p);
	storage_close(s);
}

Test(storage_redis_auth, passwords)
{
	char err[256] = "";
	struct storage *s;

	start_server("s3cret pass");
	s = open_redis(port, "wrong", "", 0, 0, err, sizeof(err));
	cr_assert_null(s);
	cr_assert_str_eq(err, "Redis refused the password.");
	s = open_redis(port, NULL, "", 0, 0, err, sizeof(err));
	cr_assert_null(s);
	cr_assert_str_eq(err, "Redis requires a password.");
	s = open_redis(port, "s3cret pass", "", 0, 0, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	storage_close(s);
	s = open_redis(port, "s3cret pass", "", 99999, 0, err, sizeof(err));
	cr_assert_null(s);
	cr_assert_str_eq(err, "Redis refused to select db 99999.");
}

Test(storage_redis_auth, password_to_a_server_without_one)
{
	char err[256] = "";

	start_server(NULL);
	cr_assert_null(open_redis(port, "whatever", "", 0, 0, err, sizeof(err)));
	cr_assert_str_eq(err, "Redis has no password set: leave the password empty.");
}

Test(storage_redis_down, nobody_listening_fails_fast)
{
	char err[256] = "";
	int p = free_port(0, NULL);
	double t0 = now();

	cr_assert_null(open_redis(p, NULL, "", 0, 0, err, sizeof(err)));
	cr_assert_lt(now() - t0, 1.0);
	cr_assert(strstr(err, "Could not connect to Redis at 127.0.0.1:"), "%s", err);
	cr_assert_null(strstr(err, "refused"), "our words, not strerror's: %s", err);
}

/* A peer that accepts the connection (the kernel does, from the backlog) and never answers:
 * the command timeout ends the wait. */
Test(storage_redis_down, silent_server_times_out)
{
	char err[256] = "";
	int fd, p = free_port(1, &fd);
	double t0 = now();

	cr_assert_null(open_redis(p, NULL, "", 0, 300, err, sizeof(err)));
	cr_assert_lt(now() - t0, 2.0);
	cr_assert(strstr(err, "did not answer in time"), "%s", err);
	close(fd);
}

Test(storage_redis_down, bad_config)
{
	char err[256] = "";
	struct json_object *cfg = json_object_new_object();

	json_object_object_add(cfg, "port", json_object_new_string("http"));
	cr_assert_null(storage_open("redis", cfg, err, sizeof(err)));
	cr_assert_str_eq(err, "The Redis port must be 1 to 65535.");
	json_object_object_add(cfg, "port", json_object_new_int(70000));
	cr_assert_null(storage_open("redis", cfg, err, sizeof(err)));
	json_object_object_add(cfg, "port", json_object_new_int(6379));
	json_object_object_add(cfg, "db", json_object_new_int(-1));
	cr_assert_null(storage_open("redis", cfg, err, sizeof(err)));
	cr_assert_str_eq(err, "The Redis db must be a non-negative number.");
	json_object_put(cfg);
}

static int
on_any(void *ctx, const struct storage_object *o)
{
	cr_assert_str_eq(o->key, "g[1]*?\\:a", "glob characters in the path are literal");
	(*(int *)ctx)++;
	return 0;
}

Test(storage_redis, glob_characters_in_path_are_literal)
{
	char err[256] = "", *next = NULL;
	struct storage *s = open_redis(port, NULL, "g[1]*?\\:", 0, 0, err, sizeof(err));
	redisContext *c = raw();
	redisReply *r;
	int n = 0;

	cr_assert_not_null(s, "%s", err);
	r = redisCommand(c, "MSET %s a %s b %s c", "g[1]*?\\:a", "g1xx\\:b", "g[1]*?\\");
	freeReplyObject(r);
	redisFree(c);
	do {
		char *cur = next;

		cr_assert_eq(storage_list(s, NULL, 1, cur, 10, on_any, &n, &next, err, sizeof(err)),
		    STORAGE_OK, "%s", err);
		free(cur);
	} while (next != NULL);
	cr_assert_eq(n, 1);
	storage_close(s);
}
