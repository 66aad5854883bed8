/* The S3 connector (app/storage/s3.c) against the stack's s3rver (SIALI_TEST_S3_URL): put, list
 * with cursors (recursive and not), get, presign, delete, and the error mapping (a wrong access
 * key, an endpoint the SSRF guard refuses, keys outside the prefix). s3rver does not check
 * signatures (sign.c has known-answer unit tests) but does check the access key. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "config.h"
#include "e2e.h"
#include "s3.h"
#include "sign.h"
#include "storage.h"

#define S3_KEY "S3RVER"

static char s3_url[256], s3_host[128];

static void
setup(void)
{
	const char *u = getenv("SIALI_TEST_S3_URL");
	const char *h;

	cr_assert(u != NULL && *u != '\0', "SIALI_TEST_S3_URL is not set: the storage emulators are "
	    "not running (`make deps`, then `make test`)");
	snprintf(s3_url, sizeof(s3_url), "%s", u);
	cr_assert(strncmp(u, "http://", 7) == 0);
	h = u + 7;
	snprintf(s3_host, sizeof(s3_host), "%.*s", (int)strcspn(h, "/"), h);
	config_defaults(&cfg);
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "%s", s3_host);
}

TestSuite(s3conn, .init = setup, .timeout = 120);

static size_t
discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* Creates the bucket with a signed PUT (straight libcurl: the bucket is the test's business). */
static void
make_bucket(const char *bucket)
{
	struct s3_sign_in in = { 0 };
	struct sign_headers sh = { 0 };
	struct curl_slist *hl = NULL;
	char path[128], err[256], line[1024], *url;
	long status = 0;
	CURL *c = curl_easy_init();

	snprintf(path, sizeof(path), "/%s", bucket);
	in.method = "PUT";
	in.scheme = "http";
	in.host = s3_host;
	in.path = path;
	in.region = "us-east-1";
	in.access_key = S3_KEY;
	in.secret_key = S3_KEY;
	in.when = time(NULL);
	cr_assert(sign_s3_headers(&in, &sh, err, sizeof(err)) == 0, "%s", err);
	url = sign_request_url("http", s3_host, path, NULL, 0);
	for (size_t i = 0; i < sh.n; i++) {
		snprintf(line, sizeof(line), "%s: %s", sh.h[i].name, sh.h[i].value);
		hl = curl_slist_append(hl, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 200, "create bucket: %ld", status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	free(url);
	sign_headers_release(&sh);
}

static struct storage *
open_s3(const char *bucket, const char *prefix, const char *endpoint, const char *key_id)
{
	struct json_object *cfgj = json_object_new_object();
	struct storage *s;
	char err[256] = "";

	json_object_object_add(cfgj, "bucket", json_object_new_string(bucket));
	json_object_object_add(cfgj, "prefix", json_object_new_string(prefix));
	json_object_object_add(cfgj, "aws_access_key_id", json_object_new_string(key_id));
	json_object_object_add(cfgj, "aws_secret_access_key", json_object_new_string(S3_KEY));
	json_object_object_add(cfgj, "region_name", json_object_new_string("us-east-1"));
	json_object_object_add(cfgj, "s3_endpoint", json_object_new_string(endpoint));
	json_object_object_add(cfgj, "presign_ttl", json_object_new_int(5));
	s = storage_open("s3", cfgj, err, sizeof(err));
	cr_assert(s != NULL, "open: %s", err);
	json_object_put(cfgj);
	return s;
}

struct keys {
	char *k[64];
	size_t n;
	int64_t size0;
	int have_meta;
};

static int
collect_key(void *ctx, const struct storage_object *o)
{
	struct keys *ks = ctx;

	cr_assert(ks->n < 64);
	ks->k[ks->n++] = strdup(o->key);
	if (o->size >= 0 && o->mtime > 0 && o->etag != NULL && o->etag[0] != '\0' && o->etag[0] != '"')
		ks->have_meta++;
	return 0;
}

static void
keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	ks->n = 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct sink {
	char buf[4096];
	size_t n;
};

static int
to_sink(void *ctx, const char *p, size_t n)
{
	struct sink *k = ctx;

	cr_assert(k->n + n < sizeof(k->buf));
	memcpy(k->buf + k->n, p, n);
	k->n += n;
	k->buf[k->n] = '\0';
	return 0;
}

Test(s3conn, put_list_get_presign_delete_and_errors)
{
	char bucket[64], err[256], key[64], body[64], *cursor = NULL, *expected[64];
	struct storage *s;
	struct keys ks = { 0 };
	size_t nexp = 0, pages = 0;
	int rc;

	snprintf(bucket, sizeof(bucket), "siali-conn-%s", e2e_unique());
	make_bucket(bucket);
	s = open_s3(bucket, "", s3_url, S3_KEY);

	/* 25 objects: 20 at the top, 5 under a/b/ (one with a space). */
	for (int i = 0; i < 25; i++) {
		if (i < 20)
			snprintf(key, sizeof(key), "k%02d.json", 19 - i);
		else
			snprintf(key, sizeof(key), "a/b/%s%d.txt", i == 22 ? "sp ace" : "x", i);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		rc = storage_put(s, key, body, strlen(body), i % 2 ? "application/json" : NULL, err,
		    sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "put %s: %d %s", key, rc, err);
		expected[nexp++] = strdup(key);
	}
	qsort(expected, nexp, sizeof(*expected), cmp_str);

	/* Recursive, 7 a page, following cursors: every key once, in S3's (byte) order. */
	do {
		char *next = NULL;
		size_t before = ks.n;

		rc = storage_list(s, "", 1, cursor, 7, collect_key, &ks, &next, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "list: %d %s", rc, err);
		cr_assert(ks.n - before <= 7, "a page of %zu", ks.n - before);
		free(cursor);
		cursor = next;
		cr_assert(++pages < 10, "paging does not end");
	} while (cursor != NULL);
	cr_assert_eq(ks.n, 25, "listed %zu keys", ks.n);
	cr_assert_eq(pages, 4, "25 keys at 7 a page took %zu pages", pages);
	cr_assert_eq(ks.have_meta, 25, "size, mtime and etag on %d of 25", ks.have_meta);
	for (size_t i = 0; i < 25; i++)
		cr_assert_str_eq(ks.k[i], expected[i], "position %zu", i);
	keys_free(&ks);

	/* Not recursive: the top level only (a/ is a common prefix, not an object)... */
	rc = storage_list(s, "", 0, NULL, 100, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "%s", err);
	cr_assert_null(cursor);
	cr_assert_eq(ks.n, 20, "top level: %zu", ks.n);
	for (size_t i = 0; i < ks.n; i++)
		cr_assert_null(strchr(ks.k[i], '/'), "%s listed at the top level", ks.k[i]);
	keys_free(&ks);
	/* ...and under a prefix, followed by cursors too. */
	rc = storage_list(s, "a/b/", 0, NULL, 3, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "%s", err);
	cr_assert_not_null(cursor);
	{
		char *next = NULL;

		rc = storage_list(s, "a/b/", 0, cursor, 3, collect_key, &ks, &next, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "%s", err);
		cr_assert_null(next);
		free(cursor);
		cursor = NULL;
	}
	cr_assert_eq(ks.n, 5, "under a/b/: %zu", ks.n);
	keys_free(&ks);

	/* Get one back. */
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "a/b/sp ace22.txt", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "get: %d %s", rc, err);
		cr_assert_str_eq(k.buf, "{\"n\":22}");
	}

	/* Presign, and fetch the URL with plain curl. */
	{
		char *url = NULL;
		struct sink k = { .n = 0 };
		long status = 0;
		CURL *c = curl_easy_init();

		rc = storage_presign(s, "k07.json", 0, &url, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "presign: %s", err);
		cr_assert_not_null(strstr(url, "X-Amz-Expires=300"), "%s", url);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		{
			FILE *f = fmemopen(k.buf, sizeof(k.buf) - 1, "w");

			curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
			cr_assert_eq(curl_easy_perform(c), CURLE_OK);
			k.n = (size_t)ftell(f);
			fclose(f);
			k.buf[k.n] = '\0';
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		cr_assert_eq(status, 200, "presigned GET: %ld %s", status, k.buf);
		cr_assert_str_eq(k.buf, "{\"n\":12}");
		free(url);
	}

	/* Delete, then the object is gone. */
	rc = storage_del(s, "k07.json", err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "del: %s", err);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k07.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_NOT_FOUND, "get after del: %d %s", rc, err);
		cr_assert_eq(k.n, 0, "bytes of an error delivered: %s", k.buf);
		cr_assert_null(strstr(err, "<"), "XML in the message: %s", err);
	}

	/* Keys that are not plain keys are refused before any request. */
	{
		struct sink k = { .n = 0 };

		cr_assert_eq(storage_get(s, "a/../k01.json", to_sink, &k, err, sizeof(err)),
		    STORAGE_REFUSED);
		cr_assert_eq(storage_get(s, "", to_sink, &k, err, sizeof(err)), STORAGE_REFUSED);
	}
	storage_close(s);

	/* A storage scoped to the a/ prefix: lists only its keys and refuses the others. */
	s = open_s3(bucket, "a", s3_url, S3_KEY);
	rc = storage_list(s, "", 1, NULL, 100, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "%s", err);
	cr_assert_eq(ks.n, 5, "under prefix a: %zu", ks.n);
	keys_free(&ks);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k01.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_REFUSED, "a key outside the prefix: %d %s", rc, err);
	}
	storage_close(s);

	/* A wrong access key id: s3rver only knows S3RVER. */
	s = open_s3(bucket, "", s3_url, "NOTAKEY");
	rc = storage_list(s, "", 1, NULL, 10, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_AUTH, "wrong key id: %d %s", rc, err);
	cr_assert_null(strstr(err, "<"), "XML in the message: %s", err);
	cr_assert_null(strstr(err, S3_KEY), "a secret in the message: %s", err);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k01.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_AUTH, "wrong key id, get: %d %s", rc, err);
		cr_assert_eq(k.n, 0);
	}
	storage_close(s);

	/* An endpoint the SSRF guard refuses (loopback, not in outbound_allow_hosts). */
	s = open_s3(bucket, "", "http://127.0.0.1:9/", S3_KEY);
	rc = storage_list(s, "", 1, NULL, 10, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "refused endpoint: %d %s", rc, err);
	cr_assert_not_null(strstr(err, "outbound_allow"), "%s", err);
	storage_close(s);

	/* A missing bucket is a config problem. */
	s = open_s3("siali-no-such-bucket", "", s3_url, S3_KEY);
	rc = storage_list(s, "", 1, NULL, 10, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "no bucket: %d %s", rc, err);
	storage_close(s);

	for (size_t i = 0; i < nexp; i++)
		free(expected[i]);
}

Test(s3conn, config_is_checked_at_open)
{
	const char *bad[] = {
		"{}",
		"{\"bucket\":\"b/c\",\"aws_access_key_id\":\"a\",\"aws_secret_access_key\":\"b\"}",
		"{\"bucket\":\"b\",\"aws_access_key_id\":\"a\"}",
		"{\"bucket\":\"b\",\"s3_endpoint\":\"ftp://x/\"}",
		"{\"bucket\":\"b\",\"s3_endpoint\":\"http://u:p@x/\"}",
		"{\"bucket\":\"b\",\"presign_ttl\":0}",
		"{\"bucket\":\"b\",\"region_name\":\"us east\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct json_object *j = json_tokener_parse(bad[i]);
		char err[256] = "";
		struct storage *s = storage_open("s3", j, err, sizeof(err));

		cr_expect_null(s, "%s was accepted", bad[i]);
		cr_expect(err[0] != '\0', "%s: no message", bad[i]);
		storage_close(s);
		json_object_put(j);
	}
	/* AWS addressing: virtual-hosted, and the presigned URL says so. */
	{
		struct json_object *j = json_tokener_parse("{\"bucket\":\"my-bucket\",\"region_name\":"
		    "\"eu-west-1\",\"aws_access_key_id\":\"AKIDEXAMPLE\",\"aws_secret_access_key\":\"x\","
		    "\"aws_session_token\":\"tok\"}");
		char err[256] = "", *url = NULL;
		struct storage *s = storage_open("s3", j, err, sizeof(err));

		cr_assert_not_null(s, "%s", err);
		cr_assert_eq(storage_presign(s, "a b/c.json", 60, &url, err, sizeof(err)), STORAGE_OK,
		    "%s", err);
		cr_assert(strncmp(url, "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c.json?", 58)
		    == 0, "%s", url);
		cr_assert_not_null(strstr(url, "X-Amz-Security-Token=tok"), "%s", url);
		cr_assert_not_null(strstr(url, "X-Amz-Expires=60&"), "%s", url);
		free(url);
		storage_close(s);
		json_object_put(j);
	}
}

struct big {
	unsigned char *p;
	size_t n, cap, calls;
	size_t stop_after;              /* nonzero: abort after this many bytes */
};

static int
to_big(void *ctx, const char *p, size_t n)
{
	struct big *g = ctx;

	g->calls++;
	cr_assert(g->n + n <= g->cap);
	memcpy(g->p + g->n, p, n);
	g->n += n;
	return g->stop_after != 0 && g->n >= g->stop_after;
}

/* An object past the hold-back size streams through, byte for byte; a sink that stops aborts. */
Test(s3conn, large_object_streams_and_sink_can_stop)
{
	size_t len = 300 * 1024 + 7;
	char bucket[64], err[256];
	unsigned char *data = malloc(len);
	struct big g = { malloc(len), 0, len, 0, 0 };
	struct storage *s;
	int rc;

	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	snprintf(bucket, sizeof(bucket), "siali-big-%s", e2e_unique());
	make_bucket(bucket);
	s = open_s3(bucket, "media", s3_url, S3_KEY);
	rc = storage_put(s, "media/big.bin", (const char *)data, len, "application/octet-stream",
	    err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "put: %s", err);
	rc = storage_get(s, "media/big.bin", to_big, &g, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "get: %s", err);
	cr_assert_eq(g.n, len);
	cr_assert(memcmp(g.p, data, len) == 0, "bytes differ");
	cr_assert(g.calls > 1, "not streamed: %zu calls", g.calls);

	g.n = g.calls = 0;
	g.stop_after = 100 * 1024;
	rc = storage_get(s, "media/big.bin", to_big, &g, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_ABORTED, "stopped sink: %d %s", rc, err);
	storage_close(s);
	free(data);
	free(g.p);
}
