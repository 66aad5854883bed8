/* s3.c — the "s3" connector (contract in storage.h and s3.h): SigV4-signed requests (sign.h)
 * sent through outbound_fetch, ListObjectsV2 parsed with libxml2.
 *
 * Addressing. With s3_endpoint the bucket is a path segment (endpoint/bucket/key, what MinIO,
 * s3rver, Ceph and most S3-compatible servers want); without it, AWS virtual-hosted style
 * (https://bucket.s3.REGION.amazonaws.com/key). Both are parsed once at open into scheme, Host
 * header (port kept only when not the scheme's default) and a path base.
 *
 * Status before bytes. outbound_fetch reports the HTTP status only when the fetch is over, so
 * get holds back the first S3_HOLD bytes: an error document is far smaller than that, so a
 * response that outgrows it is an object and flows to on_data from then on; a smaller one is
 * delivered once its 200 is known. Redirects are not followed (a signed request cannot be
 * replayed elsewhere; AWS's 301 means a wrong region, said so in the message).
 *
 * Retries. Every request here is idempotent (GET, PUT of a whole object, DELETE); a 500/502/503/
 * 504 or a failed connection is retried twice with a short pause, re-signed each time, unless
 * bytes already went to the caller.
 *
 * XML: parsed with XML_PARSE_NONET and no entity substitution or DTD loading; a document that
 * carries a DTD at all is refused (S3 never sends one). S3's <Code> may appear in a message,
 * filtered to letters and digits; its <Message> and the document go to the log only. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "log.h"
#include "outbound.h"
#include "s3.h"
#include "sign.h"
#include "storage.h"

#define S3_HOLD 65536                   /* bytes held back by get until the status is known */
#define S3_XML_MAX (16 << 20)           /* a ListObjectsV2 page of 1000 keys is well under */
#define S3_MAX_KEYS 1000                /* S3's own cap on max-keys */
#define S3_TRIES 3
#define S3_DEFAULT_REGION "us-east-1"
#define S3_DEFAULT_PRESIGN_MIN 15

struct s3 {
	char *bucket;
	char *prefix;                   /* "" or "folder/" */
	size_t plen;
	char *access_key;               /* NULL: anonymous */
	char *secret_key;
	char *session_token;            /* NULL: none */
	char *region;
	char *kms_key_id;               /* NULL: none */
	char *scheme;                   /* "https" / "http" */
	char *host;                     /* the Host header */
	char *base;                     /* "" (virtual-hosted) or "/[endpoint path/]bucket" */
	int presign_ttl;                /* seconds */
};

/* ---------------------------------------------------------------- config */

static void
s3_free(struct s3 *b)
{
	if (b == NULL)
		return;
	free(b->bucket);
	free(b->prefix);
	free(b->access_key);
	free(b->secret_key);
	free(b->session_token);
	free(b->region);
	free(b->kms_key_id);
	free(b->scheme);
	free(b->host);
	free(b->base);
	free(b);
}

static char *
s3_dup(const char *s)
{
	return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

static int
s3_charset(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/* Splits s3_endpoint into scheme, Host header and path base (endpoint path + "/" + bucket). */
static int
s3_parse_endpoint(struct s3 *b, const char *endpoint, char *err, size_t errsz)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *query = NULL;
	int rc = STORAGE_REFUSED;
	size_t pl;

	if (u == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		storage_fail(rc, err, errsz, "The s3_endpoint is not a valid URL.");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		storage_fail(rc, err, errsz, "The s3_endpoint must be an http or https URL.");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		storage_fail(rc, err, errsz, "The s3_endpoint must not carry a user name or a query.");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);        /* absent: the scheme's default */
	if (port != NULL && ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
	    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))) {
		curl_free(port);
		port = NULL;
	}
	pl = strlen(path);
	while (pl > 0 && path[pl - 1] == '/')
		pl--;
	if ((b->scheme = strdup(scheme)) == NULL ||
	    asprintf(&b->host, "%s%s%s", host, port ? ":" : "", port ? port : "") < 0 ||
	    asprintf(&b->base, "%.*s/%s", (int)pl, path, b->bucket) < 0) {
		b->host = NULL;
		b->base = NULL;
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	rc = STORAGE_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

static int
s3_open(struct storage *s, struct json_object *config, char *err, size_t errsz)
{
	const char *bucket = storage_cfg_str(config, "bucket"), *prefix = storage_cfg_str(config, "prefix");
	const char *ak = storage_cfg_str(config, "aws_access_key_id");
	const char *sk = storage_cfg_str(config, "aws_secret_access_key");
	const char *region = storage_cfg_str(config, "region_name");
	const char *endpoint = storage_cfg_str(config, "s3_endpoint");
	struct s3 *b = calloc(1, sizeof(*b));
	long ttl;
	int rc;

	if (b == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	rc = STORAGE_REFUSED;
	if (bucket == NULL || *bucket == '\0') {
		storage_fail(rc, err, errsz, "The bucket is required.");
		goto fail;
	}
	if (strlen(bucket) > 255 || !s3_charset(bucket, ".-_") || bucket[0] == '.') {
		storage_fail(rc, err, errsz, "The bucket name is not valid.");
		goto fail;
	}
	if (region == NULL || *region == '\0')
		region = S3_DEFAULT_REGION;
	if (strlen(region) > 64 || !s3_charset(region, "-")) {
		storage_fail(rc, err, errsz, "The region_name is not valid.");
		goto fail;
	}
	if ((ak == NULL || *ak == '\0') != (sk == NULL || *sk == '\0')) {
		storage_fail(rc, err, errsz, "Set both aws_access_key_id and aws_secret_access_key, or "
		    "neither (anonymous access).");
		goto fail;
	}
	if (storage_cfg_int(config, "presign_ttl", S3_DEFAULT_PRESIGN_MIN, 1, SIGN_S3_PRESIGN_MAX / 60,
	    &ttl) != 0) {
		storage_fail(rc, err, errsz, "The presign_ttl must be 1 to %d minutes.",
		    SIGN_S3_PRESIGN_MAX / 60);
		goto fail;
	}
	b->presign_ttl = (int)ttl * 60;
	if (prefix == NULL)
		prefix = "";
	while (*prefix == '/')
		prefix++;
	if (strchr(prefix, '\r') || strchr(prefix, '\n')) {
		storage_fail(rc, err, errsz, "The prefix is not valid.");
		goto fail;
	}
	rc = STORAGE_NOMEM;
	if ((b->bucket = strdup(bucket)) == NULL || (b->region = strdup(region)) == NULL ||
	    (ak != NULL && *ak && (b->access_key = strdup(ak)) == NULL) ||
	    (sk != NULL && *sk && (b->secret_key = strdup(sk)) == NULL) ||
	    ((b->session_token = s3_dup(storage_cfg_str(config, "aws_session_token"))) == NULL &&
	    storage_cfg_str(config, "aws_session_token") != NULL &&
	    *storage_cfg_str(config, "aws_session_token") != '\0') ||
	    ((b->kms_key_id = s3_dup(storage_cfg_str(config, "aws_sse_kms_key_id"))) == NULL &&
	    storage_cfg_str(config, "aws_sse_kms_key_id") != NULL &&
	    *storage_cfg_str(config, "aws_sse_kms_key_id") != '\0')) {
		storage_fail(rc, err, errsz, "Out of memory.");
		goto fail;
	}
	{
		size_t n = strlen(prefix);

		while (n > 0 && prefix[n - 1] == '/')
			n--;
		if (asprintf(&b->prefix, "%.*s%s", (int)n, prefix, n ? "/" : "") < 0) {
			b->prefix = NULL;
			storage_fail(rc, err, errsz, "Out of memory.");
			goto fail;
		}
		b->plen = strlen(b->prefix);
	}
	if (endpoint != NULL && *endpoint != '\0') {
		if ((rc = s3_parse_endpoint(b, endpoint, err, errsz)) != STORAGE_OK)
			goto fail;
	} else {
		/* A dotted bucket would not match the *.s3 wildcard certificate in virtual-hosted
		 * style: address it path-style on the regional endpoint instead. */
		int dotted = strchr(bucket, '.') != NULL;

		if ((b->scheme = strdup("https")) == NULL ||
		    (dotted ? asprintf(&b->host, "s3.%s.amazonaws.com", region) :
		    asprintf(&b->host, "%s.s3.%s.amazonaws.com", bucket, region)) < 0 ||
		    asprintf(&b->base, "%s%s", dotted ? "/" : "", dotted ? bucket : "") < 0) {
			storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			rc = STORAGE_NOMEM;
			goto fail;
		}
	}
	s->impl = b;
	return STORAGE_OK;
fail:
	s3_free(b);
	return rc;
}

static void
s3_close(struct storage *s)
{
	s3_free(s->impl);
	s->impl = NULL;
}

/* ---------------------------------------------------------------- requests */

struct s3_buf {
	char *p;
	size_t n, cap;
};

static int
s3_buf_add(struct s3_buf *b, const char *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->n + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

/* One request: what goes out and where the answer goes. */
struct s3_call {
	const char *method;
	const char *key;                /* NULL: the bucket itself */
	const struct sign_kv *query;
	size_t nquery;
	const struct sign_kv *headers;  /* signed and sent */
	size_t nheaders;
	const char *body;
	size_t body_len;
	/* get: the caller's sink, fed through the hold-back buffer; NULL: collect into resp */
	int (*on_data)(void *ctx, const char *p, size_t n);
	void *ctx;
	int64_t max_bytes;

	/* Results. */
	struct s3_buf resp;             /* the body (or what was held back) */
	int streaming;                  /* bytes went to on_data */
	int sink_stopped;               /* on_data returned nonzero */
	int oom;
};

static int
s3_call_data(void *ud, const char *p, size_t n)
{
	struct s3_call *c = ud;

	if (c->streaming) {
		if (c->on_data(c->ctx, p, n) != 0) {
			c->sink_stopped = 1;
			return 1;
		}
		return 0;
	}
	if (s3_buf_add(&c->resp, p, n) != 0) {
		c->oom = 1;
		return 1;
	}
	if (c->on_data != NULL && c->resp.n > S3_HOLD) {
		/* Too big for an error document: an object. */
		c->streaming = 1;
		if (c->on_data(c->ctx, c->resp.p, c->resp.n) != 0)
			c->sink_stopped = 1;
		c->resp.n = 0;
		return c->sink_stopped;
	}
	return 0;
}

/* The raw object path for key (or the bucket for NULL): base + "/" + key. malloc'd. */
static char *
s3_path(const struct s3 *b, const char *key)
{
	char *p;

	if (asprintf(&p, "%s/%s", b->base, key ? key : "") < 0)
		return NULL;
	return p;
}

static void
s3_sign_in_init(const struct s3 *b, struct s3_sign_in *in, const char *method, const char *path)
{
	memset(in, 0, sizeof(*in));
	in->method = method;
	in->scheme = b->scheme;
	in->host = b->host;
	in->path = path;
	in->region = b->region;
	in->service = "s3";
	in->access_key = b->access_key;
	in->secret_key = b->secret_key;
	in->session_token = b->session_token;
	in->when = time(NULL);
}

/* Sends c once. OUTBOUND_* result; *status set on OUTBOUND_OK. */
static int
s3_send(const struct s3 *b, struct s3_call *c, const char *path, long *status, char *err,
    size_t errsz)
{
	struct s3_sign_in in;
	struct sign_headers sh = { 0 };
	struct outbound_req q = { 0 };
	char hash[65], serr[128];
	char *url = NULL, **lines = NULL;
	size_t nl = 0;
	int rc = OUTBOUND_FAILED;

	*status = 0;
	s3_sign_in_init(b, &in, c->method, path);
	in.query = c->query;
	in.nquery = c->nquery;
	in.headers = c->headers;
	in.nheaders = c->nheaders;
	if (c->body != NULL) {
		sign_sha256_hex(c->body, c->body_len, hash);
		in.payload_hash = hash;
	}
	if (b->access_key != NULL && sign_s3_headers(&in, &sh, serr, sizeof(serr)) != 0) {
		log_warn("s3 %s: signing failed: %s", b->host, serr);
		snprintf(err, errsz, "The request to S3 could not be signed.");
		return OUTBOUND_REFUSED;
	}
	if ((url = sign_request_url(b->scheme, b->host, path, c->query, c->nquery)) == NULL ||
	    (lines = calloc(sh.n + c->nheaders + 1, sizeof(*lines))) == NULL)
		goto oom;
	for (size_t i = 0; i < sh.n; i++)
		if (asprintf(&lines[nl++], "%s: %s", sh.h[i].name, sh.h[i].value) < 0) {
			lines[--nl] = NULL;
			goto oom;
		}
	for (size_t i = 0; i < c->nheaders; i++)
		if (asprintf(&lines[nl++], "%s: %s", c->headers[i].name, c->headers[i].value) < 0) {
			lines[--nl] = NULL;
			goto oom;
		}
	q.method = c->method;
	q.url = url;
	q.headers = (const char *const *)lines;
	q.body = c->body;
	q.body_len = c->body_len;
	q.on_data = s3_call_data;
	q.ctx = c;
	q.max_bytes = c->max_bytes;
	q.no_redirects = 1;
	rc = outbound_fetch(&q, status, err, errsz);
	goto out;
oom:
	c->oom = 1;
	snprintf(err, errsz, "Out of memory.");
out:
	for (size_t i = 0; i < nl; i++)
		free(lines[i]);
	free(lines);
	free(url);
	sign_headers_release(&sh);
	return rc;
}

/* The first element called name (any namespace) among the children of n. */
static xmlNode *
s3_child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The text of n (malloc'd by libxml2: xmlFree), or NULL. */
static char *
s3_text(xmlNode *n)
{
	return n != NULL ? (char *)xmlNodeGetContent(n) : NULL;
}

/* Parses an S3 XML document; NULL when it is not one we accept. */
static xmlDoc *
s3_xml(const char *p, size_t n)
{
	xmlDoc *d;

	if (p == NULL || n == 0 || n > INT32_MAX)
		return NULL;
	d = xmlReadMemory(p, (int)n, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	if (d != NULL && (d->intSubset != NULL || d->extSubset != NULL ||
	    xmlDocGetRootElement(d) == NULL)) {
		xmlFreeDoc(d);
		d = NULL;
	}
	return d;
}

/* S3's error <Code> from an error document, letters and digits only, into code. */
static void
s3_error_code(const struct s3_buf *r, char *code, size_t codesz, char *msg, size_t msgsz)
{
	xmlDoc *d = s3_xml(r->p, r->n);
	xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
	char *c = NULL, *m = NULL;
	size_t o = 0;

	code[0] = '\0';
	msg[0] = '\0';
	if (root != NULL && strcmp((const char *)root->name, "Error") == 0) {
		c = s3_text(s3_child(root, "Code"));
		m = s3_text(s3_child(root, "Message"));
	}
	for (const char *s = c; s != NULL && *s && o + 1 < codesz && o < 64; s++)
		if (isalnum((unsigned char)*s))
			code[o++] = *s;
	if (codesz > 0)
		code[o] = '\0';
	if (m != NULL)
		snprintf(msg, msgsz, "%s", m);
	xmlFree(c);
	xmlFree(m);
	if (d != NULL)
		xmlFreeDoc(d);
}

/* Our words for a non-2xx answer. */
static int
s3_status_fail(const struct s3 *b, const struct s3_call *c, long status, char *err, size_t errsz)
{
	char code[72], msg[256], quoted[96] = "";

	s3_error_code(&c->resp, code, sizeof(code), msg, sizeof(msg));
	if (code[0] != '\0')
		snprintf(quoted, sizeof(quoted), " (%s)", code);
	log_warn("s3 %s bucket %s: %s %s answered %ld %s: %.200s", b->host, b->bucket, c->method,
	    c->key ? "object" : "bucket", status, code, msg);
	if (strcmp(code, "NoSuchBucket") == 0)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The bucket %.100s does not exist.",
		    b->bucket);
	if (status == 404 || strcmp(code, "NoSuchKey") == 0)
		return storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such object in the bucket.");
	if (status == 403 || status == 401 || strcmp(code, "InvalidAccessKeyId") == 0 ||
	    strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "ExpiredToken") == 0 ||
	    strcmp(code, "InvalidToken") == 0 || strcmp(code, "AuthorizationHeaderMalformed") == 0)
		return storage_fail(STORAGE_AUTH, err, errsz,
		    "S3 refused the credentials or denied access%s: check aws_access_key_id, "
		    "aws_secret_access_key, aws_session_token and region_name.", quoted);
	if (status == 301 || status == 307 || strcmp(code, "PermanentRedirect") == 0)
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The bucket is not served at this address%s: check region_name and s3_endpoint.",
		    quoted);
	if (status == 400 || status == 405 || status == 409 || status == 411 || status == 412 ||
	    status == 413 || status == 416 || status == 501)
		return storage_fail(STORAGE_REFUSED, err, errsz, "S3 refused the request%s (HTTP %ld).",
		    quoted, status);
	return storage_fail(STORAGE_FAILED, err, errsz, "S3 failed to answer%s (HTTP %ld).", quoted,
	    status);
}

/* Runs c with retries; STORAGE_OK when S3 answered 2xx (then c->resp holds the body, or it went
 * to c->on_data). */
static int
s3_run(const struct s3 *b, struct s3_call *c, char *err, size_t errsz)
{
	char *path = s3_path(b, c->key);
	char oerr[256] = "";
	long status = 0;
	int rc = STORAGE_FAILED;

	if (path == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	for (int attempt = 0; attempt < S3_TRIES; attempt++) {
		int orc;

		if (attempt > 0) {
			struct timespec ts = { 0, attempt * 300L * 1000000L };

			nanosleep(&ts, NULL);
		}
		c->resp.n = 0;
		if (c->resp.p != NULL)
			c->resp.p[0] = '\0';
		orc = s3_send(b, c, path, &status, oerr, sizeof(oerr));
		if (c->oom) {
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			break;
		}
		if (c->sink_stopped) {
			rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
			break;
		}
		if (orc == OUTBOUND_REFUSED) {
			rc = storage_fail(STORAGE_REFUSED, err, errsz, "The S3 endpoint is not allowed: %s.",
			    oerr);
			break;
		}
		if (orc == OUTBOUND_TIMEOUT) {
			rc = storage_fail(STORAGE_TIMEOUT, err, errsz, "S3 at %.200s did not answer in time.",
			    b->host);
			break;
		}
		if (orc == OUTBOUND_TOO_BIG) {
			rc = storage_fail(STORAGE_FAILED, err, errsz, "The S3 answer is too large: %s.", oerr);
			break;
		}
		if (orc != OUTBOUND_OK) {
			rc = storage_fail(STORAGE_FAILED, err, errsz, "Could not reach S3 at %.200s.", b->host);
			if (c->streaming)
				break;
			continue;
		}
		if (status >= 200 && status < 300) {
			rc = STORAGE_OK;
			break;
		}
		rc = s3_status_fail(b, c, status, err, errsz);
		if (c->streaming || !(status == 500 || status == 502 || status == 503 || status == 504))
			break;
	}
	free(path);
	return rc;
}

static void
s3_call_release(struct s3_call *c)
{
	free(c->resp.p);
	c->resp.p = NULL;
	c->resp.n = c->resp.cap = 0;
}

/* The key must be a plain key inside the prefix: no "." / ".." segment (URL normalisation would
 * move it), no control characters. */
static int
s3_key_ok(const struct s3 *b, const char *key, char *err, size_t errsz)
{
	const char *p;

	if (key == NULL || *key == '\0')
		return storage_fail(0, err, errsz, "The key is empty.");
	if (strncmp(key, b->prefix, b->plen) != 0 || key[b->plen] == '\0')
		return storage_fail(0, err, errsz, "The key is outside this storage's prefix.");
	for (p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return storage_fail(0, err, errsz, "The key contains a control character.");
	for (p = key; p != NULL; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return storage_fail(0, err, errsz, "The key has a \".\" or \"..\" segment.");
	}
	return 1;
}

/* ---------------------------------------------------------------- operations */

/* "2009-10-12T17:50:30.000Z" -> seconds; 0 when unreadable. */
static int64_t
s3_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm);
}

int
storage_s3_parse_list(const char *xml, size_t n, const char *full,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	char *trunc = NULL, *token = NULL;
	xmlDoc *d = NULL;
	xmlNode *root;
	int rc = STORAGE_OK;

	*next_cursor = NULL;
	if ((d = s3_xml(xml, n)) == NULL ||
	    strcmp((const char *)(root = xmlDocGetRootElement(d))->name, "ListBucketResult") != 0) {
		rc = storage_fail(STORAGE_FAILED, err, errsz, "S3 answered the listing with something "
		    "else than a listing.");
		goto out;
	}
	for (xmlNode *node = root->children; node != NULL && rc == STORAGE_OK; node = node->next) {
		struct storage_object o = { .size = -1 };
		char *key, *size, *lm, *etag;
		size_t kl;

		if (node->type != XML_ELEMENT_NODE || strcmp((const char *)node->name, "Contents") != 0)
			continue;
		key = s3_text(s3_child(node, "Key"));
		size = s3_text(s3_child(node, "Size"));
		lm = s3_text(s3_child(node, "LastModified"));
		etag = s3_text(s3_child(node, "ETag"));
		kl = key ? strlen(key) : 0;
		/* Folder markers and keys outside the scope are not objects of this storage. */
		if (kl > 0 && key[kl - 1] != '/' && strncmp(key, full, strlen(full)) == 0) {
			char *e = etag;
			size_t el;

			if (e != NULL && *e == '"') {
				e++;
				el = strlen(e);
				if (el > 0 && e[el - 1] == '"')
					e[el - 1] = '\0';
			}
			o.key = key;
			o.size = size ? strtoll(size, NULL, 10) : -1;
			o.mtime = s3_time(lm);
			o.etag = e;
			if (on_object(ctx, &o) != 0)
				rc = storage_fail(STORAGE_ABORTED, err, errsz, "The listing was stopped.");
		}
		xmlFree(key);
		xmlFree(size);
		xmlFree(lm);
		xmlFree(etag);
	}
	if (rc != STORAGE_OK)
		goto out;
	trunc = s3_text(s3_child(root, "IsTruncated"));
	if (trunc != NULL && strcmp(trunc, "true") == 0) {
		token = s3_text(s3_child(root, "NextContinuationToken"));
		if (token == NULL || *token == '\0') {
			rc = storage_fail(STORAGE_FAILED, err, errsz,
			    "S3 cut the listing short without saying where to go on.");
		} else if ((*next_cursor = strdup(token)) == NULL)
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	}
out:
	xmlFree(trunc);
	xmlFree(token);
	if (d != NULL)
		xmlFreeDoc(d);
	return rc;
}

static int
s3_list(struct storage *s, const char *prefix, int recursive, const char *cursor, size_t max,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	struct s3 *b = s->impl;
	struct s3_call c = { 0 };
	char maxkeys[24], *full = NULL;
	struct sign_kv q[5];
	size_t nq = 0;
	int rc;

	*next_cursor = NULL;
	if (max > S3_MAX_KEYS)
		max = S3_MAX_KEYS;
	snprintf(maxkeys, sizeof(maxkeys), "%zu", max);
	if (asprintf(&full, "%s%s", b->prefix, prefix ? prefix : "") < 0)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	q[nq++] = (struct sign_kv){ "list-type", "2" };
	if (*full != '\0')
		q[nq++] = (struct sign_kv){ "prefix", full };
	if (!recursive)
		q[nq++] = (struct sign_kv){ "delimiter", "/" };
	q[nq++] = (struct sign_kv){ "max-keys", maxkeys };
	if (cursor != NULL && *cursor != '\0')
		q[nq++] = (struct sign_kv){ "continuation-token", cursor };
	c.method = "GET";
	c.query = q;
	c.nquery = nq;
	c.max_bytes = S3_XML_MAX;
	if ((rc = s3_run(b, &c, err, errsz)) != STORAGE_OK)
		goto out;
	rc = storage_s3_parse_list(c.resp.p, c.resp.n, full, on_object, ctx, next_cursor, err, errsz);
	if (rc == STORAGE_FAILED)
		log_warn("s3 %s bucket %s: the listing could not be read: %s", b->host, b->bucket, err);
out:
	s3_call_release(&c);
	free(full);
	return rc;
}

static int
s3_get(struct storage *s, const char *key, int (*on_data)(void *ctx, const char *p, size_t n),
    void *ctx, char *err, size_t errsz)
{
	struct s3 *b = s->impl;
	struct s3_call c = { 0 };
	int rc;

	if (!s3_key_ok(b, key, err, errsz))
		return STORAGE_REFUSED;
	c.method = "GET";
	c.key = key;
	c.on_data = on_data;
	c.ctx = ctx;
	rc = s3_run(b, &c, err, errsz);
	if (rc == STORAGE_OK && !c.streaming && c.resp.n > 0 && on_data(ctx, c.resp.p, c.resp.n) != 0)
		rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
	s3_call_release(&c);
	return rc;
}

static int
s3_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz)
{
	struct s3 *b = s->impl;
	struct s3_call c = { 0 };
	struct sign_kv h[3];
	size_t nh = 0;
	int rc;

	if (!s3_key_ok(b, key, err, errsz))
		return STORAGE_REFUSED;
	if (content_type == NULL || *content_type == '\0')
		content_type = "application/octet-stream";
	if (strpbrk(content_type, "\r\n") != NULL)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The content type is not valid.");
	h[nh++] = (struct sign_kv){ "Content-Type", content_type };
	if (b->kms_key_id != NULL) {
		h[nh++] = (struct sign_kv){ "x-amz-server-side-encryption", "aws:kms" };
		h[nh++] = (struct sign_kv){ "x-amz-server-side-encryption-aws-kms-key-id",
			b->kms_key_id };
	}
	c.method = "PUT";
	c.key = key;
	c.headers = h;
	c.nheaders = nh;
	c.body = data ? data : "";
	c.body_len = data ? len : 0;
	c.max_bytes = S3_XML_MAX;
	rc = s3_run(b, &c, err, errsz);
	s3_call_release(&c);
	return rc;
}

/* S3 answers 204 whether or not the object existed, so a missing one is not reported: del
 * returns STORAGE_OK for it (storage.h lets callers ignore NOT_FOUND on delete anyway). */
static int
s3_del(struct storage *s, const char *key, char *err, size_t errsz)
{
	struct s3 *b = s->impl;
	struct s3_call c = { 0 };
	int rc;

	if (!s3_key_ok(b, key, err, errsz))
		return STORAGE_REFUSED;
	c.method = "DELETE";
	c.key = key;
	c.max_bytes = S3_XML_MAX;
	rc = s3_run(b, &c, err, errsz);
	s3_call_release(&c);
	return rc;
}

static int
s3_presign(struct storage *s, const char *key, int ttl, char **url, char *err, size_t errsz)
{
	struct s3 *b = s->impl;
	struct s3_sign_in in;
	char serr[128], *path;

	*url = NULL;
	if (!s3_key_ok(b, key, err, errsz))
		return STORAGE_REFUSED;
	if (ttl <= 0)
		ttl = b->presign_ttl;
	if (ttl > SIGN_S3_PRESIGN_MAX)
		ttl = SIGN_S3_PRESIGN_MAX;
	if ((path = s3_path(b, key)) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	if (b->access_key == NULL) {
		/* Anonymous: the object's plain URL. */
		*url = sign_request_url(b->scheme, b->host, path, NULL, 0);
	} else {
		s3_sign_in_init(b, &in, "GET", path);
		if ((*url = sign_s3_presign(&in, ttl, serr, sizeof(serr))) == NULL)
			log_warn("s3 %s: presigning failed: %s", b->host, serr);
	}
	free(path);
	if (*url == NULL)
		return storage_fail(STORAGE_FAILED, err, errsz, "Could not make a presigned URL.");
	return STORAGE_OK;
}

const struct storage_ops storage_s3_ops = {
	.kind = "s3",
	.open = s3_open,
	.list = s3_list,
	.get = s3_get,
	.put = s3_put,
	.del = s3_del,
	.presign = s3_presign,
	.close = s3_close,
};
