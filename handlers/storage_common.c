/* storage_common.c — the storage kinds as data (their fields, which are secret, their URIs), and
 * what the storage API (storages.c), the sync jobs (storage_sync.c) and the media endpoints
 * (presign.c) share: loading a storage row in the caller's organization, rendering it without its
 * secrets, and opening its connector (app/storage/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "outbound.h"
#include "shared.h"
#include "storage.h"

/* Fields every kind has (the sync's), then each kind's own. Defaults are Label Studio's. */
#define COMMON_FIELDS \
	{ "regex_filter", SF_STR, 0, NULL }, \
	{ "use_blob_urls", SF_BOOL, 0, "false" }, \
	{ "can_delete_objects", SF_BOOL, SF_EXPORT, "false" }
#define PRESIGN_FIELDS \
	{ "presign", SF_BOOL, SF_IMPORT, "true" }, \
	{ "presign_ttl", SF_INT, SF_IMPORT, "1" }, \
	{ "recursive_scan", SF_BOOL, SF_IMPORT, "false" }

static const struct stor_field s3_fields[] = {
	COMMON_FIELDS, PRESIGN_FIELDS,
	{ "bucket", SF_STR, 0, NULL },
	{ "prefix", SF_STR, 0, NULL },
	{ "aws_access_key_id", SF_STR, SF_SECRET, NULL },
	{ "aws_secret_access_key", SF_STR, SF_SECRET, NULL },
	{ "aws_session_token", SF_STR, SF_SECRET, NULL },
	{ "aws_sse_kms_key_id", SF_STR, 0, NULL },
	{ "region_name", SF_STR, 0, NULL },
	{ "s3_endpoint", SF_STR, 0, NULL },
	{ NULL, 0, 0, NULL }
};

static const struct stor_field gcs_fields[] = {
	COMMON_FIELDS, PRESIGN_FIELDS,
	{ "bucket", SF_STR, 0, NULL },
	{ "prefix", SF_STR, 0, NULL },
	{ "google_application_credentials", SF_STR, SF_SECRET, NULL },
	{ "google_project_id", SF_STR, 0, NULL },
	{ "endpoint", SF_STR, 0, NULL },                /* ours: the JSON API's base URL */
	{ NULL, 0, 0, NULL }
};

static const struct stor_field azure_fields[] = {
	COMMON_FIELDS, PRESIGN_FIELDS,
	{ "container", SF_STR, 0, NULL },
	{ "prefix", SF_STR, 0, NULL },
	{ "account_name", SF_STR, SF_SECRET, NULL },
	{ "account_key", SF_STR, SF_SECRET, NULL },
	{ "endpoint", SF_STR, 0, NULL },                /* ours: the Blob service's base URL */
	{ NULL, 0, 0, NULL }
};

static const struct stor_field redis_fields[] = {
	COMMON_FIELDS,
	{ "path", SF_STR, 0, NULL },
	{ "host", SF_STR, 0, NULL },
	{ "port", SF_STR, 0, NULL },
	{ "password", SF_STR, SF_SECRET, NULL },
	{ "db", SF_INT, 0, "1" },
	{ NULL, 0, 0, NULL }
};

static const struct stor_field local_fields[] = {
	COMMON_FIELDS,
	{ "recursive_scan", SF_BOOL, SF_IMPORT, "false" },
	{ "path", SF_STR, 0, NULL },
	{ NULL, 0, 0, NULL }
};

const struct stor_kind stor_kinds[] = {
	{ "s3", "s3", "AWS S3", "s3", "bucket", s3_fields },
	{ "gcs", "gcs", "Google Cloud Storage", "gs", "bucket", gcs_fields },
	{ "azure", "azure_blob", "Microsoft Azure", "azure-blob", "container", azure_fields },
	{ "redis", "redis", "Redis", NULL, NULL, redis_fields },
	{ "localfiles", "localfiles", "Local files", NULL, NULL, local_fields },
};
const size_t stor_kinds_count = sizeof(stor_kinds) / sizeof(stor_kinds[0]);

const struct stor_kind *
stor_kind_by_segment(const char *segment)
{
	for (size_t i = 0; segment != NULL && i < stor_kinds_count; i++)
		if (strcmp(stor_kinds[i].segment, segment) == 0)
			return &stor_kinds[i];
	return NULL;
}

const struct stor_kind *
stor_kind_by_scheme(const char *scheme)
{
	for (size_t i = 0; scheme != NULL && i < stor_kinds_count; i++)
		if (stor_kinds[i].scheme != NULL && strcmp(stor_kinds[i].scheme, scheme) == 0)
			return &stor_kinds[i];
	return NULL;
}

const struct stor_field *
stor_field(const struct stor_kind *k, int export, const char *name)
{
	for (const struct stor_field *f = k->fields; f->name != NULL; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		if ((f->flags & SF_IMPORT && export) || (f->flags & SF_EXPORT && !export))
			return NULL;
		return f;
	}
	return NULL;
}

int
stor_from_row(struct req *r, const struct db_row *row, struct stor *s)
{
	struct json_object *stored;

	memset(s, 0, sizeof(*s));
	s->kind = stor_kind_by_segment(db_str(row, STOR_C_KIND));
	if (s->kind == NULL)
		return -1;
	s->id = db_int(row, STOR_C_ID);
	s->project_id = db_int(row, STOR_C_PROJECT);
	s->organization_id = db_int(row, STOR_C_ORG);
	s->export = strcmp(db_str(row, STOR_C_DIRECTION), "export") == 0;
	s->row = row;
	stored = req_own(r, json_tokener_parse(db_str(row, STOR_C_CONFIG)));
	s->config = req_own(r, json_object_new_object());
	/* every field of the kind, from the stored config or its default */
	for (const struct stor_field *f = s->kind->fields; f->name != NULL; f++) {
		struct json_object *v;

		if (stor_field(s->kind, s->export, f->name) == NULL)
			continue;
		if (json_object_is_type(stored, json_type_object) &&
		    json_object_object_get_ex(stored, f->name, &v))
			json_object_object_add(s->config, f->name, json_object_get(v));
		else if (f->def != NULL)
			json_object_object_add(s->config, f->name, json_tokener_parse(f->def));
		else
			json_object_object_add(s->config, f->name, NULL);
	}
	return 0;
}

static int
load(struct req *r, struct db_row *row, int rc, const struct stor_kind *k, struct stor *s)
{
	if (rc <= 0)
		return rc;
	if (stor_from_row(r, row, s) != 0)
		return 0;
	if (k != NULL && s->kind != k)
		return 0;
	return 1;
}

int
stor_load(struct req *r, int64_t id, int export, const struct stor_kind *k, struct stor *s)
{
	struct db_row *row = req_alloc(r, sizeof(*row));
	int rc = db_row(r, row, STMT_STOR_GET, "iis", id, r->who.org_id, export ? "export" : "import");

	return load(r, row, rc, k, s);
}

int
stor_load_any(struct req *r, int64_t id, struct stor *s)
{
	struct db_row *row = req_alloc(r, sizeof(*row));
	int rc = db_row(r, row, STMT_STOR_GET_ANY, "i", id);

	return load(r, row, rc, NULL, s);
}

struct json_object *
stor_json(struct req *r, const struct stor *s)
{
	const struct db_row *row = s->row;
	struct json_object *o = json_object_new_object(), *meta;

	(void)r;
	jadd_int(o, "id", s->id);
	jadd_str(o, "type", s->kind->type);
	jadd_bool(o, "synchronizable", (int)db_int(row, STOR_C_SYNCHRONIZABLE));
	jadd_str(o, "last_sync", db_null(row, STOR_C_LAST_SYNC) ? NULL : db_str(row, STOR_C_LAST_SYNC));
	jadd_int_or_null(o, "last_sync_count", db_int(row, STOR_C_LAST_SYNC_COUNT),
	    db_null(row, STOR_C_LAST_SYNC_COUNT));
	jadd_str(o, "last_sync_job", db_null(row, STOR_C_LAST_SYNC_JOB) ? NULL : db_str(row, STOR_C_LAST_SYNC_JOB));
	jadd_str(o, "status", db_str(row, STOR_C_STATUS));
	jadd_str(o, "traceback", db_null(row, STOR_C_TRACEBACK) ? NULL : db_str(row, STOR_C_TRACEBACK));
	meta = json_tokener_parse(db_str(row, STOR_C_META));
	if (!json_object_is_type(meta, json_type_object)) {
		json_object_put(meta);
		meta = json_object_new_object();
	}
	json_object_object_add(o, "meta", meta);
	jadd_str(o, "title", db_null(row, STOR_C_TITLE) ? NULL : db_str(row, STOR_C_TITLE));
	jadd_str(o, "description", db_null(row, STOR_C_DESCRIPTION) ? NULL : db_str(row, STOR_C_DESCRIPTION));
	jadd_str(o, "created_at", db_str(row, STOR_C_CREATED_AT));
	for (const struct stor_field *f = s->kind->fields; f->name != NULL; f++) {
		if (f->flags & SF_SECRET || stor_field(s->kind, s->export, f->name) == NULL)
			continue;
		json_object_object_add(o, f->name, json_object_get(json_object_object_get(s->config, f->name)));
	}
	jadd_int(o, "project", s->project_id);
	return o;
}

struct json_object *
stor_connector_config(struct req *r, const struct stor *s)
{
	struct json_object *c = req_own(r, json_object_new_object());

	json_object_object_foreach(s->config, k, v)
		json_object_object_add(c, k, json_object_get(v));
	if (strcmp(s->kind->segment, "localfiles") == 0)
		json_object_object_add(c, "root", json_object_new_string(cfg.local_files_root));
	if (strcmp(s->kind->segment, "azure") == 0) {
		const char *p = storage_cfg_str(s->config, "prefix");
		size_t n = p != NULL ? strlen(p) : 0;

		while (p != NULL && *p == '/')
			p++, n--;
		if (n > 0 && p[n - 1] != '/')
			json_object_object_add(c, "prefix", json_object_new_string(req_printf(r, "%s/", p)));
		else if (p != NULL)
			json_object_object_add(c, "prefix", json_object_new_string(p));
	}
	if (strcmp(s->kind->segment, "redis") == 0) {
		/* Label Studio keeps port as text and db as a number; "" means the default */
		const char *host = storage_cfg_str(s->config, "host");

		if (host == NULL || *host == '\0')
			json_object_object_add(c, "host", json_object_new_string("localhost"));
	}
	return c;
}

static void
close_storage(void *arg)
{
	storage_close(arg);
}

struct storage *
stor_open(struct req *r, const struct stor *s, char *err, size_t errsz)
{
	struct json_object *c = stor_connector_config(r, s);
	struct storage *st;

	if (strcmp(s->kind->segment, "redis") == 0) {
		const char *host = storage_cfg_str(c, "host"), *port = storage_cfg_str(c, "port");
		const char *url = req_printf(r, "http://%s%s%s/", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "");
		char why[256];

		if (port != NULL && *port != '\0')
			url = req_printf(r, "http://%s%s%s:%s/", strchr(host, ':') ? "[" : "", host,
			    strchr(host, ':') ? "]" : "", port);
		else
			url = req_printf(r, "http://%s%s%s:6379/", strchr(host, ':') ? "[" : "", host,
			    strchr(host, ':') ? "]" : "");
		if (outbound_url_allowed(url, why, sizeof(why)) != OUTBOUND_OK) {
			snprintf(err, errsz, "Redis host refused: %s", why);
			return NULL;
		}
	}
	if ((st = storage_open(s->kind->segment, c, err, errsz)) == NULL)
		return NULL;
	req_defer(r, close_storage, st);
	return st;
}

/* Percent-encodes everything but unreserved characters and '/'. */
static const char *
pct(struct req *r, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = req_alloc(r, n * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

const char *
stor_object_uri(struct req *r, const struct stor *s, const char *key)
{
	if (s->kind->scheme != NULL)
		return req_printf(r, "%s://%s/%s", s->kind->scheme,
		    storage_cfg_str(s->config, s->kind->bucket) ? storage_cfg_str(s->config, s->kind->bucket) : "",
		    key);
	if (strcmp(s->kind->segment, "localfiles") == 0) {
		/* the path below the root: the storage's path (made relative to the root) + key */
		const char *path = storage_cfg_str(s->config, "path"), *root = cfg.local_files_root;
		size_t rl = strlen(root);

		if (path == NULL)
			path = "";
		while (rl > 1 && root[rl - 1] == '/')
			rl--;
		if (path[0] == '/' && strncmp(path, root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
			path += rl;
		while (*path == '/')
			path++;
		if (*path == '\0')
			return req_printf(r, "/data/local-files/?d=%s", pct(r, key));
		{
			size_t pl = strlen(path);

			while (pl > 0 && path[pl - 1] == '/')
				pl--;
			return req_printf(r, "/data/local-files/?d=%s/%s",
			    pct(r, req_printf(r, "%.*s", (int)pl, path)), pct(r, key));
		}
	}
	return NULL;
}

int
stor_uri_split(struct req *r, const char *uri, const struct stor_kind **k, const char **bucket,
    const char **key)
{
	const char *sep = strstr(uri, "://"), *slash;
	const struct stor_kind *kind;

	if (sep == NULL || sep - uri > 16)
		return 0;
	kind = stor_kind_by_scheme(req_printf(r, "%.*s", (int)(sep - uri), uri));
	if (kind == NULL)
		return 0;
	sep += 3;
	if ((slash = strchr(sep, '/')) == NULL || slash == sep || slash[1] == '\0')
		return 0;
	*k = kind;
	*bucket = req_printf(r, "%.*s", (int)(slash - sep), sep);
	*key = req_strdup(r, slash + 1);
	return 1;
}

int
stor_covers(const struct stor *s, const char *bucket, const char *key)
{
	const char *b, *p;
	size_t pl;

	if (s->kind->bucket == NULL || (b = storage_cfg_str(s->config, s->kind->bucket)) == NULL ||
	    strcmp(b, bucket) != 0)
		return 0;
	p = storage_cfg_str(s->config, "prefix");
	if (p == NULL)
		return 1;
	while (*p == '/')
		p++;
	pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	if (pl == 0)
		return 1;
	/* a folder: "a" covers "a/x", not "ab/x" */
	return strncmp(key, p, pl) == 0 && key[pl] == '/';
}

int
stor_http_status(int rc)
{
	switch (rc) {
	case STORAGE_OK: return 200;
	case STORAGE_REFUSED: case STORAGE_AUTH: case STORAGE_UNSUPPORTED: return 400;
	case STORAGE_NOT_FOUND: return 404;
	case STORAGE_FAILED: case STORAGE_ABORTED: return 502;
	case STORAGE_TIMEOUT: return 504;
	default: return 500;
	}
}

struct stor_filter {
	pcre2_code *code;               /* NULL: everything matches */
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

static void
filter_free(void *arg)
{
	struct stor_filter *f = arg;

	pcre2_match_context_free(f->mc);
	pcre2_match_data_free(f->md);
	pcre2_code_free(f->code);
}

struct stor_filter *
stor_filter_new(struct req *r, const char *pattern, char *err, size_t errsz)
{
	struct stor_filter *f = req_alloc(r, sizeof(*f));
	int ec;
	PCRE2_SIZE off;

	memset(f, 0, sizeof(*f));
	if (pattern == NULL || *pattern == '\0')
		return f;
	f->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_UTF,
	    &ec, &off, NULL);
	if (f->code == NULL) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errsz, "regex_filter is not a valid regular expression: %s at offset %zu",
		    (const char *)msg, (size_t)off);
		return NULL;
	}
	f->md = pcre2_match_data_create_from_pattern(f->code, NULL);
	f->mc = pcre2_match_context_create(NULL);
	req_defer(r, filter_free, f);
	if (f->md == NULL || f->mc == NULL) {
		snprintf(err, errsz, "Out of memory.");
		return NULL;
	}
	pcre2_set_match_limit(f->mc, 100000);
	pcre2_set_depth_limit(f->mc, 1000);
	return f;
}

int
stor_filter_match(const struct stor_filter *f, const char *key, size_t len)
{
	if (f->code == NULL)
		return 1;
	return pcre2_match(f->code, (PCRE2_SPTR)key, len, 0, 0, f->md, f->mc) >= 0;
}
