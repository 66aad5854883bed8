/* exports.c — export snapshots: GET|POST /api/projects/{id}/exports, GET|DELETE
 * /api/projects/{id}/exports/{export_id}, .../download and .../convert, and the job that builds a
 * snapshot ("export.snapshot", run by `siali worker`).
 *
 * POST stores the export (status created) and queues its job in one transaction, and answers at
 * once. The job (status in_progress → completed | failed) writes the JSON task list, with the
 * export's filters and serialization options applied, to a temporary file under the media root
 * (export/<project>/<id>.json.tmp, MD5 computed while writing), then renames it to
 * export/<project>/<id>-<random>.json. A second file alongside (<id>-<random>.ids) lists the ids
 * of the tasks written, so that other formats can be made from the snapshot's tasks. A job re-run
 * after a crash starts over: it overwrites the temporary files and removes any finished file an
 * earlier run renamed but did not record.
 *
 * Other formats (download?exportType=CSV, COCO, ...) are made on the fly at download time by the
 * easy export's writers, restricted to the snapshot's task ids: the tasks are the snapshot's, their
 * annotations are those the database holds at download time (Label Studio converts the snapshot
 * file itself). POST .../convert therefore only checks the format and records it as a converted
 * format (completed at once): nothing needs to be prepared ahead.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "rand.h"
#include "reply.h"
#include "shared.h"

#define TITLE_MAX 2048
#define SNAPSHOT_ATTEMPTS 3

/* Columns of EXPORT_OBJ_COLS. */
enum {
	X_ID, X_TITLE, X_CREATED_BY, X_U_FIRST, X_U_LAST, X_U_EMAIL, X_U_AVATAR, X_CREATED_AT,
	X_FINISHED_AT, X_STATUS, X_MD5, X_TASKS, X_FILE, X_OPTIONS, X_PROJECT, X_STAMP, X_ERROR
};

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                   */

static struct json_object *
conversion_json(const struct db_row *c)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(c, 1));
	jadd_str(o, "status", db_str(c, 2));
	jadd_str(o, "export_type", db_str(c, 3));
	jadd_str(o, "traceback", db_null(c, 4) ? NULL : db_str(c, 4));
	return o;
}

/* The Export object; convs holds conversion rows (export id first), any export's. */
static struct json_object *
export_json(const struct db_row *row, const struct db_rows *convs)
{
	struct json_object *o = json_object_new_object(), *counters, *list;
	int64_t id = db_int(row, X_ID);

	jadd_int(o, "id", id);
	jadd_str(o, "title", db_str(row, X_TITLE));
	if (db_null(row, X_CREATED_BY)) {
		jadd_null(o, "created_by");
	} else {
		struct json_object *u = json_object_new_object();

		jadd_int(u, "id", db_int(row, X_CREATED_BY));
		jadd_str(u, "first_name", db_str(row, X_U_FIRST));
		jadd_str(u, "last_name", db_str(row, X_U_LAST));
		jadd_str(u, "email", db_str(row, X_U_EMAIL));
		jadd_str(u, "avatar", db_null(row, X_U_AVATAR) ? NULL : db_str(row, X_U_AVATAR));
		json_object_object_add(o, "created_by", u);
	}
	jadd_str(o, "created_at", db_str(row, X_CREATED_AT));
	jadd_str(o, "finished_at", db_null(row, X_FINISHED_AT) ? NULL : db_str(row, X_FINISHED_AT));
	jadd_str(o, "status", db_str(row, X_STATUS));
	jadd_str(o, "md5", db_null(row, X_MD5) ? NULL : db_str(row, X_MD5));
	counters = json_object_new_object();
	jadd_int(counters, "task_number", db_int(row, X_TASKS));
	json_object_object_add(o, "counters", counters);
	list = json_object_new_array();
	for (size_t i = 0; convs != NULL && i < convs->n; i++)
		if (db_int(&convs->rows[i], 0) == id)
			json_object_array_add(list, conversion_json(&convs->rows[i]));
	json_object_object_add(o, "converted_formats", list);
	return o;
}

/* The project of the path (404 otherwise) and, when want_export, its export. 0, or the status
 * already sent. */
static int
load(struct req *r, struct project_ref *ref, struct db_row *row, int want_export)
{
	int rc = scope_project(r, req_param_id(r, "id"), ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (!want_export)
		return 0;
	rc = db_row(r, row, STMT_EXPORTS_GET, "ii", req_param_id(r, "export_id"), ref->id);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

static int
reply_export(struct req *r, int status, const struct db_row *row, struct json_object *extra)
{
	struct db_rows convs;
	struct json_object *o;

	if (db_rows(r, &convs, STMT_EXPORTS_CONVERSIONS, "i", db_int(row, X_ID)) != 0)
		return req_fail_db(r);
	o = export_json(row, &convs);
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(o, k, json_object_get(v));
	}
	return reply_json(r, status, o);
}

/* ------------------------------------------------------------------------------------------ */
/* Options: validated, normalised (defaults filled in), stored as JSON, read back by the job   */

static void
err_add(struct json_object *errs, const char *field, const char *msg)
{
	struct json_object *l;

	if (!json_object_object_get_ex(errs, field, &l)) {
		l = json_object_new_array();
		json_object_object_add(errs, field, l);
	}
	json_object_array_add(l, json_object_new_string(msg));
}

/* A nested serializer's value: NULL (absent or null) or an object; a message otherwise. */
static struct json_object *
nested(struct req *r, struct json_object *body, const char *key, struct json_object *errs)
{
	struct json_object *v;

	if (!json_object_object_get_ex(body, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_object)) {
		struct json_object *e = json_object_new_object();

		err_add(e, "non_field_errors", req_printf(r, "Invalid data. Expected a dictionary, but got %s.",
		    jpy_type(v)));
		json_object_object_add(errs, key, e);
		return NULL;
	}
	return v;
}

/* DRF's BooleanField (JSON booleans, 0/1, and its string spellings). out keeps def when absent;
 * null allowed when nullable (stored as def). */
static void
opt_bool(struct json_object *o, const char *key, int nullable, int *out, struct json_object *errs)
{
	static const char *yes[] = { "true", "True", "TRUE", "1", "yes", "on", "y", "t" };
	static const char *no[] = { "false", "False", "FALSE", "0", "no", "off", "n", "f" };
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return;
	if (v == NULL) {
		if (!nullable)
			err_add(errs, key, "This field may not be null.");
		return;
	}
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return;
	}
	if (json_object_is_type(v, json_type_int) && (json_object_get_int64(v) == 0 ||
	    json_object_get_int64(v) == 1)) {
		*out = (int)json_object_get_int64(v);
		return;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(s, yes[i]) == 0) {
				*out = 1;
				return;
			}
			if (strcmp(s, no[i]) == 0) {
				*out = 0;
				return;
			}
		}
	}
	err_add(errs, key, "Must be a valid boolean.");
}

/* "only" | "exclude" | null → 1 | -1 | 0. */
static void
opt_choice(struct req *r, struct json_object *o, const char *key, int *out, struct json_object *errs)
{
	struct json_object *v;
	const char *s;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return;
	s = json_object_get_string(v);
	if (json_object_is_type(v, json_type_string) && strcmp(s, "only") == 0)
		*out = 1;
	else if (json_object_is_type(v, json_type_string) && strcmp(s, "exclude") == 0)
		*out = -1;
	else
		err_add(errs, key, req_printf(r, "\"%s\" is not a valid choice.", s));
}

static struct json_object *
choice_json(int v)
{
	return v == 0 ? NULL : json_object_new_string(v > 0 ? "only" : "exclude");
}

/* {"only_id": bool} or absent/null. 1 present (expand = !only_id), 0 absent. */
static int
opt_serial(struct req *r, struct json_object *so, const char *key, int *expand, struct json_object *errs)
{
	struct json_object *v = so != NULL ? nested(r, so, key, errs) : NULL, *e;
	int only_id = 0;

	if (v == NULL)
		return 0;
	e = json_object_new_object();
	opt_bool(v, "only_id", 0, &only_id, e);
	if (json_object_object_length(e) > 0)
		json_object_object_add(errs, key, e);
	else
		json_object_put(e);
	*expand = !only_id;
	return 1;
}

/* Parses the three option objects of body into o and their normalised echo into *echo (a new
 * object). 0, or -1 with errs filled. */
static int
options_parse(struct req *r, struct json_object *body, struct snapshot_opts *o, struct json_object **echo,
    struct json_object *errs)
{
	struct json_object *tf, *af, *so, *e1 = json_object_new_object(), *e2 = json_object_new_object();
	struct json_object *e3 = json_object_new_object(), *out = json_object_new_object();
	int has_d, has_p, has_c, history = 0, interpolate = 0, has_af;
	int64_t view = 0;
	int has_view = 0;

	memset(o, 0, sizeof(*o));
	tf = nested(r, body, "task_filter_options", errs);
	af = nested(r, body, "annotation_filter_options", errs);
	so = nested(r, body, "serialization_options", errs);

	if (tf != NULL) {
		struct json_object *v;

		if (json_object_object_get_ex(tf, "view", &v) && v != NULL) {
			if (json_object_is_type(v, json_type_int))
				view = json_object_get_int64(v), has_view = 1;
			else if (json_object_is_type(v, json_type_string) &&
			    strspn(json_object_get_string(v), "0123456789") == strlen(json_object_get_string(v)) &&
			    *json_object_get_string(v) != '\0')
				view = atoll(json_object_get_string(v)), has_view = 1;
			else
				err_add(e1, "view", "A valid integer is required.");
		}
		opt_choice(r, tf, "skipped", &o->skipped, e1);
		opt_choice(r, tf, "finished", &o->finished, e1);
		opt_choice(r, tf, "annotated", &o->annotated, e1);
		opt_bool(tf, "only_with_annotations", 0, &o->only_with_annotations, e1);
	}
	has_af = af != NULL;
	if (has_af) {
		o->usual = 1;   /* the serializer's default */
		opt_bool(af, "usual", 1, &o->usual, e2);
		opt_bool(af, "ground_truth", 1, &o->ground_truth, e2);
		opt_bool(af, "skipped", 1, &o->skipped_anns, e2);
	}
	has_d = opt_serial(r, so, "drafts", &o->expand_drafts, e3);
	has_p = opt_serial(r, so, "predictions", &o->expand_predictions, e3);
	has_c = opt_serial(r, so, "annotations__completed_by", &o->expand_completed_by, e3);
	opt_bool(so, "include_annotation_history", 0, &history, e3);
	opt_bool(so, "interpolate_key_frames", 0, &interpolate, e3);

	if (json_object_object_length(e1) > 0)
		json_object_object_add(errs, "task_filter_options", json_object_get(e1));
	if (json_object_object_length(e2) > 0)
		json_object_object_add(errs, "annotation_filter_options", json_object_get(e2));
	if (json_object_object_length(e3) > 0)
		json_object_object_add(errs, "serialization_options", json_object_get(e3));
	json_object_put(e1);
	json_object_put(e2);
	json_object_put(e3);
	if (json_object_object_length(errs) > 0) {
		json_object_put(out);
		return -1;
	}

	if (tf != NULL) {
		struct json_object *t = json_object_new_object();

		if (has_view)
			jadd_int(t, "view", view);
		json_object_object_add(t, "skipped", choice_json(o->skipped));
		json_object_object_add(t, "finished", choice_json(o->finished));
		json_object_object_add(t, "annotated", choice_json(o->annotated));
		jadd_bool(t, "only_with_annotations", o->only_with_annotations);
		json_object_object_add(out, "task_filter_options", t);
	} else {
		jadd_null(out, "task_filter_options");
	}
	if (has_af) {
		struct json_object *a = json_object_new_object();

		jadd_bool(a, "usual", o->usual);
		jadd_bool(a, "ground_truth", o->ground_truth);
		jadd_bool(a, "skipped", o->skipped_anns);
		json_object_object_add(out, "annotation_filter_options", a);
	} else {
		jadd_null(out, "annotation_filter_options");
	}
	if (so != NULL) {
		struct json_object *s = json_object_new_object(), *x;

		if (has_d) {
			x = json_object_new_object();
			jadd_bool(x, "only_id", !o->expand_drafts);
			json_object_object_add(s, "drafts", x);
		}
		if (has_p) {
			x = json_object_new_object();
			jadd_bool(x, "only_id", !o->expand_predictions);
			json_object_object_add(s, "predictions", x);
		}
		if (has_c) {
			x = json_object_new_object();
			jadd_bool(x, "only_id", !o->expand_completed_by);
			json_object_object_add(s, "annotations__completed_by", x);
		}
		jadd_bool(s, "include_annotation_history", history);
		jadd_bool(s, "interpolate_key_frames", interpolate);
		json_object_object_add(out, "serialization_options", s);
	} else {
		jadd_null(out, "serialization_options");
	}
	*echo = out;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Handlers                                                                                    */

/* Answers 200, 404. */
int
exports_list(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows, convs;
	struct json_object *a;
	int rc = load(r, &ref, NULL, 0);

	if (rc != 0)
		return rc;
	if (db_rows(r, &rows, STMT_EXPORTS_LIST, "i", ref.id) != 0 ||
	    db_rows(r, &convs, STMT_EXPORTS_CONVERSIONS_OF_PROJECT, "i", ref.id) != 0)
		return req_fail_db(r);
	a = json_object_new_array();
	for (size_t i = 0; i < rows.n; i++)
		json_object_array_add(a, export_json(&rows.rows[i], &convs));
	return reply_json(r, 200, a);
}

/* Answers 201 (queued), 400, 404. */
int
exports_create(struct req *r)
{
	struct project_ref ref;
	struct snapshot_opts o;
	struct json_object *errs, *echo = NULL, *v;
	struct db_row row;
	const char *title = NULL;
	int64_t id;
	int rc = load(r, &ref, NULL, 0);

	if (rc != 0)
		return rc;
	errs = req_own(r, json_object_new_object());
	if (json_object_object_get_ex(r->json, "title", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string))
			err_add(errs, "title", "Not a valid string.");
		else if (json_object_get_string_len(v) > TITLE_MAX)
			err_add(errs, "title", "Ensure this field has no more than 2048 characters.");
		else
			title = json_object_get_string(v);
	}
	if (options_parse(r, r->json, &o, &echo, errs) != 0 || json_object_object_length(errs) > 0) {
		json_object_put(echo);
		return req_fail_validation(r, json_object_get(errs));
	}
	req_own(r, echo);
	if (title == NULL || *title == '\0') {
		/* Label Studio's default: the project's title with dashes, then the time (UTC) */
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		char *t = req_strdup(r, ref.title != NULL ? ref.title : "");

		for (char *c = t; *c; c++)
			if (*c == ' ')
				*c = '-';
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H-%M", &tm);
		title = req_printf(r, "%s-at-%s", t, stamp);
	}

	if (db_begin(r) != 0)
		return req_fail_db(r);
	if (db_exec(r, STMT_EXPORTS_INSERT, "isis", ref.id, title, r->who.user_id,
	    json_object_to_json_string_ext(echo, JSON_C_TO_STRING_PLAIN)) < 0)
		return req_fail_db(r);
	id = db_insert_id();
	if (jobs_enqueue(r, "export.snapshot", req_printf(r, "{\"export_id\":%lld}", (long long)id),
	    SNAPSHOT_ATTEMPTS) < 0 || db_commit(r) != 0)
		return req_fail_db(r);
	if ((rc = db_row(r, &row, STMT_EXPORTS_GET, "ii", id, ref.id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_export(r, 201, &row, echo);
}

/* Answers 200, 404. */
int
exports_get(struct req *r)
{
	struct project_ref ref;
	struct db_row row;
	int rc = load(r, &ref, &row, 1);

	if (rc != 0)
		return rc;
	return reply_export(r, 200, &row, NULL);
}

/* The finished file's companion with the task ids: same name, .ids instead of .json. */
static const char *
ids_path(struct req *r, const char *json_path)
{
	size_t n = strlen(json_path);

	if (n > 5 && strcmp(json_path + n - 5, ".json") == 0)
		return req_printf(r, "%.*s.ids", (int)(n - 5), json_path);
	return req_printf(r, "%s.ids", json_path);
}

/* Answers 204, 404. */
int
exports_delete(struct req *r)
{
	struct project_ref ref;
	struct db_row row;
	int rc = load(r, &ref, &row, 1);

	if (rc != 0)
		return rc;
	if (db_exec(r, STMT_EXPORTS_DELETE, "ii", db_int(&row, X_ID), ref.id) < 0)
		return req_fail_db(r);
	if (!db_null(&row, X_FILE)) {
		const char *path = req_printf(r, "%s/%s", cfg.media_root, db_str(&row, X_FILE));

		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("export %lld: unlink %s: %s", (long long)db_int(&row, X_ID), path, strerror(errno));
		(void)unlink(ids_path(r, path));
	}
	/* a job still running finds its row gone and removes what it wrote */
	return reply_empty(r, 204);
}

static int
parse_bool_text(const char *v)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "t") == 0 || strcmp(v, "y") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "f") == 0 || strcmp(v, "n") == 0)
		return 0;
	return -1;
}

/* Reads the snapshot's task ids (the .ids companion) into the arena. 0, or -1. */
static int
read_ids(struct req *r, const char *path, int64_t **out, size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	char *buf;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size % (off_t)sizeof(int64_t) != 0) {
		close(fd);
		return -1;
	}
	buf = req_alloc(r, (size_t)st.st_size + sizeof(int64_t));
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k <= 0) {
			close(fd);
			return -1;
		}
		got += (size_t)k;
	}
	close(fd);
	*out = (int64_t *)(void *)buf;
	*n = got / sizeof(int64_t);
	return 0;
}

/* Answers 200 (streamed), 400 (format), 404 (not found, or "Export is not completed"). */
int
exports_download(struct req *r)
{
	struct project_ref ref;
	struct db_row row;
	const char *type, *v, *path, *stem;
	char buf[65536];
	ssize_t n;
	int fd, resources = 1, rc = load(r, &ref, &row, 1);

	if (rc != 0)
		return rc;
	if ((type = req_query(r, "exportType")) == NULL || *type == '\0')
		type = req_query(r, "export_type");
	if ((v = req_query(r, "download_resources")) != NULL && (resources = parse_bool_text(v)) < 0)
		return req_fail_field(r, "download_resources", "Must be a valid boolean.");
	if (strcmp(db_str(&row, X_STATUS), "completed") != 0 || db_null(&row, X_FILE))
		return req_fail(r, 404, "Export is not completed");
	path = req_printf(r, "%s/%s", cfg.media_root, db_str(&row, X_FILE));
	/* Label Studio's snapshot file name: project-{id}-at-{time}-{md5[:8]} */
	stem = req_printf(r, "project-%lld-at-%s-%.8s", (long long)ref.id, db_str(&row, X_STAMP),
	    db_str(&row, X_MD5));

	if (type != NULL && *type != '\0' && strcmp(type, "JSON") != 0) {
		int64_t *ids;
		size_t nids;

		if (!export_type_ok(r, &ref, type))
			return req_fail_field(r, "exportType", "%s is not supported export format", type);
		if (read_ids(r, ids_path(r, path), &ids, &nids) != 0) {
			log_error("export %lld: cannot read the task ids of %s", (long long)db_int(&row, X_ID), path);
			return req_fail(r, 500, "Internal server error.");
		}
		return export_reply_tasks(r, &ref, type, ids, nids, resources, stem);
	}

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("export %lld: open %s: %s", (long long)db_int(&row, X_ID), path, strerror(errno));
		return req_fail(r, 500, "Internal server error.");
	}
	reply_header(r, "Content-Disposition", req_printf(r, "attachment; filename=\"%s.json\"", stem));
	reply_header(r, "filename", req_printf(r, "%s.json", stem));
	reply_start(r, 200, "application/json");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (reply_write(r, buf, (size_t)n) != 0)
			break;
	close(fd);
	return 200;
}

/* Answers 200, 400 (not supported, not completed, already started), 404. */
int
exports_convert(struct req *r)
{
	struct project_ref ref;
	struct db_row row;
	struct json_object *o, *v;
	const char *type;
	int resources = 0, rc = load(r, &ref, &row, 1);

	if (rc != 0)
		return rc;
	if (!json_object_object_get_ex(r->json, "export_type", &v))
		return req_fail_field(r, "export_type", "This field is required.");
	if (v == NULL)
		return req_fail_field(r, "export_type", "This field may not be null.");
	if (!json_object_is_type(v, json_type_string))
		return req_fail_field(r, "export_type", "Not a valid string.");
	type = json_object_get_string(v);
	if (*type == '\0')
		return req_fail_field(r, "export_type", "This field may not be blank.");
	{
		struct json_object *errs = req_own(r, json_object_new_object());

		opt_bool(r->json, "download_resources", 0, &resources, errs);
		if (json_object_object_length(errs) > 0)
			return req_fail_validation(r, json_object_get(errs));
	}
	if (!export_type_ok(r, &ref, type))
		return req_fail_field(r, "export_type", "Format %s is not supported", type);
	if (strcmp(db_str(&row, X_STATUS), "completed") != 0)
		return req_fail(r, 400, "Export is not completed");
	/* made on the fly at download time: recorded as completed at once */
	if (db_exec(r, STMT_EXPORTS_CONVERSION_INSERT, "iss", db_int(&row, X_ID), type, "completed") < 0) {
		if (db_last_error() == DB_ERR_DUP)
			return req_fail(r, 400, "Conversion to %s already started", type);
		return req_fail_db(r);
	}
	o = json_object_new_object();
	jadd_str(o, "export_type", type);
	jadd_int(o, "converted_format", db_insert_id());
	return reply_json(r, 200, o);
}

/* ------------------------------------------------------------------------------------------ */
/* The job                                                                                     */

static int
mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* Removes <id>-*.json and <id>-*.ids that an earlier run of this job renamed but never recorded. */
static void
remove_leftovers(struct req *r, const char *dir, int64_t id)
{
	char prefix[32];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%lld-", (long long)id);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, plen) == 0)
			(void)unlink(req_printf(r, "%s/%s", dir, de->d_name));
	closedir(d);
}

struct beat {
	struct req *r;
	int64_t job_id;
};

static void
heartbeat(void *arg)
{
	struct beat *b = arg;

	(void)db_exec(b->r, STMT_JOB_HEARTBEAT, "i", b->job_id);
}

static int
snapshot_fail(struct req *r, int64_t id, char *err, size_t errsz, const char *msg)
{
	snprintf(err, errsz, "export %lld: %s", (long long)id, msg);
	(void)db_exec(r, STMT_EXPORTS_JOB_FAIL, "si", msg, id);
	return -1;
}

static int
snapshot_options(struct req *r, const char *text, struct snapshot_opts *o)
{
	struct json_object *stored = req_own(r, json_tokener_parse(text));
	struct json_object *errs = req_own(r, json_object_new_object()), *echo = NULL;

	if (!json_object_is_type(stored, json_type_object)) {
		memset(o, 0, sizeof(*o));
		return 0;
	}
	if (options_parse(r, stored, o, &echo, errs) != 0)
		return -1;
	json_object_put(echo);
	return 0;
}

int
exports_job_snapshot(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz)
{
	struct db_row row;
	struct project_ref ref;
	struct snapshot_opts o;
	struct json_object *v;
	struct beat beat = { r, job_id };
	int64_t id, pid, ntasks = 0;
	char md5[33] = "", rnd[17];
	char *dir;
	const char *tmp, *tmp_ids, *rel, *final, *final_ids;
	FILE *f, *fi;
	int rc;

	if (!json_object_object_get_ex(payload, "export_id", &v) || (id = json_object_get_int64(v)) <= 0) {
		snprintf(err, errsz, "no export_id in the payload");
		return -1;
	}
	if ((rc = db_row(r, &row, STMT_EXPORTS_JOB_LOAD, "i", id)) < 0) {
		snprintf(err, errsz, "export %lld: database error", (long long)id);
		return -1;
	}
	if (rc == 0)
		return 0;       /* deleted (or its project was) before it ran: nothing to do */
	pid = db_int(&row, 0);
	/* the job acts for the export's organization: the same scoped lookups as a request */
	r->who.org_id = db_int(&row, 2);
	if (snapshot_options(r, db_str(&row, 1), &o) != 0)
		return snapshot_fail(r, id, err, errsz, "its stored options are not valid");
	if ((rc = scope_project(r, pid, &ref)) <= 0) {
		if (rc == 0)
			return 0;
		snprintf(err, errsz, "export %lld: database error", (long long)id);
		return -1;
	}
	if (db_exec(r, STMT_EXPORTS_JOB_START, "i", id) < 0) {
		snprintf(err, errsz, "export %lld: database error", (long long)id);
		return -1;
	}

	dir = req_printf(r, "%s/export/%lld", cfg.media_root, (long long)pid);
	if (mkdirs(dir) != 0) {
		log_error("export %lld: mkdir %s: %s", (long long)id, dir, strerror(errno));
		return snapshot_fail(r, id, err, errsz, "cannot create the export directory");
	}
	remove_leftovers(r, dir, id);
	tmp = req_printf(r, "%s/%lld.json.tmp", dir, (long long)id);
	tmp_ids = req_printf(r, "%s/%lld.ids.tmp", dir, (long long)id);
	if ((f = fopen(tmp, "w")) == NULL)
		return snapshot_fail(r, id, err, errsz, "cannot write the snapshot file");
	if ((fi = fopen(tmp_ids, "w")) == NULL) {
		fclose(f);
		return snapshot_fail(r, id, err, errsz, "cannot write the snapshot file");
	}
	rc = export_snapshot_write(r, &ref, &o, f, fi, &ntasks, md5, heartbeat, &beat);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fflush(fi) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (fclose(fi) != 0)
		rc = -1;
	if (rc != 0) {
		(void)unlink(tmp);
		(void)unlink(tmp_ids);
		return snapshot_fail(r, id, err, errsz, "the snapshot could not be written");
	}
	if (rand_hex(rnd, 8) != 0)
		return snapshot_fail(r, id, err, errsz, "no randomness");
	rel = req_printf(r, "export/%lld/%lld-%s.json", (long long)pid, (long long)id, rnd);
	final = req_printf(r, "%s/%s", cfg.media_root, rel);
	final_ids = ids_path(r, final);
	/* the ids first: a recorded .json always has its companion */
	if (rename(tmp_ids, final_ids) != 0 || rename(tmp, final) != 0) {
		log_error("export %lld: rename into %s: %s", (long long)id, final, strerror(errno));
		(void)unlink(final_ids);
		return snapshot_fail(r, id, err, errsz, "cannot store the snapshot file");
	}
	if ((rc = (int)db_exec(r, STMT_EXPORTS_JOB_DONE, "ssii", rel, md5, ntasks, id)) <= 0) {
		(void)unlink(final);
		(void)unlink(final_ids);
		if (rc == 0)
			return 0;       /* deleted while it ran */
		snprintf(err, errsz, "export %lld: database error", (long long)id);
		return -1;
	}
	log_info("export %lld: %lld tasks of project %lld in %s", (long long)id, (long long)ntasks,
	    (long long)pid, rel);
	return 0;
}
