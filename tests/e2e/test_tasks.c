/* Tasks: the Data Manager list (totals, pages, include, fields=all), the project's simple list,
 * one task's create/get/patch/delete with the counters they move, deleting every task, the
 * labeling stream (sampling, locks, overlap, skip queues), and isolation between organizations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/>" \
	"<Choice value=\\\"Neg\\\"/></Choices></View>"
#define RESULT \
	"[{\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\"," \
	"\"value\":{\"choices\":[\"Pos\"]}}]"

static char owner[256], stranger[256];
static long long owner_id, stranger_id;

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "tsk-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Tasks org", &owner_id));
	snprintf(name, sizeof(name), "tsk-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Tasks stranger org", &stranger_id));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(tasks, .init = setup, .timeout = 120);

/* --- helpers ----------------------------------------------------------------------------- */

static long long
make_project(const char *extra)
{
	char body[2048];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"tasks %s\",\"label_config\":\"%s\"%s}", e2e_unique(),
	    CONFIG, extra ? extra : "");
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

/* Imports n tasks "t0".."t<n-1>"; the first `annotated` carry one annotation. */
static void
add_tasks(long long pid, int n, int annotated)
{
	char *body = malloc(200 * (size_t)n + 16), path[128];
	size_t len = 0;
	struct resp *r;

	len += (size_t)sprintf(body + len, "[");
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "%s{\"data\":{\"text\":\"t%d\"}%s}", i ? "," : "", i,
		    i < annotated ? ",\"annotations\":[{\"result\":" RESULT ",\"ground_truth\":false}]" : "");
	sprintf(body + len, "]");
	snprintf(path, sizeof(path), "/api/projects/%lld/import", pid);
	r = http("POST", path, owner, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
}

static long long
sql_int(const char *fmt, long long a)
{
	char q[512], *out;
	long long v;

	snprintf(q, sizeof(q), fmt, a);
	out = e2e_sql_out("%s", q);
	v = atoll(out);
	free(out);
	return v;
}

static struct resp *
getf(const char *auth, const char *fmt, long long a, long long b)
{
	char path[256];

	snprintf(path, sizeof(path), fmt, a, b);
	return http("GET", path, auth, NULL, NULL);
}

static long long
first_task(long long pid)
{
	return sql_int("SELECT MIN(id) FROM tasks WHERE project_id = %lld", pid);
}

/* A member of the owner's organization with its own token (copied into auth). */
static long long
add_member(char *auth)
{
	char body[512], uname[64];
	struct resp *r;
	long long id;

	snprintf(uname, sizeof(uname), "tsk-member-%s-%d", e2e_unique(), rand());
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\","
	    "\"password\":\"correct horse\"}", uname, uname);
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	strcpy(auth, e2e_user(uname, NULL, &id));
	cr_assert(auth[0]);
	return id;
}

/* --- GET /api/tasks/ ------------------------------------------------------------------------- */

Test(tasks, list_shape_and_totals)
{
	long long pid = make_project(NULL);
	struct resp *r;
	struct json_object *t;
	const char *keys[] = { "id", "data", "meta", "created_at", "updated_at", "updated_by", "inner_id",
		"is_labeled", "overlap", "allow_skip", "total_annotations", "cancelled_annotations",
		"total_predictions", "completed_at", "annotations_results", "predictions_results",
		"predictions_score", "predictions_model_versions", "file_upload", "storage_filename",
		"annotations_ids", "avg_lead_time", "draft_exists", "annotators", "comment_count",
		"unresolved_comment_count", "last_comment_updated_at", "comment_authors", "project" };

	add_tasks(pid, 5, 2);
	r = getf(owner, "/api/tasks/?project=%lld", pid, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "total"), 5);
	cr_assert_eq(jint(r->json, "total_annotations"), 2);
	cr_assert_eq(jint(r->json, "total_predictions"), 0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 5);
	t = jpath(r->json, "tasks.0");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(json_object_object_get_ex(t, keys[i], NULL), "missing %s", keys[i]);
	cr_assert_str_eq(jstr(t, "data.text"), "t0");
	cr_assert_eq(jint(t, "inner_id"), 1);
	cr_assert_eq(jint(t, "project"), pid);
	cr_assert(json_object_get_boolean(jpath(t, "is_labeled")));
	cr_assert(json_object_get_boolean(jpath(t, "allow_skip")));
	cr_assert_null(jpath(t, "annotations"));
	/* ordered by id */
	cr_assert_lt(jint(r->json, "tasks.0.id"), jint(r->json, "tasks.4.id"));
	resp_free(r);
}

Test(tasks, list_pages)
{
	long long pid = make_project(NULL);
	struct resp *r;

	add_tasks(pid, 7, 0);
	r = getf(owner, "/api/tasks/?project=%lld&page=2&page_size=3", pid, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 3);
	cr_assert_str_eq(jstr(r->json, "tasks.0.data.text"), "t3");
	cr_assert_eq(jint(r->json, "total"), 7);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&page=3&page_size=3", pid, 0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 1);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&page=4&page_size=3", pid, 0);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Invalid page.");
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&page=0", pid, 0);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	/* the cap: a huge page_size is served as 10000 */
	r = getf(owner, "/api/tasks/?project=%lld&page_size=999999", pid, 0);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 7);
	resp_free(r);
	/* after a deletion (a gap in inner ids) pages still partition the tasks in id order */
	char path[128];
	snprintf(path, sizeof(path), "/api/tasks/%lld/", first_task(pid) + 1);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&page=2&page_size=3", pid, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 3);
	cr_assert_str_eq(jstr(r->json, "tasks.0.data.text"), "t4");
	cr_assert_str_eq(jstr(r->json, "tasks.2.data.text"), "t6");
	cr_assert_eq(jint(r->json, "total"), 6);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&page=3&page_size=3", pid, 0);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	/* an empty project: page 1 is an empty list */
	long long empty = make_project(NULL);
	r = getf(owner, "/api/tasks/?project=%lld", empty, 0);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks")), 0);
	cr_assert_eq(jint(r->json, "total"), 0);
	resp_free(r);
}

/* Every page of every size, concatenated, is the remaining tasks in id order. */
static void
expect_pages(long long pid, const int *alive, int n)
{
	for (int size = 1; size <= 7; size += 2) {
		int want = 0, page = 1;

		for (;;) {
			char path[160];
			struct resp *r;
			size_t got;

			snprintf(path, sizeof(path), "/api/tasks/?project=%lld&page=%d&page_size=%d", pid, page, size);
			r = http("GET", path, owner, NULL, NULL);
			if (r->status == 404) {
				resp_free(r);
				break;
			}
			cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
			got = json_object_array_length(jpath(r->json, "tasks"));
			for (size_t i = 0; i < got; i++) {
				char key[64], text[24];

				while (want < n && !alive[want])
					want++;
				cr_assert_lt(want, n, "%s: more tasks than remain", path);
				snprintf(key, sizeof(key), "tasks.%zu.data.text", i);
				snprintf(text, sizeof(text), "t%d", want);
				cr_assert_str_eq(jstr(r->json, key), text, "%s, item %zu", path, i);
				want++;
			}
			resp_free(r);
			page++;
		}
		while (want < n && !alive[want])
			want++;
		cr_assert_eq(want, n, "page size %d: pages ended before task t%d", size, want);
	}
}

Test(tasks, list_pages_after_deletions)
{
	long long pid = make_project(NULL), first;
	int alive[20], gone[] = { 0, 4, 5, 6, 11, 19 };
	struct resp *r;
	char path[128];

	add_tasks(pid, 20, 0);
	first = first_task(pid);
	for (int i = 0; i < 20; i++)
		alive[i] = 1;
	expect_pages(pid, alive, 20);
	for (size_t k = 0; k < sizeof(gone) / sizeof(gone[0]); k++) {
		snprintf(path, sizeof(path), "/api/tasks/%lld/", first + gone[k]);
		r = http("DELETE", path, owner, NULL, NULL);
		cr_assert_eq(r->status, 204, "%s", r->body);
		resp_free(r);
		alive[gone[k]] = 0;
		expect_pages(pid, alive, 20);
	}
	/* a task_gaps table that disagrees with the counters is not trusted: OFFSET answers */
	cr_assert_eq(e2e_sql("DELETE FROM task_gaps WHERE project_id = %lld LIMIT 1", pid), 0);
	expect_pages(pid, alive, 20);
	/* deleting every task numbers inner ids from 1 again */
	snprintf(path, sizeof(path), "/api/projects/%lld/tasks/", pid);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	add_tasks(pid, 3, 0);
	cr_assert_eq(sql_int("SELECT MIN(inner_id) FROM tasks WHERE project_id = %lld", pid), 1);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM task_gaps WHERE project_id = %lld", pid), 0);
	for (int i = 0; i < 3; i++)
		alive[i] = 1;
	expect_pages(pid, alive, 3);
}

Test(tasks, list_include_and_fields_all)
{
	long long pid = make_project(NULL);
	struct resp *r;
	struct json_object *t;

	add_tasks(pid, 3, 1);
	r = getf(owner, "/api/tasks/?project=%lld&include=id", pid, 0);
	cr_assert_eq(r->status, 200);
	t = jpath(r->json, "tasks.0");
	cr_assert_eq(json_object_object_length(t), 1);
	cr_assert(jint(t, "id") > 0);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&include=id,is_labeled,total_annotations", pid, 0);
	t = jpath(r->json, "tasks.0");
	cr_assert_eq(json_object_object_length(t), 3);
	cr_assert_null(jpath(t, "data"));
	cr_assert_eq(jint(t, "total_annotations"), 1);
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&include=id,data", pid, 0);
	cr_assert_str_eq(jstr(r->json, "tasks.1.data.text"), "t1");
	resp_free(r);
	r = getf(owner, "/api/tasks/?project=%lld&fields=all", pid, 0);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks.0.annotations")), 1);
	cr_assert_eq(jint(r->json, "tasks.0.annotations.0.completed_by.id"), owner_id);
	cr_assert_str_eq(jstr(r->json, "tasks.0.annotations.0.result.0.from_name"), "sentiment");
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks.1.annotations")), 0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks.0.predictions")), 0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "tasks.0.drafts")), 0);
	resp_free(r);
	/* query= is accepted (and ignored for now) */
	r = getf(owner, "/api/tasks/?project=%lld&query=%%7B%%7D", pid, 0);
	cr_assert_eq(r->status, 200);
	resp_free(r);
}

Test(tasks, list_errors_and_scope)
{
	long long pid = make_project(NULL);
	struct resp *r;

	add_tasks(pid, 1, 0);
	r = http("GET", "/api/tasks/", owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Neither project nor view id specified");
	cr_assert(jpath(r->json, "status_code") != NULL);
	resp_free(r);
	r = http("GET", "/api/tasks/?view=3", owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("GET", "/api/tasks/?project=abc", owner, NULL, NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(jpath(r->json, "validation_errors.project") != NULL);
	resp_free(r);
	r = getf(stranger, "/api/tasks/?project=%lld", pid, 0);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	r = http("GET", "/api/tasks/?project=999999999", owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

/* --- /api/projects/{id}/tasks/ --------------------------------------------------------------- */

Test(tasks, project_list)
{
	long long pid = make_project(NULL), t0;
	struct resp *r;
	char path[128];

	r = getf(owner, "/api/projects/%lld/tasks/", pid, 0);
	cr_assert_eq(r->status, 404, "no tasks yet: %s", r->body);
	resp_free(r);
	add_tasks(pid, 4, 1);
	t0 = first_task(pid);
	/* the most recently updated first */
	snprintf(path, sizeof(path), "/api/tasks/%lld/", t0 + 2);
	r = http("PATCH", path, owner, "{\"meta\":{\"touched\":true}}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	r = getf(owner, "/api/projects/%lld/tasks/", pid, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_assert_eq(json_object_array_length(r->json), 4);
	cr_assert_eq(jint(r->json, "0.id"), t0 + 2);
	cr_assert(json_object_object_get_ex(jpath(r->json, "0"), "annotations", NULL));
	cr_assert_eq(jint(r->json, "0.updated_by"), owner_id);
	resp_free(r);
	r = getf(owner, "/api/projects/%lld/tasks/?page_size=3&page=2", pid, 0);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 1);
	resp_free(r);
	r = getf(owner, "/api/projects/%lld/tasks/?page_size=3&page=3", pid, 0);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = getf(owner, "/api/projects/%lld/tasks/?page_size=-1", pid, 0);
	cr_assert_eq(json_object_array_length(r->json), 4);
	resp_free(r);
	/* the annotated task carries its annotation, completed_by as an id */
	for (int i = 0; i < 4; i++) {
		char key[32];

		snprintf(key, sizeof(key), "%d.id", i);
		r = getf(owner, "/api/projects/%lld/tasks/", pid, 0);
		if (jint(r->json, key) == t0) {
			snprintf(key, sizeof(key), "%d.annotations.0.completed_by", i);
			cr_assert_eq(jint(r->json, key), owner_id);
		}
		resp_free(r);
	}
	r = getf(stranger, "/api/projects/%lld/tasks/", pid, 0);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

Test(tasks, delete_all)
{
	long long pid = make_project(NULL);
	struct resp *r;
	char path[128];

	add_tasks(pid, 3, 2);
	snprintf(path, sizeof(path), "/api/projects/%lld/tasks/", pid);
	r = http("DELETE", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 3);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM annotations WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT task_number + total_annotations_number + finished_task_number "
	    "FROM projects WHERE id = %lld", pid), 0);
}

/* --- one task -------------------------------------------------------------------------------- */

Test(tasks, create_both_routes)
{
	long long pid = make_project(NULL), other = make_project(NULL);
	char body[256], path[128];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"hello\"},\"meta\":{\"k\":1}}", pid);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "data.text"), "hello");
	cr_assert_eq(jint(r->json, "meta.k"), 1);
	cr_assert_eq(jint(r->json, "inner_id"), 1);
	cr_assert_eq(jint(r->json, "project"), pid);
	cr_assert(!json_object_get_boolean(jpath(r->json, "is_labeled")));
	cr_assert_eq(json_object_array_length(jpath(r->json, "annotations")), 0);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/tasks/", pid);
	r = http("POST", path, owner, "{\"data\":{\"text\":\"again\"}}", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "inner_id"), 2);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 2);
	char *dc = e2e_sql_out("SELECT data_columns FROM projects WHERE id = %lld", pid);
	cr_assert(strstr(dc, "\"text\":2") != NULL, "%s", dc);
	free(dc);
	/* inner ids are per project */
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"x\"}}", other);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(jint(r->json, "inner_id"), 1);
	resp_free(r);
}

Test(tasks, create_errors)
{
	long long pid = make_project(NULL);
	char body[256], path[128];
	struct resp *r;

	r = http("POST", "/api/tasks/", owner, "{\"data\":{\"text\":\"a\"}}", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.project.0"), "This field is required.");
	resp_free(r);
	r = http("POST", "/api/tasks/", owner, "{\"project\":\"x\",\"data\":{\"text\":\"a\"}}", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	snprintf(body, sizeof(body), "{\"project\":%lld}", pid);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.data.0"), "This field is required.");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":[1]}", pid);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.data.0"), "Expected a dictionary of items but got type \"list\".");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"txt\":\"a\"}}", pid);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(strstr(jstr(r->json, "validation_errors.data.0"), "\"text\" key is expected") != NULL);
	resp_free(r);
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"a\"},\"meta\":3}", pid);
	r = http("POST", "/api/tasks/", owner, body, NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(jpath(r->json, "validation_errors.meta") != NULL);
	resp_free(r);
	r = http("POST", "/api/tasks/", owner, "[1]", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	/* another organization's project */
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"a\"}}", pid);
	r = http("POST", "/api/tasks/", stranger, body, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/tasks/", pid);
	r = http("POST", path, stranger, "{\"data\":{\"text\":\"a\"}}", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 0);
}

Test(tasks, get_one)
{
	long long pid = make_project(NULL), t0;
	struct resp *r;
	char path[128], body[512];

	add_tasks(pid, 2, 1);
	t0 = first_task(pid);
	snprintf(body, sizeof(body), "INSERT INTO predictions (task_id, project_id, result, score, model_version) "
	    "VALUES (%lld, %lld, '[]', 0.5, 'm1')", t0, pid);
	cr_assert_eq(e2e_sql("%s", body), 0);
	snprintf(body, sizeof(body), "INSERT INTO drafts (task_id, project_id, user_id, result) "
	    "VALUES (%lld, %lld, %lld, '[]')", t0, pid, owner_id);
	cr_assert_eq(e2e_sql("%s", body), 0);
	r = getf(owner, "/api/tasks/%lld/", t0, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "id"), t0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "annotations")), 1);
	cr_assert_eq(jint(r->json, "annotations.0.completed_by.id"), owner_id);
	cr_assert(json_object_object_get_ex(jpath(r->json, "annotations.0.completed_by"), "initials", NULL));
	cr_assert(json_object_object_get_ex(jpath(r->json, "annotations.0.completed_by"), "email", NULL));
	cr_assert(json_object_object_get_ex(jpath(r->json, "annotations.0"), "created_ago", NULL));
	cr_assert_str_eq(jstr(r->json, "annotations.0.last_action"), "imported");
	cr_assert_eq(json_object_array_length(jpath(r->json, "predictions")), 1);
	cr_assert_str_eq(jstr(r->json, "predictions.0.model_version"), "m1");
	cr_assert_eq(json_object_array_length(jpath(r->json, "drafts")), 1);
	cr_assert(json_object_get_boolean(jpath(r->json, "draft_exists")));
	cr_assert_eq(jint(r->json, "annotators.0"), owner_id);
	cr_assert_str_eq(jstr(r->json, "completed_at"), jstr(r->json, "annotations.0.created_at"));
	resp_free(r);
	r = getf(owner, "/api/tasks/%lld/", t0 + 1, 0);
	cr_assert_eq(json_object_array_length(jpath(r->json, "annotations")), 0);
	cr_assert(json_object_is_type(jpath(r->json, "completed_at"), json_type_null));
	resp_free(r);
	r = getf(stranger, "/api/tasks/%lld/", t0, 0);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	r = http("GET", "/api/tasks/999999999/", owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/tasks/abc/");
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

Test(tasks, patch)
{
	long long pid = make_project(NULL), t0;
	struct resp *r;
	char path[128];

	add_tasks(pid, 2, 0);
	t0 = first_task(pid);
	snprintf(path, sizeof(path), "/api/tasks/%lld/", t0);
	r = http("PATCH", path, owner, "{\"data\":{\"text\":\"new\",\"extra\":1},\"meta\":{\"m\":2}}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "data.text"), "new");
	cr_assert_eq(jint(r->json, "meta.m"), 2);
	cr_assert_eq(jint(r->json, "updated_by"), owner_id);
	resp_free(r);
	char *dc = e2e_sql_out("SELECT data_columns FROM projects WHERE id = %lld", pid);
	cr_assert(strstr(dc, "\"extra\":1") != NULL && strstr(dc, "\"text\":2") != NULL, "%s", dc);
	free(dc);
	r = http("PUT", path, owner, "{\"is_labeled\":true}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_get_boolean(jpath(r->json, "is_labeled")));
	cr_assert_str_eq(jstr(r->json, "data.text"), "new");
	resp_free(r);
	cr_assert_eq(sql_int("SELECT finished_task_number FROM projects WHERE id = %lld", pid), 1);
	/* errors change nothing */
	r = http("PATCH", path, owner, "{\"data\":{\"txt\":1}}", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	r = http("PATCH", path, owner, "{\"data\":\"x\"}", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	r = http("PATCH", path, owner, "{\"is_labeled\":\"yes\"}", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert(jpath(r->json, "validation_errors.is_labeled") != NULL);
	resp_free(r);
	r = http("PATCH", path, stranger, "{\"data\":{\"text\":\"stolen\"}}", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = getf(owner, "/api/tasks/%lld/", t0, 0);
	cr_assert_str_eq(jstr(r->json, "data.text"), "new");
	resp_free(r);
}

Test(tasks, delete_one)
{
	long long pid = make_project(NULL), t0;
	struct resp *r;
	char path[128];

	add_tasks(pid, 3, 2);
	t0 = first_task(pid);
	snprintf(path, sizeof(path), "/api/tasks/%lld/", t0);
	r = http("DELETE", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE id = %lld", t0), 1);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = getf(owner, "/api/tasks/%lld/", t0, 0);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	char q[512];
	snprintf(q, sizeof(q), "SELECT CONCAT_WS(',', task_number, total_annotations_number, "
	    "num_tasks_with_annotations, finished_task_number) FROM projects WHERE id = %lld", pid);
	char *c = e2e_sql_out("%s", q);
	cr_assert(strncmp(c, "2,1,1,1", 7) == 0, "%s", c);
	free(c);
	char *dc = e2e_sql_out("SELECT data_columns FROM projects WHERE id = %lld", pid);
	cr_assert(strstr(dc, "\"text\":2") != NULL, "%s", dc);
	free(dc);
}

/* --- the labeling stream --------------------------------------------------------------------- */

static long long
next_id(const char *auth, long long pid, char *queue, size_t qsz)
{
	struct resp *r = getf(auth, "/api/projects/%lld/next/", pid, 0);
	long long id = r->status == 200 ? jint(r->json, "id") : -r->status;

	if (queue != NULL)
		snprintf(queue, qsz, "%s", r->status == 200 ? jstr(r->json, "queue") : jstr(r->json, "detail"));
	resp_free(r);
	return id;
}

static void
annotate(const char *auth, long long task, int skip)
{
	char body[512];
	long long uid;
	struct resp *r = http("GET", "/api/current-user/whoami", auth, NULL, NULL);

	uid = jint(r->json, "id");
	resp_free(r);
	/* written straight to the database (annotations are another module's); counters as stats.c */
	snprintf(body, sizeof(body), "INSERT INTO annotations (task_id, project_id, completed_by, result, "
	    "was_cancelled) SELECT id, project_id, %lld, '[]', %d FROM tasks WHERE id = %lld", uid, skip, task);
	cr_assert_eq(e2e_sql("%s", body), 0);
	snprintf(body, sizeof(body), "UPDATE tasks t JOIN projects p ON p.id = t.project_id SET "
	    "t.total_annotations = t.total_annotations + %d, t.cancelled_annotations = "
	    "t.cancelled_annotations + %d, t.is_labeled = (t.total_annotations + IF(p.skip_queue = "
	    "'IGNORE_SKIPPED', t.cancelled_annotations, 0) >= t.overlap) WHERE t.id = %lld", !skip, skip, task);
	cr_assert_eq(e2e_sql("%s", body), 0);
	snprintf(body, sizeof(body), "DELETE FROM task_locks WHERE task_id = %lld AND user_id = %lld", task, uid);
	cr_assert_eq(e2e_sql("%s", body), 0);
}

Test(tasks, next_sequential_with_locks)
{
	long long pid = make_project(NULL), t0, a, b;
	char queue[512], ann2[256];

	add_tasks(pid, 3, 0);
	t0 = first_task(pid);
	add_member(ann2);
	a = next_id(owner, pid, queue, sizeof(queue));
	cr_assert_eq(a, t0);
	cr_assert_str_eq(queue, "Sequence queue");
	/* asking again gives the task the caller holds */
	cr_assert_eq(next_id(owner, pid, queue, sizeof(queue)), t0);
	cr_assert_str_eq(queue, "Task lock");
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM task_locks WHERE task_id = %lld AND expire_at > UTC_TIMESTAMP()", t0), 1);
	/* another annotator does not get a locked task (overlap 1) */
	b = next_id(ann2, pid, NULL, 0);
	cr_assert_eq(b, t0 + 1);
	/* once the owner annotates, they move on */
	annotate(owner, t0, 0);
	cr_assert_eq(next_id(owner, pid, NULL, 0), t0 + 2);
	/* expired locks are ignored */
	cr_assert_eq(e2e_sql("UPDATE task_locks SET expire_at = UTC_TIMESTAMP() - INTERVAL 1 MINUTE "
	    "WHERE project_id = %lld", pid), 0);
	cr_assert_eq(next_id(ann2, pid, NULL, 0), t0 + 1);
	annotate(ann2, t0 + 1, 0);
	annotate(owner, t0 + 2, 0);
	/* nothing left */
	cr_assert_eq(next_id(owner, pid, queue, sizeof(queue)), -404);
	cr_assert(strstr(queue, "There are still some tasks to complete for the user=") == queue, "%s", queue);
	cr_assert(strstr(queue, "but they seem to be locked by another user.") != NULL, "%s", queue);
}

Test(tasks, next_shape_and_scope)
{
	long long pid = make_project(NULL);
	struct resp *r;

	add_tasks(pid, 1, 0);
	r = getf(owner, "/api/projects/%lld/next/", pid, 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_object_get_ex(r->json, "annotations", NULL));
	cr_assert(json_object_object_get_ex(r->json, "predictions", NULL));
	cr_assert(json_object_object_get_ex(r->json, "drafts", NULL));
	cr_assert_str_eq(jstr(r->json, "data.text"), "t0");
	resp_free(r);
	r = getf(stranger, "/api/projects/%lld/next/", pid, 0);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM task_locks WHERE project_id = %lld", pid), 1);
}

Test(tasks, next_overlap)
{
	long long pid = make_project(",\"maximum_annotations\":2"), t0;
	char ann2[256], ann3[256];

	add_tasks(pid, 2, 0);
	t0 = first_task(pid);
	cr_assert_eq(sql_int("SELECT overlap FROM tasks WHERE id = %lld", t0), 2);
	add_member(ann2);
	add_member(ann3);
	/* two annotators may hold the same task when it needs two annotations */
	cr_assert_eq(next_id(owner, pid, NULL, 0), t0);
	cr_assert_eq(next_id(ann2, pid, NULL, 0), t0);
	cr_assert_eq(next_id(ann3, pid, NULL, 0), t0 + 1);
	annotate(owner, t0, 0);
	annotate(ann2, t0, 0);
	cr_assert_eq(sql_int("SELECT is_labeled FROM tasks WHERE id = %lld", t0), 1);
	cr_assert_eq(next_id(owner, pid, NULL, 0), t0 + 1);
}

Test(tasks, next_skip_queues)
{
	long long pid = make_project(",\"skip_queue\":\"REQUEUE_FOR_ME\""), t0;
	long long pid2 = make_project(",\"skip_queue\":\"REQUEUE_FOR_OTHERS\""), u0;
	long long pid3 = make_project(",\"skip_queue\":\"IGNORE_SKIPPED\""), v0;
	char queue[256], ann2[256];

	add_member(ann2);
	add_tasks(pid, 2, 0);
	t0 = first_task(pid);
	cr_assert_eq(next_id(owner, pid, NULL, 0), t0);
	annotate(owner, t0, 1);                         /* skipped */
	cr_assert_eq(next_id(owner, pid, NULL, 0), t0 + 1);
	annotate(owner, t0 + 1, 0);
	cr_assert_eq(next_id(owner, pid, queue, sizeof(queue)), t0);    /* comes back last */
	cr_assert_str_eq(queue, "Skipped queue");

	add_tasks(pid2, 1, 0);
	u0 = first_task(pid2);
	cr_assert_eq(next_id(owner, pid2, NULL, 0), u0);
	annotate(owner, u0, 1);
	cr_assert_eq(next_id(owner, pid2, NULL, 0), -404);              /* not back to the skipper */
	cr_assert_eq(next_id(ann2, pid2, NULL, 0), u0);                 /* but to others */

	add_tasks(pid3, 1, 0);
	v0 = first_task(pid3);
	cr_assert_eq(next_id(owner, pid3, NULL, 0), v0);
	annotate(owner, v0, 1);
	cr_assert_eq(sql_int("SELECT is_labeled FROM tasks WHERE id = %lld", v0), 1);
	cr_assert_eq(next_id(ann2, pid3, NULL, 0), -404);               /* a skip counts as done */
}

Test(tasks, next_uniform)
{
	long long pid = make_project(",\"sampling\":\"Uniform sampling\""), t0, got;
	char queue[256];

	add_tasks(pid, 5, 0);
	t0 = first_task(pid);
	got = next_id(owner, pid, queue, sizeof(queue));
	cr_assert(got >= t0 && got < t0 + 5, "%lld", got);
	cr_assert_str_eq(queue, "Uniform random queue");
	for (int i = 0; i < 5; i++) {
		long long id = next_id(owner, pid, NULL, 0);

		cr_assert(id >= t0 && id < t0 + 5);
		annotate(owner, id, 0);
	}
	cr_assert_eq(next_id(owner, pid, NULL, 0), -404);
}
