/* predictions.c — model predictions: the organization's list (filters task, project,
 * task__project), create, read, update, delete, and the bulk import of a project's predictions.
 *
 * Results must be lists of objects (or a JSON string holding one) but are not checked against the
 * labeling config: Label Studio does that only behind a feature flag that is off. Every create and
 * delete moves the task's and project's counters in its transaction. Another organization's task
 * or prediction is 404 (or, named in a body, an unknown pk) and nothing changes.
 */
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "reply.h"
#include "router.h"
#include "shared.h"

/* Bytes of JSON per bulk-insert statement, well under MariaDB's default max_allowed_packet. */
#define IMPORT_CHUNK_BYTES (4u << 20)
#define MODEL_VERSION_MAX 255

static struct json_object *
pred_to_json(struct req *r, const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, 0));
	json_object_object_add(o, "result", ann_jraw(row, 1, "[]"));
	ann_add_double(o, "score", row, 2);
	jadd_str(o, "model_version", db_str(row, 3));
	ann_add_id(o, "model", row, 4);
	ann_add_id(o, "model_run", row, 5);
	ann_add_id(o, "cluster", row, 6);
	json_object_object_add(o, "neighbors", ann_jraw(row, 7, NULL));
	ann_add_double(o, "mislabeling", row, 8);
	jadd_int(o, "task", db_int(row, 9));
	jadd_int(o, "project", db_int(row, 10));
	jadd_str(o, "created_at", db_str(row, 11));
	jadd_str(o, "updated_at", db_str(row, 12));
	jadd_str(o, "created_ago", ann_timesince(r, db_int(row, 13)));
	return o;
}

static int
load_prediction(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0)
		return 0;
	return db_row(r, row, STMT_PRED_GET, "ii", r->who.org_id, id);
}

/* A filter value: 0 absent, 1 a positive id in *out, -1 invalid. */
static int
filter_id(struct req *r, const char *name, int64_t *out)
{
	int bad = 0;
	int64_t v = req_query_int(r, name, 0, &bad);

	if (req_query(r, name) == NULL || *req_query(r, name) == '\0')
		return 0;
	if (bad || v <= 0)
		return -1;
	*out = v;
	return 1;
}

struct list_ctx {
	struct req *r;
	struct json_object *a;
};

static int
list_row(void *ctx, const struct db_row *row)
{
	struct list_ctx *c = ctx;

	json_object_array_add(c->a, pred_to_json(c->r, row));
	return 0;
}

int
predictions_list(struct req *r)
{
	static const char *names[] = { "task", "project", "task__project" };
	int64_t v[3] = { 0, 0, 0 }, project = 0;
	struct list_ctx c = { r, NULL };
	int rc;

	for (int i = 0; i < 3; i++)
		if (filter_id(r, names[i], &v[i]) < 0)
			return req_fail_field(r, names[i],
			    "Select a valid choice. That choice is not one of the available choices.");
	project = v[1] ? v[1] : v[2];
	c.a = req_own(r, json_object_new_array());
	if (v[1] && v[2] && v[1] != v[2])
		rc = 0;                 /* both project filters, disagreeing: nothing matches */
	else if (v[0] && project)
		rc = db_each(r, list_row, &c, STMT_PRED_LIST_TASK_PROJECT, "iii", r->who.org_id, v[0], project);
	else if (v[0])
		rc = db_each(r, list_row, &c, STMT_PRED_LIST_TASK, "ii", r->who.org_id, v[0]);
	else if (project)
		rc = db_each(r, list_row, &c, STMT_PRED_LIST_PROJECT, "ii", r->who.org_id, project);
	else
		rc = db_each(r, list_row, &c, STMT_PRED_LIST, "i", r->who.org_id);
	if (rc != 0)
		return req_fail_db(r);
	return reply_json(r, 200, json_object_get(c.a));
}

/* Label Studio's shorthand for a prediction's result (what SDK 0.0.34's create_prediction(task,
 * result="Negative") sends): a string that is not a JSON list, or a number, is the answer of the
 * config's first Choices or TextArea control; an object is the value of the first control. The
 * full result list (request-owned), or NULL when v needs no rewriting or no control fits (the
 * usual checks then answer). */
static struct json_object *
result_shortcut(struct req *r, const struct project_ref *ref, struct json_object *v)
{
	const struct labelconfig *c;
	struct json_object *item, *value, *list;
	int is_text = json_object_is_type(v, json_type_string), is_num = json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);

	if (is_text) {
		struct json_object *parsed = json_tokener_parse(json_object_get_string(v));
		int is_list = json_object_is_type(parsed, json_type_array);

		json_object_put(parsed);
		if (is_list)
			return NULL;
	} else if (!is_num && !json_object_is_type(v, json_type_object)) {
		return NULL;
	}
	if ((c = scope_config(r, ref)) == NULL)
		return NULL;
	for (size_t i = 0; i < lc_ncontrols(c); i++) {
		const char *type = lc_control_type(c, i);
		char lower[64];
		size_t k;

		if (lc_control_nto(c, i) == 0)
			continue;
		if (!json_object_is_type(v, json_type_object) && strcmp(type, "Choices") != 0 &&
		    strcmp(type, "TextArea") != 0)
			continue;
		for (k = 0; type[k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)tolower((unsigned char)type[k]);
		lower[k] = '\0';
		if (json_object_is_type(v, json_type_object)) {
			value = json_object_get(v);
		} else {
			struct json_object *answers = json_object_new_array();

			json_object_array_add(answers, json_object_new_string(is_text ? json_object_get_string(v) :
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)));
			value = json_object_new_object();
			json_object_object_add(value, strcmp(type, "Choices") == 0 ? "choices" : "text", answers);
		}
		item = json_object_new_object();
		jadd_str(item, "from_name", lc_control_name(c, i));
		jadd_str(item, "to_name", lc_control_to(c, i, 0));
		jadd_str(item, "type", lower);
		json_object_object_add(item, "value", value);
		list = req_own(r, json_object_new_array());
		json_object_array_add(list, item);
		return list;
	}
	return NULL;
}

/* Fields shared by create and update. */
struct pred_in {
	struct json_object *result;
	const char *score, *model_version, *cluster, *neighbors, *mislabeling;
	int has_result, has_score, has_mv, has_cluster, has_neighbors, has_mislabeling;
};

/* Reads the optional fields of a prediction body. 0, or the status sent. */
static int
read_fields(struct req *r, struct pred_in *in)
{
	struct json_object *v;
	int rc;

	if ((rc = ann_field_result(r, "result", "prediction", &in->result)) < 0)
		return -rc;
	in->has_result = rc;
	if ((rc = ann_field_number(r, "score", 1, &in->score)) < 0)
		return -rc;
	in->has_score = rc;
	if ((rc = ann_field_number(r, "mislabeling", 0, &in->mislabeling)) < 0)
		return -rc;
	in->has_mislabeling = rc;
	if ((rc = jget_str(r->json, "model_version", &in->model_version)) < 0)
		return req_fail_field(r, "model_version", json_object_object_get(r->json, "model_version") == NULL ?
		    "This field may not be null." : "Not a valid string.");
	if (rc == 1 && strlen(in->model_version) > MODEL_VERSION_MAX)
		return req_fail_field(r, "model_version", "Ensure this field has no more than %d characters.",
		    MODEL_VERSION_MAX);
	in->has_mv = rc;
	if (json_object_object_get_ex(r->json, "cluster", &v)) {
		in->has_cluster = 1;
		if (v == NULL)
			in->cluster = NULL;
		else if (json_object_is_type(v, json_type_int) &&
		    json_object_get_int64(v) >= -2147483647 && json_object_get_int64(v) <= 2147483647)
			in->cluster = req_printf(r, "%lld", (long long)json_object_get_int64(v));
		else
			return req_fail_field(r, "cluster", "A valid integer is required.");
	}
	if (json_object_object_get_ex(r->json, "neighbors", &v)) {
		size_t len;

		in->has_neighbors = 1;
		in->neighbors = v == NULL ? NULL : req_strdup(r, ann_json_text(v, &len));
	}
	return 0;
}

int
predictions_create(struct req *r)
{
	struct project_ref ref;
	struct pred_in in;
	struct json_object *v;
	const char *text;
	int64_t task_id = 0, project = 0, id;
	size_t len;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = ann_field_id(r, "task", 0, &task_id)) < 0)
		return -rc;
	if (rc == 0)
		return req_fail_field(r, "task", "This field is required.");
	if ((rc = ann_field_id(r, "project", 1, &project)) < 0)
		return -rc;
	if ((rc = scope_task(r, task_id, &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail_field(r, "task", "Invalid pk \"%lld\" - object does not exist.", (long long)task_id);
	if (json_object_object_get_ex(r->json, "result", &v) && (v = result_shortcut(r, &ref, v)) != NULL)
		json_object_object_add(r->json, "result", json_object_get(v));
	if ((rc = read_fields(r, &in)) != 0)
		return rc;
	if (!in.has_result)
		return req_fail_field(r, "result", "This field is required.");
	if (project != 0 && project != ref.id)
		return req_fail_field(r, "project", "The task does not belong to project %lld.", (long long)project);
	text = ann_json_text(in.result, &len);

	if (db_begin(r) != 0)
		return req_fail_db(r);
	{
		struct db_row lock;

		if ((rc = db_row(r, &lock, STMT_ANN_LOCK_TASK, "i", task_id)) < 0)
			return req_fail_db(r);
		if (rc == 0)
			return req_fail_field(r, "task", "Invalid pk \"%lld\" - object does not exist.", (long long)task_id);
	}
	if (db_exec(r, STMT_PRED_INSERT, "iiSsssss", task_id, ref.id, text, len, in.score,
	    in.has_mv ? in.model_version : "", in.cluster, in.neighbors,
	    in.has_mislabeling ? in.mislabeling : "0") < 0)
		return req_fail_db(r);
	id = db_insert_id();
	if (stats_task_refresh(r, task_id) != 0 || db_commit(r) != 0)
		return req_fail_db(r);
	return scope_reply_row(r, 201, STMT_PRED_BY_ID, id, pred_to_json);
}

int
predictions_get(struct req *r)
{
	struct db_row row;
	int rc = load_prediction(r, req_param_id(r, "id"), &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, 200, pred_to_json(r, &row));
}

/* PATCH and PUT: result, score, model_version, cluster, neighbors, mislabeling. A prediction
 * stays on its task: moving it is refused (Label Studio would leave its counters behind). */
int
predictions_patch(struct req *r)
{
	struct db_row row;
	struct pred_in in;
	const char *text;
	int64_t id = req_param_id(r, "id"), v;
	size_t len;
	int rc = load_prediction(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	memset(&in, 0, sizeof(in));
	if ((rc = ann_field_id(r, "task", 0, &v)) < 0)
		return -rc;
	if (rc == 1 && v != db_int(&row, 9))
		return req_fail_field(r, "task", "A prediction cannot be moved to another task.");
	if ((rc = ann_field_id(r, "project", 1, &v)) < 0)
		return -rc;
	if (rc == 1 && v != db_int(&row, 10))
		return req_fail_field(r, "project", "A prediction cannot be moved to another project.");
	if ((rc = read_fields(r, &in)) != 0)
		return rc;
	if (in.has_result) {
		text = ann_json_text(in.result, &len);
	} else {
		text = db_str(&row, 1);
		len = strlen(text);
	}
	if (!in.has_score)
		in.score = db_null(&row, 2) ? NULL : db_str(&row, 2);
	if (!in.has_mv)
		in.model_version = db_str(&row, 3);
	if (!in.has_cluster)
		in.cluster = db_null(&row, 6) ? NULL : db_str(&row, 6);
	if (!in.has_neighbors)
		in.neighbors = db_null(&row, 7) ? NULL : db_str(&row, 7);
	if (!in.has_mislabeling)
		in.mislabeling = db_null(&row, 8) ? "0" : db_str(&row, 8);
	if (db_exec(r, STMT_PRED_UPDATE, "Ssssssi", text, len, in.score, in.model_version, in.cluster,
	    in.neighbors, in.mislabeling, id) < 0)
		return req_fail_db(r);
	return scope_reply_row(r, 200, STMT_PRED_BY_ID, id, pred_to_json);
}

int
predictions_delete(struct req *r)
{
	struct db_row row, lock;
	int64_t id = req_param_id(r, "id");
	int rc = load_prediction(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if ((rc = db_row(r, &lock, STMT_ANN_LOCK_TASK, "i", db_int(&row, 9))) < 0)
		return req_fail_db(r);
	if (rc == 1 && (rc = db_row(r, &lock, STMT_PRED_LOCK, "i", id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_exec(r, STMT_PRED_DELETE, "i", id) < 0 || stats_task_refresh(r, db_int(&row, 9)) != 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 204, NULL);
}

/* --- bulk import --- */

static int
item_fail(struct req *r, size_t i, const char *msg)
{
	return req_fail_field(r, "predictions", "Error at item %zu: %s", i, msg);
}

/* POST /api/projects/{id}/import/predictions: [{task, result, score?, model_version?}, ...], all
 * or nothing. Three statements carry any number of items (JSON_TABLE over one parameter): the
 * task check, the task counters (which lock those task rows), and one insert per ~4 MB chunk. */
int
predictions_import(struct req *r)
{
	struct project_ref ref;
	struct json_object *items, *ids, *chunk = NULL, *chunks;
	struct stats_delta d;
	struct db_row bad;
	const char *last_mv = NULL;
	size_t n, chunk_bytes = 0, len;
	int rc;

	if ((rc = scope_project(r, req_param_id(r, "id"), &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((rc = router_read_json(r, cfg.max_body_size, "max_body_size")) != 0)
		return rc;
	items = r->json;
	if (!json_object_is_type(items, json_type_array))
		return req_fail_field(r, "non_field_errors", "Expected a list of items but got type \"%s\".",
		    jpy_type(items));
	n = json_object_array_length(items);
	ids = req_own(r, json_object_new_array_ext((int)n));
	chunks = req_own(r, json_object_new_array());
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i), *v, *res, *row;
		const char *why = NULL, *text, *mv = "";
		int64_t task;

		if (!json_object_is_type(it, json_type_object))
			return item_fail(r, i, "Invalid data. Expected a dictionary.");
		if (!json_object_object_get_ex(it, "task", &v) || v == NULL)
			return item_fail(r, i, "task: This field is required.");
		if (!json_object_is_type(v, json_type_int) || (task = json_object_get_int64(v)) <= 0)
			return item_fail(r, i, "task: A valid integer is required.");
		if (!json_object_object_get_ex(it, "result", &v) || v == NULL)
			return item_fail(r, i, "result: This field is required.");
		if ((res = result_shortcut(r, &ref, v)) != NULL)
			v = res;
		if (ann_result_value(v, &res, &why) != 0)
			return item_fail(r, i, req_printf(r, "result: %s", why));
		req_own(r, res);
		text = ann_json_text(res, &len);
		row = json_object_new_object();
		json_object_object_add(row, "t", json_object_new_int64(task));
		json_object_object_add(row, "r", json_object_new_string_len(text, (int)len));
		if (json_object_object_get_ex(it, "score", &v) && v != NULL) {
			if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
				json_object_put(row);
				return item_fail(r, i, "score: A valid number is required.");
			}
			json_object_object_add(row, "s", json_object_new_double(json_object_get_double(v)));
		}
		if (json_object_object_get_ex(it, "model_version", &v) && v != NULL) {
			if (!json_object_is_type(v, json_type_string) || strlen(json_object_get_string(v)) > MODEL_VERSION_MAX) {
				json_object_put(row);
				return item_fail(r, i, "model_version: Not a valid string of at most 255 characters.");
			}
			mv = json_object_get_string(v);
			if (*mv)
				last_mv = mv;
		}
		json_object_object_add(row, "m", json_object_new_string(mv));
		if (chunk == NULL || chunk_bytes > IMPORT_CHUNK_BYTES) {
			chunk = json_object_new_array();
			json_object_array_add(chunks, chunk);
			chunk_bytes = 0;
		}
		chunk_bytes += len + strlen(mv) + 64;
		json_object_array_add(chunk, row);
		json_object_array_add(ids, json_object_new_int64(task));
	}
	if (n == 0) {
		struct json_object *o = json_object_new_object();

		jadd_int(o, "created", 0);
		return reply_json(r, 201, o);
	}
	{
		const char *idtext = ann_json_text(ids, &len);

		if ((rc = db_row(r, &bad, STMT_PRED_IMPORT_BAD_TASK, "Si", idtext, len, ref.id)) < 0)
			return req_fail_db(r);
		if (rc == 1) {
			size_t i = (size_t)db_int(&bad, 0);

			return req_fail_field(r, "predictions", "Error at item %zu: task %lld does not belong to project %lld",
			    i, (long long)json_object_get_int64(json_object_array_get_idx(ids, i)), (long long)ref.id);
		}
		if (db_begin(r) != 0)
			return req_fail_db(r);
		/* Lock order: the task rows, then the project row, then the inserts. */
		if (db_exec(r, STMT_PRED_IMPORT_TASKS, "Si", idtext, len, ref.id) < 0)
			return req_fail_db(r);
	}
	memset(&d, 0, sizeof(d));
	d.predictions = (int64_t)n;
	if (stats_project_add(r, ref.id, &d) != 0)
		return req_fail_db(r);
	for (size_t k = 0; k < json_object_array_length(chunks); k++) {
		const char *ctext = ann_json_text(json_object_array_get_idx(chunks, k), &len);

		if (db_exec(r, STMT_PRED_IMPORT_INSERT, "iS", ref.id, ctext, len) < 0)
			return req_fail_db(r);
	}
	if (last_mv != NULL && *ref.model_version == '\0' &&
	    db_exec(r, STMT_PRED_PROJECT_MODEL_VERSION, "si", last_mv, ref.id) < 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	{
		struct json_object *o = json_object_new_object();

		jadd_int(o, "created", (int64_t)n);
		return reply_json(r, 201, o);
	}
}
