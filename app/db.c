/* db.c — the MariaDB connection and statement runner (see db.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "config.h"
#include "db.h"
#include "log.h"

#define MAX_PARAMS 32
#define COLBUF 512

static const struct config *dbcfg;
static MYSQL *conn;
static MYSQL_STMT *stmts[STMT__COUNT];
static enum db_err last_err;
static int in_tx;
static size_t tx_defer;
static int64_t last_insert_id;

void
db_configure(const struct config *c)
{
	dbcfg = c;
}

int
db_connected(void)
{
	return conn != NULL;
}

enum db_err
db_last_error(void)
{
	return last_err;
}

int64_t
db_insert_id(void)
{
	return last_insert_id;
}

static enum db_err
classify(unsigned int e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case 4031: /* the client was disconnected for inactivity */
		return DB_ERR_CONN;
	case ER_DUP_ENTRY:
		return DB_ERR_DUP;
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW_2:
		return DB_ERR_FK;
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_STATEMENT_TIMEOUT:
	case ER_QUERY_INTERRUPTED:
		return DB_ERR_TIMEOUT;
	default:
		return DB_ERR_OTHER;
	}
}

void
db_close(void)
{
	for (int i = 0; i < STMT__COUNT; i++) {
		if (stmts[i] != NULL)
			mysql_stmt_close(stmts[i]);
		stmts[i] = NULL;
	}
	if (conn != NULL)
		mysql_close(conn);
	conn = NULL;
	in_tx = 0;
}

int
db_connect(void)
{
	unsigned int timeout = 3, rw_timeout = 300;
	my_bool off = 0;

	static struct timespec last_fail;
	struct timespec now;

	db_close();
	if (dbcfg == NULL)
		return -1;
	/* While MariaDB is away, try at most every half second: requests fail fast with 503 instead
	 * of each waiting out a connect timeout. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last_fail.tv_sec != 0 && (now.tv_sec - last_fail.tv_sec) * 1000 +
	    (now.tv_nsec - last_fail.tv_nsec) / 1000000 < 500) {
		last_err = DB_ERR_CONN;
		return -1;
	}
	conn = mysql_init(NULL);
	if (conn == NULL) {
		last_err = DB_ERR_OTHER;
		return -1;
	}
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(conn, MYSQL_OPT_RECONNECT, &off);
	/* READ COMMITTED: every statement sees what is committed when it runs. Counters recounted under
	 * a row lock (handlers/stats.c) depend on it: with REPEATABLE READ, a snapshot taken by an
	 * earlier read in the transaction would hide rows committed while it waited for the lock. It
	 * also takes no gap locks, so concurrent inserts into one project do not block each other. */
	mysql_options(conn, MYSQL_INIT_COMMAND,
	    "SET time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, "
	    "tx_isolation = 'READ-COMMITTED', "
	    "sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
	if (mysql_real_connect(conn, dbcfg->db_socket[0] ? NULL : dbcfg->db_host, dbcfg->db_user,
	    dbcfg->db_password, dbcfg->db_name, (unsigned)dbcfg->db_port,
	    dbcfg->db_socket[0] ? dbcfg->db_socket : NULL, 0) == NULL) {
		log_error("database: cannot connect: %s", mysql_error(conn));
		last_err = DB_ERR_CONN;
		mysql_close(conn);
		conn = NULL;
		last_fail = now;
		return -1;
	}
	last_fail.tv_sec = 0;
	last_err = DB_OK;
	return 0;
}

/* Prepares a statement on the open connection and checks its declared shape. */
static MYSQL_STMT *
get_stmt(enum stmt_id id)
{
	const struct stmt_def *d = &stmt_defs[id];
	MYSQL_STMT *st;

	if (stmts[id] != NULL)
		return stmts[id];
	if (conn == NULL && db_connect() != 0)
		return NULL;
	st = mysql_stmt_init(conn);
	if (st == NULL) {
		last_err = DB_ERR_OTHER;
		return NULL;
	}
	if (mysql_stmt_prepare(st, d->sql, strlen(d->sql)) != 0) {
		last_err = classify(mysql_stmt_errno(st));
		log_error("database: cannot prepare %s: %s", d->name, mysql_stmt_error(st));
		mysql_stmt_close(st);
		return NULL;
	}
	if ((int)mysql_stmt_param_count(st) != d->nparams || (int)mysql_stmt_field_count(st) != d->ncols) {
		log_error("database: statement %s declares %d parameters and %d columns, MariaDB sees %lu and %u",
		    d->name, d->nparams, d->ncols, mysql_stmt_param_count(st), mysql_stmt_field_count(st));
		last_err = DB_ERR_OTHER;
		mysql_stmt_close(st);
		return NULL;
	}
	stmts[id] = st;
	return st;
}

int
db_prepare_all(void)
{
	int bad = 0;

	for (int i = 0; i < STMT__COUNT; i++)
		if (get_stmt((enum stmt_id)i) == NULL)
			bad++;
	return bad;
}

struct params {
	MYSQL_BIND b[MAX_PARAMS];
	long long ints[MAX_PARAMS];
	double dbls[MAX_PARAMS];
	unsigned long lens[MAX_PARAMS];
	my_bool nulls[MAX_PARAMS];
	int n;
};

static int
bind_params(struct params *p, const char *fmt, va_list ap)
{
	memset(p, 0, sizeof(*p));
	for (const char *f = fmt; *f != '\0'; f++) {
		int i = p->n++;
		MYSQL_BIND *b = &p->b[i];
		const char *s;

		if (i >= MAX_PARAMS)
			return -1;
		switch (*f) {
		case 'i':
			p->ints[i] = va_arg(ap, int64_t);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->ints[i];
			break;
		case 'b':
			p->ints[i] = va_arg(ap, int) != 0;
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->ints[i];
			break;
		case 'd':
			p->dbls[i] = va_arg(ap, double);
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &p->dbls[i];
			break;
		case 's':
		case 'S':
			s = va_arg(ap, const char *);
			p->lens[i] = *f == 'S' ? (unsigned long)va_arg(ap, size_t) : (s ? strlen(s) : 0);
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = (void *)(s != NULL ? s : "");
			b->buffer_length = p->lens[i];
			b->length = &p->lens[i];
			p->nulls[i] = s == NULL;
			b->is_null = &p->nulls[i];
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Executes a statement with parameters; on a lost connection outside a transaction, reconnects
 * once and tries again. Returns the statement, or NULL (last_err set). */
static MYSQL_STMT *
execute(enum stmt_id id, const char *fmt, va_list ap)
{
	struct params p;
	va_list ap2;

	for (int attempt = 0; attempt < 2; attempt++) {
		MYSQL_STMT *st = get_stmt(id);

		if (st == NULL) {
			if (last_err == DB_ERR_CONN && !in_tx && attempt == 0) {
				db_close();
				continue;
			}
			return NULL;
		}
		va_copy(ap2, ap);
		int bad = bind_params(&p, fmt, ap2);
		va_end(ap2);
		if (bad || p.n != stmt_defs[id].nparams) {
			log_error("database: %s bound with \"%s\" (%d values), it takes %d",
			    stmt_defs[id].name, fmt, p.n, stmt_defs[id].nparams);
			last_err = DB_ERR_OTHER;
			return NULL;
		}
		if ((p.n > 0 && mysql_stmt_bind_param(st, p.b) != 0) || mysql_stmt_execute(st) != 0) {
			unsigned int e = mysql_stmt_errno(st);

			last_err = classify(e);
			if (last_err == DB_ERR_CONN) {
				int was_tx = in_tx;

				log_warn("database: connection lost running %s: %s", stmt_defs[id].name,
				    mysql_stmt_error(st));
				db_close();
				if (!was_tx && attempt == 0)
					continue;
			} else if (last_err != DB_ERR_DUP) {
				log_error("database: %s failed: %s", stmt_defs[id].name, mysql_stmt_error(st));
			}
			return NULL;
		}
		last_err = DB_OK;
		return st;
	}
	return NULL;
}

int64_t
db_exec(struct req *r, enum stmt_id id, const char *fmt, ...)
{
	va_list ap;
	MYSQL_STMT *st;

	(void)r;
	va_start(ap, fmt);
	st = execute(id, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	last_insert_id = (int64_t)mysql_stmt_insert_id(st);
	return (int64_t)mysql_stmt_affected_rows(st);
}

typedef int (*row_fn)(void *ctx, const struct db_row *row);

/* Fetches every row of an executed statement, calling fn for each. */
static int
fetch(struct req *r, MYSQL_STMT *st, int ncols, row_fn fn, void *ctx)
{
	MYSQL_BIND *b = req_zalloc(r, sizeof(*b) * (size_t)(ncols ? ncols : 1));
	unsigned long *lens = req_zalloc(r, sizeof(*lens) * (size_t)(ncols ? ncols : 1));
	my_bool *nulls = req_zalloc(r, sizeof(*nulls) * (size_t)(ncols ? ncols : 1));
	char **bufs = req_zalloc(r, sizeof(*bufs) * (size_t)(ncols ? ncols : 1));
	char **big = calloc((size_t)(ncols ? ncols : 1), sizeof(*big));
	size_t *bigcap = calloc((size_t)(ncols ? ncols : 1), sizeof(*bigcap));
	struct db_row row;
	int rc = 0, stopped = 0;

	if (big == NULL || bigcap == NULL) {
		free(big);
		free(bigcap);
		return -1;
	}
	row.ncols = ncols;
	row.v = req_zalloc(r, sizeof(char *) * (size_t)(ncols ? ncols : 1));
	row.len = lens;
	for (int i = 0; i < ncols; i++) {
		bufs[i] = req_alloc(r, COLBUF);
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = bufs[i];
		b[i].buffer_length = COLBUF - 1;
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
	}
	if (ncols > 0 && mysql_stmt_bind_result(st, b) != 0) {
		rc = -1;
		goto out;
	}
	for (;;) {
		int f = mysql_stmt_fetch(st);

		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			last_err = classify(mysql_stmt_errno(st));
			log_error("database: fetch failed: %s", mysql_stmt_error(st));
			if (last_err == DB_ERR_CONN)
				db_close();
			rc = -1;
			goto out;
		}
		for (int i = 0; i < ncols; i++) {
			if (nulls[i]) {
				row.v[i] = NULL;
				continue;
			}
			if (lens[i] < COLBUF) {
				bufs[i][lens[i]] = '\0';
				row.v[i] = bufs[i];
				continue;
			}
			/* Longer than the bind buffer: fetch this column whole into a reused buffer. */
			if (bigcap[i] < lens[i] + 1) {
				char *nb = realloc(big[i], lens[i] + 1);
				if (nb == NULL) {
					rc = -1;
					goto out;
				}
				big[i] = nb;
				bigcap[i] = lens[i] + 1;
			}
			MYSQL_BIND one;
			memset(&one, 0, sizeof(one));
			one.buffer_type = MYSQL_TYPE_STRING;
			one.buffer = big[i];
			one.buffer_length = lens[i];
			if (mysql_stmt_fetch_column(st, &one, (unsigned)i, 0) != 0) {
				rc = -1;
				goto out;
			}
			big[i][lens[i]] = '\0';
			row.v[i] = big[i];
		}
		if (!stopped && fn(ctx, &row) != 0)
			stopped = 1;
	}
out:
	mysql_stmt_free_result(st);
	for (int i = 0; i < ncols; i++)
		free(big[i]);
	free(big);
	free(bigcap);
	return rc;
}

struct collect {
	struct req *r;
	struct db_rows *rows;
	size_t cap;
	int max;                /* stop copying after this many (db_row: 1) */
};

static int
collect_row(void *ctx, const struct db_row *row)
{
	struct collect *c = ctx;
	struct db_row *dst;

	if (c->max > 0 && c->rows->n >= (size_t)c->max)
		return 0;
	if (c->rows->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct db_row *nr = req_alloc(c->r, cap * sizeof(*nr));

		if (c->rows->n > 0)
			memcpy(nr, c->rows->rows, c->rows->n * sizeof(*nr));
		c->rows->rows = nr;
		c->cap = cap;
	}
	dst = &c->rows->rows[c->rows->n++];
	dst->ncols = row->ncols;
	dst->v = req_alloc(c->r, sizeof(char *) * (size_t)(row->ncols ? row->ncols : 1));
	dst->len = req_alloc(c->r, sizeof(unsigned long) * (size_t)(row->ncols ? row->ncols : 1));
	for (int i = 0; i < row->ncols; i++) {
		dst->len[i] = row->len[i];
		dst->v[i] = row->v[i] == NULL ? NULL : req_strndup(c->r, row->v[i], row->len[i]);
	}
	return 0;
}

static int
run_rows(struct req *r, struct db_rows *out, int max, enum stmt_id id, const char *fmt, va_list ap)
{
	struct collect c = { r, out, 0, max };
	MYSQL_STMT *st;

	out->n = 0;
	out->rows = NULL;
	st = execute(id, fmt, ap);
	if (st == NULL)
		return -1;
	return fetch(r, st, stmt_defs[id].ncols, collect_row, &c);
}

int
db_rows(struct req *r, struct db_rows *out, enum stmt_id id, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = run_rows(r, out, 0, id, fmt, ap);
	va_end(ap);
	return rc;
}

int
db_row(struct req *r, struct db_row *row, enum stmt_id id, const char *fmt, ...)
{
	va_list ap;
	struct db_rows rows;
	int rc;

	va_start(ap, fmt);
	rc = run_rows(r, &rows, 1, id, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return -1;
	if (rows.n == 0)
		return 0;
	*row = rows.rows[0];
	return 1;
}

int
db_each(struct req *r, int (*fn)(void *ctx, const struct db_row *row), void *ctx,
    enum stmt_id id, const char *fmt, ...)
{
	va_list ap;
	MYSQL_STMT *st;

	va_start(ap, fmt);
	st = execute(id, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	return fetch(r, st, stmt_defs[id].ncols, fn, ctx);
}

/* A statement without input, with the reconnect-once rule. */
static int
simple(const char *sql)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (conn == NULL && db_connect() != 0)
			return -1;
		if (mysql_real_query(conn, sql, strlen(sql)) == 0) {
			last_err = DB_OK;
			return 0;
		}
		last_err = classify(mysql_errno(conn));
		log_error("database: %s failed: %s", sql, mysql_error(conn));
		if (last_err != DB_ERR_CONN)
			return -1;
		int was_tx = in_tx;
		db_close();
		if (was_tx)
			return -1;
	}
	return -1;
}

static void
rollback(void *arg)
{
	(void)arg;
	if (in_tx && conn != NULL && mysql_real_query(conn, "ROLLBACK", 8) != 0)
		db_close();
	in_tx = 0;
}

int
db_begin(struct req *r)
{
	if (in_tx) {
		log_error("database: nested transaction");
		last_err = DB_ERR_OTHER;
		return -1;
	}
	if (simple("START TRANSACTION") != 0)
		return -1;
	in_tx = 1;
	tx_defer = req_defer(r, rollback, NULL);
	return 0;
}

int
db_commit(struct req *r)
{
	int rc;

	if (!in_tx)
		return -1;
	rc = mysql_real_query(conn, "COMMIT", 6);
	if (rc != 0) {
		last_err = classify(mysql_errno(conn));
		log_error("database: COMMIT failed: %s", mysql_error(conn));
		rollback(NULL);
		req_disarm(r, tx_defer);
		return -1;
	}
	in_tx = 0;
	req_disarm(r, tx_defer);
	return 0;
}

int64_t
db_int(const struct db_row *row, int i)
{
	if (i >= row->ncols || row->v[i] == NULL)
		return 0;
	return strtoll(row->v[i], NULL, 10);
}

const char *
db_str(const struct db_row *row, int i)
{
	if (i >= row->ncols || row->v[i] == NULL)
		return "";
	return row->v[i];
}

int
db_null(const struct db_row *row, int i)
{
	return i >= row->ncols || row->v[i] == NULL;
}

int
db_exec_script(const char *sql, size_t len)
{
	int rc = 0;

	if (conn == NULL && db_connect() != 0)
		return -1;
	mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON);
	if (mysql_real_query(conn, sql, len) != 0) {
		last_err = classify(mysql_errno(conn));
		log_error("database: script failed: %s", mysql_error(conn));
		rc = -1;
	} else {
		int more;
		do {
			MYSQL_RES *res = mysql_store_result(conn);
			if (res != NULL)
				mysql_free_result(res);
			more = mysql_next_result(conn);
			if (more > 0) {
				last_err = classify(mysql_errno(conn));
				log_error("database: script failed: %s", mysql_error(conn));
				rc = -1;
			}
		} while (more == 0);
	}
	mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return rc;
}
