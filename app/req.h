/* req.h — the state of one request: its arena, its defers, its parsed input, its caller.
 *
 * A request owns everything it allocates: memory comes from the arena (freed in one go at req_end),
 * and anything the arena cannot own (json-c objects, transactions, statements' results) is
 * registered with req_defer and released in reverse order at req_end. Handlers therefore never
 * free. The same struct serves the CLI and the job worker (no FastCGI stream behind it), so the
 * database and handler helpers work everywhere.
 */
#ifndef SIALI_REQ_H
#define SIALI_REQ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct json_object;
struct route;
struct db_row;

struct arena_chunk;
struct arena {
	struct arena_chunk *head;       /* newest chunk first */
	size_t used_total;              /* bytes handed out since the last reset */
};

struct defer {
	void (*fn)(void *arg);
	void *arg;
};

/* The authenticated caller. Filled by the auth gate; zero for AUTH_PUBLIC routes. */
struct caller {
	int64_t user_id;
	int64_t org_id;                 /* the active organization: every lookup is scoped by it */
	int is_owner;                   /* created the active organization */
	const char *scheme;             /* "token", "bearer" */
	const struct db_row *user;      /* the caller's user row (USER_COLS from AUTH_USER_COL) */
};

#define REQ_MAX_PARAMS 4

struct req {
	void *fcgi;                     /* FCGX_Request * (opaque outside fcgi.c); NULL on the CLI */
	const char *method;             /* "GET" ... (HEAD is answered as GET without a body) */
	const char *path;               /* decoded, without query and without a trailing slash */
	const char *raw_path;           /* the path as the client sent it (for pagination links) */
	const char *query;              /* raw query string, "" when none */
	const char *request_id;         /* nginx's $request_id, or one we made */
	const char *content_type;       /* "" when none */
	int64_t content_length;         /* -1 when absent */
	int head;                       /* the client asked for HEAD */

	const struct route *route;
	const char *param_names[REQ_MAX_PARAMS];
	const char *params[REQ_MAX_PARAMS];     /* path parameters (":id" segments) */
	int nparams;

	char *body;                     /* the raw body (NUL-terminated), NULL when none was read */
	size_t body_len;
	struct json_object *json;       /* the parsed JSON body for BODY_JSON routes ({} when empty) */

	struct caller who;

	const char *headers[8];         /* extra response headers, "Name: value" */
	int nheaders;
	int status;                     /* the status that was sent, 0 before */
	int headers_sent;
	size_t bytes_out;
	struct timespec started;

	struct arena arena;
	struct defer *defers;
	size_t ndefers, capdefers;
};

/* Prepares r for a new request (keeps the arena's first chunk to avoid malloc churn). */
void req_begin(struct req *r);
/* Runs the defers in reverse order and resets the arena. Safe to call twice. */
void req_end(struct req *r);
/* Releases everything, including the arena's memory (process exit, tests). */
void req_release(struct req *r);

/* Arena allocation. Never returns NULL: on out-of-memory the process logs and exits, as a
 * prefork worker that cannot allocate is better replaced by the master than limping on. */
void *req_alloc(struct req *r, size_t n);
void *req_zalloc(struct req *r, size_t n);
char *req_strdup(struct req *r, const char *s);
char *req_strndup(struct req *r, const char *s, size_t n);
char *req_printf(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *req_vprintf(struct req *r, const char *fmt, va_list ap);

/* Registers a cleanup run at req_end (reverse order). Returns a handle for req_disarm. */
size_t req_defer(struct req *r, void (*fn)(void *), void *arg);
/* Cancels a registered cleanup (e.g. db_commit disarming the rollback). */
void req_disarm(struct req *r, size_t handle);
/* Takes ownership of a json-c object: json_object_put at req_end. Returns obj. */
struct json_object *req_own(struct req *r, struct json_object *obj);

/* Path parameter by name (as in the route pattern, without ':'), NULL if absent. */
const char *req_param(const struct req *r, const char *name);
/* Path parameter as a positive id; -1 when absent or not a positive integer. */
int64_t req_param_id(const struct req *r, const char *name);
/* Query parameter (decoded, arena-owned), NULL if absent. The first occurrence wins. */
const char *req_query(struct req *r, const char *name);
/* Query parameter as an integer; returns def when absent, and sets *bad when present but invalid. */
int64_t req_query_int(struct req *r, const char *name, int64_t def, int *bad);
/* Request header, e.g. req_header(r, "AUTHORIZATION") for HTTP_AUTHORIZATION; NULL if absent. */
const char *req_header(struct req *r, const char *cgi_name);
/* Reads up to n bytes of the request body (for routes that stream it). Returns the number
 * read, 0 at the end, -1 on error. */
long req_read(struct req *r, char *buf, size_t n);
/* Percent-decodes n bytes of s ('+' as space when plus is set) into the arena. */
char *req_urldecode(struct req *r, const char *s, size_t n, int plus);

#endif
