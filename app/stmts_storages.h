/* stmts_storages.h — the statements of handlers/storage_common.c and handlers/storages.c (the
 * storage API); see stmts.h for the form. */
#ifndef SIALI_STMTS_STORAGES_H
#define SIALI_STMTS_STORAGES_H

/* A storage row as struct stor reads it (handlers/storage_common.c): 18 columns of storages s
 * joined to its project p. */
#define STOR_COLS \
	"s.id, s.project_id, p.organization_id, s.direction, s.kind, s.title, s.description, " \
	"s.config, s.synchronizable, s.status, " TS("s.last_sync") ", s.last_sync_count, " \
	"s.last_sync_job, s.traceback, s.meta, " TS("s.created_at") ", s.sync_cursor, s.sync_count"
#define STOR_NCOLS 18
#define STOR_FROM " FROM storages s JOIN projects p ON p.id = s.project_id"

#define STMT_LIST_STORAGES(STMT) \
	/* --- storages: scoped loads (id, organization, direction) and the job's unscoped one --- */ \
	STMT(STOR_GET, 3, STOR_NCOLS, \
	    "SELECT " STOR_COLS STOR_FROM " WHERE s.id = ? AND p.organization_id = ? AND s.direction = ?") \
	STMT(STOR_GET_ANY, 1, STOR_NCOLS, "SELECT " STOR_COLS STOR_FROM " WHERE s.id = ?") \
	/* a project's storages of one direction (and kind: "" for every kind), oldest first */ \
	STMT(STOR_OF_PROJECT, 4, STOR_NCOLS, \
	    "SELECT " STOR_COLS STOR_FROM " WHERE s.project_id = ? AND s.direction = ? " \
	    "AND (? = '' OR s.kind = ?) ORDER BY s.id")

#endif
