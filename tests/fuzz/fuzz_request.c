/* Fuzz target: everything the server derives from a request's untrusted bytes before a handler
 * runs: route matching of the path, query parsing and decoding, pagination links, and the JSON
 * body gate. Input: "METHOD PATH?QUERY\n" then the body. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "page.h"
#include "req.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct req r;
	static int quiet;
	const char *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - (const char *)data) : size;
	char allow[128];
	struct page p;
	int bad = 0;

	if (!quiet) {
		/* Error replies go to stdout when there is no FastCGI stream: silence them. */
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		quiet = 1;
	}
	req_begin(&r);
	char *line = req_strndup(&r, (const char *)data, head);
	char *sp = strchr(line, ' ');
	const char *method = "GET";
	char *target = line;
	if (sp != NULL) {
		*sp = '\0';
		method = line;
		target = sp + 1;
	}
	char *q = strchr(target, '?');
	if (q != NULL) {
		*q = '\0';
		r.query = q + 1;
	}
	r.raw_path = target;
	r.path = req_urldecode(&r, target, strlen(target), 0);
	router_match(routes, routes_count, &r, method, r.path, allow, sizeof(allow));
	req_param_id(&r, "id");
	req_query(&r, "page");
	req_query_int(&r, "page_size", 20, &bad);
	if (page_parse(&r, &p, 20, 100, 1) == 0)
		json_object_put(page_envelope(&r, &p, 1000, NULL));
	if (nl != NULL) {
		r.body = req_strndup(&r, nl + 1, size - head - 1);
		r.body_len = size - head - 1;
		router_parse_json(&r);
	}
	req_end(&r);
	return 0;
}
