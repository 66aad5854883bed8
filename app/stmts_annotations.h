/* stmts_annotations.h — the statements of handlers/annotations.c, drafts.c and predictions.c (see
 * stmts.h for the form).
 *
 * Locks. A write that moves counters locks its task row and then its project row (ANN_LOCK_TASK)
 * before it inserts anything: an INSERT takes shared locks on the parent rows through its foreign
 * keys, and two transactions that both hold a shared lock on the project row and then both want
 * to update it deadlock. Taking the exclusive locks first, in the order of shared.h (task, then
 * project, then label_usage), makes concurrent writes on one task or project queue instead. Rows
 * read inside those transactions are read with FOR UPDATE (locking reads), so the transaction's
 * read view is made only by stats_task_refresh's count, after the task lock is held. Draft writes
 * move no counters: they take shared locks on the task and project rows (DRAFT_LOCK_TASK), in the
 * same order, before their own rows and label_usage.
 *
 * Nullable numbers are bound as text ('s', NULL for SQL NULL) or through NULLIF(?, 0) for ids. */
#ifndef SIALI_STMTS_ANNOTATIONS_H
#define SIALI_STMTS_ANNOTATIONS_H

/* The annotation object and its author (22 columns), from annotations a LEFT JOIN users u. */
#define ANNOTATION_COLS \
	"a.id, a.result, a.completed_by, a.was_cancelled, a.ground_truth, " TS("a.created_at") ", " \
	TS("a.updated_at") ", " TS("a.draft_created_at") ", a.lead_time, a.import_id, a.last_action, " \
	"a.task_id, a.project_id, a.updated_by, a.parent_prediction, a.parent_annotation, " \
	"a.last_created_by, a.bulk_created, TIMESTAMPDIFF(SECOND, a.created_at, UTC_TIMESTAMP(6)), " \
	"u.first_name, u.last_name, COALESCE(u.email, '')"
#define ANNOTATION_NCOLS 22
#define ANNOTATION_FROM " FROM annotations a LEFT JOIN users u ON u.id = a.completed_by"

/* The draft object and its author (14 columns), from drafts d LEFT JOIN users u. */
#define DRAFT_OBJ_COLS \
	"d.id, d.user_id, d.result, d.lead_time, d.task_id, d.annotation_id, d.was_postponed, " \
	"d.import_id, " TS("d.created_at") ", " TS("d.updated_at") ", " \
	"TIMESTAMPDIFF(SECOND, d.created_at, UTC_TIMESTAMP(6)), u.first_name, u.last_name, " \
	"COALESCE(u.email, '')"
#define DRAFT_OBJ_NCOLS 14
#define DRAFT_FROM " FROM drafts d LEFT JOIN users u ON u.id = d.user_id"

/* The prediction object (14 columns), from predictions x. */
#define PREDICTION_COLS \
	"x.id, x.result, x.score, x.model_version, x.model_id, x.model_run_id, x.cluster, " \
	"x.neighbors, x.mislabeling, x.task_id, x.project_id, " TS("x.created_at") ", " \
	TS("x.updated_at") ", TIMESTAMPDIFF(SECOND, x.created_at, UTC_TIMESTAMP(6))"
#define PREDICTION_NCOLS 14
#define PRED_IN_ORG " FROM predictions x JOIN projects p ON p.id = x.project_id AND p.organization_id = ?"

/* Bulk prediction import: one statement per chunk reads a JSON array of
 * {"t": task, "r": "<result as JSON text>", "s": score|null, "m": model_version}. */
#define PRED_JT(cols) "JSON_TABLE(?, '$[*]' COLUMNS(" cols ")) jt"

#define STMT_LIST_ANNOTATIONS(STMT) \
	/* --- annotations --- */ \
	STMT(ANN_LIST, 1, ANNOTATION_NCOLS, \
	    "SELECT " ANNOTATION_COLS ANNOTATION_FROM " WHERE a.task_id = ? AND a.was_cancelled = 0 " \
	    "ORDER BY a.id") \
	STMT(ANN_GET, 2, ANNOTATION_NCOLS, \
	    "SELECT " ANNOTATION_COLS ANNOTATION_FROM \
	    " JOIN projects p ON p.id = a.project_id WHERE a.id = ? AND p.organization_id = ?") \
	STMT(ANN_BY_ID, 1, ANNOTATION_NCOLS, \
	    "SELECT " ANNOTATION_COLS ANNOTATION_FROM " WHERE a.id = ?") \
	STMT(ANN_LOCK_TASK, 1, 2, \
	    "SELECT t.id, p.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ? " \
	    "FOR UPDATE") \
	STMT(ANN_LOCK, 1, 7, \
	    "SELECT task_id, result, was_cancelled, ground_truth, lead_time, completed_by, project_id " \
	    "FROM annotations WHERE id = ? FOR UPDATE") \
	STMT(ANN_SKIP_ALLOWED, 1, 1, "SELECT show_skip_button FROM projects WHERE id = ?") \
	STMT(ANN_MEMBER, 2, 1, \
	    "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id " \
	    "AND m.organization_id = ? AND m.deleted_at IS NULL WHERE u.id = ? AND u.is_active = 1") \
	STMT(ANN_PRED_IN_ORG, 2, 1, \
	    "SELECT x.id FROM predictions x JOIN projects p ON p.id = x.project_id " \
	    "WHERE x.id = ? AND p.organization_id = ?") \
	STMT(ANN_IN_ORG, 2, 1, \
	    "SELECT a.id FROM annotations a JOIN projects p ON p.id = a.project_id " \
	    "WHERE a.id = ? AND p.organization_id = ?") \
	STMT(ANN_INSERT, 12, 0, \
	    "INSERT INTO annotations (task_id, project_id, result, completed_by, updated_by, " \
	    "was_cancelled, ground_truth, lead_time, unique_id, parent_prediction, parent_annotation, " \
	    "draft_created_at) VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, NULLIF(?, 0), " \
	    "NULLIF(?, 0), ?)") \
	STMT(ANN_UPDATE, 7, 0, \
	    "UPDATE annotations SET result = ?, was_cancelled = ?, ground_truth = ?, lead_time = ?, " \
	    "completed_by = NULLIF(?, 0), updated_by = ? WHERE id = ?") \
	STMT(ANN_GT_CLEAR, 2, 0, \
	    "UPDATE annotations SET ground_truth = 0 WHERE task_id = ? AND id <> ? AND ground_truth = 1") \
	STMT(ANN_DELETE, 1, 0, "DELETE FROM annotations WHERE id = ?") \
	STMT(ANN_DRAFT_RESULTS, 1, 1, "SELECT result FROM drafts WHERE annotation_id = ? FOR UPDATE") \
	STMT(ANN_TASK_UNLOCK, 2, 0, "DELETE FROM task_locks WHERE task_id = ? AND user_id = ?") \
	\
	/* --- drafts --- */ \
	STMT(DRAFT_LIST, 1, DRAFT_OBJ_NCOLS, \
	    "SELECT " DRAFT_OBJ_COLS DRAFT_FROM " WHERE d.task_id = ? ORDER BY d.id") \
	STMT(DRAFT_GET, 2, DRAFT_OBJ_NCOLS, \
	    "SELECT " DRAFT_OBJ_COLS DRAFT_FROM \
	    " JOIN projects p ON p.id = d.project_id WHERE d.id = ? AND p.organization_id = ?") \
	STMT(DRAFT_BY_ID, 1, DRAFT_OBJ_NCOLS, "SELECT " DRAFT_OBJ_COLS DRAFT_FROM " WHERE d.id = ?") \
	STMT(DRAFT_LOCK, 1, 7, \
	    "SELECT task_id, user_id, result, lead_time, was_postponed, project_id, created_at " \
	    "FROM drafts WHERE id = ? FOR UPDATE") \
	STMT(DRAFT_LOCK_TASK, 1, 1, \
	    "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ? " \
	    "LOCK IN SHARE MODE") \
	STMT(DRAFT_ANN_OF_TASK, 2, 1, "SELECT id FROM annotations WHERE id = ? AND task_id = ?") \
	STMT(DRAFT_INSERT, 7, 0, \
	    "INSERT INTO drafts (task_id, project_id, user_id, annotation_id, result, lead_time, " \
	    "was_postponed) VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?)") \
	STMT(DRAFT_UPDATE, 4, 0, \
	    "UPDATE drafts SET result = ?, lead_time = ?, was_postponed = ? WHERE id = ?") \
	STMT(DRAFT_DELETE, 1, 0, "DELETE FROM drafts WHERE id = ?") \
	\
	/* --- predictions --- */ \
	STMT(PRED_LIST, 1, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS PRED_IN_ORG " ORDER BY x.id") \
	STMT(PRED_LIST_TASK, 2, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS PRED_IN_ORG " WHERE x.task_id = ? ORDER BY x.id") \
	STMT(PRED_LIST_PROJECT, 2, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS PRED_IN_ORG " WHERE x.project_id = ? ORDER BY x.id") \
	STMT(PRED_LIST_TASK_PROJECT, 3, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS PRED_IN_ORG " WHERE x.task_id = ? AND x.project_id = ? " \
	    "ORDER BY x.id") \
	STMT(PRED_GET, 2, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS PRED_IN_ORG " WHERE x.id = ?") \
	STMT(PRED_BY_ID, 1, PREDICTION_NCOLS, \
	    "SELECT " PREDICTION_COLS " FROM predictions x WHERE x.id = ?") \
	STMT(PRED_LOCK, 1, 1, "SELECT task_id FROM predictions WHERE id = ? FOR UPDATE") \
	STMT(PRED_INSERT, 8, 0, \
	    "INSERT INTO predictions (task_id, project_id, result, score, model_version, cluster, " \
	    "neighbors, mislabeling) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") \
	STMT(PRED_UPDATE, 7, 0, \
	    "UPDATE predictions SET result = ?, score = ?, model_version = ?, cluster = ?, " \
	    "neighbors = ?, mislabeling = ? WHERE id = ?") \
	STMT(PRED_DELETE, 1, 0, "DELETE FROM predictions WHERE id = ?") \
	/* import: the first item (0-based) whose task is not in the project, from [task ids] */ \
	STMT(PRED_IMPORT_BAD_TASK, 2, 1, \
	    "SELECT jt.i - 1 FROM " PRED_JT("i FOR ORDINALITY, t BIGINT PATH '$'") \
	    " LEFT JOIN tasks t ON t.id = jt.t AND t.project_id = ? WHERE t.id IS NULL " \
	    "ORDER BY jt.i LIMIT 1") \
	/* import: each task's total_predictions moves by its count in [task ids] (locks them) */ \
	STMT(PRED_IMPORT_TASKS, 2, 0, \
	    "UPDATE tasks t JOIN (SELECT jt.t AS id, COUNT(*) AS n FROM " \
	    PRED_JT("t BIGINT PATH '$'") " GROUP BY jt.t) k ON k.id = t.id " \
	    "SET t.total_predictions = t.total_predictions + k.n WHERE t.project_id = ?") \
	STMT(PRED_IMPORT_INSERT, 2, 0, \
	    "INSERT INTO predictions (task_id, project_id, result, score, model_version) " \
	    "SELECT jt.t, ?, jt.r, jt.s, jt.m FROM " \
	    PRED_JT("i FOR ORDINALITY, t BIGINT PATH '$.t', r LONGTEXT PATH '$.r', " \
	    "s DOUBLE PATH '$.s', m VARCHAR(255) PATH '$.m'") " ORDER BY jt.i") \
	STMT(PRED_PROJECT_MODEL_VERSION, 2, 0, \
	    "UPDATE projects SET model_version = ? WHERE id = ? " \
	    "AND (model_version IS NULL OR model_version = '')")

#endif
