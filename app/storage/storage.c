/* storage.c — the table of storage kinds and the calls every connector is reached through. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "azure.h"
#include "gcs.h"
#include "s3.h"
#include "storage.h"

int
storage_fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *
storage_cfg_str(struct json_object *config, const char *name)
{
	struct json_object *v;

	if (config == NULL || !json_object_object_get_ex(config, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
storage_cfg_int(struct json_object *config, const char *name, long def, long lo, long hi, long *out)
{
	struct json_object *v;
	long long n;

	*out = def;
	if (config == NULL || !json_object_object_get_ex(config, name, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		n = (long long)json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;

		if (*s == '\0')
			return 0;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
	} else {
		return -1;
	}
	if (n < lo || n > hi)
		return -1;
	*out = (long)n;
	return 0;
}

/* The kinds, as data: one line per connector. */
const struct storage_ops *
storage_kind(const char *kind)
{
	static const struct storage_ops *const kinds[] = {
		&storage_local_ops,
		&storage_redis_ops,
		&storage_s3_ops,
		&storage_azure_ops,
		&storage_gcs_ops,
	};

	if (kind == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i]->kind, kind) == 0)
			return kinds[i];
	return NULL;
}

/* Opens a storage of the given kind from its config. Returns a malloc'd storage for
 * storage_close, or NULL with the reason in err (unknown kind, bad config, backend down, ...). */
struct storage *
storage_open(const char *kind, struct json_object *config, char *err, size_t errsz)
{
	const struct storage_ops *ops = storage_kind(kind);
	struct storage *s;

	if (ops == NULL) {
		if (errsz > 0)
			snprintf(err, errsz, "Unknown storage type.");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		if (errsz > 0)
			snprintf(err, errsz, "Out of memory.");
		return NULL;
	}
	s->ops = ops;
	if (ops->open(s, config, err, errsz) != STORAGE_OK) {
		free(s);
		return NULL;
	}
	return s;
}

/* Releases everything s holds and s itself; NULL is fine. */
void
storage_close(struct storage *s)
{
	if (s == NULL)
		return;
	if (s->impl != NULL)
		s->ops->close(s);
	free(s);
}

static int
storage_unsupported(const struct storage *s, const char *what, char *err, size_t errsz)
{
	return storage_fail(STORAGE_UNSUPPORTED, err, errsz, "The %s storage does not support %s.",
	    s->ops->kind, what);
}

/* One page of the objects whose key (after the configured scope) starts with prefix ("" or NULL:
 * all); recursive 0 lists only keys with no '/' after the prefix. cursor: NULL/"" to start, else
 * a *next_cursor from the previous page. on_object is called per object; a nonzero return stops
 * the page with STORAGE_ABORTED (and *next_cursor NULL: re-list from the previous cursor). On
 * STORAGE_OK *next_cursor is a malloc'd cursor for the next page, or NULL when the listing is
 * complete. On error *next_cursor is NULL. */
int
storage_list(struct storage *s, const char *prefix, int recursive, const char *cursor,
    size_t max, int (*on_object)(void *ctx, const struct storage_object *o), void *ctx,
    char **next_cursor, char *err, size_t errsz)
{
	*next_cursor = NULL;
	if (s->ops->list == NULL)
		return storage_unsupported(s, "listing", err, errsz);
	return s->ops->list(s, prefix ? prefix : "", recursive, cursor, max ? max : 1, on_object,
	    ctx, next_cursor, err, errsz);
}

/* Streams the object's bytes to on_data, in chunks; a nonzero return from on_data stops with
 * STORAGE_ABORTED. Nothing is delivered for STORAGE_NOT_FOUND / STORAGE_REFUSED, but a
 * STORAGE_FAILED may come after some bytes: a caller that has started answering must cut. */
int
storage_get(struct storage *s, const char *key,
    int (*on_data)(void *ctx, const char *p, size_t n), void *ctx, char *err, size_t errsz)
{
	if (s->ops->get == NULL)
		return storage_unsupported(s, "reading", err, errsz);
	return s->ops->get(s, key, on_data, ctx, err, errsz);
}

/* Writes (creates or replaces) the object; content_type may be NULL. */
int
storage_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz)
{
	if (s->ops->put == NULL)
		return storage_unsupported(s, "writing", err, errsz);
	return s->ops->put(s, key, data, len, content_type, err, errsz);
}

/* Deletes the object; STORAGE_NOT_FOUND when there was none (callers deleting may ignore it). */
int
storage_del(struct storage *s, const char *key, char *err, size_t errsz)
{
	if (s->ops->del == NULL)
		return storage_unsupported(s, "deleting", err, errsz);
	return s->ops->del(s, key, err, errsz);
}

/* A URL that lets a client GET the object for ttl seconds, malloc'd into *url.
 * STORAGE_UNSUPPORTED for backends the app serves itself (localfiles, redis). */
int
storage_presign(struct storage *s, const char *key, int ttl, char **url, char *err,
    size_t errsz)
{
	*url = NULL;
	if (s->ops->presign == NULL)
		return storage_unsupported(s, "presigned URLs", err, errsz);
	return s->ops->presign(s, key, ttl, url, err, errsz);
}
