/* import.c — POST /api/projects/{id}/import (and its alias /tasks/bulk): tasks from a JSON body,
 * with their annotations and predictions, validated whole before anything is written.
 *
 * The body is parsed once by json-c (the strict JSON gate). Every item is checked against the
 * labeling config first; any bad item answers 400 with Label Studio's per-item list and nothing is
 * written. Then one transaction: inner ids reserved under the project row lock, tasks, annotations
 * and predictions inserted several rows per statement, each new task's counters set from its own
 * annotations in one UPDATE over the new id range, the project's counters moved once, label usage
 * flushed once, data_columns merged once.
 *
 * Memory: the whole body and its json-c tree live for the request (a 250 MB body costs a few times
 * that); the per-item bookkeeping is a few words per task. A streaming top-level parser would
 * bound it; not done yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "reply.h"
#include "router.h"
#include "shared.h"

#define TASKS_MAX_NUMBER 1000000        /* Label Studio's hard limit per import */
#define MAX_ITEM_ERRORS 100
#define ITEM_ECHO_MAX 1000              /* bytes of an item echoed in its error */

/* Locks the project row: next_inner_id, data_columns, maximum_annotations, skip_queue. */
int
import_project_lock(struct req *r, int64_t project_id, struct db_row *row)
{
	return db_row(r, row, STMT_TASK_PROJECT_LOCK, "i", project_id);
}

/* counts[key] += sign for each top-level key of data. */
void
import_count_keys(struct json_object *counts, struct json_object *data, int sign)
{
	if (!json_object_is_type(data, json_type_object))
		return;
	json_object_object_foreach(data, key, val) {
		struct json_object *cur = json_object_object_get(counts, key);

		(void)val;
		json_object_object_add(counts, key, json_object_new_int64(json_object_get_int64(cur) + sign));
	}
}

/* Merges counts into the stored {"key": tasks} object (keys falling to 0 go) and stores it. The
 * caller holds the project row lock (import_project_lock). */
int
import_data_columns(struct req *r, int64_t project_id, const char *stored, struct json_object *counts)
{
	struct json_object *dc;

	if (json_object_object_length(counts) == 0)
		return 0;
	dc = req_own(r, json_tokener_parse(stored != NULL ? stored : "{}"));
	if (!json_object_is_type(dc, json_type_object))
		dc = req_own(r, json_object_new_object());
	json_object_object_foreach(counts, key, delta) {
		int64_t n = json_object_get_int64(json_object_object_get(dc, key)) + json_object_get_int64(delta);

		if (n > 0)
			json_object_object_add(dc, key, json_object_new_int64(n));
		else
			json_object_object_del(dc, key);
	}
	return db_exec(r, STMT_TASK_DATA_COLUMNS_SET, "si", json_object_to_json_string_ext(dc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), project_id) < 0 ? -1 : 0;
}

/* Label Studio's "$undefined$" placeholder (text imports) takes the config's first data key. */
void
import_undefined_key(const struct labelconfig *c, struct json_object *data)
{
	struct json_object *v;

	if (c == NULL || lc_ndata_keys(c) == 0 || !json_object_object_get_ex(data, "$undefined$", &v))
		return;
	json_object_object_add(data, lc_data_key(c, 0), json_object_get(v));
	json_object_object_del(data, "$undefined$");
}

/* --- the import --- */

struct imp_ann {
	int64_t task;                   /* index of its task in the import */
	int64_t completed_by;
	struct json_object *result;
	int cancelled, ground_truth;
	const char *lead_time;          /* text, NULL for SQL NULL */
	const char *import_id;
};

struct imp_pred {
	int64_t task;
	struct json_object *result;
	const char *score;
	const char *model_version;
};

struct imp_task {
	struct json_object *data, *meta;
	int64_t total, cancelled, gt, preds;
};

struct imp {
	struct req *r;
	const struct project_ref *ref;
	const struct labelconfig *c;
	struct imp_task *tasks;
	struct imp_ann *anns;
	struct imp_pred *preds;
	size_t ntasks, nanns, npreds, capanns, cappreds;
	/* completed_by lookups already made: (id or email) -> member id, 0 when not a member */
	struct who { int64_t id; const char *email; int64_t member; } *who;
	size_t nwho, capwho;
};

static const char *
text(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Python's truthiness, as `if task.get('data')`. */
static int
truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return 0;
	case json_type_boolean: return json_object_get_boolean(v);
	case json_type_int: return json_object_get_int64(v) != 0;
	case json_type_double: return json_object_get_double(v) != 0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	case json_type_object: return json_object_object_length(v) > 0;
	case json_type_array: return json_object_array_length(v) > 0;
	}
	return 0;
}

static void *
grow(struct req *r, void *old, size_t n, size_t *cap, size_t size)
{
	void *p;

	if (n < *cap)
		return old;
	*cap = *cap ? *cap * 2 : 64;
	p = req_alloc(r, *cap * size);
	if (n)
		memcpy(p, old, n * size);
	return p;
}

/* The member id that completed_by names (an id, {"id"} or {"email"}), 0 when it names nobody of
 * the organization, -1 on a database error. */
static int64_t
resolve_who(struct imp *im, struct json_object *v)
{
	struct json_object *f;
	int64_t id = 0;
	const char *email = NULL;
	struct db_row row;
	int rc;

	if (json_object_is_type(v, json_type_int)) {
		id = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_object)) {
		if (json_object_object_get_ex(v, "id", &f) && json_object_is_type(f, json_type_int))
			id = json_object_get_int64(f);
		else if (json_object_object_get_ex(v, "email", &f) && json_object_is_type(f, json_type_string))
			email = json_object_get_string(f);
		else
			return 0;
	} else {
		return 0;
	}
	for (size_t i = 0; i < im->nwho; i++)
		if (email != NULL ? im->who[i].email != NULL && strcmp(im->who[i].email, email) == 0 :
		    im->who[i].email == NULL && im->who[i].id == id)
			return im->who[i].member;
	if (email != NULL)
		rc = db_row(im->r, &row, STMT_IMPORT_MEMBER_EMAIL, "is", im->r->who.org_id, email);
	else
		rc = db_row(im->r, &row, STMT_IMPORT_MEMBER_ID, "ii", im->r->who.org_id, id);
	if (rc < 0)
		return -1;
	im->who = grow(im->r, im->who, im->nwho, &im->capwho, sizeof(*im->who));
	im->who[im->nwho].id = id;
	im->who[im->nwho].email = email != NULL ? req_strdup(im->r, email) : NULL;
	im->who[im->nwho].member = rc == 1 ? db_int(&row, 0) : 0;
	return im->who[im->nwho++].member;
}

/* A number (or numeric string) as text for a DOUBLE column, NULL otherwise. */
static const char *
number_text(struct req *r, struct json_object *v)
{
	char *end;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return req_printf(r, "%.17g", json_object_get_double(v));
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		double d = strtod(s, &end);

		if (end != s && *end == '\0')
			return req_printf(r, "%.17g", d);
	}
	return NULL;
}

/* Checks one annotation and records it. NULL when fine, else the message; *dberr on a database
 * error. */
static const char *
check_annotation(struct imp *im, size_t task, struct json_object *a, int *dberr)
{
	struct req *r = im->r;
	struct json_object *res, *v;
	struct imp_ann *x;
	char err[512];
	int64_t who = r->who.user_id;

	if (!json_object_is_type(a, json_type_object))
		return "Annotation must be dict";
	if (!json_object_object_get_ex(a, "result", &res))
		return "Annotation must have \"result\" fields";
	if (!json_object_is_type(res, json_type_array))
		return "\"result\" field in annotation must be list";
	if (im->c != NULL && lc_check_result(im->c, res, err, sizeof(err)) >= 0)
		return req_printf(r, "annotation %s", err);
	if (json_object_object_get_ex(a, "completed_by", &v) && v != NULL) {
		who = resolve_who(im, v);
		if (who < 0) {
			*dberr = 1;
			return "";
		}
		if (who == 0)
			return req_printf(r, "Annotations with \"completed_by\"=%s are produced by annotator who "
			    "is not allowed for this project as invited annotator or team member", text(v));
	}
	im->anns = grow(r, im->anns, im->nanns, &im->capanns, sizeof(*im->anns));
	x = &im->anns[im->nanns];
	memset(x, 0, sizeof(*x));
	x->task = (int64_t)task;
	x->completed_by = who;
	x->result = res;
	x->ground_truth = 1;            /* Label Studio imports annotations as ground truth by default */
	if (json_object_object_get_ex(a, "was_cancelled", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return "\"was_cancelled\" must be a boolean";
		x->cancelled = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(a, "ground_truth", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return "\"ground_truth\" must be a boolean";
		x->ground_truth = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(a, "lead_time", &v) && v != NULL &&
	    (x->lead_time = number_text(r, v)) == NULL)
		return "\"lead_time\" must be a number";
	if (json_object_object_get_ex(a, "id", &v) && json_object_is_type(v, json_type_int))
		x->import_id = req_printf(r, "%lld", (long long)json_object_get_int64(v));
	im->nanns++;
	return NULL;
}

static const char *
check_prediction(struct imp *im, size_t task, struct json_object *p)
{
	struct req *r = im->r;
	struct json_object *res, *v;
	struct imp_pred *x;
	char err[512];

	if (!json_object_is_type(p, json_type_object))
		return "Prediction must be dict";
	if (!json_object_object_get_ex(p, "result", &res))
		return "Prediction must have \"result\" fields";
	if (!json_object_is_type(res, json_type_array))
		return "\"result\" field in prediction must be list";
	if (im->c != NULL && lc_check_result(im->c, res, err, sizeof(err)) >= 0)
		return req_printf(r, "prediction %s", err);
	im->preds = grow(r, im->preds, im->npreds, &im->cappreds, sizeof(*im->preds));
	x = &im->preds[im->npreds];
	x->task = (int64_t)task;
	x->result = res;
	/* As Label Studio: a score that is not a number is stored as null. */
	x->score = json_object_object_get_ex(p, "score", &v) && v != NULL ? number_text(r, v) : NULL;
	x->model_version = "undefined";
	if (json_object_object_get_ex(p, "model_version", &v) && v != NULL)
		x->model_version = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : text(v);
	if (strlen(x->model_version) > 255)
		return "\"model_version\" must have no more than 255 characters";
	im->npreds++;
	return NULL;
}

/* Checks item i and records it. NULL when fine, else the message; *dberr on a database error. */
static const char *
check_item(struct imp *im, size_t i, struct json_object *item, int *dberr)
{
	struct req *r = im->r;
	struct imp_task *t = &im->tasks[i];
	struct json_object *data = NULL, *v;
	int root;
	char err[512];
	const char *msg;

	memset(t, 0, sizeof(*t));
	if (!json_object_is_type(item, json_type_object))
		return "Task root must be dict with \"data\", \"meta\", \"annotations\", \"predictions\" fields";
	root = !(json_object_object_get_ex(item, "data", &data) && truthy(data));
	if (root)
		data = item;
	else if (!json_object_is_type(data, json_type_object))
		return "Task[data] must be <class 'dict'>";
	if (im->c != NULL) {
		import_undefined_key(im->c, data);
		if (lc_check_task_data(im->c, data, err, sizeof(err)) != 0)
			return req_printf(r, "%s%s", err, root ? " [assume: item as is = task root with values] " :
			    " [assume: item[\"data\"] = task root with values]");
	}
	t->data = data;
	if (root)
		return NULL;
	if (json_object_object_get_ex(item, "meta", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
			return "Task[meta] must be (<class 'dict'>, <class 'list'>)";
		t->meta = v;
	}
	if (json_object_object_get_ex(item, "annotations", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_array))
			return "Task[annotations] must be <class 'list'>";
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			struct imp_ann *a;

			if ((msg = check_annotation(im, i, json_object_array_get_idx(v, k), dberr)) != NULL)
				return msg;
			a = &im->anns[im->nanns - 1];
			t->total += !a->cancelled;
			t->cancelled += a->cancelled;
			t->gt += a->ground_truth && !a->cancelled;
		}
	}
	if (json_object_object_get_ex(item, "predictions", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_array))
			return "Task[predictions] must be <class 'list'>";
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			if ((msg = check_prediction(im, i, json_object_array_get_idx(v, k))) != NULL)
				return msg;
			t->preds++;
		}
	}
	return NULL;
}

/* preannotated_from_fields=a,b: each item becomes {"data", "predictions"} with one prediction per
 * field present, built as Label Studio does (the field stays in data). */
static struct json_object *
preannotate(struct req *r, const struct labelconfig *c, struct json_object *item, const char *fields)
{
	struct json_object *data, *out, *preds;

	if (!json_object_is_type(item, json_type_object))
		return item;
	if (!json_object_object_get_ex(item, "data", &data))
		data = item;
	out = req_own(r, json_object_new_object());
	preds = json_object_new_array();
	json_object_object_add(out, "data", json_object_get(data));
	json_object_object_add(out, "predictions", preds);
	for (const char *p = fields; *p; ) {
		size_t len = strcspn(p, ",");
		char *field = req_strndup(r, p, len);
		struct json_object *v, *value, *res, *item1, *pred;
		const char *to = "text", *type = "choices", *key;
		int ci;

		p += len + (p[len] == ',');
		if (*field == '\0' || !json_object_object_get_ex(data, field, &v) || v == NULL)
			continue;
		if (c != NULL && (ci = lc_find_control(c, field)) >= 0) {
			char *lower = req_strdup(r, lc_control_type(c, (size_t)ci));

			for (char *q = lower; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
			type = lower;
			if (lc_control_nto(c, (size_t)ci) > 0)
				to = lc_control_to(c, (size_t)ci, 0);
		}
		if (json_object_is_type(v, json_type_object)) {
			value = json_object_get(v);
		} else {
			key = strcmp(type, "textarea") == 0 ? "text" : type;
			value = json_object_new_object();
			if (strcmp(type, "rating") == 0 || strcmp(type, "number") == 0 ||
			    strcmp(type, "datetime") == 0 || json_object_is_type(v, json_type_array)) {
				json_object_object_add(value, key, json_object_get(v));
			} else {
				struct json_object *one = json_object_new_array();

				json_object_array_add(one, json_object_get(v));
				json_object_object_add(value, key, one);
			}
		}
		item1 = json_object_new_object();
		jadd_str(item1, "from_name", field);
		jadd_str(item1, "to_name", to);
		jadd_str(item1, "type", type);
		json_object_object_add(item1, "value", value);
		res = json_object_new_array();
		json_object_array_add(res, item1);
		pred = json_object_new_object();
		json_object_object_add(pred, "result", res);
		json_object_object_add(pred, "score", json_object_new_double(1.0));
		jadd_str(pred, "model_version", "preannotated");
		json_object_array_add(preds, pred);
	}
	return out;
}

/* commit_to_project and return_task_ids: Django's bool_from_request. -1 when not a boolean. */
static int
query_bool(struct req *r, const char *name, int def)
{
	const char *v = req_query(r, name);

	if (v == NULL || *v == '\0')
		return def;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return 0;
	return -1;
}

static const char *
meta_text(const struct imp_task *t)
{
	return t->meta != NULL ? text(t->meta) : "{}";
}

#define T(k) pid, overlap, first + (int64_t)(i + k), text(im->tasks[i + k].data), meta_text(&im->tasks[i + k])
#define A(k) pid, ids[im->anns[i + k].task], im->anns[i + k].completed_by, text(im->anns[i + k].result), \
	(int)im->anns[i + k].cancelled, (int)im->anns[i + k].ground_truth, im->anns[i + k].lead_time, \
	im->anns[i + k].import_id
#define P(k) pid, ids[im->preds[i + k].task], text(im->preds[i + k].result), im->preds[i + k].score, \
	im->preds[i + k].model_version

/* Writes everything in one transaction; fills *ids_out with the new ids (in item order). 0, or -1
 * on a database error. */
static int
import_write(struct imp *im, int need_ids, int64_t **ids_out)
{
	struct req *r = im->r;
	int64_t pid = im->ref->id, overlap, first, *ids = NULL;
	struct db_row prow;
	struct db_rows idrows;
	struct stats_delta sum, d;
	struct json_object *counts;
	const char *skip_queue;
	struct usage *u;
	size_t i, n = im->ntasks;

	if (db_begin(r) != 0 || import_project_lock(r, pid, &prow) != 1)
		return -1;
	first = db_int(&prow, 0);
	overlap = db_int(&prow, 2);
	skip_queue = db_str(&prow, 3);
	if (db_exec(r, STMT_TASK_INNER_RESERVE, "ii", (int64_t)n, pid) < 0)
		return -1;
	for (i = 0; i + TASK_BATCH <= n; i += TASK_BATCH)
		if (db_exec(r, STMT_IMPORT_TASKS, "iiiss" "iiiss" "iiiss" "iiiss" "iiiss" "iiiss",
		    T(0), T(1), T(2), T(3), T(4), T(5)) < 0)
			return -1;
	for (; i < n; i++)
		if (db_exec(r, STMT_IMPORT_TASK, "iiiss", T(0)) < 0)
			return -1;
	if (need_ids || im->nanns > 0 || im->npreds > 0) {
		if (db_rows(r, &idrows, STMT_IMPORT_TASK_IDS, "iii", pid, first, first + (int64_t)n) != 0)
			return -1;
		if (idrows.n != n)
			return -1;
		ids = req_alloc(r, n * sizeof(*ids));
		for (i = 0; i < n; i++)
			ids[i] = db_int(&idrows.rows[i], 0);
	}
	for (i = 0; i + ANN_BATCH <= im->nanns; i += ANN_BATCH)
		if (db_exec(r, STMT_IMPORT_ANNS, "iiisbbss" "iiisbbss" "iiisbbss" "iiisbbss",
		    A(0), A(1), A(2), A(3)) < 0)
			return -1;
	for (; i < im->nanns; i++)
		if (db_exec(r, STMT_IMPORT_ANN, "iiisbbss", A(0)) < 0)
			return -1;
	for (i = 0; i + PRED_BATCH <= im->npreds; i += PRED_BATCH)
		if (db_exec(r, STMT_IMPORT_PREDS, "iisss" "iisss" "iisss" "iisss" "iisss" "iisss",
		    P(0), P(1), P(2), P(3), P(4), P(5)) < 0)
			return -1;
	for (; i < im->npreds; i++)
		if (db_exec(r, STMT_IMPORT_PRED, "iisss", P(0)) < 0)
			return -1;
	if (im->nanns > 0 && db_exec(r, STMT_IMPORT_ANN_COUNTERS, "iiis", ids[0], ids[n - 1], pid,
	    skip_queue) < 0)
		return -1;
	if (im->npreds > 0 && db_exec(r, STMT_IMPORT_PRED_COUNTERS, "iii", ids[0], ids[n - 1], pid) < 0)
		return -1;
	/* The project's counters move by what the tasks were given (the same rule as the UPDATE). */
	memset(&sum, 0, sizeof(sum));
	counts = req_own(r, json_object_new_object());
	for (i = 0; i < n; i++) {
		const struct imp_task *t = &im->tasks[i];

		stats_task_delta(&d, t->total, t->cancelled, t->gt, t->preds,
		    stats_is_labeled(t->total, t->cancelled, (int)overlap, skip_queue));
		sum.tasks += d.tasks;
		sum.annotations += d.annotations;
		sum.skipped += d.skipped;
		sum.ground_truth += d.ground_truth;
		sum.useful += d.useful;
		sum.with_annotations += d.with_annotations;
		sum.finished += d.finished;
		sum.predictions += d.predictions;
		import_count_keys(counts, t->data, 1);
	}
	if (stats_project_add(r, pid, &sum) != 0)
		return -1;
	if (im->nanns > 0) {
		u = usage_new(r, pid);
		for (i = 0; i < im->nanns; i++)
			usage_add(u, im->anns[i].result, 1, 0);
		if (usage_flush(r, u) != 0)
			return -1;
	}
	if (im->npreds > 0 && db_exec(r, STMT_IMPORT_MODEL_VERSION, "si",
	    im->preds[im->npreds - 1].model_version, pid) < 0)
		return -1;
	if (import_data_columns(r, pid, db_str(&prow, 1), counts) != 0 || db_commit(r) != 0)
		return -1;
	*ids_out = ids;
	return 0;
}

#undef T
#undef A
#undef P

/* Label Studio's item error: "Error at item i: message :: item". */
static struct json_object *
item_error(struct req *r, size_t i, const char *msg, struct json_object *item)
{
	size_t len;
	const char *s = json_object_to_json_string_length(item, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (len > ITEM_ECHO_MAX)
		return json_object_new_string(req_printf(r, "Error at item %zu: %s :: %.*s...", i, msg,
		    ITEM_ECHO_MAX, s));
	return json_object_new_string(req_printf(r, "Error at item %zu: %s :: %s", i, msg, s));
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int
import_tasks(struct req *r)
{
	struct timespec t0;
	struct project_ref ref;
	struct imp im;
	struct json_object *list, *errors, *o, *ids_json;
	const char *pre = req_query(r, "preannotated_from_fields");
	int64_t *ids = NULL;
	size_t n, nerr = 0;
	int rc, commit, want_ids, dberr = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = scope_project(r, req_param_id(r, "id"), &ref);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((commit = query_bool(r, "commit_to_project", 1)) < 0)
		return req_fail_field(r, "commit_to_project", "Must be a valid boolean.");
	if ((want_ids = query_bool(r, "return_task_ids", 0)) < 0)
		return req_fail_field(r, "return_task_ids", "Must be a valid boolean.");
	/* Files and url= imports come with the file import; until then they are "no data". */
	if (r->content_type == NULL || strcasestr(r->content_type, "application/json") == NULL)
		return req_fail_field(r, "non_field_errors", "load_tasks: No data found in DATA or in FILES");
	if ((rc = router_read_json(r, cfg.max_body_size, "max_body_size")) != 0)
		return rc;
	if (json_object_is_type(r->json, json_type_object)) {
		list = req_own(r, json_object_new_array());
		json_object_array_add(list, json_object_get(r->json));
	} else if (json_object_is_type(r->json, json_type_array)) {
		list = r->json;
	} else {
		return req_fail_field(r, "non_field_errors", "load_tasks: No data found in DATA or in FILES");
	}
	n = json_object_array_length(list);
	if (n == 0)
		return req_fail_field(r, "non_field_errors", "load_tasks: No tasks added");
	if (n > TASKS_MAX_NUMBER)
		return req_fail_field(r, "non_field_errors", "Maximum task number is %d, current task number is %zu",
		    TASKS_MAX_NUMBER, n);

	memset(&im, 0, sizeof(im));
	im.r = r;
	im.ref = &ref;
	im.c = scope_config(r, &ref);
	im.tasks = req_alloc(r, n * sizeof(*im.tasks));
	im.ntasks = n;
	errors = req_own(r, json_object_new_array());
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(list, i);
		const char *msg;

		if (pre != NULL && *pre != '\0')
			item = preannotate(r, im.c, item, pre);
		msg = check_item(&im, i, item, &dberr);
		if (dberr)
			return req_fail_db(r);
		if (msg == NULL) {
			json_object_array_add(errors, json_object_new_object());
			continue;
		}
		json_object_array_add(errors, item_error(r, i, msg, item));
		if (++nerr >= MAX_ITEM_ERRORS) {
			json_object_array_put_idx(errors, json_object_array_length(errors) - 1,
			    json_object_new_string("..."));
			break;
		}
	}
	if (nerr > 0) {
		struct json_object *ve = json_object_new_object();

		json_object_object_add(ve, "non_field_errors", json_object_get(errors));
		return req_fail_validation(r, ve);
	}

	o = json_object_new_object();
	jadd_int(o, "task_count", (int64_t)n);
	if (commit) {
		if (import_write(&im, want_ids, &ids) != 0)
			return req_fail_db(r);
		jadd_int(o, "annotation_count", (int64_t)im.nanns);
		jadd_int(o, "prediction_count", (int64_t)im.npreds);
	} else {
		jadd_null(o, "annotation_count");
		jadd_null(o, "prediction_count");
	}
	json_object_object_add(o, "duration", json_object_new_double(seconds_since(&t0)));
	json_object_object_add(o, "file_upload_ids", json_object_new_array());
	jadd_bool(o, "could_be_tasks_list", 0);
	json_object_object_add(o, "found_formats", json_object_new_array());
	json_object_object_add(o, "data_columns", json_object_new_array());
	if (want_ids) {
		ids_json = json_object_new_array_ext((int)n);
		for (size_t i = 0; commit && i < n; i++)
			json_object_array_add(ids_json, json_object_new_int64(ids[i]));
		json_object_object_add(o, "task_ids", ids_json);
	}
	return reply_json(r, 201, o);
}

int
import_reimport(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
