-- Projects, tasks, annotations, drafts, predictions, task locks and label usage: the core of the
-- labeling API.
--
-- Counters. The project's counters (task_number ... useful_annotation_number) and each task's
-- (total_annotations ... is_labeled) are moved in the same transaction as the write that changes
-- them (handlers/stats.c); nothing recomputes them by scanning on read. Definitions:
--   task.total_annotations        annotations of the task with was_cancelled = 0
--   task.cancelled_annotations    annotations with was_cancelled = 1 (skips)
--   task.ground_truth_annotations annotations with ground_truth = 1 and was_cancelled = 0
--   task.total_predictions        predictions of the task
--   task.is_labeled               total_annotations >= overlap (with skip_queue IGNORE_SKIPPED,
--                                 total_annotations + cancelled_annotations >= overlap)
--   project.task_number                 tasks
--   project.total_annotations_number    sum of task.total_annotations
--   project.skipped_annotations_number  sum of task.cancelled_annotations
--   project.ground_truth_number         sum of task.ground_truth_annotations
--   project.useful_annotation_number    total_annotations_number - ground_truth_number
--   project.num_tasks_with_annotations  tasks with total_annotations > 0
--   project.finished_task_number        tasks with is_labeled = 1
--   project.total_predictions_number    sum of task.total_predictions
--
-- JSON columns (data, result, ...) carry no JSON_VALID check: every one is parsed by json-c before
-- it is written, and a CHECK would parse each of a million imported tasks a second time.

CREATE TABLE projects (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	organization_id BIGINT NOT NULL,
	title VARCHAR(50) NULL,
	description LONGTEXT NULL,
	label_config LONGTEXT NOT NULL,
	parsed_label_config LONGTEXT NOT NULL,            -- the JSON of label_config, made on write
	expert_instruction LONGTEXT NULL,
	show_instruction TINYINT(1) NOT NULL DEFAULT 0,
	show_skip_button TINYINT(1) NOT NULL DEFAULT 1,
	enable_empty_annotation TINYINT(1) NOT NULL DEFAULT 1,
	show_annotation_history TINYINT(1) NOT NULL DEFAULT 0,
	color VARCHAR(16) NOT NULL DEFAULT '#FFFFFF',
	maximum_annotations INT NOT NULL DEFAULT 1,
	is_published TINYINT(1) NOT NULL DEFAULT 0,
	model_version LONGTEXT NULL,
	is_draft TINYINT(1) NOT NULL DEFAULT 0,
	created_by BIGINT NULL,
	min_annotations_to_start_training INT NOT NULL DEFAULT 0,
	start_training_on_annotation_update TINYINT(1) NOT NULL DEFAULT 0,
	show_collab_predictions TINYINT(1) NOT NULL DEFAULT 1,
	sampling VARCHAR(32) NOT NULL DEFAULT 'Sequential sampling',
	show_ground_truth_first TINYINT(1) NOT NULL DEFAULT 0,
	show_overlap_first TINYINT(1) NOT NULL DEFAULT 0,
	overlap_cohort_percentage INT NOT NULL DEFAULT 100,
	task_data_login VARCHAR(256) NULL,
	task_data_password VARCHAR(256) NULL,             -- never sent back
	control_weights LONGTEXT NULL,
	evaluate_predictions_automatically TINYINT(1) NOT NULL DEFAULT 0,
	skip_queue VARCHAR(32) NOT NULL DEFAULT 'REQUEUE_FOR_OTHERS',
	reveal_preannotations_interactively TINYINT(1) NOT NULL DEFAULT 0,
	pinned_at DATETIME(6) NULL,
	-- counters (see above)
	task_number BIGINT NOT NULL DEFAULT 0,
	total_annotations_number BIGINT NOT NULL DEFAULT 0,
	skipped_annotations_number BIGINT NOT NULL DEFAULT 0,
	ground_truth_number BIGINT NOT NULL DEFAULT 0,
	useful_annotation_number BIGINT NOT NULL DEFAULT 0,
	num_tasks_with_annotations BIGINT NOT NULL DEFAULT 0,
	finished_task_number BIGINT NOT NULL DEFAULT 0,
	total_predictions_number BIGINT NOT NULL DEFAULT 0,
	next_inner_id BIGINT NOT NULL DEFAULT 1,          -- tasks.inner_id is handed out from here
	-- the summary's data columns: {"key": number of tasks whose data has it}
	data_columns LONGTEXT NOT NULL DEFAULT '{}',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY projects_org (organization_id, id),
	CONSTRAINT projects_org_fk FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
	CONSTRAINT projects_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tasks (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	project_id BIGINT NOT NULL,
	inner_id BIGINT NOT NULL,                         -- 1, 2, 3 ... per project
	data LONGTEXT NOT NULL,
	meta LONGTEXT NOT NULL DEFAULT '{}',
	overlap INT NOT NULL DEFAULT 1,
	is_labeled TINYINT(1) NOT NULL DEFAULT 0,
	total_annotations INT NOT NULL DEFAULT 0,
	cancelled_annotations INT NOT NULL DEFAULT 0,
	ground_truth_annotations INT NOT NULL DEFAULT 0,
	total_predictions INT NOT NULL DEFAULT 0,
	file_upload_id BIGINT NULL,
	updated_by BIGINT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY tasks_project (project_id, id),
	UNIQUE KEY tasks_inner (project_id, inner_id),
	KEY tasks_stream (project_id, is_labeled, id),
	CONSTRAINT tasks_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
	CONSTRAINT tasks_updated_by_fk FOREIGN KEY (updated_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE annotations (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	task_id BIGINT NOT NULL,
	project_id BIGINT NOT NULL,
	result LONGTEXT NOT NULL DEFAULT '[]',
	completed_by BIGINT NULL,
	updated_by BIGINT NULL,
	last_created_by BIGINT NULL,
	was_cancelled TINYINT(1) NOT NULL DEFAULT 0,
	ground_truth TINYINT(1) NOT NULL DEFAULT 0,
	lead_time DOUBLE NULL,
	unique_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
	import_id BIGINT NULL,
	last_action VARCHAR(128) NULL,
	bulk_created TINYINT(1) NOT NULL DEFAULT 0,
	parent_prediction BIGINT NULL,
	parent_annotation BIGINT NULL,
	draft_created_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY annotations_task (task_id, id),
	KEY annotations_project (project_id, completed_by),
	UNIQUE KEY annotations_unique_id (unique_id),
	CONSTRAINT annotations_task_fk FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
	CONSTRAINT annotations_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
	CONSTRAINT annotations_completed_by_fk FOREIGN KEY (completed_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE drafts (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	task_id BIGINT NOT NULL,
	project_id BIGINT NOT NULL,
	user_id BIGINT NULL,
	annotation_id BIGINT NULL,
	result LONGTEXT NOT NULL DEFAULT '[]',
	lead_time DOUBLE NULL,
	was_postponed TINYINT(1) NOT NULL DEFAULT 0,
	import_id BIGINT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY drafts_task (task_id, id),
	KEY drafts_annotation (annotation_id),
	CONSTRAINT drafts_task_fk FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
	CONSTRAINT drafts_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
	CONSTRAINT drafts_annotation_fk FOREIGN KEY (annotation_id) REFERENCES annotations (id) ON DELETE CASCADE,
	CONSTRAINT drafts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE predictions (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	task_id BIGINT NOT NULL,
	project_id BIGINT NOT NULL,
	result LONGTEXT NOT NULL DEFAULT '[]',
	score DOUBLE NULL,
	model_version VARCHAR(255) NOT NULL DEFAULT '',
	model_id BIGINT NULL,
	model_run_id BIGINT NULL,
	cluster INT NULL,
	neighbors LONGTEXT NULL,
	mislabeling DOUBLE NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY predictions_task (task_id, id),
	KEY predictions_project (project_id, model_version),
	CONSTRAINT predictions_task_fk FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
	CONSTRAINT predictions_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who is labeling a task right now (the labeling stream hands a locked task to nobody else).
CREATE TABLE task_locks (
	task_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	project_id BIGINT NOT NULL,
	expire_at DATETIME(6) NOT NULL,
	PRIMARY KEY (task_id, user_id),
	KEY task_locks_user (project_id, user_id),
	CONSTRAINT task_locks_task_fk FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
	CONSTRAINT task_locks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What the annotations and drafts of a project use, kept in step with every write that adds,
-- changes or removes a result (handlers/stats.c): one row per (from_name, to_name, type) with
-- label = '' for the triple itself, and one per label value. The strict config check reads its
-- counts from here. Binary collation: labels are case-sensitive, as in Label Studio.
CREATE TABLE label_usage (
	project_id BIGINT NOT NULL,
	from_name VARCHAR(100) NOT NULL,
	to_name VARCHAR(100) NOT NULL,
	type VARCHAR(40) NOT NULL,
	label VARCHAR(255) NOT NULL DEFAULT '',
	annotations BIGINT NOT NULL DEFAULT 0,
	drafts BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (project_id, from_name, to_name, type, label),
	CONSTRAINT label_usage_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
