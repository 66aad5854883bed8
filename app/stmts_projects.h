/* stmts_projects.h — the statements of handlers/projects.c (see stmts.h for the form). */
#ifndef SIALI_STMTS_PROJECTS_H
#define SIALI_STMTS_PROJECTS_H

/* The project object: PRJ_NCOLS columns from projects p LEFT JOIN users u (the creator), read by
 * project_to_json (handlers/projects.c, enum prj_col lists them in this order). */
#define PRJ_COLS \
	"p.id, p.title, p.description, p.label_config, p.expert_instruction, p.show_instruction, " \
	"p.show_skip_button, p.enable_empty_annotation, p.show_annotation_history, " \
	"p.organization_id, p.color, p.maximum_annotations, p.is_published, p.model_version, " \
	"p.is_draft, p.created_by, " TS("p.created_at") ", p.min_annotations_to_start_training, " \
	"p.start_training_on_annotation_update, p.show_collab_predictions, " \
	"p.num_tasks_with_annotations, p.task_number, p.useful_annotation_number, " \
	"p.ground_truth_number, p.skipped_annotations_number, p.total_annotations_number, " \
	"p.total_predictions_number, p.sampling, p.show_ground_truth_first, p.show_overlap_first, " \
	"p.overlap_cohort_percentage, p.task_data_login, p.control_weights, p.parsed_label_config, " \
	"p.evaluate_predictions_automatically, p.skip_queue, p.reveal_preannotations_interactively, " \
	TS("p.pinned_at") ", p.finished_task_number, u.first_name, u.last_name, " \
	"COALESCE(u.email, ''), u.avatar, p.pinned_at"
#define PRJ_NCOLS 44
#define PRJ_FROM " FROM projects p LEFT JOIN users u ON u.id = p.created_by"

/* The list filters, always in this order: organization; ids (a normalized "1,2,3" or NULL) twice;
 * title (a LIKE pattern or NULL) twice; search (a LIKE pattern or NULL) three times; pinned filter
 * (0 all, 1 pinned only, 2 unpinned only) twice. Patterns escape with '!'. */
#define PRJ_FILTER \
	" WHERE p.organization_id = ? AND (? IS NULL OR FIND_IN_SET(p.id, ?) > 0)" \
	" AND (? IS NULL OR p.title LIKE ? ESCAPE '!')" \
	" AND (? IS NULL OR p.title LIKE ? ESCAPE '!' OR p.description LIKE ? ESCAPE '!')" \
	" AND (? = 0 OR (? = 1) = (p.pinned_at IS NOT NULL))"
#define PRJ_FILTER_NPARAMS 10

/* One page statement per allow-listed ordering (id tie-breaks, so pages never overlap). */
#define PRJ_PAGE(STMT, id, order) \
	STMT(id, PRJ_FILTER_NPARAMS + 2, PRJ_NCOLS, \
	    "SELECT " PRJ_COLS PRJ_FROM PRJ_FILTER " ORDER BY " order " LIMIT ? OFFSET ?")

/* The writable fields, in the order projects.c binds them (PRJ_INSERT adds organization and
 * created_by in front, PRJ_UPDATE adds id and organization at the end). */
#define PRJ_WRITABLE \
	"title = ?, description = ?, label_config = ?, parsed_label_config = ?, " \
	"expert_instruction = ?, show_instruction = ?, show_skip_button = ?, " \
	"enable_empty_annotation = ?, show_annotation_history = ?, color = ?, " \
	"maximum_annotations = ?, is_published = ?, model_version = ?, is_draft = ?, " \
	"min_annotations_to_start_training = ?, start_training_on_annotation_update = ?, " \
	"show_collab_predictions = ?, sampling = ?, show_ground_truth_first = ?, " \
	"show_overlap_first = ?, overlap_cohort_percentage = ?, task_data_login = ?, " \
	"task_data_password = ?, control_weights = ?, evaluate_predictions_automatically = ?, " \
	"skip_queue = ?, reveal_preannotations_interactively = ?, pinned_at = ?"
#define PRJ_WRITABLE_NPARAMS 28

#define STMT_LIST_PROJECTS(STMT) \
	/* --- one project --- */ \
	STMT(PRJ_GET, 2, PRJ_NCOLS, \
	    "SELECT " PRJ_COLS PRJ_FROM " WHERE p.id = ? AND p.organization_id = ?") \
	STMT(PRJ_PASSWORD, 1, 1, "SELECT task_data_password FROM projects WHERE id = ?") \
	STMT(PRJ_INSERT, 2 + PRJ_WRITABLE_NPARAMS, 0, \
	    "INSERT INTO projects SET organization_id = ?, created_by = ?, " PRJ_WRITABLE) \
	STMT(PRJ_UPDATE, PRJ_WRITABLE_NPARAMS + 2, 0, \
	    "UPDATE projects SET " PRJ_WRITABLE " WHERE id = ? AND organization_id = ?") \
	STMT(PRJ_DELETE, 2, 0, "DELETE FROM projects WHERE id = ? AND organization_id = ?") \
	\
	/* --- the list and the counts --- */ \
	STMT(PRJ_COUNT, PRJ_FILTER_NPARAMS, 1, "SELECT COUNT(*) FROM projects p" PRJ_FILTER) \
	PRJ_PAGE(STMT, PRJ_PAGE_DEFAULT, "p.pinned_at IS NULL, p.pinned_at DESC, p.created_at DESC, p.id DESC") \
	PRJ_PAGE(STMT, PRJ_PAGE_ID, "p.id") \
	PRJ_PAGE(STMT, PRJ_PAGE_ID_DESC, "p.id DESC") \
	PRJ_PAGE(STMT, PRJ_PAGE_TITLE, "p.title, p.id") \
	PRJ_PAGE(STMT, PRJ_PAGE_TITLE_DESC, "p.title DESC, p.id DESC") \
	PRJ_PAGE(STMT, PRJ_PAGE_CREATED, "p.created_at, p.id") \
	PRJ_PAGE(STMT, PRJ_PAGE_CREATED_DESC, "p.created_at DESC, p.id DESC") \
	PRJ_PAGE(STMT, PRJ_PAGE_PINNED, "p.pinned_at, p.id") \
	PRJ_PAGE(STMT, PRJ_PAGE_PINNED_DESC, "p.pinned_at DESC, p.id DESC") \
	\
	/* --- summary, label usage and the repair tool --- */ \
	STMT(PRJ_SUMMARY, 1, 4, \
	    "SELECT id, " TS("created_at") ", data_columns, task_number FROM projects WHERE id = ?") \
	STMT(PRJ_USAGE, 1, 6, \
	    "SELECT from_name, to_name, type, label, annotations, drafts FROM label_usage " \
	    "WHERE project_id = ? AND (annotations > 0 OR drafts > 0) " \
	    "ORDER BY from_name, to_name, type, label") \
	STMT(PRJ_RESET_TASKS, 3, 0, \
	    "UPDATE tasks t JOIN projects p ON p.id = t.project_id " \
	    "LEFT JOIN (SELECT task_id, SUM(was_cancelled = 0) AS n, SUM(was_cancelled = 1) AS c, " \
	    "SUM(ground_truth = 1 AND was_cancelled = 0) AS g FROM annotations WHERE project_id = ? " \
	    "GROUP BY task_id) a ON a.task_id = t.id " \
	    "LEFT JOIN (SELECT task_id, COUNT(*) AS n FROM predictions WHERE project_id = ? " \
	    "GROUP BY task_id) pr ON pr.task_id = t.id " \
	    "SET t.total_annotations = COALESCE(a.n, 0), t.cancelled_annotations = COALESCE(a.c, 0), " \
	    "t.ground_truth_annotations = COALESCE(a.g, 0), t.total_predictions = COALESCE(pr.n, 0), " \
	    "t.is_labeled = (COALESCE(a.n, 0) + IF(p.skip_queue = 'IGNORE_SKIPPED', " \
	    "COALESCE(a.c, 0), 0) >= GREATEST(t.overlap, 1)) WHERE t.project_id = ?") \
	STMT(PRJ_RESET_PROJECT, 2, 0, \
	    "UPDATE projects p JOIN (SELECT COUNT(*) AS tasks, " \
	    "COALESCE(SUM(total_annotations), 0) AS ann, COALESCE(SUM(cancelled_annotations), 0) AS sk, " \
	    "COALESCE(SUM(ground_truth_annotations), 0) AS gt, COALESCE(SUM(total_annotations > 0), 0) " \
	    "AS wa, COALESCE(SUM(is_labeled), 0) AS fin, COALESCE(SUM(total_predictions), 0) AS pr " \
	    "FROM tasks WHERE project_id = ?) s SET p.task_number = s.tasks, " \
	    "p.total_annotations_number = s.ann, p.skipped_annotations_number = s.sk, " \
	    "p.ground_truth_number = s.gt, p.useful_annotation_number = s.ann - s.gt, " \
	    "p.num_tasks_with_annotations = s.wa, p.finished_task_number = s.fin, " \
	    "p.total_predictions_number = s.pr WHERE p.id = ?") \
	STMT(PRJ_RESULTS, 2, 2, \
	    "SELECT result, 0 FROM annotations WHERE project_id = ? " \
	    "UNION ALL SELECT result, 1 FROM drafts WHERE project_id = ?") \
	\
	/* --- model versions and annotators --- */ \
	STMT(PRJ_MODEL_VERSIONS, 1, 3, \
	    "SELECT model_version, COUNT(*), " TS("MAX(created_at)") " FROM predictions " \
	    "WHERE project_id = ? GROUP BY model_version ORDER BY MAX(created_at) DESC, model_version") \
	STMT(PRJ_MV_TASKS_LOCK, 2, 1, \
	    "SELECT t.id FROM tasks t WHERE t.project_id = ? AND EXISTS (SELECT 1 FROM predictions pr " \
	    "WHERE pr.task_id = t.id AND pr.model_version = ?) ORDER BY t.id FOR UPDATE") \
	STMT(PRJ_MV_DELETE, 2, 0, "DELETE FROM predictions WHERE project_id = ? AND model_version = ?") \
	STMT(PRJ_MV_FORGET, 2, 0, \
	    "UPDATE projects SET model_version = NULL WHERE id = ? AND model_version = ?") \
	STMT(PRJ_ANNOTATORS, 1, 5, \
	    "SELECT u.id, u.first_name, u.last_name, COALESCE(u.email, ''), u.avatar FROM users u " \
	    "WHERE u.id IN (SELECT a.completed_by FROM annotations a WHERE a.project_id = ? " \
	    "AND a.completed_by IS NOT NULL) ORDER BY u.id")

#endif
