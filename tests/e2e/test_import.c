/* The JSON import: shapes of input, validation against the config with Label Studio's per-item
 * errors (and nothing saved), annotations and predictions with their counters, completed_by,
 * preannotated_from_fields, commit_to_project=false, return_task_ids, and scoping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/>" \
	"<Choice value=\\\"Neg\\\"/></Choices></View>"
#define RESULT(label) \
	"[{\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\"," \
	"\"value\":{\"choices\":[\"" label "\"]}}]"

static char owner[256], stranger[256];
static long long owner_id, stranger_id;

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "imp-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Import org", &owner_id));
	snprintf(name, sizeof(name), "imp-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Import stranger org", &stranger_id));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(import, .init = setup, .timeout = 90);

static long long
make_project(const char *auth, const char *extra)
{
	char body[2048];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"import %s\",\"label_config\":\"%s\"%s}", e2e_unique(),
	    CONFIG, extra ? extra : "");
	r = http("POST", "/api/projects/", auth, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static struct resp *
import(long long pid, const char *query, const char *body, const char *auth)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/projects/%lld/import%s", pid, query ? query : "");
	return http("POST", path, auth ? auth : owner, body, NULL);
}

static long long
sql_int(const char *fmt, long long a)
{
	char q[512];
	char *out;
	long long v;

	snprintf(q, sizeof(q), fmt, a);
	out = e2e_sql_out("%s", q);
	v = atoll(out);
	free(out);
	return v;
}

Test(import, list_and_dict)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, NULL, "[{\"text\":\"a\"},{\"data\":{\"text\":\"b\"},\"meta\":{\"m\":1}}]", NULL);

	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 2);
	cr_assert_eq(jint(r->json, "annotation_count"), 0);
	cr_assert_eq(jint(r->json, "prediction_count"), 0);
	cr_assert(json_object_is_type(jpath(r->json, "duration"), json_type_double));
	cr_assert_eq(json_object_array_length(jpath(r->json, "file_upload_ids")), 0);
	cr_assert_eq(json_object_get_boolean(jpath(r->json, "could_be_tasks_list")), 0);
	cr_assert_null(jpath(r->json, "task_ids"));
	resp_free(r);
	/* one dict is one task, through the alias too */
	char path[128];
	snprintf(path, sizeof(path), "/api/projects/%lld/tasks/bulk/", pid);
	r = http("POST", path, owner, "{\"text\":\"c\"}", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 1);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 3);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 3);
	cr_assert_eq(sql_int("SELECT MAX(inner_id) FROM tasks WHERE project_id = %lld", pid), 3);
	char *dc = e2e_sql_out("SELECT data_columns FROM projects WHERE id = %lld", pid);
	cr_assert(strstr(dc, "\"text\":3") != NULL || strstr(dc, "\"text\": 3") != NULL, "%s", dc);
	free(dc);
	char *meta = e2e_sql_out("SELECT meta FROM tasks WHERE project_id = %lld AND inner_id = 2", pid);
	cr_assert(strstr(meta, "\"m\":1") != NULL, "%s", meta);
	free(meta);
}

Test(import, batches_with_annotations_and_predictions)
{
	long long pid = make_project(owner, NULL);
	char *body = malloc(65536);
	size_t n = 0;
	struct resp *r;

	/* 13 tasks (two full batches and a remainder), 9 annotations, 7 predictions */
	n += (size_t)snprintf(body + n, 65536 - n, "[");
	for (int i = 0; i < 13; i++) {
		n += (size_t)snprintf(body + n, 65536 - n, "%s{\"data\":{\"text\":\"t%d\"}", i ? "," : "", i);
		if (i < 9)
			n += (size_t)snprintf(body + n, 65536 - n, ",\"annotations\":[{\"result\":" RESULT("Pos")
			    ",\"ground_truth\":%s,\"was_cancelled\":%s,\"lead_time\":2.5}]",
			    i == 0 ? "false" : "true", i == 8 ? "true" : "false");
		if (i < 7)
			n += (size_t)snprintf(body + n, 65536 - n, ",\"predictions\":[{\"result\":" RESULT("Neg")
			    ",\"score\":0.%d,\"model_version\":\"v%d\"}]", i + 1, i);
		n += (size_t)snprintf(body + n, 65536 - n, "}");
	}
	snprintf(body + n, 65536 - n, "]");
	r = import(pid, "?return_task_ids=true", body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 13);
	cr_assert_eq(jint(r->json, "annotation_count"), 9);
	cr_assert_eq(jint(r->json, "prediction_count"), 7);
	cr_assert_eq(json_object_array_length(jpath(r->json, "task_ids")), 13);
	long long first = jint(r->json, "task_ids.0"), ninth = jint(r->json, "task_ids.8");
	resp_free(r);
	/* per-task counters set at insert */
	cr_assert_eq(sql_int("SELECT SUM(total_annotations) FROM tasks WHERE project_id = %lld", pid), 8);
	cr_assert_eq(sql_int("SELECT SUM(cancelled_annotations) FROM tasks WHERE project_id = %lld", pid), 1);
	cr_assert_eq(sql_int("SELECT SUM(is_labeled) FROM tasks WHERE project_id = %lld", pid), 8);
	cr_assert_eq(sql_int("SELECT SUM(total_predictions) FROM tasks WHERE project_id = %lld", pid), 7);
	cr_assert_eq(sql_int("SELECT SUM(ground_truth_annotations) FROM tasks WHERE project_id = %lld", pid), 7);
	cr_assert_eq(sql_int("SELECT is_labeled FROM tasks WHERE id = %lld", ninth), 0);
	cr_assert_eq(sql_int("SELECT completed_by FROM annotations WHERE task_id = %lld", first), owner_id);
	/* project counters moved once, as the definitions say */
	char q[512];
	snprintf(q, sizeof(q), "SELECT CONCAT_WS(',', task_number, total_annotations_number, "
	    "skipped_annotations_number, ground_truth_number, useful_annotation_number, "
	    "num_tasks_with_annotations, finished_task_number, total_predictions_number, model_version) "
	    "FROM projects WHERE id = %lld", pid);
	char *c = e2e_sql_out("%s", q);
	cr_assert(strncmp(c, "13,8,1,7,1,8,8,7,v6", 19) == 0, "%s", c);
	free(c);
	/* the stored annotation */
	char *a = e2e_sql_out("SELECT CONCAT_WS(',', lead_time, last_action, ground_truth) FROM annotations "
	    "WHERE task_id = %lld", first);
	cr_assert(strncmp(a, "2.5,imported,0", 14) == 0, "%s", a);
	free(a);
	char *p = e2e_sql_out("SELECT CONCAT_WS(',', score, model_version) FROM predictions WHERE task_id = %lld", first);
	cr_assert(strncmp(p, "0.1,v0", 6) == 0, "%s", p);
	free(p);
}

Test(import, validation_errors_save_nothing)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, NULL, "[{\"text\":\"ok\"},{\"txt\":\"a\"},{\"data\":[1]},"
	    "{\"data\":{\"text\":\"b\"},\"annotations\":[{\"result\":[{\"from_name\":\"nope\",\"to_name\":\"text\","
	    "\"type\":\"choices\",\"value\":{\"choices\":[\"Pos\"]}}]}]},"
	    "{\"data\":{\"text\":\"c\"},\"annotations\":[{\"result\":{}}]},"
	    "{\"data\":{\"text\":\"d\"},\"annotations\":[{\"lead_time\":1}]},"
	    "{\"data\":{\"text\":\"e\"},\"predictions\":{}},{\"text\":\"fine\"}]", NULL);
	struct json_object *errs;

	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), "Validation error");
	errs = jpath(r->json, "validation_errors.non_field_errors");
	cr_assert_eq(json_object_array_length(errs), 8);
	cr_assert(json_object_is_type(json_object_array_get_idx(errs, 0), json_type_object));
	cr_assert(json_object_is_type(json_object_array_get_idx(errs, 7), json_type_object));
	cr_assert(strstr(jstr(errs, "1"), "Error at item 1: \"text\" key is expected in task data") != NULL,
	    "%s", jstr(errs, "1"));
	cr_assert(strstr(jstr(errs, "2"), "Task[data] must be") != NULL, "%s", jstr(errs, "2"));
	cr_assert(strstr(jstr(errs, "3"), "nope") != NULL, "%s", jstr(errs, "3"));
	cr_assert(strstr(jstr(errs, "4"), "\"result\" field in annotation must be list") != NULL);
	cr_assert(strstr(jstr(errs, "5"), "Annotation must have \"result\" fields") != NULL);
	cr_assert(strstr(jstr(errs, "6"), "Task[predictions]") != NULL);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 0);
}

Test(import, at_most_100_errors)
{
	long long pid = make_project(owner, NULL);
	char *body = malloc(8192);
	size_t n = 0;
	struct resp *r;

	n += (size_t)snprintf(body + n, 8192 - n, "[");
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(body + n, 8192 - n, "%s{\"x\":%d}", i ? "," : "", i);
	snprintf(body + n, 8192 - n, "]");
	r = import(pid, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 400);
	cr_assert_eq(json_object_array_length(jpath(r->json, "validation_errors.non_field_errors")), 100);
	cr_assert_str_eq(jstr(r->json, "validation_errors.non_field_errors.99"), "...");
	resp_free(r);
}

Test(import, empty_and_wrong_bodies)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, NULL, "[]", NULL);

	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.non_field_errors.0"), "load_tasks: No tasks added");
	resp_free(r);
	r = import(pid, NULL, "\"abc\"", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.non_field_errors.0"),
	    "load_tasks: No data found in DATA or in FILES");
	resp_free(r);
	char path[128];
	snprintf(path, sizeof(path), "/api/projects/%lld/import", pid);
	r = http("POST", path, owner, "text=abc", "application/octet-stream");
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.non_field_errors.0"),
	    "load_tasks: No data found in DATA or in FILES");
	resp_free(r);
	r = import(pid, NULL, "[{\"text\":", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(strstr(jstr(r->json, "detail"), "JSON parse error") != NULL);
	resp_free(r);
	r = import(pid, "?commit_to_project=maybe", "[{\"text\":\"a\"}]", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(jpath(r->json, "validation_errors.commit_to_project") != NULL);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
}

Test(import, commit_false_writes_nothing)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, "?commit_to_project=false&return_task_ids=1",
	    "[{\"text\":\"a\",\"annotations\":[]},{\"text\":\"b\"}]", NULL);

	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 2);
	cr_assert(json_object_is_type(jpath(r->json, "annotation_count"), json_type_null));
	cr_assert(json_object_object_get_ex(r->json, "prediction_count", NULL));
	cr_assert_null(jpath(r->json, "prediction_count"));
	cr_assert_eq(json_object_array_length(jpath(r->json, "task_ids")), 0);
	resp_free(r);
	/* still validated */
	r = import(pid, "?commit_to_project=0", "[{\"txt\":\"a\"}]", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
}

Test(import, completed_by)
{
	long long pid = make_project(owner, NULL), member;
	char body[2048], uname[64];
	struct resp *r;

	snprintf(uname, sizeof(uname), "imp-member-%s", e2e_unique());
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"correct horse\"}",
	    uname, uname);
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	member = jint(r->json, "id");
	resp_free(r);
	snprintf(body, sizeof(body), "[{\"data\":{\"text\":\"a\"},\"annotations\":[{\"result\":[],"
	    "\"completed_by\":%lld},{\"result\":[],\"completed_by\":{\"email\":\"%s@example.com\"}}]}]",
	    member, uname);
	r = import(pid, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	char q[256];
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM annotations WHERE project_id = %lld AND completed_by = %lld",
	    pid, member);
	char *out = e2e_sql_out("%s", q);
	cr_assert_eq(atoll(out), 2, "%s", out);
	free(out);
	/* someone outside the organization, or nobody at all */
	snprintf(body, sizeof(body), "[{\"data\":{\"text\":\"a\"},\"annotations\":[{\"result\":[],"
	    "\"completed_by\":%lld}]},{\"data\":{\"text\":\"b\"},\"annotations\":[{\"result\":[],"
	    "\"completed_by\":{\"email\":\"nobody-%s@example.com\"}}]}]", stranger_id, e2e_unique());
	r = import(pid, NULL, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(jstr(r->json, "validation_errors.non_field_errors.0"), "completed_by") != NULL);
	cr_assert(strstr(jstr(r->json, "validation_errors.non_field_errors.1"), "completed_by") != NULL);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 1);
}

Test(import, preannotated_from_fields)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, "?preannotated_from_fields=sentiment",
	    "[{\"text\":\"a\",\"sentiment\":\"Pos\"},{\"text\":\"b\"}]", NULL);
	char *res;

	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "prediction_count"), 1);
	resp_free(r);
	res = e2e_sql_out("SELECT CONCAT_WS('|', p.result, p.score, p.model_version) FROM predictions p "
	    "JOIN tasks t ON t.id = p.task_id WHERE t.project_id = %lld", pid);
	cr_assert(strstr(res, "\"from_name\":\"sentiment\"") != NULL, "%s", res);
	cr_assert(strstr(res, "\"to_name\":\"text\"") != NULL, "%s", res);
	cr_assert(strstr(res, "\"choices\":[\"Pos\"]") != NULL, "%s", res);
	cr_assert(strstr(res, "|1|preannotated") != NULL, "%s", res);
	free(res);
}

Test(import, scoped_to_the_organization)
{
	long long pid = make_project(owner, NULL);
	struct resp *r = import(pid, NULL, "[{\"text\":\"a\"}]", stranger);

	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	r = import(999999999, NULL, "[{\"text\":\"a\"}]", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
}
