/* jobs.c — claiming and running jobs (see jobs.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "handlers.h"

#define BACKOFF_BASE 60         /* first retry after a minute, then doubling */
#define IDLE_POLL_MS 1000

/* The no-op job: proves the queue end to end. A payload {"fail": "why"} makes it fail, which
 * exercises the retry path. */
static int
job_noop(struct req *r, int64_t id, struct json_object *payload, char *err, size_t errsz)
{
	struct json_object *fail;

	(void)r;
	(void)id;
	if (json_object_object_get_ex(payload, "fail", &fail)) {
		snprintf(err, errsz, "%s", json_object_get_string(fail));
		return -1;
	}
	return 0;
}

const struct job_type job_types[] = {
	{ "noop", job_noop },
	{ "export.snapshot", exports_job_snapshot },    /* handlers/exports.c */
	{ "storage.sync", storage_job_sync },           /* handlers/storage_sync.c */
	{ "storage.export", storage_job_export },       /* handlers/storage_sync.c */
};
const size_t job_types_count = sizeof(job_types) / sizeof(job_types[0]);

int64_t
jobs_enqueue(struct req *r, const char *type, const char *payload, int max_attempts)
{
	if (db_exec(r, STMT_JOB_INSERT, "ssi", type, payload ? payload : "{}", (int64_t)max_attempts) < 0)
		return -1;
	return db_insert_id();
}

static const struct job_type *
find_type(const char *name)
{
	for (size_t i = 0; i < job_types_count; i++)
		if (strcmp(job_types[i].name, name) == 0)
			return &job_types[i];
	return NULL;
}

int
jobs_run_one(struct req *r, const char *worker_id)
{
	struct db_row row;
	int64_t id, attempts, max_attempts;
	const char *type, *payload_text;
	const struct job_type *jt;
	struct json_object *payload;
	char err[512] = "";
	int rc;

	if (db_exec(r, STMT_JOB_REQUEUE_STALE, "i", (int64_t)cfg.job_stale_after) < 0)
		return -1;
	if (db_begin(r) != 0)
		return -1;
	rc = db_row(r, &row, STMT_JOB_CLAIM, "");
	if (rc <= 0)
		return rc;      /* the defer rolls back */
	id = db_int(&row, 0);
	type = db_str(&row, 1);
	payload_text = db_str(&row, 2);
	attempts = db_int(&row, 3) + 1;
	max_attempts = db_int(&row, 4);
	if (db_exec(r, STMT_JOB_MARK_RUNNING, "si", worker_id, id) < 0 || db_commit(r) != 0)
		return -1;

	jt = find_type(type);
	payload = req_own(r, json_tokener_parse(payload_text));
	if (jt == NULL) {
		snprintf(err, sizeof(err), "unknown job type %s", type);
		rc = -1;
		max_attempts = 0;       /* no retry can help */
	} else if (payload == NULL) {
		snprintf(err, sizeof(err), "the payload is not JSON");
		rc = -1;
		max_attempts = 0;
	} else {
		rc = jt->run(r, id, payload, err, sizeof(err));
	}
	if (rc == 0) {
		log_info("job %lld (%s) done", (long long)id, type);
		return db_exec(r, STMT_JOB_DONE, "i", id) < 0 ? -1 : 1;
	}
	if (attempts < max_attempts) {
		int64_t delay = (int64_t)BACKOFF_BASE << (attempts - 1 < 10 ? attempts - 1 : 10);

		log_warn("job %lld (%s) failed, attempt %lld of %lld, retry in %llds: %s", (long long)id,
		    type, (long long)attempts, (long long)max_attempts, (long long)delay, err);
		return db_exec(r, STMT_JOB_RETRY, "sii", err, delay, id) < 0 ? -1 : 1;
	}
	log_error("job %lld (%s) failed for good: %s", (long long)id, type, err);
	return db_exec(r, STMT_JOB_FAIL, "si", err, id) < 0 ? -1 : 1;
}

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int
jobs_main(int once)
{
	struct req r = {0};
	char worker_id[128], host[64] = "";
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	gethostname(host, sizeof(host) - 1);
	snprintf(worker_id, sizeof(worker_id), "%s:%d", host, (int)getpid());
	log_info("job worker %s started", worker_id);
	while (!stopping) {
		int rc;

		req_begin(&r);
		rc = jobs_run_one(&r, worker_id);
		req_end(&r);
		if (rc == 1)
			continue;
		if (once && rc == 0)
			break;
		/* Idle, or the database is away: wait, then poll again. */
		struct timespec ts = { IDLE_POLL_MS / 1000, (IDLE_POLL_MS % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping)
			;
	}
	req_release(&r);
	db_close();
	log_info("job worker %s stopped", worker_id);
	return 0;
}
