/* e2e.c — the HTTP client of the end-to-end tests (see e2e.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "e2e.h"

struct buf {
	char *p;
	size_t n;
};

static size_t
collect(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	char *np = realloc(b->p, b->n + n + 1);

	if (np == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static const char *
base_url(void)
{
	const char *u = getenv("SIALI_TEST_URL");

	return u != NULL ? u : "http://127.0.0.1:18080";
}

struct resp *
http_ex(const char *method, const char *path, const char *const *headers, const char *body,
    size_t bodylen, const char *ctype)
{
	struct resp *r = calloc(1, sizeof(*r));
	struct buf b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hl = NULL;
	char url[4096], ct[256];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", base_url(), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	for (const char *const *p = headers; p != NULL && *p != NULL; p++)
		hl = curl_slist_append(hl, *p);
	if (body != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype != NULL ? ctype : "application/json");
		hl = curl_slist_append(hl, ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
	}
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (curl_easy_perform(c) != CURLE_OK)
		r->status = -1;
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	r->body = b.p != NULL ? b.p : strdup("");
	r->len = b.n;
	r->headers = h.p != NULL ? h.p : strdup("");
	r->json = r->len > 0 ? json_tokener_parse(r->body) : NULL;
	return r;
}

struct resp *
http(const char *method, const char *path, const char *auth, const char *body, const char *ctype)
{
	const char *hs[2] = { auth, NULL };

	return http_ex(method, path, hs, body, body != NULL ? strlen(body) : 0, ctype);
}

void
resp_free(struct resp *r)
{
	if (r == NULL)
		return;
	json_object_put(r->json);
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->header_copies[i]);
	free(r->body);
	free(r->headers);
	free(r);
}

const char *
resp_header(struct resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *line = r->headers;

	while (line != NULL && *line != '\0') {
		const char *end = strstr(line, "\r\n"), *v;
		size_t len;

		if (strncasecmp(line, name, n) == 0 && line[n] == ':' &&
		    r->nheaders < sizeof(r->header_copies) / sizeof(r->header_copies[0])) {
			v = line + n + 1;
			while (*v == ' ')
				v++;
			len = end != NULL ? (size_t)(end - v) : strlen(v);
			r->header_copies[r->nheaders] = strndup(v, len);
			return r->header_copies[r->nheaders++];
		}
		line = end != NULL ? end + 2 : NULL;
	}
	return NULL;
}

struct json_object *
jpath(struct json_object *o, const char *path)
{
	char key[256];

	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_object_is_type(o, json_type_array)) {
			o = json_object_array_get_idx(o, (size_t)atoi(key));
		} else if (!json_object_object_get_ex(o, key, &o)) {
			return NULL;
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return o;
}

const char *
jstr(struct json_object *o, const char *path)
{
	struct json_object *v = jpath(o, path);

	return v != NULL ? json_object_get_string(v) : "";
}

long long
jint(struct json_object *o, const char *path)
{
	struct json_object *v = jpath(o, path);

	return v != NULL ? (long long)json_object_get_int64(v) : -1;
}

const char *
e2e_stack_path(const char *name)
{
	static char p[1024];
	const char *d = getenv("SIALI_STACK_DIR");

	snprintf(p, sizeof(p), "%s/%s", d != NULL ? d : "var/test", name);
	return p;
}

const char *
e2e_unique(void)
{
	static char u[32];

	if (u[0] == '\0')
		snprintf(u, sizeof(u), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	return u;
}

int
e2e_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

char *
e2e_user(const char *username, const char *new_org, long long *id)
{
	static char header[256];
	char cmd[2048], out[16384];
	size_t n = 0;
	FILE *p;

	header[0] = '\0';
	if (new_org != NULL)
		snprintf(cmd, sizeof(cmd), "%s user --create --username '%s' --new-org '%s'",
		    e2e_bin(), username, new_org);
	else
		snprintf(cmd, sizeof(cmd), "%s user --create --username '%s'", e2e_bin(),
		    username);
	p = popen(cmd, "r");
	if (p == NULL)
		return header;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	struct json_object *o = json_tokener_parse(out);
	if (o != NULL) {
		snprintf(header, sizeof(header), "Authorization: Token %s", jstr(o, "token"));
		if (id != NULL)
			*id = jint(o, "id");
		json_object_put(o);
	}
	return header;
}

char *
e2e_out(const char *fmt, ...)
{
	char cmd[8192];
	struct buf b = { NULL, 0 };
	char chunk[4096];
	size_t n;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (p != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
			collect(chunk, 1, n, &b);
		pclose(p);
	}
	return b.p != NULL ? b.p : strdup("");
}

const char *
e2e_bin(void)
{
	const char *bin = getenv("SIALI_BIN");

	return bin != NULL ? bin : "build-asan/siali";
}

/* The mariadb client as the superuser over the stack's socket, for the query in q. */
static void
sql_command(char *cmd, size_t cmdsz, const char *flags, const char *fmt, va_list ap)
{
	char q[3000];

	vsnprintf(q, sizeof(q), fmt, ap);
	snprintf(cmd, cmdsz, "mariadb --no-defaults %s -S '%s' -u\"$(id -un)\" siali -e \"%s\"", flags,
	    e2e_stack_path("mysql.sock"), q);
}

int
e2e_sql(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	sql_command(cmd, sizeof(cmd), "", fmt, ap);
	va_end(ap);
	return e2e_sh("%s", cmd);
}

char *
e2e_sql_out(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	sql_command(cmd, sizeof(cmd), "-N -B", fmt, ap);
	va_end(ap);
	return e2e_out("%s", cmd);
}

/* --- a minimal FastCGI client (FCGI_RESPONDER over a unix socket), for talking to a `siali
 * serve` that has no nginx in front of it. */

static void
fcgi_record(char *out, size_t *n, int type, const void *content, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
		(unsigned char)len, 0, 0 };

	memcpy(out + *n, h, 8);
	memcpy(out + *n + 8, content, len);
	*n += 8 + len;
}

static size_t
fcgi_param(unsigned char *p, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	p[0] = (unsigned char)nl; /* names and values here are shorter than 128 bytes */
	p[1] = (unsigned char)vl;
	memcpy(p + 2, name, nl);
	memcpy(p + 2 + nl, value, vl);
	return 2 + nl + vl;
}

long
fcgi_get(const char *sock, const char *uri, const char *authorization, char *body, size_t bodysz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char params[1024];
	char req[2048], resp[65536];
	size_t n = 0, pn = 0, got = 0, out = 0;
	const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	long status = 200;
	int fd;
	ssize_t k;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pn += fcgi_param(params + pn, "REQUEST_METHOD", "GET");
	pn += fcgi_param(params + pn, "DOCUMENT_URI", uri);
	pn += fcgi_param(params + pn, "REQUEST_URI", uri);
	pn += fcgi_param(params + pn, "QUERY_STRING", "");
	if (authorization != NULL)
		pn += fcgi_param(params + pn, "HTTP_AUTHORIZATION", authorization);
	fcgi_record(req, &n, 1, begin, 8);     /* BEGIN_REQUEST, role responder */
	fcgi_record(req, &n, 4, params, pn);   /* PARAMS */
	fcgi_record(req, &n, 4, "", 0);
	fcgi_record(req, &n, 5, "", 0);        /* STDIN, empty */
	if (write(fd, req, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	while ((k = read(fd, resp + got, sizeof(resp) - got)) > 0)
		got += (size_t)k;
	close(fd);
	/* Concatenate the STDOUT records, then split the CGI headers from the body. */
	char *stdout_buf = malloc(got + 1);
	for (size_t i = 0; i + 8 <= got;) {
		size_t len = ((size_t)(unsigned char)resp[i + 4] << 8) | (unsigned char)resp[i + 5];
		size_t pad = (unsigned char)resp[i + 6];
		if (resp[i + 1] == 6 && i + 8 + len <= got) {
			memcpy(stdout_buf + out, resp + i + 8, len);
			out += len;
		}
		i += 8 + len + pad;
	}
	stdout_buf[out] = '\0';
	const char *st = strstr(stdout_buf, "Status: ");
	char *sep = strstr(stdout_buf, "\r\n\r\n");
	if (st != NULL && (sep == NULL || st < sep))
		status = strtol(st + 8, NULL, 10);
	if (body != NULL && bodysz > 0)
		snprintf(body, bodysz, "%s", sep != NULL ? sep + 4 : "");
	free(stdout_buf);
	return out > 0 ? status : -1;
}
