/* jobs.h — the background job queue (table `jobs`), run by `siali worker`.
 *
 * Web workers enqueue; job workers claim with SELECT … FOR UPDATE SKIP LOCKED, so any number of
 * them on any number of hosts share the queue without double-running a job. A job that fails is
 * retried with doubling backoff until max_attempts; a job whose worker died (no heartbeat) is
 * queued again. */
#ifndef SIALI_JOBS_H
#define SIALI_JOBS_H

#include <stddef.h>
#include <stdint.h>
#include "req.h"

struct json_object;

/* A job's body. Returns 0 on success; on failure writes a message into err and returns -1. */
typedef int (*job_fn)(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz);

struct job_type {
	const char *name;
	job_fn run;
};

extern const struct job_type job_types[];
extern const size_t job_types_count;

/* Queues a job (payload: JSON text, NULL for {}). Returns its id, or -1. Inside a transaction it
 * is queued with the change that caused it. */
int64_t jobs_enqueue(struct req *r, const char *type, const char *payload, int max_attempts);
/* Claims and runs at most one ready job. 1 ran one, 0 none ready, -1 database error. */
int jobs_run_one(struct req *r, const char *worker_id);
/* The `siali worker` loop: runs jobs until SIGTERM/SIGINT (or, with once, until none is ready).
 * Returns the process exit code. */
int jobs_main(int once);

#endif
