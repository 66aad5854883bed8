/* stmts_export.h — the statements of handlers/export.c (see stmts.h for the form).
 *
 * An export walks a project's tasks in keyset batches by id (the (project_id, id) index), then
 * reads that batch's annotations, drafts and prediction ids with one statement each. Without
 * ids[] a batch is a contiguous id range of its project, so the children are read as a range on
 * their (task_id, id) indexes, already in (task, id) order; with ids[] the batch's ids come as a
 * JSON array (JSON_TABLE) and the children are read by that list. */
#ifndef SIALI_STMTS_EXPORT_H
#define SIALI_STMTS_EXPORT_H

/* The task row of an export (12 columns). */
#define EXPORT_TASK_COLS \
	"t.id, t.data, t.meta, " TS("t.created_at") ", " TS("t.updated_at") ", t.inner_id, " \
	"t.total_annotations, t.cancelled_annotations, t.total_predictions, t.project_id, " \
	"t.updated_by, t.file_upload_id"
#define EXPORT_TASK_NCOLS 12
/* "only tasks with annotations (skipped ones included)", from the counters kept by writes */
#define EXPORT_DONE " AND (t.total_annotations > 0 OR t.cancelled_annotations > 0)"
#define EXPORT_IN_LIST(col) \
	" AND " col " IN (SELECT jt.id FROM JSON_TABLE(?, '$[*]' COLUMNS(id BIGINT PATH '$')) jt)"

/* The annotation of an export (19 columns); task_id first for merging. */
#define EXPORT_ANN_COLS \
	"a.task_id, a.id, a.completed_by, a.result, a.was_cancelled, a.ground_truth, " \
	TS("a.created_at") ", " TS("a.updated_at") ", " TS("a.draft_created_at") ", a.lead_time, " \
	"a.unique_id, a.import_id, a.last_action, a.bulk_created, a.project_id, a.updated_by, " \
	"a.parent_prediction, a.parent_annotation, a.last_created_by"
#define EXPORT_ANN_NCOLS 19

#define STMT_LIST_EXPORT(STMT) \
	/* the project's state, for the file name's fingerprint (no scan: counters and one row) */ \
	STMT(EXPORT_FINGERPRINT, 1, 9, \
	    "SELECT task_number, total_annotations_number, skipped_annotations_number, " \
	    "total_predictions_number, next_inner_id, " TS("updated_at") ", " \
	    "DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f'), YEAR(updated_at), data_columns " \
	    "FROM projects WHERE id = ?") \
	/* tasks: project, after id, limit */ \
	STMT(EXPORT_TASKS_ALL, 3, EXPORT_TASK_NCOLS, \
	    "SELECT " EXPORT_TASK_COLS " FROM tasks t WHERE t.project_id = ? AND t.id > ? " \
	    "ORDER BY t.id LIMIT ?") \
	STMT(EXPORT_TASKS_DONE, 3, EXPORT_TASK_NCOLS, \
	    "SELECT " EXPORT_TASK_COLS " FROM tasks t WHERE t.project_id = ? AND t.id > ?" EXPORT_DONE \
	    " ORDER BY t.id LIMIT ?") \
	/* tasks by list: project, [ids] */ \
	STMT(EXPORT_TASKS_ALL_LIST, 2, EXPORT_TASK_NCOLS, \
	    "SELECT " EXPORT_TASK_COLS " FROM tasks t WHERE t.project_id = ?" EXPORT_IN_LIST("t.id") \
	    " ORDER BY t.id") \
	STMT(EXPORT_TASKS_DONE_LIST, 2, EXPORT_TASK_NCOLS, \
	    "SELECT " EXPORT_TASK_COLS " FROM tasks t WHERE t.project_id = ?" EXPORT_IN_LIST("t.id") \
	    EXPORT_DONE " ORDER BY t.id") \
	/* children by range: project, first task, last task */ \
	STMT(EXPORT_ANNS, 3, EXPORT_ANN_NCOLS, \
	    "SELECT " EXPORT_ANN_COLS " FROM annotations a WHERE a.project_id = ? " \
	    "AND a.task_id BETWEEN ? AND ? ORDER BY a.task_id, a.id") \
	STMT(EXPORT_DRAFTS, 3, DRAFT_OBJ_NCOLS, \
	    "SELECT " DRAFT_OBJ_COLS DRAFT_FROM " WHERE d.project_id = ? " \
	    "AND d.task_id BETWEEN ? AND ? ORDER BY d.task_id, d.id") \
	STMT(EXPORT_PREDS, 3, 2, \
	    "SELECT x.task_id, x.id FROM predictions x WHERE x.project_id = ? " \
	    "AND x.task_id BETWEEN ? AND ? ORDER BY x.task_id, x.id") \
	/* children by list: project, [ids] */ \
	STMT(EXPORT_ANNS_LIST, 2, EXPORT_ANN_NCOLS, \
	    "SELECT " EXPORT_ANN_COLS " FROM annotations a WHERE a.project_id = ?" \
	    EXPORT_IN_LIST("a.task_id") " ORDER BY a.task_id, a.id") \
	STMT(EXPORT_DRAFTS_LIST, 2, DRAFT_OBJ_NCOLS, \
	    "SELECT " DRAFT_OBJ_COLS DRAFT_FROM " WHERE d.project_id = ?" EXPORT_IN_LIST("d.task_id") \
	    " ORDER BY d.task_id, d.id") \
	STMT(EXPORT_PREDS_LIST, 2, 2, \
	    "SELECT x.task_id, x.id FROM predictions x WHERE x.project_id = ?" \
	    EXPORT_IN_LIST("x.task_id") " ORDER BY x.task_id, x.id")

#endif
