/* stmts_exports.h — the statements of handlers/exports.c (export snapshots) and of the snapshot
 * walk in handlers/export.c (see stmts.h for the form).
 *
 * A snapshot walks its project's tasks in keyset batches like the easy export, but reads each
 * task's is_labeled (the "finished" filter), each annotation's author (completed_by expanded) and
 * whole predictions (predictions expanded); the filters themselves are applied in C per row, so
 * no statement variant is needed per combination of options. */
#ifndef SIALI_STMTS_EXPORTS_H
#define SIALI_STMTS_EXPORTS_H

/* The export object (17 columns); the creator's UserSimple from a LEFT JOIN (NULL when gone). */
#define EXPORT_OBJ_COLS \
	"e.id, e.title, e.created_by, COALESCE(cu.first_name, ''), COALESCE(cu.last_name, ''), " \
	"COALESCE(cu.email, ''), cu.avatar, " TS("e.created_at") ", " TS("e.finished_at") ", " \
	"e.status, e.md5, e.task_number, e.file, e.options, e.project_id, " \
	"DATE_FORMAT(e.created_at, '%Y-%m-%d-%H-%i'), COALESCE(e.error, '')"
#define EXPORT_OBJ_NCOLS 17
#define EXPORT_OBJ_FROM " FROM exports e LEFT JOIN users cu ON cu.id = e.created_by"

/* The snapshot's task: EXPORT_TASK_COLS and is_labeled (13 columns). */
#define SNAP_TASK_NCOLS (EXPORT_TASK_NCOLS + 1)
/* The snapshot's annotation: EXPORT_ANN_COLS and its author's email, first and last name. */
#define SNAP_ANN_NCOLS (EXPORT_ANN_NCOLS + 3)

#define STMT_LIST_EXPORTS(STMT) \
	/* --- export snapshots --- */ \
	STMT(EXPORTS_INSERT, 4, 0, \
	    "INSERT INTO exports (project_id, title, created_by, options) VALUES (?, ?, ?, ?)") \
	/* id, project */ \
	STMT(EXPORTS_GET, 2, EXPORT_OBJ_NCOLS, \
	    "SELECT " EXPORT_OBJ_COLS EXPORT_OBJ_FROM " WHERE e.id = ? AND e.project_id = ?") \
	/* project: newest first, at most 100 (as Label Studio caps the list) */ \
	STMT(EXPORTS_LIST, 1, EXPORT_OBJ_NCOLS, \
	    "SELECT " EXPORT_OBJ_COLS EXPORT_OBJ_FROM " WHERE e.project_id = ? ORDER BY e.id DESC " \
	    "LIMIT 100") \
	/* conversions of one export / of a project's newest 100 exports (export id first) */ \
	STMT(EXPORTS_CONVERSIONS, 1, 5, \
	    "SELECT c.export_id, c.id, c.status, c.export_type, c.traceback FROM export_conversions c " \
	    "WHERE c.export_id = ? ORDER BY c.id") \
	STMT(EXPORTS_CONVERSIONS_OF_PROJECT, 1, 5, \
	    "SELECT c.export_id, c.id, c.status, c.export_type, c.traceback FROM export_conversions c " \
	    "JOIN exports e ON e.id = c.export_id WHERE e.project_id = ? ORDER BY c.export_id, c.id") \
	STMT(EXPORTS_DELETE, 2, 0, "DELETE FROM exports WHERE id = ? AND project_id = ?") \
	STMT(EXPORTS_CONVERSION_INSERT, 3, 0, \
	    "INSERT INTO export_conversions (export_id, export_type, status, finished_at) " \
	    "VALUES (?, ?, ?, UTC_TIMESTAMP(6))") \
	/* the job: load, start (every run starts over), finish, fail */ \
	STMT(EXPORTS_JOB_LOAD, 1, 3, \
	    "SELECT e.project_id, e.options, p.organization_id FROM exports e " \
	    "JOIN projects p ON p.id = e.project_id WHERE e.id = ?") \
	STMT(EXPORTS_JOB_START, 1, 0, \
	    "UPDATE exports SET status = 'in_progress', file = NULL, md5 = NULL, task_number = 0, " \
	    "error = NULL, finished_at = NULL WHERE id = ?") \
	STMT(EXPORTS_JOB_DONE, 4, 0, \
	    "UPDATE exports SET status = 'completed', file = ?, md5 = ?, task_number = ?, error = NULL, " \
	    "finished_at = UTC_TIMESTAMP(6) WHERE id = ?") \
	STMT(EXPORTS_JOB_FAIL, 2, 0, \
	    "UPDATE exports SET status = 'failed', error = ?, finished_at = UTC_TIMESTAMP(6) " \
	    "WHERE id = ?") \
	\
	/* --- the snapshot walk (handlers/export.c): project, after id, limit / first, last --- */ \
	STMT(SNAP_TASKS, 3, SNAP_TASK_NCOLS, \
	    "SELECT " EXPORT_TASK_COLS ", t.is_labeled FROM tasks t WHERE t.project_id = ? AND t.id > ? " \
	    "ORDER BY t.id LIMIT ?") \
	STMT(SNAP_ANNS, 3, SNAP_ANN_NCOLS, \
	    "SELECT " EXPORT_ANN_COLS ", COALESCE(au.email, ''), COALESCE(au.first_name, ''), " \
	    "COALESCE(au.last_name, '') FROM annotations a LEFT JOIN users au ON au.id = a.completed_by " \
	    "WHERE a.project_id = ? AND a.task_id BETWEEN ? AND ? ORDER BY a.task_id, a.id") \
	STMT(SNAP_PREDS, 3, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS " FROM predictions x WHERE x.project_id = ? " \
	    "AND x.task_id BETWEEN ? AND ? ORDER BY x.task_id, x.id")

#endif
