/* The auth matrix of Label Studio clients: no token, bad token, legacy Token and X-Api-Key,
 * personal access tokens (create, list, refresh, Bearer, expiry, blacklist, rotate), the
 * per-organization switches, and organization scoping (another org's object is a 404). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <criterion/criterion.h>

#include "e2e.h"
#include "jwt.h"

TestSuite(auth, .timeout = 60);

static char *
user(const char *base, const char *new_org, long long *id)
{
	char name[128];

	snprintf(name, sizeof(name), "%s-%s", base, e2e_unique());
	return strdup(e2e_user(name, new_org, id));
}

static long
status_of(const char *method, const char *path, const char *auth)
{
	struct resp *r = http(method, path, auth, NULL, NULL);
	long s = r->status;

	resp_free(r);
	return s;
}

static char *
bearer(const char *access)
{
	char *h = malloc(strlen(access) + 32);

	sprintf(h, "Authorization: Bearer %s", access);
	return h;
}

/* POST /api/token/ for the user; returns the refresh token (malloc'd). */
static char *
new_pat(const char *auth)
{
	struct resp *r = http("POST", "/api/token/", auth, NULL, NULL);
	char *t;

	cr_assert_eq(r->status, 201, "%s", r->body);
	t = strdup(jstr(r->json, "token"));
	resp_free(r);
	cr_assert(strlen(t) > 50);
	return t;
}

static char *
refresh(const char *pat, long want)
{
	char body[2048];
	struct resp *r;
	char *a = NULL;

	snprintf(body, sizeof(body), "{\"refresh\":\"%s\"}", pat);
	r = http("POST", "/api/token/refresh/", NULL, body, NULL);
	cr_assert_eq(r->status, want, "refresh: %ld %s", r->status, r->body);
	if (want == 200)
		a = strdup(jstr(r->json, "access"));
	resp_free(r);
	return a;
}

Test(auth, no_and_bad_credentials)
{
	struct resp *r = http("GET", "/api/current-user/whoami", NULL, NULL, NULL);

	cr_assert_eq(r->status, 401);
	cr_assert_str_eq(jstr(r->json, "detail"), "Authentication credentials were not provided.");
	resp_free(r);
	r = http("GET", "/api/current-user/whoami", "Authorization: Token 0123456789abcdef0123456789abcdef01234567", NULL, NULL);
	cr_assert_eq(r->status, 401);
	cr_assert_str_eq(jstr(r->json, "detail"), "Invalid token.");
	resp_free(r);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", "Authorization: Token x' OR '1'='1"), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", "X-Api-Key: nope"), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", "Authorization: Basic YWRtaW46YWRtaW4="), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", "Authorization: Bearer not.a.jwt"), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", "Authorization: Bearer "), 401);
}

Test(auth, legacy_token_and_x_api_key)
{
	long long id;
	char *auth = user("legacy", NULL, &id);
	const char *key = strchr(auth, ' ') + 1;
	char xkey[128];
	struct resp *r;

	key = strchr(key, ' ') + 1;
	snprintf(xkey, sizeof(xkey), "X-Api-Key: %s", key);
	r = http("GET", "/api/current-user/whoami", auth, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "id"), id);
	resp_free(r);
	r = http("GET", "/api/current-user/whoami", xkey, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "id"), id);
	resp_free(r);
	/* GET /api/current-user/token shows it; reset-token replaces it at once. */
	r = http("GET", "/api/current-user/token", auth, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "token"), key);
	resp_free(r);
	r = http("POST", "/api/current-user/reset-token/", auth, NULL, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	char fresh[128];
	snprintf(fresh, sizeof(fresh), "Authorization: Token %s", jstr(r->json, "token"));
	cr_assert_str_neq(jstr(r->json, "token"), key);
	resp_free(r);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", auth), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", xkey), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", fresh), 200);
	free(auth);
}

Test(auth, pat_refresh_bearer_flow)
{
	long long id;
	char *auth = user("pat", "PAT org", &id);
	char *pat = new_pat(auth), *access, *b;
	struct resp *r;

	/* One live PAT at a time. */
	r = http("POST", "/api/token/", auth, NULL, NULL);
	cr_assert_eq(r->status, 409, "%s", r->body);
	resp_free(r);
	/* The list shows it truncated to header.payload, never the signature. */
	r = http("GET", "/api/token/", auth, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(strncmp(jstr(r->json, "0.token"), pat, strlen(jstr(r->json, "0.token"))), 0);
	cr_assert_eq(strlen(jstr(r->json, "0.token")), (size_t)(strrchr(pat, '.') - pat));
	cr_assert(strlen(jstr(r->json, "0.expires_at")) > 0);
	resp_free(r);

	access = refresh(pat, 200);
	b = bearer(access);
	r = http("GET", "/api/current-user/whoami", b, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "id"), id);
	resp_free(r);
	/* The refresh token itself is not an access token. */
	free(b);
	b = bearer(pat);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 401);
	free(b);
	/* A tampered access token. */
	access[strlen(access) - 2] ^= 1;
	b = bearer(access);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 401);
	free(b);
	/* Bad refresh bodies. */
	r = http("POST", "/api/token/refresh/", NULL, "{}", NULL);
	cr_assert_eq(r->status, 400);
	cr_assert_not_null(jpath(r->json, "validation_errors.refresh"), "%s", r->body);
	resp_free(r);
	free(refresh("eyJhbGciOiJub25lIn0.e30.", 401));
	free(access);
	free(pat);
	free(auth);
}

/* Reads the stack's secret key the way siali does (trimmed contents of the file). */
static size_t
secret(char *out, size_t outsz)
{
	FILE *f = fopen(e2e_stack_path("secret_key"), "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(out, 1, outsz - 1, f);
	fclose(f);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return n;
}

Test(auth, expired_access_token)
{
	char *auth = user("expired", "Expired org", NULL);
	char *pat = new_pat(auth), key[256], tok[JWT_MAX];
	struct jwt_claims c;
	size_t keylen = secret(key, sizeof(key));
	char *b;
	struct resp *r;

	/* A correctly signed access token of this PAT whose exp has passed. */
	cr_assert_eq(jwt_peek(pat, strlen(pat), &c), JWT_OK);
	strcpy(c.token_type, "access");
	c.iat = (int64_t)time(NULL) - 600;
	c.exp = c.iat + 300;
	cr_assert_eq(jwt_sign(&c, key, keylen, tok, sizeof(tok)), 0);
	b = bearer(tok);
	r = http("GET", "/api/current-user/whoami", b, NULL, NULL);
	cr_assert_eq(r->status, 401);
	cr_assert_str_eq(jstr(r->json, "detail"), "Token is invalid or expired");
	resp_free(r);
	free(b);
	/* The same token with a future exp works: only expiry refused it. */
	c.exp = (int64_t)time(NULL) + 300;
	cr_assert_eq(jwt_sign(&c, key, keylen, tok, sizeof(tok)), 0);
	b = bearer(tok);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 200);
	free(b);
	free(pat);
	free(auth);
}

Test(auth, blacklisted_pat)
{
	char *auth = user("black", "Blacklist org", NULL);
	char *pat = new_pat(auth), *access = refresh(pat, 200), *b = bearer(access), body[2048];
	struct resp *r;

	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 200);
	snprintf(body, sizeof(body), "{\"refresh\":\"%s\"}", pat);
	r = http("POST", "/api/token/blacklist/", auth, body, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	/* The PAT no longer refreshes, and (unlike Label Studio) its access tokens die at once. */
	free(refresh(pat, 401));
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 401);
	r = http("POST", "/api/token/blacklist/", auth, body, NULL);
	cr_assert_eq(r->status, 404, "%s", r->body);
	resp_free(r);
	/* With the old one gone, a new PAT can be made. */
	free(new_pat(auth));
	free(b);
	free(access);
	free(pat);
	free(auth);
}

Test(auth, rotated_pat)
{
	char *auth = user("rotate", "Rotate org", NULL);
	char *pat = new_pat(auth), *fresh, *access, body[2048];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"refresh\":\"%s\"}", pat);
	r = http("POST", "/api/token/rotate/", auth, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	fresh = strdup(jstr(r->json, "refresh"));
	resp_free(r);
	cr_assert_str_neq(fresh, pat);
	free(refresh(pat, 401));
	access = refresh(fresh, 200);
	free(access);
	/* Rotating the old one again fails. */
	r = http("POST", "/api/token/rotate/", auth, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	free(fresh);
	free(pat);
	free(auth);
}

Test(auth, organization_switches)
{
	long long id;
	char *owner = user("switch-owner", "Switch org", &id), *pat = new_pat(owner);
	char *access = refresh(pat, 200), *b = bearer(access);
	struct resp *r;

	r = http("GET", "/api/jwt/settings/", owner, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(json_object_get_boolean(jpath(r->json, "api_tokens_enabled")));
	cr_assert(json_object_get_boolean(jpath(r->json, "legacy_api_tokens_enabled")));
	cr_assert(jint(r->json, "api_token_ttl_days") > 0);
	resp_free(r);
	/* Legacy tokens off: Token auth is refused with a message, Bearer still works. */
	r = http("POST", "/api/jwt/settings/", owner, "{\"legacy_api_tokens_enabled\": false}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	r = http("GET", "/api/current-user/whoami", owner, NULL, NULL);
	cr_assert_eq(r->status, 401);
	cr_assert(strstr(jstr(r->json, "detail"), "legacy") != NULL, "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/jwt/settings/", b, "{\"legacy_api_tokens_enabled\": true, \"api_tokens_enabled\": false}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", b), 401);
	cr_assert_eq(status_of("GET", "/api/current-user/whoami", owner), 200);
	r = http("POST", "/api/token/", owner, NULL, NULL);
	cr_assert_eq(r->status, 403, "%s", r->body);
	resp_free(r);
	r = http("POST", "/api/jwt/settings/", owner, "{\"api_token_ttl_days\": 0}", NULL);
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);
	free(b);
	free(access);
	free(pat);
	free(owner);
}

Test(auth, settings_are_the_owners_to_change)
{
	char name[128], cmd_auth[256];
	char *owner = user("set-owner", "Settings org", NULL);
	struct resp *r;

	/* A member added by the owner, its token fetched with `siali user`. */
	snprintf(name, sizeof(name), "set-member-%s", e2e_unique());
	char body[256];
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"password123\"}", name);
	r = http("POST", "/api/users/", owner, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	strcpy(cmd_auth, e2e_user(name, NULL, NULL));
	r = http("POST", "/api/jwt/settings/", cmd_auth, "{\"legacy_api_tokens_enabled\": false}", NULL);
	cr_assert_eq(r->status, 403, "%s", r->body);
	resp_free(r);
	cr_assert_eq(status_of("GET", "/api/jwt/settings/", cmd_auth), 200);
	free(owner);
}

Test(auth, other_organization_is_404)
{
	long long ida, idb, orga, orgb;
	char *a = user("cross-a", "Org A", &ida), *b = user("cross-b", "Org B", &idb);
	char path[256];
	struct resp *r;

	r = http("GET", "/api/current-user/whoami", a, NULL, NULL);
	orga = jint(r->json, "active_organization");
	resp_free(r);
	r = http("GET", "/api/current-user/whoami", b, NULL, NULL);
	orgb = jint(r->json, "active_organization");
	resp_free(r);
	cr_assert_neq(orga, orgb);

	snprintf(path, sizeof(path), "/api/users/%lld/", ida);
	cr_assert_eq(status_of("GET", path, a), 200);
	cr_assert_eq(status_of("GET", path, b), 404);
	cr_assert_eq(status_of("DELETE", path, b), 404);
	r = http("PATCH", path, b, "{\"first_name\":\"pwned\"}", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/organizations/%lld", orga);
	cr_assert_eq(status_of("GET", path, b), 404);
	r = http("PATCH", path, b, "{\"title\":\"pwned\"}", NULL);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/organizations/%lld/memberships", orga);
	cr_assert_eq(status_of("GET", path, b), 404);
	cr_assert_eq(status_of("GET", path, a), 200);
	/* Lists only ever show the caller's organization. */
	r = http("GET", "/api/users/", b, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(jint(r->json, "0.id"), idb);
	resp_free(r);
	r = http("GET", "/api/organizations/", b, NULL, NULL);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_eq(jint(r->json, "0.id"), orgb);
	resp_free(r);
	free(a);
	free(b);
}
