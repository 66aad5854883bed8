/* uploads.c — the files the import keeps under the media root (upload/<project>/<8 hex>-<name>):
 * GET|DELETE /api/projects/{id}/file-uploads, GET|PATCH|DELETE /api/import/file-upload/{id}, and
 * GET /data/upload/{project}/{file}, which serves them back to members of the project's
 * organization.
 *
 * Serving is defensive: the file must be a file_uploads row of that project (the name is never
 * used as a path before that check, and may hold no '/' nor start with '.'), the content type is
 * chosen from a short allow-list of media types (anything that a browser could run — HTML, SVG,
 * XML, JavaScript — and anything unknown goes out as application/octet-stream), with nosniff and
 * a sandbox CSP. One byte range is honoured (206 / 416). Files are streamed in 256 KB chunks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "multipart.h"
#include "rand.h"
#include "reply.h"
#include "shared.h"

#define CHUNK (256u << 10)

/* Columns of the UPLOAD_* statements. */
enum { U_ID, U_FILE, U_SIZE, U_CTYPE, U_PROJECT };

static struct json_object *
upload_json(const struct db_row *row)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "id", db_int(row, U_ID));
	jadd_str(o, "file", db_str(row, U_FILE));
	jadd_int(o, "size", db_int(row, U_SIZE));
	return o;
}

static void
unlink_rel(const char *rel)
{
	char path[1024];

	if (snprintf(path, sizeof(path), "%s/%s", cfg.media_root, rel) < (int)sizeof(path))
		unlink(path);
}

static int
project_of(struct req *r, struct project_ref *ref)
{
	int rc = scope_project(r, req_param_id(r, "id"), ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

/* A JSON list of positive integers as text (for the JSON_TABLE statements); NULL when v is not. */
static const char *
id_list(struct json_object *v, size_t *len)
{
	if (!json_object_is_type(v, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_int))
			return NULL;
	return json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, len);
}

/* GET /api/projects/{id}/file-uploads?all=true | ?ids=[1,2]: [{"id","file","size"}].
 * Without either, an empty list (as Label Studio for a project that is not a draft). */
int
uploads_list(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *list;
	const char *all = req_query(r, "all"), *ids = req_query(r, "ids");
	int rc;

	if ((rc = project_of(r, &ref)) != 0)
		return rc;
	if (all != NULL && (!strcasecmp(all, "true") || !strcmp(all, "1"))) {
		if (db_rows(r, &rows, STMT_UPLOAD_LIST_ALL, "i", ref.id) != 0)
			return req_fail_db(r);
	} else if (ids != NULL && *ids != '\0') {
		struct json_object *v = req_own(r, json_tokener_parse(ids));
		const char *t;
		size_t len;

		if ((t = id_list(v, &len)) == NULL)
			return req_fail_field(r, "ids", "Expected a JSON list of integers, e.g. ids=[1,2,3].");
		if (db_rows(r, &rows, STMT_UPLOAD_LIST_IDS, "iS", ref.id, t, len) != 0)
			return req_fail_db(r);
	} else {
		rows.n = 0;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < rows.n; i++)
		json_object_array_add(list, upload_json(&rows.rows[i]));
	return reply_json(r, 200, list);
}

/* DELETE /api/projects/{id}/file-uploads {"file_upload_ids": [..]} (absent: all of them) →
 * {"deleted": N}; the files go too. Tasks made from them stay (file_upload_id becomes null). */
int
uploads_delete(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *ids, *o;
	int rc;

	if ((rc = project_of(r, &ref)) != 0)
		return rc;
	ids = json_object_object_get(r->json, "file_upload_ids");
	if (ids == NULL) {
		if (db_rows(r, &rows, STMT_UPLOAD_LIST_ALL, "i", ref.id) != 0)
			return req_fail_db(r);
	} else {
		const char *t;
		size_t len;

		if ((t = id_list(ids, &len)) == NULL)
			return req_fail_field(r, "file_upload_ids", "\"file_upload_ids\" parameter must be a list of "
			    "integers");
		if (db_rows(r, &rows, STMT_UPLOAD_LIST_IDS, "iS", ref.id, t, len) != 0)
			return req_fail_db(r);
	}
	if (db_begin(r) != 0)
		return req_fail_db(r);
	for (size_t i = 0; i < rows.n; i++)
		if (db_exec(r, STMT_UPLOAD_DELETE, "i", db_int(&rows.rows[i], U_ID)) < 0)
			return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	for (size_t i = 0; i < rows.n; i++)
		unlink_rel(db_str(&rows.rows[i], U_FILE));
	o = json_object_new_object();
	jadd_int(o, "deleted", (int64_t)rows.n);
	return reply_json(r, 200, o);
}

static int
upload_of(struct req *r, struct db_row *row)
{
	int64_t id = req_param_id(r, "id");
	int rc = id > 0 ? db_row(r, row, STMT_UPLOAD_GET, "ii", id, r->who.org_id) : 0;

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

int
uploads_get(struct req *r)
{
	struct db_row row;
	int rc;

	if ((rc = upload_of(r, &row)) != 0)
		return rc;
	return reply_json(r, 200, upload_json(&row));
}

int
uploads_delete_one(struct req *r)
{
	struct db_row row;
	int rc;

	if ((rc = upload_of(r, &row)) != 0)
		return rc;
	if (db_exec(r, STMT_UPLOAD_DELETE, "i", db_int(&row, U_ID)) < 0)
		return req_fail_db(r);
	unlink_rel(db_str(&row, U_FILE));
	return reply_empty(r, 204);
}

/* --- PATCH: a new file replaces the stored one (multipart, the first file part) --- */

struct repl {
	struct req *r;
	int64_t pid;
	int fd, done, failed;
	int64_t size;
	char *tmp, *final;
	const char *rel, *ctype;
};

static const char *
safe_name(struct req *r, const char *name)
{
	const char *base = name;
	char *out;
	size_t n = 0;

	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	out = req_alloc(r, strlen(base) + 8);
	for (const char *p = base; *p && n < 200; p++) {
		char ch = *p == ' ' ? '_' : *p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.')
			out[n++] = ch;
	}
	out[n] = '\0';
	while (*out == '.')
		out++;
	return *out ? out : "file";
}

static int
repl_begin(void *ctx, const struct mp_part *p)
{
	struct repl *x = ctx;
	char hex[9], *dir;
	const char *name;

	if (p->filename == NULL || x->done || x->fd >= 0)
		return 0;
	dir = req_printf(x->r, "%s/upload/%lld", cfg.media_root, (long long)x->pid);
	if (rand_hex(hex, 4) != 0)
		return x->failed = 1;
	(void)mkdir(dir, 0750);
	name = safe_name(x->r, p->filename);
	x->rel = req_printf(x->r, "upload/%lld/%s-%s", (long long)x->pid, hex, name);
	x->final = req_printf(x->r, "%s/%s", cfg.media_root, x->rel);
	x->tmp = req_printf(x->r, "%s/.tmp-%s-%s", dir, hex, name);
	x->ctype = req_strdup(x->r, p->content_type ? p->content_type : "application/octet-stream");
	x->fd = open(x->tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	if (x->fd < 0)
		return x->failed = 1;
	return 0;
}

static int
repl_data(void *ctx, const struct mp_part *p, const char *s, size_t n)
{
	struct repl *x = ctx;

	(void)p;
	if (x->fd < 0 || x->done)
		return 0;
	while (n > 0) {
		ssize_t w = write(x->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return x->failed = 1;
		s += w;
		n -= (size_t)w;
		x->size += w;
	}
	return 0;
}

static int
repl_end(void *ctx, const struct mp_part *p)
{
	struct repl *x = ctx;

	(void)p;
	if (x->fd >= 0 && !x->done) {
		x->done = 1;
		if (close(x->fd) != 0)
			x->failed = 1;
		x->fd = -1;
	}
	return 0;
}

static void
repl_cleanup(void *arg)
{
	struct repl *x = arg;

	if (x->fd >= 0)
		close(x->fd);
	if (x->tmp != NULL)
		unlink(x->tmp);         /* after a successful rename this is a no-op */
}

/* PATCH /api/import/file-upload/{id}: multipart with a file part; the file gets a new name. */
int
uploads_replace(struct req *r)
{
	static char chunk[CHUNK];
	struct db_row row;
	struct repl x;
	struct mp_limits ml = { 0, NULL, 1, "max_files_per_import", 16384, NULL };
	struct mp_callbacks cb = { repl_begin, repl_data, repl_end };
	struct multipart *mp;
	char err[256];
	int64_t total = 0;
	int rc;

	if ((rc = upload_of(r, &row)) != 0)
		return rc;
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.fd = -1;
	x.pid = db_int(&row, U_PROJECT);
	req_defer(r, repl_cleanup, &x);
	mp = mp_new(r->content_type ? r->content_type : "", &ml, &cb, &x, err, sizeof(err));
	if (mp == NULL)
		return req_fail_field(r, "file", "No file was submitted.");
	for (;;) {
		long n = req_read(r, chunk, sizeof(chunk));

		if (n < 0 || (total += n) > cfg.max_body_size) {
			mp_free(mp);
			return n < 0 ? req_fail(r, 400, "The request body could not be read.") :
			    req_fail(r, 413, "Request body is too large: the limit is %lld bytes (setting "
			    "max_body_size).", (long long)cfg.max_body_size);
		}
		if (n == 0)
			break;
		if (mp_feed(mp, chunk, (size_t)n) != 0)
			break;
	}
	rc = x.failed ? 1 : mp_finish(mp);
	if (rc < 0) {
		const char *e = req_strdup(r, mp_error(mp));

		mp_free(mp);
		return req_fail(r, 400, "Multipart form parse error - %s", e);
	}
	mp_free(mp);
	if (x.failed)
		return req_fail(r, 500, "Internal server error.");
	if (!x.done)
		return req_fail_field(r, "file", "No file was submitted.");
	if (db_exec(r, STMT_UPLOAD_SET, "sisi", x.rel, x.size, x.ctype, db_int(&row, U_ID)) < 0)
		return req_fail_db(r);
	if (rename(x.tmp, x.final) != 0)
		return req_fail(r, 500, "Internal server error.");
	unlink_rel(db_str(&row, U_FILE));
	row.v[U_FILE] = (char *)x.rel;
	row.len[U_FILE] = strlen(x.rel);
	row.v[U_SIZE] = req_printf(r, "%lld", (long long)x.size);
	return reply_json(r, 200, upload_json(&row));
}

/* --- GET /data/upload/{project}/{file} --- */

/* A content type that a browser will not execute. */
static const char *
safe_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".png", "image/png" },
		{ ".gif", "image/gif" }, { ".bmp", "image/bmp" }, { ".webp", "image/webp" },
		{ ".mp3", "audio/mpeg" }, { ".wav", "audio/wav" }, { ".flac", "audio/flac" },
		{ ".ogg", "audio/ogg" }, { ".m4a", "audio/mp4" }, { ".mp4", "video/mp4" },
		{ ".webm", "video/webm" }, { ".csv", "text/plain; charset=utf-8" },
		{ ".tsv", "text/plain; charset=utf-8" }, { ".txt", "text/plain; charset=utf-8" },
		{ ".json", "text/plain; charset=utf-8" }, { ".jsonl", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');

	if (dot != NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static void
close_fd(void *arg)
{
	close((int)(intptr_t)arg);
}

/* Parses "bytes=a-b", "bytes=a-", "bytes=-n" against size. 1 (range set), 0 (no usable header:
 * whole file), -1 (unsatisfiable). Several ranges are answered with the whole file. */
int
uploads_parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
	char *end;
	long long a = -1, b = -1;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	if (*h == '-') {
		b = strtoll(h + 1, &end, 10);
		if (end == h + 1 || *end != '\0' || b <= 0)
			return b == 0 && *end == '\0' && end != h + 1 ? -1 : 0;
		if (size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	a = strtoll(h, &end, 10);
	if (end == h || *end != '-' || a < 0)
		return 0;
	h = end + 1;
	if (*h != '\0') {
		b = strtoll(h, &end, 10);
		if (*end != '\0' || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b < 0 || b >= size ? size - 1 : b;
	return 1;
}

int
uploads_serve(struct req *r)
{
	static char chunk[CHUNK];
	struct project_ref ref;
	struct db_row row;
	struct stat st;
	const char *file = req_param(r, "file"), *path;
	int64_t pid = req_param_id(r, "project"), from = 0, to = -1, left;
	int fd, rc, ranged;

	if (file == NULL || *file == '\0' || *file == '.' || strchr(file, '/') != NULL ||
	    strchr(file, '\\') != NULL || strstr(file, "..") != NULL)
		return req_fail(r, 404, "Not found.");
	rc = pid > 0 ? scope_project(r, pid, &ref) : 0;
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	rc = db_row(r, &row, STMT_UPLOAD_BY_FILE, "is", ref.id,
	    req_printf(r, "upload/%lld/%s", (long long)ref.id, file));
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	path = req_printf(r, "%s/%s", cfg.media_root, db_str(&row, U_FILE));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return req_fail(r, 404, "Not found.");
	req_defer(r, close_fd, (void *)(intptr_t)fd);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return req_fail(r, 404, "Not found.");
	reply_header(r, "X-Content-Type-Options", "nosniff");
	reply_header(r, "Content-Security-Policy", "sandbox");
	reply_header(r, "Accept-Ranges", "bytes");
	ranged = uploads_parse_range(req_header(r, "RANGE"), (int64_t)st.st_size, &from, &to);
	if (ranged < 0) {
		reply_header(r, "Content-Range", req_printf(r, "bytes */%lld", (long long)st.st_size));
		return req_fail(r, 416, "Requested range not satisfiable.");
	}
	if (!ranged) {
		from = 0;
		to = (int64_t)st.st_size - 1;
	} else {
		reply_header(r, "Content-Range", req_printf(r, "bytes %lld-%lld/%lld", (long long)from,
		    (long long)to, (long long)st.st_size));
	}
	left = to - from + 1;
	reply_header(r, "Content-Length", req_printf(r, "%lld", (long long)left));
	if (reply_start(r, ranged ? 206 : 200, safe_type(file)) != 0)
		return ranged ? 206 : 200;
	if (r->head || left <= 0)
		return ranged ? 206 : 200;
	if (lseek(fd, from, SEEK_SET) < 0)
		return ranged ? 206 : 200;
	while (left > 0) {
		ssize_t n = read(fd, chunk, left < (int64_t)sizeof(chunk) ? (size_t)left : sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || reply_write(r, chunk, (size_t)n) != 0)
			break;
		left -= n;
	}
	return ranged ? 206 : 200;
}
