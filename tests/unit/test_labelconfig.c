/* Labeling config: the template gallery parses, parsed_label_config matches what Label Studio
 * builds for representative templates, malformed configs fail with Label Studio's messages, and
 * task data / results / essential changes are judged as Label Studio judges them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "labelconfig.h"

#ifndef SIALI_SRC_DIR
#define SIALI_SRC_DIR "."
#endif

static char err[2048];

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *
data_dir(void)
{
	const char *env = getenv("SIALI_SRC_DIR");
	static char dir[4096];

	snprintf(dir, sizeof(dir), "%s/tests/data/label-configs", env != NULL ? env : SIALI_SRC_DIR);
	return dir;
}

static struct labelconfig *
parse_file(const char *file)
{
	char path[4200];
	size_t len;
	char *xml;
	struct labelconfig *c;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), file);
	xml = slurp(path, &len);
	c = lc_parse(xml, len, err, sizeof(err));
	cr_assert_not_null(c, "%s: %s", file, err);
	free(xml);
	return c;
}

static struct labelconfig *
parse_ok(const char *xml)
{
	struct labelconfig *c = lc_parse(xml, strlen(xml), err, sizeof(err));

	cr_assert_not_null(c, "%s -> %s", xml, err);
	return c;
}

static void
parse_fails(const char *xml, const char *expect)
{
	struct labelconfig *c = lc_parse(xml, xml != NULL ? strlen(xml) : 0, err, sizeof(err));

	cr_assert_null(c, "%s parsed but should fail with %s", xml, expect);
	cr_assert_str_eq(err, expect, "%s", xml);
}

static struct json_object *
jparse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON %s", s);
	return o;
}

/* parsed_label_config[control] equals the expected JSON (order-insensitive for objects). */
static void
expect_control(const struct labelconfig *c, const char *control, const char *json)
{
	struct json_object *all = lc_parsed_json(c), *got, *want = jparse(json);

	cr_assert(json_object_object_get_ex(all, control, &got), "no control %s", control);
	cr_assert(json_object_equal(got, want), "%s:\n got  %s\n want %s", control,
		  json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN), json);
	json_object_put(all);
	json_object_put(want);
}

/* --- the gallery --------------------------------------------------------------------------- */

Test(labelconfig, every_gallery_template_parses)
{
	DIR *d = opendir(data_dir());
	struct dirent *e;
	int files = 0;

	cr_assert_not_null(d, "no %s", data_dir());
	while ((e = readdir(d)) != NULL) {
		char path[4200];
		size_t len, n = strlen(e->d_name);
		char *xml;
		struct labelconfig *c;
		struct json_object *j;

		if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", data_dir(), e->d_name);
		xml = slurp(path, &len);
		c = lc_parse(xml, len, err, sizeof(err));
		cr_assert_not_null(c, "%s: %s", e->d_name, err);
		j = lc_parsed_json(c);
		cr_assert_not_null(j);
		cr_assert_eq((size_t)json_object_object_length(j), lc_ncontrols(c));
		if (strstr(xml, "toName=") != NULL)
			cr_assert_gt(lc_ncontrols(c), 0, "%s has no controls", e->d_name);
		cr_assert(lc_essential_changed(c, c) == 0, "%s", e->d_name);
		cr_assert_gt(lc_ndata_keys(c), 0, "%s has no data keys", e->d_name);
		json_object_put(j);
		j = lc_sample_data(c);
		cr_assert_not_null(j);
		cr_assert_eq(lc_check_task_data(c, j, err, sizeof(err)), 0, "%s sample: %s: %s", e->d_name, err,
			     json_object_to_json_string(j));
		json_object_put(j);
		lc_free(c);
		free(xml);
		files++;
	}
	closedir(d);
	cr_assert_geq(files, 43);
}

Test(labelconfig, image_classification)
{
	struct labelconfig *c = parse_ok(
		"<View><Image name=\"image\" value=\"$image\"/>"
		"<Choices name=\"choice\" toName=\"image\"><Choice value=\"Cat\"/><Choice value=\"Dog\" hotkey=\"d\"/></Choices></View>");

	expect_control(c, "choice",
		       "{\"type\": \"Choices\", \"to_name\": [\"image\"],"
		       " \"inputs\": [{\"type\": \"Image\", \"valueType\": null, \"value\": \"image\"}],"
		       " \"labels\": [\"Cat\", \"Dog\"],"
		       " \"labels_attrs\": {\"Cat\": {\"value\": \"Cat\"}, \"Dog\": {\"value\": \"Dog\", \"hotkey\": \"d\"}}}");
	cr_assert_eq(lc_ncontrols(c), 1);
	cr_assert_str_eq(lc_control_type(c, 0), "Choices");
	cr_assert_eq(lc_find_control(c, "choice"), 0);
	cr_assert_eq(lc_find_control(c, "image"), -1);
	cr_assert(lc_control_has_to(c, 0, "image"));
	cr_assert(lc_control_has_label(c, 0, "Dog"));
	cr_assert_not(lc_control_has_label(c, 0, "Cow"));
	cr_assert_not(lc_control_dynamic(c, 0));
	cr_assert_eq(lc_ndata_keys(c), 1);
	cr_assert_str_eq(lc_data_key(c, 0), "image");
	cr_assert_str_eq(lc_data_key_type(c, 0), "Image");
	lc_free(c);
}

Test(labelconfig, object_detection)
{
	struct labelconfig *c = parse_file("computer-vision__object-detection-with-bounding-boxes.xml");

	expect_control(c, "label",
		       "{\"type\": \"RectangleLabels\", \"to_name\": [\"image\"],"
		       " \"inputs\": [{\"type\": \"Image\", \"valueType\": null, \"value\": \"image\"}],"
		       " \"labels\": [\"Airplane\", \"Car\"],"
		       " \"labels_attrs\": {\"Airplane\": {\"value\": \"Airplane\", \"background\": \"green\"},"
		       "                    \"Car\": {\"value\": \"Car\", \"background\": \"blue\"}}}");
	cr_assert_eq(lc_control_nlabels(c, 0), 2);
	cr_assert_str_eq(lc_control_label(c, 0, 0), "Airplane");
	cr_assert_str_eq(lc_control_label(c, 0, 1), "Car");
	cr_assert_null(lc_control_label(c, 0, 2));
	lc_free(c);
}

Test(labelconfig, named_entity_recognition)
{
	struct labelconfig *c = parse_file("natural-language-processing__named-entity-recognition.xml");
	struct json_object *j = lc_parsed_json(c), *ctl, *labels;

	cr_assert(json_object_object_get_ex(j, "label", &ctl));
	cr_assert(json_object_object_get_ex(ctl, "labels", &labels));
	cr_assert_str_eq(json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN), "[\"PER\",\"ORG\",\"LOC\",\"MISC\"]");
	expect_control(c, "label",
		       "{\"type\": \"Labels\", \"to_name\": [\"text\"],"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"text\"}],"
		       " \"labels\": [\"PER\", \"ORG\", \"LOC\", \"MISC\"],"
		       " \"labels_attrs\": {\"PER\": {\"value\": \"PER\", \"background\": \"red\"},"
		       "   \"ORG\": {\"value\": \"ORG\", \"background\": \"darkorange\"},"
		       "   \"LOC\": {\"value\": \"LOC\", \"background\": \"orange\"},"
		       "   \"MISC\": {\"value\": \"MISC\", \"background\": \"green\"}}}");
	/* Key order of the control object is Label Studio's. */
	{
		const char *order[] = { "type", "to_name", "inputs", "labels", "labels_attrs" };
		size_t i = 0;

		json_object_object_foreach(ctl, k, v) {
			(void)v;
			cr_assert_lt(i, 5);
			cr_assert_str_eq(k, order[i]);
			i++;
		}
	}
	json_object_put(j);
	lc_free(c);
}

Test(labelconfig, text_classification_nested_view)
{
	struct labelconfig *c = parse_file("natural-language-processing__text-classification.xml");

	expect_control(c, "sentiment",
		       "{\"type\": \"Choices\", \"to_name\": [\"text\"],"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"text\"}],"
		       " \"labels\": [\"Positive\", \"Negative\", \"Neutral\"],"
		       " \"labels_attrs\": {\"Positive\": {\"value\": \"Positive\"}, \"Negative\": {\"value\": \"Negative\"},"
		       "                    \"Neutral\": {\"value\": \"Neutral\"}}}");
	lc_free(c);
}

Test(labelconfig, audio_transcription)
{
	struct labelconfig *c = parse_file("audio-speech-processing__automatic-speech-recognition-using-segments.xml");

	cr_assert_eq(lc_ncontrols(c), 2);
	cr_assert_str_eq(lc_control_name(c, 0), "labels");
	cr_assert_str_eq(lc_control_name(c, 1), "transcription");
	expect_control(c, "transcription",
		       "{\"type\": \"TextArea\", \"to_name\": [\"audio\"],"
		       " \"inputs\": [{\"type\": \"Audio\", \"valueType\": null, \"value\": \"audio\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	cr_assert_str_eq(lc_data_key_type(c, 0), "Audio");
	lc_free(c);
}

Test(labelconfig, video_tracking)
{
	struct labelconfig *c = parse_file("videos__video-object-tracking.xml");

	expect_control(c, "box",
		       "{\"type\": \"VideoRectangle\", \"to_name\": [\"video\"],"
		       " \"inputs\": [{\"type\": \"Video\", \"valueType\": null, \"value\": \"video\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	cr_assert_eq(lc_control_nlabels(c, (size_t)lc_find_control(c, "videoLabels")), 3);
	lc_free(c);

	/* Video wins a shared key whichever comes first. */
	c = parse_file("videos__video-timeline-segmentation.xml");
	cr_assert_eq(lc_ndata_keys(c), 1);
	cr_assert_str_eq(lc_data_key(c, 0), "video_url");
	cr_assert_str_eq(lc_data_key_type(c, 0), "Video");
	lc_free(c);
	c = parse_ok("<View><Audio name=\"a\" value=\"$v\"/><Video name=\"b\" value=\"$v\"/>"
		     "<Labels name=\"l\" toName=\"a\"><Label value=\"x\"/></Labels></View>");
	cr_assert_str_eq(lc_data_key_type(c, 0), "Video");
	lc_free(c);
}

Test(labelconfig, time_series)
{
	struct labelconfig *c = parse_file("time-series-analysis__activity-recognition.xml");
	struct json_object *s;

	expect_control(c, "label",
		       "{\"type\": \"TimeSeriesLabels\", \"to_name\": [\"ts\"],"
		       " \"inputs\": [{\"type\": \"TimeSeries\", \"valueType\": \"url\", \"value\": \"timeseriesUrl\"}],"
		       " \"labels\": [\"Run\", \"Walk\", \"Fly\", \"Swim\", \"Ride\"],"
		       " \"labels_attrs\": {\"Run\": {\"value\": \"Run\", \"background\": \"red\"},"
		       "   \"Walk\": {\"value\": \"Walk\", \"background\": \"green\"},"
		       "   \"Fly\": {\"value\": \"Fly\", \"background\": \"blue\"},"
		       "   \"Swim\": {\"value\": \"Swim\", \"background\": \"#f6a\"},"
		       "   \"Ride\": {\"value\": \"Ride\", \"background\": \"#351\"}}}");
	s = lc_sample_data(c);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(s, "timeseriesUrl")),
			 "https://app.heartex.com/samples/time-series.csv?time=time&values=velocity%2Cacceleration"
			 "&sep=%2C&tf=%25Y-%25m-%25d+%25H%3A%25M%3A%25S.%25f");
	json_object_put(s);
	lc_free(c);
}

Test(labelconfig, ocr)
{
	struct labelconfig *c = parse_ok(
		"<View>\n"
		"  <Image name=\"image\" value=\"$ocr\"/>\n"
		"  <Labels name=\"label\" toName=\"image\"><Label value=\"Text\" background=\"green\"/>"
		"<Label value=\"Handwriting\" background=\"blue\"/></Labels>\n"
		"  <Rectangle name=\"bbox\" toName=\"image\" strokeWidth=\"3\"/>\n"
		"  <Polygon name=\"poly\" toName=\"image\"/>\n"
		"  <TextArea name=\"transcription\" toName=\"image\" editable=\"true\" perRegion=\"true\""
		" required=\"true\" maxSubmissions=\"1\" rows=\"5\" placeholder=\"Recognized Text\"/>\n"
		"</View>");

	cr_assert_eq(lc_ncontrols(c), 4);
	expect_control(c, "bbox",
		       "{\"type\": \"Rectangle\", \"to_name\": [\"image\"],"
		       " \"inputs\": [{\"type\": \"Image\", \"valueType\": null, \"value\": \"ocr\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	expect_control(c, "transcription",
		       "{\"type\": \"TextArea\", \"to_name\": [\"image\"],"
		       " \"inputs\": [{\"type\": \"Image\", \"valueType\": null, \"value\": \"ocr\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	lc_free(c);
}

Test(labelconfig, relations)
{
	struct labelconfig *c = parse_ok(
		"<View><Relations><Relation value=\"org:founded_by\"/><Relation value=\"org:located_in\"/></Relations>"
		"<Labels name=\"lbl\" toName=\"text\"><Label value=\"Person\"/><Label value=\"Org\"/></Labels>"
		"<Text name=\"text\" value=\"$text\"/></View>");

	/* A nameless Relations is no control, and its Relation values belong to nobody. */
	cr_assert_eq(lc_ncontrols(c), 1);
	cr_assert_eq(lc_control_nlabels(c, 0), 2);
	lc_free(c);
}

Test(labelconfig, taxonomy_nested_choices)
{
	struct labelconfig *c = parse_file("natural-language-processing__taxonomy.xml");

	expect_control(c, "taxonomy",
		       "{\"type\": \"Taxonomy\", \"to_name\": [\"text\"],"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"text\"}],"
		       " \"labels\": [\"Archaea\", \"Bacteria\", \"Eukarya\", \"Human\", \"Oppossum\", \"Extraterrestial\"],"
		       " \"labels_attrs\": {\"Archaea\": {\"value\": \"Archaea\"}, \"Bacteria\": {\"value\": \"Bacteria\"},"
		       "   \"Eukarya\": {\"value\": \"Eukarya\"}, \"Human\": {\"value\": \"Human\"},"
		       "   \"Oppossum\": {\"value\": \"Oppossum\"}, \"Extraterrestial\": {\"value\": \"Extraterrestial\"}}}");
	lc_free(c);
}

Test(labelconfig, dynamic_labels_and_control_keys)
{
	struct labelconfig *c = parse_file("ranking-and-scoring__text-to-image.xml");

	expect_control(c, "images",
		       "{\"type\": \"Choices\", \"to_name\": [\"prompt\"], \"dynamic_labels\": true,"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"prompt\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	cr_assert(lc_control_dynamic(c, 0));
	cr_assert_eq(lc_ndata_keys(c), 2);
	cr_assert_str_eq(lc_data_key(c, 1), "images");
	cr_assert_str_eq(lc_data_key_type(c, 1), "Choices");
	lc_free(c);

	c = parse_ok("<View><Text name=\"t\" value=\"$t\"/>"
		     "<Taxonomy name=\"a\" toName=\"t\" apiUrl=\"https://example.com/labels\"/>"
		     "<Labels name=\"b\" toName=\"t\" value=\"$opts1\"/></View>");
	cr_assert(lc_control_dynamic(c, 0));
	cr_assert_not(lc_control_dynamic(c, 1)); /* has_variable is ^\$[A-Za-z_]+$ */
	lc_free(c);
}

Test(labelconfig, alias_conditionals_regex_multi_to)
{
	struct labelconfig *c = parse_ok(
		"<View>"
		"<Repeater on=\"$images\" indexFlag=\"{{idx}}\">"
		"  <Image name=\"image_{{idx}}\" value=\"$images[{{idx}}].url\"/>"
		"  <RectangleLabels name=\"box_{{idx}}\" toName=\"image_{{idx}}\"><Label value=\"Cat\" alias=\"C\"/></RectangleLabels>"
		"</Repeater>"
		"<Text name=\"a\" value=\"Hello $first_name and $other\"/><Text name=\"b\" value=\"$nested.text\"/>"
		"<Pairwise name=\"pw\" toName=\"a,b\"/>"
		"<Choices name=\"q\" toName=\"a\" perRegion=\"true\" whenLabelValue=\"C\"><Choice value=\"x\"/></Choices>"
		"</View>");

	expect_control(c, "box_{{idx}}",
		       "{\"type\": \"RectangleLabels\", \"to_name\": [\"image_{{idx}}\"], \"regex\": {\"{{idx}}\": \".*\"},"
		       " \"inputs\": [{\"type\": \"Image\", \"valueType\": null, \"value\": \"images[{{idx}}].url\"}],"
		       " \"labels\": [\"C\"], \"labels_attrs\": {\"C\": {\"value\": \"Cat\", \"alias\": \"C\"}}}");
	expect_control(c, "pw",
		       "{\"type\": \"Pairwise\", \"to_name\": [\"a\", \"b\"],"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"Hello $first_name and $other\"},"
		       "              {\"type\": \"Text\", \"valueType\": null, \"value\": \"nested.text\"}],"
		       " \"labels\": [], \"labels_attrs\": {}}");
	expect_control(c, "q",
		       "{\"type\": \"Choices\", \"to_name\": [\"a\"], \"conditionals\": {\"type\": \"label\", \"name\": \"C\"},"
		       " \"inputs\": [{\"type\": \"Text\", \"valueType\": null, \"value\": \"Hello $first_name and $other\"}],"
		       " \"labels\": [\"x\"], \"labels_attrs\": {\"x\": {\"value\": \"x\"}}}");
	cr_assert_eq(lc_ndata_keys(c), 3);
	cr_assert_str_eq(lc_data_key(c, 0), "images[{{idx}}].url");
	cr_assert_str_eq(lc_data_key(c, 1), "first_name");
	cr_assert_str_eq(lc_data_key(c, 2), "nested.text");
	lc_free(c);
}

Test(labelconfig, chat_is_its_own_control)
{
	struct labelconfig *c = parse_file("chat__chat_eval.xml");

	/* <Chat name value="$chat" toName=self> is a control first, so it is no input of itself, and
	 * its $variable value makes its labels dynamic (Label Studio's rule, applied blindly). */
	expect_control(c, "chat", "{\"type\": \"Chat\", \"to_name\": [\"chat\"], \"dynamic_labels\": true,"
		       " \"inputs\": [], \"labels\": [], \"labels_attrs\": {}}");
	cr_assert_str_eq(lc_data_key_type(c, 1), "Chat");
	lc_free(c);
}

Test(labelconfig, comments_and_static_values_are_ignored)
{
	struct labelconfig *c = parse_file("community-contributions__two-level-sentiment-analysis-of-x-twitter-posts.xml");

	cr_assert_eq(lc_ndata_keys(c), 1);
	cr_assert_str_eq(lc_data_key(c, 0), "tweet");
	cr_assert_eq(lc_ncontrols(c), 2);
	lc_free(c);
}

/* --- malformed ----------------------------------------------------------------------------- */

Test(labelconfig, mismatched_tag)
{
	parse_fails("<View><Choices name=\"c\" toName=\"t\"></View>",
		    "Opening and ending tag mismatch: Choices line 1 and View, line 1, column 43");
	parse_fails("<View>\n<Text name=\"t\" value=\"$t\">\n</View>",
		    "Opening and ending tag mismatch: Text line 2 and View, line 3, column 8");
}

Test(labelconfig, doctype_and_entities_refused)
{
	parse_fails("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
		    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		    "]>\n<View><Header value=\"&lol3;\"/></View>",
		    "DTDForbidden(name='lolz', system_id=None, public_id=None)");
	parse_fails("<!DOCTYPE View SYSTEM \"file:///etc/passwd\"><View>&xxe;</View>",
		    "DTDForbidden(name='View', system_id='file:///etc/passwd', public_id=None)");
	parse_fails("<!DOCTYPE View PUBLIC \"-//X//Y\" \"http://example.com/x.dtd\"><View/>",
		    "DTDForbidden(name='View', system_id='http://example.com/x.dtd', public_id='-//X//Y')");
	/* An undeclared entity is a plain syntax error, never a fetch. */
	parse_fails("<View><Header value=\"&xxe;\"/></View>", "Entity 'xxe' not defined, line 1, column 27");
}

Test(labelconfig, schema_errors)
{
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\"><Choice value=\"a\"/></Choices></View>",
		    "Validation failed on View/Choices: 'toName' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Choices toName=\"t\"><Choice value=\"a\"/></Choices></View>",
		    "Validation failed on View/Choices: 'name' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><View><Choices name=\"c\" toName=\"t\"/></View></View>",
		    "Validation failed on View/View/Choices: 'Choice' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Labels name=\"c\" toName=\"t\"></Labels></View>",
		    "Validation failed on View/Labels: 'Label' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"t\"><Choice/></Choices></View>",
		    "Validation failed on View/Choices/Choice: 'value' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Labels name=\"c\" toName=\"t\"><Label alias=\"x\"/></Labels></View>",
		    "Validation failed on View/Labels/Label: 'value' is a required property");
	parse_fails("<View><Image name=\"i\"/></View>", "Validation failed on View/Image: 'value' is a required property");
	parse_fails("<View><Text value=\"$t\"/></View>", "Validation failed on View/Text: 'name' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><TextArea name=\"a\"/></View>",
		    "Validation failed on View/TextArea: 'toName' is a required property");
	parse_fails("<View><Text name=\"t\" value=\"$t\"/><Number toName=\"t\"/></View>",
		    "Validation failed on View/Number: 'name' is a required property");
	parse_fails("<Text name=\"t\" value=\"$t\"/>", "Validation failed on : 'View' is a required property");
	/* Outside a View chain the schema does not look (as in Label Studio). */
	{
		struct labelconfig *c = parse_ok("<View><Text name=\"t\" value=\"$t\"/><Collapse><Panel value=\"p\">"
						 "<Choices name=\"c\" toName=\"t\"/></Panel></Collapse></View>");
		lc_free(c);
	}
	/* A Choices with dynamic value or a nested View needs no Choice children. */
	lc_free(parse_ok("<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"t\" value=\"$o\"/></View>"));
	lc_free(parse_ok("<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"t\"><View><Choice value=\"a\"/></View></Choices></View>"));
	lc_free(parse_ok("<View><Text name=\"t\" valueList=\"$t\"/><Choices name=\"c\" toName=\"t\" value=\"$o\"/></View>"));
}

Test(labelconfig, names)
{
	parse_fails("<View><Text name=\"a\" value=\"$t\"/><Choices name=\"a\" toName=\"a\"><Choice value=\"x\"/></Choices></View>",
		    "Label config contains non-unique names");
	parse_fails("<View><Text name=\"text\" value=\"$t\"/><Image name=\"a\" value=\"$i\"/>"
		    "<Labels name=\"b\" toName=\"a,img\"><Label value=\"x\"/></Labels></View>",
		    "toName=\"img\" not found in names: ['a', 'b', 'text']");
	parse_fails("<View><Text name=\"it's\" value=\"$t\"/><Labels name=\"b\" toName=\"c\"><Label value=\"x\"/></Labels></View>",
		    "toName=\"c\" not found in names: ['b', \"it's\"]");
}

Test(labelconfig, truncated_message_stays_utf8)
{
	const char *xml = "<View><Text name=\"\xc3\xa9\xc3\xa9\xc3\xa9\" value=\"$t\"/><TextArea name=\"a\" toName=\"x\"/></View>";
	char small[48];

	/* toName="x" not found in names: ['a', 'ééé'], cut inside the first é, then after it */
	cr_assert_null(lc_parse(xml, strlen(xml), small, 40));
	cr_assert_str_eq(small, "toName=\"x\" not found in names: ['a', '");
	cr_assert_null(lc_parse(xml, strlen(xml), small, 41));
	cr_assert_str_eq(small, "toName=\"x\" not found in names: ['a', '\xc3\xa9");
	cr_assert_null(lc_parse(xml, strlen(xml), small, 0));
}

Test(labelconfig, object_without_value)
{
	parse_fails("<View><Audio name=\"audio\"/><Labels name=\"l\" toName=\"audio\"><Label value=\"x\"/></Labels></View>",
		    "Object tag \"Audio\" with name=\"audio\" has no value or valueList");
	/* Layout and control tags may carry a bare name. */
	lc_free(parse_ok("<View><Header name=\"h\">Title</Header><Text name=\"t\" value=\"$t\"/>"
			 "<Rating name=\"r\" maxRating=\"5\"/><List name=\"l\" value=\"$items\"/>"
			 "<Ranker name=\"rank\" toName=\"l\"><Bucket name=\"b1\" title=\"B\"/></Ranker></View>"));
}

Test(labelconfig, empty_oversized_deep)
{
	char *big;
	struct labelconfig *c;
	size_t n = LC_MAX_BYTES + 100;
	int depth = 400;
	size_t dsz = (size_t)depth * 20 + 64, bsz = 2 * LC_MAX_TO_ENTRIES + 128;
	char *deep = malloc(dsz), *p;

	parse_fails(NULL, "Label config is not set or is empty");
	parse_fails("", "Label config is not set or is empty");
	parse_fails(" \n\t\r ", "Label config is not set or is empty");
	parse_fails("<!-- only a comment -->", "Start tag expected, '<' not found, line 1, column 24");

	big = malloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, "<View>", 6);
	memcpy(big + n - 7, "</View>", 7);
	big[n] = '\0';
	c = lc_parse(big, n, err, sizeof(err));
	cr_assert_null(c);
	cr_assert(strncmp(err, "Label config is too large", 25) == 0, "%s", err);
	free(big);

	p = deep;
	for (int i = 0; i < depth; i++)
		p += snprintf(p, dsz - (size_t)(p - deep), "<View>");
	for (int i = 0; i < depth; i++)
		p += snprintf(p, dsz - (size_t)(p - deep), "</View>");
	c = lc_parse(deep, strlen(deep), err, sizeof(err));
	cr_assert_null(c);
	cr_assert(strstr(err, "Excessive depth") != NULL, "%s", err);
	free(deep);

	/* toName entries are capped: each one is copied into parsed_label_config. */
	big = malloc(bsz);
	p = big + snprintf(big, bsz, "<View><Text name=\"t\" value=\"$t\"/><TextArea name=\"a\" toName=\"t");
	for (int i = 0; i < LC_MAX_TO_ENTRIES; i++)
		p += snprintf(p, bsz - (size_t)(p - big), ",t");
	snprintf(p, bsz - (size_t)(p - big), "\"/></View>");
	c = lc_parse(big, strlen(big), err, sizeof(err));
	cr_assert_null(c);
	cr_assert_str_eq(err, "Label config has too many toName entries (the limit is 10000)");
	cr_assert_null(lc_parse(big, strlen(big), NULL, 0));
	free(big);

	/* Not NUL-terminated: only len bytes are read. */
	c = lc_parse("<View></View>garbage", 13, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(lc_ncontrols(c), 0);
	cr_assert_eq(lc_ndata_keys(c), 0);
	lc_free(c);
}

/* --- task data ----------------------------------------------------------------------------- */

static int
check_data(const struct labelconfig *c, const char *json)
{
	struct json_object *d = jparse(json);
	int rc = lc_check_task_data(c, d, err, sizeof(err));

	json_object_put(d);
	return rc;
}

Test(labelconfig, task_data)
{
	struct labelconfig *c = parse_ok(
		"<View><Image name=\"img\" value=\"$image\"/><Text name=\"txt\" value=\"$meta.caption\"/>"
		"<HyperText name=\"ht\" value=\"$html\"/><Header name=\"h\" value=\"$title\"/>"
		"<Table name=\"tb\" value=\"$tab\"/><Taxonomy name=\"tx\" toName=\"txt\" value=\"$tax\"/>"
		"<Repeater on=\"$pages\" indexFlag=\"{{i}}\"><Image name=\"p{{i}}\" value=\"$pages[{{i}}].url\"/></Repeater>"
		"<Choices name=\"c\" toName=\"img\"><Choice value=\"a\"/></Choices></View>");
	const char *good =
		"{\"image\": \"https://x/y.png\", \"meta\": {\"caption\": 12.5}, \"html\": \"<b>x</b>\", \"title\": true,"
		" \"tab\": {\"a\": 1}, \"tax\": null, \"pages\": [{\"url\": \"u\"}], \"extra\": 1}";

	cr_assert_eq(lc_ndata_keys(c), 7);
	cr_assert_eq(check_data(c, good), 0, "%s", err);
	cr_assert_eq(check_data(c, "{\"image\": [\"a\", \"b\"], \"meta\": {\"caption\": [1]}, \"html\": \"\", \"title\": 3,"
				   " \"tab\": \"csv\", \"tax\": [\"x\"], \"pages\": []}"), 0, "%s", err);

	cr_assert_eq(check_data(c, "{\"meta\": {\"caption\": \"x\"}}"), -1);
	cr_assert_str_eq(err, "\"image\" key is expected in task data");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": \"flat\"}"), -1);
	cr_assert_str_eq(err, "\"meta.caption\" key is expected in task data");
	cr_assert_eq(check_data(c, "{\"image\": {\"url\": \"x\"}, \"meta\": {\"caption\": \"x\"}}"), -1);
	cr_assert_str_eq(err, "data['image']={...} is of type 'dict', but the object tag Image expects the following types: ['str', 'list']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": null}}"), -1);
	cr_assert_str_eq(err, "data['meta.caption']=None is of type 'NoneType', but the object tag Text expects the following types: ['str', 'int', 'float', 'list']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": 0.1}"), -1);
	cr_assert_str_eq(err, "data['html']=0.1 is of type 'float', but the object tag HyperText expects the following types: ['str']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": 2.0}"), -1);
	cr_assert_str_eq(err, "data['html']=2.0 is of type 'float', but the object tag HyperText expects the following types: ['str']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": false}"), -1);
	cr_assert_str_eq(err, "data['html']=False is of type 'bool', but the object tag HyperText expects the following types: ['str']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": 5}"), -1);
	cr_assert_str_eq(err, "data['html']=5 is of type 'int', but the object tag HyperText expects the following types: ['str']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": \"h\", \"title\": [1]}"), -1);
	cr_assert_str_eq(err, "data['title']=[...] is of type 'list', but the object tag Header expects the following types: ['str', 'int', 'float']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": \"h\", \"title\": \"t\","
				   " \"tab\": {}, \"tax\": 1}"), -1);
	cr_assert_str_eq(err, "data['tax']=1 is of type 'int', but the object tag Taxonomy expects the following types: ['str', 'list', 'NoneType']");
	cr_assert_eq(check_data(c, "{\"image\": \"x\", \"meta\": {\"caption\": \"c\"}, \"html\": \"h\", \"title\": \"t\","
				   " \"tab\": {}, \"tax\": \"a\", \"pages\": \"p\"}"), -1);
	cr_assert_str_eq(err, "data['pages']='p' is of type 'str', but the object tag Image expects the following types: ['list']");
	cr_assert_eq(check_data(c, "[1, 2]"), -1);
	cr_assert_str_eq(err, "\"image\" key is expected in task data");
	lc_free(c);

	/* Audio and friends take strings only; a config without keys takes anything. */
	c = parse_ok("<View><Audio name=\"a\" value=\"$audio\"/><Labels name=\"l\" toName=\"a\"><Label value=\"x\"/></Labels></View>");
	cr_assert_eq(check_data(c, "{\"audio\": [\"x\"]}"), -1);
	cr_assert_str_eq(err, "data['audio']=[...] is of type 'list', but the object tag Audio expects the following types: ['str']");
	lc_free(c);
	c = parse_ok("<View></View>");
	cr_assert_eq(check_data(c, "{}"), 0);
	cr_assert_eq(lc_check_task_data(c, NULL, err, sizeof(err)), 0);
	lc_free(c);
}

/* --- results ------------------------------------------------------------------------------- */

static long
check_result(const struct labelconfig *c, const char *json)
{
	struct json_object *r = jparse(json);
	long rc = lc_check_result(c, r, err, sizeof(err));

	json_object_put(r);
	return rc;
}

#define DETECTION \
	"<View><Image name=\"image\" value=\"$image\"/>" \
	"<RectangleLabels name=\"label\" toName=\"image\"><Label value=\"Car\"/><Label value=\"Bus\"/></RectangleLabels>" \
	"<Labels name=\"kind\" toName=\"image\"><Label value=\"Big\"/></Labels>" \
	"<Choices name=\"ok\" toName=\"image,image2\"><Choice value=\"yes\"/></Choices>" \
	"<Image name=\"image2\" value=\"$image2\"/></View>"

Test(labelconfig, check_result)
{
	struct labelconfig *c = parse_ok(DETECTION);

	cr_assert_eq(check_result(c, "[]"), -1);
	cr_assert_eq(check_result(c,
				  "[{\"id\": \"a\", \"from_name\": \"label\", \"to_name\": \"image\", \"type\": \"rectanglelabels\","
				  "  \"value\": {\"x\": 1, \"y\": 2, \"width\": 3, \"height\": 4, \"rectanglelabels\": [\"Car\"]}},"
				  " {\"id\": \"b\", \"from_name\": \"label\", \"to_name\": \"image\", \"type\": \"rectangle\", \"value\": {}},"
				  " {\"id\": \"c\", \"from_name\": \"kind\", \"to_name\": \"image\", \"type\": \"labels\", \"value\": {}},"
				  " {\"id\": \"d\", \"from_name\": \"ok\", \"to_name\": \"image2\", \"type\": \"choices\", \"value\": {}},"
				  " {\"id\": \"e\", \"from_name\": \"ok\", \"to_name\": \"image,image2\", \"type\": \"Choices\", \"value\": {}},"
				  " {\"type\": \"relation\", \"from_id\": \"a\", \"to_id\": \"b\", \"direction\": \"right\"}]"),
		     -1, "%s", err);
	cr_assert_eq(check_result(c, "{}"), 0);
	cr_assert_str_eq(err, "result must be a list");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"ok\", \"to_name\": \"image\", \"type\": \"choices\"}, 5]"), 1);
	cr_assert_str_eq(err, "result[1]: must be an object");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"ok\", \"to_name\": \"image\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: \"type\" is required and must be a string");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"ok\", \"to_name\": \"image\", \"type\": \"choices\"},"
				     " {\"from_name\": \"ok\", \"to_name\": \"image\", \"type\": \"choices\"},"
				     " {\"from_name\": \"image\", \"to_name\": \"image\", \"type\": \"choices\"}]"), 2);
	cr_assert_str_eq(err, "result[2]: from_name \"image\" is not a control of this labeling config");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"label\", \"to_name\": \"image2\", \"type\": \"rectanglelabels\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: to_name \"image2\" is not in the toName of control \"label\"");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"label\", \"to_name\": \"image\", \"type\": \"polygonlabels\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: type \"polygonlabels\" does not match control \"label\" (rectanglelabels)");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"ok\", \"to_name\": \"image\", \"type\": \"choice\"}]"), 0);
	cr_assert_eq(check_result(c, "[{\"from_name\": \"kind\", \"to_name\": \"image\", \"type\": \"\"}]"), 0);
	cr_assert_eq(check_result(c, "[{\"type\": \"relation\", \"from_id\": \"a\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: a relation needs \"from_id\" and \"to_id\"");
	cr_assert_eq(check_result(c, "[{\"from_name\": 1, \"to_name\": \"image\", \"type\": \"choices\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: \"from_name\" is required and must be a string");
	cr_assert_eq(check_result(c, "[{\"from_name\": \"ok\", \"type\": \"choices\"}]"), 0);
	cr_assert_str_eq(err, "result[0]: \"to_name\" is required and must be a string");
	lc_free(c);
}

struct seen {
	char lines[32][160];
	int n;
};

static void
collect(void *ctx, const char *from, const char *to, const char *type, const char *label)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 32);
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s|%s|%s|%s", from, to, type, label ? label : "-");
}

Test(labelconfig, result_labels)
{
	struct json_object *r = jparse(
		"[{\"from_name\": \"label\", \"to_name\": \"image\", \"type\": \"rectanglelabels\","
		"  \"value\": {\"rectanglelabels\": [\"Car\", \"Bus\"], \"x\": 1}},"
		" {\"from_name\": \"tax\", \"to_name\": \"text\", \"type\": \"taxonomy\","
		"  \"value\": {\"taxonomy\": [[\"Eukarya\", \"Human\"], [\"Archaea\"]]}},"
		" {\"from_name\": \"c\", \"to_name\": \"text\", \"type\": \"choices\", \"value\": {\"choices\": \"notalist\"}},"
		" {\"from_name\": \"t\", \"to_name\": \"text\", \"type\": \"textarea\", \"value\": {\"text\": [\"free text\"]}},"
		" {\"type\": \"relation\", \"from_id\": \"a\", \"to_id\": \"b\"},"
		" {\"from_name\": \"x\", \"type\": \"choices\"}, 7, null,"
		" {\"from_name\": \"n\", \"to_name\": \"text\", \"type\": \"labels\", \"value\": {\"labels\": [1, \"L\", null]}}]");
	static const char *const want[] = {
		"label|image|rectanglelabels|-", "label|image|rectanglelabels|Car", "label|image|rectanglelabels|Bus",
		"tax|text|taxonomy|-", "tax|text|taxonomy|Eukarya", "tax|text|taxonomy|Human", "tax|text|taxonomy|Archaea",
		"c|text|choices|-", "t|text|textarea|-", "n|text|labels|-", "n|text|labels|L",
	};
	struct seen s = { .n = 0 };

	lc_result_labels(r, collect, &s);
	cr_assert_eq(s.n, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < s.n; i++)
		cr_assert_str_eq(s.lines[i], want[i]);
	json_object_put(r);
	s.n = 0;
	r = jparse("{\"not\": \"an array\"}");
	lc_result_labels(r, collect, &s);
	cr_assert_eq(s.n, 0);
	json_object_put(r);
}

/* --- essential changes --------------------------------------------------------------------- */

static int
changed(const char *new_xml, const char *old_xml)
{
	struct labelconfig *n = parse_ok(new_xml), *o = parse_ok(old_xml);
	int rc = lc_essential_changed(n, o);

	lc_free(n);
	lc_free(o);
	return rc;
}

#define BASE_CFG(extra, labels, img) \
	"<View><Image name=\"img\" value=\"" img "\"/>" extra \
	"<RectangleLabels name=\"box\" toName=\"img\">" labels "</RectangleLabels></View>"

Test(labelconfig, essential_changed)
{
	const char *old = BASE_CFG("", "<Label value=\"Car\"/><Label value=\"Bus\"/>", "$image");

	cr_assert_eq(changed(old, old), 0);
	/* Adding labels, reordering, restyling, adding layout: nothing essential. */
	cr_assert_eq(changed(BASE_CFG("<Header value=\"Hi\"/>", "<Label value=\"Bus\" background=\"red\"/><Label value=\"Car\"/>"
				      "<Label value=\"Van\"/>", "$image"), old), 0);
	/* Removing a control is not essential either (Label Studio only walks the new controls). */
	cr_assert_eq(changed("<View><Image name=\"img\" value=\"$image\"/></View>", old), 0);
	/* A label gone, a new control, a changed type, a changed input. */
	cr_assert_eq(changed(BASE_CFG("", "<Label value=\"Car\"/>", "$image"), old), 1);
	cr_assert_eq(changed(BASE_CFG("<Choices name=\"q\" toName=\"img\"><Choice value=\"a\"/></Choices>",
				      "<Label value=\"Car\"/><Label value=\"Bus\"/>", "$image"), old), 1);
	cr_assert_eq(changed("<View><Image name=\"img\" value=\"$image\"/><PolygonLabels name=\"box\" toName=\"img\">"
			     "<Label value=\"Car\"/><Label value=\"Bus\"/></PolygonLabels></View>", old), 1);
	cr_assert_eq(changed(BASE_CFG("", "<Label value=\"Car\"/><Label value=\"Bus\"/>", "$photo"), old), 1);
}

/* --- sample task --------------------------------------------------------------------------- */

Test(labelconfig, sample_data)
{
	struct labelconfig *c = parse_ok(
		"<View><Image name=\"img\" value=\"$image\"/><Text name=\"t\" value=\"$doc.body\"/>"
		"<Paragraphs name=\"p\" value=\"$dialog\" nameKey=\"who\" textKey=\"said\"/>"
		"<Table name=\"tb\" value=\"$table\"/><Choices name=\"c\" toName=\"img\" value=\"$opts\"/>"
		"<Repeater on=\"$pages\" indexFlag=\"{{i}}\"><Image name=\"p{{i}}\" value=\"$pages[{{i}}].url\"/></Repeater>"
		"<Audio name=\"au\" valueList=\"$clips\"/><Video name=\"v\" value=\"$video\"/>"
		"<Header name=\"hd\" value=\"Static text\"/></View>");
	struct json_object *s = lc_sample_data(c), *v, *e;

	cr_assert(json_object_object_get_ex(s, "image", &v));
	cr_assert_str_eq(json_object_get_string(v), "https://labelstud.io/images/opa-header.png");
	cr_assert(json_object_object_get_ex(s, "doc", &v) && json_object_is_type(v, json_type_object));
	cr_assert(json_object_object_get_ex(v, "body", &e) && json_object_is_type(e, json_type_string));
	cr_assert(json_object_object_get_ex(s, "dialog", &v) && json_object_array_length(v) > 0);
	e = json_object_array_get_idx(v, 0);
	cr_assert(json_object_object_get_ex(e, "who", NULL) && json_object_object_get_ex(e, "said", NULL));
	cr_assert(json_object_object_get_ex(s, "table", &v) && json_object_is_type(v, json_type_object));
	cr_assert(json_object_object_get_ex(s, "opts", &v) && json_object_is_type(v, json_type_array));
	cr_assert(json_object_object_get_ex(s, "pages", &v) && json_object_array_length(v) == 2);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(v, 1), "url", &e));
	cr_assert(json_object_object_get_ex(s, "clips", &v) && json_object_array_length(v) == 1);
	cr_assert(json_object_object_get_ex(s, "video", &v) && strstr(json_object_get_string(v), ".mp4") != NULL);
	cr_assert_not(json_object_object_get_ex(s, "pages[{{i}}].url", NULL));
	cr_assert_eq(json_object_object_length(s), 8);
	cr_assert_eq(lc_check_task_data(c, s, err, sizeof(err)), 0, "%s", err);
	json_object_put(s);
	lc_free(c);
}
