/* The request arena, defers and parameter parsing. */
#include <stdint.h>
#include <string.h>
#include <criterion/criterion.h>

#include "req.h"

Test(arena, many_and_large_allocations)
{
	struct req r = {0};

	for (int round = 0; round < 3; round++) {
		req_begin(&r);
		for (int i = 0; i < 10000; i++) {
			char *p = req_alloc(&r, 100);
			memset(p, 'x', 100);
			cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
		}
		char *big = req_alloc(&r, 5 << 20);
		memset(big, 1, 5 << 20);
		cr_assert_str_eq(req_printf(&r, "%d-%s", 42, "x"), "42-x");
		cr_assert_str_eq(req_strndup(&r, "abcdef", 3), "abc");
		req_end(&r);
	}
	req_release(&r);
}

static int order[4], norder;
static void rec(void *arg) { order[norder++] = (int)(intptr_t)arg; }

Test(arena, defers_run_in_reverse_and_disarm)
{
	struct req r = {0};
	size_t h;

	req_begin(&r);
	req_defer(&r, rec, (void *)1);
	h = req_defer(&r, rec, (void *)2);
	req_defer(&r, rec, (void *)3);
	req_disarm(&r, h);
	req_end(&r);
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[0], 3);
	cr_assert_eq(order[1], 1);
	req_release(&r);
}

Test(req, query_parameters)
{
	struct req r = {0};
	int bad = 0;

	req_begin(&r);
	r.query = "page=2&page_size=abc&title=a%20b+c&empty=&flag&ids=1&ids=2";
	cr_assert_str_eq(req_query(&r, "page"), "2");
	cr_assert_str_eq(req_query(&r, "title"), "a b c");
	cr_assert_str_eq(req_query(&r, "empty"), "");
	cr_assert_str_eq(req_query(&r, "flag"), "");
	cr_assert_str_eq(req_query(&r, "ids"), "1");
	cr_assert_null(req_query(&r, "missing"));
	cr_assert_eq(req_query_int(&r, "page", 1, &bad), 2);
	cr_assert_eq(bad, 0);
	cr_assert_eq(req_query_int(&r, "page_size", 30, &bad), 30);
	cr_assert_eq(bad, 1);
	cr_assert_str_eq(req_urldecode(&r, "%zz%4", 5, 0), "%zz%4");
	cr_assert_str_eq(req_urldecode(&r, "%41%62", 6, 0), "Ab");
	req_release(&r);
}
