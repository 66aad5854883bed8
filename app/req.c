/* req.c — request state: arena, defers, parameters (see req.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fcgi.h"
#include "log.h"
#include "req.h"

#define CHUNK_MIN (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

static void
oom(size_t n)
{
	log_error("out of memory allocating %zu bytes", n);
	_exit(70);
}

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t align = _Alignof(max_align_t);

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;

		/* Reuse the spare chunk kept by the last reset when it fits. */
		if (c != NULL && c->used == 0 && c->size >= n) {
			/* fallthrough: fits below */
		} else {
			c = malloc(sizeof(*c) + size);
			if (c == NULL)
				oom(n);
			c->size = size;
			c->used = 0;
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->used_total += n;
	return p;
}

/* Frees every chunk but the first one allocated (the oldest, kept for the next request). */
static void
arena_reset(struct arena *a, int keep)
{
	struct arena_chunk *c = a->head, *keepc = NULL;

	while (c != NULL) {
		struct arena_chunk *next = c->next;

		if (keep && next == NULL && c->size == CHUNK_MIN) {
			keepc = c;
			keepc->used = 0;
		} else {
			free(c);
		}
		c = next;
	}
	a->head = keepc;
	if (keepc != NULL)
		keepc->next = NULL;
	a->used_total = 0;
}

void
req_begin(struct req *r)
{
	struct arena a = r->arena;
	struct defer *d = r->defers;
	size_t cap = r->capdefers;

	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->defers = d;
	r->capdefers = cap;
	r->content_length = -1;
	r->query = "";
	r->content_type = "";
	r->method = "GET";
	r->path = "/";
	clock_gettime(CLOCK_MONOTONIC, &r->started);
}

void
req_end(struct req *r)
{
	while (r->ndefers > 0) {
		struct defer d = r->defers[--r->ndefers];

		if (d.fn != NULL)
			d.fn(d.arg);
	}
	arena_reset(&r->arena, 1);
}

void
req_release(struct req *r)
{
	req_end(r);
	arena_reset(&r->arena, 0);
	free(r->defers);
	r->defers = NULL;
	r->capdefers = 0;
}

void *
req_alloc(struct req *r, size_t n)
{
	return arena_alloc(&r->arena, n);
}

void *
req_zalloc(struct req *r, size_t n)
{
	void *p = arena_alloc(&r->arena, n);

	memset(p, 0, n);
	return p;
}

char *
req_strndup(struct req *r, const char *s, size_t n)
{
	char *p = arena_alloc(&r->arena, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
req_strdup(struct req *r, const char *s)
{
	return s == NULL ? NULL : req_strndup(r, s, strlen(s));
}

char *
req_vprintf(struct req *r, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return req_strdup(r, "");
	p = arena_alloc(&r->arena, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
req_printf(struct req *r, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = req_vprintf(r, fmt, ap);
	va_end(ap);
	return p;
}

size_t
req_defer(struct req *r, void (*fn)(void *), void *arg)
{
	if (r->ndefers == r->capdefers) {
		size_t cap = r->capdefers ? r->capdefers * 2 : 16;
		struct defer *d = realloc(r->defers, cap * sizeof(*d));

		if (d == NULL)
			oom(cap * sizeof(*d));
		r->defers = d;
		r->capdefers = cap;
	}
	r->defers[r->ndefers].fn = fn;
	r->defers[r->ndefers].arg = arg;
	return r->ndefers++;
}

void
req_disarm(struct req *r, size_t handle)
{
	if (handle < r->ndefers)
		r->defers[handle].fn = NULL;
}

static void
put_json(void *obj)
{
	json_object_put(obj);
}

struct json_object *
req_own(struct req *r, struct json_object *obj)
{
	if (obj != NULL)
		req_defer(r, put_json, obj);
	return obj;
}

const char *
req_param(const struct req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (strcmp(r->param_names[i], name) == 0)
			return r->params[i];
	return NULL;
}

static int64_t
parse_id(const char *s)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 ? v : -1;
}

int64_t
req_param_id(const struct req *r, const char *name)
{
	return parse_id(req_param(r, name));
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
req_urldecode(struct req *r, const char *s, size_t n, int plus)
{
	char *out = req_alloc(r, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (plus && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

const char *
req_query(struct req *r, const char *name)
{
	const char *q = r->query;
	size_t nlen = strlen(name);

	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end != NULL ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq != NULL ? (size_t)(eq - q) : len;
		char *key = req_urldecode(r, q, klen, 1);

		if (strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			return req_urldecode(r, eq + 1, len - klen - 1, 1);
		}
		q = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

int64_t
req_query_int(struct req *r, const char *name, int64_t def, int *bad)
{
	const char *v = req_query(r, name);
	char *end;
	long long n;

	if (v == NULL)
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0) {
		if (bad != NULL)
			*bad = 1;
		return def;
	}
	return n;
}

const char *
req_header(struct req *r, const char *cgi_name)
{
	char key[128];

	if (r->fcgi == NULL)
		return NULL;
	if (snprintf(key, sizeof(key), "HTTP_%s", cgi_name) >= (int)sizeof(key))
		return NULL;
	return fcgi_param(r->fcgi, key);
}

long
req_read(struct req *r, char *buf, size_t n)
{
	if (r->fcgi == NULL)
		return 0;
	return fcgi_read(r->fcgi, buf, n);
}
