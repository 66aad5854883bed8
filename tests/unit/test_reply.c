/* The one error envelope: shape, request id, validation errors, no internals. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <json-c/json.h>

#include "page.h"
#include "reply.h"

static struct json_object *
capture(void (*fn)(struct req *))
{
	struct req r = {0};
	char buf[4096];
	FILE *f;
	size_t n;

	req_begin(&r);
	r.request_id = "abc123";
	fflush(stdout);
	fn(&r);
	fflush(stdout);
	req_release(&r);
	f = cr_get_redirected_stdout();
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

static void fail404(struct req *r) { req_fail(r, 404, "Not found."); }
static void failfield(struct req *r) { req_fail_field(r, "title", "This field may not be blank."); }

Test(reply, error_envelope, .init = cr_redirect_stdout)
{
	struct json_object *o = capture(fail404), *v;

	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "id", &v));
	cr_assert_str_eq(json_object_get_string(v), "abc123");
	cr_assert(json_object_object_get_ex(o, "status_code", &v));
	cr_assert_eq(json_object_get_int(v), 404);
	cr_assert(json_object_object_get_ex(o, "detail", &v));
	cr_assert_str_eq(json_object_get_string(v), "Not found.");
	cr_assert(json_object_object_get_ex(o, "exc_info", &v));
	cr_assert_null(v);
	cr_assert(json_object_object_get_ex(o, "version", &v));
	cr_assert_not(json_object_object_get_ex(o, "validation_errors", &v));
	json_object_put(o);
}

Test(reply, validation_envelope, .init = cr_redirect_stdout)
{
	struct json_object *o = capture(failfield), *v, *list;

	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "detail", &v));
	cr_assert_str_eq(json_object_get_string(v), "Validation error");
	cr_assert(json_object_object_get_ex(o, "status_code", &v));
	cr_assert_eq(json_object_get_int(v), 400);
	cr_assert(json_object_object_get_ex(o, "validation_errors", &v));
	cr_assert(json_object_object_get_ex(v, "title", &list));
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(list, 0)), "This field may not be blank.");
	json_object_put(o);
}

Test(reply, reasons)
{
	cr_assert_str_eq(reply_reason(413), "Content Too Large");
	cr_assert_str_eq(reply_reason(405), "Method Not Allowed");
}

Test(page, envelope_links)
{
	struct req r = {0};
	struct page p;
	struct json_object *o, *v;

	req_begin(&r);
	r.path = "/api/organizations/1/memberships";
	r.raw_path = "/api/organizations/1/memberships/";
	r.query = "page=2&page_size=2&active=1";
	cr_assert_eq(page_parse(&r, &p, 20, 100, 1), 0);
	cr_assert_eq(p.number, 2);
	cr_assert_eq(p.size, 2);
	cr_assert_eq(p.offset, 2);
	o = page_envelope(&r, &p, 5, json_object_new_array());
	cr_assert(json_object_object_get_ex(o, "next", &v));
	cr_assert_str_eq(json_object_get_string(v),
	    "http://localhost/api/organizations/1/memberships/?page_size=2&active=1&page=3");
	cr_assert(json_object_object_get_ex(o, "previous", &v));
	cr_assert_str_eq(json_object_get_string(v),
	    "http://localhost/api/organizations/1/memberships/?page_size=2&active=1");
	cr_assert(json_object_object_get_ex(o, "count", &v));
	cr_assert_eq(json_object_get_int(v), 5);
	json_object_put(o);
	req_release(&r);
}

Test(page, caps_and_all)
{
	struct req r = {0};
	struct page p;

	req_begin(&r);
	r.query = "page_size=100000";
	cr_assert_eq(page_parse(&r, &p, 30, 100, 0), 0);
	cr_assert_eq(p.size, 100);
	r.query = "page_size=-1";
	cr_assert_eq(page_parse(&r, &p, 20, 100, 1), 0);
	cr_assert_gt(p.size, 100);
	r.query = "page_size=-1";
	cr_assert_eq(page_parse(&r, &p, 20, 100, 0), 0);
	cr_assert_eq(p.size, 20);
	req_release(&r);
}
