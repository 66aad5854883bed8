/* The storage layer shared by the API, the sync and the media endpoints (handlers/storage_common.c),
 * without a database: the kinds table, defaults and secrets in rendering, object URIs and their
 * splitting, what a storage covers, the regex_filter. */
#include <string.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "req.h"
#include "shared.h"

static struct req r;

static void
setup(void)
{
	memset(&r, 0, sizeof(r));
	req_begin(&r);
}

static void
teardown(void)
{
	req_end(&r);
	req_release(&r);
}

TestSuite(storage_common, .init = setup, .fini = teardown);

/* A storage of kind segment with config (JSON text), as if loaded from a STOR_COLS row. */
static struct stor
make(const char *segment, int export, const char *config)
{
	static struct db_row row;
	static const char *cols[STOR_NCOLS];
	static unsigned long lens[STOR_NCOLS];
	struct stor s;

	memset(cols, 0, sizeof(cols));
	cols[STOR_C_ID] = "7";
	cols[STOR_C_PROJECT] = "3";
	cols[STOR_C_ORG] = "1";
	cols[STOR_C_DIRECTION] = export ? "export" : "import";
	cols[STOR_C_KIND] = segment;
	cols[STOR_C_CONFIG] = config;
	cols[STOR_C_SYNCHRONIZABLE] = "1";
	cols[STOR_C_STATUS] = "initialized";
	cols[STOR_C_META] = "{}";
	cols[STOR_C_CREATED_AT] = "2026-11-25T09:00:00.000000Z";
	for (int i = 0; i < STOR_NCOLS; i++)
		lens[i] = cols[i] ? strlen(cols[i]) : 0;
	memset(&row, 0, sizeof(row));
	row.v = (char **)cols;
	row.len = lens;
	row.ncols = STOR_NCOLS;
	cr_assert_eq(stor_from_row(&r, &row, &s), 0);
	return s;
}

Test(storage_common, kinds_are_found_by_segment_and_scheme)
{
	cr_assert_str_eq(stor_kind_by_segment("azure")->type, "azure_blob");
	cr_assert_str_eq(stor_kind_by_scheme("gs")->segment, "gcs");
	cr_assert_null(stor_kind_by_segment("s3s"));
	cr_assert_null(stor_kind_by_scheme("file"));
	cr_assert_null(stor_kind_by_scheme("redis"));
	/* import-only and export-only fields exist only on their side */
	cr_assert_not_null(stor_field(stor_kind_by_segment("s3"), 0, "presign"));
	cr_assert_null(stor_field(stor_kind_by_segment("s3"), 1, "presign"));
	cr_assert_not_null(stor_field(stor_kind_by_segment("s3"), 1, "can_delete_objects"));
	cr_assert_null(stor_field(stor_kind_by_segment("s3"), 0, "can_delete_objects"));
}

Test(storage_common, rendering_fills_defaults_and_never_shows_secrets)
{
	struct stor s = make("s3", 0, "{\"bucket\":\"b\",\"aws_access_key_id\":\"AKIAXX\","
	    "\"aws_secret_access_key\":\"s3cr3t\",\"aws_session_token\":\"tok\"}");
	struct json_object *o = req_own(&r, stor_json(&r, &s));
	const char *text = json_object_to_json_string(o);

	cr_assert_null(strstr(text, "s3cr3t"), "%s", text);
	cr_assert_null(strstr(text, "AKIAXX"), "%s", text);
	cr_assert_null(strstr(text, "tok\""), "%s", text);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "type")), "s3");
	cr_assert_eq(json_object_get_boolean(json_object_object_get(o, "presign")), 1);
	cr_assert_eq(json_object_get_int(json_object_object_get(o, "presign_ttl")), 1);
	cr_assert(json_object_object_get_ex(o, "prefix", NULL));
	cr_assert(!json_object_object_get_ex(o, "can_delete_objects", NULL));
	cr_assert_eq(json_object_get_int(json_object_object_get(o, "project")), 3);

	s = make("azure", 1, "{\"container\":\"c\",\"account_name\":\"acct\",\"account_key\":\"k==\"}");
	o = req_own(&r, stor_json(&r, &s));
	text = json_object_to_json_string(o);
	cr_assert_null(strstr(text, "acct"), "%s", text);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "type")), "azure_blob");
	cr_assert_eq(json_object_get_boolean(json_object_object_get(o, "can_delete_objects")), 0);
	cr_assert(!json_object_object_get_ex(o, "presign", NULL));
}

Test(storage_common, object_uris_round_trip)
{
	struct stor s = make("s3", 0, "{\"bucket\":\"media\",\"prefix\":\"img\"}");
	const struct stor_kind *k;
	const char *bucket, *key, *uri = stor_object_uri(&r, &s, "img/a b.png");

	cr_assert_str_eq(uri, "s3://media/img/a b.png");
	cr_assert_eq(stor_uri_split(&r, uri, &k, &bucket, &key), 1);
	cr_assert_str_eq(k->segment, "s3");
	cr_assert_str_eq(bucket, "media");
	cr_assert_str_eq(key, "img/a b.png");
	cr_assert_eq(stor_covers(&s, bucket, key), 1);

	s = make("azure", 0, "{\"container\":\"c\"}");
	cr_assert_str_eq(stor_object_uri(&r, &s, "x/y.wav"), "azure-blob://c/x/y.wav");
	cr_assert_eq(stor_uri_split(&r, "gs://b/k", &k, &bucket, &key), 1);
	cr_assert_str_eq(k->segment, "gcs");
	/* not URIs of a cloud kind */
	cr_assert_eq(stor_uri_split(&r, "https://b/k", &k, &bucket, &key), 0);
	cr_assert_eq(stor_uri_split(&r, "s3://bucket", &k, &bucket, &key), 0);
	cr_assert_eq(stor_uri_split(&r, "s3:///key", &k, &bucket, &key), 0);
	cr_assert_eq(stor_uri_split(&r, "s3://b/", &k, &bucket, &key), 0);
	cr_assert_eq(stor_uri_split(&r, "", &k, &bucket, &key), 0);
	/* Redis has no URIs of its own: the value is the URL */
	s = make("redis", 0, "{\"path\":\"p:\"}");
	cr_assert_null(stor_object_uri(&r, &s, "p:1"));
}

Test(storage_common, local_file_uris_are_relative_to_the_root_and_encoded)
{
	struct stor s;

	snprintf(cfg.local_files_root, sizeof(cfg.local_files_root), "/srv/files/");
	s = make("localfiles", 0, "{\"path\":\"/srv/files/set 1\"}");
	cr_assert_str_eq(stor_object_uri(&r, &s, "a/b&c.jpg"),
	    "/data/local-files/?d=set%201/a/b%26c.jpg");
	s = make("localfiles", 0, "{\"path\":\"set2/\"}");
	cr_assert_str_eq(stor_object_uri(&r, &s, "x.txt"), "/data/local-files/?d=set2/x.txt");
	cfg.local_files_root[0] = '\0';
}

Test(storage_common, a_prefix_is_a_folder)
{
	struct stor s = make("s3", 0, "{\"bucket\":\"b\",\"prefix\":\"/data/\"}");

	cr_assert_eq(stor_covers(&s, "b", "data/x.png"), 1);
	cr_assert_eq(stor_covers(&s, "b", "data2/x.png"), 0);
	cr_assert_eq(stor_covers(&s, "b", "data"), 0);
	cr_assert_eq(stor_covers(&s, "other", "data/x.png"), 0);
	s = make("gcs", 0, "{\"bucket\":\"b\"}");
	cr_assert_eq(stor_covers(&s, "b", "anything"), 1);
	/* Azure's prefix is given to the connector as a folder too */
	s = make("azure", 0, "{\"container\":\"c\",\"prefix\":\"logs\"}");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(stor_connector_config(&r, &s),
	    "prefix")), "logs/");
	cr_assert_eq(stor_covers(&s, "c", "logs2/a"), 0);
}

Test(storage_common, regex_filter_matches_like_python_re_match)
{
	char err[256] = "";
	struct stor_filter *f = stor_filter_new(&r, "img/.*\\.png", err, sizeof(err));

	cr_assert_not_null(f, "%s", err);
	cr_assert_eq(stor_filter_match(f, "img/a.png", 9), 1);
	cr_assert_eq(stor_filter_match(f, "img/a.pngx", 10), 1);       /* not anchored at the end */
	cr_assert_eq(stor_filter_match(f, "x/img/a.png", 11), 0);      /* anchored at the start */
	f = stor_filter_new(&r, "", err, sizeof(err));
	cr_assert_eq(stor_filter_match(f, "anything", 8), 1);
	cr_assert_null(stor_filter_new(&r, "([a-z", err, sizeof(err)));
	cr_assert_not_null(strstr(err, "regex_filter"), "%s", err);
	/* catastrophic backtracking stops at the match limit instead of stalling */
	f = stor_filter_new(&r, "(a+)+$", err, sizeof(err));
	cr_assert_eq(stor_filter_match(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 45), 0);
}
