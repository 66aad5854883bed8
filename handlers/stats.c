/* stats.c — the counters of tasks and projects, and label usage, moved by the writes themselves.
 *
 * A task's counters are recomputed from that task's own rows (an indexed read of a handful of
 * annotations), and its project's counters move by the difference: the project never needs a
 * scan to stay right. The definitions live in sql/0003_projects.sql. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "db.h"
#include "labelconfig.h"
#include "shared.h"

int
stats_is_labeled(int64_t total, int64_t cancelled, int overlap, const char *skip_queue)
{
	int64_t done = total;

	if (skip_queue != NULL && strcmp(skip_queue, "IGNORE_SKIPPED") == 0)
		done += cancelled;
	return done >= (overlap > 0 ? overlap : 1);
}

void
stats_task_delta(struct stats_delta *d, int64_t total, int64_t cancelled, int64_t gt,
    int64_t predictions, int is_labeled)
{
	memset(d, 0, sizeof(*d));
	d->tasks = 1;
	d->annotations = total;
	d->skipped = cancelled;
	d->ground_truth = gt;
	d->useful = total - gt;
	d->with_annotations = total > 0;
	d->finished = is_labeled != 0;
	d->predictions = predictions;
}

static void
delta_sub(struct stats_delta *d, const struct stats_delta *a, const struct stats_delta *b)
{
	d->tasks = a->tasks - b->tasks;
	d->annotations = a->annotations - b->annotations;
	d->skipped = a->skipped - b->skipped;
	d->ground_truth = a->ground_truth - b->ground_truth;
	d->useful = a->useful - b->useful;
	d->with_annotations = a->with_annotations - b->with_annotations;
	d->finished = a->finished - b->finished;
	d->predictions = a->predictions - b->predictions;
}

int
stats_project_add(struct req *r, int64_t project_id, const struct stats_delta *d)
{
	if (d->tasks == 0 && d->annotations == 0 && d->skipped == 0 && d->ground_truth == 0 &&
	    d->useful == 0 && d->with_annotations == 0 && d->finished == 0 && d->predictions == 0)
		return 0;
	return db_exec(r, STMT_STATS_PROJECT_ADD, "iiiiiiiii", d->tasks, d->annotations, d->skipped,
	    d->ground_truth, d->useful, d->with_annotations, d->finished, d->predictions,
	    project_id) < 0 ? -1 : 0;
}

/* Locks the task row and returns its stored contribution. 1, 0 (gone), -1. */
static int
task_lock(struct req *r, int64_t task_id, struct db_row *row, struct stats_delta *old)
{
	int rc = db_row(r, row, STMT_STATS_TASK_LOCK, "i", task_id);

	memset(old, 0, sizeof(*old));
	if (rc == 1)
		stats_task_delta(old, db_int(row, 2), db_int(row, 3), db_int(row, 4), db_int(row, 5),
		    (int)db_int(row, 6));
	return rc;
}

int
stats_task_refresh(struct req *r, int64_t task_id)
{
	struct db_row t, n;
	struct stats_delta old, now, d;
	int64_t total, cancelled, gt, preds;
	int labeled, rc = task_lock(r, task_id, &t, &old);

	if (rc <= 0)
		return rc;
	if (db_row(r, &n, STMT_STATS_TASK_COUNT, "ii", task_id, task_id) != 1)
		return -1;
	total = db_int(&n, 0);
	cancelled = db_int(&n, 1);
	gt = db_int(&n, 2);
	preds = db_int(&n, 3);
	labeled = stats_is_labeled(total, cancelled, (int)db_int(&t, 1), db_str(&t, 7));
	stats_task_delta(&now, total, cancelled, gt, preds, labeled);
	delta_sub(&d, &now, &old);
	if (d.annotations == 0 && d.skipped == 0 && d.ground_truth == 0 && d.predictions == 0 &&
	    d.finished == 0)
		return 0;
	if (db_exec(r, STMT_STATS_TASK_SET, "iiiibi", total, cancelled, gt, preds, labeled, task_id) < 0)
		return -1;
	return stats_project_add(r, db_int(&t, 0), &d);
}

struct remove_ctx {
	struct usage *u;
};

static int
remove_result(void *ctx, const struct db_row *row)
{
	struct remove_ctx *c = ctx;

	usage_add_text(c->u, db_str(row, 0), -1, (int)db_int(row, 1));
	return 0;
}

int
stats_task_remove(struct req *r, int64_t task_id)
{
	struct db_row t;
	struct stats_delta old, d;
	struct remove_ctx c;
	int rc = task_lock(r, task_id, &t, &old);

	if (rc <= 0)
		return rc;
	memset(&d, 0, sizeof(d));
	delta_sub(&d, &d, &old);
	if (stats_project_add(r, db_int(&t, 0), &d) != 0)
		return -1;
	if (db_exec(r, STMT_STATS_GAP_RECORD, "i", task_id) < 0)
		return -1;
	c.u = usage_new(r, db_int(&t, 0));
	if (db_each(r, remove_result, &c, STMT_STATS_TASK_RESULTS, "ii", task_id, task_id) != 0)
		return -1;
	return usage_flush(r, c.u);
}

int
stats_project_clear(struct req *r, int64_t project_id)
{
	if (db_exec(r, STMT_STATS_PROJECT_CLEAR, "i", project_id) < 0 ||
	    db_exec(r, STMT_STATS_GAPS_CLEAR, "ii", project_id, project_id) < 0 ||
	    db_exec(r, STMT_STATS_GAPS_DELETE, "i", project_id) < 0)
		return -1;
	return db_exec(r, STMT_USAGE_CLEAR, "i", project_id) < 0 ? -1 : 0;
}

int
stats_project_overlap(struct req *r, int64_t project_id, int overlap, const char *skip_queue)
{
	if (db_exec(r, STMT_STATS_OVERLAP_SET, "isii", (int64_t)overlap, skip_queue,
	    (int64_t)(overlap > 0 ? overlap : 1), project_id) < 0)
		return -1;
	return db_exec(r, STMT_STATS_FINISHED_SET, "ii", project_id, project_id) < 0 ? -1 : 0;
}

/* --- label usage --- */

struct usage_entry {
	struct usage_entry *next;
	const char *from_name, *to_name, *type, *label;     /* label "" for the triple itself */
	int64_t annotations, drafts;
};

#define USAGE_BUCKETS 64

struct usage {
	struct req *r;
	int64_t project_id;
	struct usage_entry *bucket[USAGE_BUCKETS];
	int sign, draft;                /* of the result being added */
};

struct usage *
usage_new(struct req *r, int64_t project_id)
{
	struct usage *u = req_zalloc(r, sizeof(*u));

	u->r = r;
	u->project_id = project_id;
	return u;
}

/* Characters (not bytes) of UTF-8 text, to compare with a VARCHAR's length. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static unsigned
hash4(const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[4] = { a, b, c, d };
	unsigned h = 2166136261u;

	for (int i = 0; i < 4; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static void
usage_one(void *ctx, const char *from_name, const char *to_name, const char *type, const char *label)
{
	struct usage *u = ctx;
	struct usage_entry *e;
	unsigned h;

	if (label == NULL)
		label = "";
	/* Names longer than the columns cannot be counted; Label Studio's own names are short. */
	if (utf8_chars(from_name) > 100 || utf8_chars(to_name) > 100 || utf8_chars(type) > 40 ||
	    utf8_chars(label) > 255)
		return;
	h = hash4(from_name, to_name, type, label) % USAGE_BUCKETS;
	for (e = u->bucket[h]; e != NULL; e = e->next)
		if (strcmp(e->from_name, from_name) == 0 && strcmp(e->to_name, to_name) == 0 &&
		    strcmp(e->type, type) == 0 && strcmp(e->label, label) == 0)
			break;
	if (e == NULL) {
		e = req_zalloc(u->r, sizeof(*e));
		e->from_name = req_strdup(u->r, from_name);
		e->to_name = req_strdup(u->r, to_name);
		e->type = req_strdup(u->r, type);
		e->label = req_strdup(u->r, label);
		e->next = u->bucket[h];
		u->bucket[h] = e;
	}
	if (u->draft)
		e->drafts += u->sign;
	else
		e->annotations += u->sign;
}

void
usage_add(struct usage *u, struct json_object *result, int sign, int draft)
{
	if (!json_object_is_type(result, json_type_array))
		return;
	u->sign = sign;
	u->draft = draft;
	lc_result_labels(result, usage_one, u);
}

void
usage_add_text(struct usage *u, const char *result_json, int sign, int draft)
{
	struct json_object *o;

	if (result_json == NULL || *result_json == '\0')
		return;
	o = json_tokener_parse(result_json);
	if (o == NULL)
		return;
	usage_add(u, o, sign, draft);
	json_object_put(o);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct usage_entry *x = *(struct usage_entry *const *)a, *y = *(struct usage_entry *const *)b;
	int c;

	if ((c = strcmp(x->from_name, y->from_name)) != 0 || (c = strcmp(x->to_name, y->to_name)) != 0 ||
	    (c = strcmp(x->type, y->type)) != 0)
		return c;
	return strcmp(x->label, y->label);
}

/* Upserts in key order, so two transactions touching the same rows lock them in the same order
 * and cannot deadlock on each other. */
int
usage_flush(struct req *r, struct usage *u)
{
	size_t n = 0, k = 0;
	struct usage_entry **all;

	for (int i = 0; i < USAGE_BUCKETS; i++)
		for (struct usage_entry *e = u->bucket[i]; e != NULL; e = e->next)
			n += e->annotations != 0 || e->drafts != 0;
	if (n == 0)
		return 0;
	all = req_alloc(r, n * sizeof(*all));
	for (int i = 0; i < USAGE_BUCKETS; i++)
		for (struct usage_entry *e = u->bucket[i]; e != NULL; e = e->next)
			if (e->annotations != 0 || e->drafts != 0)
				all[k++] = e;
	qsort(all, n, sizeof(*all), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		struct usage_entry *e = all[i];

		if (db_exec(r, STMT_USAGE_ADD, "issssii", u->project_id, e->from_name, e->to_name,
		    e->type, e->label, e->annotations, e->drafts) < 0)
			return -1;
		e->annotations = e->drafts = 0;
	}
	return 0;
}
