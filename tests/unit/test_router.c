/* Router: the real table is sane, and matching follows the rules (params, methods, slashes). */
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "router.h"

static int dummy(struct req *r) { (void)r; return 200; }

Test(router, real_table_is_sane)
{
	cr_assert_eq(router_check(routes, routes_count), 0);
}

Test(router, check_finds_every_problem)
{
	static const struct route bad[] = {
		{ "GET", "/a", dummy, AUTH_INVALID, BODY_NONE, "no-auth" },
		{ "GET", "/b/", dummy, AUTH_USER, BODY_NONE, "trailing-slash" },
		{ "GET", "/c", dummy, AUTH_USER, BODY_NONE, "c" },
		{ "GET", "/c", dummy, AUTH_USER, BODY_NONE, "c-again" },
		{ "BREW", "/d", dummy, AUTH_USER, BODY_NONE, "bad-method" },
	};
	cr_assert_eq(router_check(bad, 5), 4);
}

Test(router, matches_params)
{
	struct req r = {0};
	char allow[64];
	const struct route *rt;

	req_begin(&r);
	rt = router_match(routes, routes_count, &r, "GET", "/api/users/42", allow, sizeof(allow));
	cr_assert_not_null(rt);
	cr_assert_str_eq(rt->name, "users.get");
	cr_assert_str_eq(req_param(&r, "id"), "42");
	cr_assert_eq(req_param_id(&r, "id"), 42);
	rt = router_match(routes, routes_count, &r, "GET", "/api/organizations/7/memberships", allow, sizeof(allow));
	cr_assert_not_null(rt);
	cr_assert_str_eq(rt->name, "orgs.memberships");
	cr_assert_eq(req_param_id(&r, "id"), 7);
	req_release(&r);
}

Test(router, method_not_allowed_lists_allow)
{
	struct req r = {0};
	char allow[64];

	req_begin(&r);
	cr_assert_null(router_match(routes, routes_count, &r, "PUT", "/api/users/1", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, PATCH, DELETE");
	cr_assert_null(router_match(routes, routes_count, &r, "GET", "/api/nothing", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "");
	req_release(&r);
}

Test(router, segments_must_match_whole)
{
	struct req r = {0};
	char allow[64];

	req_begin(&r);
	cr_assert_null(router_match(routes, routes_count, &r, "GET", "/api/users/1/extra", allow, sizeof(allow)));
	cr_assert_null(router_match(routes, routes_count, &r, "GET", "/api/user", allow, sizeof(allow)));
	cr_assert_null(router_match(routes, routes_count, &r, "GET", "/api/users//", allow, sizeof(allow)));
	cr_assert_null(router_match(routes, routes_count, &r, "GET", "/healthz", allow, sizeof(allow)));
	req_release(&r);
}

Test(router, non_numeric_id_is_not_an_id)
{
	struct req r = {0};
	char allow[64];

	req_begin(&r);
	cr_assert_not_null(router_match(routes, routes_count, &r, "GET", "/api/users/abc", allow, sizeof(allow)));
	cr_assert_eq(req_param_id(&r, "id"), -1);
	cr_assert_not_null(router_match(routes, routes_count, &r, "GET", "/api/users/0", allow, sizeof(allow)));
	cr_assert_eq(req_param_id(&r, "id"), -1);
	cr_assert_not_null(router_match(routes, routes_count, &r, "GET", "/api/users/99999999999999999999", allow, sizeof(allow)));
	cr_assert_eq(req_param_id(&r, "id"), -1);
	req_release(&r);
}

/* The JSON body gate: strict JSON only, whatever json-c would tolerate. */
static int
parse(const char *body)
{
	struct req r = {0};
	int rc;

	req_begin(&r);
	r.body = (char *)body;
	r.body_len = strlen(body);
	rc = router_parse_json(&r);
	req_release(&r);
	return rc;
}

Test(router, json_gate_is_strict, .init = cr_redirect_stdout)
{
	cr_assert_eq(parse("{\"a\": [1, \"it's\", {\"b\": null}]}"), 0);
	cr_assert_eq(parse("  "), 0);
	cr_assert_eq(parse("{'a': 1}"), 400);
	cr_assert_eq(parse("{\"a\": 'x'}"), 400);
	cr_assert_eq(parse("{\"a\": \"\\\"'\"}"), 0);
	cr_assert_eq(parse("[1, 2,]"), 400);
	cr_assert_eq(parse("{\"a\": 1} x"), 400);
	cr_assert_eq(parse("{\"a\": \"\xc3\x28\"}"), 400);
	cr_assert_eq(parse("{\"a\": NaN}"), 400);
	cr_assert_eq(parse("[-Infinity]"), 400);
	cr_assert_eq(parse("{\"NaN\": \"Infinity\"}"), 0);
	cr_assert_eq(parse("{\"a\": 1"), 400);
}
