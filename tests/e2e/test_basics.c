/* Replies and gates through real nginx: health and version, the error envelope and request id,
 * 404 / 405 + Allow / 413 / 415 / 400, trailing slashes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char auth[256];

static void
setup(void)
{
	strcpy(auth, e2e_user("basics", NULL, NULL));
	cr_assert(auth[0], "siali user --create failed");
}

TestSuite(basics, .init = setup, .timeout = 60);

/* The envelope of every error: id (= X-Request-Id), status_code, version, detail, exc_info. */
static void
assert_envelope(struct resp *r, long status)
{
	const char *rid = resp_header(r, "X-Request-Id");

	cr_assert_eq(r->status, status, "status %ld, wanted %ld: %s", r->status, status, r->body);
	cr_assert_not_null(r->json, "not JSON: %s", r->body);
	cr_assert_eq(jint(r->json, "status_code"), status);
	cr_assert_str_eq(jstr(r->json, "version"), "0.1.0");
	cr_assert(strlen(jstr(r->json, "detail")) > 0);
	cr_assert(json_object_object_get_ex(r->json, "exc_info", NULL) && jpath(r->json, "exc_info") == NULL);
	cr_assert_not_null(rid);
	cr_assert_eq(strlen(rid), 32);
	cr_assert_str_eq(jstr(r->json, "id"), rid);
	cr_assert(strstr(r->headers, "application/json") != NULL);
}

Test(basics, health_and_version)
{
	struct resp *r = http("GET", "/health", NULL, NULL, NULL);

	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "status"), "UP");
	resp_free(r);
	r = http("GET", "/api/health", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "status"), "up");
	resp_free(r);
	for (int i = 0; i < 2; i++) {
		r = http("GET", i ? "/version" : "/api/version/", NULL, NULL, NULL);
		cr_assert_eq(r->status, 200);
		cr_assert_str_eq(jstr(r->json, "release"), "0.1.0");
		cr_assert_not_null(jpath(r->json, "label-studio-os-package"));
		cr_assert_not_null(jpath(r->json, "label-studio-os-backend"));
		resp_free(r);
	}
}

Test(basics, unknown_path_404)
{
	struct resp *r = http("GET", "/api/no-such-thing/", auth, NULL, NULL);

	assert_envelope(r, 404);
	resp_free(r);
	r = http("GET", "/definitely/not/here", NULL, NULL, NULL);
	assert_envelope(r, 404);
	resp_free(r);
}

Test(basics, method_not_allowed_with_allow)
{
	struct resp *r = http("DELETE", "/api/current-user/whoami", auth, NULL, NULL);
	const char *allow;

	assert_envelope(r, 405);
	allow = resp_header(r, "Allow");
	cr_assert_not_null(allow);
	cr_assert(strstr(allow, "GET") != NULL, "Allow: %s", allow);
	resp_free(r);
	r = http("PUT", "/api/users/1/", auth, "{}", NULL);
	assert_envelope(r, 405);
	allow = resp_header(r, "Allow");
	cr_assert(strstr(allow, "PATCH") && strstr(allow, "DELETE") && strstr(allow, "GET"), "Allow: %s", allow);
	resp_free(r);
}

Test(basics, trailing_slash_optional_no_redirect)
{
	const char *paths[] = { "/api/current-user/whoami", "/api/current-user/whoami/", "/api/users",
		"/api/users/", "/health/", "/api/organizations/" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct resp *r = http("GET", paths[i], auth, NULL, NULL);
		cr_assert_eq(r->status, 200, "%s -> %ld", paths[i], r->status);
		resp_free(r);
	}
	/* POST too: both forms reach the handler (400: no username). */
	for (int i = 0; i < 2; i++) {
		struct resp *r = http("POST", i ? "/api/users/" : "/api/users", auth, "{}", NULL);
		cr_assert_eq(r->status, 400, "%s", r->body);
		resp_free(r);
	}
}

Test(basics, unauthenticated_is_401_in_envelope)
{
	struct resp *r = http("GET", "/api/users/", NULL, NULL, NULL);

	assert_envelope(r, 401);
	cr_assert_str_eq(jstr(r->json, "detail"), "Authentication credentials were not provided.");
	resp_free(r);
}

Test(basics, not_json_is_415)
{
	struct resp *r = http("POST", "/api/users/", auth, "username=x", "application/x-www-form-urlencoded");

	assert_envelope(r, 415);
	resp_free(r);
	r = http("PATCH", "/api/organizations/1", auth, "<a/>", "text/xml");
	cr_assert(r->status == 415 || r->status == 404, "%ld", r->status);
	resp_free(r);
}

Test(basics, malformed_json_is_400)
{
	const char *bad[] = { "{\"username\":", "{\"a\":1} trailing", "{'a':1}", "[1,2,,]", "\xff\xfe" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp *r = http("POST", "/api/users/", auth, bad[i], NULL);
		assert_envelope(r, 400);
		cr_assert(strstr(r->body, "JSON") != NULL, "%s", r->body);
		resp_free(r);
	}
}

Test(basics, deep_json_is_400_not_a_crash)
{
	size_t depth = 100000;
	char *b = malloc(depth * 2 + 1);

	memset(b, '[', depth);
	memset(b + depth, ']', depth);
	b[depth * 2] = '\0';
	struct resp *r = http("POST", "/api/users/", auth, b, NULL);
	assert_envelope(r, 400);
	resp_free(r);
	free(b);
}

Test(basics, oversized_body_is_413_without_reading_it)
{
	/* The test stack runs with max_body_size = 2M (nginx client_max_body_size the same). */
	size_t n = 3 << 20;
	char *b = malloc(n + 1);

	memset(b, ' ', n);
	b[0] = '{';
	b[n - 1] = '}';
	b[n] = '\0';
	struct resp *r = http_ex("POST", "/api/users/", (const char *[]){ auth, NULL }, b, n, NULL);
	assert_envelope(r, 413);
	cr_assert(strstr(jstr(r->json, "detail"), "max_body_size") != NULL, "%s", r->body);
	resp_free(r);
	free(b);
}

Test(basics, request_id_in_log_line)
{
	struct resp *r = http("GET", "/api/does-not-exist-e2e", NULL, NULL, NULL);
	const char *rid = resp_header(r, "X-Request-Id");
	char *hits;

	cr_assert_not_null(rid);
	/* Log lines are written when the reply is done; give the worker a moment. */
	for (int i = 0; i < 50; i++) {
		hits = e2e_out("grep -c '%s' '%s'", rid, e2e_stack_path("serve.log"));
		if (atoi(hits) > 0) {
			free(hits);
			resp_free(r);
			return;
		}
		free(hits);
		usleep(100000);
	}
	cr_assert_fail("request id %s not in serve.log", rid);
}
