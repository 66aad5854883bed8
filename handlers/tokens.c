/* tokens.c — legacy API keys, personal access tokens (JWT refresh tokens) and the per-organization
 * switches for both. Tokens are compared by the database through indexed keys; the signature of a
 * PAT never touches the database (only header.payload is kept). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "jwt.h"
#include "rand.h"
#include "reply.h"

#define INVALID_PAT "Token is invalid or expired"

const char *
tokens_legacy_key(struct req *r, int64_t user_id)
{
	struct db_row row;
	char key[41];
	int rc = db_row(r, &row, STMT_APITOKEN_OF_USER, "i", user_id);

	if (rc < 0)
		return NULL;
	if (rc == 1)
		return db_str(&row, 0);
	if (rand_hex(key, 20) != 0 || db_exec(r, STMT_APITOKEN_SET, "si", key, user_id) < 0)
		return NULL;
	return req_strdup(r, key);
}

static struct json_object *
token_obj(const char *key, const char *value)
{
	struct json_object *o = json_object_new_object();

	jadd_str(o, key, value);
	return o;
}

int
tokens_legacy_get(struct req *r)
{
	const char *key = tokens_legacy_key(r, r->who.user_id);

	if (key == NULL)
		return req_fail_db(r);
	return reply_json(r, 200, token_obj("token", key));
}

int
tokens_legacy_reset(struct req *r)
{
	char key[41];

	if (rand_hex(key, 20) != 0)
		return req_fail(r, 500, "Internal server error.");
	if (db_exec(r, STMT_APITOKEN_SET, "si", key, r->who.user_id) < 0)
		return req_fail_db(r);
	return reply_json(r, 201, token_obj("token", key));
}

/* The caller's organization row (ORG_COLS). */
static int
load_org(struct req *r, struct db_row *row)
{
	int rc = db_row(r, row, STMT_ORG_OF_MEMBER, "ii", r->who.user_id, r->who.org_id);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return 0;
}

static char *
iso_time(struct req *r, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		return req_strdup(r, "");
	return req_printf(r, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
tokens_pat_list(struct req *r)
{
	struct db_rows rows;
	struct json_object *a;

	if (db_rows(r, &rows, STMT_JWT_LIVE_OF_USER, "i", r->who.user_id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		struct json_object *o = token_obj("token", db_str(&rows.rows[i], 0));

		jadd_str(o, "created_at", db_str(&rows.rows[i], 1));
		jadd_str(o, "expires_at", iso_time(r, db_int(&rows.rows[i], 2)));
		json_object_array_add(a, o);
	}
	return reply_json(r, 200, a);
}

/* Issues a PAT for the caller inside the current transaction; returns it (arena) or NULL. */
static char *
issue_pat(struct req *r, int64_t ttl_days)
{
	struct jwt_claims c;
	char *tok = req_alloc(r, JWT_MAX);
	size_t unsigned_len;

	memset(&c, 0, sizeof(c));
	snprintf(c.token_type, sizeof(c.token_type), "refresh");
	if (rand_hex(c.jti, 16) != 0)
		return NULL;
	c.user_id = r->who.user_id;
	c.iat = (int64_t)time(NULL);
	c.exp = c.iat + ttl_days * 86400;
	if (jwt_sign(&c, cfg.secret, cfg.secret_len, tok, JWT_MAX) != 0)
		return NULL;
	unsigned_len = jwt_unsigned_len(tok, strlen(tok));
	if (db_exec(r, STMT_JWT_INSERT, "isSi", c.user_id, c.jti, tok, unsigned_len, c.exp) < 0)
		return NULL;
	return tok;
}

int
tokens_pat_create(struct req *r)
{
	struct db_row org;
	struct db_rows live;
	char *tok;
	int rc;

	if ((rc = load_org(r, &org)) != 0)
		return rc;
	if (db_int(&org, 8) == 0)
		return req_fail(r, 403, "Personal access tokens are disabled for this organization.");
	if (db_begin(r) != 0 || db_rows(r, &live, STMT_JWT_LIVE_OF_USER, "i", r->who.user_id) != 0)
		return req_fail_db(r);
	if (live.n > 0)
		return req_fail(r, 409, "You already have a valid token. Please revoke it before creating a new one.");
	tok = issue_pat(r, db_int(&org, 9));
	if (tok == NULL || db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 201, token_obj("token", tok));
}

/* Reads {"refresh": "..."}; answers 400 and returns NULL when it is missing. */
static const char *
refresh_field(struct req *r, int *status)
{
	const char *t = NULL;
	int rc;

	rc = jget_str(r->json, "refresh", &t);
	if (rc <= 0 || *t == '\0') {
		*status = req_fail_field(r, "refresh", rc < 0 ? "Not a valid string." :
		    rc == 0 ? "This field is required." : "This field may not be blank.");
		return NULL;
	}
	return t;
}

/* Verifies a full PAT: signature, type, expiry, and that it is on record and live. On success
 * fills c and returns 1; 0 when invalid; -1 on a database error. */
static int
check_pat(struct req *r, const char *tok, struct jwt_claims *c, struct db_row *row)
{
	size_t n = strlen(tok), ulen;
	int rc;

	if (jwt_verify(tok, n, cfg.secret, cfg.secret_len, (int64_t)time(NULL), c) != JWT_OK ||
	    strcmp(c->token_type, "refresh") != 0)
		return 0;
	rc = db_row(r, row, STMT_JWT_BY_JTI, "s", c->jti);
	if (rc <= 0)
		return rc;
	ulen = jwt_unsigned_len(tok, n);
	if (db_int(row, 0) != c->user_id || db_int(row, 2) == 0 || db_int(row, 3) == 0 ||
	    strlen(db_str(row, 1)) != ulen || memcmp(db_str(row, 1), tok, ulen) != 0)
		return 0;
	return 1;
}

int
tokens_pat_refresh(struct req *r)
{
	struct jwt_claims c, a;
	struct db_row row, who;
	char *access;
	int status = 0, rc;
	const char *tok = refresh_field(r, &status);

	if (tok == NULL)
		return status;
	rc = check_pat(r, tok, &c, &row);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 401, INVALID_PAT);
	/* The owner must still be an active member of an organization that allows PATs. */
	rc = db_row(r, &who, STMT_AUTH_JWT, "si", c.jti, c.user_id);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 401, INVALID_PAT);
	if (db_int(&who, 2) == 0)
		return req_fail(r, 401, "Authentication token no longer valid: personal access tokens "
		    "have been disabled for this organization");
	a = c;
	snprintf(a.token_type, sizeof(a.token_type), "access");
	a.iat = (int64_t)time(NULL);
	a.exp = a.iat + cfg.access_token_ttl;
	access = req_alloc(r, JWT_MAX);
	if (jwt_sign(&a, cfg.secret, cfg.secret_len, access, JWT_MAX) != 0)
		return req_fail(r, 500, "Internal server error.");
	return reply_json(r, 200, token_obj("access", access));
}

int
tokens_pat_blacklist(struct req *r)
{
	struct jwt_claims c;
	struct db_row row;
	int status = 0, rc;
	const char *tok = refresh_field(r, &status);
	size_t n, ulen;

	if (tok == NULL)
		return status;
	/* The full PAT or the truncated header.payload that GET /api/token/ lists. */
	n = strlen(tok);
	ulen = jwt_unsigned_len(tok, n);
	if (ulen == 0)
		ulen = n;
	if (jwt_peek(tok, ulen, &c) != JWT_OK)
		return req_fail(r, 404, "Token is invalid or already blacklisted.");
	rc = db_row(r, &row, STMT_JWT_BY_JTI, "s", c.jti);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0 || db_int(&row, 0) != r->who.user_id || db_int(&row, 2) == 0 ||
	    strlen(db_str(&row, 1)) != ulen || memcmp(db_str(&row, 1), tok, ulen) != 0)
		return req_fail(r, 404, "Token is invalid or already blacklisted.");
	if (db_exec(r, STMT_JWT_BLACKLIST, "si", c.jti, r->who.user_id) < 0)
		return req_fail_db(r);
	return reply_empty(r, 204);
}

int
tokens_pat_rotate(struct req *r)
{
	struct jwt_claims c;
	struct db_row row, org;
	int status = 0, rc;
	const char *tok = refresh_field(r, &status);
	char *fresh;

	if (tok == NULL)
		return status;
	rc = check_pat(r, tok, &c, &row);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0 || c.user_id != r->who.user_id)
		return req_fail_field(r, "refresh", INVALID_PAT);
	if ((rc = load_org(r, &org)) != 0)
		return rc;
	if (db_begin(r) != 0)
		return req_fail_db(r);
	/* Only one rotation can win: the blacklist update is the lock. */
	if (db_exec(r, STMT_JWT_BLACKLIST, "si", c.jti, r->who.user_id) != 1)
		return db_last_error() != DB_OK ? req_fail_db(r) : req_fail_field(r, "refresh", INVALID_PAT);
	fresh = issue_pat(r, db_int(&org, 9));
	if (fresh == NULL || db_commit(r) != 0)
		return req_fail_db(r);
	return reply_json(r, 200, token_obj("refresh", fresh));
}

static struct json_object *
settings_json(const struct db_row *org)
{
	struct json_object *o = json_object_new_object();

	jadd_bool(o, "api_tokens_enabled", db_int(org, 8));
	jadd_bool(o, "legacy_api_tokens_enabled", db_int(org, 7));
	jadd_int(o, "api_token_ttl_days", db_int(org, 9));
	return o;
}

int
tokens_settings_get(struct req *r)
{
	struct db_row org;
	int rc;

	if ((rc = load_org(r, &org)) != 0)
		return rc;
	return reply_json(r, 200, settings_json(&org));
}

int
tokens_settings_set(struct req *r)
{
	struct db_row org;
	int api, legacy, rc;
	int64_t ttl;

	if ((rc = load_org(r, &org)) != 0)
		return rc;
	/* Organization-wide switches: the owner's to flip (any member may read them). */
	if (!r->who.is_owner)
		return req_fail(r, 403, "You do not have permission to perform this action.");
	api = (int)db_int(&org, 8);
	legacy = (int)db_int(&org, 7);
	ttl = db_int(&org, 9);
	if (jget_bool(r->json, "api_tokens_enabled", &api) < 0)
		return req_fail_field(r, "api_tokens_enabled", "Must be a valid boolean.");
	if (jget_bool(r->json, "legacy_api_tokens_enabled", &legacy) < 0)
		return req_fail_field(r, "legacy_api_tokens_enabled", "Must be a valid boolean.");
	rc = jget_int(r->json, "api_token_ttl_days", &ttl);
	if (rc < 0 || ttl < 1 || ttl > 73000)
		return req_fail_field(r, "api_token_ttl_days", "Ensure this value is between 1 and 73000.");
	if (db_exec(r, STMT_ORG_JWT_SETTINGS_SET, "bbii", api, legacy, ttl, r->who.org_id) < 0)
		return req_fail_db(r);
	if ((rc = load_org(r, &org)) != 0)
		return rc;
	return reply_json(r, 200, settings_json(&org));
}
