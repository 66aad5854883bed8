/* jsonstream: lists, one object and JSON Lines split into the exact item spans; every input gives
 * the same items and the same error whether fed whole, a byte at a time or in odd chunks; every
 * error names its byte offset; the depth and size limits name their settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "jsonstream.h"

struct run {
	char out[8192];
	size_t len;
	int rc;
	char err[256];
	enum js_mode mode;
	size_t stop_at;   /* stop after this many items; 0 = never */
};

static int
collect(void *ctx, const char *p, size_t n, size_t index)
{
	struct run *r = ctx;
	int k = snprintf(r->out + r->len, sizeof(r->out) - r->len, "%zu:%.*s\n", index, (int)n, p);

	cr_assert(k > 0 && (size_t)k < sizeof(r->out) - r->len, "output buffer too small");
	r->len += (size_t)k;
	return r->stop_at && index + 1 >= r->stop_at;
}

/* Feeds in chunks of `chunk` bytes (0 = whole). */
static void
split(struct run *r, const char *in, size_t len, size_t chunk, const struct js_limits *lim)
{
	struct jsonstream *js = js_new(lim, collect, r);
	size_t stop_at = r->stop_at;

	memset(r, 0, sizeof(*r));
	r->stop_at = stop_at;
	cr_assert_not_null(js);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && r->rc == 0; i += chunk)
		r->rc = js_feed(js, in + i, len - i < chunk ? len - i : chunk);
	if (r->rc == 0)
		r->rc = js_finish(js);
	snprintf(r->err, sizeof(r->err), "%s", js_error(js));
	r->mode = js_mode(js);
	if (r->rc)
		cr_assert_eq(js_feed(js, "[", 1), r->rc, "status is sticky");
	js_free(js);
}

static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 0 };

/* Checks one input under every chunking against the expected result. */
static void
expect(const char *in, size_t len, const struct js_limits *lim, int rc, const char *out,
    const char *err)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct run r = { .stop_at = 0 };

		split(&r, in, len, chunks[c], lim);
		cr_assert_eq(r.rc, rc, "chunk %zu: rc %d (%s) for %.*s", chunks[c], r.rc, r.err,
		    (int)len, in);
		cr_assert_str_eq(r.out, out, "chunk %zu: items differ for %.*s", chunks[c], (int)len, in);
		cr_assert_str_eq(r.err, err, "chunk %zu: error differs", chunks[c]);
	}
}

#define OK(in, out) expect(in, sizeof(in) - 1, NULL, 0, out, "")
#define BAD(in, out, err) expect(in, sizeof(in) - 1, NULL, -1, out, err)

static int
cnt(void *ctx, const char *p, size_t len, size_t index)
{
	(void)p, (void)len, (void)index;
	++*(size_t *)ctx;
	return 0;
}

static int
add(void *ctx, const char *p, size_t n, size_t index)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, p, (int)n);

	cr_assert_not_null(o, "item %zu does not parse", index);
	cr_assert_eq(json_tokener_get_parse_end(tok), n);
	json_tokener_free(tok);
	json_object_array_add(ctx, o);
	return 0;
}

Test(jsonstream, list_items_are_exact_spans)
{
	OK("[{\"a\":1}, [1,2] ,\"s\\\"]\",12,-3.5e2, true,null,{\"b\":\"}\"}]\n",
	    "0:{\"a\":1}\n1:[1,2]\n2:\"s\\\"]\"\n3:12\n4:-3.5e2\n5:true\n6:null\n7:{\"b\":\"}\"}\n");
	OK(" \r\n\t[\n{ \"x\" : [ { } ] }\n]\n ", "0:{ \"x\" : [ { } ] }\n");
	OK("[\"a\\\\\",\"b\\\\\\\"c\",{\"k\\\"}\":\"[\"}]",
	    "0:\"a\\\\\"\n1:\"b\\\\\\\"c\"\n2:{\"k\\\"}\":\"[\"}\n");
}

Test(jsonstream, empty_list)
{
	struct run r = { .stop_at = 0 };

	OK("[]", "");
	OK("  [ \n ]  ", "");
	split(&r, "[]", 2, 0, NULL);
	cr_assert_eq(r.mode, JS_ARRAY);
}

Test(jsonstream, one_object)
{
	struct run r = { .stop_at = 0 };
	const char *in = "\n{\"data\": {\"text\": \"{[\"}}\n\n";

	OK("{\"data\": {\"text\": \"{[\"}}\n\n", "0:{\"data\": {\"text\": \"{[\"}}\n");
	split(&r, in, strlen(in), 1, NULL);
	cr_assert_eq(r.mode, JS_OBJECT);
}

Test(jsonstream, json_lines)
{
	struct run r = { .stop_at = 0 };
	const char *in = "{\"a\":1}\n{\"b\":2}\r\n\n  [1]\n\"x\"\n42";

	OK("{\"a\":1}\n{\"b\":2}\r\n\n  [1]\n\"x\"\n42",
	    "0:{\"a\":1}\n1:{\"b\":2}\n2:[1]\n3:\"x\"\n4:42\n");
	OK("{\"a\":1}\n-1.5\n", "0:{\"a\":1}\n1:-1.5\n");
	split(&r, in, strlen(in), 3, NULL);
	cr_assert_eq(r.mode, JS_LINES);
}

Test(jsonstream, bom_is_skipped_and_counted_in_offsets)
{
	OK("\xEF\xBB\xBF[1]", "0:1\n");
	OK("\xEF\xBB\xBF{}", "0:{}\n");
	BAD("\xEF\xBB\xBF[1,]", "0:1\n", "Invalid JSON at byte 6: expected a value");
	BAD("\xEF\xBB", "", "Invalid JSON at byte 2: expected a list or an object");
	BAD("\xEFx", "", "Invalid JSON at byte 1: expected a list or an object");
}

Test(jsonstream, malformed_input_names_the_byte)
{
	BAD("x", "", "Invalid JSON at byte 0: expected a list or an object");
	BAD("  42", "", "Invalid JSON at byte 2: expected a list or an object");
	BAD("\"s\"", "", "Invalid JSON at byte 0: expected a list or an object");
	BAD("[1 2]", "0:1\n", "Invalid JSON at byte 3: expected ',' or ']' after a list item");
	BAD("[1,]", "0:1\n", "Invalid JSON at byte 3: expected a value");
	BAD("[,1]", "", "Invalid JSON at byte 1: expected a value");
	BAD("[:]", "", "Invalid JSON at byte 1: expected a value");
	BAD("[1]x", "0:1\n", "Invalid JSON at byte 3: unexpected data after the end of the list");
	BAD("[1] [2]", "0:1\n", "Invalid JSON at byte 4: unexpected data after the end of the list");
	BAD("[1,", "0:1\n", "Invalid JSON at byte 3: the list is not closed (missing ']')");
	BAD("[", "", "Invalid JSON at byte 1: the list is not closed (missing ']')");
	BAD("[12", "", "Invalid JSON at byte 3: the list is not closed (missing ']')");
	BAD("[{\"a\":1}", "0:{\"a\":1}\n", "Invalid JSON at byte 8: the list is not closed (missing ']')");
	BAD("[{\"a\":1", "", "Invalid JSON at byte 1: the value starting here is not closed");
	BAD("[ \"abc", "", "Invalid JSON at byte 2: the value starting here ends inside a string");
	BAD("{\"a\":\"\\\"}", "", "Invalid JSON at byte 0: the value starting here ends inside a string");
	BAD("[{]}", "", "Invalid JSON at byte 2: ']' closes an object");
	BAD("{\"a\":[}", "", "Invalid JSON at byte 6: '}' closes a list");
	BAD("[{'a':1}]", "", "Invalid JSON at byte 2: unexpected character \"'\"");
	OK("[{\"it's\":\"'\"}]", "0:{\"it's\":\"'\"}\n");
	BAD("{\"a\":1}{\"b\":2}", "0:{\"a\":1}\n", "Invalid JSON at byte 7: unexpected data after the object");
	BAD("{\"a\":1} x", "0:{\"a\":1}\n", "Invalid JSON at byte 8: unexpected data after the object");
	BAD("{}\n{}{}", "0:{}\n1:{}\n", "Invalid JSON at byte 5: expected a newline between JSON Lines values");
	BAD("{}\n]", "0:{}\n", "Invalid JSON at byte 3: expected a value");
	BAD("", "", "Invalid JSON: the document is empty");
	BAD(" \r\n\t", "", "Invalid JSON: the document is empty");
}

Test(jsonstream, items_before_an_error_are_delivered)
{
	expect("[1,2,}", 6, NULL, -1, "0:1\n1:2\n", "Invalid JSON at byte 5: expected a value");
}

Test(jsonstream, depth_limit_names_the_setting)
{
	struct js_limits lim = { .max_depth = 3, .depth_setting = "max_json_depth" };

	expect("[[[1]]]", 7, &lim, 0, "0:[[1]]\n", "");
	expect("[[[[1]]]]", 9, &lim, -1, "",
	    "JSON nesting deeper than 3 (setting max_json_depth) at byte 3");
	expect("{\"a\":{\"b\":{}}}", 14, &lim, 0, "0:{\"a\":{\"b\":{}}}\n", "");
	expect("{\"a\":{\"b\":{\"c\":{}}}}", 20, &lim, -1, "",
	    "JSON nesting deeper than 3 (setting max_json_depth) at byte 15");
	lim.depth_setting = NULL;
	expect("[{\"a\":\"[[[[[[\"},[[[[]]]]]", 25, &lim, -1, "0:{\"a\":\"[[[[[[\"}\n",
	    "JSON nesting deeper than 3 at byte 18");
}

Test(jsonstream, deep_nesting_without_a_limit)
{
	size_t n = 200000;
	char *in = malloc(2 * n + 2);
	struct jsonstream *js;
	size_t items = 0;

	in[0] = '[';
	memset(in + 1, '[', n);
	memset(in + 1 + n, ']', n);
	in[2 * n + 1] = ']';
	js = js_new(NULL, cnt, &items);
	cr_assert_eq(js_feed(js, in, 2 * n + 2), 0, "%s", js_error(js));
	cr_assert_eq(js_finish(js), 0);
	cr_assert_eq(items, 1);
	cr_assert_eq(js_count(js), 1);
	js_free(js);
	free(in);
}

Test(jsonstream, element_size_limit_names_the_setting)
{
	struct js_limits lim = { .max_element = 10, .element_setting = "max_task_bytes" };

	expect("[\"01234567\", \"0123456789\"]", 26, &lim, -1, "0:\"01234567\"\n",
	    "JSON item at byte 13 is larger than 10 bytes (setting max_task_bytes)");
	expect("[{\"a\":1234}, 1234567890]", 24, &lim, 0, "0:{\"a\":1234}\n1:1234567890\n", "");
	expect("[12345678901]", 13, &lim, -1, "",
	    "JSON item at byte 1 is larger than 10 bytes (setting max_task_bytes)");
	expect("{}\n12345678901", 14, &lim, -1, "0:{}\n",
	    "JSON item at byte 3 is larger than 10 bytes (setting max_task_bytes)");
}

Test(jsonstream, callback_stops_the_stream)
{
	struct run r = { .stop_at = 2 };
	const char *in = "[1,2,3,4]";

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		r.stop_at = 2;
		split(&r, in, strlen(in), chunks[c], NULL);
		cr_assert_eq(r.rc, 1);
		cr_assert_str_eq(r.out, "0:1\n1:2\n");
		cr_assert_str_eq(r.err, "");
	}
}

Test(jsonstream, stop_is_sticky_through_finish)
{
	struct run r = { .stop_at = 1 };
	struct jsonstream *js = js_new(NULL, collect, &r);

	cr_assert_eq(js_feed(js, "{}\n{}", 5), 1);
	cr_assert_eq(js_feed(js, "\n", 1), 1);
	cr_assert_eq(js_finish(js), 1);
	js_free(js);
}

/* Items split anywhere parse with json-c to the same values as the whole document. */
Test(jsonstream, items_parse_as_the_document_does)
{
	struct json_object *doc = json_object_new_array(), *back = json_object_new_array();
	const char *text;
	size_t len;

	for (int i = 0; i < 500; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int(i));
		json_object_object_add(o, "t", json_object_new_string(i % 3 ? "a \"b\" [c] {d}" : "\\"));
		json_object_object_add(o, "l", json_object_new_array());
		json_object_array_add(doc, o);
	}
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_SPACED);
	len = strlen(text);
	for (size_t chunk = 1; chunk < 5000; chunk = chunk * 3 + 1) {
		struct jsonstream *js = js_new(NULL, add, back);

		for (size_t i = 0; i < len; i += chunk)
			cr_assert_eq(js_feed(js, text + i, len - i < chunk ? len - i : chunk), 0);
		cr_assert_eq(js_finish(js), 0);
		js_free(js);
		cr_assert(json_object_equal(doc, back), "chunk %zu", chunk);
		json_object_put(back);
		back = json_object_new_array();
	}
	json_object_put(back);
	json_object_put(doc);
}


static void
parses_to(const char *item, const char *want)
{
	char err[128];
	struct json_object *o = js_parse(item, strlen(item), 0, 0, err, sizeof(err));

	cr_assert_str_eq(err, "", "%s: %s", item, err);
	cr_assert_str_eq(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null", want);
	json_object_put(o);
}

static void
fails_with(const char *item, size_t offset, size_t depth, const char *want)
{
	char err[128];
	struct json_object *o = js_parse(item, strlen(item), offset, depth, err, sizeof(err));

	cr_assert_null(o, "%s parsed", item);
	cr_assert_str_eq(err, want, "%s", item);
}

Test(jsonstream, js_parse_items)
{
	parses_to("{\"a\": [1, 2.5, \"x\"]}", "{\"a\":[1,2.5,\"x\"]}");
	parses_to("12", "12");
	parses_to("-1.5e3", "-1.5e3");
	parses_to("true", "true");
	parses_to("null", "null");
	parses_to("\"s\"", "\"s\"");
	fails_with("12ab", 100, 0, "Invalid JSON at byte 102: unexpected character");
	fails_with("tru", 0, 0, "Invalid JSON at byte 3: unexpected end of data");
	fails_with("{\"a\":1,}", 0, 0, "Invalid JSON at byte 7: unexpected character");
	fails_with("[1]/*c*/", 0, 0, "Invalid JSON at byte 3: unexpected character");
	parses_to("[NaN]", "[NaN]"); /* as Python's json.loads */
	fails_with("[[[1]]]", 0, 2, "Invalid JSON at byte 2: nesting too deep");
}

struct parsed {
	struct jsonstream *js;
	char err[128];
	size_t ok;
};

static int
each(void *ctx, const char *p, size_t n, size_t index)
{
	struct parsed *st = ctx;
	struct json_object *o = js_parse(p, n, js_item_offset(st->js), 0, st->err, sizeof(st->err));

	(void)index;
	if (o == NULL)
		return 1;
	st->ok++;
	json_object_put(o);
	return 0;
}

/* The splitter and js_parse together, as the import reads a list. */
Test(jsonstream, split_then_parse)
{
	const char *doc = "[{\"data\":{\"t\":1}}, 7, {\"bad\": tru}]";
	struct parsed st = { NULL, "", 0 };

	st.js = js_new(NULL, each, &st);
	cr_assert_eq(js_feed(st.js, doc, strlen(doc)), 1);
	cr_assert_eq(st.ok, 2);
	cr_assert_str_eq(st.err, "Invalid JSON at byte 33: boolean expected");
	js_free(st.js);
}
