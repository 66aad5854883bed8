/* Fuzz target: a storage listing as a server answers it (untrusted bytes), through the S3
 * ListObjectsV2 reader and the Azure List Blobs reader. The first byte picks the reader; every
 * object handed out must have a key inside the prefix, and a cursor comes only with success. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check(void *ctx, const struct storage_object *o)
{
	const char *prefix = ctx;

	if (o->key == NULL || strncmp(o->key, prefix, strlen(prefix)) != 0)
		__builtin_trap();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prefix[] = "data/";
	char err[256], *next = NULL;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		rc = storage_azure_parse_list(prefix, (const char *)data + 1, size - 1, check, prefix,
		    &next, err, sizeof(err));
	else
		rc = storage_s3_parse_list((const char *)data + 1, size - 1, prefix, check, prefix,
		    &next, err, sizeof(err));
	if (rc != STORAGE_OK && next != NULL)
		__builtin_trap();
	free(next);
	return 0;
}
