/* routes.c — every route on one screen: what it is, who may call it, what body it takes.
 * Patterns carry no trailing slash; the router accepts both forms for every method. */
#include "handlers.h"
#include "router.h"

#define P AUTH_PUBLIC
#define U AUTH_USER

const struct route routes[] = {
	/* health and version (no auth: probes and client handshakes) */
	{ "GET",    "/health",                              misc_health,          P, BODY_NONE, "health" },
	{ "GET",    "/api/health",                          misc_api_health,      P, BODY_NONE, "health.legacy" },
	{ "GET",    "/api/version",                         misc_version,         P, BODY_NONE, "version" },
	{ "GET",    "/version",                             misc_version,         P, BODY_NONE, "version.legacy" },

	/* the current user and their tokens */
	{ "GET",    "/api/current-user/whoami",             users_whoami,         U, BODY_NONE, "users.whoami" },
	{ "GET",    "/api/current-user/token",              tokens_legacy_get,    U, BODY_NONE, "tokens.legacy.get" },
	{ "POST",   "/api/current-user/reset-token",        tokens_legacy_reset,  U, BODY_NONE, "tokens.legacy.reset" },
	{ "GET",    "/api/token",                           tokens_pat_list,      U, BODY_NONE, "tokens.pat.list" },
	{ "POST",   "/api/token",                           tokens_pat_create,    U, BODY_NONE, "tokens.pat.create" },
	{ "POST",   "/api/token/refresh",                   tokens_pat_refresh,   P, BODY_JSON, "tokens.pat.refresh" },
	{ "POST",   "/api/token/blacklist",                 tokens_pat_blacklist, U, BODY_JSON, "tokens.pat.blacklist" },
	{ "POST",   "/api/token/rotate",                    tokens_pat_rotate,    U, BODY_JSON, "tokens.pat.rotate" },
	{ "GET",    "/api/jwt/settings",                    tokens_settings_get,  U, BODY_NONE, "tokens.settings.get" },
	{ "POST",   "/api/jwt/settings",                    tokens_settings_set,  U, BODY_JSON, "tokens.settings.set" },

	/* users of the caller's organization */
	{ "GET",    "/api/users",                           users_list,           U, BODY_NONE, "users.list" },
	{ "POST",   "/api/users",                           users_create,         U, BODY_JSON, "users.create" },
	{ "GET",    "/api/users/:id",                       users_get,            U, BODY_NONE, "users.get" },
	{ "PATCH",  "/api/users/:id",                       users_patch,          U, BODY_JSON, "users.patch" },
	{ "DELETE", "/api/users/:id",                       users_delete,         U, BODY_NONE, "users.delete" },

	/* organizations */
	{ "GET",    "/api/organizations",                   orgs_list,            U, BODY_NONE, "orgs.list" },
	{ "GET",    "/api/organizations/:id",               orgs_get,             U, BODY_NONE, "orgs.get" },
	{ "PATCH",  "/api/organizations/:id",               orgs_patch,           U, BODY_JSON, "orgs.patch" },
	{ "GET",    "/api/organizations/:id/memberships",   orgs_memberships,     U, BODY_NONE, "orgs.memberships" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
