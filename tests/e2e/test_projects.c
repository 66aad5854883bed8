/* Projects: CRUD in Label Studio's shape, validation, the list with its filters and pages, the
 * counts, config checks against what annotations use, the summary and its repair, sample tasks,
 * model versions, annotators, and isolation between organizations. Tasks, annotations, drafts
 * and predictions are written straight into the database and counted with summary/reset, so the
 * suite does not depend on the other resources' endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/>" \
	"<Choice value=\\\"Neg\\\"/></Choices></View>"

static char owner[256], stranger[256];
static long long owner_id, stranger_id;

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "prj-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Projects org", &owner_id));
	snprintf(name, sizeof(name), "prj-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Stranger org", &stranger_id));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(projects, .init = setup, .timeout = 90);

/* --- helpers ----------------------------------------------------------------------------- */

static long long
make_project(const char *auth, const char *body)
{
	struct resp *r = http("POST", "/api/projects/", auth, body, NULL);
	long long id;

	cr_assert_eq(r->status, 201, "create: %ld %s", r->status, r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static long long
make_config_project(const char *title)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"title\":\"%s\",\"label_config\":\"%s\"}", title, CONFIG);
	return make_project(owner, body);
}

/* A MariaDB hex literal of s, so JSON can go through the shell without quoting trouble. */
static const char *
hex(const char *s)
{
	static char bufs[4][4096];
	static int next;
	char *b = bufs[next++ % 4], *o = b;

	o += sprintf(o, "X'");
	for (; *s && o < b + sizeof(bufs[0]) - 4; s++)
		o += sprintf(o, "%02x", (unsigned char)*s);
	sprintf(o, "'");
	return b;
}

static long long
sql_id(const char *table, long long project)
{
	char *out = e2e_sql_out("SELECT MAX(id) FROM %s WHERE project_id = %lld", table, project);
	long long id = atoll(out);

	free(out);
	return id;
}

static long long
add_task(long long project, int inner, const char *data)
{
	cr_assert_eq(e2e_sql("INSERT INTO tasks (project_id, inner_id, data) VALUES (%lld, %d, %s)",
	    project, inner, hex(data)), 0);
	return sql_id("tasks", project);
}

static void
add_annotation(long long project, long long task, const char *result, int cancelled, int gt)
{
	cr_assert_eq(e2e_sql("INSERT INTO annotations (task_id, project_id, result, completed_by, "
	    "was_cancelled, ground_truth) VALUES (%lld, %lld, %s, %lld, %d, %d)", task, project,
	    hex(result), owner_id, cancelled, gt), 0);
}

static void
add_draft(long long project, long long task, const char *result)
{
	cr_assert_eq(e2e_sql("INSERT INTO drafts (task_id, project_id, user_id, result) VALUES "
	    "(%lld, %lld, %lld, %s)", task, project, owner_id, hex(result)), 0);
}

static void
add_prediction(long long project, long long task, const char *version)
{
	cr_assert_eq(e2e_sql("INSERT INTO predictions (task_id, project_id, result, model_version) "
	    "VALUES (%lld, %lld, '[]', '%s')", task, project, version), 0);
}

#define CHOICE(label) \
	"[{\"id\":\"a\",\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\"," \
	"\"value\":{\"choices\":[\"" label "\"]}}]"

static struct resp *
call(const char *auth, const char *method, long long id, const char *tail, const char *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/projects/%lld/%s", id, tail);
	return http(method, path, auth, body, NULL);
}

static void
reset(long long id)
{
	struct resp *r = call(owner, "POST", id, "summary/reset/", NULL);

	cr_assert_eq(r->status, 200, "reset: %ld %s", r->status, r->body);
	cr_assert(json_object_is_type(r->json, json_type_object));
	resp_free(r);
}

/* The first validation message of field, "" when none. */
static const char *
verr(struct resp *r, const char *field)
{
	static char buf[1024];
	char path[128];

	snprintf(path, sizeof(path), "validation_errors.%s.0", field);
	snprintf(buf, sizeof(buf), "%s", jstr(r->json, path));
	return buf;
}

static void
expect_field_error(const char *body, const char *field, const char *msg)
{
	struct resp *r = http("POST", "/api/projects/", owner, body, NULL);

	cr_expect_eq(r->status, 400, "%s: %ld %s", body, r->status, r->body);
	cr_expect_str_eq(verr(r, field), msg, "%s: %s", body, r->body);
	resp_free(r);
}

/* --- create, read, update, delete --------------------------------------------------------- */

Test(projects, create_defaults_and_shape)
{
	const char *keys[] = { "id", "title", "description", "label_config", "expert_instruction",
		"show_instruction", "show_skip_button", "enable_empty_annotation",
		"show_annotation_history", "organization", "color", "maximum_annotations", "is_published",
		"model_version", "is_draft", "created_by", "created_at",
		"min_annotations_to_start_training", "start_training_on_annotation_update",
		"show_collab_predictions", "num_tasks_with_annotations", "task_number",
		"useful_annotation_number", "ground_truth_number", "skipped_annotations_number",
		"total_annotations_number", "total_predictions_number", "sampling",
		"show_ground_truth_first", "show_overlap_first", "overlap_cohort_percentage",
		"task_data_login", "task_data_password", "control_weights", "parsed_label_config",
		"evaluate_predictions_automatically", "config_has_control_tags", "skip_queue",
		"reveal_preannotations_interactively", "pinned_at", "finished_task_number", "queue_total",
		"queue_done", "config_suitable_for_bulk_annotation" };
	struct resp *r = http("POST", "/api/projects/", owner, "{}", NULL);

	cr_assert_eq(r->status, 201, "%s", r->body);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(json_object_object_get_ex(r->json, keys[i], NULL), "missing %s", keys[i]);
	cr_expect_str_eq(jstr(r->json, "title"), "");
	cr_expect_str_eq(jstr(r->json, "label_config"), "<View></View>");
	cr_expect_str_eq(jstr(r->json, "color"), "#FFFFFF");
	cr_expect_str_eq(jstr(r->json, "sampling"), "Sequential sampling");
	cr_expect_str_eq(jstr(r->json, "skip_queue"), "REQUEUE_FOR_OTHERS");
	cr_expect_eq(jint(r->json, "maximum_annotations"), 1);
	cr_expect_eq(jint(r->json, "overlap_cohort_percentage"), 100);
	cr_expect_eq(jint(r->json, "created_by.id"), owner_id);
	cr_expect(json_object_object_get_ex(jpath(r->json, "created_by"), "avatar", NULL));
	cr_expect(json_object_get_boolean(jpath(r->json, "show_skip_button")));
	cr_expect(!json_object_get_boolean(jpath(r->json, "config_has_control_tags")));
	cr_expect_eq(json_object_object_length(jpath(r->json, "parsed_label_config")), 0);
	cr_expect_null(jpath(r->json, "pinned_at"));
	cr_expect_eq(jint(r->json, "task_number"), 0);
	resp_free(r);
}

Test(projects, create_full_and_parsed_config)
{
	char body[2048];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"title\":\"Full %s\",\"description\":\"d\",\"label_config\":"
	    "\"%s\",\"color\":\"#aa00FF\",\"maximum_annotations\":\"3\",\"sampling\":\"Uniform sampling\","
	    "\"skip_queue\":\"IGNORE_SKIPPED\",\"show_instruction\":true,\"is_published\":\"true\","
	    "\"pinned_at\":\"2024-01-02T03:04:05+02:00\",\"task_data_login\":\"bob\","
	    "\"task_data_password\":\"s3cret\",\"control_weights\":{\"sentiment\":{\"overall\":0.5}}}",
	    e2e_unique(), CONFIG);
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_expect_str_eq(jstr(r->json, "color"), "#aa00FF");
	cr_expect_eq(jint(r->json, "maximum_annotations"), 3);
	cr_expect_str_eq(jstr(r->json, "sampling"), "Uniform sampling");
	cr_expect_str_eq(jstr(r->json, "skip_queue"), "IGNORE_SKIPPED");
	cr_expect(json_object_get_boolean(jpath(r->json, "is_published")));
	cr_expect_str_eq(jstr(r->json, "pinned_at"), "2024-01-02T01:04:05.000000Z");
	cr_expect_str_eq(jstr(r->json, "task_data_login"), "bob");
	cr_expect_null(jpath(r->json, "task_data_password"));
	cr_expect(strstr(r->body, "s3cret") == NULL);
	cr_expect_str_eq(jstr(r->json, "parsed_label_config.sentiment.type"), "Choices");
	cr_expect_str_eq(jstr(r->json, "parsed_label_config.sentiment.labels.1"), "Neg");
	cr_expect(json_object_get_boolean(jpath(r->json, "config_has_control_tags")));
	cr_expect(json_object_get_boolean(jpath(r->json, "config_suitable_for_bulk_annotation")));
	/* control weights are completed from the config, keeping what was given */
	cr_expect_eq(json_object_get_double(jpath(r->json, "control_weights.sentiment.overall")), 0.5);
	cr_expect_eq(json_object_get_double(jpath(r->json, "control_weights.sentiment.labels.Pos")), 1.0);
	cr_expect_str_eq(jstr(r->json, "control_weights.sentiment.type"), "Choices");
	resp_free(r);
}

Test(projects, create_validation)
{
	struct resp *r;

	expect_field_error("{\"title\":\"ab\"}", "title", "Ensure this field has at least 3 characters.");
	expect_field_error("{\"title\":\"123456789012345678901234567890123456789012345678901\"}", "title",
	    "Ensure this field has no more than 50 characters.");
	expect_field_error("{\"color\":\"red\"}", "color", "Color must be in \"#RRGGBB\" format");
	expect_field_error("{\"color\":\"#GGGGGG\"}", "color", "Color must be in \"#RRGGBB\" format");
	expect_field_error("{\"maximum_annotations\":0}", "maximum_annotations",
	    "Ensure this value is greater than or equal to 1.");
	expect_field_error("{\"maximum_annotations\":\"many\"}", "maximum_annotations",
	    "A valid integer is required.");
	expect_field_error("{\"sampling\":\"Random\"}", "sampling", "\"Random\" is not a valid choice.");
	expect_field_error("{\"skip_queue\":\"NEVER\"}", "skip_queue", "\"NEVER\" is not a valid choice.");
	expect_field_error("{\"show_instruction\":\"maybe\"}", "show_instruction", "Must be a valid boolean.");
	expect_field_error("{\"pinned_at\":\"yesterday\"}", "pinned_at",
	    "Datetime has wrong format. Use one of these formats instead: "
	    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
	expect_field_error("{\"control_weights\":[1]}", "control_weights",
	    "Expected a dictionary of items but got type \"list\".");
	expect_field_error("{\"label_config\":null}", "label_config", "This field may not be null.");
	expect_field_error("{\"label_config\":\"<View><Image name=\\\"i\\\"/></View>\"}", "label_config",
	    "Validation failed on View/Image: 'value' is a required property");
	r = http("POST", "/api/projects/", owner, "{\"label_config\":\"<View>\"}", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect(*verr(r, "label_config") != '\0', "%s", r->body);
	cr_expect_eq(jint(r->json, "status_code"), 400);
	resp_free(r);
	r = http("POST", "/api/projects/", owner, "[1]", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(verr(r, "non_field_errors"), "Invalid data. Expected a dictionary, but got list.");
	resp_free(r);
	/* several bad fields are reported together */
	r = http("POST", "/api/projects/", owner, "{\"title\":\"x\",\"color\":\"red\"}", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect(*verr(r, "title") && *verr(r, "color"), "%s", r->body);
	resp_free(r);
}

Test(projects, get_patch_put_delete)
{
	long long id = make_config_project("Edit me");
	char *pw;
	struct resp *r;

	r = call(owner, "PATCH", id, "", "{\"title\":\"Edited\",\"color\":\"#000000\","
	    "\"task_data_password\":\"pw1\",\"pinned_at\":\"2024-05-06T07:08:09Z\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_str_eq(jstr(r->json, "title"), "Edited");
	cr_expect_str_eq(jstr(r->json, "color"), "#000000");
	cr_expect_str_eq(jstr(r->json, "pinned_at"), "2024-05-06T07:08:09.000000Z");
	cr_expect_null(jpath(r->json, "task_data_password"));
	cr_expect_str_eq(jstr(r->json, "parsed_label_config.sentiment.type"), "Choices");
	resp_free(r);
	/* a later PATCH of something else keeps the password and the pin */
	r = call(owner, "PUT", id, "", "{\"description\":\"put works too\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_str_eq(jstr(r->json, "description"), "put works too");
	cr_expect_str_eq(jstr(r->json, "title"), "Edited");
	cr_expect_str_eq(jstr(r->json, "pinned_at"), "2024-05-06T07:08:09.000000Z");
	resp_free(r);
	pw = e2e_sql_out("SELECT task_data_password FROM projects WHERE id = %lld", id);
	cr_expect(strncmp(pw, "pw1", 3) == 0, "%s", pw);
	free(pw);
	r = call(owner, "PATCH", id, "", "{\"pinned_at\":null,\"title\":null}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_null(jpath(r->json, "pinned_at"));
	cr_expect_null(jpath(r->json, "title"));
	resp_free(r);
	r = call(owner, "PATCH", id, "", "{\"color\":\"blue\"}");
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(verr(r, "color"), "Color must be in \"#RRGGBB\" format");
	resp_free(r);
	r = call(owner, "PATCH", id, "", "{\"label_config\":\"<View><Bad\"}");
	cr_expect_eq(r->status, 400);
	cr_expect(*verr(r, "label_config"), "%s", r->body);
	resp_free(r);
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(r->status, 200);
	cr_expect_str_eq(jstr(r->json, "color"), "#000000");
	cr_expect_str_eq(jstr(r->json, "description"), "put works too");
	resp_free(r);

	/* delete cascades to the project's tasks */
	add_task(id, 1, "{\"text\":\"gone\"}");
	r = call(owner, "DELETE", id, "", NULL);
	cr_expect_eq(r->status, 204);
	cr_expect_eq(r->len, 0);
	resp_free(r);
	pw = e2e_sql_out("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", id);
	cr_expect_eq(atoi(pw), 0);
	free(pw);
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(r->status, 404);
	cr_expect_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	r = call(owner, "DELETE", id, "", NULL);
	cr_expect_eq(r->status, 404);
	resp_free(r);
	r = http("GET", "/api/projects/99999999/", owner, NULL, NULL);
	cr_expect_eq(r->status, 404);
	resp_free(r);
	r = http("PATCH", "/api/projects/abc/", owner, "{}", NULL);
	cr_expect_eq(r->status, 404);
	resp_free(r);
}

/* --- the list ------------------------------------------------------------------------------ */

static long long
list_ids(const char *auth, const char *query, long long *ids, int max, long long *count)
{
	char path[512];
	struct resp *r;
	struct json_object *res;
	int n;

	snprintf(path, sizeof(path), "/api/projects/%s", query);
	r = http("GET", path, auth, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status, r->body);
	res = jpath(r->json, "results");
	n = (int)json_object_array_length(res);
	for (int i = 0; i < n && i < max; i++)
		ids[i] = json_object_get_int64(json_object_object_get(json_object_array_get_idx(res, i), "id"));
	if (count)
		*count = jint(r->json, "count");
	resp_free(r);
	return n;
}

Test(projects, list_filters_order_pages)
{
	char name[64], body[512], q[256];
	static char me[256];
	long long a, b, c, ids[200], count;
	struct resp *r;
	int n;

	/* a fresh organization, so the counts are this test's alone */
	snprintf(name, sizeof(name), "prj-list-%s", e2e_unique());
	strcpy(me, e2e_user(name, "List org", NULL));
	a = make_project(me, "{\"title\":\"Alpha cats\",\"description\":\"about felines\"}");
	b = make_project(me, "{\"title\":\"Beta dogs\",\"description\":\"50% off_sale\","
	    "\"pinned_at\":\"2024-01-01T00:00:00Z\"}");
	c = make_project(me, "{\"title\":\"Gamma CATS\"}");

	/* default: pinned first, then newest first */
	n = (int)list_ids(me, "", ids, 200, &count);
	cr_assert_eq(n, 3);
	cr_expect_eq(count, 3);
	cr_expect(ids[0] == b && ids[1] == c && ids[2] == a, "%lld %lld %lld", ids[0], ids[1], ids[2]);

	snprintf(q, sizeof(q), "?ids=%lld,%lld", a, c);
	n = (int)list_ids(me, q, ids, 200, &count);
	cr_expect_eq(n, 2);
	cr_expect_eq(count, 2);
	n = (int)list_ids(me, "?title=cats&ordering=id", ids, 200, NULL);
	cr_expect(n == 2 && ids[0] == a && ids[1] == c);
	n = (int)list_ids(me, "?search=FELINE", ids, 200, NULL);
	cr_expect(n == 1 && ids[0] == a);
	n = (int)list_ids(me, "?search=50%25", ids, 200, NULL);
	cr_expect(n == 1 && ids[0] == b, "LIKE wildcards in the search are literal");
	n = (int)list_ids(me, "?search=a_c", ids, 200, NULL);
	cr_expect_eq(n, 0);
	n = (int)list_ids(me, "?filter=pinned_only", ids, 200, NULL);
	cr_expect(n == 1 && ids[0] == b);
	n = (int)list_ids(me, "?filter=exclude_pinned", ids, 200, NULL);
	cr_expect_eq(n, 2);
	n = (int)list_ids(me, "?ordering=-title", ids, 200, NULL);
	cr_expect(n == 3 && ids[0] == c && ids[2] == a);
	n = (int)list_ids(me, "?ordering=title", ids, 200, NULL);
	cr_expect(n == 3 && ids[0] == a && ids[2] == c);
	n = (int)list_ids(me, "?ordering=-id", ids, 200, NULL);
	cr_expect(n == 3 && ids[0] == c);
	n = (int)list_ids(me, "?ordering=password", ids, 200, NULL);
	cr_expect(n == 3 && ids[0] == b, "an unknown ordering falls back to the default");

	/* pages */
	r = http("GET", "/api/projects/?ordering=id&page_size=2&page=2", me, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_expect_eq(jint(r->json, "count"), 3);
	cr_expect_eq(json_object_array_length(jpath(r->json, "results")), 1);
	cr_expect_eq(jint(r->json, "results.0.id"), c);
	cr_expect_null(jpath(r->json, "next"));
	cr_expect(strstr(jstr(r->json, "previous"), "page_size=2") != NULL, "%s", r->body);
	resp_free(r);
	r = http("GET", "/api/projects/?page_size=2", me, NULL, NULL);
	cr_expect(strstr(jstr(r->json, "next"), "page=2") != NULL, "%s", r->body);
	resp_free(r);
	r = http("GET", "/api/projects/?page=3&page_size=2", me, NULL, NULL);
	cr_expect_eq(r->status, 404);
	cr_expect_str_eq(jstr(r->json, "detail"), "Invalid page.");
	resp_free(r);
	r = http("GET", "/api/projects/?page=0", me, NULL, NULL);
	cr_expect_eq(r->status, 404);
	resp_free(r);
	r = http("GET", "/api/projects/?ids=1,x", me, NULL, NULL);
	cr_expect_eq(r->status, 400);
	cr_expect(*verr(r, "ids"), "%s", r->body);
	resp_free(r);

	/* page_size is capped at 100 */
	for (int i = 0; i < 100; i++) {
		snprintf(body, sizeof(body), "{\"title\":\"Bulk %03d\"}", i);
		make_project(me, body);
	}
	n = (int)list_ids(me, "?page_size=500", ids, 200, &count);
	cr_expect_eq(n, 100);
	cr_expect_eq(count, 103);
	n = (int)list_ids(me, "", ids, 200, NULL);
	cr_expect_eq(n, 30, "the default page is 30");

	/* include: the counters not asked for are null, other fields stay */
	snprintf(q, sizeof(q), "/api/projects/?ids=%lld&include=id,title,task_number", a);
	r = http("GET", q, me, NULL, NULL);
	cr_expect_eq(jint(r->json, "results.0.task_number"), 0);
	cr_expect(json_object_object_get_ex(jpath(r->json, "results.0"), "total_annotations_number", NULL));
	cr_expect_null(jpath(r->json, "results.0.total_annotations_number"));
	cr_expect_str_eq(jstr(r->json, "results.0.title"), "Alpha cats");
	resp_free(r);

	/* the counts share the filters */
	snprintf(q, sizeof(q), "/api/projects/counts/?ids=%lld", b);
	r = http("GET", q, me, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_expect_eq(jint(r->json, "count"), 1);
	cr_expect_eq(jint(r->json, "results.0.id"), b);
	cr_expect_eq(jint(r->json, "results.0.skipped_annotations_number"), 0);
	cr_expect_null(jpath(r->json, "results.0.title"));
	resp_free(r);
}

/* --- counters, summary and the repair tool ------------------------------------------------- */

Test(projects, counters_summary_reset)
{
	long long id = make_config_project("Counted"), t1, t2;
	struct resp *r;
	char *out;

	t1 = add_task(id, 1, "{\"text\":\"one\"}");
	t2 = add_task(id, 2, "{\"text\":\"two\",\"extra\":1}");
	add_annotation(id, t1, CHOICE("Pos"), 0, 0);
	add_annotation(id, t1, CHOICE("Neg"), 0, 1);
	add_annotation(id, t2, "[]", 1, 0);
	add_draft(id, t2, CHOICE("Pos"));
	add_prediction(id, t1, "v1");
	add_prediction(id, t2, "v1");
	add_prediction(id, t2, "v2");
	cr_assert_eq(e2e_sql("UPDATE projects SET data_columns = %s WHERE id = %lld",
	    hex("{\"text\":2,\"extra\":1}"), id), 0);

	/* reads never recount: nothing moved yet */
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(jint(r->json, "task_number"), 0);
	resp_free(r);
	reset(id);
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(jint(r->json, "task_number"), 2);
	cr_expect_eq(jint(r->json, "total_annotations_number"), 2);
	cr_expect_eq(jint(r->json, "skipped_annotations_number"), 1);
	cr_expect_eq(jint(r->json, "ground_truth_number"), 1);
	cr_expect_eq(jint(r->json, "useful_annotation_number"), 1);
	cr_expect_eq(jint(r->json, "num_tasks_with_annotations"), 1);
	cr_expect_eq(jint(r->json, "finished_task_number"), 1);
	cr_expect_eq(jint(r->json, "total_predictions_number"), 3);
	cr_expect_eq(jint(r->json, "queue_total"), 2);
	cr_expect_eq(jint(r->json, "queue_done"), 1);
	resp_free(r);
	out = e2e_sql_out("SELECT total_annotations, cancelled_annotations, ground_truth_annotations, "
	    "total_predictions, is_labeled FROM tasks WHERE id = %lld", t2);
	cr_expect_str_eq(out, "0\t1\t0\t2\t0\n");
	free(out);

	r = call(owner, "GET", id, "summary/", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(jint(r->json, "project"), id);
	cr_expect_eq(jint(r->json, "all_data_columns.text"), 2);
	cr_expect_eq(json_object_array_length(jpath(r->json, "common_data_columns")), 1);
	cr_expect_str_eq(jstr(r->json, "common_data_columns.0"), "text");
	cr_expect_eq(jint(r->json, "created_annotations.sentiment|text|choices"), 2, "%s", r->body);
	cr_expect_eq(jint(r->json, "created_labels.sentiment.Pos"), 1);
	cr_expect_eq(jint(r->json, "created_labels.sentiment.Neg"), 1);
	cr_expect_eq(jint(r->json, "created_labels_drafts.sentiment.Pos"), 1);
	cr_expect_null(jpath(r->json, "created_labels_drafts.sentiment.Neg"));
	resp_free(r);

	/* a second reset gives the same numbers (label_usage is rebuilt, not added to) */
	reset(id);
	r = call(owner, "GET", id, "summary/", NULL);
	cr_expect_eq(jint(r->json, "created_labels.sentiment.Pos"), 1);
	resp_free(r);

	/* counts */
	{
		char q[128];

		snprintf(q, sizeof(q), "/api/projects/counts/?ids=%lld", id);
		r = http("GET", q, owner, NULL, NULL);
		cr_expect_eq(jint(r->json, "results.0.task_number"), 2);
		cr_expect_eq(jint(r->json, "results.0.total_predictions_number"), 3);
		resp_free(r);
	}

	/* maximum_annotations moves every task's overlap and the finished count, in the PATCH */
	r = call(owner, "PATCH", id, "", "{\"maximum_annotations\":2}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(jint(r->json, "finished_task_number"), 1, "t1 has two annotations");
	resp_free(r);
	r = call(owner, "PATCH", id, "", "{\"maximum_annotations\":3}");
	cr_expect_eq(jint(r->json, "finished_task_number"), 0);
	resp_free(r);
	out = e2e_sql_out("SELECT MIN(overlap), MAX(overlap) FROM tasks WHERE project_id = %lld", id);
	cr_expect_str_eq(out, "3\t3\n");
	free(out);
	r = call(owner, "PATCH", id, "", "{\"maximum_annotations\":1,\"skip_queue\":\"IGNORE_SKIPPED\"}");
	cr_expect_eq(jint(r->json, "finished_task_number"), 2, "the skip counts with IGNORE_SKIPPED");
	resp_free(r);
}

Test(projects, model_versions_and_annotators)
{
	long long id = make_config_project("Models"), t1, t2;
	struct resp *r;
	char *out;

	t1 = add_task(id, 1, "{\"text\":\"one\"}");
	t2 = add_task(id, 2, "{\"text\":\"two\"}");
	add_prediction(id, t1, "v1");
	add_prediction(id, t2, "v1");
	add_prediction(id, t2, "v2");
	add_annotation(id, t1, CHOICE("Pos"), 0, 0);
	cr_assert_eq(e2e_sql("UPDATE projects SET model_version = 'v1' WHERE id = %lld", id), 0);
	reset(id);

	r = call(owner, "GET", id, "model-versions/", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(jint(r->json, "v1"), 2);
	cr_expect_eq(jint(r->json, "v2"), 1);
	resp_free(r);
	r = call(owner, "GET", id, "model-versions/?extended=true", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(json_object_is_type(r->json, json_type_array), "%s", r->body);
	cr_expect_eq(json_object_array_length(r->json), 2);
	cr_expect(strstr(jstr(r->json, "0.latest"), "Z") != NULL);
	cr_expect(jint(r->json, "0.count") >= 1);
	resp_free(r);
	r = call(owner, "GET", id, "model-versions/?extended=1&include_live_models=1", NULL);
	cr_expect_eq(json_object_array_length(jpath(r->json, "static")), 2);
	resp_free(r);
	r = call(owner, "GET", id, "model-versions/?extended=perhaps", NULL);
	cr_expect_eq(r->status, 400);
	resp_free(r);

	r = call(owner, "DELETE", id, "model-versions/", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(verr(r, "non_field_errors"), "model_version param is required");
	resp_free(r);
	r = call(owner, "DELETE", id, "model-versions/?model_version=v1", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(jint(r->json, "deleted_predictions"), 2);
	resp_free(r);
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(jint(r->json, "total_predictions_number"), 1, "counters move with the delete");
	cr_expect_null(jpath(r->json, "model_version"), "the deleted version is forgotten");
	resp_free(r);
	out = e2e_sql_out("SELECT total_predictions FROM tasks WHERE id IN (%lld, %lld) ORDER BY id", t1, t2);
	cr_expect_str_eq(out, "0\n1\n");
	free(out);
	r = call(owner, "DELETE", id, "model-versions/?model_version=nope", NULL);
	cr_expect_eq(jint(r->json, "deleted_predictions"), 0);
	resp_free(r);

	r = call(owner, "GET", id, "annotators/", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_expect_eq(json_object_array_length(r->json), 1);
	cr_expect_eq(jint(r->json, "0.id"), owner_id);
	cr_expect(json_object_object_get_ex(json_object_array_get_idx(r->json, 0), "avatar", NULL));
	cr_expect(json_object_object_get_ex(json_object_array_get_idx(r->json, 0), "email", NULL));
	resp_free(r);
}

/* --- label config validation --------------------------------------------------------------- */

Test(projects, validate_without_project)
{
	struct resp *r;

	r = http("POST", "/api/projects/validate/", NULL, "{\"label_config\":\"" CONFIG "\"}", NULL);
	cr_expect_eq(r->status, 204, "%s", r->body);
	cr_expect_eq(r->len, 0);
	resp_free(r);
	r = http("POST", "/api/projects/validate", NULL, "{\"label_config\":\"<View><Choices "
	    "name=\\\"c\\\"/></View>\"}", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect_null(jpath(r->json, "status_code"), "the plain DRF shape, not the envelope: %s", r->body);
	cr_expect_str_eq(jstr(r->json, "label_config.0"),
	    "Validation failed on View/Choices: 'toName' is a required property", "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/projects/validate/", NULL, "{}", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(jstr(r->json, "label_config.0"), "This field is required.");
	resp_free(r);
	r = http("POST", "/api/projects/validate/", NULL, "{\"label_config\":\"  \"}", NULL);
	cr_expect_str_eq(jstr(r->json, "label_config.0"), "This field may not be blank.");
	resp_free(r);
	r = http("POST", "/api/projects/validate/", NULL, "{\"label_config\":\"<View><a></b></View>\"}", NULL);
	cr_expect_eq(r->status, 400);
	cr_expect(*jstr(r->json, "label_config.0"), "%s", r->body);
	resp_free(r);
}

#define CONFIG_NO_POS \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Neg\\\"/></Choices></View>"
#define CONFIG_MORE \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/>" \
	"<Choice value=\\\"Neg\\\"/><Choice value=\\\"Meh\\\"/></Choices>" \
	"<TextArea name=\\\"note\\\" toName=\\\"text\\\"/></View>"
#define CONFIG_OTHER \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"mood\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/></Choices></View>"

Test(projects, validate_against_annotations)
{
	long long id = make_config_project("Checked"), t;
	struct resp *r;

	/* nothing annotated: anything valid passes */
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG_OTHER "\"}");
	cr_expect_eq(r->status, 200, "%s", r->body);
	cr_expect(json_object_get_boolean(jpath(r->json, "config_essential_data_has_changed")));
	resp_free(r);

	t = add_task(id, 1, "{\"text\":\"one\"}");
	add_annotation(id, t, CHOICE("Pos"), 0, 0);
	add_annotation(id, t, CHOICE("Pos"), 0, 0);
	add_draft(id, t, CHOICE("Pos"));
	reset(id);

	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG "\"}");
	cr_expect_eq(r->status, 200, "%s", r->body);
	cr_expect(json_object_object_get_ex(r->json, "config_essential_data_has_changed", NULL));
	cr_expect_null(jpath(r->json, "config_essential_data_has_changed"), "null, not false");
	resp_free(r);
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG_MORE "\"}");
	cr_expect_eq(r->status, 200, "%s", r->body);
	cr_expect(json_object_get_boolean(jpath(r->json, "config_essential_data_has_changed")));
	resp_free(r);
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG_NO_POS "\"}");
	cr_expect_eq(r->status, 400, "%s", r->body);
	cr_expect_str_eq(verr(r, "non_field_errors"), "These labels still exist in annotations or "
	    "drafts:\nPos (2 annotations, 1 draft)\nPlease add labels to tag with name=\"sentiment\".");
	resp_free(r);
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG_OTHER "\"}");
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(verr(r, "non_field_errors"), "Created annotations are incompatible with "
	    "provided labeling schema, we found:\n2 with from_name=sentiment, to_name=text, type=choices");
	resp_free(r);
	r = call(owner, "POST", id, "validate/", "{}");
	cr_expect_eq(r->status, 400);
	cr_expect_str_eq(verr(r, "non_field_errors"), "Label config is not set or is empty");
	resp_free(r);
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"<View\"}");
	cr_expect_eq(r->status, 400);
	cr_expect(*verr(r, "label_config"), "%s", r->body);
	resp_free(r);

	/* PATCH checks non-strictly: a dropped label is saved; a dropped control is not */
	r = call(owner, "PATCH", id, "", "{\"label_config\":\"" CONFIG_OTHER "\"}");
	cr_expect_eq(r->status, 400);
	cr_expect(strstr(verr(r, "label_config"), "incompatible") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "PATCH", id, "", "{\"label_config\":\"" CONFIG_NO_POS "\"}");
	cr_expect_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(json_object_array_length(jpath(r->json, "parsed_label_config.sentiment.labels")), 1);
	cr_expect_null(jpath(r->json, "control_weights.sentiment.labels.Pos"), "weights follow the config");
	resp_free(r);
}

Test(projects, removed_control_with_draft_labels)
{
	long long id = make_config_project("Drafted"), t;
	struct resp *r;

	t = add_task(id, 1, "{\"text\":\"one\"}");
	add_draft(id, t, CHOICE("Neg"));
	reset(id);
	r = call(owner, "POST", id, "validate/", "{\"label_config\":\"" CONFIG_OTHER "\"}");
	cr_expect_eq(r->status, 400, "%s", r->body);
	cr_expect_str_eq(verr(r, "non_field_errors"),
	    "There are 1 annotation(s) created with tag \"sentiment\", you can't remove it");
	resp_free(r);
}

Test(projects, sample_task)
{
	long long id = make_config_project("Sampled");
	struct resp *r;

	r = call(owner, "POST", id, "sample-task/", "{}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect_eq(jint(r->json, "sample_task.id"), 1);
	cr_expect(jpath(r->json, "sample_task.data.text") != NULL, "%s", r->body);
	cr_expect_eq(json_object_array_length(jpath(r->json, "sample_task.annotations")), 0);
	resp_free(r);
	r = call(owner, "POST", id, "sample-task/", "{\"label_config\":\"<View><Image name=\\\"img\\\" "
	    "value=\\\"$image\\\"/></View>\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_expect(jpath(r->json, "sample_task.data.image") != NULL, "%s", r->body);
	resp_free(r);
	r = call(owner, "POST", id, "sample-task/", "{\"label_config\":\"<View>\"}");
	cr_expect_eq(r->status, 400);
	resp_free(r);
}

/* --- isolation ------------------------------------------------------------------------------- */

static char *
checksum(void)
{
	return e2e_sql_out("CHECKSUM TABLE projects, tasks, predictions, label_usage");
}

Test(projects, other_organization_is_not_found)
{
	static const struct {
		const char *method, *tail, *body;
	} routes[] = {
		{ "GET", "", NULL }, { "PATCH", "", "{\"title\":\"Mine now\"}" },
		{ "PUT", "", "{\"title\":\"Mine now\"}" }, { "DELETE", "", NULL },
		{ "POST", "validate/", "{\"label_config\":\"<View></View>\"}" },
		{ "GET", "summary/", NULL }, { "POST", "summary/reset/", NULL },
		{ "POST", "sample-task/", "{}" }, { "GET", "model-versions/", NULL },
		{ "DELETE", "model-versions/?model_version=v1", NULL }, { "GET", "annotators/", NULL },
	};
	long long id = make_config_project("Private"), t, ids[10], count;
	char *before, *after, q[64];
	struct resp *r;

	t = add_task(id, 1, "{\"text\":\"secret\"}");
	add_prediction(id, t, "v1");
	add_annotation(id, t, CHOICE("Pos"), 0, 0);
	reset(id);
	before = checksum();
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		r = call(stranger, routes[i].method, id, routes[i].tail, routes[i].body);
		cr_expect_eq(r->status, 404, "%s %s: %ld %s", routes[i].method, routes[i].tail, r->status,
		    r->body);
		cr_expect_str_eq(jstr(r->json, "detail"), "Not found.");
		cr_expect(strstr(r->body, "secret") == NULL && strstr(r->body, "Private") == NULL);
		resp_free(r);
	}
	after = checksum();
	cr_expect_str_eq(before, after, "a stranger changed something");
	free(before);
	free(after);
	snprintf(q, sizeof(q), "?ids=%lld", id);
	cr_expect_eq(list_ids(stranger, q, ids, 10, &count), 0);
	cr_expect_eq(count, 0);
	r = http("GET", "/api/projects/counts/", stranger, NULL, NULL);
	for (size_t i = 0; i < json_object_array_length(jpath(r->json, "results")); i++)
		cr_expect_neq(json_object_get_int64(json_object_object_get(
		    json_object_array_get_idx(jpath(r->json, "results"), i), "id")), id);
	resp_free(r);
	r = call(owner, "GET", id, "", NULL);
	cr_expect_eq(r->status, 200);
	cr_expect_str_eq(jstr(r->json, "title"), "Private");
	resp_free(r);
	/* no auth at all */
	r = call(NULL, "GET", id, "", NULL);
	cr_expect_eq(r->status, 401);
	resp_free(r);
}
