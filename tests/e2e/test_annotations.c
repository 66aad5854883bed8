/* Annotations and drafts: shapes, validation, counters and label usage moved in the same
 * transaction, skips, drafts turned into annotations and back, and isolation between
 * organizations. Each test makes its own task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char owner[256], stranger[256];
static long long owner_id, stranger_id, project;

#define CONFIG "<View><Text name=\\\"text\\\" value=\\\"$text\\\"/><Choices name=\\\"sentiment\\\" " \
	"toName=\\\"text\\\"><Choice value=\\\"Positive\\\"/><Choice value=\\\"Negative\\\"/></Choices></View>"
#define ITEM(label) "{\"id\":\"r1\",\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\"," \
	"\"value\":{\"choices\":[\"" label "\"]}}"

static void
setup(void)
{
	char name[64], body[1024];
	struct resp *r;

	snprintf(name, sizeof(name), "ann-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Annotations org", &owner_id));
	snprintf(name, sizeof(name), "ann-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Annotations stranger org", &stranger_id));
	snprintf(body, sizeof(body), "{\"title\":\"Annotations\",\"label_config\":\"%s\"}", CONFIG);
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	project = jint(r->json, "id");
	resp_free(r);
}

TestSuite(annotations, .init = setup, .timeout = 120);

static long long
new_task(void)
{
	char body[256];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"hello\"}}", project);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

/* Sends a request and checks its status; returns the response (free it). */
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
annotate(long long task, const char *body)
{
	struct resp *r = call(owner, "POST", 201, body, "/api/tasks/%lld/annotations/", task);
	long long id = jint(r->json, "id");

	resp_free(r);
	return id;
}

/* "total cancelled gt is_labeled" of a task. */
static char *
task_counters(long long task)
{
	char *s = e2e_sql_out("SELECT CONCAT_WS(' ', total_annotations, cancelled_annotations, "
	    "ground_truth_annotations, is_labeled, total_predictions) FROM tasks WHERE id = %lld", task);

	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* "annotations drafts" of label_usage for one label of the project ("" when no row). */
static char *
usage(const char *label)
{
	char *s = e2e_sql_out("SELECT CONCAT_WS(' ', annotations, drafts) FROM label_usage WHERE "
	    "project_id = %lld AND from_name = 'sentiment' AND label = '%s'", project, label);

	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void
expect_str(char *got, const char *want)
{
	cr_expect_str_eq(got, want);
	free(got);
}

static int
has_key(struct json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

Test(annotations, create_get_list_shape)
{
	long long task = new_task(), id;
	struct resp *r;
	const char *keys[] = { "id", "result", "created_username", "created_ago", "completed_by",
		"was_cancelled", "ground_truth", "created_at", "updated_at", "draft_created_at", "lead_time",
		"import_id", "last_action", "bulk_created", "task", "project", "updated_by",
		"parent_prediction", "parent_annotation", "last_created_by" };
	char want[64];

	r = call(owner, "POST", 201, "{\"result\":[" ITEM("Positive") "],\"lead_time\":2.5}",
	    "/api/tasks/%lld/annotations/", task);
	id = jint(r->json, "id");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(has_key(r->json, keys[i]), "missing %s", keys[i]);
	cr_expect_eq(jint(r->json, "completed_by"), owner_id);
	cr_expect_eq(jint(r->json, "updated_by"), owner_id);
	cr_expect_eq(jint(r->json, "task"), task);
	cr_expect_eq(jint(r->json, "project"), project);
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Positive");
	cr_expect_str_eq(jstr(r->json, "created_ago"), "0\xc2\xa0minutes");
	snprintf(want, sizeof(want), ", %lld", owner_id);
	cr_expect(strstr(jstr(r->json, "created_username"), want) != NULL, "%s", jstr(r->json, "created_username"));
	cr_expect(json_object_get_boolean(jpath(r->json, "was_cancelled")) == 0);
	cr_expect(json_object_get_double(jpath(r->json, "lead_time")) == 2.5);
	cr_expect(strchr(jstr(r->json, "created_at"), 'Z') != NULL);
	resp_free(r);

	r = call(owner, "GET", 200, NULL, "/api/annotations/%lld/", id);
	cr_expect_eq(jint(r->json, "id"), id);
	cr_expect_str_eq(jstr(r->json, "result.0.from_name"), "sentiment");
	resp_free(r);
	r = call(owner, "GET", 200, NULL, "/api/tasks/%lld/annotations", task);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_expect_eq(json_object_array_length(r->json), 1);
	cr_expect_eq(jint(r->json, "0.id"), id);
	resp_free(r);
	expect_str(task_counters(task), "1 0 0 1 0");
}

Test(annotations, result_as_json_string_and_empty)
{
	long long task = new_task();
	struct resp *r = call(owner, "POST", 201, "{\"result\":\"[" "{\\\"id\\\":\\\"a\\\",\\\"from_name\\\":"
	    "\\\"sentiment\\\",\\\"to_name\\\":\\\"text\\\",\\\"type\\\":\\\"choices\\\",\\\"value\\\":"
	    "{\\\"choices\\\":[\\\"Negative\\\"]}}]\"}", "/api/tasks/%lld/annotations/", task);

	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Negative");
	resp_free(r);
	r = call(owner, "POST", 201, "{}", "/api/tasks/%lld/annotations/", task);
	cr_expect(json_object_is_type(jpath(r->json, "result"), json_type_array));
	cr_expect_eq(json_object_array_length(jpath(r->json, "result")), 0);
	resp_free(r);
	expect_str(task_counters(task), "2 0 0 1 0");
}

Test(annotations, validation_errors)
{
	long long task = new_task();
	char body[256];
	struct resp *r;

	r = call(owner, "POST", 400, "{\"result\":{\"a\":1}}", "/api/tasks/%lld/annotations/", task);
	cr_expect(jpath(r->json, "validation_errors.result.0") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"result\":\"not json\"}", "/api/tasks/%lld/annotations/", task);
	cr_expect(jpath(r->json, "validation_errors.result.0") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"result\":[" ITEM("Positive") ",{\"from_name\":\"nope\",\"to_name\":"
	    "\"text\",\"type\":\"choices\",\"value\":{\"choices\":[\"x\"]}}]}", "/api/tasks/%lld/annotations/", task);
	cr_expect(strncmp(jstr(r->json, "validation_errors.result.0"), "result[1]", 9) == 0, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"lead_time\":\"soon\"}", "/api/tasks/%lld/annotations/", task);
	cr_expect_str_eq(jstr(r->json, "validation_errors.lead_time.0"), "A valid number is required.");
	resp_free(r);
	r = call(owner, "POST", 400, "{\"was_cancelled\":\"maybe\"}", "/api/tasks/%lld/annotations/", task);
	cr_expect_str_eq(jstr(r->json, "validation_errors.was_cancelled.0"), "Must be a valid boolean.");
	resp_free(r);
	r = call(owner, "POST", 400, "{\"completed_by\":\"abc\"}", "/api/tasks/%lld/annotations/", task);
	cr_expect_str_eq(jstr(r->json, "validation_errors.completed_by.0"),
	    "Incorrect type. Expected pk value, received str.");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"completed_by\":%lld}", stranger_id);
	r = call(owner, "POST", 400, body, "/api/tasks/%lld/annotations/", task);
	cr_expect(strstr(jstr(r->json, "validation_errors.completed_by.0"), "does not exist") != NULL);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"parent_prediction\":999999999}", "/api/tasks/%lld/annotations/", task);
	cr_expect(jpath(r->json, "validation_errors.parent_prediction.0") != NULL);
	resp_free(r);
	r = call(owner, "POST", 400, "[1,2]", "/api/tasks/%lld/annotations/", task);
	cr_expect(jpath(r->json, "validation_errors.non_field_errors.0") != NULL);
	resp_free(r);
	r = call(owner, "POST", 400, NULL, "/api/tasks/%lld/annotations/?was_cancelled=perhaps", task);
	resp_free(r);
	/* nothing was written */
	expect_str(task_counters(task), "0 0 0 0 0");
	free(e2e_sql_out("SELECT 1"));
	{
		char *n = e2e_sql_out("SELECT COUNT(*) FROM annotations WHERE task_id = %lld", task);
		cr_expect_eq(atoi(n), 0);
		free(n);
	}
}

Test(annotations, completed_by_member)
{
	long long task = new_task();
	char body[128];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"completed_by\":%lld}", owner_id);
	r = call(owner, "POST", 201, body, "/api/tasks/%lld/annotations/", task);
	cr_expect_eq(jint(r->json, "completed_by"), owner_id);
	resp_free(r);
	r = call(owner, "POST", 201, "{\"completed_by\":null}", "/api/tasks/%lld/annotations/", task);
	cr_expect_null(jpath(r->json, "completed_by"));
	cr_expect_str_eq(jstr(r->json, "created_username"), "");
	resp_free(r);
}

Test(annotations, skip_and_skip_button)
{
	long long task = new_task();
	struct resp *r;

	r = call(owner, "POST", 201, "{\"result\":[]}", "/api/tasks/%lld/annotations/?was_cancelled=1", task);
	cr_expect(json_object_get_boolean(jpath(r->json, "was_cancelled")));
	resp_free(r);
	r = call(owner, "GET", 200, NULL, "/api/tasks/%lld/annotations/", task);
	cr_expect_eq(json_object_array_length(r->json), 0, "skipped annotations are left out");
	resp_free(r);
	expect_str(task_counters(task), "0 1 0 0 0");

	cr_assert_eq(e2e_sql("UPDATE projects SET show_skip_button = 0 WHERE id = %lld", project), 0);
	r = call(owner, "POST", 400, "{\"was_cancelled\":true}", "/api/tasks/%lld/annotations/", task);
	cr_expect(strstr(r->body, "This task cannot be skipped.") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", 400, NULL, "/api/tasks/%lld/annotations/?was_cancelled=true", task);
	resp_free(r);
	cr_assert_eq(e2e_sql("UPDATE projects SET show_skip_button = 1 WHERE id = %lld", project), 0);
	expect_str(task_counters(task), "0 1 0 0 0");
}

Test(annotations, unique_id_duplicate)
{
	long long task = new_task();
	char body[128];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"unique_id\":\"u-%s\"}", e2e_unique());
	annotate(task, body);
	r = call(owner, "POST", 409, body, "/api/tasks/%lld/annotations/", task);
	cr_expect_str_eq(jstr(r->json, "detail"), "Annotation with this unique id already exists");
	resp_free(r);
	expect_str(task_counters(task), "1 0 0 1 0");
}

Test(annotations, ground_truth_is_unique_per_task)
{
	long long task = new_task(), a, b;
	struct resp *r;

	a = annotate(task, "{\"ground_truth\":true}");
	expect_str(task_counters(task), "1 0 1 1 0");
	b = annotate(task, "{\"ground_truth\":true}");
	expect_str(task_counters(task), "2 0 1 1 0");
	r = call(owner, "GET", 200, NULL, "/api/annotations/%lld", a);
	cr_expect(!json_object_get_boolean(jpath(r->json, "ground_truth")));
	resp_free(r);
	r = call(owner, "PATCH", 200, "{\"ground_truth\":false}", "/api/annotations/%lld", b);
	cr_expect(!json_object_get_boolean(jpath(r->json, "ground_truth")));
	resp_free(r);
	expect_str(task_counters(task), "2 0 0 1 0");
}

Test(annotations, patch_put_moves_usage_and_counters)
{
	long long task = new_task(), id;
	struct resp *r;
	char *before_neg = usage("Negative"), *before_pos = usage("Positive");
	long long pos0 = atoll(before_pos), neg0 = atoll(before_neg);
	char want[64];

	free(before_neg);
	free(before_pos);
	id = annotate(task, "{\"result\":[" ITEM("Positive") "]}");
	snprintf(want, sizeof(want), "%lld 0", pos0 + 1);
	expect_str(usage("Positive"), want);

	r = call(owner, "PATCH", 200, "{\"result\":[" ITEM("Negative") "],\"lead_time\":7}", "/api/annotations/%lld/", id);
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Negative");
	cr_expect(json_object_get_double(jpath(r->json, "lead_time")) == 7.0);
	cr_expect_eq(jint(r->json, "updated_by"), owner_id);
	resp_free(r);
	snprintf(want, sizeof(want), "%lld 0", pos0);
	expect_str(usage("Positive"), want);
	snprintf(want, sizeof(want), "%lld 0", neg0 + 1);
	expect_str(usage("Negative"), want);

	r = call(owner, "PUT", 200, "{\"was_cancelled\":true}", "/api/annotations/%lld/", id);
	cr_expect(json_object_get_boolean(jpath(r->json, "was_cancelled")));
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Negative", "untouched fields stay");
	resp_free(r);
	expect_str(task_counters(task), "0 1 0 0 0");

	r = call(owner, "PATCH", 400, "{\"result\":[{\"from_name\":\"x\",\"to_name\":\"text\",\"type\":\"choices\"}]}",
	    "/api/annotations/%lld/", id);
	resp_free(r);
	r = call(owner, "PATCH", 400, "{\"ground_truth\":[]}", "/api/annotations/%lld/", id);
	resp_free(r);
	r = call(owner, "PATCH", 404, "{}", "/api/annotations/%lld/", 999999999LL);
	resp_free(r);
}

Test(annotations, delete_restores_counters_and_usage)
{
	long long task = new_task(), id;
	struct resp *r;
	char *s = usage("Positive");
	long long pos0 = atoll(s);
	char want[64];

	free(s);
	id = annotate(task, "{\"result\":[" ITEM("Positive") "]}");
	expect_str(task_counters(task), "1 0 0 1 0");
	r = call(owner, "DELETE", 204, NULL, "/api/annotations/%lld/", id);
	resp_free(r);
	expect_str(task_counters(task), "0 0 0 0 0");
	snprintf(want, sizeof(want), "%lld 0", pos0);
	expect_str(usage("Positive"), want);
	r = call(owner, "GET", 404, NULL, "/api/annotations/%lld/", id);
	resp_free(r);
	r = call(owner, "DELETE", 404, NULL, "/api/annotations/%lld/", id);
	resp_free(r);
}

Test(annotations, draft_becomes_annotation)
{
	long long task = new_task(), draft, ann;
	struct resp *r;
	char body[512], want[64];
	char *s = usage("Negative");
	long long neg0 = atoll(s);

	free(s);
	r = call(owner, "POST", 201, "{\"result\":[" ITEM("Negative") "],\"lead_time\":3}", "/api/tasks/%lld/drafts", task);
	draft = jint(r->json, "id");
	resp_free(r);
	snprintf(want, sizeof(want), "%lld 1", neg0);
	expect_str(usage("Negative"), want);

	cr_assert_eq(e2e_sql("INSERT INTO task_locks (task_id, user_id, project_id, expire_at) VALUES "
	    "(%lld, %lld, %lld, UTC_TIMESTAMP() + INTERVAL 1 HOUR)", task, owner_id, project), 0);
	snprintf(body, sizeof(body), "{\"result\":[" ITEM("Negative") "],\"draft_id\":%lld}", draft);
	r = call(owner, "POST", 201, body, "/api/tasks/%lld/annotations/", task);
	ann = jint(r->json, "id");
	cr_expect(jpath(r->json, "draft_created_at") != NULL, "draft_created_at comes from the draft");
	resp_free(r);
	cr_expect_gt(ann, 0);
	r = call(owner, "GET", 404, NULL, "/api/drafts/%lld", draft);
	resp_free(r);
	snprintf(want, sizeof(want), "%lld 0", neg0 + 1);
	expect_str(usage("Negative"), want);
	s = e2e_sql_out("SELECT COUNT(*) FROM task_locks WHERE task_id = %lld", task);
	cr_expect_eq(atoi(s), 0, "the caller's task lock is released");
	free(s);
}

Test(annotations, draft_of_another_task_is_refused)
{
	long long t1 = new_task(), t2 = new_task(), draft;
	struct resp *r;
	char body[128];

	r = call(owner, "POST", 201, "{\"result\":[]}", "/api/tasks/%lld/drafts", t1);
	draft = jint(r->json, "id");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"draft_id\":%lld}", draft);
	r = call(owner, "POST", 403, body, "/api/tasks/%lld/annotations/", t2);
	resp_free(r);
	expect_str(task_counters(t2), "0 0 0 0 0");
	r = call(owner, "GET", 200, NULL, "/api/drafts/%lld", draft);
	resp_free(r);
}

Test(annotations, convert_to_draft)
{
	long long task = new_task(), id, draft;
	struct resp *r;
	char *s = usage("Positive");
	long long pos0 = atoll(s);
	char want[64];

	free(s);
	id = annotate(task, "{\"result\":[" ITEM("Positive") "],\"lead_time\":4}");
	r = call(owner, "POST", 201, NULL, "/api/annotations/%lld/convert-to-draft", id);
	draft = jint(r->json, "id");
	cr_expect_gt(draft, 0);
	cr_expect_eq(jint(r->json, "task"), task);
	cr_expect_null(jpath(r->json, "annotation"));
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Positive");
	cr_expect(json_object_get_double(jpath(r->json, "lead_time")) == 4.0);
	resp_free(r);
	r = call(owner, "GET", 404, NULL, "/api/annotations/%lld", id);
	resp_free(r);
	expect_str(task_counters(task), "0 0 0 0 0");
	snprintf(want, sizeof(want), "%lld 1", pos0);
	expect_str(usage("Positive"), want);
	r = call(owner, "DELETE", 204, NULL, "/api/drafts/%lld", draft);
	resp_free(r);
	snprintf(want, sizeof(want), "%lld 0", pos0);
	expect_str(usage("Positive"), want);
	r = call(owner, "POST", 404, NULL, "/api/annotations/%lld/convert-to-draft", id);
	resp_free(r);
}

Test(annotations, drafts_crud)
{
	long long task = new_task(), other = new_task(), ann, draft, d2;
	struct resp *r;
	char path[128];
	const char *keys[] = { "id", "user", "result", "lead_time", "task", "annotation", "was_postponed",
		"import_id", "created_at", "updated_at", "created_username", "created_ago" };

	ann = annotate(task, "{}");
	r = call(owner, "POST", 201, "{\"result\":[" ITEM("Positive") "],\"lead_time\":1.5,\"was_postponed\":true}",
	    "/api/tasks/%lld/drafts", task);
	draft = jint(r->json, "id");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(has_key(r->json, keys[i]), "missing %s", keys[i]);
	cr_expect(json_object_get_boolean(jpath(r->json, "was_postponed")));
	cr_expect_eq(jint(r->json, "task"), task);
	cr_expect_null(jpath(r->json, "annotation"));
	resp_free(r);

	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/%%lld/drafts", task);
	r = call(owner, "POST", 201, "{\"result\":[]}", path, ann);
	d2 = jint(r->json, "id");
	cr_expect_eq(jint(r->json, "annotation"), ann);
	resp_free(r);
	r = call(owner, "GET", 200, NULL, path, ann);
	cr_expect_eq(json_object_array_length(r->json), 2);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/%%lld/drafts", other);
	r = call(owner, "POST", 404, "{\"result\":[]}", path, ann);
	resp_free(r);
	r = call(owner, "GET", 404, NULL, path, ann);
	resp_free(r);

	r = call(owner, "GET", 200, NULL, "/api/tasks/%lld/drafts", task);
	cr_expect_eq(json_object_array_length(r->json), 2);
	cr_expect_eq(jint(r->json, "0.id"), draft);
	resp_free(r);

	r = call(owner, "PATCH", 200, "{\"result\":[" ITEM("Negative") "],\"was_postponed\":false}", "/api/drafts/%lld/", draft);
	cr_expect_str_eq(jstr(r->json, "result.0.value.choices.0"), "Negative");
	cr_expect(!json_object_get_boolean(jpath(r->json, "was_postponed")));
	cr_expect(json_object_get_double(jpath(r->json, "lead_time")) == 1.5);
	resp_free(r);
	r = call(owner, "PUT", 200, "{\"lead_time\":null}", "/api/drafts/%lld/", draft);
	cr_expect_null(jpath(r->json, "lead_time"));
	resp_free(r);
	r = call(owner, "PATCH", 400, "{\"result\":7}", "/api/drafts/%lld/", draft);
	resp_free(r);
	r = call(owner, "POST", 400, "{\"lead_time\":1}", "/api/tasks/%lld/drafts", task);
	cr_expect_str_eq(jstr(r->json, "validation_errors.result.0"), "This field is required.");
	resp_free(r);

	/* deleting the annotation takes its drafts with it */
	r = call(owner, "DELETE", 204, NULL, "/api/annotations/%lld", ann);
	resp_free(r);
	r = call(owner, "GET", 404, NULL, "/api/drafts/%lld", d2);
	resp_free(r);
	r = call(owner, "DELETE", 204, NULL, "/api/drafts/%lld", draft);
	resp_free(r);
	r = call(owner, "GET", 404, NULL, "/api/drafts/%lld", draft);
	resp_free(r);
	r = call(owner, "GET", 404, NULL, "/api/tasks/%lld/drafts", 999999999LL);
	resp_free(r);
}

/* Snapshot of what a stranger's requests must not change. */
static char *
state(long long task)
{
	return e2e_sql_out("SELECT (SELECT GROUP_CONCAT(CONCAT_WS(':', id, result, was_cancelled, ground_truth) "
	    "ORDER BY id) FROM annotations WHERE task_id = %lld), (SELECT GROUP_CONCAT(CONCAT_WS(':', id, result) "
	    "ORDER BY id) FROM drafts WHERE task_id = %lld), (SELECT CONCAT_WS(':', total_annotations, "
	    "cancelled_annotations) FROM tasks WHERE id = %lld)", task, task, task);
}

Test(annotations, other_organization_gets_404)
{
	long long task = new_task(), ann, draft;
	struct resp *r;
	char path[128], *before, *after;

	ann = annotate(task, "{\"result\":[" ITEM("Positive") "]}");
	r = call(owner, "POST", 201, "{\"result\":[]}", "/api/tasks/%lld/drafts", task);
	draft = jint(r->json, "id");
	resp_free(r);
	before = state(task);

	resp_free(call(stranger, "GET", 404, NULL, "/api/tasks/%lld/annotations/", task));
	resp_free(call(stranger, "POST", 404, "{\"result\":[]}", "/api/tasks/%lld/annotations/", task));
	resp_free(call(stranger, "GET", 404, NULL, "/api/annotations/%lld/", ann));
	resp_free(call(stranger, "PATCH", 404, "{\"result\":[]}", "/api/annotations/%lld/", ann));
	resp_free(call(stranger, "PUT", 404, "{\"result\":[]}", "/api/annotations/%lld/", ann));
	resp_free(call(stranger, "DELETE", 404, NULL, "/api/annotations/%lld/", ann));
	resp_free(call(stranger, "POST", 404, NULL, "/api/annotations/%lld/convert-to-draft", ann));
	resp_free(call(stranger, "GET", 404, NULL, "/api/tasks/%lld/drafts", task));
	resp_free(call(stranger, "POST", 404, "{\"result\":[]}", "/api/tasks/%lld/drafts", task));
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/%%lld/drafts", task);
	resp_free(call(stranger, "GET", 404, NULL, path, ann));
	resp_free(call(stranger, "POST", 404, "{\"result\":[]}", path, ann));
	resp_free(call(stranger, "GET", 404, NULL, "/api/drafts/%lld", draft));
	resp_free(call(stranger, "PATCH", 404, "{\"result\":[]}", "/api/drafts/%lld", draft));
	resp_free(call(stranger, "PUT", 404, "{\"result\":[]}", "/api/drafts/%lld", draft));
	resp_free(call(stranger, "DELETE", 404, NULL, "/api/drafts/%lld", draft));

	after = state(task);
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(annotations, unknown_ids_are_404)
{
	resp_free(call(owner, "GET", 404, NULL, "/api/tasks/%lld/annotations/", 999999999LL));
	resp_free(call(owner, "POST", 404, "{}", "/api/tasks/%lld/annotations/", 999999999LL));
	resp_free(call(owner, "GET", 404, NULL, "/api/annotations/%lld", 999999999LL));
	resp_free(call(owner, "DELETE", 404, NULL, "/api/annotations/%lld", 999999999LL));
	resp_free(call(owner, "GET", 404, NULL, "/api/drafts/%lld", 999999999LL));
	resp_free(call(owner, "PATCH", 404, "{}", "/api/drafts/%lld", 999999999LL));
	resp_free(call(owner, "DELETE", 404, NULL, "/api/drafts/%lld", 999999999LL));
	resp_free(call(owner, "GET", 404, NULL, "/api/annotations/%lld", 0LL));
}
