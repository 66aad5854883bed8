/* gcs.c — the "gcs" connector (contract in storage.h and gcs.h): the Cloud Storage JSON API with
 * an OAuth bearer token obtained from the service account's key (RS256 JWT, sign.h), V4 signed
 * URLs for presign; every request through outbound_fetch.
 *
 * Token cache. A token is good for an hour and costs a round trip plus an RSA signature, so it is
 * kept per process (the app is prefork: one cache per worker, no locking) in a small table keyed
 * by the SHA-256 of the key JSON, and reused until GCS_TOKEN_SLACK seconds before it expires. A
 * 401 from the API drops the cached token and the request is retried once with a fresh one (a
 * token revoked or a clock that lied).
 *
 * Status before bytes. As in s3.c, outbound_fetch reports the status only when the fetch is over,
 * so get holds back the first GCS_HOLD bytes; an error document is far smaller.
 *
 * Retries. GET, a whole-object upload and DELETE are idempotent: a 429/500/502/503/504 or a failed
 * connection is retried twice with a short pause, unless bytes already went to the caller.
 *
 * Messages are ours; GCS's error JSON goes to the log only. */
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

#include "gcs.h"
#include "log.h"
#include "outbound.h"
#include "sign.h"
#include "storage.h"

#define GCS_HOLD 65536                  /* bytes held back by get until the status is known */
#define GCS_JSON_MAX (16 << 20)         /* a listing page of 1000 names is well under */
#define GCS_MAX_RESULTS 1000
#define GCS_TRIES 3
#define GCS_DEFAULT_ENDPOINT "https://storage.googleapis.com"
#define GCS_DEFAULT_PRESIGN_MIN 15
#define GCS_PRESIGN_MAX 604800          /* seconds: V4 signed URLs live at most 7 days */
#define GCS_SCOPE "https://www.googleapis.com/auth/devstorage.read_write"
#define GCS_TOKEN_SLACK 60              /* seconds before expiry a cached token is renewed */
#define GCS_TOKEN_CACHE 8

struct gcs {
	char *bucket;
	char *prefix;                   /* "" or "folder/" */
	size_t plen;
	char *sa_json;                  /* the key, as given */
	char *token_uri;                /* the key's token_uri */
	char sa_hash[65];               /* cache key */
	char *scheme;                   /* the JSON API endpoint: "https" / "http" */
	char *host;                     /* host[:port], port only when not the scheme's default */
	char *base;                     /* the endpoint's path, no trailing '/': "" usually */
	int presign_ttl;                /* seconds */
};

/* The per-process token cache (see the top of the file). */
static struct gcs_token {
	char hash[65];
	char *token;
	time_t expires;
} gcs_tokens[GCS_TOKEN_CACHE];

/* ---------------------------------------------------------------- config */

static void
gcs_free(struct gcs *g)
{
	if (g == NULL)
		return;
	free(g->bucket);
	free(g->prefix);
	if (g->sa_json != NULL) {
		memset(g->sa_json, 0, strlen(g->sa_json));
		free(g->sa_json);
	}
	free(g->token_uri);
	free(g->scheme);
	free(g->host);
	free(g->base);
	free(g);
}

/* GCS bucket names: 3..222 of a-z 0-9 - _ ., starting and ending with a letter or digit. */
static int
gcs_bucket_ok(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 222 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (; *b; b++)
		if (!(islower((unsigned char)*b) || isdigit((unsigned char)*b) || strchr("-_.", *b)))
			return 0;
	return 1;
}

/* Splits the endpoint into scheme, host[:port] and path base. */
static int
gcs_parse_endpoint(struct gcs *g, const char *endpoint, char *err, size_t errsz)
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
		storage_fail(rc, err, errsz, "The endpoint is not a valid URL.");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		storage_fail(rc, err, errsz, "The endpoint must be an http or https URL.");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		storage_fail(rc, err, errsz, "The endpoint must not carry a user name or a query.");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	if (port != NULL && ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
	    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))) {
		curl_free(port);
		port = NULL;
	}
	pl = strlen(path);
	while (pl > 0 && path[pl - 1] == '/')
		pl--;
	if ((g->scheme = strdup(scheme)) == NULL ||
	    asprintf(&g->host, "%s%s%s", host, port ? ":" : "", port ? port : "") < 0 ||
	    asprintf(&g->base, "%.*s", (int)pl, path) < 0) {
		g->host = NULL;
		g->base = NULL;
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
gcs_open(struct storage *s, struct json_object *config, char *err, size_t errsz)
{
	const char *bucket = storage_cfg_str(config, "bucket"), *prefix = storage_cfg_str(config, "prefix");
	const char *sa = storage_cfg_str(config, "google_application_credentials");
	const char *endpoint = storage_cfg_str(config, "endpoint");
	struct gcs *g = calloc(1, sizeof(*g));
	struct gcs_sa key;
	char serr[128];
	long ttl;
	int rc;

	if (g == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	rc = STORAGE_REFUSED;
	if (bucket == NULL || *bucket == '\0') {
		storage_fail(rc, err, errsz, "The bucket is required.");
		goto fail;
	}
	if (!gcs_bucket_ok(bucket)) {
		storage_fail(rc, err, errsz, "The bucket name is not valid.");
		goto fail;
	}
	if (sa == NULL || *sa == '\0') {
		storage_fail(rc, err, errsz, "The google_application_credentials (a service account "
		    "key, JSON) are required.");
		goto fail;
	}
	if (sign_gcs_sa_parse(sa, &key, serr, sizeof(serr)) != 0) {
		log_info("gcs bucket %s: the service account key does not parse: %s", bucket, serr);
		storage_fail(rc, err, errsz, "The google_application_credentials are not a service "
		    "account key (JSON with client_email and private_key).");
		goto fail;
	}
	g->token_uri = strdup(key.token_uri);
	sign_gcs_sa_release(&key);
	if (storage_cfg_int(config, "presign_ttl", GCS_DEFAULT_PRESIGN_MIN, 1, GCS_PRESIGN_MAX / 60,
	    &ttl) != 0) {
		storage_fail(rc, err, errsz, "The presign_ttl must be 1 to %d minutes.",
		    GCS_PRESIGN_MAX / 60);
		goto fail;
	}
	g->presign_ttl = (int)ttl * 60;
	if (prefix == NULL)
		prefix = "";
	while (*prefix == '/')
		prefix++;
	for (const char *p = prefix; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			storage_fail(rc, err, errsz, "The prefix is not valid.");
			goto fail;
		}
	if (g->token_uri == NULL || (g->bucket = strdup(bucket)) == NULL ||
	    (g->sa_json = strdup(sa)) == NULL) {
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto fail;
	}
	sign_sha256_hex(sa, strlen(sa), g->sa_hash);
	{
		size_t n = strlen(prefix);

		while (n > 0 && prefix[n - 1] == '/')
			n--;
		if (asprintf(&g->prefix, "%.*s%s", (int)n, prefix, n ? "/" : "") < 0) {
			g->prefix = NULL;
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			goto fail;
		}
		g->plen = strlen(g->prefix);
	}
	if ((rc = gcs_parse_endpoint(g, endpoint != NULL && *endpoint != '\0' ? endpoint :
	    GCS_DEFAULT_ENDPOINT, err, errsz)) != STORAGE_OK)
		goto fail;
	s->impl = g;
	return STORAGE_OK;
fail:
	gcs_free(g);
	return rc;
}

static void
gcs_close(struct storage *s)
{
	gcs_free(s->impl);
	s->impl = NULL;
}

/* ---------------------------------------------------------------- requests */

struct gcs_buf {
	char *p;
	size_t n, cap;
};

static int
gcs_buf_add(struct gcs_buf *b, const char *p, size_t n)
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
struct gcs_call {
	const char *method;
	const char *what;               /* for messages: "object", "listing", "upload" */
	char *url;                      /* owned */
	const char *content_type;       /* with a body */
	const char *body;
	size_t body_len;
	/* get: the caller's sink, fed through the hold-back buffer; NULL: collect into resp */
	int (*on_data)(void *ctx, const char *p, size_t n);
	void *ctx;
	int64_t max_bytes;

	/* Results. */
	struct gcs_buf resp;
	int streaming;                  /* bytes went to on_data */
	int sink_stopped;               /* on_data returned nonzero */
	int oom;
};

static int
gcs_call_data(void *ud, const char *p, size_t n)
{
	struct gcs_call *c = ud;

	if (c->streaming) {
		if (c->on_data(c->ctx, p, n) != 0) {
			c->sink_stopped = 1;
			return 1;
		}
		return 0;
	}
	if (gcs_buf_add(&c->resp, p, n) != 0) {
		c->oom = 1;
		return 1;
	}
	if (c->on_data != NULL && c->resp.n > GCS_HOLD) {
		c->streaming = 1;
		if (c->on_data(c->ctx, c->resp.p, c->resp.n) != 0)
			c->sink_stopped = 1;
		c->resp.n = 0;
		return c->sink_stopped;
	}
	return 0;
}

static void
gcs_call_release(struct gcs_call *c)
{
	free(c->resp.p);
	free(c->url);
	c->resp.p = NULL;
	c->url = NULL;
	c->resp.n = c->resp.cap = 0;
}

static int
gcs_collect(void *ud, const char *p, size_t n)
{
	return gcs_buf_add(ud, p, n) != 0;
}

/* The cache slot for g's key, or NULL. */
static struct gcs_token *
gcs_token_slot(const struct gcs *g)
{
	for (size_t i = 0; i < GCS_TOKEN_CACHE; i++)
		if (gcs_tokens[i].token != NULL && strcmp(gcs_tokens[i].hash, g->sa_hash) == 0)
			return &gcs_tokens[i];
	return NULL;
}

static void
gcs_token_drop(const struct gcs *g)
{
	struct gcs_token *t = gcs_token_slot(g);

	if (t != NULL) {
		free(t->token);
		memset(t, 0, sizeof(*t));
	}
}

/* A bearer token for g: the cached one, or a new one from the key's token_uri. *token points
 * into the cache (valid until the next gcs_token call). STORAGE_OK or an error with err set. */
static int
gcs_token(const struct gcs *g, const char **token, char *err, size_t errsz)
{
	static const char form_ct[] = "Content-Type: application/x-www-form-urlencoded";
	struct gcs_token *t = gcs_token_slot(g);
	struct outbound_req q = { 0 };
	struct gcs_buf resp = { 0 };
	struct json_object *o = NULL, *v;
	const char *hdrs[] = { form_ct, "Accept: application/json", NULL };
	const char *tok;
	char serr[128], oerr[256];
	char *jwt = NULL, *enc = NULL, *body = NULL;
	time_t now = time(NULL);
	int64_t expires_in = 3600;
	long status = 0;
	int orc, rc;

	*token = NULL;
	if (t != NULL && t->expires > now + GCS_TOKEN_SLACK) {
		*token = t->token;
		return STORAGE_OK;
	}
	if ((jwt = sign_gcs_jwt(g->sa_json, GCS_SCOPE, now, serr, sizeof(serr))) == NULL) {
		log_warn("gcs bucket %s: could not sign the token request: %s", g->bucket, serr);
		return storage_fail(STORAGE_REFUSED, err, errsz, "The service account key in "
		    "google_application_credentials cannot sign (is private_key an RSA key?).");
	}
	if ((enc = sign_uri_encode(jwt, 0)) == NULL ||
	    asprintf(&body, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
	    "&assertion=%s", enc) < 0) {
		body = NULL;
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	q.method = "POST";
	q.url = g->token_uri;
	q.headers = hdrs;
	q.body = body;
	q.body_len = strlen(body);
	q.on_data = gcs_collect;
	q.ctx = &resp;
	q.max_bytes = 1 << 20;
	q.no_redirects = 1;
	orc = OUTBOUND_FAILED;
	for (int attempt = 0; attempt < GCS_TRIES; attempt++) {
		if (attempt > 0) {
			struct timespec ts = { 0, attempt * 300L * 1000000L };

			nanosleep(&ts, NULL);
		}
		resp.n = 0;
		orc = outbound_fetch(&q, &status, oerr, sizeof(oerr));
		if (orc != OUTBOUND_FAILED && !(orc == OUTBOUND_OK && status >= 500))
			break;
	}
	if (orc == OUTBOUND_REFUSED) {
		rc = storage_fail(STORAGE_REFUSED, err, errsz, "The service account's token_uri is not "
		    "allowed: %s", oerr);
		goto out;
	}
	if (orc == OUTBOUND_TIMEOUT) {
		rc = storage_fail(STORAGE_TIMEOUT, err, errsz, "The Google token endpoint did not answer "
		    "in time.");
		goto out;
	}
	if (orc != OUTBOUND_OK) {
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Could not reach the Google token "
		    "endpoint.");
		goto out;
	}
	if (status == 400 || status == 401 || status == 403) {
		log_warn("gcs bucket %s: the token endpoint answered %ld: %.200s", g->bucket, status,
		    resp.p ? resp.p : "");
		rc = storage_fail(STORAGE_AUTH, err, errsz, "Google refused the service account key in "
		    "google_application_credentials.");
		goto out;
	}
	if (status != 200) {
		log_warn("gcs bucket %s: the token endpoint answered %ld", g->bucket, status);
		rc = storage_fail(STORAGE_FAILED, err, errsz, "The Google token endpoint failed (HTTP "
		    "%ld).", status);
		goto out;
	}
	o = resp.p != NULL ? json_tokener_parse(resp.p) : NULL;
	tok = storage_cfg_str(o, "access_token");
	if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL) {
		log_warn("gcs bucket %s: the token endpoint's answer has no access_token", g->bucket);
		rc = storage_fail(STORAGE_FAILED, err, errsz, "The Google token endpoint answered "
		    "without a token.");
		goto out;
	}
	if (o != NULL && json_object_object_get_ex(o, "expires_in", &v) &&
	    json_object_is_type(v, json_type_int))
		expires_in = json_object_get_int64(v);
	if (expires_in < 1 || expires_in > 86400)
		expires_in = 3600;
	if (t == NULL) {
		/* A free slot, or the one closest to expiry. */
		t = &gcs_tokens[0];
		for (size_t i = 0; i < GCS_TOKEN_CACHE; i++) {
			if (gcs_tokens[i].token == NULL) {
				t = &gcs_tokens[i];
				break;
			}
			if (gcs_tokens[i].expires < t->expires)
				t = &gcs_tokens[i];
		}
	}
	free(t->token);
	memset(t, 0, sizeof(*t));
	if ((t->token = strdup(tok)) == NULL) {
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	memcpy(t->hash, g->sa_hash, sizeof(t->hash));
	t->expires = now + (time_t)expires_in;
	*token = t->token;
	rc = STORAGE_OK;
out:
	json_object_put(o);
	free(resp.p);
	free(jwt);
	free(enc);
	free(body);
	return rc;
}

/* Sends c once with the bearer token. OUTBOUND_* result; *status set on OUTBOUND_OK. */
static int
gcs_send(struct gcs_call *c, const char *token, long *status, char *err, size_t errsz)
{
	struct outbound_req q = { 0 };
	char *auth = NULL, *ct = NULL;
	const char *hdrs[4];
	size_t nh = 0;
	int rc;

	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
		c->oom = 1;
		return OUTBOUND_FAILED;
	}
	hdrs[nh++] = auth;
	if (c->content_type != NULL) {
		if (asprintf(&ct, "Content-Type: %s", c->content_type) < 0) {
			free(auth);
			c->oom = 1;
			return OUTBOUND_FAILED;
		}
		hdrs[nh++] = ct;
	}
	hdrs[nh] = NULL;
	q.method = c->method;
	q.url = c->url;
	q.headers = hdrs;
	q.body = c->body;
	q.body_len = c->body_len;
	q.on_data = gcs_call_data;
	q.ctx = c;
	q.max_bytes = c->max_bytes;
	q.no_redirects = 1;
	rc = outbound_fetch(&q, status, err, errsz);
	free(auth);
	free(ct);
	return rc;
}

/* Our words for a non-2xx answer. A 404 on a listing is the bucket's. */
static int
gcs_status_fail(const struct gcs *g, const struct gcs_call *c, long status, char *err,
    size_t errsz)
{
	log_warn("gcs %s bucket %s: %s %s answered %ld: %.300s", g->host, g->bucket, c->method,
	    c->what, status, c->resp.p ? c->resp.p : "");
	if (status == 404 && strcmp(c->what, "object") != 0)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The bucket %.100s does not exist.",
		    g->bucket);
	if (status == 404)
		return storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such object in the bucket.");
	if (status == 401 || status == 403)
		return storage_fail(STORAGE_AUTH, err, errsz, "Google Cloud Storage denied access to the "
		    "bucket %.100s: check the service account in google_application_credentials "
		    "and its permissions.", g->bucket);
	if (status >= 300 && status < 400)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The bucket is not served at this "
		    "address: check the endpoint.");
	if (status >= 400 && status < 500 && status != 429)
		return storage_fail(STORAGE_REFUSED, err, errsz, "Google Cloud Storage refused the "
		    "request (HTTP %ld).", status);
	return storage_fail(STORAGE_FAILED, err, errsz, "Google Cloud Storage failed to answer "
	    "(HTTP %ld).", status);
}

/* Runs c with retries; STORAGE_OK when GCS answered 2xx (then c->resp holds the body, or it
 * went to c->on_data). */
static int
gcs_run(const struct gcs *g, struct gcs_call *c, char *err, size_t errsz)
{
	char oerr[256] = "";
	long status = 0;
	int rc = STORAGE_FAILED, renewed = 0;

	for (int attempt = 0; attempt < GCS_TRIES; attempt++) {
		const char *token;
		int orc;

		if (attempt > 0) {
			struct timespec ts = { 0, attempt * 300L * 1000000L };

			nanosleep(&ts, NULL);
		}
		if ((rc = gcs_token(g, &token, err, errsz)) != STORAGE_OK)
			break;
		c->resp.n = 0;
		if (c->resp.p != NULL)
			c->resp.p[0] = '\0';
		orc = gcs_send(c, token, &status, oerr, sizeof(oerr));
		if (c->oom) {
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			break;
		}
		if (c->sink_stopped) {
			rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
			break;
		}
		if (orc == OUTBOUND_REFUSED) {
			rc = storage_fail(STORAGE_REFUSED, err, errsz, "The GCS endpoint is not allowed: %s",
			    oerr);
			break;
		}
		if (orc == OUTBOUND_TIMEOUT) {
			rc = storage_fail(STORAGE_TIMEOUT, err, errsz, "Google Cloud Storage at %.200s did "
			    "not answer in time.", g->host);
			break;
		}
		if (orc == OUTBOUND_TOO_BIG) {
			rc = storage_fail(STORAGE_FAILED, err, errsz, "The GCS answer is too large: %s",
			    oerr);
			break;
		}
		if (orc != OUTBOUND_OK) {
			rc = storage_fail(STORAGE_FAILED, err, errsz, "Could not reach Google Cloud Storage "
			    "at %.200s.", g->host);
			if (c->streaming)
				break;
			continue;
		}
		if (status >= 200 && status < 300) {
			rc = STORAGE_OK;
			break;
		}
		rc = gcs_status_fail(g, c, status, err, errsz);
		if (status == 401 && !renewed && !c->streaming) {
			/* The cached token went bad: one more try with a new one. */
			gcs_token_drop(g);
			renewed = 1;
			attempt--;
			continue;
		}
		if (c->streaming || !(status == 429 || status == 500 || status == 502 ||
		    status == 503 || status == 504))
			break;
	}
	return rc;
}

/* The key must be a plain name inside the prefix: no "." / ".." segment, no control
 * characters. */
static int
gcs_key_ok(const struct gcs *g, const char *key, char *err, size_t errsz)
{
	const char *p;

	if (key == NULL || *key == '\0')
		return storage_fail(0, err, errsz, "The key is empty.");
	if (strncmp(key, g->prefix, g->plen) != 0 || key[g->plen] == '\0')
		return storage_fail(0, err, errsz, "The key is outside this storage's prefix.");
	if (strlen(key) > 1024)
		return storage_fail(0, err, errsz, "The key is too long.");
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

/* scheme://host + base + api + "/b/" + bucket + "/o" [+ "/" + name] + query, the name fully
 * encoded ('/' too: the JSON API wants one path segment). query is "" or "?...". malloc'd. */
static char *
gcs_url(const struct gcs *g, const char *api, const char *name, const char *query)
{
	char *eb = sign_uri_encode(g->bucket, 0), *en = name ? sign_uri_encode(name, 0) : NULL;
	char *u = NULL;

	if (eb != NULL && (name == NULL || en != NULL) &&
	    asprintf(&u, "%s://%s%s%s/b/%s/o%s%s%s", g->scheme, g->host, g->base, api, eb,
	    name ? "/" : "", name ? en : "", query) < 0)
		u = NULL;
	free(eb);
	free(en);
	return u;
}

/* "&name=value" (value encoded) appended to *q; -1 out of memory. */
static int
gcs_qadd(char **q, const char *name, const char *value)
{
	char *ev = sign_uri_encode(value, 0), *n = NULL;

	if (ev == NULL || asprintf(&n, "%s%c%s=%s", *q, **q ? '&' : '?', name, ev) < 0) {
		free(ev);
		return -1;
	}
	free(ev);
	free(*q);
	*q = n;
	return 0;
}

/* ---------------------------------------------------------------- operations */

/* RFC 3339 "2024-03-01T12:34:56.789Z" -> seconds; 0 when unreadable. */
static int64_t
gcs_time(const char *s)
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

static int
gcs_list(struct storage *s, const char *prefix, int recursive, const char *cursor, size_t max,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	struct gcs *g = s->impl;
	struct gcs_call c = { 0 };
	struct json_object *doc = NULL, *items, *v;
	char maxr[24], *full = NULL, *q = NULL;
	const char *tok;
	size_t fl;
	int rc;

	*next_cursor = NULL;
	if (max == 0 || max > GCS_MAX_RESULTS)
		max = GCS_MAX_RESULTS;
	snprintf(maxr, sizeof(maxr), "%zu", max);
	if (asprintf(&full, "%s%s", g->prefix, prefix ? prefix : "") < 0)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	fl = strlen(full);
	if ((q = strdup("")) == NULL || (fl > 0 && gcs_qadd(&q, "prefix", full) != 0) ||
	    (!recursive && gcs_qadd(&q, "delimiter", "/") != 0) ||
	    gcs_qadd(&q, "maxResults", maxr) != 0 ||
	    gcs_qadd(&q, "fields", "items(name,size,updated,etag),prefixes,nextPageToken") != 0 ||
	    (cursor != NULL && *cursor != '\0' && gcs_qadd(&q, "pageToken", cursor) != 0) ||
	    (c.url = gcs_url(g, "/storage/v1", NULL, q)) == NULL) {
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	c.method = "GET";
	c.what = "listing";
	c.max_bytes = GCS_JSON_MAX;
	if ((rc = gcs_run(g, &c, err, errsz)) != STORAGE_OK)
		goto out;
	doc = c.resp.p != NULL ? json_tokener_parse(c.resp.p) : NULL;
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		log_warn("gcs %s bucket %s: the listing is not a JSON object", g->host, g->bucket);
		rc = storage_fail(STORAGE_FAILED, err, errsz, "Google Cloud Storage answered the listing "
		    "with something else than a listing.");
		goto out;
	}
	if (json_object_object_get_ex(doc, "items", &items) &&
	    json_object_is_type(items, json_type_array)) {
		size_t n = json_object_array_length(items);

		for (size_t i = 0; i < n && rc == STORAGE_OK; i++) {
			struct json_object *it = json_object_array_get_idx(items, i);
			struct storage_object o = { .size = -1 };
			const char *name = storage_cfg_str(it, "name"), *size;
			size_t nl = name ? strlen(name) : 0;

			if (nl == 0 || name[nl - 1] == '/' || strncmp(name, full, fl) != 0)
				continue;
			size = storage_cfg_str(it, "size");     /* a string in the JSON API */
			o.key = name;
			if (size != NULL)
				o.size = strtoll(size, NULL, 10);
			else if (json_object_object_get_ex(it, "size", &v) &&
			    json_object_is_type(v, json_type_int))
				o.size = json_object_get_int64(v);
			o.mtime = gcs_time(storage_cfg_str(it, "updated"));
			o.etag = storage_cfg_str(it, "etag");
			if (on_object(ctx, &o) != 0)
				rc = storage_fail(STORAGE_ABORTED, err, errsz, "The listing was stopped.");
		}
	}
	if (rc != STORAGE_OK)
		goto out;
	tok = storage_cfg_str(doc, "nextPageToken");
	if (tok != NULL && *tok != '\0' && (*next_cursor = strdup(tok)) == NULL)
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
out:
	json_object_put(doc);
	gcs_call_release(&c);
	free(full);
	free(q);
	return rc;
}

static int
gcs_get(struct storage *s, const char *key, int (*on_data)(void *ctx, const char *p, size_t n),
    void *ctx, char *err, size_t errsz)
{
	struct gcs *g = s->impl;
	struct gcs_call c = { 0 };
	int rc;

	if (!gcs_key_ok(g, key, err, errsz))
		return STORAGE_REFUSED;
	if ((c.url = gcs_url(g, "/storage/v1", key, "?alt=media")) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	c.method = "GET";
	c.what = "object";
	c.on_data = on_data;
	c.ctx = ctx;
	rc = gcs_run(g, &c, err, errsz);
	if (rc == STORAGE_OK && !c.streaming && c.resp.n > 0 && on_data(ctx, c.resp.p, c.resp.n) != 0)
		rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
	gcs_call_release(&c);
	return rc;
}

static int
gcs_put(struct storage *s, const char *key, const char *data, size_t len,
    const char *content_type, char *err, size_t errsz)
{
	struct gcs *g = s->impl;
	struct gcs_call c = { 0 };
	char *q = NULL;
	int rc;

	if (!gcs_key_ok(g, key, err, errsz))
		return STORAGE_REFUSED;
	if (content_type == NULL || *content_type == '\0')
		content_type = "application/octet-stream";
	if (strpbrk(content_type, "\r\n") != NULL)
		return storage_fail(STORAGE_REFUSED, err, errsz, "The content type is not valid.");
	if ((q = strdup("")) == NULL || gcs_qadd(&q, "uploadType", "media") != 0 ||
	    gcs_qadd(&q, "name", key) != 0 ||
	    (c.url = gcs_url(g, "/upload/storage/v1", NULL, q)) == NULL) {
		free(q);
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	}
	free(q);
	c.method = "POST";
	c.what = "upload";
	c.content_type = content_type;
	c.body = data ? data : "";
	c.body_len = data ? len : 0;
	c.max_bytes = GCS_JSON_MAX;
	rc = gcs_run(g, &c, err, errsz);
	gcs_call_release(&c);
	return rc;
}

static int
gcs_del(struct storage *s, const char *key, char *err, size_t errsz)
{
	struct gcs *g = s->impl;
	struct gcs_call c = { 0 };
	int rc;

	if (!gcs_key_ok(g, key, err, errsz))
		return STORAGE_REFUSED;
	if ((c.url = gcs_url(g, "/storage/v1", key, "")) == NULL)
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	c.method = "DELETE";
	c.what = "object";
	c.max_bytes = GCS_JSON_MAX;
	rc = gcs_run(g, &c, err, errsz);
	gcs_call_release(&c);
	return rc;
}

/* A V4 signed URL on the endpoint's scheme and host, path-style (/bucket/object): the endpoint's
 * path, if any, is not part of it. Made locally; no request. */
static int
gcs_presign(struct storage *s, const char *key, int ttl, char **url, char *err, size_t errsz)
{
	struct gcs *g = s->impl;
	struct gcs_url_in in = { 0 };
	char serr[128];

	*url = NULL;
	if (!gcs_key_ok(g, key, err, errsz))
		return STORAGE_REFUSED;
	if (ttl <= 0)
		ttl = g->presign_ttl;
	if (ttl > GCS_PRESIGN_MAX)
		ttl = GCS_PRESIGN_MAX;
	in.sa_json = g->sa_json;
	in.scheme = g->scheme;
	in.host = g->host;
	in.bucket = g->bucket;
	in.object = key;
	in.when = time(NULL);
	in.expires = ttl;
	if ((*url = sign_gcs_url(&in, serr, sizeof(serr))) == NULL) {
		log_warn("gcs bucket %s: presigning failed: %s", g->bucket, serr);
		return storage_fail(STORAGE_FAILED, err, errsz, "Could not make a signed URL.");
	}
	return STORAGE_OK;
}

const struct storage_ops storage_gcs_ops = {
	.kind = "gcs",
	.open = gcs_open,
	.list = gcs_list,
	.get = gcs_get,
	.put = gcs_put,
	.del = gcs_del,
	.presign = gcs_presign,
	.close = gcs_close,
};
