/* Fuzz target: a CSV/TSV import body through csvrows. Input: one config byte (separator, limits,
 * largest chunk), two seed bytes for the chunk sizes, then the body. The body is read whole and in
 * pseudo-random chunks derived from the seed: both must give the same rows (compared as JSON
 * text), lines, status and message; every row must have the header's keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "csvrows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	struct csvrows *c;
	uint64_t hash;
	size_t rows;
	size_t ncols;
	int rc;
	char err[256];
};

static void
mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ s[i]) * 0x100000001b3ULL;
}

static int
on_row(void *ctx, struct json_object *row, size_t index, size_t line)
{
	struct outcome *o = ctx;
	const char *text = json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN);

	if (index != o->rows || line == 0 || (size_t)json_object_object_length(row) != csvrows_ncolumns(o->c))
		__builtin_trap();
	mix(&o->hash, &index, sizeof(index));
	mix(&o->hash, &line, sizeof(line));
	mix(&o->hash, text, strlen(text));
	o->rows++;
	json_object_put(row);
	return 0;
}

static void
run(struct outcome *o, char sep, const struct csvrows_limits *lim, const char *p, size_t n,
    uint32_t seed, size_t maxchunk)
{
	struct csvrows *c = csvrows_new(sep, lim, on_row, o);
	size_t i = 0;

	o->hash = 0xcbf29ce484222325ULL;
	o->rows = 0;
	o->rc = 0;
	if (c == NULL)
		abort();
	o->c = c;
	while (i < n && o->rc == 0) {
		size_t k = n - i;

		if (seed) {
			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
			if (k > 1 + seed % maxchunk)
				k = 1 + seed % maxchunk;
		}
		o->rc = csvrows_feed(c, p + i, k);
		i += k;
	}
	if (o->rc == 0)
		o->rc = csvrows_finish(c);
	strncpy(o->err, csvrows_error(c), sizeof(o->err) - 1);
	o->err[sizeof(o->err) - 1] = '\0';
	o->ncols = csvrows_ncolumns(c);
	for (size_t k = 0; k < o->ncols; k++)
		mix(&o->hash, csvrows_column(c, k), strlen(csvrows_column(c, k)) + 1);
	if ((o->rc == 0) != (o->err[0] == '\0') || csvrows_count(c) != o->rows)
		__builtin_trap();
	csvrows_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = { 0, ',', ';', '\t' };
	static const size_t fields[] = { 0, 1, 8, 64 };
	static const size_t cols[] = { 0, 1, 3, 16 };
	struct outcome whole = { 0 }, chunked = { 0 };
	struct csvrows_limits lim = { 0 };
	size_t n, maxchunk;
	uint32_t seed;
	char sep;

	if (size < 3)
		return 0;
	n = size - 3;
	sep = seps[data[0] & 3];
	lim.max_field = fields[(data[0] >> 2) & 3];
	lim.field_setting = "max_csv_field";
	lim.max_columns = cols[(data[0] >> 4) & 3];
	maxchunk = (size_t)1 << ((data[0] >> 6) & 3) * 3;   /* 1, 8, 64, 512 */
	seed = (uint32_t)data[1] << 8 | data[2] | 1u << 16;

	run(&whole, sep, &lim, (const char *)data + 3, n, 0, 1);
	run(&chunked, sep, &lim, (const char *)data + 3, n, seed, maxchunk);
	if (whole.rc != chunked.rc || whole.rows != chunked.rows || whole.hash != chunked.hash ||
	    whole.ncols != chunked.ncols || strcmp(whole.err, chunked.err) != 0)
		__builtin_trap();
	return 0;
}
