/* config.h — settings as a table (name, type, default, bounds, secret), read once in the master
 * before fork. A file of `name = value` lines, then SIALI_<NAME> environment overrides.
 * config_load collects every problem instead of stopping at the first (like `nginx -t`).
 */
#ifndef SIALI_CONFIG_H
#define SIALI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config {
	char socket[256];
	int socket_mode;
	int workers;                    /* resolved: 0 in the file means 2 × cores */
	char pidfile[256];
	char db_host[256];
	int db_port;
	char db_socket[256];
	char db_user[128];
	char db_password[256];
	char db_name[128];
	char secret_key_file[256];
	int64_t max_body_size;
	int64_t max_json_size;
	int drain_timeout;
	int legacy_tokens;
	int access_token_ttl;
	int log_requests;
	int outbound_allow_private;     /* private, loopback, link-local… addresses may be fetched */
	char outbound_allow_hosts[1024];/* "host[:port],…" that bypass every address refusal */
	int outbound_timeout;           /* seconds for a whole fetch, redirects included */
	int64_t outbound_max_bytes;     /* resolved: 0 in the file means max_body_size */
	int outbound_max_redirects;
	int job_stale_after;            /* seconds without a heartbeat before a job is retaken */
	char media_root[256];           /* uploads (upload/<project>/…) and snapshots (export/…) */
	char local_files_root[256];     /* local-files storages live under it; "" = local files off */
	int max_files_per_import;
	int max_tasks_per_import;
	int max_json_depth;

	/* Derived, not settings. */
	char path[256];                 /* the file that was read ("" if none) */
	unsigned char secret[64];       /* the install secret (from secret_key_file) */
	size_t secret_len;
};

extern struct config cfg;

/* Loads defaults, the file (path from SIALI_CONFIG or the compiled-in default) and the
 * environment into *c. Problems are appended to errs (one per line, NUL-terminated).
 * Returns the number of problems. A missing file is not a problem when allow_missing is set. */
int config_load(struct config *c, const char *path, int allow_missing, char *errs, size_t errsz);
/* Parses a config text (for tests and config_load). Same return convention. */
int config_parse(struct config *c, const char *text, const char *origin, char *errs, size_t errsz);
/* Applies defaults to *c. */
void config_defaults(struct config *c);
/* The config file path that config_load will read. */
const char *config_path(void);
/* Reads (or with create set, creates with mode 0600) the secret key file into c->secret.
 * Returns 0, or -1 with a message in err. */
int config_load_secret(struct config *c, int create, char *err, size_t errsz);
/* Prints the effective settings, secrets masked (check-config -v). */
void config_dump(const struct config *c, int fd);

#endif
