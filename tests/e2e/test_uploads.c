/* The streaming import's other formats (JSON Lines, CSV, TSV, TXT, multipart files, url=), the
 * uploads it keeps (file-uploads endpoints, /data/upload with Range, reimport), idempotency keys,
 * and the limits that fail fast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/>" \
	"<Choice value=\\\"Neg\\\"/></Choices></View>"
#define IMAGE_CONFIG \
	"<View><Image name=\\\"image\\\" value=\\\"$image\\\"/>" \
	"<Choices name=\\\"c\\\" toName=\\\"image\\\"><Choice value=\\\"A\\\"/></Choices></View>"
#define BOX_CONFIG \
	"<View><Image name=\\\"image\\\" value=\\\"$image\\\"/>" \
	"<RectangleLabels name=\\\"box\\\" toName=\\\"image\\\"><Label value=\\\"Dog\\\"/></RectangleLabels></View>"
#define BOUNDARY "XyZbOuNdArY42"
#define MP_TYPE "multipart/form-data; boundary=" BOUNDARY

static char owner[256], stranger[256];

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "upl-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Uploads org", NULL));
	snprintf(name, sizeof(name), "upl-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Uploads stranger org", NULL));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(uploads, .init = setup, .timeout = 120);

static long long
make_project(const char *config)
{
	char body[2048];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"uploads %s\",\"label_config\":\"%s\"}", e2e_unique(), config);
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static struct resp *
post(long long pid, const char *query, const char *body, size_t len, const char *ctype, const char *extra)
{
	char path[256], ct[256];
	const char *h[4] = { owner, NULL, NULL, NULL };

	snprintf(path, sizeof(path), "/api/projects/%lld/import%s", pid, query ? query : "");
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	h[1] = ct;
	h[2] = extra;
	return http_ex("POST", path, h, body, len, NULL);
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

/* A multipart body of files {name, content, len}. malloc'd; *len set. */
struct part { const char *name; const char *data; size_t len; };

static char *
multipart(const struct part *p, size_t n, size_t *len)
{
	size_t cap = 4096, off = 0;
	char *b;

	for (size_t i = 0; i < n; i++)
		cap += p[i].len + 512;
	b = malloc(cap);
	for (size_t i = 0; i < n; i++) {
		off += (size_t)snprintf(b + off, cap - off, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
		    "name=\"file%zu\"; filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n", i,
		    p[i].name);
		memcpy(b + off, p[i].data, p[i].len);
		off += p[i].len;
		off += (size_t)snprintf(b + off, cap - off, "\r\n");
	}
	off += (size_t)snprintf(b + off, cap - off, "--" BOUNDARY "--\r\n");
	*len = off;
	return b;
}

Test(uploads, json_lines_csv_tsv_txt_bodies)
{
	long long pid = make_project(CONFIG);
	const char *jl = "{\"text\":\"a\"}\n{\"data\":{\"text\":\"b\"}}\n\n{\"text\":\"c\"}\n";
	const char *csv = "text,other\n\"quoted, with comma\",1\n\"multi\nline\",2\n\"say \"\"hi\"\"\",3\n";
	const char *tsv = "text\tn\nx\t1\ny\t2\n";
	const char *txt = "line one\r\nline two\nline three";
	struct resp *r;
	char *out;

	r = post(pid, NULL, jl, strlen(jl), "application/x-ndjson", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 3);
	resp_free(r);
	r = post(pid, NULL, csv, strlen(csv), "text/csv", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 3);
	resp_free(r);
	out = e2e_sql_out("SELECT JSON_VALUE(data, '$.text') FROM tasks WHERE project_id = %lld AND "
	    "JSON_VALUE(data, '$.other') = '2'", pid);
	cr_assert_str_eq(out, "multi\\nline\n", "%s", out);
	free(out);
	out = e2e_sql_out("SELECT JSON_VALUE(data, '$.text') FROM tasks WHERE project_id = %lld AND "
	    "JSON_VALUE(data, '$.other') = '3'", pid);
	cr_assert_str_eq(out, "say \"hi\"\n", "%s", out);
	free(out);
	r = post(pid, NULL, tsv, strlen(tsv), "text/tab-separated-values", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 2);
	resp_free(r);
	r = post(pid, NULL, txt, strlen(txt), "text/plain", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 3);
	resp_free(r);
	out = e2e_sql_out("SELECT JSON_VALUE(data, '$.text') FROM tasks WHERE project_id = %lld ORDER BY id "
	    "DESC LIMIT 1", pid);
	cr_assert_str_eq(out, "line three\n");
	free(out);
	/* counters and inner ids follow */
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 11);
	cr_assert_eq(sql_int("SELECT MAX(inner_id) FROM tasks WHERE project_id = %lld", pid), 11);
	cr_assert_eq(sql_int("SELECT next_inner_id FROM projects WHERE id = %lld", pid), 12);
}

Test(uploads, malformed_bodies_save_nothing)
{
	long long pid = make_project(CONFIG);
	struct resp *r;
	const char *badcsv = "text,n\na,1\n\"open quote,2\n";
	const char *ragged = "text,n\na,1,extra\n";
	const char *badjl = "{\"text\":\"a\"}\n{\"text\":\"b\"\n";
	const char *badmp = "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.json\""
	    "\r\n\r\n[{\"text\":\"a\"}]\r\n";

	r = post(pid, NULL, badcsv, strlen(badcsv), "text/csv", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = post(pid, NULL, ragged, strlen(ragged), "text/csv", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = post(pid, NULL, badjl, strlen(badjl), "application/json", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(jstr(r->json, "detail"), "JSON parse error") != NULL, "%s", r->body);
	resp_free(r);
	r = post(pid, NULL, badmp, strlen(badmp), MP_TYPE, NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = post(pid, NULL, "x", 1, "multipart/form-data", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM file_uploads WHERE project_id = %lld", pid), 0);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 0);
	/* no temporary file left behind */
	cr_assert_eq(e2e_sh("test -z \"$(ls -A %s/upload/%lld 2>/dev/null)\"", e2e_stack_path("media"), pid), 0);
}

Test(uploads, depth_limit_names_the_setting)
{
	long long pid = make_project(CONFIG);
	char body[1024];
	size_t n = 0;
	struct resp *r;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "[{\"text\":\"a\",\"deep\":");
	for (int i = 0; i < 80; i++)
		body[n++] = '[';
	for (int i = 0; i < 80; i++)
		body[n++] = ']';
	n += (size_t)snprintf(body + n, sizeof(body) - n, "}]");
	r = post(pid, NULL, body, n, "application/json", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "max_json_depth") != NULL, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);
}

Test(uploads, multipart_files_and_data_upload)
{
	long long pid = make_project(IMAGE_CONFIG), img_id;
	static const char png[] = "\x89PNG\r\n\x1a\n0123456789abcdef";
	struct part parts[] = {
		{ "cat one.png", png, sizeof(png) - 1 },
		{ "more.json", "[{\"image\":\"/x.jpg\"},{\"image\":\"/y.jpg\"}]", 39 },
	};
	size_t len;
	char *body = multipart(parts, 2, &len), path[512], *file, rng[64];
	const char *h[3] = { owner, rng, NULL };
	struct resp *r;

	r = post(pid, "?return_task_ids=true", body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 3);
	cr_assert_eq(json_object_array_length(jpath(r->json, "file_upload_ids")), 2);
	cr_assert_eq(jint(r->json, "found_formats..png"), -1); /* the key has a dot: read it directly */
	cr_assert_eq(json_object_get_int(json_object_object_get(jpath(r->json, "found_formats"), ".png")), 1);
	cr_assert_str_eq(jstr(r->json, "data_columns.0"), "image");
	cr_assert_eq(json_object_array_length(jpath(r->json, "task_ids")), 3);
	img_id = jint(r->json, "file_upload_ids.0");
	resp_free(r);
	file = e2e_sql_out("SELECT JSON_VALUE(data, '$.image') FROM tasks WHERE project_id = %lld AND "
	    "file_upload_id = %lld", pid, img_id);
	cr_assert(strncmp(file, "/data/upload/", 13) == 0, "%s", file);
	cr_assert(strstr(file, "-cat_one.png\n") != NULL, "%s", file);
	file[strlen(file) - 1] = '\0';
	snprintf(path, sizeof(path), "%s", file);
	free(file);

	/* served back whole, with safe headers */
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(r->len, sizeof(png) - 1);
	cr_assert(memcmp(r->body, png, r->len) == 0);
	cr_assert_str_eq(resp_header(r, "Content-Type"), "image/png");
	cr_assert_str_eq(resp_header(r, "X-Content-Type-Options"), "nosniff");
	cr_assert_str_eq(resp_header(r, "Content-Security-Policy"), "sandbox");
	resp_free(r);
	/* one range */
	snprintf(rng, sizeof(rng), "Range: bytes=2-5");
	r = http_ex("GET", path, h, NULL, 0, NULL);
	cr_assert_eq(r->status, 206, "%s", r->body);
	cr_assert_eq(r->len, 4);
	cr_assert(memcmp(r->body, png + 2, 4) == 0);
	cr_assert_str_eq(resp_header(r, "Content-Range"), "bytes 2-5/24");
	resp_free(r);
	snprintf(rng, sizeof(rng), "Range: bytes=-3");
	r = http_ex("GET", path, h, NULL, 0, NULL);
	cr_assert_eq(r->status, 206);
	cr_assert(r->len == 3 && memcmp(r->body, "def", 3) == 0);
	resp_free(r);
	snprintf(rng, sizeof(rng), "Range: bytes=100-");
	r = http_ex("GET", path, h, NULL, 0, NULL);
	cr_assert_eq(r->status, 416);
	cr_assert_str_eq(resp_header(r, "Content-Range"), "bytes */24");
	resp_free(r);
	/* another organization, no auth, and path tricks: 404 / 401 */
	r = http("GET", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("GET", path, NULL, NULL, NULL);
	cr_assert_eq(r->status, 401);
	resp_free(r);
	snprintf(path, sizeof(path), "/data/upload/%lld/..%%2f..%%2fsiali.conf", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/data/upload/%lld/nothere.png", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

Test(uploads, html_is_never_served_as_html)
{
	long long pid = make_project(CONFIG);
	struct part parts[] = { { "evil.html", "<script>alert(1)</script>", 25 } };
	size_t len;
	char *body = multipart(parts, 1, &len), path[512], *file;
	struct resp *r;

	r = post(pid, NULL, body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	/* html becomes one task holding its text, as Label Studio does */
	file = e2e_sql_out("SELECT JSON_VALUE(data, '$.text') FROM tasks WHERE project_id = %lld", pid);
	cr_assert_str_eq(file, "<script>alert(1)</script>\n");
	free(file);
	file = e2e_sql_out("SELECT file FROM file_uploads WHERE project_id = %lld", pid);
	file[strlen(file) - 1] = '\0';
	snprintf(path, sizeof(path), "/data/%s", file);
	free(file);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(resp_header(r, "Content-Type"), "application/octet-stream");
	resp_free(r);
}

Test(uploads, media_needs_one_data_key_and_files_must_agree)
{
	long long pid = make_project("<View><Text name=\\\"a\\\" value=\\\"$a\\\"/><Text name=\\\"b\\\" "
	    "value=\\\"$b\\\"/></View>");
	struct part img[] = { { "x.png", "png", 3 } };
	struct part two[] = { { "one.csv", "a,b\n1,2\n", 8 }, { "two.json", "[{\"c\":1}]", 9 } };
	size_t len;
	char *body = multipart(img, 1, &len);
	struct resp *r;

	r = post(pid, NULL, body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "more than one data key") != NULL, "%s", r->body);
	resp_free(r);
	body = multipart(two, 2, &len);
	r = post(pid, "?commit_to_project=false", body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "inconsistent data") != NULL, "%s", r->body);
	resp_free(r);
	body = multipart((struct part[]){ { "x.exe", "MZ", 2 } }, 1, &len);
	r = post(pid, NULL, body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, ".exe extension is not supported") != NULL, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM file_uploads WHERE project_id = %lld", pid), 0);
}

Test(uploads, commit_false_then_reimport_and_file_upload_endpoints)
{
	long long pid = make_project(CONFIG), up;
	struct part parts[] = { { "rows.csv", "text\nr1\nr2\n", 11 } };
	size_t len;
	char *body = multipart(parts, 1, &len), path[256], req[256];
	struct resp *r;

	r = post(pid, "?commit_to_project=false", body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 2);
	cr_assert(json_object_get_boolean(jpath(r->json, "could_be_tasks_list")));
	up = jint(r->json, "file_upload_ids.0");
	cr_assert_gt(up, 0);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 0);

	snprintf(path, sizeof(path), "/api/projects/%lld/reimport", pid);
	snprintf(req, sizeof(req), "{\"file_upload_ids\":[%lld],\"files_as_tasks_list\":true}", up);
	r = http("POST", path, owner, req, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 2);
	cr_assert_eq(jint(r->json, "file_upload_ids.0"), up);
	resp_free(r);
	/* again: the tasks are replaced, not added */
	r = http("POST", path, owner, req, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 2);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 2);
	/* as one file: one task pointing at it */
	snprintf(req, sizeof(req), "{\"file_upload_ids\":[%lld],\"files_as_tasks_list\":false}", up);
	r = http("POST", path, owner, req, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 1);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT task_number FROM projects WHERE id = %lld", pid), 1);
	r = http("POST", path, owner, "{\"file_upload_ids\":[]}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 0);
	resp_free(r);
	r = http("POST", path, owner, "{\"file_upload_ids\":{}}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("POST", path, stranger, req, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);

	/* the list, one, patch, delete */
	snprintf(path, sizeof(path), "/api/projects/%lld/file-uploads?all=true", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(jint(r->json, "0.size"), 11);
	cr_assert(strstr(jstr(r->json, "0.file"), "-rows.csv") != NULL);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/file-uploads?ids=[%lld]", pid, up);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(json_object_array_length(r->json), 1, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/file-uploads?ids=abc", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/import/file-upload/%lld", up);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(jint(r->json, "id"), up);
	resp_free(r);
	r = http("GET", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	{
		struct part np[] = { { "new.csv", "text\nz\n", 7 } };
		const char *h[3] = { owner, "Content-Type: " MP_TYPE, NULL };

		body = multipart(np, 1, &len);
		r = http_ex("PATCH", path, h, body, len, NULL);
		free(body);
		cr_assert_eq(r->status, 200, "%s", r->body);
		cr_assert_eq(jint(r->json, "size"), 7);
		cr_assert(strstr(jstr(r->json, "file"), "-new.csv") != NULL);
		resp_free(r);
	}
	r = http("DELETE", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 1);

	/* DELETE many */
	body = multipart(parts, 1, &len);
	r = post(pid, "?commit_to_project=false", body, len, MP_TYPE, NULL);
	free(body);
	up = jint(r->json, "file_upload_ids.0");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/file-uploads", pid);
	snprintf(req, sizeof(req), "{\"file_upload_ids\":[%lld]}", up);
	r = http("DELETE", path, owner, req, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "deleted"), 1);
	resp_free(r);
	r = http("DELETE", path, owner, "{\"file_upload_ids\":\"x\"}", NULL);
	cr_assert_eq(r->status, 400);
	resp_free(r);
}

Test(uploads, idempotency_key)
{
	long long pid = make_project(CONFIG);
	char key[128];
	const char *body = "[{\"text\":\"once\"}]";
	struct resp *r, *r2;

	snprintf(key, sizeof(key), "Idempotency-Key: k-%s", e2e_unique());
	r = post(pid, NULL, body, strlen(body), "application/json", key);
	cr_assert_eq(r->status, 201, "%s", r->body);
	r2 = post(pid, NULL, body, strlen(body), "application/json", key);
	cr_assert_eq(r2->status, 201, "%s", r2->body);
	cr_assert_str_eq(r2->body, r->body);
	resp_free(r);
	resp_free(r2);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 1);
	r = post(pid, NULL, "[{\"text\":\"other\"}]", 18, "application/json", key);
	cr_assert_eq(r->status, 422, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 1);
	/* a failed import leaves no key behind */
	snprintf(key, sizeof(key), "Idempotency-Key: bad-%s", e2e_unique());
	r = post(pid, NULL, "[{\"nope\":1}]", 12, "application/json", key);
	cr_assert_eq(r->status, 400);
	resp_free(r);
	r = post(pid, NULL, body, strlen(body), "application/json", key);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
}

Test(uploads, url_inline_json_and_ssrf_refusal)
{
	long long pid = make_project(CONFIG);
	const char *inline_json = "url=%5B%7B%27text%27%3A%27from+url%27%7D%5D";
	const char *local = "url=http%3A%2F%2F127.0.0.1%3A9%2Ftasks.json";
	struct resp *r;

	r = post(pid, NULL, inline_json, strlen(inline_json), "application/x-www-form-urlencoded", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "task_count"), 1);
	resp_free(r);
	r = post(pid, NULL, local, strlen(local), "application/x-www-form-urlencoded", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "outbound_allow") != NULL, "%s", r->body);
	resp_free(r);
	r = post(pid, NULL, "x=1", 3, "application/x-www-form-urlencoded", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 1);
}

/* url= downloads through the SSRF guard: run-tests.sh lets one loopback port through
 * (SIALI_TEST_FETCH_PORT), where this test serves a CSV file of its own. */
Test(uploads, url_download_through_the_guard)
{
	long long pid = make_project(CONFIG);
	const char *port = getenv("SIALI_TEST_FETCH_PORT");
	char dir[300], body[256];
	struct resp *r;

	cr_assert_not_null(port, "run me through tests/run-tests.sh");
	snprintf(dir, sizeof(dir), "%s", e2e_stack_path("fetch"));
	cr_assert_eq(e2e_sh("mkdir -p '%s' && printf 'text,n\\nfirst,1\\nsecond,2\\n' > '%s/tasks.csv'", dir, dir), 0);
	cr_assert_eq(e2e_sh("(cd '%s' && exec python3 -m http.server %s --bind 127.0.0.1 >/dev/null 2>&1 & "
	    "echo $! > '%s.pid'); for i in $(seq 50); do curl -sf http://127.0.0.1:%s/tasks.csv >/dev/null "
	    "&& exit 0; sleep 0.1; done; exit 1", dir, port, dir, port), 0);
	snprintf(body, sizeof(body), "url=http%%3A%%2F%%2F127.0.0.1%%3A%s%%2Ftasks.csv", port);
	r = post(pid, NULL, body, strlen(body), "application/x-www-form-urlencoded", NULL);
	cr_expect_eq(r->status, 201, "%s", r->body);
	cr_expect_eq(jint(r->json, "task_count"), 2, "%s", r->body);
	resp_free(r);
	/* the same server on a name that is not allowed: refused before any byte is fetched */
	snprintf(body, sizeof(body), "url=http%%3A%%2F%%2Flocalhost%%3A%s%%2Ftasks.csv", port);
	r = post(pid, NULL, body, strlen(body), "application/x-www-form-urlencoded", NULL);
	cr_expect_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	e2e_sh("kill $(cat '%s.pid') 2>/dev/null", dir);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld", pid), 2);
	cr_expect_eq(sql_int("SELECT COUNT(*) FROM tasks WHERE project_id = %lld AND "
	    "JSON_VALUE(data, '$.text') = 'second'", pid), 1);
}

Test(uploads, files_limit_and_chunked_body_limit)
{
	long long pid = make_project(CONFIG);
	size_t n = 101, len;
	struct part *p = calloc(n, sizeof(*p));
	char *body;
	struct resp *r;

	for (size_t i = 0; i < n; i++)
		p[i] = (struct part){ "a.txt", "x", 1 };
	body = multipart(p, n, &len);
	r = post(pid, NULL, body, len, MP_TYPE, NULL);
	free(body);
	free(p);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "max_files_per_import") != NULL, "%s", r->body);
	resp_free(r);
	cr_assert_eq(sql_int("SELECT COUNT(*) FROM file_uploads WHERE project_id = %lld", pid), 0);
	/* a chunked body past max_body_size: 413 (nginx counts it first) */
	{
		char *conf = e2e_out("sed -n 's/^max_body_size *= *//p' %s", getenv("SIALI_CONFIG"));
		int rc = e2e_sh("head -c 300000000 /dev/zero | tr '\\0' 'a' | curl -s -o /dev/null -w '%%{http_code}' "
		    "-H 'Transfer-Encoding: chunked' -H '%s' -H 'Content-Type: text/plain' --data-binary @- "
		    "%s/api/projects/%lld/import | grep -q 413", owner, getenv("SIALI_TEST_URL"), pid);

		free(conf);
		cr_assert_eq(rc, 0);
	}
}

/* An uploaded image travels into the image-format exports when download_resources is on. */
Test(uploads, uploaded_images_go_into_image_exports)
{
	long long pid = make_project(BOX_CONFIG), task;
	static const char png[] = "\x89PNG\r\n\x1a\nexport-me";
	struct part parts[] = { { "dog.png", png, sizeof(png) - 1 } };
	size_t len;
	char *body = multipart(parts, 1, &len), path[256], ann[512], *list, *bytes;
	struct resp *r;

	r = post(pid, "?return_task_ids=true", body, len, MP_TYPE, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->body);
	task = jint(r->json, "task_ids.0");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/tasks/%lld/annotations/", task);
	snprintf(ann, sizeof(ann), "{\"result\":[{\"from_name\":\"%s\",\"to_name\":\"image\","
	    "\"type\":\"rectanglelabels\",\"value\":{\"x\":10,\"y\":10,\"width\":20,\"height\":20,"
	    "\"rectanglelabels\":[\"%s\"]},\"original_width\":100,\"original_height\":100}]}",
	    "box", "Dog");
	r = http("POST", path, owner, ann, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/projects/%lld/export?exportType=VOC", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	{
		FILE *f = fopen(e2e_stack_path("voc.zip"), "w");

		cr_assert_not_null(f);
		fwrite(r->body, 1, r->len, f);
		fclose(f);
	}
	resp_free(r);
	list = e2e_out("unzip -Z1 '%s'", e2e_stack_path("voc.zip"));
	cr_expect(strstr(list, "-dog.png") != NULL && strstr(list, "images/") != NULL, "%s", list);
	cr_expect(strstr(list, "NOTES.txt") == NULL, "the upload was not included: %s", list);
	bytes = e2e_out("unzip -p '%s' 'images/*dog.png' | wc -c", e2e_stack_path("voc.zip"));
	cr_expect_eq(atoi(bytes), (int)(sizeof(png) - 1), "%s", bytes);
	free(list);
	free(bytes);
}
