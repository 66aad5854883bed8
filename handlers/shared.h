/* shared.h — what the labeling resources (projects, tasks, annotations, drafts, predictions,
 * import) share: org-scoped lookups of a project or a task, the project's parsed labeling config,
 * the counters that move with every write, and label usage.
 *
 * Scope. Every lookup by id goes through the caller's active organization: an object of another
 * organization is "not found" (the caller answers 404), never "forbidden".
 *
 * Counters and usage are moved inside the caller's transaction (db_begin ... db_commit), after the
 * write that changes them, so they cannot drift: a failed write rolls them back with it. Lock
 * order, to keep deadlocks away: task rows first, then the project row, then label_usage rows.
 */
#ifndef SIALI_SHARED_H
#define SIALI_SHARED_H
#include <stdint.h>
#include <stdio.h>
#include "req.h"
#include "stmts.h"

struct json_object;
struct labelconfig;

/* The fields of a project that other resources need. Strings are arena-owned. */
struct project_ref {
	int64_t id;
	int64_t organization_id;
	const char *title;
	const char *label_config;
	int maximum_annotations;
	const char *sampling;               /* "Sequential sampling", "Uniform sampling", ... */
	const char *skip_queue;             /* REQUEUE_FOR_ME, REQUEUE_FOR_OTHERS, IGNORE_SKIPPED */
	int show_ground_truth_first;
	int show_overlap_first;
	int overlap_cohort_percentage;
	const char *model_version;          /* "" when none */
};

/* 1 found (ref filled), 0 not found or another organization's, -1 database error. */
int scope_project(struct req *r, int64_t id, struct project_ref *ref);
/* The task's project along with it: 1, 0 or -1 as above. */
int scope_task(struct req *r, int64_t task_id, struct project_ref *ref);

/* The project's labeling config, parsed once per request (freed at req_end). NULL only when the
 * stored config no longer parses (a config stored before a rule changed): callers then skip
 * config checks, as nothing else can be done about it. */
const struct labelconfig *scope_config(struct req *r, const struct project_ref *ref);

/* Answers status with the row that statement stmt (one "i" parameter, id) reads, rendered by
 * to_json; 404 when it is gone, the database error otherwise. For the read-back after a write. */
int scope_reply_row(struct req *r, int status, enum stmt_id stmt, int64_t id,
    struct json_object *(*to_json)(struct req *r, const struct db_row *row));

/* --- counters (stats.c) --- */

/* How much a write moves a project's counters. */
struct stats_delta {
	int64_t tasks, annotations, skipped, ground_truth, useful, with_annotations, finished,
	    predictions;
};

/* Recomputes one task's counters from its own annotations and predictions (an indexed read of
 * that task's rows), stores them, and moves its project's counters by the difference. Call it in
 * the transaction, after the annotation/prediction write. 0, or -1 (database error). */
int stats_task_refresh(struct req *r, int64_t task_id);
/* Before deleting one task: takes its counters off the project, its annotations' and drafts'
 * labels off label_usage, and records its inner_id in task_gaps (sql/0004). 0, or -1. */
int stats_task_remove(struct req *r, int64_t task_id);
/* After deleting every task of a project: zeroes the counters, clears label_usage and the gaps,
 * and numbers inner ids from 1 again (as Label Studio does for an empty project). 0 / -1. */
int stats_project_clear(struct req *r, int64_t project_id);
/* Adds d to the project's counters (bulk writes that counted what they wrote). 0, or -1. */
int stats_project_add(struct req *r, int64_t project_id, const struct stats_delta *d);
/* The contribution of one task with these counters to its project's (for bulk writes). */
void stats_task_delta(struct stats_delta *d, int64_t total, int64_t cancelled, int64_t gt,
    int64_t predictions, int is_labeled);
/* is_labeled by the rule of sql/0003_projects.sql. */
int stats_is_labeled(int64_t total, int64_t cancelled, int overlap, const char *skip_queue);
/* After maximum_annotations or skip_queue changed: sets every task's overlap, re-derives
 * is_labeled and the project's finished_task_number. 0, or -1. */
int stats_project_overlap(struct req *r, int64_t project_id, int overlap, const char *skip_queue);

/* --- label usage (stats.c) --- */

/* An accumulator of label_usage changes: add results with a sign (+1 written, -1 removed), then
 * flush them in one upsert per distinct (from_name, to_name, type, label). Arena-owned. */
struct usage;
struct usage *usage_new(struct req *r, int64_t project_id);
/* result: a JSON array of result items (anything else adds nothing). draft: counts as a draft. */
void usage_add(struct usage *u, struct json_object *result, int sign, int draft);
/* The same for a result kept as JSON text (as stored). */
void usage_add_text(struct usage *u, const char *result_json, int sign, int draft);
int usage_flush(struct req *r, struct usage *u);

/* --- what a task write does besides the row (import.c; the one-task writes of tasks.c too) --- */

struct db_row;
/* Locks the project row and reads next_inner_id, data_columns, maximum_annotations, skip_queue:
 * 1, 0 (gone), -1. Taken before inner ids are handed out, so inner_id follows id. */
int import_project_lock(struct req *r, int64_t project_id, struct db_row *row);
/* Adds counts ({"key": n}) to the stored data_columns and writes them back. 0, or -1. */
int import_data_columns(struct req *r, int64_t project_id, const char *stored,
    struct json_object *counts);
/* Counts the top-level keys of data into counts with a sign. */
void import_count_keys(struct json_object *counts, struct json_object *data, int sign);
/* Renames Label Studio's "$undefined$" placeholder key to the config's first data key. */
void import_undefined_key(const struct labelconfig *c, struct json_object *data);

/* --- request fields and row rendering shared by annotations.c, drafts.c, predictions.c --- */

/* Label Studio's created_username ("first[ last] email, id") from columns of row; draft: the
 * draft serializer's variant, with no space before a bare email. */
const char *ann_created_username(struct req *r, const struct db_row *row, int id, int first, int last,
    int email, int draft);
/* Django's timesince, as Label Studio's created_ago ("0\u00a0minutes"). */
const char *ann_timesince(struct req *r, int64_t secs);
/* A JSON column as a value (def when NULL or unparsable). New object. */
struct json_object *ann_jraw(const struct db_row *row, int col, const char *def);
void ann_add_double(struct json_object *o, const char *key, const struct db_row *row, int col);
void ann_add_id(struct json_object *o, const char *key, const struct db_row *row, int col);
/* A result: a list of objects, or a JSON string holding one. 0 (*out a new reference), or -1
 * with the reason in *why. */
int ann_result_value(struct json_object *v, struct json_object **out, const char **why);
/* body[key] as a result / boolean / number (as text) / id: 1 present, 0 absent, or -status sent. */
int ann_field_result(struct req *r, const char *key, const char *noun, struct json_object **out);
int ann_field_bool(struct req *r, const char *key, int *out);
int ann_field_number(struct req *r, const char *key, int allow_null, const char **text);
int ann_field_id(struct req *r, const char *key, int allow_null, int64_t *out);
/* The compact JSON text of o (owned by o). */
const char *ann_json_text(struct json_object *o, size_t *len);
/* The draft object (drafts.c). */
struct json_object *draft_to_json(struct req *r, const struct db_row *row);

/* --- export snapshots: the easy export's writers, for exports.c (export.c) --- */

struct project_ref;
/* A snapshot's options, from its task_filter_options, annotation_filter_options and
 * serialization_options (Label Studio's meanings). */
struct snapshot_opts {
	int skipped, finished, annotated;       /* 0 any, 1 only, -1 exclude */
	int only_with_annotations;              /* drop tasks without any annotation */
	int usual, ground_truth, skipped_anns;  /* annotations kept (a disjunction); all 0: every one */
	int expand_drafts, expand_predictions, expand_completed_by;
};
/* Writes the project's snapshot (the JSON task list, options applied) into f, computing its MD5
 * on the way, and the ids of the tasks written into ids (native int64_t each, for conversions).
 * tick(ctx) is called after each batch (a job's heartbeat). 0 (*ntasks and md5hex set), or -1
 * (logged; a database or write error). Runs its batches in a scratch request of its own. */
int export_snapshot_write(struct req *r, const struct project_ref *ref, const struct snapshot_opts *o, FILE *f,
    FILE *ids, int64_t *ntasks, char md5hex[33], void (*tick)(void *), void *ctx);
/* 1 when type is an export format that the project's config allows, 0 otherwise. */
int export_type_ok(struct req *r, const struct project_ref *ref, const char *type);
/* Answers the easy export of format type restricted to the given tasks (ids sorted, unique; all
 * of them, annotated or not), as a download named name_stem.<ext>. 200 (streamed), 400, 500. */
int export_reply_tasks(struct req *r, const struct project_ref *ref, const char *type,
    const int64_t *ids, size_t nids, int resources, const char *name_stem);

/* --- uploads.c --- */

/* A Range header against a file of size bytes: "bytes=a-b", "bytes=a-", "bytes=-n". 1 with
 * [*from, *to] set, 0 (no usable range: the whole file), -1 (unsatisfiable: 416). Several ranges
 * are answered with the whole file. Exposed for its fuzz target. */
int uploads_parse_range(const char *h, int64_t size, int64_t *from, int64_t *to);

/* --- storages (storage_common.c): what the storage API, the sync jobs and the media endpoints
 * share. A storage row keeps every setting of its kind in one JSON object (config), with Label
 * Studio's field names; the kinds, their fields and which are secret are the table below, as
 * data. --- */

struct storage;

enum stor_type { SF_STR, SF_BOOL, SF_INT };
enum {
	SF_SECRET = 1,          /* write-only: never rendered, kept when an update omits it */
	SF_IMPORT = 2,          /* import storages only */
	SF_EXPORT = 4,          /* export storages only */
};

/* One config field of a kind: its name, type, flags and default (JSON text; NULL: none, the
 * field is "" / absent until set). */
struct stor_field {
	const char *name;
	enum stor_type type;
	unsigned flags;
	const char *def;
};

struct stor_kind {
	const char *segment;    /* the URL segment and storages.kind: s3, gcs, azure, redis, localfiles */
	const char *type;       /* the API's "type": s3, gcs, azure_blob, redis, localfiles */
	const char *title;      /* GET /api/storages/types: "AWS S3", ... */
	const char *scheme;     /* object URIs in task data: "s3", "gs", "azure-blob"; NULL: none */
	const char *bucket;     /* the config field naming the bucket ("bucket", "container"), NULL */
	const struct stor_field *fields;        /* {NULL}-terminated, common fields included */
};

extern const struct stor_kind stor_kinds[];
extern const size_t stor_kinds_count;

/* The kind of a URL segment / of a URI scheme ("s3", "gs", "azure-blob"), or NULL. */
const struct stor_kind *stor_kind_by_segment(const char *segment);
const struct stor_kind *stor_kind_by_scheme(const char *scheme);
/* The field of kind k called name, or NULL (also NULL when the field is not for this direction). */
const struct stor_field *stor_field(const struct stor_kind *k, int export, const char *name);

/* A loaded storage. Everything arena-owned. */
struct stor {
	int64_t id, project_id, organization_id;
	int export;                             /* 0 import ("source"), 1 export ("target") */
	const struct stor_kind *kind;
	struct json_object *config;             /* every field of the kind, defaults filled in */
	const struct db_row *row;               /* the STOR_COLS row it came from */
};

/* Columns of STOR_COLS (app/stmts_storages.h). */
enum {
	STOR_C_ID, STOR_C_PROJECT, STOR_C_ORG, STOR_C_DIRECTION, STOR_C_KIND, STOR_C_TITLE,
	STOR_C_DESCRIPTION, STOR_C_CONFIG, STOR_C_SYNCHRONIZABLE, STOR_C_STATUS, STOR_C_LAST_SYNC,
	STOR_C_LAST_SYNC_COUNT, STOR_C_LAST_SYNC_JOB, STOR_C_TRACEBACK, STOR_C_META, STOR_C_CREATED_AT,
	STOR_C_CURSOR, STOR_C_SYNC_COUNT
};

/* Fills s from a STOR_COLS row (the row must outlive s). 0, or -1 (unknown kind: a row written
 * by a newer version; callers treat it as not found). */
int stor_from_row(struct req *r, const struct db_row *row, struct stor *s);
/* The storage id of direction export in the caller's organization, of kind k (NULL: any kind):
 * 1 found, 0 not found (or another organization's, or another kind), -1 database error. */
int stor_load(struct req *r, int64_t id, int export, const struct stor_kind *k, struct stor *s);
/* The same by id alone, for jobs (no organization scope; the job then acts for s->organization_id). */
int stor_load_any(struct req *r, int64_t id, struct stor *s);
/* The API object: id, type, the common fields, every non-secret config field, project. New. */
struct json_object *stor_json(struct req *r, const struct stor *s);
/* The connector's config for s (storage.h / s3.h / azure.h / gcs.h): the stored config, with
 * local_files_root added for local files and Azure's prefix made a folder ("a" -> "a/") as S3's
 * and GCS's are, so that every kind reads prefix the same way. Arena-owned. */
struct json_object *stor_connector_config(struct req *r, const struct stor *s);
/* Opens s's connector (closed at req_end). Refuses a Redis host the SSRF guard refuses (the
 * other connectors check every request themselves). NULL with a client-fit message in err. */
struct storage *stor_open(struct req *r, const struct stor *s, char *err, size_t errsz);
/* The URI a task's data holds for object key of s when use_blob_urls is set: s3://bucket/key,
 * gs://bucket/key, azure-blob://container/key, /data/local-files/?d=<path below the local files
 * root, percent-encoded>; NULL for Redis (its value is the URL). Arena-owned. */
const char *stor_object_uri(struct req *r, const struct stor *s, const char *key);
/* Splits a URI of a cloud kind ("s3://bucket/key"): the kind, the bucket and the key (decoded
 * as written: keys are not percent-encoded in these URIs). 1 when uri is one, 0 otherwise.
 * Arena-owned strings. */
int stor_uri_split(struct req *r, const char *uri, const struct stor_kind **k, const char **bucket,
    const char **key);
/* 1 when s (an import storage of a cloud kind) covers bucket/key: same bucket, key under its
 * prefix. */
int stor_covers(const struct stor *s, const char *bucket, const char *key);
/* regex_filter: Label Studio applies Python's re.match (anchored at the start of the key, not at
 * its end) to the whole key; PCRE2 with the same anchoring, and match and depth limits so a
 * pattern cannot stall a worker. */
struct stor_filter;
/* Compiles pattern ("" or NULL: every key matches; freed at req_end). NULL with a message naming
 * regex_filter in err when it does not compile. */
struct stor_filter *stor_filter_new(struct req *r, const char *pattern, char *err, size_t errsz);
/* 1 when key (len bytes) matches, 0 when not (also when a limit was hit). */
int stor_filter_match(const struct stor_filter *f, const char *key, size_t len);
/* An HTTP status for a storage_result (storage.h): 400, 404, 502, 504, 500. */
int stor_http_status(int storage_rc);

#endif
