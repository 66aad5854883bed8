/* Fuzz target: a JSON import body through the jsonstream splitter. Input: one config byte (limits,
 * largest chunk), two seed bytes for the chunk sizes, then the body. The body is split whole and
 * in pseudo-random chunks derived from the seed: both must give the same items, status and
 * message. Oracle: when json-c (strict) parses the whole body as a list, the splitter (no limits)
 * must accept it and hand out spans that js_parse reads as the list's elements (except for
 * 'single-quoted' strings, which json-c takes and the splitter refuses on purpose). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "jsonstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	uint64_t hash;
	size_t items;
	int rc;
	char err[256];
	struct json_object *items_json;   /* the oracle run keeps parsed items */
};

static void
mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ s[i]) * 0x100000001b3ULL;
}

static int
on_item(void *ctx, const char *p, size_t n, size_t index)
{
	struct outcome *o = ctx;

	if (index != o->items)
		__builtin_trap();
	mix(&o->hash, &index, sizeof(index));
	mix(&o->hash, p, n);
	o->items++;
	if (o->items_json) {
		char err[256];
		struct json_object *v = js_parse(p, n, 0, JSON_TOKENER_DEFAULT_DEPTH * 64, err, sizeof(err));

		/* a list json-c accepted: every span is exactly one element */
		if (v == NULL && err[0] != '\0')
			__builtin_trap();
		json_object_array_add(o->items_json, v);
	}
	return 0;
}

static void
run(struct outcome *o, const struct js_limits *lim, const char *p, size_t n, uint32_t seed,
    size_t maxchunk)
{
	struct jsonstream *js = js_new(lim, on_item, o);
	size_t i = 0;

	o->hash = 0xcbf29ce484222325ULL;
	o->items = 0;
	o->rc = 0;
	if (js == NULL)
		abort();
	while (i < n && o->rc == 0) {
		size_t k = n - i;

		if (seed) {
			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
			if (k > 1 + seed % maxchunk)
				k = 1 + seed % maxchunk;
		}
		o->rc = js_feed(js, p + i, k);
		i += k;
	}
	if (o->rc == 0)
		o->rc = js_finish(js);
	strncpy(o->err, js_error(js), sizeof(o->err) - 1);
	o->err[sizeof(o->err) - 1] = '\0';
	if ((o->rc == 0) != (o->err[0] == '\0') || js_count(js) != o->items)
		__builtin_trap();
	js_free(js);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t depths[] = { 0, 1, 2, 3, 8 };
	static const size_t sizes[] = { 0, 1, 4, 16, 64 };
	struct outcome whole = { 0 }, chunked = { 0 }, oracle = { 0 };
	struct js_limits lim = { 0 };
	const char *p = (const char *)data + 3;
	size_t n, maxchunk;
	uint32_t seed;
	struct json_tokener *tok;
	struct json_object *doc;

	if (size < 3)
		return 0;
	n = size - 3;
	lim.max_depth = depths[data[0] % 5];
	lim.depth_setting = data[0] & 0x80 ? "max_json_depth" : NULL;
	lim.max_element = sizes[(data[0] >> 3) % 5];
	lim.element_setting = "max_task_bytes";
	maxchunk = (size_t)1 << ((data[0] >> 5) & 3) * 2;   /* 1, 4, 16, 64 */
	seed = (uint32_t)data[1] << 8 | data[2] | 1u << 16;

	run(&whole, &lim, p, n, 0, 1);
	run(&chunked, &lim, p, n, seed, maxchunk);
	if (whole.rc != chunked.rc || whole.items != chunked.items || whole.hash != chunked.hash ||
	    strcmp(whole.err, chunked.err) != 0)
		__builtin_trap();

	/* the oracle: no limits, against json-c's strict parse of the whole body */
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 64);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	doc = json_tokener_parse_ex(tok, p, (int)n);
	if (doc && json_object_is_type(doc, json_type_array) && json_tokener_get_parse_end(tok) == n &&
	    memchr(p, '\0', n) == NULL && memchr(p, '\'', n) == NULL) {
		oracle.items_json = json_object_new_array();
		run(&oracle, NULL, p, n, seed, maxchunk);
		/* compared as text: NaN is not equal to itself */
		if (oracle.rc != 0 || strcmp(json_object_to_json_string(doc),
		    json_object_to_json_string(oracle.items_json)) != 0)
			__builtin_trap();
		json_object_put(oracle.items_json);
	}
	json_object_put(doc);
	json_tokener_free(tok);
	return 0;
}
