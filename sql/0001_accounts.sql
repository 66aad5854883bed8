-- Organizations, users, memberships and API tokens: what authentication stands on.
-- Times are UTC (the connection sets time_zone = '+00:00'), with microseconds as Django keeps them.

CREATE TABLE organizations (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	title VARCHAR(1000) NOT NULL,
	token VARCHAR(64) NOT NULL,                       -- invite token
	contact_info VARCHAR(254) NULL,
	created_by BIGINT NULL,
	created_by_email VARCHAR(254) NOT NULL DEFAULT '', -- shown as active_organization_meta.email;
	                                                  -- emails cannot change, so the copy cannot go stale
	legacy_api_tokens_enabled TINYINT(1) NOT NULL DEFAULT 1,
	api_tokens_enabled TINYINT(1) NOT NULL DEFAULT 1,
	api_token_ttl_days INT NOT NULL DEFAULT 73000,   -- 200 years, as Label Studio
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY organizations_token (token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	username VARCHAR(256) NOT NULL,
	email VARCHAR(254) NULL,                          -- NULL when none: unique when present
	password VARCHAR(256) NOT NULL DEFAULT '',        -- argon2id (or a migrated Django pbkdf2 hash)
	-- The legacy API key (DRF TokenAuthentication: one per user, 40 hex characters), on the user
	-- row so that a Token or X-Api-Key request reads two tables, users and organizations.
	api_key CHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
	first_name VARCHAR(256) NOT NULL DEFAULT '',
	last_name VARCHAR(256) NOT NULL DEFAULT '',
	phone VARCHAR(256) NOT NULL DEFAULT '',
	avatar VARCHAR(1024) NULL,
	allow_newsletters TINYINT(1) NULL,
	custom_hotkeys LONGTEXT NULL CHECK (custom_hotkeys IS NULL OR JSON_VALID(custom_hotkeys)),
	active_organization_id BIGINT NULL,
	is_active TINYINT(1) NOT NULL DEFAULT 1,
	is_superuser TINYINT(1) NOT NULL DEFAULT 0,
	date_joined DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_activity DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY users_username (username),
	UNIQUE KEY users_email (email),
	UNIQUE KEY users_api_key (api_key),
	KEY users_active_org (active_organization_id),
	CONSTRAINT users_active_org_fk FOREIGN KEY (active_organization_id) REFERENCES organizations (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE organizations ADD CONSTRAINT organizations_created_by_fk
	FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE memberships (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	organization_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	deleted_at DATETIME(6) NULL,                      -- soft delete, as Label Studio
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY memberships_org_user (organization_id, user_id),
	KEY memberships_user (user_id),
	CONSTRAINT memberships_org_fk FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
	CONSTRAINT memberships_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Personal access tokens (JWT refresh tokens). Only header.payload is kept: the signature never
-- touches the database, as in Label Studio.
CREATE TABLE jwt_tokens (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT NOT NULL,
	jti CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	token VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	expires_at BIGINT NOT NULL,                       -- unix seconds: PATs live 200 years, past DATETIME helpers
	blacklisted_at DATETIME(6) NULL,
	UNIQUE KEY jwt_tokens_jti (jti),
	KEY jwt_tokens_user (user_id, blacklisted_at),
	CONSTRAINT jwt_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
