/* e2e.h — a small HTTP client for end-to-end tests against a running stack (nginx + siali +
 * MariaDB), started by tests/run-tests.sh. Environment: SIALI_TEST_URL, SIALI_STACK_DIR,
 * SIALI_BIN, SIALI_CONFIG. */
#ifndef E2E_H
#define E2E_H

#include <stddef.h>
#include <json-c/json.h>

struct resp {
	long status;
	char *body;
	size_t len;
	char *headers;                  /* raw response headers */
	struct json_object *json;       /* parsed body, NULL when not JSON */
	char *header_copies[8];         /* what resp_header returned, freed with the resp */
	size_t nheaders;
};

/* Sends a request. auth is a whole header line ("Authorization: Token abc") or NULL; body NULL
 * sends none; ctype NULL means application/json when there is a body. Never NULL. */
struct resp *http(const char *method, const char *path, const char *auth, const char *body, const char *ctype);
/* The same with extra raw header lines (NULL-terminated array). */
struct resp *http_ex(const char *method, const char *path, const char *const *headers, const char *body,
    size_t bodylen, const char *ctype);
void resp_free(struct resp *r);
/* A response header value (freed with the resp), NULL when absent. Case-insensitive name. */
const char *resp_header(struct resp *r, const char *name);

/* Dotted path lookup in the JSON body: "user.id", "results.0.id". NULL when absent. */
struct json_object *jpath(struct json_object *o, const char *path);
const char *jstr(struct json_object *o, const char *path);        /* "" when absent */
long long jint(struct json_object *o, const char *path);          /* -1 when absent */

/* Creates (or fetches) a user through `siali user --create` and returns its legacy token
 * ("Authorization: Token ..." header line, static storage per call: copy it). With new_org set the
 * user founds its own organization. Also stores the user id in *id when id is not NULL. */
char *e2e_user(const char *username, const char *new_org, long long *id);
/* Runs a shell command with the stack's environment; returns its exit status. */
int e2e_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of a file inside the stack directory (static buffer). */
const char *e2e_stack_path(const char *name);
/* A unique suffix for names in this run. */
const char *e2e_unique(void);
/* Runs a shell command and returns its stdout (malloc'd, never NULL). */
char *e2e_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The siali binary under test ($SIALI_BIN). */
const char *e2e_bin(void);
/* Runs SQL on the stack's database as the superuser (no double quotes in it): exit status, or
 * its tab-separated output without column names (malloc'd). */
int e2e_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *e2e_sql_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* GET uri straight from a FastCGI socket (no nginx); authorization is the header's value or NULL.
 * Returns the HTTP status (-1 when the socket does not answer) and copies the body. */
long fcgi_get(const char *sock, const char *uri, const char *authorization, char *body, size_t bodysz);

#endif
