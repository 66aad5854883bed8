/* The GCS connector (app/storage/gcs.c) against the stack's GCS test double
 * (tests/gcs_double/gcs_double.py, SIALI_TEST_GCS_URL): the OAuth exchange (the double verifies
 * the RS256 JWT against the service account's public key and then wants the bearer token on
 * every call), put, list with pageToken cursors (recursive and not), get, presign (the double
 * checks the V4 signature and expiry) and a tampered signed URL, delete, and the error mapping
 * (a different key for the same account, an endpoint the SSRF guard refuses, keys outside the
 * prefix). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "config.h"
#include "e2e.h"
#include "gcs.h"
#include "sign.h"
#include "storage.h"

/* The double's built-in account (TEST_EMAIL / TEST_PUBLIC_KEY in gcs_double.py): this is its
 * private key. A throwaway key made for these tests, good for nothing else. */
#define GCS_EMAIL "siali-test@siali-test.iam.gserviceaccount.com"
static const char gcs_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDBJyKAoOGnG3Dc\n"
	"V0fmU6Rg/zDXdwyFImFuJLJQMsZknlhg2lZ7dNwfVJEGHXUWcr/XE7lBPELplDha\n"
	"vAIdRIfz0yTRc2UA8WEUrY94FUvFeZpg+dRNlqxq5WQqh9VIjZ83z3fpWZ1wHC6B\n"
	"aXzS8KMD9aSafiVDHpFYRn+UICx+TN1wBfDW07jLILIBdvMIKCkCP/DvwR4sztww\n"
	"dMgL4x/MHpHSMdsqTGWIUXt6tHQ6LpbYlOdR527NHia421sMzTwzIoTRkI/7Ne0o\n"
	"hdoX1y8IQSSa55LpQzAybM9GdP01KgnTx1TjwwtX6zFWDpQ2gZq/uXpTgzgo2wBj\n"
	"MmgO/SyvAgMBAAECggEAH7Z1XOl36HrCFCiaa/p7Uyz4T8VtP1Cj7t8Z4xQAbIBu\n"
	"YfHcitGRhe1ZuvIhiXQsA5E/9IeDNEbl3R6K5FOeVLiWjh25otF+zykolJ6T0xJC\n"
	"TWjHZDkjCZFXLv/KqL+5OVhtci6IrGGxewWe/SKNnqFOth+UWPRPCHous9sieFaM\n"
	"wZLahqbnXfScobSGeGzYTn9uTNBxHkXxiFdbEpW2l76g7EKuAcxo0c/cGgfoqYjy\n"
	"jJsIN3fuc/jeGoe3V9pwNCE0cfGyBp8rsKVsiQ76/LRTdLcMa8vLSXLX1Tr7w1gV\n"
	"oBPuMOkXnhMAEpxVdGrHDXjT4W9/NCM+d+5+G828cQKBgQD0savHEwhOzjhzGpPf\n"
	"RniP0kEdeFsKxPdBQtXT6xlFe+ZK/yO74+7+Q1g2EhO85qbTHUymws08ixSiOICJ\n"
	"owH5XQ2YctPZGdcJn/wGPg9biQ75yEVrB2sQk1SXhVh3U4xEOCnMspfEZTa0jxsk\n"
	"acFXjyNHxFA4O9Y0FJ6Y9s+ysQKBgQDKE9EAx6qU0+k8JX2RF1TlWQCUW5KlkDT3\n"
	"rCM5aQM1soRScfrJBf/C6rFaA8OAp6V4XOpcBrXYiOV3v2T96+QO8AM7i2LsFBPU\n"
	"zIUOl5u1Ma0L23O3MZePObE82xmazlhKKXyG4BvaB+Jx7ficHAC0z9RoYJc4y86f\n"
	"VkBErjztXwKBgEkPg6q9FA3zpQc5OE3CTN0keizCcuyUQv9JZW8RE0qb4/cglxrS\n"
	"w9lHYl9CpoIQnF8MsIZaQ81/+Xk2RarS8RPzpMuP/ZElFf/ZtPZoMU2zbrVGBvQe\n"
	"EumwE+Hp/rAiUg9Mda6Y5JfPYLYoxIHq0b/DDVWwWANyWlLSlUg26W0BAoGAbT7F\n"
	"UOyglZDymGeUOKoqZUr2ez3+S69oUzUmXdUdvRvjWUbxU1gA6vlCI+3A9X6sgCOL\n"
	"N3ERQhzQISrBiFzMkB7FQJ2cPxCjn/lpPXhM32oZqT1ck38l9nI0FThF4WEIbh97\n"
	"iNcDd52nl/wU2SByaU2qATumxTe5Xn6chATGP3UCgYEAv4uB2fpU6iL6KmoeNl+3\n"
	"B1MUspXxhkXhRnPlj7eLbCXG6MlqavmRFOygMYi3vAAxdObgnR80Bz/Bq6T6CWHx\n"
	"XcDaw793198/B1WENhX4CLh/BFB0zK5rMVkiSklE/7zd2I5hveRwH7xgvWNhn7EM\n"
	"CZ5oo5xr7eNMf6utsFAdtSo=\n"
	"-----END PRIVATE KEY-----\n";

/* Another key: the double does not know it, so a JWT signed with it must be refused. */
static const char gcs_wrong_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDBHRRIDHcF2xWM\n"
	"y6j1kMzmtqGlFy+j1AhZGeHtDf9gTiucuAueS13j5JYWaZt9sm/I4nmiLYbXuIZ+\n"
	"Ln8rcQIFNuUpw5/Y7N12GGXt86L9mcwna+0p1uBYqEKWkcHMNi8ADvjKqD457v0N\n"
	"WYq51LfJd8F2mE75JiwEOcnlJhhiTTkv3xXx9d4dDwXg6/VgIpsiBk1H+pI2dR6q\n"
	"ji9TGmNzXvtHuYySLQ6TNj6wpqPHj+hIhMHe+aNp65R5GDcrxMrYPomMcH2aVKRG\n"
	"pV36XCec8GNqq0a8rgHCAWxlt+Xn3Oq90H4E1+JfKPZPyOwyaFYrvRa9TOXIqS4C\n"
	"vESVJCc3AgMBAAECggEADb3bfRsB9zU1Td0KK1s/8WTqkLxbI/3JEEoStRMrand1\n"
	"jAPes8dqKXbRJUwjh+jEIpfXDu7NaxlS3LTDUNyMR8G1weiNPdrxEV/AFRQis4gX\n"
	"qnB4ImOLeFOU1XEOyNDMPGVUV9tr/iRe9m26POoBoAD5D87bw8fvFufj0X4J+yii\n"
	"8NbvUMlVjxQIn1q9YY1w4Nj/huMz0eMnYOL4mvDbMpYU2fTMDTRSWZDoKtMg29P+\n"
	"QKcD1WOI3kDEcgPNDI8HyxG3GvdRxoUuVvYAcKjhXg/6UM5pwQKIdPZWlRDGZB5j\n"
	"/CuUFV2bGJBLcrQiVR0+b3VNSPRtqO9uXRBaP776hQKBgQDmRwnv0XJFvqnGLSuR\n"
	"J7ehgFhV/v7n1bgQULmFUryKblpygAY/qXMl13EWxrhgniNg0OLUXzszxMMjU6VY\n"
	"IpTfD6beULsPqoJ3ToHwR2I7IxwlrP07amq2l6Wdw+O6mhkyky3J4oHzfugpUIWv\n"
	"9lXRpPFP+zYNJGw9lGeugJCXvQKBgQDWr09j5gQOepQlI7BSayZqc34h47C5KsBV\n"
	"yzImUIq+ZiNVXpHJduHXgLeVjXjqX12l+wj3HF1la0Ovp88zOWFOgXLoUhwYnL2g\n"
	"GjyMUkMfuRNuaqq/S/05BeuEqs/Vuq/ej9RzlNXBvlWa5/SY2vXAE2wjE5F5WjU8\n"
	"0RncCbHgAwKBgQDXq8j+tydTcxMG7N9U/+HYfKA/Sqfq8huGDFT1LVwwOtKzUnyH\n"
	"u2iBFJpyPoQI2ZNA5eLMDLUh8zLgL0M4nIrZr4sVxH6uWX//xaOlKvYxdNyz3KT/\n"
	"tNdlU/plHEZ5SkI3P+kun9od98nwh93tw8T0qIrp4dnpzScjNY81vGuv8QKBgQCx\n"
	"8ZNbWT8JhT6f3gn69odb+qiUjHZhtHbBZfAGZAHsORqWWxF5rIkbJ7yDQET19t/X\n"
	"gND4idE8DAGJag1LBweJm7BTsiNJnzlpp/WB1Xl/pNbfUZh/gQu9pROG3lHwdJHr\n"
	"ZsoQl0/qC8pG4HYT8IF7mF2sYT7WGBhCdYr6oCqIYwKBgQDIls2tEmGVebCXcZDK\n"
	"EubGg5GMblfX+pARzxkZUUA/YWDYNkZyzllYxT29+tdoJjzP7g0fzs+SwmkMrPjQ\n"
	"fI+1uh3GiqLsCnEWGRk5qX1XeL25L+QbqnJehi+ZDjjuugW9qvtaH85wXeYKCeCh\n"
	"XxnhvklrkAsQfYI6KRrBy581Tg==\n"
	"-----END PRIVATE KEY-----\n";

static char gcs_url[256], gcs_host[128];

static void
setup(void)
{
	const char *u = getenv("SIALI_TEST_GCS_URL");
	const char *h;

	cr_assert(u != NULL && *u != '\0', "SIALI_TEST_GCS_URL is not set: the GCS test double is "
	    "not running (python3-cryptography: `make deps`, then `make test`)");
	snprintf(gcs_url, sizeof(gcs_url), "%s", u);
	cr_assert(strncmp(u, "http://", 7) == 0);
	h = u + 7;
	snprintf(gcs_host, sizeof(gcs_host), "%.*s", (int)strcspn(h, "/"), h);
	config_defaults(&cfg);
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "%s", gcs_host);
}

TestSuite(gcsconn, .init = setup, .timeout = 120);

/* The service-account JSON, as Google hands it out, with the double's token endpoint. */
static char *
sa_json(const char *pem)
{
	struct json_object *j = json_object_new_object();
	char uri[300];
	char *s;

	snprintf(uri, sizeof(uri), "%s/token", gcs_url);
	json_object_object_add(j, "type", json_object_new_string("service_account"));
	json_object_object_add(j, "project_id", json_object_new_string("siali-test"));
	json_object_object_add(j, "private_key_id", json_object_new_string("0123abcd"));
	json_object_object_add(j, "private_key", json_object_new_string(pem));
	json_object_object_add(j, "client_email", json_object_new_string(GCS_EMAIL));
	json_object_object_add(j, "token_uri", json_object_new_string(uri));
	s = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return s;
}

static struct storage *
open_gcs(const char *bucket, const char *prefix, const char *endpoint, const char *pem)
{
	struct json_object *cfgj = json_object_new_object();
	struct storage *s;
	char err[256] = "", *sa = sa_json(pem);

	json_object_object_add(cfgj, "bucket", json_object_new_string(bucket));
	json_object_object_add(cfgj, "prefix", json_object_new_string(prefix));
	json_object_object_add(cfgj, "google_application_credentials", json_object_new_string(sa));
	json_object_object_add(cfgj, "google_project_id", json_object_new_string("siali-test"));
	json_object_object_add(cfgj, "endpoint", json_object_new_string(endpoint));
	json_object_object_add(cfgj, "presign_ttl", json_object_new_int(5));
	s = storage_open("gcs", cfgj, err, sizeof(err));
	cr_assert(s != NULL, "open: %s", err);
	json_object_put(cfgj);
	free(sa);
	return s;
}

struct keys {
	char *k[64];
	size_t n;
	int have_meta;
};

static int
collect_key(void *ctx, const struct storage_object *o)
{
	struct keys *ks = ctx;

	cr_assert(ks->n < 64);
	ks->k[ks->n++] = strdup(o->key);
	if (o->size >= 0 && o->mtime > 0 && o->etag != NULL && o->etag[0] != '\0')
		ks->have_meta++;
	return 0;
}

static void
keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	ks->n = 0;
	ks->have_meta = 0;
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

/* GET url with plain libcurl; the status, and the body into k. */
static long
curl_get(const char *url, struct sink *k)
{
	long status = 0;
	CURL *c = curl_easy_init();
	FILE *f = fmemopen(k->buf, sizeof(k->buf) - 1, "w");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	k->n = (size_t)ftell(f);
	fclose(f);
	k->buf[k->n] = '\0';
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

Test(gcsconn, put_list_get_presign_delete_and_errors)
{
	char bucket[64], err[256], key[64], body[64], *cursor = NULL, *expected[64];
	struct storage *s;
	struct keys ks = { 0 };
	size_t nexp = 0, pages = 0;
	int rc;

	snprintf(bucket, sizeof(bucket), "siali-conn-%s", e2e_unique());
	s = open_gcs(bucket, "", gcs_url, gcs_key);

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

	/* Recursive, 7 a page, following pageTokens: every name once, in order. */
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
	cr_assert_eq(ks.n, 25, "listed %zu names", ks.n);
	cr_assert_eq(pages, 4, "25 names at 7 a page took %zu pages", pages);
	cr_assert_eq(ks.have_meta, 25, "size, mtime and etag on %d of 25", ks.have_meta);
	for (size_t i = 0; i < 25; i++)
		cr_assert_str_eq(ks.k[i], expected[i], "position %zu", i);
	keys_free(&ks);

	/* Not recursive: the top level only (a/ is a prefix, not an object)... */
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

	/* Get one back (a '/' and a space in the name: one encoded path segment). */
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "a/b/sp ace22.txt", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "get: %d %s", rc, err);
		cr_assert_str_eq(k.buf, "{\"n\":22}");
	}

	/* Presign, fetch the URL with plain curl; then tamper with it. */
	{
		char *url = NULL, *p;
		struct sink k = { .n = 0 };
		long status;

		rc = storage_presign(s, "a/b/sp ace22.txt", 0, &url, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "presign: %s", err);
		cr_assert_not_null(strstr(url, "X-Goog-Expires=300"), "%s", url);
		cr_assert(strncmp(url, gcs_url, strlen(gcs_url)) == 0, "%s", url);
		status = curl_get(url, &k);
		cr_assert_eq(status, 200, "signed GET: %ld %s", status, k.buf);
		cr_assert_str_eq(k.buf, "{\"n\":22}");

		/* Another object under the same signature. */
		p = strstr(url, "sp%20ace22");
		cr_assert_not_null(p, "%s", url);
		p[9] = '3';
		k.n = 0;
		status = curl_get(url, &k);
		cr_assert_eq(status, 403, "tampered object: %ld %s", status, k.buf);
		p[9] = '2';
		/* A longer life than signed. */
		p = strstr(url, "X-Goog-Expires=300");
		p[strlen("X-Goog-Expires=")] = '9';
		k.n = 0;
		status = curl_get(url, &k);
		cr_assert_eq(status, 403, "tampered expiry: %ld %s", status, k.buf);
		p[strlen("X-Goog-Expires=")] = '3';
		/* A flipped signature digit. */
		p = url + strlen(url) - 1;
		*p = *p == '0' ? '1' : '0';
		k.n = 0;
		status = curl_get(url, &k);
		cr_assert_eq(status, 403, "tampered signature: %ld %s", status, k.buf);
		free(url);
	}

	/* A signed URL past its expiry. */
	{
		char *url = NULL;
		struct sink k = { .n = 0 };
		struct timespec ts = { 2, 200000000L };
		long status;

		rc = storage_presign(s, "k01.json", 1, &url, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_OK, "presign: %s", err);
		nanosleep(&ts, NULL);
		status = curl_get(url, &k);
		cr_assert_eq(status, 403, "expired signed URL: %ld %s", status, k.buf);
		free(url);
	}

	/* Delete, then the object is gone, and deleting again says so. */
	rc = storage_del(s, "k07.json", err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "del: %s", err);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k07.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_NOT_FOUND, "get after del: %d %s", rc, err);
		cr_assert_eq(k.n, 0, "bytes of an error delivered: %s", k.buf);
		cr_assert_null(strstr(err, "{"), "JSON in the message: %s", err);
	}
	rc = storage_del(s, "k07.json", err, sizeof(err));
	cr_assert_eq(rc, STORAGE_NOT_FOUND, "del again: %d %s", rc, err);

	/* Names that are not plain names are refused before any request. */
	{
		struct sink k = { .n = 0 };

		cr_assert_eq(storage_get(s, "a/../k01.json", to_sink, &k, err, sizeof(err)),
		    STORAGE_REFUSED);
		cr_assert_eq(storage_get(s, "", to_sink, &k, err, sizeof(err)), STORAGE_REFUSED);
	}
	storage_close(s);

	/* A storage scoped to the a/ prefix: lists only its names and refuses the others. */
	s = open_gcs(bucket, "a", gcs_url, gcs_key);
	rc = storage_list(s, "", 1, NULL, 100, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_OK, "%s", err);
	cr_assert_eq(ks.n, 5, "under prefix a: %zu", ks.n);
	keys_free(&ks);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k01.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_REFUSED, "a name outside the prefix: %d %s", rc, err);
	}
	storage_close(s);

	/* The same account with a key the double does not know: the token is refused. */
	s = open_gcs(bucket, "", gcs_url, gcs_wrong_key);
	rc = storage_list(s, "", 1, NULL, 10, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_AUTH, "wrong key: %d %s", rc, err);
	cr_assert_null(strstr(err, "{"), "JSON in the message: %s", err);
	cr_assert_null(strstr(err, "PRIVATE"), "a secret in the message: %s", err);
	{
		struct sink k = { .n = 0 };

		rc = storage_get(s, "k01.json", to_sink, &k, err, sizeof(err));
		cr_assert_eq(rc, STORAGE_AUTH, "wrong key, get: %d %s", rc, err);
		cr_assert_eq(k.n, 0);
	}
	/* ...and a URL it signs is refused by the double. */
	{
		char *url = NULL;
		struct sink k = { .n = 0 };
		long status;

		cr_assert_eq(storage_presign(s, "k01.json", 60, &url, err, sizeof(err)), STORAGE_OK,
		    "%s", err);
		status = curl_get(url, &k);
		cr_assert_eq(status, 403, "URL signed with the wrong key: %ld %s", status, k.buf);
		free(url);
	}
	storage_close(s);

	/* An endpoint the SSRF guard refuses (loopback, not in outbound_allow_hosts); the key's
	 * token_uri is still the double, so the token is had and the API call is what is refused. */
	s = open_gcs(bucket, "", "http://127.0.0.1:9/", gcs_key);
	rc = storage_list(s, "", 1, NULL, 10, collect_key, &ks, &cursor, err, sizeof(err));
	cr_assert_eq(rc, STORAGE_REFUSED, "refused endpoint: %d %s", rc, err);
	cr_assert_not_null(strstr(err, "outbound_allow"), "%s", err);
	storage_close(s);

	for (size_t i = 0; i < nexp; i++)
		free(expected[i]);
}

/* The JSON API wants a bearer token the double issued: without one, 401. */
Test(gcsconn, double_refuses_requests_without_a_token)
{
	char url[512];
	struct sink k = { .n = 0 };
	long status;

	snprintf(url, sizeof(url), "%s/storage/v1/b/siali-any/o", gcs_url);
	status = curl_get(url, &k);
	cr_assert_eq(status, 401, "unauthenticated listing: %ld %s", status, k.buf);
}

Test(gcsconn, config_is_checked_at_open)
{
	const char *bad[] = {
		"{}",
		"{\"bucket\":\"b/c\",\"google_application_credentials\":\"{}\"}",
		"{\"bucket\":\"bucket\"}",
		"{\"bucket\":\"bucket\",\"google_application_credentials\":\"not json\"}",
		"{\"bucket\":\"bucket\",\"google_application_credentials\":\"{\\\"client_email\\\":"
		    "\\\"a@b\\\"}\"}",
	};
	char *sa = sa_json(gcs_key);

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct json_object *j = json_tokener_parse(bad[i]);
		char err[256] = "";
		struct storage *s;

		cr_assert_not_null(j, "%s", bad[i]);
		s = storage_open("gcs", j, err, sizeof(err));
		cr_expect_null(s, "%s was accepted", bad[i]);
		cr_expect(err[0] != '\0', "%s: no message", bad[i]);
		storage_close(s);
		json_object_put(j);
	}
	/* Bad endpoint and ttl with a good key. */
	{
		const char *extra[][2] = {
			{ "endpoint", "ftp://x/" },
			{ "endpoint", "http://u:p@x/" },
			{ "presign_ttl", "0" },
			{ "presign_ttl", "20000" },
		};

		for (size_t i = 0; i < sizeof(extra) / sizeof(*extra); i++) {
			struct json_object *j = json_object_new_object();
			char err[256] = "";
			struct storage *s;

			json_object_object_add(j, "bucket", json_object_new_string("bucket"));
			json_object_object_add(j, "google_application_credentials",
			    json_object_new_string(sa));
			json_object_object_add(j, extra[i][0], json_object_new_string(extra[i][1]));
			s = storage_open("gcs", j, err, sizeof(err));
			cr_expect_null(s, "%s=%s was accepted", extra[i][0], extra[i][1]);
			cr_expect(err[0] != '\0');
			cr_expect_null(strstr(err, "PRIVATE"), "a secret in the message: %s", err);
			storage_close(s);
			json_object_put(j);
		}
	}
	/* The default endpoint: Google's, and a signed URL says so. */
	{
		struct json_object *j = json_object_new_object();
		char err[256] = "", *url = NULL;
		struct storage *s;

		json_object_object_add(j, "bucket", json_object_new_string("my-bucket"));
		json_object_object_add(j, "google_application_credentials", json_object_new_string(sa));
		s = storage_open("gcs", j, err, sizeof(err));
		cr_assert_not_null(s, "%s", err);
		cr_assert_eq(storage_presign(s, "a b/c.json", 60, &url, err, sizeof(err)), STORAGE_OK,
		    "%s", err);
		const char *want = "https://storage.googleapis.com/my-bucket/a%20b/c.json?";

		cr_assert(strncmp(url, want, strlen(want)) == 0, "%s", url);
		cr_assert_not_null(strstr(url, "X-Goog-Algorithm=GOOG4-RSA-SHA256"), "%s", url);
		cr_assert_not_null(strstr(url, "X-Goog-Expires=60&"), "%s", url);
		free(url);
		storage_close(s);
		json_object_put(j);
	}
	free(sa);
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
Test(gcsconn, large_object_streams_and_sink_can_stop)
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
	s = open_gcs(bucket, "media", gcs_url, gcs_key);
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
