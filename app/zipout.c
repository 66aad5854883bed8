/* zipout.c — reproducible zip archives over libzip (see zipout.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "log.h"
#include "zipout.h"

struct zipout {
	zip_t *za;
};

/* 1980-01-01 00:00:00 in DOS format: the earliest a zip can say, and the same on every run. */
#define DOS_DATE ((0 << 9) | (1 << 5) | 1)
#define DOS_TIME 0

struct zipout *
zipout_open(const char *path)
{
	struct zipout *z = calloc(1, sizeof(*z));
	int err = 0;

	if (z == NULL)
		return NULL;
	z->za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	if (z->za == NULL) {
		log_error("export: zip_open failed (libzip error %d)", err);
		free(z);
		return NULL;
	}
	return z;
}

/* Fixed time and attributes for entry i. */
static int
settle(struct zipout *z, zip_int64_t i, int dir)
{
	zip_uint32_t mode = dir ? (040755u << 16) : (0100644u << 16);

	if (zip_file_set_dostime(z->za, (zip_uint64_t)i, DOS_TIME, DOS_DATE, 0) != 0 ||
	    zip_file_set_external_attributes(z->za, (zip_uint64_t)i, 0, ZIP_OPSYS_UNIX, mode) != 0) {
		log_error("export: zip entry attributes: %s", zip_strerror(z->za));
		return -1;
	}
	return 0;
}

int
zipout_dir(struct zipout *z, const char *name)
{
	size_t n = strlen(name);
	char buf[1024];
	zip_int64_t i;

	if (n == 0 || n + 2 > sizeof(buf))
		return -1;
	memcpy(buf, name, n + 1);
	if (buf[n - 1] != '/') {
		buf[n] = '/';
		buf[n + 1] = '\0';
	}
	if ((i = zip_dir_add(z->za, buf, ZIP_FL_ENC_UTF_8)) < 0) {
		log_error("export: zip_dir_add: %s", zip_strerror(z->za));
		return -1;
	}
	return settle(z, i, 1);
}

int
zipout_file(struct zipout *z, const char *name, const char *path)
{
	zip_source_t *src = zip_source_file(z->za, path, 0, -1);
	zip_int64_t i;

	if (src == NULL) {
		log_error("export: zip_source_file: %s", zip_strerror(z->za));
		return -1;
	}
	if ((i = zip_file_add(z->za, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE)) < 0) {
		log_error("export: zip_file_add: %s", zip_strerror(z->za));
		zip_source_free(src);
		return -1;
	}
	return settle(z, i, 0);
}

int
zipout_close(struct zipout *z)
{
	int rc = 0;

	if (zip_close(z->za) != 0) {
		log_error("export: zip_close: %s", zip_strerror(z->za));
		zip_discard(z->za);
		rc = -1;
	}
	free(z);
	return rc;
}

void
zipout_discard(struct zipout *z)
{
	if (z == NULL)
		return;
	zip_discard(z->za);
	free(z);
}
