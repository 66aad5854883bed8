/* export.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
export_formats(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
export_download(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
