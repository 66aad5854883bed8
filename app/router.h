/* router.h — the route table and the gates every request passes, in this order:
 *   match (404) → method (405 + Allow) → size (413) → content type (415) → auth (401/403)
 *   → body parse (400) → handler.
 * The table (routes.c) is data: a route states its auth level and what body it takes, so auth
 * is audited on one screen and no handler can forget it. A trailing slash is optional on every
 * route and for every method; there is never a redirect.
 */
#ifndef SIALI_ROUTER_H
#define SIALI_ROUTER_H

#include <stddef.h>
#include "req.h"

/* The zero value is invalid on purpose: a route that forgot to choose fails router_check. */
enum auth_level {
	AUTH_INVALID = 0,
	AUTH_PUBLIC,            /* anyone; r->who is empty */
	AUTH_USER,              /* a member of an organization, by any accepted scheme */
};

/* What a route reads from the body. The size limit follows from it. */
enum body_kind {
	BODY_NONE = 0,          /* nothing is read; a body up to max_json_size is ignored */
	BODY_JSON,              /* application/json, parsed to r->json, which is always an object
	                         * (anything else is a 400 here); max_json_size */
	BODY_BULK,              /* raw bytes of any type, up to max_body_size (imports): the
	                         * handler reads them itself with req_read, so it can stream */
};

typedef int (*handler_fn)(struct req *r);

struct route {
	const char *method;
	const char *pattern;    /* "/api/users/:id" — no trailing slash; ":name" matches one segment */
	handler_fn handler;
	enum auth_level auth;
	enum body_kind body;
	const char *name;       /* "users.get", for logs */
};

extern const struct route routes[];
extern const size_t routes_count;

/* Validates the table (auth set, patterns well-formed, no duplicate method+pattern); logs each
 * problem and returns their number. Called at start-up: a bad table refuses to serve. */
int router_check(const struct route *table, size_t n);

/* Finds the route for method+path. Returns it and fills r->params, or NULL. When the path exists
 * with other methods only, *allow receives them ("GET, PATCH") and NULL is returned. */
const struct route *router_match(const struct route *table, size_t n, struct req *r,
    const char *method, const char *path, char *allow, size_t allowsz);

/* Parses r->body (r->body_len bytes) as the JSON body gate does: sets r->json ({} for an empty
 * body) and returns 0, or answers 400 and returns 400. Exposed for the fuzz target. */
int router_parse_json(struct req *r);

/* Reads the whole body (at most limit bytes; 413 naming setting beyond) and parses it as the JSON
 * gate does. For BODY_BULK handlers that take JSON. Returns 0, or the status sent. */
int router_read_json(struct req *r, int64_t limit, const char *setting);

/* Runs the gates and the handler for a request whose fields (method, path, ...) are set.
 * Returns the status sent. */
int router_dispatch(struct req *r);

#endif
