/* migrate.h — forward-only schema migrations. The files of sql/ are compiled into the binary
 * (CMake embeds them), applied in order by `siali migrate` and recorded in schema_migrations with
 * a checksum, so an edit to a migration that already ran is caught rather than silently skipped. */
#ifndef SIALI_MIGRATE_H
#define SIALI_MIGRATE_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
	size_t len;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

/* Applies every pending migration. 0 ok, -1 error (logged). */
int migrate_run(void);
/* How many migrations are pending (>= 0), or -1 when the database cannot be read or an applied
 * migration no longer matches its file (logged). */
int migrate_pending(void);

#endif
