/* multipart: the boundary from the Content-Type, parts with their names, filenames (filename*
 * too) and content types, content passed on exactly (lookalike delimiters included) whether the
 * body comes whole, a byte at a time or in odd chunks; every malformed body and every limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

struct run {
	char out[16384];
	size_t len;
	int rc;
	char err[256];
	int stop_in;      /* 1 begin, 2 data, 3 end: stop at the first such callback of part 1 */
};

static void
put(struct run *r, const char *p, size_t n)
{
	cr_assert(r->len + n < sizeof(r->out), "output buffer too small");
	memcpy(r->out + r->len, p, n);
	r->len += n;
	r->out[r->len] = '\0';
}

static int
on_begin(void *ctx, const struct mp_part *part)
{
	struct run *r = ctx;
	char line[512];
	int k = snprintf(line, sizeof(line), "<%zu name=%s file=%s type=%s>", part->index, part->name,
	    part->filename ? part->filename : "-", part->content_type ? part->content_type : "-");

	put(r, line, (size_t)k);
	return r->stop_in == 1 && part->index == 1;
}

static int
on_data(void *ctx, const struct mp_part *part, const char *p, size_t n)
{
	struct run *r = ctx;

	cr_assert_gt(n, 0);
	put(r, p, n);
	return r->stop_in == 2 && part->index == 1;
}

static int
on_end(void *ctx, const struct mp_part *part)
{
	struct run *r = ctx;
	char line[32];
	int k = snprintf(line, sizeof(line), "</%zu>", part->index);

	put(r, line, (size_t)k);
	return r->stop_in == 3 && part->index == 1;
}

static const struct mp_callbacks cbs = { on_begin, on_data, on_end };

static void
parse(struct run *r, const char *ct, const char *in, size_t len, size_t chunk,
    const struct mp_limits *lim)
{
	char err[128];
	struct multipart *m = mp_new(ct, lim, &cbs, r, err, sizeof(err));
	int stop_in = r->stop_in;

	memset(r, 0, sizeof(*r));
	r->stop_in = stop_in;
	cr_assert_not_null(m, "%s", err);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && r->rc == 0; i += chunk)
		r->rc = mp_feed(m, in + i, len - i < chunk ? len - i : chunk);
	if (r->rc == 0)
		r->rc = mp_finish(m);
	snprintf(r->err, sizeof(r->err), "%s", mp_error(m));
	if (r->rc)
		cr_assert_eq(mp_feed(m, "x", 1), r->rc, "status is sticky");
	mp_free(m);
}

static const size_t chunks[] = { 1, 2, 3, 5, 7, 11, 64, 0 };

static void
expect_n(const char *ct, const char *in, size_t len, const struct mp_limits *lim, int rc,
    const char *out, size_t outlen, const char *err)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct run r = { .stop_in = 0 };

		parse(&r, ct, in, len, chunks[c], lim);
		cr_assert_eq(r.rc, rc, "chunk %zu: rc %d (%s)", chunks[c], r.rc, r.err);
		cr_assert_eq(r.len, outlen, "chunk %zu: output length %zu: %s", chunks[c], r.len, r.out);
		cr_assert(memcmp(r.out, out, outlen) == 0, "chunk %zu: parts differ: %s", chunks[c], r.out);
		cr_assert_str_eq(r.err, err, "chunk %zu: error differs", chunks[c]);
	}
}

static void
expect(const char *ct, const char *in, size_t len, const struct mp_limits *lim, int rc,
    const char *out, const char *err)
{
	expect_n(ct, in, len, lim, rc, out, strlen(out), err);
}

#define OK(in, out) expect(CT, in, sizeof(in) - 1, NULL, 0, out, "")
#define BAD(in, out, err) expect(CT, in, sizeof(in) - 1, NULL, -1, out, err)

#define FIELD(name, value) \
	"--XyZ\r\nContent-Disposition: form-data; name=\"" name "\"\r\n\r\n" value "\r\n"
#define FILE_(name, fn, type, value) \
	"--XyZ\r\nContent-Disposition: form-data; name=\"" name "\"; filename=\"" fn "\"\r\n" \
	"Content-Type: " type "\r\n\r\n" value "\r\n"
#define END "--XyZ--\r\n"

Test(multipart, fields_and_files)
{
	OK(FIELD("title", "hello") FILE_("file", "tasks.csv", "text/csv", "a,b\r\n1,2\r\n") END,
	    "<0 name=title file=- type=->hello</0>"
	    "<1 name=file file=tasks.csv type=text/csv>a,b\r\n1,2\r\n</1>");
}

Test(multipart, delimiter_lookalikes_stay_content)
{
	OK(FILE_("f", "x.bin", "application/octet-stream",
	    "\r\n--XyX\r\r\n-\r\n--X\r\n--Xy\r--XyZ\n--XyZ \r\n\r\n--") END,
	    "<0 name=f file=x.bin type=application/octet-stream>"
	    "\r\n--XyX\r\r\n-\r\n--X\r\n--Xy\r--XyZ\n--XyZ \r\n\r\n--</0>");
	OK(FIELD("a", "\r") END, "<0 name=a file=- type=->\r</0>");
	OK(FIELD("a", "\r\n-") END, "<0 name=a file=- type=->\r\n-</0>");
}

Test(multipart, binary_content_with_nul_bytes)
{
	static const char in[] = FIELD("a", "\0\x01\xff\0") END;

	static const char out[] = "<0 name=a file=- type=->\0\x01\xff\0</0>";

	expect_n(CT, in, sizeof(in) - 1, NULL, 0, out, sizeof(out) - 1, "");
}

Test(multipart, preamble_epilogue_padding_and_empty_parts)
{
	OK("This is the preamble.\r\nIt is ignored.\r\n" FIELD("a", "1")
	    "--XyZ \t\r\nContent-Disposition: form-data; name=b\r\n\r\n\r\n"
	    "--XyZ--\r\nepilogue --XyZ junk",
	    "<0 name=a file=- type=->1</0><1 name=b file=- type=-></1>");
	OK("\r\n" FIELD("a", "") END, "<0 name=a file=- type=-></0>");
	OK("--XyZ--", "");
	OK("--XyZ--\r\n", "");
}

Test(multipart, headers_are_case_insensitive_and_unknown_ones_ignored)
{
	OK("--XyZ\r\ncontent-disposition: FORM-DATA ; Name=\"n\" ; FILENAME=f.txt\r\n"
	    "X-Other: whatever\r\nCONTENT-TYPE:   text/plain; charset=utf-8  \r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\nv\r\n" END,
	    "<0 name=n file=f.txt type=text/plain; charset=utf-8>v</0>");
}

Test(multipart, filenames)
{
	OK("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"fallback.txt\"; "
	    "filename*=UTF-8''%E2%82%AC%20rates.csv\r\n\r\nx\r\n" END,
	    "<0 name=f file=\xe2\x82\xac rates.csv type=->x</0>");
	OK("--XyZ\r\nContent-Disposition: form-data; name=f; filename*=iso-8859-1'en'%A3.txt\r\n"
	    "\r\nx\r\n" END, "<0 name=f file=\xc2\xa3.txt type=->x</0>");
	OK("--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"a\\\"b\\\\c; d.txt\"\r\n"
	    "\r\nx\r\n" END, "<0 name=f file=a\"b\\c; d.txt type=->x</0>");
	OK("--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\nx\r\n" END,
	    "<0 name=f file= type=->x</0>");
	/* an undecodable filename* falls back to filename */
	OK("--XyZ\r\nContent-Disposition: form-data; name=f; filename*=UTF-8''%zz; filename=b.txt\r\n"
	    "\r\nx\r\n" END, "<0 name=f file=b.txt type=->x</0>");
	OK("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"C:\\\\dir\\\\a.txt\"\r\n"
	    "\r\nx\r\n" END, "<0 name=f file=C:\\dir\\a.txt type=->x</0>");
}

Test(multipart, boundary_from_the_content_type)
{
	static const char in[] = "--a b:c\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a b:c--";
	static const char mixed[] = "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--x--";
	char b70[71], ct[128], err[128];
	struct multipart *m;

	expect("multipart/form-data; boundary=\"a b:c\"", in, sizeof(in) - 1, NULL, 0,
	    "<0 name=x file=- type=->1</0>", "");
	expect("Multipart/Form-Data;charset=utf-8;BOUNDARY=\"XyZ\"", FIELD("x", "1") END,
	    sizeof(FIELD("x", "1") END) - 1, NULL, 0, "<0 name=x file=- type=->1</0>", "");
	memset(b70, 'b', 70);
	b70[70] = '\0';
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	m = mp_new(ct, NULL, &cbs, NULL, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	mp_free(m);
	m = mp_new("multipart/mixed; boundary=x", NULL, NULL, NULL, err, sizeof(err));
	cr_assert_not_null(m);
	cr_assert_eq(mp_feed(m, mixed, strlen(mixed)), 0);
	cr_assert_eq(mp_finish(m), 0);
	cr_assert_eq(mp_count(m), 1);
	mp_free(m);
}

static void
refused(const char *ct, const char *msg)
{
	char err[128] = "unset";

	cr_assert_null(mp_new(ct, NULL, &cbs, NULL, err, sizeof(err)), "%s", ct ? ct : "NULL");
	cr_assert_str_eq(err, msg, "for %s", ct ? ct : "NULL");
}

Test(multipart, bad_content_types)
{
	char ct[128];

	refused(NULL, "Content type is not multipart");
	refused("application/json", "Content type is not multipart");
	refused("multipart/form-data", "Multipart content type has no boundary");
	refused("multipart/form-data; charset=utf-8", "Multipart content type has no boundary");
	refused("multipart/form-data; boundary=", "Malformed multipart content type");
	refused("multipart/form-data; boundary=\"abc", "Malformed multipart content type");
	refused("multipart/form-data boundary=abc", "Malformed multipart content type");
	refused("multipart/form-data; boundary=\"\"", "Multipart boundary must be 1 to 70 characters long");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 0);
	refused(ct, "Multipart boundary must be 1 to 70 characters long");
	refused("multipart/form-data; boundary=\"a@b\"",
	    "Multipart boundary has a character RFC 2046 does not allow");
	refused("multipart/form-data; boundary=\"ab \"",
	    "Multipart boundary has a character RFC 2046 does not allow");
}

Test(multipart, malformed_bodies)
{
	BAD("", "", "Multipart body has no boundary line");
	BAD("no boundary here\r\n", "", "Multipart body has no boundary line");
	BAD("--XyZ", "", "Multipart body ends without the final boundary");
	BAD(FIELD("a", "1"), "<0 name=a file=- type=->1", "Multipart body ends without the final boundary");
	BAD(FIELD("a", "1") "--XyZ", "<0 name=a file=- type=->1</0>", "Multipart body ends without the final boundary");
	BAD("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nunfinished",
	    "<0 name=a file=- type=->unfinished", "Multipart body ends without the final boundary");
	BAD("--XyZx\r\n", "", "Malformed multipart boundary line");
	BAD("--XyZ-x", "", "Malformed multipart boundary line");
	BAD("--XyZ\rx", "", "Malformed multipart boundary line");
	BAD("--XyZ\r\nContent-Disposition form-data; name=a\r\n\r\n", "",
	    "Malformed headers in multipart part 0");
	BAD("--XyZ\r\n: x\r\n\r\n", "", "Malformed headers in multipart part 0");
	BAD("--XyZ\r\nA: x\ny\r\n\r\n", "", "Malformed headers in multipart part 0");
	BAD("--XyZ\r\nA: x\ry\r\n\r\n", "", "Malformed headers in multipart part 0");
	BAD("--XyZ\r\n folded: x\r\n\r\n", "", "Malformed headers in multipart part 0");
	BAD("--XyZ\r\n\r\nx\r\n" END, "", "Multipart part 0 has no Content-Disposition header");
	BAD("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n" END, "",
	    "Multipart part 0 has no Content-Disposition header");
	BAD("--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\n", "",
	    "Multipart part 0 is not form-data");
	BAD("--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\n", "",
	    "Multipart part 0 has no name");
	BAD("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\n", "",
	    "Malformed Content-Disposition in multipart part 0");
	BAD("--XyZ\r\nContent-Disposition: form-data; name=a b\r\n\r\n", "",
	    "Malformed Content-Disposition in multipart part 0");
	BAD("--XyZ\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''%00\r\n\r\n", "",
	    "Malformed Content-Disposition in multipart part 0");
	BAD("--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\n", "",
	    "Multipart part 0 has two Content-Disposition headers");
	BAD(FIELD("a", "1") "--XyZ\r\nbad\r\n\r\n", "<0 name=a file=- type=->1</0>",
	    "Malformed headers in multipart part 1");
	BAD(FIELD("a", "1\r\n--XyZQ") END, "<0 name=a file=- type=->1</0>", "Malformed multipart boundary line");
}

Test(multipart, limits_name_their_settings)
{
	struct mp_limits parts = { .max_parts = 2, .parts_setting = "max_form_parts" };
	struct mp_limits files = { .max_files = 1, .files_setting = "max_upload_files" };
	struct mp_limits hdr = { .max_header_bytes = 58, .header_setting = "max_part_header_bytes" };
	static const char two[] = FIELD("a", "1") FILE_("f", "x", "t/t", "2") END;
	static const char three[] = FIELD("a", "1") FIELD("b", "2") FIELD("c", "3") END;
	static const char files2[] = FIELD("a", "1") FILE_("f", "x", "t/t", "2") FILE_("g", "y", "t/t", "3") END;
	static const char hdr_ok[] = "--XyZ\r\nContent-Disposition: form-data; name=\"abcdefghijklmno\"\r\n\r\nv\r\n" END;
	static const char hdr_big[] = "--XyZ\r\nContent-Disposition: form-data; name=\"abcdefghijklmnop\"\r\n\r\nv\r\n" END;

	expect(CT, two, sizeof(two) - 1, &parts, 0,
	    "<0 name=a file=- type=->1</0><1 name=f file=x type=t/t>2</1>", "");
	expect(CT, three, sizeof(three) - 1, &parts, -1,
	    "<0 name=a file=- type=->1</0><1 name=b file=- type=->2</1>",
	    "Too many parts in the multipart body: more than 2 (setting max_form_parts)");
	expect(CT, two, sizeof(two) - 1, &files, 0,
	    "<0 name=a file=- type=->1</0><1 name=f file=x type=t/t>2</1>", "");
	expect(CT, files2, sizeof(files2) - 1, &files, -1,
	    "<0 name=a file=- type=->1</0><1 name=f file=x type=t/t>2</1>",
	    "Too many files in one request: more than 1 (setting max_upload_files)");
	expect(CT, hdr_ok, sizeof(hdr_ok) - 1, &hdr, 0, "<0 name=abcdefghijklmno file=- type=->v</0>", "");
	expect(CT, hdr_big, sizeof(hdr_big) - 1, &hdr, -1, "",
	    "Multipart part headers larger than 58 (setting max_part_header_bytes)");
	hdr.header_setting = NULL;
	expect(CT, hdr_big, sizeof(hdr_big) - 1, &hdr, -1, "", "Multipart part headers larger than 58");
}

Test(multipart, callbacks_stop_the_parse)
{
	static const char in[] = FIELD("a", "1") FIELD("b", "2") FIELD("c", "3") END;
	static const char *const want[] = {
		"<0 name=a file=- type=->1</0><1 name=b file=- type=->",
		"<0 name=a file=- type=->1</0><1 name=b file=- type=->2",
		"<0 name=a file=- type=->1</0><1 name=b file=- type=->2</1>",
	};

	for (int stop = 1; stop <= 3; stop++)
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			struct run r = { .stop_in = stop };

			parse(&r, CT, in, sizeof(in) - 1, chunks[c], NULL);
			cr_assert_eq(r.rc, 1, "stop %d chunk %zu", stop, chunks[c]);
			cr_assert_str_eq(r.out, want[stop - 1], "stop %d chunk %zu", stop, chunks[c]);
			cr_assert_str_eq(r.err, "");
		}
}

Test(multipart, callbacks_may_be_null)
{
	struct mp_callbacks none = { NULL, NULL, NULL };
	char err[64];
	struct multipart *m = mp_new(CT, NULL, &none, NULL, err, sizeof(err));
	static const char in[] = FIELD("a", "1") FIELD("b", "2") END;

	cr_assert_eq(mp_feed(m, in, sizeof(in) - 1), 0);
	cr_assert_eq(mp_finish(m), 0);
	cr_assert_eq(mp_count(m), 2);
	cr_assert_str_eq(mp_error(m), "");
	mp_free(m);
}

struct acc {
	char *buf;
	size_t len;
};

static int
grab(void *ctx, const struct mp_part *part, const char *p, size_t k)
{
	struct acc *acc = ctx;

	(void)part;
	cr_assert_leq(acc->len + k, 300000);
	memcpy(acc->buf + acc->len, p, k);
	acc->len += k;
	return 0;
}

/* A large file through odd chunk sizes arrives byte for byte. */
Test(multipart, large_content_in_any_chunks)
{
	size_t n = 300000, hl, len;
	char *content = malloc(n), *body = malloc(n + 512);
	const char *head = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n";

	for (size_t i = 0; i < n; i++) /* lots of CR, LF and '-' to tease the scanner */
		content[i] = "\r\n-XyZ\r-\nab"[(i * 7 + i / 13) % 11];
	hl = strlen(head);
	memcpy(body, head, hl);
	memcpy(body + hl, content, n);
	memcpy(body + hl + n, "\r\n--XyZ--", 9);
	len = hl + n + 9;
	for (size_t chunk = 1; chunk < 200000; chunk = chunk * 4 + 3) {
		struct acc acc = { malloc(n), 0 };
		struct mp_callbacks cb = { NULL, grab, NULL };
		char err[64];
		struct multipart *m = mp_new(CT, NULL, &cb, &acc, err, sizeof(err));

		for (size_t i = 0; i < len; i += chunk)
			cr_assert_eq(mp_feed(m, body + i, len - i < chunk ? len - i : chunk), 0);
		cr_assert_eq(mp_finish(m), 0, "%s", mp_error(m));
		cr_assert_eq(acc.len, n, "chunk %zu", chunk);
		cr_assert(memcmp(acc.buf, content, n) == 0, "chunk %zu", chunk);
		mp_free(m);
		free(acc.buf);
	}
	free(content);
	free(body);
}
