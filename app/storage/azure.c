/* azure.c — the "azure" connector (contracts in storage.h and azure.h): Azure Blob over the
 * outbound layer, SharedKey-signed (sign.h), List Blobs parsed with libxml2.
 *
 * Every request is built from the parts kept at open (scheme, host[:port], the endpoint's path,
 * container): the path that is signed and the URL that is sent come from the same raw strings
 * through sign_request_url(), so they cannot disagree. Errors are recognised from the status and
 * Azure's x-ms-error-code header, so error bodies are never parsed and never reach a sink.
 */
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

#include "azure.h"
#include "log.h"
#include "outbound.h"
#include "sign.h"

#define AZ_DEFAULT_TTL_MIN 15
#define AZ_MAX_TTL (7 * 24 * 3600)
#define AZ_SKEW 300                             /* SAS start this many seconds back */
#define AZ_MAX_RESULTS 5000                     /* Azure's cap on maxresults */
#define AZ_KEY_MAX 1024                         /* Azure's cap on blob names */
#define AZ_CURSOR_MAX 4096
#define AZ_TRIES 3
#define AZ_LIST_MAX_BYTES ((int64_t)64 << 20)   /* 5000 entries are ~5 MB of XML */
#define AZ_GET_MAX_BYTES ((int64_t)64 << 30)
#define AZ_SMALL_MAX_BYTES ((int64_t)1 << 20)   /* answers to put / delete */

struct az {
	char *scheme;           /* "http" or "https" */
	char *host;             /* Host as sent: "acct.blob.core.windows.net", "127.0.0.1:10000" */
	char *base;             /* the endpoint's path, no trailing '/': "" or "/devstoreaccount1" */
	char *endpoint;         /* scheme://host base, for SAS URLs */
	char *account;
	char *key;
	char *container;
	char *prefix;
	size_t plen;
	long ttl_min;
};

/* ---------------------------------------------------------------- config */

static void
az_free(struct az *a)
{
	if (a == NULL)
		return;
	free(a->scheme);
	free(a->host);
	free(a->base);
	free(a->endpoint);
	free(a->account);
	if (a->key != NULL)
		memset(a->key, 0, strlen(a->key));
	free(a->key);
	free(a->container);
	free(a->prefix);
	free(a);
}

static int
az_name_ok(const char *s, size_t lo, size_t hi, const char *extra)
{
	size_t n = strlen(s);

	if (n < lo || n > hi)
		return 0;
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    strchr(extra, *p) == NULL)
			return 0;
	return 1;
}

/* Splits the endpoint URL into a->scheme, a->host, a->base, a->endpoint. */
static int
az_endpoint(struct az *a, const char *url, char *err, size_t errsz)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
	int rc = STORAGE_REFUSED;
	size_t n;

	if (u == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	if (strlen(url) > 2000 || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		storage_fail(rc, err, errsz, "The endpoint is not a valid URL.");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		storage_fail(rc, err, errsz, "The endpoint must be an http or https URL.");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &extra, 0) == CURLUE_OK) {
		storage_fail(rc, err, errsz, "The endpoint must not carry a user name or password.");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
		storage_fail(rc, err, errsz, "The endpoint must not carry a query or fragment.");
		goto out;
	}
	/* The path is signed raw: only characters that need no encoding. */
	for (const char *p = path; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("/-._~", *p) == NULL) {
			storage_fail(rc, err, errsz, "The endpoint's path may only hold letters, digits and "
			    "- . _ ~ /.");
			goto out;
		}
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		path[--n] = '\0';
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	rc = STORAGE_NOMEM;
	if ((a->scheme = strdup(scheme)) == NULL || (a->base = strdup(path)) == NULL)
		goto out;
	n = strlen(host) + (port ? strlen(port) + 1 : 0) + 1;
	if ((a->host = malloc(n)) == NULL)
		goto out;
	snprintf(a->host, n, "%s%s%s", host, port ? ":" : "", port ? port : "");
	n = strlen(a->scheme) + 3 + strlen(a->host) + strlen(a->base) + 1;
	if ((a->endpoint = malloc(n)) == NULL)
		goto out;
	snprintf(a->endpoint, n, "%s://%s%s", a->scheme, a->host, a->base);
	rc = STORAGE_OK;
out:
	if (rc == STORAGE_NOMEM)
		storage_fail(rc, err, errsz, "Out of memory.");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return rc;
}

static int
az_open(struct storage *s, struct json_object *config, char *err, size_t errsz)
{
	const char *container = storage_cfg_str(config, "container");
	const char *prefix = storage_cfg_str(config, "prefix");
	const char *account = storage_cfg_str(config, "account_name");
	const char *key = storage_cfg_str(config, "account_key");
	const char *endpoint = storage_cfg_str(config, "endpoint");
	char def[128];
	struct az *a;
	int rc;

	if (container == NULL || *container == '\0')
		return storage_fail(STORAGE_REFUSED, err, errsz, "The container is required.");
	if (!az_name_ok(container, 3, 63, "-") && strcmp(container, "$root") != 0 &&
	    strcmp(container, "$web") != 0)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The container name must be 3 to 63 "
		    "lower-case letters, digits and hyphens.");
	if (account == NULL || *account == '\0')
		return storage_fail(STORAGE_REFUSED, err, errsz, "The account_name is required.");
	if (!az_name_ok(account, 1, 64, ""))
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The account_name must be lower-case letters and digits.");
	if (key == NULL || *key == '\0')
		return storage_fail(STORAGE_REFUSED, err, errsz, "The account_key is required.");
	if (prefix != NULL && strlen(prefix) >= AZ_KEY_MAX)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The prefix is too long.");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	if (storage_cfg_int(config, "presign_ttl", AZ_DEFAULT_TTL_MIN, 1, AZ_MAX_TTL / 60,
	    &a->ttl_min) != 0) {
		az_free(a);
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The presign_ttl must be 1 to %d minutes.", AZ_MAX_TTL / 60);
	}
	if (endpoint == NULL || *endpoint == '\0') {
		snprintf(def, sizeof(def), "https://%s.blob.core.windows.net", account);
		endpoint = def;
	}
	if ((rc = az_endpoint(a, endpoint, err, errsz)) != STORAGE_OK) {
		az_free(a);
		return rc;
	}
	if ((a->account = strdup(account)) == NULL || (a->key = strdup(key)) == NULL ||
	    (a->container = strdup(container)) == NULL ||
	    (a->prefix = strdup(prefix ? prefix : "")) == NULL) {
		az_free(a);
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	}
	a->plen = strlen(a->prefix);
	s->impl = a;
	return STORAGE_OK;
}

static void
az_close(struct storage *s)
{
	az_free(s->impl);
	s->impl = NULL;
}

/* 1 if key is a blob name in this storage's scope; 0 with the reason in err. */
static int
az_key_ok(const struct az *a, const char *key, char *err, size_t errsz)
{
	if (key == NULL || *key == '\0')
		return storage_fail(0, err, errsz, "The key is empty.");
	if (strlen(key) > AZ_KEY_MAX)
		return storage_fail(0, err, errsz, "The key is longer than %d bytes.", AZ_KEY_MAX);
	if (strncmp(key, a->prefix, a->plen) != 0)
		return storage_fail(0, err, errsz, "The key is outside this storage's prefix.");
	return storage_key_ok(key, strlen(key), err, errsz);
}

/* ---------------------------------------------------------------- requests */

struct az_buf {
	char *p;
	size_t n, cap;
};

struct az_xfer {
	/* get: the caller's sink, fed only from a successful Get Blob answer */
	int (*on_data)(void *ctx, const char *p, size_t n);
	void *ctx;
	int sink_stopped;
	int delivered;                  /* bytes went to on_data: no retry can take them back */
	/* list: the body, collected */
	struct az_buf *body;
	int seen_blob_type;             /* x-ms-blob-type: only Get Blob successes carry it */
	char code[80];                  /* x-ms-error-code, "" when none */
};

static int
az_on_header(void *ctx, const char *name, const char *value)
{
	struct az_xfer *x = ctx;

	if (strcasecmp(name, "x-ms-error-code") == 0)
		snprintf(x->code, sizeof(x->code), "%s", value);
	else if (strcasecmp(name, "x-ms-blob-type") == 0)
		x->seen_blob_type = 1;
	return 0;
}

static int
az_on_data(void *ctx, const char *p, size_t n)
{
	struct az_xfer *x = ctx;

	if (x->code[0] != '\0')
		return 0;               /* an error body: dropped, the code says enough */
	if (x->on_data != NULL) {
		if (!x->seen_blob_type)
			return 0;
		x->delivered = 1;
		if (x->on_data(x->ctx, p, n) != 0) {
			x->sink_stopped = 1;
			return 1;
		}
		return 0;
	}
	if (x->body != NULL) {
		struct az_buf *b = x->body;

		if (b->n + n + 1 > b->cap) {
			size_t cap = b->cap ? b->cap : 16384;
			char *np;

			while (cap < b->n + n + 1)
				cap *= 2;
			if ((np = realloc(b->p, cap)) == NULL)
				return 1;
			b->p = np;
			b->cap = cap;
		}
		memcpy(b->p + b->n, p, n);
		b->n += n;
		b->p[b->n] = '\0';
	}
	return 0;
}

/* Maps a final status (and Azure's error code) to our result; what names the object. */
static int
az_status(const struct az *a, const char *method, long status, const char *code,
    const char *what, char *err, size_t errsz)
{
	char q[100] = "";

	if (status >= 200 && status < 300)
		return STORAGE_OK;
	if (code[0] != '\0')
		snprintf(q, sizeof(q), " (%s)", code);
	if (status == 401 || status == 403)
		return storage_fail(STORAGE_AUTH, err, errsz, "Azure refused the credentials of account "
		    "\"%s\"%s: check account_name and account_key.", a->account, q);
	if (status == 404) {
		if (strcmp(code, "ContainerNotFound") == 0)
			return storage_fail(STORAGE_NOT_FOUND, err, errsz,
			    "The container \"%s\" does not exist.", a->container);
		return storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such %s%s.", what, q);
	}
	log_warn("azure %s %s: HTTP %ld %s", method, a->endpoint, status, code);
	if (status == 400)
		return storage_fail(STORAGE_REFUSED, err, errsz, "Azure refused the request%s.", q);
	return storage_fail(STORAGE_FAILED, err, errsz, "Azure answered HTTP %ld%s.", status, q);
}

/* One signed request on the container (blob NULL) or a blob. The response body goes to x's
 * sink. *status is the final HTTP status when STORAGE_OK is returned. */
static int
az_send(struct az *a, const char *method, const char *blob, const struct sign_kv *query,
    size_t nq, const struct sign_kv *hdrs, size_t nh, const char *body, size_t blen,
    int64_t max_bytes, struct az_xfer *x, long *status, char *err, size_t errsz)
{
	struct azure_sign_in in = { 0 };
	struct sign_headers sh = { 0 };
	const char *lines[SIGN_HEADERS_MAX + 8 + 3];
	char *owned[SIGN_HEADERS_MAX + 8];
	struct outbound_req q = { 0 };
	char *path, *url = NULL, oerr[256];
	size_t n = strlen(a->base) + strlen(a->container) + (blob ? strlen(blob) : 0) + 3;
	size_t nl = 0, no = 0;
	int rc;

	*status = 0;
	if (nh > 8)
		return storage_fail(STORAGE_FAILED, err, errsz, "Too many headers.");
	if ((path = malloc(n)) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	snprintf(path, n, "%s/%s%s%s", a->base, a->container, blob ? "/" : "", blob ? blob : "");
	in.method = method;
	in.account = a->account;
	in.key = a->key;
	in.path = path;
	in.query = query;
	in.nquery = nq;
	in.headers = hdrs;
	in.nheaders = nh;
	in.when = time(NULL);
	if (sign_azure_sharedkey(&in, &sh, oerr, sizeof(oerr)) != 0) {
		free(path);
		log_warn("azure: signing failed: %s", oerr);
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "Could not sign the request: check the account_key (base64).");
	}
	if ((url = sign_request_url(a->scheme, a->host, path, query, nq)) == NULL) {
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	for (size_t i = 0; i < sh.n + nh; i++) {
		const char *name = i < sh.n ? sh.h[i].name : hdrs[i - sh.n].name;
		const char *value = i < sh.n ? sh.h[i].value : hdrs[i - sh.n].value;
		size_t len = strlen(name) + strlen(value) + 3;

		/* curl sends Content-Length itself, from the body it is given. */
		if (strcasecmp(name, "Content-Length") == 0)
			continue;
		if ((owned[no] = malloc(len)) == NULL) {
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			goto out;
		}
		snprintf(owned[no], len, "%s: %s", name, value);
		lines[nl++] = owned[no++];
	}
	/* Nothing unsigned that Azure would sign: no Expect, no default Content-Type. */
	lines[nl++] = "Expect:";
	if (body == NULL)
		lines[nl++] = "Content-Type:";
	lines[nl] = NULL;

	q.method = method;
	q.url = url;
	q.headers = lines;
	q.body = body;
	q.body_len = blen;
	q.on_data = az_on_data;
	q.on_header = az_on_header;
	q.ctx = x;
	q.max_bytes = max_bytes;
	q.no_redirects = 1;
	rc = outbound_fetch(&q, status, oerr, sizeof(oerr));
	switch (rc) {
	case OUTBOUND_OK:
		rc = STORAGE_OK;
		break;
	case OUTBOUND_REFUSED:
		rc = storage_fail(STORAGE_REFUSED, err, errsz, "The Azure endpoint is not allowed: %s.",
		    oerr);
		break;
	case OUTBOUND_TIMEOUT:
		rc = storage_fail(STORAGE_TIMEOUT, err, errsz, "Azure did not answer in time: %s.", oerr);
		break;
	case OUTBOUND_ABORTED:
		rc = x->sink_stopped
		    ? storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.")
		    : storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		break;
	case OUTBOUND_TOO_BIG:
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Azure's answer is too large: %s.", oerr);
		break;
	default:
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Could not reach Azure at %s: %s.",
		    a->host, oerr);
		break;
	}
out:
	for (size_t i = 0; i < no; i++)
		free(owned[i]);
	free(url);
	free(path);
	sign_headers_release(&sh);
	return rc;
}

/* az_send with retries: every request here is idempotent (GET, PUT of a whole blob, DELETE), so
 * a failed connection or a 429/500/502/503/504 is sent again, re-signed, after a short pause, up
 * to AZ_TRIES times in all, unless bytes already went to the caller. */
static int
az_call(struct az *a, const char *method, const char *blob, const struct sign_kv *query,
    size_t nq, const struct sign_kv *hdrs, size_t nh, const char *body, size_t blen,
    int64_t max_bytes, struct az_xfer *x, long *status, char *err, size_t errsz)
{
	int rc = STORAGE_FAILED;

	for (int attempt = 0; attempt < AZ_TRIES; attempt++) {
		if (attempt > 0) {
			struct timespec ts = { 0, attempt * 300L * 1000000L };

			nanosleep(&ts, NULL);
			x->code[0] = '\0';
			x->seen_blob_type = 0;
			if (x->body != NULL)
				x->body->n = 0;
		}
		rc = az_send(a, method, blob, query, nq, hdrs, nh, body, blen, max_bytes, x, status,
		    err, errsz);
		if (x->delivered || x->sink_stopped)
			break;
		if (rc == STORAGE_FAILED)
			continue;       /* the connection failed */
		if (rc != STORAGE_OK || !(*status == 429 || *status == 500 || *status == 502 ||
		    *status == 503 || *status == 504))
			break;
		log_warn("azure %s: HTTP %ld, attempt %d of %d", method, *status, attempt + 1, AZ_TRIES);
	}
	return rc;
}

/* ---------------------------------------------------------------- list */

static const xmlNode *
az_child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

static int
az_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s in place (Azure's <Name Encoded="true">); 0, or -1 on a bad or NUL escape. */
static int
az_unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p == '%') {
			int h = az_hex(p[1]), l = h < 0 ? -1 : az_hex(p[2]);

			if (h < 0 || l < 0 || (h | l) == 0)
				return -1;
			*o++ = (char)(h * 16 + l);
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return 0;
}

/* Delivers the page's blobs; *marker gets NextMarker (malloc'd) when there is one. */
static int
az_parse_list(const struct az *a, const struct az_buf *b,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **marker,
    char *err, size_t errsz)
{
	xmlDoc *doc;
	const xmlNode *root, *blobs, *next;
	int rc = STORAGE_OK;
	char why[200];

	*marker = NULL;
	if (b->n == 0 || b->n > (size_t)AZ_LIST_MAX_BYTES)
		return storage_fail(STORAGE_FAILED, err, errsz, "Azure answered the listing unexpectedly.");
	/* No network, no entity substitution, no DTD loading: the text is taken as it is. */
	doc = xmlReadMemory(b->p, (int)b->n, "list.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || strcmp((const char *)root->name, "EnumerationResults") != 0) {
		log_warn("azure list %s: not an EnumerationResults document", a->endpoint);
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Azure answered the listing unexpectedly.");
		goto out;
	}
	blobs = az_child(root, "Blobs");
	for (const xmlNode *bl = blobs ? blobs->children : NULL; bl && rc == STORAGE_OK;
	    bl = bl->next) {
		const xmlNode *nm, *props, *v;
		struct storage_object o = { .size = -1 };
		xmlChar *name, *enc, *len = NULL, *lm = NULL, *etag = NULL;

		if (bl->type != XML_ELEMENT_NODE || strcmp((const char *)bl->name, "Blob") != 0)
			continue;       /* BlobPrefix: a folder of a non-recursive listing */
		if ((nm = az_child(bl, "Name")) == NULL ||
		    (name = xmlNodeGetContent(nm)) == NULL)
			continue;
		enc = xmlGetProp(nm, (const xmlChar *)"Encoded");
		if (enc != NULL && strcmp((const char *)enc, "true") == 0 &&
		    az_unescape((char *)name) != 0) {
			log_warn("azure list %s: a blob name with a bad escape skipped", a->endpoint);
			goto next;
		}
		if (!az_key_ok(a, (const char *)name, why, sizeof(why))) {
			log_info("azure list %s: blob \"%.200s\" skipped: %s", a->endpoint,
			    (const char *)name, why);
			goto next;
		}
		props = az_child(bl, "Properties");
		if ((v = az_child(props, "Content-Length")) != NULL &&
		    (len = xmlNodeGetContent(v)) != NULL) {
			char *end;
			long long n;

			errno = 0;
			n = strtoll((const char *)len, &end, 10);
			if (errno == 0 && *end == '\0' && end != (char *)len && n >= 0)
				o.size = n;
		}
		if ((v = az_child(props, "Last-Modified")) != NULL &&
		    (lm = xmlNodeGetContent(v)) != NULL) {
			time_t t = curl_getdate((const char *)lm, NULL);

			o.mtime = t > 0 ? (int64_t)t : 0;
		}
		if ((v = az_child(props, "Etag")) != NULL)
			etag = xmlNodeGetContent(v);
		o.key = (const char *)name;
		o.etag = etag && etag[0] ? (const char *)etag : NULL;
		if (on_object(ctx, &o) != 0)
			rc = storage_fail(STORAGE_ABORTED, err, errsz, "The listing was stopped.");
next:
		xmlFree(name);
		xmlFree(enc);
		xmlFree(len);
		xmlFree(lm);
		xmlFree(etag);
	}
	if (rc == STORAGE_OK && (next = az_child(root, "NextMarker")) != NULL) {
		xmlChar *m = xmlNodeGetContent(next);

		if (m != NULL && m[0] != '\0' && (*marker = strdup((const char *)m)) == NULL)
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		xmlFree(m);
	}
out:
	xmlFreeDoc(doc);
	return rc;
}

static int
az_list(struct storage *s, const char *prefix, int recursive, const char *cursor, size_t max,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	struct az *a = s->impl;
	struct az_buf b = { 0 };
	struct az_xfer x = { 0 };
	struct sign_kv q[6];
	char maxs[16], *full;
	size_t nq = 0, n;
	long status;
	int rc;

	*next_cursor = NULL;
	if (cursor != NULL && *cursor != '\0') {
		if (strlen(cursor) > AZ_CURSOR_MAX)
			return storage_fail(STORAGE_REFUSED, err, errsz, "The listing cursor is not valid.");
		for (const char *p = cursor; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return storage_fail(STORAGE_REFUSED, err, errsz,
				    "The listing cursor is not valid.");
	}
	n = a->plen + strlen(prefix) + 1;
	if (n > AZ_KEY_MAX + 1)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The prefix is too long.");
	if ((full = malloc(n)) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	snprintf(full, n, "%s%s", a->prefix, prefix);
	snprintf(maxs, sizeof(maxs), "%zu", max > AZ_MAX_RESULTS ? (size_t)AZ_MAX_RESULTS : max);
	q[nq++] = (struct sign_kv){ "restype", "container" };
	q[nq++] = (struct sign_kv){ "comp", "list" };
	if (full[0] != '\0')
		q[nq++] = (struct sign_kv){ "prefix", full };
	if (!recursive)
		q[nq++] = (struct sign_kv){ "delimiter", "/" };
	q[nq++] = (struct sign_kv){ "maxresults", maxs };
	if (cursor != NULL && *cursor != '\0')
		q[nq++] = (struct sign_kv){ "marker", cursor };
	x.body = &b;
	rc = az_call(a, "GET", NULL, q, nq, NULL, 0, NULL, 0, AZ_LIST_MAX_BYTES, &x, &status,
	    err, errsz);
	if (rc == STORAGE_OK)
		rc = az_status(a, "list", status, x.code, "container", err, errsz);
	if (rc == STORAGE_OK)
		rc = az_parse_list(a, &b, on_object, ctx, next_cursor, err, errsz);
	free(b.p);
	free(full);
	return rc;
}

/* ---------------------------------------------------------------- objects */

static int
az_get(struct storage *s, const char *key, int (*on_data)(void *ctx, const char *p, size_t n),
    void *ctx, char *err, size_t errsz)
{
	struct az *a = s->impl;
	struct az_xfer x = { .on_data = on_data, .ctx = ctx };
	long status;
	int rc;

	if (!az_key_ok(a, key, err, errsz))
		return STORAGE_REFUSED;
	rc = az_call(a, "GET", key, NULL, 0, NULL, 0, NULL, 0, AZ_GET_MAX_BYTES, &x, &status,
	    err, errsz);
	if (rc == STORAGE_OK)
		rc = az_status(a, "get", status, x.code, "blob", err, errsz);
	if (rc == STORAGE_OK && !x.seen_blob_type)
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Azure answered the read unexpectedly.");
	return rc;
}

static int
az_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz)
{
	struct az *a = s->impl;
	struct az_xfer x = { 0 };
	char lens[24];
	struct sign_kv h[3];
	long status;
	int rc;

	if (!az_key_ok(a, key, err, errsz))
		return STORAGE_REFUSED;
	if (content_type == NULL || *content_type == '\0')
		content_type = "application/octet-stream";
	if (strpbrk(content_type, "\r\n") != NULL || strlen(content_type) > 200)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The content type is not valid.");
	snprintf(lens, sizeof(lens), "%zu", len);
	h[0] = (struct sign_kv){ "Content-Length", lens };
	h[1] = (struct sign_kv){ "Content-Type", content_type };
	h[2] = (struct sign_kv){ "x-ms-blob-type", "BlockBlob" };
	rc = az_call(a, "PUT", key, NULL, 0, h, 3, data ? data : "", data ? len : 0,
	    AZ_SMALL_MAX_BYTES, &x, &status, err, errsz);
	if (rc == STORAGE_OK)
		rc = az_status(a, "put", status, x.code, "container", err, errsz);
	return rc;
}

static int
az_del(struct storage *s, const char *key, char *err, size_t errsz)
{
	struct az *a = s->impl;
	struct az_xfer x = { 0 };
	long status;
	int rc;

	if (!az_key_ok(a, key, err, errsz))
		return STORAGE_REFUSED;
	rc = az_call(a, "DELETE", key, NULL, 0, NULL, 0, NULL, 0, AZ_SMALL_MAX_BYTES, &x, &status,
	    err, errsz);
	if (rc == STORAGE_OK)
		rc = az_status(a, "delete", status, x.code, "blob", err, errsz);
	return rc;
}

static int
az_presign(struct storage *s, const char *key, int ttl, char **url, char *err, size_t errsz)
{
	struct az *a = s->impl;
	struct azure_sas_in in = { 0 };
	char serr[200];
	time_t now = time(NULL);

	*url = NULL;
	if (!az_key_ok(a, key, err, errsz))
		return STORAGE_REFUSED;
	if (ttl <= 0)
		ttl = a->ttl_min * 60;
	if (ttl > AZ_MAX_TTL)
		ttl = AZ_MAX_TTL;
	in.endpoint = a->endpoint;
	in.account = a->account;
	in.key = a->key;
	in.container = a->container;
	in.blob = key;
	in.permissions = "r";
	in.start = now - AZ_SKEW;
	in.expiry = now + ttl;
	in.protocol = strcmp(a->scheme, "https") == 0 ? "https" : NULL;
	if ((*url = sign_azure_sas(&in, serr, sizeof(serr))) == NULL) {
		log_warn("azure presign: %s", serr);
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "Could not sign the URL: check the account_key (base64).");
	}
	return STORAGE_OK;
}

const struct storage_ops storage_azure_ops = {
	.kind = "azure",
	.open = az_open,
	.list = az_list,
	.get = az_get,
	.put = az_put,
	.del = az_del,
	.presign = az_presign,
	.close = az_close,
};

int
storage_azure_parse_list(const char *prefix, const char *xml, size_t n,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **marker,
    char *err, size_t errsz)
{
	struct az a = { .endpoint = (char *)"(listing)", .prefix = (char *)prefix,
		.plen = strlen(prefix) };
	struct az_buf b = { .p = (char *)xml, .n = n, .cap = n };

	return az_parse_list(&a, &b, on_object, ctx, marker, err, errsz);
}
