/* storage_sync.c — TEMPORARY: replaced by the sync jobs. */
#include <stdio.h>
#include "handlers.h"
int storage_job_sync(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz)
{ (void)r; (void)job_id; (void)payload; snprintf(err, errsz, "not built"); return -1; }
int storage_job_export(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz)
{ (void)r; (void)job_id; (void)payload; snprintf(err, errsz, "not built"); return -1; }
int storage_export_enqueue(struct req *r, int64_t project_id, int64_t annotation_id, int deleted)
{ (void)r; (void)project_id; (void)annotation_id; (void)deleted; return 0; }
