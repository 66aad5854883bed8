-- The background job queue run by `siali worker`. Claimed with SELECT … FOR UPDATE SKIP LOCKED so
-- any number of job workers on any number of hosts share it.

CREATE TABLE jobs (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	type VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	payload LONGTEXT NOT NULL DEFAULT '{}' CHECK (JSON_VALID(payload)),
	state ENUM('queued', 'running', 'done', 'failed') NOT NULL DEFAULT 'queued',
	attempts INT NOT NULL DEFAULT 0,
	max_attempts INT NOT NULL DEFAULT 3,
	run_after DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	locked_by VARCHAR(128) NULL,
	heartbeat DATETIME(6) NULL,
	error TEXT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	finished_at DATETIME(6) NULL,
	KEY jobs_ready (state, run_after, id),
	KEY jobs_heartbeat (state, heartbeat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
