/* The Azure Blob connector (app/storage/azure.c) against the stack's azurite, which verifies
 * SharedKey and SAS signatures: the successes prove the signing, a tampered key proves the
 * refusal is mapped. The connector runs in this process, so cfg is set up here the way the
 * stack's siali.conf would: azurite's loopback port in outbound_allow_hosts.
 * Environment (tests/run-tests.sh): SIALI_TEST_AZURE_URL. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <criterion/criterion.h>

#include "e2e.h"
#include "config.h"
#include "azure.h"
#include "sign.h"

#define AZ_ACCOUNT "devstoreaccount1"
#define AZ_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static char az_url[256], az_host[128], az_prefix[128];

static void
az_setup(void)
{
	const char *u = getenv("SIALI_TEST_AZURE_URL"), *h, *slash;

	cr_assert(u != NULL && u[0] != '\0', "SIALI_TEST_AZURE_URL is not set: the storage emulators "
	    "are not running (install them with `make deps`, run with `make test`)");
	cr_assert(strncmp(u, "http://", 7) == 0, "unexpected emulator URL %s", u);
	snprintf(az_url, sizeof(az_url), "%s", u);
	h = u + 7;
	slash = strchr(h, '/');
	snprintf(az_host, sizeof(az_host), "%.*s", (int)(slash ? (size_t)(slash - h) : strlen(h)), h);
	snprintf(az_prefix, sizeof(az_prefix), "%s", slash ? slash : "");
	config_defaults(&cfg);
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "%s", az_host);
	cfg.outbound_max_bytes = 1 << 20;
}

TestSuite(azure_connector, .init = az_setup, .timeout = 90);

static size_t
drop(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* PUT ?restype=container, SharedKey-signed, straight with libcurl. */
static void
create_container(const char *container)
{
	struct sign_kv q[] = { { "restype", "container" } };
	struct azure_sign_in in = { 0 };
	struct sign_headers sh = { 0 };
	struct curl_slist *hl = NULL;
	char path[256], line[1024], err[256], *url;
	CURL *c = curl_easy_init();
	long status = 0;

	snprintf(path, sizeof(path), "%s/%s", az_prefix, container);
	in.method = "PUT";
	in.account = AZ_ACCOUNT;
	in.key = AZ_KEY;
	in.path = path;
	in.query = q;
	in.nquery = 1;
	in.when = time(NULL);
	cr_assert(sign_azure_sharedkey(&in, &sh, err, sizeof(err)) == 0, "%s", err);
	url = sign_request_url("http", az_host, path, q, 1);
	for (size_t i = 0; i < sh.n; i++) {
		snprintf(line, sizeof(line), "%s: %s", sh.h[i].name, sh.h[i].value);
		hl = curl_slist_append(hl, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	cr_assert(curl_easy_perform(c) == CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 201, "create container %s: %ld", container, status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	free(url);
	sign_headers_release(&sh);
}

static struct storage *
open_az(const char *container, const char *prefix, const char *key, const char *endpoint)
{
	struct json_object *c = json_object_new_object();
	struct storage *s;
	char err[256];

	json_object_object_add(c, "container", json_object_new_string(container));
	json_object_object_add(c, "prefix", json_object_new_string(prefix));
	json_object_object_add(c, "account_name", json_object_new_string(AZ_ACCOUNT));
	json_object_object_add(c, "account_key", json_object_new_string(key));
	json_object_object_add(c, "endpoint", json_object_new_string(endpoint ? endpoint : az_url));
	s = calloc(1, sizeof(*s));
	cr_assert(s != NULL);
	s->ops = &storage_azure_ops;
	cr_assert_eq(s->ops->open(s, c, err, sizeof(err)), STORAGE_OK, "open: %s", err);
	json_object_put(c);
	return s;
}

struct names {
	char *v[64];
	size_t n;
};

static int
collect_name(void *ctx, const struct storage_object *o)
{
	struct names *nm = ctx;

	cr_assert(nm->n < 64);
	cr_assert(o->size >= 0 && o->mtime > 0 && o->etag != NULL, "%s: size %lld mtime %lld",
	    o->key, (long long)o->size, (long long)o->mtime);
	nm->v[nm->n++] = strdup(o->key);
	return 0;
}

struct buf {
	char p[4096];
	size_t n;
};

static int
sink(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;

	cr_assert(b->n + n < sizeof(b->p));
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static size_t
curl_collect(char *p, size_t sz, size_t n, void *ud)
{
	sink(ud, p, sz * n);
	return sz * n;
}

static long
curl_get(const char *url, struct buf *b)
{
	CURL *c = curl_easy_init();
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	cr_assert(curl_easy_perform(c) == CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static int
by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

Test(azure_connector, put_list_get_presign_delete)
{
	char container[64], err[256], *cursor = NULL, *expect[25];
	struct names nm = { 0 };
	struct buf b = { 0 };
	struct storage *s;
	size_t pages = 0;
	int rc;

	snprintf(container, sizeof(container), "siali-azc-%s", e2e_unique());
	create_container(container);
	s = open_az(container, "", AZ_KEY, NULL);

	/* 25 blobs: 15 at the top, 10 under a/b/, one with a space and one non-ASCII. */
	for (int i = 0; i < 25; i++) {
		char key[64], body[96];

		if (i < 15)
			snprintf(key, sizeof(key), i == 3 ? "f%02d with space.txt" : i == 4 ?
			    "f%02d-ü.txt" : "f%02d.txt", i);
		else
			snprintf(key, sizeof(key), "a/b/g%02d.json", i);
		snprintf(body, sizeof(body), "body of %s", key);
		expect[i] = strdup(key);
		rc = storage_put(s, key, body, strlen(body), i < 15 ? "text/plain" : NULL, err,
		    sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "put %s: %d %s", key, rc, err);
	}
	qsort(expect, 25, sizeof(*expect), by_name);

	/* Recursive, 7 a page, following the cursor: every name once, in order. */
	do {
		char *next = NULL;
		size_t before = nm.n;

		rc = storage_list(s, "", 1, cursor, 7, collect_name, &nm, &next, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "list: %d %s", rc, err);
		cr_assert(nm.n - before <= 7, "a page of %zu", nm.n - before);
		free(cursor);
		cursor = next;
		cr_assert(++pages < 10, "paging does not end");
	} while (cursor != NULL);
	cr_assert_eq(nm.n, 25, "listed %zu", nm.n);
	cr_assert_geq(pages, 4);
	for (size_t i = 0; i < 25; i++)
		cr_assert_str_eq(nm.v[i], expect[i], "at %zu", i);
	for (size_t i = 0; i < nm.n; i++)
		free(nm.v[i]);
	nm.n = 0;

	/* Non-recursive: the 15 top-level blobs, not the a/ folder. */
	rc = storage_list(s, "", 0, NULL, 100, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "list: %d %s", rc, err);
	cr_assert_null(cursor);
	cr_assert_eq(nm.n, 15, "non-recursive listed %zu", nm.n);
	for (size_t i = 0; i < nm.n; i++) {
		cr_assert_null(strchr(nm.v[i], '/'), "%s", nm.v[i]);
		free(nm.v[i]);
	}
	nm.n = 0;

	/* A prefix under the scope. */
	rc = storage_list(s, "a/b/", 0, NULL, 100, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "list: %d %s", rc, err);
	cr_assert_eq(nm.n, 10, "a/b/ listed %zu", nm.n);
	for (size_t i = 0; i < nm.n; i++)
		free(nm.v[i]);
	nm.n = 0;

	/* Get one back. */
	rc = storage_get(s, "f03 with space.txt", sink, &b, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "get: %d %s", rc, err);
	cr_assert_str_eq(b.p, "body of f03 with space.txt");

	/* Presign, and a plain curl GET of the URL works. */
	{
		char *url = NULL;

		rc = storage_presign(s, "a/b/g20.json", 120, &url, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "presign: %d %s", rc, err);
		cr_assert(strstr(url, "sp=r") != NULL, "%s", url);
		memset(&b, 0, sizeof(b));
		cr_assert_eq(curl_get(url, &b), 200, "GET %s: %s", url, b.p);
		cr_assert_str_eq(b.p, "body of a/b/g20.json");
		free(url);
		rc = storage_presign(s, "f04-ü.txt", 0, &url, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "presign: %d %s", rc, err);
		memset(&b, 0, sizeof(b));
		cr_assert_eq(curl_get(url, &b), 200, "GET %s: %s", url, b.p);
		cr_assert_str_eq(b.p, "body of f04-ü.txt");
		free(url);
	}

	/* Delete, then get and delete again: not found, and nothing reaches the sink. */
	rc = storage_del(s, "f00.txt", err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "del: %d %s", rc, err);
	memset(&b, 0, sizeof(b));
	rc = storage_get(s, "f00.txt", sink, &b, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_NOT_FOUND, "get after del: %d %s", rc, err);
	cr_assert_eq(b.n, 0, "an error body reached the sink: %s", b.p);
	rc = storage_del(s, "f00.txt", err, sizeof(err));
	cr_assert_eq(rc, STORAGE_NOT_FOUND, "del again: %d %s", rc, err);

	/* Traversal-shaped keys never leave the process. */
	rc = storage_get(s, "a/../f01.txt", sink, &b, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "a ../ key: %d %s", rc, err);

	storage_close(s);
	for (size_t i = 0; i < 25; i++)
		free(expect[i]);
}

Test(azure_connector, prefix_scopes_the_storage)
{
	char container[64], err[256], *cursor = NULL;
	struct names nm = { 0 };
	struct buf b = { 0 };
	struct storage *s, *all;
	int rc;

	snprintf(container, sizeof(container), "siali-azp-%s", e2e_unique());
	create_container(container);
	all = open_az(container, "", AZ_KEY, NULL);
	cr_assert_eq(storage_put(all, "in/x.txt", "x", 1, NULL, err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_eq(storage_put(all, "out/y.txt", "y", 1, NULL, err, sizeof(err)), STORAGE_OK, "%s", err);
	s = open_az(container, "in/", AZ_KEY, NULL);
	rc = storage_list(s, "", 1, NULL, 10, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "list: %d %s", rc, err);
	cr_assert_eq(nm.n, 1);
	cr_assert_str_eq(nm.v[0], "in/x.txt");
	free(nm.v[0]);
	rc = storage_get(s, "out/y.txt", sink, &b, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "outside the prefix: %d %s", rc, err);
	rc = storage_put(s, "out/z.txt", "z", 1, NULL, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "outside the prefix: %d %s", rc, err);
	storage_close(s);
	storage_close(all);
}

Test(azure_connector, a_tampered_key_is_auth)
{
	char err[256], *cursor = NULL, key[] = AZ_KEY;
	struct names nm = { 0 };
	struct storage *s;
	int rc;

	key[0] = key[0] == 'A' ? 'B' : 'A';
	s = open_az("siali-anything", "", key, NULL);
	rc = storage_list(s, "", 1, NULL, 10, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_AUTH, "list with a tampered key: %d %s", rc, err);
	cr_assert(strstr(err, "account_key") != NULL, "%s", err);
	cr_assert_null(strstr(err, key), "the key is in the message: %s", err);
	storage_close(s);
}

Test(azure_connector, a_missing_container_is_not_found)
{
	char container[64], err[256], *cursor = NULL;
	struct names nm = { 0 };
	struct storage *s;
	int rc;

	snprintf(container, sizeof(container), "siali-none-%s", e2e_unique());
	s = open_az(container, "", AZ_KEY, NULL);
	rc = storage_list(s, "", 1, NULL, 10, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_NOT_FOUND, "list: %d %s", rc, err);
	cr_assert(strstr(err, container) != NULL, "%s", err);
	storage_close(s);
}

Test(azure_connector, an_endpoint_the_guard_refuses_is_refused)
{
	char endpoint[320], host[128], err[256], *cursor = NULL, *colon;
	struct names nm = { 0 };
	struct buf b = { 0 };
	struct storage *s;
	int rc;

	snprintf(host, sizeof(host), "%s", az_host);
	colon = strrchr(host, ':');
	cr_assert(colon != NULL);
	*colon = '\0';
	/* The same loopback address on a port outbound_allow_hosts does not list. */
	snprintf(endpoint, sizeof(endpoint), "http://%s:%d%s", host,
	    atoi(colon + 1) == 65535 ? 65534 : atoi(colon + 1) + 1, az_prefix);
	s = open_az("siali-anything", "", AZ_KEY, endpoint);
	rc = storage_list(s, "", 1, NULL, 10, collect_name, &nm, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "list: %d %s", rc, err);
	rc = storage_get(s, "x.txt", sink, &b, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "get: %d %s", rc, err);
	storage_close(s);
}

Test(azure_connector, bad_configs_are_refused_at_open)
{
	static const char *const bad[] = {
		"{}",
		"{\"container\":\"c\",\"account_name\":\"a\",\"account_key\":\"k\"}",
		"{\"container\":\"ok-name\",\"account_key\":\"k\"}",
		"{\"container\":\"ok-name\",\"account_name\":\"a\"}",
		"{\"container\":\"ok-name\",\"account_name\":\"a\",\"account_key\":\"k\","
		    "\"endpoint\":\"ftp://x/\"}",
		"{\"container\":\"ok-name\",\"account_name\":\"a\",\"account_key\":\"k\","
		    "\"endpoint\":\"http://u:p@x/\"}",
		"{\"container\":\"ok-name\",\"account_name\":\"a\",\"account_key\":\"k\","
		    "\"presign_ttl\":0}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct json_object *c = json_tokener_parse(bad[i]);
		struct storage s = { &storage_azure_ops, NULL };
		char err[256] = "";

		cr_assert(c != NULL);
		cr_expect_eq(storage_azure_ops.open(&s, c, err, sizeof(err)), STORAGE_REFUSED, "%s",
		    bad[i]);
		cr_expect_null(s.impl);
		cr_expect(err[0] != '\0');
		json_object_put(c);
	}
}
