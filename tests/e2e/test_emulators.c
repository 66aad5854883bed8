/* The storage emulators that `make deps` installs from npm (tests/emulators) and tests/stack.sh
 * starts next to the test stack, driven with our own signers (app/storage/sign.h) over libcurl:
 *   - azurite (blob) verifies SharedKey and SAS: create a container, put blobs, list them with
 *     a prefix and marker paging, get one, GET through a SAS URL; a wrong key and a tampered
 *     SAS are refused, so the successes prove the signatures are right.
 *   - s3rver does not verify SigV4 signatures (issue 5: they have known-answer unit tests), but
 *     it parses them and checks the access key and a presigned URL's date and expiry: create a
 *     bucket, put objects, ListObjectsV2 with a prefix and max-keys/continuation-token paging,
 *     get one, GET through a presigned URL.
 * Environment (tests/run-tests.sh): SIALI_TEST_S3_URL, SIALI_TEST_AZURE_URL. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <criterion/criterion.h>

#include "e2e.h"
#include "sign.h"

#define AZ_ACCOUNT "devstoreaccount1" /* azurite's well-known development account */
#define AZ_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define S3_KEY "S3RVER" /* s3rver's built-in access key and secret */
#define S3_REGION "us-east-1"

#define NEED_EMULATORS "the storage emulators are not running: install them with `make deps` " \
	"(npm ci in tests/emulators) and run the tests with `make test`"

struct reply {
	long status;
	char *body;
	size_t len;
};

static size_t
collect(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	char *nb = realloc(r->body, r->len + sz * n + 1);

	if (nb == NULL)
		return 0;
	memcpy(nb + r->len, p, sz * n);
	r->body = nb;
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

/* Sends method url with the signer's headers plus extra ("Name: value" lines) and body. */
static struct reply
send_req(const char *method, const char *url, const struct sign_headers *sh, const char *const *extra,
    const char *body, size_t bodylen)
{
	struct reply r = { 0, calloc(1, 1), 0 };
	struct curl_slist *hl = NULL;
	char line[2048];
	CURL *c = curl_easy_init();
	CURLcode rc;
	int has_ctype = 0;

	cr_assert(c != NULL && r.body != NULL);
	for (size_t i = 0; sh != NULL && i < sh->n; i++) {
		snprintf(line, sizeof(line), "%s: %s", sh->h[i].name, sh->h[i].value);
		hl = curl_slist_append(hl, line);
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		hl = curl_slist_append(hl, extra[i]);
		has_ctype |= strncasecmp(extra[i], "Content-Type:", 13) == 0;
	}
	/* Nothing curl would add on its own that a signature does not cover. */
	hl = curl_slist_append(hl, "Expect:");
	if (body != NULL && !has_ctype)
		hl = curl_slist_append(hl, "Content-Type:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)bodylen);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	cr_assert(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return r;
}

/* The text of each <tag>…</tag> in xml, in order, into out[] (malloc'd); returns how many. */
static size_t
xml_all(const char *xml, const char *tag, char **out, size_t max)
{
	char open[64], close[64];
	size_t n = 0;
	const char *p = xml;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	while (n < max && (p = strstr(p, open)) != NULL) {
		const char *b = p + strlen(open), *e = strstr(b, close);

		if (e == NULL)
			break;
		out[n++] = strndup(b, (size_t)(e - b));
		p = e + strlen(close);
	}
	return n;
}

/* The first <tag> text, malloc'd, or NULL. */
static char *
xml_one(const char *xml, const char *tag)
{
	char *v = NULL;

	return xml_all(xml, tag, &v, 1) == 1 ? v : NULL;
}

static void
free_all(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/* "http://127.0.0.1:1234/devstoreaccount1" -> host "127.0.0.1:1234" (and the path prefix). */
static void
split_url(const char *url, char *host, size_t hostsz, char *prefix, size_t prefixsz)
{
	const char *h, *slash;

	cr_assert(strncmp(url, "http://", 7) == 0, "unexpected emulator URL %s", url);
	h = url + 7;
	slash = strchr(h, '/');
	snprintf(host, hostsz, "%.*s", (int)(slash ? (size_t)(slash - h) : strlen(h)), h);
	snprintf(prefix, prefixsz, "%s", slash ? slash : "");
}

static const char *
need(const char *var)
{
	const char *v = getenv(var);

	cr_assert(v != NULL && v[0] != '\0', "%s is not set: " NEED_EMULATORS, var);
	return v;
}

/* ---------------------------------------------------------------- azurite */

static char az_host[128], az_prefix[128];

/* A SharedKey-signed request against azurite: path under the account ("/container/blob"). */
static struct reply
az_req(const char *method, const char *path, const struct sign_kv *q, size_t nq, const char *key,
    const char *const *extra_hdrs, const struct sign_kv *hdrs, size_t nh, const char *body)
{
	struct azure_sign_in in = { 0 };
	struct sign_headers sh = { 0 };
	char full[1024], err[256];
	char *url;
	struct reply r;

	snprintf(full, sizeof(full), "%s%s", az_prefix, path);
	in.method = method;
	in.account = AZ_ACCOUNT;
	in.key = key;
	in.path = full;
	in.query = q;
	in.nquery = nq;
	in.headers = hdrs;
	in.nheaders = nh;
	in.when = time(NULL);
	cr_assert(sign_azure_sharedkey(&in, &sh, err, sizeof(err)) == 0, "sign_azure_sharedkey: %s", err);
	url = sign_request_url("http", az_host, full, q, nq);
	cr_assert(url != NULL);
	r = send_req(method, url, &sh, extra_hdrs, body, body ? strlen(body) : 0);
	free(url);
	sign_headers_release(&sh);
	return r;
}

static struct reply
az_put_blob(const char *container, const char *blob, const char *body)
{
	char path[512], len[32];
	struct sign_kv hdrs[] = {
		{ "Content-Length", len },
		{ "Content-Type", "text/plain" },
		{ "x-ms-blob-type", "BlockBlob" },
	};
	const char *extra[] = { "Content-Type: text/plain", "x-ms-blob-type: BlockBlob", NULL };

	snprintf(path, sizeof(path), "/%s/%s", container, blob);
	snprintf(len, sizeof(len), "%zu", strlen(body));
	return az_req("PUT", path, NULL, 0, AZ_KEY, extra, hdrs, 3, body);
}

static void
az_setup(void)
{
	split_url(need("SIALI_TEST_AZURE_URL"), az_host, sizeof(az_host), az_prefix, sizeof(az_prefix));
}

TestSuite(azurite, .init = az_setup, .timeout = 60);

Test(azurite, sharedkey_container_put_list_get_and_sas)
{
	char container[64], cpath[80], *names[16];
	struct sign_kv mk[] = { { "restype", "container" } };
	const char *blobs[] = { "docs/a.txt", "docs/b c.txt", "docs/sub/d.json", "docs/ü.txt", "other/e.txt" };
	struct reply r;
	size_t n, total = 0;
	char *marker = NULL;

	snprintf(container, sizeof(container), "siali-%s", e2e_unique());
	snprintf(cpath, sizeof(cpath), "/%s", container);

	/* A wrong key is refused: azurite really checks SharedKey. */
	r = az_req("PUT", cpath, mk, 1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	    NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 403, "a wrong key: %ld %s", r.status, r.body);
	free(r.body);

	r = az_req("PUT", cpath, mk, 1, AZ_KEY, NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 201, "create container: %ld %s", r.status, r.body);
	free(r.body);

	for (size_t i = 0; i < sizeof(blobs) / sizeof(*blobs); i++) {
		char body[128];

		snprintf(body, sizeof(body), "content of %s", blobs[i]);
		r = az_put_blob(container, blobs[i], body);
		cr_assert_eq(r.status, 201, "put %s: %ld %s", blobs[i], r.status, r.body);
		free(r.body);
	}

	/* List under docs/ two at a time, following NextMarker. */
	do {
		struct sign_kv q[] = {
			{ "restype", "container" }, { "comp", "list" }, { "prefix", "docs/" },
			{ "maxresults", "2" }, { "marker", marker },
		};
		r = az_req("GET", cpath, q, marker ? 5 : 4, AZ_KEY, NULL, NULL, 0, NULL);
		cr_assert_eq(r.status, 200, "list: %ld %s", r.status, r.body);
		n = xml_all(r.body, "Name", names, 16);
		cr_assert(n <= 2, "maxresults=2 gave %zu", n);
		for (size_t i = 0; i < n; i++) {
			cr_assert(strncmp(names[i], "docs/", 5) == 0, "%s is outside the prefix", names[i]);
			total++;
		}
		free_all(names, n);
		free(marker);
		marker = xml_one(r.body, "NextMarker");
		if (marker != NULL && marker[0] == '\0') {
			free(marker);
			marker = NULL;
		}
		free(r.body);
	} while (marker != NULL);
	cr_assert_eq(total, 4, "listed %zu blobs under docs/", total);

	/* Get one back, with a space in its name. */
	{
		char path[256];

		snprintf(path, sizeof(path), "/%s/docs/b c.txt", container);
		r = az_req("GET", path, NULL, 0, AZ_KEY, NULL, NULL, 0, NULL);
		cr_assert_eq(r.status, 200, "get: %ld %s", r.status, r.body);
		cr_assert_str_eq(r.body, "content of docs/b c.txt");
		free(r.body);
	}

	/* A SAS URL for a GET, and the same URL tampered with. */
	{
		char endpoint[300], err[256], *url, *sig;
		struct azure_sas_in in = { 0 };

		snprintf(endpoint, sizeof(endpoint), "http://%s%s", az_host, az_prefix);
		in.endpoint = endpoint;
		in.account = AZ_ACCOUNT;
		in.key = AZ_KEY;
		in.container = container;
		in.blob = "docs/ü.txt";
		in.start = time(NULL) - 60;
		in.expiry = time(NULL) + 300;
		url = sign_azure_sas(&in, err, sizeof(err));
		cr_assert(url != NULL, "sign_azure_sas: %s", err);
		r = send_req("GET", url, NULL, NULL, NULL, 0);
		cr_assert_eq(r.status, 200, "SAS GET %s: %ld %s", url, r.status, r.body);
		cr_assert_str_eq(r.body, "content of docs/ü.txt");
		free(r.body);

		sig = strstr(url, "sig=");
		cr_assert(sig != NULL);
		sig += 4;
		while (*sig == '%')
			sig += 3;
		cr_assert(*sig != '\0' && *sig != '&');
		*sig = *sig == 'A' ? 'B' : 'A';
		r = send_req("GET", url, NULL, NULL, NULL, 0);
		cr_assert_eq(r.status, 403, "a tampered SAS: %ld %s", r.status, r.body);
		free(r.body);
		free(url);

		/* Signed for another blob: refused for this one. */
		in.blob = "docs/a.txt";
		url = sign_azure_sas(&in, err, sizeof(err));
		cr_assert(url != NULL, "sign_azure_sas: %s", err);
		sig = strstr(url, "docs/a.txt");
		cr_assert(sig != NULL);
		sig[5] = 'e'; /* docs/e.txt: absent, but the signature must fail first */
		r = send_req("GET", url, NULL, NULL, NULL, 0);
		cr_assert_eq(r.status, 403, "a SAS for another blob: %ld %s", r.status, r.body);
		free(r.body);
		free(url);
	}
}

/* ---------------------------------------------------------------- s3rver */

static char s3_host[128], s3_prefix[128];

static struct s3_sign_in
s3_in(const char *method, const char *path, const struct sign_kv *q, size_t nq)
{
	struct s3_sign_in in = { 0 };

	in.method = method;
	in.scheme = "http";
	in.host = s3_host;
	in.path = path;
	in.query = q;
	in.nquery = nq;
	in.region = S3_REGION;
	in.access_key = S3_KEY;
	in.secret_key = S3_KEY;
	in.when = time(NULL);
	return in;
}

static struct reply
s3_req(const char *method, const char *path, const struct sign_kv *q, size_t nq, const char *body)
{
	struct s3_sign_in in = s3_in(method, path, q, nq);
	struct sign_headers sh = { 0 };
	char err[256], hash[65];
	char *url;
	struct reply r;

	if (body != NULL) {
		sign_sha256_hex(body, strlen(body), hash);
		in.payload_hash = hash;
	}
	cr_assert(sign_s3_headers(&in, &sh, err, sizeof(err)) == 0, "sign_s3_headers: %s", err);
	cr_assert(sign_headers_get(&sh, "Authorization") != NULL);
	url = sign_request_url("http", s3_host, path, q, nq);
	cr_assert(url != NULL);
	r = send_req(method, url, &sh, NULL, body, body ? strlen(body) : 0);
	free(url);
	sign_headers_release(&sh);
	return r;
}

static void
s3_setup(void)
{
	split_url(need("SIALI_TEST_S3_URL"), s3_host, sizeof(s3_host), s3_prefix, sizeof(s3_prefix));
}

TestSuite(s3rver, .init = s3_setup, .timeout = 60);

Test(s3rver, sigv4_bucket_put_list_paging_get_and_presign)
{
	char bucket[64], bpath[80], *keys[16];
	const char *objs[] = { "data/1.json", "data/2 two.json", "data/3.json", "data/sub/4.json",
		"data/5.json", "else/6.json" };
	struct reply r;
	size_t n, total = 0, pages = 0;
	char *token = NULL;

	snprintf(bucket, sizeof(bucket), "siali-%s", e2e_unique());
	snprintf(bpath, sizeof(bpath), "/%s", bucket);

	r = s3_req("PUT", bpath, NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "create bucket: %ld %s", r.status, r.body);
	free(r.body);

	for (size_t i = 0; i < sizeof(objs) / sizeof(*objs); i++) {
		char path[256], body[128];

		snprintf(path, sizeof(path), "/%s/%s", bucket, objs[i]);
		snprintf(body, sizeof(body), "{\"key\":\"%s\"}", objs[i]);
		r = s3_req("PUT", path, NULL, 0, body);
		cr_assert_eq(r.status, 200, "put %s: %ld %s", objs[i], r.status, r.body);
		free(r.body);
	}

	/* ListObjectsV2 under data/, two keys a page, following the continuation token. */
	do {
		struct sign_kv q[] = {
			{ "list-type", "2" }, { "prefix", "data/" }, { "max-keys", "2" },
			{ "continuation-token", token },
		};
		char *trunc;

		r = s3_req("GET", bpath, q, token ? 4 : 3, NULL);
		cr_assert_eq(r.status, 200, "list: %ld %s", r.status, r.body);
		n = xml_all(r.body, "Key", keys, 16);
		cr_assert(n <= 2, "max-keys=2 gave %zu", n);
		for (size_t i = 0; i < n; i++) {
			cr_assert(strncmp(keys[i], "data/", 5) == 0, "%s is outside the prefix", keys[i]);
			total++;
		}
		free_all(keys, n);
		pages++;
		free(token);
		token = NULL;
		trunc = xml_one(r.body, "IsTruncated");
		if (trunc != NULL && strcmp(trunc, "true") == 0) {
			token = xml_one(r.body, "NextContinuationToken");
			cr_assert(token != NULL && token[0] != '\0', "truncated without a token: %s", r.body);
		}
		free(trunc);
		free(r.body);
		cr_assert(pages < 10, "paging does not end");
	} while (token != NULL);
	cr_assert_eq(total, 5, "listed %zu keys under data/", total);
	cr_assert_eq(pages, 3, "5 keys at 2 a page took %zu pages", pages);

	/* Get one back, with a space in its name. */
	{
		char path[256];

		snprintf(path, sizeof(path), "/%s/data/2 two.json", bucket);
		r = s3_req("GET", path, NULL, 0, NULL);
		cr_assert_eq(r.status, 200, "get: %ld %s", r.status, r.body);
		cr_assert_str_eq(r.body, "{\"key\":\"data/2 two.json\"}");
		free(r.body);
	}

	/* A presigned GET, and one that has expired. */
	{
		char path[256], err[256], *url;
		struct s3_sign_in in;

		snprintf(path, sizeof(path), "/%s/data/sub/4.json", bucket);
		in = s3_in("GET", path, NULL, 0);
		url = sign_s3_presign(&in, 300, err, sizeof(err));
		cr_assert(url != NULL, "sign_s3_presign: %s", err);
		r = send_req("GET", url, NULL, NULL, NULL, 0);
		cr_assert_eq(r.status, 200, "presigned GET %s: %ld %s", url, r.status, r.body);
		cr_assert_str_eq(r.body, "{\"key\":\"data/sub/4.json\"}");
		free(r.body);
		free(url);

		in.when = time(NULL) - 3600;
		url = sign_s3_presign(&in, 60, err, sizeof(err));
		cr_assert(url != NULL, "sign_s3_presign: %s", err);
		r = send_req("GET", url, NULL, NULL, NULL, 0);
		cr_assert_eq(r.status, 403, "an expired presigned URL: %ld %s", r.status, r.body);
		free(r.body);
		free(url);
	}
}
