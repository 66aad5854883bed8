/* tasks.c — tasks (the Data Manager list, the project's simple list, one task's CRUD) and the
 * labeling stream (GET /api/projects/{id}/next).
 *
 * Reads never count: a list's totals are the project's counter columns, a page's ids come from the
 * (project_id, id) index, and the JSON columns (data, meta, result) are copied into the reply as
 * stored text without being parsed again (every writer parsed them with json-c before storing).
 * Every lookup goes through scope_project/scope_task, so another organization's object is 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "page.h"
#include "rand.h"
#include "reply.h"
#include "shared.h"

#define TASKS_PAGE_MAX 10000    /* /api/tasks/ page_size cap: one page of every id stays cheap */
#define LOCK_TTL 3600           /* Label Studio's TASK_LOCK_DEFAULT_TTL (no lead-time history) */

/* --- JSON pieces --- */

/* Serializes a string node as its raw text: stored JSON goes out as it was stored. */
static int
raw_serializer(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, json_object_get_string(o), json_object_get_string_len(o)) < 0 ?
	    -1 : 0;
}

/* Stored JSON text as a node; def when NULL or empty. */
static struct json_object *
jraw(const struct db_row *row, int col, const char *def)
{
	struct json_object *o;

	if (db_null(row, col) || row->len[col] == 0)
		o = json_object_new_string(def);
	else
		o = json_object_new_string_len(row->v[col], (int)row->len[col]);
	json_object_set_serializer(o, raw_serializer, NULL, NULL);
	return o;
}

static void
jadd_raw(struct json_object *o, const char *key, const struct db_row *row, int col, const char *def)
{
	json_object_object_add(o, key, jraw(row, col, def));
}

static void
jadd_col_int(struct json_object *o, const char *key, const struct db_row *row, int col)
{
	jadd_int_or_null(o, key, db_int(row, col), db_null(row, col));
}

static void
jadd_col_double(struct json_object *o, const char *key, const struct db_row *row, int col)
{
	json_object_object_add(o, key, db_null(row, col) ? NULL :
	    json_object_new_double(strtod(db_str(row, col), NULL)));
}

static void
jadd_col_str(struct json_object *o, const char *key, const struct db_row *row, int col)
{
	jadd_str(o, key, db_null(row, col) ? NULL : db_str(row, col));
}

/* Django's timesince (two adjacent units, non-breaking space), as created_ago. */
static const char *
timesince(struct req *r, int64_t secs)
{
	static const struct { int64_t s; const char *one, *many; } u[] = {
		{ 365 * 86400, "year", "years" }, { 30 * 86400, "month", "months" },
		{ 7 * 86400, "week", "weeks" }, { 86400, "day", "days" }, { 3600, "hour", "hours" },
		{ 60, "minute", "minutes" },
	};
	size_t n = sizeof(u) / sizeof(u[0]);

	if (secs < 60)
		return "0\xc2\xa0minutes";
	for (size_t i = 0; i < n; i++) {
		int64_t a = secs / u[i].s, b;

		if (a == 0)
			continue;
		const char *first = req_printf(r, "%lld\xc2\xa0%s", (long long)a, a == 1 ? u[i].one : u[i].many);
		if (i + 1 == n || (b = (secs - a * u[i].s) / u[i + 1].s) == 0)
			return first;
		return req_printf(r, "%s, %lld\xc2\xa0%s", first, (long long)b, b == 1 ? u[i + 1].one : u[i + 1].many);
	}
	return "0\xc2\xa0minutes";
}

static size_t
utf8_first(const char *s)
{
	size_t n = 1;

	if (*s == '\0')
		return 0;
	while (s[n] != '\0' && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

/* {id, first_name, last_name, avatar, email, initials} from columns id, first, last, email, avatar
 * and username (initials fall back to the email's, else the username's, first two letters). */
static struct json_object *
user_brief(struct req *r, const struct db_row *row, int id, int first, int last, int email, int avatar,
    int uname)
{
	struct json_object *o = json_object_new_object();
	const char *f = db_str(row, first), *l = db_str(row, last), *e = db_str(row, email), *ini;
	const char *s = *e ? e : db_str(row, uname);

	if (*f && *l)
		ini = req_printf(r, "%.*s%.*s", (int)utf8_first(f), f, (int)utf8_first(l), l);
	else if (*f)
		ini = req_strndup(r, f, utf8_first(f));
	else if (*l)
		ini = req_strndup(r, l, utf8_first(l));
	else
		ini = req_strndup(r, s, utf8_first(s) + utf8_first(s + utf8_first(s)));
	jadd_int(o, "id", db_int(row, id));
	jadd_str(o, "first_name", f);
	jadd_str(o, "last_name", l);
	jadd_str(o, "avatar", db_null(row, avatar) ? NULL : db_str(row, avatar));
	jadd_str(o, "email", e);
	jadd_str(o, "initials", ini);
	return o;
}

/* An annotation (ANN_COLS); completed_by expanded to the user brief when expand is set. */
static struct json_object *
ann_json(struct req *r, const struct db_row *row, int expand)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	jadd_raw(o, "result", row, 1, "[]");
	jadd_str(o, "created_username", ann_created_username(r, row, 2, 20, 21, 22, 0));
	jadd_str(o, "created_ago", timesince(r, db_int(row, 19)));
	if (expand && !db_null(row, 2) && !db_null(row, 24))
		json_object_object_add(o, "completed_by", user_brief(r, row, 2, 20, 21, 22, 23, 24));
	else
		jadd_col_int(o, "completed_by", row, 2);
	jadd_col_str(o, "unique_id", row, 17);
	jadd_bool(o, "was_cancelled", db_int(row, 3));
	jadd_bool(o, "ground_truth", db_int(row, 4));
	jadd_str(o, "created_at", db_str(row, 5));
	jadd_str(o, "updated_at", db_str(row, 6));
	jadd_col_str(o, "draft_created_at", row, 7);
	jadd_col_double(o, "lead_time", row, 8);
	jadd_col_int(o, "import_id", row, 9);
	jadd_col_str(o, "last_action", row, 10);
	jadd_bool(o, "bulk_created", db_int(row, 18));
	jadd_int(o, "task", db_int(row, 11));
	jadd_int(o, "project", db_int(row, 12));
	jadd_col_int(o, "updated_by", row, 13);
	jadd_col_int(o, "parent_prediction", row, 14);
	jadd_col_int(o, "parent_annotation", row, 15);
	jadd_col_int(o, "last_created_by", row, 16);
	return o;
}

static struct json_object *
pred_json(struct req *r, const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	jadd_raw(o, "result", row, 1, "[]");
	jadd_col_double(o, "score", row, 2);
	jadd_str(o, "model_version", db_str(row, 3));
	jadd_col_int(o, "model", row, 4);
	jadd_col_int(o, "model_run", row, 5);
	jadd_col_int(o, "cluster", row, 6);
	if (db_null(row, 7))
		jadd_null(o, "neighbors");
	else
		jadd_raw(o, "neighbors", row, 7, "null");
	jadd_col_double(o, "mislabeling", row, 8);
	jadd_int(o, "task", db_int(row, 9));
	jadd_int(o, "project", db_int(row, 10));
	jadd_str(o, "created_at", db_str(row, 11));
	jadd_str(o, "updated_at", db_str(row, 12));
	jadd_str(o, "created_ago", timesince(r, db_int(row, 13)));
	return o;
}

static struct json_object *
draft_json(struct req *r, const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	jadd_col_int(o, "user", row, 1);
	jadd_str(o, "created_username", ann_created_username(r, row, 1, 11, 12, 13, 1));
	jadd_str(o, "created_ago", timesince(r, db_int(row, 10)));
	jadd_raw(o, "result", row, 2, "[]");
	jadd_col_double(o, "lead_time", row, 3);
	jadd_bool(o, "was_postponed", db_int(row, 6));
	jadd_col_int(o, "import_id", row, 7);
	jadd_str(o, "created_at", db_str(row, 8));
	jadd_str(o, "updated_at", db_str(row, 9));
	jadd_int(o, "task", db_int(row, 4));
	jadd_col_int(o, "annotation", row, 5);
	return o;
}

/* --- task objects --- */

/* `include=id,data,...`: NULL means every field. */
static int
want(const char *include, const char *name)
{
	size_t n = strlen(name);

	if (include == NULL)
		return 1;
	for (const char *p = include; *p; ) {
		size_t len = strcspn(p, ",");

		while (len > 0 && *p == ' ')
			p++, len--;
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

#define ADD(name, expr) do { if (want(inc, name)) { expr; } } while (0)

/* The Data Manager's task (TASK_COLS), without its lists; fields filtered by inc. */
static struct json_object *
dm_task_json(const struct db_row *row, const char *inc)
{
	struct json_object *o = json_object_new_object();

	ADD("id", jadd_int(o, "id", db_int(row, 0)));
	ADD("data", jadd_raw(o, "data", row, 1, "{}"));
	ADD("meta", jadd_raw(o, "meta", row, 2, "{}"));
	ADD("created_at", jadd_str(o, "created_at", db_str(row, 3)));
	ADD("updated_at", jadd_str(o, "updated_at", db_str(row, 4)));
	if (want(inc, "updated_by")) {
		struct json_object *a = json_object_new_array();

		if (!db_null(row, 5)) {
			struct json_object *u = json_object_new_object();

			jadd_int(u, "user_id", db_int(row, 5));
			json_object_array_add(a, u);
		}
		json_object_object_add(o, "updated_by", a);
	}
	ADD("inner_id", jadd_int(o, "inner_id", db_int(row, 6)));
	ADD("is_labeled", jadd_bool(o, "is_labeled", db_int(row, 7)));
	ADD("overlap", jadd_int(o, "overlap", db_int(row, 8)));
	ADD("allow_skip", jadd_bool(o, "allow_skip", 1));
	ADD("total_annotations", jadd_int(o, "total_annotations", db_int(row, 9)));
	ADD("cancelled_annotations", jadd_int(o, "cancelled_annotations", db_int(row, 10)));
	ADD("total_predictions", jadd_int(o, "total_predictions", db_int(row, 11)));
	ADD("completed_at", jadd_null(o, "completed_at"));
	ADD("annotations_results", jadd_str(o, "annotations_results", ""));
	ADD("predictions_results", jadd_str(o, "predictions_results", ""));
	ADD("predictions_score", jadd_null(o, "predictions_score"));
	ADD("predictions_model_versions", jadd_str(o, "predictions_model_versions", ""));
	ADD("file_upload", jadd_col_int(o, "file_upload", row, 13));
	ADD("storage_filename", jadd_null(o, "storage_filename"));
	ADD("annotations_ids", jadd_str(o, "annotations_ids", ""));
	ADD("avg_lead_time", jadd_null(o, "avg_lead_time"));
	ADD("draft_exists", jadd_bool(o, "draft_exists", 0));
	ADD("annotators", json_object_object_add(o, "annotators", json_object_new_array()));
	ADD("comment_count", jadd_int(o, "comment_count", 0));
	ADD("unresolved_comment_count", jadd_int(o, "unresolved_comment_count", 0));
	ADD("last_comment_updated_at", jadd_null(o, "last_comment_updated_at"));
	ADD("comment_authors", json_object_object_add(o, "comment_authors", json_object_new_array()));
	ADD("project", jadd_int(o, "project", db_int(row, 12)));
	return o;
}

/* The simple task (Label Studio's TaskSimpleSerializer / TaskSerializer) without its lists. */
static struct json_object *
simple_task_json(const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	jadd_raw(o, "data", row, 1, "{}");
	jadd_raw(o, "meta", row, 2, "{}");
	jadd_str(o, "created_at", db_str(row, 3));
	jadd_str(o, "updated_at", db_str(row, 4));
	jadd_bool(o, "is_labeled", db_int(row, 7));
	jadd_int(o, "overlap", db_int(row, 8));
	jadd_int(o, "inner_id", db_int(row, 6));
	jadd_int(o, "total_annotations", db_int(row, 9));
	jadd_int(o, "cancelled_annotations", db_int(row, 10));
	jadd_int(o, "total_predictions", db_int(row, 11));
	jadd_int(o, "comment_count", 0);
	jadd_int(o, "unresolved_comment_count", 0);
	jadd_null(o, "last_comment_updated_at");
	jadd_int(o, "project", db_int(row, 12));
	jadd_col_int(o, "updated_by", row, 5);
	jadd_col_int(o, "file_upload", row, 13);
	json_object_object_add(o, "comment_authors", json_object_new_array());
	return o;
}

/* --- lists attached to tasks --- */

enum list_kind { LIST_ANNS, LIST_PREDS, LIST_DRAFTS };

struct attach {
	struct req *r;
	enum list_kind kind;
	int expand;
	struct json_object **objs;      /* the tasks, ordered by id */
	const int64_t *ids;
	size_t n, at;
	const char *key;
};

static int
attach_row(void *ctx, const struct db_row *row)
{
	struct attach *a = ctx;
	int64_t tid = db_int(row, a->kind == LIST_ANNS ? 11 : a->kind == LIST_PREDS ? 9 : 4);
	struct json_object *item, *list;

	while (a->at < a->n && a->ids[a->at] < tid)
		a->at++;
	if (a->at == a->n || a->ids[a->at] != tid)
		return 0;
	item = a->kind == LIST_ANNS ? ann_json(a->r, row, a->expand) :
	    a->kind == LIST_PREDS ? pred_json(a->r, row) : draft_json(a->r, row);
	list = json_object_object_get(a->objs[a->at], a->key);
	json_object_array_add(list, item);
	return 0;
}

/* Adds the list `kind` to each of n tasks (ids ascending) of one project, in one range query. */
static int
attach_lists(struct req *r, enum list_kind kind, int expand, struct json_object **objs,
    const int64_t *ids, size_t n, int64_t project_id)
{
	struct attach a = { r, kind, expand, objs, ids, n, 0,
		kind == LIST_ANNS ? "annotations" : kind == LIST_PREDS ? "predictions" : "drafts" };

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		json_object_object_add(objs[i], a.key, json_object_new_array());
	if (kind == LIST_DRAFTS)
		return db_each(r, attach_row, &a, STMT_TASK_DRAFTS, "iiii", ids[0], ids[n - 1], project_id,
		    r->who.user_id);
	return db_each(r, attach_row, &a, kind == LIST_ANNS ? STMT_TASK_ANNS : STMT_TASK_PREDS, "iii",
	    ids[0], ids[n - 1], project_id);
}

/* One task as GET /api/tasks/{id} answers it: the Data Manager task with its annotations (authors
 * expanded), predictions and the caller's drafts, and the fields derived from them. NULL when
 * the task is gone; *err set on a database error. */
static struct json_object *
full_task_json(struct req *r, int64_t id, int *err)
{
	struct db_row row;
	struct json_object *o, *anns, *annotators;
	int64_t pid;
	int rc = db_row(r, &row, STMT_TASK_GET, "i", id);
	const char *completed = NULL;

	*err = rc < 0;
	if (rc <= 0)
		return NULL;
	o = req_own(r, dm_task_json(&row, NULL));
	pid = db_int(&row, 12);
	if (attach_lists(r, LIST_ANNS, 1, &o, &id, 1, pid) != 0 ||
	    attach_lists(r, LIST_PREDS, 0, &o, &id, 1, pid) != 0 ||
	    attach_lists(r, LIST_DRAFTS, 0, &o, &id, 1, pid) != 0) {
		*err = 1;
		return NULL;
	}
	anns = json_object_object_get(o, "annotations");
	annotators = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(anns); i++) {
		struct json_object *a = json_object_array_get_idx(anns, i), *by, *uid;
		const char *at = json_object_get_string(json_object_object_get(a, "created_at"));
		int64_t who;
		size_t k;

		if (!json_object_get_boolean(json_object_object_get(a, "was_cancelled")) &&
		    (completed == NULL || strcmp(at, completed) > 0))
			completed = at;
		by = json_object_object_get(a, "completed_by");
		if (by == NULL)
			continue;
		uid = json_object_is_type(by, json_type_object) ? json_object_object_get(by, "id") : by;
		who = json_object_get_int64(uid);
		for (k = 0; k < json_object_array_length(annotators); k++)
			if (json_object_get_int64(json_object_array_get_idx(annotators, k)) == who)
				break;
		if (k == json_object_array_length(annotators))
			json_object_array_add(annotators, json_object_new_int64(who));
	}
	json_object_object_add(o, "annotators", annotators);
	jadd_str(o, "completed_at", completed);
	jadd_bool(o, "draft_exists", json_object_array_length(json_object_object_get(o, "drafts")) > 0);
	json_object_get(o);
	return o;
}

/* The simple task with its annotations (completed_by as an id) and predictions. */
static struct json_object *
simple_task_full(struct req *r, int64_t id, int *err)
{
	struct db_row row;
	struct json_object *o;
	int rc = db_row(r, &row, STMT_TASK_GET, "i", id);

	*err = rc < 0;
	if (rc <= 0)
		return NULL;
	o = req_own(r, simple_task_json(&row));
	if (attach_lists(r, LIST_ANNS, 0, &o, &id, 1, db_int(&row, 12)) != 0 ||
	    attach_lists(r, LIST_PREDS, 0, &o, &id, 1, db_int(&row, 12)) != 0) {
		*err = 1;
		return NULL;
	}
	json_object_get(o);
	return o;
}

static int
reply_simple_task(struct req *r, int status, int64_t id)
{
	int err;
	struct json_object *o = simple_task_full(r, id, &err);

	if (o == NULL)
		return err ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	return reply_json(r, status, o);
}

/* --- GET /api/tasks/ --- */

struct page_rows {
	struct json_object *tasks;
	const char *include;
	int ids_only;
	int64_t *ids;
	size_t n, cap;
	struct req *r;
};

static int
page_row(void *ctx, const struct db_row *row)
{
	struct page_rows *p = ctx;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 128;
		int64_t *ids = req_alloc(p->r, cap * sizeof(*ids));

		if (p->n)
			memcpy(ids, p->ids, p->n * sizeof(*ids));
		p->ids = ids;
		p->cap = cap;
	}
	p->ids[p->n++] = db_int(row, 0);
	if (p->ids_only) {
		struct json_object *o = json_object_new_object();

		jadd_int(o, "id", db_int(row, 0));
		json_object_array_add(p->tasks, o);
	} else {
		json_object_array_add(p->tasks, dm_task_json(row, p->include));
	}
	return 0;
}

/* Only id among the include names. */
static int
include_ids_only(const char *inc)
{
	if (inc == NULL)
		return 0;
	for (const char *p = inc; *p; ) {
		size_t len = strcspn(p, ",");

		while (len > 0 && *p == ' ')
			p++, len--;
		if (len > 0 && !(len == 2 && strncmp(p, "id", 2) == 0))
			return 0;
		p += len;
		if (*p == ',')
			p++;
	}
	return 1;
}

/* Where a page of the task list starts as an inner id, so the page is a seek rather than an
 * OFFSET skip: the offset itself while the project has lost no task, else the offset shifted by
 * the gaps before it (sql/0004). 1 with *after set, 0 when OFFSET is the cheaper or the only
 * right way (more gaps than rows to skip, or task_gaps disagrees with the counters), -1. */
static int
page_seek(struct req *r, int64_t pid, int64_t gaps, int64_t offset, int64_t *after)
{
	struct db_row g;

	*after = offset;
	if (gaps == 0)
		return 1;
	if (gaps < 0 || gaps > offset)
		return 0;
	if (db_row(r, &g, STMT_TASK_GAP_SHIFT, "ii", offset, pid) != 1)
		return -1;
	if (db_int(&g, 0) != gaps)
		return 0;
	*after = offset + db_int(&g, 1);
	return 1;
}

int
tasks_list(struct req *r)
{
	const char *pstr = req_query(r, "project"), *fields = req_query(r, "fields");
	const char *inc = req_query(r, "include");
	struct project_ref ref;
	struct page p;
	struct db_row tot;
	struct page_rows rows = { 0 };
	struct json_object *o;
	enum stmt_id st;
	int bad = 0, rc, all = fields != NULL && strcmp(fields, "all") == 0;
	int64_t pid, after;

	if (req_query(r, "view") != NULL && (pstr == NULL || *pstr == '\0'))
		return req_fail(r, 404, "Not found.");       /* views are not built yet */
	if (pstr == NULL || *pstr == '\0')
		return req_fail(r, 404, "Neither project nor view id specified");
	pid = req_query_int(r, "project", 0, &bad);
	if (bad)
		return req_fail_field(r, "project", "A valid integer is required.");
	if ((rc = scope_project(r, pid, &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((rc = page_parse(r, &p, 100, TASKS_PAGE_MAX, 0)) != 0)
		return rc;
	if (db_row(r, &tot, STMT_TASK_TOTALS, "i", pid) != 1)
		return req_fail_db(r);
	if ((rc = page_check(r, &p, db_int(&tot, 0))) != 0)
		return rc;
	if (inc != NULL && *inc == '\0')
		inc = NULL;
	rows.r = r;
	rows.include = inc;
	rows.ids_only = include_ids_only(inc);
	rows.tasks = req_own(r, json_object_new_array());
	if ((rc = page_seek(r, pid, db_int(&tot, 3), p.offset, &after)) < 0)
		return req_fail_db(r);
	if (rc == 1) {
		st = rows.ids_only ? STMT_TASK_PAGE_IDS_INNER : want(inc, "data") ? STMT_TASK_PAGE_INNER :
		    STMT_TASK_PAGE_NODATA_INNER;
		rc = db_each(r, page_row, &rows, st, "iii", pid, after, p.size);
	} else {
		st = rows.ids_only ? STMT_TASK_PAGE_IDS : want(inc, "data") ? STMT_TASK_PAGE :
		    STMT_TASK_PAGE_NODATA;
		rc = db_each(r, page_row, &rows, st, "iii", pid, p.size, p.offset);
	}
	if (rc != 0)
		return req_fail_db(r);
	if (p.number > 1 && rows.n == 0)
		return req_fail(r, 404, "Invalid page.");
	if (all && !rows.ids_only && rows.n > 0) {
		struct json_object **objs = req_alloc(r, rows.n * sizeof(*objs));

		for (size_t i = 0; i < rows.n; i++)
			objs[i] = json_object_array_get_idx(rows.tasks, i);
		if ((want(inc, "annotations") &&
		    attach_lists(r, LIST_ANNS, 1, objs, rows.ids, rows.n, pid) != 0) ||
		    (want(inc, "predictions") &&
		    attach_lists(r, LIST_PREDS, 0, objs, rows.ids, rows.n, pid) != 0) ||
		    (want(inc, "drafts") &&
		    attach_lists(r, LIST_DRAFTS, 0, objs, rows.ids, rows.n, pid) != 0))
			return req_fail_db(r);
	}
	o = json_object_new_object();
	json_object_object_add(o, "tasks", json_object_get(rows.tasks));
	jadd_int(o, "total", db_int(&tot, 0));
	jadd_int(o, "total_annotations", db_int(&tot, 1));
	jadd_int(o, "total_predictions", db_int(&tot, 2));
	return reply_json(r, 200, o);
}

/* --- GET/POST/DELETE /api/projects/{id}/tasks/ --- */

static int
load_project(struct req *r, struct project_ref *ref)
{
	int rc = scope_project(r, req_param_id(r, "id"), ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

struct simple_rows {
	struct req *r;
	struct json_object *a;
	int64_t *ids;
	size_t n;
};

static int
simple_row(void *ctx, const struct db_row *row)
{
	struct simple_rows *s = ctx;

	s->ids[s->n++] = db_int(row, 0);
	json_object_array_add(s->a, simple_task_json(row));
	return 0;
}

int
projects_tasks_list(struct req *r)
{
	struct project_ref ref;
	struct page p;
	struct db_row tot;
	struct simple_rows s = { 0 };
	int rc;

	if ((rc = load_project(r, &ref)) != 0)
		return rc;
	if ((rc = page_parse(r, &p, 50, TASKS_PAGE_MAX, 1)) != 0)
		return rc;
	if (db_row(r, &tot, STMT_TASK_TOTALS, "i", ref.id) != 1)
		return req_fail_db(r);
	if ((rc = page_check(r, &p, db_int(&tot, 0))) != 0)
		return rc;
	s.r = r;
	s.a = req_own(r, json_object_new_array());
	s.ids = req_alloc(r, (size_t)p.size * sizeof(*s.ids));
	if (db_each(r, simple_row, &s, STMT_TASK_PAGE_RECENT, "iii", ref.id, p.size, p.offset) != 0)
		return req_fail_db(r);
	if (s.n == 0)
		return req_fail(r, 404, p.number > 1 ? "Invalid page." : "Not found.");
	/* The page is ordered by updated_at, not a contiguous id range: one indexed read per task. */
	for (size_t i = 0; i < s.n; i++) {
		struct json_object *t = json_object_array_get_idx(s.a, i);

		if (attach_lists(r, LIST_ANNS, 0, &t, &s.ids[i], 1, ref.id) != 0 ||
		    attach_lists(r, LIST_PREDS, 0, &t, &s.ids[i], 1, ref.id) != 0)
			return req_fail_db(r);
	}
	return reply_json(r, 200, json_object_get(s.a));
}

int
projects_tasks_delete(struct req *r)
{
	struct project_ref ref;
	int rc;

	if ((rc = load_project(r, &ref)) != 0)
		return rc;
	if (db_begin(r) != 0 || db_exec(r, STMT_TASK_DELETE_ALL, "i", ref.id) < 0 ||
	    stats_project_clear(r, ref.id) != 0 || db_commit(r) != 0)
		return req_fail_db(r);
	return reply_empty(r, 204);
}

/* Checks data against the project's config; 0 ok, else the 400 it answered. */
static int
check_data(struct req *r, const struct project_ref *ref, struct json_object *data)
{
	const struct labelconfig *c;
	char err[512];

	if (!json_object_is_type(data, json_type_object))
		return req_fail_field(r, "data", "Expected a dictionary of items but got type \"%s\".",
		    jpy_type(data));
	c = scope_config(r, ref);
	if (c == NULL)
		return 0;
	import_undefined_key(c, data);
	if (lc_check_task_data(c, data, err, sizeof(err)) != 0)
		return req_fail_field(r, "data", "%s", err);
	return 0;
}

static int
check_meta(struct req *r, struct json_object *meta)
{
	if (json_object_is_type(meta, json_type_object) || json_object_is_type(meta, json_type_array))
		return 0;
	return req_fail_field(r, "meta", "Expected a dictionary of items but got type \"%s\".",
	    jpy_type(meta));
}

static const char *
to_text(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* One new task in ref's project from body {"data", "meta"?}. Answers 201 + the task. */
static int
create_task(struct req *r, const struct project_ref *ref, struct json_object *body)
{
	struct json_object *data = NULL, *meta = NULL, *counts;
	struct db_row prow;
	struct stats_delta d;
	int64_t id, inner;
	int rc;

	if (!json_object_object_get_ex(body, "data", &data) || data == NULL)
		return req_fail_field(r, "data", json_object_object_get_ex(body, "data", NULL) ?
		    "This field may not be null." : "This field is required.");
	if ((rc = check_data(r, ref, data)) != 0)
		return rc;
	if (json_object_object_get_ex(body, "meta", &meta) && meta != NULL && (rc = check_meta(r, meta)) != 0)
		return rc;
	if (db_begin(r) != 0 || import_project_lock(r, ref->id, &prow) != 1)
		return req_fail_db(r);
	inner = db_int(&prow, 0);
	if (db_exec(r, STMT_TASK_INNER_RESERVE, "ii", (int64_t)1, ref->id) < 0 ||
	    db_exec(r, STMT_TASK_INSERT, "iiisss", ref->id, db_int(&prow, 2), inner, to_text(data),
	    meta != NULL ? to_text(meta) : "{}", (const char *)NULL) < 0)
		return req_fail_db(r);
	id = db_insert_id();
	stats_task_delta(&d, 0, 0, 0, 0, 0);
	counts = req_own(r, json_object_new_object());
	import_count_keys(counts, data, 1);
	if (stats_project_add(r, ref->id, &d) != 0 ||
	    import_data_columns(r, ref->id, db_str(&prow, 1), counts) != 0 || db_commit(r) != 0)
		return req_fail_db(r);
	return reply_simple_task(r, 201, id);
}

int
projects_tasks_create(struct req *r)
{
	struct project_ref ref;
	int rc;

	if ((rc = load_project(r, &ref)) != 0)
		return rc;
	return create_task(r, &ref, r->json);
}

/* --- /api/tasks/ and /api/tasks/{id}/ --- */

int
tasks_create(struct req *r)
{
	struct project_ref ref;
	struct json_object *pj;
	int64_t pid;
	int rc;

	if (!json_object_object_get_ex(r->json, "project", &pj) || pj == NULL)
		return req_fail_field(r, "project", "This field is required.");
	if (!json_object_is_type(pj, json_type_int))
		return req_fail_field(r, "project", "Incorrect type. Expected pk value, received %s.",
		    jpy_type(pj));
	pid = json_object_get_int64(pj);
	if ((rc = scope_project(r, pid, &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return create_task(r, &ref, r->json);
}

static int
load_task(struct req *r, int64_t *id, struct project_ref *ref)
{
	int rc;

	*id = req_param_id(r, "id");
	rc = scope_task(r, *id, ref);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

int
tasks_get(struct req *r)
{
	struct project_ref ref;
	struct json_object *o;
	int64_t id;
	int rc, err;

	if ((rc = load_task(r, &id, &ref)) != 0)
		return rc;
	o = full_task_json(r, id, &err);
	if (o == NULL)
		return err ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	return reply_json(r, 200, o);
}

int
tasks_patch(struct req *r)
{
	struct project_ref ref;
	struct json_object *data = NULL, *meta = NULL, *lab = NULL, *old = NULL, *counts;
	struct db_row t, prow;
	const char *data_text, *meta_text;
	int64_t id;
	int rc, labeled, was;

	if ((rc = load_task(r, &id, &ref)) != 0)
		return rc;
	if (json_object_object_get_ex(r->json, "data", &data) && (rc = check_data(r, &ref, data)) != 0)
		return rc;
	if (json_object_object_get_ex(r->json, "meta", &meta) && meta != NULL &&
	    (rc = check_meta(r, meta)) != 0)
		return rc;
	if (json_object_object_get_ex(r->json, "is_labeled", &lab) &&
	    !json_object_is_type(lab, json_type_boolean))
		return req_fail_field(r, "is_labeled", "Must be a valid boolean.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = db_row(r, &t, STMT_TASK_GET_LOCK, "i", id)) != 1)
		return rc < 0 ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	was = (int)db_int(&t, 7);
	labeled = lab != NULL ? json_object_get_boolean(lab) : was;
	data_text = data != NULL ? to_text(data) : db_str(&t, 1);
	meta_text = meta != NULL ? to_text(meta) : db_str(&t, 2);
	if (db_exec(r, STMT_TASK_UPDATE, "ssbii", data_text, meta_text, labeled, r->who.user_id, id) < 0)
		return req_fail_db(r);
	if (labeled != was) {
		struct stats_delta d;

		memset(&d, 0, sizeof(d));
		d.finished = labeled ? 1 : -1;
		if (stats_project_add(r, ref.id, &d) != 0)
			return req_fail_db(r);
	}
	if (data != NULL) {
		counts = req_own(r, json_object_new_object());
		old = req_own(r, json_tokener_parse(db_str(&t, 1)));
		import_count_keys(counts, old, -1);
		import_count_keys(counts, data, 1);
		if (import_project_lock(r, ref.id, &prow) != 1 ||
		    import_data_columns(r, ref.id, db_str(&prow, 1), counts) != 0)
			return req_fail_db(r);
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_simple_task(r, 200, id);
}

int
tasks_delete(struct req *r)
{
	struct project_ref ref;
	struct db_row t, prow;
	struct json_object *counts;
	int64_t id;
	int rc;

	if ((rc = load_task(r, &id, &ref)) != 0)
		return rc;
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = db_row(r, &t, STMT_TASK_GET_LOCK, "i", id)) != 1)
		return rc < 0 ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	counts = req_own(r, json_object_new_object());
	import_count_keys(counts, req_own(r, json_tokener_parse(db_str(&t, 1))), -1);
	if (stats_task_remove(r, id) != 0 || import_project_lock(r, ref.id, &prow) != 1 ||
	    import_data_columns(r, ref.id, db_str(&prow, 1), counts) != 0 ||
	    db_exec(r, STMT_TASK_DELETE, "i", id) < 0 || db_commit(r) != 0)
		return req_fail_db(r);
	return reply_empty(r, 204);
}

/* --- the labeling stream --- */

static int
first_id(struct req *r, int64_t *out, enum stmt_id st, const char *fmt, int64_t a, int64_t b,
    int64_t c)
{
	struct db_row row;
	int rc = strlen(fmt) == 2 ? db_row(r, &row, st, fmt, a, b) : db_row(r, &row, st, fmt, a, b, c);

	if (rc == 1)
		*out = db_int(&row, 0);
	return rc;
}

/* The first unlabeled task from id `from` on that the caller may take (see NEXT_TASK). */
static int
next_from(struct req *r, const struct project_ref *ref, int64_t from, int64_t *out)
{
	struct db_row row;
	int64_t me = r->who.user_id;
	int rc = db_row(r, &row, STMT_NEXT_TASK, "iiiisi", ref->id, from, me, me, ref->skip_queue, me);

	if (rc == 1)
		*out = db_int(&row, 0);
	return rc;
}

int
projects_next(struct req *r)
{
	struct project_ref ref;
	struct json_object *o;
	const char *queue = "";
	int64_t me = r->who.user_id, tid = 0;
	int rc, err, lock = 0;

	if ((rc = load_project(r, &ref)) != 0)
		return rc;
	if (db_begin(r) != 0)
		return req_fail_db(r);
	/* A task the caller holds already comes back to them (Label Studio's "Task lock"). */
	if ((rc = first_id(r, &tid, STMT_NEXT_MY_LOCK, "iii", ref.id, me, me)) < 0)
		return req_fail_db(r);
	if (rc == 1) {
		queue = "Task lock";
	} else if (strcmp(ref.sampling, "Sequential sampling") == 0) {
		queue = "Sequence queue";
		if ((rc = next_from(r, &ref, 0, &tid)) < 0)
			return req_fail_db(r);
		lock = rc == 1;
	} else {
		/* Uniform (and uncertainty, which falls back to random without current predictions):
		 * a random pivot between the lowest and highest unlabeled id, then the first
		 * candidate from there, wrapping around. */
		struct db_row b;
		uint64_t rnd = 0;

		queue = strcmp(ref.sampling, "Uniform sampling") == 0 ? "Uniform random queue" :
		    "Active learning or random queue";
		if (db_row(r, &b, STMT_NEXT_BOUNDS, "i", ref.id) != 1)
			return req_fail_db(r);
		if (!db_null(&b, 0)) {
			int64_t lo = db_int(&b, 0), hi = db_int(&b, 1);

			rand_bytes(&rnd, sizeof(rnd));
			if ((rc = next_from(r, &ref, lo + (int64_t)(rnd % (uint64_t)(hi - lo + 1)), &tid)) < 0)
				return req_fail_db(r);
			if (rc == 0 && (rc = next_from(r, &ref, 0, &tid)) < 0)
				return req_fail_db(r);
			lock = rc == 1;
		}
	}
	if (lock && db_exec(r, STMT_NEXT_LOCK, "iiii", tid, me, ref.id, (int64_t)LOCK_TTL) < 0)
		return req_fail_db(r);
	if (tid == 0) {
		if ((rc = first_id(r, &tid, STMT_NEXT_POSTPONED, "ii", ref.id, me, 0)) < 0)
			return req_fail_db(r);
		if (rc == 1)
			queue = "Postponed draft queue";
	}
	if (tid == 0 && strcmp(ref.skip_queue, "REQUEUE_FOR_ME") == 0) {
		if ((rc = first_id(r, &tid, STMT_NEXT_SKIPPED, "ii", ref.id, me, 0)) < 0)
			return req_fail_db(r);
		if (rc == 1)
			queue = "Skipped queue";
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	if (tid == 0)
		return req_fail(r, 404, "There are still some tasks to complete for the user=%s, but they "
		    "seem to be locked by another user.", db_str(r->who.user, AUTH_USER_COL + 2));
	o = full_task_json(r, tid, &err);
	if (o == NULL)
		return err ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	jadd_str(o, "queue", queue);
	return reply_json(r, 200, o);
}
