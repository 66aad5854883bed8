/* storage.h — the connector interface (after sqlite's VFS): every storage backend (local files,
 * Redis; S3, GCS and Azure Blob later) fills one const struct storage_ops, and everything above
 * (the sync job, export writers, the media endpoints) talks to a struct storage through the
 * storage_* calls below, never to a backend directly.
 *
 * Keys. A key names one object exactly as the backend's get accepts it: for local files the path
 * relative to the configured "path" ('/'-separated, never starting with '/'); for Redis the full
 * Redis key, the configured "path" prefix included. A connector only lists, reads and writes keys
 * inside its configured scope; a key outside it is refused (STORAGE_REFUSED), so a key taken from
 * a request can be handed over as it is — but it must already be decoded (percent-decoding is the
 * caller's), and a caller that decoded one from bytes must call storage_key_ok() with the decoded
 * length, since a NUL inside a C string cannot be seen afterwards.
 *
 * Listing with a cursor. list() delivers one page and hands back an opaque cursor string that the
 * caller persists (in the storage row, in the same transaction as the page's tasks) and passes
 * back to get the next page, so a sync killed half-way resumes where it stopped. NULL or "" starts
 * from the beginning; *next_cursor == NULL means the listing is complete. A cursor is only valid
 * for the same storage, prefix and recursive flag. What each backend promises:
 *   - localfiles: keys in strictly increasing byte order (strcmp), each exactly once across the
 *     pages; the cursor is the last key delivered, so files created behind it during a sync are
 *     picked up by the next sync, not this one. A page holds at most max objects; a full page
 *     always returns a cursor (the next page may be empty).
 *   - redis: SCAN's own cursor. SCAN guarantees every key present for the whole scan is returned
 *     at least once, but MAY RETURN A KEY MORE THAN ONCE (on a rehash) and in no order; the sync
 *     must dedup by (storage, key), which it has to do anyway to never import a key twice. max is
 *     passed as SCAN's COUNT hint, so a page may carry somewhat more than max keys, or none at
 *     all while *next_cursor is still set (a sparse prefix in a large keyspace). recursive is
 *     ignored: Redis keys are flat.
 *
 * Errors. Every function returns STORAGE_OK (0) or a negative enum storage_result, and on failure
 * writes a one-line message into err (errsz > 0) fit for a client: our own words, naming the
 * setting at fault, never a library's text (that goes to the log) and never a secret.
 *
 * Ownership. storage_open returns a malloc'd struct storage that storage_close frees (with its
 * connection, descriptors and everything the backend holds). *next_cursor and *url are malloc'd
 * and the caller frees them. The struct storage_object handed to on_object is only valid during
 * the call. A struct storage is not thread-safe; the app is prefork, one per process is the rule.
 * Calls block (Redis has its own connect and command timeouts; local reads the disk): web
 * workers use them only for the client's own synchronous work (validate, serving one file).
 */
#ifndef SIALI_STORAGE_H
#define SIALI_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_object;

/* Suggested HTTP answers in brackets, for the error-to-HTTP table of the storage handlers. */
enum storage_result {
	STORAGE_OK = 0,
	STORAGE_REFUSED = -1,           /* bad config or key: traversal, outside the scope, a
	                                 * symlink, local files off [400] */
	STORAGE_NOT_FOUND = -2,         /* no such object [404] */
	STORAGE_AUTH = -3,              /* the backend refused our credentials [400 on validate] */
	STORAGE_FAILED = -4,            /* connection, I/O or protocol failure [502] */
	STORAGE_TIMEOUT = -5,           /* the backend did not answer in time [504] */
	STORAGE_UNSUPPORTED = -6,       /* this backend has no such operation [400 / serve it] */
	STORAGE_ABORTED = -7,           /* a callback (on_object, on_data) returned nonzero */
	STORAGE_NOMEM = -8,             /* out of memory [500] */
};

/* One listed object, valid during the on_object call only. */
struct storage_object {
	const char *key;
	int64_t size;                   /* bytes; -1 when the listing does not say (redis) */
	int64_t mtime;                  /* seconds since the epoch; 0 when unknown */
	const char *etag;               /* opaque version marker (S3 ETag, local mtime+size), compared
	                                 * for equality only; NULL when unknown */
};

struct storage;

/* The vtable. A NULL operation means "unsupported": the storage_* wrapper answers
 * STORAGE_UNSUPPORTED. Backends implement the contracts written on the wrappers below. */
struct storage_ops {
	const char *kind;               /* the API's kind: "localfiles", "redis", ... */
	/* Fills s->impl from config (a json object of the storage's settings); checks what it can
	 * (local: the root and path; redis: connects, authenticates, selects the db). On failure
	 * leaves s->impl NULL and nothing to release. */
	int (*open)(struct storage *s, struct json_object *config, char *err, size_t errsz);
	int (*list)(struct storage *s, const char *prefix, int recursive, const char *cursor,
	    size_t max, int (*on_object)(void *ctx, const struct storage_object *o), void *ctx,
	    char **next_cursor, char *err, size_t errsz);
	int (*get)(struct storage *s, const char *key,
	    int (*on_data)(void *ctx, const char *p, size_t n), void *ctx, char *err, size_t errsz);
	int (*put)(struct storage *s, const char *key, const char *data, size_t len,
	    const char *content_type, char *err, size_t errsz);
	int (*del)(struct storage *s, const char *key, char *err, size_t errsz);
	/* NULL for localfiles and redis: their objects are served by the app itself. */
	int (*presign)(struct storage *s, const char *key, int ttl, char **url, char *err,
	    size_t errsz);
	/* Releases s->impl (not s). */
	void (*close)(struct storage *s);
};

struct storage {
	const struct storage_ops *ops;
	void *impl;
};

extern const struct storage_ops storage_local_ops;   /* local.c */
extern const struct storage_ops storage_redis_ops;   /* redis.c */
/* storage_s3_ops (s3.h), storage_azure_ops (azure.h) and storage_gcs_ops (gcs.h) document their
 * configs there. */

/* localfiles config: {"root": the server's document root (local_files_root; "" or missing: local
 * files are off and open refuses), "path": the directory to serve, absolute or relative to the
 * root, which must resolve (realpath, symlinks followed) inside the root}. Other Label Studio
 * fields (regex_filter, use_blob_urls, ...) are the sync's and ignored here.
 * Every later access walks from a descriptor of the root, component by component, with
 * O_NOFOLLOW, so a symlink swapped in after open cannot lead out. ALL symlinks below the root are
 * refused, even those pointing inside it (simplest rule that cannot be got wrong): list skips
 * them, get answers STORAGE_REFUSED. Only regular files are listed or read. put and del are not
 * implemented yet (export to local files comes later).
 *
 * redis config: {"host" (default "localhost"), "port" (6379), "db" (0), "password" (optional),
 * "path" (key prefix, may be empty), "timeout_ms" (ours, not Label Studio's: connect and command
 * timeout, default 5000)}. The host is connected to as given: vetting it against the SSRF policy
 * (outbound_url_allowed) is the caller's job before storing the config. */

/* Checks a decoded key of len bytes against the rules for path-like keys (local files applies
 * them to every key it is given; Redis keys are free-form and only scoped by prefix): not empty, no NUL
 * (len must equal strlen), not absolute, no backslash, no "." / ".." / empty component, and no
 * component that percent-decodes once more to "." or ".." (double-encoded traversal). 1 if fine;
 * 0 with the reason in err. Defined in local.c. */
int storage_key_ok(const char *key, size_t len, char *err, size_t errsz);

/* --- for the connectors (storage.c) --- */

/* Writes the formatted message into err (when errsz > 0) and returns rc: `return
 * storage_fail(STORAGE_REFUSED, err, errsz, "...")`. */
int storage_fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* config[name] when it is a string, else NULL. */
const char *storage_cfg_str(struct json_object *config, const char *name);
/* config[name] as an integer (a JSON number or a decimal string) in lo..hi: 0 with *out set (def
 * when absent, null or ""), or -1 when present and not such an integer. */
int storage_cfg_int(struct json_object *config, const char *name, long def, long lo, long hi,
    long *out);

/* The connector of a kind ("localfiles", "redis", "s3", "azure", "gcs"; the table is in storage.c),
 * or NULL. */
const struct storage_ops *storage_kind(const char *kind);

/* Opens a storage of the given kind from its config. Returns a malloc'd storage for
 * storage_close, or NULL with the reason in err (unknown kind, bad config, backend down, ...). */
struct storage *storage_open(const char *kind, struct json_object *config, char *err, size_t errsz);

/* Releases everything s holds and s itself; NULL is fine. */
void storage_close(struct storage *s);

/* One page of the objects whose key (after the configured scope) starts with prefix ("" or NULL:
 * all); recursive 0 lists only keys with no '/' after the prefix. cursor: NULL/"" to start, else
 * a *next_cursor from the previous page. on_object is called per object; a nonzero return stops
 * the page with STORAGE_ABORTED (and *next_cursor NULL: re-list from the previous cursor). On
 * STORAGE_OK *next_cursor is a malloc'd cursor for the next page, or NULL when the listing is
 * complete. On error *next_cursor is NULL. */
int storage_list(struct storage *s, const char *prefix, int recursive, const char *cursor,
    size_t max, int (*on_object)(void *ctx, const struct storage_object *o), void *ctx,
    char **next_cursor, char *err, size_t errsz);

/* Streams the object's bytes to on_data, in chunks; a nonzero return from on_data stops with
 * STORAGE_ABORTED. Nothing is delivered for STORAGE_NOT_FOUND / STORAGE_REFUSED, but a
 * STORAGE_FAILED may come after some bytes: a caller that has started answering must cut. */
int storage_get(struct storage *s, const char *key,
    int (*on_data)(void *ctx, const char *p, size_t n), void *ctx, char *err, size_t errsz);

/* Writes (creates or replaces) the object; content_type may be NULL. */
int storage_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz);

/* Deletes the object; STORAGE_NOT_FOUND when there was none (callers deleting may ignore it). */
int storage_del(struct storage *s, const char *key, char *err, size_t errsz);

/* A URL that lets a client GET the object for ttl seconds, malloc'd into *url.
 * STORAGE_UNSUPPORTED for backends the app serves itself (localfiles, redis). */
int storage_presign(struct storage *s, const char *key, int ttl, char **url, char *err,
    size_t errsz);

#endif
