/* jsonx.c — json-c short forms (see jsonx.h). */
#include "jsonx.h"

void
jadd_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s != NULL ? json_object_new_string(s) : NULL);
}

void
jadd_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void
jadd_bool(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v != 0));
}

void
jadd_null(struct json_object *o, const char *key)
{
	json_object_object_add(o, key, NULL);
}

void
jadd_int_or_null(struct json_object *o, const char *key, int64_t v, int is_null)
{
	json_object_object_add(o, key, is_null ? NULL : json_object_new_int64(v));
}

int
jget_str(struct json_object *o, const char *key, const char **out)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 1;
}

int
jget_str_or_null(struct json_object *o, const char *key, const char **out)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (v == NULL) {
		*out = NULL;
		return 1;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 1;
}

int
jget_bool(struct json_object *o, const char *key, int *out)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 1;
}

int
jget_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 1;
}

const char *
jpy_type(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "NoneType";
	case json_type_boolean: return "bool";
	case json_type_double: return "float";
	case json_type_int: return "int";
	case json_type_object: return "dict";
	case json_type_array: return "list";
	case json_type_string: return "str";
	}
	return "object";
}
