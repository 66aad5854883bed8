/* db.h — the one MariaDB connection of this process, and the only way to run SQL.
 *
 * Every statement is a named entry of stmts.h, prepared once per connection and checked against
 * the parameter and column counts it declares. Parameters are bound from a format string:
 *   'i' int64_t   'b' int (0/1, NULL never)   'd' double
 *   's' const char * (NULL binds SQL NULL)   'S' const char *, size_t (bytes with a length)
 * Results are read as text into the request's arena. The connection is opened lazily after fork;
 * outside a transaction a lost connection is re-opened once and the statement retried.
 */
#ifndef SIALI_DB_H
#define SIALI_DB_H

#include <stddef.h>
#include <stdint.h>
#include "req.h"
#include "stmts.h"

struct config;

struct db_row {
	int ncols;
	char **v;                       /* v[i] == NULL for SQL NULL */
	unsigned long *len;
};

struct db_rows {
	size_t n;
	struct db_row *rows;
};

/* Error classes of the last failure, for req_fail_db and callers that expect one. */
enum db_err {
	DB_OK = 0,
	DB_ERR_CONN,            /* unreachable / lost: 503 */
	DB_ERR_DUP,             /* duplicate key (1062) */
	DB_ERR_FK,              /* foreign key (1451/1452) */
	DB_ERR_TIMEOUT,         /* statement time limit, lock wait */
	DB_ERR_OTHER,
};

/* Remembers the settings; connects nothing. */
void db_configure(const struct config *c);
/* Connects now (prepares every statement). 0, or -1 (logged). */
int db_connect(void);
/* Prepares every statement of stmts.h now; returns how many failed (start-up check). */
int db_prepare_all(void);
/* Closes the connection (before exit, or after fork in a child that must not share it). */
void db_close(void);
/* The class of the last error. */
enum db_err db_last_error(void);
/* 1 when a connection is open. */
int db_connected(void);

/* Runs a statement that returns no rows. Returns affected rows (>= 0) or -1. */
int64_t db_exec(struct req *r, enum stmt_id id, const char *fmt, ...);
/* The AUTO_INCREMENT id of the last insert through db_exec. */
int64_t db_insert_id(void);
/* Runs a statement expecting at most one row: 1 found (row filled), 0 none, -1 error. */
int db_row(struct req *r, struct db_row *row, enum stmt_id id, const char *fmt, ...);
/* Runs a statement and collects every row into the arena: 0 ok, -1 error. */
int db_rows(struct req *r, struct db_rows *out, enum stmt_id id, const char *fmt, ...);
/* Runs a statement and calls fn for each row as it arrives (constant memory; the row's memory is
 * valid only during the call). fn returns 0 to go on, non-zero to stop. 0 ok, -1 error. */
int db_each(struct req *r, int (*fn)(void *ctx, const struct db_row *row), void *ctx,
    enum stmt_id id, const char *fmt, ...);

/* Transactions: db_begin registers a rollback on r that db_commit disarms; so a handler that
 * returns early on an error rolls back by doing nothing. 0 ok, -1 error. */
int db_begin(struct req *r);
int db_commit(struct req *r);

/* Row accessors. */
int64_t db_int(const struct db_row *row, int i);        /* 0 for NULL */
const char *db_str(const struct db_row *row, int i);    /* "" for NULL */
int db_null(const struct db_row *row, int i);

/* Runs raw SQL text that carries no input (migrations, session settings). 0 ok, -1 error. */
int db_exec_script(const char *sql, size_t len);

#endif
