/* redis.c — the "redis" connector (contract in storage.h): values are task JSON or URLs, keyed
 * under the configured "path" prefix.
 *
 * One hiredis connection per storage, opened (and checked: AUTH, SELECT, PING) by open, with a
 * timeout on connecting and on every command. A connection that broke (the server restarted, an
 * idle connection was dropped) is reopened once per call and the command retried: every command
 * here is idempotent (SCAN, GET, SET, DEL). A timeout is not retried, so a call never waits more
 * than about twice timeout_ms. Listing is SCAN with MATCH <escaped prefix>* and SCAN's cursor is
 * the resume cursor: a key may come twice (see storage.h), the order is none, and a page may be
 * empty while the scan goes on. The "recursive" flag means nothing to flat Redis keys and is
 * ignored. hiredis's own error strings go to the log, never to err.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "log.h"
#include "storage.h"

#define REDIS_DEFAULT_TIMEOUT_MS 5000
#define REDIS_SCAN_ROUNDS 16            /* SCAN round trips per page at most */
#define REDIS_SCAN_COUNT_MAX 10000      /* COUNT hint cap: keeps each SCAN short for the server */

struct rds {
	redisContext *c;                /* NULL while disconnected */
	char *host;
	int port;
	int db;
	char *password;                 /* NULL: none */
	char *prefix;                   /* the "path": every key handled starts with it */
	size_t plen;
	struct timeval tv;
};

static void
rds_drop(struct rds *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
}

/* Classifies a context error (the connection is then unusable): timeout or failure. */
static int
rds_ctx_fail(struct rds *r, const char *what, char *err, size_t errsz)
{
	int timeout = r->c != NULL && r->c->err == REDIS_ERR_IO &&
	    (strstr(r->c->errstr, "timed out") != NULL ||
	    strstr(r->c->errstr, "temporarily unavailable") != NULL);
	int rc;

	log_warn("redis %s:%d: %s: %s", r->host, r->port, what,
	    r->c != NULL ? r->c->errstr : "out of memory");
	if (r->c == NULL)
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	else if (timeout)
		rc = storage_fail(STORAGE_TIMEOUT, err, errsz,
		    "Redis at %.200s:%d did not answer in time.", r->host, r->port);
	else
		rc = storage_fail(STORAGE_FAILED, err, errsz,
		    "Could not connect to Redis at %.200s:%d.", r->host, r->port);
	rds_drop(r);
	return rc;
}

/* Maps an error reply to our words. */
static int
rds_reply_fail(struct rds *r, const redisReply *rep, char *err, size_t errsz)
{
	const char *s = rep->str ? rep->str : "";

	if (strncmp(s, "NOAUTH", 6) == 0)
		return storage_fail(STORAGE_AUTH, err, errsz, "Redis requires a password.");
	if (strncmp(s, "WRONGPASS", 9) == 0 || strstr(s, "invalid password") != NULL ||
	    strstr(s, "invalid username-password") != NULL)
		return storage_fail(STORAGE_AUTH, err, errsz, "Redis refused the password.");
	if (strstr(s, "without any password configured") != NULL)
		return storage_fail(STORAGE_AUTH, err, errsz,
		    "Redis has no password set: leave the password empty.");
	if (strncmp(s, "WRONGTYPE", 9) == 0)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The key does not hold a string value.");
	if (strncmp(s, "NOPERM", 6) == 0)
		return storage_fail(STORAGE_AUTH, err, errsz, "Redis denied the command to this user.");
	log_warn("redis %s:%d: error reply: %.300s", r->host, r->port, s);
	return storage_fail(STORAGE_FAILED, err, errsz, "Redis answered with an error.");
}

/* One command on the current connection. *out is the reply (freed by the caller) or NULL. */
static int
rds_raw(struct rds *r, int argc, const char **argv, const size_t *lens, redisReply **out,
    char *err, size_t errsz)
{
	redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);

	*out = NULL;
	if (rep == NULL)
		return rds_ctx_fail(r, argv[0], err, errsz);
	if (rep->type == REDIS_REPLY_ERROR) {
		int rc = rds_reply_fail(r, rep, err, errsz);

		freeReplyObject(rep);
		return rc;
	}
	*out = rep;
	return STORAGE_OK;
}

static int
rds_connect(struct rds *r, char *err, size_t errsz)
{
	redisReply *rep;
	int rc;

	rds_drop(r);
	r->c = redisConnectWithTimeout(r->host, r->port, r->tv);
	if (r->c == NULL || r->c->err)
		return rds_ctx_fail(r, "connect", err, errsz);
	if (redisSetTimeout(r->c, r->tv) != REDIS_OK)
		return rds_ctx_fail(r, "set timeout", err, errsz);
	(void)redisEnableKeepAlive(r->c);
	if (r->password != NULL) {
		const char *argv[] = { "AUTH", r->password };
		size_t lens[] = { 4, strlen(r->password) };

		if ((rc = rds_raw(r, 2, argv, lens, &rep, err, errsz)) != STORAGE_OK)
			goto fail;
		freeReplyObject(rep);
	}
	if (r->db != 0) {
		char db[16];
		const char *argv[] = { "SELECT", db };
		size_t lens[] = { 6, 0 };

		lens[1] = (size_t)snprintf(db, sizeof(db), "%d", r->db);
		if ((rc = rds_raw(r, 2, argv, lens, &rep, err, errsz)) != STORAGE_OK) {
			if (rc == STORAGE_FAILED)
				rc = storage_fail(STORAGE_REFUSED, err, errsz,
				    "Redis refused to select db %d.", r->db);
			goto fail;
		}
		freeReplyObject(rep);
	}
	{
		const char *argv[] = { "PING" };
		size_t lens[] = { 4 };

		if ((rc = rds_raw(r, 1, argv, lens, &rep, err, errsz)) != STORAGE_OK)
			goto fail;
		freeReplyObject(rep);
	}
	return STORAGE_OK;
fail:
	rds_drop(r);
	return rc;
}

/* A command with one reconnect-and-retry when the connection had broken (not on a timeout, and
 * not on an error reply, which is an answer). */
static int
rds_cmd(struct rds *r, int argc, const char **argv, const size_t *lens, redisReply **out,
    char *err, size_t errsz)
{
	int rc, tried = 0;

	*out = NULL;
	if (r->c == NULL) {
		if ((rc = rds_connect(r, err, errsz)) != STORAGE_OK)
			return rc;
		tried = 1;
	}
	rc = rds_raw(r, argc, argv, lens, out, err, errsz);
	if (rc == STORAGE_FAILED && r->c == NULL && !tried) {
		if ((rc = rds_connect(r, err, errsz)) != STORAGE_OK)
			return rc;
		rc = rds_raw(r, argc, argv, lens, out, err, errsz);
	}
	return rc;
}

static void
rds_free(struct rds *r)
{
	rds_drop(r);
	free(r->host);
	free(r->password);
	free(r->prefix);
	free(r);
}

static int
rds_open(struct storage *s, struct json_object *config, char *err, size_t errsz)
{
	const char *host = storage_cfg_str(config, "host"), *pw = storage_cfg_str(config, "password");
	const char *path = storage_cfg_str(config, "path");
	struct rds *r = calloc(1, sizeof(*r));
	long ms, port, db;
	int rc;

	if (r == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	if (host == NULL || *host == '\0')
		host = "localhost";
	if (strlen(host) > 253 || strchr(host, '/') != NULL) {
		rds_free(r);
		return storage_fail(STORAGE_REFUSED, err, errsz, "The Redis host is not valid.");
	}
	if (storage_cfg_int(config, "port", 6379, 1, 65535, &port) != 0) {
		rds_free(r);
		return storage_fail(STORAGE_REFUSED, err, errsz, "The Redis port must be 1 to 65535.");
	}
	if (storage_cfg_int(config, "db", 0, 0, 1000000, &db) != 0) {
		rds_free(r);
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The Redis db must be a non-negative number.");
	}
	r->port = (int)port;
	r->db = (int)db;
	if (storage_cfg_int(config, "timeout_ms", REDIS_DEFAULT_TIMEOUT_MS, 1, 600000, &ms) != 0) {
		rds_free(r);
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The Redis timeout_ms must be 1 to 600000.");
	}
	r->tv.tv_sec = ms / 1000;
	r->tv.tv_usec = (ms % 1000) * 1000;
	if ((r->host = strdup(host)) == NULL ||
	    (pw != NULL && *pw != '\0' && (r->password = strdup(pw)) == NULL) ||
	    (r->prefix = strdup(path ? path : "")) == NULL) {
		rds_free(r);
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	}
	r->plen = strlen(r->prefix);
	if ((rc = rds_connect(r, err, errsz)) != STORAGE_OK) {
		rds_free(r);
		return rc;
	}
	s->impl = r;
	return STORAGE_OK;
}

static void
rds_close(struct storage *s)
{
	rds_free(s->impl);
	s->impl = NULL;
}

/* The key must be in this storage's scope. */
static int
rds_key_ok(const struct rds *r, const char *key, char *err, size_t errsz)
{
	if (key == NULL || *key == '\0')
		return storage_fail(0, err, errsz, "The key is empty.");
	if (strncmp(key, r->prefix, r->plen) != 0)
		return storage_fail(0, err, errsz, "The key is outside this storage's path.");
	return 1;
}

/* glob-escapes s (MATCH patterns treat * ? [ ] \ specially) into a malloc'd string + "*". */
static char *
rds_pattern(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b);
	char *p = malloc(2 * n + 2), *o = p;

	if (p == NULL)
		return NULL;
	for (int part = 0; part < 2; part++)
		for (const char *c = part == 0 ? a : b; *c; c++) {
			if (strchr("*?[]\\", *c) != NULL)
				*o++ = '\\';
			*o++ = *c;
		}
	*o++ = '*';
	*o = '\0';
	return p;
}

static int
rds_list(struct storage *s, const char *prefix, int recursive, const char *cursor, size_t max,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	struct rds *r = s->impl;
	char cur[32], count[24];
	char *pat;
	size_t got = 0;
	int rc = STORAGE_OK;

	(void)recursive;
	*next_cursor = NULL;
	if (cursor == NULL || *cursor == '\0')
		cursor = "0";
	if (strlen(cursor) >= sizeof(cur) || strspn(cursor, "0123456789") != strlen(cursor))
		return storage_fail(STORAGE_REFUSED, err, errsz, "The listing cursor is not valid.");
	memcpy(cur, cursor, strlen(cursor) + 1);
	if ((pat = rds_pattern(r->prefix, prefix)) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	for (int round = 0; round < REDIS_SCAN_ROUNDS && got < max; round++) {
		size_t want = max - got;
		const char *argv[] = { "SCAN", cur, "MATCH", pat, "COUNT", count };
		size_t lens[6];
		redisReply *rep, *keys;

		if (want < 10)
			want = 10;
		if (want > REDIS_SCAN_COUNT_MAX)
			want = REDIS_SCAN_COUNT_MAX;
		snprintf(count, sizeof(count), "%zu", want);
		for (int i = 0; i < 6; i++)
			lens[i] = strlen(argv[i]);
		if ((rc = rds_cmd(r, 6, argv, lens, &rep, err, errsz)) != STORAGE_OK)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[0]->len >= sizeof(cur) ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			log_warn("redis %s:%d: unexpected SCAN reply", r->host, r->port);
			rc = storage_fail(STORAGE_FAILED, err, errsz, "Redis answered SCAN unexpectedly.");
			break;
		}
		keys = rep->element[1];
		for (size_t i = 0; i < keys->elements && rc == STORAGE_OK; i++) {
			const redisReply *k = keys->element[i];
			struct storage_object o = { .size = -1 };

			/* A key with a NUL cannot be a C string key: it is left out. */
			if (k->type != REDIS_REPLY_STRING || strlen(k->str) != k->len)
				continue;
			o.key = k->str;
			got++;
			if (on_object(ctx, &o) != 0)
				rc = storage_fail(STORAGE_ABORTED, err, errsz, "The listing was stopped.");
		}
		memcpy(cur, rep->element[0]->str, rep->element[0]->len);
		cur[rep->element[0]->len] = '\0';
		freeReplyObject(rep);
		if (rc != STORAGE_OK || strcmp(cur, "0") == 0)
			break;
	}
	free(pat);
	if (rc == STORAGE_OK && strcmp(cur, "0") != 0 && (*next_cursor = strdup(cur)) == NULL)
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	return rc;
}

static int
rds_get(struct storage *s, const char *key, int (*on_data)(void *ctx, const char *p, size_t n),
    void *ctx, char *err, size_t errsz)
{
	struct rds *r = s->impl;
	const char *argv[2] = { "GET", key };
	size_t lens[2] = { 3, 0 };
	redisReply *rep;
	int rc;

	if (!rds_key_ok(r, key, err, errsz))
		return STORAGE_REFUSED;
	lens[1] = strlen(key);
	if ((rc = rds_cmd(r, 2, argv, lens, &rep, err, errsz)) != STORAGE_OK)
		return rc;
	if (rep->type == REDIS_REPLY_NIL)
		rc = storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such key.");
	else if (rep->type != REDIS_REPLY_STRING)
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Redis answered GET unexpectedly.");
	else if (on_data(ctx, rep->str, rep->len) != 0)
		rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
	freeReplyObject(rep);
	return rc;
}

static int
rds_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz)
{
	struct rds *r = s->impl;
	const char *argv[3] = { "SET", key, data ? data : "" };
	size_t lens[3] = { 3, 0, data ? len : 0 };
	redisReply *rep;
	int rc;

	(void)content_type;
	if (!rds_key_ok(r, key, err, errsz))
		return STORAGE_REFUSED;
	lens[1] = strlen(key);
	if ((rc = rds_cmd(r, 3, argv, lens, &rep, err, errsz)) != STORAGE_OK)
		return rc;
	freeReplyObject(rep);
	return STORAGE_OK;
}

static int
rds_del(struct storage *s, const char *key, char *err, size_t errsz)
{
	struct rds *r = s->impl;
	const char *argv[2] = { "DEL", key };
	size_t lens[2] = { 3, 0 };
	redisReply *rep;
	int rc;

	if (!rds_key_ok(r, key, err, errsz))
		return STORAGE_REFUSED;
	lens[1] = strlen(key);
	if ((rc = rds_cmd(r, 2, argv, lens, &rep, err, errsz)) != STORAGE_OK)
		return rc;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0)
		rc = storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such key.");
	freeReplyObject(rep);
	return rc;
}

const struct storage_ops storage_redis_ops = {
	.kind = "redis",
	.open = rds_open,
	.list = rds_list,
	.get = rds_get,
	.put = rds_put,
	.del = rds_del,
	.presign = NULL,        /* values are served by the app */
	.close = rds_close,
};
