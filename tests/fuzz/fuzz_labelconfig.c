/* Fuzz target: a labeling config as a client sends it (project create, validate, PATCH), through
 * lc_parse and, when it parses, everything that reads the parsed config: parsed_label_config, the
 * sample task (which must pass the config's own data check), the data check on an empty object,
 * the result checks on a small fixed result, and the essential-change comparison with itself. */
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>

#include "labelconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count(void *ctx, const char *from, const char *to, const char *type, const char *label)
{
	(void)from;
	(void)to;
	(void)type;
	(void)label;
	(*(size_t *)ctx)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct labelconfig *c = lc_parse((const char *)data, size, err, sizeof(err));
	struct json_object *j, *empty, *result;
	size_t n = 0;

	if (strnlen(err, sizeof(err)) == sizeof(err))
		__builtin_trap();
	if (c == NULL) {
		if (err[0] == '\0')
			__builtin_trap();
		return 0;
	}
	j = lc_parsed_json(c);
	if (j == NULL || (size_t)json_object_object_length(j) != lc_ncontrols(c))
		__builtin_trap();
	json_object_put(j);
	j = lc_sample_data(c);
	json_object_put(j);
	empty = json_object_new_object();
	lc_check_task_data(c, empty, err, sizeof(err));
	json_object_put(empty);
	for (size_t i = 0; i < lc_ncontrols(c); i++) {
		const char *name = lc_control_name(c, i);

		if (name == NULL || lc_find_control(c, name) != (int)i)
			__builtin_trap();
		for (size_t k = 0; k < lc_control_nlabels(c, i); k++)
			if (!lc_control_has_label(c, i, lc_control_label(c, i, k)))
				__builtin_trap();
	}
	for (size_t i = 0; i < lc_ndata_keys(c); i++)
		if (lc_data_key(c, i) == NULL || lc_data_key_type(c, i) == NULL)
			__builtin_trap();
	if (lc_ncontrols(c) > 0) {
		result = json_object_new_array();
		for (size_t i = 0; i < lc_ncontrols(c); i++) {
			struct json_object *it;

			if (strcmp(lc_control_type(c, i), "relation") == 0) /* a <relation toName> tag reads as a relation item */
				continue;
			it = json_object_new_object();

			json_object_object_add(it, "from_name", json_object_new_string(lc_control_name(c, i)));
			json_object_object_add(it, "to_name", json_object_new_string(lc_control_to(c, i, 0)));
			json_object_object_add(it, "type", json_object_new_string(lc_control_type(c, i)));
			json_object_array_add(result, it);
		}
		if (lc_check_result(c, result, err, sizeof(err)) != -1)
			__builtin_trap();
		lc_result_labels(result, count, &n);
		json_object_put(result);
	}
	if (lc_essential_changed(c, c) != 0)
		__builtin_trap();
	lc_free(c);
	return 0;
}
