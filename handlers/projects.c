/* projects.c — projects of the caller's organization: CRUD, the list and its counts, label-config
 * validation (alone, and against what a project's annotations use), the summary and its repair,
 * sample tasks, model versions and annotators.
 *
 * Every project is looked up with the caller's organization in the WHERE clause, so another
 * organization's project is "Not found." on every method and nothing changes. Counters are read
 * from the columns the writes keep (sql/0003_projects.sql); no read path scans tasks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "labelconfig.h"
#include "log.h"
#include "page.h"
#include "reply.h"
#include "shared.h"

/* The columns of PRJ_COLS (app/stmts_projects.h), in order. */
enum prj_col {
	C_ID, C_TITLE, C_DESCRIPTION, C_LABEL_CONFIG, C_EXPERT, C_SHOW_INSTRUCTION, C_SHOW_SKIP,
	C_EMPTY_ANNOTATION, C_HISTORY, C_ORG, C_COLOR, C_MAX_ANNOTATIONS, C_PUBLISHED,
	C_MODEL_VERSION, C_DRAFT, C_CREATED_BY, C_CREATED_AT, C_MIN_TRAINING, C_START_TRAINING,
	C_COLLAB, C_WITH_ANNOTATIONS, C_TASK_NUMBER, C_USEFUL, C_GROUND_TRUTH, C_SKIPPED,
	C_TOTAL_ANNOTATIONS, C_TOTAL_PREDICTIONS, C_SAMPLING, C_GT_FIRST, C_OVERLAP_FIRST,
	C_COHORT, C_LOGIN, C_WEIGHTS, C_PARSED, C_EVAL_AUTO, C_SKIP_QUEUE, C_REVEAL, C_PINNED_AT,
	C_FINISHED, C_U_FIRST, C_U_LAST, C_U_EMAIL, C_U_AVATAR, C_PINNED_RAW, C__COUNT
};
_Static_assert(C__COUNT == PRJ_NCOLS, "enum prj_col must follow PRJ_COLS");

/* The counters a client may ask for with ?include= (the others then come back null, as in
 * Label Studio, which only annotates the requested counts). */
static const struct {
	const char *name;
	int col;
} counters[] = {
	{ "task_number", C_TASK_NUMBER },
	{ "finished_task_number", C_FINISHED },
	{ "total_predictions_number", C_TOTAL_PREDICTIONS },
	{ "total_annotations_number", C_TOTAL_ANNOTATIONS },
	{ "num_tasks_with_annotations", C_WITH_ANNOTATIONS },
	{ "useful_annotation_number", C_USEFUL },
	{ "ground_truth_number", C_GROUND_TRUTH },
	{ "skipped_annotations_number", C_SKIPPED },
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static const char *const samplings[] = {
	"Sequential sampling", "Uniform sampling", "Uncertainty sampling", NULL
};
static const char *const skip_queues[] = {
	"REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED", NULL
};

#define NO_CONFIG "Label config is not set or is empty"

/* --- small helpers ------------------------------------------------------------------------ */

static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void
err_add(struct json_object *errs, const char *key, const char *msg)
{
	struct json_object *l;

	if (json_object_object_get_ex(errs, key, NULL))
		return;
	l = json_object_new_array();
	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, key, l);
}

static struct json_object *
one_error(const char *key, const char *msg)
{
	struct json_object *o = json_object_new_object();

	err_add(o, key, msg);
	return o;
}

/* Label Studio answers a bare ValidationError("msg") as validation_errors.non_field_errors. */
static int
fail_plain(struct req *r, const char *msg)
{
	return req_fail_validation(r, one_error("non_field_errors", msg));
}

static int
truthy(const char *s)
{
	return s != NULL && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0);
}

/* A LIKE pattern for "contains s", escaped with '!'; NULL when s is NULL or empty. */
static const char *
like_contains(struct req *r, const char *s)
{
	char *out, *o;

	if (s == NULL || *s == '\0')
		return NULL;
	out = o = req_alloc(r, 2 * strlen(s) + 3);
	*o++ = '%';
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '!')
			*o++ = '!';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* --- reading the writable fields ------------------------------------------------------------ */

/* Every writable field of a project. Strings are borrowed from the body or the row. */
struct prj_in {
	const char *title, *description, *label_config, *parsed, *expert, *color, *model_version,
	    *sampling, *login, *password, *weights, *skip_queue, *pinned_at;
	int show_instruction, show_skip, empty_annotation, history, published, draft,
	    start_training, collab, gt_first, overlap_first, eval_auto, reveal;
	int64_t max_annotations, min_training, cohort;
};

static void
in_defaults(struct prj_in *in)
{
	memset(in, 0, sizeof(*in));
	in->title = "";
	in->description = "";
	in->label_config = "<View></View>";
	in->expert = "";
	in->color = "#FFFFFF";
	in->model_version = "";
	in->sampling = samplings[0];
	in->skip_queue = "REQUEUE_FOR_OTHERS";
	in->show_skip = 1;
	in->empty_annotation = 1;
	in->collab = 1;
	in->max_annotations = 1;
	in->cohort = 100;
}

static void
in_from_row(struct prj_in *in, const struct db_row *row, const char *password)
{
#define S(col) (db_null(row, col) ? NULL : db_str(row, col))
#define B(col) (db_int(row, col) != 0)
	in->title = S(C_TITLE);
	in->description = S(C_DESCRIPTION);
	in->label_config = db_str(row, C_LABEL_CONFIG);
	in->parsed = db_str(row, C_PARSED);
	in->expert = S(C_EXPERT);
	in->color = db_str(row, C_COLOR);
	in->model_version = S(C_MODEL_VERSION);
	in->sampling = db_str(row, C_SAMPLING);
	in->login = S(C_LOGIN);
	in->password = password;
	in->weights = S(C_WEIGHTS);
	in->skip_queue = db_str(row, C_SKIP_QUEUE);
	in->pinned_at = S(C_PINNED_RAW);
	in->show_instruction = B(C_SHOW_INSTRUCTION);
	in->show_skip = B(C_SHOW_SKIP);
	in->empty_annotation = B(C_EMPTY_ANNOTATION);
	in->history = B(C_HISTORY);
	in->published = B(C_PUBLISHED);
	in->draft = B(C_DRAFT);
	in->start_training = B(C_START_TRAINING);
	in->collab = B(C_COLLAB);
	in->gt_first = B(C_GT_FIRST);
	in->overlap_first = B(C_OVERLAP_FIRST);
	in->eval_auto = B(C_EVAL_AUTO);
	in->reveal = B(C_REVEAL);
	in->max_annotations = db_int(row, C_MAX_ANNOTATIONS);
	in->min_training = db_int(row, C_MIN_TRAINING);
	in->cohort = db_int(row, C_COHORT);
#undef S
#undef B
}

/* A string field (DRF CharField: numbers are taken as their text). max 0: no limit. */
static void
read_str(struct req *r, struct json_object *errs, const char *key, size_t max, int nullable,
    const char **out)
{
	struct json_object *v;
	char buf[96];

	if (!json_object_object_get_ex(r->json, key, &v))
		return;
	if (v == NULL) {
		if (nullable)
			*out = NULL;
		else
			err_add(errs, key, "This field may not be null.");
		return;
	}
	if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)) {
		err_add(errs, key, "Not a valid string.");
		return;
	}
	if (max > 0 && utf8_len(json_object_get_string(v)) > max) {
		snprintf(buf, sizeof(buf), "Ensure this field has no more than %zu characters.", max);
		err_add(errs, key, buf);
		return;
	}
	*out = json_object_get_string(v);
}

/* A boolean field, with the spellings DRF's BooleanField accepts. */
static void
read_bool(struct req *r, struct json_object *errs, const char *key, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "1", "yes", "Yes", "on", "y", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "0", "no", "No", "off", "n", NULL };
	struct json_object *v;

	if (!json_object_object_get_ex(r->json, key, &v))
		return;
	if (v == NULL) {
		err_add(errs, key, "This field may not be null.");
		return;
	}
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return;
	}
	if (json_object_is_type(v, json_type_int) &&
	    (json_object_get_int64(v) == 0 || json_object_get_int64(v) == 1)) {
		*out = (int)json_object_get_int64(v);
		return;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		for (int i = 0; yes[i]; i++)
			if (strcmp(s, yes[i]) == 0) {
				*out = 1;
				return;
			}
		for (int i = 0; no[i]; i++)
			if (strcmp(s, no[i]) == 0) {
				*out = 0;
				return;
			}
	}
	err_add(errs, key, "Must be a valid boolean.");
}

/* An integer field within [min, max] (DRF IntegerField: "5" and 5.0 are integers too). */
static void
read_int(struct req *r, struct json_object *errs, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object *v;
	int64_t n;
	char buf[96], *end;

	if (!json_object_object_get_ex(r->json, key, &v))
		return;
	if (v == NULL) {
		err_add(errs, key, "This field may not be null.");
		return;
	}
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double) &&
	    json_object_get_double(v) == (double)(int64_t)json_object_get_double(v)) {
		n = (int64_t)json_object_get_double(v);
	} else if (json_object_is_type(v, json_type_string) && *json_object_get_string(v) != '\0') {
		n = strtoll(json_object_get_string(v), &end, 10);
		if (*end != '\0') {
			err_add(errs, key, "A valid integer is required.");
			return;
		}
	} else {
		err_add(errs, key, "A valid integer is required.");
		return;
	}
	if (n < min) {
		snprintf(buf, sizeof(buf), "Ensure this value is greater than or equal to %lld.", (long long)min);
		err_add(errs, key, buf);
	} else if (n > max) {
		snprintf(buf, sizeof(buf), "Ensure this value is less than or equal to %lld.", (long long)max);
		err_add(errs, key, buf);
	} else {
		*out = n;
	}
}

static void
read_choice(struct req *r, struct json_object *errs, const char *key, const char *const *choices,
    const char **out)
{
	const char *s = NULL;
	char buf[160];

	if (!json_object_object_get_ex(r->json, key, NULL))
		return;
	read_str(r, errs, key, 0, 0, &s);
	if (s == NULL)
		return;
	for (int i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0) {
			*out = choices[i];
			return;
		}
	snprintf(buf, sizeof(buf), "\"%.100s\" is not a valid choice.", s);
	err_add(errs, key, buf);
}

/* Parses ISO 8601 as DRF's DateTimeField does (naive times are UTC) into MariaDB's
 * "YYYY-MM-DD HH:MM:SS.ffffff" in UTC. 0, or -1 when malformed. */
static int
parse_datetime(struct req *r, const char *s, const char **out)
{
	struct tm tm, utc;
	int y, mo, d, h, mi, sec = 0, n = 0, usec = 0, off = 0;
	time_t t;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != ':' ||
	    !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	mi = (p[3] - '0') * 10 + (p[4] - '0');
	p += 5;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return -1;
		sec = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		if (*p == '.' || *p == ',') {
			int digits = 0;

			for (p++; isdigit((unsigned char)*p); p++, digits++)
				if (digits < 6)
					usec = usec * 10 + (*p - '0');
			if (digits == 0)
				return -1;
			for (; digits < 6; digits++)
				usec *= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om = 0;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return -1;
		oh = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
			om = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -1;
	/* timegm normalizes 31 February into March: refuse such dates. */
	if (gmtime_r(&t, &utc) == NULL || utc.tm_mday != d)
		return -1;
	t -= off;
	if (gmtime_r(&t, &utc) == NULL || utc.tm_year + 1900 < 1 || utc.tm_year + 1900 > 9999)
		return -1;
	*out = req_printf(r, "%04d-%02d-%02d %02d:%02d:%02d.%06d", utc.tm_year + 1900, utc.tm_mon + 1,
	    utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, usec);
	return 0;
}

/* Reads every writable field present in the body over in (defaults or the stored row), adding
 * DRF-style messages to errs. *config_given tells whether label_config was sent. */
static void
read_fields(struct req *r, struct json_object *errs, struct prj_in *in, int *config_given)
{
	struct json_object *v;
	const char *s;

	read_str(r, errs, "title", 50, 1, &in->title);
	if (in->title != NULL && *in->title != '\0' && utf8_len(in->title) < 3)
		err_add(errs, "title", "Ensure this field has at least 3 characters.");
	read_str(r, errs, "description", 0, 1, &in->description);
	read_str(r, errs, "expert_instruction", 0, 1, &in->expert);
	read_bool(r, errs, "show_instruction", &in->show_instruction);
	read_bool(r, errs, "show_skip_button", &in->show_skip);
	read_bool(r, errs, "enable_empty_annotation", &in->empty_annotation);
	read_bool(r, errs, "show_annotation_history", &in->history);
	s = NULL;
	read_str(r, errs, "color", 16, 0, &s);
	if (s != NULL) {
		int ok = strlen(s) == 7 && s[0] == '#';

		for (int i = 1; ok && i < 7; i++)
			ok = isxdigit((unsigned char)s[i]) != 0;
		if (ok)
			in->color = s;
		else
			err_add(errs, "color", "Color must be in \"#RRGGBB\" format");
	}
	read_int(r, errs, "maximum_annotations", 1, 2147483647, &in->max_annotations);
	read_bool(r, errs, "is_published", &in->published);
	read_str(r, errs, "model_version", 0, 1, &in->model_version);
	read_bool(r, errs, "is_draft", &in->draft);
	read_int(r, errs, "min_annotations_to_start_training", 0, 2147483647, &in->min_training);
	read_bool(r, errs, "start_training_on_annotation_update", &in->start_training);
	read_bool(r, errs, "show_collab_predictions", &in->collab);
	read_choice(r, errs, "sampling", samplings, &in->sampling);
	read_bool(r, errs, "show_ground_truth_first", &in->gt_first);
	read_bool(r, errs, "show_overlap_first", &in->overlap_first);
	read_int(r, errs, "overlap_cohort_percentage", 0, 100, &in->cohort);
	read_str(r, errs, "task_data_login", 256, 1, &in->login);
	read_str(r, errs, "task_data_password", 256, 1, &in->password);
	read_bool(r, errs, "evaluate_predictions_automatically", &in->eval_auto);
	read_choice(r, errs, "skip_queue", skip_queues, &in->skip_queue);
	read_bool(r, errs, "reveal_preannotations_interactively", &in->reveal);
	if (json_object_object_get_ex(r->json, "control_weights", &v)) {
		if (v == NULL)
			in->weights = NULL;
		else if (json_object_is_type(v, json_type_object))
			in->weights = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		else
			err_add(errs, "control_weights", req_printf(r,
			    "Expected a dictionary of items but got type \"%s\".", jpy_type(v)));
	}
	if (json_object_object_get_ex(r->json, "pinned_at", &v)) {
		if (v == NULL)
			in->pinned_at = NULL;
		else if (!json_object_is_type(v, json_type_string) ||
		    parse_datetime(r, json_object_get_string(v), &in->pinned_at) != 0)
			err_add(errs, "pinned_at", "Datetime has wrong format. Use one of these formats "
			    "instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
	}
	*config_given = json_object_object_get_ex(r->json, "label_config", &v);
	if (*config_given) {
		if (v == NULL)
			err_add(errs, "label_config", "This field may not be null.");
		else if (!json_object_is_type(v, json_type_string))
			err_add(errs, "label_config", "Not a valid string.");
		else
			in->label_config = json_object_get_string(v);
	}
}

static void
config_free(void *c)
{
	lc_free(c);
}

/* Parses a config for a write, freed at req_end. NULL with the message in err. */
static struct labelconfig *
parse_config(struct req *r, const char *xml, char *err, size_t errsz)
{
	struct labelconfig *c = lc_parse(xml, strlen(xml), err, errsz);

	if (c != NULL)
		req_defer(r, config_free, c);
	return c;
}

/* Label Studio's control_weights for a config: {control: {"overall", "type", "labels": {label:
 * weight}}}, keeping the weights of base (a JSON object text, or NULL) where it has them. */
static const char *
weights_for(struct req *r, const struct labelconfig *c, const char *base_text)
{
	struct json_object *base = NULL, *out = req_own(r, json_object_new_object());

	if (base_text != NULL)
		base = req_own(r, json_tokener_parse(base_text));
	for (size_t i = 0; i < lc_ncontrols(c); i++) {
		const char *name = lc_control_name(c, i);
		struct json_object *w = json_object_new_object(), *labels = json_object_new_object();
		struct json_object *old = NULL, *oldlabels = NULL, *x;

		if (json_object_is_type(base, json_type_object) &&
		    json_object_object_get_ex(base, name, &old) && json_object_is_type(old, json_type_object))
			json_object_object_get_ex(old, "labels", &oldlabels);
		else
			old = NULL;
		if (old != NULL && json_object_object_get_ex(old, "overall", &x) && x != NULL)
			json_object_object_add(w, "overall", json_object_get(x));
		else
			json_object_object_add(w, "overall", json_object_new_double(1.0));
		jadd_str(w, "type", lc_control_type(c, i));
		for (size_t j = 0; j < lc_control_nlabels(c, i); j++) {
			const char *label = lc_control_label(c, i, j);

			if (json_object_is_type(oldlabels, json_type_object) &&
			    json_object_object_get_ex(oldlabels, label, &x) && x != NULL)
				json_object_object_add(labels, label, json_object_get(x));
			else
				json_object_object_add(labels, label, json_object_new_double(1.0));
		}
		json_object_object_add(w, "labels", labels);
		json_object_object_add(out, name, w);
	}
	return req_strdup(r, json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
}

/* --- the project object --------------------------------------------------------------------- */

/* Label Studio's config_suitable_for_bulk_annotation, from parsed_label_config: no region-making
 * control, and no Choices/Taxonomy whose options come from the data or an API. (perRegion/perItem
 * attributes are not in parsed_label_config and are not checked.) */
static int
bulk_suitable(struct json_object *parsed)
{
	static const char *const regions[] = {
		"Labels", "Brush", "BrushLabels", "Ellipse", "EllipseLabels", "KeyPoint",
		"KeyPointLabels", "Polygon", "PolygonLabels", "Rectangle", "RectangleLabels",
		"HyperTextLabels", "ParagraphLabels", "TimeSeriesLabels", "VideoRectangle", NULL
	};

	if (!json_object_is_type(parsed, json_type_object))
		return 1;
	json_object_object_foreach(parsed, name, ctl) {
		struct json_object *t, *dyn;
		const char *type;

		(void)name;
		if (!json_object_object_get_ex(ctl, "type", &t))
			continue;
		type = json_object_get_string(t);
		for (int i = 0; regions[i]; i++)
			if (strcmp(type, regions[i]) == 0)
				return 0;
		if ((strcmp(type, "Choices") == 0 || strcmp(type, "Taxonomy") == 0) &&
		    json_object_object_get_ex(ctl, "dynamic_labels", &dyn) && json_object_get_boolean(dyn))
			return 0;
	}
	return 1;
}

/* include: the ?include= list (NULL: every counter). */
static int
counter_wanted(const char *include, const char *name)
{
	size_t n = strlen(name);
	const char *p = include;

	if (include == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == include || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void
add_counter(struct json_object *o, const struct db_row *row, const char *include, const char *name,
    int col)
{
	jadd_int_or_null(o, name, db_int(row, col), !counter_wanted(include, name));
}

static struct json_object *
parse_json_col(const struct db_row *row, int col)
{
	if (db_null(row, col))
		return NULL;
	return json_tokener_parse(db_str(row, col));
}

static struct json_object *
project_to_json(const struct db_row *row, const char *include)
{
	struct json_object *o = json_object_new_object(), *parsed, *user;
#define S(col) (db_null(row, col) ? NULL : db_str(row, col))

	jadd_int(o, "id", db_int(row, C_ID));
	jadd_str(o, "title", S(C_TITLE));
	jadd_str(o, "description", S(C_DESCRIPTION));
	jadd_str(o, "label_config", db_str(row, C_LABEL_CONFIG));
	jadd_str(o, "expert_instruction", S(C_EXPERT));
	jadd_bool(o, "show_instruction", db_int(row, C_SHOW_INSTRUCTION));
	jadd_bool(o, "show_skip_button", db_int(row, C_SHOW_SKIP));
	jadd_bool(o, "enable_empty_annotation", db_int(row, C_EMPTY_ANNOTATION));
	jadd_bool(o, "show_annotation_history", db_int(row, C_HISTORY));
	jadd_int(o, "organization", db_int(row, C_ORG));
	jadd_str(o, "color", db_str(row, C_COLOR));
	jadd_int(o, "maximum_annotations", db_int(row, C_MAX_ANNOTATIONS));
	jadd_bool(o, "is_published", db_int(row, C_PUBLISHED));
	jadd_str(o, "model_version", S(C_MODEL_VERSION));
	jadd_bool(o, "is_draft", db_int(row, C_DRAFT));
	if (db_null(row, C_CREATED_BY)) {
		jadd_null(o, "created_by");
	} else {
		user = json_object_new_object();
		jadd_int(user, "id", db_int(row, C_CREATED_BY));
		jadd_str(user, "first_name", db_str(row, C_U_FIRST));
		jadd_str(user, "last_name", db_str(row, C_U_LAST));
		jadd_str(user, "email", db_str(row, C_U_EMAIL));
		jadd_str(user, "avatar", S(C_U_AVATAR));
		json_object_object_add(o, "created_by", user);
	}
	jadd_str(o, "created_at", db_str(row, C_CREATED_AT));
	jadd_int(o, "min_annotations_to_start_training", db_int(row, C_MIN_TRAINING));
	jadd_bool(o, "start_training_on_annotation_update", db_int(row, C_START_TRAINING));
	jadd_bool(o, "show_collab_predictions", db_int(row, C_COLLAB));
	add_counter(o, row, include, "num_tasks_with_annotations", C_WITH_ANNOTATIONS);
	add_counter(o, row, include, "task_number", C_TASK_NUMBER);
	add_counter(o, row, include, "useful_annotation_number", C_USEFUL);
	add_counter(o, row, include, "ground_truth_number", C_GROUND_TRUTH);
	add_counter(o, row, include, "skipped_annotations_number", C_SKIPPED);
	add_counter(o, row, include, "total_annotations_number", C_TOTAL_ANNOTATIONS);
	add_counter(o, row, include, "total_predictions_number", C_TOTAL_PREDICTIONS);
	jadd_str(o, "sampling", db_str(row, C_SAMPLING));
	jadd_bool(o, "show_ground_truth_first", db_int(row, C_GT_FIRST));
	jadd_bool(o, "show_overlap_first", db_int(row, C_OVERLAP_FIRST));
	jadd_int(o, "overlap_cohort_percentage", db_int(row, C_COHORT));
	jadd_str(o, "task_data_login", S(C_LOGIN));
	jadd_null(o, "task_data_password");     /* a credential: never sent back */
	json_object_object_add(o, "control_weights", parse_json_col(row, C_WEIGHTS));
	parsed = parse_json_col(row, C_PARSED);
	if (!json_object_is_type(parsed, json_type_object)) {
		json_object_put(parsed);
		parsed = json_object_new_object();
	}
	json_object_object_add(o, "parsed_label_config", parsed);
	jadd_bool(o, "evaluate_predictions_automatically", db_int(row, C_EVAL_AUTO));
	jadd_bool(o, "config_has_control_tags", json_object_object_length(parsed) > 0);
	jadd_str(o, "skip_queue", db_str(row, C_SKIP_QUEUE));
	jadd_bool(o, "reveal_preannotations_interactively", db_int(row, C_REVEAL));
	jadd_str(o, "pinned_at", S(C_PINNED_AT));
	add_counter(o, row, include, "finished_task_number", C_FINISHED);
	/* Label Studio counts these per caller with a scan of tasks and annotations; the stored
	 * counters say the same for a single annotator and keep reads cheap. */
	jadd_int_or_null(o, "queue_total", db_int(row, C_TASK_NUMBER), !counter_wanted(include, "task_number"));
	jadd_int_or_null(o, "queue_done", db_int(row, C_FINISHED), !counter_wanted(include, "finished_task_number"));
	jadd_bool(o, "config_suitable_for_bulk_annotation", bulk_suitable(parsed));
#undef S
	return o;
}

/* Loads a project of the caller's organization (PRJ_COLS). 1, 0 (not found) or -1. */
static int
load_project(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0 || r->who.org_id <= 0)
		return 0;
	return db_row(r, row, STMT_PRJ_GET, "ii", id, r->who.org_id);
}

/* The ?include= list, or NULL for everything. */
static const char *
include_param(struct req *r)
{
	const char *inc = req_query(r, "include");

	return inc != NULL && *inc != '\0' ? inc : NULL;
}

static int
reply_project(struct req *r, int status, int64_t id)
{
	struct db_row row;
	int rc = load_project(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, status, project_to_json(&row, include_param(r)));
}

/* --- the config against what annotations use ---------------------------------------------- */

struct used_label {
	const char *label;
	int64_t annotations, drafts;
};

static const char *
display_counts(struct req *r, int64_t ann, int64_t drafts)
{
	if (ann && drafts)
		return req_printf(r, "%lld annotation%s, %lld draft%s", (long long)ann, ann > 1 ? "s" : "",
		    (long long)drafts, drafts > 1 ? "s" : "");
	if (ann)
		return req_printf(r, "%lld annotation%s", (long long)ann, ann > 1 ? "s" : "");
	return req_printf(r, "%lld draft%s", (long long)drafts, drafts > 1 ? "s" : "");
}

/* The result type of an item matches the control's tag lowercased, or its labels/shape twin
 * (rectanglelabels <-> rectangle). */
static int
type_matches(const char *type, const char *ctl_type)
{
	size_t a = strlen(type), b = strlen(ctl_type);

	if (strcasecmp(type, ctl_type) == 0)
		return 1;
	if (a == b + 6 && strncasecmp(type, ctl_type, b) == 0 && strcasecmp(type + b, "labels") == 0)
		return 1;
	return b == a + 6 && strncasecmp(type, ctl_type, a) == 0 && strcasecmp(ctl_type + a, "labels") == 0;
}

/* Every comma-separated part of to_name is a toName of control i. */
static int
to_matches(struct req *r, const struct labelconfig *c, size_t i, const char *to_name)
{
	char *copy = req_strdup(r, to_name), *save = NULL;

	for (char *part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save))
		if (!lc_control_has_to(c, i, part))
			return 0;
	return 1;
}

static int
config_has_type(const struct labelconfig *c, const char *type)
{
	for (size_t i = 0; i < lc_ncontrols(c); i++)
		if (strcmp(lc_control_type(c, i), type) == 0)
			return 1;
	return 0;
}

static int
label_known(const struct labelconfig *c, int ctl, int any_control, const char *label)
{
	if (lc_control_has_label(c, (size_t)ctl, label))
		return 1;
	if (any_control)
		for (size_t i = 0; i < lc_ncontrols(c); i++)
			if (lc_control_has_label(c, i, label))
				return 1;
	return 0;
}

/* Checks config c against what the project's annotations and drafts use, read from label_usage
 * (Label Studio's Project.validate_config): (1) every used (from_name, to_name, type) still exists,
 * textarea excepted; (2) no control whose labels are used is removed; (3) labels in use stay in
 * their control's list, dynamic-label controls excepted. (1) and (2) are errors in both modes, as
 * in Label Studio; (3) is an error when strict and only logged otherwise (a PATCH).
 * Returns 0 (compatible), 1 with *msg set (arena-owned), or -1 on a database error. */
static int
config_check_usage(struct req *r, int64_t project_id, const struct labelconfig *c, int strict,
    const char **msg)
{
	struct db_rows rows;
	char *bad = NULL;
	int video = config_has_type(c, "VideoRectangle");

	if (db_rows(r, &rows, STMT_PRJ_USAGE, "i", project_id) != 0)
		return -1;
	/* (1) the triples, counted over annotations (drafts are not checked, as in Label Studio) */
	for (size_t k = 0; k < rows.n; k++) {
		const struct db_row *u = &rows.rows[k];
		const char *from = db_str(u, 0), *to = db_str(u, 1), *type = db_str(u, 2);
		int i;

		if (*db_str(u, 3) != '\0' || db_int(u, 4) <= 0 || strcasecmp(type, "textarea") == 0)
			continue;
		i = lc_find_control(c, from);
		if (i >= 0 && to_matches(r, c, (size_t)i, to) && type_matches(type, lc_control_type(c, (size_t)i)))
			continue;
		bad = req_printf(r, "%s%s%lld with from_name=%s, to_name=%s, type=%s", bad ? bad : "",
		    bad ? "\n" : "", (long long)db_int(u, 4), from, to, type);
	}
	if (bad != NULL) {
		*msg = req_printf(r, "Created annotations are incompatible with provided labeling schema, "
		    "we found:\n%s", bad);
		return 1;
	}
	/* (2) and (3), one control (from_name) at a time: rows come sorted by from_name */
	for (size_t k = 0; k < rows.n;) {
		const char *from = db_str(&rows.rows[k], 0);
		struct used_label *used = req_alloc(r, rows.n * sizeof(*used));
		size_t nused = 0, end = k;
		int64_t total = 0;
		int ctl;
		char *diff = NULL;

		for (; end < rows.n && strcmp(db_str(&rows.rows[end], 0), from) == 0; end++) {
			const struct db_row *u = &rows.rows[end];
			const char *label = db_str(u, 3);
			size_t j;

			if (*label == '\0')
				continue;
			for (j = 0; j < nused && strcmp(used[j].label, label) != 0; j++)
				;
			if (j == nused) {
				used[nused].label = label;
				used[nused].annotations = used[nused].drafts = 0;
				nused++;
			}
			used[j].annotations += db_int(u, 4);
			used[j].drafts += db_int(u, 5);
			total += db_int(u, 4) + db_int(u, 5);
		}
		k = end;
		if (nused == 0)
			continue;
		ctl = lc_find_control(c, from);
		if (ctl < 0) {
			*msg = req_printf(r, "There are %lld annotation(s) created with tag \"%s\", "
			    "you can't remove it", (long long)total, from);
			return 1;
		}
		if (lc_control_dynamic(c, (size_t)ctl))
			continue;
		for (size_t j = 0; j < nused; j++)
			if (!label_known(c, ctl, video, used[j].label))
				diff = req_printf(r, "%s%s (%s)\n", diff ? diff : "", used[j].label,
				    display_counts(r, used[j].annotations, used[j].drafts));
		if (diff == NULL)
			continue;
		if (strict) {
			*msg = req_printf(r, "These labels still exist in annotations or drafts:\n%s"
			    "Please add labels to tag with name=\"%s\".", diff, from);
			return 1;
		}
		log_info("project %lld: labels of \"%s\" in use but not in the new config: %s",
		    (long long)project_id, from, diff);
	}
	return 0;
}

/* --- list and counts ------------------------------------------------------------------------ */

struct list_filter {
	const char *ids, *title, *search;
	int64_t pinned;
	enum stmt_id page_stmt;
};

/* Reads ids, title, search, filter and ordering. 0, or the status sent (400 on bad ids). */
static int
list_filter_parse(struct req *r, struct list_filter *f)
{
	static const struct {
		const char *name;
		enum stmt_id id;
	} orderings[] = {
		{ "id", STMT_PRJ_PAGE_ID }, { "-id", STMT_PRJ_PAGE_ID_DESC },
		{ "title", STMT_PRJ_PAGE_TITLE }, { "-title", STMT_PRJ_PAGE_TITLE_DESC },
		{ "created_at", STMT_PRJ_PAGE_CREATED }, { "-created_at", STMT_PRJ_PAGE_CREATED_DESC },
		{ "pinned_at", STMT_PRJ_PAGE_PINNED }, { "-pinned_at", STMT_PRJ_PAGE_PINNED_DESC },
	};
	const char *ids = req_query(r, "ids"), *filter = req_query(r, "filter");
	const char *ordering = req_query(r, "ordering");

	memset(f, 0, sizeof(*f));
	if (ids != NULL && *ids != '\0') {
		char *norm = req_alloc(r, strlen(ids) + 1), *o = norm;
		const char *p = ids;

		while (*p) {
			const char *start;

			while (*p == ' ')
				p++;
			start = p;
			while (isdigit((unsigned char)*p))
				p++;
			if (p == start || p - start > 18)
				return req_fail_field(r, "ids", "Enter a whole number.");
			if (o != norm)
				*o++ = ',';
			while (*start == '0' && start + 1 < p)
				start++;
			memcpy(o, start, (size_t)(p - start));
			o += p - start;
			while (*p == ' ')
				p++;
			if (*p == ',')
				p++;
			else if (*p != '\0')
				return req_fail_field(r, "ids", "Enter a whole number.");
		}
		*o = '\0';
		f->ids = o != norm ? norm : NULL;
	}
	f->title = like_contains(r, req_query(r, "title"));
	f->search = like_contains(r, req_query(r, "search"));
	if (filter != NULL && strcmp(filter, "pinned_only") == 0)
		f->pinned = 1;
	else if (filter != NULL && strcmp(filter, "exclude_pinned") == 0)
		f->pinned = 2;
	f->page_stmt = STMT_PRJ_PAGE_DEFAULT;
	if (ordering != NULL) {
		/* DRF takes a comma list and ignores unknown names; we order by the first known one. */
		char *copy = req_strdup(r, ordering), *save = NULL;

		for (char *t = strtok_r(copy, ",", &save); t != NULL && f->page_stmt == STMT_PRJ_PAGE_DEFAULT;
		    t = strtok_r(NULL, ",", &save))
			for (size_t i = 0; i < sizeof(orderings) / sizeof(orderings[0]); i++)
				if (strcmp(t, orderings[i].name) == 0)
					f->page_stmt = orderings[i].id;
	}
	return 0;
}

#define FILTER_ARGS(f) \
	r->who.org_id, (f)->ids, (f)->ids, (f)->title, (f)->title, (f)->search, (f)->search, \
	(f)->search, (f)->pinned, (f)->pinned

/* The list and the counts share filters, order and pagination; counts_only picks the shape. */
static int
list_projects(struct req *r, int counts_only)
{
	struct list_filter f;
	struct page p;
	struct db_row count;
	struct db_rows rows;
	struct json_object *results;
	const char *include;
	int rc;

	if ((rc = list_filter_parse(r, &f)) != 0)
		return rc;
	if ((rc = page_parse(r, &p, 30, 100, 0)) != 0)
		return rc;
	if (db_row(r, &count, STMT_PRJ_COUNT, "isssssssii", FILTER_ARGS(&f)) != 1)
		return req_fail_db(r);
	if ((rc = page_check(r, &p, db_int(&count, 0))) != 0)
		return rc;
	if (db_rows(r, &rows, f.page_stmt, "isssssssiiii", FILTER_ARGS(&f), p.size, p.offset) != 0)
		return req_fail_db(r);
	include = include_param(r);
	results = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		const struct db_row *row = &rows.rows[i];
		struct json_object *o;

		if (!counts_only) {
			json_object_array_add(results, project_to_json(row, include));
			continue;
		}
		o = json_object_new_object();
		jadd_int(o, "id", db_int(row, C_ID));
		for (size_t k = 0; k < NCOUNTERS; k++)
			add_counter(o, row, include, counters[k].name, counters[k].col);
		json_object_array_add(results, o);
	}
	return reply_json(r, 200, page_envelope(r, &p, db_int(&count, 0), results));
}

int
projects_list(struct req *r)
{
	return list_projects(r, 0);
}

int
projects_counts(struct req *r)
{
	return list_projects(r, 1);
}

/* --- create, get, update, delete ------------------------------------------------------------ */

#define IN_FMT "sssssbbbbsibsbibbsbbisssbsbs"
#define IN_ARGS(in) \
	(in)->title, (in)->description, (in)->label_config, (in)->parsed, (in)->expert, \
	(in)->show_instruction, (in)->show_skip, (in)->empty_annotation, (in)->history, (in)->color, \
	(in)->max_annotations, (in)->published, (in)->model_version, (in)->draft, (in)->min_training, \
	(in)->start_training, (in)->collab, (in)->sampling, (in)->gt_first, (in)->overlap_first, \
	(in)->cohort, (in)->login, (in)->password, (in)->weights, (in)->eval_auto, (in)->skip_queue, \
	(in)->reveal, (in)->pinned_at

/* Sets parsed_label_config (and control_weights when asked) from a parsed config. */
static void
in_set_config(struct req *r, struct prj_in *in, const struct labelconfig *c, int weights)
{
	struct json_object *parsed = req_own(r, lc_parsed_json(c));

	in->parsed = req_strdup(r, parsed != NULL ?
	    json_object_to_json_string_ext(parsed, JSON_C_TO_STRING_PLAIN) : "{}");
	if (weights)
		in->weights = weights_for(r, c, in->weights);
}

int
projects_create(struct req *r)
{
	struct json_object *errs = req_own(r, json_object_new_object());
	struct prj_in in;
	struct labelconfig *c = NULL;
	char err[512];
	int config_given;

	if (r->who.org_id <= 0)
		return req_fail(r, 403, "You do not have permission to perform this action.");
	in_defaults(&in);
	read_fields(r, errs, &in, &config_given);
	if (!json_object_object_get_ex(errs, "label_config", NULL)) {
		c = parse_config(r, in.label_config, err, sizeof(err));
		if (c == NULL)
			err_add(errs, "label_config", err);
	}
	if (json_object_object_length(errs) > 0)
		return req_fail_validation(r, json_object_get(errs));
	in_set_config(r, &in, c, 1);
	if (db_exec(r, STMT_PRJ_INSERT, "ii" IN_FMT, r->who.org_id, r->who.user_id, IN_ARGS(&in)) != 1)
		return req_fail_db(r);
	return reply_project(r, 201, db_insert_id());
}

int
projects_get(struct req *r)
{
	return reply_project(r, 200, req_param_id(r, "id"));
}

int
projects_patch(struct req *r)
{
	struct json_object *errs = req_own(r, json_object_new_object());
	int64_t id = req_param_id(r, "id");
	struct db_row row, pw;
	struct prj_in in;
	struct labelconfig *c = NULL;
	const char *msg, *old_skip;
	char err[512];
	int rc, config_given, config_changed;
	int64_t old_max;

	rc = load_project(r, id, &row);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	rc = db_row(r, &pw, STMT_PRJ_PASSWORD, "i", id);
	if (rc < 0)
		return req_fail_db(r);
	in_from_row(&in, &row, rc == 1 && !db_null(&pw, 0) ? db_str(&pw, 0) : NULL);
	old_max = in.max_annotations;
	old_skip = in.skip_queue;
	read_fields(r, errs, &in, &config_given);
	if (config_given && !json_object_object_get_ex(errs, "label_config", NULL)) {
		c = parse_config(r, in.label_config, err, sizeof(err));
		if (c == NULL)
			err_add(errs, "label_config", err);
	}
	if (json_object_object_length(errs) > 0)
		return req_fail_validation(r, json_object_get(errs));
	config_changed = c != NULL && strcmp(in.label_config, db_str(&row, C_LABEL_CONFIG)) != 0;
	if (c != NULL) {
		rc = config_check_usage(r, id, c, 0, &msg);
		if (rc < 0)
			return req_fail_db(r);
		if (rc > 0)
			return req_fail_validation(r, one_error("label_config", msg));
		in_set_config(r, &in, c, config_changed || in.weights == NULL ||
		    strcmp(in.weights, "{}") == 0);
	}
	if (db_begin(r) != 0)
		return req_fail_db(r);
	/* Tasks first, then the project row: the lock order of handlers/shared.h. */
	if ((in.max_annotations != old_max || strcmp(in.skip_queue, old_skip) != 0) &&
	    stats_project_overlap(r, id, (int)in.max_annotations, in.skip_queue) != 0)
		return req_fail_db(r);
	if (db_exec(r, STMT_PRJ_UPDATE, IN_FMT "ii", IN_ARGS(&in), id, r->who.org_id) < 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_project(r, 200, id);
}

int
projects_delete(struct req *r)
{
	int64_t id = req_param_id(r, "id");
	int64_t n;

	if (id <= 0 || r->who.org_id <= 0)
		return req_fail(r, 404, "Not found.");
	/* Tasks, annotations, drafts, predictions, locks and label usage go with it (foreign keys). */
	n = db_exec(r, STMT_PRJ_DELETE, "ii", id, r->who.org_id);
	if (n < 0)
		return req_fail_db(r);
	if (n == 0)
		return req_fail(r, 404, "Not found.");
	return reply_empty(r, 204);
}

/* --- label config validation ---------------------------------------------------------------- */

/* POST /api/projects/validate/ (no auth): DRF's plain {"label_config": [msg]} on 400, not the
 * envelope, as Label Studio answers this route. */
int
projects_validate_config(struct req *r)
{
	struct json_object *v = NULL;
	struct labelconfig *c;
	const char *msg = NULL;
	char err[512];

	if (!json_object_object_get_ex(r->json, "label_config", &v))
		msg = "This field is required.";
	else if (v == NULL)
		msg = "This field may not be null.";
	else if (!json_object_is_type(v, json_type_string))
		msg = "Not a valid string.";
	else if (strspn(json_object_get_string(v), " \t\r\n") == strlen(json_object_get_string(v)))
		msg = "This field may not be blank.";
	if (msg != NULL)
		return reply_json(r, 400, one_error("label_config", msg));
	c = parse_config(r, json_object_get_string(v), err, sizeof(err));
	if (c == NULL)
		return reply_json(r, 400, one_error("label_config", err));
	return reply_empty(r, 204);
}

/* The body's label_config for the routes that require one: the string, or NULL after answering
 * 400 (*status holds what was sent). */
static const char *
body_config(struct req *r, int *status)
{
	struct json_object *v;

	if (!json_object_object_get_ex(r->json, "label_config", &v) ||
	    !json_object_is_type(v, json_type_string) || *json_object_get_string(v) == '\0') {
		*status = fail_plain(r, NO_CONFIG);
		return NULL;
	}
	return json_object_get_string(v);
}

int
projects_validate(struct req *r)
{
	struct project_ref ref;
	const struct labelconfig *old;
	struct labelconfig *c;
	struct json_object *o;
	const char *xml, *msg;
	char err[512];
	int rc = scope_project(r, req_param_id(r, "id"), &ref), status = 0;

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((xml = body_config(r, &status)) == NULL)
		return status;
	c = parse_config(r, xml, err, sizeof(err));
	if (c == NULL)
		return req_fail_field(r, "label_config", "%s", err);
	rc = config_check_usage(r, ref.id, c, 1, &msg);
	if (rc < 0)
		return req_fail_db(r);
	if (rc > 0)
		return fail_plain(r, msg);
	old = scope_config(r, &ref);
	o = json_object_new_object();
	/* Label Studio's function returns True or nothing: null, never false. */
	if (old == NULL || lc_essential_changed(c, old))
		jadd_bool(o, "config_essential_data_has_changed", 1);
	else
		jadd_null(o, "config_essential_data_has_changed");
	/* Not in Label Studio's reply, but SDK 1.0.3 reads the answer as a ProjectLabelConfig whose
	 * label_config is required: echoing it makes projects.validate_config() work. */
	jadd_str(o, "label_config", xml);
	return reply_json(r, 200, o);
}

/* --- summary and its repair --------------------------------------------------------------- */

/* Adds n to obj[a][b] (creating both levels). */
static void
bump(struct json_object *obj, const char *a, const char *b, int64_t n)
{
	struct json_object *inner, *v;

	if (!json_object_object_get_ex(obj, a, &inner)) {
		inner = json_object_new_object();
		json_object_object_add(obj, a, inner);
	}
	if (json_object_object_get_ex(inner, b, &v))
		n += json_object_get_int64(v);
	json_object_object_add(inner, b, json_object_new_int64(n));
}

int
projects_summary(struct req *r)
{
	struct project_ref ref;
	struct db_row s;
	struct db_rows rows;
	struct json_object *o, *cols, *common, *created, *labels, *drafts;
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_row(r, &s, STMT_PRJ_SUMMARY, "i", ref.id) != 1 ||
	    db_rows(r, &rows, STMT_PRJ_USAGE, "i", ref.id) != 0)
		return req_fail_db(r);
	o = json_object_new_object();
	jadd_int(o, "id", ref.id);
	jadd_int(o, "project", ref.id);
	jadd_str(o, "created_at", db_str(&s, 1));
	cols = json_tokener_parse(db_str(&s, 2));
	if (!json_object_is_type(cols, json_type_object)) {
		json_object_put(cols);
		cols = json_object_new_object();
	}
	common = json_object_new_array();
	json_object_object_foreach(cols, key, count)
		if (db_int(&s, 3) > 0 && json_object_get_int64(count) == db_int(&s, 3))
			json_object_array_add(common, json_object_new_string(key));
	json_object_object_add(o, "all_data_columns", cols);
	json_object_object_add(o, "common_data_columns", common);
	created = json_object_new_object();
	labels = json_object_new_object();
	drafts = json_object_new_object();
	for (size_t i = 0; i < rows.n; i++) {
		const struct db_row *u = &rows.rows[i];
		const char *label = db_str(u, 3);

		if (*label == '\0') {
			if (db_int(u, 4) > 0)
				jadd_int(created, req_printf(r, "%s|%s|%s", db_str(u, 0), db_str(u, 1),
				    db_str(u, 2)), db_int(u, 4));
			continue;
		}
		if (db_int(u, 4) > 0)
			bump(labels, db_str(u, 0), label, db_int(u, 4));
		if (db_int(u, 5) > 0)
			bump(drafts, db_str(u, 0), label, db_int(u, 5));
	}
	json_object_object_add(o, "created_annotations", created);
	json_object_object_add(o, "created_labels", labels);
	json_object_object_add(o, "created_labels_drafts", drafts);
	return reply_json(r, 200, o);
}

static int
reset_add_result(void *ctx, const struct db_row *row)
{
	usage_add_text(ctx, db_str(row, 0), +1, (int)db_int(row, 1));
	return 0;
}

/* The repair tool: recomputes every task's and the project's counters and rebuilds label_usage
 * by reading every annotation and draft of the project, in one transaction. It scans; nothing
 * else does. */
int
projects_summary_reset(struct req *r)
{
	struct project_ref ref;
	struct usage *u;
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	/* tasks, then the project row, then label_usage (the lock order of handlers/shared.h) */
	if (db_exec(r, STMT_PRJ_RESET_TASKS, "iii", ref.id, ref.id, ref.id) < 0 ||
	    db_exec(r, STMT_PRJ_RESET_PROJECT, "ii", ref.id, ref.id) < 0 ||
	    db_exec(r, STMT_USAGE_CLEAR, "i", ref.id) < 0)
		return req_fail_db(r);
	u = usage_new(r, ref.id);
	if (db_each(r, reset_add_result, u, STMT_PRJ_RESULTS, "ii", ref.id, ref.id) != 0 ||
	    usage_flush(r, u) != 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 200, json_object_new_object());
}

/* --- sample task, model versions, annotators ------------------------------------------------ */

int
projects_sample_task(struct req *r)
{
	struct project_ref ref;
	struct labelconfig *c;
	struct json_object *v, *task, *o, *data;
	const char *xml;
	char err[512];
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	/* Label Studio requires label_config here; we fall back to the project's own config. */
	xml = ref.label_config;
	if (json_object_object_get_ex(r->json, "label_config", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string))
			return req_fail_field(r, "label_config", "Not a valid string.");
		if (*json_object_get_string(v) != '\0')
			xml = json_object_get_string(v);
	}
	c = parse_config(r, xml, err, sizeof(err));
	if (c == NULL)
		return req_fail_field(r, "label_config", "%s", err);
	data = lc_sample_data(c);
	task = json_object_new_object();
	jadd_int(task, "id", 1);
	json_object_object_add(task, "data", data != NULL ? data : json_object_new_object());
	json_object_object_add(task, "annotations", json_object_new_array());
	json_object_object_add(task, "predictions", json_object_new_array());
	o = json_object_new_object();
	json_object_object_add(o, "sample_task", task);
	return reply_json(r, 200, o);
}

/* A boolean query parameter as DRF's BooleanField reads it: 1 true, 0 false/absent, -1 invalid. */
static int
query_bool(struct req *r, const char *name)
{
	static const char *const no[] = { "false", "False", "FALSE", "0", "no", "off", "n", "", NULL };
	const char *v = req_query(r, name);

	if (v == NULL)
		return 0;
	if (truthy(v) || strcmp(v, "y") == 0)
		return 1;
	for (int i = 0; no[i]; i++)
		if (strcmp(v, no[i]) == 0)
			return 0;
	return -1;
}

int
projects_model_versions(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *out;
	int extended = query_bool(r, "extended"), live = query_bool(r, "include_live_models");
	int64_t limit;
	int bad = 0, rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (extended < 0)
		return req_fail_field(r, "extended", "Must be a valid boolean.");
	if (live < 0)
		return req_fail_field(r, "include_live_models", "Must be a valid boolean.");
	limit = req_query_int(r, "limit", -1, &bad);
	if (bad)
		return req_fail_field(r, "limit", "A valid integer is required.");
	if (db_rows(r, &rows, STMT_PRJ_MODEL_VERSIONS, "i", ref.id) != 0)
		return req_fail_db(r);
	if (limit >= 0 && (size_t)limit < rows.n)
		rows.n = (size_t)limit;
	if (!extended) {
		out = json_object_new_object();
		for (size_t i = 0; i < rows.n; i++)
			jadd_int(out, db_str(&rows.rows[i], 0), db_int(&rows.rows[i], 1));
		return reply_json(r, 200, out);
	}
	out = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		struct json_object *v = json_object_new_object();

		jadd_str(v, "model_version", db_str(&rows.rows[i], 0));
		jadd_int(v, "count", db_int(&rows.rows[i], 1));
		jadd_str(v, "latest", db_str(&rows.rows[i], 2));
		json_object_array_add(out, v);
	}
	if (live) {
		/* No ML backend is connected to anything yet: the live list is empty. */
		struct json_object *both = json_object_new_object();

		json_object_object_add(both, "static", out);
		json_object_object_add(both, "live", json_object_new_array());
		out = both;
	}
	return reply_json(r, 200, out);
}

/* Deletes the predictions of one model version. They count on their tasks and the project, so
 * the tasks are locked first (in id order), the predictions deleted, and each task's counters
 * refreshed, in one transaction. */
int
projects_model_versions_delete(struct req *r)
{
	struct project_ref ref;
	struct db_rows tasks;
	struct json_object *o;
	const char *mv = req_query(r, "model_version");
	int64_t n;
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (mv == NULL || *mv == '\0')
		return fail_plain(r, "model_version param is required");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	if (db_rows(r, &tasks, STMT_PRJ_MV_TASKS_LOCK, "is", ref.id, mv) != 0)
		return req_fail_db(r);
	n = db_exec(r, STMT_PRJ_MV_DELETE, "is", ref.id, mv);
	if (n < 0)
		return req_fail_db(r);
	for (size_t i = 0; i < tasks.n; i++)
		if (stats_task_refresh(r, db_int(&tasks.rows[i], 0)) != 0)
			return req_fail_db(r);
	/* As Label Studio: the project forgets a model version whose predictions are gone. */
	if (db_exec(r, STMT_PRJ_MV_FORGET, "is", ref.id, mv) < 0)
		return req_fail_db(r);
	if (db_commit(r) != 0)
		return req_fail_db(r);
	o = json_object_new_object();
	jadd_int(o, "deleted_predictions", n);
	return reply_json(r, 200, o);
}

int
projects_annotators(struct req *r)
{
	struct project_ref ref;
	struct db_rows rows;
	struct json_object *a;
	int rc = scope_project(r, req_param_id(r, "id"), &ref);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_rows(r, &rows, STMT_PRJ_ANNOTATORS, "i", ref.id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		const struct db_row *u = &rows.rows[i];
		struct json_object *o = json_object_new_object();

		jadd_int(o, "id", db_int(u, 0));
		jadd_str(o, "first_name", db_str(u, 1));
		jadd_str(o, "last_name", db_str(u, 2));
		jadd_str(o, "email", db_str(u, 3));
		jadd_str(o, "avatar", db_null(u, 4) ? NULL : db_str(u, 4));
		json_object_array_add(a, o);
	}
	return reply_json(r, 200, a);
}
