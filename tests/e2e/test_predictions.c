/* Predictions: shapes, filters, counters moved with every create and delete, the bulk import of
 * a project's predictions (all or nothing), and isolation between organizations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char owner[256], stranger[256];
static long long project, other_project;

#define CONFIG "<View><Text name=\\\"text\\\" value=\\\"$text\\\"/><Choices name=\\\"sentiment\\\" " \
	"toName=\\\"text\\\"><Choice value=\\\"Positive\\\"/><Choice value=\\\"Negative\\\"/></Choices></View>"
#define ITEM "{\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\"," \
	"\"value\":{\"choices\":[\"Positive\"]}}"
/* ITEM inside a JSON string */
#define ITEM_ESC "{\\\"from_name\\\":\\\"sentiment\\\",\\\"to_name\\\":\\\"text\\\"," \
	"\\\"type\\\":\\\"choices\\\",\\\"value\\\":{\\\"choices\\\":[\\\"Positive\\\"]}}"

static long long
new_project(const char *auth)
{
	char body[1024];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"Predictions\",\"label_config\":\"%s\"}", CONFIG);
	r = http("POST", "/api/projects/", auth, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "pred-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Predictions org", NULL));
	snprintf(name, sizeof(name), "pred-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Predictions stranger org", NULL));
	project = new_project(owner);
	other_project = new_project(owner);
}

TestSuite(predictions, .init = setup, .timeout = 180);

static long long
new_task(long long proj)
{
	char body[256];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"hello\"}}", proj);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static struct resp *
call(const char *auth, const char *method, long status, const char *body, const char *fmt, long long id)
{
	char path[256];
	const char *at = strstr(fmt, "%lld");
	struct resp *r;

	/* fmt holds at most one %lld, replaced by id (paths need no other conversion) */
	if (at == NULL)
		snprintf(path, sizeof(path), "%s", fmt);
	else
		snprintf(path, sizeof(path), "%.*s%lld%s", (int)(at - fmt), fmt, id, at + 4);
	r = http(method, path, auth, body, NULL);
	cr_assert_eq(r->status, status, "%s %s: %ld %s", method, path, r->status, r->body);
	return r;
}

static long long
predict(long long task, const char *extra)
{
	char body[512];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[" ITEM "]%s}", task, extra ? extra : "");
	r = http("POST", "/api/predictions/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static long long
sql_int(const char *fmt, long long id)
{
	char q[512];
	char *s;
	long long v;

	snprintf(q, sizeof(q), fmt, id);
	s = e2e_sql_out("%s", q);
	v = atoll(s);
	free(s);
	return v;
}

static int
has_id(struct json_object *a, long long id)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (json_object_get_int64(json_object_object_get(json_object_array_get_idx(a, i), "id")) == id)
			return 1;
	return 0;
}

Test(predictions, create_get_shape_and_counters)
{
	long long task = new_task(project), id;
	char body[256];
	struct resp *r;
	const char *keys[] = { "id", "result", "score", "model_version", "model", "model_run", "cluster",
		"neighbors", "mislabeling", "task", "project", "created_at", "updated_at", "created_ago" };

	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[" ITEM "],\"score\":0.75,\"model_version\":\"v1\"}", task);
	r = call(owner, "POST", 201, body, "/api/predictions/", 0);
	id = jint(r->json, "id");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(json_object_object_get_ex(r->json, keys[i], NULL), "missing %s", keys[i]);
	cr_expect(json_object_get_double(jpath(r->json, "score")) == 0.75);
	cr_expect_str_eq(jstr(r->json, "model_version"), "v1");
	cr_expect_eq(jint(r->json, "task"), task);
	cr_expect_eq(jint(r->json, "project"), project);
	cr_expect(json_object_get_double(jpath(r->json, "mislabeling")) == 0.0);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "sentiment");
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 1);
	cr_expect_eq(sql_int("SELECT total_predictions_number FROM projects WHERE id = %lld", project), 1);

	r = call(owner, "GET", 200, NULL, "/api/predictions/%lld/", id);
	cr_expect_eq(jint(r->json, "id"), id);
	resp_free(r);

	/* result as a JSON string; a result the config does not know is kept (no config check) */
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":\"[{\\\"from_name\\\":\\\"zzz\\\",\\\"to_name\\\":"
	    "\\\"q\\\",\\\"type\\\":\\\"x\\\"}]\",\"project\":%lld}", task, project);
	r = call(owner, "POST", 201, body, "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "zzz");
	cr_expect_str_eq(jstr(r->json, "model_version"), "");
	cr_expect_null(jpath(r->json, "score"));
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 2);
}

Test(predictions, create_validation)
{
	long long task = new_task(project), foreign_task;
	char body[256];
	struct resp *r;
	long long n0 = sql_int("SELECT COUNT(*) FROM predictions WHERE project_id = %lld", project);

	r = call(owner, "POST", 400, "{\"result\":[]}", "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "validation_errors.task.0"), "This field is required.");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld}", task);
	r = call(owner, "POST", 400, body, "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "validation_errors.result.0"), "This field is required.");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[1]}", task);
	r = call(owner, "POST", 400, body, "/api/predictions/", 0);
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[],\"score\":\"high\"}", task);
	r = call(owner, "POST", 400, body, "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "validation_errors.score.0"), "A valid number is required.");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[],\"project\":%lld}", task, other_project);
	r = call(owner, "POST", 400, body, "/api/predictions/", 0);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"task\":\"x\",\"result\":[]}", "/api/predictions/", 0);
	resp_free(r);
	r = call(owner, "POST", 400, "[]", "/api/predictions/", 0);
	resp_free(r);
	/* a task of another organization is an unknown pk */
	{
		char name[64], sp[1024];
		struct resp *p;

		snprintf(sp, sizeof(sp), "{\"title\":\"Theirs\",\"label_config\":\"%s\"}", CONFIG);
		p = http("POST", "/api/projects/", stranger, sp, NULL);
		cr_assert_eq(p->status, 201);
		snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"x\"}}", jint(p->json, "id"));
		resp_free(p);
		p = http("POST", "/api/tasks/", stranger, body, NULL);
		cr_assert_eq(p->status, 201);
		foreign_task = jint(p->json, "id");
		resp_free(p);
		(void)name;
	}
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[]}", foreign_task);
	r = call(owner, "POST", 400, body, "/api/predictions/", 0);
	cr_expect(strstr(jstr(r->json, "validation_errors.task.0"), "does not exist") != NULL, "%s", r->body);
	resp_free(r);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM predictions WHERE project_id = %lld", project), n0);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM predictions WHERE task_id = %lld", foreign_task), 0);
}

/* Label Studio's shorthand results, as SDK 0.0.34's create_prediction(task, result="Negative")
 * sends them: a bare answer goes to the first Choices/TextArea control, an object becomes the
 * value of the first control; a JSON string holding a list is still that list. */
Test(predictions, result_shorthand)
{
	long long task = new_task(project);
	char body[512], path[128];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":\"Negative\",\"score\":0.5}", task);
	r = call(owner, "POST", 201, body, "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "sentiment");
	cr_expect_str_eq(jstr(r->json, "result.0.to_name"), "text");
	cr_expect_str_eq(jstr(r->json, "result.0.type"), "choices");
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Negative");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":{\"choices\":[\"Positive\"]}}", task);
	r = call(owner, "POST", 201, body, "/api/predictions/", 0);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "sentiment");
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Positive");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":\"[" ITEM_ESC "]\"}", task);
	r = call(owner, "POST", 201, body, "/api/predictions/", 0);
	cr_expect_eq(json_object_array_length(jpath(r->json, "result")), 1);
	resp_free(r);
	/* the bulk import takes the shorthand too */
	snprintf(path, sizeof(path), "/api/projects/%lld/import/predictions", project);
	snprintf(body, sizeof(body), "[{\"task\":%lld,\"result\":\"Positive\"}]", task);
	r = http("POST", path, owner, body, NULL);
	cr_expect_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 4);
}

Test(predictions, list_filters)
{
	long long t1 = new_task(project), t2 = new_task(project), t3 = new_task(other_project);
	long long p1 = predict(t1, NULL), p2 = predict(t2, NULL), p3 = predict(t3, NULL);
	struct resp *r;

	r = call(owner, "GET", 200, NULL, "/api/predictions/", 0);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_expect(has_id(r->json, p1) && has_id(r->json, p2) && has_id(r->json, p3));
	resp_free(r);
	r = call(owner, "GET", 200, NULL, "/api/predictions/?task=%lld", t1);
	cr_expect_eq(json_object_array_length(r->json), 1);
	cr_expect(has_id(r->json, p1));
	resp_free(r);
	r = call(owner, "GET", 200, NULL, "/api/predictions/?project=%lld", project);
	cr_expect(has_id(r->json, p1) && has_id(r->json, p2) && !has_id(r->json, p3));
	resp_free(r);
	r = call(owner, "GET", 200, NULL, "/api/predictions/?task__project=%lld", other_project);
	cr_expect(!has_id(r->json, p1) && has_id(r->json, p3));
	resp_free(r);
	{
		char path[128];

		snprintf(path, sizeof(path), "/api/predictions/?task=%lld&project=%lld", t1, other_project);
		r = http("GET", path, owner, NULL, NULL);
		cr_expect_eq(r->status, 200);
		cr_expect_eq(json_object_array_length(r->json), 0);
		resp_free(r);
	}
	r = call(owner, "GET", 400, NULL, "/api/predictions/?task=abc", 0);
	cr_expect(jpath(r->json, "validation_errors.task.0") != NULL);
	resp_free(r);
	r = call(owner, "GET", 400, NULL, "/api/predictions/?project=-1", 0);
	resp_free(r);
	r = call(stranger, "GET", 200, NULL, "/api/predictions/", 0);
	cr_expect(!has_id(r->json, p1) && !has_id(r->json, p3));
	resp_free(r);
	r = call(stranger, "GET", 200, NULL, "/api/predictions/?task=%lld", t1);
	cr_expect_eq(json_object_array_length(r->json), 0);
	resp_free(r);
}

Test(predictions, patch_put_delete)
{
	long long task = new_task(project), id = predict(task, ",\"score\":0.5");
	struct resp *r;

	r = call(owner, "PATCH", 200, "{\"score\":0.9,\"model_version\":\"v2\",\"cluster\":3,\"neighbors\":{\"a\":[1,2]}}",
	    "/api/predictions/%lld/", id);
	cr_expect(json_object_get_double(jpath(r->json, "score")) == 0.9);
	cr_expect_str_eq(jstr(r->json, "model_version"), "v2");
	cr_expect_eq(jint(r->json, "cluster"), 3);
	cr_expect_eq(jint(r->json, "neighbors.a.1"), 2);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "sentiment", "untouched fields stay");
	resp_free(r);
	r = call(owner, "PUT", 200, "{\"result\":[],\"score\":null}", "/api/predictions/%lld/", id);
	cr_expect_eq(json_object_array_length(jpath(r->json, "result")), 0);
	cr_expect_null(jpath(r->json, "score"));
	cr_expect_str_eq(jstr(r->json, "model_version"), "v2");
	resp_free(r);
	r = call(owner, "PATCH", 400, "{\"result\":\"nope\"}", "/api/predictions/%lld/", id);
	resp_free(r);
	{
		long long other = new_task(project);
		char body[64];

		snprintf(body, sizeof(body), "{\"task\":%lld}", other);
		r = call(owner, "PATCH", 400, body, "/api/predictions/%lld/", id);
		resp_free(r);
	}
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 1);
	r = call(owner, "DELETE", 204, NULL, "/api/predictions/%lld/", id);
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 0);
	cr_expect_eq(sql_int("SELECT total_predictions_number FROM projects WHERE id = %lld", project), 0);
	r = call(owner, "GET", 404, NULL, "/api/predictions/%lld/", id);
	resp_free(r);
	r = call(owner, "DELETE", 404, NULL, "/api/predictions/%lld/", id);
	resp_free(r);
	r = call(owner, "PATCH", 404, "{}", "/api/predictions/%lld/", 999999999LL);
	resp_free(r);
}

Test(predictions, other_organization_gets_404)
{
	long long task = new_task(project), id = predict(task, NULL);
	struct resp *r;
	char path[128];

	resp_free(call(stranger, "GET", 404, NULL, "/api/predictions/%lld/", id));
	resp_free(call(stranger, "PATCH", 404, "{\"score\":1}", "/api/predictions/%lld/", id));
	resp_free(call(stranger, "PUT", 404, "{\"score\":1}", "/api/predictions/%lld/", id));
	resp_free(call(stranger, "DELETE", 404, NULL, "/api/predictions/%lld/", id));
	snprintf(path, sizeof(path), "[{\"task\":%lld,\"result\":[]}]", task);
	resp_free(call(stranger, "POST", 404, path, "/api/projects/%lld/import/predictions", project));
	r = call(owner, "GET", 200, NULL, "/api/predictions/%lld/", id);
	cr_expect_null(jpath(r->json, "score"));
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", task), 1);
}

Test(predictions, import_all_or_nothing)
{
	long long t1 = new_task(project), t2 = new_task(project), foreign = new_task(other_project);
	char body[1024];
	struct resp *r;
	long long before = sql_int("SELECT total_predictions_number FROM projects WHERE id = %lld", project);

	snprintf(body, sizeof(body), "[{\"task\":%lld,\"result\":[" ITEM "],\"score\":0.5,\"model_version\":\"imp\"},"
	    "{\"task\":%lld,\"result\":[]},{\"task\":%lld,\"result\":\"[]\"}]", t1, t2, t2);
	r = call(owner, "POST", 201, body, "/api/projects/%lld/import/predictions", project);
	cr_expect_eq(jint(r->json, "created"), 3);
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", t1), 1);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", t2), 2);
	cr_expect_eq(sql_int("SELECT total_predictions_number FROM projects WHERE id = %lld", project), before + 3);
	r = call(owner, "GET", 200, NULL, "/api/predictions/?task=%lld", t1);
	cr_expect_str_eq(jstr(r->json, "0.model_version"), "imp");
	cr_expect(json_object_get_double(jpath(r->json, "0.score")) == 0.5);
	cr_expect_str_eq(jstr(r->json, "0.result.0.value.choices.0"), "Positive");
	resp_free(r);

	/* one task of another project: the whole request is refused, naming the item */
	snprintf(body, sizeof(body), "[{\"task\":%lld,\"result\":[]},{\"task\":%lld,\"result\":[]}]", t1, foreign);
	r = call(owner, "POST", 400, body, "/api/projects/%lld/import/predictions", project);
	cr_expect(strstr(r->body, "item 1") != NULL, "%s", r->body);
	resp_free(r);
	snprintf(body, sizeof(body), "[{\"task\":%lld,\"result\":true}]", t1);
	r = call(owner, "POST", 400, body, "/api/projects/%lld/import/predictions", project);
	cr_expect(strstr(r->body, "item 0") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"task\":1}", "/api/projects/%lld/import/predictions", project);
	cr_expect(strstr(r->body, "Expected a list of items but got type \\\"dict\\\".") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, "[{\"result\":[]}]", "/api/projects/%lld/import/predictions", project);
	resp_free(r);
	r = call(owner, "POST", 400, "[{", "/api/projects/%lld/import/predictions", project);
	resp_free(r);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", t1), 1);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM predictions WHERE task_id = %lld", foreign), 0);
	cr_expect_eq(sql_int("SELECT total_predictions_number FROM projects WHERE id = %lld", project), before + 3);
	resp_free(call(owner, "POST", 404, "[]", "/api/projects/%lld/import/predictions", 999999999LL));
	r = call(owner, "POST", 201, "[]", "/api/projects/%lld/import/predictions", project);
	cr_expect_eq(jint(r->json, "created"), 0);
	resp_free(r);
}

Test(predictions, import_ten_thousand)
{
	long long t1 = new_task(project), t2 = new_task(project);
	size_t cap = 10000 * 160, n = 0;
	char *body = malloc(cap);
	struct resp *r;
	struct timespec a, b;

	cr_assert(body);
	n += (size_t)snprintf(body + n, cap - n, "[");
	for (int i = 0; i < 10000; i++)
		n += (size_t)snprintf(body + n, cap - n, "%s{\"task\":%lld,\"result\":[" ITEM "],\"score\":%d.5}",
		    i ? "," : "", i % 2 ? t1 : t2, i % 10);
	n += (size_t)snprintf(body + n, cap - n, "]");
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = call(owner, "POST", 201, body, "/api/projects/%lld/import/predictions", project);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_expect_eq(jint(r->json, "created"), 10000);
	resp_free(r);
	free(body);
	cr_expect_eq(sql_int("SELECT total_predictions FROM tasks WHERE id = %lld", t1), 5000);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM predictions WHERE task_id = %lld", t2), 5000);
	cr_expect_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 10000,
	    "10k predictions should import in well under 10 s");
}
