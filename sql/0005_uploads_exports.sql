-- Uploaded files, idempotent imports, and export snapshots.

-- A file received by POST /api/projects/{id}/import (multipart) and kept under the media root as
-- upload/<project>/<8 hex>-<name>. Tasks made from it point at it (tasks.file_upload_id).
CREATE TABLE file_uploads (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	project_id BIGINT NOT NULL,
	user_id BIGINT NULL,
	file VARCHAR(512) NOT NULL,                       -- relative to the media root
	size BIGINT NOT NULL DEFAULT 0,
	content_type VARCHAR(128) NOT NULL DEFAULT 'application/octet-stream',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY file_uploads_project (project_id, id),
	CONSTRAINT file_uploads_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
	CONSTRAINT file_uploads_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency-Key: the first answer to a keyed import, replayed to a repeat of the same request.
-- The row is written in the import's own transaction, so a failed import leaves no key behind.
CREATE TABLE idempotency_keys (
	user_id BIGINT NOT NULL,
	idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	request_hash BINARY(32) NOT NULL,                 -- method, path and body: a different request
	                                                  -- with the same key is refused (422)
	status INT NOT NULL,
	response LONGTEXT NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (user_id, idem_key),
	KEY idempotency_keys_age (created_at),
	CONSTRAINT idempotency_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Export snapshots (GET|POST /api/projects/{id}/exports/): built by `siali worker` into a file
-- under the media root (export/<project>/<id>-<md5>.json), then converted on demand.
CREATE TABLE exports (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	project_id BIGINT NOT NULL,
	title VARCHAR(2048) NOT NULL DEFAULT '',
	created_by BIGINT NULL,
	status ENUM('created', 'in_progress', 'failed', 'completed') NOT NULL DEFAULT 'created',
	options LONGTEXT NOT NULL DEFAULT '{}',            -- task/annotation filters, serialization
	file VARCHAR(512) NULL,                           -- relative to the media root, when completed
	md5 CHAR(32) CHARACTER SET ascii NULL,
	task_number BIGINT NOT NULL DEFAULT 0,
	error TEXT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	finished_at DATETIME(6) NULL,
	KEY exports_project (project_id, id),
	CONSTRAINT exports_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
	CONSTRAINT exports_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE export_conversions (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	export_id BIGINT NOT NULL,
	export_type VARCHAR(64) NOT NULL,
	status ENUM('created', 'in_progress', 'failed', 'completed') NOT NULL DEFAULT 'created',
	file VARCHAR(512) NULL,
	traceback TEXT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	finished_at DATETIME(6) NULL,
	UNIQUE KEY export_conversions_type (export_id, export_type),
	CONSTRAINT export_conversions_export_fk FOREIGN KEY (export_id) REFERENCES exports (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE tasks ADD CONSTRAINT tasks_file_upload_fk
	FOREIGN KEY (file_upload_id) REFERENCES file_uploads (id) ON DELETE SET NULL;
