/* The easy export: the format list and its rules, every format's content, the task selection
 * (download_all_tasks, ids[]), Label Studio's file names, byte-identical output across runs,
 * errors, scoping, and a JSON round trip through the import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "e2e.h"

#define TEXT_CONFIG \
	"<View><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"sentiment\\\" toName=\\\"text\\\"><Choice value=\\\"Pos\\\"/><Choice value=\\\"Neg\\\"/></Choices>" \
	"<Labels name=\\\"ner\\\" toName=\\\"text\\\"><Label value=\\\"PER\\\"/><Label value=\\\"LOC\\\"/></Labels></View>"
#define IMAGE_CONFIG \
	"<View><Image name=\\\"image\\\" value=\\\"$image\\\"/>" \
	"<RectangleLabels name=\\\"label\\\" toName=\\\"image\\\"><Label value=\\\"Cat\\\"/><Label value=\\\"Dog\\\"/>" \
	"</RectangleLabels></View>"
#define AUDIO_CONFIG \
	"<View><Audio name=\\\"audio\\\" value=\\\"$audio\\\"/>" \
	"<TextArea name=\\\"transcription\\\" toName=\\\"audio\\\"/></View>"
#define TWO_KEYS_CONFIG \
	"<View><Image name=\\\"image\\\" value=\\\"$image\\\"/><Text name=\\\"text\\\" value=\\\"$text\\\"/>" \
	"<Choices name=\\\"c\\\" toName=\\\"text\\\"><Choice value=\\\"A\\\"/></Choices>" \
	"<RectangleLabels name=\\\"label\\\" toName=\\\"image\\\"><Label value=\\\"Cat\\\"/></RectangleLabels></View>"

#define CHOICE(label) \
	"{\"from_name\":\"sentiment\",\"to_name\":\"text\",\"type\":\"choices\",\"value\":{\"choices\":[\"" label "\"]}}"
#define SPAN(s, e, label) \
	"{\"from_name\":\"ner\",\"to_name\":\"text\",\"type\":\"labels\",\"value\":{\"start\":" #s ",\"end\":" #e \
	",\"text\":\"x\",\"labels\":[\"" label "\"]}}"
#define BOX(x, y, w, h, label) \
	"{\"from_name\":\"label\",\"to_name\":\"image\",\"type\":\"rectanglelabels\",\"original_width\":200," \
	"\"original_height\":100,\"value\":{\"x\":" #x ",\"y\":" #y ",\"width\":" #w ",\"height\":" #h \
	",\"rotation\":0,\"rectanglelabels\":[\"" label "\"]}}"

static char owner[256], stranger[256];
static long long owner_id, stranger_id;

static void
setup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "exp-owner-%s", e2e_unique());
	strcpy(owner, e2e_user(name, "Export org", &owner_id));
	snprintf(name, sizeof(name), "exp-stranger-%s", e2e_unique());
	strcpy(stranger, e2e_user(name, "Export stranger org", &stranger_id));
	cr_assert(owner[0] && stranger[0]);
}

TestSuite(export, .init = setup, .timeout = 120);

static long long
make_project(const char *config)
{
	char body[4096];
	struct resp *r;
	long long id;

	snprintf(body, sizeof(body), "{\"title\":\"export %s\",\"label_config\":\"%s\"}", e2e_unique(), config);
	r = http("POST", "/api/projects/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	id = jint(r->json, "id");
	resp_free(r);
	return id;
}

static void
import(long long pid, const char *body)
{
	char path[128];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/projects/%lld/import", pid);
	r = http("POST", path, owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
}

static struct resp *
get_export(long long pid, const char *query, const char *auth)
{
	char path[512];

	snprintf(path, sizeof(path), "/api/projects/%lld/export%s", pid, query ? query : "");
	return http("GET", path, auth ? auth : owner, NULL, NULL);
}

/* The ids of the project's tasks, in id order. */
static size_t
task_ids(long long pid, long long *ids, size_t max)
{
	char *out = e2e_sql_out("SELECT id FROM tasks WHERE project_id = %lld ORDER BY id", pid);
	size_t n = 0;

	for (char *p = out; *p && n < max; ) {
		ids[n++] = strtoll(p, &p, 10);
		while (*p == '\n')
			p++;
	}
	free(out);
	return n;
}

/* A text project: task 1 annotated (choice + two spans) with a prediction, task 2 skipped only,
 * task 3 untouched. */
static long long
text_project(long long *ids)
{
	long long pid = make_project(TEXT_CONFIG);
	char body[4096];

	snprintf(body, sizeof(body),
	    "[{\"data\":{\"text\":\"Alice lives in Paris.\"},\"annotations\":[{\"result\":[" CHOICE("Pos") ","
	    SPAN(0, 5, "PER") "," SPAN(15, 20, "LOC") "],\"completed_by\":%lld,\"lead_time\":12.5,"
	    "\"ground_truth\":false}],\"predictions\":[{\"result\":[" CHOICE("Neg") "],\"score\":0.5}]},"
	    "{\"data\":{\"text\":\"Skipped one\"},\"annotations\":[{\"result\":[],\"was_cancelled\":true,"
	    "\"completed_by\":%lld}]},"
	    "{\"data\":{\"text\":\"Nobody\"}}]", owner_id, owner_id);
	import(pid, body);
	cr_assert_eq(task_ids(pid, ids, 3), 3);
	return pid;
}

static int
has_format(struct json_object *a, const char *name, int *disabled, size_t *at)
{
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *f = json_object_array_get_idx(a, i);

		if (strcmp(jstr(f, "name"), name) == 0) {
			*disabled = json_object_get_boolean(json_object_object_get(f, "disabled"));
			*at = i;
			return 1;
		}
	}
	return 0;
}

static void
check_formats(long long pid, const char *const *on, const char *const *off)
{
	char path[128];
	struct resp *r;
	int dis, seen_disabled = 0;
	size_t at;

	snprintf(path, sizeof(path), "/api/projects/%lld/export/formats", pid);
	r = http("GET", path, owner, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array));
	for (; *on; on++) {
		cr_assert(has_format(r->json, *on, &dis, &at), "%s missing", *on);
		cr_assert_not(dis, "%s disabled", *on);
	}
	for (; *off; off++) {
		cr_assert(has_format(r->json, *off, &dis, &at), "%s missing", *off);
		cr_assert(dis, "%s enabled", *off);
	}
	/* enabled first, every entry with Label Studio's fields */
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		struct json_object *f = json_object_array_get_idx(r->json, i);

		cr_assert(*jstr(f, "title") && *jstr(f, "description") && *jstr(f, "link"));
		if (json_object_object_get_ex(f, "disabled", NULL))
			seen_disabled = 1;
		else
			cr_assert_not(seen_disabled, "enabled format after a disabled one");
	}
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "name"), "JSON");
	resp_free(r);
}

Test(export, formats_follow_the_config)
{
	const char *text_on[] = { "JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", NULL };
	const char *text_off[] = { "COCO", "VOC", "YOLO", "ASR_MANIFEST", "BRUSH_TO_PNG", NULL };
	const char *img_on[] = { "JSON", "CSV", "COCO", "COCO_WITH_IMAGES", "VOC", "YOLO", NULL };
	const char *img_off[] = { "CONLL2003", "ASR_MANIFEST", NULL };
	const char *audio_on[] = { "ASR_MANIFEST", "JSON_MIN", NULL };
	const char *audio_off[] = { "COCO", "CONLL2003", NULL };
	const char *two_on[] = { "JSON", "JSON_MIN", "CSV", "TSV", NULL };
	const char *two_off[] = { "COCO", "VOC", "YOLO", NULL };
	char path[128];
	struct resp *r;
	long long pid = make_project(TEXT_CONFIG);

	check_formats(pid, text_on, text_off);
	check_formats(make_project(IMAGE_CONFIG), img_on, img_off);
	check_formats(make_project(AUDIO_CONFIG), audio_on, audio_off);
	check_formats(make_project(TWO_KEYS_CONFIG), two_on, two_off);

	snprintf(path, sizeof(path), "/api/projects/%lld/export/formats", pid);
	r = http("GET", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("GET", "/api/projects/999999999/export/formats", owner, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
}

Test(export, json_shape_and_selection)
{
	long long ids[3], pid = text_project(ids);
	struct resp *r = get_export(pid, NULL, NULL);
	struct json_object *t, *a;
	const char *cd, *fn;
	char want[128], q[128];

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array), "%s", r->body);
	/* only tasks with annotations, the skipped one included */
	cr_assert_eq(json_object_array_length(r->json), 2);
	t = json_object_array_get_idx(r->json, 0);
	cr_assert_eq(jint(t, "id"), ids[0]);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 1), "id"), ids[1]);
	cr_assert_str_eq(jstr(t, "data.text"), "Alice lives in Paris.");
	cr_assert_eq(jint(t, "project"), pid);
	cr_assert_eq(jint(t, "inner_id"), 1);
	cr_assert_eq(jint(t, "total_annotations"), 1);
	cr_assert_eq(jint(t, "total_predictions"), 1);
	cr_assert(json_object_is_type(jpath(t, "meta"), json_type_object));
	cr_assert_eq(json_object_array_length(jpath(t, "drafts")), 0);
	/* predictions as ids, completed_by as an int */
	cr_assert_eq(json_object_array_length(jpath(t, "predictions")), 1);
	cr_assert(json_object_is_type(jpath(t, "predictions.0"), json_type_int));
	a = jpath(t, "annotations.0");
	cr_assert_not_null(a);
	cr_assert_eq(jint(a, "completed_by"), owner_id);
	cr_assert_eq(jint(a, "task"), ids[0]);
	cr_assert_str_eq(jstr(a, "result.0.value.choices.0"), "Pos");
	cr_assert_eq(json_object_array_length(jpath(a, "result")), 3);
	cr_assert(json_object_get_double(jpath(a, "lead_time")) == 12.5);
	cr_assert_eq(json_object_get_boolean(jpath(a, "was_cancelled")), 0);
	for (const char *const *k = (const char *const[]){ "id", "completed_by", "result", "was_cancelled",
	    "ground_truth", "created_at", "updated_at", "draft_created_at", "lead_time", "prediction",
	    "result_count", "unique_id", "import_id", "last_action", "bulk_created", "task", "project",
	    "updated_by", "parent_prediction", "parent_annotation", "last_created_by", NULL }; *k; k++)
		cr_assert(json_object_object_get_ex(a, *k, NULL), "annotation lacks %s", *k);
	for (const char *const *k = (const char *const[]){ "id", "annotations", "file_upload", "drafts",
	    "predictions", "data", "meta", "created_at", "updated_at", "inner_id", "total_annotations",
	    "cancelled_annotations", "total_predictions", "comment_count", "unresolved_comment_count",
	    "last_comment_updated_at", "project", "updated_by", "comment_authors", NULL }; *k; k++)
		cr_assert(json_object_object_get_ex(t, *k, NULL), "task lacks %s", *k);
	cr_assert_eq(json_object_get_boolean(jpath(r->json, "1.annotations.0.was_cancelled")), 1);
	/* Label Studio's file name, twice */
	cd = resp_header(r, "Content-Disposition");
	fn = resp_header(r, "filename");
	cr_assert_not_null(cd);
	cr_assert_not_null(fn);
	snprintf(want, sizeof(want), "project-%lld-at-", pid);
	cr_assert(strncmp(fn, want, strlen(want)) == 0, "%s", fn);
	cr_assert_eq(strlen(fn), strlen(want) + strlen("2026-01-01-12-00-") + 8 + strlen(".json"), "%s", fn);
	cr_assert(strstr(fn, ".json") == fn + strlen(fn) - 5);
	snprintf(want, sizeof(want), "attachment; filename=\"%s\"", fn);
	cr_assert_str_eq(cd, want);
	resp_free(r);

	r = get_export(pid, "?exportType=JSON&download_all_tasks=true", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 3);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 2), "id"), ids[2]);
	cr_assert_eq(json_object_array_length(jpath(r->json, "2.annotations")), 0);
	resp_free(r);

	/* ids[]: repeated, or a comma list; still only annotated tasks unless all are asked for */
	snprintf(q, sizeof(q), "?ids[]=%lld&ids[]=%lld", ids[2], ids[1]);
	r = get_export(pid, q, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 0), "id"), ids[1]);
	resp_free(r);
	snprintf(q, sizeof(q), "?ids=%lld,%lld&download_all_tasks=1", ids[2], ids[0]);
	r = get_export(pid, q, NULL);
	cr_assert_eq(json_object_array_length(r->json), 2);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 0), "id"), ids[0]);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 1), "id"), ids[2]);
	resp_free(r);
	/* the export_type spelling; an id of nothing gives an empty list */
	r = get_export(pid, "?export_type=JSON&ids[]=999999999", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(r->body, "[]");
	resp_free(r);
}

Test(export, drafts_are_expanded)
{
	long long ids[3], pid = text_project(ids);
	char path[128];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/tasks/%lld/drafts", ids[0]);
	r = http("POST", path, owner, "{\"result\":[" CHOICE("Neg") "],\"lead_time\":3}", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	r = get_export(pid, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(jpath(r->json, "0.drafts")), 1);
	cr_assert_str_eq(jstr(r->json, "0.drafts.0.result.0.value.choices.0"), "Neg");
	cr_assert_eq(jint(r->json, "0.drafts.0.task"), ids[0]);
	resp_free(r);
}

Test(export, errors_and_scope)
{
	long long ids[3], pid = text_project(ids);
	struct resp *r;

	r = get_export(pid, "?exportType=FOO", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.exportType.0"), "FOO is not supported export format");
	resp_free(r);
	/* listed, but not for this config */
	r = get_export(pid, "?exportType=COCO", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.exportType.0"), "COCO is not supported export format");
	resp_free(r);
	r = get_export(pid, "?export_type=BRUSH_TO_PNG", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.export_type.0"), "BRUSH_TO_PNG is not supported export format");
	resp_free(r);
	r = get_export(pid, "?download_all_tasks=maybe", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.download_all_tasks.0"), "Must be a valid boolean.");
	resp_free(r);
	r = get_export(pid, "?ids[]=abc", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_str_eq(jstr(r->json, "validation_errors.ids.0"), "A valid integer is required.");
	resp_free(r);
	r = get_export(pid, NULL, stranger);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Not found.");
	resp_free(r);
	r = get_export(pid, "?exportType=CSV", stranger);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = get_export(999999999, NULL, NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	r = http("GET", "/api/projects/1/export", NULL, NULL, NULL);
	cr_assert_eq(r->status, 401);
	resp_free(r);
}

/* The annotation of the first exported task, from the JSON export: id and times. */
static void
ann_facts(long long pid, long long *ann_id, char *created, char *updated)
{
	struct resp *r = get_export(pid, NULL, NULL);

	cr_assert_eq(r->status, 200);
	*ann_id = jint(r->json, "0.annotations.0.id");
	strcpy(created, jstr(r->json, "0.annotations.0.created_at"));
	strcpy(updated, jstr(r->json, "0.annotations.0.updated_at"));
	resp_free(r);
}

Test(export, json_min_content)
{
	long long ids[3], pid = text_project(ids), ann;
	char created[64], updated[64], *want;
	struct resp *r;

	ann_facts(pid, &ann, created, updated);
	r = get_export(pid, "?exportType=JSON_MIN&download_all_tasks=true", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	/* task 1: one record; task 2 (only skipped): none; task 3: the data alone */
	cr_assert(asprintf(&want,
	    "[\n{\n  \"text\": \"Alice lives in Paris.\",\n  \"id\": %lld,\n  \"sentiment\": \"Pos\",\n"
	    "  \"ner\": [\n    {\n      \"start\": 0,\n      \"end\": 5,\n      \"text\": \"x\",\n"
	    "      \"labels\": [\n        \"PER\"\n      ]\n    },\n    {\n      \"start\": 15,\n"
	    "      \"end\": 20,\n      \"text\": \"x\",\n      \"labels\": [\n        \"LOC\"\n      ]\n    }\n"
	    "  ],\n  \"annotator\": %lld,\n  \"annotation_id\": %lld,\n  \"created_at\": \"%s\",\n"
	    "  \"updated_at\": \"%s\",\n  \"lead_time\": 12.5\n},\n"
	    "{\n  \"text\": \"Nobody\",\n  \"id\": %lld,\n  \"annotator\": null,\n  \"annotation_id\": null,\n"
	    "  \"created_at\": null,\n  \"updated_at\": null,\n  \"lead_time\": null\n}\n]",
	    ids[0], owner_id, ann, created, updated, ids[2]) > 0);
	cr_assert_str_eq(r->body, want);
	cr_assert(strstr(resp_header(r, "filename"), ".json") != NULL);
	free(want);
	resp_free(r);
}

Test(export, csv_and_tsv_content)
{
	long long ids[3], pid = text_project(ids), ann;
	char created[64], updated[64], *want;
	struct resp *r;

	ann_facts(pid, &ann, created, updated);
	r = get_export(pid, "?exportType=CSV", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(asprintf(&want,
	    "\"annotation_id\",\"annotator\",\"created_at\",\"id\",\"lead_time\",\"ner\",\"sentiment\",\"text\","
	    "\"updated_at\"\r\n"
	    "%lld,\"%lld\",\"%s\",%lld,12.5,\"[{\"\"start\"\":0,\"\"end\"\":5,\"\"text\"\":\"\"x\"\",\"\"labels\"\":"
	    "[\"\"PER\"\"]},{\"\"start\"\":15,\"\"end\"\":20,\"\"text\"\":\"\"x\"\",\"\"labels\"\":[\"\"LOC\"\"]}]\","
	    "\"Pos\",\"Alice lives in Paris.\",\"%s\"\r\n",
	    ann, owner_id, created, ids[0], updated) > 0);
	cr_assert_str_eq(r->body, want);
	cr_assert(strstr(resp_header(r, "filename"), ".csv") != NULL);
	free(want);
	resp_free(r);

	r = get_export(pid, "?exportType=TSV&download_all_tasks=true", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(strncmp(r->body, "\"annotation_id\"\t\"annotator\"\t", 28) == 0, "%s", r->body);
	cr_assert(asprintf(&want, "\"\"\t\"\"\t\"\"\t%lld\t\"\"\t\"\"\t\"\"\t\"Nobody\"\t\"\"\r\n", ids[2]) > 0);
	cr_assert(strstr(r->body, want) != NULL, "%s", r->body);
	free(want);
	resp_free(r);
}

Test(export, conll_content)
{
	long long ids[3], pid = text_project(ids);
	struct resp *r = get_export(pid, "?exportType=CONLL2003", NULL);

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(r->body, "-DOCSTART- -X- O\n"
	    "Alice -X- _ B-PER\nlives -X- _ O\nin -X- _ O\nParis -X- _ B-LOC\n. -X- _ O\n\n");
	cr_assert(strstr(resp_header(r, "filename"), ".conll") != NULL);
	resp_free(r);
}

Test(export, asr_manifest)
{
	long long pid = make_project(AUDIO_CONFIG);
	char body[1024], *want;
	struct resp *r;

	snprintf(body, sizeof(body), "[{\"data\":{\"audio\":\"https://example.com/a.wav\"},\"annotations\":[{"
	    "\"result\":[{\"from_name\":\"transcription\",\"to_name\":\"audio\",\"type\":\"textarea\","
	    "\"value\":{\"text\":[\"h\\u00e9llo\"]}}],\"completed_by\":%lld}]}]", owner_id);
	import(pid, body);
	r = get_export(pid, "?exportType=ASR_MANIFEST", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(asprintf(&want, "{\"audio_filepath\": \"https://example.com/a.wav\", \"text\": \"h\\u00e9llo\", "
	    "\"annotator\": \"%lld\"}\n", owner_id) > 0);
	cr_assert_str_eq(r->body, want);
	free(want);
	resp_free(r);
}

/* An image project: two boxes on one image, a task without annotations. */
static long long
image_project(void)
{
	long long pid = make_project(IMAGE_CONFIG);
	char body[2048];

	snprintf(body, sizeof(body), "[{\"data\":{\"image\":\"https://example.com/img/cat.jpg\"},"
	    "\"annotations\":[{\"result\":[" BOX(10, 20, 30, 40, "Cat") "," BOX(50, 50, 25, 10, "Dog") "],"
	    "\"completed_by\":%lld}]},{\"data\":{\"image\":\"/data/upload/1/dog.png\"}}]", owner_id);
	import(pid, body);
	return pid;
}

/* Saves a body to the stack dir and returns the path (static). */
static const char *
save(const struct resp *r, const char *name)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s", e2e_stack_path(name));
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	return path;
}

/* `unzip -Z1` (entry names, one a line) of a zip body. */
static char *
zip_list(const struct resp *r, const char *name)
{
	return e2e_out("unzip -Z1 '%s'", save(r, name));
}

static char *
zip_entry(const struct resp *r, const char *name, const char *entry)
{
	return e2e_out("unzip -p '%s' '%s'", save(r, name), entry);
}

Test(export, coco_zip)
{
	long long pid = image_project();
	struct resp *r = get_export(pid, "?exportType=COCO&download_all_tasks=true", NULL), *r2;
	char *list, *json;
	struct json_object *o;

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(resp_header(r, "Content-Type"), "application/zip");
	cr_assert(strstr(resp_header(r, "filename"), ".zip") != NULL);
	list = zip_list(r, "exp-coco.zip");
	cr_assert_str_eq(list, "images/\nresult.json\n");
	json = zip_entry(r, "exp-coco.zip", "result.json");
	o = json_tokener_parse(json);
	cr_assert_not_null(o, "%s", json);
	cr_assert_eq(json_object_array_length(jpath(o, "images")), 2);
	cr_assert_str_eq(jstr(o, "images.0.file_name"), "https://example.com/img/cat.jpg");
	cr_assert_eq(jint(o, "images.0.width"), 200);
	cr_assert_str_eq(jstr(o, "categories.0.name"), "Cat");
	cr_assert_str_eq(jstr(o, "categories.1.name"), "Dog");
	cr_assert_eq(json_object_array_length(jpath(o, "annotations")), 2);
	cr_assert(json_object_get_double(jpath(o, "annotations.0.bbox.0")) == 20.0);
	cr_assert(json_object_get_double(jpath(o, "annotations.0.bbox.1")) == 20.0);
	cr_assert(json_object_get_double(jpath(o, "annotations.0.area")) == 60.0 * 40.0);
	cr_assert_eq(jint(o, "annotations.1.category_id"), 1);
	cr_assert_str_eq(jstr(o, "info.contributor"), "Label Studio");
	json_object_put(o);
	free(json);
	free(list);
	/* byte-identical on a second run */
	r2 = get_export(pid, "?exportType=COCO&download_all_tasks=true", NULL);
	cr_assert_eq(r2->len, r->len);
	cr_assert(memcmp(r2->body, r->body, r->len) == 0);
	resp_free(r2);
	resp_free(r);

	/* the *_WITH_IMAGES form: remote resources are listed as skipped, never fetched */
	r = get_export(pid, "?exportType=COCO_WITH_IMAGES&download_all_tasks=true", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	list = zip_list(r, "exp-coco2.zip");
	cr_assert_str_eq(list, "images/\nresult.json\nNOTES.txt\n");
	free(list);
	json = zip_entry(r, "exp-coco2.zip", "NOTES.txt");
	cr_assert(strstr(json, "https://example.com/img/cat.jpg") != NULL, "%s", json);
	cr_assert(strstr(json, "/data/upload/1/dog.png") != NULL, "%s", json);
	free(json);
	resp_free(r);
}

Test(export, yolo_zip)
{
	long long pid = image_project();
	struct resp *r = get_export(pid, "?exportType=YOLO&download_all_tasks=true", NULL);
	char *list, *txt;

	cr_assert_eq(r->status, 200, "%s", r->body);
	list = zip_list(r, "exp-yolo.zip");
	cr_assert_str_eq(list, "classes.txt\nimages/\nlabels/\nlabels/cat.txt\nlabels/dog.txt\nnotes.json\n");
	free(list);
	txt = zip_entry(r, "exp-yolo.zip", "labels/cat.txt");
	cr_assert_str_eq(txt, "0 0.25 0.4 0.3 0.4\n1 0.625 0.55 0.25 0.1\n");
	free(txt);
	txt = zip_entry(r, "exp-yolo.zip", "labels/dog.txt");
	cr_assert_str_eq(txt, "");
	free(txt);
	txt = zip_entry(r, "exp-yolo.zip", "classes.txt");
	cr_assert_str_eq(txt, "Cat\nDog\n");
	free(txt);
	resp_free(r);
}

Test(export, voc_zip)
{
	long long pid = image_project();
	struct resp *r = get_export(pid, "?exportType=VOC", NULL);
	char *list, *xml;

	cr_assert_eq(r->status, 200, "%s", r->body);
	list = zip_list(r, "exp-voc.zip");
	/* download_resources defaults to true for VOC: the remote image is noted, not fetched */
	cr_assert_str_eq(list, "Annotations/\nAnnotations/cat.xml\nimages/\nNOTES.txt\n");
	free(list);
	xml = zip_entry(r, "exp-voc.zip", "Annotations/cat.xml");
	cr_assert(strstr(xml, "<filename>cat.jpg</filename>") != NULL, "%s", xml);
	cr_assert(strstr(xml, "<width>200</width>\n<height>100</height>") != NULL, "%s", xml);
	cr_assert(strstr(xml, "<name>Cat</name>") != NULL);
	cr_assert(strstr(xml, "<xmin>20</xmin>\n<ymin>20</ymin>\n<xmax>80</xmax>\n<ymax>60</ymax>") != NULL, "%s", xml);
	free(xml);
	resp_free(r);
	r = get_export(pid, "?exportType=VOC&download_resources=false", NULL);
	list = zip_list(r, "exp-voc2.zip");
	cr_assert_str_eq(list, "Annotations/\nAnnotations/cat.xml\nimages/\n");
	free(list);
	resp_free(r);
}

Test(export, identical_across_runs)
{
	static const char *types[] = { "JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003" };
	long long ids[3], pid = text_project(ids);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char q[128];
		struct resp *a, *b;

		snprintf(q, sizeof(q), "?exportType=%s&download_all_tasks=true", types[i]);
		a = get_export(pid, q, NULL);
		b = get_export(pid, q, NULL);
		cr_assert_eq(a->status, 200);
		cr_assert_eq(a->len, b->len, "%s", types[i]);
		cr_assert(memcmp(a->body, b->body, a->len) == 0, "%s differs", types[i]);
		resp_free(a);
		resp_free(b);
	}
}

/* Many tasks: more than one batch, in id order. */
Test(export, several_batches)
{
	long long pid = make_project(TEXT_CONFIG);
	size_t n = 2500, cap = n * 200 + 16, k = 0;
	char *body = malloc(cap);
	struct resp *r;

	k += (size_t)snprintf(body + k, cap - k, "[");
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(body + k, cap - k, "%s{\"data\":{\"text\":\"t%zu\"}%s}", i ? "," : "", i,
		    i % 2 ? ",\"annotations\":[{\"result\":[" CHOICE("Pos") "]}]" : "");
	snprintf(body + k, cap - k, "]");
	import(pid, body);
	free(body);
	r = get_export(pid, "?download_all_tasks=true", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), n);
	for (size_t i = 1; i < n; i++)
		cr_assert_lt(jint(json_object_array_get_idx(r->json, i - 1), "id"),
		    jint(json_object_array_get_idx(r->json, i), "id"));
	resp_free(r);
	r = get_export(pid, NULL, NULL);
	cr_assert_eq(json_object_array_length(r->json), n / 2);
	resp_free(r);
}

/* Export JSON, import it into a new project, export again: the same annotations. */
Test(export, json_round_trip)
{
	long long pid = make_project(TEXT_CONFIG), pid2;
	char body[2048];
	struct resp *a, *b;

	snprintf(body, sizeof(body),
	    "[{\"data\":{\"text\":\"Alice lives in Paris.\"},\"annotations\":[{\"result\":[" CHOICE("Pos") ","
	    SPAN(0, 5, "PER") "],\"completed_by\":%lld,\"lead_time\":1.25}]},"
	    "{\"data\":{\"text\":\"Two\"},\"annotations\":[{\"result\":[" CHOICE("Neg") "]},{\"result\":["
	    CHOICE("Pos") "],\"was_cancelled\":true}]}]", owner_id);
	import(pid, body);
	a = get_export(pid, NULL, NULL);
	cr_assert_eq(a->status, 200);
	pid2 = make_project(TEXT_CONFIG);
	import(pid2, a->body);
	b = get_export(pid2, NULL, NULL);
	cr_assert_eq(b->status, 200);
	cr_assert_eq(json_object_array_length(b->json), json_object_array_length(a->json));
	for (size_t i = 0; i < json_object_array_length(a->json); i++) {
		struct json_object *ta = json_object_array_get_idx(a->json, i);
		struct json_object *tb = json_object_array_get_idx(b->json, i);
		size_t na = json_object_array_length(jpath(ta, "annotations"));

		cr_assert(json_object_equal(jpath(ta, "data"), jpath(tb, "data")));
		cr_assert_eq(json_object_array_length(jpath(tb, "annotations")), na);
		for (size_t j = 0; j < na; j++) {
			struct json_object *x = json_object_array_get_idx(jpath(ta, "annotations"), j);
			struct json_object *y = json_object_array_get_idx(jpath(tb, "annotations"), j);

			cr_assert(json_object_equal(jpath(x, "result"), jpath(y, "result")));
			cr_assert(json_object_equal(jpath(x, "was_cancelled"), jpath(y, "was_cancelled")));
			cr_assert(json_object_equal(jpath(x, "completed_by"), jpath(y, "completed_by")));
			cr_assert(json_object_equal(jpath(x, "lead_time"), jpath(y, "lead_time")));
		}
	}
	resp_free(a);
	resp_free(b);
}
