/* router.c — matching and the gates (see router.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "jsonx.h"
#include "log.h"
#include "reply.h"
#include "router.h"

/* Deep enough for any real task or annotation, shallow enough that a hostile body cannot make
 * the parser recurse without bound. */
#define JSON_MAX_DEPTH 64

/* Matches one pattern against a path; fills r->params on success. */
static int
match_pattern(const char *pat, const char *path, struct req *r)
{
	int np = 0;

	while (*pat != '\0' && *path != '\0') {
		if (*pat != '/' || *path != '/')
			return 0;
		pat++;
		path++;
		const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sl = se ? (size_t)(se - path) : strlen(path);

		if (*pat == ':') {
			if (sl == 0 || np >= REQ_MAX_PARAMS)
				return 0;
			if (r != NULL) {
				r->param_names[np] = req_strndup(r, pat + 1, pl - 1);
				r->params[np] = req_strndup(r, path, sl);
			}
			np++;
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return 0;
		}
		pat += pl;
		path += sl;
	}
	if (*pat != '\0' || *path != '\0')
		return 0;
	if (r != NULL)
		r->nparams = np;
	return 1;
}

const struct route *
router_match(const struct route *table, size_t n, struct req *r, const char *method,
    const char *path, char *allow, size_t allowsz)
{
	size_t used = 0;

	if (allow != NULL && allowsz > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!match_pattern(table[i].pattern, path, NULL))
			continue;
		if (strcmp(table[i].method, method) == 0) {
			match_pattern(table[i].pattern, path, r);
			return &table[i];
		}
		if (allow != NULL && used + strlen(table[i].method) + 3 < allowsz &&
		    strstr(allow, table[i].method) == NULL) {
			used += (size_t)snprintf(allow + used, allowsz - used, "%s%s",
			    used ? ", " : "", table[i].method);
		}
	}
	return NULL;
}

int
router_check(const struct route *table, size_t n)
{
	int bad = 0;
	static const char *methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (size_t i = 0; i < n; i++) {
		const struct route *t = &table[i];
		int known = 0;

		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
			known |= strcmp(t->method, methods[m]) == 0;
		if (!known) {
			log_error("route %s: unknown method %s", t->name, t->method);
			bad++;
		}
		if (t->auth != AUTH_PUBLIC && t->auth != AUTH_USER) {
			log_error("route %s %s: no auth level chosen", t->method, t->pattern);
			bad++;
		}
		if (t->handler == NULL || t->name == NULL) {
			log_error("route %s %s: no handler or name", t->method, t->pattern);
			bad++;
		}
		size_t pl = strlen(t->pattern);
		if (t->pattern[0] != '/' || (pl > 1 && t->pattern[pl - 1] == '/') ||
		    strstr(t->pattern, "//") != NULL) {
			log_error("route %s: pattern %s must start with / and not end with one",
			    t->name, t->pattern);
			bad++;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(table[j].method, t->method) == 0 &&
			    strcmp(table[j].pattern, t->pattern) == 0) {
				log_error("route %s %s declared twice", t->method, t->pattern);
				bad++;
			}
		}
	}
	return bad;
}

static int
is_json_type(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* application/vnd.something+json */
	return n > 5 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* Reads the whole body (content_length bytes, or to the end) into the arena. */
static int
read_body(struct req *r, int64_t limit)
{
	size_t cap = r->content_length > 0 ? (size_t)r->content_length : 4096, len = 0;
	char *buf = req_alloc(r, cap + 1);

	for (;;) {
		if (len == cap) {
			if (r->content_length >= 0)
				break;
			if ((int64_t)cap * 2 > limit + 1)
				return -2;
			char *nb = req_alloc(r, cap * 2 + 1);
			memcpy(nb, buf, len);
			buf = nb;
			cap *= 2;
		}
		long got = req_read(r, buf + len, cap - len);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	r->body = buf;
	r->body_len = len;
	return 0;
}

/* json-c 0.16 takes 'single-quoted' strings, NaN and Infinity even in strict mode; JSON has
 * none of them. Returns the offset of the first such character outside a string, or -1. */
static long
not_json(const char *s, size_t n)
{
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '\'' || s[i] == 'N' || s[i] == 'I' || s[i] == 'i') {
			return (long)i;
		}
	}
	return -1;
}

int
router_parse_json(struct req *r)
{
	long bad;

	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	size_t at;

	if (r->body_len == 0 || strspn(r->body, " \t\r\n") == r->body_len) {
		r->json = req_own(r, json_object_new_object());
		return 0;
	}
	if ((bad = not_json(r->body, r->body_len)) >= 0)
		return req_fail(r, 400, "JSON parse error - invalid JSON near byte %ld", bad);
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL)
		return req_fail(r, 500, "Internal server error.");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	err = json_tokener_get_error(tok);
	at = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (err == json_tokener_success && at < r->body_len &&
	    strspn(r->body + at, " \t\r\n") != r->body_len - at) {
		json_object_put(obj);
		return req_fail(r, 400, "JSON parse error - extra data after the JSON value at byte %zu", at);
	}
	if (err != json_tokener_success || obj == NULL) {
		json_object_put(obj);
		if (err == json_tokener_error_depth)
			return req_fail(r, 400, "JSON parse error - nesting deeper than %d levels", JSON_MAX_DEPTH);
		if (err == json_tokener_continue)
			return req_fail(r, 400, "JSON parse error - unexpected end of input");
		return req_fail(r, 400, "JSON parse error - invalid JSON near byte %zu", at);
	}
	r->json = req_own(r, obj);
	return 0;
}

int
router_read_json(struct req *r, int64_t limit, const char *setting)
{
	int rc = r->body != NULL ? 0 : read_body(r, limit);

	if (rc == -2)
		return req_fail(r, 413, "Request body is too large: the limit is %lld bytes (setting %s).",
		    (long long)limit, setting);
	if (rc != 0)
		return req_fail(r, 400, "The request body could not be read.");
	return router_parse_json(r);
}

int
router_dispatch(struct req *r)
{
	char allow[128];
	const char *method = r->head ? "GET" : r->method;
	const struct route *rt = router_match(routes, routes_count, r, method, r->path, allow, sizeof(allow));
	int64_t limit;
	int rc;

	/* 1. match, 2. method */
	if (rt == NULL) {
		if (allow[0] == '\0')
			return req_fail(r, 404, "Not found.");
		reply_header(r, "Allow", allow);
		return req_fail(r, 405, "Method \"%s\" not allowed.", r->method);
	}
	r->route = rt;

	/* 3. size: decided from Content-Length, before a byte of the body is read */
	limit = rt->body == BODY_BULK ? cfg.max_body_size : cfg.max_json_size;
	if (r->content_length > limit)
		return req_fail(r, 413, "Request body is too large: %lld bytes, the limit is %lld bytes "
		    "(setting %s).", (long long)r->content_length, (long long)limit,
		    rt->body == BODY_BULK ? "max_body_size" : "max_json_size");

	/* 4. content type */
	if (rt->body == BODY_JSON && r->content_length > 0 && !is_json_type(r->content_type))
		return req_fail(r, 415, "Unsupported media type \"%s\" in request.", r->content_type);

	/* 5. auth */
	if (rt->auth == AUTH_USER) {
		rc = auth_authenticate(r);
		if (rc != 0)
			return rc;
	}

	/* 6. body */
	if (rt->body == BODY_JSON) {
		if ((rc = router_read_json(r, limit, "max_json_size")) != 0)
			return rc;
		/* Every JSON route takes an object, as a DRF serializer does. */
		if (!json_object_is_type(r->json, json_type_object))
			return req_fail_field(r, "non_field_errors",
			    "Invalid data. Expected a dictionary, but got %s.", jpy_type(r->json));
	}

	/* 7. handler */
	return rt->handler(r);
}
