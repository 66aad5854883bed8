-- Storage connections: import ("source") storages that a sync turns into tasks, and export
-- ("target") storages that annotations are written to. Handlers: handlers/storages.c (API),
-- handlers/storage_sync.c (the jobs), handlers/presign.c (serving media).

-- One connection. Every setting of its kind (Label Studio's field names, secrets included) is kept
-- in config as one JSON object; the API never echoes the secret ones (handlers/storage_common.c
-- names them). A sync's progress lives on the row: sync_cursor is the listing cursor after the
-- last committed page (NULL: start from the beginning), committed in the page's transaction.
CREATE TABLE storages (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	project_id BIGINT NOT NULL,
	direction ENUM('import', 'export') NOT NULL,
	kind VARCHAR(16) CHARACTER SET ascii NOT NULL,    -- s3, gcs, azure, redis, localfiles
	title VARCHAR(256) NULL,
	description TEXT NULL,
	config LONGTEXT NOT NULL DEFAULT '{}',
	synchronizable TINYINT(1) NOT NULL DEFAULT 1,
	status ENUM('initialized', 'queued', 'in_progress', 'failed', 'completed',
	    'completed_with_errors') NOT NULL DEFAULT 'initialized',
	last_sync DATETIME(6) NULL,
	last_sync_count INT NULL,
	last_sync_job VARCHAR(256) NULL,
	traceback TEXT NULL,
	meta LONGTEXT NOT NULL DEFAULT '{}',
	sync_cursor TEXT NULL,
	sync_count INT NOT NULL DEFAULT 0,                -- tasks (or objects) written by the running sync
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	KEY storages_project (project_id, direction, id),
	CONSTRAINT storages_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every object an import storage has turned into tasks, so that a key becomes tasks once however
-- often it is listed (Redis SCAN repeats keys; re-syncs list everything again). The key itself
-- may be longer than an index allows: it is found by its SHA-256.
CREATE TABLE storage_keys (
	storage_id BIGINT NOT NULL,
	key_hash BINARY(32) NOT NULL,
	object_key VARBINARY(4096) NOT NULL,
	tasks INT NOT NULL DEFAULT 0,                     -- tasks created from the object
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (storage_id, key_hash),
	CONSTRAINT storage_keys_storage_fk FOREIGN KEY (storage_id) REFERENCES storages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
