/* Export snapshots: create → built by `siali worker` → download, compared with the easy export;
 * the task filters, annotation filters and serialization options; list, get, delete; validation;
 * other organizations; "Export is not completed" while the worker is stopped; conversions and
 * other formats from a snapshot; and a snapshot whose worker is killed while it runs, finished by
 * the restarted worker once its heartbeat is stale. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define TEXT_CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/><Choice value=\\\"Neg\\\"/>" \
	"</Choices></View>"
#define CHOICE(label) \
	"{\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\",\"value\":{\"choices\":[\"" label "\"]}}"

/* the options that make a snapshot the easy export's JSON (drafts expanded, the rest ids) */
#define AS_EASY "{\"serialization_options\":{\"drafts\":{\"only_id\":false}," \
	"\"predictions\":{\"only_id\":true},\"annotations__completed_by\":{\"only_id\":true}}}"

static char owner[256], stranger[256];
static long long owner_id;

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "snp-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Snapshot org", &owner_id));
	snprintf(name, sizeof(name), "snp-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Snapshot stranger org", NULL));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(exports, .init = setup, .timeout = 180);

static const char *
src(const char *rel)
{
	static char p[1024];
	const char *s = getenv("SIALI_SRC");

	snprintf(p, sizeof(p), "%s/%s", s != NULL ? s : ".", rel);
	return p;
}

static long long
make_project(void)
{
	char body[2048];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"snap %s\",\"label_config\":\"%s\"}", e2e_unique(), TEXT_CONFIG);
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

/* Imports n tasks and returns the first id (ids are consecutive). */
static long long
import_n(long long pid, int n)
{
	char path[128];
	size_t cap = (size_t)n * 40 + 16, k = 0;
	char *body = malloc(cap);
	struct resp *r;
	long long first;

	k += (size_t)snprintf(body + k, cap - k, "[");
	for (int i = 0; i < n; i++)
		k += (size_t)snprintf(body + k, cap - k, "%s{\"text\":\"task %d\"}", i ? "," : "", i);
	snprintf(body + k, cap - k, "]");
	snprintf(path, sizeof(path), "/api/projects/%lld/import?return_task_ids=true", pid);
	r = http("POST", path, owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	first = jint(r->json, "task_ids.0");
	cr_assert_gt(first, 0, "%s", r->body);
	resp_free(r);
	free(body);
	return first;
}

static long long
post_id(const char *path, const char *body)
{
	struct resp *r = http("POST", path, owner, body, NULL);
	long long id;

	cr_assert(r->status == 200 || r->status == 201, "POST %s: %ld %s", path, r->status, r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

/* A project of 4 tasks: t0 annotated (Pos), t1 skipped, t2 ground truth (Neg) with a draft and a
 * prediction, t3 nothing. Returns the project; *t0 the first task. */
static long long
fixture(long long *t0)
{
	long long pid = make_project(), t = import_n(pid, 4);
	char path[128], body[512];

	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/", t);
	post_id(path, "{\"result\":[" CHOICE("Pos") "],\"lead_time\":2.5}");
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/", t + 1);
	post_id(path, "{\"result\":[],\"was_cancelled\":true}");
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/", t + 2);
	post_id(path, "{\"result\":[" CHOICE("Neg") "],\"ground_truth\":true}");
	snprintf(path, sizeof(path), "/api/tasks/%lld/drafts", t + 2);
	post_id(path, "{\"result\":[" CHOICE("Pos") "],\"lead_time\":1}");
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[" CHOICE("Neg") "],\"score\":0.25,"
	    "\"model_version\":\"m7\"}", t + 2);
	post_id("/api/predictions/", body);
	*t0 = t;
	return pid;
}

/* POSTs a snapshot and returns its id (201 and status created checked). */
static long long
create(long long pid, const char *body)
{
	char path[128];
	struct resp *r;
	long long id;

	snprintf(path, sizeof(path), "/api/projects/%lld/exports/", pid);
	r = http("POST", path, owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	cr_assert_gt(id, 0);
	cr_assert_str_eq(jstr(r->json, "status"), "created");
	cr_assert_null(jpath(r->json, "finished_at"));
	cr_assert_eq(json_object_array_length(jpath(r->json, "converted_formats")), 0);
	cr_assert_eq(jint(r->json, "created_by.id"), owner_id, "%s", r->body);
	resp_free(r);
	return id;
}

/* Polls until the snapshot is completed (at most secs seconds); returns its last GET. */
static struct resp *
wait_done(long long pid, long long id, int secs)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld", pid, id);
	for (int i = 0; i < secs * 10; i++) {
		struct resp *r = http("GET", path, owner, NULL, NULL);

		cr_assert_eq(r->status, 200, "%s", r->body);
		if (strcmp(jstr(r->json, "status"), "completed") == 0 || strcmp(jstr(r->json, "status"), "failed") == 0)
			return r;
		resp_free(r);
		usleep(100000);
	}
	cr_assert_fail("snapshot %lld not completed within %ds", id, secs);
	return NULL;
}

static struct resp *
download(long long pid, long long id, const char *query)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld/download%s", pid, id, query);
	return http("GET", path, owner, NULL, NULL);
}

static struct resp *
easy(long long pid, const char *query)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/projects/%lld/export?exportType=JSON%s", pid, query);
	return http("GET", path, owner, NULL, NULL);
}

/* The MD5 of a body, by md5sum. */
static char *
md5_of(const struct resp *r)
{
	char tmp[] = "/tmp/snp-md5-XXXXXX";
	int fd = mkstemp(tmp);
	char *out;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, r->body, r->len), (ssize_t)r->len);
	close(fd);
	out = e2e_out("md5sum '%s' | cut -c1-32", tmp);
	unlink(tmp);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static long
worker_pid(void)
{
	char *s = e2e_out("cat '%s'", e2e_stack_path("worker.pid"));
	long pid = atol(s);

	free(s);
	return pid;
}

Test(exports, snapshot_equals_the_easy_export)
{
	long long t0, pid = fixture(&t0), id;
	struct resp *g, *d, *e;
	char *md5;

	id = create(pid, "{\"title\":\"full\",\"serialization_options\":{\"drafts\":{\"only_id\":false},"
	    "\"predictions\":{\"only_id\":true},\"annotations__completed_by\":{\"only_id\":true}}}");
	g = wait_done(pid, id, 30);
	cr_assert_str_eq(jstr(g->json, "status"), "completed", "%s", g->body);
	cr_assert_str_eq(jstr(g->json, "title"), "full");
	cr_assert_eq(jint(g->json, "counters.task_number"), 4, "%s", g->body);
	cr_assert_neq(jpath(g->json, "finished_at"), NULL);
	cr_assert_eq(strlen(jstr(g->json, "md5")), 32, "%s", g->body);

	d = download(pid, id, "");
	cr_assert_eq(d->status, 200, "%s", d->body);
	cr_assert_str_eq(resp_header(d, "Content-Type"), "application/json");
	cr_assert_not_null(strstr(resp_header(d, "Content-Disposition"), "attachment; filename=\"project-"));
	e = easy(pid, "&download_all_tasks=true");
	cr_assert_eq(e->status, 200);
	cr_assert_eq(d->len, e->len, "snapshot %zu bytes, easy export %zu", d->len, e->len);
	cr_assert_eq(memcmp(d->body, e->body, d->len), 0, "snapshot:\n%s\neasy:\n%s", d->body, e->body);
	md5 = md5_of(d);
	cr_assert_str_eq(md5, jstr(g->json, "md5"));
	free(md5);
	resp_free(e);
	resp_free(d);
	/* ?exportType=JSON is the same file */
	d = download(pid, id, "?exportType=JSON");
	cr_assert_eq(d->status, 200);
	md5 = md5_of(d);
	cr_assert_str_eq(md5, jstr(g->json, "md5"));
	free(md5);
	resp_free(d);
	resp_free(g);
}

Test(exports, filters_and_serialization_options)
{
	long long t0, pid = fixture(&t0), id;
	struct resp *g, *d;
	struct json_object *a, *ann;

	/* defaults: every task, every annotation, ids only */
	id = create(pid, "{}");
	resp_free(wait_done(pid, id, 30));
	d = download(pid, id, "");
	cr_assert_eq(json_object_array_length(d->json), 4, "%s", d->body);
	cr_assert_eq(jint(d->json, "2.drafts.0"), jint(d->json, "2.drafts.0"));
	cr_assert(json_object_is_type(jpath(d->json, "2.drafts.0"), json_type_int), "%s", d->body);
	cr_assert(json_object_is_type(jpath(d->json, "2.predictions.0"), json_type_int), "%s", d->body);
	cr_assert_eq(jint(d->json, "0.annotations.0.completed_by"), owner_id);
	resp_free(d);

	/* expanded drafts, predictions and authors */
	id = create(pid, "{\"serialization_options\":{\"drafts\":{},\"predictions\":{\"only_id\":false},"
	    "\"annotations__completed_by\":{\"only_id\":false}}}");
	resp_free(wait_done(pid, id, 30));
	d = download(pid, id, "");
	cr_assert_eq(jint(d->json, "0.annotations.0.completed_by.id"), owner_id, "%s", d->body);
	cr_assert_not_null(jpath(d->json, "0.annotations.0.completed_by.email"));
	cr_assert_not_null(jpath(d->json, "0.annotations.0.completed_by.first_name"));
	cr_assert_str_eq(jstr(d->json, "2.predictions.0.model_version"), "m7", "%s", d->body);
	cr_assert_eq(jint(d->json, "2.predictions.0.task"), t0 + 2);
	cr_assert_str_eq(jstr(d->json, "2.drafts.0.result.0.value.choices.0"), "Pos", "%s", d->body);
	resp_free(d);

	/* task filters */
	id = create(pid, "{\"task_filter_options\":{\"skipped\":\"only\"}}");
	g = wait_done(pid, id, 30);
	cr_assert_eq(jint(g->json, "counters.task_number"), 1);
	resp_free(g);
	d = download(pid, id, "");
	cr_assert_eq(jint(d->json, "0.id"), t0 + 1, "%s", d->body);
	resp_free(d);

	id = create(pid, "{\"task_filter_options\":{\"annotated\":\"exclude\",\"skipped\":null}}");
	resp_free(wait_done(pid, id, 30));
	d = download(pid, id, "");
	cr_assert_eq(json_object_array_length(d->json), 2, "%s", d->body);     /* t1 (skipped only), t3 */
	cr_assert_eq(jint(d->json, "0.id"), t0 + 1);
	cr_assert_eq(jint(d->json, "1.id"), t0 + 3);
	resp_free(d);

	id = create(pid, "{\"task_filter_options\":{\"finished\":\"only\",\"skipped\":\"exclude\"}}");
	resp_free(wait_done(pid, id, 30));
	d = download(pid, id, "");
	cr_assert_eq(json_object_array_length(d->json), 2, "%s", d->body);     /* t0, t2 */
	cr_assert_eq(jint(d->json, "0.id"), t0);
	cr_assert_eq(jint(d->json, "1.id"), t0 + 2);
	resp_free(d);

	/* annotation filter: ground truth only, then only tasks left with annotations */
	id = create(pid, "{\"annotation_filter_options\":{\"usual\":false,\"ground_truth\":true},"
	    "\"task_filter_options\":{\"only_with_annotations\":true}}");
	g = wait_done(pid, id, 30);
	cr_assert_eq(jint(g->json, "counters.task_number"), 1, "%s", g->body);
	resp_free(g);
	d = download(pid, id, "");
	a = jpath(d->json, "0.annotations");
	cr_assert_eq(json_object_array_length(a), 1);
	ann = json_object_array_get_idx(a, 0);
	cr_assert(json_object_get_boolean(json_object_object_get(ann, "ground_truth")));
	resp_free(d);

	/* usual (the default) + skipped: t2's ground truth annotation is left out */
	id = create(pid, "{\"annotation_filter_options\":{\"skipped\":true}}");
	resp_free(wait_done(pid, id, 30));
	d = download(pid, id, "");
	cr_assert_eq(json_object_array_length(d->json), 4);
	cr_assert_eq(json_object_array_length(jpath(d->json, "0.annotations")), 1);
	cr_assert_eq(json_object_array_length(jpath(d->json, "1.annotations")), 1);
	cr_assert_eq(json_object_array_length(jpath(d->json, "2.annotations")), 0, "%s", d->body);
	resp_free(d);
}

Test(exports, create_echoes_options_and_validates)
{
	long long pid = make_project();
	char path[128];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/projects/%lld/exports/", pid);
	r = http("POST", path, owner, "{\"task_filter_options\":{\"finished\":\"only\"},"
	    "\"annotation_filter_options\":{},\"serialization_options\":{\"predictions\":{\"only_id\":true}}}", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "task_filter_options.finished"), "only");
	cr_assert(json_object_get_boolean(jpath(r->json, "annotation_filter_options.usual")));
	cr_assert(json_object_get_boolean(jpath(r->json, "serialization_options.predictions.only_id")));
	cr_assert_eq(jint(r->json, "counters.task_number"), 0);
	/* the default title: the project's, dashed, and the time */
	cr_assert_not_null(strstr(jstr(r->json, "title"), "-at-"), "%s", r->body);
	resp_free(r);

	r = http("POST", path, owner, "{\"task_filter_options\":{\"skipped\":\"sometimes\"}}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "validation_errors.task_filter_options.skipped.0"),
	    "\"sometimes\" is not a valid choice.", "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{\"task_filter_options\":[1]}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_not_null(jpath(r->json, "validation_errors.task_filter_options.non_field_errors"), "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{\"serialization_options\":{\"drafts\":{\"only_id\":\"maybe\"}}}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "validation_errors.serialization_options.drafts.only_id.0"),
	    "Must be a valid boolean.", "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{\"title\":5}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_not_null(jpath(r->json, "validation_errors.title"));
	resp_free(r);
	r = http("POST", path, owner, "[]", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{\"annotation_filter_options\":{\"usual\":3}}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
}

Test(exports, list_get_delete_and_scoping)
{
	long long pid = make_project(), other = make_project(), a, b;
	char path[256], *rows, *files;
	const char *suffix[] = { "", "/download", "/convert" };
	struct resp *r;

	import_n(pid, 2);
	a = create(pid, "{\"title\":\"first\"}");
	b = create(pid, "{\"title\":\"second\"}");
	resp_free(wait_done(pid, a, 30));
	resp_free(wait_done(pid, b, 30));

	snprintf(path, sizeof(path), "/api/projects/%lld/exports", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 2);
	cr_assert_eq(jint(r->json, "0.id"), b);         /* newest first */
	cr_assert_eq(jint(r->json, "1.id"), a);
	cr_assert_str_eq(jstr(r->json, "1.title"), "first");
	cr_assert_eq(jint(r->json, "1.counters.task_number"), 2);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/", other);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 0);
	resp_free(r);

	/* another organization: 404 on every route, nothing changes */
	rows = e2e_sql_out("SELECT COUNT(*) FROM exports WHERE project_id = %lld", pid);
	snprintf(path, sizeof(path), "/api/projects/%lld/exports", pid);
	r = http("GET", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("POST", path, stranger, "{}", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld%s", pid, a, suffix[i]);
		r = http(i == 2 ? "POST" : "GET", path, stranger, i == 2 ? "{\"export_type\":\"CSV\"}" : NULL, NULL);
		cr_assert_eq(r->status, 404, "%s: %ld", path, r->status);
		cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
		resp_free(r);
		/* the export through the wrong project, and an unknown export */
		snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld%s", other, a, suffix[i]);
		r = http(i == 2 ? "POST" : "GET", path, owner, i == 2 ? "{\"export_type\":\"CSV\"}" : NULL, NULL);
		cr_assert_eq(r->status, 404, "%s: %ld", path, r->status);
		resp_free(r);
		snprintf(path, sizeof(path), "/api/projects/%lld/exports/999999999%s", pid, suffix[i]);
		r = http(i == 2 ? "POST" : "GET", path, owner, i == 2 ? "{\"export_type\":\"CSV\"}" : NULL, NULL);
		cr_assert_eq(r->status, 404, "%s: %ld", path, r->status);
		resp_free(r);
	}
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld", pid, a);
	r = http("DELETE", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	{
		char *now = e2e_sql_out("SELECT COUNT(*) FROM exports WHERE project_id = %lld", pid);

		cr_assert_str_eq(now, rows);
		free(now);
	}
	free(rows);

	/* delete: the row and its files go */
	files = e2e_out("ls '%s/export/%lld' | grep -c '^%lld-'", e2e_stack_path("media"), pid, a);
	cr_assert_eq(atoi(files), 2, "files of %lld: %s", a, files);      /* .json and .ids */
	free(files);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	files = e2e_out("ls '%s/export/%lld' | grep -c '^%lld-'", e2e_stack_path("media"), pid, a);
	cr_assert_eq(atoi(files), 0, "files of %lld left: %s", a, files);
	free(files);
}

Test(exports, not_completed_then_conversions)
{
	long long t0, pid = fixture(&t0), id;
	long wpid = worker_pid();
	char path[256];
	struct resp *r, *e;

	/* a stopped worker: the snapshot stays "created" and cannot be downloaded */
	cr_assert_eq(kill((pid_t)wpid, SIGSTOP), 0);
	id = create(pid, "{}");
	r = download(pid, id, "");
	cr_assert_eq(r->status, 404, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), "Export is not completed");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld/convert", pid, id);
	r = http("POST", path, owner, "{\"export_type\":\"CSV\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld", pid, id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_str_eq(jstr(r->json, "status"), "created");
	resp_free(r);
	cr_assert_eq(kill((pid_t)wpid, SIGCONT), 0);
	resp_free(wait_done(pid, id, 30));

	/* conversions: recorded once, refused for a format the config does not allow */
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld/convert", pid, id);
	r = http("POST", path, owner, "{\"export_type\":\"CSV\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "export_type"), "CSV");
	cr_assert_gt(jint(r->json, "converted_format"), 0);
	resp_free(r);
	r = http("POST", path, owner, "{\"export_type\":\"CSV\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), "Conversion to CSV already started");
	resp_free(r);
	r = http("POST", path, owner, "{\"export_type\":\"COCO\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{\"export_type\":\"NOPE\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("POST", path, owner, "{}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "validation_errors.export_type.0"), "This field is required.");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld", pid, id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_str_eq(jstr(r->json, "converted_formats.0.export_type"), "CSV", "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "converted_formats.0.status"), "completed");
	resp_free(r);

	/* another format from the snapshot's tasks: the easy export's CSV of those tasks */
	r = download(pid, id, "?exportType=CSV");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_not_null(strstr(resp_header(r, "Content-Disposition"), ".csv\""));
	snprintf(path, sizeof(path), "/api/projects/%lld/export?exportType=CSV&download_all_tasks=true", pid);
	e = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(e->status, 200);
	cr_assert_eq(r->len, e->len, "%s\n---\n%s", r->body, e->body);
	cr_assert_eq(memcmp(r->body, e->body, r->len), 0);
	resp_free(e);
	resp_free(r);
	r = download(pid, id, "?exportType=COCO");
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = download(pid, id, "?exportType=JSON_MIN");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array));
	resp_free(r);
}

Test(exports, killed_worker_snapshot_finishes_after_restart)
{
	long long t0, pid = fixture(&t0), id, job;
	long wpid = worker_pid();
	char *s, path[256];
	struct resp *g, *d, *e;
	int running = 0;

	import_n(pid, 300);
	/* The worker, stopped, cannot take the job before the export's row is locked. */
	cr_assert_eq(kill((pid_t)wpid, SIGSTOP), 0);
	id = create(pid, AS_EASY);
	s = e2e_sql_out("SELECT id FROM jobs WHERE type = 'export.snapshot' AND "
	    "JSON_VALUE(payload, '$.export_id') = %lld", id);
	job = atoll(s);
	free(s);
	cr_assert_gt(job, 0);
	/* hold the export row: the job blocks on it, mid-way (claimed, running) */
	cr_assert_eq(e2e_sh("mariadb --no-defaults -S '%s' -u\"$(id -un)\" siali -e "
	    "'BEGIN; SELECT id FROM exports WHERE id = %lld FOR UPDATE; DO SLEEP(3); COMMIT;' >/dev/null 2>&1 &",
	    e2e_stack_path("mysql.sock"), id), 0);
	usleep(500000);
	cr_assert_eq(kill((pid_t)wpid, SIGCONT), 0);
	for (int i = 0; i < 50 && !running; i++) {
		s = e2e_sql_out("SELECT state FROM jobs WHERE id = %lld", job);
		running = strncmp(s, "running", 7) == 0;
		free(s);
		if (!running)
			usleep(100000);
	}
	cr_assert(running, "the job was not claimed");
	cr_assert_eq(kill((pid_t)wpid, SIGKILL), 0);
	sleep(3);       /* the lock goes; the killed worker's statement ends on the server */

	/* what a run that died half-way leaves: a half-written temporary file, and a finished file
	 * that was renamed but never recorded */
	{
		char media[512];

		snprintf(media, sizeof(media), "%s", e2e_stack_path("media"));
		cr_assert_eq(e2e_sh("mkdir -p '%s/export/%lld' && printf '[{half' >'%s/export/%lld/%lld.json.tmp' && "
		    "printf junk >'%s/export/%lld/%lld-0000000000000000.json'", media, pid, media, pid, id,
		    media, pid, id), 0);
	}
	s = e2e_sql_out("SELECT state FROM jobs WHERE id = %lld", job);
	cr_assert(strncmp(s, "running", 7) == 0, "job state %s", s);
	free(s);

	/* the stale timeout passes (simulated: the heartbeat is moved back), then a new worker */
	cr_assert_eq(e2e_sql("UPDATE jobs SET heartbeat = heartbeat - INTERVAL 1 DAY WHERE id = %lld", job), 0);
	{
		char dir[512], *port = e2e_out("cat '%s'", e2e_stack_path("port"));

		snprintf(dir, sizeof(dir), "%s", e2e_stack_path(""));
		cr_assert_eq(e2e_sh("'%s' start '%s' %ld '%s' >/dev/null 2>&1", src("tests/stack.sh"), dir,
		    atol(port), e2e_bin()), 0);
		free(port);
	}
	cr_assert_neq(worker_pid(), wpid);
	g = wait_done(pid, id, 60);
	cr_assert_str_eq(jstr(g->json, "status"), "completed", "%s", g->body);
	cr_assert_eq(jint(g->json, "counters.task_number"), 304);
	s = e2e_sql_out("SELECT state, attempts FROM jobs WHERE id = %lld", job);
	cr_assert(strncmp(s, "done\t2", 6) == 0, "job: %s", s);
	free(s);
	d = download(pid, id, "");
	e = easy(pid, "&download_all_tasks=true");
	cr_assert_eq(d->status, 200);
	cr_assert_eq(d->len, e->len);
	cr_assert_eq(memcmp(d->body, e->body, d->len), 0);
	s = md5_of(d);
	cr_assert_str_eq(s, jstr(g->json, "md5"));
	free(s);
	resp_free(d);
	resp_free(e);
	resp_free(g);
	snprintf(path, sizeof(path), "ls '%s/export/%lld' | grep -c '^%lld[-.]'", e2e_stack_path("media"), pid, id);
	s = e2e_out("%s", path);
	cr_assert_eq(atoi(s), 2, "files: %s", s);      /* the recorded .json and .ids, nothing else */
	free(s);
}
