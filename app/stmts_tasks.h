/* stmts_tasks.h — the statements of handlers/tasks.c and import.c (see stmts.h for the form).
 *
 * Task lists use a deferred join: the page's ids come from the (project_id, id) index alone, then
 * only those rows are read. `include=` picks one of three fixed variants (ids only, no data, all).
 * Annotations, predictions and drafts of a page are read by task-id range on their (task_id, id)
 * indexes (a page ordered by id is a contiguous id range of its project).
 *
 * Bulk inserts carry several rows per statement. db.c binds at most 32 parameters, so a batch
 * statement holds as many rows as fit (TASK_BATCH, ANN_BATCH, PRED_BATCH); the remainder goes
 * through the one-row form. */
#ifndef SIALI_STMTS_TASKS_H
#define SIALI_STMTS_TASKS_H

/* The task row (14 columns); data_expr lets a variant skip reading the data blob. */
#define TASK_COLS(data_expr) \
	"t.id, " data_expr ", t.meta, " TS("t.created_at") ", " TS("t.updated_at") ", t.updated_by, " \
	"t.inner_id, t.is_labeled, t.overlap, t.total_annotations, t.cancelled_annotations, " \
	"t.total_predictions, t.project_id, t.file_upload_id"
#define TASK_NCOLS 14

/* An annotation with its author (25 columns). */
#define ANN_COLS \
	"a.id, a.result, a.completed_by, a.was_cancelled, a.ground_truth, " TS("a.created_at") ", " \
	TS("a.updated_at") ", " TS("a.draft_created_at") ", a.lead_time, a.import_id, a.last_action, " \
	"a.task_id, a.project_id, a.updated_by, a.parent_prediction, a.parent_annotation, " \
	"a.last_created_by, a.unique_id, a.bulk_created, " \
	"TIMESTAMPDIFF(SECOND, a.created_at, UTC_TIMESTAMP(6)), u.first_name, u.last_name, " \
	"COALESCE(u.email, ''), u.avatar, u.username"
#define ANN_NCOLS 25

/* A prediction (14 columns). */
#define PRED_COLS \
	"p.id, p.result, p.score, p.model_version, p.model_id, p.model_run_id, p.cluster, " \
	"p.neighbors, p.mislabeling, p.task_id, p.project_id, " TS("p.created_at") ", " \
	TS("p.updated_at") ", TIMESTAMPDIFF(SECOND, p.created_at, UTC_TIMESTAMP(6))"
#define PRED_NCOLS 14

/* A draft with its author (14 columns). */
#define DRAFT_COLS \
	"d.id, d.user_id, d.result, d.lead_time, d.task_id, d.annotation_id, d.was_postponed, " \
	"d.import_id, " TS("d.created_at") ", " TS("d.updated_at") ", " \
	"TIMESTAMPDIFF(SECOND, d.created_at, UTC_TIMESTAMP(6)), u.first_name, u.last_name, " \
	"COALESCE(u.email, '')"
#define DRAFT_NCOLS 14

/* A page's ids by OFFSET on the (project_id, id) index (forced: the optimizer prefers
 * (project_id, inner_id) and a filesort); params project, size, offset. */
#define TASK_PAGE_IDS_SQL \
	"SELECT id FROM tasks FORCE INDEX (tasks_project) WHERE project_id = ? ORDER BY id LIMIT ? OFFSET ?"
/* The same page as a seek on inner_id: inner ids follow ids (both are handed out under the
 * project row lock), so the page starts after inner id offset + the gaps before it (sql/0004,
 * TASK_GAP_SHIFT); params project, that inner id, size. */
#define TASK_PAGE_IDS_INNER_SQL \
	"SELECT id FROM tasks WHERE project_id = ? AND inner_id > ? ORDER BY inner_id LIMIT ?"

/* The import's batches: one statement per batch with one JSON parameter (JSON_TABLE), so a batch
 * holds any number of rows. Annotations and predictions find their task by (project, inner_id),
 * which the import hands out itself, so no id is read back. Task counters come computed. */
#define IMPORT_JT(cols) "JSON_TABLE(?, '$[*]' COLUMNS(" cols ")) jt"

#define STMT_LIST_TASKS(STMT) \
	/* --- task lists --- */ \
	STMT(TASK_PAGE_IDS, 3, 1, TASK_PAGE_IDS_SQL) \
	STMT(TASK_PAGE, 3, TASK_NCOLS, \
	    "SELECT " TASK_COLS("t.data") " FROM (" TASK_PAGE_IDS_SQL ") k " \
	    "JOIN tasks t ON t.id = k.id ORDER BY t.id") \
	STMT(TASK_PAGE_NODATA, 3, TASK_NCOLS, \
	    "SELECT " TASK_COLS("NULL") " FROM (" TASK_PAGE_IDS_SQL ") k " \
	    "JOIN tasks t ON t.id = k.id ORDER BY t.id") \
	STMT(TASK_PAGE_IDS_INNER, 3, 1, TASK_PAGE_IDS_INNER_SQL) \
	STMT(TASK_PAGE_INNER, 3, TASK_NCOLS, \
	    "SELECT " TASK_COLS("t.data") " FROM (" TASK_PAGE_IDS_INNER_SQL ") k " \
	    "JOIN tasks t ON t.id = k.id ORDER BY t.id") \
	STMT(TASK_PAGE_NODATA_INNER, 3, TASK_NCOLS, \
	    "SELECT " TASK_COLS("NULL") " FROM (" TASK_PAGE_IDS_INNER_SQL ") k " \
	    "JOIN tasks t ON t.id = k.id ORDER BY t.id") \
	STMT(TASK_PAGE_RECENT, 3, TASK_NCOLS, \
	    "SELECT " TASK_COLS("t.data") " FROM (SELECT id, updated_at FROM tasks WHERE project_id = ? " \
	    "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?) k JOIN tasks t ON t.id = k.id " \
	    "ORDER BY k.updated_at DESC, k.id DESC") \
	STMT(TASK_TOTALS, 1, 4, \
	    "SELECT task_number, total_annotations_number, total_predictions_number, " \
	    "next_inner_id - 1 - task_number FROM projects WHERE id = ?") \
	/* Of the project's gaps: how many there are, and how many come before the task at offset ?
	 * (gap j, in order, comes before it when inner_id - j <= offset). */ \
	STMT(TASK_GAP_SHIFT, 2, 2, \
	    "SELECT COUNT(*), COALESCE(SUM(d <= ?), 0) FROM (SELECT inner_id - " \
	    "ROW_NUMBER() OVER (ORDER BY inner_id) AS d FROM task_gaps WHERE project_id = ?) g") \
	STMT(TASK_ANNS, 3, ANN_NCOLS, \
	    "SELECT " ANN_COLS " FROM annotations a LEFT JOIN users u ON u.id = a.completed_by " \
	    "WHERE a.task_id BETWEEN ? AND ? AND a.project_id = ? ORDER BY a.task_id, a.id") \
	STMT(TASK_PREDS, 3, PRED_NCOLS, \
	    "SELECT " PRED_COLS " FROM predictions p " \
	    "WHERE p.task_id BETWEEN ? AND ? AND p.project_id = ? ORDER BY p.task_id, p.id") \
	STMT(TASK_DRAFTS, 4, DRAFT_NCOLS, \
	    "SELECT " DRAFT_COLS " FROM drafts d LEFT JOIN users u ON u.id = d.user_id " \
	    "WHERE d.task_id BETWEEN ? AND ? AND d.project_id = ? AND d.user_id = ? " \
	    "ORDER BY d.task_id, d.id") \
	\
	/* --- one task --- */ \
	STMT(TASK_GET, 1, TASK_NCOLS, "SELECT " TASK_COLS("t.data") " FROM tasks t WHERE t.id = ?") \
	STMT(TASK_GET_LOCK, 1, TASK_NCOLS, \
	    "SELECT " TASK_COLS("t.data") " FROM tasks t WHERE t.id = ? FOR UPDATE") \
	STMT(TASK_INSERT, 6, 0, \
	    "INSERT INTO tasks (project_id, overlap, inner_id, data, meta, updated_by) " \
	    "VALUES (?, ?, ?, ?, ?, ?)") \
	STMT(TASK_UPDATE, 5, 0, \
	    "UPDATE tasks SET data = ?, meta = ?, is_labeled = ?, updated_by = ? WHERE id = ?") \
	STMT(TASK_DELETE, 1, 0, "DELETE FROM tasks WHERE id = ?") \
	STMT(TASK_DELETE_ALL, 1, 0, "DELETE FROM tasks WHERE project_id = ?") \
	STMT(TASK_PROJECT_LOCK, 1, 4, \
	    "SELECT next_inner_id, data_columns, maximum_annotations, skip_queue FROM projects " \
	    "WHERE id = ? FOR UPDATE") \
	STMT(TASK_INNER_RESERVE, 2, 0, \
	    "UPDATE projects SET next_inner_id = next_inner_id + ? WHERE id = ?") \
	STMT(TASK_DATA_COLUMNS_SET, 2, 0, "UPDATE projects SET data_columns = ? WHERE id = ?") \
	\
	/* --- the streaming import (handlers/import.c) --- */ \
	STMT(IMPORT_TASKS, 4, 0, \
	    "INSERT INTO tasks (project_id, overlap, file_upload_id, inner_id, data, meta, " \
	    "total_annotations, cancelled_annotations, ground_truth_annotations, total_predictions, " \
	    "is_labeled) SELECT ?, ?, NULLIF(?, 0), jt.i, jt.d, COALESCE(jt.m, '{}'), jt.t, jt.c, jt.g, " \
	    "jt.p, jt.l FROM " IMPORT_JT("i BIGINT PATH '$.i', d LONGTEXT PATH '$.d', " \
	    "m LONGTEXT PATH '$.m', t INT PATH '$.t', c INT PATH '$.c', g INT PATH '$.g', " \
	    "p INT PATH '$.p', l INT PATH '$.l'")) \
	STMT(IMPORT_ANNS, 2, 0, \
	    "INSERT INTO annotations (project_id, task_id, completed_by, result, was_cancelled, " \
	    "ground_truth, lead_time, import_id, last_action) SELECT t.project_id, t.id, jt.u, jt.r, " \
	    "jt.x, jt.g, jt.l, jt.k, 'imported' FROM " IMPORT_JT("o FOR ORDINALITY, " \
	    "i BIGINT PATH '$.i', u BIGINT PATH '$.u', r LONGTEXT PATH '$.r', x INT PATH '$.x', " \
	    "g INT PATH '$.g', l DOUBLE PATH '$.l', k BIGINT PATH '$.k'") \
	    " JOIN tasks t ON t.project_id = ? AND t.inner_id = jt.i ORDER BY jt.o") \
	STMT(IMPORT_PREDS, 2, 0, \
	    "INSERT INTO predictions (project_id, task_id, result, score, model_version) " \
	    "SELECT t.project_id, t.id, jt.r, jt.s, jt.m FROM " IMPORT_JT("o FOR ORDINALITY, " \
	    "i BIGINT PATH '$.i', r LONGTEXT PATH '$.r', s DOUBLE PATH '$.s', " \
	    "m VARCHAR(255) PATH '$.m'") \
	    " JOIN tasks t ON t.project_id = ? AND t.inner_id = jt.i ORDER BY jt.o") \
	STMT(IMPORT_TASK_IDS, 3, 1, \
	    "SELECT id FROM tasks WHERE project_id = ? AND inner_id >= ? AND inner_id < ? " \
	    "ORDER BY inner_id") \
	/* reimport: the tasks made from some uploads (a JSON list of ids), to delete them first */ \
	STMT(IMPORT_UPLOAD_TASKS, 2, 2, \
	    "SELECT t.id, t.data FROM tasks t WHERE t.project_id = ? AND t.file_upload_id IN " \
	    "(SELECT jt.f FROM " IMPORT_JT("f BIGINT PATH '$'") ") ORDER BY t.id") \
	/* idempotency keys */ \
	STMT(IDEM_PURGE, 1, 0, \
	    "DELETE FROM idempotency_keys WHERE user_id = ? AND created_at < UTC_TIMESTAMP(6) - " \
	    "INTERVAL 1 DAY") \
	STMT(IDEM_PURGE_ALL, 0, 0, \
	    "DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY " \
	    "LIMIT 100") \
	STMT(IDEM_GET, 2, 3, \
	    "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = ? AND " \
	    "idem_key = ?") \
	STMT(IDEM_PUT, 5, 0, \
	    "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, response) " \
	    "VALUES (?, ?, ?, ?, ?)") \
	/* file uploads (handlers/uploads.c and the import) */ \
	STMT(UPLOAD_INSERT, 4, 0, \
	    "INSERT INTO file_uploads (project_id, user_id, file, content_type) VALUES (?, ?, ?, ?)") \
	STMT(UPLOAD_SIZE, 2, 0, "UPDATE file_uploads SET size = ? WHERE id = ?") \
	STMT(UPLOAD_SET, 4, 0, \
	    "UPDATE file_uploads SET file = ?, size = ?, content_type = ? WHERE id = ?") \
	STMT(UPLOAD_GET, 2, 5, \
	    "SELECT f.id, f.file, f.size, f.content_type, f.project_id FROM file_uploads f " \
	    "JOIN projects p ON p.id = f.project_id WHERE f.id = ? AND p.organization_id = ?") \
	STMT(UPLOAD_OF_PROJECT, 2, 5, \
	    "SELECT f.id, f.file, f.size, f.content_type, f.project_id FROM file_uploads f " \
	    "WHERE f.project_id = ? AND f.id = ?") \
	STMT(UPLOAD_BY_FILE, 2, 5, \
	    "SELECT f.id, f.file, f.size, f.content_type, f.project_id FROM file_uploads f " \
	    "WHERE f.project_id = ? AND f.file = ? ORDER BY f.id DESC LIMIT 1") \
	STMT(UPLOAD_LIST_ALL, 1, 5, \
	    "SELECT f.id, f.file, f.size, f.content_type, f.project_id FROM file_uploads f " \
	    "WHERE f.project_id = ? ORDER BY f.id") \
	STMT(UPLOAD_LIST_IDS, 2, 5, \
	    "SELECT f.id, f.file, f.size, f.content_type, f.project_id FROM file_uploads f " \
	    "WHERE f.project_id = ? AND f.id IN (SELECT jt.f FROM " IMPORT_JT("f BIGINT PATH '$'") \
	    ") ORDER BY f.id") \
	STMT(UPLOAD_DELETE, 1, 0, "DELETE FROM file_uploads WHERE id = ?") \
	STMT(IMPORT_MODEL_VERSION, 2, 0, \
	    "UPDATE projects SET model_version = ? WHERE id = ? " \
	    "AND (model_version IS NULL OR model_version = '')") \
	STMT(IMPORT_MEMBER_ID, 2, 1, "SELECT u.id FROM users u" MEMBER_OF("?") " WHERE u.id = ?") \
	STMT(IMPORT_MEMBER_EMAIL, 2, 1, "SELECT u.id FROM users u" MEMBER_OF("?") " WHERE u.email = ?") \
	\
	/* --- the labeling stream --- */ \
	STMT(NEXT_MY_LOCK, 3, 1, \
	    "SELECT l.task_id FROM task_locks l JOIN tasks t ON t.id = l.task_id " \
	    "WHERE l.project_id = ? AND l.user_id = ? AND l.expire_at > UTC_TIMESTAMP(6) " \
	    "AND t.is_labeled = 0 AND NOT EXISTS (SELECT 1 FROM annotations a " \
	    "WHERE a.task_id = t.id AND a.completed_by = ?) ORDER BY l.task_id LIMIT 1") \
	STMT(NEXT_BOUNDS, 1, 2, \
	    "SELECT MIN(id), MAX(id) FROM tasks WHERE project_id = ? AND is_labeled = 0") \
	STMT(NEXT_TASK, 6, 1, \
	    "SELECT t.id FROM tasks t WHERE t.project_id = ? AND t.is_labeled = 0 AND t.id >= ? " \
	    "AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.completed_by = ?) " \
	    "AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.task_id = t.id AND d.user_id = ? " \
	    "AND d.was_postponed = 1) " \
	    "AND t.total_annotations + IF(? = 'IGNORE_SKIPPED', t.cancelled_annotations, 0) + " \
	    "(SELECT COUNT(*) FROM task_locks l WHERE l.task_id = t.id AND l.user_id <> ? " \
	    "AND l.expire_at > UTC_TIMESTAMP(6)) < GREATEST(t.overlap, 1) " \
	    "ORDER BY t.id LIMIT 1 FOR UPDATE SKIP LOCKED") \
	STMT(NEXT_LOCK, 4, 0, \
	    "INSERT INTO task_locks (task_id, user_id, project_id, expire_at) " \
	    "VALUES (?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND) " \
	    "ON DUPLICATE KEY UPDATE expire_at = VALUES(expire_at)") \
	STMT(NEXT_POSTPONED, 2, 1, \
	    "SELECT d.task_id FROM drafts d JOIN tasks t ON t.id = d.task_id " \
	    "WHERE d.project_id = ? AND d.user_id = ? AND d.was_postponed = 1 AND t.is_labeled = 0 " \
	    "ORDER BY d.updated_at, d.id LIMIT 1") \
	STMT(NEXT_SKIPPED, 2, 1, \
	    "SELECT a.task_id FROM annotations a JOIN tasks t ON t.id = a.task_id " \
	    "WHERE a.project_id = ? AND a.completed_by = ? AND a.was_cancelled = 1 " \
	    "AND t.is_labeled = 0 ORDER BY a.updated_at, a.id LIMIT 1")

#endif
