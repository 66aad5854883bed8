/* labelconfig.h — the labeling config (<View> XML): parse, validate as Label Studio does, and
 * describe it (parsed_label_config, data keys, sample task), then check task data and annotation
 * results against it. Pure: no database, no request; usable from handlers, workers and tests.
 *
 * A struct labelconfig is malloc-owned by the caller of lc_parse and freed with lc_free; every
 * const char * it hands out lives as long as the config. json-c objects returned are new and owned
 * by the caller (json_object_put). Error messages are written to err (always NUL-terminated when
 * errsz > 0, truncated to fit) and are the texts Label Studio answers with where it has one.
 *
 * Parsing is defensive: input above LC_MAX_BYTES or with more than LC_MAX_TO_ENTRIES toName
 * entries is refused (memory stays a small multiple of the input), any DOCTYPE is refused before its
 * internal subset is read (no entities, no DTD loading, no network, no XInclude), nesting is capped
 * by libxml2's default depth limit, and libxml2 never prints: its first error is captured. */
#ifndef SIALI_LABELCONFIG_H
#define SIALI_LABELCONFIG_H

#include <stddef.h>

struct json_object;
struct labelconfig;

#define LC_MAX_BYTES (1024 * 1024)
#define LC_MAX_TO_ENTRIES 10000 /* toName entries in a whole config */

/* Parses and validates xml (len bytes, need not be NUL-terminated) with the checks of API §2, in
 * Label Studio's order: well-formed XML, the JSON-schema rules (root View; Choices/Labels,
 * Choice/Label, Image/Text/HyperText, TextArea/Number), unique names, every toName entry names
 * something, every object-like tag has value or valueList. Returns the config, or NULL with the
 * message in err ("Label config is not set or is empty" for NULL/blank input). */
struct labelconfig *lc_parse(const char *xml, size_t len, char *err, size_t errsz);
void lc_free(struct labelconfig *c);

/* parsed_label_config as Label Studio returns it: {control_name: {"type", "to_name": [..],
 * ["regex"], ["conditionals"], ["dynamic_labels": true], "inputs": [{"type", "valueType",
 * "value"|"valueList"}], "labels": [..], "labels_attrs": {label: {attr: "string"}}}}, controls
 * and labels in document order, labels keyed by alias, else value (as Label Studio). New object,
 * caller owns; NULL only when out of memory. */
struct json_object *lc_parsed_json(const struct labelconfig *c);

/* Controls: tags with a name and a toName (Filter excepted), in document order. Indexes are
 * 0..lc_ncontrols-1; out-of-range indexes give NULL / 0. */
size_t lc_ncontrols(const struct labelconfig *c);
const char *lc_control_name(const struct labelconfig *c, size_t i);
const char *lc_control_type(const struct labelconfig *c, size_t i);      /* tag, e.g. "RectangleLabels" */
int lc_find_control(const struct labelconfig *c, const char *name);       /* index or -1 */
int lc_control_has_to(const struct labelconfig *c, size_t i, const char *to_name);
int lc_control_has_label(const struct labelconfig *c, size_t i, const char *label);
int lc_control_dynamic(const struct labelconfig *c, size_t i);            /* value="$var" or apiUrl */
size_t lc_control_nlabels(const struct labelconfig *c, size_t i);
const char *lc_control_label(const struct labelconfig *c, size_t i, size_t j);
size_t lc_control_nto(const struct labelconfig *c, size_t i);
const char *lc_control_to(const struct labelconfig *c, size_t i, size_t j);

/* Data keys (Label Studio's project.data_types): every tag below the root with a name and a value
 * contributes value[1:] when value starts with '$' (so "$a.b" gives "a.b" and a Repeater's
 * "$images[{{idx}}].url" is kept whole), else the first $word of a template ("Hello $name" gives
 * "name"). First occurrence fixes the order; a later tag replaces the type unless it is Video. */
size_t lc_ndata_keys(const struct labelconfig *c);
const char *lc_data_key(const struct labelconfig *c, size_t i);
const char *lc_data_key_type(const struct labelconfig *c, size_t i);     /* tag, e.g. "Image" */

/* Checks one task's data object against the data keys (API §3): the key is present (a.b follows
 * nested objects; a Repeater key "k[...]" checks k and requires a list), and the value's JSON type
 * is one the tag accepts. 0 ok; -1 with e.g. `"text" key is expected in task data` or
 * `data['image']=12 is of type 'int', but the object tag Image expects the following types:
 * ['str', 'list']`. A config without data keys accepts any data. The caller renames Label
 * Studio's "$undefined$" placeholder key to lc_data_key(c, 0) before calling. */
int lc_check_task_data(const struct labelconfig *c, struct json_object *data, char *err, size_t errsz);

/* Checks an annotation or prediction result against the config. Each item must be an object
 * with a string "type"; "relation" items need from_id and to_id; others need a from_name naming a
 * control, a to_name whose comma-separated parts are all in that control's toName, and a type that
 * is the control's tag lowercased or its labels/shape twin (rectanglelabels<->rectangle, ...).
 * Returns -1 when all is fine, else the index of the first bad item with the reason in err
 * (`result[2]: from_name "label" is not a control of this labeling config`); a result that is not
 * an array returns 0 with "result must be a list". */
long lc_check_result(const struct labelconfig *c, struct json_object *result, char *err, size_t errsz);

/* Walks a result array and calls fn once per item with label NULL (skipping relations), then once
 * per string found in item.value[<type>] when that is an array (an array of arrays of strings, as
 * taxonomy's, gives each string). Items that are not objects or lack string from_name, to_name or
 * type are skipped. Needs no config. The strings are borrowed for the duration of the call. */
void lc_result_labels(struct json_object *result,
		      void (*fn)(void *ctx, const char *from_name, const char *to_name,
				 const char *type, const char *label),
		      void *ctx);

/* Label Studio's config_essential_data_has_changed(new, old): 1 when new has a control name old
 * lacks, or a control whose type or inputs differ, or misses some of the old control's labels. */
int lc_essential_changed(const struct labelconfig *new_c, const struct labelconfig *old_c);

/* Sample task data for POST /api/projects/{id}/sample-task/: {key: example by tag} for every tag
 * whose value or valueList is "$key" (media URLs, a sentence, dialogue lists, a table object, a
 * time-series CSV URL, label lists...; dotted keys nest, Repeater keys become two-item lists).
 * New object, caller owns; NULL only when out of memory. */
struct json_object *lc_sample_data(const struct labelconfig *c);

#endif
