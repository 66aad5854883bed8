/* jsonx.h — short forms for building replies and reading request bodies with json-c.
 * Builders take a borrowed key and copy strings; a NULL string becomes JSON null. */
#ifndef SIALI_JSONX_H
#define SIALI_JSONX_H

#include <stdint.h>
#include <json-c/json.h>

void jadd_str(struct json_object *o, const char *key, const char *s);
void jadd_int(struct json_object *o, const char *key, int64_t v);
void jadd_bool(struct json_object *o, const char *key, int v);
void jadd_null(struct json_object *o, const char *key);
/* An integer, or null when is_null. */
void jadd_int_or_null(struct json_object *o, const char *key, int64_t v, int is_null);

/* Reading a body field. Each returns 0 when the key is absent, 1 when present with the right
 * type (value stored), and -1 when present with the wrong type. JSON null counts as present for
 * jget_str_or_null (stored as NULL) and as the wrong type for the others. */
int jget_str(struct json_object *o, const char *key, const char **out);
int jget_str_or_null(struct json_object *o, const char *key, const char **out);
int jget_bool(struct json_object *o, const char *key, int *out);
int jget_int(struct json_object *o, const char *key, int64_t *out);

/* The Python type name of a JSON value, as DRF's messages name it ("list", "dict", "str", "int",
 * "float", "bool", "NoneType"). */
const char *jpy_type(struct json_object *v);

#endif
