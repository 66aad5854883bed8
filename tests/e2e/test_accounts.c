/* Users, organizations and memberships in Label Studio's shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

static char owner[256];
static long long owner_id, org_id;

static void
setup(void)
{
	char name[64];
	struct resp *r;

	snprintf(name, sizeof(name), "acct-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Accounts org", &owner_id));
	cr_assert(owner[0]);
	r = http("GET", "/api/current-user/whoami", owner, NULL, NULL);
	org_id = jint(r->json, "active_organization");
	resp_free(r);
}

TestSuite(accounts, .init = setup, .timeout = 60);

/* Creates a member through the API; returns its id. */
static long long
add_member(const char *base, const char *extra)
{
	char body[512];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"username\":\"%s-%s\",\"email\":\"%s-%s@example.com\","
	    "\"password\":\"correct horse\"%s}", base, e2e_unique(), base, e2e_unique(), extra ? extra : "");
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

Test(accounts, whoami_shape)
{
	struct resp *r = http("GET", "/api/current-user/whoami", owner, NULL, NULL);
	const char *keys[] = { "id", "first_name", "last_name", "username", "email", "last_activity",
		"custom_hotkeys", "avatar", "initials", "phone", "active_organization",
		"active_organization_meta", "allow_newsletters", "date_joined" };

	cr_assert_eq(r->status, 200);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(json_object_object_get_ex(r->json, keys[i], NULL), "missing %s", keys[i]);
	cr_assert_eq(jint(r->json, "id"), owner_id);
	cr_assert_str_eq(jstr(r->json, "active_organization_meta.title"), "Accounts org");
	cr_assert_null(json_object_object_get(r->json, "password"));
	cr_assert(strstr(r->body, "argon2") == NULL);
	resp_free(r);
}

Test(accounts, create_list_get)
{
	long long id = add_member("alice", ",\"first_name\":\"Ålice\",\"last_name\":\"Zed\"");
	char path[64];
	struct resp *r;
	int found = 0;

	snprintf(path, sizeof(path), "/api/users/%lld/", id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "first_name"), "Ålice");
	cr_assert_str_eq(jstr(r->json, "initials"), "ÅZ");
	cr_assert_eq(jint(r->json, "active_organization"), org_id);
	resp_free(r);
	r = http("GET", "/api/users/", owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	for (size_t i = 0; i < json_object_array_length(r->json); i++)
		found += json_object_get_int64(json_object_object_get(json_object_array_get_idx(r->json, i), "id")) == id;
	cr_assert_eq(found, 1);
	resp_free(r);
	cr_assert_eq((r = http("GET", "/api/users/999999999/", owner, NULL, NULL))->status, 404);
	resp_free(r);
	cr_assert_eq((r = http("GET", "/api/users/abc/", owner, NULL, NULL))->status, 404);
	resp_free(r);
}

Test(accounts, create_validation)
{
	struct resp *r = http("POST", "/api/users/", owner, "{\"email\":\"not-an-email\",\"password\":\"short\"}", NULL);

	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_not_null(jpath(r->json, "validation_errors.email"), "%s", r->body);
	cr_assert_not_null(jpath(r->json, "validation_errors.password"), "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/users/", owner, "{\"username\": 12}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/users/", owner, "[]", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	/* Duplicate username. */
	char body[256];
	snprintf(body, sizeof(body), "{\"username\":\"dup-%s\"}", e2e_unique());
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert_not_null(jpath(r->json, "validation_errors.username"), "%s", r->body);
	resp_free(r);
}

Test(accounts, patch_rules)
{
	long long id = add_member("bob", NULL);
	char path[64], name[128], member[256];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/users/%lld", id);
	r = http("PATCH", path, owner, "{\"first_name\":\"Bobby\",\"custom_hotkeys\":{\"a\":\"b\"},\"allow_newsletters\":true}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "first_name"), "Bobby");
	cr_assert_str_eq(jstr(r->json, "custom_hotkeys.a"), "b");
	cr_assert(json_object_get_boolean(jpath(r->json, "allow_newsletters")));
	snprintf(name, sizeof(name), "%s", jstr(r->json, "username"));
	resp_free(r);
	r = http("PATCH", path, owner, "{\"email\":\"x@example.com\"}", NULL);
	cr_assert_eq(r->status, 405, "%s", r->body);
	resp_free(r);
	r = http("PATCH", path, owner, "{\"username\":\"\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	/* A member edits itself, not others. */
	strcpy(member, e2e_user(name, NULL, NULL));
	r = http("PATCH", path, member, "{\"last_name\":\"Self\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/users/%lld", owner_id);
	r = http("PATCH", path, member, "{\"last_name\":\"Hijack\"}", NULL);
	cr_assert_eq(r->status, 403, "%s", r->body);
	resp_free(r);
	r = http("DELETE", path, member, NULL, NULL);
	cr_assert_eq(r->status, 403, "%s", r->body);
	resp_free(r);
}

Test(accounts, delete_member)
{
	long long id = add_member("carol", NULL);
	char path[64], name[128], member[256];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/users/%lld", id);
	r = http("GET", path, owner, NULL, NULL);
	snprintf(name, sizeof(name), "%s", jstr(r->json, "username"));
	resp_free(r);
	strcpy(member, e2e_user(name, NULL, NULL));
	r = http("GET", "/api/current-user/whoami", member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	/* Belonging nowhere now, the account is closed and its token dead. */
	r = http("GET", "/api/current-user/whoami", member, NULL, NULL);
	cr_assert_eq(r->status, 401, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/users/%lld", owner_id);
	r = http("DELETE", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 405, "%s", r->body);
	resp_free(r);
}

Test(accounts, organizations)
{
	char path[128];
	struct resp *r = http("GET", "/api/organizations/", owner, NULL, NULL);

	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(jint(r->json, "0.id"), org_id);
	cr_assert_str_eq(jstr(r->json, "0.title"), "Accounts org");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/organizations/%lld/", org_id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(jint(r->json, "created_by"), owner_id);
	cr_assert(json_object_is_type(jpath(r->json, "users"), json_type_array));
	resp_free(r);
	r = http("PATCH", path, owner, "{\"title\":\"Renamed org\",\"contact_info\":\"ops@example.com\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "title"), "Renamed org");
	cr_assert_str_eq(jstr(r->json, "contact_info"), "ops@example.com");
	resp_free(r);
	r = http("PATCH", path, owner, "{\"title\":\"\"}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	r = http("PATCH", path, owner, "{\"title\":\"Accounts org\"}", NULL);
	resp_free(r);
}

Test(accounts, memberships_paginated)
{
	char path[256];
	struct resp *r;
	long long total;

	add_member("m1", NULL);
	add_member("m2", NULL);
	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships/", org_id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	total = jint(r->json, "count");
	cr_assert(total >= 3);
	cr_assert(json_object_is_type(jpath(r->json, "results"), json_type_array));
	cr_assert_not_null(jpath(r->json, "results.0.user.username"));
	cr_assert_eq(jint(r->json, "results.0.organization"), org_id);
	resp_free(r);

	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships?page_size=1&page=2", org_id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "count"), total);
	cr_assert_eq(json_object_array_length(jpath(r->json, "results")), 1);
	cr_assert(strstr(jstr(r->json, "next"), "page=3") != NULL, "%s", r->body);
	cr_assert(strstr(jstr(r->json, "next"), "page_size=1") != NULL, "%s", r->body);
	cr_assert(strncmp(jstr(r->json, "next"), "http://127.0.0.1:", 17) == 0, "%s", r->body);
	cr_assert_not_null(jpath(r->json, "previous"));
	resp_free(r);

	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships?page_size=1&page=%lld", org_id, total);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_null(jpath(r->json, "next"));
	resp_free(r);
	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships?page_size=1&page=%lld", org_id, total + 1);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Invalid page.");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships?page=0", org_id);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

Test(accounts, cli_prints_user_with_token)
{
	char *out = e2e_out("'%s' user --username 'nobody-%s' 2>&1; echo \"rc=$?\"", e2e_bin(), e2e_unique());

	cr_assert(strstr(out, "rc=1") != NULL, "%s", out);
	free(out);
	char name[128];
	struct resp *r = http("GET", "/api/current-user/whoami", owner, NULL, NULL);
	snprintf(name, sizeof(name), "%s", jstr(r->json, "username"));
	resp_free(r);
	out = e2e_out("'%s' user --username '%s'", e2e_bin(), name);
	struct json_object *o = json_tokener_parse(out);
	cr_assert_not_null(o, "%s", out);
	cr_assert_eq(jint(o, "id"), owner_id);
	cr_assert_eq(strlen(jstr(o, "token")), 40);
	cr_assert(strstr(owner, jstr(o, "token")) != NULL);
	json_object_put(o);
	free(out);
}
