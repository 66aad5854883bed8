-- The inner ids of deleted tasks, so that a deep page of a project's task list is still a seek.
--
-- inner_id is handed out 1, 2, 3 ... under the project row lock, so it follows id. While a project
-- has lost no task, task k of the list is inner_id k; after deletions, task k is inner_id k plus
-- the number of gaps before it, which one read of this (small) table gives. There are
-- projects.next_inner_id - 1 - projects.task_number gaps; when this table disagrees (or holds more
-- rows than the page's offset), the list falls back to OFFSET, which is always right.

CREATE TABLE task_gaps (
	project_id BIGINT NOT NULL,
	inner_id BIGINT NOT NULL,
	PRIMARY KEY (project_id, inner_id),
	CONSTRAINT task_gaps_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
