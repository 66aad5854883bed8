/* sign.c — AWS SigV4, Azure SharedKey/SAS and GCS RS256/V4 signing over OpenSSL's libcrypto.
 *
 * SigV4 and GOOG4 share one canonical-request builder: the two formats are the same up to the
 * string-to-sign (HMAC chain for AWS, RSA-SHA256 for Google). Strings are built in a small
 * growable buffer whose allocation failure is sticky, so the builders check once at the end. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "jwt.h"
#include "sign.h"

/* ---- growable string ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
sb_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static int
unreserved(unsigned char c)
{
	/* ASCII only, whatever the locale says isalnum() means */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

static void
sb_enc(struct sbuf *b, const char *s, int keep_slash)
{
	static const char hexu[] = "0123456789ABCDEF";
	const unsigned char *u;

	for (u = (const unsigned char *)s; *u; u++) {
		if (unreserved(*u) || (keep_slash && *u == '/')) {
			sb_addc(b, (char)*u);
		} else {
			char e[3] = { '%', hexu[*u >> 4], hexu[*u & 15] };

			sb_add(b, e, 3);
		}
	}
}

static void
sb_release(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The string, owned by the caller, or NULL (and freed) if an append failed. */
static char *
sb_detach(struct sbuf *b)
{
	char *p;

	if (b->p == NULL)
		sb_add(b, "", 0);
	if (b->oom) {
		sb_release(b);
		return NULL;
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

static void
seterr(char *err, size_t errsz, const char *msg)
{
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "%s", msg);
}

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* ---- exported helpers ---- */

const char *
sign_headers_get(const struct sign_headers *sh, const char *name)
{
	size_t i;

	for (i = 0; i < sh->n; i++)
		if (strcasecmp(sh->h[i].name, name) == 0)
			return sh->h[i].value;
	return NULL;
}

void
sign_headers_release(struct sign_headers *sh)
{
	size_t i;

	for (i = 0; i < sh->n && i < SIGN_HEADERS_MAX; i++)
		free(sh->h[i].value);
	memset(sh, 0, sizeof(*sh));
}

/* Appends a header whose value is copied; -1 when out of memory. */
static int
headers_add(struct sign_headers *sh, const char *name, const char *value)
{
	char *v;

	if (sh->n >= SIGN_HEADERS_MAX || (v = strdup(value)) == NULL)
		return -1;
	sh->h[sh->n].name = name;
	sh->h[sh->n].value = v;
	sh->n++;
	return 0;
}

char *
sign_uri_encode(const char *s, int keep_slash)
{
	struct sbuf b = { 0 };

	sb_enc(&b, s, keep_slash);
	return sb_detach(&b);
}

static void
sb_url(struct sbuf *b, const char *scheme, const char *host, const char *path)
{
	sb_adds(b, scheme);
	sb_adds(b, "://");
	sb_adds(b, host);
	if (empty(path))
		sb_addc(b, '/');
	else
		sb_enc(b, path, 1);
}

char *
sign_request_url(const char *scheme, const char *host, const char *path,
    const struct sign_kv *query, size_t nquery)
{
	struct sbuf b = { 0 };
	size_t i;

	sb_url(&b, scheme, host, path);
	for (i = 0; i < nquery; i++) {
		sb_addc(&b, i == 0 ? '?' : '&');
		sb_enc(&b, query[i].name, 0);
		if (query[i].value != NULL) {
			sb_addc(&b, '=');
			sb_enc(&b, query[i].value, 0);
		}
	}
	return sb_detach(&b);
}

void
sign_hex(const void *in, size_t n, char *out)
{
	static const char hexl[] = "0123456789abcdef";
	const unsigned char *u = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexl[u[i] >> 4];
		out[2 * i + 1] = hexl[u[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sign_sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, n, md);
	sign_hex(md, sizeof(md), out);
}

int
sign_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, unsigned char mac[32])
{
	unsigned int len = 0;

	if (keylen > INT32_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, n, mac, &len) == NULL || len != 32)
		return -1;
	return 0;
}

/* ---- time formats (UTC; gmtime is banned, gmtime_r is not) ---- */

static int
utc(time_t t, struct tm *tm)
{
	return gmtime_r(&t, tm) == NULL ? -1 : 0;
}

/* Copies a formatted date of exactly size-1 characters into out. */
static int
fit(char *out, size_t size, int n, const char *tmp)
{
	if (n < 0 || (size_t)n != size - 1)
		return -1;
	memcpy(out, tmp, size);
	return 0;
}

/* 20240301T123456Z */
static int
fmt_amz(time_t t, char out[17])
{
	struct tm tm;
	char tmp[64];

	if (utc(t, &tm) != 0 || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
		return -1;
	return fit(out, 17, snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec), tmp);
}

/* 2024-03-01T12:34:56Z */
static int
fmt_iso(time_t t, char out[21])
{
	struct tm tm;
	char tmp[64];

	if (utc(t, &tm) != 0 || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
		return -1;
	return fit(out, 21, snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec), tmp);
}

/* Fri, 01 Mar 2024 12:34:56 GMT — English names whatever the locale, as HTTP requires. */
static int
fmt_http(time_t t, char out[30])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mons[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	char tmp[64];

	if (utc(t, &tm) != 0 || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
		return -1;
	return fit(out, 30, snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec), tmp);
}

/* ---- canonical request (SigV4 and GOOG4) ---- */

struct pair {
	char *a, *b;
	size_t seq; /* input order, to keep repeated headers stable */
};

static void
pairs_free(struct pair *p, size_t n)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(p[i].a);
		free(p[i].b);
	}
	free(p);
}

static int
pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	int c = strcmp(p->a, q->a);

	if (c == 0)
		c = strcmp(p->b, q->b);
	return c;
}

static int
pair_cmp_seq(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	int c = strcmp(p->a, q->a);

	if (c == 0)
		c = p->seq < q->seq ? -1 : p->seq > q->seq;
	return c;
}

/* Lower-cased name, trimmed. */
static char *
lower_trim(const char *s)
{
	size_t n;
	char *r;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = (char)tolower((unsigned char)s[i]);
	r[n] = '\0';
	return r;
}

/* SigV4 Trimall: no leading/trailing white space, inner runs collapsed to one space. */
static char *
trimall(const char *s)
{
	char *r = malloc(strlen(s) + 1), *w = r;
	int space = 0;

	if (r == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = 1;
			continue;
		}
		if (space && w != r)
			*w++ = ' ';
		space = 0;
		*w++ = *s;
	}
	*w = '\0';
	return r;
}

/* Builds method\nuri\nquery\nheaders\n\nsigned\npayload into cr and the signed-header list into
 * sh; the canonical query alone also goes to cq when it is not NULL. 0, or -1 when out of
 * memory. */
static int
canon_request(struct sbuf *cr, struct sbuf *sh, struct sbuf *cq, const char *method,
    const char *path, const struct sign_kv *q, size_t nq, const struct sign_kv *h, size_t nh,
    const char *payload)
{
	struct pair *qp = NULL, *hp = NULL;
	struct sbuf qs = { 0 };
	size_t i;
	int rc = -1;

	if ((nq && (qp = calloc(nq, sizeof(*qp))) == NULL) ||
	    (nh && (hp = calloc(nh, sizeof(*hp))) == NULL))
		goto out;
	for (i = 0; i < nq; i++) {
		qp[i].a = sign_uri_encode(q[i].name, 0);
		qp[i].b = sign_uri_encode(q[i].value ? q[i].value : "", 0);
		if (qp[i].a == NULL || qp[i].b == NULL)
			goto out;
	}
	if (nq)
		qsort(qp, nq, sizeof(*qp), pair_cmp);
	for (i = 0; i < nq; i++) {
		if (i)
			sb_addc(&qs, '&');
		sb_adds(&qs, qp[i].a);
		sb_addc(&qs, '=');
		sb_adds(&qs, qp[i].b);
	}
	for (i = 0; i < nh; i++) {
		hp[i].a = lower_trim(h[i].name);
		hp[i].b = trimall(h[i].value ? h[i].value : "");
		hp[i].seq = i;
		if (hp[i].a == NULL || hp[i].b == NULL)
			goto out;
	}
	if (nh)
		qsort(hp, nh, sizeof(*hp), pair_cmp_seq);

	sb_adds(cr, method);
	sb_addc(cr, '\n');
	if (empty(path))
		sb_addc(cr, '/');
	else
		sb_enc(cr, path, 1);
	sb_addc(cr, '\n');
	if (qs.p != NULL)
		sb_adds(cr, qs.p);
	sb_addc(cr, '\n');
	for (i = 0; i < nh; i++) {
		/* A repeated header signs once, its values joined with ',' in the order sent. */
		if (i > 0 && strcmp(hp[i].a, hp[i - 1].a) == 0) {
			sb_addc(cr, ',');
			sb_adds(cr, hp[i].b);
			continue;
		}
		if (i > 0) {
			sb_addc(cr, '\n');
			sb_addc(sh, ';');
		}
		sb_adds(cr, hp[i].a);
		sb_addc(cr, ':');
		sb_adds(cr, hp[i].b);
		sb_adds(sh, hp[i].a);
	}
	sb_adds(cr, "\n\n");
	sb_add(cr, sh->p ? sh->p : "", sh->len);
	sb_addc(cr, '\n');
	sb_adds(cr, payload);
	if (cq != NULL)
		sb_add(cq, qs.p ? qs.p : "", qs.len);
	rc = (cr->oom || sh->oom || qs.oom || (cq && cq->oom)) ? -1 : 0;
out:
	pairs_free(qp, nq);
	pairs_free(hp, nh);
	sb_release(&qs);
	return rc;
}

/* ---- AWS Signature V4 ---- */

static int
s3_check(const struct s3_sign_in *in, char *err, size_t errsz)
{
	if (in == NULL || empty(in->method) || empty(in->host) || empty(in->region) ||
	    empty(in->access_key) || empty(in->secret_key)) {
		seterr(err, errsz, "s3 signing needs method, host, region and both keys");
		return -1;
	}
	if (in->path != NULL && in->path[0] != '\0' && in->path[0] != '/') {
		seterr(err, errsz, "s3 path must start with '/'");
		return -1;
	}
	return 0;
}

/* The SigV4 HMAC chain: kDate, kRegion, kService, kSigning, then the signature in hex. */
static int
s3_signature(const char *secret, const char *date8, const char *region, const char *service,
    const char *sts, char out[65])
{
	struct sbuf k = { 0 };
	unsigned char a[32], b[32];
	int rc = -1;

	sb_adds(&k, "AWS4");
	sb_adds(&k, secret);
	if (k.oom)
		goto out;
	if (sign_hmac_sha256(k.p, k.len, date8, strlen(date8), a) != 0 ||
	    sign_hmac_sha256(a, 32, region, strlen(region), b) != 0 ||
	    sign_hmac_sha256(b, 32, service, strlen(service), a) != 0 ||
	    sign_hmac_sha256(a, 32, "aws4_request", 12, b) != 0 ||
	    sign_hmac_sha256(b, 32, sts, strlen(sts), a) != 0)
		goto out;
	sign_hex(a, 32, out);
	rc = 0;
out:
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	if (k.p != NULL)
		OPENSSL_cleanse(k.p, k.len);
	sb_release(&k);
	return rc;
}

/* "AWS4-HMAC-SHA256\n<ts>\n<scope>\n<hex sha256(cr)>" */
static void
sb_sts(struct sbuf *sts, const char *algo, const char *ts, const char *scope,
    const struct sbuf *cr)
{
	char hash[65];

	sign_sha256_hex(cr->p, cr->len, hash);
	sb_adds(sts, algo);
	sb_addc(sts, '\n');
	sb_adds(sts, ts);
	sb_addc(sts, '\n');
	sb_adds(sts, scope);
	sb_addc(sts, '\n');
	sb_adds(sts, hash);
}

static const char *const s3_reserved[] = {
	"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization",
};

int
sign_s3_headers(const struct s3_sign_in *in, struct sign_headers *out, char *err, size_t errsz)
{
	const char *service, *payload;
	struct sign_kv *h = NULL;
	struct sbuf cr = { 0 }, sh = { 0 }, scope = { 0 }, sts = { 0 }, auth = { 0 };
	char ts[17], date8[9], sig[65];
	size_t n = 0, i, j;
	int tok, rc = -1;

	memset(out, 0, sizeof(*out));
	if (s3_check(in, err, errsz) != 0)
		return -1;
	for (i = 0; i < in->nheaders; i++) {
		if (empty(in->headers[i].name)) {
			seterr(err, errsz, "s3 header without a name");
			return -1;
		}
		for (j = 0; j < sizeof(s3_reserved) / sizeof(s3_reserved[0]); j++)
			if (strcasecmp(in->headers[i].name, s3_reserved[j]) == 0) {
				seterr(err, errsz, "s3 extra headers may not set the signer's own");
				return -1;
			}
	}
	if (fmt_amz(in->when, ts) != 0) {
		seterr(err, errsz, "signing time out of range");
		return -1;
	}
	service = empty(in->service) ? "s3" : in->service;
	payload = empty(in->payload_hash) ? SIGN_EMPTY_SHA256 : in->payload_hash;
	tok = !empty(in->session_token);

	if ((h = calloc(in->nheaders + 4, sizeof(*h))) == NULL)
		goto oom;
	h[n++] = (struct sign_kv){ "host", in->host };
	h[n++] = (struct sign_kv){ "x-amz-content-sha256", payload };
	h[n++] = (struct sign_kv){ "x-amz-date", ts };
	if (tok)
		h[n++] = (struct sign_kv){ "x-amz-security-token", in->session_token };
	for (i = 0; i < in->nheaders; i++)
		h[n++] = in->headers[i];
	if (canon_request(&cr, &sh, NULL, in->method, in->path, in->query, in->nquery, h, n,
	        payload) != 0)
		goto oom;

	sb_add(&scope, ts, 8);
	sb_addc(&scope, '/');
	sb_adds(&scope, in->region);
	sb_addc(&scope, '/');
	sb_adds(&scope, service);
	sb_adds(&scope, "/aws4_request");
	sb_sts(&sts, "AWS4-HMAC-SHA256", ts, scope.p ? scope.p : "", &cr);
	if (scope.oom || sts.oom)
		goto oom;
	memcpy(date8, ts, 8);
	date8[8] = '\0';
	if (s3_signature(in->secret_key, date8, in->region, service, sts.p, sig) != 0) {
		seterr(err, errsz, "HMAC-SHA-256 failed");
		goto out;
	}

	/* botocore's layout; AWS accepts the separators with or without the space. */
	sb_adds(&auth, "AWS4-HMAC-SHA256 Credential=");
	sb_adds(&auth, in->access_key);
	sb_addc(&auth, '/');
	sb_adds(&auth, scope.p);
	sb_adds(&auth, ", SignedHeaders=");
	sb_adds(&auth, sh.p);
	sb_adds(&auth, ", Signature=");
	sb_adds(&auth, sig);
	if (auth.oom || headers_add(out, "Authorization", auth.p) != 0 ||
	    headers_add(out, "x-amz-date", ts) != 0 ||
	    headers_add(out, "x-amz-content-sha256", payload) != 0 ||
	    (tok && headers_add(out, "x-amz-security-token", in->session_token) != 0)) {
		sign_headers_release(out);
		goto oom;
	}
	rc = 0;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	free(h);
	sb_release(&cr);
	sb_release(&sh);
	sb_release(&scope);
	sb_release(&sts);
	sb_release(&auth);
	return rc;
}

char *
sign_s3_presign(const struct s3_sign_in *in, long expires, char *err, size_t errsz)
{
	const char *service;
	struct sign_kv *q = NULL, host;
	struct sbuf cr = { 0 }, sh = { 0 }, cred = { 0 }, sts = { 0 }, url = { 0 };
	char ts[17], date8[9], sig[65], exp[24];
	size_t n = 0, i;
	char *res = NULL;

	if (s3_check(in, err, errsz) != 0)
		return NULL;
	if (expires < 1 || expires > SIGN_S3_PRESIGN_MAX) {
		seterr(err, errsz, "presign expiry must be 1..604800 seconds");
		return NULL;
	}
	if (fmt_amz(in->when, ts) != 0) {
		seterr(err, errsz, "signing time out of range");
		return NULL;
	}
	service = empty(in->service) ? "s3" : in->service;
	snprintf(exp, sizeof(exp), "%ld", expires);

	sb_adds(&cred, in->access_key);
	sb_addc(&cred, '/');
	sb_add(&cred, ts, 8);
	sb_addc(&cred, '/');
	sb_adds(&cred, in->region);
	sb_addc(&cred, '/');
	sb_adds(&cred, service);
	sb_adds(&cred, "/aws4_request");
	if (cred.oom || (q = calloc(in->nquery + 6, sizeof(*q))) == NULL)
		goto oom;
	for (i = 0; i < in->nquery; i++)
		q[n++] = in->query[i];
	q[n++] = (struct sign_kv){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
	q[n++] = (struct sign_kv){ "X-Amz-Credential", cred.p };
	q[n++] = (struct sign_kv){ "X-Amz-Date", ts };
	q[n++] = (struct sign_kv){ "X-Amz-Expires", exp };
	q[n++] = (struct sign_kv){ "X-Amz-SignedHeaders", "host" };
	if (!empty(in->session_token))
		q[n++] = (struct sign_kv){ "X-Amz-Security-Token", in->session_token };
	host = (struct sign_kv){ "host", in->host };
	if (canon_request(&cr, &sh, NULL, in->method, in->path, q, n, &host, 1,
	        SIGN_UNSIGNED_PAYLOAD) != 0)
		goto oom;
	sb_sts(&sts, "AWS4-HMAC-SHA256", ts, strchr(cred.p, '/') + 1, &cr);
	if (sts.oom)
		goto oom;
	memcpy(date8, ts, 8);
	date8[8] = '\0';
	if (s3_signature(in->secret_key, date8, in->region, service, sts.p, sig) != 0) {
		seterr(err, errsz, "HMAC-SHA-256 failed");
		goto out;
	}

	/* The operation's parameters first, then the auth parameters, signature last. */
	sb_url(&url, empty(in->scheme) ? "https" : in->scheme, in->host, in->path);
	for (i = 0; i < n; i++) {
		sb_addc(&url, i == 0 ? '?' : '&');
		sb_enc(&url, q[i].name, 0);
		if (q[i].value != NULL) {
			sb_addc(&url, '=');
			sb_enc(&url, q[i].value, 0);
		}
	}
	sb_adds(&url, "&X-Amz-Signature=");
	sb_adds(&url, sig);
	if ((res = sb_detach(&url)) == NULL)
		goto oom;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	free(q);
	sb_release(&cr);
	sb_release(&sh);
	sb_release(&cred);
	sb_release(&sts);
	sb_release(&url);
	return res;
}

/* ---- Azure Blob ---- */

/* Decodes a standard base64 account key into a malloc'd buffer; NULL if it is not base64. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int got;

	if (n == 0 || n % 4 != 0 || n > INT32_MAX)
		return NULL;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)got - pad;
	return out;
}

/* base64(HMAC-SHA-256(base64decode(key), msg)) into out[45]. */
static int
azure_sig(const char *key, const char *msg, size_t n, char out[45], char *err, size_t errsz)
{
	unsigned char *k, mac[32];
	size_t klen;
	int rc;

	if ((k = b64_decode(key, &klen)) == NULL) {
		seterr(err, errsz, "azure account key is not base64");
		return -1;
	}
	rc = sign_hmac_sha256(k, klen, msg, n, mac);
	OPENSSL_cleanse(k, klen);
	free(k);
	if (rc != 0) {
		seterr(err, errsz, "HMAC-SHA-256 failed");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
	return 0;
}

static const char *
kv_find(const struct sign_kv *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].name != NULL && strcasecmp(h[i].name, name) == 0)
			return h[i].value ? h[i].value : "";
	return NULL;
}

/* Header value with the white space around it removed. */
static char *
trim(const char *s)
{
	size_t n;
	char *r;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

int
sign_azure_sharedkey(const struct azure_sign_in *in, struct sign_headers *out, char *err,
    size_t errsz)
{
	static const char *const std[] = { "Content-Encoding", "Content-Language",
		"Content-Length", "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
		"If-Match", "If-None-Match", "If-Unmodified-Since", "Range" };
	struct pair *xp = NULL, *qp = NULL;
	struct sbuf s = { 0 }, auth = { 0 };
	const char *version, *v;
	char date[30], sig[45];
	size_t i, nx = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (in == NULL || empty(in->method) || empty(in->account) || empty(in->key)) {
		seterr(err, errsz, "azure signing needs method, account and key");
		return -1;
	}
	if (!empty(in->path) && in->path[0] != '/') {
		seterr(err, errsz, "azure path must start with '/'");
		return -1;
	}
	if (kv_find(in->headers, in->nheaders, "x-ms-date") != NULL ||
	    kv_find(in->headers, in->nheaders, "x-ms-version") != NULL ||
	    kv_find(in->headers, in->nheaders, "authorization") != NULL) {
		seterr(err, errsz, "azure extra headers may not set the signer's own");
		return -1;
	}
	if (fmt_http(in->when, date) != 0) {
		seterr(err, errsz, "signing time out of range");
		return -1;
	}
	version = empty(in->version) ? SIGN_AZURE_VERSION : in->version;

	sb_adds(&s, in->method);
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		sb_addc(&s, '\n');
		v = kv_find(in->headers, in->nheaders, std[i]);
		/* Since 2015-02-21 a zero Content-Length signs as empty; Date stays empty because
		 * x-ms-date is always sent. */
		if (v == NULL || (i == 2 && strcmp(v, "0") == 0) || i == 5)
			continue;
		sb_adds(&s, v);
	}
	sb_addc(&s, '\n');

	if ((xp = calloc(in->nheaders + 2, sizeof(*xp))) == NULL)
		goto oom;
	for (i = 0; i < in->nheaders; i++) {
		if (in->headers[i].name == NULL || strncasecmp(in->headers[i].name, "x-ms-", 5) != 0)
			continue;
		xp[nx].a = lower_trim(in->headers[i].name);
		xp[nx].b = trim(in->headers[i].value ? in->headers[i].value : "");
		if (xp[nx].a == NULL || xp[nx++].b == NULL)
			goto oom;
	}
	xp[nx].a = strdup("x-ms-date");
	xp[nx].b = strdup(date);
	if (xp[nx].a == NULL || xp[nx++].b == NULL)
		goto oom;
	xp[nx].a = strdup("x-ms-version");
	xp[nx].b = strdup(version);
	if (xp[nx].a == NULL || xp[nx++].b == NULL)
		goto oom;
	qsort(xp, nx, sizeof(*xp), pair_cmp);
	for (i = 0; i < nx; i++) {
		sb_adds(&s, xp[i].a);
		sb_addc(&s, ':');
		sb_adds(&s, xp[i].b);
		sb_addc(&s, '\n');
	}

	/* /account/encoded-path, then "\nname:v1,v2" per lower-cased parameter, all sorted. */
	sb_addc(&s, '/');
	sb_adds(&s, in->account);
	if (empty(in->path))
		sb_addc(&s, '/');
	else
		sb_enc(&s, in->path, 1);
	if (in->nquery) {
		if ((qp = calloc(in->nquery, sizeof(*qp))) == NULL)
			goto oom;
		for (i = 0; i < in->nquery; i++) {
			qp[i].a = lower_trim(in->query[i].name ? in->query[i].name : "");
			qp[i].b = strdup(in->query[i].value ? in->query[i].value : "");
			if (qp[i].a == NULL || qp[i].b == NULL)
				goto oom;
		}
		qsort(qp, in->nquery, sizeof(*qp), pair_cmp);
		for (i = 0; i < in->nquery; i++) {
			if (i > 0 && strcmp(qp[i].a, qp[i - 1].a) == 0) {
				sb_addc(&s, ',');
			} else {
				sb_addc(&s, '\n');
				sb_adds(&s, qp[i].a);
				sb_addc(&s, ':');
			}
			sb_adds(&s, qp[i].b);
		}
	}
	if (s.oom)
		goto oom;
	if (azure_sig(in->key, s.p, s.len, sig, err, errsz) != 0)
		goto out;

	sb_adds(&auth, "SharedKey ");
	sb_adds(&auth, in->account);
	sb_addc(&auth, ':');
	sb_adds(&auth, sig);
	if (auth.oom || headers_add(out, "Authorization", auth.p) != 0 ||
	    headers_add(out, "x-ms-date", date) != 0 ||
	    headers_add(out, "x-ms-version", version) != 0) {
		sign_headers_release(out);
		goto oom;
	}
	rc = 0;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	pairs_free(xp, in->nheaders + 2);
	pairs_free(qp, in->nquery);
	sb_release(&s);
	sb_release(&auth);
	return rc;
}

char *
sign_azure_sas(const struct azure_sas_in *in, char *err, size_t errsz)
{
	const char *sp, *spr, *sv;
	struct sbuf s = { 0 }, url = { 0 };
	char st[21] = "", se[21], sig[45];
	struct sign_kv q[7];
	size_t n = 0, i;
	char *res = NULL;

	if (in == NULL || empty(in->endpoint) || empty(in->account) || empty(in->key) ||
	    empty(in->container) || empty(in->blob)) {
		seterr(err, errsz, "azure SAS needs endpoint, account, key, container and blob");
		return NULL;
	}
	if (fmt_iso(in->expiry, se) != 0 || (in->start != 0 && fmt_iso(in->start, st) != 0) ||
	    (in->start != 0 && in->start >= in->expiry)) {
		seterr(err, errsz, "azure SAS start/expiry out of range");
		return NULL;
	}
	sp = empty(in->permissions) ? "r" : in->permissions;
	spr = empty(in->protocol) ? "https,http" : in->protocol;
	sv = empty(in->version) ? SIGN_AZURE_SAS_VERSION : in->version;

	/* 2020-12-06 string-to-sign: sp, st, se, canonicalizedResource, si, sip, spr, sv, sr,
	 * snapshot time, ses, rscc, rscd, rsce, rscl, rsct — the values decoded. */
	sb_adds(&s, sp);
	sb_addc(&s, '\n');
	sb_adds(&s, st);
	sb_addc(&s, '\n');
	sb_adds(&s, se);
	sb_adds(&s, "\n/blob/");
	sb_adds(&s, in->account);
	sb_addc(&s, '/');
	sb_adds(&s, in->container);
	sb_addc(&s, '/');
	sb_adds(&s, in->blob);
	sb_adds(&s, "\n\n\n");
	sb_adds(&s, spr);
	sb_addc(&s, '\n');
	sb_adds(&s, sv);
	sb_adds(&s, "\nb\n\n\n\n\n\n\n");
	if (s.oom)
		goto oom;
	if (azure_sig(in->key, s.p, s.len, sig, err, errsz) != 0)
		goto out;

	q[n++] = (struct sign_kv){ "sp", sp };
	if (in->start != 0)
		q[n++] = (struct sign_kv){ "st", st };
	q[n++] = (struct sign_kv){ "se", se };
	q[n++] = (struct sign_kv){ "spr", spr };
	q[n++] = (struct sign_kv){ "sv", sv };
	q[n++] = (struct sign_kv){ "sr", "b" };
	q[n++] = (struct sign_kv){ "sig", sig };
	sb_adds(&url, in->endpoint);
	sb_addc(&url, '/');
	sb_enc(&url, in->container, 0);
	sb_addc(&url, '/');
	sb_enc(&url, in->blob, 1);
	for (i = 0; i < n; i++) {
		sb_addc(&url, i == 0 ? '?' : '&');
		sb_adds(&url, q[i].name);
		sb_addc(&url, '=');
		sb_enc(&url, q[i].value, 0);
	}
	if ((res = sb_detach(&url)) == NULL)
		goto oom;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	sb_release(&s);
	sb_release(&url);
	return res;
}

/* ---- Google Cloud Storage ---- */

void
sign_gcs_sa_release(struct gcs_sa *sa)
{
	if (sa->private_key != NULL)
		OPENSSL_cleanse(sa->private_key, strlen(sa->private_key));
	free(sa->client_email);
	free(sa->private_key);
	free(sa->token_uri);
	memset(sa, 0, sizeof(*sa));
}

static const char *
json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
sign_gcs_sa_parse(const char *sa_json, struct gcs_sa *sa, char *err, size_t errsz)
{
	struct json_object *o;
	const char *email, *key, *uri;

	memset(sa, 0, sizeof(*sa));
	o = sa_json != NULL ? json_tokener_parse(sa_json) : NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		seterr(err, errsz, "service account key is not a JSON object");
		return -1;
	}
	email = json_str(o, "client_email");
	key = json_str(o, "private_key");
	uri = json_str(o, "token_uri");
	if (empty(email) || empty(key)) {
		json_object_put(o);
		seterr(err, errsz, "service account key lacks client_email or private_key");
		return -1;
	}
	sa->client_email = strdup(email);
	sa->private_key = strdup(key);
	sa->token_uri = strdup(empty(uri) ? SIGN_GCS_TOKEN_URI : uri);
	json_object_put(o);
	if (sa->client_email == NULL || sa->private_key == NULL || sa->token_uri == NULL) {
		sign_gcs_sa_release(sa);
		seterr(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 under the PEM key; *sig is malloc'd. */
static int
rsa_sign(const char *pem, const void *msg, size_t n, unsigned char **sig, size_t *siglen,
    char *err, size_t errsz)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t len = 0;
	int rc = -1;

	*sig = NULL;
	if (strlen(pem) > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)strlen(pem))) == NULL)
		goto fail;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		seterr(err, errsz, "service account private_key is not a PEM private key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		seterr(err, errsz, "service account private_key is not an RSA key");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, msg, n) != 1 || (*sig = malloc(len)) == NULL ||
	    EVP_DigestSign(ctx, *sig, &len, msg, n) != 1)
		goto fail;
	*siglen = len;
	rc = 0;
	goto out;
fail:
	seterr(err, errsz, "RSA-SHA256 signing failed");
	free(*sig);
	*sig = NULL;
out:
	ERR_clear_error(); /* the reason is in err; leave no queue for the next libcrypto user */
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

static void
sb_b64url(struct sbuf *b, const void *in, size_t n)
{
	size_t need = (n + 2) / 3 * 4 + 1;
	char *tmp = malloc(need);

	if (tmp == NULL) {
		b->oom = 1;
		return;
	}
	if (b64url_encode(in, n, tmp, need) == 0 && n > 0)
		b->oom = 1;
	else
		sb_adds(b, tmp);
	free(tmp);
}

char *
sign_gcs_jwt(const char *sa_json, const char *scope, time_t now, char *err, size_t errsz)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	struct gcs_sa sa;
	struct json_object *c = NULL;
	struct sbuf t = { 0 };
	unsigned char *sig = NULL;
	size_t siglen = 0;
	const char *claims;
	char *res = NULL;

	if (empty(scope)) {
		seterr(err, errsz, "gcs token needs a scope");
		return NULL;
	}
	if (sign_gcs_sa_parse(sa_json, &sa, err, errsz) != 0)
		return NULL;
	if ((c = json_object_new_object()) == NULL)
		goto oom;
	/* Claim order is fixed so the token is reproducible; '/' is not escaped. */
	json_object_object_add(c, "iss", json_object_new_string(sa.client_email));
	json_object_object_add(c, "scope", json_object_new_string(scope));
	json_object_object_add(c, "aud", json_object_new_string(sa.token_uri));
	json_object_object_add(c, "iat", json_object_new_int64((int64_t)now));
	json_object_object_add(c, "exp", json_object_new_int64((int64_t)now + 3600));
	claims = json_object_to_json_string_ext(c,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (claims == NULL)
		goto oom;
	sb_b64url(&t, header, sizeof(header) - 1);
	sb_addc(&t, '.');
	sb_b64url(&t, claims, strlen(claims));
	if (t.oom)
		goto oom;
	if (rsa_sign(sa.private_key, t.p, t.len, &sig, &siglen, err, errsz) != 0)
		goto out;
	sb_addc(&t, '.');
	sb_b64url(&t, sig, siglen);
	if ((res = sb_detach(&t)) == NULL)
		goto oom;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	free(sig);
	json_object_put(c);
	sb_release(&t);
	sign_gcs_sa_release(&sa);
	return res;
}

char *
sign_gcs_url(const struct gcs_url_in *in, char *err, size_t errsz)
{
	const char *scheme, *host;
	struct gcs_sa sa;
	struct sbuf path = { 0 }, cred = { 0 }, cr = { 0 }, sh = { 0 }, cq = { 0 }, sts = { 0 },
		    url = { 0 };
	struct sign_kv q[5], h;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char ts[17], exp[24], *hex = NULL, *res = NULL;

	if (in == NULL || empty(in->bucket) || empty(in->object)) {
		seterr(err, errsz, "gcs signed URL needs a bucket and an object");
		return NULL;
	}
	if (in->expires < 1 || in->expires > 604800) {
		seterr(err, errsz, "signed URL expiry must be 1..604800 seconds");
		return NULL;
	}
	if (fmt_amz(in->when, ts) != 0) {
		seterr(err, errsz, "signing time out of range");
		return NULL;
	}
	if (sign_gcs_sa_parse(in->sa_json, &sa, err, errsz) != 0)
		return NULL;
	scheme = empty(in->scheme) ? "https" : in->scheme;
	host = empty(in->host) ? SIGN_GCS_HOST : in->host;
	snprintf(exp, sizeof(exp), "%ld", in->expires);

	sb_addc(&path, '/');
	sb_adds(&path, in->bucket);
	sb_addc(&path, '/');
	sb_adds(&path, in->object);
	sb_adds(&cred, sa.client_email);
	sb_addc(&cred, '/');
	sb_add(&cred, ts, 8);
	sb_adds(&cred, "/auto/storage/goog4_request");
	if (path.oom || cred.oom)
		goto oom;
	q[0] = (struct sign_kv){ "X-Goog-Algorithm", "GOOG4-RSA-SHA256" };
	q[1] = (struct sign_kv){ "X-Goog-Credential", cred.p };
	q[2] = (struct sign_kv){ "X-Goog-Date", ts };
	q[3] = (struct sign_kv){ "X-Goog-Expires", exp };
	q[4] = (struct sign_kv){ "X-Goog-SignedHeaders", "host" };
	h = (struct sign_kv){ "host", host };
	if (canon_request(&cr, &sh, &cq, "GET", path.p, q, 5, &h, 1, SIGN_UNSIGNED_PAYLOAD) != 0)
		goto oom;
	sb_sts(&sts, "GOOG4-RSA-SHA256", ts, strchr(cred.p, '/') + 1, &cr);
	if (sts.oom)
		goto oom;
	if (rsa_sign(sa.private_key, sts.p, sts.len, &sig, &siglen, err, errsz) != 0)
		goto out;
	if ((hex = malloc(2 * siglen + 1)) == NULL)
		goto oom;
	sign_hex(sig, siglen, hex);

	sb_url(&url, scheme, host, path.p);
	sb_addc(&url, '?');
	sb_adds(&url, cq.p);
	sb_adds(&url, "&X-Goog-Signature=");
	sb_adds(&url, hex);
	if ((res = sb_detach(&url)) == NULL)
		goto oom;
	goto out;
oom:
	seterr(err, errsz, "out of memory");
out:
	free(sig);
	free(hex);
	sb_release(&path);
	sb_release(&cred);
	sb_release(&cr);
	sb_release(&sh);
	sb_release(&cq);
	sb_release(&sts);
	sb_release(&url);
	sign_gcs_sa_release(&sa);
	return res;
}
