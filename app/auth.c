/* auth.c — the auth gate (see auth.h). One indexed lookup per request. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "jwt.h"
#include "reply.h"

#define NO_CREDENTIALS "Authentication credentials were not provided."

static int
unauthorized(struct req *r, const char *detail)
{
	reply_header(r, "WWW-Authenticate", "Token");
	return req_fail(r, 401, "%s", detail);
}

static int
is_legacy_key(const char *k)
{
	size_t n = strlen(k);

	if (n != 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)k[i]))
			return 0;
	return 1;
}

/* Loads the caller from an auth row (id, org, enabled, is_owner, stale) and refreshes
 * last_activity at most every few minutes, so authentication stays one read on the hot path. */
static int
accept_row(struct req *r, struct db_row *row, const char *scheme, const char *disabled)
{
	if (db_int(row, 2) == 0)
		return unauthorized(r, disabled);
	r->who.user_id = db_int(row, 0);
	r->who.org_id = db_int(row, 1);
	r->who.is_owner = db_int(row, 3) != 0;
	r->who.scheme = scheme;
	r->who.user = row;
	if (db_int(row, 4) != 0)
		db_exec(r, STMT_USER_TOUCH, "i", r->who.user_id);
	return 0;
}

static int
auth_legacy(struct req *r, const char *key)
{
	struct db_row *row = req_alloc(r, sizeof(*row));
	int rc;

	if (!is_legacy_key(key))
		return unauthorized(r, "Invalid token.");
	rc = db_row(r, row, STMT_AUTH_LEGACY, "s", key);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return unauthorized(r, "Invalid token.");
	return accept_row(r, row, "token", "Authentication token no longer valid: legacy token "
	    "authentication has been disabled for this organization");
}

static int
auth_bearer(struct req *r, const char *token)
{
	struct jwt_claims c;
	struct db_row *row = req_alloc(r, sizeof(*row));
	int rc;

	if (jwt_verify(token, strlen(token), cfg.secret, cfg.secret_len, (int64_t)time(NULL), &c) != JWT_OK ||
	    strcmp(c.token_type, "access") != 0)
		return unauthorized(r, "Token is invalid or expired");
	/* The access token carries the jti of the personal access token it came from, so revoking
	 * that token ends its access tokens at once (Label Studio lets them live out their 5 minutes). */
	rc = db_row(r, row, STMT_AUTH_JWT, "si", c.jti, c.user_id);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return unauthorized(r, "Token is invalid or expired");
	return accept_row(r, row, "bearer", "Authentication token no longer valid: personal access "
	    "tokens have been disabled for this organization");
}

int
auth_authenticate(struct req *r)
{
	const char *key = req_header(r, "X_API_KEY");
	const char *h = req_header(r, "AUTHORIZATION");

	if (key != NULL && *key != '\0')
		return auth_legacy(r, key);
	if (h == NULL || *h == '\0')
		return unauthorized(r, NO_CREDENTIALS);
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Token ", 6) == 0) {
		h += 6;
		while (*h == ' ')
			h++;
		return auth_legacy(r, h);
	}
	if (strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		return auth_bearer(r, h);
	}
	return unauthorized(r, NO_CREDENTIALS);
}
