/* presign.c — TEMPORARY: replaced by the media endpoints. Every route answers 404 until built. */
#include "handlers.h"
#include "req.h"
#include "reply.h"
int presign_task(struct req *r) { return req_fail(r, 404, "Not found."); }
int presign_project(struct req *r) { return req_fail(r, 404, "Not found."); }
int local_files_serve(struct req *r) { return req_fail(r, 404, "Not found."); }
