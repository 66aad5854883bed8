/* stmts.h — every SQL statement of Siali Label, as data.
 *
 * STMT(id, parameters, result columns, text). Each is prepared once per connection on first use,
 * and its counts are checked against what MariaDB reports, so a statement and its callers cannot
 * drift apart silently. No SQL is ever built from input: dynamic parts map allow-listed names to
 * fixed fragments. Times are formatted in SQL as Django REST framework renders them (UTC, "Z").
 */
#ifndef SIALI_STMTS_H
#define SIALI_STMTS_H

#include "stmts_shared.h"
#include "stmts_projects.h"
#include "stmts_tasks.h"
#include "stmts_annotations.h"
#include "stmts_export.h"
#include "stmts_exports.h"
#include "stmts_storages.h"
#include "stmts_sync.h"
#include "stmts_media.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* The user object: 14 columns, read by user_from_row (handlers/users.c). */
#define USER_COLS \
	"u.id, u.username, COALESCE(u.email, ''), u.first_name, u.last_name, u.phone, u.avatar, " \
	"u.allow_newsletters, u.custom_hotkeys, u.active_organization_id, " TS("u.date_joined") ", " \
	TS("u.last_activity") ", ao.title, ao.created_by_email"
#define USER_NCOLS 14
#define USER_JOINS \
	" LEFT JOIN organizations ao ON ao.id = u.active_organization_id"
/* Scopes a user to an organization through a live membership. */
#define MEMBER_OF(org) \
	" JOIN memberships m ON m.user_id = u.id AND m.organization_id = " org " AND m.deleted_at IS NULL"

/* The auth gate reads the caller whole in its one round trip: user id, active organization,
 * whether the scheme is enabled there, ownership, whether last_activity is stale, then the user
 * object (USER_COLS from column AUTH_USER_COL), so whoami and friends need no second query.
 * It joins as few tables as it can, since it runs on every request: users and organizations for
 * a legacy key (kept on the user row), plus jwt_tokens for a bearer token. No memberships join
 * is needed: users.active_organization_id always names an organization the user is a live
 * member of (users_delete moves or clears it in the transaction that ends the membership). */
#define AUTH_COLS(enabled) \
	"u.id, u.active_organization_id, " enabled ", ao.created_by = u.id, " \
	"u.last_activity < UTC_TIMESTAMP(6) - INTERVAL 5 MINUTE, " USER_COLS
#define AUTH_NCOLS (5 + USER_NCOLS)
#define AUTH_USER_COL 5

#define ORG_COLS \
	"o.id, o.title, o.token, " TS("o.created_at") ", " TS("o.updated_at") ", o.contact_info, " \
	"o.created_by, o.legacy_api_tokens_enabled, o.api_tokens_enabled, o.api_token_ttl_days"
#define ORG_NCOLS 10

#define STMT_LIST(STMT) \
	/* --- authentication (the hot path: one round trip per request) --- */ \
	STMT(AUTH_LEGACY, 1, AUTH_NCOLS, \
	    "SELECT " AUTH_COLS("ao.legacy_api_tokens_enabled") " FROM users u " \
	    "JOIN organizations ao ON ao.id = u.active_organization_id " \
	    "WHERE u.api_key = ? AND u.is_active = 1") \
	STMT(AUTH_JWT, 2, AUTH_NCOLS, \
	    "SELECT " AUTH_COLS("ao.api_tokens_enabled") " FROM jwt_tokens t " \
	    "JOIN users u ON u.id = t.user_id JOIN organizations ao ON ao.id = u.active_organization_id" \
	    " WHERE t.jti = ? AND t.user_id = ? AND t.blacklisted_at IS NULL " \
	    "AND t.expires_at > UNIX_TIMESTAMP() AND u.is_active = 1") \
	STMT(USER_TOUCH, 1, 0, "UPDATE users SET last_activity = UTC_TIMESTAMP(6) WHERE id = ?") \
	\
	/* --- users --- */ \
	STMT(USER_IN_ORG, 2, USER_NCOLS, \
	    "SELECT " USER_COLS " FROM users u" MEMBER_OF("?") USER_JOINS \
	    " WHERE u.id = ? AND u.is_active = 1") \
	STMT(USERS_IN_ORG, 1, USER_NCOLS, \
	    "SELECT " USER_COLS " FROM users u" MEMBER_OF("?") USER_JOINS \
	    " WHERE u.is_active = 1 ORDER BY u.id") \
	STMT(USER_BY_USERNAME, 1, USER_NCOLS, \
	    "SELECT " USER_COLS " FROM users u" USER_JOINS " WHERE u.username = ? AND u.is_active = 1") \
	STMT(USER_BY_ID, 1, USER_NCOLS, \
	    "SELECT " USER_COLS " FROM users u" USER_JOINS " WHERE u.id = ?") \
	STMT(USER_ID_BY_USERNAME, 1, 1, "SELECT id FROM users WHERE username = ?") \
	STMT(USER_ID_BY_EMAIL, 1, 1, "SELECT id FROM users WHERE email = ?") \
	STMT(USER_INSERT, 7, 0, \
	    "INSERT INTO users (username, email, password, first_name, last_name, phone, " \
	    "allow_newsletters) VALUES (?, ?, ?, ?, ?, ?, ?)") \
	STMT(USER_UPDATE, 7, 0, \
	    "UPDATE users SET username = ?, first_name = ?, last_name = ?, phone = ?, " \
	    "allow_newsletters = NULLIF(?, -1), custom_hotkeys = ? WHERE id = ?") \
	STMT(USER_SET_PASSWORD, 2, 0, "UPDATE users SET password = ? WHERE id = ?") \
	STMT(USER_PASSWORD, 1, 1, "SELECT password FROM users WHERE id = ?") \
	STMT(USER_SET_ACTIVE_ORG, 2, 0, "UPDATE users SET active_organization_id = ? WHERE id = ?") \
	STMT(USER_OTHER_ORG, 1, 1, \
	    "SELECT organization_id FROM memberships WHERE user_id = ? AND deleted_at IS NULL " \
	    "ORDER BY id LIMIT 1") \
	STMT(USER_MOVE_ACTIVE_ORG, 3, 0, \
	    "UPDATE users SET active_organization_id = ? WHERE id = ? AND active_organization_id = ?") \
	STMT(USER_DEACTIVATE, 1, 0, \
	    "UPDATE users SET is_active = 0, active_organization_id = NULL WHERE id = ?") \
	\
	/* --- organizations and memberships --- */ \
	STMT(ORG_INSERT, 4, 0, \
	    "INSERT INTO organizations (title, token, created_by, created_by_email, " \
	    "legacy_api_tokens_enabled) SELECT ?, ?, u.id, COALESCE(u.email, ''), ? " \
	    "FROM users u WHERE u.id = ?") \
	STMT(ORG_FIRST, 0, 1, "SELECT id FROM organizations ORDER BY id LIMIT 1") \
	STMT(ORGS_OF_USER, 1, 4, \
	    "SELECT o.id, o.title, o.contact_info, " TS("o.created_at") " FROM organizations o " \
	    "JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL " \
	    "WHERE m.user_id = ? ORDER BY o.id") \
	STMT(ORG_OF_MEMBER, 2, ORG_NCOLS, \
	    "SELECT " ORG_COLS " FROM organizations o " \
	    "JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL AND m.user_id = ? " \
	    "WHERE o.id = ?") \
	STMT(ORG_MEMBER_IDS, 1, 1, \
	    "SELECT u.id FROM users u" MEMBER_OF("?") " WHERE u.is_active = 1 ORDER BY u.id") \
	STMT(ORG_UPDATE, 3, 0, "UPDATE organizations SET title = ?, contact_info = ? WHERE id = ?") \
	STMT(ORG_JWT_SETTINGS_SET, 4, 0, \
	    "UPDATE organizations SET api_tokens_enabled = ?, legacy_api_tokens_enabled = ?, " \
	    "api_token_ttl_days = ? WHERE id = ?") \
	STMT(MEMBERSHIP_INSERT, 2, 0, \
	    "INSERT INTO memberships (organization_id, user_id) VALUES (?, ?) " \
	    "ON DUPLICATE KEY UPDATE deleted_at = NULL") \
	STMT(MEMBERSHIP_COUNT, 1, 1, \
	    "SELECT COUNT(*) FROM users u" MEMBER_OF("?") " WHERE u.is_active = 1") \
	STMT(MEMBERSHIP_PAGE, 3, 1 + USER_NCOLS, \
	    "SELECT m.id, " USER_COLS " FROM users u" MEMBER_OF("?") USER_JOINS \
	    " WHERE u.is_active = 1 ORDER BY m.id LIMIT ? OFFSET ?") \
	STMT(MEMBERSHIP_REMOVE, 2, 0, \
	    "UPDATE memberships SET deleted_at = UTC_TIMESTAMP(6) " \
	    "WHERE organization_id = ? AND user_id = ? AND deleted_at IS NULL") \
	\
	/* --- legacy API keys --- */ \
	STMT(APITOKEN_OF_USER, 1, 1, "SELECT api_key FROM users WHERE id = ? AND api_key IS NOT NULL") \
	STMT(APITOKEN_SET, 2, 0, "UPDATE users SET api_key = ? WHERE id = ?") \
	STMT(APITOKEN_DELETE, 1, 0, "UPDATE users SET api_key = NULL WHERE id = ?") \
	\
	/* --- personal access tokens (JWT refresh tokens) --- */ \
	STMT(JWT_INSERT, 4, 0, \
	    "INSERT INTO jwt_tokens (user_id, jti, token, expires_at) VALUES (?, ?, ?, ?)") \
	STMT(JWT_LIVE_OF_USER, 1, 3, \
	    "SELECT token, " TS("created_at") ", expires_at FROM jwt_tokens " \
	    "WHERE user_id = ? AND blacklisted_at IS NULL AND expires_at > UNIX_TIMESTAMP() ORDER BY id") \
	STMT(JWT_BY_JTI, 1, 4, \
	    "SELECT user_id, token, blacklisted_at IS NULL, expires_at > UNIX_TIMESTAMP() " \
	    "FROM jwt_tokens WHERE jti = ?") \
	STMT(JWT_BLACKLIST, 2, 0, \
	    "UPDATE jwt_tokens SET blacklisted_at = UTC_TIMESTAMP(6) " \
	    "WHERE jti = ? AND user_id = ? AND blacklisted_at IS NULL") \
	STMT(JWT_BLACKLIST_USER, 1, 0, \
	    "UPDATE jwt_tokens SET blacklisted_at = UTC_TIMESTAMP(6) " \
	    "WHERE user_id = ? AND blacklisted_at IS NULL") \
	\
	/* --- jobs --- */ \
	STMT(JOB_INSERT, 3, 0, "INSERT INTO jobs (type, payload, max_attempts) VALUES (?, ?, ?)") \
	STMT(JOB_CLAIM, 0, 5, \
	    "SELECT id, type, payload, attempts, max_attempts FROM jobs " \
	    "WHERE state = 'queued' AND run_after <= UTC_TIMESTAMP(6) ORDER BY id LIMIT 1 " \
	    "FOR UPDATE SKIP LOCKED") \
	STMT(JOB_MARK_RUNNING, 2, 0, \
	    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, " \
	    "heartbeat = UTC_TIMESTAMP(6) WHERE id = ?") \
	STMT(JOB_HEARTBEAT, 1, 0, "UPDATE jobs SET heartbeat = UTC_TIMESTAMP(6) WHERE id = ?") \
	STMT(JOB_DONE, 1, 0, \
	    "UPDATE jobs SET state = 'done', locked_by = NULL, error = NULL, " \
	    "finished_at = UTC_TIMESTAMP(6) WHERE id = ?") \
	STMT(JOB_RETRY, 3, 0, \
	    "UPDATE jobs SET state = 'queued', locked_by = NULL, error = ?, " \
	    "run_after = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?") \
	STMT(JOB_FAIL, 2, 0, \
	    "UPDATE jobs SET state = 'failed', locked_by = NULL, error = ?, " \
	    "finished_at = UTC_TIMESTAMP(6) WHERE id = ?") \
	STMT(JOB_REQUEUE_STALE, 1, 0, \
	    "UPDATE jobs SET state = 'queued', locked_by = NULL " \
	    "WHERE state = 'running' AND heartbeat < UTC_TIMESTAMP(6) - INTERVAL ? SECOND") \
	STMT(JOB_GET, 1, 4, "SELECT type, state, attempts, COALESCE(error, '') FROM jobs WHERE id = ?") \
	\
	/* --- migrations --- */ \
	STMT(MIGRATIONS_APPLIED, 0, 2, "SELECT version, checksum FROM schema_migrations ORDER BY version") \
	STMT(MIGRATION_RECORD, 3, 0, \
	    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)") \
	\
	/* --- the labeling resources, one list per module --- */ \
	STMT_LIST_SHARED(STMT) STMT_LIST_PROJECTS(STMT) STMT_LIST_TASKS(STMT) STMT_LIST_ANNOTATIONS(STMT) \
	STMT_LIST_EXPORT(STMT) STMT_LIST_EXPORTS(STMT) \
	STMT_LIST_STORAGES(STMT) STMT_LIST_SYNC(STMT) STMT_LIST_MEDIA(STMT)

#define STMT_ENUM(id, np, nc, sql) STMT_##id,
enum stmt_id { STMT_LIST(STMT_ENUM) STMT__COUNT };
#undef STMT_ENUM

struct stmt_def {
	const char *name;
	int nparams;
	int ncols;
	const char *sql;
};

extern const struct stmt_def stmt_defs[STMT__COUNT];

#endif
