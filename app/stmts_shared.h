/* stmts_shared.h — the statements of handlers/scope.c and handlers/stats.c (see stmts.h). */
#ifndef SIALI_STMTS_SHARED_H
#define SIALI_STMTS_SHARED_H

/* struct project_ref, read by scope.c: 11 columns from projects p. */
#define PROJECT_REF_COLS \
	"p.id, p.organization_id, COALESCE(p.title, ''), p.label_config, p.maximum_annotations, " \
	"p.sampling, p.skip_queue, p.show_ground_truth_first, p.show_overlap_first, " \
	"p.overlap_cohort_percentage, COALESCE(p.model_version, '')"
#define PROJECT_REF_NCOLS 11

#define STMT_LIST_SHARED(STMT) \
	/* --- scope: the caller's organization decides what exists --- */ \
	STMT(SCOPE_PROJECT, 2, PROJECT_REF_NCOLS, \
	    "SELECT " PROJECT_REF_COLS " FROM projects p WHERE p.id = ? AND p.organization_id = ?") \
	STMT(SCOPE_TASK, 2, PROJECT_REF_NCOLS, \
	    "SELECT " PROJECT_REF_COLS " FROM tasks t JOIN projects p ON p.id = t.project_id " \
	    "WHERE t.id = ? AND p.organization_id = ?") \
	\
	/* --- counters --- */ \
	STMT(STATS_TASK_LOCK, 1, 8, \
	    "SELECT t.project_id, t.overlap, t.total_annotations, t.cancelled_annotations, " \
	    "t.ground_truth_annotations, t.total_predictions, t.is_labeled, p.skip_queue " \
	    "FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ? FOR UPDATE") \
	STMT(STATS_TASK_COUNT, 2, 4, \
	    "SELECT COALESCE(SUM(was_cancelled = 0), 0), COALESCE(SUM(was_cancelled = 1), 0), " \
	    "COALESCE(SUM(ground_truth = 1 AND was_cancelled = 0), 0), " \
	    "(SELECT COUNT(*) FROM predictions WHERE task_id = ?) FROM annotations WHERE task_id = ?") \
	STMT(STATS_TASK_SET, 6, 0, \
	    "UPDATE tasks SET total_annotations = ?, cancelled_annotations = ?, " \
	    "ground_truth_annotations = ?, total_predictions = ?, is_labeled = ? WHERE id = ?") \
	STMT(STATS_PROJECT_ADD, 9, 0, \
	    "UPDATE projects SET task_number = task_number + ?, " \
	    "total_annotations_number = total_annotations_number + ?, " \
	    "skipped_annotations_number = skipped_annotations_number + ?, " \
	    "ground_truth_number = ground_truth_number + ?, " \
	    "useful_annotation_number = useful_annotation_number + ?, " \
	    "num_tasks_with_annotations = num_tasks_with_annotations + ?, " \
	    "finished_task_number = finished_task_number + ?, " \
	    "total_predictions_number = total_predictions_number + ? WHERE id = ?") \
	STMT(STATS_PROJECT_CLEAR, 1, 0, \
	    "UPDATE projects SET task_number = 0, total_annotations_number = 0, " \
	    "skipped_annotations_number = 0, ground_truth_number = 0, useful_annotation_number = 0, " \
	    "num_tasks_with_annotations = 0, finished_task_number = 0, total_predictions_number = 0, " \
	    "data_columns = '{}' WHERE id = ?") \
	STMT(STATS_GAP_RECORD, 1, 0, \
	    "INSERT IGNORE INTO task_gaps (project_id, inner_id) SELECT project_id, inner_id FROM tasks " \
	    "WHERE id = ?") \
	STMT(STATS_GAPS_CLEAR, 2, 0, \
	    "UPDATE projects SET next_inner_id = 1 WHERE id = ? AND " \
	    "NOT EXISTS (SELECT 1 FROM tasks WHERE project_id = ?)") \
	STMT(STATS_GAPS_DELETE, 1, 0, "DELETE FROM task_gaps WHERE project_id = ?") \
	STMT(STATS_TASK_RESULTS, 2, 2, \
	    "SELECT result, 0 FROM annotations WHERE task_id = ? " \
	    "UNION ALL SELECT result, 1 FROM drafts WHERE task_id = ?") \
	STMT(STATS_OVERLAP_SET, 4, 0, \
	    "UPDATE tasks SET overlap = ?, is_labeled = (total_annotations + " \
	    "IF(? = 'IGNORE_SKIPPED', cancelled_annotations, 0) >= ?) WHERE project_id = ?") \
	STMT(STATS_FINISHED_SET, 2, 0, \
	    "UPDATE projects SET finished_task_number = " \
	    "(SELECT COUNT(*) FROM tasks WHERE project_id = ? AND is_labeled = 1) WHERE id = ?") \
	\
	/* --- label usage --- */ \
	STMT(USAGE_ADD, 7, 0, \
	    "INSERT INTO label_usage (project_id, from_name, to_name, type, label, annotations, drafts) " \
	    "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE " \
	    "annotations = annotations + VALUES(annotations), drafts = drafts + VALUES(drafts)") \
	STMT(USAGE_CLEAR, 1, 0, "DELETE FROM label_usage WHERE project_id = ?")

#endif
