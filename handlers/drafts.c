/* drafts.c — work in progress on a task (optionally on one of its annotations): list, create,
 * read, update, delete. Drafts move no counters, only label_usage (as drafts), in the same
 * transaction as the write. As in Label Studio, a task's draft list holds every user's drafts,
 * and the author of a draft is always the caller who created it (a "user" in the body is
 * ignored). Another organization's task or draft is 404 and nothing changes.
 */
#include <string.h>
#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "reply.h"
#include "shared.h"

/* The draft object (DRAFT_OBJ_COLS). "user" is rendered as Label Studio renders it: the
 * serializer's CharField gives str(user), which is the user's email. */
struct json_object *
draft_to_json(struct req *r, const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	jadd_str(o, "user", db_null(row, 1) ? NULL : db_str(row, 13));
	json_object_object_add(o, "result", ann_jraw(row, 2, "[]"));
	ann_add_double(o, "lead_time", row, 3);
	jadd_int(o, "task", db_int(row, 4));
	ann_add_id(o, "annotation", row, 5);
	jadd_bool(o, "was_postponed", db_int(row, 6));
	ann_add_id(o, "import_id", row, 7);
	jadd_str(o, "created_at", db_str(row, 8));
	jadd_str(o, "updated_at", db_str(row, 9));
	jadd_str(o, "created_username", ann_created_username(r, row, 1, 11, 12, 13, 1));
	jadd_str(o, "created_ago", ann_timesince(r, db_int(row, 10)));
	return o;
}

/* The task of the path, and the annotation of the path when the route has one (it must be an
 * annotation of that task). 1 found, 0 (answer 404), -1 database error. */
static int
scope_path(struct req *r, struct project_ref *ref, int64_t *task_id, int64_t *ann_id)
{
	struct db_row row;
	int rc;

	*task_id = req_param_id(r, "id");
	*ann_id = 0;
	if ((rc = scope_task(r, *task_id, ref)) <= 0)
		return rc;
	if (req_param(r, "annotation_id") == NULL)
		return 1;
	if ((*ann_id = req_param_id(r, "annotation_id")) <= 0)
		return 0;
	return db_row(r, &row, STMT_DRAFT_ANN_OF_TASK, "ii", *ann_id, *task_id);
}

/* Shared locks on the task row and then its project row, before any draft or label_usage row
 * (the order of every counter-moving write). 1, 0 (the task is gone), -1. */
static int
lock_task(struct req *r, int64_t task_id)
{
	struct db_row row;

	return db_row(r, &row, STMT_DRAFT_LOCK_TASK, "i", task_id);
}

int
drafts_list(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *a;
	int64_t task_id, ann_id;
	int rc = scope_path(r, &ref, &task_id, &ann_id);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_rows(r, &rows, STMT_DRAFT_LIST, "i", task_id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++)
		json_object_array_add(a, draft_to_json(r, &rows.rows[i]));
	return reply_json(r, 200, a);
}

int
drafts_create(struct req *r)
{
	struct project_ref ref;
	struct json_object *result = NULL;
	struct usage *u;
	const char *lead = NULL, *text;
	int64_t task_id, ann_id, id;
	int postponed = 0, rc = scope_path(r, &ref, &task_id, &ann_id);
	size_t len;

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((rc = ann_field_result(r, "result", "draft", &result)) < 0)
		return -rc;
	if (rc == 0)
		return req_fail_field(r, "result", "This field is required.");
	if ((rc = ann_field_number(r, "lead_time", 1, &lead)) < 0 ||
	    (rc = ann_field_bool(r, "was_postponed", &postponed)) < 0)
		return -rc;
	text = ann_json_text(result, &len);
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, task_id)) <= 0)
		return rc < 0 ? req_fail_db(r) : req_fail(r, 404, "Not found.");
	if (db_exec(r, STMT_DRAFT_INSERT, "iiiiSsb", task_id, ref.id, r->who.user_id, ann_id, text, len,
	    lead, postponed) < 0)
		return req_fail_db(r);
	id = db_insert_id();
	u = usage_new(r, ref.id);
	usage_add(u, result, +1, 1);
	if (usage_flush(r, u) != 0 || db_commit(r) != 0)
		return req_fail_db(r);
	return scope_reply_row(r, 201, STMT_DRAFT_BY_ID, id, draft_to_json);
}

static int
load_draft(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0)
		return 0;
	return db_row(r, row, STMT_DRAFT_GET, "ii", id, r->who.org_id);
}

int
drafts_get(struct req *r)
{
	struct db_row row;
	int rc = load_draft(r, req_param_id(r, "id"), &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, 200, draft_to_json(r, &row));
}

/* PATCH and PUT: result, lead_time, was_postponed. */
int
drafts_patch(struct req *r)
{
	struct db_row row, cur;
	struct json_object *result = NULL;
	struct usage *u;
	const char *lead = NULL, *text;
	int64_t id = req_param_id(r, "id");
	int postponed = 0, has_result, has_lead, has_pp, rc = load_draft(r, id, &row);
	size_t len;

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((has_result = ann_field_result(r, "result", "draft", &result)) < 0)
		return -has_result;
	if ((has_lead = ann_field_number(r, "lead_time", 1, &lead)) < 0)
		return -has_lead;
	if ((has_pp = ann_field_bool(r, "was_postponed", &postponed)) < 0)
		return -has_pp;
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, db_int(&row, 4))) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &cur, STMT_DRAFT_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (has_result) {
		text = ann_json_text(result, &len);
	} else {
		text = db_str(&cur, 2);
		len = strlen(text);
	}
	if (!has_lead)
		lead = db_null(&cur, 3) ? NULL : db_str(&cur, 3);
	if (!has_pp)
		postponed = (int)db_int(&cur, 4);
	if (db_exec(r, STMT_DRAFT_UPDATE, "Ssbi", text, len, lead, postponed, id) < 0)
		return req_fail_db(r);
	if (has_result) {
		u = usage_new(r, db_int(&cur, 5));
		usage_add_text(u, db_str(&cur, 2), -1, 1);
		usage_add(u, result, +1, 1);
		if (usage_flush(r, u) != 0)
			return req_fail_db(r);
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return scope_reply_row(r, 200, STMT_DRAFT_BY_ID, id, draft_to_json);
}

int
drafts_delete(struct req *r)
{
	struct db_row row, cur;
	struct usage *u;
	int64_t id = req_param_id(r, "id");
	int rc = load_draft(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = lock_task(r, db_int(&row, 4))) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &cur, STMT_DRAFT_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	u = usage_new(r, db_int(&cur, 5));
	usage_add_text(u, db_str(&cur, 2), -1, 1);
	if (db_exec(r, STMT_DRAFT_DELETE, "i", id) < 0 || usage_flush(r, u) != 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 204, NULL);
}
