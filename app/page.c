/* page.c — page-number pagination (see page.h). */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "fcgi.h"
#include "page.h"
#include "reply.h"

#define ALL_CAP 100000  /* "all" is still bounded */

int
page_parse(struct req *r, struct page *p, int64_t def_size, int64_t max_size, int allow_all)
{
	int bad = 0;
	int64_t size = req_query_int(r, "page_size", def_size, &bad);
	int64_t number;

	if (bad || size == 0 || size < -1 || (size == -1 && !allow_all))
		size = def_size;
	if (size == -1)
		size = ALL_CAP;
	else if (size > max_size)
		size = max_size;
	bad = 0;
	number = req_query_int(r, "page", 1, &bad);
	if (bad || number < 1 || number > INT32_MAX)
		return req_fail(r, 404, "Invalid page.");
	p->number = number;
	p->size = size;
	p->offset = (number - 1) * size;
	return 0;
}

int
page_check(struct req *r, const struct page *p, int64_t count)
{
	if (p->number > 1 && p->offset >= count)
		return req_fail(r, 404, "Invalid page.");
	return 0;
}

/* The request's own URL with page set to number (or removed when number is 1). */
static struct json_object *
link(struct req *r, int64_t number)
{
	const char *scheme = NULL, *host = req_header(r, "HOST");
	const char *q = r->query;
	char *out;
	size_t used = 0, cap;

	if (r->fcgi != NULL)
		scheme = fcgi_param(r->fcgi, "REQUEST_SCHEME");
	if (scheme == NULL || *scheme == '\0')
		scheme = "http";
	if (host == NULL)
		host = "localhost";
	/* Debian's fastcgi_params pass $host (no port) as HTTP_HOST; put a non-default port back. */
	if (r->fcgi != NULL && strchr(host, ':') == NULL) {
		const char *port = fcgi_param(r->fcgi, "SERVER_PORT");

		if (port != NULL && *port != '\0' &&
		    strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") != 0)
			host = req_printf(r, "%s:%s", host, port);
	}
	cap = strlen(scheme) + strlen(host) + strlen(r->raw_path ? r->raw_path : r->path) + strlen(q) + 64;
	out = req_alloc(r, cap);
	used = (size_t)snprintf(out, cap, "%s://%s%s", scheme, host, r->raw_path ? r->raw_path : r->path);
	char sep = '?';
	while (*q != '\0') {
		size_t len = strcspn(q, "&");

		if (len > 0 && !(len >= 5 && strncmp(q, "page=", 5) == 0) && !(len == 4 && strncmp(q, "page", 4) == 0)) {
			used += (size_t)snprintf(out + used, cap - used, "%c%.*s", sep, (int)len, q);
			sep = '&';
		}
		q += len;
		if (*q == '&')
			q++;
	}
	if (number > 1)
		snprintf(out + used, cap - used, "%cpage=%lld", sep, (long long)number);
	return json_object_new_string(out);
}

struct json_object *
page_envelope(struct req *r, const struct page *p, int64_t count, struct json_object *results)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_int64(count));
	json_object_object_add(o, "next", p->offset + p->size < count ? link(r, p->number + 1) : NULL);
	json_object_object_add(o, "previous", p->number > 1 ? link(r, p->number - 1) : NULL);
	json_object_object_add(o, "results", results);
	return o;
}
