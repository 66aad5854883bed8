/* migrate.c — applying sql/ (see migrate.h). */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "db.h"
#include "log.h"
#include "migrate.h"

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INT NOT NULL PRIMARY KEY,"
	" name VARCHAR(255) NOT NULL,"
	" checksum CHAR(64) NOT NULL,"
	" applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

static void
checksum(const struct migration *m, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(m->sql, m->len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* Marks in applied[] which migrations ran; returns -1 on a database error or a changed file. */
static int
read_applied(struct req *r, char *applied)
{
	struct db_rows rows;

	memset(applied, 0, migrations_count);
	if (db_rows(r, &rows, STMT_MIGRATIONS_APPLIED, "") != 0)
		return -1;
	for (size_t i = 0; i < rows.n; i++) {
		int64_t v = db_int(&rows.rows[i], 0);
		int found = 0;

		for (size_t j = 0; j < migrations_count; j++) {
			char sum[65];

			if (migrations[j].version != v)
				continue;
			found = 1;
			checksum(&migrations[j], sum);
			if (strcmp(sum, db_str(&rows.rows[i], 1)) != 0) {
				log_error("migration %s was changed after it was applied; migrations are "
				    "forward-only: add a new one instead", migrations[j].name);
				return -1;
			}
			applied[j] = 1;
		}
		if (!found) {
			log_error("the database has migration %lld, which this binary does not know: "
			    "it is older than the schema", (long long)v);
			return -1;
		}
	}
	return 0;
}

int
migrate_pending(void)
{
	struct req r = {0};
	char applied[256];
	int pending = 0;

	req_begin(&r);
	if (migrations_count > sizeof(applied) || read_applied(&r, applied) != 0) {
		/* A schema without schema_migrations has everything pending. */
		if (db_last_error() == DB_ERR_OTHER && db_connected()) {
			req_release(&r);
			return (int)migrations_count;
		}
		req_release(&r);
		return -1;
	}
	for (size_t i = 0; i < migrations_count; i++)
		pending += !applied[i];
	req_release(&r);
	return pending;
}

int
migrate_run(void)
{
	struct req r = {0};
	char applied[256];
	int rc = 0;

	req_begin(&r);
	if (db_exec_script(create_table, strlen(create_table)) != 0 ||
	    migrations_count > sizeof(applied) || read_applied(&r, applied) != 0) {
		req_release(&r);
		return -1;
	}
	for (size_t i = 0; i < migrations_count && rc == 0; i++) {
		char sum[65];

		if (applied[i])
			continue;
		log_info("applying migration %s", migrations[i].name);
		checksum(&migrations[i], sum);
		if (db_exec_script(migrations[i].sql, migrations[i].len) != 0 ||
		    db_exec(&r, STMT_MIGRATION_RECORD, "iss", (int64_t)migrations[i].version,
		    migrations[i].name, sum) < 0) {
			log_error("migration %s failed; fix the cause and run `siali migrate` again",
			    migrations[i].name);
			rc = -1;
		}
	}
	req_release(&r);
	return rc;
}
