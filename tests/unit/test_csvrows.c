/* csvrows: CSV/TSV to one object per row with the header as keys, as Label Studio's pandas import
 * reads them (first row = header, ',' or ';' detected, values as text); identical rows and errors
 * whether fed whole, a byte at a time or in odd chunks; errors name the line; limits name their
 * settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "csvrows.h"

struct run {
	char out[8192];
	size_t len;
	int rc;
	char err[256];
	char sep;
	size_t ncols;
	size_t stop_at;   /* stop after this many rows; 0 = never */
};

static int
collect(void *ctx, struct json_object *row, size_t index, size_t line)
{
	struct run *r = ctx;
	int k = snprintf(r->out + r->len, sizeof(r->out) - r->len, "%zu@%zu:%s\n", index, line,
	    json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(row);
	cr_assert(k > 0 && (size_t)k < sizeof(r->out) - r->len, "output buffer too small");
	r->len += (size_t)k;
	return r->stop_at && index + 1 >= r->stop_at;
}

static void
parse(struct run *r, char sep, const char *in, size_t len, size_t chunk,
    const struct csvrows_limits *lim)
{
	struct csvrows *c = csvrows_new(sep, lim, collect, r);
	size_t stop_at = r->stop_at;

	memset(r, 0, sizeof(*r));
	r->stop_at = stop_at;
	cr_assert_not_null(c);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && r->rc == 0; i += chunk)
		r->rc = csvrows_feed(c, in + i, len - i < chunk ? len - i : chunk);
	if (r->rc == 0)
		r->rc = csvrows_finish(c);
	snprintf(r->err, sizeof(r->err), "%s", csvrows_error(c));
	r->sep = csvrows_sep(c);
	r->ncols = csvrows_ncolumns(c);
	if (r->rc)
		cr_assert_eq(csvrows_feed(c, "x\n", 2), r->rc, "status is sticky");
	csvrows_free(c);
}

static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 0 };

static void
expect(char sep, const char *in, size_t len, const struct csvrows_limits *lim, int rc,
    const char *out, const char *err)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct run r = { .stop_at = 0 };

		parse(&r, sep, in, len, chunks[c], lim);
		cr_assert_eq(r.rc, rc, "chunk %zu: rc %d (%s) for %.*s", chunks[c], r.rc, r.err,
		    (int)len, in);
		cr_assert_str_eq(r.out, out, "chunk %zu: rows differ for %.*s", chunks[c], (int)len, in);
		cr_assert_str_eq(r.err, err, "chunk %zu: error differs", chunks[c]);
	}
}

#define OK(sep, in, out) expect(sep, in, sizeof(in) - 1, NULL, 0, out, "")
#define BAD(sep, in, out, err) expect(sep, in, sizeof(in) - 1, NULL, -1, out, err)

static char
detected(const char *in)
{
	struct run r = { .stop_at = 0 };

	parse(&r, 0, in, strlen(in), 0, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	return r.sep;
}

Test(csvrows, header_row_gives_the_keys)
{
	struct run r = { .stop_at = 0 };

	OK(0, "a,b\n1,2\n3,4\n", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n1@3:{\"a\":\"3\",\"b\":\"4\"}\n");
	OK(0, "a,b\r\n1,2\r\n3,4", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n1@3:{\"a\":\"3\",\"b\":\"4\"}\n");
	OK(0, "a,b\r1,2\r3,4\r", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n1@3:{\"a\":\"3\",\"b\":\"4\"}\n");
	/* mixed line ends: CR, then LF alone, count one line each */
	OK(0, "a,b\r1,2\r3,4\n5,6\r\n7,8", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n1@3:{\"a\":\"3\",\"b\":\"4\"}\n"
	    "2@4:{\"a\":\"5\",\"b\":\"6\"}\n3@5:{\"a\":\"7\",\"b\":\"8\"}\n");
	OK(0, "text\n\"hello, world\"\n", "0@2:{\"text\":\"hello, world\"}\n");
	parse(&r, 0, "a,b,c\n", 6, 1, NULL);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.ncols, 3);
	cr_assert_str_eq(r.out, "");
}

Test(csvrows, quoted_fields_with_newlines_separators_and_quotes)
{
	OK(0, "id,text\r\n1,\"hello, \"\"world\"\"\r\nline2\"\r\n2,x\r\n",
	    "0@2:{\"id\":\"1\",\"text\":\"hello, \\\"world\\\"\\r\\nline2\"}\n"
	    "1@4:{\"id\":\"2\",\"text\":\"x\"}\n");
	OK(0, "a,b\n\"\",\"\"\"\"\n", "0@2:{\"a\":\"\",\"b\":\"\\\"\"}\n");
	OK(0, "\"a\nb\",c\n1,2\n", "0@3:{\"a\\nb\":\"1\",\"c\":\"2\"}\n");
}

Test(csvrows, values_are_kept_as_text)
{
	OK(0, "a,b,c\n,, \n", "0@2:{\"a\":\"\",\"b\":\"\",\"c\":\" \"}\n");
	OK(0, "n,x\n 007 , 1.5e3\n", "0@2:{\"n\":\" 007 \",\"x\":\" 1.5e3\"}\n");
	OK(0, "t\nna\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80\n",
	    "0@2:{\"t\":\"na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80\"}\n");
	OK(0, "u\nx/y\n", "0@2:{\"u\":\"x/y\"}\n");
}

Test(csvrows, blank_lines_are_skipped)
{
	OK(0, "a,b\n\n1,2\n   \n\r\n\t\n3,4\n\n",
	    "0@3:{\"a\":\"1\",\"b\":\"2\"}\n1@7:{\"a\":\"3\",\"b\":\"4\"}\n");
	OK(0, "\n\r\na;b\n1;2\n", "0@4:{\"a\":\"1\",\"b\":\"2\"}\n");
}

Test(csvrows, bom_is_skipped)
{
	OK(0, "\xEF\xBB\xBFid;text\n1;a,b\n", "0@2:{\"id\":\"1\",\"text\":\"a,b\"}\n");
	OK(',', "\xEF\xBB\xBFid\n1\n", "0@2:{\"id\":\"1\"}\n");
	/* an EF that does not start a BOM is data (and not UTF-8 here) */
	BAD(0, "\xEFid\n1\n", "", "CSV line 1 is not valid UTF-8");
}

Test(csvrows, separator_detection)
{
	cr_assert_eq(detected("a,b\n1,2\n"), ',');
	cr_assert_eq(detected("a;b;c\n1;2;3\n"), ';');
	cr_assert_eq(detected("a\tb\n1\t2\n"), '\t');
	cr_assert_eq(detected("a|b\n1|2\n"), '|');
	cr_assert_eq(detected("single\nx\n"), ',');
	cr_assert_eq(detected("a,b;c\n1,2;3\n"), ',');   /* tie: ',' first, as Label Studio */
	cr_assert_eq(detected("a;b,c;d\n1;2,3;4\n"), ';');
	cr_assert_eq(detected("\"x,y,z\";b\n1;2\n"), ';'); /* quoted separators do not count */
	cr_assert_eq(detected("\n\na|b\n1|2\n"), '|');   /* blank lines first */
	cr_assert_eq(detected("a;b"), ';');               /* no line end at all */
	OK(0, "a|b\n1|2,3\n", "0@2:{\"a\":\"1\",\"b\":\"2,3\"}\n");
}

Test(csvrows, tsv)
{
	OK('\t', "a\tb\nx,y\tz;w\n", "0@2:{\"a\":\"x,y\",\"b\":\"z;w\"}\n");
	OK('\t', "a\tb\n\t\n", "0@2:{\"a\":\"\",\"b\":\"\"}\n");
	cr_assert_null(csvrows_new('"', NULL, collect, NULL));
	cr_assert_null(csvrows_new('\n', NULL, collect, NULL));
}

Test(csvrows, header_names_as_pandas_makes_them)
{
	struct run r = { .stop_at = 0 };
	struct csvrows *c = csvrows_new(0, NULL, collect, &r);

	OK(0, ",a,a,a.1,\n1,2,3,4,5\n",
	    "0@2:{\"Unnamed: 0\":\"1\",\"a\":\"2\",\"a.1\":\"3\",\"a.1.1\":\"4\",\"Unnamed: 4\":\"5\"}\n");
	cr_assert_eq(csvrows_ncolumns(c), 0);
	cr_assert_eq(csvrows_feed(c, "x,x,x\n", 6), 0);
	cr_assert_eq(csvrows_ncolumns(c), 3);
	cr_assert_str_eq(csvrows_column(c, 0), "x");
	cr_assert_str_eq(csvrows_column(c, 1), "x.1");
	cr_assert_str_eq(csvrows_column(c, 2), "x.2");
	cr_assert_null(csvrows_column(c, 3));
	cr_assert_eq(csvrows_finish(c), 0);
	cr_assert_eq(csvrows_count(c), 0);
	csvrows_free(c);
}

Test(csvrows, field_count_must_match_the_header)
{
	BAD(0, "a,b\n1,2\n1,2,3\n", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n", "Expected 2 fields in line 3, saw 3");
	BAD(0, "a,b\n1\n", "", "Expected 2 fields in line 2, saw 1");
	BAD(0, "a,b\n\n\"x\ny\",1,2\n", "", "Expected 2 fields in line 3, saw 3");
	BAD(0, "a,b\n1,2\n3", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n", "Expected 2 fields in line 3, saw 1");
}

Test(csvrows, unclosed_quote_is_an_error)
{
	BAD(0, "a,b\n1,\"abc\n", "", "CSV line 2: a quoted field is not closed");
	BAD(0, "a,b\n1,2\n\"x,\n\n", "0@2:{\"a\":\"1\",\"b\":\"2\"}\n", "CSV line 3: a quoted field is not closed");
}

Test(csvrows, text_must_be_utf8)
{
	BAD(0, "a,b\n1,\xff\n", "", "CSV line 2 is not valid UTF-8");
	BAD(0, "a,b\n1,\xc0\xaf\n", "", "CSV line 2 is not valid UTF-8");        /* overlong */
	BAD(0, "a,b\n1,\xed\xa0\x80\n", "", "CSV line 2 is not valid UTF-8");    /* surrogate */
	BAD(0, "a,b\n1,\xf4\x90\x80\x80\n", "", "CSV line 2 is not valid UTF-8"); /* > U+10FFFF */
	BAD(0, "a,b\n1,\xe2\x82\n", "", "CSV line 2 is not valid UTF-8");        /* cut */
	BAD(0, "a\xe2\n", "", "CSV line 1 is not valid UTF-8");
	expect(0, "a\0b\n1\n", 6, NULL, -1, "", "CSV header (line 1) has a NUL byte");
}

Test(csvrows, empty_file_is_an_error)
{
	BAD(0, "", "", "The CSV file is empty");
	BAD(0, "\n\r\n\n", "", "The CSV file is empty");
	BAD(0, "\xEF\xBB\xBF", "", "The CSV file is empty");
	BAD(';', "  \n", "", "The CSV file is empty");
}

Test(csvrows, field_size_limit_names_the_setting)
{
	struct csvrows_limits lim = { .max_field = 5, .field_setting = "max_csv_field" };

	expect(0, "a,b\n12345,1\n", 12, &lim, 0, "0@2:{\"a\":\"12345\",\"b\":\"1\"}\n", "");
	expect(0, "a,b\n1,2\n123456,1\n", 18, &lim, -1, "0@2:{\"a\":\"1\",\"b\":\"2\"}\n",
	    "CSV line 3 has a field larger than 5 (setting max_csv_field)");
	expect(0, "a,b\n1,\"12\n3456\"\n", 16, &lim, -1, "",
	    "CSV line 2 has a field larger than 5 (setting max_csv_field)");
	/* the field is exactly the limit whatever chunk ends right after its closing quote */
	expect(0, "a,b\n\"12345\",\"1\"\"\"\n", 18, &lim, 0, "0@2:{\"a\":\"12345\",\"b\":\"1\\\"\"}\n", "");
	/* an oversized field beats a column limit, however the input is cut */
	lim.max_columns = 1;
	expect(0, ",123456\n", 8, &lim, -1, "", "CSV line 1 has a field larger than 5 (setting max_csv_field)");
}

/* A field that never ends is refused while it is being read, not at the end. */
Test(csvrows, runaway_field_fails_early)
{
	struct csvrows_limits lim = { .max_field = 100000 };
	struct csvrows *c = csvrows_new(',', &lim, collect, NULL);
	char *big = malloc(1 << 20);

	/* caught within a piece (64 KiB) of the limit, long before the end of the 1 MiB chunk */
	int rc = 0;
	size_t fed = 0;

	memset(big, 'x', 1 << 20);
	cr_assert_eq(csvrows_feed(c, "h\n\"", 3), 0);
	while (rc == 0 && fed < 50 * (1 << 20)) {
		rc = csvrows_feed(c, big, 1 << 20);
		fed += 1 << 20;
	}
	cr_assert_eq(rc, -1);
	cr_assert_eq(fed, 1 << 20);
	cr_assert_str_eq(csvrows_error(c), "CSV line 2 has a field larger than 100000");
	csvrows_free(c);
	free(big);
}

Test(csvrows, column_limit_names_the_setting)
{
	struct csvrows_limits lim = { .max_columns = 3, .columns_setting = "max_csv_columns" };

	expect(0, "a,b,c\n1,2,3\n", 12, &lim, 0, "0@2:{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n", "");
	expect(0, "a,b,c,d\n1,2,3,4\n", 16, &lim, -1, "",
	    "CSV line 1 has more columns than 3 (setting max_csv_columns)");
	expect(0, "a,b,c\n1,2,3,4,5\n", 16, &lim, -1, "",
	    "CSV line 2 has more columns than 3 (setting max_csv_columns)");
}

Test(csvrows, callback_stops_the_rows)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct run r = { .stop_at = 1 };

		parse(&r, 0, "a\n1\n2\n3\n", 8, chunks[c], NULL);
		cr_assert_eq(r.rc, 1);
		cr_assert_str_eq(r.out, "0@2:{\"a\":\"1\"}\n");
		cr_assert_str_eq(r.err, "");
	}
}

static int
check(void *ctx, struct json_object *row, size_t index, size_t l)
{
	size_t *state = ctx;
	char want[64];
	int i = (int)index;

	cr_assert_eq(index, state[0]);
	cr_assert_eq(l, state[1], "row %zu at line %zu, expected %zu", index, l, state[1]);
	snprintf(want, sizeof(want), i % 7 ? "plain %d" : "two\nlines, %d", i);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(row, "text")), want);
	state[0]++;
	state[1] += i % 7 ? 1 : 2;
	json_object_put(row);
	return 0;
}

/* Many rows through odd chunk sizes: every row arrives once, in order, with its line. */
Test(csvrows, many_rows)
{
	char *in = malloc(1 << 20), *p = in;
	size_t len;

	p += sprintf(p, "id,text\r\n");
	for (int i = 0; i < 5000; i++)
		p += sprintf(p, i % 7 ? "%d,plain %d\r\n" : "%d,\"two\nlines, %d\"\r\n", i, i);
	len = (size_t)(p - in);
	for (size_t chunk = 1; chunk < 100000; chunk = chunk * 5 + 3) {
		struct csvrows *c;
		size_t state[2] = { 0, 2 }; /* next index, its line */

		c = csvrows_new(0, NULL, check, state);
		for (size_t i = 0; i < len; i += chunk)
			cr_assert_eq(csvrows_feed(c, in + i, len - i < chunk ? len - i : chunk), 0);
		cr_assert_eq(csvrows_finish(c), 0, "%s", csvrows_error(c));
		cr_assert_eq(csvrows_count(c), 5000);
		cr_assert_eq(state[0], 5000);
		csvrows_free(c);
	}
	free(in);
}

/* The separator is read from the first 64 KiB of the first line, however the input is cut. */
Test(csvrows, long_first_line_detects_the_same_way)
{
	size_t n = 70000, len;
	char *in = malloc(n + 64);
	static const size_t sizes[] = { 1, 7, 4096, 65535, 65536, 0 };

	memcpy(in, "\n\na,", 4);
	memset(in + 4, 'x', n);
	len = 4 + n;
	len += (size_t)sprintf(in + len, ";b;c;d\n");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct run r = { .stop_at = 0 };

		parse(&r, 0, in, len, sizes[k], NULL);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		cr_assert_eq(r.sep, ',', "chunk %zu", sizes[k]);
		cr_assert_eq(r.ncols, 2);
	}
	free(in);
}
