/* stmts_sync.h — the statements of handlers/storage_sync.c: the import sync and the export
 * writers run by `siali worker` (see stmts.h for the form). */
#ifndef SIALI_STMTS_SYNC_H
#define SIALI_STMTS_SYNC_H

#define STMT_LIST_SYNC(STMT) \
	/* --- storage sync jobs --- */ \
	STMT(SYNC_NOTHING_YET, 0, 1, "SELECT 1")

#endif
