/* export.c — the easy export: GET /api/projects/{id}/export/formats and GET
 * /api/projects/{id}/export?exportType=..., as Label Studio's converter produces them, streamed.
 *
 * Memory stays flat whatever the size: tasks are walked in keyset batches of EXPORT_BATCH by id,
 * each batch's annotations (and for JSON its drafts and prediction ids) are read with one
 * statement each into a scratch request whose arena and json-c objects are dropped after the
 * batch, and the output goes out as it is made. The JSON format splices the stored JSON text of
 * data, meta and result verbatim (it was validated on write) instead of parsing it: that is the
 * fast path. The other formats parse what they need per task. Image formats are zips: their
 * parts are written to a private temporary directory, zipped there with fixed entry times
 * (app/zipout.c), and the zip is streamed out; the directory is removed before the first byte.
 *
 * Outputs are byte-identical across runs: tasks by id, annotations by id (the converter formats
 * then order a task's annotations as Label Studio does: newest created_at first, stable), keys in
 * fixed orders, and no wall-clock time inside a file (the times Label Studio puts into COCO and
 * YOLO files are taken from the project's updated_at instead).
 *
 * Errors before the first byte are the usual envelopes. Once the stream has started (JSON, CSV,
 * ...), a database error can only be logged and the stream cut short: the client then sees an
 * incomplete file (a JSON array without its closing bracket, a CSV without its last rows).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <csv.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "log.h"
#include "reply.h"
#include "shared.h"
#include "zipout.h"

#define EXPORT_BATCH 1000
#define OUT_CAP (64 * 1024)

/* The length of an array; 0 for anything else (json-c asserts on non-arrays). */
static size_t
alen(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* a[i], or NULL when a is not an array or too short. */
static struct json_object *
aget(struct json_object *a, size_t i)
{
	return i < alen(a) ? json_object_array_get_idx(a, i) : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Formats                                                                                     */

enum kind { K_JSON, K_JSON_MIN, K_CSV, K_TSV, K_CONLL, K_COCO, K_VOC, K_YOLO, K_ASR, K_NONE };

struct fmt {
	const char *name, *title, *description, *link;
	const char *tags[4];
	enum kind kind;
	int images;                     /* the *_WITH_IMAGES variants */
};

#define LS_GUIDE "https://labelstud.io/guide/export.html#"
#define TAGS_IMG3 { "image segmentation", "object detection", "keypoints" }
#define TAGS_IMG2 { "image segmentation", "object detection" }

/* Label Studio's list, in its order. The formats marked K_NONE are listed, always disabled. */
static const struct fmt fmts[] = {
	{ "JSON", "JSON", "List of items in raw JSON format stored in one JSON file. Use to export both the "
	  "data and the annotations for a dataset. It's Label Studio Common Format", LS_GUIDE "JSON",
	  { NULL }, K_JSON, 0 },
	{ "JSON_MIN", "JSON-MIN", "List of items where only \"from_name\", \"to_name\" values from the raw "
	  "JSON format are exported. Use to export only the annotations for a dataset.", LS_GUIDE "JSON-MIN",
	  { NULL }, K_JSON_MIN, 0 },
	{ "CSV", "CSV", "Results are stored as comma-separated values with the column names specified by "
	  "the values of the \"from_name\" and \"to_name\" fields.", LS_GUIDE "CSV", { NULL }, K_CSV, 0 },
	{ "TSV", "TSV", "Results are stored in tab-separated tabular file with column names specified by "
	  "\"from_name\" \"to_name\" values", LS_GUIDE "TSV", { NULL }, K_TSV, 0 },
	{ "CONLL2003", "CONLL2003", "Popular format used for the CoNLL-2003 named entity recognition "
	  "challenge.", LS_GUIDE "CONLL2003",
	  { "sequence labeling", "text tagging", "named entity recognition" }, K_CONLL, 0 },
	{ "COCO", "COCO", "Popular machine learning format used by the COCO dataset for object detection "
	  "and image segmentation tasks with polygons and rectangles.", LS_GUIDE "COCO", TAGS_IMG3,
	  K_COCO, 0 },
	{ "COCO_WITH_IMAGES", "COCO with Images", "COCO format with images downloaded.", LS_GUIDE "COCO",
	  TAGS_IMG3, K_COCO, 1 },
	{ "VOC", "Pascal VOC XML", "Popular XML format used for object detection and polygon image "
	  "segmentation tasks.", LS_GUIDE "Pascal-VOC-XML", TAGS_IMG2, K_VOC, 0 },
	{ "YOLO", "YOLO", "Popular TXT format is created for each image file. Each txt file contains "
	  "annotations for the corresponding image file, that is object class, object coordinates, "
	  "height & width.", LS_GUIDE "YOLO", TAGS_IMG3, K_YOLO, 0 },
	{ "YOLO_WITH_IMAGES", "YOLO with Images", "YOLO format with images downloaded.", LS_GUIDE "YOLO",
	  TAGS_IMG3, K_YOLO, 1 },
	{ "YOLO_OBB", "YOLOv8 OBB", "Popular TXT format is created for each image file. Each txt file "
	  "contains annotations for the corresponding image file. The YOLO OBB format designates bounding "
	  "boxes by their four corner points with coordinates normalized between 0 and 1, so it is "
	  "possible to export rotated objects.", LS_GUIDE "YOLO", TAGS_IMG2, K_NONE, 0 },
	{ "YOLO_OBB_WITH_IMAGES", "YOLOv8 OBB with Images", "YOLOv8 OBB format with images downloaded.",
	  LS_GUIDE "YOLO", TAGS_IMG2, K_NONE, 1 },
	{ "BRUSH_TO_NUMPY", "Brush labels to NumPy", "Export your brush labels as NumPy 2d arrays. Each "
	  "label outputs as one image.", LS_GUIDE "Brush-labels-to-NumPy-amp-PNG",
	  { "image segmentation" }, K_NONE, 0 },
	{ "BRUSH_TO_PNG", "Brush labels to PNG", "Export your brush labels as PNG images. Each label "
	  "outputs as one image.", LS_GUIDE "Brush-labels-to-NumPy-amp-PNG", { "image segmentation" },
	  K_NONE, 0 },
	{ "ASR_MANIFEST", "ASR Manifest", "Export audio transcription labels for automatic speech "
	  "recognition as the JSON manifest format expected by NVIDIA NeMo models.", LS_GUIDE "ASR-MANIFEST",
	  { "speech recognition" }, K_ASR, 0 },
	{ "BRUSH_TO_COCO", "Brush labels to COCO", "Export your brush labels as COCO format for "
	  "segmentation tasks. Converts RLE encoded masks to COCO polygons.", LS_GUIDE "COCO",
	  { "image segmentation", "brush annotations" }, K_NONE, 0 },
};
#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

/* What the format rules need from parsed_label_config (Label Studio's converter schema). */
struct schema {
	struct json_object *p;          /* {control: {"type", "inputs": [...], "labels": [...]}} */
	int nkeys;                      /* distinct data keys of the controls' inputs */
	const char *key0;               /* the first of them */
	int mig;                        /* some input has a valueList */
};

static int
has_out(const struct schema *s, const char *type)
{
	json_object_object_foreach(s->p, k, v) {
		(void)k;
		const char *t = json_object_get_string(json_object_object_get(v, "type"));

		if (t != NULL && strcmp(t, type) == 0)
			return 1;
	}
	return 0;
}

/* Input tag types; Text with valueType="url" does not count (as in the converter). */
static int
has_in(const struct schema *s, const char *type)
{
	json_object_object_foreach(s->p, k, v) {
		struct json_object *ins = json_object_object_get(v, "inputs");

		(void)k;
		for (size_t i = 0, n = alen(ins); i < n; i++) {
			struct json_object *in = aget(ins, i);
			const char *t = json_object_get_string(json_object_object_get(in, "type"));
			const char *vt = json_object_get_string(json_object_object_get(in, "valueType"));

			if (t == NULL || strcmp(t, type) != 0)
				continue;
			if (strcmp(t, "Text") == 0 && vt != NULL && strcmp(vt, "url") == 0)
				continue;
			return 1;
		}
	}
	return 0;
}

static void
schema_load(struct req *r, const struct labelconfig *c, struct schema *s)
{
	struct json_object *seen = req_own(r, json_object_new_object());

	memset(s, 0, sizeof(*s));
	s->p = req_own(r, c != NULL ? lc_parsed_json(c) : json_object_new_object());
	if (s->p == NULL)
		s->p = req_own(r, json_object_new_object());
	json_object_object_foreach(s->p, k, v) {
		struct json_object *ins = json_object_object_get(v, "inputs");

		(void)k;
		for (size_t i = 0, n = alen(ins); i < n; i++) {
			struct json_object *in = aget(ins, i), *x;
			const char *key = NULL;

			if (json_object_object_get_ex(in, "value", &x))
				key = json_object_get_string(x);
			else if (json_object_object_get_ex(in, "valueList", &x)) {
				key = json_object_get_string(x);
				s->mig = 1;
			}
			if (key == NULL || json_object_object_get_ex(seen, key, NULL))
				continue;
			json_object_object_add(seen, key, NULL);
			if (s->nkeys++ == 0)
				s->key0 = key;
		}
	}
}

/* The converter's _get_supported_formats, for the formats built here. */
static int
fmt_enabled(const struct schema *s, const struct fmt *f)
{
	int rl = has_out(s, "RectangleLabels"), pl = has_out(s, "PolygonLabels");
	int kpl = has_out(s, "KeyPointLabels"), lab = has_out(s, "Labels"), img = has_in(s, "Image");

	switch (f->kind) {
	case K_JSON: case K_JSON_MIN: case K_CSV: case K_TSV:
		return 1;
	case K_NONE:
		return 0;
	default:
		break;
	}
	if (s->nkeys > 1)
		return 0;
	switch (f->kind) {
	case K_CONLL:
		return has_in(s, "Text") && lab;
	case K_VOC:
		return !s->mig && img && (rl || (has_out(s, "Rectangle") && lab));
	case K_COCO:
	case K_YOLO:
		if (kpl && !rl)
			return 0;
		return !s->mig && ((img && (rl || pl || kpl)) || (has_out(s, "Rectangle") && lab) ||
		    (pl && lab) || (kpl && lab));
	case K_ASR:
		return (has_in(s, "Audio") || has_in(s, "AudioPlus")) && has_out(s, "TextArea");
	default:
		return 0;
	}
}

static struct json_object *
fmt_json(const struct fmt *f, int disabled)
{
	struct json_object *o = json_object_new_object();

	jadd_str(o, "title", f->title);
	jadd_str(o, "description", f->description);
	jadd_str(o, "link", f->link);
	if (f->tags[0] != NULL) {
		struct json_object *t = json_object_new_array();

		for (size_t i = 0; i < 4 && f->tags[i] != NULL; i++)
			json_object_array_add(t, json_object_new_string(f->tags[i]));
		json_object_object_add(o, "tags", t);
	}
	jadd_str(o, "name", f->name);
	if (disabled)
		jadd_bool(o, "disabled", 1);
	return o;
}

int
export_formats(struct req *r)
{
	struct project_ref ref;
	struct schema s;
	struct json_object *a;
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	schema_load(r, scope_config(r, &ref), &s);
	a = json_object_new_array();
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < NFMTS; i++)
			if (fmt_enabled(&s, &fmts[i]) == !pass)
				json_object_array_add(a, fmt_json(&fmts[i], pass));
	return reply_json(r, 200, a);
}

/* ------------------------------------------------------------------------------------------ */
/* Output: the HTTP stream (buffered) or a file                                                */

struct out {
	struct req *r;                  /* the stream when f is NULL */
	FILE *f;
	EVP_MD_CTX *md;                 /* with f: the MD5 of what was written (snapshots) */
	char *buf;
	size_t n;
	int failed;
};

static void
out_flush(struct out *o)
{
	if (o->f == NULL && o->n > 0 && !o->failed && reply_write(o->r, o->buf, o->n) != 0)
		o->failed = 1;
	o->n = 0;
}

static void
out_put(struct out *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (o->f != NULL) {
		if (n > 0 && fwrite(p, 1, n, o->f) != n)
			o->failed = 1;
		if (o->md != NULL && n > 0 && EVP_DigestUpdate(o->md, p, n) != 1)
			o->failed = 1;
		return;
	}
	if (o->n + n > OUT_CAP)
		out_flush(o);
	if (n > OUT_CAP) {
		if (reply_write(o->r, p, n) != 0)
			o->failed = 1;
		return;
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void
out_int(struct out *o, long long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", v);

	out_put(o, b, (size_t)n);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON text as Python writes it (ujson / json in the converter)                               */

/* repr(float): the shortest text that reads back the same, fixed notation for exponents
 * -4..15, else d.ddde+XX. */
static void
pyfloat(double d, char *out, size_t outsz)
{
	char tmp[40], digits[24];
	int p, nd = 0, e, neg;
	char *s, *x;

	if (d != d) {
		snprintf(out, outsz, "NaN");
		return;
	}
	if (d - d != 0) {
		snprintf(out, outsz, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	s = tmp;
	neg = *s == '-';
	if (neg)
		s++;
	x = strchr(s, 'e');
	e = atoi(x + 1);
	for (char *c = s; c < x; c++)
		if (*c >= '0' && *c <= '9' && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *c;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (d == 0) {
		snprintf(out, outsz, "%s0.0", neg ? "-" : "");
		return;
	}
	if (e >= -4 && e < 16) {
		char buf[64];
		size_t k = 0;

		if (neg)
			buf[k++] = '-';
		if (e < 0) {
			buf[k++] = '0';
			buf[k++] = '.';
			for (int i = 0; i < -e - 1; i++)
				buf[k++] = '0';
			for (int i = 0; i < nd; i++)
				buf[k++] = digits[i];
		} else {
			for (int i = 0; i <= e; i++)
				buf[k++] = i < nd ? digits[i] : '0';
			buf[k++] = '.';
			if (nd > e + 1)
				for (int i = e + 1; i < nd; i++)
					buf[k++] = digits[i];
			else
				buf[k++] = '0';
		}
		buf[k] = '\0';
		snprintf(out, outsz, "%s", buf);
		return;
	}
	snprintf(out, outsz, "%s%c%s%s%se%c%02d", neg ? "-" : "", digits[0], nd > 1 ? "." : "",
	    nd > 1 ? digits + 1 : "", "", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

static void
out_double(struct out *o, double d)
{
	char b[48];

	pyfloat(d, b, sizeof(b));
	out_str(o, b);
}

struct pjs {
	int indent;                     /* 0: one line */
	int ascii;                      /* escape non-ASCII as \u plus four hex digits */
	const char *isep, *ksep;
};
static const struct pjs PJ_LINE = { 0, 0, ",", ":" };          /* ujson.dumps(ensure_ascii=False) */
static const struct pjs PJ_IND = { 2, 0, ",", ": " };          /* ujson.dump(indent=2, ensure_ascii=False) */
static const struct pjs PJ_IND_ASCII = { 2, 1, ",", ": " };    /* ujson.dump(indent=2) */
static const struct pjs PJ_STD = { 0, 1, ", ", ": " };         /* json.dump() */

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, cp set (U+FFFD if bad). */
static size_t
utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;

	if (len == 0 || len > n) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

static void
pj_string(struct out *o, const char *str, size_t n, int ascii)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	char esc[16];

	out_put(o, "\"", 1);
	while (i < n) {
		unsigned c = s[i];
		const char *rep = NULL;
		size_t adv = 1;

		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c == '\b')
			rep = "\\b";
		else if (c == '\f')
			rep = "\\f";
		else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rep = esc;
		} else if (c >= 0x80 && ascii) {
			unsigned cp;

			adv = utf8_next(s + i, n - i, &cp);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", cp);
			}
			rep = esc;
		}
		if (rep != NULL) {
			out_put(o, s + start, i - start);
			out_str(o, rep);
			start = i + adv;
		}
		i += adv;
	}
	out_put(o, s + start, n - start);
	out_put(o, "\"", 1);
}

static void
pj_cstr(struct out *o, const char *s, int ascii)
{
	pj_string(o, s, strlen(s), ascii);
}

static void
pj_newline(struct out *o, const struct pjs *st, int level)
{
	static const char spaces[] = "                                ";

	out_put(o, "\n", 1);
	for (int k = st->indent * level; k > 0; k -= 32)
		out_put(o, spaces, (size_t)(k < 32 ? k : 32));
}

static void
pj_value(struct out *o, struct json_object *v, const struct pjs *st, int level)
{
	size_t i = 0, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		out_str(o, "null");
		return;
	case json_type_boolean:
		out_str(o, json_object_get_boolean(v) ? "true" : "false");
		return;
	case json_type_int:
		out_int(o, (long long)json_object_get_int64(v));
		return;
	case json_type_double:
		out_double(o, json_object_get_double(v));
		return;
	case json_type_string:
		pj_string(o, json_object_get_string(v), (size_t)json_object_get_string_len(v), st->ascii);
		return;
	case json_type_array:
		n = alen(v);
		if (n == 0) {
			out_str(o, "[]");
			return;
		}
		out_put(o, "[", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				out_str(o, st->isep);
			if (st->indent)
				pj_newline(o, st, level + 1);
			pj_value(o, aget(v, i), st, level + 1);
		}
		if (st->indent)
			pj_newline(o, st, level);
		out_put(o, "]", 1);
		return;
	case json_type_object:
		if (json_object_object_length(v) == 0) {
			out_str(o, "{}");
			return;
		}
		out_put(o, "{", 1);
		json_object_object_foreach(v, k, x) {
			if (i++ > 0)
				out_str(o, st->isep);
			if (st->indent)
				pj_newline(o, st, level + 1);
			pj_cstr(o, k, st->ascii);
			out_str(o, st->ksep);
			pj_value(o, x, st, level + 1);
		}
		if (st->indent)
			pj_newline(o, st, level);
		out_put(o, "}", 1);
		return;
	}
}

/* The compact text of v into the arena (CSV cells). */
static char *
pj_text(struct req *r, struct json_object *v)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	struct out o = { .r = r, .f = f };
	char *s;

	if (f == NULL)
		return req_strdup(r, "");
	pj_value(&o, v, &PJ_LINE, 0);
	fclose(f);
	s = req_strndup(r, mem != NULL ? mem : "", len);
	free(mem);
	return s;
}

/* ------------------------------------------------------------------------------------------ */
/* The export's state                                                                          */

struct exp {
	struct req *r;                  /* the request (lives for the whole export) */
	struct req *b;                  /* scratch for one batch (reset after each) */
	const struct fmt *fmt;
	const struct labelconfig *c;
	struct schema s;
	int64_t pid;
	int all;                        /* download_all_tasks */
	int resources;                  /* download_resources as the format uses it */
	const int64_t *ids;             /* ids[] sorted, unique; NULL for none */
	size_t nids;
	const char *year, *date_created;        /* stable stand-ins for Label Studio's now() */
	struct out o;                   /* the stream, or the current part file */
	int ntasks;                     /* tasks written (JSON: for the separators) */
	long nitems;                    /* converter items written */

	/* CSV/TSV */
	const char **cols;
	size_t ncols;
	struct json_object *collide;    /* data keys renamed _data_<key> */
	char sep;

	/* zips */
	char *dir;                      /* private work directory */
	FILE *parts[2];                 /* COCO: images, annotations */
	long nimages, nanns;
	struct json_object *cats;       /* [{"id","name"}] */
	struct json_object *cat_ids;    /* name -> id */
	FILE *notes;                    /* resources that could not be included */
	long nnotes;
	int64_t noted_task;

	/* snapshots (export_snapshot_write) */
	const struct snapshot_opts *snap;
	FILE *idsf;                     /* the ids of the tasks written */
	void (*tick)(void *);
	void *tick_ctx;
	const char *name_stem;          /* a snapshot's conversion: the download's name */
};

/* One task of a batch with its children (rows of the scratch request). */
struct xtask {
	const struct db_row *row;       /* EXPORT_TASK_COLS */
	const struct db_row *anns;      /* EXPORT_ANN_COLS, consecutive */
	size_t nanns;
	const struct db_row *drafts;    /* DRAFT_OBJ_COLS */
	size_t ndrafts;
	const struct db_row *preds;     /* task_id, id */
	size_t npreds;
};

/* ------------------------------------------------------------------------------------------ */
/* JSON: Label Studio's easy export (BaseExportDataSerializer), written as text                */

static void
jkey(struct out *o, const char *k)
{
	out_put(o, ",\"", 2);
	out_str(o, k);
	out_put(o, "\":", 2);
}

static void
jcol_int(struct out *o, const char *k, const struct db_row *row, int col)
{
	jkey(o, k);
	if (db_null(row, col))
		out_str(o, "null");
	else
		out_put(o, row->v[col], row->len[col]);
}

static void
jcol_str(struct out *o, const char *k, const struct db_row *row, int col)
{
	jkey(o, k);
	if (db_null(row, col))
		out_str(o, "null");
	else
		pj_string(o, row->v[col], row->len[col], 0);
}

static void
jcol_bool(struct out *o, const char *k, const struct db_row *row, int col)
{
	jkey(o, k);
	out_str(o, db_int(row, col) ? "true" : "false");
}

static void
jcol_double(struct out *o, const char *k, const struct db_row *row, int col)
{
	jkey(o, k);
	if (db_null(row, col))
		out_str(o, "null");
	else
		out_double(o, strtod(db_str(row, col), NULL));
}

/* Stored JSON text as it is (validated on write); def when NULL or empty. */
static void
jcol_raw(struct out *o, const char *k, const struct db_row *row, int col, const char *def)
{
	jkey(o, k);
	if (db_null(row, col) || row->len[col] == 0)
		out_str(o, def);
	else
		out_put(o, row->v[col], row->len[col]);
}

static void
json_annotation(struct out *o, const struct db_row *a, int expand_user)
{
	out_str(o, "{\"id\":");
	out_put(o, a->v[1], a->len[1]);
	if (expand_user && !db_null(a, 2)) {
		/* UserSimple as Label Studio's expanded completed_by: {id, email, first_name, last_name} */
		out_str(o, ",\"completed_by\":{\"id\":");
		out_put(o, a->v[2], a->len[2]);
		jcol_str(o, "email", a, EXPORT_ANN_NCOLS);
		jcol_str(o, "first_name", a, EXPORT_ANN_NCOLS + 1);
		jcol_str(o, "last_name", a, EXPORT_ANN_NCOLS + 2);
		out_put(o, "}", 1);
	} else {
		jcol_int(o, "completed_by", a, 2);
	}
	jcol_raw(o, "result", a, 3, "[]");
	jcol_bool(o, "was_cancelled", a, 4);
	jcol_bool(o, "ground_truth", a, 5);
	jcol_str(o, "created_at", a, 6);
	jcol_str(o, "updated_at", a, 7);
	jcol_str(o, "draft_created_at", a, 8);
	jcol_double(o, "lead_time", a, 9);
	out_str(o, ",\"prediction\":{},\"result_count\":0");
	jcol_str(o, "unique_id", a, 10);
	jcol_int(o, "import_id", a, 11);
	jcol_str(o, "last_action", a, 12);
	jcol_bool(o, "bulk_created", a, 13);
	jcol_int(o, "task", a, 0);
	jcol_int(o, "project", a, 14);
	jcol_int(o, "updated_by", a, 15);
	jcol_int(o, "parent_prediction", a, 16);
	jcol_int(o, "parent_annotation", a, 17);
	jcol_int(o, "last_created_by", a, 18);
	out_put(o, "}", 1);
}

/* The task's data, with Label Studio's "$undefined$" placeholder renamed (only then parsed). */
static void
json_data(struct exp *e, const struct db_row *t)
{
	struct json_object *d;

	if (e->c == NULL || memmem(t->v[1], t->len[1], "\"$undefined$\"", 13) == NULL ||
	    (d = json_tokener_parse(t->v[1])) == NULL) {
		jcol_raw(&e->o, "data", t, 1, "{}");
		return;
	}
	req_own(e->b, d);
	import_undefined_key(e->c, d);
	jkey(&e->o, "data");
	out_str(&e->o, json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* An expanded prediction (PREDICTION_COLS), as the prediction API shows it without created_ago,
 * which changes with the clock. */
static void
json_prediction(struct out *o, const struct db_row *p)
{
	out_str(o, "{\"id\":");
	out_put(o, p->v[0], p->len[0]);
	jcol_raw(o, "result", p, 1, "[]");
	jcol_double(o, "score", p, 2);
	jcol_str(o, "model_version", p, 3);
	jcol_int(o, "model", p, 4);
	jcol_int(o, "model_run", p, 5);
	jcol_int(o, "cluster", p, 6);
	jcol_raw(o, "neighbors", p, 7, "null");
	jcol_double(o, "mislabeling", p, 8);
	jcol_int(o, "task", p, 9);
	jcol_int(o, "project", p, 10);
	jcol_str(o, "created_at", p, 11);
	jcol_str(o, "updated_at", p, 12);
	out_put(o, "}", 1);
}

static int
json_task(struct exp *e, const struct xtask *x)
{
	struct out *o = &e->o;
	const struct db_row *t = x->row;

	out_str(o, e->ntasks++ ? ",{\"id\":" : "{\"id\":");
	out_put(o, t->v[0], t->len[0]);
	out_str(o, ",\"annotations\":[");
	for (size_t i = 0; i < x->nanns; i++) {
		if (i > 0)
			out_put(o, ",", 1);
		json_annotation(o, &x->anns[i], e->snap != NULL && e->snap->expand_completed_by);
	}
	out_put(o, "]", 1);
	/* No upload table yet: the file upload's id stands where Label Studio puts its name. */
	jcol_int(o, "file_upload", t, 11);
	out_str(o, ",\"drafts\":[");
	for (size_t i = 0; i < x->ndrafts && e->snap != NULL && !e->snap->expand_drafts; i++) {
		if (i > 0)
			out_put(o, ",", 1);
		out_put(o, x->drafts[i].v[0], x->drafts[i].len[0]);
	}
	for (size_t i = 0; i < x->ndrafts && (e->snap == NULL || e->snap->expand_drafts); i++) {
		struct json_object *d = req_own(e->b, draft_to_json(e->b, &x->drafts[i]));

		/* created_ago changes with the clock: left out so that exports stay identical */
		json_object_object_del(d, "created_ago");
		if (i > 0)
			out_put(o, ",", 1);
		out_str(o, json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	out_str(o, "],\"predictions\":[");
	for (size_t i = 0; i < x->npreds; i++) {
		if (i > 0)
			out_put(o, ",", 1);
		if (e->snap == NULL)
			out_put(o, x->preds[i].v[1], x->preds[i].len[1]);
		else if (!e->snap->expand_predictions)
			out_put(o, x->preds[i].v[0], x->preds[i].len[0]);
		else
			json_prediction(o, &x->preds[i]);
	}
	out_put(o, "]", 1);
	json_data(e, t);
	jcol_raw(o, "meta", t, 2, "{}");
	jcol_str(o, "created_at", t, 3);
	jcol_str(o, "updated_at", t, 4);
	jcol_int(o, "inner_id", t, 5);
	jcol_int(o, "total_annotations", t, 6);
	jcol_int(o, "cancelled_annotations", t, 7);
	jcol_int(o, "total_predictions", t, 8);
	out_str(o, ",\"comment_count\":0,\"unresolved_comment_count\":0,"
	    "\"last_comment_updated_at\":null,\"allow_skip\":true");
	jcol_int(o, "project", t, 9);
	jcol_int(o, "updated_by", t, 10);
	out_str(o, ",\"comment_authors\":[]}");
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The converter's items: one per non-skipped annotation (newest first), or one without an     */
/* annotation for a task that has none                                                        */

struct item {
	int64_t task_id;
	struct json_object *data;       /* the task's data */
	struct json_object *out;        /* {from_name: [value + "type" (+ original size)]} */
	const struct db_row *ann;       /* NULL for a task without annotations */
};

/* Annotation results grouped by control, as annotation_result_from_task does. */
static struct json_object *
item_outputs(struct exp *e, const struct db_row *ann)
{
	struct json_object *outs = req_own(e->b, json_object_new_object());
	struct json_object *res = db_null(ann, 3) ? NULL : json_tokener_parse(ann->v[3]);

	if (res == NULL)
		return outs;
	req_own(e->b, res);
	for (size_t i = 0, n = alen(res); json_object_is_type(res, json_type_array) && i < n; i++) {
		struct json_object *it = aget(res, i), *ctl, *val, *v = NULL, *list, *x;
		const char *from = json_object_get_string(json_object_object_get(it, "from_name"));

		if (from == NULL || !json_object_object_get_ex(e->s.p, from, &ctl) ||
		    !json_object_object_get_ex(it, "value", &val) || !json_object_is_type(val, json_type_object))
			continue;
		if (json_object_deep_copy(val, &v, NULL) != 0 || v == NULL)
			continue;
		json_object_object_add(v, "type", json_object_get(json_object_object_get(ctl, "type")));
		if (json_object_object_get_ex(it, "original_width", &x))
			json_object_object_add(v, "original_width", json_object_get(x));
		if (json_object_object_get_ex(it, "original_height", &x))
			json_object_object_add(v, "original_height", json_object_get(x));
		if (!json_object_object_get_ex(outs, from, &list)) {
			list = json_object_new_array();
			json_object_object_add(outs, from, list);
		}
		json_object_array_add(list, v);
	}
	return outs;
}

/* prettify_result: a single Choices / TextArea answer as its value, else the list of regions
 * without their "type". New object. */
static struct json_object *
prettify(struct json_object *list)
{
	struct json_object *out = json_object_new_array();
	const char *type = NULL;
	size_t n = alen(list);

	for (size_t i = 0; i < n; i++) {
		struct json_object *v = aget(list, i), *j = NULL, *x;

		type = json_object_get_string(json_object_object_get(v, "type"));
		if (type != NULL && strcmp(type, "Choices") == 0 &&
		    json_object_object_get_ex(v, "choices", &x) && alen(x) == 1 &&
		    json_object_is_type(x, json_type_array)) {
			json_object_array_add(out, json_object_get(aget(x, 0)));
			continue;
		}
		if (type != NULL && strcmp(type, "TextArea") == 0 &&
		    json_object_object_get_ex(v, "text", &x) && alen(x) == 1 &&
		    json_object_is_type(x, json_type_array)) {
			json_object_array_add(out, json_object_get(aget(x, 0)));
			continue;
		}
		json_object_deep_copy(v, &j, NULL);
		json_object_object_del(j, "type");
		json_object_array_add(out, j);
	}
	if (type != NULL && (strcmp(type, "Choices") == 0 || strcmp(type, "TextArea") == 0) &&
	    alen(out) == 1) {
		struct json_object *one = json_object_get(aget(out, 0));

		json_object_put(out);
		return one;
	}
	return out;
}

/* get_annotator: the user id (a string unless int_id), "None" for an annotation without
 * author, null for an item without annotation. New object. */
static struct json_object *
annotator(const struct item *it, int int_id)
{
	if (it->ann == NULL)
		return NULL;
	if (db_null(it->ann, 2))
		return json_object_new_string("None");
	if (int_id)
		return json_object_new_int64(db_int(it->ann, 2));
	return json_object_new_string(db_str(it->ann, 2));
}

/* The annotation's fields that close every record. */
static void
add_ann_fields(struct json_object *rec, const struct item *it, int int_id)
{
	const struct db_row *a = it->ann;

	json_object_object_add(rec, "annotator", annotator(it, int_id));
	json_object_object_add(rec, "annotation_id", a ? json_object_new_int64(db_int(a, 1)) : NULL);
	json_object_object_add(rec, "created_at", a ? json_object_new_string(db_str(a, 6)) : NULL);
	json_object_object_add(rec, "updated_at", a ? json_object_new_string(db_str(a, 7)) : NULL);
	json_object_object_add(rec, "lead_time", a && !db_null(a, 9) ?
	    json_object_new_double(strtod(db_str(a, 9), NULL)) : NULL);
}

static int
emit_json_min(struct exp *e, const struct item *it)
{
	struct json_object *rec = req_own(e->b, json_object_new_object());

	json_object_object_foreach(it->data, k, v)
		json_object_object_add(rec, k, json_object_get(v));
	json_object_object_add(rec, "id", json_object_new_int64(it->task_id));
	json_object_object_foreach(it->out, name, list)
		json_object_object_add(rec, name, prettify(list));
	add_ann_fields(rec, it, 1);
	out_str(&e->o, e->nitems++ ? ",\n" : "");
	pj_value(&e->o, rec, &PJ_IND, 0);
	return 0;
}

/* --- CSV / TSV (converter/exports/csv2.py: csv.DictWriter, QUOTE_NONNUMERIC, sorted columns) --- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The columns, fixed before the first row: id, the project's data keys (renamed _data_<key>
 * when a control has the same name), one per control, and the annotation's fields, sorted.
 * Label Studio reads the whole export twice to find the columns actually used; streaming, we
 * take them from the config and the project's data columns instead. */
static void
csv_columns(struct exp *e, const char *data_columns)
{
	static const char *fixed[] = { "id", "annotator", "annotation_id", "created_at", "updated_at",
		"lead_time" };
	struct json_object *dc = req_own(e->r, json_tokener_parse(data_columns ? data_columns : "{}"));
	struct json_object *seen = req_own(e->r, json_object_new_object());
	size_t cap = 8 + (size_t)json_object_object_length(e->s.p) +
	    (json_object_is_type(dc, json_type_object) ? (size_t)json_object_object_length(dc) : 0);

	e->collide = req_own(e->r, json_object_new_object());
	e->cols = req_alloc(e->r, cap * sizeof(*e->cols));
	e->ncols = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		e->cols[e->ncols++] = fixed[i];
		json_object_object_add(seen, fixed[i], NULL);
	}
	json_object_object_foreach(e->s.p, name, info) {
		(void)info;
		if (json_object_object_get_ex(seen, name, NULL))
			continue;
		json_object_object_add(seen, name, NULL);
		e->cols[e->ncols++] = name;
	}
	if (json_object_is_type(dc, json_type_object)) {
		json_object_object_foreach(dc, key, count) {
			const char *col = key;

			if (json_object_get_int64(count) <= 0)
				continue;
			if (json_object_object_get_ex(e->s.p, key, NULL)) {
				col = req_printf(e->r, "_data_%s", key);
				json_object_object_add(e->collide, key, json_object_new_string(col));
			}
			if (json_object_object_get_ex(seen, col, NULL))
				continue;
			json_object_object_add(seen, col, NULL);
			e->cols[e->ncols++] = col;
		}
	}
	qsort(e->cols, e->ncols, sizeof(*e->cols), cmp_str);
}

static void
csv_quoted(struct exp *e, const char *s, size_t n)
{
	size_t cap = 2 * n + 3;
	char *buf = req_alloc(e->b, cap);
	size_t len = csv_write(buf, cap, s, n);

	out_put(&e->o, buf, len < cap ? len : cap);
}

static void
csv_cell(struct exp *e, struct json_object *v)
{
	char *s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		csv_quoted(e, "", 0);
		return;
	case json_type_boolean:
		out_str(&e->o, json_object_get_boolean(v) ? "True" : "False");
		return;
	case json_type_int:
		out_int(&e->o, (long long)json_object_get_int64(v));
		return;
	case json_type_double:
		out_double(&e->o, json_object_get_double(v));
		return;
	case json_type_string:
		csv_quoted(e, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		return;
	default:
		s = pj_text(e->b, v);
		csv_quoted(e, s, strlen(s));
		return;
	}
}

static void
csv_header(struct exp *e)
{
	for (size_t i = 0; i < e->ncols; i++) {
		if (i > 0)
			out_put(&e->o, &e->sep, 1);
		csv_quoted(e, e->cols[i], strlen(e->cols[i]));
	}
	out_put(&e->o, "\r\n", 2);
}

static int
emit_csv(struct exp *e, const struct item *it)
{
	struct json_object *rec = req_own(e->b, json_object_new_object()), *v, *ren;

	json_object_object_add(rec, "id", json_object_new_int64(it->task_id));
	json_object_object_foreach(it->out, name, list) {
		struct json_object *p = prettify(list);

		if (json_object_is_type(p, json_type_string)) {
			json_object_object_add(rec, name, p);
		} else {
			json_object_object_add(rec, name, json_object_new_string(pj_text(e->b, p)));
			json_object_put(p);
		}
	}
	json_object_object_foreach(it->data, key, val) {
		const char *col = json_object_object_get_ex(e->collide, key, &ren) ?
		    json_object_get_string(ren) : key;

		if (json_object_is_type(val, json_type_object) || json_object_is_type(val, json_type_array))
			json_object_object_add(rec, col, json_object_new_string(pj_text(e->b, val)));
		else
			json_object_object_add(rec, col, json_object_get(val));
	}
	add_ann_fields(rec, it, 0);
	for (size_t i = 0; i < e->ncols; i++) {
		if (i > 0)
			out_put(&e->o, &e->sep, 1);
		if (json_object_object_get_ex(rec, e->cols[i], &v))
			csv_cell(e, v);
		else
			csv_quoted(e, "", 0);
	}
	out_put(&e->o, "\r\n", 2);
	return 0;
}

/* --- CONLL2003 --- */

struct tok {
	size_t b, n;                    /* bytes in the text */
	long cs, cn;                    /* characters (Python string indexes) */
};

static int
is_in(int c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* Splits text into tokens the way NLTK's TreebankWordTokenizer mostly does: on whitespace, then
 * opening quotes and brackets off the front, closing ones and , ; : ? ! off the back, the final
 * period of the text, contractions ('s 'll n't ...), and ; @ # $ % & ? ! brackets "--" "..."
 * and , : before a non-digit inside a word. An approximation: see the report. */
static size_t
tokenize(struct req *r, const char *s, struct tok **out)
{
	size_t n = strlen(s), cap = 16, nt = 0, i = 0;
	struct tok *t = req_alloc(r, cap * sizeof(*t));
	size_t last_end = n;

	while (last_end > 0 && is_in(s[last_end - 1], " \t\n\r\f\v"))
		last_end--;
#define PUSH(B, N) do { \
		if (nt == cap) { \
			struct tok *nt2 = req_alloc(r, 2 * cap * sizeof(*t)); \
			memcpy(nt2, t, cap * sizeof(*t)); \
			t = nt2; cap *= 2; \
		} \
		t[nt].b = (B); t[nt].n = (N); nt++; \
	} while (0)
	while (i < n) {
		size_t b, e, j, k, tail_start;
		size_t tails[64], ntails = 0;

		while (i < n && is_in(s[i], " \t\n\r\f\v"))
			i++;
		if (i >= n)
			break;
		b = i;
		while (i < n && !is_in(s[i], " \t\n\r\f\v"))
			i++;
		e = i;
		/* opening quotes and brackets */
		while (b < e && is_in(s[b], "\"([{<`")) {
			size_t len = (s[b] == '`' && b + 1 < e && s[b + 1] == '`') ? 2 : 1;

			PUSH(b, len);
			b += len;
		}
		/* closing ones, from the back */
		j = e;
		for (;;) {
			if (j <= b || ntails >= 62)
				break;
			char c = s[j - 1];

			if (is_in(c, ")]}>?!;\",:")) {
				tails[ntails++] = j - 1;
				tails[ntails++] = 1;
				j--;
			} else if (c == '\'' && j - 1 > b && s[j - 2] == '\'') {
				tails[ntails++] = j - 2;
				tails[ntails++] = 2;
				j -= 2;
			} else if (c == '.' && e == last_end && j - 1 > b && s[j - 2] != '.') {
				tails[ntails++] = j - 1;
				tails[ntails++] = 1;
				j--;
			} else {
				break;
			}
		}
		tail_start = j;
		/* contractions */
		{
			static const char *suf[] = { "n't", "'ll", "'re", "'ve", "'s", "'m", "'d", "'" };
			size_t cut = j;

			for (size_t q = 0; q < sizeof(suf) / sizeof(suf[0]); q++) {
				size_t sl = strlen(suf[q]);

				if (j - b > sl && strncasecmp(s + j - sl, suf[q], sl) == 0 && s[j - sl - 1] != '\'') {
					cut = j - sl;
					break;
				}
			}
			tail_start = cut;
		}
		/* the middle */
		k = b;
		{
			size_t w = b;

			while (k < tail_start) {
				size_t plen = 0;

				if (is_in(s[k], ";@#$%&?!()[]{}<>"))
					plen = 1;
				else if (k + 2 < tail_start + 0 && strncmp(s + k, "...", 3) == 0)
					plen = 3;
				else if (k + 1 < tail_start && strncmp(s + k, "--", 2) == 0)
					plen = 2;
				else if (is_in(s[k], ",:") && k + 1 < tail_start && !(s[k + 1] >= '0' && s[k + 1] <= '9'))
					plen = 1;
				if (plen == 0) {
					k++;
					continue;
				}
				if (k > w)
					PUSH(w, k - w);
				PUSH(k, plen);
				k += plen;
				w = k;
			}
			if (tail_start > w)
				PUSH(w, tail_start - w);
		}
		if (j > tail_start)
			PUSH(tail_start, j - tail_start);
		while (ntails >= 2) {
			ntails -= 2;
			PUSH(tails[ntails], tails[ntails + 1]);
		}
	}
#undef PUSH
	/* character offsets */
	{
		long cp = 0;
		size_t at = 0;

		for (size_t q = 0; q < nt; q++) {
			for (; at < t[q].b; at++)
				cp += ((unsigned char)s[at] & 0xC0) != 0x80;
			t[q].cs = cp;
			t[q].cn = 0;
			for (size_t z = t[q].b; z < t[q].b + t[q].n; z++)
				t[q].cn += ((unsigned char)s[z] & 0xC0) != 0x80;
		}
	}
	*out = t;
	return nt;
}

static int
emit_conll(struct exp *e, const struct item *it)
{
	struct json_object *text, *spans = NULL;
	struct json_object **sp = NULL;
	const char *s;
	struct tok *t;
	size_t nt, ns = 0, si = 0;
	int64_t span_start = 0, span_end = -1;
	struct json_object *span = NULL;
	const char *prefix = "B-";

	if (e->s.key0 == NULL || !json_object_object_get_ex(it->data, e->s.key0, &text) ||
	    !json_object_is_type(text, json_type_string))
		return 0;
	s = json_object_get_string(text);
	json_object_object_foreach(it->out, name, list) {
		const char *ty = json_object_get_string(json_object_object_get(aget(list, 0), "type"));

		(void)name;
		if (ty != NULL && strcasecmp(ty, "labels") == 0) {
			spans = list;
			break;
		}
	}
	nt = tokenize(e->b, s, &t);
	if (spans != NULL && (ns = alen(spans)) > 0) {
		sp = req_alloc(e->b, ns * sizeof(*sp));
		for (size_t i = 0; i < ns; i++) {
			struct json_object *x = aget(spans, i), *a, *b;

			if (!json_object_object_get_ex(x, "start", &a) || a == NULL ||
			    !json_object_object_get_ex(x, "end", &b) || b == NULL)
				ns = 0;
			if (ns == 0)
				break;
			sp[i] = x;
		}
		/* sorted by start, stable (the pointers were taken in array order: ties keep it) */
		for (size_t i = 1; i < ns; i++)
			for (size_t j = i; j > 0 && json_object_get_int64(json_object_object_get(sp[j - 1], "start")) >
			    json_object_get_int64(json_object_object_get(sp[j], "start")); j--) {
				struct json_object *tmp = sp[j];

				sp[j] = sp[j - 1];
				sp[j - 1] = tmp;
			}
		if (ns > 0) {
			span = sp[si++];
			span_start = json_object_get_int64(json_object_object_get(span, "start"));
			span_end = json_object_get_int64(json_object_object_get(span, "end")) - 1;
		}
	}
	for (size_t q = 0; q < nt; q++) {
		int64_t ts = t[q].cs, te = t[q].cs + t[q].cn - 1;
		struct json_object *labels = NULL;

		out_put(&e->o, s + t[q].b, t[q].n);
		out_str(&e->o, " -X- _ ");
		if (span == NULL) {
			out_str(&e->o, "O\n");
			continue;
		}
		if (ts > span_end) {
			while (si < ns) {
				span = sp[si++];
				span_start = json_object_get_int64(json_object_object_get(span, "start"));
				span_end = json_object_get_int64(json_object_object_get(span, "end")) - 1;
				prefix = "B-";
				if (ts <= span_end)
					break;
			}
		}
		json_object_object_get_ex(span, "labels", &labels);
		if (te < span_start || !json_object_is_type(labels, json_type_array) ||
		    alen(labels) == 0) {
			out_str(&e->o, "O\n");
		} else if (span_start <= te && span_end >= ts) {
			const char *l = json_object_get_string(aget(labels, 0));

			out_str(&e->o, prefix);
			out_str(&e->o, l != NULL ? l : "");
			out_put(&e->o, "\n", 1);
			prefix = "I-";
		} else {
			out_str(&e->o, "O\n");
		}
	}
	out_put(&e->o, "\n", 1);
	return 0;
}

/* --- ASR manifest: JSON lines {"audio_filepath", "text", "annotator"} --- */

static int
emit_asr(struct exp *e, const struct item *it)
{
	struct json_object *audio, *rec, *text = NULL;

	if (it->ann == NULL || e->s.key0 == NULL ||
	    !json_object_object_get_ex(it->data, e->s.key0, &audio) ||
	    !json_object_is_type(audio, json_type_string))
		return 0;
	json_object_object_foreach(it->out, name, list) {
		struct json_object *first = aget(list, 0), *x;

		(void)name;
		if (first != NULL && json_object_object_get_ex(first, "text", &x)) {
			text = json_object_is_type(x, json_type_array) ? aget(x, 0) : NULL;
			break;
		}
	}
	if (text == NULL)
		return 0;
	rec = req_own(e->b, json_object_new_object());
	json_object_object_add(rec, "audio_filepath", json_object_get(audio));
	json_object_object_add(rec, "text", json_object_get(text));
	json_object_object_add(rec, "annotator", db_null(it->ann, 2) ? json_object_new_string("None") :
	    json_object_new_string(db_str(it->ann, 2)));
	pj_value(&e->o, rec, &PJ_STD, 0);
	out_put(&e->o, "\n", 1);
	return 0;
}

/* --- image formats: categories, resources, label files --- */

/* _get_labels: every label of every control, sorted, numbered from 0. (Explicit category="N"
 * label attributes are not read: labels_attrs carries no values here.) */
static void
cats_init(struct exp *e)
{
	struct json_object *set = req_own(e->r, json_object_new_object());
	const char **names;
	size_t n = 0, cap = 16;

	names = req_alloc(e->r, cap * sizeof(*names));
	json_object_object_foreach(e->s.p, ctl, info) {
		struct json_object *labels = json_object_object_get(info, "labels");

		(void)ctl;
		for (size_t i = 0, m = alen(labels); i < m; i++) {
			const char *l = json_object_get_string(aget(labels, i));

			if (l == NULL || json_object_object_get_ex(set, l, NULL))
				continue;
			json_object_object_add(set, l, NULL);
			if (n == cap) {
				const char **nn = req_alloc(e->r, 2 * cap * sizeof(*nn));

				memcpy(nn, names, cap * sizeof(*nn));
				names = nn;
				cap *= 2;
			}
			names[n++] = l;
		}
	}
	qsort(names, n, sizeof(*names), cmp_str);
	e->cats = req_own(e->r, json_object_new_array());
	e->cat_ids = req_own(e->r, json_object_new_object());
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_new_object();

		jadd_int(c, "id", (int64_t)i);
		jadd_str(c, "name", names[i]);
		json_object_array_add(e->cats, c);
		json_object_object_add(e->cat_ids, names[i], json_object_new_int64((int64_t)i));
	}
}

/* The category id of a label, added at the end when the config does not list it. */
static int64_t
cat_id(struct exp *e, const char *name)
{
	struct json_object *v, *c;
	int64_t id;

	if (json_object_object_get_ex(e->cat_ids, name, &v))
		return json_object_get_int64(v);
	id = (int64_t)alen(e->cats);
	c = json_object_new_object();
	jadd_int(c, "id", id);
	jadd_str(c, "name", name);
	json_object_array_add(e->cats, c);
	json_object_object_add(e->cat_ids, name, json_object_new_int64(id));
	return id;
}

/* download_resources: only files under a media root could be packed, and there is none yet
 * (uploads come later), so every resource is skipped and listed in NOTES.txt. Nothing is ever
 * fetched over the network here. Once per task. */
static void
resource_note(struct exp *e, const struct item *it, const char *url)
{
	char prefix[64];
	const char *file;

	if (!e->resources || e->notes == NULL || it->task_id == e->noted_task)
		return;
	e->noted_task = it->task_id;
	/* A file uploaded to this project (/data/upload/<project>/<file>, as the import names it) goes
	 * into images/: a link in the work dir, read when the zip is written. */
	snprintf(prefix, sizeof(prefix), "/data/upload/%lld/", (long long)e->pid);
	if (strncmp(url, prefix, strlen(prefix)) == 0) {
		file = url + strlen(prefix);
		if (*file != '\0' && *file != '.' && strchr(file, '/') == NULL) {
			char *src = req_printf(e->b, "%s/upload/%lld/%s", cfg.media_root, (long long)e->pid, file);
			char *dir = req_printf(e->b, "%s/images", e->dir);

			if (access(src, R_OK) == 0 && (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
			    (symlink(src, req_printf(e->b, "%s/%s", dir, file)) == 0 || errno == EEXIST))
				return;
		}
	}
	e->nnotes++;
	fprintf(e->notes, "task %lld: %s: not a local file, not included\n", (long long)it->task_id, url);
}

/* os.path.splitext(os.path.basename(path))[0], at most 251 bytes. */
static char *
stem(struct req *r, const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	size_t n;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot != NULL) {
		const char *p = base;

		while (*p == '.')
			p++;
		if (dot < p)
			dot = NULL;
	}
	n = dot != NULL ? (size_t)(dot - base) : strlen(base);
	if (n > 251) {
		n = 251;
		while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80)
			n--;
	}
	return req_strndup(r, base, n);
}

/* A file of the work directory, created (or replaced) for writing. */
static FILE *
part_open(struct exp *e, const char *rel, const char *mode)
{
	char *path = req_printf(e->b, "%s/%s", e->dir, rel);
	FILE *f = fopen(path, mode);

	if (f == NULL)
		log_error("export: cannot write %s: %s", path, strerror(errno));
	return f;
}

static double
num(struct json_object *v)
{
	return json_object_get_double(v);
}

static int
numeric(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* The regions of an item, all controls together, in order. */
static size_t
regions(struct exp *e, const struct item *it, struct json_object ***out)
{
	size_t n = 0, k = 0;
	struct json_object **v;

	json_object_object_foreach(it->out, name, list) {
		(void)name;
		n += alen(list);
	}
	v = req_alloc(e->b, (n ? n : 1) * sizeof(*v));
	json_object_object_foreach(it->out, name2, list2) {
		(void)name2;
		for (size_t i = 0, m = alen(list2); i < m; i++)
			v[k++] = aget(list2, i);
	}
	*out = v;
	return n;
}

/* A non-empty list under key: its array, else NULL. */
static struct json_object *
labels_of(struct json_object *v, const char *key)
{
	struct json_object *x;

	if (json_object_object_get_ex(v, key, &x) && json_object_is_type(x, json_type_array) &&
	    alen(x) > 0)
		return x;
	return NULL;
}

/* --- COCO: result.json = {"images", "categories", "annotations", "info"} --- */

static void
coco_image(struct exp *e, struct json_object *w, struct json_object *h, long id, const char *path)
{
	struct json_object *img = req_own(e->b, json_object_new_object());
	struct out o = { .r = e->r, .f = e->parts[0] };

	json_object_object_add(img, "width", json_object_get(w));
	json_object_object_add(img, "height", json_object_get(h));
	jadd_int(img, "id", id);
	jadd_str(img, "file_name", path);
	if (e->nimages++ > 0)
		out_str(&o, ",");
	pj_newline(&o, &PJ_IND_ASCII, 2);
	pj_value(&o, img, &PJ_IND_ASCII, 2);
}

static void
coco_annotation(struct exp *e, struct json_object *a)
{
	struct out o = { .r = e->r, .f = e->parts[1] };

	if (e->nanns++ > 0)
		out_str(&o, ",");
	pj_newline(&o, &PJ_IND_ASCII, 2);
	pj_value(&o, a, &PJ_IND_ASCII, 2);
}

static struct json_object *
jdouble_array(const double *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_double(v[i]));
	return a;
}

/* sin and cos of an angle in degrees. */
static void
sincos_deg(double deg, double *sn, double *cs)
{
	double x = fmod(deg, 360.0) * M_PI / 180;

	*sn = sin(x);
	*cs = cos(x);
}

/* rotated_rectangle: the axis-aligned box around a box rotated by `rotation` degrees about its
 * top-left corner, in percents (the corners directly, rather than the converter's polar form). */
static int
rect_box(struct json_object *l, double box[4])
{
	struct json_object *x, *y, *w, *h, *rot;
	double lx, ly, lw, lh, lr = 0;

	if (!json_object_object_get_ex(l, "x", &x) || !json_object_object_get_ex(l, "y", &y) ||
	    !json_object_object_get_ex(l, "width", &w) || !json_object_object_get_ex(l, "height", &h) ||
	    !numeric(x) || !numeric(y) || !numeric(w) || !numeric(h))
		return -1;
	lx = num(x), ly = num(y), lw = num(w), lh = num(h);
	if (json_object_object_get_ex(l, "rotation", &rot) && numeric(rot))
		lr = num(rot);
	if (lr != 0) {
		double sn, cs, px[4], py[4];
		double minx, miny, maxx, maxy;

		sincos_deg(lr, &sn, &cs);
		px[0] = lx, py[0] = ly;
		px[1] = lx + lw * cs, py[1] = ly + lw * sn;
		px[2] = lx - lh * sn, py[2] = ly + lh * cs;
		px[3] = lx + lw * cs - lh * sn, py[3] = ly + lw * sn + lh * cs;
		minx = maxx = px[0], miny = maxy = py[0];
		for (int i = 1; i < 4; i++) {
			minx = px[i] < minx ? px[i] : minx;
			maxx = px[i] > maxx ? px[i] : maxx;
			miny = py[i] < miny ? py[i] : miny;
			maxy = py[i] > maxy ? py[i] : maxy;
		}
		lx = minx, ly = miny, lw = maxx - minx, lh = maxy - miny;
	}
	box[0] = lx, box[1] = ly, box[2] = lw, box[3] = lh;
	return 0;
}

static int
emit_coco(struct exp *e, const struct item *it)
{
	struct json_object *path, *w = NULL, *h = NULL, **labels;
	long image_id = e->nimages;
	size_t n;
	const char *p;

	if (e->s.key0 == NULL || !json_object_object_get_ex(it->data, e->s.key0, &path) ||
	    !json_object_is_type(path, json_type_string))
		return 0;
	p = json_object_get_string(path);
	resource_note(e, it, p);
	if (json_object_object_length(it->out) == 0) {
		coco_image(e, NULL, NULL, image_id, p);
		return 0;
	}
	n = regions(e, it, &labels);
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = labels[i], *names = NULL, *ann, *pts;
		static const char *keys[] = { "rectanglelabels", "polygonlabels", "keypointlabels", "labels" };
		const char *cat;
		int64_t cid;

		for (size_t k = 0; k < 4 && names == NULL; k++)
			names = labels_of(l, keys[k]);
		if (names == NULL || (cat = json_object_get_string(aget(names, 0))) == NULL)
			continue;
		if (w == NULL) {
			if (!json_object_object_get_ex(l, "original_width", &w) ||
			    !json_object_object_get_ex(l, "original_height", &h) || !numeric(w) || !numeric(h)) {
				w = h = NULL;
				continue;
			}
			coco_image(e, w, h, image_id, p);
		}
		cid = cat_id(e, cat);
		ann = req_own(e->b, json_object_new_object());
		jadd_int(ann, "id", e->nanns);
		jadd_int(ann, "image_id", image_id);
		jadd_int(ann, "category_id", cid);
		if (json_object_object_get_ex(l, "rectanglelabels", NULL) || json_object_object_get_ex(l, "labels", NULL)) {
			struct json_object *ow, *oh;
			double b[4];

			if (rect_box(l, b) != 0 || !json_object_object_get_ex(l, "original_width", &ow) ||
			    !json_object_object_get_ex(l, "original_height", &oh))
				continue;
			b[0] = b[0] * num(ow) / 100;
			b[1] = b[1] * num(oh) / 100;
			b[2] = b[2] * num(ow) / 100;
			b[3] = b[3] * num(oh) / 100;
			json_object_object_add(ann, "segmentation", json_object_new_array());
			json_object_object_add(ann, "bbox", jdouble_array(b, 4));
			jadd_int(ann, "ignore", 0);
			jadd_int(ann, "iscrowd", 0);
			json_object_object_add(ann, "area", json_object_new_double(b[2] * b[3]));
		} else if (json_object_object_get_ex(l, "polygonlabels", NULL)) {
			size_t m;
			double *xy, minx = 1e308, miny = 1e308, maxx = -1e308, maxy = -1e308;
			double s1 = 0, s2 = 0, bb[4];
			struct json_object *seg;

			if (!json_object_object_get_ex(l, "points", &pts) || !json_object_is_type(pts, json_type_array) ||
			    (m = alen(pts)) == 0)
				continue;
			xy = req_alloc(e->b, 2 * m * sizeof(*xy));
			for (size_t k = 0; k < m; k++) {
				struct json_object *pt = aget(pts, k);

				xy[2 * k] = num(aget(pt, 0)) / 100 * num(w);
				xy[2 * k + 1] = num(aget(pt, 1)) / 100 * num(h);
				minx = xy[2 * k] < minx ? xy[2 * k] : minx;
				maxx = xy[2 * k] > maxx ? xy[2 * k] : maxx;
				miny = xy[2 * k + 1] < miny ? xy[2 * k + 1] : miny;
				maxy = xy[2 * k + 1] > maxy ? xy[2 * k + 1] : maxy;
			}
			/* the shoelace formula with numpy's roll: x[k] * y[k-1] and y[k] * x[k-1] */
			for (size_t k = 0; k < m; k++) {
				size_t pk = (k + m - 1) % m;

				s1 += xy[2 * k] * xy[2 * pk + 1];
				s2 += xy[2 * k + 1] * xy[2 * pk];
			}
			seg = json_object_new_array();
			json_object_array_add(seg, jdouble_array(xy, 2 * m));
			json_object_object_add(ann, "segmentation", seg);
			bb[0] = minx, bb[1] = miny, bb[2] = maxx - minx, bb[3] = maxy - miny;
			json_object_object_add(ann, "bbox", jdouble_array(bb, 4));
			jadd_int(ann, "ignore", 0);
			jadd_int(ann, "iscrowd", 0);
			json_object_object_add(ann, "area", json_object_new_double(0.5 * (s1 > s2 ? s1 - s2 : s2 - s1)));
		} else {
			/* keypoints (process_keypoints_for_coco) are not exported */
			continue;
		}
		coco_annotation(e, ann);
	}
	return 0;
}

/* --- Pascal VOC: Annotations/<image>.xml --- */

static void
xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

static void
xml_node(FILE *f, const char *tag, const char *text)
{
	fprintf(f, "<%s>", tag);
	xml_text(f, text);
	fprintf(f, "</%s>\n", tag);
}

/* str() of a JSON number as Python prints it. */
static const char *
pystr(struct req *r, struct json_object *v)
{
	char b[48];

	if (json_object_is_type(v, json_type_int))
		return req_printf(r, "%lld", (long long)json_object_get_int64(v));
	pyfloat(json_object_get_double(v), b, sizeof(b));
	return req_strdup(r, b);
}

static int
emit_voc(struct exp *e, const struct item *it)
{
	struct json_object *path, **boxes, *w, *h;
	const char *p, *base;
	size_t n;
	FILE *f;
	double W, H;

	if (e->s.key0 == NULL || !json_object_object_get_ex(it->data, e->s.key0, &path) ||
	    !json_object_is_type(path, json_type_string))
		return 0;
	p = json_object_get_string(path);
	resource_note(e, it, p);
	if (json_object_object_length(it->out) == 0 || (n = regions(e, it, &boxes)) == 0)
		return 0;
	if (!json_object_object_get_ex(boxes[0], "original_width", &w) ||
	    !json_object_object_get_ex(boxes[0], "original_height", &h) || !numeric(w) || !numeric(h))
		return 0;
	W = num(w), H = num(h);
	base = strrchr(p, '/') != NULL ? strrchr(p, '/') + 1 : p;
	if ((f = part_open(e, req_printf(e->b, "Annotations/%s.xml", stem(e->b, p)), "w")) == NULL)
		return -1;
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotation>\n", f);
	xml_node(f, "folder", "images");
	xml_node(f, "filename", base);
	fputs("<source>\n", f);
	xml_node(f, "database", "MyDatabase");
	xml_node(f, "annotation", "COCO2017");
	xml_node(f, "image", "flickr");
	xml_node(f, "flickrid", "NULL");
	xml_node(f, "annotator", it->ann == NULL ? "" : db_null(it->ann, 2) ? "None" : db_str(it->ann, 2));
	fputs("</source>\n<owner>\n", f);
	xml_node(f, "flickrid", "NULL");
	xml_node(f, "name", "Label Studio");
	fputs("</owner>\n<size>\n", f);
	xml_node(f, "width", pystr(e->b, w));
	xml_node(f, "height", pystr(e->b, h));
	xml_node(f, "depth", "3");
	fputs("</size>\n", f);
	xml_node(f, "segmented", "0");
	for (size_t i = 0; i < n; i++) {
		struct json_object *names = labels_of(boxes[i], "rectanglelabels"), *x, *y, *bw, *bh;
		long long X, Y, BW, BH;

		if (names == NULL && !json_object_object_get_ex(boxes[i], "rectanglelabels", NULL))
			names = labels_of(boxes[i], "labels");
		if (names == NULL || !json_object_object_get_ex(boxes[i], "x", &x) ||
		    !json_object_object_get_ex(boxes[i], "y", &y) ||
		    !json_object_object_get_ex(boxes[i], "width", &bw) ||
		    !json_object_object_get_ex(boxes[i], "height", &bh))
			continue;
		X = (long long)(num(x) / 100 * W);
		Y = (long long)(num(y) / 100 * H);
		BW = (long long)(num(bw) / 100 * W);
		BH = (long long)(num(bh) / 100 * H);
		fputs("<object>\n", f);
		xml_node(f, "name", json_object_get_string(aget(names, 0)));
		xml_node(f, "pose", "Unspecified");
		xml_node(f, "truncated", "0");
		xml_node(f, "difficult", "0");
		fprintf(f, "<bndbox>\n<xmin>%lld</xmin>\n<ymin>%lld</ymin>\n<xmax>%lld</xmax>\n<ymax>%lld</ymax>\n"
		    "</bndbox>\n</object>\n", X, Y, X + BW, Y + BH);
	}
	fputs("</annotation>\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

/* --- YOLO: labels/<image>.txt, classes.txt, notes.json --- */

static int
emit_yolo(struct exp *e, const struct item *it)
{
	struct json_object *path, **labels;
	const char *p = NULL, *rel;
	size_t n;
	FILE *f;

	if (e->s.key0 == NULL || !json_object_object_get_ex(it->data, e->s.key0, &path))
		return 0;
	if (json_object_is_type(path, json_type_array) && alen(path) > 0)
		path = aget(path, alen(path) - 1);
	if (!json_object_is_type(path, json_type_string) || *(p = json_object_get_string(path)) == '\0')
		return 0;
	resource_note(e, it, p);
	rel = req_printf(e->b, "labels/%s.txt", stem(e->b, p));
	n = json_object_object_length(it->out) ? regions(e, it, &labels) : 0;
	if (n == 0) {
		/* an empty label file unless one exists */
		char *full = req_printf(e->b, "%s/%s", e->dir, rel);
		int fd = open(full, O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST)
			return -1;
		return 0;
	}
	if ((f = part_open(e, rel, "w")) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = labels[i], *names[3];
		static const char *keys[] = { "rectanglelabels", "polygonlabels", "labels" };
		int any = 0;

		for (size_t k = 0; k < 3; k++)
			any |= (names[k] = labels_of(l, keys[k])) != NULL;
		if (!any)
			continue;
		for (size_t k = 0; k < 3; k++) {
			for (size_t j = 0, m = alen(names[k]); names[k] && j < m; j++) {
				const char *cat = json_object_get_string(aget(names[k], j));
				int64_t cid = cat_id(e, cat != NULL ? cat : "");
				char b[48];

				if (json_object_object_get_ex(l, "rectanglelabels", NULL) ||
				    json_object_object_get_ex(l, "rectangle", NULL) ||
				    json_object_object_get_ex(l, "labels", NULL)) {
					struct json_object *x, *y, *w, *h;
					double v[4];

					if (!json_object_object_get_ex(l, "x", &x) || !json_object_object_get_ex(l, "y", &y) ||
					    !json_object_object_get_ex(l, "width", &w) ||
					    !json_object_object_get_ex(l, "height", &h) || !numeric(x) || !numeric(y) ||
					    !numeric(w) || !numeric(h))
						continue;
					v[0] = (num(x) + num(w) / 2) / 100;
					v[1] = (num(y) + num(h) / 2) / 100;
					v[2] = num(w) / 100;
					v[3] = num(h) / 100;
					fprintf(f, "%lld", (long long)cid);
					for (int q = 0; q < 4; q++) {
						pyfloat(v[q], b, sizeof(b));
						fprintf(f, " %s", b);
					}
					fputc('\n', f);
				} else {
					struct json_object *pts;

					if (!json_object_object_get_ex(l, "points", &pts) ||
					    !json_object_is_type(pts, json_type_array))
						continue;
					fprintf(f, "%lld", (long long)cid);
					for (size_t q = 0, pm = alen(pts); q < pm; q++) {
						struct json_object *pt = aget(pts, q);

						pyfloat(num(aget(pt, 0)) / 100, b, sizeof(b));
						fprintf(f, " %s", b);
						pyfloat(num(aget(pt, 1)) / 100, b, sizeof(b));
						fprintf(f, " %s", b);
					}
					fputc('\n', f);
				}
			}
		}
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Per task: the converter's items, or the JSON object                                         */

static int
emit_item(struct exp *e, const struct item *it)
{
	if (e->fmt->kind != K_JSON_MIN)
		e->nitems++;
	switch (e->fmt->kind) {
	case K_JSON_MIN: return emit_json_min(e, it);
	case K_CSV: case K_TSV: return emit_csv(e, it);
	case K_CONLL: return emit_conll(e, it);
	case K_ASR: return emit_asr(e, it);
	case K_COCO: return emit_coco(e, it);
	case K_VOC: return emit_voc(e, it);
	case K_YOLO: return emit_yolo(e, it);
	default: return 0;
	}
}

/* A snapshot's task: Label Studio's task filters (on the counters kept by writes), then its
 * annotation filter (a disjunction; none set keeps every annotation), then only_with_annotations
 * (on the annotations kept). */
static int
snap_task(struct exp *e, const struct xtask *x)
{
	const struct snapshot_opts *so = e->snap;
	const struct db_row *t = x->row;
	int64_t total = db_int(t, 6), cancelled = db_int(t, 7), id = db_int(t, 0);
	int labeled = db_int(t, EXPORT_TASK_NCOLS) != 0;
	struct xtask y = *x;

	if ((so->skipped == 1 && cancelled == 0) || (so->skipped == -1 && cancelled > 0) ||
	    (so->finished == 1 && !labeled) || (so->finished == -1 && labeled) ||
	    (so->annotated == 1 && total == 0) || (so->annotated == -1 && total > 0))
		return 0;
	if (so->usual || so->ground_truth || so->skipped_anns) {
		struct db_row *keep = req_alloc(e->b, (x->nanns ? x->nanns : 1) * sizeof(*keep));

		y.nanns = 0;
		for (size_t i = 0; i < x->nanns; i++) {
			const struct db_row *a = &x->anns[i];
			int c = db_int(a, 4) != 0, gt = db_int(a, 5) != 0;

			if ((so->usual && !c && !gt) || (so->ground_truth && gt) || (so->skipped_anns && c))
				keep[y.nanns++] = *a;
		}
		y.anns = keep;
	}
	if (so->only_with_annotations && y.nanns == 0)
		return 0;
	if (e->idsf != NULL && fwrite(&id, sizeof(id), 1, e->idsf) != 1)
		e->o.failed = 1;
	return json_task(e, &y);
}

static int
do_task(struct exp *e, const struct xtask *x)
{
	struct item it = { .task_id = db_int(x->row, 0) };
	const struct db_row **keep;
	size_t nkeep = 0;

	if (e->fmt->kind == K_JSON)
		return e->snap != NULL ? snap_task(e, x) : json_task(e, x);
	it.data = db_null(x->row, 1) ? NULL : json_tokener_parse(x->row->v[1]);
	if (!json_object_is_type(it.data, json_type_object)) {
		json_object_put(it.data);
		it.data = json_object_new_object();
	}
	req_own(e->b, it.data);
	import_undefined_key(e->c, it.data);
	it.out = req_own(e->b, json_object_new_object());
	if (x->nanns == 0)
		return emit_item(e, &it);
	/* skipped annotations give nothing; the rest newest first (a stable sort, as sorted()) */
	keep = req_alloc(e->b, x->nanns * sizeof(*keep));
	for (size_t i = 0; i < x->nanns; i++)
		if (!db_int(&x->anns[i], 4))
			keep[nkeep++] = &x->anns[i];
	for (size_t i = 1; i < nkeep; i++)
		for (size_t j = i; j > 0 && strcmp(db_str(keep[j - 1], 6), db_str(keep[j], 6)) < 0; j--) {
			const struct db_row *t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < nkeep; i++) {
		it.ann = keep[i];
		it.out = item_outputs(e, keep[i]);
		if (emit_item(e, &it) != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The walk: keyset batches of tasks, their children by range or by list                       */

static char *
id_list(struct req *r, const int64_t *ids, size_t n)
{
	size_t cap = 2 + n * 21, k = 0;
	char *s = req_alloc(r, cap);

	s[k++] = '[';
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, cap - k, "%s%lld", i ? "," : "", (long long)ids[i]);
	s[k++] = ']';
	s[k] = '\0';
	return s;
}

/* Hands each child row to its task (both lists are in task order). */
static void
attach(struct xtask *xs, size_t nt, const struct db_rows *rows, int col, int which)
{
	size_t t = 0;

	for (size_t i = 0; i < rows->n; i++) {
		int64_t tid = db_int(&rows->rows[i], col);

		while (t < nt && db_int(xs[t].row, 0) < tid)
			t++;
		if (t == nt)
			break;
		if (db_int(xs[t].row, 0) != tid)
			continue;
		if (which == 0) {
			if (xs[t].nanns++ == 0)
				xs[t].anns = &rows->rows[i];
		} else if (which == 1) {
			if (xs[t].ndrafts++ == 0)
				xs[t].drafts = &rows->rows[i];
		} else {
			if (xs[t].npreds++ == 0)
				xs[t].preds = &rows->rows[i];
		}
	}
}

static void
scratch_free(void *arg)
{
	struct req *b = arg;

	req_release(b);
	free(b);
}

/* Runs the walk: 0, or -1 (a database error, logged; or the client went away). */
static int
walk(struct exp *e)
{
	int json = e->fmt->kind == K_JSON;
	int64_t after = 0;
	size_t at = 0;

	for (;;) {
		struct db_rows tasks, anns, drafts = { 0 }, preds = { 0 };
		struct xtask *xs;
		const char *list = NULL;
		int64_t first, last;

		req_end(e->b);
		req_begin(e->b);
		if (e->ids != NULL) {
			size_t k = e->nids - at < EXPORT_BATCH ? e->nids - at : EXPORT_BATCH;

			if (k == 0)
				break;
			list = id_list(e->b, e->ids + at, k);
			at += k;
			if (db_rows(e->b, &tasks, e->all ? STMT_EXPORT_TASKS_ALL_LIST : STMT_EXPORT_TASKS_DONE_LIST,
			    "is", e->pid, list) != 0)
				return -1;
			if (tasks.n == 0)
				continue;
		} else {
			enum stmt_id q = e->snap != NULL ? STMT_SNAP_TASKS :
			    e->all ? STMT_EXPORT_TASKS_ALL : STMT_EXPORT_TASKS_DONE;

			if (db_rows(e->b, &tasks, q, "iii", e->pid, after, (int64_t)EXPORT_BATCH) != 0)
				return -1;
			if (tasks.n == 0)
				break;
		}
		first = db_int(&tasks.rows[0], 0);
		last = db_int(&tasks.rows[tasks.n - 1], 0);
		after = last;
		if (list != NULL) {
			/* the children of the tasks found, not of every id asked for */
			int64_t *found = req_alloc(e->b, tasks.n * sizeof(*found));

			for (size_t i = 0; i < tasks.n; i++)
				found[i] = db_int(&tasks.rows[i], 0);
			list = id_list(e->b, found, tasks.n);
			if (db_rows(e->b, &anns, STMT_EXPORT_ANNS_LIST, "is", e->pid, list) != 0 ||
			    (json && db_rows(e->b, &drafts, STMT_EXPORT_DRAFTS_LIST, "is", e->pid, list) != 0) ||
			    (json && db_rows(e->b, &preds, STMT_EXPORT_PREDS_LIST, "is", e->pid, list) != 0))
				return -1;
		} else if (db_rows(e->b, &anns, e->snap != NULL ? STMT_SNAP_ANNS : STMT_EXPORT_ANNS, "iii",
		    e->pid, first, last) != 0 ||
		    (json && db_rows(e->b, &drafts, STMT_EXPORT_DRAFTS, "iii", e->pid, first, last) != 0) ||
		    (json && db_rows(e->b, &preds, e->snap != NULL ? STMT_SNAP_PREDS : STMT_EXPORT_PREDS,
		    "iii", e->pid, first, last) != 0)) {
			return -1;
		}
		xs = req_zalloc(e->b, tasks.n * sizeof(*xs));
		for (size_t i = 0; i < tasks.n; i++)
			xs[i].row = &tasks.rows[i];
		attach(xs, tasks.n, &anns, 0, 0);
		attach(xs, tasks.n, &drafts, 4, 1);
		attach(xs, tasks.n, &preds, e->snap != NULL ? 9 : 0, 2);
		for (size_t i = 0; i < tasks.n; i++)
			if (do_task(e, &xs[i]) != 0)
				return -1;
		out_flush(&e->o);
		if (e->o.failed)
			return -1;
		if (e->tick != NULL)
			e->tick(e->tick_ctx);
		if (e->ids == NULL && tasks.n < EXPORT_BATCH)
			break;
	}
	req_end(e->b);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The request                                                                                  */

/* DRF's BooleanField: 1, 0, or -1 when the text is none of its spellings. */
static int
parse_bool(const char *v)
{
	static const char *yes[] = { "t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on",
		"On", "ON", "1" };
	static const char *no[] = { "f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off",
		"Off", "OFF", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0)
			return 1;
		if (strcmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* ids[]=1&ids[]=2 (Label Studio's form) and ids=1,2: sorted, unique. 0, or -1 (bad id). */
static int
parse_ids(struct req *r, int64_t **out, size_t *nout, int *present)
{
	const char *q = r->query;
	size_t n = 0, cap = 0;
	int64_t *ids = NULL;

	*present = 0;
	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end != NULL ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq != NULL ? (size_t)(eq - q) : len;
		char *key = req_urldecode(r, q, klen, 1);

		if ((strcmp(key, "ids[]") == 0 || strcmp(key, "ids") == 0) && eq != NULL) {
			char *val = req_urldecode(r, eq + 1, len - klen - 1, 1), *tok = val;

			*present = 1;
			while (tok != NULL) {
				char *comma = strchr(tok, ','), *e;
				long long v;

				if (comma != NULL)
					*comma = '\0';
				errno = 0;
				v = strtoll(tok, &e, 10);
				if (*tok == '\0' || *e != '\0' || errno != 0 || v <= 0)
					return -1;
				if (n == cap) {
					int64_t *ni = req_alloc(r, (cap ? 2 * cap : 16) * sizeof(*ni));

					if (n > 0)
						memcpy(ni, ids, n * sizeof(*ni));
					ids = ni;
					cap = cap ? 2 * cap : 16;
				}
				ids[n++] = v;
				tok = comma != NULL ? comma + 1 : NULL;
			}
		}
		q = end != NULL ? end + 1 : NULL;
	}
	if (n > 1) {
		size_t k = 1;

		qsort(ids, n, sizeof(*ids), cmp_id);
		for (size_t i = 1; i < n; i++)
			if (ids[i] != ids[k - 1])
				ids[k++] = ids[i];
		n = k;
	}
	*out = ids;
	*nout = n;
	return 0;
}

/* Removes the work directory and everything in it. */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
dir_remove(void *arg)
{
	if (arg != NULL)
		nftw(arg, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
file_close(void *arg)
{
	if (arg != NULL)
		fclose(arg);
}

/* Names of a directory of the work dir, sorted (byte order). */
static size_t
dir_names(struct req *r, const char *dir, char ***out)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	size_t k = 0;
	char **names;

	if (n < 0)
		n = 0;
	names = req_alloc(r, ((size_t)n + 1) * sizeof(*names));
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0)
			names[k++] = req_strdup(r, list[i]->d_name);
		free(list[i]);
	}
	free(list);
	qsort(names, k, sizeof(*names), cmp_str);
	*out = names;
	return k;
}

/* Adds every file of the work dir's sub-directory sub under sub/ in the zip. */
static int
zip_tree(struct exp *e, struct zipout *z, const char *sub)
{
	char **names;
	size_t n = dir_names(e->r, req_printf(e->r, "%s/%s", e->dir, sub), &names);

	if (zipout_dir(z, sub) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (zipout_file(z, req_printf(e->r, "%s/%s", sub, names[i]),
		    req_printf(e->r, "%s/%s/%s", e->dir, sub, names[i])) != 0)
			return -1;
	return 0;
}

static int
copy_file(FILE *dst, const char *path)
{
	char buf[65536];
	size_t n;
	FILE *src = fopen(path, "r");

	if (src == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
		if (fwrite(buf, 1, n, dst) != n) {
			fclose(src);
			return -1;
		}
	fclose(src);
	return 0;
}

/* Writes a small JSON document (ujson.dump(indent=2)) into the work dir. */
static int
write_doc(struct exp *e, const char *rel, struct json_object *doc)
{
	FILE *f = part_open(e, rel, "w");
	struct out o = { .r = e->r, .f = f };

	if (f == NULL)
		return -1;
	pj_value(&o, doc, &PJ_IND_ASCII, 0);
	return fclose(f) == 0 && !o.failed ? 0 : -1;
}

/* After the walk: the last files of the format, then the zip. Returns the zip's path or NULL. */
static const char *
zip_finish(struct exp *e)
{
	const char *zpath = req_printf(e->r, "%s/export.zip", e->dir);
	struct zipout *z;
	int bad = 0;

	if (e->notes != NULL && fflush(e->notes) != 0)
		return NULL;
	if (e->fmt->kind == K_COCO) {
		FILE *f = part_open(e, "result.json", "w");
		struct out o = { .r = e->r, .f = f };
		struct json_object *info = req_own(e->r, json_object_new_object());

		if (f == NULL || fflush(e->parts[0]) != 0 || fflush(e->parts[1]) != 0)
			return NULL;
		json_object_object_add(info, "year", json_object_new_int(atoi(e->year)));
		jadd_str(info, "version", "1.0");
		jadd_str(info, "description", "");
		jadd_str(info, "contributor", "Label Studio");
		jadd_str(info, "url", "");
		jadd_str(info, "date_created", e->date_created);
		out_str(&o, "{\n  \"images\": [");
		bad |= copy_file(f, req_printf(e->r, "%s/.images", e->dir));
		out_str(&o, e->nimages ? "\n  ],\n  \"categories\": " : "],\n  \"categories\": ");
		pj_value(&o, e->cats, &PJ_IND_ASCII, 1);
		out_str(&o, ",\n  \"annotations\": [");
		bad |= copy_file(f, req_printf(e->r, "%s/.annotations", e->dir));
		out_str(&o, e->nanns ? "\n  ],\n  \"info\": " : "],\n  \"info\": ");
		pj_value(&o, info, &PJ_IND_ASCII, 1);
		out_str(&o, "\n}");
		if (fclose(f) != 0 || bad || o.failed)
			return NULL;
	} else if (e->fmt->kind == K_YOLO) {
		FILE *f = part_open(e, "classes.txt", "w");
		struct json_object *notes = req_own(e->r, json_object_new_object());
		struct json_object *info = json_object_new_object();

		if (f == NULL)
			return NULL;
		for (size_t i = 0, n = alen(e->cats); i < n; i++)
			fprintf(f, "%s\n", json_object_get_string(json_object_object_get(
			    aget(e->cats, i), "name")));
		if (fclose(f) != 0)
			return NULL;
		json_object_object_add(notes, "categories", json_object_get(e->cats));
		json_object_object_add(info, "year", json_object_new_int(atoi(e->year)));
		jadd_str(info, "version", "1.0");
		jadd_str(info, "contributor", "Label Studio");
		json_object_object_add(notes, "info", info);
		if (write_doc(e, "notes.json", notes) != 0)
			return NULL;
	}
	if ((z = zipout_open(zpath)) == NULL)
		return NULL;
	switch (e->fmt->kind) {
	case K_COCO:
		bad |= zip_tree(e, z, "images") || zipout_file(z, "result.json",
		    req_printf(e->r, "%s/result.json", e->dir));
		break;
	case K_VOC:
		if (e->nitems > 0)
			bad |= zip_tree(e, z, "Annotations");
		bad |= zip_tree(e, z, "images");
		break;
	case K_YOLO:
		bad |= zipout_file(z, "classes.txt", req_printf(e->r, "%s/classes.txt", e->dir)) ||
		    zip_tree(e, z, "images") || zip_tree(e, z, "labels") ||
		    zipout_file(z, "notes.json", req_printf(e->r, "%s/notes.json", e->dir));
		break;
	default:
		break;
	}
	if (!bad && e->nnotes != 0)
		bad |= zipout_file(z, "NOTES.txt", req_printf(e->r, "%s/.notes", e->dir));
	if (bad) {
		zipout_discard(z);
		return NULL;
	}
	return zipout_close(z) == 0 ? zpath : NULL;
}

/* Sets up the work directory of a zip format. 0, or -1. */
static int
zip_start(struct exp *e)
{
	const char *tmp = getenv("TMPDIR");
	/* mkdtemp(3) replaces the template's six trailing X with a unique name */
	char *dir = req_printf(e->r, "%s/siali-export-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");

	if (mkdtemp(dir) == NULL) {
		log_error("export: mkdtemp %s: %s", dir, strerror(errno));
		return -1;
	}
	e->dir = dir;
	req_defer(e->r, dir_remove, dir);
	if (e->fmt->kind == K_VOC && mkdir(req_printf(e->r, "%s/Annotations", dir), 0700) != 0)
		return -1;
	if (e->fmt->kind == K_YOLO && mkdir(req_printf(e->r, "%s/labels", dir), 0700) != 0)
		return -1;
	if (e->fmt->kind == K_COCO) {
		for (int i = 0; i < 2; i++) {
			e->parts[i] = fopen(req_printf(e->r, "%s/%s", dir, i ? ".annotations" : ".images"), "w+");
			if (e->parts[i] == NULL)
				return -1;
			req_defer(e->r, file_close, e->parts[i]);
		}
	}
	if (e->resources) {
		if ((e->notes = fopen(req_printf(e->r, "%s/.notes", dir), "w")) == NULL)
			return -1;
		req_defer(e->r, file_close, e->notes);
	}
	cats_init(e);
	return 0;
}

static int
stream_file(struct req *r, const char *path, const char *ctype)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return req_fail(r, 500, "Internal server error.");
	/* the work directory goes now: the open descriptor keeps the zip readable */
	dir_remove((void *)req_strndup(r, path, (size_t)(strrchr(path, '/') - path)));
	reply_start(r, 200, ctype);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (reply_write(r, buf, (size_t)n) != 0)
			break;
	close(fd);
	return 200;
}

/* The file name: project-{id}-at-YYYY-MM-DD-HH-MM-{md5[:8]}.{ext}. Label Studio hashes the
 * export's content; a stream cannot know it before the first byte, so the hash is of a stable
 * description instead: the project, the options, and the project's counters and updated_at. */
static const char *
file_name(struct exp *e, const struct db_row *fp, const char *ext)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[9], stamp[32];
	const char *desc = req_printf(e->r, "project=%lld;format=%s;all=%d;resources=%d;tasks=%s;"
	    "annotations=%s;skipped=%s;predictions=%s;next_inner_id=%s;updated_at=%s;ids=",
	    (long long)e->pid, e->fmt->name, e->all, e->resources, db_str(fp, 0), db_str(fp, 1),
	    db_str(fp, 2), db_str(fp, 3), db_str(fp, 4), db_str(fp, 5));
	time_t now = time(NULL);
	struct tm tm;

	if (e->name_stem != NULL) {
		EVP_MD_CTX_free(ctx);
		return req_printf(e->r, "%s.%s", e->name_stem, ext);
	}
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		memset(md, 0, sizeof(md));
	else {
		EVP_DigestUpdate(ctx, desc, strlen(desc));
		for (size_t i = 0; i < e->nids; i++) {
			char b[24];
			int n = snprintf(b, sizeof(b), "%lld,", (long long)e->ids[i]);

			EVP_DigestUpdate(ctx, b, (size_t)n);
		}
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 4; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H-%M", &tm);
	return req_printf(e->r, "project-%lld-at-%s-%s.%s", (long long)e->pid, stamp, hex, ext);
}

static int run_export(struct req *r, const struct project_ref *refp, const char *type,
    const char *type_field, int all, int resources, const int64_t *ids, size_t nids, const char *stem);

/* Answers 200 (streamed), 400 (bad parameter, format not available for this config), 404. */
int
export_download(struct req *r)
{
	struct project_ref ref;
	const char *type, *type_field = "exportType", *v;
	int64_t *ids = NULL;
	size_t nids = 0;
	int rc, all = 0, resources = 1, present;

	if ((rc = scope_project(r, req_param_id(r, "id"), &ref)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((type = req_query(r, "exportType")) == NULL || *type == '\0') {
		type_field = "export_type";
		if ((type = req_query(r, "export_type")) == NULL || *type == '\0')
			type = "JSON";
	}
	if ((v = req_query(r, "download_all_tasks")) != NULL && (all = parse_bool(v)) < 0)
		return req_fail_field(r, "download_all_tasks", "Must be a valid boolean.");
	if ((v = req_query(r, "download_resources")) != NULL && (resources = parse_bool(v)) < 0)
		return req_fail_field(r, "download_resources", "Must be a valid boolean.");
	if ((v = req_query(r, "interpolate_key_frames")) != NULL && parse_bool(v) < 0)
		return req_fail_field(r, "interpolate_key_frames", "Must be a valid boolean.");
	if (parse_ids(r, &ids, &nids, &present) != 0)
		return req_fail_field(r, "ids", "A valid integer is required.");
	return run_export(r, &ref, type, type_field, all, resources, present ? ids : NULL, nids, NULL);
}

/* The export proper, after its parameters: ids NULL for every task (annotated ones unless all),
 * stem the download's name without extension (NULL: Label Studio's easy export name). */
static int
run_export(struct req *r, const struct project_ref *refp, const char *type, const char *type_field,
    int all, int resources, const int64_t *ids, size_t nids, const char *stem)
{
	struct project_ref ref = *refp;
	struct exp *e;
	struct db_row fp;
	const char *ext, *ctype, *name;
	int rc, nheaders;

	e = req_zalloc(r, sizeof(*e));
	e->r = r;
	e->pid = ref.id;
	e->all = all;
	e->ids = ids;
	e->nids = nids;
	e->name_stem = stem;
	for (size_t i = 0; i < NFMTS && e->fmt == NULL; i++)
		if (strcmp(fmts[i].name, type) == 0)
			e->fmt = &fmts[i];
	if (e->fmt == NULL || e->fmt->kind == K_NONE)
		return req_fail_field(r, type_field, "%s is not supported export format", type);
	if (e->fmt->kind != K_JSON) {
		e->c = scope_config(r, &ref);
		schema_load(r, e->c, &e->s);
		if (!fmt_enabled(&e->s, e->fmt))
			return req_fail_field(r, type_field, "%s is not supported export format", type);
	} else {
		e->c = scope_config(r, &ref);
	}
	/* COCO and YOLO pack images only in their *_WITH_IMAGES variants (as the converter does);
	 * VOC follows download_resources. */
	e->resources = e->fmt->kind == K_VOC ? resources : e->fmt->images;

	if ((rc = db_row(r, &fp, STMT_EXPORT_FINGERPRINT, "i", ref.id)) < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	e->year = req_strdup(r, db_str(&fp, 7));
	e->date_created = req_strdup(r, db_str(&fp, 6));

	e->b = calloc(1, sizeof(*e->b));
	if (e->b == NULL)
		return req_fail(r, 500, "Internal server error.");
	req_begin(e->b);
	req_defer(r, scratch_free, e->b);
	e->o.r = r;
	e->o.buf = req_alloc(r, OUT_CAP);

	switch (e->fmt->kind) {
	case K_JSON: case K_JSON_MIN: ext = "json"; ctype = "application/json"; break;
	case K_CSV: ext = "csv"; ctype = "text/csv; charset=utf-8"; break;
	case K_TSV: ext = "tsv"; ctype = "text/tab-separated-values; charset=utf-8"; break;
	case K_CONLL: ext = "conll"; ctype = "text/plain; charset=utf-8"; break;
	case K_ASR: ext = "json"; ctype = "application/json"; break;
	default: ext = "zip"; ctype = "application/zip"; break;
	}
	name = file_name(e, &fp, ext);
	nheaders = r->nheaders;
	reply_header(r, "Content-Disposition", req_printf(r, "attachment; filename=\"%s\"", name));
	reply_header(r, "filename", name);

	if (strcmp(ext, "zip") == 0) {
		const char *zpath;

		/* Everything happens before the first byte: errors are still envelopes (without the
		 * attachment headers). */
		if (zip_start(e) != 0 || walk(e) != 0 || (zpath = zip_finish(e)) == NULL) {
			r->nheaders = nheaders;
			if (db_last_error() != DB_OK)
				return req_fail_db(r);
			return req_fail(r, 500, "Internal server error.");
		}
		return stream_file(r, zpath, ctype);
	}

	/* Streamed: the first batch leaves as soon as it is made. From here on an error can only be
	 * logged and the stream cut short. */
	if (e->fmt->kind == K_CSV || e->fmt->kind == K_TSV) {
		e->sep = e->fmt->kind == K_TSV ? '\t' : ',';
		csv_columns(e, fp.v[8]);
	}
	reply_start(r, 200, ctype);
	switch (e->fmt->kind) {
	case K_JSON: out_put(&e->o, "[", 1); break;
	case K_JSON_MIN: out_str(&e->o, "[\n"); break;
	case K_CSV: case K_TSV: csv_header(e); break;
	case K_CONLL: out_str(&e->o, "-DOCSTART- -X- O\n"); break;
	default: break;
	}
	out_flush(&e->o);
	if (walk(e) != 0) {
		log_error("export: project %lld (%s) cut short after %zu bytes", (long long)e->pid,
		    e->fmt->name, r->bytes_out);
		return 200;
	}
	switch (e->fmt->kind) {
	case K_JSON: out_put(&e->o, "]", 1); break;
	case K_JSON_MIN: out_str(&e->o, "\n]"); break;
	default: break;
	}
	out_flush(&e->o);
	return 200;
}

/* ------------------------------------------------------------------------------------------ */
/* For export snapshots (exports.c)                                                            */

int
export_type_ok(struct req *r, const struct project_ref *ref, const char *type)
{
	struct schema s;

	for (size_t i = 0; i < NFMTS; i++) {
		if (strcmp(fmts[i].name, type) != 0)
			continue;
		if (fmts[i].kind == K_NONE)
			return 0;
		schema_load(r, scope_config(r, ref), &s);
		return fmt_enabled(&s, &fmts[i]);
	}
	return 0;
}

int
export_reply_tasks(struct req *r, const struct project_ref *ref, const char *type,
    const int64_t *ids, size_t nids, int resources, const char *name_stem)
{
	static const int64_t none = 0;

	/* a non-NULL list, even when empty: NULL would mean every task */
	return run_export(r, ref, type, "exportType", 1, resources, ids != NULL ? ids : &none, nids,
	    name_stem);
}

int
export_snapshot_write(struct req *r, const struct project_ref *ref, const struct snapshot_opts *so, FILE *f,
    FILE *ids, int64_t *ntasks, char md5hex[33], void (*tick)(void *), void *ctx)
{
	struct exp *e = req_zalloc(r, sizeof(*e));
	int64_t project_id = ref->id;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	e->r = r;
	e->pid = project_id;
	e->all = 1;
	e->snap = so;
	e->idsf = ids;
	e->tick = tick;
	e->tick_ctx = ctx;
	for (size_t i = 0; i < NFMTS && e->fmt == NULL; i++)
		if (fmts[i].kind == K_JSON)
			e->fmt = &fmts[i];
	e->c = scope_config(r, ref);            /* for the "$undefined$" renaming */
	e->b = calloc(1, sizeof(*e->b));
	if (e->b == NULL)
		return -1;
	req_begin(e->b);
	req_defer(r, scratch_free, e->b);
	e->o.r = r;
	e->o.f = f;
	e->o.md = EVP_MD_CTX_new();
	if (e->o.md == NULL || EVP_DigestInit_ex(e->o.md, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(e->o.md);
		return -1;
	}
	out_put(&e->o, "[", 1);
	rc = walk(e);
	out_put(&e->o, "]", 1);
	if (rc == 0 && !e->o.failed && EVP_DigestFinal_ex(e->o.md, md, &mdlen) == 1) {
		for (unsigned i = 0; i < mdlen && i < 16; i++)
			snprintf(md5hex + 2 * i, 3, "%02x", md[i]);
	} else {
		rc = -1;
	}
	EVP_MD_CTX_free(e->o.md);
	e->o.md = NULL;
	*ntasks = e->ntasks;
	if (rc != 0 || e->o.failed) {
		log_error("snapshot: project %lld failed after %d tasks", (long long)project_id, e->ntasks);
		return -1;
	}
	return 0;
}
