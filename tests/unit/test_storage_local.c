/* The "localfiles" connector (app/storage/local.c) over a real temporary tree:
 *
 *   <tmp>/root/                 the document root
 *   <tmp>/root/data/            the storage's path
 *       a.txt b.txt z.json a/x.txt a/deep/y.txt big.bin
 *       link_out -> <tmp>/outside/secret.txt     (file symlink escaping the root)
 *       dir_out  -> <tmp>/outside                (directory symlink escaping the root)
 *       link_in  -> a.txt, dir_in -> a           (symlinks inside: refused too, by design)
 *       fifo                                     (not a regular file)
 *   <tmp>/root/escape -> <tmp>/outside           (a path that leaves the root once resolved)
 *   <tmp>/outside/secret.txt, <tmp>/outside/x.txt
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "storage.h"

static char tmp[64], root[128], data[192], outside[128];

static void
write_file(const char *dir, const char *name, const char *body, size_t n)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f, "create %s", p);
	cr_assert_eq(fwrite(body, 1, n, f), n);
	fclose(f);
}

static void
mk(const char *dir, const char *name)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(mkdir(p, 0700), 0, "mkdir %s", p);
}

static void
ln(const char *target, const char *dir, const char *name)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(symlink(target, p), 0, "symlink %s", p);
}

static void
setup(void)
{
	char *big = malloc(200001), p[600];

	snprintf(tmp, sizeof(tmp), "/tmp/siali-sto-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	mk(tmp, "root");
	mk(tmp, "outside");
	mk(root, "data");
	write_file(outside, "secret.txt", "secret", 6);
	write_file(outside, "x.txt", "outside x", 9);
	write_file(data, "a.txt", "{\"text\": \"a\"}", 13);
	write_file(data, "b.txt", "b", 1);
	write_file(data, "z.json", "[]", 2);
	mk(data, "a");
	write_file(data, "a/x.txt", "inside x", 8);
	mk(data, "a/deep");
	write_file(data, "a/deep/y.txt", "y", 1);
	for (int i = 0; i < 200000; i++)
		big[i] = (char)('a' + i % 26);
	write_file(data, "big.bin", big, 200000);
	free(big);
	snprintf(p, sizeof(p), "%s/secret.txt", outside);
	ln(p, data, "link_out");
	ln(outside, data, "dir_out");
	ln("a.txt", data, "link_in");
	ln("a", data, "dir_in");
	ln(outside, root, "escape");
	snprintf(p, sizeof(p), "%s/fifo", data);
	cr_assert_eq(mkfifo(p, 0600), 0);
}

static void
teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (tmp[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

TestSuite(storage_local, .init = setup, .fini = teardown);

static struct storage *
open_local(const char *r, const char *path, char *err, size_t errsz)
{
	struct json_object *cfg = json_object_new_object();
	struct storage *s;

	if (r != NULL)
		json_object_object_add(cfg, "root", json_object_new_string(r));
	if (path != NULL)
		json_object_object_add(cfg, "path", json_object_new_string(path));
	json_object_object_add(cfg, "regex_filter", json_object_new_string(".*"));
	s = storage_open("localfiles", cfg, err, errsz);
	json_object_put(cfg);
	return s;
}

static struct storage *
open_data(void)
{
	char err[256] = "";
	struct storage *s = open_local(root, data, err, sizeof(err));

	cr_assert_not_null(s, "open: %s", err);
	return s;
}

/* ---- collecting listings ---- */

struct keys {
	char *k[4096];
	size_t n;
	int stop_after;         /* >0: abort on that object */
};

static int
collect(void *ctx, const struct storage_object *o)
{
	struct keys *ks = ctx;

	cr_assert_lt(ks->n, 4096);
	ks->k[ks->n++] = strdup(o->key);
	cr_assert_not_null(o->etag);
	cr_assert_geq(o->size, 0);
	cr_assert_gt(o->mtime, 0);
	return ks->stop_after > 0 && (int)ks->n == ks->stop_after;
}

static void
keys_clear(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	ks->n = 0;
}

static void
expect_keys(struct keys *ks, const char *const *want, size_t n)
{
	cr_assert_eq(ks->n, n, "got %zu keys, want %zu", ks->n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(ks->k[i], want[i], "key %zu", i);
}

static void
list_all(struct storage *s, const char *prefix, int recursive, struct keys *ks)
{
	char err[256] = "", *next = (char *)"x";

	cr_assert_eq(storage_list(s, prefix, recursive, NULL, 1000, collect, ks, &next, err,
	    sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_null(next, "a short page means the listing is complete");
}

/* ---- opening ---- */

Test(storage_local, empty_root_is_off)
{
	char err[256] = "";

	cr_assert_null(open_local("", data, err, sizeof(err)));
	cr_assert(strstr(err, "Local files are off") && strstr(err, "local_files_root"), "%s", err);
	err[0] = '\0';
	cr_assert_null(open_local(NULL, data, err, sizeof(err)));
	cr_assert(strstr(err, "Local files are off"), "%s", err);
}

Test(storage_local, unknown_kind)
{
	char err[256] = "";

	cr_assert_null(storage_open("ftp", NULL, err, sizeof(err)));
	cr_assert_str_eq(err, "Unknown storage type.");
}

Test(storage_local, path_must_stay_inside_root)
{
	char err[256] = "", p[600];

	cr_assert_null(open_local(root, outside, err, sizeof(err)));
	cr_assert(strstr(err, "not inside local_files_root"), "%s", err);
	cr_assert_null(open_local(root, "../outside", err, sizeof(err)));
	cr_assert(strstr(err, "not inside"), "%s", err);
	snprintf(p, sizeof(p), "%s/data/../../outside", root);
	cr_assert_null(open_local(root, p, err, sizeof(err)));
	/* A symlink inside the root that resolves outside it. */
	snprintf(p, sizeof(p), "%s/escape", root);
	cr_assert_null(open_local(root, p, err, sizeof(err)));
	cr_assert(strstr(err, "after resolving symlinks"), "%s", err);
	cr_assert_null(open_local(root, "escape", err, sizeof(err)));
	/* A root that is a prefix of the path's string but not its directory. */
	snprintf(p, sizeof(p), "%s/root-evil", tmp);
	cr_assert_eq(mkdir(p, 0700), 0);
	cr_assert_null(open_local(root, p, err, sizeof(err)));
	cr_assert_null(open_local(root, "nope", err, sizeof(err)));
	cr_assert(strstr(err, "does not exist"), "%s", err);
	cr_assert_null(open_local(root, "", err, sizeof(err)));
	cr_assert(strstr(err, "Set the path"), "%s", err);
	cr_assert_null(open_local(root, "data/a.txt", err, sizeof(err)));
	cr_assert(strstr(err, "not a readable directory"), "%s", err);
	/* Relative paths are taken from the root; the root itself is allowed. */
	{
		static const char *const ok[] = { "data", "data/a", "data/../data/a" };
		struct storage *s;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			s = open_local(root, ok[i], err, sizeof(err));
			cr_assert_not_null(s, "%s: %s", ok[i], err);
			storage_close(s);
		}
		s = open_local(root, root, err, sizeof(err));
		cr_assert_not_null(s, "the root itself: %s", err);
		storage_close(s);
	}
}

/* ---- listing ---- */

Test(storage_local, list_recursive_sorted_skips_links_and_specials)
{
	static const char *const want[] = { "a.txt", "a/deep/y.txt", "a/x.txt", "b.txt", "big.bin",
	    "z.json" };
	struct storage *s = open_data();
	struct keys ks = { .n = 0 };

	list_all(s, "", 1, &ks);
	expect_keys(&ks, want, 6);
	keys_clear(&ks);
	storage_close(s);
}

Test(storage_local, list_flat_and_prefix)
{
	static const char *const flat[] = { "a.txt", "b.txt", "big.bin", "z.json" };
	static const char *const a_rec[] = { "a/deep/y.txt", "a/x.txt" };
	static const char *const a_flat[] = { "a/x.txt" };
	static const char *const b[] = { "b.txt", "big.bin" };
	struct storage *s = open_data();
	struct keys ks = { .n = 0 };

	list_all(s, "", 0, &ks);
	expect_keys(&ks, flat, 4);
	keys_clear(&ks);
	list_all(s, "a/", 1, &ks);
	expect_keys(&ks, a_rec, 2);
	keys_clear(&ks);
	list_all(s, "a/", 0, &ks);
	expect_keys(&ks, a_flat, 1);
	keys_clear(&ks);
	list_all(s, "b", 1, &ks);
	expect_keys(&ks, b, 2);
	keys_clear(&ks);
	list_all(s, "nothing", 1, &ks);
	cr_assert_eq(ks.n, 0);
	storage_close(s);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every page from a fresh storage (as a sync resumed after a crash would), with only the cursor
 * carried over: every file exactly once, in order, pages never over max. */
Test(storage_local, paging_with_cursor_gives_each_file_once_in_order)
{
	char *want[1200], err[256] = "", *cursor = NULL;
	size_t nwant = 0, pages = 0;
	struct keys ks = { .n = 0 };

	/* Names chosen to stress the order: '.', '-' and digits sort before '/'. */
	static const char *const dirs[] = { "p", "p-", "p.d", "p0", "q/r", "q/r/s", "q/r.s" };
	mk(data, "q");
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		mk(data, dirs[d]);
		for (int i = 0; i < 120; i++) {
			char f[64];

			snprintf(f, sizeof(f), "%s/%s%d", dirs[d], i % 3 ? "f" : "f.", i);
			write_file(data, f, "x", 1);
			want[nwant++] = strdup(f);
		}
	}
	want[nwant++] = strdup("a.txt");
	want[nwant++] = strdup("a/deep/y.txt");
	want[nwant++] = strdup("a/x.txt");
	want[nwant++] = strdup("b.txt");
	want[nwant++] = strdup("big.bin");
	want[nwant++] = strdup("z.json");
	qsort(want, nwant, sizeof(want[0]), cmp_str);

	do {
		struct storage *s = open_data();
		char *next = NULL;
		size_t before = ks.n;

		cr_assert_eq(storage_list(s, "", 1, cursor, 7, collect, &ks, &next, err, sizeof(err)),
		    STORAGE_OK, "%s", err);
		cr_assert_leq(ks.n - before, 7);
		if (next != NULL)
			cr_assert_eq(ks.n - before, 7, "only a full page hands back a cursor");
		storage_close(s);
		free(cursor);
		cursor = next;
		pages++;
	} while (cursor != NULL);
	cr_assert_eq(ks.n, nwant, "got %zu keys over %zu pages, want %zu", ks.n, pages, nwant);
	for (size_t i = 0; i < nwant; i++) {
		cr_assert_str_eq(ks.k[i], want[i], "key %zu", i);
		free(want[i]);
	}
	cr_assert_geq(pages, nwant / 7);
	keys_clear(&ks);
}

Test(storage_local, paging_flat_with_prefix)
{
	struct storage *s = open_data();
	struct keys ks = { .n = 0 };
	char err[256] = "", *cursor = NULL, *next = NULL;
	static const char *const want[] = { "a.txt", "b.txt", "big.bin", "z.json" };

	do {
		cr_assert_eq(storage_list(s, NULL, 0, cursor, 1, collect, &ks, &next, err,
		    sizeof(err)), STORAGE_OK, "%s", err);
		free(cursor);
		cursor = next;
	} while (cursor != NULL);
	expect_keys(&ks, want, 4);
	keys_clear(&ks);
	storage_close(s);
}

Test(storage_local, abort_from_callback)
{
	struct storage *s = open_data();
	struct keys ks = { .stop_after = 2 };
	char err[256] = "", *next = (char *)"x";

	cr_assert_eq(storage_list(s, "", 1, NULL, 100, collect, &ks, &next, err, sizeof(err)),
	    STORAGE_ABORTED);
	cr_assert_null(next);
	cr_assert_eq(ks.n, 2);
	keys_clear(&ks);
	storage_close(s);
}

/* ---- reading ---- */

struct buf {
	char *p;
	size_t n, calls;
};

static int
sink(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;

	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	b->calls++;
	return 0;
}

static int
get(struct storage *s, const char *key, struct buf *b, char *err, size_t errsz)
{
	memset(b, 0, sizeof(*b));
	return storage_get(s, key, sink, b, err, errsz);
}

Test(storage_local, get_streams_files)
{
	struct storage *s = open_data();
	struct buf b;
	char err[256] = "";

	cr_assert_eq(get(s, "a/x.txt", &b, err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_str_eq(b.p, "inside x");
	free(b.p);
	cr_assert_eq(get(s, "big.bin", &b, err, sizeof(err)), STORAGE_OK, "%s", err);
	cr_assert_eq(b.n, 200000);
	cr_assert_gt(b.calls, 1, "a large file arrives in chunks");
	for (size_t i = 0; i < b.n; i++)
		cr_assert_eq(b.p[i], (char)('a' + i % 26));
	free(b.p);
	cr_assert_eq(get(s, "missing.txt", &b, err, sizeof(err)), STORAGE_NOT_FOUND);
	cr_assert_eq(get(s, "a.txt/x", &b, err, sizeof(err)), STORAGE_NOT_FOUND);
	cr_assert_eq(get(s, "a", &b, err, sizeof(err)), STORAGE_REFUSED, "a directory");
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	cr_assert_eq(get(s, "fifo", &b, err, sizeof(err)), STORAGE_REFUSED, "a FIFO, without blocking");
	cr_assert_null(b.p);
	storage_close(s);
}

Test(storage_local, traversal_keys_refused)
{
	static const char *const bad[] = {
		"../outside/secret.txt", "..", "a/../../outside/secret.txt", "a/..", "./a.txt",
		"/etc/passwd", "", "a//x.txt", "a/", "a\\..\\b", "%2e%2e/outside/secret.txt",
		"%2E%2e", "a/%2e%2E/%2e%2e/outside/x.txt", ".%2e/x", "%2e", "../../../../../etc/passwd",
	};
	struct storage *s = open_data();
	struct buf b;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(get(s, bad[i], &b, err, sizeof(err)), STORAGE_REFUSED, "%s", bad[i]);
		cr_assert_gt(strlen(err), 0);
		cr_assert_null(b.p);
	}
	/* Legitimate names that merely contain dots or percent signs pass the check. */
	cr_assert(storage_key_ok("a..b/.hidden/...", 16, NULL, 0));
	cr_assert(storage_key_ok("100%/x%2", 8, NULL, 0));
	/* A NUL in a decoded key: visible only with the length. */
	cr_assert_not(storage_key_ok("a.txt\0/../../x", 14, err, sizeof(err)));
	cr_assert(strstr(err, "NUL"), "%s", err);
	storage_close(s);
}

Test(storage_local, symlinks_refused_inside_and_out)
{
	static const char *const links[] = { "link_out", "dir_out/secret.txt", "link_in",
	    "dir_in/x.txt" };
	struct storage *s = open_data();
	struct buf b;
	char err[256];

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cr_assert_eq(get(s, links[i], &b, err, sizeof(err)), STORAGE_REFUSED, "%s", links[i]);
		cr_assert(strstr(err, "symlink"), "%s: %s", links[i], err);
		cr_assert_null(b.p);
	}
	storage_close(s);
}

/* Directories swapped for symlinks after open cannot lead out: every access walks from the root
 * descriptor without following links. */
Test(storage_local, symlink_swapped_in_after_open)
{
	struct storage *s = open_data();
	struct buf b;
	char err[256], from[600], to[600];

	snprintf(from, sizeof(from), "%s/a", data);
	snprintf(to, sizeof(to), "%s/a-moved", data);
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(symlink(outside, from), 0);
	cr_assert_eq(get(s, "a/x.txt", &b, err, sizeof(err)), STORAGE_REFUSED);
	cr_assert_null(b.p);

	/* The storage's own directory replaced by a link to the outside. */
	snprintf(from, sizeof(from), "%s", data);
	snprintf(to, sizeof(to), "%s/data-moved", root);
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(symlink(outside, from), 0);
	cr_assert_neq(get(s, "x.txt", &b, err, sizeof(err)), STORAGE_OK);
	cr_assert_null(b.p);
	{
		struct keys ks = { .n = 0 };
		char *next = NULL;

		cr_assert_neq(storage_list(s, "", 1, NULL, 10, collect, &ks, &next, err, sizeof(err)),
		    STORAGE_OK);
		cr_assert_eq(ks.n, 0);
	}
	storage_close(s);
}

Test(storage_local, no_write_no_presign)
{
	struct storage *s = open_data();
	char err[256], *url = (char *)"x";

	cr_assert_eq(storage_put(s, "n.txt", "x", 1, NULL, err, sizeof(err)), STORAGE_UNSUPPORTED);
	cr_assert_eq(storage_del(s, "a.txt", err, sizeof(err)), STORAGE_UNSUPPORTED);
	cr_assert_eq(storage_presign(s, "a.txt", 60, &url, err, sizeof(err)), STORAGE_UNSUPPORTED);
	cr_assert_null(url);
	cr_assert_str_eq(err, "The localfiles storage does not support presigned URLs.");
	storage_close(s);
}
