/* Isolation: every route that takes the id of a project, task, annotation, draft or prediction in
 * its path answers 404 to a member of another organization, for every method, and the database is
 * left exactly as it was. The routes are read from app/routes.c itself, so a route added later is
 * walked without anyone remembering to add it here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char owner[256], stranger[256];
static long long project, task, annotation, draft, prediction, upload, export_id;

/* Creates an object through the API and returns its id. */
static long long
make(const char *auth, const char *method, const char *path, const char *body, const char *idpath)
{
	struct resp *r = http(method, path, auth, body, NULL);
	long long id;

	cr_assert(r->status == 200 || r->status == 201, "%s %s: %ld %s", method, path, r->status, r->body);
	id = jint(r->json, idpath);
	cr_assert_gt(id, 0, "%s %s: no %s in %s", method, path, idpath, r->body);
	resp_free(r);
	return id;
}

static void
setup(void)
{
	char name[64], path[128], body[512];

	snprintf(name, sizeof(name), "iso-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Isolation owner org", NULL));
	snprintf(name, sizeof(name), "iso-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Isolation stranger org", NULL));

	project = make(owner, "POST", "/api/projects/", "{\"title\":\"Isolated\",\"label_config\":"
	    "\"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/><Choices name=\\\"sentiment\\\" "
	    "toName=\\\"text\\\"><Choice value=\\\"Positive\\\"/><Choice value=\\\"Negative\\\"/>"
	    "</Choices></View>\"}", "id");
	snprintf(path, sizeof(path), "/api/projects/%lld/import?return_task_ids=true", project);
	task = make(owner, "POST", path, "[{\"text\":\"one\"},{\"text\":\"two\"}]", "task_ids.0");
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/", task);
	annotation = make(owner, "POST", path, "{\"result\":[{\"id\":\"r1\",\"from_name\":\"sentiment\","
	    "\"to_name\":\"text\",\"type\":\"choices\",\"value\":{\"choices\":[\"Positive\"]}}]}", "id");
	snprintf(path, sizeof(path), "/api/tasks/%lld/drafts", task);
	draft = make(owner, "POST", path, "{\"result\":[],\"lead_time\":1.5}", "id");
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[],\"score\":0.5,\"model_version\":\"m1\"}",
	    task);
	prediction = make(owner, "POST", "/api/predictions/", body, "id");
	/* a file upload (url= with inline JSON is kept as an upload, as Label Studio does) */
	snprintf(path, sizeof(path), "/api/projects/%lld/import?commit_to_project=false", project);
	{
		struct resp *r = http("POST", path, owner, "url=%5B%7B%22text%22%3A%22u%22%7D%5D",
		    "application/x-www-form-urlencoded");

		cr_assert_eq(r->status, 201, "%s", r->body);
		upload = jint(r->json, "file_upload_ids.0");
		cr_assert_gt(upload, 0, "%s", r->body);
		resp_free(r);
	}
	/* an export snapshot, finished by the job worker before the walk (so nothing moves under it) */
	snprintf(path, sizeof(path), "/api/projects/%lld/exports", project);
	export_id = make(owner, "POST", path, "{}", "id");
	snprintf(path, sizeof(path), "/api/projects/%lld/exports/%lld", project, export_id);
	for (int i = 0; i < 300; i++) {
		struct resp *r = http("GET", path, owner, NULL, NULL);
		int done = strcmp(jstr(r->json, "status"), "completed") == 0;

		resp_free(r);
		if (done)
			break;
		cr_assert_lt(i, 299, "export snapshot %lld not completed", export_id);
		usleep(100000);
	}
}

TestSuite(isolation, .init = setup, .timeout = 120);

/* Everything the labeling tables hold, as one string to compare before and after. */
static char *
snapshot(void)
{
	return e2e_sql_out("CHECKSUM TABLE projects, tasks, annotations, drafts, predictions, "
	    "task_locks, label_usage, file_uploads, exports, export_conversions EXTENDED");
}

/* The owner's object named by the path so far ("/api/tasks/" → the task), or -1. */
static long long
object_before(const char *path, size_t n)
{
	static const struct { const char *prefix; long long *id; } kinds[] = {
		{ "/api/projects/", &project }, { "/api/tasks/", &task },
		{ "/api/annotations/", &annotation }, { "/api/drafts/", &draft },
		{ "/api/predictions/", &prediction }, { "/api/import/file-upload/", &upload },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (n == strlen(kinds[i].prefix) && strncmp(path, kinds[i].prefix, n) == 0)
			return *kinds[i].id;
	return -1;
}

/* The path with every ":param" replaced by the owner's object id. Returns how many it filled, 0
 * when the pattern names no object of this issue (the route is skipped). */
static int
fill(const char *pattern, char *out, size_t outsz)
{
	const char *p = pattern;
	size_t n = 0;
	int objects = 0;

	out[0] = '\0';
	while (*p && n + 24 < outsz) {
		if (*p == ':') {
			const char *name = ++p;
			size_t len = strcspn(p, "/");
			long long id = -1;

			if (len == 13 && strncmp(name, "annotation_id", 13) == 0)
				id = annotation;
			else if (len == 9 && strncmp(name, "export_id", 9) == 0)
				id = export_id;
			else if (len == 2 && strncmp(name, "id", 2) == 0)
				id = object_before(out, n);
			if (id < 0)
				return 0;
			n += (size_t)snprintf(out + n, outsz - n, "%lld", id);
			objects++;
			p += len;
			continue;
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
	return objects;
}

Test(isolation, every_route_with_an_object_id_is_404_for_another_org)
{
	char file[1024], line[512], *before, *after;
	FILE *f;
	int walked = 0;

	snprintf(file, sizeof(file), "%s/app/routes.c", getenv("SIALI_SRC") ? getenv("SIALI_SRC") : ".");
	f = fopen(file, "r");
	cr_assert_not_null(f, "cannot read %s", file);
	before = snapshot();
	while (fgets(line, sizeof(line), f) != NULL) {
		char method[16], pattern[256], path[300];
		struct resp *r;
		const char *body;

		if (sscanf(line, " { \"%15[A-Z]\" , \"%255[^\"]\"", method, pattern) != 2)
			continue;
		if (!fill(pattern, path, sizeof(path)))
			continue;
		body = strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0 ? NULL :
		    /* the bulk imports take a list; every JSON route (reimport too) an object */
		    strstr(pattern, "import") != NULL && strstr(pattern, "reimport") == NULL ?
		    "[{\"text\":\"intruder\"}]" :
		    "{\"title\":\"Stolen\",\"result\":[],\"data\":{\"text\":\"x\"},\"label_config\":\"<View/>\"}";
		r = http(method, path, stranger, body, NULL);
		cr_expect_eq(r->status, 404, "%s %s as a stranger: %ld %s", method, path, r->status, r->body);
		cr_expect_eq(jint(r->json, "status_code"), 404, "%s %s: not the envelope: %s", method, path,
		    r->body);
		resp_free(r);
		walked++;
	}
	fclose(f);
	after = snapshot();
	cr_expect_str_eq(after, before, "a stranger's requests changed the database");
	cr_expect_geq(walked, 40, "only %d routes walked: did the route table's format change?", walked);
	free(before);
	free(after);
}

Test(isolation, lists_and_bodies_never_show_or_take_another_orgs_objects)
{
	char path[256], body[256], *before, *after;
	struct resp *r;

	before = snapshot();
	/* the stranger's lists do not contain the owner's objects */
	r = http("GET", "/api/projects/", stranger, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_expect_eq(jint(r->json, "count"), 0, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/tasks/?project=%lld", project);
	r = http("GET", path, stranger, NULL, NULL);
	cr_expect_eq(r->status, 404, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/predictions/?project=%lld", project);
	r = http("GET", path, stranger, NULL, NULL);
	cr_expect(r->status == 200 && json_object_array_length(r->json) == 0, "%ld %s", r->status, r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/predictions/?task=%lld", task);
	r = http("GET", path, stranger, NULL, NULL);
	cr_expect(r->status == 200 && json_object_array_length(r->json) == 0, "%ld %s", r->status, r->body);
	resp_free(r);
	r = http("GET", "/api/projects/counts/", stranger, NULL, NULL);
	cr_expect_eq(jint(r->json, "count"), 0, "%s", r->body);
	resp_free(r);

	/* bodies that name the owner's objects are refused */
	snprintf(body, sizeof(body), "{\"project\":%lld,\"data\":{\"text\":\"x\"}}", project);
	r = http("POST", "/api/tasks/", stranger, body, NULL);
	cr_expect(r->status == 404 || r->status == 400, "POST /api/tasks/ into a foreign project: %ld %s",
	    r->status, r->body);
	resp_free(r);
	snprintf(body, sizeof(body), "{\"task\":%lld,\"result\":[]}", task);
	r = http("POST", "/api/predictions/", stranger, body, NULL);
	cr_expect(r->status == 404 || r->status == 400, "POST /api/predictions/ on a foreign task: %ld %s",
	    r->status, r->body);
	resp_free(r);
	after = snapshot();
	cr_expect_str_eq(after, before, "a stranger's requests changed the database");
	free(before);
	free(after);
}
