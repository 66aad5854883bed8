/* Fuzz target: a multipart/form-data body through the multipart parser. Input: one config byte
 * (limits, largest chunk), two seed bytes for the chunk sizes, then either "\n"-terminated
 * Content-Type header value followed by the body, or (no '\n' in the first 200 bytes) a body for
 * "multipart/form-data; boundary=XyZ". The body is parsed whole and in pseudo-random chunks
 * derived from the seed: both must give the same parts, content, status and message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	uint64_t hash;
	size_t parts;
	int in_part;
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

static void
mix_str(uint64_t *h, const char *s)
{
	if (s)
		mix(h, s, strlen(s) + 1);
	else
		mix(h, "\xff", 1);
}

static int
on_begin(void *ctx, const struct mp_part *part)
{
	struct outcome *o = ctx;

	if (o->in_part || part->index != o->parts || part->name == NULL)
		__builtin_trap();
	o->in_part = 1;
	mix(&o->hash, "<", 1);
	mix_str(&o->hash, part->name);
	mix_str(&o->hash, part->filename);
	mix_str(&o->hash, part->content_type);
	return 0;
}

static int
on_data(void *ctx, const struct mp_part *part, const char *p, size_t n)
{
	struct outcome *o = ctx;

	if (!o->in_part || n == 0 || part->index != o->parts)
		__builtin_trap();
	mix(&o->hash, p, n);   /* content only: chunking may cut it anywhere */
	return 0;
}

static int
on_end(void *ctx, const struct mp_part *part)
{
	struct outcome *o = ctx;

	if (!o->in_part || part->index != o->parts)
		__builtin_trap();
	o->in_part = 0;
	o->parts++;
	mix(&o->hash, ">", 1);
	return 0;
}

static const struct mp_callbacks cbs = { on_begin, on_data, on_end };

static int
run(struct outcome *o, const char *ct, const struct mp_limits *lim, const char *p, size_t n,
    uint32_t seed, size_t maxchunk)
{
	char err[128];
	struct multipart *m = mp_new(ct, lim, &cbs, o, err, sizeof(err));
	size_t i = 0;

	o->hash = 0xcbf29ce484222325ULL;
	if (m == NULL) {
		if (err[0] == '\0')
			__builtin_trap();
		return -1;
	}
	while (i < n && o->rc == 0) {
		size_t k = n - i;

		if (seed) {
			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
			if (k > 1 + seed % maxchunk)
				k = 1 + seed % maxchunk;
		}
		o->rc = mp_feed(m, p + i, k);
		i += k;
	}
	if (o->rc == 0)
		o->rc = mp_finish(m);
	strncpy(o->err, mp_error(m), sizeof(o->err) - 1);
	o->err[sizeof(o->err) - 1] = '\0';
	if ((o->rc == 0) != (o->err[0] == '\0') || (o->rc == 0 && o->in_part) ||
	    mp_count(m) != o->parts + (size_t)o->in_part)
		__builtin_trap();
	mp_free(m);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t parts[] = { 0, 1, 2, 5 };
	static const size_t hdrs[] = { 0, 16, 64, 256 };
	struct outcome whole = { 0 }, chunked = { 0 };
	struct mp_limits lim = { 0 };
	char ct[256] = "multipart/form-data; boundary=XyZ";
	const char *p = (const char *)data + 3, *nl;
	size_t n, maxchunk;
	uint32_t seed;

	if (size < 3)
		return 0;
	n = size - 3;
	lim.max_parts = parts[data[0] & 3];
	lim.parts_setting = "max_form_parts";
	lim.max_files = parts[(data[0] >> 2) & 3];
	lim.max_header_bytes = hdrs[(data[0] >> 4) & 3];
	lim.header_setting = "max_part_header_bytes";
	maxchunk = (size_t)1 << ((data[0] >> 6) & 3) * 3;   /* 1, 8, 64, 512 */
	seed = (uint32_t)data[1] << 8 | data[2] | 1u << 16;
	if ((nl = memchr(p, '\n', n < 200 ? n : 200)) != NULL) {
		size_t l = (size_t)(nl - p);

		memcpy(ct, p, l);
		ct[l] = '\0';
		n -= l + 1;
		p = nl + 1;
	}
	if (run(&whole, ct, &lim, p, n, 0, 1) != 0) {
		if (run(&chunked, ct, &lim, p, n, seed, maxchunk) != -1)
			__builtin_trap();
		return 0;
	}
	run(&chunked, ct, &lim, p, n, seed, maxchunk);
	if (whole.rc != chunked.rc || whole.parts != chunked.parts || whole.hash != chunked.hash ||
	    strcmp(whole.err, chunked.err) != 0)
		__builtin_trap();
	return 0;
}
