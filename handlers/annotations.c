/* annotations.c — a task's annotations: list, create (the labeling hot path), read, update,
 * delete, and convert-to-draft. Also the small readers of request fields that drafts.c and
 * predictions.c share (ann_*).
 *
 * Every write runs in one transaction that first locks the task row and then its project row
 * (see stmts_annotations.h for why before the INSERT), writes, recomputes the task's counters
 * (stats_task_refresh) and moves label_usage by what left and what arrived. Another
 * organization's task or annotation is 404 and nothing changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "reply.h"
#include "shared.h"

/* --- shared readers and writers (declared in shared.h) --- */

/* Django's timesince as Label Studio's created_ago: up to two adjacent units, joined by a
 * non-breaking space ("0\u00a0minutes", "3\u00a0days, 2\u00a0hours"). */
const char *
ann_timesince(struct req *r, int64_t secs)
{
	static const struct { int64_t s; const char *one, *many; } u[] = {
		{ 365 * 86400, "year", "years" }, { 30 * 86400, "month", "months" },
		{ 7 * 86400, "week", "weeks" }, { 86400, "day", "days" }, { 3600, "hour", "hours" },
		{ 60, "minute", "minutes" },
	};
	const size_t n = sizeof(u) / sizeof(u[0]);

	for (size_t i = 0; i < n; i++) {
		int64_t a = secs / u[i].s, b;
		const char *first;

		if (a <= 0)
			continue;
		first = req_printf(r, "%lld\xc2\xa0%s", (long long)a, a == 1 ? u[i].one : u[i].many);
		if (i + 1 == n || (b = (secs - a * u[i].s) / u[i + 1].s) <= 0)
			return first;
		return req_printf(r, "%s, %lld\xc2\xa0%s", first, (long long)b,
		    b == 1 ? u[i + 1].one : u[i + 1].many);
	}
	return "0\xc2\xa0minutes";
}

/* A JSON column as a value (def when NULL or, for rows written before a rule, unparsable). */
struct json_object *
ann_jraw(const struct db_row *row, int col, const char *def)
{
	struct json_object *o = NULL;

	if (!db_null(row, col))
		o = json_tokener_parse(db_str(row, col));
	if (o == NULL && def != NULL)
		o = json_tokener_parse(def);
	return o;
}

void
ann_add_double(struct json_object *o, const char *key, const struct db_row *row, int col)
{
	json_object_object_add(o, key, db_null(row, col) ? NULL :
	    json_object_new_double(strtod(db_str(row, col), NULL)));
}

void
ann_add_id(struct json_object *o, const char *key, const struct db_row *row, int col)
{
	jadd_int_or_null(o, key, db_int(row, col), db_null(row, col));
}

/* A result: a list of objects, or a JSON string holding one. 0 (*out is a new reference, or v
 * itself with a new reference), or -1 with the reason in *why. */
int
ann_result_value(struct json_object *v, struct json_object **out, const char **why)
{
	struct json_object *o = v;

	*out = NULL;
	if (json_object_is_type(v, json_type_string)) {
		o = json_tokener_parse(json_object_get_string(v));
		if (o == NULL) {
			*why = "Value must be valid JSON.";
			return -1;
		}
	} else {
		json_object_get(o);
	}
	if (!json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		*why = "must be a list";
		return -1;
	}
	for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_object)) {
			json_object_put(o);
			*why = "each item must be a dict";
			return -1;
		}
	*out = o;
	return 0;
}

/* body[key] as a result. 1 present (*out owned by the request), 0 absent, or -status sent. */
int
ann_field_result(struct req *r, const char *key, const char *noun, struct json_object **out)
{
	struct json_object *v;
	const char *why = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(r->json, key, &v))
		return 0;
	if (v == NULL)
		return -req_fail_field(r, key, "This field may not be null.");
	if (ann_result_value(v, out, &why) != 0) {
		if (strcmp(why, "must be a list") == 0)
			return -req_fail_field(r, key, "%s \"%s\" field in %s must be list", noun, key, noun);
		if (strcmp(why, "each item must be a dict") == 0)
			return -req_fail_field(r, key, "Each item in %s %s should be dict", noun, key);
		return -req_fail_field(r, key, "%s \"%s\" can't be parsed from str to JSON", noun, key);
	}
	req_own(r, *out);
	return 1;
}

/* DRF's BooleanField: true/false, 1/0, and their usual spellings as strings. */
int
ann_field_bool(struct req *r, const char *key, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(r->json, key, &v))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		*out = json_object_get_boolean(v);
		return 1;
	case json_type_int:
		if (json_object_get_int64(v) == 0 || json_object_get_int64(v) == 1) {
			*out = (int)json_object_get_int64(v);
			return 1;
		}
		break;
	case json_type_string: {
		const char *s = json_object_get_string(v);

		if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
			*out = 1;
			return 1;
		}
		if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
			*out = 0;
			return 1;
		}
		break;
	}
	case json_type_null:
		return -req_fail_field(r, key, "This field may not be null.");
	default:
		break;
	}
	return -req_fail_field(r, key, "Must be a valid boolean.");
}

/* DRF's FloatField, as text for binding ('s'): *text NULL for JSON null when allowed. */
int
ann_field_number(struct req *r, const char *key, int allow_null, const char **text)
{
	struct json_object *v;
	char *end;
	double d;

	if (!json_object_object_get_ex(r->json, key, &v))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_null:
		if (!allow_null)
			return -req_fail_field(r, key, "This field may not be null.");
		*text = NULL;
		return 1;
	case json_type_int:
		*text = req_printf(r, "%lld", (long long)json_object_get_int64(v));
		return 1;
	case json_type_double:
		d = json_object_get_double(v);
		*text = req_printf(r, "%.17g", d);
		return 1;
	case json_type_string:
		d = strtod(json_object_get_string(v), &end);
		if (*json_object_get_string(v) != '\0' && *end == '\0' && d == d && d - d == 0) {
			*text = req_printf(r, "%.17g", d);
			return 1;
		}
		break;
	default:
		break;
	}
	return -req_fail_field(r, key, "A valid number is required.");
}

/* DRF's PrimaryKeyRelatedField (the existence check is the caller's). */
int
ann_field_id(struct req *r, const char *key, int allow_null, int64_t *out)
{
	struct json_object *v;
	enum json_type t;

	if (!json_object_object_get_ex(r->json, key, &v))
		return 0;
	t = json_object_get_type(v);
	if (t == json_type_null) {
		if (!allow_null)
			return -req_fail_field(r, key, "This field may not be null.");
		*out = 0;
		return 1;
	}
	if (t == json_type_int) {
		*out = json_object_get_int64(v);
		if (*out <= 0)
			return -req_fail_field(r, key, "Invalid pk \"%lld\" - object does not exist.", (long long)*out);
		return 1;
	}
	if (t == json_type_string) {
		char *end;
		long long n = strtoll(json_object_get_string(v), &end, 10);

		if (*json_object_get_string(v) != '\0' && *end == '\0' && n > 0) {
			*out = n;
			return 1;
		}
	}
	return -req_fail_field(r, key, "Incorrect type. Expected pk value, received %s.",
	    jpy_type(v));
}

/* The compact JSON text of o (owned by o). */
const char *
ann_json_text(struct json_object *o, size_t *len)
{
	return json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

/* --- the annotation object --- */

/* Label Studio's get_created_username from the columns id (the user's id, NULL when none),
 * first, last and email of row: "first[ last] email, id" for an annotation; a draft's serializer
 * leaves out the space before the email when there is no name. */
const char *
ann_created_username(struct req *r, const struct db_row *row, int id, int first, int last, int email,
    int draft)
{
	const char *name;

	if (db_null(row, id))
		return "";
	name = req_printf(r, "%s%s%s", db_str(row, first), *db_str(row, last) ? " " : "",
	    db_str(row, last));
	return req_printf(r, "%s%s%s, %lld", name, *name || !draft ? " " : "", db_str(row, email),
	    (long long)db_int(row, id));
}

static struct json_object *
ann_to_json(struct req *r, const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	json_object_object_add(o, "result", ann_jraw(row, 1, "[]"));
	jadd_str(o, "created_username", ann_created_username(r, row, 2, 19, 20, 21, 0));
	jadd_str(o, "created_ago", ann_timesince(r, db_int(row, 18)));
	ann_add_id(o, "completed_by", row, 2);
	jadd_bool(o, "was_cancelled", db_int(row, 3));
	jadd_bool(o, "ground_truth", db_int(row, 4));
	jadd_str(o, "created_at", db_str(row, 5));
	jadd_str(o, "updated_at", db_str(row, 6));
	jadd_str(o, "draft_created_at", db_null(row, 7) ? NULL : db_str(row, 7));
	ann_add_double(o, "lead_time", row, 8);
	ann_add_id(o, "import_id", row, 9);
	jadd_str(o, "last_action", db_null(row, 10) ? NULL : db_str(row, 10));
	jadd_bool(o, "bulk_created", db_int(row, 17));
	jadd_int(o, "task", db_int(row, 11));
	jadd_int(o, "project", db_int(row, 12));
	ann_add_id(o, "updated_by", row, 13);
	ann_add_id(o, "parent_prediction", row, 14);
	ann_add_id(o, "parent_annotation", row, 15);
	ann_add_id(o, "last_created_by", row, 16);
	return o;
}

/* Loads an annotation of the caller's organization. 1, 0 (answer 404), -1. */
static int
load_annotation(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0)
		return 0;
	return db_row(r, row, STMT_ANN_GET, "ii", id, r->who.org_id);
}

/* The result checked against the project's config: 0, or the status sent. */
static int
check_result(struct req *r, const struct project_ref *ref, struct json_object *result)
{
	const struct labelconfig *c;
	char err[512];

	if (result == NULL || json_object_array_length(result) == 0)
		return 0;
	if ((c = scope_config(r, ref)) == NULL)
		return 0;
	if (lc_check_result(c, result, err, sizeof(err)) >= 0)
		return req_fail_field(r, "result", "%s", err);
	return 0;
}

/* Locks the task row and then its project row: 1, 0 (the task is gone), -1. */
static int
lock_task(struct req *r, int64_t task_id)
{
	struct db_row row;

	return db_row(r, &row, STMT_ANN_LOCK_TASK, "i", task_id);
}

/* An existence check in the caller's organization for a pk field: 0, or the status sent. */
static int
check_pk(struct req *r, const char *key, enum stmt_id stmt, int64_t id)
{
	struct db_row row;
	int rc;

	if (id <= 0)
		return 0;
	rc = db_row(r, &row, stmt, "ii", stmt == STMT_ANN_MEMBER ? r->who.org_id : id,
	    stmt == STMT_ANN_MEMBER ? id : r->who.org_id);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail_field(r, key, "Invalid pk \"%lld\" - object does not exist.", (long long)id);
	return 0;
}

/* ?was_cancelled=: 1 / 0, -1 absent, -2 bad. */
static int
query_bool(struct req *r, const char *name)
{
	const char *v = req_query(r, name);

	if (v == NULL)
		return -1;
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!*v || !strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -2;
}

static int
usage_of_drafts(void *ctx, const struct db_row *row)
{
	usage_add_text(ctx, db_str(row, 0), -1, 1);
	return 0;
}

/* --- handlers --- */

int
annotations_list(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *a;
	int64_t task_id = req_param_id(r, "id");
	int rc = scope_task(r, task_id, &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_rows(r, &rows, STMT_ANN_LIST, "i", task_id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++)
		json_object_array_add(a, ann_to_json(r, &rows.rows[i]));
	return reply_json(r, 200, a);
}

/* The hot path: scope (1 round trip), then in one transaction lock, insert, counters, usage,
 * lock release, commit, and one read back. */
int
annotations_create(struct req *r)
{
	struct project_ref ref;
	struct json_object *result = NULL;
	struct db_row drow, skip;
	struct usage *u;
	const char *lead = NULL, *unique_id = NULL, *text, *draft_result = NULL, *draft_created = NULL;
	int64_t task_id = req_param_id(r, "id"), completed_by = r->who.user_id, draft_id = 0;
	int64_t parent_pred = 0, parent_ann = 0, id;
	int was_cancelled = 0, ground_truth = 0, rc, q;
	size_t len;

	if ((rc = scope_task(r, task_id, &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((rc = ann_field_result(r, "result", "annotation", &result)) < 0)
		return -rc;
	if ((rc = ann_field_bool(r, "was_cancelled", &was_cancelled)) < 0 ||
	    (rc = ann_field_bool(r, "ground_truth", &ground_truth)) < 0 ||
	    (rc = ann_field_number(r, "lead_time", 1, &lead)) < 0 ||
	    (rc = ann_field_id(r, "completed_by", 1, &completed_by)) < 0 ||
	    (rc = ann_field_id(r, "parent_prediction", 1, &parent_pred)) < 0 ||
	    (rc = ann_field_id(r, "parent_annotation", 1, &parent_ann)) < 0)
		return -rc;
	if ((rc = jget_str(r->json, "unique_id", &unique_id)) < 0)
		return req_fail_field(r, "unique_id", "Not a valid string.");
	if (unique_id != NULL) {
		if (*unique_id == '\0')
			return req_fail_field(r, "unique_id", "This field may not be blank.");
		if (strlen(unique_id) > 64)
			return req_fail_field(r, "unique_id", "Ensure this field has no more than 64 characters.");
		for (const char *p = unique_id; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				return req_fail_field(r, "unique_id", "Only printable ASCII characters are allowed.");
	}
	{
		struct json_object *v;

		if (json_object_object_get_ex(r->json, "draft_id", &v) && v != NULL) {
			if ((rc = ann_field_id(r, "draft_id", 1, &draft_id)) < 0)
				return -rc;
		}
	}
	if ((q = query_bool(r, "was_cancelled")) == -2)
		return req_fail_field(r, "was_cancelled", "Must be a valid boolean.");
	if (q >= 0)
		was_cancelled = q;
	if (was_cancelled) {
		if ((rc = db_row(r, &skip, STMT_ANN_SKIP_ALLOWED, "i", ref.id)) < 0)
			return req_fail_db(r);
		if (rc == 1 && db_int(&skip, 0) == 0)
			return req_fail_field(r, "detail", "This task cannot be skipped.");
	}
	if (completed_by != r->who.user_id && (rc = check_pk(r, "completed_by", STMT_ANN_MEMBER, completed_by)) != 0)
		return rc;
	if ((rc = check_pk(r, "parent_prediction", STMT_ANN_PRED_IN_ORG, parent_pred)) != 0 ||
	    (rc = check_pk(r, "parent_annotation", STMT_ANN_IN_ORG, parent_ann)) != 0)
		return rc;
	if (result == NULL)
		result = req_own(r, json_object_new_array());
	if ((rc = check_result(r, &ref, result)) != 0)
		return rc;
	text = ann_json_text(result, &len);

	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, task_id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (draft_id > 0) {
		if ((rc = db_row(r, &drow, STMT_DRAFT_LOCK, "i", draft_id)) < 0)
			return req_fail_db(r);
		if (rc == 1) {
			if (db_int(&drow, 0) != task_id || db_null(&drow, 1) || db_int(&drow, 1) != r->who.user_id)
				return req_fail(r, 403, "You have no permission to draft id:%lld", (long long)draft_id);
			draft_result = db_str(&drow, 2);
			draft_created = db_str(&drow, 6);
		} else {
			draft_id = 0;   /* gone already: nothing to delete, as Label Studio */
		}
	}
	if (db_exec(r, STMT_ANN_INSERT, "iiSiibbssiis", task_id, ref.id, text, len, completed_by,
	    r->who.user_id, was_cancelled, ground_truth, lead, unique_id, parent_pred, parent_ann,
	    draft_created) < 0) {
		if (db_last_error() == DB_ERR_DUP)
			return req_fail(r, 409, "Annotation with this unique id already exists");
		return req_fail_db(r);
	}
	id = db_insert_id();
	if (ground_truth && db_exec(r, STMT_ANN_GT_CLEAR, "ii", task_id, id) < 0)
		return req_fail_db(r);
	if (stats_task_refresh(r, task_id) != 0)
		return req_fail_db(r);
	u = usage_new(r, ref.id);
	usage_add(u, result, +1, 0);
	if (draft_id > 0) {
		usage_add_text(u, draft_result, -1, 1);
		if (db_exec(r, STMT_DRAFT_DELETE, "i", draft_id) < 0)
			return req_fail_db(r);
	}
	if (usage_flush(r, u) != 0)
		return req_fail_db(r);
	if (db_exec(r, STMT_ANN_TASK_UNLOCK, "ii", task_id, r->who.user_id) < 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return scope_reply_row(r, 201, STMT_ANN_BY_ID, id, ann_to_json);
}

int
annotations_get(struct req *r)
{
	struct db_row row;
	int rc = load_annotation(r, req_param_id(r, "id"), &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, 200, ann_to_json(r, &row));
}

/* PATCH and PUT: result, was_cancelled, ground_truth, lead_time, completed_by. */
int
annotations_patch(struct req *r)
{
	struct db_row row, cur;
	struct project_ref ref;
	struct json_object *result = NULL;
	struct usage *u;
	const char *lead = NULL, *text;
	int64_t id = req_param_id(r, "id"), task_id, completed_by = 0;
	int was_cancelled = 0, ground_truth = 0, has_wc, has_gt, has_lead, has_cb, has_result, rc;
	size_t len;

	if ((rc = load_annotation(r, id, &row)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	task_id = db_int(&row, 11);
	if ((has_result = ann_field_result(r, "result", "annotation", &result)) < 0)
		return -has_result;
	if ((has_wc = ann_field_bool(r, "was_cancelled", &was_cancelled)) < 0)
		return -has_wc;
	if ((has_gt = ann_field_bool(r, "ground_truth", &ground_truth)) < 0)
		return -has_gt;
	if ((has_lead = ann_field_number(r, "lead_time", 1, &lead)) < 0)
		return -has_lead;
	if ((has_cb = ann_field_id(r, "completed_by", 1, &completed_by)) < 0)
		return -has_cb;
	if (has_cb && completed_by != r->who.user_id &&
	    (rc = check_pk(r, "completed_by", STMT_ANN_MEMBER, completed_by)) != 0)
		return rc;
	if (has_result) {
		if ((rc = scope_project(r, db_int(&row, 12), &ref)) < 0)
			return req_fail_db(r);
		if (rc == 1 && (rc = check_result(r, &ref, result)) != 0)
			return rc;
	}

	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, task_id)) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &cur, STMT_ANN_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (has_result) {
		text = ann_json_text(result, &len);
	} else {
		text = db_str(&cur, 1);
		len = strlen(text);
	}
	if (!has_wc)
		was_cancelled = (int)db_int(&cur, 2);
	if (!has_gt)
		ground_truth = (int)db_int(&cur, 3);
	if (!has_lead)
		lead = db_null(&cur, 4) ? NULL : db_str(&cur, 4);
	if (!has_cb)
		completed_by = db_int(&cur, 5);
	if (db_exec(r, STMT_ANN_UPDATE, "Sbbsiii", text, len, was_cancelled, ground_truth, lead,
	    completed_by, r->who.user_id, id) < 0)
		return req_fail_db(r);
	if (has_gt && ground_truth && db_exec(r, STMT_ANN_GT_CLEAR, "ii", task_id, id) < 0)
		return req_fail_db(r);
	if (stats_task_refresh(r, task_id) != 0)
		return req_fail_db(r);
	if (has_result) {
		u = usage_new(r, db_int(&cur, 6));
		usage_add_text(u, db_str(&cur, 1), -1, 0);
		usage_add(u, result, +1, 0);
		if (usage_flush(r, u) != 0)
			return req_fail_db(r);
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return scope_reply_row(r, 200, STMT_ANN_BY_ID, id, ann_to_json);
}

/* Takes the annotation out (its drafts go with it by cascade): usage, row, counters. The
 * transaction is open and the task locked. 0, or -1 (database error). */
static int
remove_annotation(struct req *r, int64_t id, const struct db_row *cur, struct usage *u)
{
	usage_add_text(u, db_str(cur, 1), -1, 0);
	if (db_each(r, usage_of_drafts, u, STMT_ANN_DRAFT_RESULTS, "i", id) != 0)
		return -1;
	if (db_exec(r, STMT_ANN_DELETE, "i", id) < 0)
		return -1;
	if (stats_task_refresh(r, db_int(cur, 0)) != 0)
		return -1;
	return usage_flush(r, u);
}

int
annotations_delete(struct req *r)
{
	struct db_row row, cur;
	int64_t id = req_param_id(r, "id");
	int rc;

	if ((rc = load_annotation(r, id, &row)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, db_int(&row, 11))) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &cur, STMT_ANN_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (remove_annotation(r, id, &cur, usage_new(r, db_int(&cur, 6))) != 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 204, NULL);
}

/* As Label Studio: the caller gets a draft with the annotation's result and lead time (tied to
 * no annotation), and the annotation is deleted. 201 with the draft. */
int
annotations_to_draft(struct req *r)
{
	struct db_row row, cur, d;
	struct usage *u;
	int64_t id = req_param_id(r, "id"), draft_id;
	int rc;

	if ((rc = load_annotation(r, id, &row)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, db_int(&row, 11))) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &cur, STMT_ANN_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_exec(r, STMT_DRAFT_INSERT, "iiiiSsb", db_int(&cur, 0), db_int(&cur, 6), r->who.user_id,
	    (int64_t)0, db_str(&cur, 1), strlen(db_str(&cur, 1)), db_null(&cur, 4) ? NULL : db_str(&cur, 4),
	    0) < 0)
		return req_fail_db(r);
	draft_id = db_insert_id();
	u = usage_new(r, db_int(&cur, 6));
	usage_add_text(u, db_str(&cur, 1), +1, 1);
	if (remove_annotation(r, id, &cur, u) != 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	if ((rc = db_row(r, &d, STMT_DRAFT_BY_ID, "i", draft_id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, 201, draft_to_json(r, &d));
}
