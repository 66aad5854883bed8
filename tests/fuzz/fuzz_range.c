/* Fuzz target: a Range header as a client sends it to GET /data/upload/..., against a file size
 * taken from the first bytes. A range handed out must lie inside the file. */
#include <stdint.h>
#include <string.h>

#include "shared.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char h[256];
	uint32_t fsize = 0;
	int64_t from = -1, to = -1;
	int rc;

	if (size < 4)
		return 0;
	memcpy(&fsize, data, 4);
	size -= 4;
	if (size >= sizeof(h))
		size = sizeof(h) - 1;
	memcpy(h, data + 4, size);
	h[size] = '\0';
	rc = uploads_parse_range(h, (int64_t)fsize, &from, &to);
	if (rc == 1 && !(from >= 0 && from <= to && to < (int64_t)fsize))
		__builtin_trap();
	if (rc < -1 || rc > 1)
		__builtin_trap();
	return 0;
}
