/* import.c — POST /api/projects/{id}/import (and /tasks/bulk) and POST /api/projects/{id}/reimport:
 * tasks from JSON (list, dict, JSON Lines), CSV, TSV, TXT, multipart uploads of several files
 * (task files and media files), and url= (inline JSON, or a download through the SSRF guard).
 *
 * Streaming. The body is read in 256 KB chunks and fed to the parser its Content-Type (or, for a
 * file, its extension) calls for: app/jsonstream.h splits JSON into items, app/csvrows.h turns
 * CSV/TSV rows into objects, text is split into lines here, app/multipart.h cuts the files out of
 * a form. Each item is normalized, validated against the labeling config and serialized at once
 * into malloc'd batch buffers (JSON arrays); a batch of IMPORT_BATCH tasks (or ~4 MB) is written
 * by three statements (tasks, annotations, predictions) that read it through JSON_TABLE, and the
 * buffers are reset. Nothing per item is taken from the request arena, so memory is bounded by a
 * batch, one item, and the parsers' own buffers, whatever the body size.
 *
 * Transaction. The whole import is one transaction, begun before the first byte is read: the
 * project row is locked (inner ids are handed out here, in item order, so annotations and
 * predictions find their task by (project, inner_id) without reading ids back), and at the end the
 * counters, label usage, data_columns and next_inner_id move once. A bad item stops the writing
 * but not the reading: up to 100 item errors are listed (Label Studio's format) and the
 * transaction rolls back. Uploaded files go to a temporary name under the media root and are
 * renamed into place only just before the commit; a defer removes them when the import fails.
 *
 * Lock held: the project row, for the length of the import (imports into one project serialize,
 * as they must for inner ids; other projects are not touched). A slow client holds it that long.
 *
 * Idempotency-Key: the first successful answer is stored with a SHA-256 of method, path, query
 * and body, in the import's own transaction; a repeat with the same hash replays it, a different
 * request with the same key gets 422. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "config.h"
#include "csvrows.h"
#include "db.h"
#include "handlers.h"
#include "jsonstream.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "multipart.h"
#include "outbound.h"
#include "rand.h"
#include "reply.h"
#include "router.h"
#include "shared.h"

#define MAX_ITEM_ERRORS 100
#define ITEM_ECHO_MAX 1000              /* bytes of an item echoed in its error */
#define READ_CHUNK (256u << 10)
#define IMPORT_BATCH 1000               /* tasks per batch */
#define BATCH_BYTES (4u << 20)          /* or this much JSON, whichever comes first */
#define INLINE_MAX (16u << 20)          /* an .html/.xml file becomes one task holding its text */

/* Locks the project row: next_inner_id, data_columns, maximum_annotations, skip_queue. */
int
import_project_lock(struct req *r, int64_t project_id, struct db_row *row)
{
	return db_row(r, row, STMT_TASK_PROJECT_LOCK, "i", project_id);
}

/* counts[key] += sign for each top-level key of data. */
void
import_count_keys(struct json_object *counts, struct json_object *data, int sign)
{
	if (!json_object_is_type(data, json_type_object))
		return;
	json_object_object_foreach(data, key, val) {
		struct json_object *cur = json_object_object_get(counts, key);

		(void)val;
		json_object_object_add(counts, key, json_object_new_int64(json_object_get_int64(cur) + sign));
	}
}

/* Merges counts into the stored {"key": tasks} object (keys falling to 0 go) and stores it. The
 * caller holds the project row lock (import_project_lock). */
int
import_data_columns(struct req *r, int64_t project_id, const char *stored, struct json_object *counts)
{
	struct json_object *dc;

	if (json_object_object_length(counts) == 0)
		return 0;
	dc = req_own(r, json_tokener_parse(stored != NULL ? stored : "{}"));
	if (!json_object_is_type(dc, json_type_object))
		dc = req_own(r, json_object_new_object());
	json_object_object_foreach(counts, key, delta) {
		int64_t n = json_object_get_int64(json_object_object_get(dc, key)) + json_object_get_int64(delta);

		if (n > 0)
			json_object_object_add(dc, key, json_object_new_int64(n));
		else
			json_object_object_del(dc, key);
	}
	return db_exec(r, STMT_TASK_DATA_COLUMNS_SET, "si", json_object_to_json_string_ext(dc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), project_id) < 0 ? -1 : 0;
}

/* Label Studio's "$undefined$" placeholder (text imports) takes the config's first data key. */
void
import_undefined_key(const struct labelconfig *c, struct json_object *data)
{
	struct json_object *v;

	if (c == NULL || lc_ndata_keys(c) == 0 || !json_object_object_get_ex(data, "$undefined$", &v))
		return;
	json_object_object_add(data, lc_data_key(c, 0), json_object_get(v));
	json_object_object_del(data, "$undefined$");
}

/* --- malloc'd growing buffers (batches), freed by a defer --- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_need(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 64 * 1024;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL) {
		fprintf(stderr, "import: out of memory\n");
		abort();
	}
}

static void
buf_put(struct buf *b, const char *s, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void
buf_int(struct buf *b, int64_t v)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", (long long)v);

	buf_put(b, t, (size_t)n);
}

/* s as a JSON string literal. */
static void
buf_jstr(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	buf_need(b, n + 2);
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf_need(b, 2);
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)ch;
		} else if (ch < 0x20) {
			buf_need(b, 6);
			b->p[b->len++] = '\\';
			b->p[b->len++] = 'u';
			b->p[b->len++] = '0';
			b->p[b->len++] = '0';
			b->p[b->len++] = hex[ch >> 4];
			b->p[b->len++] = hex[ch & 15];
		} else {
			buf_need(b, 1);
			b->p[b->len++] = (char)ch;
		}
	}
	buf_need(b, 1);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static void
buf_free(void *arg)
{
	struct buf *b = arg;

	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static const char *
text(struct json_object *v, size_t *len)
{
	return json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    len);
}

/* Python's truthiness, as `if task.get('data')`. */
static int
truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return 0;
	case json_type_boolean: return json_object_get_boolean(v);
	case json_type_int: return json_object_get_int64(v) != 0;
	case json_type_double: return json_object_get_double(v) != 0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	case json_type_object: return json_object_object_length(v) > 0;
	case json_type_array: return json_object_array_length(v) > 0;
	}
	return 0;
}

static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
		else return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* --- the import's state --- */

enum fmt { F_NONE, F_JSON, F_CSV, F_TSV, F_TXT, F_HTML, F_MEDIA };

/* A file of this import: written to tmp, renamed to final just before the commit. */
struct upfile {
	char *tmp, *final;              /* absolute paths */
	const char *rel;                /* "upload/<project>/<hex>-<name>", as stored */
	const char *name;               /* the sanitized client name */
	int fd;
	int renamed;
	int64_t id, size;
	struct upfile *next;
};

struct who { int64_t id; const char *email; int64_t member; };

struct imp {
	struct req *r;
	const struct project_ref *ref;
	const struct labelconfig *c;
	int commit;
	const char *pre;                        /* preannotated_from_fields, NULL when none */
	int64_t pid, overlap, first_inner;
	const char *skip_queue, *stored_columns;

	size_t nitems;                          /* items seen (indexes in errors) */
	int64_t ntasks, nanns, npreds;          /* accepted */
	size_t batch_n;
	struct buf tasks, anns, preds;          /* JSON arrays being filled */
	struct stats_delta sum;
	struct json_object *counts;             /* data key -> tasks */
	struct usage *usage;
	char last_mv[256];

	struct json_object *errors;             /* {index: message}, at most MAX_ITEM_ERRORS */
	size_t nerr, last_err;
	int fstatus;                            /* a fatal error was met: its status */
	const char *ffield, *fmsg;              /* its field (NULL: plain detail) and message */
	int dberr;

	struct who *who;
	size_t nwho, capwho;

	/* the file being read (multipart part, url download, reimport) */
	enum fmt fmt;
	const char *fname;                      /* for messages */
	int64_t upload_id;                      /* tasks.file_upload_id, 0 for a body */
	const char *rel;                        /* the stored file (media tasks point at it) */
	struct upfile *file;                    /* being written, NULL when not saving */
	struct jsonstream *js;
	struct csvrows *csv;
	struct buf line;                        /* text: the line being read; html: the body */
	json_tokener *tok;
	size_t file_tasks;
	struct json_object *file_keys;          /* the data keys of the file's first task */
	struct json_object *common_keys;        /* data_columns: keys common to every file */
	struct json_object *formats;            /* {".csv": 2} */
	struct json_object *upload_ids;         /* [ids] */
	int could_be_list, files_as_list, nfiles, skip;
	struct upfile *files;
	char *updir;                            /* media_root/upload/<project> */
};

static int
fatal(struct imp *im, int status, const char *field, const char *msg)
{
	if (im->fstatus == 0) {
		im->fstatus = status;
		im->ffield = field;
		im->fmsg = req_strdup(im->r, msg);
	}
	return 1;
}

static int
fatal_db(struct imp *im)
{
	im->dberr = 1;
	return fatal(im, 500, NULL, "db");
}

/* The member id that completed_by names (an id, {"id"} or {"email"}), 0 when it names nobody of
 * the organization, -1 on a database error. Cached per distinct value (arena: bounded by the
 * organization's members). */
static int64_t
resolve_who(struct imp *im, struct json_object *v)
{
	struct json_object *f;
	int64_t id = 0;
	const char *email = NULL;
	struct db_row row;
	int rc;

	if (json_object_is_type(v, json_type_int)) {
		id = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_object)) {
		if (json_object_object_get_ex(v, "id", &f) && json_object_is_type(f, json_type_int))
			id = json_object_get_int64(f);
		else if (json_object_object_get_ex(v, "email", &f) && json_object_is_type(f, json_type_string))
			email = json_object_get_string(f);
		else
			return 0;
	} else {
		return 0;
	}
	for (size_t i = 0; i < im->nwho; i++)
		if (email != NULL ? im->who[i].email != NULL && strcmp(im->who[i].email, email) == 0 :
		    im->who[i].email == NULL && im->who[i].id == id)
			return im->who[i].member;
	if (email != NULL)
		rc = db_row(im->r, &row, STMT_IMPORT_MEMBER_EMAIL, "is", im->r->who.org_id, email);
	else
		rc = db_row(im->r, &row, STMT_IMPORT_MEMBER_ID, "ii", im->r->who.org_id, id);
	if (rc < 0)
		return -1;
	if (im->nwho == im->capwho) {
		struct who *n;

		im->capwho = im->capwho ? im->capwho * 2 : 16;
		n = req_alloc(im->r, im->capwho * sizeof(*n));
		if (im->nwho)
			memcpy(n, im->who, im->nwho * sizeof(*n));
		im->who = n;
	}
	im->who[im->nwho].id = id;
	im->who[im->nwho].email = email != NULL ? req_strdup(im->r, email) : NULL;
	im->who[im->nwho].member = rc == 1 ? db_int(&row, 0) : 0;
	return im->who[im->nwho++].member;
}

/* A number (or numeric string) as text for a DOUBLE column into out; 0 when it is none. */
static int
number_text(struct json_object *v, char *out, size_t outsz)
{
	char *end;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		snprintf(out, outsz, "%.17g", json_object_get_double(v));
		return 1;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		double d = strtod(s, &end);

		if (end != s && *end == '\0') {
			snprintf(out, outsz, "%.17g", d);
			return 1;
		}
	}
	return 0;
}

struct counts1 { int64_t total, cancelled, gt, preds; };

/* Checks one annotation and appends its row to im->anns. NULL when fine, else the message. */
static const char *
check_annotation(struct imp *im, int64_t inner, struct json_object *a, struct counts1 *k)
{
	struct req *r = im->r;
	struct json_object *res, *v;
	char err[512], lead[64];
	int64_t who = r->who.user_id;
	int cancelled = 0, gt = 1, has_lead = 0;
	const char *rt;
	size_t rlen;

	if (!json_object_is_type(a, json_type_object))
		return "Annotation must be dict";
	if (!json_object_object_get_ex(a, "result", &res))
		return "Annotation must have \"result\" fields";
	if (!json_object_is_type(res, json_type_array))
		return "\"result\" field in annotation must be list";
	if (im->c != NULL && lc_check_result(im->c, res, err, sizeof(err)) >= 0)
		return req_printf(r, "annotation %s", err);
	if (json_object_object_get_ex(a, "completed_by", &v) && v != NULL) {
		who = resolve_who(im, v);
		if (who < 0) {
			im->dberr = 1;
			return "";
		}
		if (who == 0)
			return req_printf(r, "Annotations with \"completed_by\"=%s are produced by annotator who "
			    "is not allowed for this project as invited annotator or team member", text(v, NULL));
	}
	if (json_object_object_get_ex(a, "was_cancelled", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return "\"was_cancelled\" must be a boolean";
		cancelled = json_object_get_boolean(v);
	}
	/* Label Studio imports annotations as ground truth by default. */
	if (json_object_object_get_ex(a, "ground_truth", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return "\"ground_truth\" must be a boolean";
		gt = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(a, "lead_time", &v) && v != NULL &&
	    !(has_lead = number_text(v, lead, sizeof(lead))))
		return "\"lead_time\" must be a number";
	rt = text(res, &rlen);
	buf_puts(&im->anns, im->anns.len > 1 ? ",{\"i\":" : "{\"i\":");
	buf_int(&im->anns, inner);
	buf_puts(&im->anns, ",\"u\":");
	buf_int(&im->anns, who);
	buf_puts(&im->anns, ",\"r\":");
	buf_jstr(&im->anns, rt, rlen);
	buf_puts(&im->anns, cancelled ? ",\"x\":1" : ",\"x\":0");
	buf_puts(&im->anns, gt ? ",\"g\":1" : ",\"g\":0");
	if (has_lead) {
		buf_puts(&im->anns, ",\"l\":");
		buf_puts(&im->anns, lead);
	}
	if (json_object_object_get_ex(a, "id", &v) && json_object_is_type(v, json_type_int)) {
		buf_puts(&im->anns, ",\"k\":");
		buf_int(&im->anns, json_object_get_int64(v));
	}
	buf_puts(&im->anns, "}");
	k->total += !cancelled;
	k->cancelled += cancelled;
	k->gt += gt && !cancelled;
	if (im->commit)
		usage_add(im->usage, res, 1, 0);
	return NULL;
}

static const char *
check_prediction(struct imp *im, int64_t inner, struct json_object *p)
{
	struct req *r = im->r;
	struct json_object *res, *v;
	char err[512], score[64];
	const char *mv = "undefined", *rt;
	int has_score = 0;
	size_t rlen;

	if (!json_object_is_type(p, json_type_object))
		return "Prediction must be dict";
	if (!json_object_object_get_ex(p, "result", &res))
		return "Prediction must have \"result\" fields";
	if (!json_object_is_type(res, json_type_array))
		return "\"result\" field in prediction must be list";
	if (im->c != NULL && lc_check_result(im->c, res, err, sizeof(err)) >= 0)
		return req_printf(r, "prediction %s", err);
	/* As Label Studio: a score that is not a number is stored as null. */
	if (json_object_object_get_ex(p, "score", &v) && v != NULL)
		has_score = number_text(v, score, sizeof(score));
	if (json_object_object_get_ex(p, "model_version", &v) && v != NULL)
		mv = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : text(v, NULL);
	if (strlen(mv) > 255)
		return "\"model_version\" must have no more than 255 characters";
	rt = text(res, &rlen);
	buf_puts(&im->preds, im->preds.len > 1 ? ",{\"i\":" : "{\"i\":");
	buf_int(&im->preds, inner);
	buf_puts(&im->preds, ",\"r\":");
	buf_jstr(&im->preds, rt, rlen);
	if (has_score) {
		buf_puts(&im->preds, ",\"s\":");
		buf_puts(&im->preds, score);
	}
	buf_puts(&im->preds, ",\"m\":");
	buf_jstr(&im->preds, mv, strlen(mv));
	buf_puts(&im->preds, "}");
	snprintf(im->last_mv, sizeof(im->last_mv), "%s", mv);
	return NULL;
}

/* Checks one item and appends its rows to the batch (inner id = first_inner + ntasks). NULL when
 * fine, else the message (the caller then cuts the buffers back). */
static const char *
check_item(struct imp *im, struct json_object *item, struct json_object **data_out)
{
	struct req *r = im->r;
	struct json_object *data = NULL, *meta = NULL, *v;
	struct counts1 k = { 0, 0, 0, 0 };
	int64_t inner = im->first_inner + im->ntasks;
	int root, labeled;
	char err[512];
	const char *msg, *dt;
	size_t dlen;

	if (!json_object_is_type(item, json_type_object))
		return "Task root must be dict with \"data\", \"meta\", \"annotations\", \"predictions\" fields";
	root = !(json_object_object_get_ex(item, "data", &data) && truthy(data));
	if (root)
		data = item;
	else if (!json_object_is_type(data, json_type_object))
		return "Task[data] must be <class 'dict'>";
	if (im->c != NULL) {
		import_undefined_key(im->c, data);
		if (lc_check_task_data(im->c, data, err, sizeof(err)) != 0)
			return req_printf(r, "%s%s", err, root ? " [assume: item as is = task root with values] " :
			    " [assume: item[\"data\"] = task root with values]");
	}
	*data_out = data;
	if (!root) {
		if (json_object_object_get_ex(item, "meta", &v) && v != NULL) {
			if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
				return "Task[meta] must be (<class 'dict'>, <class 'list'>)";
			meta = v;
		}
		if (json_object_object_get_ex(item, "annotations", &v) && v != NULL) {
			if (!json_object_is_type(v, json_type_array))
				return "Task[annotations] must be <class 'list'>";
			for (size_t i = 0; i < json_object_array_length(v); i++)
				if ((msg = check_annotation(im, inner, json_object_array_get_idx(v, i), &k)) != NULL)
					return msg;
		}
		if (json_object_object_get_ex(item, "predictions", &v) && v != NULL) {
			if (!json_object_is_type(v, json_type_array))
				return "Task[predictions] must be <class 'list'>";
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				if ((msg = check_prediction(im, inner, json_object_array_get_idx(v, i))) != NULL)
					return msg;
				k.preds++;
			}
		}
	}
	labeled = stats_is_labeled(k.total, k.cancelled, (int)im->overlap, im->skip_queue);
	dt = text(data, &dlen);
	buf_puts(&im->tasks, im->tasks.len > 1 ? ",{\"i\":" : "{\"i\":");
	buf_int(&im->tasks, inner);
	buf_puts(&im->tasks, ",\"d\":");
	buf_jstr(&im->tasks, dt, dlen);
	if (meta != NULL) {
		const char *mt = text(meta, &dlen);

		buf_puts(&im->tasks, ",\"m\":");
		buf_jstr(&im->tasks, mt, dlen);
	}
	buf_puts(&im->tasks, ",\"t\":");
	buf_int(&im->tasks, k.total);
	buf_puts(&im->tasks, ",\"c\":");
	buf_int(&im->tasks, k.cancelled);
	buf_puts(&im->tasks, ",\"g\":");
	buf_int(&im->tasks, k.gt);
	buf_puts(&im->tasks, ",\"p\":");
	buf_int(&im->tasks, k.preds);
	buf_puts(&im->tasks, labeled ? ",\"l\":1}" : ",\"l\":0}");
	if (im->commit) {
		struct stats_delta d;

		stats_task_delta(&d, k.total, k.cancelled, k.gt, k.preds, labeled);
		im->sum.tasks += d.tasks;
		im->sum.annotations += d.annotations;
		im->sum.skipped += d.skipped;
		im->sum.ground_truth += d.ground_truth;
		im->sum.useful += d.useful;
		im->sum.with_annotations += d.with_annotations;
		im->sum.finished += d.finished;
		im->sum.predictions += d.predictions;
		import_count_keys(im->counts, data, 1);
	}
	im->nanns += k.total + k.cancelled;
	im->npreds += k.preds;
	return NULL;
}

/* Writes the batch and empties it. 0, or 1 (stop) on a database error. */
static int
flush(struct imp *im)
{
	struct req *r = im->r;

	if (im->batch_n == 0)
		return 0;
	if (im->commit && im->nerr == 0 && im->fstatus == 0) {
		buf_puts(&im->tasks, "]");
		buf_puts(&im->anns, "]");
		buf_puts(&im->preds, "]");
		if (db_exec(r, STMT_IMPORT_TASKS, "iiiS", im->pid, im->overlap, im->upload_id, im->tasks.p,
		    im->tasks.len) < 0)
			return fatal_db(im);
		if (im->anns.len > 2 && db_exec(r, STMT_IMPORT_ANNS, "Si", im->anns.p, im->anns.len, im->pid) < 0)
			return fatal_db(im);
		if (im->preds.len > 2 && db_exec(r, STMT_IMPORT_PREDS, "Si", im->preds.p, im->preds.len,
		    im->pid) < 0)
			return fatal_db(im);
	}
	im->tasks.len = im->anns.len = im->preds.len = 0;
	buf_puts(&im->tasks, "[");
	buf_puts(&im->anns, "[");
	buf_puts(&im->preds, "[");
	im->batch_n = 0;
	return 0;
}

/* preannotated_from_fields=a,b: the item becomes {"data", "predictions"} with one prediction per
 * field present, built as Label Studio does (the field stays in data). A new object. */
static struct json_object *
preannotate(const struct labelconfig *c, struct json_object *item, const char *fields)
{
	struct json_object *data, *out, *preds;

	if (!json_object_is_type(item, json_type_object))
		return json_object_get(item);
	if (!json_object_object_get_ex(item, "data", &data))
		data = item;
	out = json_object_new_object();
	preds = json_object_new_array();
	json_object_object_add(out, "data", json_object_get(data));
	json_object_object_add(out, "predictions", preds);
	for (const char *p = fields; *p; ) {
		size_t len = strcspn(p, ",");
		char field[256], lower[64];
		struct json_object *v, *value, *res, *item1, *pred;
		const char *to = "text", *type = "choices", *key;
		int ci;

		snprintf(field, sizeof(field), "%.*s", (int)(len < 255 ? len : 255), p);
		p += len + (p[len] == ',');
		if (*field == '\0' || !json_object_object_get_ex(data, field, &v) || v == NULL)
			continue;
		if (c != NULL && (ci = lc_find_control(c, field)) >= 0) {
			snprintf(lower, sizeof(lower), "%s", lc_control_type(c, (size_t)ci));
			for (char *q = lower; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
			type = lower;
			if (lc_control_nto(c, (size_t)ci) > 0)
				to = lc_control_to(c, (size_t)ci, 0);
		}
		if (json_object_is_type(v, json_type_object)) {
			value = json_object_get(v);
		} else {
			key = strcmp(type, "textarea") == 0 ? "text" : type;
			value = json_object_new_object();
			if (strcmp(type, "rating") == 0 || strcmp(type, "number") == 0 ||
			    strcmp(type, "datetime") == 0 || json_object_is_type(v, json_type_array)) {
				json_object_object_add(value, key, json_object_get(v));
			} else {
				struct json_object *one = json_object_new_array();

				json_object_array_add(one, json_object_get(v));
				json_object_object_add(value, key, one);
			}
		}
		item1 = json_object_new_object();
		jadd_str(item1, "from_name", field);
		jadd_str(item1, "to_name", to);
		jadd_str(item1, "type", type);
		json_object_object_add(item1, "value", value);
		res = json_object_new_array();
		json_object_array_add(res, item1);
		pred = json_object_new_object();
		json_object_object_add(pred, "result", res);
		json_object_object_add(pred, "score", json_object_new_double(1.0));
		jadd_str(pred, "model_version", "preannotated");
		json_object_array_add(preds, pred);
	}
	return out;
}

/* Label Studio's item error: "Error at item i: message :: item". */
static void
item_error(struct imp *im, size_t i, const char *msg, struct json_object *item)
{
	size_t len;
	const char *s = text(item, &len);
	char key[32];

	snprintf(key, sizeof(key), "%zu", i);
	if (len > ITEM_ECHO_MAX)
		json_object_object_add(im->errors, key, json_object_new_string(req_printf(im->r,
		    "Error at item %zu: %s :: %.*s...", i, msg, ITEM_ECHO_MAX, s)));
	else
		json_object_object_add(im->errors, key, json_object_new_string(req_printf(im->r,
		    "Error at item %zu: %s :: %s", i, msg, s)));
	im->last_err = i;
}

/* One item from any parser (item is the caller's). 0 to go on, 1 to stop. */
static int
feed_item(struct imp *im, struct json_object *item)
{
	struct json_object *own = NULL, *data = NULL;
	size_t tl = im->tasks.len, al = im->anns.len, pl = im->preds.len, i = im->nitems++;
	int64_t na = im->nanns, np = im->npreds;
	const char *msg;

	if (im->fstatus)
		return 1;
	if (im->nitems > (size_t)cfg.max_tasks_per_import)
		return fatal(im, 400, "non_field_errors", req_printf(im->r, "Maximum task number is %d, "
		    "current task number is more (setting max_tasks_per_import)", cfg.max_tasks_per_import));
	if (im->pre != NULL) {
		own = preannotate(im->c, item, im->pre);
		item = own;
	}
	if (im->file_tasks == 0 && json_object_is_type(item, json_type_object)) {
		struct json_object *d = NULL;

		if (!(json_object_object_get_ex(item, "data", &d) && truthy(d)))
			d = item;
		if (json_object_is_type(d, json_type_object)) {
			im->file_keys = req_own(im->r, json_object_new_array());
			json_object_object_foreach(d, key, val) {
				(void)val;
				json_object_array_add(im->file_keys, json_object_new_string(
				    strcmp(key, "$undefined$") == 0 && im->c != NULL && lc_ndata_keys(im->c) > 0 ?
				    lc_data_key(im->c, 0) : key));
			}
		}
	}
	im->file_tasks++;
	msg = check_item(im, item, &data);
	if (im->dberr) {
		json_object_put(own);
		return fatal_db(im);
	}
	if (msg != NULL) {
		im->tasks.len = tl;
		im->anns.len = al;
		im->preds.len = pl;
		im->nanns = na;
		im->npreds = np;
		item_error(im, i, msg, item);
		json_object_put(own);
		return ++im->nerr >= MAX_ITEM_ERRORS;
	}
	json_object_put(own);
	im->ntasks++;
	im->batch_n++;
	if (im->nerr > 0) {
		/* nothing will be written: keep validating only */
		im->tasks.len = im->anns.len = im->preds.len = 1;
		im->batch_n = 0;
		return 0;
	}
	if (im->batch_n >= IMPORT_BATCH || im->tasks.len + im->anns.len + im->preds.len > BATCH_BYTES)
		return flush(im);
	return 0;
}

/* --- parsers --- */

static int
on_json(void *ctx, const char *p, size_t n, size_t index)
{
	struct imp *im = ctx;
	struct json_object *o;
	enum json_tokener_error e;
	int rc;

	(void)index;
	json_tokener_reset(im->tok);
	o = json_tokener_parse_ex(im->tok, p, (int)n);
	e = json_tokener_get_error(im->tok);
	if (e == json_tokener_continue)
		o = json_tokener_parse_ex(im->tok, "", 1), e = json_tokener_get_error(im->tok);
	if (o == NULL && e != json_tokener_success) {
		json_object_put(o);
		if (e == json_tokener_error_depth)
			return fatal(im, 400, NULL, req_printf(im->r, "JSON parse error - nesting deeper than %d "
			    "levels (setting max_json_depth)", cfg.max_json_depth));
		return fatal(im, 400, NULL, req_printf(im->r, "JSON parse error - invalid JSON in item %zu: %s",
		    im->nitems, json_tokener_error_desc(e)));
	}
	rc = feed_item(im, o);
	json_object_put(o);
	return rc;
}

static int
on_row(void *ctx, struct json_object *row, size_t index, size_t line)
{
	struct imp *im = ctx;
	int rc;

	(void)index;
	(void)line;
	rc = feed_item(im, row);
	json_object_put(row);
	return rc;
}

/* One line of text: {"$undefined$": line}. */
static int
text_line(struct imp *im, const char *p, size_t n)
{
	struct json_object *o;
	int rc;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!valid_utf8((const unsigned char *)p, n))
		return fatal(im, 400, "non_field_errors", req_printf(im->r, "Failed to parse input file %s: "
		    "line %zu is not valid UTF-8", im->fname, im->nitems + 1));
	o = json_object_new_object();
	json_object_object_add(o, "$undefined$", json_object_new_string_len(p, (int)n));
	rc = feed_item(im, o);
	json_object_put(o);
	return rc;
}

static int
text_feed(struct imp *im, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (nl == NULL) {
			if (im->line.len + k > (size_t)cfg.max_json_size)
				return fatal(im, 400, "non_field_errors", req_printf(im->r, "A line of %s is longer "
				    "than %lld bytes (setting max_json_size)", im->fname, (long long)cfg.max_json_size));
			buf_put(&im->line, p, k);
			return 0;
		}
		if (im->line.len > 0) {
			buf_put(&im->line, p, k);
			if (text_line(im, im->line.p, im->line.len))
				return 1;
			im->line.len = 0;
		} else if (text_line(im, p, k)) {
			return 1;
		}
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

/* --- files: their format, their place under the media root --- */

static enum fmt
fmt_of(const char *name, int as_list)
{
	static const char *media[] = { ".bmp", ".flac", ".gif", ".jpg", ".jpeg", ".m4a", ".mp3", ".ogg",
	    ".png", ".svg", ".wav", ".mp4", ".webm", ".webp" };
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return F_NONE;
	if (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".jsonl"))
		return F_JSON;
	if (!strcasecmp(dot, ".csv"))
		return as_list ? F_CSV : F_MEDIA;
	if (!strcasecmp(dot, ".tsv"))
		return as_list ? F_TSV : F_MEDIA;
	if (!strcasecmp(dot, ".txt"))
		return as_list ? F_TXT : F_MEDIA;
	if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm") || !strcasecmp(dot, ".xml"))
		return F_HTML;
	for (size_t i = 0; i < sizeof(media) / sizeof(media[0]); i++)
		if (!strcasecmp(dot, media[i]))
			return F_MEDIA;
	return F_NONE;
}

/* The extension as Label Studio reports it in found_formats (lower case, with its dot). */
static const char *
ext_of(struct req *r, const char *name)
{
	const char *dot = strrchr(name, '.');
	char *e = req_strdup(r, dot != NULL ? dot : "");

	for (char *q = e; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return e;
}

/* Django's get_valid_filename, in ASCII: no directories, spaces to '_', only [-A-Za-z0-9_.]. */
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
		char ch = *p;

		if (ch == ' ')
			ch = '_';
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.')
			out[n++] = ch;
	}
	out[n] = '\0';
	while (*out == '.')
		out++;
	if (*out == '\0')
		return "file";
	return out;
}

static int
import_mkdirs(const char *path)
{
	char tmp[1024];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int im_committed;        /* set when the import's transaction committed (per request) */

static void
files_cleanup(void *arg)
{
	struct imp *im = arg;

	for (struct upfile *f = im->files; f != NULL; f = f->next) {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		if (!im_committed)
			unlink(f->renamed ? f->final : f->tmp);
	}
	im->files = NULL;
}

/* Opens a new upload (temporary file + file_uploads row). 0, or 1 with the error set. */
static int
upfile_open(struct imp *im, const char *client_name, const char *ctype)
{
	struct req *r = im->r;
	struct upfile *f = req_zalloc(r, sizeof(*f));
	char hex[9];

	f->fd = -1;
	if (im->updir == NULL) {
		im->updir = req_printf(r, "%s/upload/%lld", cfg.media_root, (long long)im->pid);
		if (import_mkdirs(im->updir) != 0)
			return fatal(im, 500, NULL, "Internal server error.");
	}
	if (rand_hex(hex, 4) != 0)
		return fatal(im, 500, NULL, "Internal server error.");
	f->name = safe_name(r, client_name);
	f->rel = req_printf(r, "upload/%lld/%s-%s", (long long)im->pid, hex, f->name);
	f->final = req_printf(r, "%s/%s", cfg.media_root, f->rel);
	f->tmp = req_printf(r, "%s/.tmp-%s-%s", im->updir, hex, f->name);
	f->fd = open(f->tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	if (f->fd < 0)
		return fatal(im, 500, NULL, "Internal server error.");
	f->next = im->files;
	im->files = f;
	if (db_exec(r, STMT_UPLOAD_INSERT, "iiss", im->pid, r->who.user_id, f->rel,
	    ctype != NULL ? ctype : "application/octet-stream") < 0)
		return fatal_db(im);
	f->id = db_insert_id();
	im->file = f;
	im->rel = f->rel;
	im->upload_id = f->id;
	json_object_array_add(im->upload_ids, json_object_new_int64(f->id));
	return 0;
}

static int
upfile_write(struct imp *im, const char *p, size_t n)
{
	struct upfile *f = im->file;

	while (n > 0) {
		ssize_t w = write(f->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fatal(im, 500, NULL, "Internal server error.");
		p += w;
		n -= (size_t)w;
		f->size += w;
	}
	return 0;
}

static int
upfile_close(struct imp *im)
{
	struct upfile *f = im->file;

	if (f == NULL)
		return 0;
	im->file = NULL;
	if (f->fd >= 0 && close(f->fd) != 0) {
		f->fd = -1;
		return fatal(im, 500, NULL, "Internal server error.");
	}
	f->fd = -1;
	if (db_exec(im->r, STMT_UPLOAD_SIZE, "ii", f->size, f->id) < 0)
		return fatal_db(im);
	return 0;
}

/* Moves every file of the import into place (just before the commit). 0 or -1. */
static int
files_publish(struct imp *im)
{
	for (struct upfile *f = im->files; f != NULL; f = f->next) {
		if (f->renamed)
			continue;
		if (rename(f->tmp, f->final) != 0)
			return -1;
		f->renamed = 1;
	}
	return 0;
}

/* --- one source of tasks: a body, a file part, a download, a stored upload --- */

static const char MEDIA_ONE_KEY[] = "Your label config has more than one data key and direct file upload "
    "supports only one data key. To import data with multiple data keys, use a JSON or CSV file.";

static const char NO_DATA[] = "load_tasks: No data found in DATA or in FILES";

static int
src_fail(struct imp *im, const char *why)
{
	/* a JSON body that is not a list or an object: Label Studio's "no data" */
	if (im->fname == NULL && im->js != NULL && js_mode(im->js) == JS_UNKNOWN && im->nitems == 0)
		return fatal(im, 400, "non_field_errors", NO_DATA);
	if (im->fname == NULL)
		return fatal(im, 400, NULL, req_printf(im->r, "JSON parse error - %s", why));
	return fatal(im, 400, "non_field_errors", req_printf(im->r, "Failed to parse input file %s: %s",
	    im->fname, why));
}

static int
src_begin(struct imp *im, enum fmt fmt, const char *fname)
{
	struct js_limits jl = { (size_t)cfg.max_json_depth, "max_json_depth", (size_t)cfg.max_json_size,
	    "max_json_size" };
	struct csvrows_limits cl = { (size_t)cfg.max_json_size, "max_json_size", 10000, NULL };

	im->fmt = fmt;
	im->fname = fname;
	im->file_tasks = 0;
	im->file_keys = NULL;
	im->line.len = 0;
	switch (fmt) {
	case F_JSON:
		im->js = js_new(&jl, on_json, im);
		break;
	case F_CSV:
	case F_TSV:
		im->csv = csvrows_new(fmt == F_TSV ? '\t' : 0, &cl, on_row, im);
		break;
	case F_MEDIA:
	case F_HTML:
		if (im->c != NULL && lc_ndata_keys(im->c) > 1)
			return src_fail(im, MEDIA_ONE_KEY);
		break;
	default:
		break;
	}
	if ((fmt == F_JSON && im->js == NULL) || ((fmt == F_CSV || fmt == F_TSV) && im->csv == NULL))
		return fatal(im, 500, NULL, "Internal server error.");
	return 0;
}

static int
src_data(struct imp *im, const char *p, size_t n)
{
	int rc = 0;

	if (im->fstatus)
		return 1;
	if (im->file != NULL && upfile_write(im, p, n))
		return 1;
	switch (im->fmt) {
	case F_JSON:
		rc = js_feed(im->js, p, n);
		if (rc < 0)
			return src_fail(im, js_error(im->js));
		break;
	case F_CSV:
	case F_TSV:
		rc = csvrows_feed(im->csv, p, n);
		if (rc < 0)
			return src_fail(im, csvrows_error(im->csv));
		break;
	case F_TXT:
		rc = text_feed(im, p, n);
		break;
	case F_HTML:
		if (im->line.len + n > INLINE_MAX)
			return src_fail(im, req_printf(im->r, "the file is larger than %u bytes", INLINE_MAX));
		buf_put(&im->line, p, n);
		break;
	default:
		break;
	}
	return rc != 0 || im->fstatus != 0;
}

/* Label Studio's message when files' data keys do not overlap. */
static int
keys_clash(struct imp *im)
{
	struct buf a = { 0 }, b = { 0 };
	int rc;

	for (size_t i = 0; i < json_object_array_length(im->file_keys); i++) {
		buf_puts(&a, i ? "," : "");
		buf_puts(&a, json_object_get_string(json_object_array_get_idx(im->file_keys, i)));
	}
	for (size_t i = 0; i < json_object_array_length(im->common_keys); i++) {
		buf_puts(&b, i ? "," : "");
		buf_puts(&b, json_object_get_string(json_object_array_get_idx(im->common_keys, i)));
	}
	rc = fatal(im, 400, "non_field_errors", req_printf(im->r, "You're trying to import inconsistent "
	    "data:\nuploading tabular data from \"%s\" with data key(s) \"%s\", clashes with data key(s) "
	    "found from other files:\n\"%s\"", im->fname ? im->fname : "", a.p ? a.p : "", b.p ? b.p : ""));
	free(a.p);
	free(b.p);
	return rc;
}

static int
src_end(struct imp *im)
{
	struct json_object *o;
	int rc = 0;

	if (im->fstatus)
		return 1;
	switch (im->fmt) {
	case F_JSON:
		rc = js_finish(im->js);
		if (rc < 0)
			src_fail(im, js_error(im->js));
		break;
	case F_CSV:
	case F_TSV:
		rc = csvrows_finish(im->csv);
		if (rc < 0)
			src_fail(im, csvrows_error(im->csv));
		break;
	case F_TXT:
		if (im->line.len > 0)
			text_line(im, im->line.p, im->line.len);
		break;
	case F_HTML:
	case F_MEDIA:
		if (im->fmt == F_HTML && !valid_utf8((const unsigned char *)im->line.p, im->line.len)) {
			src_fail(im, "the file is not valid UTF-8");
			break;
		}
		o = json_object_new_object();
		if (im->fmt == F_HTML)
			json_object_object_add(o, "$undefined$", json_object_new_string_len(im->line.p ? im->line.p : "",
			    (int)im->line.len));
		else
			json_object_object_add(o, "$undefined$", json_object_new_string(req_printf(im->r, "/data/%s",
			    im->rel != NULL ? im->rel : "")));
		feed_item(im, o);
		json_object_put(o);
		break;
	default:
		break;
	}
	js_free(im->js);
	im->js = NULL;
	csvrows_free(im->csv);
	im->csv = NULL;
	if (upfile_close(im) || im->fstatus)
		return 1;
	/* data_columns: the keys common to every file (from each file's first task) */
	if (im->file_keys != NULL) {
		if (im->common_keys == NULL) {
			im->common_keys = im->file_keys;
		} else {
			struct json_object *both = req_own(im->r, json_object_new_array());

			for (size_t i = 0; i < json_object_array_length(im->common_keys); i++) {
				struct json_object *k = json_object_array_get_idx(im->common_keys, i);

				for (size_t j = 0; j < json_object_array_length(im->file_keys); j++)
					if (!strcmp(json_object_get_string(k),
					    json_object_get_string(json_object_array_get_idx(im->file_keys, j))))
						json_object_array_add(both, json_object_get(k));
			}
			if (json_object_array_length(both) == 0)
				return keys_clash(im);
			im->common_keys = both;
		}
	}
	return flush(im);
}

/* A file (multipart part, download, stored upload) begins: checks its extension and counts it. */
static int
file_begin(struct imp *im, const char *client_name, const char *ctype, int save)
{
	const char *name = safe_name(im->r, client_name), *ext = ext_of(im->r, name);
	enum fmt fmt = fmt_of(name, im->files_as_list);
	struct json_object *n;

	if (fmt == F_NONE)
		return fatal(im, 400, "non_field_errors", req_printf(im->r, "%s extension is not supported",
		    *ext ? ext : "(no)"));
	if (flush(im))
		return 1;
	im->nfiles++;
	n = json_object_object_get(im->formats, ext);
	json_object_object_add(im->formats, ext, json_object_new_int64(json_object_get_int64(n) + 1));
	if (!strcmp(ext, ".csv") || !strcmp(ext, ".tsv") || !strcmp(ext, ".txt"))
		im->could_be_list = 1;
	if (save && upfile_open(im, name, ctype))
		return 1;
	return src_begin(im, fmt, name);
}

/* --- the request --- */

/* commit_to_project and return_task_ids: Django's bool_from_request. -1 when not a boolean. */
static int
query_bool(struct req *r, const char *name, int def)
{
	const char *v = req_query(r, name);

	if (v == NULL || *v == '\0')
		return def;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return 0;
	return -1;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
tok_free(void *arg)
{
	json_tokener_free(arg);
}

static void
md_free(void *arg)
{
	EVP_MD_CTX_free(arg);
}

/* Sets up im for project ref (the caller has begun the transaction). 0, or -1 (database). */
static int
imp_init(struct imp *im, struct req *r, const struct project_ref *ref, int commit)
{
	struct db_row prow;

	memset(im, 0, sizeof(*im));
	im_committed = 0;
	im->r = r;
	im->ref = ref;
	im->pid = ref->id;
	im->commit = commit;
	im->c = scope_config(r, ref);
	im->files_as_list = 1;
	if (import_project_lock(r, ref->id, &prow) != 1)
		return -1;
	im->first_inner = db_int(&prow, 0);
	im->stored_columns = db_str(&prow, 1);
	im->overlap = db_int(&prow, 2);
	im->skip_queue = db_str(&prow, 3);
	req_defer(r, buf_free, &im->tasks);
	req_defer(r, buf_free, &im->anns);
	req_defer(r, buf_free, &im->preds);
	req_defer(r, buf_free, &im->line);
	buf_puts(&im->tasks, "[");
	buf_puts(&im->anns, "[");
	buf_puts(&im->preds, "[");
	im->tok = json_tokener_new_ex(cfg.max_json_depth);
	if (im->tok == NULL)
		return -1;
	json_tokener_set_flags(im->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	req_defer(r, tok_free, im->tok);
	im->errors = req_own(r, json_object_new_object());
	im->counts = req_own(r, json_object_new_object());
	im->formats = req_own(r, json_object_new_object());
	im->upload_ids = req_own(r, json_object_new_array());
	im->usage = usage_new(r, ref->id);
	req_defer(r, files_cleanup, im);
	return 0;
}

/* Answers the fatal error or the item errors the import met. */
static int
imp_fail(struct imp *im)
{
	struct req *r = im->r;

	if (im->dberr)
		return req_fail_db(r);
	if (im->fstatus != 0 && im->ffield != NULL)
		return req_fail_field(r, im->ffield, "%s", im->fmsg);
	if (im->fstatus != 0)
		return req_fail(r, im->fstatus, "%s", im->fmsg);
	{
		struct json_object *list = json_object_new_array(), *empty = json_object_new_object(), *ve;

		for (size_t i = 0; i < im->nitems; i++) {
			char key[32];
			struct json_object *e;

			snprintf(key, sizeof(key), "%zu", i);
			e = json_object_object_get(im->errors, key);
			json_object_array_add(list, e != NULL ? json_object_get(e) : json_object_get(empty));
		}
		if (im->nerr >= MAX_ITEM_ERRORS)
			json_object_array_put_idx(list, json_object_array_length(list) - 1,
			    json_object_new_string("..."));
		json_object_put(empty);
		ve = json_object_new_object();
		json_object_object_add(ve, "non_field_errors", list);
		return req_fail_validation(r, ve);
	}
}

/* The last batch, the project's counters, usage, inner ids and data_columns. 0, or -1. */
static int
imp_finish(struct imp *im)
{
	struct req *r = im->r;

	if (flush(im) != 0 || im->fstatus)
		return -1;
	if (!im->commit || im->ntasks == 0)
		return 0;
	if (db_exec(r, STMT_TASK_INNER_RESERVE, "ii", im->ntasks, im->pid) < 0 ||
	    stats_project_add(r, im->pid, &im->sum) != 0 || usage_flush(r, im->usage) != 0)
		return fatal_db(im), -1;
	if (im->last_mv[0] != '\0' && db_exec(r, STMT_IMPORT_MODEL_VERSION, "si", im->last_mv, im->pid) < 0)
		return fatal_db(im), -1;
	if (import_data_columns(r, im->pid, im->stored_columns, im->counts) != 0)
		return fatal_db(im), -1;
	return 0;
}

static int
add_id(void *ctx, const struct db_row *row)
{
	json_object_array_add(ctx, json_object_new_int64(db_int(row, 0)));
	return 0;
}

/* Reads the body chunk by chunk (hashing it into h when set) and hands each chunk to fn.
 * 0 at the end, 1 when fn stopped, -1 on a read error, -2 past max_body_size. */
static int
read_body(struct req *r, EVP_MD_CTX *h, int (*fn)(void *, const char *, size_t), void *ctx)
{
	static char chunk[READ_CHUNK];
	int64_t total = 0;

	for (;;) {
		long n = req_read(r, chunk, sizeof(chunk));

		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		total += n;
		if (total > cfg.max_body_size)
			return -2;
		if (h != NULL)
			EVP_DigestUpdate(h, chunk, (size_t)n);
		if (fn != NULL && fn(ctx, chunk, (size_t)n))
			return 1;
	}
}

static int
feed_src(void *ctx, const char *p, size_t n)
{
	return src_data(ctx, p, n);
}

static int
feed_mp(void *ctx, const char *p, size_t n)
{
	return mp_feed(ctx, p, n) != 0;
}

static int
feed_buf(void *ctx, const char *p, size_t n)
{
	buf_put(ctx, p, n);
	return 0;
}

static int
mp_begin(void *ctx, const struct mp_part *p)
{
	struct imp *im = ctx;

	im->skip = p->filename == NULL;
	if (im->skip)
		return 0;
	return file_begin(im, p->filename, p->content_type, 1);
}

static int
mp_data(void *ctx, const struct mp_part *p, const char *s, size_t n)
{
	struct imp *im = ctx;

	(void)p;
	return im->skip ? 0 : src_data(im, s, n);
}

static int
mp_end(void *ctx, const struct mp_part *p)
{
	struct imp *im = ctx;

	(void)p;
	return im->skip ? 0 : src_end(im);
}

static int
url_data(void *ctx, const char *p, size_t n)
{
	return src_data(ctx, p, n);
}

/* url=: inline JSON (quotes swapped, as Label Studio does), else a download through the guard. */
static int
import_url(struct imp *im, const char *form, size_t len)
{
	struct req *r = im->r;
	const char *url = NULL, *p = form, *end = form + len;
	struct json_object *o;
	char *swapped, err[512];
	struct outbound_req q;
	long status = 0;
	int rc;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);

		if (n >= 4 && strncmp(p, "url=", 4) == 0) {
			url = req_urldecode(r, p + 4, n - 4, 1);
			break;
		}
		p += n + 1;
	}
	if (url == NULL || *url == '\0')
		return fatal(im, 400, "non_field_errors", "\"url\" is not found in request data");
	swapped = req_strdup(r, url);
	for (char *s = swapped; *s; s++)
		if (*s == '\'')
			*s = '"';
	o = json_tokener_parse(swapped);
	if (o != NULL && (json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array))) {
		json_object_put(o);
		if (file_begin(im, "inplace.json", "application/json", 1) || src_data(im, swapped, strlen(swapped)))
			return 1;
		return src_end(im);
	}
	json_object_put(o);
	{
		const char *name = url, *s;
		size_t n;
		char *file;

		for (s = url; *s && *s != '?' && *s != '#'; s++)
			if (*s == '/')
				name = s + 1;
		n = (size_t)(s - name);
		file = req_strndup(r, name, n);
		if (file_begin(im, *file ? file : "download", NULL, 1))
			return 1;
	}
	memset(&q, 0, sizeof(q));
	q.url = url;
	q.on_data = url_data;
	q.ctx = im;
	q.max_bytes = cfg.max_body_size;
	rc = outbound_fetch(&q, &status, err, sizeof(err));
	if (im->fstatus)
		return 1;
	if (rc == OUTBOUND_TOO_BIG)
		return fatal(im, 413, NULL, err);
	if (rc != OUTBOUND_OK)
		return fatal(im, 400, "url", err);
	if (status < 200 || status > 299)
		return fatal(im, 400, "url", req_printf(r, "The URL answered HTTP %ld.", status));
	return src_end(im);
}

enum kind { K_NONE, K_JSON, K_CSV, K_TSV, K_TXT, K_MULTI, K_FORM };

static enum kind
kind_of(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return K_NONE;
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
#define IS(s) (n == sizeof(s) - 1 && strncasecmp(ct, s, n) == 0)
	if (IS("application/json") || IS("application/x-ndjson") || IS("application/jsonl") ||
	    IS("application/x-jsonlines") || IS("application/jsonlines") ||
	    (n > 5 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + n - 5, "+json", 5) == 0))
		return K_JSON;
	if (IS("text/csv"))
		return K_CSV;
	if (IS("text/tab-separated-values"))
		return K_TSV;
	if (IS("text/plain"))
		return K_TXT;
	if (IS("multipart/form-data"))
		return K_MULTI;
	if (IS("application/x-www-form-urlencoded"))
		return K_FORM;
#undef IS
	return K_NONE;
}


/* The import response (Label Studio's keys). A new object. */
static struct json_object *
response(struct imp *im, const struct timespec *t0, int files, int reimport)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "task_count", im->ntasks);
	if (im->commit) {
		jadd_int(o, "annotation_count", im->nanns);
		jadd_int(o, "prediction_count", im->npreds);
	} else {
		jadd_null(o, "annotation_count");
		jadd_null(o, "prediction_count");
	}
	json_object_object_add(o, "duration", json_object_new_double(seconds_since(t0)));
	json_object_object_add(o, "file_upload_ids", json_object_get(im->upload_ids));
	if (!reimport)
		jadd_bool(o, "could_be_tasks_list", im->could_be_list);
	json_object_object_add(o, "found_formats", files ? json_object_get(im->formats) : json_object_new_array());
	json_object_object_add(o, "data_columns", im->common_keys != NULL && files ?
	    json_object_get(im->common_keys) : json_object_new_array());
	return o;
}

int
import_tasks(struct req *r)
{
	struct timespec t0;
	struct project_ref ref;
	struct imp *im = req_zalloc(r, sizeof(*im));
	struct db_row row;
	struct json_object *o;
	const char *key = req_header(r, "IDEMPOTENCY_KEY"), *out;
	EVP_MD_CTX *h = NULL;
	unsigned char hash[32];
	unsigned hlen = 0;
	enum kind kind = kind_of(r->content_type);
	struct multipart *mp = NULL;
	struct buf *form = req_zalloc(r, sizeof(*form));
	size_t outlen;
	int rc, commit, want_ids;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = scope_project(r, req_param_id(r, "id"), &ref);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((commit = query_bool(r, "commit_to_project", 1)) < 0)
		return req_fail_field(r, "commit_to_project", "Must be a valid boolean.");
	if ((want_ids = query_bool(r, "return_task_ids", 0)) < 0)
		return req_fail_field(r, "return_task_ids", "Must be a valid boolean.");
	if (kind == K_NONE)
		return req_fail_field(r, "non_field_errors", NO_DATA);
	if (key != NULL) {
		size_t n = strlen(key);

		if (n == 0 || n > 255 || strspn(key, "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`"
		    "abcdefghijklmnopqrstuvwxyz|~:/=@,;") != n)
			return req_fail_field(r, "Idempotency-Key", "Must be 1 to 255 visible ASCII characters.");
		if ((h = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1)
			return req_fail(r, 500, "Internal server error.");
		req_defer(r, md_free, h);
		EVP_DigestUpdate(h, r->method, strlen(r->method) + 1);
		EVP_DigestUpdate(h, r->path, strlen(r->path) + 1);
		EVP_DigestUpdate(h, r->query, strlen(r->query) + 1);
		if (db_exec(r, STMT_IDEM_PURGE, "i", r->who.user_id) < 0)
			return req_fail_db(r);
		if ((rc = db_row(r, &row, STMT_IDEM_GET, "is", r->who.user_id, key)) < 0)
			return req_fail_db(r);
		if (rc == 1) {
			rc = read_body(r, h, NULL, NULL);
			if (rc == -2)
				return req_fail(r, 413, "Request body is too large: the limit is %lld bytes (setting "
				    "max_body_size).", (long long)cfg.max_body_size);
			if (rc != 0)
				return req_fail(r, 400, "The request body could not be read.");
			EVP_DigestFinal_ex(h, hash, &hlen);
			if (row.len[0] != 32 || memcmp(row.v[0], hash, 32) != 0)
				return req_fail(r, 422, "The Idempotency-Key was already used with another request.");
			reply_header(r, "Idempotent-Replayed", "true");
			return reply_raw(r, (int)db_int(&row, 1), "application/json", db_str(&row, 2), row.len[2]);
		}
	}
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if (imp_init(im, r, &ref, commit) != 0)
		return req_fail_db(r);
	{
		const char *pre = req_query(r, "preannotated_from_fields");

		im->pre = pre != NULL && *pre != '\0' ? pre : NULL;
	}
	switch (kind) {
	case K_JSON:
	case K_CSV:
	case K_TSV:
	case K_TXT:
		if (src_begin(im, kind == K_JSON ? F_JSON : kind == K_CSV ? F_CSV : kind == K_TSV ? F_TSV : F_TXT,
		    kind == K_JSON ? NULL : kind == K_CSV ? "body.csv" : kind == K_TSV ? "body.tsv" : "body.txt"))
			break;
		rc = read_body(r, h, feed_src, im);
		if (rc >= 0 && im->fstatus == 0)
			src_end(im);
		break;
	case K_MULTI: {
		struct mp_limits ml = { 0, NULL, (size_t)cfg.max_files_per_import, "max_files_per_import", 16384,
		    NULL };
		struct mp_callbacks cb = { mp_begin, mp_data, mp_end };
		char err[256];

		mp = mp_new(r->content_type, &ml, &cb, im, err, sizeof(err));
		if (mp == NULL) {
			fatal(im, 400, NULL, req_printf(r, "Multipart form parse error - %s", err));
			break;
		}
		rc = read_body(r, h, feed_mp, mp);
		if (rc >= 0 && im->fstatus == 0 && mp_finish(mp) < 0)
			rc = 2;
		if (rc > 0 && im->fstatus == 0 && *mp_error(mp))
			fatal(im, 400, NULL, req_printf(r, "Multipart form parse error - %s", mp_error(mp)));
		mp_free(mp);
		if (rc >= 0 && im->fstatus == 0 && im->nfiles == 0)
			fatal(im, 400, "non_field_errors", NO_DATA);
		break;
	}
	case K_FORM:
		req_defer(r, buf_free, form);
		rc = read_body(r, h, feed_buf, form);
		if (rc == 0)
			import_url(im, form->p ? form->p : "", form->len);
		break;
	default:
		break;
	}
	if (rc == -2)
		return req_fail(r, 413, "Request body is too large: the limit is %lld bytes (setting max_body_size).",
		    (long long)cfg.max_body_size);
	if (rc == -1)
		return req_fail(r, 400, "The request body could not be read.");
	if (im->fstatus || im->nerr)
		return imp_fail(im);
	if (im->nitems == 0)
		return req_fail_field(r, "non_field_errors", "load_tasks: No tasks added");
	if (imp_finish(im) != 0)
		return imp_fail(im);
	o = req_own(r, response(im, &t0, kind == K_MULTI || kind == K_FORM, 0));
	if (want_ids) {
		struct json_object *ids = json_object_new_array();

		json_object_object_add(o, "task_ids", ids);
		if (commit && db_each(r, add_id, ids, STMT_IMPORT_TASK_IDS, "iii", im->pid, im->first_inner,
		    im->first_inner + im->ntasks) != 0)
			return req_fail_db(r);
	}
	out = text(o, &outlen);
	if (h != NULL) {
		EVP_DigestFinal_ex(h, hash, &hlen);
		if (db_exec(r, STMT_IDEM_PUT, "isSiS", r->who.user_id, key, (const char *)hash, (size_t)32, 201,
		    out, outlen) < 0) {
			if (db_last_error() == DB_ERR_DUP)
				return req_fail(r, 409, "A request with this Idempotency-Key is in progress.");
			return req_fail_db(r);
		}
	}
	if (files_publish(im) != 0)
		return req_fail(r, 500, "Internal server error.");
	if (db_commit(r) != 0)
		return req_fail_db(r);
	im_committed = 1;
	return reply_raw(r, 201, "application/json", out, outlen);
}

struct del_ctx {
	int64_t *ids;
	size_t n, cap;
	struct json_object *counts;
};

static int
del_collect(void *ctx, const struct db_row *row)
{
	struct del_ctx *d = ctx;
	struct json_object *data;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->ids = realloc(d->ids, d->cap * sizeof(*d->ids));
		if (d->ids == NULL)
			abort();
	}
	d->ids[d->n++] = db_int(row, 0);
	data = json_tokener_parse(db_str(row, 1));
	import_count_keys(d->counts, data, -1);
	json_object_put(data);
	return 0;
}

static void
del_free(void *arg)
{
	struct del_ctx *d = arg;

	free(d->ids);
}

/* Reads a stored upload into the import (no saving). */
static int
reimport_file(struct imp *im, const struct db_row *u)
{
	static char chunk[READ_CHUNK];
	const char *rel = db_str(u, 1), *name = strrchr(rel, '/');
	char *path;
	int fd;

	name = name ? name + 1 : rel;
	if (strlen(name) > 9 && name[8] == '-')
		name += 9;
	if (file_begin(im, name, db_str(u, 3), 0))
		return 1;
	im->upload_id = db_int(u, 0);
	im->rel = rel;
	json_object_array_add(im->upload_ids, json_object_new_int64(im->upload_id));
	path = req_printf(im->r, "%s/%s", cfg.media_root, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fatal(im, 400, "non_field_errors", req_printf(im->r, "Failed to parse input file %s: "
		    "the file is gone", name));
	if (im->fmt != F_MEDIA) {
		for (;;) {
			ssize_t n = read(fd, chunk, sizeof(chunk));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (src_data(im, chunk, (size_t)n))
				break;
		}
	}
	close(fd);
	if (im->fstatus)
		return 1;
	return src_end(im);
}

int
import_reimport(struct req *r)
{
	struct timespec t0;
	struct project_ref ref;
	struct imp *im = req_zalloc(r, sizeof(*im));
	struct json_object *ids, *o, *counts;
	struct db_rows ups;
	struct del_ctx *del = req_zalloc(r, sizeof(*del));
	const char *idtext;
	size_t idlen;
	int rc, as_list = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = scope_project(r, req_param_id(r, "id"), &ref);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (jget_bool(r->json, "files_as_tasks_list", &as_list) < 0)
		return req_fail_field(r, "files_as_tasks_list", "Must be a valid boolean.");
	ids = json_object_object_get(r->json, "file_upload_ids");
	if (ids != NULL && !json_object_is_type(ids, json_type_array))
		return req_fail_field(r, "file_upload_ids", "Expected a list of items but got type \"%s\".",
		    json_object_is_type(ids, json_type_object) ? "dict" : json_type_to_name(json_object_get_type(ids)));
	if (ids == NULL || json_object_array_length(ids) == 0) {
		o = json_object_new_object();
		jadd_int(o, "task_count", 0);
		jadd_int(o, "annotation_count", 0);
		jadd_int(o, "prediction_count", 0);
		jadd_int(o, "duration", 0);
		json_object_object_add(o, "file_upload_ids", json_object_new_array());
		json_object_object_add(o, "found_formats", json_object_new_object());
		json_object_object_add(o, "data_columns", json_object_new_array());
		return reply_json(r, 200, o);
	}
	for (size_t i = 0; i < json_object_array_length(ids); i++)
		if (!json_object_is_type(json_object_array_get_idx(ids, i), json_type_int))
			return req_fail_field(r, "file_upload_ids", "A valid integer is required.");
	idtext = text(ids, &idlen);
	if (db_rows(r, &ups, STMT_UPLOAD_LIST_IDS, "iS", ref.id, idtext, idlen) != 0)
		return req_fail_db(r);
	if (db_begin(r) != 0)
		return req_fail_db(r);
	/* Lock order: the old tasks first, then the project row (imp_init). */
	counts = req_own(r, json_object_new_object());
	del->counts = counts;
	req_defer(r, del_free, del);
	if (db_each(r, del_collect, del, STMT_IMPORT_UPLOAD_TASKS, "iS", ref.id, idtext, idlen) != 0)
		return req_fail_db(r);
	for (size_t i = 0; i < del->n; i++)
		if (stats_task_remove(r, del->ids[i]) != 0 || db_exec(r, STMT_TASK_DELETE, "i", del->ids[i]) < 0)
			return req_fail_db(r);
	if (imp_init(im, r, &ref, 1) != 0)
		return req_fail_db(r);
	json_object_object_foreach(counts, k, v)
		json_object_object_add(im->counts, k, json_object_get(v));
	im->files_as_list = as_list;
	for (size_t i = 0; i < ups.n && im->fstatus == 0 && im->nerr < MAX_ITEM_ERRORS; i++)
		reimport_file(im, &ups.rows[i]);
	if (im->fstatus || im->nerr)
		return imp_fail(im);
	if (imp_finish(im) != 0)
		return imp_fail(im);
	/* data_columns also loses the deleted tasks' keys when nothing new was imported */
	if (im->ntasks == 0 && import_data_columns(r, im->pid, im->stored_columns, im->counts) != 0)
		return req_fail_db(r);
	o = response(im, &t0, 1, 1);
	if (db_commit(r) != 0) {
		json_object_put(o);
		return req_fail_db(r);
	}
	im_committed = 1;
	return reply_json(r, 201, o);
}
